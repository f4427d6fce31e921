/*
 * test_tcp_timestamps.c - RFC 7323 timestamps through the whole stack:
 *   - TS.Recent follows the segment that covers Last.ACK.sent (4.3): two
 *     segments under one delayed ACK, the echo is the first one's TSval;
 *   - RTT measurement (4.1): an ACK of a retransmitted segment gives a
 *     sample from its TSecr, where Karn's rule leaves the sequence-timed
 *     sample out.
 */
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rtt.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH

static void test_ts_recent_last_ack_sent(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;
	char buf[16];

	k.ts_val = 7000;
	h_peer_send(h, &k, "first", 5);
	h_expect_none(h); /* delayed */
	k.ts_val = 7100;
	h_peer_send(h, &k, "second", 6);
	h_recv_tcp(h, &p); /* two segments: ACKed now */
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK_MSG(p.opts.ts_ok && p.opts.tsecr == 7000, "TSecr %u, want 7000", p.opts.tsecr);
	/* the next segment starts at Last.ACK.sent: its TSval is taken */
	k.ts_val = 7200;
	h_peer_send(h, &k, "third", 5);
	h_advance(h, DELACK_US);
	h_recv_tcp(h, &p);
	CHECK(p.opts.tsecr == 7200);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 16);
	h_abort_and_close(h, &k, ls);
}

static void test_rtt_from_timestamps(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	struct h_pkt p;

	CHECK(t->srtt == 0); /* no sample yet (the SYN-ACK is not timed) */
	CHECK(mtcp_write(h->mctx, k.sock, "data", 4) == 4);
	h_run(h);
	h_recv_tcp(h, &p); /* lost */
	uint64_t at = t->timer_at[TT_RTO];
	CHECK_EQ_U64(at, h->now + RTO_INITIAL_US);
	CHECK_EQ_U64(h_run_timer(h, 10000000), at);
	h_recv_tcp(h, &p); /* the retransmission, with a newer TSval */
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 4);
	h_conn_absorb(&k, &p);
	h_advance(h, 40000);
	h_peer_ack(h, &k); /* echoes the retransmission's TSval */
	CHECK_MSG(t->srtt == 40000, "srtt %u us", t->srtt);
	CHECK(t->rto == RTO_MIN_US || t->rto == 40000 + 4 * 20000);
	h_abort_and_close(h, &k, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_ts_recent_last_ack_sent,
		test_rtt_from_timestamps,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
