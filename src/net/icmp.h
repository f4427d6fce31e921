/* icmp.h - ICMP echo (RFC 792): answer pings to our addresses. */
#ifndef AATCP_ICMP_H
#define AATCP_ICMP_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "core/core.h"

/* m starts at the IPv4 header of hlen bytes; consumed. */
void icmp_input(struct core *c, struct port *p, struct rte_mbuf *m, uint16_t hlen,
		const struct rte_ether_addr *src_mac);

#endif /* AATCP_ICMP_H */
