/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012): a keyed 64-bit hash, the "F" of RFC 6528 (ISNs),
 * RFC 6056 (ephemeral ports) and RFC 4987 3.6 (SYN cookies).
 */
#ifndef AATCP_SIPHASH_H
#define AATCP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* k0, k1: the 128-bit key as two little-endian 64-bit words (the paper's
 * k = k0 || k1, bytes 0-7 and 8-15). */
uint64_t siphash24(uint64_t k0, uint64_t k1, const void *msg, size_t len);

#endif /* AATCP_SIPHASH_H */
