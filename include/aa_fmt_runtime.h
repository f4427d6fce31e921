/*
 * aa_fmt_runtime.h - the C runtime of the modules that the format compiler
 * (aatcp/formats, docs/formats.md) generates: the field ends of the
 * language (`until`, `length`, `packet`, `int`, checked arithmetic, what
 * follows a field's actions) on top of aa_module.h. A generated source
 * includes it and adds only its tables and per-format switch statements.
 * Installed with the public headers: a generated module compiles against
 * them alone. Delimiters are found with aa_delim.h, shared with the macro
 * generator (generate_aa_api.h).
 *
 * Everything is static inline, so a file may include two generated sources.
 */
#ifndef AATCP_AA_FMT_RUNTIME_H
#define AATCP_AA_FMT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("aa_module.h")
#include "aa_module.h"
#else
#include "aa/aa_module.h"
#endif
#else
#include "aa/aa_module.h"
#endif
#include "aa_delim.h"

/* A generated function kept whole where its module's code is (GCC: no
 * specialised copy that link-time optimisation may place elsewhere). */
#if defined(__clang__) || !defined(__GNUC__)
#define AA_FMT_OWN_FUNCTION __attribute__((noinline))
#else
#define AA_FMT_OWN_FUNCTION __attribute__((noinline, noclone))
#endif

/* What scanning a field returned. */
enum { AA_FMT_MORE = 0, AA_FMT_DONE = 1, AA_FMT_FAILED = -1 };
/* What a field's actions decided. */
enum { AA_FMT_GO_DEFAULT, AA_FMT_GO_NEXT, AA_FMT_GO_END, AA_FMT_GO_FAIL };
/* The delimiter that ended a field, when it is not one of its strings. */
#define AA_FMT_DELIM_NONE (-1)
#define AA_FMT_DELIM_EOF (-2)
#define AA_FMT_MAX_DELIMS 8 /* delimiter strings of one field */
/* Fields gathered before one aa_fields_set() call (aa_fmt_flush). */
#define AA_FMT_BATCH 16
/* Records in a row that may end without consuming a byte. */
#define AA_FMT_MAX_IDLE 1000

/* A field that ends with one of n delimiters (and/or the end of the stream). */
struct aa_fmt_until {
	uint8_t n;                  /* delimiter strings */
	bool eof;                   /* the end of the stream ends it too */
	unsigned char quote;        /* quoted fields: the quote byte, 0: none */
	uint64_t max;               /* content limit (UINT64_MAX: none) */
	const char *const *s;       /* the delimiters */
	const uint8_t *len;         /* their lengths */
	const uint8_t *const *pi;   /* KMP failure function of each */
	const uint8_t *first;       /* bitmap of the bytes that begin one */
	const char *too_long;       /* message of the error past max */
	bool simple;                /* no delimiter occurs inside another one
				     * ending before its end (aa_fmt_at) */
};

/* A field declaration, for what follows its actions. */
struct aa_fmt_field {
	uint32_t reps;              /* slots of a repeated field, 0: single */
	const char *overflow;       /* message when a repeated field overflows */
};

/*
 * Whole fields of the current chunk not given to the runtime yet: a
 * record's worth goes in one aa_fields_set() call (aa_fmt_flush). Both
 * generators gather their fields here (generate_aa_api.h too).
 */
struct aa_fmt_batch {
	uint8_t n;
	bool last_ok;               /* the last field is the last gathered */
	uint16_t slot[AA_FMT_BATCH];
	const char *st[AA_FMT_BATCH], *en[AA_FMT_BATCH];
	struct stream_field fv;     /* its view, made by aa_fmt_batch_last */
};

/*
 * Gives the gathered fields to the runtime. Called before anything that
 * needs the record's fields in place: every other runtime call that sets,
 * opens or ends a field, a record end, a failure, the return of parse().
 */
static inline void aa_fmt_batch_flush(struct aa_parse *p,
				      struct aa_fmt_batch *b)
{
	b->last_ok = false;
	if (b->n) {
		aa_fields_set(p, b->n, b->slot, b->st, b->en);
		b->n = 0;
	}
}

/* A whole field [s, e) of this chunk, gathered. */
static inline void aa_fmt_batch_add(struct aa_parse *p, struct aa_fmt_batch *b,
				    unsigned slot, const char *s, const char *e)
{
	if (b->n == AA_FMT_BATCH)
		aa_fmt_batch_flush(p, b);
	b->slot[b->n] = (uint16_t)slot;
	b->st[b->n] = s;
	b->en[b->n] = e;
	b->n++;
	b->last_ok = true;
}

/* The field that just ended: the last gathered one or aa_field_last(). */
static inline const struct stream_field *
aa_fmt_batch_last(struct aa_parse *p, struct aa_fmt_batch *b)
{
	if (!b->last_ok)
		return aa_field_last(p);
	b->fv.data.start = (char *)(uintptr_t)b->st[b->n - 1];
	b->fv.data.end = (char *)(uintptr_t)b->en[b->n - 1];
	b->fv.next = NULL;
	b->fv.owner = NULL;
	return &b->fv;
}

/* Where the parser is (first member of every module's state). */
struct aa_fmt_core {
	uint32_t st;                /* state (record type - 1) in progress */
	uint32_t fi;                /* field declaration in that state */
	uint32_t rep;               /* repetition of a repeated field */
	uint32_t next;              /* GO_NEXT: field, GO_END: state */
	bool open;                  /* the field has begun */
	const char *start;          /* until: where the open field began, while
				     * the runtime has not been told (it began
				     * in this chunk), else NULL */
	uint32_t slot;              /* until: the open field's slot */
	uint8_t q;                  /* quoted: 1 inside, 2 quote seen inside,
				     * 3 closed (a delimiter must follow) */
	int16_t delim;              /* what ended the last field */
	uint32_t after_q;           /* bytes since the closing quote */
	uint32_t idle;              /* records in a row that consumed nothing */
	uint64_t flen;              /* bytes of the open field so far */
	uint64_t want;              /* length fields: bytes wanted */
	uint64_t clen;              /* content bytes of the last field */
	uint64_t last_end;          /* stream offset of the last record end */
	enum aa_error fail;         /* set by actions (fail, bad number...) */
	const char *fail_msg;
	uint8_t m[AA_FMT_MAX_DELIMS]; /* bytes of each delimiter matched */
	uint8_t pm;                 /* the largest of m[] (aa_fmt_feed) */
	struct aa_fmt_batch batch;  /* fields gathered (aa_fmt_flush) */
};

static inline void aa_fmt_flush(struct aa_parse *p, struct aa_fmt_core *g)
{
	aa_fmt_batch_flush(p, &g->batch);
}

/* The field that just ended (the actions' F). */
static inline const struct stream_field *aa_fmt_last(struct aa_parse *p,
						     struct aa_fmt_core *g)
{
	return aa_fmt_batch_last(p, &g->batch);
}

static inline void aa_fmt_set_fail(struct aa_fmt_core *g, enum aa_error code,
				   const char *msg)
{
	if (!g->fail) {
		g->fail = code;
		g->fail_msg = msg;
	}
}

static inline int aa_fmt_fail(struct aa_fmt_core *g, enum aa_error code,
			      const char *msg)
{
	aa_fmt_set_fail(g, code, msg);
	return AA_FMT_GO_FAIL;
}

static inline int aa_fmt_failed(struct aa_parse *p, struct aa_fmt_core *g,
				const char *at)
{
	aa_fmt_flush(p, g);
	aa_fail(p, g->fail, g->fail_msg, at);
	return AA_FMT_FAILED;
}

/* Checked 64-bit arithmetic: an overflow ends the stream, never UB. */
static inline int64_t aa_fmt_checked(struct aa_fmt_core *g, bool overflow,
				     int64_t r)
{
	if (!overflow)
		return r;
	aa_fmt_set_fail(g, AA_ERR_MODULE, "integer overflow");
	return 0;
}

static inline int64_t aa_fmt_add(struct aa_fmt_core *g, int64_t a, int64_t b)
{
	int64_t r;
	bool o = __builtin_add_overflow(a, b, &r);

	return aa_fmt_checked(g, o, r);
}

static inline int64_t aa_fmt_sub(struct aa_fmt_core *g, int64_t a, int64_t b)
{
	int64_t r;
	bool o = __builtin_sub_overflow(a, b, &r);

	return aa_fmt_checked(g, o, r);
}

static inline int64_t aa_fmt_mul(struct aa_fmt_core *g, int64_t a, int64_t b)
{
	int64_t r;
	bool o = __builtin_mul_overflow(a, b, &r);

	return aa_fmt_checked(g, o, r);
}

static inline unsigned char aa_fmt_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/*
 * `starts "s"` (fold = false) and `starts_case "s"` (ASCII letters in
 * either case): whether the field's first n bytes are s[0 .. n). Inline,
 * length given: it runs on every field of a header-like repeated field
 * and usually ends at the first byte.
 */
static inline bool aa_fmt_starts(const struct stream_field *f, const char *s,
				 size_t n, bool fold)
{
	size_t i = 0;

	aa_field_foreach_view(w, f) {
		for (const char *c = w->data.start; c < w->data.end && i < n; c++, i++) {
			unsigned char a = (unsigned char)*c, b = (unsigned char)s[i];

			if (fold ? aa_fmt_lower(a) != aa_fmt_lower(b) : a != b)
				return false;
		}
	}
	return i == n;
}

/*
 * `int` / `int after "P"`: after the prefix P (matched ignoring ASCII
 * case), [SP HT]* [+-] DIGIT+ [SP HT CR LF]*. Anything else, or a number
 * beyond 64 bits, ends the stream with a syntax error record.
 */
static inline int64_t aa_fmt_int(struct aa_fmt_core *g,
				 const struct stream_field *f,
				 const char *prefix, size_t plen)
{
	uint64_t v = 0, lim = (uint64_t)INT64_MAX;
	size_t i = 0;
	int st = 0; /* 0 blanks, 1 sign, 2 digits, 3 trailing blanks */
	bool neg = false;

	if (plen && !aa_fmt_starts(f, prefix, plen, true))
		goto bad;
	aa_field_foreach_view(w, f) {
		for (const char *c = w->data.start; c < w->data.end; c++, i++) {
			unsigned char ch = (unsigned char)*c;

			if (i < plen)
				continue;
			if (ch >= '0' && ch <= '9' && st < 3) {
				unsigned d = ch - '0';

				if (v > (lim + neg - d) / 10)
					goto bad;
				v = v * 10 + d;
				st = 2;
			} else if ((ch == ' ' || ch == '\t') && st == 0) {
				continue;
			} else if ((ch == '+' || ch == '-') && st == 0) {
				neg = ch == '-';
				st = 1;
			} else if ((ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') &&
				   st >= 2) {
				st = 3;
			} else {
				goto bad;
			}
		}
	}
	if (st < 2)
		goto bad;
	if (neg)
		return v == lim + 1 ? INT64_MIN : -(int64_t)v;
	return (int64_t)v;
bad:
	aa_fmt_set_fail(g, AA_ERR_SYNTAX, "invalid number");
	return 0;
}

/*
 * Feeds one byte to every delimiter; the longest one it completes, or -1.
 * g->pm: the longest match, the bytes at the end of the field that may
 * still begin a delimiter.
 */
static inline int aa_fmt_feed(struct aa_fmt_core *g,
			      const struct aa_fmt_until *u, char ch)
{
	int best = -1;
	uint8_t mx = 0;

	for (unsigned k = 0; k < u->n; k++) {
		g->m[k] = (uint8_t)aa_delim_kmp(u->s[k], u->pi[k], u->len[k], g->m[k], ch);
		if (g->m[k] > mx)
			mx = g->m[k];
		if (g->m[k] == u->len[k] && (best < 0 || u->len[k] > u->len[best]))
			best = (int)k;
	}
	g->pm = mx;
	return best;
}

/*
 * An `until` field that begins and ends in one chunk is one aa_field_set()
 * call (the runtime's fast path); aa_field_begin() is called only when the
 * chunk ends (or the stream fails) with the field still open.
 */
static inline void aa_fmt_begun(struct aa_parse *p, struct aa_fmt_core *g)
{
	if (g->start) {
		aa_field_begin(p, g->slot, g->start);
		g->start = NULL;
	}
}

/*
 * At a byte that may begin a delimiter, with none partly matched: the
 * delimiter that completes first from here when that is certain without
 * KMP, else -1. A one-byte delimiter equal to *c completes here (no other
 * can: none had begun); the only delimiter, whole in [c, end), completes
 * at its end (an earlier occurrence would have begun before c).
 */
static inline int aa_fmt_fresh(const struct aa_fmt_until *u, const char *c,
			       const char *end)
{
	for (unsigned k = 0; k < u->n; k++)
		if (u->len[k] == 1 && u->s[k][0] == *c)
			return (int)k;
	if (u->n == 1 && (size_t)(end - c) >= u->len[0] &&
	    memcmp(c, u->s[0], u->len[0]) == 0)
		return 0;
	return -1;
}

static inline int aa_fmt_too_long(struct aa_parse *p, struct aa_fmt_core *g,
				  const char *msg, const char *at)
{
	aa_fmt_begun(p, g);
	aa_fail(p, AA_ERR_TOO_LONG, msg, at);
	return AA_FMT_FAILED;
}

/*
 * aa_fmt_until() byte by byte: a field that ends with the first delimiter
 * to complete (the longest if several complete on the same byte). Quoted
 * (RFC 4180 style): a field that begins with the quote runs to the
 * closing quote ("" inside is a quote), then a delimiter must follow; its
 * views include the quotes.
 */
__attribute__((noinline, unused)) static int
aa_fmt_until_bytes(struct aa_parse *p, struct aa_fmt_core *g,
		   const struct aa_fmt_until *u, unsigned slot,
		   const char **pc, const char *end)
{
	const char *c = *pc;
	int k = -1;

	aa_fmt_flush(p, g);
	if (c == end)
		return AA_FMT_MORE;
	if (!g->open) {
		g->start = c;
		g->slot = slot;
		g->open = true;
		g->flen = 0;
		g->q = 0;
		g->after_q = 0;
		memset(g->m, 0, sizeof(g->m));
		g->pm = 0;
		if (u->quote && (unsigned char)*c == u->quote) {
			g->q = 1;
			g->flen = 1;
			c++;
		}
	}
	while (c < end) {
		if (g->q == 1) { /* inside quotes: to the next quote */
			const char *h = aa_delim_find_byte(c, end, (char)u->quote);
			const char *stop = h < end ? h + 1 : end;

			if ((uint64_t)(stop - c) > u->max - g->flen)
				return aa_fmt_too_long(p, g, u->too_long, c + (u->max - g->flen));
			g->flen += (uint64_t)(stop - c);
			c = stop;
			if (h < end)
				g->q = 2;
			continue;
		}
		if (g->q == 2) { /* after a quote inside quotes */
			if ((unsigned char)*c == u->quote) { /* "" */
				if (g->flen >= u->max)
					return aa_fmt_too_long(p, g, u->too_long, c);
				g->flen++;
				c++;
				g->q = 1;
				continue;
			}
			g->q = 3;
		}
		if (g->q == 3) { /* closed: only a delimiter may follow */
			bool viable = false;

			aa_fmt_feed(g, u, *c);
			g->flen++;
			g->after_q++;
			for (unsigned j = 0; j < u->n; j++) {
				if (g->m[j] != g->after_q)
					continue;
				viable = true;
				if (u->len[j] == g->after_q)
					k = (int)j;
			}
			if (!viable) {
				aa_fmt_begun(p, g);
				aa_fail(p, AA_ERR_SYNTAX, "data after a closing quote", c);
				return AA_FMT_FAILED;
			}
			c++;
			if (k >= 0)
				goto done;
			continue;
		}
		if (g->pm == 0) { /* skip to a possible delimiter */
			const char *h = end;

			if (u->n == 1)
				h = aa_delim_find_byte(c, end, u->s[0][0]);
			else if (u->n > 1 && u->n <= 4)
				h = aa_delim_find_any4(c, end, u->s[0][0], u->s[1][0],
						       u->s[u->n > 2 ? 2 : 0][0],
						       u->s[u->n > 3 ? 3 : 0][0]);
			else if (u->n > 4)
				h = aa_delim_find_set(c, end, u->first);
			if ((uint64_t)(h - c) > u->max - g->flen)
				return aa_fmt_too_long(p, g, u->too_long, c + (u->max - g->flen));
			g->flen += (uint64_t)(h - c);
			c = h;
			if (c == end)
				break;
			k = aa_fmt_fresh(u, c, end);
			if (k >= 0) {
				c += u->len[k];
				g->flen += u->len[k];
				goto done;
			}
		}
		k = aa_fmt_feed(g, u, *c++);
		g->flen++;
		if (k >= 0)
			goto done;
		if (g->flen - g->pm > u->max)
			return aa_fmt_too_long(p, g, u->too_long, c - 1);
	}
	aa_fmt_begun(p, g);
	*pc = c;
	return AA_FMT_MORE;
done:
	g->clen = g->flen - u->len[k];
	if (g->start) {
		aa_field_set(p, slot, g->start, c - u->len[k]);
		g->start = NULL;
	} else {
		aa_field_end_back(p, c, u->len[k]);
	}
	g->open = false;
	g->delim = (int16_t)k;
	*pc = c;
	if (g->clen > u->max)
		return aa_fmt_too_long(p, g, u->too_long, c);
	return AA_FMT_DONE;
}

/* Whether a[0 .. n) == b[0 .. n): a loop, not a call (delimiters are short,
 * and a known n unrolls). */
static inline bool aa_fmt_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * At h, a byte that may begin a delimiter while none is partly matched:
 * the delimiter that ends the field here (the shortest one whole at h),
 * AA_FMT_AT_NONE when none begins at h, AA_FMT_AT_CUT when one may begin
 * at h but [h, end) ends inside it. Exact for a `simple` field (no
 * delimiter occurs inside another one ending before that one's end, so no
 * delimiter beginning after h completes first); otherwise only a one-byte
 * delimiter or the only delimiter is decided here (aa_fmt_fresh).
 */
#define AA_FMT_AT_NONE (-1)
#define AA_FMT_AT_CUT (-2)
__attribute__((always_inline)) static inline int
aa_fmt_at(const struct aa_fmt_until *u, const char *h, const char *end)
{
	size_t room = (size_t)(end - h);
	int best = AA_FMT_AT_NONE;
	bool cut = false;

	for (unsigned k = 0; k < u->n; k++) /* the shortest there can be */
		if (u->len[k] == 1 && u->s[k][0] == *h)
			return (int)k;
	if (!u->simple) {
		best = aa_fmt_fresh(u, h, end);
		return best >= 0 ? best : AA_FMT_AT_CUT;
	}
	for (unsigned k = 0; k < u->n; k++) {
		size_t l = u->len[k];

		if (l > room)
			cut = cut || aa_fmt_eq(h, u->s[k], room);
		else if (aa_fmt_eq(h, u->s[k], l) &&
			 (best < 0 || l < u->len[best]))
			best = (int)k;
	}
	return best >= 0 || !cut ? best : AA_FMT_AT_CUT;
}

/* The first byte of [c, end) that may begin one of u's delimiters, or end:
 * the vector scanners of aa_delim.h. */
__attribute__((always_inline)) static inline const char *
aa_fmt_skip(const struct aa_fmt_until *u, const char *c, const char *end)
{
	if (u->n == 1)
		return aa_delim_find_byte(c, end, u->s[0][0]);
	if (u->n <= 4)
		return aa_delim_find_any4(c, end, u->s[0][0], u->s[1][0],
					  u->s[u->n > 2 ? 2 : 0][0],
					  u->s[u->n > 3 ? 3 : 0][0]);
	return aa_delim_find_set(c, end, u->first);
}

/*
 * The bits of one 16-byte block of the current chunk at which one of a
 * field's delimiters may begin, kept from one field to the next: the short
 * fields of a CSV line then cost a bit each, not a vector load each (the
 * hand-written CSV module's lines do the same). One cursor per `until`
 * table (its first bytes), valid within one chunk.
 */
struct aa_fmt_cursor {
	const char *blk;            /* the block (NULL: none yet) */
	uint32_t m;                 /* bit i: blk[i] may begin a delimiter */
};

/* aa_fmt_skip() through the cursor k: the same byte (cfast.py's fast path). */
__attribute__((always_inline)) static inline const char *
aa_fmt_skip_k(const struct aa_fmt_until *u, struct aa_fmt_cursor *k,
	      const char *c, const char *end)
{
#if defined(__SSE2__)
	if (u->n >= 1 && u->n <= 4) {
		const char a = u->s[0][0], b = u->s[u->n > 1 ? 1 : 0][0],
			   d = u->s[u->n > 2 ? 2 : 0][0], e = u->s[u->n > 3 ? 3 : 0][0];
		const char *blk = k->blk;
		uint32_t m = k->m;

		if (!blk || c < blk || c - blk >= 16) {
			if (end - c < 16)
				return aa_fmt_skip(u, c, end);
			blk = c;
			m = aa_delim_mask16_any4(c, a, b, d, e);
		} else {
			m &= ~0u << (c - blk); /* the bits before c are behind */
		}
		while (!m) {
			blk += 16;
			if (end - blk < 16) { /* the chunk's tail */
				k->blk = NULL;
				return aa_fmt_skip(u, blk, end);
			}
			m = aa_delim_mask16_any4(blk, a, b, d, e);
		}
		k->blk = blk;
		k->m = m;
		return blk + __builtin_ctz(m);
	}
#endif
	(void)k;
	return aa_fmt_skip(u, c, end);
}

/*
 * Where a field that begins at c (c < end, not open, outside quotes) ends
 * inside [c, end): the start of the delimiter that ends it (its index in
 * *k), or NULL when that is not decided in [c, end) (no delimiter, one
 * cut by the end, the field longer than u->max). The common case of both
 * generators' delimited fields (generate_aa_api.h's STRSTR and UNTIL too).
 */
__attribute__((always_inline)) static inline const char *
aa_fmt_find(const struct aa_fmt_until *u, const char *c, const char *end,
	    int *k)
{
	const char *h = c;

	if (u->n == 0)
		return NULL;
	for (;;) {
		h = aa_fmt_skip(u, h, end);
		if (h == end || (uint64_t)(h - c) > u->max)
			return NULL;
		*k = aa_fmt_at(u, h, end);
		if (*k >= 0)
			return h;
		if (*k == AA_FMT_AT_CUT)
			return NULL;
		h++;
	}
}

/*
 * A field that ends with the first delimiter to complete (the longest if
 * several complete on the same byte); the delimiter is not part of it.
 * The common case, a field that begins and ends in this chunk outside
 * quotes, is one vector scan per possible delimiter start (aa_fmt_find)
 * and gathered for one aa_fields_set() per record; the rest (a field open across chunks,
 * quotes, a delimiter cut by the chunk end, a field past its limit) goes
 * to aa_fmt_until_bytes(), which feeds KMP byte by byte where it must.
 */
__attribute__((always_inline)) static inline int
aa_fmt_until(struct aa_parse *p, struct aa_fmt_core *g,
	     const struct aa_fmt_until *u, unsigned slot, const char **pc,
	     const char *end)
{
	const char *c = *pc, *h;
	int k;

	if (g->open || c == end || (u->quote && (unsigned char)*c == u->quote) ||
	    !(h = aa_fmt_find(u, c, end, &k)))
		return aa_fmt_until_bytes(p, g, u, slot, pc, end);
	aa_fmt_batch_add(p, &g->batch, slot, c, h);
	g->clen = (uint64_t)(h - c);
	g->delim = (int16_t)k;
	*pc = h + u->len[k];
	return AA_FMT_DONE;
}

static inline int aa_fmt_truncated(struct aa_parse *p)
{
	aa_fail(p, AA_ERR_TRUNCATED, "stream ended inside a record", NULL);
	return AA_FMT_FAILED;
}

/* The end of the stream while an `until` field is current. */
static inline int aa_fmt_until_eof(struct aa_parse *p, struct aa_fmt_core *g,
				   const struct aa_fmt_until *u, unsigned slot)
{
	aa_fmt_flush(p, g);
	if (!u->eof)
		return aa_fmt_truncated(p);
	if (g->open && g->q == 1) {
		aa_fail(p, AA_ERR_TRUNCATED, "unterminated quoted field", NULL);
		return AA_FMT_FAILED;
	}
	if (g->open && g->q == 3) {
		aa_fail(p, AA_ERR_SYNTAX, "data after a closing quote", NULL);
		return AA_FMT_FAILED;
	}
	if (g->open) {
		aa_field_end(p, NULL);
	} else {
		aa_field_set(p, slot, NULL, NULL);
		g->flen = 0;
	}
	g->open = false;
	g->clen = g->flen;
	g->delim = AA_FMT_DELIM_EOF;
	if (g->clen > u->max)
		return aa_fmt_too_long(p, g, u->too_long, NULL);
	return AA_FMT_DONE;
}

static inline int aa_fmt_empty(struct aa_parse *p, struct aa_fmt_core *g,
			       unsigned slot, const char *c)
{
	aa_field_set(p, slot, c, c);
	g->clen = 0;
	g->delim = AA_FMT_DELIM_NONE;
	return AA_FMT_DONE;
}

static inline int aa_fmt_bad_length(struct aa_parse *p, const char *at)
{
	aa_fail(p, AA_ERR_BAD_LENGTH, "negative field length", at);
	return AA_FMT_FAILED;
}

/* `length N`: exactly n bytes, across packets if need be. */
static inline int aa_fmt_length(struct aa_parse *p, struct aa_fmt_core *g,
				unsigned slot, int64_t n, uint64_t max,
				const char *too_long, const char **pc,
				const char *end)
{
	const char *c = *pc;
	uint64_t take;

	aa_fmt_flush(p, g);
	if (!g->open) {
		if (n < 0)
			return aa_fmt_bad_length(p, c);
		if ((uint64_t)n > max)
			return aa_fmt_too_long(p, g, too_long, c);
		if (n == 0)
			return aa_fmt_empty(p, g, slot, c);
		if (c == end)
			return AA_FMT_MORE;
		aa_field_begin(p, slot, c);
		g->open = true;
		g->flen = 0;
		g->want = (uint64_t)n;
	}
	take = g->want - g->flen;
	if (take > (uint64_t)(end - c))
		take = (uint64_t)(end - c);
	c += take;
	g->flen += take;
	*pc = c;
	if (g->flen < g->want)
		return AA_FMT_MORE;
	aa_field_end(p, c);
	g->open = false;
	g->clen = g->want;
	g->delim = AA_FMT_DELIM_NONE;
	return AA_FMT_DONE;
}

/* `packet upto N`: the rest of this packet, at most n bytes. */
static inline int aa_fmt_packet(struct aa_parse *p, struct aa_fmt_core *g,
				unsigned slot, int64_t n, const char **pc,
				const char *end)
{
	const char *c = *pc;
	uint64_t take;

	aa_fmt_flush(p, g);
	if (n < 0)
		return aa_fmt_bad_length(p, c);
	if (n == 0)
		return aa_fmt_empty(p, g, slot, c);
	if (c == end)
		return AA_FMT_MORE;
	take = (uint64_t)(end - c);
	if (take > (uint64_t)n)
		take = (uint64_t)n;
	aa_field_set(p, slot, c, c + take);
	*pc = c + take;
	g->clen = take;
	g->delim = AA_FMT_DELIM_NONE;
	return AA_FMT_DONE;
}

/* `length` and `packet` fields at the end of the stream: only an empty
 * one that has not begun can still end. */
static inline int aa_fmt_sized_eof(struct aa_parse *p, struct aa_fmt_core *g,
				   unsigned slot, int64_t n)
{
	aa_fmt_flush(p, g);
	if (g->open || n != 0)
		return aa_fmt_truncated(p);
	return aa_fmt_empty(p, g, slot, NULL);
}

/*
 * After a field's actions: the next field, the next repetition, or the end
 * of the record. 1: go on, 0: the runtime paused parsing (return), -1: the
 * stream failed.
 */
static inline int aa_fmt_go(struct aa_parse *p, struct aa_fmt_core *g, int go,
			    const char *at, const struct aa_fmt_field *f,
			    uint32_t nfields)
{
	uint64_t off;
	unsigned type;

	if (g->fail || go == AA_FMT_GO_FAIL) {
		aa_fmt_flush(p, g);
		aa_fail(p, g->fail ? g->fail : AA_ERR_MODULE, g->fail_msg, at);
		return -1;
	}
	if (go == AA_FMT_GO_DEFAULT) {
		if (f->reps) {
			if (++g->rep >= f->reps) {
				aa_fmt_flush(p, g);
				aa_fail(p, AA_ERR_TOO_MANY_FIELDS, f->overflow, at);
				return -1;
			}
			return 1;
		}
		go = AA_FMT_GO_NEXT;
		g->next = g->fi + 1;
	}
	if (go == AA_FMT_GO_NEXT) {
		if (g->next >= nfields) { /* the compiler rules it out */
			aa_fmt_flush(p, g);
			aa_fail(p, AA_ERR_MODULE, "no field after the last one", at);
			return -1;
		}
		g->fi = g->next;
		g->rep = 0;
		return 1;
	}
	/* the record ends; a format whose records consume nothing would spin */
	aa_fmt_flush(p, g);
	off = aa_offset(p, at);
	g->idle = off == g->last_end ? g->idle + 1 : 0;
	g->last_end = off;
	if (g->idle > AA_FMT_MAX_IDLE) {
		aa_fail(p, AA_ERR_MODULE, "records that consume nothing", at);
		return -1;
	}
	type = g->st + 1;
	g->st = g->next;
	g->fi = 0;
	g->rep = 0;
	return aa_record_end(p, type, at) ? 1 : 0;
}

#endif /* AATCP_AA_FMT_RUNTIME_H */
