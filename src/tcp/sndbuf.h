/*
 * sndbuf.h - the copying send buffer (mTCP's send path): mtcp_write()
 * copies into it, TCP output copies segments out of it, an ACK releases the
 * acknowledged bytes.
 *
 * Single producer (application thread: sndbuf_write, publishes `tail` with a
 * store-release) and single consumer (network thread: reads between `head`
 * and `tail`, publishes `head` after an ACK with a store-release). Byte
 * counts never wrap; `head_seq` maps byte `head` to a sequence number.
 */
#ifndef AATCP_SNDBUF_H
#define AATCP_SNDBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sndbuf {
	uint64_t head;     /* net: bytes acknowledged and released */
	uint64_t tail;     /* app: bytes written */
	uint32_t size;
	uint32_t head_seq; /* net only: sequence number of byte `head` */
	char *data;
};

struct sndbuf *sndbuf_create(uint32_t size);
void sndbuf_destroy(struct sndbuf *sb);
/* Empty again, as sndbuf_create() made it (same memory and size). */
void sndbuf_reset(struct sndbuf *sb);

/* Application thread. */
size_t sndbuf_write(struct sndbuf *sb, const char *buf, size_t len);
uint32_t sndbuf_space(const struct sndbuf *sb);

/* Network thread. */
void sndbuf_set_seq(struct sndbuf *sb, uint32_t seq); /* first data byte's seq */
uint32_t sndbuf_end_seq(const struct sndbuf *sb);      /* one past the last byte */
/* Copies [seq, seq+len) out; the range must lie within head..tail. With
 * `sum`, returns the partial Internet checksum of the bytes copied (as if
 * dst were at an even offset), computed in the same pass (net/csum.h). */
uint64_t sndbuf_copy(const struct sndbuf *sb, uint32_t seq, char *dst, uint32_t len,
		     bool sum);
/* Releases bytes before ack (clamped to what was written). Returns bytes. */
uint32_t sndbuf_ack(struct sndbuf *sb, uint32_t ack);
uint64_t sndbuf_used(const struct sndbuf *sb);

#endif /* AATCP_SNDBUF_H */
