/*
 * bufcache.h - a core's copying receive and send buffers of the configured
 * sizes (rcvbuf, sndbuf), kept when a connection ends and handed to the
 * next one: in the steady state a connection costs the network thread no
 * malloc or free (issue 14; with short connections the allocator was a
 * sixth of epserver's cycles). Buffers of other sizes (SO_RCVBUF,
 * SO_SNDBUF) come from and go back to the allocator. A cache holds at most
 * one buffer per TCB of the core; it is freed with the core.
 */
#ifndef AATCP_TCP_BUFCACHE_H
#define AATCP_TCP_BUFCACHE_H

#include <stdint.h>

#include "core/core.h"
#include "tcp/rcvbuf.h"
#include "tcp/sndbuf.h"

/* The core's caches for n_tcbs connections: 0, or -ENOMEM. */
int bufcache_init(struct core *c, uint32_t n_tcbs);
/* Frees every cached buffer and the caches. */
void bufcache_fini(struct core *c);

/* An empty buffer of `size` bytes (a cached one when size is the
 * configured one), NULL when out of memory. */
struct rcvbuf *bufcache_rcv_get(struct core *c, uint32_t size);
struct sndbuf *bufcache_snd_get(struct core *c, uint32_t size);
/* A buffer nobody uses any more (NULL: nothing). */
void bufcache_rcv_put(struct core *c, struct rcvbuf *rb);
void bufcache_snd_put(struct core *c, struct sndbuf *sb);

#endif /* AATCP_TCP_BUFCACHE_H */
