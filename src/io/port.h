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

/* Creates per-core mempools, configures and starts every port. Returns 0, or
 * -errno (-ENOMEM, -ENODEV, -EINVAL, or DPDK's) with a message naming the
 * port and the problem in err. */
int port_setup_all(struct aatcp_global *g, char *err, int errlen);
void port_stop_all(struct aatcp_global *g);

/* The port whose prefix contains ip (network order), or NULL. */
struct port *port_for_dest(struct aatcp_global *g, uint32_t ip, uint32_t *next_hop);
struct port *port_by_ip(struct aatcp_global *g, uint32_t ip);
/* Index in g->ports of the DPDK port id (0 if unknown). */
int port_index(const struct aatcp_global *g, uint16_t dpdk_id);

#endif /* AATCP_PORT_H */
