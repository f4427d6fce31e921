/*
 * test_tcp_ack.c - the receiver's ACK policy through the whole stack
 * (stack_harness.h), with whole bursts of segments taken in one network
 * iteration: RFC 9293 3.8.6.3 and RFC 5681 4.2 ask for an ACK for at least
 * every second full-sized segment and an immediate ACK for every
 * out-of-order segment; a burst of 64 segments must not be answered by one
 * stretch ACK. A lone segment waits for the delayed-ACK timer.
 */
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define SEG 1448 /* MSS 1460 less the timestamp option */

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

/* Puts n full segments of k's stream into the RX ring without running the
 * stack; the segment at index `skip` (if < n) is left out (a hole). */
static void inject_burst(struct h_stack *h, struct h_conn *k, int n, int skip)
{
	static uint8_t data[SEG], frame[2048 + 128];

	for (int i = 0; i < n; i++) {
		for (uint32_t b = 0; b < SEG; b++)
			data[b] = pattern(k->snd_nxt + b);
		struct h_seg s = h_conn_seg(k, A, data, SEG);
		if (i != skip)
			h_inject_raw(h, k->port, frame, h_build_tcp(&s, frame));
		k->snd_nxt += SEG;
	}
}

static void read_all(struct h_stack *h, struct h_conn *k, uint32_t from, uint32_t len)
{
	static uint8_t got[44 * SEG];

	CHECK(len <= sizeof(got));
	CHECK_EQ_U64(h_read(h, k->sock, got, sizeof(got)), len);
	for (uint32_t i = 0; i < len; i++)
		CHECK_MSG(got[i] == pattern(from + i), "byte %u", i);
}

static void finish(struct h_stack *h, struct h_conn *k, int ls)
{
	h_expect_none(h);
	h_abort_and_close(h, k, ls);
}

/* A receive window's worth of full segments (44 of 1448 bytes in 64 KiB)
 * in one receive burst: 22 ACKs, one per second segment, each
 * acknowledging exactly two more segments, in order. */
static void test_burst_every_second(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt;
	struct h_pkt p;

		inject_burst(h, &k, 44, 44);
	h_run(h);
	for (uint32_t i = 1; i <= 22; i++) {
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A, k.rcv_nxt, base + 2 * i * SEG, 0);
	}
	h_expect_none(h);
	CHECK(h_tcb(h, k.sock)->timer_at[TT_DELACK] == 0);
	read_all(h, &k, base, 44 * SEG);
	h_run(h);
	h_drain(h); /* the window update after the read: not this test's subject */
	finish(h, &k, ls);
}

/* An odd burst: ACKs for segments 2 and 4, the fifth waits for the
 * delayed-ACK timer (RFC 9293 3.8.6.3: less than 0.5 s). */
static void test_odd_burst_delayed(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt;
	struct h_pkt p;

	inject_burst(h, &k, 5, 5);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 2 * SEG, 0);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 4 * SEG, 0);
	h_expect_none(h);
	h_advance(h, DELACK_US - 1000);
	h_expect_none(h);
	h_advance(h, 1000);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 5 * SEG, 0);
	read_all(h, &k, base, 5 * SEG);
	h_run(h);
	h_drain(h);
	finish(h, &k, ls);
}

/* A burst with a hole at segment 3 of 8: ACKs for 1-2, then an immediate
 * duplicate ACK (with a SACK block) for each of the five segments above
 * the hole, all in the same burst (RFC 5681 4.2). */
static void test_burst_with_hole(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt;
	struct h_pkt p;

	inject_burst(h, &k, 8, 2);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 2 * SEG, 0);
	for (uint32_t i = 4; i <= 8; i++) {
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A, k.rcv_nxt, base + 2 * SEG, 0);
		CHECK(p.opts.n_sack >= 1 && p.opts.sack_l[0] == base + 3 * SEG &&
		      p.opts.sack_r[0] == base + i * SEG);
	}
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.dupacks_sent, 5);
	/* the hole filled: everything ACKed at once */
	uint32_t end = k.snd_nxt;
	k.snd_nxt = base + 2 * SEG;
	inject_burst(h, &k, 1, 1);
	k.snd_nxt = end;
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, end, 0);
	CHECK(p.opts.n_sack == 0);
	read_all(h, &k, base, 8 * SEG);
	h_run(h);
	h_drain(h);
	finish(h, &k, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_burst_every_second,
		test_odd_burst_delayed,
		test_burst_with_hole,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
