/*
 * test_tcp_loss.c - loss recovery through the whole stack
 * (stack_harness.h):
 *   - RTO (RFC 6298): the initial 1 s, a sample setting it (floor 200 ms),
 *     exponential backoff capped at 60 s, the same bytes retransmitted, and
 *     ETIMEDOUT with a RST after the retry limit;
 *   - fast retransmit on the third duplicate ACK and NewReno's fast
 *     recovery (RFC 5681 3.2, RFC 6582): ssthresh, window inflation by
 *     further duplicates, a partial ACK retransmitting the next hole at
 *     once, the full ACK deflating the window;
 *   - SACK recovery (RFC 6675) with RACK as the loss detector.
 * The fast-recovery tests run with `tcp_congestion = reno` (ssthresh =
 * flight / 2); test_tcp_cc.c has CUBIC's numbers.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rtt.h"
#include "tcp/sacksnd.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH
#define MSS 1448

static uint8_t out[64 * 1024];

/* h_open_conn(), and out[] filled with the data the tests send. */
static struct h_stack *open_conn(struct h_conn *k, int *ls)
{
	struct h_stack *h = h_open_conn(k, ls);

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 31 + 7);
	return h;
}

/* open_conn() with a peer that does not offer SACK: NewReno. */
static struct h_stack *open_conn_nosack(struct h_conn *k, int *ls)
{
	struct h_stack *h = h_open();

	*ls = h_listen(h, 80, 16);
	*k = h_conn_default(80);
	k->offer_sack = false;
	h_passive_open(h, *ls, k);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 31 + 7);
	return h;
}

static void finish_abort(struct h_stack *h, struct h_conn *k, int ls)
{
	struct h_pkt p;

	CHECK(mtcp_abort(h->mctx, k->sock) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

/* A data segment of k at offset off (from the stack's first data byte). */
static void expect_data(struct h_stack *h, struct h_conn *k, uint32_t off, uint32_t len)
{
	struct h_pkt p;

	h_expect_data(h, k, out, off, len, &p);
	CHECK(p.ack == k->snd_nxt);
}

/* RFC 9293 3.8.3: `retries` retransmissions of unacknowledged data, each
 * after twice the last RTO (RFC 6298 5.5), then R2 is reached: RST,
 * ETIMEDOUT to the application, counter conn_timedout. */
static void rto_backoff_timeout(int retries)
{
	struct h_conn k;
	int ls;
	/* no idle timeout: the retries (minutes) outlast tcp_timeout's 30 s */
	int idle = h_conf()->tcp_timeout;
	int saved = h_conf()->tcp_retries;
	h_conf()->tcp_timeout = -1;
	h_conf()->tcp_retries = retries;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	struct h_pkt p;

	/* one RTT sample of 50 ms: RTO = 50 + 4 * 25 = 150 ms, floor 200 ms */
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 100) == 100);
	h_run(h);
	expect_data(h, &k, 0, 100);
	CHECK_EQ_U64(t->timer_at[TT_RTO], h->now + RTO_INITIAL_US);
	h_advance(h, 50000);
	k.rcv_nxt += 100;
	h_peer_ack(h, &k);
	CHECK_EQ_U64(t->srtt, 50000);
	CHECK_EQ_U64(t->rttvar, 25000);
	CHECK_EQ_U64(t->rto, RTO_MIN_US);
	CHECK(t->timer_at[TT_RTO] == 0);

	/* now 1000 bytes that are never acknowledged */
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out + 100, 1000) == 1000);
	h_run(h);
	uint64_t sent = h->now;
	h_recv_tcp(h, &p);
	CHECK(p.len == 1000);
	uint64_t at = sent + RTO_MIN_US, gap = RTO_MIN_US;
	for (int i = 1; i <= retries; i++) {
		CHECK_EQ_U64(h_run_timer(h, 100000000), at);
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 1000);
		CHECK(memcmp(p.payload, out + 100, 1000) == 0);
		h_expect_none(h);
		CHECK_EQ_U64(h->c->cnt.retransmits, (uint64_t)i);
		CHECK_EQ_U64(h->c->cnt.rto_expired, (uint64_t)i);
		/* cwnd = 1 MSS; ssthresh from the window at the first
		 * expiry, CUBIC's initial window * 0.7 (RFC 9438 4.8), held
		 * at the next ones (RFC 5681 3.1) */
		CHECK_EQ_U64(t->cwnd, MSS);
		CHECK_EQ_U64(t->ssthresh, 7 * MSS);
		gap = gap * 2 > RTO_MAX_US ? RTO_MAX_US : gap * 2;
		at += gap;
		CHECK_EQ_U64(t->timer_at[TT_RTO], at);
	}
	/* the next expiry gives up: RST, ETIMEDOUT */
	CHECK_EQ_U64(h_run_timer(h, 100000000), at);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, R | A, k.rcv_nxt + 1000, k.snd_nxt, 0);
	h_expect_none(h);
	CHECK(tcb_state(t) == TCPS_CLOSED);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 1);
	char buf[8];
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == -1 && errno == ETIMEDOUT);
	CHECK(h_events(h, k.sock) & MTCP_EPOLLERR);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
	h_conf()->tcp_timeout = idle;
	h_conf()->tcp_retries = saved;
}

/* the default R2: 15 (Linux's tcp_retries2), about 9 minutes */
static void test_rto_backoff_timeout(void)
{
	rto_backoff_timeout(h_conf()->tcp_retries);
}

/* a short one from the configuration (`tcp_retries = 3`): 0.2 + 0.4 + 0.8
 * + 1.6 s after the first transmission the connection is aborted */
static void test_rto_retries_configured(void)
{
	rto_backoff_timeout(3);
}

/* An ACK acknowledging new data ends the backoff (RFC 6298 5.7). */
static void test_rto_ack_resets_backoff(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);

	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 2 * MSS) == 2 * MSS);
	h_run(h);
	expect_data(h, &k, 0, MSS);
	expect_data(h, &k, MSS, MSS);
	uint64_t t0 = h->now;
	CHECK_EQ_U64(h_run_timer(h, 10000000), t0 + RTO_INITIAL_US);
	expect_data(h, &k, 0, MSS); /* cwnd is one segment now */
	h_expect_none(h);
	CHECK_EQ_U64(h_run_timer(h, 10000000), t0 + 3 * RTO_INITIAL_US);
	expect_data(h, &k, 0, MSS);
	CHECK(t->rto_backoff == 2);
	/* the first segment is ACKed at once: the sample comes from the
	 * echo of its retransmission's timestamp (RFC 7323 4.1; Karn's rule
	 * leaves the timed segment none), below the 1 ms tick: 0.5 ms; the
	 * backoff is over, the timer restarts with the new RTO (its floor),
	 * the second segment goes again */
	k.rcv_nxt += MSS;
	h_peer_ack(h, &k);
	CHECK(t->rto_backoff == 0 && t->srtt == 500);
	CHECK_EQ_U64(t->timer_at[TT_RTO], h->now + RTO_MIN_US);
	expect_data(h, &k, MSS, MSS);
	h_expect_none(h);
	k.rcv_nxt += MSS;
	h_peer_ack(h, &k);
	CHECK(t->timer_at[TT_RTO] == 0);
	h_expect_none(h);
	finish_abort(h, &k, ls);
}

static void dupack(struct h_stack *h, struct h_conn *k, uint32_t ack)
{
	struct h_seg s = h_conn_seg(k, A, NULL, 0);

	s.ack = ack;
	h_send_seg(h, &s);
}

/* A duplicate ACK carrying SACK blocks [l, r) in segments (RFC 2018). */
static void sack_dupack(struct h_stack *h, struct h_conn *k, uint32_t ack, int n,
			const uint32_t *l, const uint32_t *r)
{
	struct h_seg s = h_conn_seg(k, A, NULL, 0);

	s.ack = ack;
	s.opts.n_sack = n;
	for (int i = 0; i < n; i++) {
		s.opts.sack_l[i] = ack + l[i] * MSS;
		s.opts.sack_r[i] = ack + r[i] * MSS;
	}
	h_send_seg(h, &s);
}

/* Two losses in one window with SACK (RFC 6675 section 5, RACK-TLP as the
 * detector, RFC 8985): RTT 10 ms, segments 0 and 4 lost. The first two
 * SACKs send new data (RFC 3042) and arm RACK's reordering timer; the
 * third SACKed segment makes segment 0 lost at once (DupThresh SACKed
 * above it: no reordering window) and recovery starts with cwnd = ssthresh
 * = half the flight. Segment 4 is lost as soon as segment 5 is SACKed, but
 * goes out only when cwnd - pipe allows a segment; then new data. */
static void test_sack_recovery(void)
{
	struct h_conn k;
	int ls;
	h_conf()->tcp_congestion = TCP_CC_RENO;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l1[] = {1}, r1[] = {2}, r2[] = {3}, r3[] = {4};
	uint32_t l4[] = {1, 5}, r4[] = {4, 6};

	CHECK(t->sack_ok);
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 20 * MSS) == 20 * MSS);
	h_run(h);
	for (uint32_t i = 0; i < 10; i++)
		expect_data(h, &k, i * MSS, MSS);
	CHECK(t->sbd && t->sbd->n == 10);
	h_advance(h, 10000);
	sack_dupack(h, &k, base, 1, l1, r1);
	expect_data(h, &k, 10 * MSS, MSS); /* limited transmit */
	CHECK(t->timer_at[TT_REO] != 0 && !t->in_recovery);
	CHECK_EQ_U64(t->rack_min_rtt, 10000);
	sack_dupack(h, &k, base, 1, l1, r2);
	expect_data(h, &k, 11 * MSS, MSS);
	sack_dupack(h, &k, base, 1, l1, r3);
	expect_data(h, &k, 0, MSS);        /* fast retransmit */
	h_expect_none(h);
	CHECK(t->in_recovery && t->sbd->sacked_segs == 3);
	CHECK_EQ_U64(t->ssthresh, 6 * MSS); /* flight (12) / 2 */
	CHECK_EQ_U64(t->cwnd, 6 * MSS);
	/* pipe: segment 0 (lost, retransmitted) and 4..11 */
	CHECK_EQ_U64(sacksnd_pipe(t), 9 * MSS);
	/* segment 5 SACKed: 4 is lost (RACK, and IsLost), pipe 7 > cwnd */
	sack_dupack(h, &k, base, 2, l4, r4);
	h_expect_none(h);
	CHECK_EQ_U64(sacksnd_pipe(t), 7 * MSS);
	r4[1] = 7;
	sack_dupack(h, &k, base, 2, l4, r4);
	h_expect_none(h);
	CHECK_EQ_U64(sacksnd_pipe(t), 6 * MSS);
	r4[1] = 8;
	sack_dupack(h, &k, base, 2, l4, r4);
	expect_data(h, &k, 4 * MSS, MSS);  /* NextSeg rule (1) */
	h_expect_none(h);
	CHECK_EQ_U64(sacksnd_pipe(t), 6 * MSS);
	r4[1] = 9;
	sack_dupack(h, &k, base, 2, l4, r4);
	expect_data(h, &k, 12 * MSS, MSS); /* rule (2): new data */
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	/* a duplicate that says nothing new is not counted (RFC 6675 2) */
	uint64_t before = h->c->cnt.dupacks_rcvd;
	sack_dupack(h, &k, base, 2, l4, r4);
	CHECK_EQ_U64(h->c->cnt.dupacks_rcvd, before);
	h_expect_none(h);
	/* everything up to segment 12 arrived: recovery is over, cwnd
	 * stays at ssthresh (RFC 6675), six segments go */
	dupack(h, &k, base + 13 * MSS);
	CHECK(!t->in_recovery);
	CHECK_EQ_U64(t->cwnd, 6 * MSS);
	for (uint32_t i = 13; i < 19; i++)
		expect_data(h, &k, i * MSS, MSS);
	h_drain(h);
	finish_abort(h, &k, ls);
	h_conf()->tcp_congestion = TCP_CC_CUBIC;
}

static void test_fast_retransmit_newreno(void)
{
	struct h_conn k;
	int ls;
	h_conf()->tcp_congestion = TCP_CC_RENO;
	struct h_stack *h = open_conn_nosack(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt; /* first data byte */

	/* 20 segments queued; the initial window sends ten */
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 20 * MSS) == 20 * MSS);
	h_run(h);
	CHECK_EQ_U64(t->cwnd, 10 * MSS);
	for (uint32_t i = 0; i < 10; i++)
		expect_data(h, &k, i * MSS, MSS);
	h_expect_none(h);
	/* segments 0 and 2 are lost: the peer ACKs nothing, three times.
	 * RFC 3042 limited transmit: each of the first two duplicates lets
	 * one new segment out, so a small window still gets its third */
	dupack(h, &k, base);
	expect_data(h, &k, 10 * MSS, MSS);
	h_expect_none(h);
	dupack(h, &k, base);
	expect_data(h, &k, 11 * MSS, MSS);
	h_expect_none(h);
	CHECK_EQ_U64(t->dupacks, 2);
	dupack(h, &k, base);
	/* third duplicate: segment 0 again at once */
	expect_data(h, &k, 0, MSS);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	CHECK(t->in_recovery && t->recover == base + 12 * MSS);
	CHECK_EQ_U64(t->ssthresh, 6 * MSS);           /* flight (12) / 2 */
	CHECK_EQ_U64(t->cwnd, 6 * MSS + 3 * MSS);     /* + 3 segments */
	/* more duplicates inflate the window by one segment each (step 4);
	 * once it exceeds the flight (12 segments), new data goes out */
	for (uint32_t i = 0; i < 3; i++) {
		dupack(h, &k, base);
		h_expect_none(h);
	}
	CHECK_EQ_U64(t->cwnd, 12 * MSS);
	dupack(h, &k, base);
	expect_data(h, &k, 12 * MSS, MSS);
	h_expect_none(h);
	dupack(h, &k, base);
	expect_data(h, &k, 13 * MSS, MSS);
	h_expect_none(h);
	CHECK_EQ_U64(t->cwnd, 14 * MSS);
	/* partial ACK (segments 0, 1 arrived; 2 is the next hole, step 5):
	 * segment 2 again at once; cwnd deflated by the 2 MSS acked, plus
	 * one; 13 allowed, 12 in flight: one new segment too */
	dupack(h, &k, base + 2 * MSS);
	expect_data(h, &k, 2 * MSS, MSS);
	expect_data(h, &k, 14 * MSS, MSS);
	h_expect_none(h);
	CHECK(t->in_recovery);
	CHECK_EQ_U64(t->cwnd, 13 * MSS);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	/* the full ACK (up to recover, segment 12): recovery ends with
	 * cwnd = min(ssthresh, flight + MSS) = min(6, 3 + 1) segments */
	dupack(h, &k, base + 12 * MSS);
	CHECK(!t->in_recovery);
	CHECK_EQ_U64(t->cwnd, 4 * MSS);
	expect_data(h, &k, 15 * MSS, MSS);
	h_expect_none(h);
	/* congestion avoidance from here: ssthresh 6 segments */
	dupack(h, &k, base + 16 * MSS);
	CHECK(t->cwnd >= 4 * MSS && t->cwnd < t->ssthresh + 2 * MSS);
	h_drain(h);
	finish_abort(h, &k, ls);
	h_conf()->tcp_congestion = TCP_CC_CUBIC;
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_rto_backoff_timeout,
		test_rto_retries_configured,
		test_rto_ack_resets_backoff,
		test_fast_retransmit_newreno,
		test_sack_recovery,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
