/* cubic.c - see cubic.h. */
#include "tcp/cubic.h"

#include <math.h>

#define CUBIC_C 0.4     /* RFC 9438 4.1: segments per second cubed */
#define CUBIC_BETA 0.7  /* RFC 9438 4.6: multiplicative decrease factor */

static double segs(const struct tcb *t, double bytes)
{
	return bytes / t->mss;
}

double cubic_window(const struct tcb *t, uint64_t since_epoch_us)
{
	double d = (double)since_epoch_us / 1e6 - t->cubic_k;

	/* RFC 9438 figure 1: W_cubic(t) = C * (t - K)^3 + W_max */
	return CUBIC_C * d * d * d * t->mss + t->cubic_wmax;
}

uint32_t cubic_on_congestion(struct tcb *t)
{
	uint32_t cw = t->cwnd;
	double ss = cw * CUBIC_BETA;

	/* 4.7 fast convergence: a window that stopped short of the last
	 * W_max releases bandwidth to newer flows */
	if (cw < t->cubic_wmax)
		t->cubic_wmax = (uint32_t)(cw * (1.0 + CUBIC_BETA) / 2.0);
	else
		t->cubic_wmax = cw;
	t->cubic_prior = cw;
	t->cubic_epoch_us = 0; /* 4.2: the next congestion-avoidance stage */
	if (ss < 2.0 * t->mss)
		ss = 2.0 * t->mss;
	return (uint32_t)ss;
}

void cubic_on_rto(struct tcb *t)
{
	t->cubic_wmax = 0; /* the epoch's start takes W_max = cwnd, K = 0 */
	t->cubic_epoch_us = 0;
}

/* 4.2: the stage starts at its first ACK: t_epoch, cwnd_epoch, K =
 * cbrt((W_max - cwnd_epoch) / C), and W_est = cwnd_epoch (4.3). */
static void start_epoch(struct tcb *t, uint64_t now_us)
{
	t->cubic_epoch_us = now_us ? now_us : 1;
	t->cubic_west = t->cwnd;
	if (t->cubic_wmax <= t->cwnd) {
		t->cubic_wmax = t->cwnd;
		t->cubic_k = 0;
	} else {
		t->cubic_k = cbrt(segs(t, t->cubic_wmax - t->cwnd) / CUBIC_C);
	}
	if (!t->cubic_prior)
		t->cubic_prior = t->cwnd;
}

/* 4.3: W_est grows by alpha_cubic segments per window acknowledged;
 * alpha_cubic = 3 (1 - beta) / (1 + beta) until W_est reaches the window
 * before the last reduction, then 1 (Reno's own rate). */
static void grow_west(struct tcb *t, uint32_t acked)
{
	double alpha = t->cubic_west >= t->cubic_prior
			       ? 1.0
			       : 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);

	t->cubic_west += alpha * t->mss * acked / t->cwnd;
}

void cubic_on_ack(struct tcb *t, uint32_t acked, uint64_t now_us)
{
	if (!t->cubic_epoch_us)
		start_epoch(t, now_us);
	uint64_t since = now_us - t->cubic_epoch_us;
	grow_west(t, acked);
	/* 4.3: in the Reno-friendly region W_cubic(t) < W_est */
	if (cubic_window(t, since) < t->cubic_west) {
		if (t->cubic_west > t->cwnd)
			t->cwnd = (uint32_t)t->cubic_west;
		return;
	}
	/* 4.4-4.5: towards target = W_cubic(t + RTT), clamped to
	 * [cwnd, 1.5 cwnd], by (target - cwnd) / cwnd per segment acked */
	double target = cubic_window(t, since + t->srtt);
	if (target > 1.5 * t->cwnd)
		target = 1.5 * t->cwnd;
	if (target > t->cwnd)
		t->cwnd += (uint32_t)((target - t->cwnd) * acked / t->cwnd);
}
