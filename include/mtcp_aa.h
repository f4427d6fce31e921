/*
 * mtcp_aa.h - application-aware record streams (thesis ch. 4).
 *
 * A zero-copy socket (mtcp_zc.h) may register an application-aware module:
 * from then on the network thread parses every in-order segment as it
 * arrives (thesis 4.2.1, figure 4.3) and the application reads *records*
 * instead of bytes. A record is a module-defined struct that begins with
 * struct aa_record; its fields are chains of views into the packet buffers
 * (aa_field.h): nothing is copied unless the application asks.
 *
 *   struct aa_module mods: aa_csv_module, aa_http_response_module,
 *   aa_http_request_module (below), a module generated from macros
 *   (generate_aa_api.h, thesis 4.3.2) or one compiled from a format
 *   description.
 *
 *   mtcp_zc_register_aa_module(mctx, s, &aa_csv_module, &csv_params);
 *   ...
 *   void *recs[32];
 *   int n = mtcp_zc_read_aa_records(mctx, s, recs, 32);
 *   for (int i = 0; i < n; i++) {
 *       struct aa_csv_record *r = recs[i];
 *       if (r->hdr.type == AA_RECORD_ERROR) ...   // see below
 *       ... aa_field_to_i64(r->fields[2], &v) ...
 *   }
 *   mtcp_zc_free_aa_records(mctx, s, n);
 *
 * Memory is bounded: records and fields come from per-socket pools. While
 * the application keeps records, parsing stops when a pool runs dry and the
 * received packets wait, which closes the TCP receive window (the window is
 * the receive buffer minus the bytes of every packet still held): back-
 * pressure, never unbounded growth. Free records promptly.
 *
 * Errors: input a module cannot parse (see enum aa_error) ends the
 * socket's records with one record of type AA_RECORD_ERROR whose header
 * says what and where (stream offset); the application reads it like any
 * record, and the next read after it returns 0 (end of stream). The stack
 * keeps acknowledging and discarding what the peer sends after it, so the
 * connection does not stall; close it when you have read the error.
 * A connection reset (or timed out) ends the records too; a record that
 * only the end of the stream would complete (a CSV line without its line
 * end, an HTTP body delimited by the close) is then an AA_ERR_TRUNCATED
 * error record, not a record: only a FIN ends a stream cleanly.
 */
#ifndef AATCP_MTCP_AA_H
#define AATCP_MTCP_AA_H

#include <stdint.h>

#include "aa_field.h"
#include "mtcp_api.h"
#include "mtcp_zc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct aa_module;

/* ---- the common record header ------------------------------------------ */

/* Record type of an error record, whatever the module. Module record types
 * are small numbers below it. */
#define AA_RECORD_ERROR 0xffffu

/* Every record begins with this header (thesis figure 4.4: `next` and the
 * fields; the type comes from the state machine of 4.3.1). */
struct aa_record {
	struct aa_record *next; /* the following record (NULL: not yet known) */
	uint16_t type;          /* module's record type, or AA_RECORD_ERROR */
	uint16_t nfields;       /* internal: field slots the stack may have set */
	uint32_t error;         /* AA_RECORD_ERROR: enum aa_error */
	uint64_t offset;        /* stream offset of the record's first byte (of
				 * the error, for an error record) */
	const char *message;    /* AA_RECORD_ERROR: static text, else NULL */
};

enum aa_error {
	AA_ERR_NONE = 0,
	AA_ERR_SYNTAX,          /* bytes that the format does not allow here */
	AA_ERR_TOO_LONG,        /* a record (e.g. a header section or a CSV
				 * line) exceeds the configured maximum */
	AA_ERR_FIELD_COUNT,     /* CSV line with the wrong number of fields */
	AA_ERR_TOO_MANY_FIELDS, /* more headers (fields) than configured */
	AA_ERR_BAD_LENGTH,      /* Content-Length invalid, duplicated or huge */
	AA_ERR_BAD_CHUNK,       /* chunked encoding: bad chunk size line */
	AA_ERR_BAD_ENCODING,    /* unsupported Transfer-Encoding in a request,
				 * or both Transfer-Encoding and Content-Length */
	AA_ERR_BINARY,          /* control bytes (NUL...) where text is due */
	AA_ERR_TRUNCATED,       /* the peer closed in the middle of a record */
	AA_ERR_FRAGMENTED,      /* a record spans more packets than allowed */
	AA_ERR_MODULE,          /* other error reported by a module */
};

/* A short English name for an aa_error code ("syntax", ...). */
const char *aa_error_name(uint32_t code);

/* ---- API (thesis 4.2.2) ---------------------------------------------------- */

/*
 * Registers an application-aware module on a socket; implies zero-copy
 * receive (mtcp_zc_enable). Call it before data arrives: on a listening
 * socket (inherited by every accepted socket, each with its own parser
 * state) or on an active socket before mtcp_connect(). `params` is the
 * module's parameter struct (e.g. struct aa_csv_params), copied; NULL means
 * the module's defaults. Returns 0, or -1 with errno EBADF (no such
 * socket), EINVAL (invalid params, or data already received), ENOMEM.
 */
int mtcp_zc_register_aa_module(mctx_t mctx, int sockid,
			       const struct aa_module *mod, const void *params);

/*
 * Up to n complete records. `records` is the caller's array of n pointers
 * (void *records[n], or e.g. struct aa_csv_record *records[n]); it is
 * filled with pointers to records that stay valid until freed. Returns the
 * count; 0 at end of stream (the peer closed and every record, including
 * an error record, was read and freed); -1 with errno EAGAIN when no record
 * is ready (a blocking socket waits instead), EBUSY when records from the
 * previous call were not all freed, EBADF/EINVAL on misuse. Works with
 * mtcp_epoll like mtcp_read (MTCP_EPOLLIN: a whole record is ready).
 */
int mtcp_zc_read_aa_records(mctx_t mctx, int sockid, void *records, int n);

/*
 * Releases the first n records handed out by the last read (thesis 4.2.2:
 * before reading again). Packet buffers that no record references any more
 * go back to the pool and the receive window opens. n larger than what is
 * outstanding: -1, errno EINVAL, nothing freed.
 */
int mtcp_zc_free_aa_records(mctx_t mctx, int sockid, int n);

/*
 * HTTP responses only (aa_http_response_module): the next n responses whose
 * status line has not begun yet answer HEAD requests, so they have no body
 * whatever their Content-Length says (RFC 9112 section 6.3). Call it before
 * sending each HEAD request; with pipelining, only when the responses to
 * all earlier requests have been read (or set AA_HTTP_P_HEAD_RESPONSES when
 * every request on the socket is a HEAD). Interim (1xx) responses do not
 * count. -1 with errno EINVAL on a socket without the response module.
 * Not needed on a socket that a socket with aa_http_request_module is
 * spliced to (mtcp_zc_splice): the stack announces each HEAD request it
 * parsed there before forwarding it (an in-the-middle proxy could not call
 * this in time).
 */
int mtcp_zc_aa_http_expect_head(mctx_t mctx, int sockid, int n);

/* ---- CSV (thesis 4.2; RFC 4180) -------------------------------------------- */

extern const struct aa_module aa_csv_module;

#define AA_CSV_LINE 1  /* record type: one line */
#define AA_CSV_LINES 2 /* record type: whole lines of one packet
			* (AA_CSV_P_BATCH) */

/* aa_csv_params.flags */
#define AA_CSV_P_SKIP_EMPTY_LINES 0x1u /* empty lines are not records */
#define AA_CSV_P_BATCH            0x2u /* lines lying whole in one packet come
					* together, as AA_CSV_LINES records */

struct aa_csv_params {
	uint32_t n_fields;     /* fields per line, 1..AA_CSV_MAX_FIELDS */
	char delimiter;        /* 0: ',' */
	char quote;            /* 0: '"' */
	uint16_t _reserved;
	uint32_t max_line;     /* bytes, 0: 64 KiB (the stack may lower it to
				* fit the receive buffer) */
	uint32_t flags;        /* AA_CSV_P_* */
};
#define AA_CSV_MAX_FIELDS 1024

/*
 * One line. A line ends with LF or CRLF (not part of any field); the last
 * line may end with the stream. Fields are separated by the delimiter.
 * RFC 4180 quoted fields may contain delimiters, CR, LF and doubled quotes:
 * such a field's views cover the raw bytes *including* the outer quotes,
 * so aa_csv_field_quoted() tells it from an unquoted one and
 * aa_csv_field_copy() gives its unescaped value (quotes removed, "" -> ").
 * A quote inside an unquoted field is ordinary data; after a closing quote
 * only a delimiter or a line end may follow. A NUL byte outside quotes,
 * a bare CR, or a line with a number of fields other than n_fields is an
 * error record.
 */
struct aa_csv_record {
	struct aa_record hdr;         /* AA_CSV_LINE, or AA_CSV_LINES */
	uint32_t n_fields;            /* = aa_csv_params.n_fields */
	uint32_t flags;               /* AA_CSV_F_* */
	uint32_t n_lines;             /* lines in the record (LINE: 1) */
	uint32_t _reserved;
	const uint16_t *spans;        /* LINES: aa_csv_lines_field() */
	struct stream_field *fields[]; /* LINE: n_fields, never NULL;
					* LINES: fields[0] only, below */
};
#define AA_CSV_F_QUOTED 0x1u /* at least one field is quoted */

/*
 * With AA_CSV_P_BATCH, the lines of a packet that lie whole in it, are
 * unquoted and well formed come as one AA_CSV_LINES record: n_lines lines,
 * in stream order, between the AA_CSV_LINE records of the other lines (a
 * line cut by a packet end, a quoted field: each still its own record, and
 * a malformed line its error record, exactly as without the flag; lines of
 * more than 32 fields always come one by one). Per
 * record, not per line: one record to build, publish, read and free, which
 * is what makes short lines cheap (thesis figure 4.5; docs/aa-performance.md).
 *
 * fields[0] is the bytes of all its lines (one view, in one packet, from
 * the first line's first byte to the last line's end); the other slots are
 * NULL. `spans` holds n_fields + 1 offsets from fields[0]'s first byte per
 * line: the line's start, then the end of each field. The stream offset of
 * line j is hdr.offset + spans[j * (n_fields + 1)].
 */
static inline const char *aa_csv_lines_field(const struct aa_csv_record *r,
					     uint32_t line, uint32_t k,
					     size_t *len)
{
	const uint16_t *e = r->spans + (size_t)line * (r->n_fields + 1);
	uint32_t start = k ? (uint32_t)e[k] + 1 : e[0]; /* after the delimiter */

	*len = (size_t)(e[k + 1] - start);
	return r->fields[0]->data.start + start;
}

/* A field that starts with the quote character (quoted field). */
bool aa_csv_field_quoted(const struct stream_field *f, char quote);
/* The unescaped value, as aa_field_copy(): at most cap - 1 bytes and a NUL;
 * returns the unescaped length. quote 0 means '"'. */
size_t aa_csv_field_copy(const struct stream_field *f, char quote, char *buf,
			 size_t cap);

/* ---- HTTP/1.1 (thesis 4.3.1, table 4.1; RFC 9110, RFC 9112) ---------------- */

extern const struct aa_module aa_http_response_module;
extern const struct aa_module aa_http_request_module;

/* Record types (struct aa_http_record.hdr.type). */
enum {
	AA_HTTP_REQUEST = 1, /* request line and header section */
	AA_HTTP_RESPONSE,    /* status line and header section (thesis: Answer) */
	AA_HTTP_BODY,        /* body bytes in one packet (thesis: Body) */
	AA_HTTP_END,         /* end of a chunked or close-delimited body, with
			      * the trailer fields of a chunked one */
};

/* aa_http_record.flags */
#define AA_HTTP_F_END         0x001u /* the message ends with this record */
#define AA_HTTP_F_LENGTH      0x002u /* Content-Length given: content_length */
#define AA_HTTP_F_CHUNKED     0x004u /* chunked body: data in BODY records,
				      * then an END record */
#define AA_HTTP_F_UNTIL_CLOSE 0x008u /* body delimited by the connection
				      * close, then an END record */
#define AA_HTTP_F_NO_BODY     0x010u /* 1xx, 204, 304, answer to HEAD, or
				      * length 0 (head records) */
#define AA_HTTP_F_KEEPALIVE   0x020u /* persistent connection (RFC 9112 9.3) */
#define AA_HTTP_F_HEAD        0x040u /* response parsed as answering HEAD */
#define AA_HTTP_F_UPGRADE     0x080u /* 101, CONNECT, or Upgrade request: the
				      * rest of the stream is a tunnel */
#define AA_HTTP_F_TUNNEL      0x100u /* BODY record of tunnelled bytes */

/* Request methods (aa_http_record.method). */
enum {
	AA_HTTP_M_OTHER = 0,
	AA_HTTP_M_GET,
	AA_HTTP_M_HEAD,
	AA_HTTP_M_POST,
	AA_HTTP_M_PUT,
	AA_HTTP_M_DELETE,
	AA_HTTP_M_CONNECT,
	AA_HTTP_M_OPTIONS,
	AA_HTTP_M_TRACE,
	AA_HTTP_M_PATCH,
};

/* aa_http_params.flags */
#define AA_HTTP_P_HEAD_RESPONSES 0x1u /* every response answers HEAD */

struct aa_http_params {
	uint32_t max_headers;  /* header (and trailer) fields per message,
				* 0: 64; more is an error record, never a
				* silent truncation */
	uint32_t max_head;     /* bytes of a start line + header section (and
				* of a chunk-size line or trailer section),
				* 0: 16 KiB */
	uint32_t flags;        /* AA_HTTP_P_* */
};

struct aa_http_header {
	struct stream_field *name;  /* field name, as sent */
	struct stream_field *value; /* without leading/trailing whitespace */
};

/*
 * One record of an HTTP stream. For each message:
 *   - a head record (AA_HTTP_REQUEST or AA_HTTP_RESPONSE) with the start
 *     line and the header section; F_END when the message has no body;
 *   - body: Content-Length -> BODY records, one per packet, the last with
 *     F_END; chunked -> BODY records with the chunk data only (one per
 *     chunk and packet), then an END record (F_END) holding the trailer
 *     fields; until close -> BODY records, then an END record at the close.
 * After an upgrade (F_UPGRADE) the rest of the stream comes as BODY records
 * with F_TUNNEL.
 */
struct aa_http_record {
	struct aa_record hdr;
	uint32_t flags;          /* AA_HTTP_F_* */
	uint16_t status;         /* response: status code */
	uint8_t method;          /* request: AA_HTTP_M_* */
	uint8_t version;         /* head: 10 * major + minor (11 for 1.1) */
	uint32_t n_headers;      /* headers[0 .. n_headers) (END: trailers) */
	uint32_t _reserved;
	uint64_t content_length; /* head with F_LENGTH: Content-Length */
	uint64_t body_offset;    /* BODY: offset of data within the body */
	/* Fields. Response: line = { version, status code, reason phrase };
	 * request: line = { method, request-target, version }. */
	struct stream_field *line[3];
	struct stream_field *data;       /* BODY: the bytes */
	struct aa_http_header headers[]; /* max_headers entries */
};

/* The value of the first header whose name matches (ASCII case-
 * insensitive), or NULL. */
const struct stream_field *aa_http_header_value(const struct aa_http_record *r,
						const char *name);

#ifdef __cplusplus
}
#endif

#endif /* AATCP_MTCP_AA_H */
