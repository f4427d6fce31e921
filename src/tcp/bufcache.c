/* bufcache.c - see bufcache.h. */
#include "tcp/bufcache.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer a cached object is poisoned, as a freed one would
 * be: a use after its connection ended is still reported. A buffer's
 * `data` pointer (the structs' last member) stays readable: LeakSanitizer
 * does not look for pointers in poisoned memory, and would report the
 * bytes of a buffer still cached at exit as leaked. */
#if defined(__SANITIZE_ADDRESS__)
#define BUFCACHE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUFCACHE_ASAN 1
#endif
#endif
_Static_assert(offsetof(struct rcvbuf, data) + sizeof(char *) == sizeof(struct rcvbuf),
	       "rcvbuf: data is the last member (left unpoisoned)");
_Static_assert(offsetof(struct sndbuf, data) + sizeof(char *) == sizeof(struct sndbuf),
	       "sndbuf: data is the last member (left unpoisoned)");

#ifdef BUFCACHE_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct bufstack {
	uint32_t n, cap;
	void *items[];
};

/* One kind of cached object: the bytes of its header that are poisoned
 * while cached, where its body lies (read from the unpoisoned header),
 * and how it goes back to the allocator. */
struct kind {
	size_t head_len;
	void (*body)(const void *obj, void **p, size_t *n);
	void *(*create)(uint32_t size);
	void (*reset)(void *obj);
	void (*destroy)(void *obj);
};

enum { K_RCV, K_SND, K_SBD, K_N };

struct bufcache {
	struct bufstack *stack[K_N];
};

static void rcv_body(const void *obj, void **p, size_t *n)
{
	const struct rcvbuf *rb = obj;

	*p = rb->data;
	*n = rb->size;
}

static void snd_body(const void *obj, void **p, size_t *n)
{
	const struct sndbuf *sb = obj;

	*p = sb->data;
	*n = sb->size;
}

static void sbd_body(const void *obj, void **p, size_t *n)
{
	struct scoreboard *sb = (struct scoreboard *)obj;

	*p = sb->seg;
	*n = (size_t)sb->cap * sizeof(sb->seg[0]);
}

static void *rcv_create(uint32_t size)
{
	return rcvbuf_create(size);
}

static void rcv_reset(void *obj)
{
	rcvbuf_reset(obj);
}

static void rcv_destroy(void *obj)
{
	rcvbuf_destroy(obj);
}

static void *snd_create(uint32_t size)
{
	return sndbuf_create(size);
}

static void snd_reset(void *obj)
{
	sndbuf_reset(obj);
}

static void snd_destroy(void *obj)
{
	sndbuf_destroy(obj);
}

static void *sbd_create(uint32_t sndbuf_size)
{
	return sacksnd_create(sndbuf_size);
}

static void sbd_reset(void *obj)
{
	sacksnd_reset(obj);
}

static const struct kind kinds[K_N] = {
	[K_RCV] = {offsetof(struct rcvbuf, data), rcv_body, rcv_create, rcv_reset, rcv_destroy},
	[K_SND] = {offsetof(struct sndbuf, data), snd_body, snd_create, snd_reset, snd_destroy},
	[K_SBD] = {sizeof(struct scoreboard), sbd_body, sbd_create, sbd_reset, free},
};

static struct bufstack *stack_create(uint32_t cap)
{
	struct bufstack *s = malloc(sizeof(*s) + (size_t)cap * sizeof(void *));

	if (s) {
		s->n = 0;
		s->cap = cap;
	}
	return s;
}

int bufcache_init(struct core *c, uint32_t n_tcbs)
{
	c->bufcache = calloc(1, sizeof(*c->bufcache));
	if (!c->bufcache)
		return -ENOMEM;
	for (int k = 0; k < K_N; k++)
		if (!(c->bufcache->stack[k] = stack_create(n_tcbs)))
			return -ENOMEM;
	return 0;
}

static void unpoison(int k, void *obj)
{
	void *p;
	size_t n;

	UNPOISON(obj, kinds[k].head_len);
	kinds[k].body(obj, &p, &n);
	UNPOISON(p, n);
}

static void poison(int k, void *obj)
{
	void *p;
	size_t n;

	kinds[k].body(obj, &p, &n);
	POISON(p, n);
	POISON(obj, kinds[k].head_len);
}

void bufcache_fini(struct core *c)
{
	if (!c->bufcache)
		return;
	for (int k = 0; k < K_N; k++) {
		struct bufstack *s = c->bufcache->stack[k];
		for (uint32_t i = 0; s && i < s->n; i++) {
			unpoison(k, s->items[i]);
			kinds[k].destroy(s->items[i]);
		}
		free(s);
	}
	free(c->bufcache);
	c->bufcache = NULL;
}

/* Only objects of the configured sizes are kept: they are the common case. */
static bool kept_size(int conf_size, uint32_t size)
{
	return conf_size > 0 && size == (uint32_t)conf_size;
}

/* An emptied object of kind k for `size`: a cached one when size is the
 * kept one (conf_size), else a new one (NULL: out of memory). */
static void *get(struct core *c, int k, int conf_size, uint32_t size)
{
	struct bufstack *s = c->bufcache ? c->bufcache->stack[k] : NULL;
	void *obj;

	if (!kept_size(conf_size, size) || !s || !s->n)
		return kinds[k].create(size);
	obj = s->items[--s->n];
	unpoison(k, obj);
	kinds[k].reset(obj);
	return obj;
}

/* Keeps obj for the next connection when it is of the kept size and the
 * cache has room; frees it otherwise. */
static void put(struct core *c, int k, void *obj, bool kept)
{
	struct bufstack *s = c->bufcache ? c->bufcache->stack[k] : NULL;

	if (!obj)
		return;
	if (!kept || !s || s->n == s->cap) {
		kinds[k].destroy(obj);
		return;
	}
	poison(k, obj);
	s->items[s->n++] = obj;
}

struct rcvbuf *bufcache_rcv_get(struct core *c, uint32_t size)
{
	return get(c, K_RCV, c->g->conf.rcvbuf, size);
}

struct sndbuf *bufcache_snd_get(struct core *c, uint32_t size)
{
	return get(c, K_SND, c->g->conf.sndbuf, size);
}

struct scoreboard *bufcache_sbd_get(struct core *c, uint32_t sndbuf_size)
{
	return get(c, K_SBD, c->g->conf.sndbuf, sndbuf_size);
}

void bufcache_rcv_put(struct core *c, struct rcvbuf *rb)
{
	put(c, K_RCV, rb, rb && kept_size(c->g->conf.rcvbuf, rb->size));
}

void bufcache_snd_put(struct core *c, struct sndbuf *sb)
{
	put(c, K_SND, sb, sb && kept_size(c->g->conf.sndbuf, sb->size));
}

void bufcache_sbd_put(struct core *c, struct scoreboard *sb)
{
	put(c, K_SBD, sb, sb && kept_size(c->g->conf.sndbuf, sb->sndbuf_size));
}
