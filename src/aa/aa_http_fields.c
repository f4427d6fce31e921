/*
 * aa_http_fields.c - header and trailer sections (RFC 9112 section 5,
 * 7.1.2) and the message framing they decide (RFC 9112 section 6.3): the
 * rest of a head record (thesis table 4.1: "Header i", "if header starts
 * with Content-Length, parse it into len; if empty header, start new Body
 * record").
 *
 *   field-line = field-name ":" OWS field-value OWS CRLF
 *
 * Name and value are separate fields; the value excludes surrounding
 * whitespace (RFC 9110 5.5), which may be split from it across packets
 * (aa_field_end_back). Whitespace before the colon and obsolete line
 * folding are rejected (RFC 9112 5.1, 5.2: a recipient may reject), as are
 * control characters in a value. More than max_headers fields is an error
 * record, never a silent truncation.
 */
#include <string.h>

#include "aa/aa_http_internal.h"
#include "aa/aa_scan.h"

static bool is(uint8_t c, uint8_t cls) { return aa_http_cls[c] & cls; }


static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static bool token_is(const char *tok, unsigned n, const char *word)
{
	unsigned i = 0;

	for (; i < n && word[i]; i++)
		if (lower((unsigned char)tok[i]) != word[i])
			return false;
	return i == n && !word[i];
}

static uint64_t load8(const char *b)
{
	uint64_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

static uint32_t load4(const char *b)
{
	uint32_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

/*
 * [t, t + n) is `word` (n >= 4 bytes of lower-case letters and '-')
 * ignoring ASCII case (RFC 9110 5.1, 5.6.2), compared 8 or 4 bytes at a
 * time, the last word overlapping the one before. ORing 0x20 into a byte
 * lowers exactly the upper-case letters and gives a lower-case letter for
 * no other byte; the one other byte it turns into '-' is CR, which cannot
 * be inside a field name or value (it ends the line).
 */
static bool caseeq(const char *t, const char *word, size_t n)
{
	const uint64_t l8 = 0x2020202020202020ull;
	const uint32_t l4 = 0x20202020u;
	size_t i = 0;

	if (n < 8)
		return ((load4(t) | l4) == load4(word)) &&
		       ((load4(t + n - 4) | l4) == load4(word + n - 4));
	for (; i + 8 < n; i += 8)
		if ((load8(t + i) | l8) != load8(word + i))
			return false;
	return (load8(t + n - 8) | l8) == load8(word + n - 8);
}

/* The field is `word` (n >= 4 lower-case bytes) ignoring ASCII case (RFC
 * 9110 5.1); one view, the usual case, without walking the chain twice. */
static bool name_is(const struct stream_field *f, const char *word, size_t n)
{
	if (f->next)
		return aa_field_len(f) == n && aa_field_eq_case(f, word);
	return (size_t)(f->data.end - f->data.start) == n &&
	       caseeq(f->data.start, word, n);
}

/*
 * Walks the comma-separated tokens of a list value (RFC 9110 5.6.1),
 * whitespace dropped, calling fn on each. A token longer than 31 bytes is
 * passed with length 0: it matches none of the words looked for.
 */
static void for_each_token(const struct stream_field *v,
			   void (*fn)(struct http_state *, const char *,
				      unsigned),
			   struct http_state *s)
{
	char tok[32];
	unsigned n = 0;
	bool too_long = false;

	for (const struct stream_field *f = v; f; f = f->next) {
		for (const char *b = f->data.start; b < f->data.end; b++) {
			if (*b == ',') {
				fn(s, tok, too_long ? 0 : n);
				n = 0;
				too_long = false;
			} else if (*b == ' ' || *b == '\t') {
				continue;
			} else if (n < sizeof(tok)) {
				tok[n++] = *b;
			} else {
				too_long = true;
			}
		}
	}
	fn(s, tok, too_long ? 0 : n);
}

static void connection_token(struct http_state *s, const char *t, unsigned n)
{
	if (token_is(t, n, "close"))
		s->hflags |= HF_CONN_CLOSE;
	else if (token_is(t, n, "keep-alive"))
		s->hflags |= HF_CONN_KEEP;
	else if (token_is(t, n, "upgrade"))
		s->hflags |= HF_CONN_UPGRADE;
}

/* Connection (RFC 9112 9.3): one word in one view, the usual case, is
 * matched whole; anything else token by token. */
static void connection(struct http_state *s, const struct stream_field *v)
{
	if (!v->next && name_is(v, "keep-alive", 10))
		s->hflags |= HF_CONN_KEEP;
	else if (!v->next && name_is(v, "close", 5))
		s->hflags |= HF_CONN_CLOSE;
	else
		for_each_token(v, connection_token, s);
}

/* Transfer-Encoding: only the final coding matters (RFC 9112 6.3 (4)):
 * each token overwrites the verdict, empty list elements are ignored. */
static void te_token(struct http_state *s, const char *t, unsigned n)
{
	if (n == 0)
		return;
	if (token_is(t, n, "chunked"))
		s->hflags |= HF_TE_CHUNKED;
	else
		s->hflags &= ~(uint32_t)HF_TE_CHUNKED;
}

static bool content_length(struct aa_parse *p, struct http_state *s,
			   const struct stream_field *v, const char *at)
{
	uint64_t n;

	/* Duplicates are refused, even equal ones (request smuggling). */
	if (s->hflags & HF_CL) {
		aa_http_fail(p, s, AA_ERR_BAD_LENGTH,
			     "more than one Content-Length", at);
		return false;
	}
	if (aa_field_to_u64(v, &n) < 0 || n > (uint64_t)INT64_MAX) {
		aa_http_fail(p, s, AA_ERR_BAD_LENGTH, "invalid Content-Length",
			     at);
		return false;
	}
	s->hflags |= HF_CL;
	s->content_length = n;
	return true;
}

/* The semantics of the field just ended (at: after its line). Trailer
 * fields never change the framing (RFC 9110 6.5.1). */
static bool field_done(struct aa_parse *p, struct http_state *s,
		       const char *at)
{
	struct aa_http_record *r = aa_record(p);
	const struct stream_field *name = r->headers[s->nhdr].name;
	const struct stream_field *value = r->headers[s->nhdr].value;

	s->nhdr++;
	if (s->in_trailer)
		return true;
	switch (((uint8_t)*name->data.start) | 0x20) {
	case 'c':
		if (name_is(name, "content-length", 14))
			return content_length(p, s, value, at);
		if (name_is(name, "connection", 10))
			connection(s, value);
		break;
	case 't':
		if (name_is(name, "transfer-encoding", 17)) {
			s->hflags |= HF_TE;
			for_each_token(value, te_token, s);
		}
		break;
	case 'u':
		if (name_is(name, "upgrade", 7))
			s->hflags |= HF_UPGRADE;
		break;
	default:
		break;
	}
	return true;
}

/* ---- framing (RFC 9112 section 6.3) ------------------------------------ */

enum framing { FR_NONE, FR_LENGTH, FR_CHUNKED, FR_CLOSE, FR_ERROR };

/* A final response answers HEAD: the per-socket flag, or one expectation
 * that the application announced (mtcp_zc_aa_http_expect_head). */
static bool answers_head(struct http_state *s)
{
	uint32_t n;

	if (s->pflags & AA_HTTP_P_HEAD_RESPONSES)
		return true;
	n = atomic_load_explicit(&s->head_expected, memory_order_acquire);
	if (n == 0)
		return false;
	/* Single consumer: the count can only grow meanwhile. */
	atomic_fetch_sub_explicit(&s->head_expected, 1, memory_order_relaxed);
	return true;
}

static enum framing transfer_coding(struct http_state *s)
{
	if (s->hflags & HF_CL) /* both: refused (smuggling, RFC 9112 6.1) */
		return FR_ERROR;
	if (s->hflags & HF_TE_CHUNKED)
		return FR_CHUNKED;
	/* not chunked: a response is delimited by the close (6.3 (4)), a
	 * request cannot be delimited at all */
	return s->response ? FR_CLOSE : FR_ERROR;
}

static enum framing response_framing(struct http_state *s, uint32_t *flags)
{
	if (s->status < 200) { /* interim: no body, another response follows */
		if (s->status == 101)
			s->tunnel_after = true;
		return FR_NONE;
	}
	if (answers_head(s)) {
		*flags |= AA_HTTP_F_HEAD;
		return FR_NONE;
	}
	if (s->status == 204 || s->status == 304)
		return FR_NONE;
	if (s->hflags & HF_TE)
		return transfer_coding(s);
	if (s->hflags & HF_CL)
		return s->content_length ? FR_LENGTH : FR_NONE;
	return FR_CLOSE;
}

static enum framing request_framing(struct http_state *s)
{
	if (s->method == AA_HTTP_M_CONNECT)
		s->tunnel_after = true;
	else if ((s->hflags & (HF_UPGRADE | HF_CONN_UPGRADE)) ==
		 (HF_UPGRADE | HF_CONN_UPGRADE))
		s->tunnel_after = true;
	if (s->hflags & HF_TE)
		return transfer_coding(s);
	if ((s->hflags & HF_CL) && s->content_length)
		return FR_LENGTH;
	return FR_NONE;
}

static uint32_t keepalive(const struct http_state *s)
{
	/* RFC 9112 9.3: persistent by default from 1.1 on, unless "close";
	 * 1.0 only with "keep-alive". */
	if (s->hflags & HF_CONN_CLOSE)
		return 0;
	if (s->version >= 11 || (s->hflags & HF_CONN_KEEP))
		return AA_HTTP_F_KEEPALIVE;
	return 0;
}

/* The empty line ended the head (at: after it): the head record. */
static void head_done(struct aa_parse *p, struct http_state *s, const char *at)
{
	struct aa_http_record *r = aa_record(p);
	uint32_t flags = keepalive(s);
	enum framing fr;

	fr = s->response ? response_framing(s, &flags) : request_framing(s);
	if (fr == FR_ERROR) {
		aa_http_fail(p, s, AA_ERR_BAD_ENCODING,
			     (s->hflags & HF_CL) ? "both Transfer-Encoding and Content-Length"
						 : "unsupported Transfer-Encoding",
			     at);
		return;
	}
	if (s->hflags & HF_CL)
		flags |= AA_HTTP_F_LENGTH;
	if (s->tunnel_after)
		flags |= AA_HTTP_F_UPGRADE;
	s->remaining = 0;
	s->body_off = 0;
	switch (fr) {
	case FR_LENGTH:
		s->remaining = s->content_length;
		s->st = HS_BODY_LENGTH;
		break;
	case FR_CHUNKED:
		flags |= AA_HTTP_F_CHUNKED;
		s->st = HS_CHUNK_SIZE;
		s->ndig = 0;
		break;
	case FR_CLOSE:
		flags |= AA_HTTP_F_UNTIL_CLOSE;
		s->st = HS_BODY_CLOSE;
		break;
	default:
		flags |= AA_HTTP_F_END | AA_HTTP_F_NO_BODY;
		break;
	}
	s->body_flags = flags & (AA_HTTP_F_CHUNKED | AA_HTTP_F_UNTIL_CLOSE |
				 AA_HTTP_F_LENGTH);
	r->flags = flags;
	r->status = s->status;
	r->method = s->method;
	if (!s->response && s->method == AA_HTTP_M_HEAD)
		s->heads_seen++; /* aa_http_heads_seen() */
	r->version = s->version;
	r->n_headers = s->nhdr;
	r->content_length = (s->hflags & HF_CL) ? s->content_length : 0;
	if (fr == FR_NONE)
		aa_http_next_message(s);
	aa_http_emit(p, s, s->response ? AA_HTTP_RESPONSE : AA_HTTP_REQUEST,
		     at);
}

/* The empty line ended the trailer section: the END record of a chunked
 * body, with the trailer fields. */
static void trailers_done(struct aa_parse *p, struct http_state *s,
			  const char *at)
{
	struct aa_http_record *r = aa_record(p);

	r->flags = AA_HTTP_F_END | AA_HTTP_F_CHUNKED;
	r->n_headers = s->nhdr;
	r->body_offset = s->body_off;
	aa_http_next_message(s);
	aa_http_emit(p, s, AA_HTTP_END, at);
}

static void section_done(struct aa_parse *p, struct http_state *s,
			 const char *at)
{
	if (s->in_trailer)
		trailers_done(p, s, at);
	else
		head_done(p, s, at);
}

/* ---- the states ---------------------------------------------------------- */

/* Whether a field name starting with b may be one that field_done() acts
 * on (Content-Length, Connection, Transfer-Encoding, Upgrade). */
static bool may_frame(char b)
{
	uint8_t l = (uint8_t)b | 0x20;

	return l == 'c' || l == 't' || l == 'u';
}

/*
 * A whole field line that lies in the chunk, in one pass (RFC 9112 5.1:
 * field-line = field-name ":" OWS field-value OWS, then CRLF or LF): the
 * name and the value up to the line end with the vector scanners
 * (aa_scan.h), trailing OWS left out of the value (RFC 9110 5.5).
 * Returns the position after the line end, or NULL when the line is not
 * whole in the chunk or not the plain case (an empty value, a CR without
 * LF, a control byte...): nothing was done then, and the byte-wise states
 * below parse it and report its errors. c is the first byte of the name
 * (a tchar) and there is room for one more field.
 */
static const char *field_line_fast(struct aa_parse *p, struct http_state *s,
				   const char *c, const char *end)
{
	/* No tchar, SP or HTAB ends a value: the value's end is also the
	 * first such byte from the line start, so both scans start at c and
	 * neither waits for the other's result. */
	const char *e = aa_scan_field_end(c + 1, end);
	const char *n = aa_scan_token_end(c + 1, e), *v, *next, *ve;

	if (n == e || *n != ':')
		return NULL;
	for (v = n + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	if (e == end || e == v)
		return NULL;
	if (*e == '\n')
		next = e + 1;
	else if (*e == '\r' && e + 1 < end && e[1] == '\n')
		next = e + 2;
	else
		return NULL;
	for (ve = e; ve[-1] == ' ' || ve[-1] == '\t'; ve--)
		; /* stops at v: its first byte is not OWS */
	if (!aa_field_pair_try(p, HTTP_SLOT_NAME(s->nhdr), c, n, v, ve)) {
		aa_field_set_fast(p, HTTP_SLOT_NAME(s->nhdr), c, n);
		aa_field_set_fast(p, HTTP_SLOT_VALUE(s->nhdr), v, ve);
	}
	if (may_frame(*c))
		field_done(p, s, e + 1); /* as value_end(): after the CR or LF */
	else
		s->nhdr++; /* a field without meaning for the framing */
	return next;
}

/*
 * field_line_fast() over the following lines too, and the empty line that
 * ends the section when it is CRLF in the chunk, without going back to the
 * state dispatch between them. NULL when the first line is not the plain
 * case; else the position after the last line handled (the state is still
 * HS_HDR_START unless the section ended).
 */
static const char *field_lines_fast(struct aa_parse *p, struct http_state *s,
				    const char *c, const char *end)
{
	const char *next = field_line_fast(p, s, c, end);

	if (!next)
		return NULL;
	while (next + 1 < end && !s->stop) {
		const char *n;

		if (next[0] == '\r' && next[1] == '\n') { /* the empty line */
			section_done(p, s, next + 2);
			return next + 2;
		}
		if (!is((uint8_t)*next, HC_TCHAR) || s->nhdr >= s->max_headers)
			break;
		n = field_line_fast(p, s, next, end);
		if (!n)
			break;
		next = n;
	}
	return next;
}

static const char *hdr_start(struct aa_parse *p, struct http_state *s,
			     const char *c, const char *end)
{
	uint8_t ch = (uint8_t)*c;
	const char *fast;

	if (ch == '\r') {
		s->st = HS_HDR_END_LF;
		return c + 1;
	}
	if (ch == '\n') {
		section_done(p, s, c + 1);
		return c + 1;
	}
	if (!is(ch, HC_TCHAR)) {
		aa_http_fail(p, s, AA_ERR_SYNTAX,
			     is(ch, HC_WS) ? "obsolete line folding"
				       : "invalid header name",
			     c);
		return c;
	}
	if (s->nhdr >= s->max_headers) {
		aa_http_fail(p, s, AA_ERR_TOO_MANY_FIELDS,
			     "more header fields than configured", c);
		return c;
	}
	fast = field_lines_fast(p, s, c, end);
	if (fast)
		return fast;
	http_field_start(s, HTTP_SLOT_NAME(s->nhdr), c);
	s->st = HS_HDR_NAME;
	return c + 1;
}

static const char *hdr_name(struct aa_parse *p, struct http_state *s,
			    const char *c, const char *end)
{
	c = aa_scan_token_end(c, end);
	if (c == end)
		return c;
	if (*c != ':') {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "invalid header name", c);
		return c;
	}
	http_field_stop(p, s, c, 0);
	s->st = HS_HDR_OWS;
	return c + 1;
}

/* The value ended at c (CR or LF). */
static const char *value_end(struct aa_parse *p, struct http_state *s,
			     const char *c)
{
	const char *next = c + 1;

	if (*c == '\r') {
		s->after = HS_HDR_START;
		s->st = HS_LINE_LF;
	} else {
		s->st = HS_HDR_START;
	}
	field_done(p, s, next);
	return next;
}

static const char *hdr_ows(struct aa_parse *p, struct http_state *s,
			   const char *c, const char *end)
{
	while (c < end && is((uint8_t)*c, HC_WS))
		c++;
	if (c == end)
		return c;
	if (is((uint8_t)*c, HC_EOL)) { /* empty value */
		aa_field_set_fast(p, HTTP_SLOT_VALUE(s->nhdr), c, c);
		return value_end(p, s, c);
	}
	if (!is((uint8_t)*c, HC_VCHAR)) {
		aa_http_fail(p, s, AA_ERR_BINARY,
			     "control character in a header value", c);
		return c;
	}
	http_field_start(s, HTTP_SLOT_VALUE(s->nhdr), c);
	s->ws_run = 0;
	s->st = HS_HDR_VALUE;
	return c + 1;
}

static const char *hdr_value(struct aa_parse *p, struct http_state *s,
			     const char *c, const char *end)
{
	uint32_t ws = s->ws_run;

	while (c < end) {
		const char *n = aa_http_scan_vchar(c, end); /* 16 at a time */
		uint8_t k;

		if (n != c) {
			ws = 0;
			c = n;
			if (c == end)
				break;
		}
		k = aa_http_cls[(uint8_t)*c];
		if (k & HC_VCHAR) /* obs-text */
			ws = 0;
		else if (k & HC_WS)
			ws++;
		else
			break;
		c++;
	}
	s->ws_run = ws;
	if (c == end)
		return c;
	if (!is((uint8_t)*c, HC_EOL)) {
		aa_http_fail(p, s, AA_ERR_BINARY,
			     "control character in a header value", c);
		return c;
	}
	/* trailing OWS is not part of the value, wherever it lies */
	http_field_stop(p, s, c, ws);
	return value_end(p, s, c);
}

static const char *fields_one(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	switch (s->st) {
	case HS_HDR_START:
		return hdr_start(p, s, c, end);
	case HS_HDR_NAME:
		return hdr_name(p, s, c, end);
	case HS_HDR_OWS:
		return hdr_ows(p, s, c, end);
	case HS_HDR_VALUE:
		return hdr_value(p, s, c, end);
	case HS_HDR_END_LF:
		if (*c != '\n') {
			aa_http_fail(p, s, AA_ERR_SYNTAX, "CR without LF", c);
			return c;
		}
		section_done(p, s, c + 1);
		return c + 1;
	default:
		return end;
	}
}

/* Runs the header states back to back (a header line goes through four
 * of them) until the chunk ends, the section ends, or parse() must stop. */
const char *aa_http_fields_step(struct aa_parse *p, struct http_state *s,
				const char *c, const char *end)
{
	do {
		c = fields_one(p, s, c, end);
	} while (c < end && !s->stop && s->st >= HS_HDR_START &&
		 s->st <= HS_HDR_END_LF);
	return c;
}
