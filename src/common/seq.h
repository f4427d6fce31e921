/*
 * seq.h - TCP sequence number arithmetic, modulo 2^32 (RFC 9293 section
 * 3.4). Every comparison of sequence or acknowledgment numbers in aatcp goes
 * through these helpers: a plain '<' on two sequence numbers is a bug once
 * the stream wraps around 2^32.
 */
#ifndef AATCP_SEQ_H
#define AATCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* a < b in sequence space: the signed distance from a to b is positive. */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* lo <= x < hi, the window test of RFC 9293 section 3.10.7.4. */
static inline bool seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return seq_leq(lo, x) && seq_lt(x, hi);
}

#endif /* AATCP_SEQ_H */
