/*
 * port.h - DPDK port setup: one RX/TX queue pair per core on every port,
 * any PMD (PCI NICs, net_af_packet, net_af_xdp, net_memif, net_tap), with
 * checksum offloads used when the port offers them.
 */
#ifndef AATCP_PORT_H
#define AATCP_PORT_H

#include "core/core.h"

/* Builds the EAL argument vector from the config (vdevs, PCI allowlist,
 * cores, extra `eal` args). argv points into `store`. Returns argc, or
 * -E2BIG when store or argv is too small. */
int port_eal_args(const struct aatcp_config *c, char *store, size_t store_len,
		  char **argv, int max_args);

/* A port configured as net_af_xdp where AF_XDP cannot run (no kernel
 * support, no PMD) is driven as net_af_packet on the same interface, with a
 * message saying why. Called before port_eal_args(). */
void port_fallback_af_xdp(struct aatcp_config *c);

/* Placement of a multi-queue port whose queues the link chooses, after its
 * devices are set up (split: one device per interface queue, queue q polled
 * by core q % cores). A link that hashes like RSS (port.<name>.link_hash =
 * toeplitz: the lab's tc program, bpf/link_rss.c) puts a frame on queue
 * toeplitz % queues, which steer_predict() computes as an RSS port with a
 * table of `queues` entries, entry i -> core i % cores; it needs a port that
 * receives on the queue the link chose (AF_XDP). A split port without it
 * hashes with the interface's own function (learned). */
void port_link_placement(struct port *p, bool split);

/* A core's packet pool of n mbufs; for_af_xdp (a net_af_xdp port and no
 * PCI one): its objects back to back in one memory chunk, as net_af_xdp
 * registers it as the AF_XDP UMEM (first chunk, populated_size * object
 * size bytes; port.c packed_pool). NULL with rte_errno on failure. */
struct rte_mempool *port_packet_pool(const char *name, uint32_t n, bool for_af_xdp);

/* Creates per-core mempools, configures and starts every port. Returns 0, or
 * -errno (-ENOMEM, -ENODEV, -EINVAL, or DPDK's) with a message naming the
 * port and the problem in err. */
int port_setup_all(struct aatcp_global *g, char *err, int errlen);
/* Stops every port (receiving and sending end; they can still be closed). */
void port_halt_all(struct aatcp_global *g);
/* Stops and closes every port. */
void port_stop_all(struct aatcp_global *g);
/* Once every network thread stopped: an empty TX burst on every queue, so a
 * PMD that frees sent mbufs on its next burst (net_af_xdp: the completion
 * ring) gives the last ones back. */
void port_reclaim_tx(struct aatcp_global *g);

/* The port whose prefix contains ip (network order), or NULL. */
struct port *port_for_dest(struct aatcp_global *g, uint32_t ip, uint32_t *next_hop);
struct port *port_by_ip(struct aatcp_global *g, uint32_t ip);
/* The DPDK device and its queue that core `core` transmits on (and, on a
 * port of one device, receives from); a port of one device per queue has at
 * least one per core. */
static inline uint16_t port_dev(const struct port *p, int core)
{
	return p->devs[p->n_devs > 1 ? core : 0];
}

static inline uint16_t port_queue(const struct port *p, int core)
{
	return (uint16_t)(p->n_devs > 1 ? 0 : core);
}

/* Index in g->ports of the DPDK port id (0 if unknown). */
int port_index(const struct aatcp_global *g, uint16_t dpdk_id);

#endif /* AATCP_PORT_H */
