/*
 * sackrcv.h - the receiver's SACK blocks (RFC 2018 section 4): which
 * out-of-order ranges an ACK reports and in which order, and D-SACK (RFC
 * 2883), the report of a duplicate segment.
 *
 * Order (RFC 2018 4): the first block holds the most recently received
 * segment; the others repeat the blocks reported most recently, so that
 * each block reaches the sender in several ACKs even when some are lost;
 * ranges never reported fill what is left, highest first. A D-SACK
 * (RFC 2883 section 4) goes before all of them, once, followed by the
 * block that contains the duplicate if there is one.
 */
#ifndef AATCP_SACKRCV_H
#define AATCP_SACKRCV_H

#include <stdint.h>

#include "tcp/tcb.h"

/* A segment [seq, seq + len) was taken out of order. */
void sackrcv_note(struct tcb *t, uint32_t seq);
/* Before taking an out-of-order segment: true when the receive side has
 * it all already (a duplicate to report with D-SACK). */
int sackrcv_holds(const struct tcb *t, uint32_t seq, uint32_t len);
/* A duplicate [l, r) arrived: the next ACK reports it (RFC 2883). */
void sackrcv_dsack(struct core *c, struct tcb *t, uint32_t l, uint32_t r);
/* The blocks for the ACK being built (at most max); remembers them. */
int sackrcv_blocks(struct tcb *t, uint32_t *l, uint32_t *r, int max);

#endif /* AATCP_SACKRCV_H */
