/*
 * test_tcp_recovery.c - SACK loss recovery through the whole stack
 * (stack_harness.h), segment by segment:
 *   - the scoreboard keeps any number of SACKed ranges (sacksnd.h): twenty
 *     holes in one window, each retransmitted once, no SACKed byte again,
 *     sent as RFC 6675's pipe allows;
 *   - RACK (RFC 8985 6): a segment delivered out of order within the
 *     reordering window is no loss; one that stays missing is retransmitted
 *     when the window passes, after a single SACK;
 *   - TLP (RFC 8985 7): the last two segments of a flight lost: a probe two
 *     SRTTs (plus two timer slots) after the last ACK, the SACK it brings makes RACK retransmit
 *     the other, all repaired in about two round trips, no RTO;
 *   - RFC 6675 NextSeg rule (4), the rescue retransmission;
 *   - a loss of the first segment after a recovery ended exactly at its
 *     recovery point is a new loss: fast retransmit, not the RTO;
 *   - a lost retransmission is found by RACK (RFC 8985 6.2) once data
 *     sent after it is SACKed, and sent again, in the same recovery;
 *   - after an RTO (SACK information discarded, RFC 2018 8) the cumulative
 *     ACK of segments SACKed before it is no reordering for RACK.
 */
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rack.h"
#include "tcp/rtt.h"
#include "tcp/sacksnd.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH
#define MSS 1448
#define RTT 10000u /* us */

static uint8_t out[128 * 1024];

static struct h_stack *open_conn(struct h_conn *k, int *ls)
{
	struct h_stack *h = h_open_conn(k, ls);

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	return h;
}

/* open_conn() with `tcp_congestion = reno`: ssthresh = flight / 2, the
 * numbers a test's expected segments are worked out with. */
static struct h_stack *open_conn_reno(struct h_conn *k, int *ls)
{
	h_conf()->tcp_congestion = TCP_CC_RENO;
	struct h_stack *h = open_conn(k, ls);

	h_conf()->tcp_congestion = TCP_CC_CUBIC;
	return h;
}

/* The next frame: a data segment of k at segment index seg (MSS each). */
static void expect_seg(struct h_stack *h, struct h_conn *k, uint32_t seg)
{
	struct h_pkt p;

	h_expect_data(h, k, out, seg * MSS, MSS, &p);
}

/* The peer ACKs segment index `acked` with SACK blocks [l[i], r[i]) (in
 * segments; most recent first, RFC 2018 4). */
static void ack_sack(struct h_stack *h, struct h_conn *k, uint32_t base, uint32_t acked,
		     int n, const uint32_t *l, const uint32_t *r)
{
	uint32_t sl[4], sr[4];

	for (int i = 0; i < n; i++) {
		sl[i] = base + l[i] * MSS;
		sr[i] = base + r[i] * MSS;
	}
	h_peer_ack_sack(h, k, base + acked * MSS, n, sl, sr);
}

/* Writes n segments and reads the first `sent` of them. */
static void send_segs(struct h_stack *h, struct h_conn *k, uint32_t n, uint32_t sent)
{
	CHECK(mtcp_write(h->mctx, k->sock, (const char *)out, n * MSS) == (int)(n * MSS));
	h_run(h);
	for (uint32_t i = 0; i < sent; i++)
		expect_seg(h, k, i);
	h_expect_none(h);
}

static void finish(struct h_stack *h, struct h_conn *k, int ls)
{
	CHECK_EQ_U64(h->c->cnt.rto_expired, 0);
	h_abort_and_close(h, k, ls);
}

/* Forty segments, every other one lost: twenty SACKed ranges (the old
 * scoreboard kept eight), the twenty holes retransmitted exactly once. */
static void test_twenty_holes(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	bool again[40] = {false};

	t->cwnd = 40 * MSS;
	send_segs(h, &k, 40, 40);
	h_advance(h, RTT);
	for (uint32_t odd = 1; odd < 40; odd += 2) {
		/* the three most recent ranges, newest first */
		uint32_t l[3], r[3];
		int n = 0;
		for (uint32_t j = odd; n < 3 && j < 40; j -= 2) {
			l[n] = j;
			r[n++] = j + 1;
			if (j < 2)
				break;
		}
		bool entry = !t->in_recovery;
		ack_sack(h, &k, base, 0, n, l, r);
		struct h_pkt p;
		unsigned sent = 0;
		while (h_recv(h, &p)) {
			uint32_t seg = (p.seq - base) / MSS;
			CHECK_MSG(p.len == MSS && seg < 40 && seg % 2 == 0 && !again[seg],
				  "segment %u retransmitted", seg);
			again[seg] = true;
			sent++;
		}
		/* RFC 6675 5 (C): sent only while cwnd - pipe >= SMSS, so
		 * the pipe stays within cwnd; the first retransmission (4.3)
		 * goes whatever the pipe */
		if (sent && !entry)
			CHECK_MSG(sacksnd_pipe(t) <= t->cwnd, "pipe %u cwnd %u", sacksnd_pipe(t),
				  t->cwnd);
		CHECK(!entry || sent <= 1);
	}
	CHECK(t->in_recovery);
	CHECK_EQ_U64(t->sbd->sacked_segs, 20);
	CHECK_EQ_U64(t->ssthresh, 28 * MSS); /* CUBIC: cwnd * 0.7 (RFC 9438 4.6) */
	for (uint32_t i = 0; i < 40; i += 2)
		CHECK_MSG(again[i], "hole %u never retransmitted", i);
	CHECK_EQ_U64(h->c->cnt.retransmits, 20);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 40, 0, NULL, NULL);
	CHECK(!t->in_recovery && t->sbd->n == 0);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* RTT 10 ms: segment 0 arrives after segment 1 (SACKed first), within
 * RACK's reordering window (min_RTT / 4): not retransmitted. */
static void test_reordering_not_loss(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {1}, r[] = {2};

	send_segs(h, &k, 10, 10);
	uint64_t t0 = h->now;
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r);
	CHECK_EQ_U64(rack_reo_wnd(t), RTT / 4);
	/* the reordering timer: segment 0's send time + RACK.rtt + reo_wnd */
	CHECK_EQ_U64(t->timer_at[TT_REO], t0 + RTT + RTT / 4);
	h_expect_none(h);
	h_advance(h, 1000);
	ack_sack(h, &k, base, 2, 0, NULL, NULL);
	CHECK(t->rack_reordering_seen && !t->in_recovery);
	CHECK(t->timer_at[TT_REO] == 0);
	h_advance(h, 1000);
	ack_sack(h, &k, base, 10, 0, NULL, NULL);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.retransmits, 0);
	CHECK_EQ_U64(h->c->cnt.rack_lost, 0);
	finish(h, &k, ls);
}

/* The same, but segment 0 stays missing: one SACK is enough, it is
 * retransmitted when the reordering window passed (no third duplicate
 * ACK, no RTO). */
static void test_rack_one_sack(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {1}, r[] = {2};

	send_segs(h, &k, 2, 2);
	uint64_t t0 = h->now;
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r);
	h_expect_none(h);
	CHECK(h_run_timer(h, RTT) >= t0 + RTT + RTT / 4);
	CHECK(h->now < t0 + RTT + RTT / 4 + 1000); /* the wheel's 1 ms grain */
	expect_seg(h, &k, 0);
	h_expect_none(h);
	CHECK(t->in_recovery);
	CHECK_EQ_U64(h->c->cnt.rack_lost, 1);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 2, 0, NULL, NULL);
	CHECK(!t->in_recovery);
	CHECK_EQ_U64(h->c->cnt.retransmits, 1);
	finish(h, &k, ls);
}

/* Ten segments, the last two lost, RTT 10 ms (RTO 200 ms). Two SRTTs
 * after the ACK of the first eight, the probe resends segment 9; its SACK
 * makes RACK deem segment 8 lost (sent before it, a reordering window
 * ago): retransmitted at once. All acknowledged 34 ms after the ACK that
 * stopped, where the RTO would have waited 200 ms. */
static void test_tlp_tail_drop(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {9}, r[] = {10};

	send_segs(h, &k, 10, 10);
	uint32_t ts_eight = k.ts_recent;
	h_advance(h, RTT);
	ack_sack(h, &k, base, 8, 0, NULL, NULL);
	uint64_t t1 = h->now;
	CHECK_EQ_U64(t->srtt, RTT);
	CHECK_EQ_U64(t->timer_at[TT_TLP], t1 + 2 * RTT + TLP_SLACK_US);
	CHECK_EQ_U64(t->timer_at[TT_RTO], t1 + RTO_MIN_US);
	h_expect_none(h);
	CHECK_EQ_U64(h_run_timer(h, RTO_MIN_US), t1 + 2 * RTT + TLP_SLACK_US);
	expect_seg(h, &k, 9); /* the probe: the last segment again */
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.tlp_probes, 1);
	CHECK(t->tlp_out && t->timer_at[TT_TLP] == 0);
	/* its SACK comes back faster than any ACK so far (2 ms < min_RTT)
	 * and, as from Linux, echoes the TSval of the last in-order segment
	 * (RFC 7323 4.3): RACK takes the probe's sample all the same */
	k.ts_recent = ts_eight;
	h_advance(h, RTT / 5);
	ack_sack(h, &k, base, 8, 1, l, r);
	expect_seg(h, &k, 8); /* RACK: lost */
	h_expect_none(h);
	CHECK(t->in_recovery);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 10, 0, NULL, NULL);
	CHECK(t->snd_una == t->snd_max && !t->in_recovery && !t->tlp_out);
	CHECK_EQ_U64(h->now - t1, 3 * RTT + RTT / 5 + TLP_SLACK_US);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	CHECK_EQ_U64(h->c->cnt.tlp_recoveries, 1);
	CHECK(t->timer_at[TT_RTO] == 0 && t->timer_at[TT_TLP] == 0);
	finish(h, &k, ls);
}

/* A probe that was not needed (only the ACK was lost): the peer reports
 * the duplicate with a D-SACK (RFC 2883), no congestion response. */
static void test_tlp_spurious(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {3}, r[] = {4};

	send_segs(h, &k, 4, 4);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 2, 0, NULL, NULL);
	uint32_t cwnd = t->cwnd;
	h_run_timer(h, RTO_MIN_US);
	expect_seg(h, &k, 3);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 4, 1, l, r); /* D-SACK: below the ACK */
	CHECK(!t->tlp_out && !t->in_recovery);
	CHECK_EQ_U64(h->c->cnt.tlp_recoveries, 0);
	CHECK(t->cwnd >= cwnd);
	CHECK_EQ_U64(t->rack_reo_mult, 1);
	finish(h, &k, ls);
}

/* RFC 6675 NextSeg rule (4): segment 0 and the last segment (5) lost,
 * 1..4 SACKed. Once the retransmission of 0 is acknowledged, nothing is
 * deemed lost, no new data: the rescue retransmission resends 5, once. */
static void test_rescue_retransmission(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {1}, r3[] = {4}, r4[] = {5};

	send_segs(h, &k, 6, 6);
	uint32_t ts_orig = k.ts_recent;
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r3);
	expect_seg(h, &k, 0);
	h_expect_none(h);
	CHECK(t->in_recovery);
	/* segment 4's SACK: RACK's rtt is then 10 ms, segment 5 (sent with
	 * the others) is not before segment 4: not lost */
	ack_sack(h, &k, base, 0, 1, l, r4);
	h_expect_none(h);
	/* ACK 5, 1 ms after the retransmission of 0: below min_RTT, it may
	 * be the original's ACK, so RACK takes no sample from it (RFC 8985
	 * 6.2 step 2); no segment lost, no new data, no hole below the
	 * SACKed data: rule (4) resends the last one */
	k.ts_recent = ts_orig;
	h_advance(h, 1000);
	ack_sack(h, &k, base, 5, 0, NULL, NULL);
	expect_seg(h, &k, 5);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	ack_sack(h, &k, base, 5, 0, NULL, NULL); /* the same again: no second rescue */
	h_expect_none(h);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 6, 0, NULL, NULL);
	CHECK(!t->in_recovery);
	finish(h, &k, ls);
}

/* RFC 6582 3.2 step 2 / RFC 6675 (4.1): recovery ends with the ACK of
 * the highest octet sent when it began; the segment that starts right
 * there belongs to the next window. Fifteen segments, the first ten in
 * flight; 0 lost and repaired (recovery point: segment 10), ACK 10 ends
 * it and segments 10..14 go out; 10 lost, 11..14 SACKed: retransmitted
 * at once, in a second recovery, no RTO. With `tcp_congestion = reno`
 * (ssthresh = flight / 2: nothing new goes out during the first recovery).
 */
static void test_loss_at_recovery_point(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn_reno(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l1[] = {1}, r1[] = {5}, l2[] = {11}, r2[] = {15};

	send_segs(h, &k, 15, 10);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l1, r1);
	expect_seg(h, &k, 0);
	h_expect_none(h);
	CHECK(t->in_recovery && t->recover == base + 10 * MSS);
	CHECK_EQ_U64(t->ssthresh, 5 * MSS); /* Reno: flight (10) / 2 */
	h_advance(h, RTT);
	ack_sack(h, &k, base, 10, 0, NULL, NULL); /* exactly the recovery point */
	CHECK(!t->in_recovery);
	for (uint32_t i = 10; i < 15; i++)
		expect_seg(h, &k, i); /* cwnd = ssthresh = 5 segments */
	h_expect_none(h);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 10, 1, l2, r2);
	expect_seg(h, &k, 10);
	h_expect_none(h);
	CHECK(t->in_recovery);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 2);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 15, 0, NULL, NULL);
	CHECK(!t->in_recovery && t->snd_una == t->snd_max);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	finish(h, &k, ls);
}

/* RFC 8985 6.2: a retransmission's send time is its segment's, so a lost
 * retransmission is deemed lost like an original once a segment sent
 * after it is delivered. Segment 0 lost, retransmitted, lost again; the
 * SACK of 1..9 (sent before the retransmission) proves nothing, that of
 * new segments 10..13 (sent after it) does: 0 goes a third time, no RTO.
 * Reno's ssthresh (5 segments). */
static void test_lost_retransmission(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn_reno(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {1}, r1[] = {5}, r2[] = {10}, r3[] = {14};

	send_segs(h, &k, 15, 10);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r1);
	expect_seg(h, &k, 0);
	h_expect_none(h);
	h_advance(h, RTT / 2);
	ack_sack(h, &k, base, 0, 1, l, r2); /* pipe: the retransmission only */
	for (uint32_t i = 10; i < 14; i++)
		expect_seg(h, &k, i);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.lost_retransmits, 0);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r3);
	expect_seg(h, &k, 0);
	expect_seg(h, &k, 14);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->cnt.lost_retransmits, 1);
	CHECK(t->in_recovery);
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 15, 0, NULL, NULL);
	CHECK(!t->in_recovery && t->snd_una == t->snd_max);
	CHECK_EQ_U64(h->c->cnt.retransmits, 2);
	finish(h, &k, ls);
}

/* Segment 0 lost, its retransmission lost too, nothing sent after it: the
 * RTO (1 s: no RTT sample yet). The scoreboard forgets the SACKs (RFC 2018
 * 8), go-back-N resends 0, and the ACK of all ten delivers 1..9, SACKed
 * before the RTO, below the highest end RACK had seen delivered: no
 * reordering (RFC 8985 6.2 step 3 is about deliveries out of order, not
 * about SACKs forgotten), so the next recovery keeps a zero reordering
 * window. */
static void test_rto_is_no_reordering(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.rcv_nxt;
	const uint32_t l[] = {1}, r[] = {10};

	send_segs(h, &k, 10, 10);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, l, r);
	expect_seg(h, &k, 0);
	h_expect_none(h);
	while (!h->c->cnt.rto_expired && h_run_timer(h, RTO_INITIAL_US + RTT))
		;
	CHECK_EQ_U64(h->c->cnt.rto_expired, 1);
	expect_seg(h, &k, 0); /* go-back-N, cwnd 1 MSS */
	h_expect_none(h);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 10, 0, NULL, NULL);
	CHECK(t->snd_una == t->snd_max && !t->rack_reordering_seen);
	h_abort_and_close(h, &k, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_twenty_holes,     test_reordering_not_loss, test_rack_one_sack,
		test_tlp_tail_drop,    test_tlp_spurious,        test_rescue_retransmission,
		test_loss_at_recovery_point, test_lost_retransmission, test_rto_is_no_reordering,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
