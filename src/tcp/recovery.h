/*
 * recovery.h - SACK-based loss recovery (RFC 6675 section 5) with RACK
 * (RFC 8985) and RFC 6675's IsLost() as the loss detectors. For TCBs with
 * a scoreboard (sacksnd.h); the others use NewReno (cc.c).
 */
#ifndef AATCP_RECOVERY_H
#define AATCP_RECOVERY_H

#include <stdbool.h>

#include "tcp/tcb.h"

struct core;
struct tcp_opts;

/* After an ACK was processed (scoreboard, snd_una, window): detect
 * losses, enter recovery, schedule output and the probe timer. */
void recovery_on_ack(struct core *c, struct tcb *t, uint32_t ack, const struct tcp_opts *o);
/* The reordering timer expired (RFC 8985 6.2 step 5). */
void recovery_reo_fire(struct core *c, struct tcb *t);
/* RFC 6675 5 (C): in recovery, sends while cwnd - pipe >= SMSS: lost
 * segments (NextSeg rule 1), then stops for new data (rule 2, sent by
 * tcp_output with cwnd - pipe as its window), then rules 3 and 4. */
void recovery_output(struct core *c, struct tcb *t);
/* Bytes the congestion window leaves for new data (pipe in recovery,
 * the flight otherwise). */
uint32_t recovery_in_flight(const struct tcb *t);

#endif /* AATCP_RECOVERY_H */
