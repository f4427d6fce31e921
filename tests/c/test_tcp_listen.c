/*
 * test_tcp_listen.c - listeners through the whole stack (stack_harness.h):
 *   - segments for no connection: a SYN to a closed port and a stray ACK
 *     get RSTs built per RFC 9293 3.10.7.1, a RST gets nothing;
 *   - the SYN-ACK retransmitted on its timer (RFC 6298 backoff) and on a
 *     duplicate SYN, then given up after SYN_RETRIES;
 *   - under a SYN flood the backlog bounds the half-open TCBs (which hold
 *     no buffers) and SYN cookies (RFC 4987 3.6) answer the rest: clean
 *     peers are accepted at once, forged and stale cookies refused;
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

/* Every SYN_RCVD TCB holds no buffers (they come with the handshake's ACK). */
static void check_half_open_bufferless(struct h_stack *h, uint32_t want)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->c->n_tcbs; i++) {
		struct tcb *t = &h->c->tcbs[i];
		if (t->in_pool || tcb_state(t) != TCPS_SYN_RCVD)
			continue;
		CHECK(!t->rb && !t->sb && !tcb_has_records(t));
#if AATCP_WITH_ZC
		CHECK(!t->zc.pool);
#endif
		n++;
	}
	CHECK_EQ_U64(n, want);
}

/* Sends n SYNs from as many ports (no options), returns the SYN-ACKs. */
static uint32_t flood(struct h_stack *h, int n, uint16_t first_port)
{
	uint32_t synacks = 0;
	struct h_pkt p;

	for (int i = 0; i < n; i++) {
		struct h_seg s = {.sport = (uint16_t)(first_port + i), .dport = 80,
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
	h_run(h);
	while (h_recv(h, &p)) {
		CHECK(p.flags == (S | A));
		synacks++;
	}
	return synacks;
}

/* RFC 4987 3.6 under a SYN flood: the SYN queue (backlog 4) fills with
 * half-open TCBs that hold no buffers; every further SYN gets a SYN-ACK
 * whose ISN is a cookie and costs no state. A clean peer is accepted at
 * once: with timestamps it keeps window scale and SACK (in the TSval's
 * low bits), without them only its MSS (rounded down to the table); a
 * forged cookie gets a RST and a counted drop. */
static void test_syn_flood(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 4);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	char buf[64];

	h_passive_open(h, ls, &k);
	CHECK_EQ_U64(flood(h, 200, 20000), 200);
	CHECK_EQ_U64(h->c->cnt.syncookies_sent, 196);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_syn_backlog), 0);
	CHECK_EQ_U64(h->c->tcbs_used, 1 + 4);
	check_half_open_bufferless(h, 4);
	/* the established connection is not starved */
	h_peer_send(h, &k, "still here", 10);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 10);
	CHECK(mtcp_write(h->mctx, k.sock, "yes", 3) == 3);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 3);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);

	/* a clean peer with every option: accepted at once from its cookie */
	struct h_conn k2 = h_conn_default(80);
	k2.pport = 60000;
	int s2 = h_passive_open(h, ls, &k2);
	CHECK_EQ_U64(h->c->cnt.syncookies_sent, 197);
	CHECK_EQ_U64(h->c->cnt.syncookies_ok, 1);
	CHECK((k2.ts_recent & 0x3f) == (7 | 0x10)); /* WS 7, SACK-permitted */
	struct tcb *t2 = h_tcb(h, s2);
	CHECK(t2->ws_ok && t2->snd_wscale == 7 && t2->sack_ok && t2->ts_ok);
	CHECK(t2->mss == 1460 - 12 && t2->rb && t2->sb);
	h_peer_send(h, &k2, "cookie data", 11);
	CHECK(h_read(h, s2, buf, sizeof(buf)) == 11 && memcmp(buf, "cookie data", 11) == 0);
	CHECK(mtcp_write(h->mctx, s2, "ok", 2) == 2);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k2, A | P, k2.rcv_nxt, k2.snd_nxt, 2);
	h_conn_absorb(&k2, &p);
	h_peer_ack(h, &k2);

	/* no timestamps: the SYN-ACK offers only the MSS; the ACK carries
	 * data, which the rebuilt connection delivers */
	struct h_conn k3 = h_conn_default(80);
	k3.pport = 60001;
	k3.offer_ts = false;
	k3.mss = 1400;
	h_peer_syn(h, &k3, &p);
	CHECK(p.opts.mss_ok && p.opts.mss == H_MSS && !p.opts.ws_ok && !p.opts.sack_perm &&
	      !p.opts.ts_ok);
	h_peer_send(h, &k3, "abc", 3);
	h_expect_none(h); /* one segment: its ACK waits (delayed ACK) */
	int s3 = mtcp_accept(h->mctx, ls, NULL, NULL);
	CHECK(s3 >= 0 && mtcp_setsock_nonblock(h->mctx, s3) == 0);
	struct tcb *t3 = h_tcb(h, s3);
	CHECK(t3->mss == 1400 && !t3->ws_ok && !t3->sack_ok && !t3->ts_ok);
	CHECK(h_read(h, s3, buf, sizeof(buf)) == 3 && memcmp(buf, "abc", 3) == 0);
	CHECK_EQ_U64(h->c->cnt.syncookies_ok, 2);

	/* a forged cookie: RST (an ACK to a listener, RFC 9293 3.10.7.2) */
	struct h_conn k4 = h_conn_default(80);
	k4.pport = 60002;
	struct h_seg s = h_conn_seg(&k4, A, NULL, 0);
	s.seq = k4.peer_iss + 1;
	s.ack = 0x12345678;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == 0x12345678);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_bad_cookie), 1);
	CHECK_EQ_U64(h->c->tcbs_used, 1 + 4 + 2);

	CHECK(mtcp_abort(h->mctx, s2) == 0);
	CHECK(mtcp_abort(h->mctx, s3) == 0);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	h_run(h);
	h_drain(h); /* three RSTs */
	/* the flood's half-open connections time out: 1 + 2 + ... + 32 s */
	while (h->c->tcbs_used > 0) {
		CHECK(h_run_timer(h, 100000000));
		h_drain(h);
	}
	CHECK(h->now - H_T0_US >= 63000000);
	CHECK(atomic_load(&h->c->listeners->syn_count) == 0);
	end(h, ls);
}

/* A cookie is good for the tick it was made in and the next (about 67 s
 * each); older, it is refused like any ACK to a listener. */
static void test_cookie_expiry(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 1);
	struct h_conn k = h_conn_default(80), old = h_conn_default(80);
	struct h_pkt p;

	old.pport = 50001;
	h_peer_syn(h, &k, &p); /* fills the SYN queue */
	h_peer_syn(h, &old, &p);
	CHECK_EQ_U64(h->c->cnt.syncookies_sent, 1);
	/* the half-open one gives up after 63 s; 3 ticks later the cookie
	 * is stale */
	while (h->c->tcbs_used > 0) {
		CHECK(h_run_timer(h, 100000000));
		h_drain(h);
	}
	h_advance(h, 3ull << 26);
	h_peer_ack(h, &old);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == old.rcv_nxt);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	CHECK(h_drops(h, DROP_tcp_bad_cookie) + h_drops(h, DROP_tcp_no_flow) == 1);
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
		test_cookie_expiry,
		test_close_listener_with_pending,
		test_reset_before_accept,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
