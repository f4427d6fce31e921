/*
 * test_tcp_sack.c - the receiver's SACK blocks through the whole stack:
 *   - RFC 2018 section 4 order: the block of the most recent segment
 *     first, then the blocks reported most recently (not highest first);
 *   - D-SACK (RFC 2883 section 4): a duplicate below the cumulative ACK is
 *     reported once as the first block; a duplicate of out-of-order data
 *     is reported first, followed by the block that holds it.
 */
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK

static uint8_t data[8000];

/* The peer sends [off, off + len) of data (relative to base). */
static void send_at(struct h_stack *h, struct h_conn *k, uint32_t base, uint32_t off,
		    uint32_t len)
{
	uint32_t keep = k->snd_nxt;

	k->snd_nxt = base + off;
	struct h_seg s = h_conn_seg(k, A, data + off, len);
	h_send_seg(h, &s);
	k->snd_nxt = keep;
}

/* The ACK that must follow at once, with these blocks (relative to base). */
static void expect_blocks(struct h_stack *h, struct h_conn *k, uint32_t base, uint32_t ack,
			  int n, const uint32_t (*blocks)[2])
{
	struct h_pkt p;

	h_recv_tcp(h, &p);
	CHECK(p.flags == A && p.len == 0 && p.dport == k->pport);
	CHECK_MSG(p.ack == base + ack, "ack +%u, want +%u", p.ack - base, ack);
	CHECK_MSG(p.opts.n_sack == n, "%d blocks, want %d", p.opts.n_sack, n);
	for (int i = 0; i < n && i < p.opts.n_sack; i++)
		CHECK_MSG(p.opts.sack_l[i] == base + blocks[i][0] &&
				  p.opts.sack_r[i] == base + blocks[i][1],
			  "block %d: [%u, %u), want [%u, %u)", i, p.opts.sack_l[i] - base,
			  p.opts.sack_r[i] - base, blocks[i][0], blocks[i][1]);
	h_expect_none(h);
}

static void test_sack_order(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt;

	send_at(h, &k, base, 3000, 1000);
	expect_blocks(h, &k, base, 0, 1, (const uint32_t[][2]){{3000, 4000}});
	/* a lower segment arrives last: its block first */
	send_at(h, &k, base, 1000, 1000);
	expect_blocks(h, &k, base, 0, 2, (const uint32_t[][2]){{1000, 2000}, {3000, 4000}});
	/* the newest first, then those reported last in their order */
	send_at(h, &k, base, 5000, 1000);
	expect_blocks(h, &k, base, 0, 3,
		      (const uint32_t[][2]){{5000, 6000}, {1000, 2000}, {3000, 4000}});
	/* a segment that extends a block: the grown block first */
	send_at(h, &k, base, 2000, 500);
	expect_blocks(h, &k, base, 0, 3,
		      (const uint32_t[][2]){{1000, 2500}, {5000, 6000}, {3000, 4000}});
	h_abort_and_close(h, &k, ls);
}

static void test_dsack(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt;
	char buf[8000];

	/* in order, then a duplicate of it: D-SACK below the ACK */
	send_at(h, &k, base, 0, 1000);
	send_at(h, &k, base, 1000, 1000); /* two segments: ACKed */
	expect_blocks(h, &k, base, 2000, 0, NULL);
	send_at(h, &k, base, 0, 1000);
	expect_blocks(h, &k, base, 2000, 1, (const uint32_t[][2]){{0, 1000}});
	CHECK_EQ_U64(h->c->cnt.dsacks_sent, 1);
	/* out of order, then a duplicate of it: the duplicate, then its block */
	send_at(h, &k, base, 4000, 1000);
	expect_blocks(h, &k, base, 2000, 1, (const uint32_t[][2]){{4000, 5000}});
	send_at(h, &k, base, 6000, 1000);
	expect_blocks(h, &k, base, 2000, 2, (const uint32_t[][2]){{6000, 7000}, {4000, 5000}});
	send_at(h, &k, base, 4000, 1000);
	expect_blocks(h, &k, base, 2000, 3,
		      (const uint32_t[][2]){{4000, 5000}, {4000, 5000}, {6000, 7000}});
	CHECK_EQ_U64(h->c->cnt.dsacks_sent, 2);
	/* reported once: the next ACK has the usual blocks only */
	send_at(h, &k, base, 7000, 1000);
	expect_blocks(h, &k, base, 2000, 2, (const uint32_t[][2]){{6000, 8000}, {4000, 5000}});
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 2000);
	CHECK(memcmp(buf, data, 2000) == 0);
	h_abort_and_close(h, &k, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_sack_order,
		test_dsack,
	};

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
