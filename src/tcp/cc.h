/*
 * cc.h - congestion control: slow start with appropriate byte counting
 * (RFC 3465, L = 2 SMSS) and an initial window of ten segments (RFC 6928);
 * congestion avoidance and the response to loss by CUBIC (RFC 9438,
 * cubic.c; the default) or Reno (RFC 5681), per `tcp_congestion`; fast
 * retransmit / fast recovery with NewReno's partial-ACK handling (RFC
 * 6582) for connections without SACK (recovery.c has SACK's). The window
 * grows only while the sender uses it (RFC 9438 5.8, RFC 7661).
 */
#ifndef AATCP_CC_H
#define AATCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcb.h"

/* algo: enum tcp_cc (config.h). */
void cc_init(struct tcb *t, int algo);
/* New data acknowledged (acked bytes) at now_us. Returns true when a
 * partial ACK in recovery asks for the next hole to be retransmitted now. */
bool cc_on_ack(struct tcb *t, uint32_t ack, uint32_t acked, uint64_t now_us);
/* A duplicate ACK (unsent: the sender has data not yet sent). Returns true
 * on the third (or earlier, RFC 5827): fast retransmit now. */
bool cc_on_dupack(struct tcb *t, bool unsent);
/* A congestion event (recovery begins, or a tail loss probe repaired a
 * loss): sets ssthresh, CUBIC's cwnd * 0.7 or Reno's flight / 2, at
 * least 2 SMSS. The caller sets cwnd. */
void cc_on_congestion(struct tcb *t);
/* RFC 3042 limited transmit: extra bytes allowed past cwnd for the first
 * two duplicate ACKs. */
uint32_t cc_limited_transmit(const struct tcb *t);
/* The retransmission timer expired (first: not yet expired for this
 * segment before). */
void cc_on_rto(struct tcb *t, bool first);
/* After new data went out: records whether the flight filled cwnd. */
void cc_on_send(struct tcb *t);
/* Whether the sender used its window lately (RFC 9438 5.8): in slow start
 * a flight above half of cwnd, in congestion avoidance a flight that
 * reached cwnd, in this window of data or the one before. */
bool cc_cwnd_limited(const struct tcb *t);
uint32_t cc_flight(const struct tcb *t);

#endif /* AATCP_CC_H */
