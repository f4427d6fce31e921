/*
 * aa_http_body.c - message bodies (RFC 9112 section 6, 7.1): BODY records,
 * one per packet (thesis 4.3.1, table 4.1: "len-th byte or last byte of
 * packet; len -= size(field)"), so that a large body never holds many
 * packets and the application sees the headers at once.
 *
 *   Content-Length  BODY records until len bytes, the last with F_END
 *   chunked         chunk-size [ext] CRLF, data, CRLF ... "0" CRLF
 *                   trailers CRLF: BODY records carry chunk data only; the
 *                   trailer section becomes an END record
 *   until close     BODY records; the END record comes at the close
 *   tunnel          after an upgrade: BODY records with F_TUNNEL
 */
#include "aa/aa_http_internal.h"

static bool is(uint8_t c, uint8_t cls) { return aa_http_cls[c] & cls; }

/* A BODY record with n bytes from c. */
static const char *body_record(struct aa_parse *p, struct http_state *s,
			       const char *c, size_t n, uint32_t flags)
{
	struct aa_http_record *r = aa_record(p);

	aa_field_set_fast(p, HTTP_SLOT_DATA, c, c + n);
	r->flags = s->body_flags | flags;
	r->body_offset = s->body_off;
	s->body_off += n;
	aa_http_emit(p, s, AA_HTTP_BODY, c + n);
	return c + n;
}

static size_t take(uint64_t remaining, const char *c, const char *end)
{
	size_t avail = (size_t)(end - c);

	return remaining < avail ? (size_t)remaining : avail;
}

/*
 * The bytes after a body that ends in this chunk are the next message's
 * head, which the start-line and header states read next: their cache
 * lines are requested now, all at once, instead of one by one as the
 * scans reach them (a body of 1 KB leaves the head in lines the core has
 * not touched). A hint only: nothing is read, any address is harmless.
 */
#define HEAD_PREFETCH_BYTES 384

static void prefetch_head(const char *c, const char *end)
{
	const char *stop = end - c > HEAD_PREFETCH_BYTES ? c + HEAD_PREFETCH_BYTES
							  : end;

	for (; c < stop; c += 64)
		__builtin_prefetch(c);
}

static const char *body_length(struct aa_parse *p, struct http_state *s,
			       const char *c, const char *end)
{
	size_t n = take(s->remaining, c, end);
	bool last = n == s->remaining;

	if (last)
		prefetch_head(c + n, end);
	s->remaining -= n;
	c = body_record(p, s, c, n, last ? AA_HTTP_F_END : 0);
	if (last)
		aa_http_next_message(s);
	return c;
}

static const char *body_close(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	return body_record(p, s, c, (size_t)(end - c),
			   s->tunnel ? AA_HTTP_F_TUNNEL : 0);
}

static void chunk_size_done(struct http_state *s)
{
	if (s->remaining == 0) { /* last-chunk: the trailer section follows */
		s->in_trailer = true;
		s->nhdr = 0;
		s->st = HS_HDR_START;
	} else {
		s->st = HS_CHUNK_DATA;
	}
}

/* The byte at c (c < end) after a chunk size or its extensions: CRLF or a
 * bare LF ends the line; anything else fails with why. */
static const char *chunk_line_end(struct aa_parse *p, struct http_state *s,
				  const char *c, const char *why)
{
	if (*c == '\r') {
		s->st = HS_CHUNK_SIZE_LF;
		return c + 1;
	}
	if (*c == '\n') {
		chunk_size_done(s);
		return c + 1;
	}
	aa_http_fail(p, s, AA_ERR_BAD_CHUNK, why, c);
	return c;
}

/* chunk-size = 1*HEXDIG, then BWS ";" ext, or the line end (7.1, 7.1.1). */
static const char *chunk_size(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	for (; c < end && is((uint8_t)*c, HC_HEX); c++) {
		uint8_t ch = (uint8_t)*c;
		unsigned d = is(ch, HC_DIGIT) ? ch - '0' : (ch | 0x20) - 'a' + 10;

		if (s->remaining >> 59) { /* next digit could overflow 63 bits */
			aa_http_fail(p, s, AA_ERR_BAD_CHUNK,
				     "chunk size too large", c);
			return c;
		}
		s->remaining = s->remaining * 16 + d;
		s->ndig = 1;
	}
	if (c == end)
		return c;
	if (!s->ndig) {
		aa_http_fail(p, s, AA_ERR_BAD_CHUNK, "invalid chunk size", c);
		return c;
	}
	if (*c == ';' || is((uint8_t)*c, HC_WS)) {
		s->st = HS_CHUNK_EXT;
		return c + 1;
	}
	return chunk_line_end(p, s, c, "invalid chunk size");
}

/* Chunk extensions are skipped (7.1.1: a recipient ignores unknown ones);
 * their length is bounded by the record limit. */
static const char *chunk_ext(struct aa_parse *p, struct http_state *s,
			     const char *c, const char *end)
{
	while (c < end && is((uint8_t)*c, HC_VCHAR | HC_WS))
		c++;
	if (c == end)
		return c;
	return chunk_line_end(p, s, c, "control character in a chunk extension");
}

static const char *chunk_data(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	size_t n = take(s->remaining, c, end);

	s->remaining -= n;
	if (s->remaining == 0)
		s->st = HS_CHUNK_DATA_CR;
	return body_record(p, s, c, n, 0);
}

/* The CRLF after chunk data (a bare LF is tolerated, RFC 9112 2.2). */
static const char *chunk_crlf(struct aa_parse *p, struct http_state *s,
			      const char *c)
{
	if (s->st == HS_CHUNK_DATA_CR && *c == '\r') {
		s->st = HS_CHUNK_DATA_LF;
		return c + 1;
	}
	if (*c == '\n') {
		s->st = HS_CHUNK_SIZE;
		s->ndig = 0;
		return c + 1;
	}
	aa_http_fail(p, s, AA_ERR_BAD_CHUNK, "no CRLF after chunk data", c);
	return c;
}

const char *aa_http_body_step(struct aa_parse *p, struct http_state *s,
			      const char *c, const char *end)
{
	switch (s->st) {
	case HS_BODY_LENGTH:
		return body_length(p, s, c, end);
	case HS_BODY_CLOSE:
		return body_close(p, s, c, end);
	case HS_CHUNK_SIZE:
		return chunk_size(p, s, c, end);
	case HS_CHUNK_EXT:
		return chunk_ext(p, s, c, end);
	case HS_CHUNK_SIZE_LF:
		if (*c != '\n') {
			aa_http_fail(p, s, AA_ERR_BAD_CHUNK, "CR without LF", c);
			return c;
		}
		chunk_size_done(s);
		return c + 1;
	case HS_CHUNK_DATA:
		return chunk_data(p, s, c, end);
	case HS_CHUNK_DATA_CR:
	case HS_CHUNK_DATA_LF:
		return chunk_crlf(p, s, c);
	default:
		return end;
	}
}
