/*
 * cc.h - congestion control: slow start and congestion avoidance (RFC 5681)
 * with appropriate byte counting (RFC 3465, L = 2 SMSS), initial window of
 * ten segments (RFC 6928), fast retransmit / fast recovery with NewReno's
 * partial-ACK handling (RFC 6582).
 */
#ifndef AATCP_CC_H
#define AATCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcb.h"

void cc_init(struct tcb *t);
/* New data acknowledged (acked bytes). Returns true when a partial ACK in
 * recovery asks for the next hole to be retransmitted now. */
bool cc_on_ack(struct tcb *t, uint32_t ack, uint32_t acked);
/* A duplicate ACK (unsent: the sender has data not yet sent). Returns true
 * on the third (or earlier, RFC 5827): fast retransmit now. */
bool cc_on_dupack(struct tcb *t, bool unsent);
/* RFC 3042 limited transmit: extra bytes allowed past cwnd for the first
 * two duplicate ACKs. */
uint32_t cc_limited_transmit(const struct tcb *t);
/* The retransmission timer expired. */
void cc_on_rto(struct tcb *t);
uint32_t cc_flight(const struct tcb *t);

#endif /* AATCP_CC_H */
