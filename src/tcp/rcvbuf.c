/*
 * rcvbuf.c - copying receive ring buffer (see rcvbuf.h).
 */
#include "tcp/rcvbuf.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/seq.h"

struct rcvbuf *rcvbuf_create(uint32_t size)
{
	struct rcvbuf *rb;

	if (size == 0)
		return NULL;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->data = malloc(size);
	if (!rb->data) {
		free(rb);
		return NULL;
	}
	rb->size = size;
	return rb;
}

void rcvbuf_destroy(struct rcvbuf *rb)
{
	if (!rb)
		return;
	free(rb->data);
	free(rb);
}

void rcvbuf_reset(struct rcvbuf *rb)
{
	char *data = rb->data;
	uint32_t size = rb->size;

	memset(rb, 0, sizeof(*rb));
	rb->data = data;
	rb->size = size;
}

static uint64_t load_acq(const uint64_t *p)
{
	return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_acquire);
}

static void store_rel(uint64_t *p, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)p, v, memory_order_release);
}

uint64_t rcvbuf_held(const struct rcvbuf *rb)
{
	return load_acq(&rb->tail) - load_acq(&rb->head);
}

uint32_t rcvbuf_space(const struct rcvbuf *rb)
{
	return rb->size - (uint32_t)rcvbuf_held(rb);
}

/* Copy len bytes to ring position pos (a byte count), wrapping once. */
static void ring_put(struct rcvbuf *rb, uint64_t pos, const char *src, uint32_t len)
{
	uint32_t off = (uint32_t)(pos % rb->size);
	uint32_t first = rb->size - off;

	if (first >= len) {
		memcpy(rb->data + off, src, len);
	} else {
		memcpy(rb->data + off, src, first);
		memcpy(rb->data, src + first, len - first);
	}
}

static void ring_get(const struct rcvbuf *rb, uint64_t pos, char *dst, size_t len)
{
	uint32_t off = (uint32_t)(pos % rb->size);
	size_t first = rb->size - off;

	if (first >= len) {
		memcpy(dst, rb->data + off, len);
	} else {
		memcpy(dst, rb->data + off, first);
		memcpy(dst + first, rb->data, len - first);
	}
}

/* Record [start, end) as received out of order, merging with neighbours.
 * Returns 0, or -1 when the interval table is full (segment dropped: the
 * bytes were copied but are not remembered, so the sender retransmits). */
static int ooo_add(struct rcvbuf *rb, uint32_t start, uint32_t end)
{
	uint32_t i = 0, j;

	while (i < rb->n_ooo && seq_lt(rb->ooo[i].end, start))
		i++;
	/* i: first interval that ends at or after start (may touch). */
	if (i < rb->n_ooo && seq_leq(rb->ooo[i].start, end)) {
		rb->ooo[i].start = seq_min(rb->ooo[i].start, start);
		rb->ooo[i].end = seq_max(rb->ooo[i].end, end);
		/* swallow following intervals that now touch */
		j = i + 1;
		while (j < rb->n_ooo && seq_leq(rb->ooo[j].start, rb->ooo[i].end)) {
			rb->ooo[i].end = seq_max(rb->ooo[i].end, rb->ooo[j].end);
			j++;
		}
		if (j > i + 1) {
			memmove(&rb->ooo[i + 1], &rb->ooo[j],
				(rb->n_ooo - j) * sizeof(rb->ooo[0]));
			rb->n_ooo -= j - i - 1;
		}
		return 0;
	}
	if (rb->n_ooo == RCVBUF_MAX_HOLES) {
		rb->ooo_dropped++;
		return -ENOBUFS;
	}
	memmove(&rb->ooo[i + 1], &rb->ooo[i], (rb->n_ooo - i) * sizeof(rb->ooo[0]));
	rb->ooo[i].start = start;
	rb->ooo[i].end = end;
	rb->n_ooo++;
	return 0;
}

uint32_t rcvbuf_input(struct rcvbuf *rb, const char *payload, uint32_t seq,
		      uint32_t len, uint32_t *rcv_nxt)
{
	uint64_t tail = rb->tail; /* only this thread writes it */
	uint32_t nxt = *rcv_nxt, advanced = 0;

	if (len == 0 || seq_lt(seq, nxt) ||
	    (uint64_t)(seq - nxt) + len > rcvbuf_space(rb))
		return 0; /* caller broke the contract; refuse rather than overwrite */
	ring_put(rb, tail + (seq - nxt), payload, len);
	if (seq != nxt) {
		ooo_add(rb, seq, seq + len);
		return 0;
	}
	nxt += len;
	advanced = len;
	/* Out-of-order data that is now contiguous joins the in-order part. */
	while (rb->n_ooo && seq_leq(rb->ooo[0].start, nxt)) {
		if (seq_gt(rb->ooo[0].end, nxt)) {
			advanced += rb->ooo[0].end - nxt;
			nxt = rb->ooo[0].end;
		}
		memmove(&rb->ooo[0], &rb->ooo[1], (rb->n_ooo - 1) * sizeof(rb->ooo[0]));
		rb->n_ooo--;
	}
	*rcv_nxt = nxt;
	store_rel(&rb->tail, tail + advanced);
	return advanced;
}

size_t rcvbuf_peek(const struct rcvbuf *rb, char *buf, size_t len)
{
	uint64_t head = rb->head;
	uint64_t avail = load_acq(&rb->tail) - head;

	if (len > avail)
		len = (size_t)avail;
	if (len)
		ring_get(rb, head, buf, len);
	return len;
}

size_t rcvbuf_read(struct rcvbuf *rb, char *buf, size_t len)
{
	len = rcvbuf_peek(rb, buf, len);
	if (len)
		store_rel(&rb->head, rb->head + len);
	return len;
}

int rcvbuf_sack_blocks(const struct rcvbuf *rb, uint32_t *left,
		       uint32_t *right, int max)
{
	int n = 0;

	/* RFC 2018 section 4 wants the most recently received block first;
	 * the newest data is usually the highest, so report from the top. */
	for (int i = (int)rb->n_ooo - 1; i >= 0 && n < max; i--, n++) {
		left[n] = rb->ooo[i].start;
		right[n] = rb->ooo[i].end;
	}
	return n;
}
