/*
 * bufcache.h - a core's per-connection memory of the configured sizes,
 * kept when a connection ends and handed to the next one: the copying
 * receive and send buffers (rcvbuf, sndbuf) and the sender's SACK
 * scoreboard (tcp/sacksnd.h, sized from sndbuf). In the steady state a
 * connection costs the network thread no malloc, calloc or free (issue 14;
 * with short connections the allocator was a sixth of epserver's cycles).
 * Objects of other sizes (SO_RCVBUF, SO_SNDBUF) come from and go back to
 * the allocator. A cache holds at most one object per TCB of the core; it
 * is freed with the core.
 */
#ifndef AATCP_TCP_BUFCACHE_H
#define AATCP_TCP_BUFCACHE_H

#include <stdint.h>

#include "core/core.h"
#include "tcp/rcvbuf.h"
#include "tcp/sacksnd.h"
#include "tcp/sndbuf.h"

/* The core's caches for n_tcbs connections: 0, or -ENOMEM. */
int bufcache_init(struct core *c, uint32_t n_tcbs);
/* Frees every cached object and the caches. */
void bufcache_fini(struct core *c);

/* An empty buffer of `size` bytes (a cached one when size is the
 * configured one), NULL when out of memory. */
struct rcvbuf *bufcache_rcv_get(struct core *c, uint32_t size);
struct sndbuf *bufcache_snd_get(struct core *c, uint32_t size);
/* An empty scoreboard for a send buffer of `sndbuf_size` bytes. */
struct scoreboard *bufcache_sbd_get(struct core *c, uint32_t sndbuf_size);
/* An object nobody uses any more (NULL: nothing). */
void bufcache_rcv_put(struct core *c, struct rcvbuf *rb);
void bufcache_snd_put(struct core *c, struct sndbuf *sb);
void bufcache_sbd_put(struct core *c, struct scoreboard *sb);

#endif /* AATCP_TCP_BUFCACHE_H */
