/*
 * rss.c - mtcp_init_rss(): the source address pool of a context's active
 * opens, as in mTCP. The pool holds the addresses saddr_base ..
 * saddr_base + num_addr - 1 (INADDR_ANY: the address of the port towards
 * daddr) and, for connections to daddr:dport, hands out (address, port)
 * pairs whose replies come back to the calling core's RX queue: pairs the
 * port predicts there (io/steer.h: exact on RSS ports, learned elsewhere),
 * else a pair whose queue is not known yet.
 *
 * The application thread takes pairs round robin and skips those its own
 * open sockets hold; a pair whose previous connection still lingers after
 * close (FIN_WAIT, TIME_WAIT) makes that connect fail with EADDRINUSE
 * (SO_ERROR), like a bound connect in Linux.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "io/port.h"
#include "io/steer.h"
#include "tcp/flow.h"

#define RSS_PORT_LO 1024
#define RSS_PORTS (65536 - RSS_PORT_LO)
#define RSS_GUESS_SCAN 256 /* pairs looked at past the first unknown one */

struct rss_pool {
	uint32_t saddr_base;  /* host byte order */
	int num_addr;
	uint32_t daddr;       /* network byte order */
	uint16_t dport;
	uint32_t next;        /* round-robin cursor over num_addr * RSS_PORTS */
	uint8_t *used;        /* bit per pair: held by an open socket of ours */
};

static bool pair_used(const struct rss_pool *p, uint32_t i)
{
	return p->used[i / 8] >> (i % 8) & 1;
}

static void pair_mark(struct rss_pool *p, uint32_t i, bool on)
{
	if (on)
		p->used[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		p->used[i / 8] &= (uint8_t)~(1u << (i % 8));
}

void rss_free(struct core *c)
{
	if (!c->rss)
		return;
	free(c->rss->used);
	free(c->rss);
	c->rss = NULL;
}

int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr, in_addr_t daddr,
		  in_addr_t dport)
{
	struct core *c = api_core(mctx);
	uint32_t nh;

	if (!c)
		return -1;
	if (num_addr <= 0 || num_addr > 256 || dport > 0xffff) {
		errno = EINVAL;
		return -1;
	}
	if (saddr_base == INADDR_ANY) {
		struct port *p = port_for_dest(c->g, daddr, &nh);
		if (!p) {
			errno = ENETUNREACH;
			return -1;
		}
		saddr_base = p->ip;
	}
	/* the stack answers ARP and accepts segments for its ports' addresses
	 * only: every address of the pool must be one */
	for (int i = 0; i < num_addr; i++)
		if (!port_by_ip(c->g, htonl(ntohl(saddr_base) + (uint32_t)i))) {
			errno = EADDRNOTAVAIL;
			return -1;
		}
	struct rss_pool *p = calloc(1, sizeof(*p));
	size_t bits = (size_t)num_addr * RSS_PORTS;
	if (!p || !(p->used = calloc((bits + 7) / 8, 1))) {
		free(p);
		errno = ENOMEM;
		return -1;
	}
	p->saddr_base = ntohl(saddr_base);
	p->num_addr = num_addr;
	p->daddr = daddr;
	p->dport = (uint16_t)dport;
	p->next = (uint32_t)rand() % (uint32_t)bits;
	rss_free(c);
	c->rss = p;
	return 0;
}

static void pair_of(const struct rss_pool *p, uint32_t i, uint32_t *addr, uint16_t *port)
{
	*addr = htonl(p->saddr_base + i / RSS_PORTS);
	*port = htons((uint16_t)(RSS_PORT_LO + i % RSS_PORTS));
}

/* The queue the replies of the flow arrive on, where the port tells
 * (io/steer.h), -1 when it does not. */
static int reply_queue(struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
		       uint16_t rport)
{
	uint32_t nh;
	const struct port *p = port_for_dest(c->g, raddr, &nh);

	return p ? steer_predict(p, laddr, lport, raddr, rport) : -1;
}

/* Two cores never open the same 4-tuple (io/steer.h); the TCB's end gives
 * the claim back (tcp/tcb.c). */
static bool claim(struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
		  uint16_t rport)
{
	uint32_t nh;
	const struct port *p = port_for_dest(c->g, raddr, &nh);

	return c->g->n_cores < 2 || !p || steer_claim(p, laddr, lport, raddr, rport);
}

bool rss_owned(struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
	       uint16_t rport)
{
	int q = c->g->n_cores > 1 ? reply_queue(c, laddr, lport, raddr, rport) : -1;

	return q < 0 || q == c->id;
}

static int take_pair(struct rss_pool *p, struct socket *s, uint32_t i)
{
	uint32_t addr;
	uint16_t port;

	pair_of(p, i, &addr, &port);
	pair_mark(p, i, true);
	p->next = (i + 1) % ((uint32_t)p->num_addr * RSS_PORTS);
	s->laddr = addr;
	s->lport = port;
	s->rss_pair = (int64_t)i;
	return 1;
}

int rss_pick(struct core *c, struct socket *s, uint32_t raddr, uint16_t rport)
{
	struct rss_pool *p = c->rss;
	uint32_t total, addr;
	uint16_t port;

	if (!p || raddr != p->daddr || rport != p->dport)
		return 0;
	total = (uint32_t)p->num_addr * RSS_PORTS;
	int64_t guess = -1;
	uint32_t guess_k = 0;
	for (uint32_t k = 0; k < total; k++) {
		uint32_t i = (p->next + k) % total;
		if (pair_used(p, i))
			continue;
		pair_of(p, i, &addr, &port);
		int q = c->g->n_cores > 1 ? reply_queue(c, addr, port, raddr, rport) : c->id;
		if (q == c->id && claim(c, addr, port, raddr, rport))
			return take_pair(p, s, i);
		if (q < 0 && guess < 0) {
			guess = i; /* queue not known yet: the reply teaches it */
			guess_k = k;
		}
		if (guess >= 0 && k - guess_k > RSS_GUESS_SCAN)
			break;
	}
	if (guess < 0)
		return -1;
	pair_of(p, (uint32_t)guess, &addr, &port);
	return claim(c, addr, port, raddr, rport) ? take_pair(p, s, (uint32_t)guess) : -1;
}

void rss_release(struct core *c, struct socket *s)
{
	if (s->rss_pair < 0)
		return;
	if (c->rss)
		pair_mark(c->rss, (uint32_t)s->rss_pair, false);
	s->rss_pair = -1;
}
