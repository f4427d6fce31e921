/*
 * test_net_csum.c - property test of the send path's one-pass copy and
 * checksum (net/csum.h csum_copy, csum_shift; tcp/sndbuf.c sndbuf_copy):
 * over random data at random source offsets and odd and even lengths, the
 * sum computed while copying equals the plain RFC 1071 sum of the copied
 * bytes, the copy is exact, and a send buffer that wraps at an odd byte
 * gives the same checksum as a contiguous copy.
 */
#include <string.h>

#include "check.h"
#include "net/csum.h"
#include "tcp/sndbuf.h"

#define MAXLEN 9000

static uint8_t src[MAXLEN + 64], dst[MAXLEN + 64], ref[MAXLEN + 64];

/* csum_copy at every small length and at random lengths and offsets. */
static void test_copy_matches_plain(void)
{
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = iter < 200 ? (size_t)iter : (size_t)(test_rand() % MAXLEN);
		size_t so = test_rand() % 64, dofs = test_rand() % 64;
		uint64_t seed = test_rand() % 0x10000;

		test_rand_bytes(src, sizeof(src));
		memset(dst, 0xa5, sizeof(dst));
		uint64_t s = csum_copy(dst + dofs, src + so, len, seed);
		CHECK_MSG(memcmp(dst + dofs, src + so, len) == 0, "copy len %zu", len);
		CHECK_MSG(dst[dofs + len] == 0xa5, "wrote past the end, len %zu", len);
		CHECK_MSG(csum_fold(s) == csum_fold(csum_add(src + so, len, seed)),
			  "len %zu src+%zu dst+%zu: %04x != %04x", len, so, dofs, csum_fold(s),
			  csum_fold(csum_add(src + so, len, seed)));
	}
}

/* A block summed apart and shifted to its offset adds up to the sum of
 * the whole (RFC 1071 2 (B)), at odd and even split points. */
static void test_shift(void)
{
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 1 + test_rand() % MAXLEN, cut = test_rand() % (len + 1);

		test_rand_bytes(src, len);
		uint64_t whole = csum_add(src, len, 0);
		uint64_t parts = csum_add(src, cut, 0) +
				 csum_shift(csum_add(src + cut, len - cut, 0), cut);
		CHECK_MSG(csum_fold(whole) == csum_fold(parts), "len %zu cut %zu", len, cut);
	}
}

/* sndbuf_copy with the sum: every start position in a small ring buffer
 * (so that copies wrap at odd and even points), every length. */
static void test_sndbuf_wrap(void)
{
	const uint32_t size = 4099; /* odd: wraps land on odd offsets too */
	struct sndbuf *sb = sndbuf_create(size);
	uint32_t seq = 1000;

	CHECK(sb);
	sndbuf_set_seq(sb, seq);
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t n = (uint32_t)(1 + test_rand() % (size - 1));
		test_rand_bytes(src, n);
		CHECK(sndbuf_write(sb, (const char *)src, n) == n);
		for (int k = 0; k < 4; k++) {
			uint32_t off = (uint32_t)(test_rand() % n);
			uint32_t len = (uint32_t)(test_rand() % (n - off + 1));
			uint64_t s = sndbuf_copy(sb, seq + off, (char *)dst, len, true);
			CHECK(memcmp(dst, src + off, len) == 0);
			CHECK_MSG(csum_fold(s) == csum_fold(csum_add(src + off, len, 0)),
				  "off %u len %u", off, len);
			sndbuf_copy(sb, seq + off, (char *)ref, len, false);
			CHECK(memcmp(ref, src + off, len) == 0);
		}
		CHECK(sndbuf_ack(sb, seq + n) == n);
		seq += n;
	}
	sndbuf_destroy(sb);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	test_copy_matches_plain();
	test_shift();
	test_sndbuf_wrap();
	return test_done();
}
