/*
 * rcvbuf.h - the standard receive path: a per-socket ring buffer into which
 * in-order and out-of-order payload is copied, and from which mtcp_read()
 * copies to the user (thesis figure 3.1, "standard mTCP"). It is the
 * baseline every zero-copy figure compares against.
 *
 * Single producer (network thread: rcvbuf_input) and single consumer
 * (application thread: rcvbuf_read). `tail` counts bytes made in-order and
 * is published with a store-release after the bytes are written; `head`
 * counts bytes consumed and is published with a store-release after they are
 * copied out. Both are 64-bit byte counts that never wrap.
 */
#ifndef AATCP_RCVBUF_H
#define AATCP_RCVBUF_H

#include <stddef.h>
#include <stdint.h>

#define RCVBUF_MAX_HOLES 32 /* out-of-order intervals kept; more are dropped */

struct rcvbuf_ooo {
	uint32_t start; /* sequence numbers, [start, end) */
	uint32_t end;
};

struct rcvbuf {
	uint64_t head;    /* app: bytes consumed */
	uint64_t tail;    /* net: bytes in order */
	uint32_t size;
	uint32_t n_ooo;   /* net only */
	struct rcvbuf_ooo ooo[RCVBUF_MAX_HOLES]; /* sorted, disjoint, > rcv_nxt */
	uint64_t ooo_dropped; /* segments dropped: too many holes */
	char *data;
};

struct rcvbuf *rcvbuf_create(uint32_t size);
void rcvbuf_destroy(struct rcvbuf *rb);
/* Empty again, as rcvbuf_create() made it (same memory and size). */
void rcvbuf_reset(struct rcvbuf *rb);

/* Network thread. [seq, seq+len) with seq >= *rcv_nxt and
 * seq + len <= *rcv_nxt + rcvbuf_space(rb) (TCP trims to the window).
 * Copies the bytes to their place; if they close the gap at *rcv_nxt the
 * in-order tail advances over them and over out-of-order data that became
 * contiguous. Returns bytes that became in-order (advances *rcv_nxt). */
uint32_t rcvbuf_input(struct rcvbuf *rb, const char *payload, uint32_t seq,
		      uint32_t len, uint32_t *rcv_nxt);

/* Bytes the application has not read yet (either thread). */
uint64_t rcvbuf_held(const struct rcvbuf *rb);
/* Room for new in-order data: the window to advertise. */
uint32_t rcvbuf_space(const struct rcvbuf *rb);

/* Application thread: copy out up to len bytes; peek leaves them. */
size_t rcvbuf_read(struct rcvbuf *rb, char *buf, size_t len);
size_t rcvbuf_peek(const struct rcvbuf *rb, char *buf, size_t len);

/* Network thread: SACK blocks (RFC 2018) for the out-of-order intervals. */
int rcvbuf_sack_blocks(const struct rcvbuf *rb, uint32_t *left,
		       uint32_t *right, int max);

#endif /* AATCP_RCVBUF_H */
