/*
 * aa_http_internal.h - the HTTP/1.1 modules' parser state, shared by
 * aa_http.c (module glue, dispatch, end of stream), aa_http_line.c (start
 * lines), aa_http_fields.c (header and trailer sections, message framing)
 * and aa_http_body.c (bodies, chunked coding).
 *
 * The parser is a byte-driven state machine (thesis 4.3.1, table 4.1,
 * extended to RFC 9112): every state can stop at any byte and resume with
 * the next chunk, so a start line, a header or a chunk-size line may be
 * split anywhere across packets. Fields are handed to the runtime with
 * pointers into the current chunk (aa_module.h), which chains them across
 * packets.
 */
#ifndef AATCP_AA_HTTP_INTERNAL_H
#define AATCP_AA_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aa/aa_fast.h"
#include "aa/aa_module.h"

/* aa_http_cls[] bits */
#define HC_TCHAR 0x01 /* token character (RFC 9110 5.6.2) */
#define HC_VCHAR 0x02 /* field-vchar: VCHAR or obs-text (RFC 9110 5.5) */
#define HC_WS    0x04 /* SP, HTAB */
#define HC_EOL   0x08 /* CR, LF */
#define HC_DIGIT 0x10
#define HC_HEX   0x20
extern const uint8_t aa_http_cls[256];

/* Field slots of struct aa_http_record (from `line`). */
#define HTTP_SLOT_LINE0 0
#define HTTP_SLOT_DATA 3
#define HTTP_SLOT_NAME(i) (4 + 2 * (i))
#define HTTP_SLOT_VALUE(i) (5 + 2 * (i))

enum http_st {
	/* start line (aa_http_line.c) */
	HS_START,       /* between messages: leading CR/LF ignored */
	HS_REQ_METHOD,
	HS_REQ_TARGET,
	HS_REQ_VERSION,
	HS_RES_VERSION,
	HS_RES_STATUS,
	HS_RES_REASON,
	HS_LINE_LF,     /* after a CR: LF, then s->after */
	/* header / trailer section (aa_http_fields.c) */
	HS_HDR_START,
	HS_HDR_NAME,
	HS_HDR_OWS,
	HS_HDR_VALUE,
	HS_HDR_END_LF,  /* CR of the empty line seen */
	/* body (aa_http_body.c) */
	HS_BODY_LENGTH,
	HS_BODY_CLOSE,  /* until close, or tunnel */
	HS_CHUNK_SIZE,
	HS_CHUNK_EXT,
	HS_CHUNK_SIZE_LF,
	HS_CHUNK_DATA,
	HS_CHUNK_DATA_CR,
	HS_CHUNK_DATA_LF,
};

/* hflags: what the header section said (framing, RFC 9112 6.3 and 9.3) */
#define HF_CL           0x01
#define HF_TE           0x02
#define HF_TE_CHUNKED   0x04 /* chunked is the final transfer coding */
#define HF_CONN_CLOSE   0x08
#define HF_CONN_KEEP    0x10
#define HF_CONN_UPGRADE 0x20
#define HF_UPGRADE      0x40

struct http_state {
	/* configuration */
	bool response;
	uint32_t max_headers;
	uint32_t pflags;              /* AA_HTTP_P_* */
	_Atomic uint32_t head_expected; /* app thread adds, net thread takes */
	uint32_t heads_seen;          /* request side: HEAD requests parsed */
	/* position */
	uint8_t st;
	uint8_t after;                /* state after HS_LINE_LF */
	uint8_t vpos;                 /* bytes of "HTTP/x.y" matched */
	uint8_t ndig;                 /* digits of status / chunk size */
	bool begun;                   /* current field begun (lazy begin) */
	bool stop;                    /* step asks parse() to return */
	bool in_trailer;
	bool tunnel_after;            /* upgrade once this message ends */
	bool tunnel;                  /* the rest of the stream is a tunnel */
	/* current message */
	uint8_t version;
	uint8_t method;
	uint16_t status;
	uint32_t hflags;
	uint32_t nhdr;
	uint32_t ws_run;              /* trailing whitespace of a value */
	uint32_t body_flags;          /* flags BODY records inherit */
	uint64_t content_length;
	uint64_t remaining;           /* body or chunk bytes left */
	uint64_t body_off;
	/* a field that began in the current chunk and is not handed to the
	 * runtime yet: most fields end in the packet they begin in, and then
	 * one aa_field_set() does (http_field_start/stop) */
	const char *fstart;
	unsigned pslot;
	bool pending;
};

static inline void http_field_start(struct http_state *s, unsigned slot,
				    const char *at)
{
	s->fstart = at;
	s->pslot = slot;
	s->pending = true;
}

/* The field ends before at - back (back <= at - start when pending). */
static inline void http_field_stop(struct aa_parse *p, struct http_state *s,
				   const char *at, size_t back)
{
	if (s->pending) {
		aa_field_set_fast(p, s->pslot, s->fstart, at - back);
		s->pending = false;
	} else {
		aa_field_end_back(p, at, back);
	}
}

/* The chunk ends: a pending field continues in the next one. */
static inline void http_field_flush(struct aa_parse *p, struct http_state *s)
{
	if (s->pending) {
		aa_field_begin(p, s->pslot, s->fstart);
		s->pending = false;
	}
}

/* First byte in [c, end) that is not a VCHAR (SP, HT, CR, LF, CTL, DEL or
 * obs-text), 16 bytes at a time where SSE2 is there (header values and
 * request targets are long). */
const char *aa_http_scan_vchar(const char *c, const char *end);

/* Each step parses from c (< end) in its state group and returns the new
 * position; it sets s->stop when parse() must return that position now. */
const char *aa_http_line_step(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end);
const char *aa_http_fields_step(struct aa_parse *p, struct http_state *s,
				const char *c, const char *end);
const char *aa_http_body_step(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end);

/* A line of the head ended at `at` (after its terminator); next state. */
void aa_http_line_done(struct http_state *s, uint8_t next);
/* Starts the next message, or the tunnel after an upgrade. */
void aa_http_next_message(struct http_state *s);
/* Publishes the record in progress; false: return now (s->stop set). */
bool aa_http_emit(struct aa_parse *p, struct http_state *s, unsigned type,
		  const char *at);
/* Error record; sets s->stop. */
void aa_http_fail(struct aa_parse *p, struct http_state *s, enum aa_error e,
		  const char *msg, const char *at);

#endif /* AATCP_AA_HTTP_INTERNAL_H */
