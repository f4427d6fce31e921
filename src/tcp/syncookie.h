/*
 * syncookie.h - SYN cookies (RFC 4987 section 3.6): when a listener's SYN
 * queue is full, the SYN-ACK's sequence number carries what the connection
 * needs and no state is kept; the peer's ACK brings it back.
 *
 * The cookie (our ISN), from the top bit down:
 *   5 bits   t mod 32, t = a counter ticking every 2^26 us (about 67 s)
 *   3 bits   index of the peer's MSS in a table (rounded down)
 *   24 bits  SipHash-2-4 (secret.c) of the 4-tuple, the peer's ISN, t and
 *            the MSS index
 * A cookie is good for the tick it was made in and the next one.
 *
 * Window scale and SACK-permitted ride in the low 6 bits of the timestamp
 * value of the SYN-ACK, as Linux does: the peer echoes it in TSecr. A peer
 * without timestamps loses both (and the SYN-ACK then offers neither, or
 * the two sides would disagree on the scale); it keeps its MSS (rounded
 * down to the table) and gets a working connection.
 */
#ifndef AATCP_SYNCOOKIE_H
#define AATCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/options.h"

struct core;

/* How long after its last cookie a listener checks ACKs for cookies: the
 * lifetime of a cookie (two ticks). */
#define SYNCOOKIE_TICK_SHIFT 26
#define SYNCOOKIE_LIFE_US (2ull << SYNCOOKIE_TICK_SHIFT)

/* Addresses and ports in network byte order, from our point of view. */
struct cookie_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

/* The ISN for a SYN with sequence number irs and options syn. */
uint32_t syncookie_make(const struct core *c, const struct cookie_tuple *k, uint32_t irs,
			const struct tcp_opts *syn);
/* The TSval of the SYN-ACK (syn->ts_ok only): our clock with the low bits
 * replaced by the peer's window scale and SACK-permitted, never ahead of
 * the clock (timestamps must not go backwards afterwards). */
uint32_t syncookie_tsval(const struct core *c, const struct tcp_opts *syn);
/* The peer's ACK (seq, ack, its options): true when ack - 1 is a cookie we
 * made for this 4-tuple and seq - 1 recently; *syn then holds the SYN's
 * options as far as the cookie kept them (MSS, and with timestamps the
 * window scale, SACK-permitted and TSval). */
bool syncookie_check(const struct core *c, const struct cookie_tuple *k, uint32_t seq,
		     uint32_t ack, const struct tcp_opts *ack_opts, struct tcp_opts *syn);

#endif /* AATCP_SYNCOOKIE_H */
