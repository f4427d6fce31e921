/*
 * eth.h - Ethernet: input dispatch and header prepend.
 */
#ifndef AATCP_ETH_H
#define AATCP_ETH_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "core/core.h"

/* Handles one received frame (consumed: freed or kept by a layer above). */
void eth_input(struct core *c, struct port *p, struct rte_mbuf *m);

/* Prepends an Ethernet header from p's MAC to dst. Returns the header or
 * NULL when the mbuf has no headroom left. */
struct rte_ether_hdr *eth_prepend(struct rte_mbuf *m, const struct port *p,
				  const struct rte_ether_addr *dst, uint16_t ether_type);

#endif /* AATCP_ETH_H */
