/*
 * rtt.h - retransmission timeout (RFC 6298). Karn's algorithm: one segment
 * timed at a time, never a retransmitted one. Microsecond clock.
 */
#ifndef AATCP_RTT_H
#define AATCP_RTT_H

#include <stdbool.h>

#include "tcp/tcb.h"

#define RTO_INITIAL_US 1000000u /* RFC 6298 2.1 */
#define RTO_MIN_US 200000u      /* Linux's floor; RFC 6298 2.4 allows below 1 s */
#define RTO_MAX_US 60000000u    /* RFC 6298 2.5 */

void rtt_init(struct tcb *t);
/* Start timing the segment ending at seq_end, sent now. */
void rtt_start(struct tcb *t, uint32_t seq_end, uint64_t now_us);
/* An ACK for ack arrived at now: takes a sample if it covers the timed
 * one (returns whether it did). */
bool rtt_ack(struct tcb *t, uint32_t ack, uint64_t now_us);
/* A sample from the timestamp echoed by an ACK of new data (RFC 7323 4.1),
 * taken when rtt_ack() had none; both clocks in 1 ms ticks. */
void rtt_ts_sample(struct tcb *t, uint32_t now_ts, uint32_t tsecr);
/* Retransmission: the timed segment no longer gives a valid sample. */
void rtt_cancel(struct tcb *t);
/* Current RTO with exponential backoff (RFC 6298 5.5). */
uint32_t rtt_rto(const struct tcb *t);

#endif /* AATCP_RTT_H */
