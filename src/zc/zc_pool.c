/*
 * zc_pool.c - fixed-size pool of zero-copy nodes (see zc_stream.h).
 *
 * One pool per network thread, used by that thread only, so no atomics: an
 * array allocated once plus a LIFO free list threaded through `next`, which
 * makes get and put O(1) and keeps recently used (cache-hot) nodes in use.
 * A byte per node records whether it is free, so that a double put is
 * refused and counted instead of corrupting the free list.
 *
 * Under AddressSanitizer a free node is poisoned (all but its `next` link),
 * so a use after zc_pool_put is reported like a use after free().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zc/zc_stream.h"

#if defined(__SANITIZE_ADDRESS__)
#define ZC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZC_ASAN 1
#endif
#endif

#ifdef ZC_ASAN
#include <sanitizer/asan_interface.h>
#define ZC_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define ZC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ZC_POISON(p, n) ((void)(p), (void)(n))
#define ZC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* `next` comes first in struct zc_node; the rest is poisoned while free. */
#define NODE_TAIL_OFF sizeof(struct zc_node *)
#define NODE_TAIL_LEN (sizeof(struct zc_node) - NODE_TAIL_OFF)

struct zc_pool {
	struct zc_node *free_list;
	uint32_t n_free;
	uint32_t size;
	uint32_t used_hw;      /* nodes[0..used_hw-1] were handed out at some time:
				* the LIFO list keeps the others after them, in order */
	uint64_t errors;
	struct zc_node *nodes; /* size nodes */
	uint8_t *is_free;      /* size bytes */
};

static void poison_node(struct zc_node *n)
{
	ZC_POISON((char *)n + NODE_TAIL_OFF, NODE_TAIL_LEN);
	(void)n;
}

static void unpoison_node(struct zc_node *n)
{
	ZC_UNPOISON((char *)n + NODE_TAIL_OFF, NODE_TAIL_LEN);
	(void)n;
}

/* Every node free, listed so that the first gets hand out nodes[0], [1]...
 * Nodes from n on were never handed out: still listed in order. */
static void free_first(struct zc_pool *p, uint32_t n)
{
	struct zc_node *rest = n < p->size ? &p->nodes[n] : NULL;

	for (uint32_t i = n; i-- > 0;) {
		p->is_free[i] = 1;
		p->nodes[i].next = rest;
		rest = &p->nodes[i];
		poison_node(&p->nodes[i]);
	}
	p->free_list = rest;
	p->n_free = p->size;
	p->used_hw = 0;
	p->errors = 0;
}

struct zc_pool *zc_pool_create(uint32_t n_nodes)
{
	struct zc_pool *p;

	if (n_nodes == 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->nodes = calloc(n_nodes, sizeof(*p->nodes));
	p->is_free = malloc(n_nodes);
	if (!p->nodes || !p->is_free) {
		zc_pool_destroy(p);
		return NULL;
	}
	p->size = n_nodes;
	free_first(p, n_nodes);
	return p;
}

int zc_pool_reset(struct zc_pool *p)
{
	if (p->n_free != p->size)
		return -EBUSY;
	free_first(p, p->used_hw);
	return 0;
}

void zc_pool_destroy(struct zc_pool *p)
{
	if (!p)
		return;
	if (p->nodes)
		ZC_UNPOISON(p->nodes, (size_t)p->size * sizeof(*p->nodes));
	free(p->nodes);
	free(p->is_free);
	free(p);
}

uint32_t zc_pool_free_count(const struct zc_pool *p) { return p->n_free; }
uint32_t zc_pool_size(const struct zc_pool *p) { return p->size; }
uint64_t zc_pool_errors(const struct zc_pool *p) { return p->errors; }

struct zc_node *zc_pool_get(struct zc_pool *p)
{
	struct zc_node *n = p->free_list;

	if (!n)
		return NULL;
	p->free_list = n->next;
	p->n_free--;
	p->is_free[n - p->nodes] = 0;
	if ((uint32_t)(n - p->nodes) >= p->used_hw)
		p->used_hw = (uint32_t)(n - p->nodes) + 1;
	unpoison_node(n);
	memset(n, 0, sizeof(*n));
	return n;
}

/* Index of n in the pool's array, or UINT32_MAX when n is not one of ours
 * (compared as integers: relational operators on unrelated pointers are
 * undefined in C). */
static uint32_t node_index(const struct zc_pool *p, const struct zc_node *n)
{
	uintptr_t base = (uintptr_t)p->nodes, addr = (uintptr_t)n;
	uintptr_t off;

	if (addr < base)
		return UINT32_MAX;
	off = addr - base;
	if (off % sizeof(*n) != 0 || off / sizeof(*n) >= p->size)
		return UINT32_MAX;
	return (uint32_t)(off / sizeof(*n));
}

void zc_pool_put(struct zc_pool *p, struct zc_node *n)
{
	uint32_t i = n ? node_index(p, n) : UINT32_MAX;

	if (i == UINT32_MAX || p->is_free[i]) {
		p->errors++;
		return;
	}
	p->is_free[i] = 1;
	n->next = p->free_list;
	p->free_list = n;
	p->n_free++;
	poison_node(n);
}
