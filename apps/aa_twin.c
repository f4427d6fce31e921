/* aa_twin.c - the hand-written parse in the application (see aa_twin.h). */
#include "aa_twin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TWIN_MAX_FIELDS 1024
#define TWIN_MAX_HEADERS 64 /* the stack's HTTP modules' default */

enum { H_HEAD, H_LEN, H_CLOSE, H_CSIZE, H_CDATA, H_CCRLF, H_TRAIL };

/* Bytes that end an unquoted CSV field. */
static uint8_t csv_stop[256];

static void fail(struct twin *t, uint32_t code, const char *msg, uint64_t off)
{
	canon_error(t->canon, code, msg, off);
	t->failed = true;
}

int twin_init(struct twin *t, enum twin_mode mode, unsigned n_fields, struct canon *c)
{
	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->canon = c;
	t->st = H_HEAD;
	csv_stop[','] = csv_stop['\r'] = csv_stop['\n'] = csv_stop[0] = 1;
	if (mode != TWIN_CSV)
		return 0;
	if (n_fields == 0 || n_fields > TWIN_MAX_FIELDS)
		return -1;
	t->n_fields = n_fields;
	t->fs = calloc(n_fields, sizeof(*t->fs));
	t->fe = calloc(n_fields, sizeof(*t->fe));
	return t->fs && t->fe ? 0 : -1;
}

void twin_fini(struct twin *t)
{
	free(t->fs);
	free(t->fe);
	t->fs = t->fe = NULL;
}

void twin_too_long(struct twin *t)
{
	fail(t, CANON_ERR_TOO_LONG, "record longer than the read buffer", t->off);
}

/* ---- CSV ------------------------------------------------------------------ */

/* One line from c: its end, or NULL (need more bytes, or an error: failed). */
static const char *csv_line(struct twin *t, const char *c, const char *e, bool eof)
{
	const char *p = c, *next;
	unsigned nf = 0;

	for (;;) {
		const char *start = c;

		if (c < e && *c == '"') { /* quoted: up to the closing quote */
			for (c++;;) {
				const char *q = memchr(c, '"', (size_t)(e - c));
				if (!q) {
					if (eof)
						fail(t, CANON_ERR_TRUNCATED, "unterminated quoted field",
						     t->off + (uint64_t)(e - p));
					return NULL;
				}
				if (q + 1 == e && !eof)
					return NULL; /* "" or the end: the next byte says */
				if (q + 1 < e && q[1] == '"') {
					c = q + 2;
					continue;
				}
				c = q + 1;
				break;
			}
			if (memchr(start, 0, (size_t)(c - start))) {
				fail(t, CANON_ERR_BINARY, "NUL byte in a field", t->off);
				return NULL;
			}
			if (c < e && *c != ',' && *c != '\r' && *c != '\n') {
				fail(t, CANON_ERR_SYNTAX, "data after a closing quote",
				     t->off + (uint64_t)(c - p));
				return NULL;
			}
		} else {
			while (c < e && !csv_stop[(uint8_t)*c])
				c++;
			if (c < e && *c == 0) {
				fail(t, CANON_ERR_BINARY, "NUL byte in a field",
				     t->off + (uint64_t)(c - p));
				return NULL;
			}
		}
		if (c == e && !eof)
			return NULL;
		t->fs[nf] = start;
		t->fe[nf] = c;
		nf++;
		if (c == e) { /* the last line, without its end */
			next = e;
			break;
		}
		if (*c == ',') {
			if (nf >= t->n_fields) {
				fail(t, CANON_ERR_FIELD_COUNT, "too many fields in a line",
				     t->off + (uint64_t)(c - p));
				return NULL;
			}
			c++;
			continue;
		}
		if (*c == '\n') {
			next = c + 1;
			break;
		}
		/* CR: CRLF, or a CR that ends the stream */
		if (c + 1 == e) {
			if (!eof)
				return NULL;
			next = e;
			break;
		}
		if (c[1] != '\n') {
			fail(t, CANON_ERR_SYNTAX, "CR not followed by LF", t->off + (uint64_t)(c - p));
			return NULL;
		}
		next = c + 2;
		break;
	}
	if (nf != t->n_fields) {
		fail(t, CANON_ERR_FIELD_COUNT, "too few fields in a line",
		     t->off + (uint64_t)(next - p));
		return NULL;
	}
	canon_begin(t->canon, 'C');
	for (unsigned i = 0; i < nf; i++)
		canon_field(t->canon, t->fs[i], (size_t)(t->fe[i] - t->fs[i]));
	canon_end(t->canon);
	return next;
}

/* ---- HTTP ----------------------------------------------------------------- */

static const char *find_crlf(const char *c, const char *e)
{
	return memmem(c, (size_t)(e - c), "\r\n", 2);
}

static bool is_ows(char ch) { return ch == ' ' || ch == '\t'; }

/* Header lines in [c, end) (each ended by CRLF; end at the CRLF of the
 * empty line): name and value of each (value trimmed). Returns the count,
 * or -1 on a malformed line (*bad says where). With emit, each pair goes
 * into the dump. */
static int header_lines(struct canon *cn, const char *c, const char *end, bool emit,
			const char **bad, uint64_t *cl, int *cl_count, bool *te, bool *chunked)
{
	int n = 0;

	while (c < end) {
		const char *le = find_crlf(c, end + 2), *colon, *v, *ve;

		colon = memchr(c, ':', (size_t)(le - c));
		if (!colon || colon == c || is_ows(colon[-1])) {
			*bad = c;
			return -1;
		}
		for (v = colon + 1; v < le && is_ows(*v); v++)
			;
		for (ve = le; ve > v && is_ows(ve[-1]); ve--)
			;
		if (emit) {
			canon_field(cn, c, (size_t)(colon - c));
			canon_field(cn, v, (size_t)(ve - v));
		} else if (colon - c == 14 && !strncasecmp(c, "content-length", 14)) {
			uint64_t x = 0;
			const char *d = v;
			for (; d < ve && *d >= '0' && *d <= '9'; d++) {
				if (x > (UINT64_C(0x7fffffffffffffff) - 9) / 10) {
					*bad = c;
					*cl_count = -1;
					return -1;
				}
				x = x * 10 + (uint64_t)(*d - '0');
			}
			if (d == v || d != ve) {
				*bad = c;
				*cl_count = -1;
				return -1;
			}
			*cl = x;
			++*cl_count;
		} else if (colon - c == 17 && !strncasecmp(c, "transfer-encoding", 17)) {
			/* only the final coding matters */
			const char *last = ve;
			while (last > v && last[-1] != ',')
				last--;
			while (last < ve && is_ows(*last))
				last++;
			*te = true;
			*chunked = ve - last == 7 && !strncasecmp(last, "chunked", 7);
		}
		n++;
		c = le + 2;
	}
	return n;
}

static void message_done(struct twin *t)
{
	t->msgs_done++;
	t->st = H_HEAD;
}

static const char *http_head(struct twin *t, const char *c, const char *e)
{
	const bool res = t->mode == TWIN_HTTP_RES;
	const char *s = c, *end, *eol, *sp1, *sp2, *bad = NULL;
	const char *f[3][2];
	uint64_t cl = 0;
	int cl_count = 0, nh;
	bool te = false, chunked = false, body = false;
	unsigned status = 0;

	while (s < e && (*s == '\r' || *s == '\n')) /* empty lines before a message */
		s++;
	if (s > c)
		return s;
	end = memmem(c, (size_t)(e - c), "\r\n\r\n", 4);
	if (!end)
		return NULL;
	eol = find_crlf(c, end + 2);
	sp1 = memchr(c, ' ', (size_t)(eol - c));
	if (!sp1)
		goto syntax;
	if (res) {
		f[0][0] = c, f[0][1] = sp1;
		if (sp1 - c != 8 || memcmp(c, "HTTP/1.", 7) || c[7] < '0' || c[7] > '9' ||
		    eol - sp1 < 4)
			goto syntax;
		for (int i = 1; i <= 3; i++) {
			if (sp1[i] < '0' || sp1[i] > '9')
				goto syntax;
			status = status * 10 + (unsigned)(sp1[i] - '0');
		}
		f[1][0] = sp1 + 1, f[1][1] = sp1 + 4;
		if (sp1 + 4 == eol) {
			f[2][0] = f[2][1] = eol;
		} else if (sp1[4] == ' ' && status >= 100) {
			f[2][0] = sp1 + 5, f[2][1] = eol;
		} else {
			goto syntax;
		}
	} else {
		sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
		if (!sp2 || sp1 == c || sp2 == sp1 + 1 || eol - sp2 != 9 ||
		    memcmp(sp2 + 1, "HTTP/1.", 7))
			goto syntax;
		f[0][0] = c, f[0][1] = sp1;
		f[1][0] = sp1 + 1, f[1][1] = sp2;
		f[2][0] = sp2 + 1, f[2][1] = eol;
	}
	nh = header_lines(t->canon, eol + 2, end + 2, false, &bad, &cl, &cl_count, &te, &chunked);
	if (nh < 0) {
		fail(t, cl_count < 0 ? CANON_ERR_BAD_LENGTH : CANON_ERR_SYNTAX,
		     cl_count < 0 ? "invalid Content-Length" : "invalid header line",
		     t->off + (uint64_t)(bad - c));
		return NULL;
	}
	if (nh > TWIN_MAX_HEADERS) {
		fail(t, CANON_ERR_TOO_MANY_FIELDS, "more header fields than configured", t->off);
		return NULL;
	}
	if (cl_count > 1) {
		fail(t, CANON_ERR_BAD_LENGTH, "more than one Content-Length", t->off);
		return NULL;
	}
	if (te && (cl_count || (!chunked && !res))) {
		fail(t, CANON_ERR_BAD_ENCODING, cl_count ? "both Transfer-Encoding and Content-Length"
						       : "unsupported Transfer-Encoding", t->off);
		return NULL;
	}
	/* framing (RFC 9112 6.3), as the stack's modules */
	t->remaining = 0;
	if (res && (status < 200 || status == 204 || status == 304)) {
		t->st = H_HEAD;
	} else if (te) {
		t->st = chunked ? H_CSIZE : H_CLOSE;
		body = true;
	} else if (cl_count) {
		t->remaining = cl;
		t->st = cl ? H_LEN : H_HEAD;
		body = cl > 0;
	} else {
		t->st = res ? H_CLOSE : H_HEAD;
		body = res;
	}
	canon_begin(t->canon, res ? 'R' : 'Q');
	for (int i = 0; i < 3; i++)
		canon_field(t->canon, f[i][0], (size_t)(f[i][1] - f[i][0]));
	header_lines(t->canon, eol + 2, end + 2, true, &bad, &cl, &cl_count, &te, &chunked);
	canon_end(t->canon);
	if (!body)
		message_done(t);
	return end + 4;
syntax:
	fail(t, CANON_ERR_SYNTAX, res ? "invalid status line" : "invalid request line", t->off);
	return NULL;
}

static const char *chunk_size(struct twin *t, const char *c, const char *e)
{
	const char *nl = memchr(c, '\n', (size_t)(e - c)), *d = c;
	uint64_t x = 0;

	if (!nl)
		return NULL;
	for (; d < nl; d++) {
		unsigned v;
		if (*d >= '0' && *d <= '9')
			v = (unsigned)(*d - '0');
		else if ((*d | 0x20) >= 'a' && (*d | 0x20) <= 'f')
			v = (unsigned)((*d | 0x20) - 'a' + 10);
		else
			break;
		if (x >> 59) {
			fail(t, CANON_ERR_BAD_CHUNK, "chunk size too large", t->off);
			return NULL;
		}
		x = x * 16 + v;
	}
	if (d == c || (*d != ';' && *d != '\r' && *d != '\n' && !is_ows(*d))) {
		fail(t, CANON_ERR_BAD_CHUNK, "invalid chunk size", t->off);
		return NULL;
	}
	t->remaining = x;
	t->st = x ? H_CDATA : H_TRAIL;
	return nl + 1;
}

static const char *trailers(struct twin *t, const char *c, const char *e)
{
	const char *end, *bad = NULL;
	uint64_t cl = 0;
	int cl_count = 0, n;
	bool te = false, chunked = false;

	if (e - c < 2)
		return NULL;
	if (c[0] == '\r' && c[1] == '\n') {
		end = c;
	} else {
		end = memmem(c, (size_t)(e - c), "\r\n\r\n", 4);
		if (!end)
			return NULL;
		end += 2;
	}
	n = header_lines(t->canon, c, end, false, &bad, &cl, &cl_count, &te, &chunked);
	if (n < 0) {
		fail(t, CANON_ERR_SYNTAX, "invalid trailer line", t->off);
		return NULL;
	}
	canon_body_end(t->canon);
	canon_begin(t->canon, 'T');
	header_lines(t->canon, c, end, true, &bad, &cl, &cl_count, &te, &chunked);
	canon_end(t->canon);
	message_done(t);
	return end + 2;
}

static const char *http_step(struct twin *t, const char *c, const char *e)
{
	size_t n;

	switch (t->st) {
	case H_HEAD:
		return http_head(t, c, e);
	case H_LEN:
	case H_CDATA:
		n = (size_t)(e - c) < t->remaining ? (size_t)(e - c) : (size_t)t->remaining;
		canon_body(t->canon, c, n);
		t->remaining -= n;
		if (t->remaining == 0) {
			if (t->st == H_CDATA) {
				t->st = H_CCRLF;
			} else {
				canon_body_end(t->canon);
				message_done(t);
			}
		}
		return c + n;
	case H_CLOSE:
		canon_body(t->canon, c, (size_t)(e - c));
		return e;
	case H_CSIZE:
		return chunk_size(t, c, e);
	case H_CCRLF:
		if (*c == '\n') {
			t->st = H_CSIZE;
			return c + 1;
		}
		if (e - c < 2)
			return NULL;
		if (c[0] != '\r' || c[1] != '\n') {
			fail(t, CANON_ERR_BAD_CHUNK, "no CRLF after chunk data", t->off);
			return NULL;
		}
		t->st = H_CSIZE;
		return c + 2;
	default:
		return trailers(t, c, e);
	}
}

/* The stream ended; `rest` bytes were left unparsed. */
static void finish(struct twin *t, size_t rest)
{
	t->done = true;
	if (t->mode == TWIN_CSV || t->failed)
		return;
	if (t->st == H_CLOSE) {
		canon_body_end(t->canon);
		message_done(t);
	} else if (t->st != H_HEAD || rest) {
		fail(t, CANON_ERR_TRUNCATED, "connection closed inside a message", t->off);
	}
}

size_t twin_feed(struct twin *t, const char *buf, size_t len, bool eof)
{
	const char *c = buf, *e = buf + len;

	while (!t->failed && !t->done) {
		const char *n;

		if (c == e) {
			if (eof)
				finish(t, 0);
			break;
		}
		n = t->mode == TWIN_CSV ? csv_line(t, c, e, eof) : http_step(t, c, e);
		if (!n) {
			if (eof && !t->failed)
				finish(t, (size_t)(e - c));
			break;
		}
		t->off += (uint64_t)(n - c);
		c = n;
	}
	return (size_t)(c - buf);
}
