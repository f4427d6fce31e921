/* arp.c - see arp.h. */
#include "net/arp.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "io/io.h"
#include "net/eth.h"

#define ARP_SIZE 256
#define ARP_REQUEST_GAP_US 100000 /* at most one request per address per 100 ms */

struct arp_entry {
	uint32_t ip;
	struct rte_ether_addr mac;
	bool valid;
	bool is_static;
	uint64_t requested_us;
};

static struct arp_entry table[ARP_SIZE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct arp_entry *find(uint32_t ip, bool create)
{
	struct arp_entry *free_slot = NULL;

	for (int i = 0; i < ARP_SIZE; i++) {
		if (table[i].ip == ip)
			return &table[i];
		if (!table[i].ip && !free_slot)
			free_slot = &table[i];
	}
	if (create && free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->ip = ip;
		return free_slot;
	}
	return NULL;
}

int arp_init(struct aatcp_global *g)
{
	memset(table, 0, sizeof(table));
	for (int i = 0; i < g->conf.n_arp; i++) {
		struct arp_entry *e = find(g->conf.arp[i].ip, true);
		if (!e)
			return -ENOSPC;
		memcpy(e->mac.addr_bytes, g->conf.arp[i].mac, 6);
		e->valid = e->is_static = true;
	}
	return 0;
}

void arp_fini(void)
{
	memset(table, 0, sizeof(table));
}

bool arp_lookup(uint32_t ip, struct rte_ether_addr *mac)
{
	bool ok = false;

	pthread_mutex_lock(&lock);
	struct arp_entry *e = find(ip, false);
	if (e && e->valid) {
		*mac = e->mac;
		ok = true;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void arp_learn(uint32_t ip, const struct rte_ether_addr *mac)
{
	pthread_mutex_lock(&lock);
	struct arp_entry *e = find(ip, true);
	if (e && !e->is_static) {
		e->mac = *mac;
		e->valid = true;
	}
	pthread_mutex_unlock(&lock);
}

static struct rte_mbuf *arp_frame(struct core *c, struct port *p, uint16_t op,
				  const struct rte_ether_addr *tha, uint32_t tip,
				  const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
	struct rte_arp_hdr *a;

	if (!m) {
		count_drop(&c->cnt, DROP_mbuf_alloc);
		return NULL;
	}
	a = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*a));
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = p->mac;
	a->arp_data.arp_sip = p->ip;
	a->arp_data.arp_tha = *tha;
	a->arp_data.arp_tip = tip;
	eth_prepend(m, p, dst, RTE_ETHER_TYPE_ARP);
	return m;
}

void arp_request(struct core *c, struct port *p, uint32_t ip)
{
	static const struct rte_ether_addr zero = {{0}};
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	uint64_t now = c->now_us; /* the core's clock: deterministic under tests */
	bool send = false;

	pthread_mutex_lock(&lock);
	struct arp_entry *e = find(ip, true);
	if (e && !e->valid && now - e->requested_us >= ARP_REQUEST_GAP_US) {
		e->requested_us = now;
		send = true;
	}
	pthread_mutex_unlock(&lock);
	if (!send)
		return;
	struct rte_mbuf *m = arp_frame(c, p, RTE_ARP_OP_REQUEST, &zero, ip, &bcast);
	if (m) {
		c->cnt.arp_requests++;
		io_tx(c, p, m);
	}
}

void arp_input(struct core *c, struct port *p, struct rte_mbuf *m)
{
	struct rte_arp_hdr *a;

	if (rte_pktmbuf_data_len(m) < sizeof(*a)) {
		count_drop(&c->cnt, DROP_arp_bad);
		rte_pktmbuf_free(m);
		return;
	}
	a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != 6 || a->arp_plen != 4) {
		count_drop(&c->cnt, DROP_arp_bad);
		rte_pktmbuf_free(m);
		return;
	}
	uint16_t op = rte_be_to_cpu_16(a->arp_opcode);
	uint32_t sip = a->arp_data.arp_sip, tip = a->arp_data.arp_tip;
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	rte_pktmbuf_free(m);

	/* RFC 826 "merge": learn senders on our subnet that talk to us. */
	if ((sip & p->mask) == (p->ip & p->mask) && sip && tip == p->ip)
		arp_learn(sip, &sha);
	if (op == RTE_ARP_OP_REQUEST && tip == p->ip) {
		struct rte_mbuf *r = arp_frame(c, p, RTE_ARP_OP_REPLY, &sha, sip, &sha);
		if (r) {
			c->cnt.arp_replies++;
			io_tx(c, p, r);
		}
	}
}
