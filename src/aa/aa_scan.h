/*
 * aa_scan.h - the delimiter scanners of the application-aware parsers
 * (issue: "scan for delimiters with SIMD, not byte by byte"): each returns
 * the first byte of a class in [c, end), or end.
 *
 * Three implementations of each, chosen once per process (aa_scan.c):
 * SSE2 (16 bytes a step, every x86-64; the default, see aa_simd_init),
 * AVX2 (32 bytes) where the CPU has it and AATCP_AA_SIMD=avx2 asks for it,
 * and a scalar loop that every vector version also uses for the tail of a
 * buffer (AATCP_AA_SIMD=scalar, and the only one off x86). The C tests run
 * the parsers under each (tests/c/meson.build), so all three are checked
 * against the same records.
 */
#ifndef AATCP_AA_SCAN_H
#define AATCP_AA_SCAN_H

#include <stdbool.h>
#include <stdint.h>

enum aa_simd { AA_SIMD_SCALAR, AA_SIMD_SSE2, AA_SIMD_AVX2 };

/* The implementation in use; set before main() (aa_scan.c). */
extern enum aa_simd aa_simd_level;
/* Chooses again (tests): the CPU's best, lowered by AATCP_AA_SIMD. */
void aa_simd_init(void);
const char *aa_simd_name(enum aa_simd level);

/*
 * The end of a header field value or reason phrase (RFC 9110 5.5,
 * RFC 9112 4): the first byte that is a control character other than HTAB
 * (CR, LF, NUL...) or DEL. SP, HTAB, VCHAR and obs-text (>= 0x80) pass.
 */
const char *aa_scan_field_end_sse2(const char *c, const char *end);
const char *aa_scan_field_end_avx2(const char *c, const char *end);

static inline const char *aa_scan_field_end_scalar(const char *c,
						   const char *end)
{
	for (; c < end; c++) {
		uint8_t b = (uint8_t)*c;

		if ((b < 0x20 && b != '\t') || b == 0x7f)
			break;
	}
	return c;
}

static inline const char *aa_scan_field_end(const char *c, const char *end)
{
	if (aa_simd_level == AA_SIMD_AVX2)
		return aa_scan_field_end_avx2(c, end);
	if (aa_simd_level == AA_SIMD_SSE2)
		return aa_scan_field_end_sse2(c, end);
	return aa_scan_field_end_scalar(c, end);
}

/*
 * The end of a token (RFC 9110 5.6.2: token = 1*tchar, tchar = ALPHA /
 * DIGIT / "!#$%&'*+-.^_`|~"; a header field name): the first byte in
 * [c, end) that is not a tchar. The vector version tests 16 bytes at a
 * time with SSSE3 (a table lookup per nibble, pshufb), chosen where the
 * CPU has SSSE3 and the level is not scalar (aa_simd_ssse3).
 */
extern bool aa_simd_ssse3;

static inline bool aa_scan_is_tchar(uint8_t b)
{
	/* bit b & 63 of word b >> 6: the tchars below 0x80 */
	static const uint64_t bits[2] = { 0x03ff6cfa00000000ull,
					  0x57ffffffc7fffffeull };

	return b < 0x80 && ((bits[b >> 6] >> (b & 63)) & 1);
}

static inline const char *aa_scan_token_end_scalar(const char *c,
						   const char *end)
{
	while (c < end && aa_scan_is_tchar((uint8_t)*c))
		c++;
	return c;
}

const char *aa_scan_token_end_ssse3(const char *c, const char *end);

static inline const char *aa_scan_token_end(const char *c, const char *end)
{
	if (aa_simd_level != AA_SIMD_SCALAR && aa_simd_ssse3)
		return aa_scan_token_end_ssse3(c, end);
	return aa_scan_token_end_scalar(c, end);
}

/*
 * The first byte equal to one of a, b, d, e (CSV: delimiter, CR, LF, NUL
 * outside quotes; quote and NUL inside, with a repeated byte).
 */
const char *aa_scan_any4_sse2(const char *c, const char *end, char a, char b,
			      char d, char e);
const char *aa_scan_any4_avx2(const char *c, const char *end, char a, char b,
			      char d, char e);

static inline const char *aa_scan_any4_scalar(const char *c, const char *end,
					      char a, char b, char d, char e)
{
	for (; c < end; c++)
		if (*c == a || *c == b || *c == d || *c == e)
			break;
	return c;
}

static inline const char *aa_scan_any4(const char *c, const char *end, char a,
				       char b, char d, char e)
{
	if (aa_simd_level == AA_SIMD_AVX2)
		return aa_scan_any4_avx2(c, end, a, b, d, e);
	if (aa_simd_level == AA_SIMD_SSE2)
		return aa_scan_any4_sse2(c, end, a, b, d, e);
	return aa_scan_any4_scalar(c, end, a, b, d, e);
}

#endif /* AATCP_AA_SCAN_H */
