/*
 * test_tcp_close.c - the end of connections through the whole stack
 * (stack_harness.h), RFC 9293 3.6 and 3.10.7.4's FIN handling in every
 * state: passive close (CLOSE_WAIT, data still sent, LAST_ACK, our FIN
 * retransmitted), active close (FIN_WAIT_1/2), FIN+ACK in FIN_WAIT_1,
 * simultaneous close (CLOSING), half-close with mtcp_shutdown(SHUT_WR)
 * while the peer keeps sending, a FIN that arrives out of order, a FIN in
 * SYN_RCVD, TIME_WAIT (tcp_timewait: the FIN retransmission re-ACKed and
 * 2MSL restarted, a new SYN reusing the 4-tuple, a close in TIME_WAIT that
 * a shorter tcp_timeout does not cut short), the idle timeout
 * (tcp_timeout) for live and orphaned connections, also across a clock
 * jump of many timer-wheel turns, and close with unread
 * data (RST, RFC 2525 2.17).
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rcvbuf.h"
#include "tcp/rtt.h"
#include "tcp/sacksnd.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN
#define P TCP_FLAG_PSH

/* The connection every test here starts from (stack_harness.h). */
static struct h_stack *open_conn(struct h_conn *k, int *ls)
{
	return h_open_conn(k, ls);
}

static void end(struct h_stack *h, int ls)
{
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

static int state(struct h_stack *h, struct h_conn *k)
{
	return tcb_state(h_tcb(h, k->sock));
}

/* The stack's next segment: an exact check. */
static void expect(struct h_stack *h, struct h_conn *k, uint8_t flags, uint32_t len)
{
	struct h_pkt p;

	h_recv_tcp(h, &p);
	h_check_seg(&p, k, flags, k->rcv_nxt, k->snd_nxt, len);
	h_conn_absorb(k, &p);
}

/* The application closes and the stack's FIN goes out. */
static void close_sends_fin(struct h_stack *h, struct h_conn *k)
{
	CHECK(mtcp_close(h->mctx, k->sock) == 0);
	h_run(h);
	expect(h, k, F | A, 0);
}

static void test_passive_close(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	char buf[16];

	h_peer_send(h, &k, "last", 4);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0); /* the FIN is ACKed at once */
	CHECK(state(h, &k) == TCPS_CLOSE_WAIT);
	uint32_t ev = h_events(h, k.sock);
	CHECK((ev & (MTCP_EPOLLIN | MTCP_EPOLLRDHUP | MTCP_EPOLLOUT)) ==
	      (MTCP_EPOLLIN | MTCP_EPOLLRDHUP | MTCP_EPOLLOUT));
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 4);
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == 0);
	/* the peer's FIN again (our ACK was lost): ACKed again, nothing else */
	k.snd_nxt -= 1;
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	h_expect_none(h);
	CHECK(state(h, &k) == TCPS_CLOSE_WAIT);
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == 0);
	/* CLOSE_WAIT still sends */
	CHECK(mtcp_write(h->mctx, k.sock, "reply", 5) == 5);
	h_run(h);
	expect(h, &k, A | P, 5);
	h_peer_ack(h, &k);
	h_expect_none(h);
	struct tcb *t = h_tcb(h, k.sock);
	close_sends_fin(h, &k);
	CHECK(tcb_state(t) == TCPS_LAST_ACK);
	/* our FIN is lost: retransmitted on the RTO */
	uint64_t t0 = h->now;
	struct h_pkt p;
	CHECK(h_run_timer(h, 10000000) > t0);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (F | A) && p.seq == k.rcv_nxt - 1 && p.ack == k.snd_nxt);
	h_peer_ack(h, &k);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.conn_closed, 1);
	end(h, ls);
}

static void test_active_close_fin_ack_together(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);

	close_sends_fin(h, &k);
	/* the peer ACKs our FIN and sends its own in one segment */
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	CHECK_EQ_U64(h->c->cnt.conn_closed, 1); /* TIME_WAIT of 0 s */
	end(h, ls);
}

static void test_simultaneous_close(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	int tw = h_conf()->tcp_timewait;

	h_conf()->tcp_timewait = 1;
	CHECK(mtcp_shutdown(h->mctx, k.sock, SHUT_WR) == 0);
	h_run(h);
	struct h_pkt ours;
	h_recv_tcp(h, &ours);
	CHECK(ours.flags == (F | A));
	CHECK(tcb_state(t) == TCPS_FIN_WAIT_1);
	/* the peer's FIN crosses ours: it does not ACK our FIN */
	h_peer_fin(h, &k);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, ours.seq + 1, k.snd_nxt, 0);
	CHECK(tcb_state(t) == TCPS_CLOSING);
	/* now it ACKs ours: TIME_WAIT */
	h_conn_absorb(&k, &ours);
	h_peer_ack(h, &k);
	/* entering TIME_WAIT repeats the ACK of the peer's FIN (harmless) */
	if (h_recv(h, &p))
		h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	h_expect_none(h);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	h_advance(h, 999000);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	h_advance(h, 1000);
	h_expect_none(h);
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

/* TIME_WAIT: a retransmission of the peer's FIN is ACKed again and
 * restarts the 2MSL timer (RFC 9293 3.10.7.4, TIME-WAIT). */
static void test_time_wait_fin_retransmit(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	int tw = h_conf()->tcp_timewait;

	h_conf()->tcp_timewait = 2;
	close_sends_fin(h, &k);
	h_peer_ack(h, &k);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	uint64_t entered = h->now;
	CHECK_EQ_U64(t->timer_at[TT_TIMEWAIT], entered + 2000000);
	/* 1.5 s later our ACK is "lost": the FIN comes again */
	h_advance(h, 1500000);
	k.snd_nxt -= 1;
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	CHECK_EQ_U64(t->timer_at[TT_TIMEWAIT], entered + 1500000 + 2000000);
	h_advance(h, 1000000); /* 2.5 s after entering: still waiting */
	CHECK(tcb_state(t) == TCPS_TIME_WAIT && !t->in_pool);
	h_advance(h, 1000000);
	CHECK(t->in_pool);
	h_expect_none(h);
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

/* A new SYN with a higher sequence number may take over a TIME_WAIT
 * 4-tuple (RFC 9293 3.10.7.4 note, RFC 6191). */
static void test_time_wait_reuse(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	int tw = h_conf()->tcp_timewait;

	h_conf()->tcp_timewait = 60;
	close_sends_fin(h, &k);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	struct tcb *old = h_tcb(h, k.sock);
	(void)old;
	CHECK_EQ_U64(h->c->tcbs_used, 1);
	struct h_conn k2 = k;
	k2.peer_iss = k.snd_nxt + 100000;
	k2.snd_nxt = k2.peer_iss;
	int s2 = h_passive_open(h, ls, &k2);
	CHECK(s2 >= 0 && h->c->tcbs_used == 1);
	CHECK(mtcp_abort(h->mctx, s2) == 0);
	h_run(h);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

/* The stack closes first and the peer's FIN ends it: TIME_WAIT for the
 * tcp_timewait the test set. Returns the TCB. */
static struct tcb *into_time_wait(struct h_stack *h, struct h_conn *k)
{
	struct tcb *t = h_tcb(h, k->sock);

	close_sends_fin(h, k);
	h_peer_fin(h, k);
	expect(h, k, A, 0);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	return t;
}

/* RFC 9293 3.3.2: TIME-WAIT lasts 2*MSL by default (tcp_timewait 60 s);
 * the TCB stays in use until then, and goes back to the pool after. */
static void test_time_wait_default(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	int tw = h_conf()->tcp_timewait;

	struct aatcp_config d;
	config_defaults(&d);
	CHECK_EQ_U64(d.tcp_timewait, 60);
	h_conf()->tcp_timewait = d.tcp_timewait;
	struct tcb *t = into_time_wait(h, &k);
	CHECK_EQ_U64(t->timer_at[TT_TIMEWAIT], h->now + 60000000);
	h_advance(h, 59999000);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT && h->c->tcbs_used == 1);
	while (h->c->tcbs_used)
		CHECK(h_run_timer(h, 100000000));
	CHECK(h->now - H_T0_US >= 60000000);
	h_expect_none(h);
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

/* The application closes a socket whose connection already reached
 * TIME_WAIT (it shut down writing, the peer ACKed and closed): the 2 MSL
 * timer alone ends it, silently; tcp_timeout (shorter here) neither aborts
 * it nor sends a RST (RFC 9293 3.10.7.4, TIME-WAIT). */
static void test_time_wait_outlives_tcp_timeout(void)
{
	struct h_conn k;
	int ls;
	int tw = h_conf()->tcp_timewait, idle = h_conf()->tcp_timeout;

	h_conf()->tcp_timewait = 60;
	h_conf()->tcp_timeout = 5;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	CHECK(mtcp_shutdown(h->mctx, k.sock, SHUT_WR) == 0);
	h_run(h);
	expect(h, &k, F | A, 0);
	h_peer_ack(h, &k);
	CHECK(tcb_state(t) == TCPS_FIN_WAIT_2);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT);
	uint64_t t0 = h->now;
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	while (h->c->tcbs_used)
		CHECK(h_run_timer(h, 100000000));
	CHECK(h->now - t0 >= 60000000);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 0);
	CHECK_EQ_U64(h->c->cnt.rst_sent, 0);
	h_conf()->tcp_timewait = tw;
	h_conf()->tcp_timeout = idle;
	end(h, ls);
}

/* Reading what came before the peer's FIN sends no window update: the
 * peer sends no more data (RFC 9293 3.10.7.4), and in TIME-WAIT it may be
 * closed already and answer with a RST (which would also reset a splice's
 * other side). In CLOSE-WAIT and in TIME-WAIT. */
static void test_no_window_update_after_fin(void)
{
	static char data[3 * 1400], got[sizeof(data)];
	int timewait = h_conf()->tcp_timewait;

	h_conf()->tcp_timewait = 60;
	for (int tw = 0; tw < 2; tw++) {
		struct h_conn k;
		int ls;
		struct h_stack *h = open_conn(&k, &ls);

		if (tw) {
			CHECK(mtcp_shutdown(h->mctx, k.sock, SHUT_WR) == 0);
			h_run(h);
			expect(h, &k, F | A, 0);
			h_peer_ack(h, &k);
		}
		for (int i = 0; i < 3; i++)
			h_peer_send(h, &k, data + i * 1400, 1400);
		h_peer_fin(h, &k);
		h_run(h);
		h_drain(h);
		CHECK(state(h, &k) == (tw ? TCPS_TIME_WAIT : TCPS_CLOSE_WAIT));
		uint64_t updates = h->c->cnt.window_updates;
		CHECK(mtcp_read(h->mctx, k.sock, got, sizeof(got)) == (ssize_t)sizeof(got));
		h_run(h);
		h_expect_none(h);
		CHECK_EQ_U64(h->c->cnt.window_updates, updates);
		CHECK(mtcp_close(h->mctx, k.sock) == 0);
		h_run(h);
		if (!tw) { /* LAST-ACK: our FIN, its ACK */
			expect(h, &k, F | A, 0);
			h_peer_ack(h, &k);
		}
		while (h->c->tcbs_used) /* TIME-WAIT: its 2 MSL */
			CHECK(h_run_timer(h, 100000000));
		h_expect_none(h);
		end(h, ls);
	}
	h_conf()->tcp_timewait = timewait;
}

/* RFC 6191 section 2: with timestamps, a SYN for a 4-tuple in TIME_WAIT
 * is honoured when its TSval is newer than the last seen, whatever its
 * sequence number; an older TSval is refused even with a higher sequence
 * number (the SYN is answered with an ACK, RFC 5961 4.2). */
static void test_time_wait_rfc6191(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	int tw = h_conf()->tcp_timewait;
	struct h_pkt p;

	h_conf()->tcp_timewait = 60;
	k.ts_val = 9000;
	struct tcb *t = into_time_wait(h, &k);
	CHECK_EQ_U64(t->ts_recent, 9000);
	/* an older TSval, a higher sequence number: refused */
	struct h_conn k2 = k;
	k2.ts_val = 8000;
	k2.peer_iss = k.snd_nxt + 100000;
	struct h_seg s = h_conn_seg(&k2, S, NULL, 0);
	s.seq = k2.peer_iss;
	s.opts.tsval = 8000;
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK(tcb_state(t) == TCPS_TIME_WAIT && h->c->tcbs_used == 1);
	/* a newer TSval, a lower sequence number: the new incarnation */
	struct h_conn k3 = k;
	k3.ts_val = 10000;
	k3.peer_iss = k.snd_nxt - 100000;
	int s3 = h_passive_open(h, ls, &k3);
	CHECK(s3 >= 0 && h->c->tcbs_used == 1);
	CHECK(mtcp_abort(h->mctx, s3) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

/* No TCB left: the TIME_WAIT connection closest to its end gives way to a
 * new connection (counted), instead of the new one getting a cookie it
 * cannot use. */
static void test_time_wait_recycled(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	int tw = h_conf()->tcp_timewait;

	h_conf()->tcp_timewait = 60;
	struct tcb *t = into_time_wait(h, &k);
	struct tcb *pool = h->c->tcb_free;
	h->c->tcb_free = NULL; /* every other TCB in use */
	struct h_conn k2 = h_conn_default(80);
	k2.pport = 50123;
	int s2 = h_passive_open(h, ls, &k2);
	CHECK(h_tcb(h, s2) == t);
	CHECK_EQ_U64(h->c->cnt.timewait_recycled, 1);
	CHECK_EQ_U64(h->c->cnt.syncookies_sent, 0);
	h->c->tcb_free = pool;
	CHECK(mtcp_abort(h->mctx, s2) == 0);
	h_run(h);
	h_drain(h);
	h_conf()->tcp_timewait = tw;
	end(h, ls);
}

static void test_half_close(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	static char data[3000], got[3000];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i ^ 0x5a);
	CHECK(mtcp_write(h->mctx, k.sock, "req", 3) == 3);
	CHECK(mtcp_shutdown(h->mctx, k.sock, SHUT_WR) == 0);
	h_run(h);
	expect(h, &k, A | P, 3);
	expect(h, &k, F | A, 0);
	CHECK(mtcp_write(h->mctx, k.sock, "more", 4) == -1 && errno == EPIPE);
	h_peer_ack(h, &k);
	CHECK(state(h, &k) == TCPS_FIN_WAIT_2);
	/* the peer keeps sending: delivered and ACKed as usual */
	h_peer_send(h, &k, data, 1448);
	h_peer_send(h, &k, data + 1448, 1448);
	expect(h, &k, A, 0);
	h_peer_send(h, &k, data + 2896, 104);
	CHECK(h_read(h, k.sock, got, sizeof(got)) == 3000);
	CHECK(memcmp(got, data, sizeof(data)) == 0);
	CHECK(state(h, &k) == TCPS_FIN_WAIT_2);
	h_advance(h, DELACK_US);
	expect(h, &k, A, 0);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	CHECK(mtcp_read(h->mctx, k.sock, got, sizeof(got)) == 0);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	end(h, ls);
}

/* The FIN arrives before the data in front of it. */
static void test_fin_out_of_order(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	char got[300];
	uint32_t base = k.snd_nxt;

	k.snd_nxt = base + 100;
	struct h_seg s = h_conn_seg(&k, A | F, "tail", 4);
	h_send_seg(h, &s);
	k.snd_nxt = base;
	expect(h, &k, A, 0); /* duplicate ACK for the hole */
	CHECK(state(h, &k) == TCPS_ESTABLISHED);
	static char head[100];
	memset(head, 'h', sizeof(head));
	h_peer_send(h, &k, head, 100);
	/* the hole is filled: ACK covers the data and the FIN */
	k.snd_nxt = base + 105;
	expect(h, &k, A, 0);
	CHECK(state(h, &k) == TCPS_CLOSE_WAIT);
	CHECK(h_read(h, k.sock, got, sizeof(got)) == 104);
	CHECK(memcmp(got + 100, "tail", 4) == 0);
	CHECK(mtcp_read(h->mctx, k.sock, got, sizeof(got)) == 0);
	close_sends_fin(h, &k);
	h_peer_ack(h, &k);
	end(h, ls);
}

/* ACK and FIN in the segment that completes the handshake. */
static void test_fin_in_syn_rcvd(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;

	h_peer_syn(h, &k, &p);
	h_peer_fin(h, &k);
	expect(h, &k, A, 0);
	int s = mtcp_accept(h->mctx, ls, NULL, NULL);
	CHECK(s >= 0);
	k.sock = s;
	CHECK(state(h, &k) == TCPS_CLOSE_WAIT);
	char buf[4];
	CHECK(mtcp_read(h->mctx, s, buf, sizeof(buf)) == 0);
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_run(h);
	expect(h, &k, F | A, 0);
	h_peer_ack(h, &k);
	end(h, ls);
}

static void test_close_with_unread_data(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);

	h_peer_send(h, &k, "unread", 6);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	h_run(h);
	/* RST, not FIN: the peer learns its data was not consumed */
	struct h_pkt p;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, R | A, k.rcv_nxt, k.snd_nxt, 0);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.rst_sent, 1);
	/* anything later gets a RST from CLOSED (RFC 9293 3.10.7.1) */
	h_peer_send(h, &k, "more", 4);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == k.rcv_nxt);
	end(h, ls);
}

/* A connection's receive and send buffers and SACK scoreboard outlive it
 * in the core's cache (tcp/bufcache.h) and the next connection gets them
 * empty: what the old one left (unread bytes, an out-of-order range,
 * unacknowledged sends) is gone, and the new one's bytes arrive as sent. */
static void test_buffers_reused_empty(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	struct rcvbuf *rb = t->rb;
	struct sndbuf *sb = t->sb;
	char got[64];

	h_peer_send(h, &k, "unread", 6);
	uint32_t next = k.snd_nxt;
	k.snd_nxt = next + 50; /* a range after a hole */
	struct h_seg s = h_conn_seg(&k, A, "later", 5);
	h_send_seg(h, &s);
	k.snd_nxt = next;
	CHECK(rb->n_ooo == 1);
	CHECK(mtcp_write(h->mctx, k.sock, "unacked", 7) == 7);
	h_run(h);
	h_drain(h);
	struct scoreboard *sbd = t->sbd; /* SACK-permitted: made at the first send */
	CHECK(sbd && sbd->n == 1);
	CHECK(mtcp_close(h->mctx, k.sock) == 0); /* unread data: RST */
	h_run(h);
	h_drain(h);
	CHECK_EQ_U64(h->c->tcbs_used, 0);

	struct h_conn k2 = h_conn_default(80);
	k2.pport = k.pport + 1;
	int s2 = h_passive_open(h, ls, &k2);
	CHECK(s2 >= 0);
	struct tcb *t2 = h_tcb(h, s2);
	CHECK(t2->rb == rb && t2->sb == sb);
	CHECK(rb->head == 0 && rb->tail == 0 && rb->n_ooo == 0);
	CHECK(sb->head == sb->tail);
	h_peer_send(h, &k2, "fresh", 5);
	CHECK(h_read(h, s2, got, sizeof(got)) == 5);
	CHECK(memcmp(got, "fresh", 5) == 0);
	CHECK(mtcp_write(h->mctx, s2, "reply", 5) == 5);
	h_run(h);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	CHECK(p.len == 5 && memcmp(p.payload, "reply", 5) == 0);
	/* the scoreboard came back from the cache with only the new record */
	CHECK(t2->sbd == sbd && sbd->head == 0 && sbd->n == 1 && sbd->sacked_segs == 0);
	CHECK(sbd->seg[0].seq == p.seq && sbd->seg[0].end == p.seq + 5);
	h_abort_and_close(h, &k2, ls);
}

/* RFC 1122 4.2.2.13: data that arrives after the application closed
 * (nobody will read it) is answered with a RST, not taken into a window
 * nobody drains; a half-closed socket (test_half_close) still reads. */
static void test_data_after_close(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);

	close_sends_fin(h, &k);
	h_peer_ack(h, &k); /* FIN_WAIT_2, an orphan */
	h_expect_none(h);
	h_peer_send(h, &k, "late", 4);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	CHECK(p.flags & R);
	CHECK(p.seq == k.rcv_nxt);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.drops[DROP_tcp_data_after_close], 1);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	CHECK_EQ_U64(atomic_load(&h->c->orphans), 0);
	end(h, ls);
}

static void test_idle_timeout(void)
{
	struct h_conn k;
	int ls;
	int idle = h_conf()->tcp_timeout;

	h_conf()->tcp_timeout = 5;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint64_t t0 = h->now;

	/* traffic at 3 s moves the deadline to 8 s */
	h_advance(h, 3000000);
	h_peer_send(h, &k, "x", 1);
	char c;
	CHECK(h_read(h, k.sock, &c, 1) == 1);
	h_advance(h, DELACK_US);
	expect(h, &k, A, 0);
	h->now = t0 + 7999000;
	h_run(h);
	CHECK(tcb_state(t) == TCPS_ESTABLISHED);
	h_expect_none(h);
	h->now = t0 + 8000000;
	h_run(h);
	/* silent for tcp_timeout: RST and ETIMEDOUT */
	struct h_pkt p;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, R | A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK(tcb_state(t) == TCPS_CLOSED);
	CHECK(mtcp_read(h->mctx, k.sock, &c, 1) == -1 && errno == ETIMEDOUT);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	h_conf()->tcp_timeout = idle;
	end(h, ls);
}

/* The timer wheel visits only the milliseconds that hold a TCB
 * (tcp/timer.c): after a clock jump of more than a turn (4.096 s) a
 * deadline whose slot came round early has not fired, and each deadline
 * fires in the iteration that passes it, in order. */
static void test_idle_timeout_clock_jump(void)
{
	struct h_conn k, k2;
	int ls;
	int idle = h_conf()->tcp_timeout;

	h_conf()->tcp_timeout = 5;
	struct h_stack *h = open_conn(&k, &ls);
	uint64_t t0 = h->now;
	h->now = t0 + 1500000;
	k2 = h_conn_default(80);
	k2.pport = 50001;
	h_passive_open(h, ls, &k2);
	h->now = t0 + 4999000;
	h_run(h);
	CHECK(state(h, &k) == TCPS_ESTABLISHED && state(h, &k2) == TCPS_ESTABLISHED);
	h_expect_none(h);
	h->now = t0 + 6000000; /* past the first deadline (5 s), not the second (6.5 s) */
	h_run(h);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, R | A, k.rcv_nxt, k.snd_nxt, 0);
	h_expect_none(h);
	CHECK(state(h, &k) == TCPS_CLOSED && state(h, &k2) == TCPS_ESTABLISHED);
	h->now = t0 + 60000000;
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k2, R | A, k2.rcv_nxt, k2.snd_nxt, 0);
	CHECK(state(h, &k2) == TCPS_CLOSED);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, k2.sock) == 0);
	h_conf()->tcp_timeout = idle;
	end(h, ls);
}

/* A closed connection stuck in FIN_WAIT_2 (the peer never closes) is
 * reclaimed by the idle timeout. */
static void test_orphan_fin_wait_2(void)
{
	struct h_conn k;
	int ls;
	int idle = h_conf()->tcp_timeout;

	h_conf()->tcp_timeout = 5;
	struct h_stack *h = open_conn(&k, &ls);
	close_sends_fin(h, &k);
	h_peer_ack(h, &k);
	h_expect_none(h);
	CHECK_EQ_U64(atomic_load(&h->c->orphans), 1);
	CHECK_EQ_U64(h->c->tcbs_used, 1);
	uint64_t t0 = h->now;
	while (h->c->tcbs_used && h->now < t0 + 10000000)
		CHECK(h_run_timer(h, 10000000));
	CHECK_EQ_U64(h->c->tcbs_used, 0);
	CHECK(h->now <= t0 + 5000000);
	CHECK_EQ_U64(atomic_load(&h->c->orphans), 0);
	h_drain(h); /* its RST */
	h_conf()->tcp_timeout = idle;
	end(h, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_passive_close,
		test_active_close_fin_ack_together,
		test_simultaneous_close,
		test_time_wait_fin_retransmit,
		test_time_wait_reuse,
		test_time_wait_default,
		test_time_wait_outlives_tcp_timeout,
		test_no_window_update_after_fin,
		test_time_wait_rfc6191,
		test_time_wait_recycled,
		test_half_close,
		test_fin_out_of_order,
		test_fin_in_syn_rcvd,
		test_close_with_unread_data, test_buffers_reused_empty,
		test_data_after_close,
		test_idle_timeout,
		test_idle_timeout_clock_jump,
		test_orphan_fin_wait_2,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
