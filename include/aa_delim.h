/*
 * aa_delim.h - delimiter search for the generated modules: the one KMP
 * matcher and the one delimiter scanner that both module generators use,
 * the macro generator (generate_aa_api.h: STRSTR, UNTIL) and the format
 * compiler's runtime (aa_fmt_runtime.h: `until` fields).
 *
 * A field that ends at a delimiter string is scanned in two steps: skip to
 * the first byte that may begin a delimiter (aa_delim_find_byte for one
 * delimiter, aa_delim_find_set for several), then feed bytes one at a time
 * to a Knuth-Morris-Pratt matcher (aa_delim_kmp) until the delimiter is
 * complete or no partial match is left. KMP keeps the match across packet
 * boundaries in one small integer and never looks back at earlier bytes,
 * so a delimiter split over packets is found like any other, and a byte
 * is fed at most once whatever the delimiter overlaps with itself.
 *
 * The scanners compare 16 bytes a step with SSE2 where the compiler
 * targets it (every x86-64), and finish the buffer byte by byte; the
 * byte loop is the whole scanner elsewhere.
 */
#ifndef AATCP_AA_DELIM_H
#define AATCP_AA_DELIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Longest delimiter: failure functions are stored in uint8_t. */
#define AA_DELIM_MAX_LEN 255

/*
 * The KMP failure function of s[0 .. len): pi[i] is the length of the
 * longest proper prefix of s[0 .. i] that is also its suffix.
 * len <= AA_DELIM_MAX_LEN.
 */
static inline void aa_delim_kmp_table(const char *s, unsigned len, uint8_t *pi)
{
	unsigned k = 0;

	if (len)
		pi[0] = 0;
	for (unsigned i = 1; i < len; i++) {
		while (k > 0 && s[i] != s[k])
			k = pi[k - 1];
		if (s[i] == s[k])
			k++;
		pi[i] = (uint8_t)k;
	}
}

/*
 * One KMP step: k bytes of s (length len, failure function pi) were
 * matched; returns how many are after the byte ch. A complete match
 * (k == len) goes on as its longest border, so overlapping occurrences
 * are found too.
 */
static inline unsigned aa_delim_kmp(const char *s, const uint8_t *pi,
				    unsigned len, unsigned k, char ch)
{
	if (k == len)
		k = pi[k - 1];
	while (k > 0 && s[k] != ch)
		k = pi[k - 1];
	return s[k] == ch ? k + 1 : 0;
}

/* The first byte b in [c, end), or end: 16 bytes a step with SSE2 (the
 * distances here are short, a header line or a field: inline steps beat a
 * call of the C library's memchr), memchr elsewhere. */
static inline const char *aa_delim_find_byte(const char *c, const char *end,
					     char b)
{
#if defined(__SSE2__)
	const __m128i w = _mm_set1_epi8(b);

	for (; end - c >= 16; c += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, w));

		if (m)
			return c + __builtin_ctz(m);
	}
	for (; c < end; c++)
		if (*c == b)
			break;
	return c;
#else
	const char *h = c < end ? memchr(c, b, (size_t)(end - c)) : NULL;

	return h ? h : end;
#endif
}

#if defined(__SSE2__)
/* Bit i set when c[i] (i < 16) is a, b, d or e. */
static inline unsigned aa_delim_mask16_any4(const char *c, char a, char b,
					    char d, char e)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
	__m128i hit = _mm_or_si128(
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a)),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8(b))),
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(d)),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8(e))));

	return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* The first byte of [c, end) equal to a, b, d or e (repeat one for fewer), or end. */
static inline const char *aa_delim_find_any4(const char *c, const char *end,
					     char a, char b, char d, char e)
{
#if defined(__SSE2__)
	for (; end - c >= 16; c += 16) {
		unsigned m = aa_delim_mask16_any4(c, a, b, d, e);

		if (m)
			return c + __builtin_ctz(m);
	}
#endif
	for (; c < end; c++)
		if (*c == a || *c == b || *c == d || *c == e)
			break;
	return c;
}

/* Whether byte b is in the 256-bit set (bit b & 7 of set[b >> 3]). */
static inline int aa_delim_in_set(const uint8_t *set, unsigned char b)
{
	return (set[b >> 3] >> (b & 7)) & 1;
}

/* The first byte of [c, end) that is in the set, or end. */
static inline const char *aa_delim_find_set(const char *c, const char *end,
					    const uint8_t *set)
{
	while (c < end && !aa_delim_in_set(set, (unsigned char)*c))
		c++;
	return c;
}

#ifdef __cplusplus
}
#endif

#endif /* AATCP_AA_DELIM_H */
