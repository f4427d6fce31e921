/* eth.c - see eth.h. */
#include "net/eth.h"

#include <string.h>

#include <rte_byteorder.h>

#include "net/arp.h"
#include "net/ipv4.h"

struct rte_ether_hdr *eth_prepend(struct rte_mbuf *m, const struct port *p,
				  const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr h = {.dst_addr = *dst, .src_addr = p->mac,
				  .ether_type = rte_cpu_to_be_16(ether_type)};
	/* The frame may start at any address (a reply built in front of a
	 * received datagram keeps that datagram's alignment): written by
	 * bytes, not through a 2-byte-aligned struct. */
	void *at = rte_pktmbuf_prepend(m, sizeof(h));

	if (!at)
		return NULL;
	memcpy(at, &h, sizeof(h));
	return at;
}

static void drop(struct core *c, struct rte_mbuf *m, enum drop_reason r)
{
	count_drop(&c->cnt, r);
	rte_pktmbuf_free(m);
}

void eth_input(struct core *c, struct port *p, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh;
	uint16_t type;

	c->cnt.rx_pkts++;
	c->cnt.rx_bytes += rte_pktmbuf_pkt_len(m);
	/* Only single-segment frames: no PMD we drive chains RX buffers at MTU
	 * 1500, and a chained frame would break the zero-copy views. */
	if (rte_pktmbuf_data_len(m) < sizeof(*eh) || m->nb_segs != 1)
		return drop(c, m, DROP_eth_short);
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	/* Our own frames come back on other queues' af_packet sockets. */
	if (rte_is_same_ether_addr(&eh->src_addr, &p->mac))
		return drop(c, m, DROP_eth_own_frame);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &p->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr))
		return drop(c, m, DROP_eth_not_for_us);
	type = rte_be_to_cpu_16(eh->ether_type);
	rte_pktmbuf_adj(m, sizeof(*eh));
	if (type == RTE_ETHER_TYPE_IPV4)
		ipv4_input(c, p, m, &eh->src_addr);
	else if (type == RTE_ETHER_TYPE_ARP)
		arp_input(c, p, m);
	else
		drop(c, m, DROP_eth_type);
}
