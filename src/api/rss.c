/*
 * rss.c - mtcp_init_rss(): the source address pool of a context's active
 * opens, as in mTCP. The pool holds the addresses saddr_base ..
 * saddr_base + num_addr - 1 (INADDR_ANY: the address of the port towards
 * daddr) and, for connections to daddr:dport, hands out (address, port)
 * pairs whose replies come back to the calling core: the pairs this core
 * owns (flow_hash() modulo the number of cores, the rule the network
 * threads steer segments by, io/steer.h).
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
#include "tcp/flow.h"

#define RSS_PORT_LO 1024
#define RSS_PORTS (65536 - RSS_PORT_LO)

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

bool rss_owned(const struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
	       uint16_t rport)
{
	int n = c->g->n_cores;

	return n <= 1 || (int)(flow_hash(laddr, lport, raddr, rport) % (uint32_t)n) == c->id;
}

int rss_pick(struct core *c, struct socket *s, uint32_t raddr, uint16_t rport)
{
	struct rss_pool *p = c->rss;
	uint32_t total, addr;
	uint16_t port;

	if (!p || raddr != p->daddr || rport != p->dport)
		return 0;
	total = (uint32_t)p->num_addr * RSS_PORTS;
	for (uint32_t k = 0; k < total; k++) {
		uint32_t i = (p->next + k) % total;
		if (pair_used(p, i))
			continue;
		pair_of(p, i, &addr, &port);
		if (!rss_owned(c, addr, port, raddr, rport))
			continue;
		pair_mark(p, i, true);
		p->next = (i + 1) % total;
		s->laddr = addr;
		s->lport = port;
		s->rss_pair = (int64_t)i;
		return 1;
	}
	return -1;
}

void rss_release(struct core *c, struct socket *s)
{
	if (s->rss_pair < 0)
		return;
	if (c->rss)
		pair_mark(c->rss, (uint32_t)s->rss_pair, false);
	s->rss_pair = -1;
}
