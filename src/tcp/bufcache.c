/* bufcache.c - see bufcache.h. */
#include "tcp/bufcache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

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

void bufcache_fini(struct core *c)
{
	for (uint32_t i = 0; c->rcv_cache && i < c->rcv_cache->n; i++)
		rcvbuf_destroy(c->rcv_cache->items[i]);
	for (uint32_t i = 0; c->snd_cache && i < c->snd_cache->n; i++)
		sndbuf_destroy(c->snd_cache->items[i]);
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
	struct rcvbuf *rb = kept_size(c->g->conf.rcvbuf, size) ? pop(c->rcv_cache) : NULL;

	if (!rb)
		return rcvbuf_create(size);
	rcvbuf_reset(rb);
	return rb;
}

struct sndbuf *bufcache_snd_get(struct core *c, uint32_t size)
{
	struct sndbuf *sb = kept_size(c->g->conf.sndbuf, size) ? pop(c->snd_cache) : NULL;

	if (!sb)
		return sndbuf_create(size);
	sndbuf_reset(sb);
	return sb;
}

void bufcache_rcv_put(struct core *c, struct rcvbuf *rb)
{
	if (rb && (!kept_size(c->g->conf.rcvbuf, rb->size) || !push(c->rcv_cache, rb)))
		rcvbuf_destroy(rb);
}

void bufcache_snd_put(struct core *c, struct sndbuf *sb)
{
	if (sb && (!kept_size(c->g->conf.sndbuf, sb->size) || !push(c->snd_cache, sb)))
		sndbuf_destroy(sb);
}
