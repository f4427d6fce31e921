/*
 * sacksnd.h - the sender's scoreboard (RFC 6675 section 3): one record per
 * segment sent and not yet cumulatively acknowledged, in sequence order,
 * with what the peer SACKed (RFC 2018), what is deemed lost (RFC 6675
 * IsLost, RACK in rack.c) and what was retransmitted, and each segment's
 * latest transmission time (RACK, RFC 8985 6.1). No fixed limit on SACKed
 * ranges: the record array is sized from the send buffer (one record per
 * 512 bytes, a segment's minimum useful size, plus slack); when it is full,
 * new data joins the last record, which only makes the scoreboard coarser
 * (a coarse record is SACKed only when the whole of it is).
 *
 * Allocated with the first data segment of a connection that negotiated
 * SACK; a TCB without one (no SACK, or no memory) recovers with NewReno.
 */
#ifndef AATCP_SACKSND_H
#define AATCP_SACKSND_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcb.h"

struct tcp_opts;

#define SBF_SACKED 0x1u  /* the peer holds it (RFC 2018) */
#define SBF_LOST 0x2u    /* deemed lost (RFC 6675 IsLost, RACK) */
#define SBF_RETRANS 0x4u /* retransmitted since; RACK clears it when it
			  * deems the retransmission lost too */

struct sb_seg {
	uint32_t seq, end;
	uint64_t xmit_us; /* latest transmission */
	uint32_t flags;
};

struct scoreboard {
	uint32_t sndbuf_size;      /* the send buffer it was made for (tcp/bufcache.h) */
	uint32_t cap, head, n;     /* records seg[head .. head + n) */
	uint32_t sacked_segs;      /* records SACKed */
	uint32_t high_sacked;      /* end of the highest SACKed record (HighACK's
				    * counterpart of RFC 6675: valid while sacked_segs) */
	struct sb_seg seg[];
};

/* Called for every data segment sent at [seq, seq + len): a new record
 * for new data, a new transmission time and SBF_RETRANS for old data.
 * Allocates the scoreboard on first use (SACK connections only). */
void sacksnd_on_send(struct tcb *t, uint32_t seq, uint32_t len, uint64_t now_us);
/* Gives the connection's scoreboard back to the core's cache. */
void sacksnd_free(struct core *c, struct tcb *t);
/* An empty scoreboard with room for a send buffer of `sndbuf_size` bytes
 * (NULL: out of memory), and the same emptied for reuse; only
 * tcp/bufcache.c calls these. */
struct scoreboard *sacksnd_create(uint32_t sndbuf_size);
void sacksnd_reset(struct scoreboard *sb);

/* Records the SACK blocks of an ACK (those inside (snd_una, snd_max]; a
 * D-SACK below snd_una, RFC 2883, is no hole). Each record newly SACKed is
 * passed to rack_delivered(). Returns true if any record became SACKed:
 * RFC 6675's definition of a duplicate acknowledgment. */
bool sacksnd_update(struct core *c, struct tcb *t, const struct tcp_opts *o);
/* snd_una moved to ack: drops the records it covers, passing those not
 * SACKed before to rack_delivered(). */
void sacksnd_advance(struct core *c, struct tcb *t, uint32_t ack);
/* After a retransmission timeout: the receiver may have reneged (RFC 2018
 * section 8), so no record stays SACKed; everything outstanding is lost
 * (RFC 6675 5.1: retransmit it all, go-back-N). */
void sacksnd_on_rto(struct tcb *t);

/* RFC 6675 IsLost(): marks lost every record with DupThresh SACKed
 * records, or more than (DupThresh - 1) * SMSS SACKed bytes, above it.
 * Returns how many were newly marked. */
uint32_t sacksnd_mark_lost(struct tcb *t);
/* RFC 6675 SetPipe(): bytes in flight: a record not SACKed counts once
 * unless lost, once more if retransmitted. */
uint32_t sacksnd_pipe(const struct tcb *t);
/* RFC 6675 NextSeg() rules (1) and (3): the first record lost and not
 * retransmitted (lost = true), else the first neither SACKed nor
 * retransmitted below the highest SACKed byte (lost = false). */
bool sacksnd_next_seg(const struct tcb *t, bool lost, uint32_t *seq, uint32_t *len);
/* NextSeg() rule (4), the rescue retransmission: the highest record not
 * SACKed, unless it was retransmitted already. */
bool sacksnd_last_unsacked(const struct tcb *t, uint32_t *seq, uint32_t *len);
/* Records not SACKed and not yet deemed lost, for RACK's loss detection
 * (rack.c); NULL at the end. i starts at 0. */
struct sb_seg *sacksnd_iter(struct tcb *t, uint32_t *i);
/* Any record lost and waiting to be retransmitted. */
bool sacksnd_any_lost(const struct tcb *t);
/* RFC 6675 5 (4): DupThresh duplicate ACKs without SACK blocks: the first
 * record is lost (unless SACKed or retransmitted already). */
bool sacksnd_mark_first_lost(struct tcb *t);

static inline uint32_t sacksnd_sacked_segs(const struct tcb *t)
{
	return t->sbd ? t->sbd->sacked_segs : 0;
}

#endif /* AATCP_SACKSND_H */
