/*
 * aa_http_line.c - start lines (RFC 9112 section 3 request-line, section 4
 * status-line): the first fields of a head record (thesis table 4.1:
 * "HTTP version" ending at " ", "status code" ending at "\r\n"; here the
 * status code and the reason phrase are separate fields).
 *
 *   request:  method SP request-target SP HTTP-version CRLF
 *   response: HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *
 * A bare LF is accepted as a line end (RFC 9112 2.2 allows it), empty
 * lines before a message are skipped (2.2), "HTTP/1.x" only.
 */
#include <string.h>

#include "aa/aa_http_internal.h"
#include "aa/aa_scan.h"

static bool is(uint8_t c, uint8_t cls) { return aa_http_cls[c] & cls; }

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* The line end at e (CRLF or LF, RFC 9112 2.2) lies in the chunk: the
 * position after it, else NULL. */
static const char *line_end_in(const char *e, const char *end)
{
	if (e == end)
		return NULL;
	if (*e == '\n')
		return e + 1;
	if (*e == '\r' && e + 1 < end && e[1] == '\n')
		return e + 2;
	return NULL;
}

void aa_http_line_done(struct http_state *s, uint8_t next)
{
	s->st = next;
	s->begun = false;
}

/* Ends the line at c (CR or LF): the next state comes after the LF. */
static const char *line_end(struct http_state *s, const char *c, uint8_t next)
{
	if (*c == '\r') {
		s->after = next;
		aa_http_line_done(s, HS_LINE_LF);
	} else {
		aa_http_line_done(s, next);
	}
	return c + 1;
}

/* One byte of "HTTP/1.x"; false on a mismatch. */
static bool version_byte(struct http_state *s, uint8_t c)
{
	static const char prefix[] = "HTTP/1.";

	if (s->vpos < 7) {
		if (c != (uint8_t)prefix[s->vpos])
			return false;
	} else if (!is(c, HC_DIGIT)) {
		return false;
	} else {
		s->version = (uint8_t)(10 + (c - '0'));
	}
	s->vpos++;
	return true;
}

static const char *version(struct aa_parse *p, struct http_state *s,
			   const char *c, const char *end)
{
	for (; c < end && s->vpos < 8; c++) {
		if (!version_byte(s, (uint8_t)*c)) {
			aa_http_fail(p, s, AA_ERR_SYNTAX,
				     "not an HTTP/1.x version", c);
			return end;
		}
	}
	return c;
}

static const char *status_line_fast(struct aa_parse *p, struct http_state *s,
				    const char *c, const char *end);
static const char *request_line_fast(struct aa_parse *p, struct http_state *s,
				     const char *c, const char *end);

static const char *start(struct aa_parse *p, struct http_state *s,
			 const char *c, const char *end)
{
	const char *fast;

	while (c < end && is((uint8_t)*c, HC_EOL))
		c++;
	if (c == end)
		return c;
	if (!s->response && !is((uint8_t)*c, HC_TCHAR)) {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "invalid request method", c);
		return end;
	}
	fast = s->response ? status_line_fast(p, s, c, end)
			   : request_line_fast(p, s, c, end);
	if (fast)
		return fast;
	http_field_start(s, HTTP_SLOT_LINE0, c);
	s->vpos = 0;
	s->st = s->response ? HS_RES_VERSION : HS_REQ_METHOD;
	return c;
}

/* ---- status-line -------------------------------------------------------- */

static const char *res_version(struct aa_parse *p, struct http_state *s,
			       const char *c, const char *end)
{
	c = version(p, s, c, end);
	if (c == end || s->stop)
		return c;
	if (*c != ' ') {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "no space after the version", c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	s->st = HS_RES_STATUS;
	s->ndig = 0;
	s->status = 0;
	return c + 1;
}

static const char *res_status(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	for (; c < end && s->ndig < 3; c++) {
		if (!is((uint8_t)*c, HC_DIGIT)) {
			aa_http_fail(p, s, AA_ERR_SYNTAX, "invalid status code",
				     c);
			return end;
		}
		if (s->ndig++ == 0)
			http_field_start(s, HTTP_SLOT_LINE0 + 1, c);
		s->status = (uint16_t)(s->status * 10 + (*c - '0'));
	}
	if (c == end)
		return c;
	if (s->status < 100 || (*c != ' ' && !is((uint8_t)*c, HC_EOL))) {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "invalid status code", c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	if (*c == ' ') {
		aa_http_line_done(s, HS_RES_REASON);
		return c + 1;
	}
	/* "HTTP/1.1 200" CRLF: an empty reason phrase */
	aa_field_set_fast(p, HTTP_SLOT_LINE0 + 2, c, c);
	return line_end(s, c, HS_HDR_START);
}

static const char *res_reason(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	if (!s->begun) {
		http_field_start(s, HTTP_SLOT_LINE0 + 2, c);
		s->begun = true;
	}
	while (c < end && is((uint8_t)*c, HC_VCHAR | HC_WS))
		c++;
	if (c == end)
		return c;
	if (!is((uint8_t)*c, HC_EOL)) {
		aa_http_fail(p, s, AA_ERR_BINARY,
			     "control character in the reason phrase", c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	return line_end(s, c, HS_HDR_START);
}

/* ---- request-line ------------------------------------------------------ */

/* The methods with a number of their own (RFC 9110 9.1: case-sensitive). */
static const struct {
	const char *name;
	uint8_t len;
	uint8_t m;
} methods[] = {
	{ "GET", 3, AA_HTTP_M_GET },         { "HEAD", 4, AA_HTTP_M_HEAD },
	{ "POST", 4, AA_HTTP_M_POST },       { "PUT", 3, AA_HTTP_M_PUT },
	{ "DELETE", 6, AA_HTTP_M_DELETE },   { "CONNECT", 7, AA_HTTP_M_CONNECT },
	{ "OPTIONS", 7, AA_HTTP_M_OPTIONS }, { "TRACE", 5, AA_HTTP_M_TRACE },
	{ "PATCH", 5, AA_HTTP_M_PATCH },
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* The method of a field (possibly split across packets). */
static uint8_t method_of(const struct stream_field *f)
{
	for (unsigned i = 0; i < N_METHODS; i++)
		if (aa_field_cmp(f, methods[i].name) == 0)
			return methods[i].m;
	return AA_HTTP_M_OTHER;
}

/* The method from its bytes [m, m + n). */
static uint8_t method_of_mem(const char *m, size_t n)
{
	for (unsigned i = 0; i < N_METHODS; i++)
		if (methods[i].len == n && !memcmp(m, methods[i].name, n))
			return methods[i].m;
	return AA_HTTP_M_OTHER;
}

static const char *req_method(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	while (c < end && is((uint8_t)*c, HC_TCHAR))
		c++;
	if (c == end)
		return c;
	if (*c != ' ') {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "invalid request method", c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	s->method = method_of(aa_field_last(p));
	aa_http_line_done(s, HS_REQ_TARGET);
	return c + 1;
}

static const char *req_target(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	if (!s->begun) {
		if (!is((uint8_t)*c, HC_VCHAR)) {
			aa_http_fail(p, s, AA_ERR_SYNTAX,
				     "invalid request target", c);
			return end;
		}
		http_field_start(s, HTTP_SLOT_LINE0 + 1, c);
		s->begun = true;
	}
	for (;;) { /* URLs are long: 16 bytes at a time */
		c = aa_http_scan_vchar(c, end);
		if (c == end || !is((uint8_t)*c, HC_VCHAR))
			break;
		c++; /* obs-text */
	}
	if (c == end)
		return c;
	if (*c != ' ') {
		aa_http_fail(p, s,
			     is((uint8_t)*c, HC_EOL) ? AA_ERR_SYNTAX
						     : AA_ERR_BINARY,
			     "invalid request target", c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	aa_http_line_done(s, HS_REQ_VERSION);
	s->vpos = 0;
	return c + 1;
}

static const char *req_version(struct aa_parse *p, struct http_state *s,
			       const char *c, const char *end)
{
	if (!s->begun) {
		http_field_start(s, HTTP_SLOT_LINE0 + 2, c);
		s->begun = true;
	}
	c = version(p, s, c, end);
	if (c == end || s->stop)
		return c;
	if (!is((uint8_t)*c, HC_EOL)) {
		aa_http_fail(p, s, AA_ERR_SYNTAX, "no line end after the version",
			     c);
		return end;
	}
	http_field_stop(p, s, c, 0);
	return line_end(s, c, HS_HDR_START);
}

/* ---- whole lines in one pass ------------------------------------------- */

/* The three fields of a start line, [st[i], en[i]): at once in the
 * common case (aa_fields_set_try), else one by one. */
static void set_line_fields(struct aa_parse *p, const char *const *st,
			    const char *const *en)
{
	if (aa_fields_set_try(p, HTTP_SLOT_LINE0, 3, st, en))
		return;
	for (unsigned i = 0; i < 3; i++)
		aa_field_set_fast(p, HTTP_SLOT_LINE0 + i, st[i], en[i]);
}

/*
 * A status line that lies whole in the chunk (RFC 9112 4: "HTTP/1.x" SP
 * 3DIGIT SP reason-phrase CRLF, or no reason after the code): its three
 * fields set at once. NULL, with nothing done, when it is not whole here
 * or not the plain case: the byte-wise states then parse it (and report
 * what is wrong with it).
 */
static const char *status_line_fast(struct aa_parse *p, struct http_state *s,
				    const char *c, const char *end)
{
	const char *r, *e, *next;
	uint16_t code;

	if (end - c < 13 || memcmp(c, "HTTP/1.", 7) != 0 || !digit(c[7]) ||
	    c[8] != ' ' || !digit(c[9]) || !digit(c[10]) || !digit(c[11]))
		return NULL;
	code = (uint16_t)((c[9] - '0') * 100 + (c[10] - '0') * 10 + (c[11] - '0'));
	if (code < 100)
		return NULL;
	if (c[12] == ' ') {
		r = c + 13;
		e = aa_scan_field_end(r, end);
	} else {
		r = e = c + 12;
	}
	next = line_end_in(e, end);
	if (!next)
		return NULL;
	s->version = (uint8_t)(10 + (c[7] - '0'));
	s->status = code;
	set_line_fields(p, (const char *const[]){ c, c + 9, r },
			(const char *const[]){ c + 8, c + 12, e });
	aa_http_line_done(s, HS_HDR_START);
	return next;
}

/*
 * A request line that lies whole in the chunk (RFC 9112 3: method SP
 * request-target SP "HTTP/1.x" CRLF), as status_line_fast().
 */
static const char *request_line_fast(struct aa_parse *p, struct http_state *s,
				     const char *c, const char *end)
{
	const char *m = c + 1, *t, *v, *next;

	while (m < end && is((uint8_t)*m, HC_TCHAR))
		m++;
	if (m == end || *m != ' ' || m + 1 == end ||
	    !is((uint8_t)m[1], HC_VCHAR))
		return NULL;
	t = aa_http_scan_vchar(m + 1, end);
	if (end - t < 10 || *t != ' ')
		return NULL; /* obs-text, a control byte, or not whole here */
	v = t + 1;
	if (memcmp(v, "HTTP/1.", 7) != 0 || !digit(v[7]))
		return NULL;
	next = line_end_in(v + 8, end);
	if (!next)
		return NULL;
	s->version = (uint8_t)(10 + (v[7] - '0'));
	s->method = method_of_mem(c, (size_t)(m - c));
	set_line_fields(p, (const char *const[]){ c, m + 1, v },
			(const char *const[]){ m, t, v + 8 });
	aa_http_line_done(s, HS_HDR_START);
	return next;
}

/* ---- dispatch ----------------------------------------------------------- */

const char *aa_http_line_step(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	switch (s->st) {
	case HS_START:
		return start(p, s, c, end);
	case HS_RES_VERSION:
		return res_version(p, s, c, end);
	case HS_RES_STATUS:
		return res_status(p, s, c, end);
	case HS_RES_REASON:
		return res_reason(p, s, c, end);
	case HS_REQ_METHOD:
		return req_method(p, s, c, end);
	case HS_REQ_TARGET:
		return req_target(p, s, c, end);
	case HS_REQ_VERSION:
		return req_version(p, s, c, end);
	case HS_LINE_LF:
		if (*c != '\n') {
			aa_http_fail(p, s, AA_ERR_SYNTAX, "CR without LF", c);
			return end;
		}
		aa_http_line_done(s, s->after);
		return c + 1;
	default:
		return end;
	}
}
