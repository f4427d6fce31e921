/* io.c - see io.h. */
#include "io/io.h"

#include <rte_ethdev.h>

#include "io/fault.h"

int io_faults_init(struct core *c)
{
	struct aatcp_global *g = c->g;

	for (int i = 0; i < g->n_ports; i++) {
		const struct fault_conf *fc = &g->ports[i].conf->fault;
		/* A different stream of faults per port, direction and core,
		 * all derived from the one seed. */
		uint64_t seed = g->conf.fault_seed * 1000003u + (uint64_t)i * 101u +
				(uint64_t)c->id * 7919u;

		if (!fc->enabled)
			continue;
		if (fc->rx) {
			c->fault_rx[i] = fault_create(fc, seed, c->pool, &c->cnt);
			if (!c->fault_rx[i])
				return -1;
		}
		if (fc->tx) {
			c->fault_tx[i] = fault_create(fc, seed + 1, c->pool, &c->cnt);
			if (!c->fault_tx[i])
				return -1;
		}
	}
	return 0;
}

void io_faults_destroy(struct core *c)
{
	for (int i = 0; i < CONFIG_MAX_PORTS; i++) {
		fault_destroy(c->fault_rx[i]);
		fault_destroy(c->fault_tx[i]);
		c->fault_rx[i] = c->fault_tx[i] = NULL;
	}
}

uint16_t io_rx(struct core *c, struct port *p, struct rte_mbuf **pkts, uint16_t max)
{
	struct fault *f = c->fault_rx[p->index];
	uint16_t n;

	if (!f)
		return rte_eth_rx_burst(p->dpdk_id, (uint16_t)c->id, pkts, max);
	struct rte_mbuf *raw[RX_BURST];
	n = rte_eth_rx_burst(p->dpdk_id, (uint16_t)c->id, raw, max);
	return fault_apply(f, raw, n, pkts, max, c->now_us);
}

static void tx_burst(struct core *c, struct port *p)
{
	uint16_t n = c->tx[p->index].n, sent = 0;
	struct rte_mbuf **pkts = c->tx[p->index].pkts;

	/* A short burst means the TX ring is full: retry a few times, then
	 * count and drop rather than stall the thread (TCP retransmits). */
	for (int tries = 0; sent < n && tries < 64; tries++)
		sent += rte_eth_tx_burst(p->dpdk_id, (uint16_t)c->id, pkts + sent, n - sent);
	for (uint16_t i = sent; i < n; i++) {
		count_drop(&c->cnt, DROP_tx_full);
		rte_pktmbuf_free(pkts[i]);
	}
	c->cnt.tx_pkts += sent;
	c->tx[p->index].n = 0;
}

static void tx_queue(struct core *c, struct port *p, struct rte_mbuf *m)
{
	if (c->tx[p->index].n == TX_BURST)
		tx_burst(c, p);
	c->cnt.tx_bytes += rte_pktmbuf_pkt_len(m);
	c->tx[p->index].pkts[c->tx[p->index].n++] = m;
}

void io_tx(struct core *c, struct port *p, struct rte_mbuf *m)
{
	struct fault *f = c->fault_tx[p->index];
	struct rte_mbuf *out[TX_BURST];
	uint16_t n;

	if (!f) {
		tx_queue(c, p, m);
		return;
	}
	n = fault_apply(f, &m, 1, out, TX_BURST, c->now_us);
	for (uint16_t i = 0; i < n; i++)
		tx_queue(c, p, out[i]);
}

void io_flush(struct core *c)
{
	struct aatcp_global *g = c->g;

	for (int i = 0; i < g->n_ports; i++) {
		struct port *p = &g->ports[i];
		struct fault *f = c->fault_tx[i];

		if (f) {
			struct rte_mbuf *out[TX_BURST];
			uint16_t n = fault_apply(f, NULL, 0, out, TX_BURST, c->now_us);
			for (uint16_t k = 0; k < n; k++)
				tx_queue(c, p, out[k]);
		}
		if (c->tx[i].n)
			tx_burst(c, p);
	}
}
