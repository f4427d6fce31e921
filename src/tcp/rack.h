/*
 * rack.h - RACK-TLP (RFC 8985): time-based loss detection and the tail
 * loss probe, on the scoreboard of sacksnd.h.
 *
 * RACK: a segment is lost once a segment sent after it was delivered
 * (SACKed or cumulatively acknowledged) and a reordering window has
 * passed since, so one late segment is not a loss, a lost retransmission
 * is found without a timeout, and a loss is found with fewer than three
 * segments above it. TLP: when the ACKs stop with data outstanding and
 * no loss detected, one probe after about two round trips (instead of the
 * RTO, at least 200 ms) makes the receiver SACK, which lets RACK find a
 * lost tail.
 */
#ifndef AATCP_RACK_H
#define AATCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcb.h"

struct core;
struct sb_seg;
struct tcp_opts;

/* Added to 2 * SRTT (RFC 8985 7.2 leaves the clock's granularity to the
 * implementation): two slots of the timer wheel (timer.c, 1 ms), so the
 * probe never fires in the slot the ACK it waits for is due in. Linux adds
 * two of its clock's ticks the same way (TCP_TIMEOUT_MIN). */
#define TLP_SLACK_US 2000u
#define TLP_WCDELACK_US 200000u /* RFC 8985 7.2 WCDelAckT */

/* RFC 8985 6.2 steps 2-3: segment s was newly delivered (SACKed or
 * cumulatively acknowledged). */
void rack_delivered(struct core *c, struct tcb *t, const struct sb_seg *s);
/* RFC 8985 6.2 steps 4-5: marks lost the segments RACK deems lost, arms or
 * cancels the reordering timer (TT_REO). Returns how many were marked. */
uint32_t rack_detect_loss(struct core *c, struct tcb *t);
/* RFC 8985 6.2 step 4: the reordering window now (us). */
uint32_t rack_reo_wnd(const struct tcb *t);
/* An ACK of ack with options o: the TLP episode (RFC 8985 7.4) and the
 * reordering window's growth on D-SACK. */
void rack_on_ack(struct core *c, struct tcb *t, uint32_t ack, const struct tcp_opts *o);
/* RFC 8985 7.2: (re)arms the probe timeout TT_TLP, or cancels it when no
 * probe is due (not SACK, in recovery, SACKed data, probe outstanding,
 * nothing in flight, or the RTO comes first). */
void rack_arm_tlp(struct core *c, struct tcb *t);
/* TT_TLP expired: sends the probe (RFC 8985 7.3). */
void rack_tlp_fire(struct core *c, struct tcb *t);
/* Retransmission timeout: the episode and RACK's state start over. */
void rack_on_rto(struct core *c, struct tcb *t);

#endif /* AATCP_RACK_H */
