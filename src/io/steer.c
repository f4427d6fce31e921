/* steer.c - see steer.h. */
#include "io/steer.h"

#include <stdio.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "io/flow_hash.h"

#define STEER_RING 4096

int steer_init(struct core *c)
{
	char name[32];

	if (c->g->n_cores < 2)
		return 0;
	snprintf(name, sizeof(name), "aatcp_steer_%d", c->id);
	/* many producers (the other cores), one consumer (this core) */
	c->steer_in = rte_ring_create(name, STEER_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	return c->steer_in ? 0 : -1;
}

void steer_fini(struct core *c)
{
	struct rte_mbuf *m;

	if (!c->steer_in)
		return;
	while (rte_ring_dequeue(c->steer_in, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(c->steer_in);
	c->steer_in = NULL;
}

/* Owner core of an IPv4/TCP frame, or -1 for anything else (ARP, ICMP and
 * malformed frames are handled wherever they arrive). */
static int owner(const struct core *c, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih;
	const struct rte_tcp_hdr *th;
	uint16_t len = rte_pktmbuf_data_len(m), hl;

	if (len < sizeof(*eh) + sizeof(*ih) || eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return -1;
	ih = (const struct rte_ipv4_hdr *)(eh + 1);
	hl = (uint16_t)((ih->version_ihl & 0xf) * 4);
	if (ih->next_proto_id != IPPROTO_TCP || hl < sizeof(*ih) ||
	    len < sizeof(*eh) + hl + sizeof(*th))
		return -1;
	th = (const struct rte_tcp_hdr *)((const char *)ih + hl);
	/* our point of view: local = destination */
	return (int)(flow_hash(ih->dst_addr, th->dst_port, ih->src_addr, th->src_port) %
		     (uint32_t)c->g->n_cores);
}

bool steer_away(struct core *c, struct rte_mbuf *m)
{
	int o;

	if (c->g->n_cores < 2)
		return false;
	o = owner(c, m);
	if (o < 0 || o == c->id)
		return false;
	struct core *dst = c->g->cores[o];
	if (!dst || !dst->steer_in || rte_ring_enqueue(dst->steer_in, m)) {
		count_drop(&c->cnt, DROP_steer_full);
		rte_pktmbuf_free(m);
	} else {
		c->cnt.steered++;
	}
	return true;
}

unsigned steer_receive(struct core *c, struct rte_mbuf **pkts, unsigned max)
{
	if (!c->steer_in)
		return 0;
	return rte_ring_dequeue_burst(c->steer_in, (void **)pkts, max, NULL);
}
