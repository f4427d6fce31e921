/*
 * cubic.h - CUBIC's window functions (RFC 9438): the multiplicative
 * decrease with beta_cubic = 0.7 (section 4.6) and fast convergence (4.7),
 * and the congestion-avoidance growth (4.2-4.5): the larger of the cubic
 * function W_cubic(t) = C * (t - K)^3 + W_max and the Reno-friendly
 * estimate W_est. cc.c decides when each applies (slow start, recovery,
 * application-limited periods). Windows in bytes, time in microseconds.
 */
#ifndef AATCP_CUBIC_H
#define AATCP_CUBIC_H

#include <stdint.h>

#include "tcp/tcb.h"

/* RFC 9438 4.6-4.7: a congestion event at window t->cwnd. Returns the new
 * ssthresh, cwnd * beta_cubic (at least 2 SMSS), and starts a new
 * congestion-avoidance epoch. */
uint32_t cubic_on_congestion(struct tcb *t);
/* RFC 9438 4.8: after a retransmission timeout the first
 * congestion-avoidance stage starts with K = 0 and W_max = its cwnd. */
void cubic_on_rto(struct tcb *t);
/* RFC 9438 4.2-4.5: acked bytes newly acknowledged in congestion avoidance
 * at time now_us; grows t->cwnd. */
void cubic_on_ack(struct tcb *t, uint32_t acked, uint64_t now_us);
/* W_cubic(t) in bytes, t in microseconds since the epoch began
 * (RFC 9438 figure 1); for tests. */
double cubic_window(const struct tcb *t, uint64_t since_epoch_us);

#endif /* AATCP_CUBIC_H */
