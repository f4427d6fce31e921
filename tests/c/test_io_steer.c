/*
 * test_io_steer.c - flow placement (io/steer.h):
 *   - the software Toeplitz hash against the published vectors of
 *     Microsoft's RSS verification suite ("Verifying the RSS Hash
 *     Calculation": IPv4 and IPv4/TCP, with the key steer_rss_key holds);
 *   - steer_predict() on an RSS port is that hash through the redirection
 *     table io/port.c programs (entry i -> queue i % queues);
 *   - a port whose hash is not ours knows no active flow's queue before a
 *     reply taught it.
 */
#include <arpa/inet.h>

#include "check.h"
#include "io/steer.h"

struct vec {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t l3, l4;
};

static const struct vec vectors[] = {
	{"161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178},
	{"65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea},
	{"12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
	{"209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f},
	{"202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2},
};

static uint32_t ip(const char *s)
{
	struct in_addr a;

	CHECK(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static void test_toeplitz_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		/* the segment comes from src to us (dst) */
		uint32_t l3 = steer_toeplitz(ip(v->src), htons(v->sport), ip(v->dst),
					     htons(v->dport), false);
		uint32_t l4 = steer_toeplitz(ip(v->src), htons(v->sport), ip(v->dst),
					     htons(v->dport), true);
		CHECK_MSG(l3 == v->l3, "vector %zu IPv4: %08x, want %08x", i, l3, v->l3);
		CHECK_MSG(l4 == v->l4, "vector %zu IPv4/TCP: %08x, want %08x", i, l4, v->l4);
	}
}

static void test_predict_rss(void)
{
	struct port p = {.placement = PLACE_RSS, .rss_l4 = true, .reta_size = 128,
			 .n_queues = 3};
	int seen[3] = {0};

	for (uint32_t lport = 1024; lport < 4096; lport++) {
		uint32_t la = ip("10.0.0.1"), ra = ip("10.0.0.2");
		uint32_t h = steer_toeplitz(ra, htons(80), la, htons((uint16_t)lport), true);
		int q = steer_predict(&p, la, htons((uint16_t)lport), ra, htons(80));
		CHECK_MSG(q == (int)(h % 128 % 3), "port %u: queue %d", lport, q);
		seen[q]++;
	}
	/* source ports reach every queue: an active open can pick one for any core */
	for (int q = 0; q < 3; q++)
		CHECK_MSG(seen[q] > 500, "queue %d got %d of 3072 ports", q, seen[q]);
}

static void test_predict_unknown(void)
{
	struct port p = {.placement = PLACE_LEARNED, .n_queues = 2, .index = 3};
	struct port one = {.placement = PLACE_SINGLE, .n_queues = 1};

	for (uint32_t lport = 1024; lport < 2048; lport++) {
		CHECK(steer_predict(&p, ip("10.0.0.1"), htons((uint16_t)lport), ip("10.0.0.2"),
				    htons(80)) == -1);
		CHECK(steer_predict(&one, ip("10.0.0.1"), htons((uint16_t)lport), ip("10.0.0.2"),
				    htons(80)) == 0);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	test_toeplitz_vectors();
	test_predict_rss();
	test_predict_unknown();
	return test_done();
}
