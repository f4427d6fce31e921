/*
 * sack.h - the sender's SACK scoreboard (RFC 2018, RFC 6675): which ranges
 * above snd_una the peer says it holds, so that loss recovery retransmits
 * the holes between them - several per round trip - instead of one segment
 * per round trip (NewReno) or everything after a timeout.
 */
#ifndef AATCP_SACK_H
#define AATCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcb.h"

struct tcp_opts;

/* Records the blocks of an ACK; returns true if they said something new
 * (RFC 6675's definition of a duplicate acknowledgment). Blocks outside
 * (snd_una, snd_max] are ignored (RFC 2018 / RFC 5961: never trust them). */
bool sack_update(struct tcb *t, const struct tcp_opts *o);
/* Drops what snd_una now covers. */
void sack_advance(struct tcb *t);
/* Forgets everything (after a retransmission timeout, RFC 2018 8: the
 * receiver may have reneged). */
void sack_clear(struct tcb *t);
/* The first byte at or after `from` that is not SACKed and lies below the
 * highest SACKed byte; *len is the hole's size. False when none. */
bool sack_next_hole(const struct tcb *t, uint32_t from, uint32_t *seq, uint32_t *len);
uint32_t sack_bytes(const struct tcb *t);

#endif /* AATCP_SACK_H */
