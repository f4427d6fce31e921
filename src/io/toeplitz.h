/*
 * toeplitz.h - the Toeplitz hash of RSS ("Microsoft RSS: Verifying the RSS
 * Hash Calculation") over a byte string in network order, and the RX queue a
 * link that spreads frames like an RSS NIC puts an IPv4/TCP frame on.
 *
 * One definition for two compilers: the stack predicts reply queues with it
 * (io/steer.c) and the lab's tc program (bpf/link_rss.c, clang -target bpf)
 * chooses the queue with it, so the two cannot disagree. Plain C: no DPDK,
 * no libc beyond the fixed-width types, loops bounded by constants.
 */
#ifndef AATCP_TOEPLITZ_H
#define AATCP_TOEPLITZ_H

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 uint8_t;
typedef __u16 uint16_t;
typedef __u32 uint32_t;
#else
#include <stdint.h>
#endif

/* The key length RSS NICs take (40 bytes: up to 36 input bytes). */
#define TOEPLITZ_KEY_LEN 40
/* IPv4 source and destination address, then (L4) source and destination port. */
#define TOEPLITZ_V4_L3_LEN 8
#define TOEPLITZ_V4_L4_LEN 12

/* Microsoft's RSS verification key: RSS ports are programmed with it
 * (io/port.c) and the lab's link_rss program hashes with it. */
#define TOEPLITZ_KEY_INIT                                                         \
	{0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, \
	 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, \
	 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, \
	 0xfa}

/* For each input bit that is set, XOR in the 32 key bits starting at that
 * bit's position (len <= TOEPLITZ_KEY_LEN - 4). */
static inline uint32_t toeplitz_hash(const uint8_t *key, const uint8_t *in, unsigned len)
{
	uint32_t h = 0;
	uint32_t win = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
		       (uint32_t)key[2] << 8 | key[3];

	for (unsigned i = 0; i < TOEPLITZ_V4_L4_LEN; i++) {
		if (i >= len)
			break;
		for (int b = 7; b >= 0; b--) {
			/* branch-free: the BPF verifier walks one path */
			h ^= win & (0u - ((uint32_t)in[i] >> b & 1));
			win = win << 1 | ((uint32_t)key[i + 4] >> b & 1);
		}
	}
	return h;
}

/* The hash of an IPv4 segment from saddr:sport to daddr:dport (all as on
 * the wire: network byte order in memory); l4: with the ports. */
static inline uint32_t toeplitz_v4(const uint8_t *key, uint32_t saddr, uint16_t sport,
				   uint32_t daddr, uint16_t dport, int l4)
{
	uint8_t in[TOEPLITZ_V4_L4_LEN];
	const uint8_t *s = (const uint8_t *)&saddr, *d = (const uint8_t *)&daddr;
	const uint8_t *sp = (const uint8_t *)&sport, *dp = (const uint8_t *)&dport;

	for (int i = 0; i < 4; i++) {
		in[i] = s[i];
		in[4 + i] = d[i];
	}
	in[8] = sp[0];
	in[9] = sp[1];
	in[10] = dp[0];
	in[11] = dp[1];
	return toeplitz_hash(key, in, l4 ? TOEPLITZ_V4_L4_LEN : TOEPLITZ_V4_L3_LEN);
}

/* The RX queue of `queues` that a link hashing like RSS (IPv4 + TCP ports,
 * redirection entry i -> queue i % queues) gives an IPv4/TCP segment. */
static inline unsigned toeplitz_queue(const uint8_t *key, uint32_t saddr, uint16_t sport,
				      uint32_t daddr, uint16_t dport, unsigned queues)
{
	return toeplitz_v4(key, saddr, sport, daddr, dport, 1) % queues;
}

#endif /* AATCP_TOEPLITZ_H */
