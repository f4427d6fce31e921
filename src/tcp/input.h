/*
 * input.h - TCP segment arrival (RFC 9293 section 3.10.7), with RFC 5961's
 * RST/SYN/ACK acceptance rules and RFC 7323's PAWS.
 */
#ifndef AATCP_TCP_INPUT_H
#define AATCP_TCP_INPUT_H

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "core/core.h"

/* m starts at the IPv4 header (iphl bytes), trimmed to the IP length.
 * Consumes m (the receive side keeps its own reference if it wants one). */
void tcp_input(struct core *c, struct port *p, struct rte_mbuf *m,
	       struct rte_ipv4_hdr *ih, uint16_t iphl,
	       const struct rte_ether_addr *src_mac);

#endif /* AATCP_TCP_INPUT_H */
