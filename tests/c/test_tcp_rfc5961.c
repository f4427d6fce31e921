/*
 * test_tcp_rfc5961.c - robustness of an established connection against
 * blind in-window attacks (RFC 5961) and old duplicates (PAWS, RFC 7323
 * 5.3), through the whole stack (stack_harness.h):
 *   - a RST in the window but not at RCV.NXT gets a challenge ACK (3.2);
 *   - a RST outside the window is dropped silently;
 *   - the exact RST resets: ECONNRESET, EPOLLERR|EPOLLHUP to the application;
 *   - a SYN in a synchronized state gets a challenge ACK (4.2);
 *   - an ACK of data never sent, or older than the window, is dropped and
 *     answered (5.2), its data not delivered;
 *   - PAWS drops a segment whose TSval is older than TS.Recent, but not a
 *     RST, and not once TS.Recent is more than 24 days old.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN
#define P TCP_FLAG_PSH

/* The application closes after the peer's RST: nothing goes out. */
static void finish_reset(struct h_stack *h, struct h_conn *k, int ls)
{
	CHECK(mtcp_close(h->mctx, k->sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

static void finish_abort(struct h_stack *h, struct h_conn *k, int ls)
{
	struct h_pkt p;

	CHECK(mtcp_abort(h->mctx, k->sock) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, R | A, k->rcv_nxt, k->snd_nxt, 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

static void expect_challenge(struct h_stack *h, struct h_conn *k, uint64_t before)
{
	struct h_pkt p;

	h_recv_tcp(h, &p);
	h_check_seg(&p, k, A, k->rcv_nxt, k->snd_nxt, 0);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.challenge_acks, before + 1);
}

static void test_rst(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_seg s;
	struct h_pkt p;
	uint64_t ch = h->c->cnt.challenge_acks;

	/* in window, not exact: challenge ACK, the connection lives */
	s = h_conn_seg(&k, R, NULL, 0);
	s.seq = k.snd_nxt + 1000;
	h_send_seg(h, &s);
	expect_challenge(h, &k, ch);
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_ESTABLISHED);
	/* RST|ACK in window: the same */
	s.flags = R | A;
	s.ack = k.rcv_nxt;
	s.seq = k.snd_nxt + 1;
	h_send_seg(h, &s);
	expect_challenge(h, &k, ch + 1);
	/* outside the window (either side): dropped, nothing sent; one
	 * wholly before RCV.NXT counts as an old duplicate */
	uint64_t oow = h_drops(h, DROP_tcp_out_of_window);
	uint64_t old = h_drops(h, DROP_tcp_old_dup);
	s.seq = k.snd_nxt + 70000;
	h_send_seg(h, &s);
	s.seq = k.snd_nxt - 1;
	h_send_seg(h, &s);
	h_expect_none(h);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_out_of_window), oow + 1);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_old_dup), old + 1);
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_ESTABLISHED);
	CHECK_EQ_U64(h->c->cnt.conn_reset_rcvd, 0);
	/* data still flows both ways */
	h_peer_send(h, &k, "ping", 4);
	char buf[8];
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 4);
	CHECK(mtcp_write(h->mctx, k.sock, "pong", 4) == 4);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 4);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	h_expect_none(h);
	/* exact: reset */
	s = h_conn_seg(&k, R, NULL, 0);
	h_send_seg(h, &s);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.conn_reset_rcvd, 1);
	struct tcb *t = h_tcb(h, k.sock);
	CHECK(tcb_state(t) == TCPS_CLOSED);
	uint32_t ev = h_events(h, k.sock);
	CHECK_MSG((ev & (MTCP_EPOLLERR | MTCP_EPOLLHUP | MTCP_EPOLLIN)) ==
			  (MTCP_EPOLLERR | MTCP_EPOLLHUP | MTCP_EPOLLIN),
		  "events %x", ev);
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	CHECK(mtcp_write(h->mctx, k.sock, "x", 1) == -1);
	int err = 0;
	socklen_t len = sizeof(err);
	CHECK(mtcp_getsockopt(h->mctx, k.sock, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
	finish_reset(h, &k, ls);
}

static void test_syn_in_synchronized(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_seg s;
	uint64_t ch = h->c->cnt.challenge_acks;
	uint64_t syn = h_drops(h, DROP_tcp_syn_challenged);

	/* a SYN in window: challenge ACK, no reset (RFC 5961 4.2) */
	s = h_conn_seg(&k, S, NULL, 0);
	s.seq = k.snd_nxt + 5;
	h_send_seg(h, &s);
	expect_challenge(h, &k, ch);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_syn_challenged), syn + 1);
	/* SYN|ACK at RCV.NXT: the same */
	s = h_conn_seg(&k, S | A, NULL, 0);
	h_send_seg(h, &s);
	expect_challenge(h, &k, ch + 1);
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_ESTABLISHED);
	/* a SYN carrying data: nothing of it is delivered */
	s = h_conn_seg(&k, S, "evil", 4);
	h_send_seg(h, &s);
	expect_challenge(h, &k, ch + 2);
	char buf[8];
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -EAGAIN);
	finish_abort(h, &k, ls);
}

static void test_bad_ack(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_seg s;
	struct h_pkt p;
	char buf[16];

	/* 1000 bytes in flight */
	static char out[1000];
	CHECK(mtcp_write(h->mctx, k.sock, out, sizeof(out)) == sizeof(out));
	h_run(h);
	h_recv_tcp(h, &p);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t una = t->snd_una;
	/* ACK of data never sent (beyond SND.NXT): ACK back, drop, data lost */
	uint64_t bad = h_drops(h, DROP_tcp_bad_ack);
	s = h_conn_seg(&k, A, "abc", 3);
	s.ack = una + 1000 + 1;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, una + 1000, k.snd_nxt, 0);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_bad_ack), bad + 1);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -EAGAIN);
	CHECK(t->snd_una == una);
	/* older than SND.UNA - MAX.SND.WND (8 MiB here): challenge ACK */
	uint64_t ch = h->c->cnt.challenge_acks;
	s.ack = una - (65535u << 7) - 10;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, una + 1000, k.snd_nxt, 0);
	CHECK_EQ_U64(h->c->cnt.challenge_acks, ch + 1);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_bad_ack), bad + 2);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -EAGAIN);
	/* old but within the window: acceptable, the data is delivered */
	s.ack = una - 100;
	h_send_seg(h, &s);
	k.snd_nxt += 3;
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 3 && memcmp(buf, "abc", 3) == 0);
	/* an ACK without the ACK flag does nothing either */
	s = h_conn_seg(&k, 0, NULL, 0);
	s.ack = una + 1000;
	uint64_t flags = h_drops(h, DROP_tcp_bad_flags);
	h_send_seg(h, &s);
	CHECK(t->snd_una == una);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_bad_flags), flags + 1);
	/* the real ACK */
	k.rcv_nxt = una + 1000;
	h_peer_ack(h, &k);
	CHECK(t->snd_una == una + 1000);
	h_advance(h, DELACK_US);
	h_drain(h);
	finish_abort(h, &k, ls);
}

static void test_paws(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_seg s;
	struct h_pkt p;
	char buf[16];
	struct tcb *t = h_tcb(h, k.sock);

	k.ts_val = 10000;
	h_peer_send(h, &k, "new", 3);
	CHECK_EQ_U64(t->ts_recent, 10000);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 3);
	/* an older TSval: dropped as an old duplicate, ACKed at once */
	uint64_t old = h_drops(h, DROP_tcp_old_dup);
	h_drain(h);
	s = h_conn_seg(&k, A | P, "old", 3);
	s.opts.tsval = 9999;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK(p.opts.tsecr == 10000);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_old_dup), old + 1);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -EAGAIN);
	CHECK_EQ_U64(t->ts_recent, 10000);
	/* equal TSval: accepted */
	s.opts.tsval = 10000;
	h_send_seg(h, &s);
	k.snd_nxt += 3;
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 3);
	/* wrapped: 0x80000000 ahead of TS.Recent counts as older */
	s = h_conn_seg(&k, A | P, "wrp", 3);
	s.opts.tsval = 10000 + 0x80000001u;
	h_send_seg(h, &s);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_old_dup), old + 2);
	h_drain(h);
	/* TS.Recent idle for more than 24 days is invalid (RFC 7323 5.5):
	 * the old TSval passes, and becomes TS.Recent */
	t->ts_recent_us = h->now - 25ull * 24 * 3600 * 1000000;
	s = h_conn_seg(&k, A | P, "late", 4);
	s.opts.tsval = 9000;
	h_send_seg(h, &s);
	k.snd_nxt += 4;
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_old_dup), old + 2);
	CHECK_EQ_U64(t->ts_recent, 9000);
	h_advance(h, DELACK_US);
	h_drain(h);
	/* a RST with an old TSval still resets (RFC 7323 5.3) */
	s = h_conn_seg(&k, R, NULL, 0);
	s.opts.tsval = 1;
	h_send_seg(h, &s);
	CHECK(tcb_state(t) == TCPS_CLOSED);
	CHECK_EQ_U64(h->c->cnt.conn_reset_rcvd, 1);
	finish_reset(h, &k, ls);
}

/* Sends n in-window, inexact RSTs; returns the challenge ACKs sent. */
static uint32_t rst_burst(struct h_stack *h, struct h_conn *k, int n)
{
	struct h_seg s = h_conn_seg(k, R, NULL, 0);
	struct h_pkt p;
	uint32_t acks = 0;

	for (int i = 0; i < n; i++) {
		s.seq = k->snd_nxt + 1 + (uint32_t)i;
		h_send_seg(h, &s);
		while (h_recv(h, &p)) {
			h_check_seg(&p, k, A, k->rcv_nxt, k->snd_nxt, 0);
			acks++;
		}
	}
	return acks;
}

/* RFC 5961 section 7: challenge ACKs are limited per second (config
 * tcp_challenge_ack_limit; each second's budget is drawn between half and
 * 1.5 times it); what is over is counted, the connection lives on, and the
 * next second has a new budget. */
static void test_challenge_ack_limit(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	int lim = h_conf()->tcp_challenge_ack_limit;

	CHECK_EQ_U64(lim, 1000); /* the default, Linux's */
	h_conf()->tcp_challenge_ack_limit = 10;
	h_advance(h, 1000000 - h->now % 1000000); /* the start of a second */
	uint32_t first = rst_burst(h, &k, 100);
	CHECK_MSG(first >= 5 && first < 15, "%u challenge ACKs in a second", first);
	CHECK_EQ_U64(h->c->cnt.challenge_acks_limited, 100 - first);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_rst_challenged), 100); /* each RST counted */
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_ESTABLISHED);
	h_advance(h, 1000000);
	uint32_t second = rst_burst(h, &k, 100);
	CHECK(second >= 5 && second < 15);
	CHECK_EQ_U64(h->c->cnt.challenge_acks, first + second);
	h_conf()->tcp_challenge_ack_limit = lim;
	finish_abort(h, &k, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_rst,
		test_syn_in_synchronized,
		test_bad_ack,
		test_paws,
		test_challenge_ack_limit,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
