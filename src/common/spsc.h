/*
 * spsc.h - bounded single-producer single-consumer ring of fixed-size
 * entries, the only channel between a context's application thread and its
 * network thread besides the SPSC data buffers themselves.
 *
 * The producer writes the entry, then publishes `tail` with a store-release;
 * the consumer reads `tail` with a load-acquire, copies the entry, then
 * publishes `head` with a store-release so the producer may reuse the slot.
 * Each index is written by exactly one thread, so no compare-and-swap is
 * needed. Capacity is a power of two; indices run freely and are masked.
 */
#ifndef AATCP_SPSC_H
#define AATCP_SPSC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct spsc {
	_Alignas(64) _Atomic uint32_t head; /* consumer */
	_Alignas(64) _Atomic uint32_t tail; /* producer */
	_Alignas(64) uint32_t mask;
	uint32_t esize;
	unsigned char *slots;
};

/* 0, -EINVAL (capacity not a power of two) or -ENOMEM. */
static inline int spsc_init(struct spsc *q, uint32_t capacity_pow2, uint32_t esize)
{
	if (capacity_pow2 == 0 || (capacity_pow2 & (capacity_pow2 - 1)))
		return -EINVAL;
	q->slots = calloc(capacity_pow2, esize);
	if (!q->slots)
		return -ENOMEM;
	q->mask = capacity_pow2 - 1;
	q->esize = esize;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	return 0;
}

static inline void spsc_free(struct spsc *q)
{
	free(q->slots);
	q->slots = NULL;
}

static inline bool spsc_push(struct spsc *q, const void *e)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);

	if (t - h > q->mask)
		return false;
	memcpy(q->slots + (size_t)(t & q->mask) * q->esize, e, q->esize);
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

static inline bool spsc_pop(struct spsc *q, void *e)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);

	if (h == t)
		return false;
	memcpy(e, q->slots + (size_t)(h & q->mask) * q->esize, q->esize);
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return true;
}

static inline bool spsc_empty(struct spsc *q)
{
	return atomic_load_explicit(&q->head, memory_order_acquire) ==
	       atomic_load_explicit(&q->tail, memory_order_acquire);
}

#endif /* AATCP_SPSC_H */
