/* io.c - see io.h. */
#include "io/io.h"

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>

#include "io/fault.h"
#include "io/port.h"

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
				return -ENOMEM;
		}
		if (fc->tx) {
			c->fault_tx[i] = fault_create(fc, seed + 1, c->pool, &c->cnt);
			if (!c->fault_tx[i])
				return -ENOMEM;
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

/* The core's RX queue, or on a port of one device per queue its devices
 * c->id, c->id + cores, ... (io/port.h) */
static uint16_t rx_burst(struct core *c, struct port *p, struct rte_mbuf **pkts, uint16_t max)
{
	uint16_t n = 0;

	if (p->n_devs <= 1)
		return rte_eth_rx_burst(p->dpdk_id, (uint16_t)c->id, pkts, max);
	for (int d = c->id; d < p->n_devs && n < max; d += c->g->n_cores)
		n += rte_eth_rx_burst(p->devs[d], 0, pkts + n, (uint16_t)(max - n));
	return n;
}

uint16_t io_rx(struct core *c, struct port *p, struct rte_mbuf **pkts, uint16_t max)
{
	struct fault *f = c->fault_rx[p->index];
	uint16_t n;

	if (!f)
		return rx_burst(c, p, pkts, max);
	struct rte_mbuf *raw[RX_BURST];
	n = rx_burst(c, p, raw, max);
	return fault_apply(f, raw, n, pkts, max, c->now_us);
}

/* Hands the queued frames to the PMD, oldest first; what the TX ring does
 * not take stays queued, in order, for the next try (never dropped: our
 * own segments lost here would cost the peer a retransmission timeout). */
static void tx_burst(struct core *c, struct port *p)
{
	struct rte_mbuf **pkts = c->tx[p->index].pkts;
	struct fault *f = c->fault_tx[p->index];
	uint16_t n = c->tx[p->index].n, offer = n, sent;

	if (f && fault_tx_refuses(f))
		offer = 0; /* the injected "TX ring full" */
	sent = offer ? rte_eth_tx_burst(port_dev(p, c->id), port_queue(p, c->id), pkts,
					   offer) : 0;
	c->cnt.tx_pkts += sent;
	if (sent < n) {
		c->cnt.tx_ring_full++;
		c->tx[p->index].refused = true;
		memmove(pkts, pkts + sent, (size_t)(n - sent) * sizeof(*pkts));
	}
	c->tx[p->index].n = (uint16_t)(n - sent);
}

static void tx_queue(struct core *c, struct port *p, struct rte_mbuf *m)
{
	uint16_t *n = &c->tx[p->index].n;

	/* a full burst goes out at once, unless the ring refused one this
	 * iteration (then the next io_flush() tries again) */
	if (*n >= TX_BURST && !c->tx[p->index].refused)
		tx_burst(c, p);
	if (*n == TXQ_LEN) {
		/* only if segments ignored io_tx_room(): a bug, counted */
		count_drop(&c->cnt, DROP_tx_full);
		rte_pktmbuf_free(m);
		return;
	}
	c->cnt.tx_bytes += rte_pktmbuf_pkt_len(m);
	c->tx[p->index].pkts[(*n)++] = m;
}

uint32_t io_tx_room(const struct core *c, const struct port *p)
{
	uint16_t n = c->tx[p->index].n;

	return n >= TXQ_LEN - TXQ_RESERVE ? 0 : (uint32_t)(TXQ_LEN - TXQ_RESERVE - n);
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

unsigned io_flush(struct core *c)
{
	struct aatcp_global *g = c->g;
	unsigned left = 0;

	for (int i = 0; i < g->n_ports; i++) {
		struct port *p = &g->ports[i];
		struct fault *f = c->fault_tx[i];

		if (f) {
			struct rte_mbuf *out[TX_BURST];
			uint16_t n = fault_apply(f, NULL, 0, out, TX_BURST, c->now_us);
			for (uint16_t k = 0; k < n; k++)
				tx_queue(c, p, out[k]);
		}
		c->tx[i].refused = false;
		if (c->tx[i].n)
			tx_burst(c, p);
		left += c->tx[i].n;
	}
	return left;
}

void io_tx_discard(struct core *c)
{
	for (int i = 0; i < CONFIG_MAX_PORTS; i++) {
		for (uint16_t k = 0; k < c->tx[i].n; k++)
			rte_pktmbuf_free(c->tx[i].pkts[k]);
		c->tx[i].n = 0;
	}
}
