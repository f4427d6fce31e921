/*
 * test_tcp_listen.c - listeners through the whole stack (stack_harness.h):
 *   - segments for no connection: a SYN to a closed port and a stray ACK
 *     get RSTs built per RFC 9293 3.10.7.1, a RST gets nothing;
 *   - the SYN-ACK retransmitted on its timer (RFC 6298 backoff) and on a
 *     duplicate SYN, then given up after SYN_RETRIES;
 *   - the backlog bounds half-open plus unaccepted connections under a SYN
 *     flood, while an established connection keeps working, and frees up
 *     when the half-open ones time out;
 *   - closing a listener resets its queued and half-open connections.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rtt.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN
#define P TCP_FLAG_PSH

static void end(struct h_stack *h, int ls)
{
	if (ls >= 0)
		CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

static void test_no_connection(void)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(81);
	struct h_seg s;
	struct h_pkt p;

	/* SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK> */
	s = h_conn_seg(&k, S, NULL, 0);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A) && p.seq == 0 && p.ack == k.peer_iss + 1);
	CHECK(p.sport == 81 && p.dport == k.pport && p.len == 0);
	/* data without ACK: the ACK covers the data */
	s = h_conn_seg(&k, P, "abcdef", 6);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A) && p.seq == 0 && p.ack == k.peer_iss + 6);
	/* an ACK: <SEQ=SEG.ACK><RST> */
	s = h_conn_seg(&k, A, NULL, 0);
	s.ack = 0xdeadbeef;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == 0xdeadbeef);
	/* a RST: never answered */
	s = h_conn_seg(&k, R | A, NULL, 0);
	h_send_seg(h, &s);
	h_expect_none(h);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_no_flow), 4);
	CHECK_EQ_U64(h->c->cnt.rst_sent, 3);
	/* a listener on the port, and an ACK for a connection it never had */
	int ls = h_listen(h, 81, 4);
	s = h_conn_seg(&k, A, NULL, 0);
	s.ack = 12345;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == 12345);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	end(h, ls);
}

static void test_synack_retransmit(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 4);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p, first;
	struct h_seg s;

	h_peer_syn(h, &k, &first);
	/* a duplicate SYN: the same SYN-ACK again */
	s = h_conn_seg(&k, S, NULL, 0);
	s.seq = k.peer_iss;
	s.opts.mss_ok = true;
	s.opts.mss = 1460;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (S | A) && p.seq == first.seq && p.ack == k.peer_iss + 1);
	CHECK(p.opts.mss_ok && p.opts.mss == 1460);
	CHECK_EQ_U64(h->c->tcbs_used, 1);
	/* the timer: 1, 2, 4, 8, 16 s apart, then the half-open is dropped */
	uint64_t at = h->now + RTO_INITIAL_US;
	for (int i = 0; i < SYN_RETRIES; i++) {
		CHECK_EQ_U64(h_run_timer(h, 100000000), at);
		h_recv_tcp(h, &p);
		CHECK(p.flags == (S | A) && p.seq == first.seq && p.ack == k.peer_iss + 1);
		at += (uint64_t)RTO_INITIAL_US << (i + 1);
	}
	CHECK_EQ_U64(h_run_timer(h, 100000000), at);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	CHECK(atomic_load(&h->c->listeners->syn_count) == 0);
	/* the peer's late ACK finds nothing: RST */
	h_peer_ack(h, &k);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == k.rcv_nxt);
	end(h, ls);
}

static void test_syn_flood(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 4);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	char buf[64];

	/* one real connection, accepted */
	h_passive_open(h, ls, &k);
	/* a flood of 200 SYNs from as many ports, in bursts */
	uint32_t synacks = 0;
	for (int i = 0; i < 200; i++) {
		struct h_seg s = {.sport = (uint16_t)(20000 + i), .dport = 80,
				  .seq = 0x40000000u + (uint32_t)i * 77777, .flags = S,
				  .win = 65535};
		uint8_t f[200];
		h_inject_raw(h, 0, f, h_build_tcp(&s, f));
		if (i % 50 == 49)
			h_run(h);
		while (h_recv(h, &p)) {
			CHECK(p.flags == (S | A));
			synacks++;
		}
	}
	/* the backlog (4) bounds the half-open ones; the rest are counted */
	CHECK_EQ_U64(synacks, 4);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_syn_backlog), 196);
	CHECK_EQ_U64(h->c->tcbs_used, 1 + 4);
	/* the established connection is not starved */
	h_peer_send(h, &k, "still here", 10);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 10);
	CHECK(mtcp_write(h->mctx, k.sock, "yes", 3) == 3);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 3);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	/* a new peer is refused while the backlog is full... */
	struct h_conn k2 = h_conn_default(80);
	k2.pport = 60000;
	struct h_seg s = h_conn_seg(&k2, S, NULL, 0);
	h_send_seg(h, &s);
	h_expect_none(h);
	/* ...and served once the flood's half-open connections time out */
	int idle = h_conf()->tcp_timeout;
	while (h->c->tcbs_used > 1) {
		CHECK(h_run_timer(h, 100000000));
		h_drain(h); /* SYN-ACK retransmissions */
		k.rcv_nxt = h_tcb(h, k.sock)->snd_nxt;
		if (h->now - H_T0_US > 20000000 && idle > 0) {
			h_peer_ack(h, &k); /* keep the real connection alive */
			h_drain(h);
		}
	}
	CHECK(h->now - H_T0_US >= 63000000); /* 1 + 2 + ... + 32 s */
	CHECK(atomic_load(&h->c->listeners->syn_count) == 0);
	int s2 = h_passive_open(h, ls, &k2);
	CHECK(s2 >= 0);
	CHECK(mtcp_abort(h->mctx, s2) == 0);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	h_run(h);
	h_drain(h); /* two RSTs */
	end(h, ls);
}

static void test_close_listener_with_pending(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 8);
	struct h_conn q1 = h_conn_default(80), q2 = h_conn_default(80), half = h_conn_default(80);
	struct h_pkt p;

	q2.pport = 50002;
	half.pport = 50003;
	/* two established, not accepted; one half-open */
	h_peer_syn(h, &q1, &p);
	h_peer_ack(h, &q1);
	h_peer_syn(h, &q2, &p);
	h_peer_ack(h, &q2);
	h_peer_send(h, &q2, "queued data", 11);
	h_peer_syn(h, &half, &p);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->tcbs_used, 3);
	CHECK(h_events(h, ls) == MTCP_EPOLLIN);
	/* closing the listener resets all three */
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	int rsts = 0;
	while (h_recv(h, &p)) {
		CHECK((p.flags & R) && p.sport == 80);
		if (p.dport == q1.pport)
			CHECK(p.seq == q1.rcv_nxt);
		else if (p.dport == q2.pport)
			CHECK(p.seq == q2.rcv_nxt);
		else
			CHECK(p.dport == half.pport && p.seq == half.rcv_nxt);
		rsts++;
	}
	CHECK_EQ_U64(rsts, 3);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	/* the port is closed now */
	struct h_conn k = h_conn_default(80);
	k.pport = 50009;
	struct h_seg s = h_conn_seg(&k, S, NULL, 0);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	end(h, -1);
}

/* An accepted connection reset by the peer before accept(): the socket
 * reports the reset. */
static void test_reset_before_accept(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 8);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	char buf[8];

	h_peer_syn(h, &k, &p);
	h_peer_ack(h, &k);
	struct h_seg s = h_conn_seg(&k, R, NULL, 0);
	h_send_seg(h, &s);
	h_expect_none(h);
	int a = mtcp_accept(h->mctx, ls, NULL, NULL);
	CHECK(a >= 0);
	CHECK(mtcp_setsock_nonblock(h->mctx, a) == 0);
	CHECK(mtcp_read(h->mctx, a, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	CHECK(mtcp_close(h->mctx, a) == 0);
	end(h, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_no_connection,
		test_synack_retransmit,
		test_syn_flood,
		test_close_listener_with_pending,
		test_reset_before_accept,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
