/*
 * test_aa_scan.c - the delimiter scanners (src/aa/aa_scan.h): the scalar,
 * SSE2 and AVX2 versions return the same position as a plain reference
 * loop for every start offset and length of random buffers (targets at
 * every position, including the last byte before `end` and none at all),
 * so a vector step never reads past `end` (ASan) nor skips a match; the
 * token scanner is also checked for all 256 bytes in every lane.
 * The parsers' own tests run under each version too (tests/c/meson.build).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aa/aa_scan.h"
#include "check.h"

#define LEN 200

/* RFC 9110 5.5: a field value ends at a CTL other than HTAB, or DEL. */
static const char *ref_field_end(const char *c, const char *end)
{
	for (; c < end; c++) {
		unsigned char b = (unsigned char)*c;

		if ((b < 0x20 && b != '\t') || b == 0x7f)
			return c;
	}
	return end;
}

static const char *ref_any4(const char *c, const char *end, const char *set)
{
	for (; c < end; c++)
		if (memchr(set, *c, 4))
			return c;
	return end;
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool ref_tchar(unsigned char b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
	       (b >= 'A' && b <= 'Z') || (b && strchr("!#$%&'*+-.^_`|~", b));
}

/* aa_scan_token_end() at the level in use, and the scalar version: the
 * reference's position for every start and length. */
static void check_token(const char *buf)
{
	for (size_t a = 0; a < LEN; a++) {
		for (size_t b = a; b <= LEN; b++) {
			const char *c = buf + a, *end = buf + b, *ref = c;

			while (ref < end && ref_tchar((unsigned char)*ref))
				ref++;
			CHECK_MSG(aa_scan_token_end(c, end) == ref,
				  "%s token [%zu, %zu)", aa_simd_name(aa_simd_level), a, b);
			CHECK_MSG(aa_scan_token_end_scalar(c, end) == ref,
				  "scalar token [%zu, %zu)", a, b);
		}
	}
}

/* Every byte value in every lane of a 16-byte block and in the scalar
 * tail after it. */
static void check_token_bytes(void)
{
	char block[20];

	for (unsigned v = 0; v < 256; v++) {
		for (unsigned lane = 0; lane < sizeof(block); lane++) {
			const char *want;

			memset(block, 'a', sizeof(block));
			block[lane] = (char)v;
			want = ref_tchar((unsigned char)v) ? block + sizeof(block)
							   : block + lane;
			CHECK_MSG(aa_scan_token_end(block, block + sizeof(block)) == want,
				  "%s byte 0x%02x lane %u", aa_simd_name(aa_simd_level), v, lane);
		}
	}
}

/* Mostly text, with a few bytes of each kind that matters. */
static void fill(char *buf, size_t n, unsigned density)
{
	static const char special[] = { '\r', '\n', 0, '\t', 0x7f, ',', '"',
					(char)0x80, (char)0xff, ' ', ':', '@' };

	for (size_t i = 0; i < n; i++)
		buf[i] = test_chance(1, density)
				 ? special[test_rand_range(0, sizeof(special) - 1)]
				 : (char)test_rand_range(0x21, 0x7e);
}

static void check_level(enum aa_simd level, const char *buf)
{
	static const char set[4] = { ',', '\r', '\n', 0 };

	for (size_t a = 0; a < LEN; a++) {
		for (size_t b = a; b <= LEN; b++) {
			const char *c = buf + a, *end = buf + b;
			const char *fe, *a4;

			switch (level) {
			case AA_SIMD_AVX2:
				fe = aa_scan_field_end_avx2(c, end);
				a4 = aa_scan_any4_avx2(c, end, ',', '\r', '\n', 0);
				break;
			case AA_SIMD_SSE2:
				fe = aa_scan_field_end_sse2(c, end);
				a4 = aa_scan_any4_sse2(c, end, ',', '\r', '\n', 0);
				break;
			default:
				fe = aa_scan_field_end_scalar(c, end);
				a4 = aa_scan_any4_scalar(c, end, ',', '\r', '\n', 0);
			}
			CHECK_MSG(fe == ref_field_end(c, end),
				  "%s field_end [%zu, %zu)", aa_simd_name(level), a, b);
			CHECK_MSG(a4 == ref_any4(c, end, set), "%s any4 [%zu, %zu)",
				  aa_simd_name(level), a, b);
		}
	}
}

int main(int argc, char **argv)
{
	enum aa_simd best;

	(void)argc;
	test_init(argv[0]);
	/* what the CPU allows (the env var can only lower it) */
	setenv("AATCP_AA_SIMD", "avx2", 1);
	aa_simd_init();
	best = aa_simd_level;
	printf("scanner levels up to %s\n", aa_simd_name(best));
	for (unsigned density = 2; density <= 512; density *= 4) {
		/* exactly LEN bytes on the heap: ASan sees any read past them */
		char *buf = malloc(LEN);

		CHECK(buf);
		fill(buf, LEN, density);
		for (int l = AA_SIMD_SCALAR; l <= (int)best; l++)
			check_level((enum aa_simd)l, buf);
		check_token(buf);
		free(buf);
	}
	check_token_bytes();
	setenv("AATCP_AA_SIMD", "scalar", 1);
	aa_simd_init();
	CHECK(aa_simd_level == AA_SIMD_SCALAR);
	check_token_bytes();
	return test_done();
}
