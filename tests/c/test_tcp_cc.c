/*
 * test_tcp_cc.c - congestion control (cc.h, cubic.h):
 *   - CUBIC's window functions (RFC 9438) on a bare TCB: the decrease to
 *     cwnd * 0.7 (4.6), fast convergence (4.7), K and the cubic curve
 *     through W_max (figure 1, figure 2), the Reno-friendly estimate
 *     growing by alpha_cubic segments per window (4.3), the step towards
 *     W_cubic(t + RTT) capped at 1.5 cwnd (4.4-4.5), the stage after an
 *     RTO (4.8);
 *   - through the whole stack (stack_harness.h), segment by segment: SACK
 *     recovery starting at ssthresh = cwnd * 0.7 whatever the flight
 *     (CUBIC), or flight / 2 (`tcp_congestion = reno`); a window that the
 *     application does not fill does not grow (RFC 9438 5.8, RFC 7661),
 *     one that it fills does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/config.h"
#include "stack_harness.h"
#include "tcp/cc.h"
#include "tcp/cubic.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define MSS 1448
#define RTT 10000u /* us */

static uint8_t out[128 * 1024];

/* A TCB with only what the window functions read. */
static struct tcb bare(uint32_t cwnd_segs)
{
	struct tcb t;

	memset(&t, 0, sizeof(t));
	t.mss = 1000;
	t.cwnd = cwnd_segs * 1000u;
	t.ssthresh = 0x7fffffff;
	t.srtt = 100000; /* 100 ms */
	t.cc_algo = TCP_CC_CUBIC;
	return t;
}

static void test_cubic_decrease(void)
{
	struct tcb t = bare(100);

	cc_on_congestion(&t); /* 4.6: W_max = 100, ssthresh = 70 */
	CHECK_EQ_U64(t.ssthresh, 70000);
	CHECK_EQ_U64(t.cubic_wmax, 100000);
	t.cwnd = 80000;
	cc_on_congestion(&t); /* 4.7: 80 < W_max: W_max = 80 * 1.7 / 2 */
	CHECK_EQ_U64(t.cubic_wmax, 68000);
	CHECK_EQ_U64(t.ssthresh, 56000);
	t.cwnd = 2000;
	cc_on_congestion(&t); /* never under 2 SMSS */
	CHECK_EQ_U64(t.ssthresh, 2000);

	/* Reno: half the flight, whatever cwnd */
	t = bare(100);
	t.cc_algo = TCP_CC_RENO;
	t.snd_una = 0;
	t.snd_max = 30000;
	cc_on_congestion(&t);
	CHECK_EQ_U64(t.ssthresh, 15000);
}

/* Figure 1: W_cubic(t) = C (t - K)^3 + W_max, K = cbrt(W_max (1 - beta) /
 * C): W_max = 100 segments, cwnd_epoch = 70, K = cbrt(75) s. */
static void test_cubic_curve(void)
{
	struct tcb t = bare(100);
	uint64_t now = 5000000;

	cc_on_congestion(&t);
	t.cwnd = t.ssthresh;
	cubic_on_ack(&t, 0, now); /* the stage begins */
	CHECK_EQ_U64(t.cubic_epoch_us, now);
	CHECK(fabs(t.cubic_k - cbrt(75.0)) < 1e-9);
	CHECK(fabs(cubic_window(&t, 0) - 70000) < 1);                  /* W(0) = cwnd_epoch */
	CHECK(fabs(cubic_window(&t, (uint64_t)(t.cubic_k * 1e6)) - 100000) < 1); /* W(K) = W_max */
	CHECK(cubic_window(&t, 1000000) < cubic_window(&t, 2000000));  /* concave, rising */
	CHECK(cubic_window(&t, 6000000) > 100000);                      /* convex past K */
}

/* 4.3: right after the decrease W_cubic is flat (K is seconds, the RTT
 * 100 ms) and the Reno-friendly W_est rules: alpha_cubic = 3 * 0.3 / 1.7
 * segments per window acknowledged, 1 once W_est reaches cwnd_prior. */
static void test_cubic_reno_friendly(void)
{
	struct tcb t = bare(100);
	uint64_t now = 1000000;

	cc_on_congestion(&t);
	t.cwnd = t.ssthresh; /* 70 segments */
	for (int i = 0; i < 70; i++)
		cubic_on_ack(&t, 1000, now); /* one window, at one instant */
	double alpha = 3.0 * 0.3 / 1.7;
	CHECK_MSG(fabs(t.cwnd - 70000 - alpha * 1000) < 30, "cwnd %u", t.cwnd);
	/* W_est at cwnd_prior: one segment per window from here */
	t.cubic_west = t.cubic_prior;
	t.cwnd = t.cubic_prior;
	uint32_t w0 = t.cwnd;
	for (int i = 0; i < 100; i++)
		cubic_on_ack(&t, 1000, now);
	CHECK_MSG(t.cwnd >= w0 + 990 && t.cwnd <= w0 + 1010, "cwnd %u from %u", t.cwnd, w0);
}

/* 4.4-4.5: far past K the window steps towards W_cubic(t + RTT), at most
 * to 1.5 cwnd in one RTT. */
static void test_cubic_convex_capped(void)
{
	struct tcb t = bare(10);

	t.cubic_wmax = 10000; /* W_max = cwnd: K = 0 */
	cubic_on_ack(&t, 0, 1000000);
	CHECK(t.cubic_k == 0);
	/* 100 s later W_cubic is 400,000 segments: the target is 15 */
	uint64_t later = 1000000 + 100000000ull;
	for (int i = 0; i < 10; i++)
		cubic_on_ack(&t, 1000, later);
	CHECK_MSG(t.cwnd > 10000 && t.cwnd <= 15000, "cwnd %u", t.cwnd);
}

/* 4.8: after an RTO the first stage has K = 0 and W_max = its cwnd. */
static void test_cubic_after_rto(void)
{
	struct tcb t = bare(100);

	t.snd_max = 50000;
	cc_on_rto(&t, true);
	CHECK_EQ_U64(t.cwnd, 1000);
	CHECK_EQ_U64(t.ssthresh, 70000);
	cc_on_rto(&t, false); /* RFC 5681 3.1: held at the next expiry */
	CHECK_EQ_U64(t.ssthresh, 70000);
	t.cwnd = 70000; /* slow start took it back to ssthresh */
	cubic_on_ack(&t, 1000, 2000000);
	CHECK(t.cubic_k == 0);
	CHECK_EQ_U64(t.cubic_wmax, 70000);
}

/* ---- through the stack ---- */

static struct h_stack *open_conn(struct h_conn *k, int *ls, int algo)
{
	h_conf()->tcp_congestion = algo;
	struct h_stack *h = h_open_conn(k, ls);

	h_conf()->tcp_congestion = TCP_CC_CUBIC;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	return h;
}

static void expect_seg(struct h_stack *h, struct h_conn *k, uint32_t seg)
{
	struct h_pkt p;

	h_expect_data(h, k, out, seg * MSS, MSS, &p);
}

/* The peer ACKs segment index `acked`, SACKing segments [l, r) when r > l. */
static void ack_sack(struct h_stack *h, struct h_conn *k, uint32_t base, uint32_t acked,
		     uint32_t l, uint32_t r)
{
	uint32_t sl = base + l * MSS, sr = base + r * MSS;

	h_peer_ack_sack(h, k, base + acked * MSS, r > l, &sl, &sr);
}

/* Ten segments out (the initial window), segment 0 lost, 1..3 SACKed (the
 * first two send a segment each, RFC 3042): fast retransmit of 0 with
 * ssthresh = cwnd * 0.7 = 7 segments under CUBIC, flight (12) / 2 = 6
 * under Reno; the pipe (11 segments less the 3 SACKed) leaves room for
 * nothing more until it falls under ssthresh. */
static void sack_recovery(int algo, uint32_t ssthresh_segs)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls, algo);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t base = k.stack_iss + 1;

	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 30 * MSS) == 30 * MSS);
	h_run(h);
	for (uint32_t i = 0; i < 10; i++)
		expect_seg(h, &k, i);
	h_expect_none(h);
	h_advance(h, RTT);
	ack_sack(h, &k, base, 0, 1, 2);
	expect_seg(h, &k, 10);
	ack_sack(h, &k, base, 0, 1, 3);
	expect_seg(h, &k, 11);
	ack_sack(h, &k, base, 0, 1, 4);
	expect_seg(h, &k, 0); /* fast retransmit */
	h_expect_none(h);
	CHECK(t->in_recovery);
	CHECK_EQ_U64(t->ssthresh, ssthresh_segs * MSS);
	CHECK_EQ_U64(t->cwnd, ssthresh_segs * MSS);
	/* each further SACKed segment takes one out of the pipe (9 now:
	 * 0 again, 4..11); below cwnd new data goes */
	uint32_t next = 12;
	for (uint32_t r = 5; r <= 12; r++) {
		ack_sack(h, &k, base, 0, 1, r);
		uint32_t pipe = 12 - r + 1 + (next - 12);
		while (pipe < ssthresh_segs) {
			expect_seg(h, &k, next++);
			pipe++;
		}
		h_expect_none(h);
	}
	CHECK_EQ_U64(h->c->cnt.fast_retransmits, 1);
	CHECK_EQ_U64(h->c->cnt.retransmits, 1);
	h_drain(h);
	h_abort_and_close(h, &k, ls);
}

static void test_sack_recovery_cubic(void)
{
	sack_recovery(TCP_CC_CUBIC, 7);
}

static void test_sack_recovery_reno(void)
{
	sack_recovery(TCP_CC_RENO, 6);
}

/* RFC 9438 5.8: an application that writes one segment per round trip
 * never fills the initial window, and the window stays as it is; once the
 * application keeps it full, slow start doubles it per round trip. */
static void test_app_limited_no_growth(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = open_conn(&k, &ls, TCP_CC_CUBIC);
	struct tcb *t = h_tcb(h, k.sock);
	uint32_t iw = t->cwnd;

	CHECK_EQ_U64(iw, 10 * MSS);
	for (uint32_t i = 0; i < 30; i++) {
		CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, MSS) == MSS);
		h_run(h);
		struct h_pkt p;
		h_recv_tcp(h, &p);
		CHECK(p.len == MSS);
		h_advance(h, RTT);
		k.rcv_nxt += MSS;
		h_peer_ack(h, &k);
	}
	CHECK_EQ_U64(t->cwnd, iw);
	/* now 40 segments: the window is full, each ACK grows it */
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 40 * MSS) == 40 * MSS);
	h_run(h);
	CHECK_EQ_U64(h_drain(h), 10);
	h_advance(h, RTT);
	k.rcv_nxt += 10 * MSS;
	h_peer_ack(h, &k);
	CHECK_EQ_U64(t->cwnd, iw + 2 * MSS); /* RFC 3465: L = 2 SMSS per ACK */
	h_drain(h);
	h_abort_and_close(h, &k, ls);
}

/* `tcp_congestion`: cubic (the default) or reno; anything else is an
 * error that names the file, line and key. */
static void test_config_key(void)
{
	struct aatcp_config *c = malloc(sizeof(*c));
	char err[256];

	CHECK(c);
	config_defaults(c);
	CHECK_EQ_U64(c->tcp_congestion, TCP_CC_CUBIC);
	CHECK_MSG(config_parse_text(c, "s.conf", "port = lo\ntcp_congestion = reno\n", err,
				    sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(c->tcp_congestion, TCP_CC_RENO);
	CHECK_MSG(config_parse_text(c, "s.conf", "port = lo\ntcp_congestion = cubic\n", err,
				    sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(c->tcp_congestion, TCP_CC_CUBIC);
	CHECK(config_parse_text(c, "s.conf", "port = lo\ntcp_congestion = bbr\n", err,
				sizeof(err)) != 0);
	CHECK_MSG(strstr(err, "s.conf:2: tcp_congestion: 'bbr': expected cubic or reno") == err,
		  "%s", err);
	free(c);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_cubic_decrease,       test_cubic_curve,          test_cubic_reno_friendly,
		test_cubic_convex_capped,  test_cubic_after_rto,      test_sack_recovery_cubic,
		test_sack_recovery_reno,   test_app_limited_no_growth, test_config_key,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
