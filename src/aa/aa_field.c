/*
 * aa_field.c - string helpers over chained fields (aa_field.h, thesis
 * 4.2.2: "we rewrote some standard string manipulation functions to be
 * compatible with the field structure"). A field is walked view by view;
 * nothing is copied or allocated; every index is checked against the
 * views' lengths.
 */
#include <string.h>

#include "aa_field.h"

static size_t view_len(const struct stream_field *v)
{
	return (size_t)(v->data.end - v->data.start);
}

size_t aa_field_len_chain(const struct stream_field *f)
{
	size_t n = 0;

	for (; f; f = f->next)
		n += view_len(f);
	return n;
}

unsigned aa_field_nviews(const struct stream_field *f)
{
	unsigned n = 0;

	for (; f; f = f->next)
		n++;
	return n;
}

unsigned aa_field_views(const struct stream_field *f,
			struct stream_fragment_content *v, unsigned n)
{
	unsigned i = 0;

	for (; f; f = f->next, i++)
		if (i < n)
			v[i] = f->data;
	return i;
}

/* The view holding byte `off` and the offset in it; NULL past the end. */
static const struct stream_field *seek(const struct stream_field *f, size_t off,
				       size_t *in)
{
	for (; f; f = f->next) {
		size_t len = view_len(f);

		if (off < len) {
			*in = off;
			return f;
		}
		off -= len;
	}
	return NULL;
}

int aa_field_byte_chain(const struct stream_field *f, size_t i)
{
	size_t in;

	f = seek(f, i, &in);
	return f ? (unsigned char)f->data.start[in] : -1;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Compares the whole field with s[0..n) (fold: ASCII case-insensitive). */
static int cmp_mem(const struct stream_field *f, const unsigned char *s,
		   size_t n, bool fold)
{
	size_t i = 0;

	for (; f; f = f->next) {
		const unsigned char *p = (const unsigned char *)f->data.start;
		size_t len = view_len(f);

		for (size_t k = 0; k < len; k++, i++) {
			int a, b;

			if (i == n)
				return 1; /* the field is longer */
			a = p[k];
			b = s[i];
			if (fold) {
				a = lower(a);
				b = lower(b);
			}
			if (a != b)
				return a - b;
		}
	}
	return i == n ? 0 : -1;
}

int aa_field_cmp_mem(const struct stream_field *f, const void *s, size_t n)
{
	return cmp_mem(f, s, n, false);
}

int aa_field_cmp_chain(const struct stream_field *f, const char *s)
{
	return cmp_mem(f, (const unsigned char *)s, strlen(s), false);
}

int aa_field_casecmp(const struct stream_field *f, const char *s)
{
	return cmp_mem(f, (const unsigned char *)s, strlen(s), true);
}

bool aa_field_eq_case(const struct stream_field *f, const char *s)
{
	return aa_field_casecmp(f, s) == 0;
}

/* Compares the first n bytes of the field with s[0..n) as a prefix test:
 * 0 when equal, else the difference or -1 when the field is shorter. */
static int prefix_cmp(const struct stream_field *f, const unsigned char *s,
		      size_t n, bool fold)
{
	size_t i = 0;

	for (; f && i < n; f = f->next) {
		const unsigned char *p = (const unsigned char *)f->data.start;
		size_t len = view_len(f);

		for (size_t k = 0; k < len && i < n; k++, i++) {
			int a = fold ? lower(p[k]) : p[k];
			int b = fold ? lower(s[i]) : s[i];

			if (a != b)
				return a - b;
		}
	}
	return i == n ? 0 : -1;
}

bool aa_field_has_prefix(const struct stream_field *f, const char *s)
{
	return prefix_cmp(f, (const unsigned char *)s, strlen(s), false) == 0;
}

bool aa_field_has_prefix_case(const struct stream_field *f, const char *s)
{
	return prefix_cmp(f, (const unsigned char *)s, strlen(s), true) == 0;
}

int aa_field_ncmp(const struct stream_field *f, const char *s, size_t n)
{
	size_t flen = aa_field_len(f), slen = strnlen(s, n);
	size_t m = flen < n ? flen : n;
	int r;

	/* Equal on the common part, then the shorter one is smaller. */
	r = prefix_cmp(f, (const unsigned char *)s, m < slen ? m : slen, false);
	if (r)
		return r;
	if (m == slen)
		return 0;
	return m < slen ? -1 : 1;
}

/* A byte cursor over a chain of views. */
struct cursor {
	const struct stream_field *v;
	size_t in;
};

static int cursor_next(struct cursor *c)
{
	while (c->v && c->in == view_len(c->v)) {
		c->v = c->v->next;
		c->in = 0;
	}
	if (!c->v)
		return -1;
	return (unsigned char)c->v->data.start[c->in++];
}

bool aa_field_equal(const struct stream_field *a, const struct stream_field *b)
{
	struct cursor ca = { a, 0 }, cb = { b, 0 };
	int x, y;

	if (aa_field_len(a) != aa_field_len(b))
		return false;
	do {
		x = cursor_next(&ca);
		y = cursor_next(&cb);
		if (x != y)
			return false;
	} while (x >= 0);
	return true;
}

long aa_field_chr(const struct stream_field *f, int c, size_t from)
{
	size_t in, base;
	const struct stream_field *v = seek(f, from, &in);

	base = from - in;
	for (; v; v = v->next, in = 0) {
		size_t len = view_len(v);
		const char *hit = len > in ? memchr(v->data.start + in,
						    (unsigned char)c, len - in)
					   : NULL;

		if (hit)
			return (long)(base + (size_t)(hit - v->data.start));
		base += len;
	}
	return -1;
}

/* Bytes [off, off + n) of the field equal s (n > 0, within the field). */
static bool match_at(const struct stream_field *f, size_t off, const char *s,
		     size_t n)
{
	size_t in;
	const struct stream_field *v = seek(f, off, &in);

	for (size_t i = 0; i < n; i++) {
		while (v && in == view_len(v)) {
			v = v->next;
			in = 0;
		}
		if (!v || v->data.start[in] != s[i])
			return false;
		in++;
	}
	return true;
}

long aa_field_find(const struct stream_field *f, const char *s, size_t from)
{
	size_t n = strlen(s), len = aa_field_len(f);
	long at;

	if (from > len || n > len - from)
		return n == 0 && from <= len ? (long)from : -1;
	if (n == 0)
		return (long)from;
	/* First byte by memchr, then the rest. */
	while ((at = aa_field_chr(f, (unsigned char)s[0], from)) >= 0) {
		if ((size_t)at + n > len)
			return -1;
		if (match_at(f, (size_t)at, s, n))
			return at;
		from = (size_t)at + 1;
	}
	return -1;
}

/* ---- numbers: overflow is checked before each step -------------------- */

static int digit_value(int c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/* Digits from byte off to the end; *out <= limit. */
static int parse_unsigned(const struct stream_field *f, size_t off,
			  unsigned base, uint64_t limit, uint64_t *out)
{
	size_t in;
	const struct stream_field *v = seek(f, off, &in);
	uint64_t val = 0;
	size_t ndig = 0;

	for (; v; v = v->next, in = 0) {
		for (size_t k = in; k < view_len(v); k++) {
			int d = digit_value((unsigned char)v->data.start[k],
					    base);

			if (d < 0)
				return -1;
			/* overflow is detected, never undefined behaviour */
			if (__builtin_mul_overflow(val, base, &val) ||
			    __builtin_add_overflow(val, (uint64_t)d, &val) ||
			    val > limit)
				return -1;
			ndig++;
		}
	}
	if (ndig == 0)
		return -1;
	*out = val;
	return 0;
}

int aa_field_to_u64(const struct stream_field *f, uint64_t *out)
{
	return parse_unsigned(f, 0, 10, UINT64_MAX, out);
}

int aa_field_hex_to_u64(const struct stream_field *f, uint64_t *out)
{
	return parse_unsigned(f, 0, 16, UINT64_MAX, out);
}

int aa_field_to_i64_at(const struct stream_field *f, size_t off, int64_t *out)
{
	int c = aa_field_byte(f, off);
	bool neg = c == '-';
	uint64_t mag;

	if (c == '-' || c == '+')
		off++;
	/* |INT64_MIN| = INT64_MAX + 1 */
	if (parse_unsigned(f, off, 10, (uint64_t)INT64_MAX + (neg ? 1 : 0),
			   &mag) < 0)
		return -1;
	if (neg)
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
						      : -(int64_t)mag;
	else
		*out = (int64_t)mag;
	return 0;
}

int aa_field_to_i64(const struct stream_field *f, int64_t *out)
{
	return aa_field_to_i64_at(f, 0, out);
}

/* ---- copies ----------------------------------------------------------- */

size_t aa_field_copy_range(const struct stream_field *f, size_t off, void *buf,
			   size_t n)
{
	size_t in, done = 0;
	const struct stream_field *v = seek(f, off, &in);

	for (; v && done < n; v = v->next, in = 0) {
		size_t k = view_len(v) - in;

		if (k > n - done)
			k = n - done;
		if (k)
			memcpy((char *)buf + done, v->data.start + in, k);
		done += k;
	}
	return done;
}

size_t aa_field_copy(const struct stream_field *f, char *buf, size_t cap)
{
	size_t len = aa_field_len(f);

	if (cap) {
		size_t n = aa_field_copy_range(f, 0, buf, cap - 1);

		buf[n] = '\0';
	}
	return len;
}
