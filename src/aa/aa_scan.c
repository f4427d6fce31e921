/*
 * aa_scan.c - the vector versions of the delimiter scanners (aa_scan.h)
 * and the choice among them. A vector step loads 16 (SSE2) or 32 (AVX2)
 * bytes, compares them with the class, and returns at the first match
 * (lowest set bit of the byte mask); the rest of the buffer, shorter than
 * a step, goes to the scalar loop. Loads never pass `end`.
 */
#include <stdlib.h>
#include <string.h>

#include "aa/aa_scan.h"
#include "aa_delim.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AA_X86 1
#endif

enum aa_simd aa_simd_level = AA_SIMD_SCALAR;
bool aa_simd_ssse3;

const char *aa_simd_name(enum aa_simd level)
{
	static const char *const names[] = { "scalar", "sse2", "avx2" };

	return (unsigned)level < 3 ? names[level] : "?";
}

static enum aa_simd cpu_best(void)
{
#ifdef AA_X86
	__builtin_cpu_init();
	aa_simd_ssse3 = __builtin_cpu_supports("ssse3");
	if (__builtin_cpu_supports("avx2"))
		return AA_SIMD_AVX2;
	return AA_SIMD_SSE2;
#else
	return AA_SIMD_SCALAR;
#endif
}

/*
 * The default is SSE2, not the CPU's best: the fields these parsers scan
 * are short (CSV fields of 1-256 bytes, header values of 10-60), and on
 * the development machines (AMD EPYC, AVX2) the 32-byte steps were slower
 * than the 16-byte ones (bench_aa_parse, CSV 5x8: 85 ns per record with
 * SSE2, 92 with AVX2, 110 scalar; docs/aa-performance.md). AVX2 is used
 * when asked for (AATCP_AA_SIMD=avx2) and the CPU has it.
 */
void aa_simd_init(void)
{
	enum aa_simd best = cpu_best(), want = AA_SIMD_SSE2;
	const char *env = getenv("AATCP_AA_SIMD");

	if (env && !strcmp(env, "scalar"))
		want = AA_SIMD_SCALAR;
	else if (env && !strcmp(env, "avx2"))
		want = AA_SIMD_AVX2;
	aa_simd_level = want < best ? want : best;
}

__attribute__((constructor)) static void aa_scan_setup(void)
{
	aa_simd_init();
}

#ifdef AA_X86

/* ---- field end: CTL other than HTAB, or DEL ------------------------------ */

const char *aa_scan_field_end_sse2(const char *c, const char *end)
{
	const __m128i sp = _mm_set1_epi8(0x20), ht = _mm_set1_epi8('\t'),
		      del = _mm_set1_epi8(0x7f);

	while (end - c >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
		/* v >= 0x20 unsigned  <=>  max(v, 0x20) == v */
		__m128i ok = _mm_cmpeq_epi8(_mm_max_epu8(v, sp), v);
		__m128i bad = _mm_or_si128(
			_mm_andnot_si128(_mm_or_si128(ok, _mm_cmpeq_epi8(v, ht)),
					 _mm_set1_epi8(-1)),
			_mm_cmpeq_epi8(v, del));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);

		if (m)
			return c + __builtin_ctz(m);
		c += 16;
	}
	return aa_scan_field_end_scalar(c, end);
}

__attribute__((target("avx2")))
const char *aa_scan_field_end_avx2(const char *c, const char *end)
{
	const __m256i sp = _mm256_set1_epi8(0x20), ht = _mm256_set1_epi8('\t'),
		      del = _mm256_set1_epi8(0x7f);

	while (end - c >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)c);
		__m256i ok = _mm256_or_si256(
			_mm256_cmpeq_epi8(_mm256_max_epu8(v, sp), v),
			_mm256_cmpeq_epi8(v, ht));
		unsigned m = ~(unsigned)_mm256_movemask_epi8(ok) |
			     (unsigned)_mm256_movemask_epi8(
				     _mm256_cmpeq_epi8(v, del));

		if (m)
			return c + __builtin_ctz(m);
		c += 32;
	}
	return aa_scan_field_end_sse2(c, end);
}

/* ---- token characters --------------------------------------------------- */

/*
 * tchar as a nibble table: bit h of lo_tab[l] says that the byte h * 16 + l
 * is a tchar (h = 0..7; no byte >= 0x80 is one), hi_tab[h] is bit h, so a
 * byte is a tchar when lo_tab[low nibble] & hi_tab[high nibble] != 0
 * (tests/c/test_aa_scan.c checks all 256 bytes against RFC 9110 5.6.2).
 */
__attribute__((target("ssse3")))
const char *aa_scan_token_end_ssse3(const char *c, const char *end)
{
	const __m128i lo_tab = _mm_setr_epi8(
		(char)0xe8, (char)0xfc, (char)0xf8, (char)0xfc, (char)0xfc,
		(char)0xfc, (char)0xfc, (char)0xfc, (char)0xf8, (char)0xf8,
		(char)0xf4, 0x54, (char)0xd0, 0x54, (char)0xf4, 0x70);
	const __m128i hi_tab = _mm_setr_epi8(0x01, 0x02, 0x04, 0x08, 0x10, 0x20,
					     0x40, (char)0x80, 0, 0, 0, 0, 0, 0,
					     0, 0);
	const __m128i nib = _mm_set1_epi8(0x0f);

	while (end - c >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
		__m128i lo = _mm_shuffle_epi8(lo_tab, _mm_and_si128(v, nib));
		__m128i hi = _mm_shuffle_epi8(
			hi_tab, _mm_and_si128(_mm_srli_epi16(v, 4), nib));
		__m128i not_t = _mm_cmpeq_epi8(_mm_and_si128(lo, hi),
					       _mm_setzero_si128());
		unsigned m = (unsigned)_mm_movemask_epi8(not_t);

		if (m)
			return c + __builtin_ctz(m);
		c += 16;
	}
	return aa_scan_token_end_scalar(c, end);
}

/* ---- one of four bytes --------------------------------------------------- */

/* The same SSE2 loop as the generated modules' scanner (aa_delim.h). */
const char *aa_scan_any4_sse2(const char *c, const char *end, char a, char b,
			      char d, char e)
{
	return aa_delim_find_any4(c, end, a, b, d, e);
}

__attribute__((target("avx2")))
const char *aa_scan_any4_avx2(const char *c, const char *end, char a, char b,
			      char d, char e)
{
	const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b),
		      vd = _mm256_set1_epi8(d), ve = _mm256_set1_epi8(e);

	while (end - c >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)c);
		__m256i hit = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, va),
					_mm256_cmpeq_epi8(v, vb)),
			_mm256_or_si256(_mm256_cmpeq_epi8(v, vd),
					_mm256_cmpeq_epi8(v, ve)));
		unsigned m = (unsigned)_mm256_movemask_epi8(hit);

		if (m)
			return c + __builtin_ctz(m);
		c += 32;
	}
	return aa_scan_any4_sse2(c, end, a, b, d, e);
}

#else /* not x86: the scalar loops under the vector names */

const char *aa_scan_token_end_ssse3(const char *c, const char *end)
{
	return aa_scan_token_end_scalar(c, end);
}

const char *aa_scan_field_end_sse2(const char *c, const char *end)
{
	return aa_scan_field_end_scalar(c, end);
}

const char *aa_scan_field_end_avx2(const char *c, const char *end)
{
	return aa_scan_field_end_scalar(c, end);
}

const char *aa_scan_any4_sse2(const char *c, const char *end, char a, char b,
			      char d, char e)
{
	return aa_scan_any4_scalar(c, end, a, b, d, e);
}

const char *aa_scan_any4_avx2(const char *c, const char *end, char a, char b,
			      char d, char e)
{
	return aa_scan_any4_scalar(c, end, a, b, d, e);
}

#endif
