/* bufcache.c - see bufcache.h. */
#include "tcp/bufcache.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Under AddressSanitizer a cached buffer is poisoned, as a freed one would
 * be: a use after its connection ended is still reported. The `data`
 * pointer (the structs' last member) stays readable: LeakSanitizer does
 * not look for pointers in poisoned memory, and would report the bytes
 * of a buffer still cached at exit as leaked. */
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
	c->rcv_cache = stack_create(n_tcbs);
	c->snd_cache = stack_create(n_tcbs);
	return c->rcv_cache && c->snd_cache ? 0 : -ENOMEM;
}

static struct rcvbuf *rcv_unpoison(struct rcvbuf *rb)
{
	if (rb) {
		UNPOISON(rb, sizeof(*rb));
		UNPOISON(rb->data, rb->size);
	}
	return rb;
}

static struct sndbuf *snd_unpoison(struct sndbuf *sb)
{
	if (sb) {
		UNPOISON(sb, sizeof(*sb));
		UNPOISON(sb->data, sb->size);
	}
	return sb;
}

void bufcache_fini(struct core *c)
{
	for (uint32_t i = 0; c->rcv_cache && i < c->rcv_cache->n; i++)
		rcvbuf_destroy(rcv_unpoison(c->rcv_cache->items[i]));
	for (uint32_t i = 0; c->snd_cache && i < c->snd_cache->n; i++)
		sndbuf_destroy(snd_unpoison(c->snd_cache->items[i]));
	free(c->rcv_cache);
	free(c->snd_cache);
	c->rcv_cache = NULL;
	c->snd_cache = NULL;
}

static void *pop(struct bufstack *s)
{
	return s && s->n ? s->items[--s->n] : NULL;
}

static bool push(struct bufstack *s, void *b)
{
	if (!s || s->n == s->cap)
		return false;
	s->items[s->n++] = b;
	return true;
}

/* Only buffers of the configured size are kept: they are the common case. */
static bool kept_size(int conf_size, uint32_t size)
{
	return conf_size > 0 && size == (uint32_t)conf_size;
}

struct rcvbuf *bufcache_rcv_get(struct core *c, uint32_t size)
{
	struct rcvbuf *rb = kept_size(c->g->conf.rcvbuf, size) ? rcv_unpoison(pop(c->rcv_cache)) : NULL;

	if (!rb)
		return rcvbuf_create(size);
	rcvbuf_reset(rb);
	return rb;
}

struct sndbuf *bufcache_snd_get(struct core *c, uint32_t size)
{
	struct sndbuf *sb = kept_size(c->g->conf.sndbuf, size) ? snd_unpoison(pop(c->snd_cache)) : NULL;

	if (!sb)
		return sndbuf_create(size);
	sndbuf_reset(sb);
	return sb;
}

void bufcache_rcv_put(struct core *c, struct rcvbuf *rb)
{
	if (!rb)
		return;
	if (!kept_size(c->g->conf.rcvbuf, rb->size) || !push(c->rcv_cache, rb)) {
		rcvbuf_destroy(rb);
		return;
	}
	POISON(rb->data, rb->size);
	POISON(rb, offsetof(struct rcvbuf, data));
}

void bufcache_snd_put(struct core *c, struct sndbuf *sb)
{
	if (!sb)
		return;
	if (!kept_size(c->g->conf.sndbuf, sb->size) || !push(c->snd_cache, sb)) {
		sndbuf_destroy(sb);
		return;
	}
	POISON(sb->data, sb->size);
	POISON(sb, offsetof(struct sndbuf, data));
}
