/*
 * csum.h - the Internet checksum (RFC 1071) in software, for ports without
 * checksum offload (net_af_packet has none). Sums 32-bit words into a 64-bit
 * accumulator and folds at the end: RFC 1071 section 2 (B) allows any word
 * size, and wider words mean fewer additions per byte.
 */
#ifndef AATCP_CSUM_H
#define AATCP_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Partial sum of buf, added to `sum`; not folded, not complemented. */
static inline uint64_t csum_add(const void *buf, size_t len, uint64_t sum)
{
	const unsigned char *p = buf;
	uint32_t w;

	while (len >= 32) {
		uint32_t v[8];
		memcpy(v, p, 32);
		sum += (uint64_t)v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t h = 0;
		memcpy(&h, p, 1); /* odd byte, padded with zero (RFC 1071) */
		sum += h;
	}
	return sum;
}

/* Copies len bytes from src to dst and returns their partial sum added to
 * `sum`, in one pass over the bytes (the send path's copy into the frame
 * is also its checksum pass). The sum is that of dst as if it started at an
 * even offset; see csum_shift(). */
static inline uint64_t csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
	unsigned char *d = dst;
	const unsigned char *p = src;

	while (len >= 32) {
		uint32_t v[8];
		memcpy(v, p, 32);
		memcpy(d, v, 32);
		sum += (uint64_t)v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
		p += 32;
		d += 32;
		len -= 32;
	}
	memcpy(d, p, len);
	return csum_add(d, len, sum); /* the tail, from the bytes just written */
}

/* Fold to 16 bits (not complemented). */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* A partial sum of a block that lies at `offset` in the checksummed data:
 * RFC 1071 2 (B): a block at an odd offset adds byte-swapped. */
static inline uint64_t csum_shift(uint64_t block_sum, size_t offset)
{
	uint16_t f;

	if (!(offset & 1))
		return block_sum;
	f = csum_fold(block_sum);
	return (uint16_t)((f << 8) | (f >> 8));
}

/* TCP/UDP pseudo-header (RFC 9293 3.1): addresses in network order,
 * l4len in host order. */
static inline uint64_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
				   uint16_t l4len)
{
	uint64_t sum = (uint64_t)src + dst;
	uint16_t w[2] = {0, 0};
	unsigned char b[4] = {0, proto, (unsigned char)(l4len >> 8),
			      (unsigned char)(l4len & 0xff)};

	memcpy(w, b, 4);
	return sum + w[0] + w[1];
}

/* Checksum field value for a block (complemented fold). */
static inline uint16_t csum_finish(uint64_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

#endif /* AATCP_CSUM_H */
