/*
 * ipv4.h - IPv4 (RFC 791, RFC 1122 3.2.1): validate everything, drop
 * fragments (counted), dispatch TCP and ICMP; build headers on output.
 */
#ifndef AATCP_IPV4_H
#define AATCP_IPV4_H

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "core/core.h"

/* m starts at the IPv4 header; src_mac is the frame's sender (kept in the
 * mbuf's headroom, valid while m is). Consumes m. */
void ipv4_input(struct core *c, struct port *p, struct rte_mbuf *m,
		const struct rte_ether_addr *src_mac);

/* The transport ipv4_input() hands TCP segments to, defined by the layer
 * above (tcp/input.c; declared here so that the network layer names what
 * it calls and includes nothing above it). m starts at the IPv4 header
 * (iphl bytes), trimmed to the IP length; consumed. */
void tcp_input(struct core *c, struct port *p, struct rte_mbuf *m,
	       struct rte_ipv4_hdr *ih, uint16_t iphl,
	       const struct rte_ether_addr *src_mac);

/* Prepends an IPv4 header (no options, DF set, TTL 64) in front of an L4
 * header of l4len bytes already in m; fills the checksum unless the port
 * offloads it. Returns the header, or NULL without headroom. */
struct rte_ipv4_hdr *ipv4_prepend(struct rte_mbuf *m, const struct port *p,
				  uint32_t src, uint32_t dst, uint8_t proto,
				  uint16_t l4len);

#endif /* AATCP_IPV4_H */
