/*
 * arp.h - ARP (RFC 826): answer requests for our addresses, learn senders,
 * request unknown next hops, static entries from the config. One table for
 * all cores: it is written rarely (ARP traffic) and read at connection setup
 * only, since a TCB caches its next hop's MAC.
 */
#ifndef AATCP_ARP_H
#define AATCP_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "core/core.h"

/* Loads the configured static entries: 0, or -ENOSPC when the table is full. */
int arp_init(struct aatcp_global *g);
void arp_fini(void);
/* Looks up ip (network order). Returns true and fills mac when known. */
bool arp_lookup(uint32_t ip, struct rte_ether_addr *mac);
/* Sends a request for ip on port p (rate limited per address). */
void arp_request(struct core *c, struct port *p, uint32_t ip);
/* Handles an ARP frame (the mbuf is consumed). */
void arp_input(struct core *c, struct port *p, struct rte_mbuf *m);
/* Learn ip -> mac (from a frame that arrived from that neighbour). */
void arp_learn(uint32_t ip, const struct rte_ether_addr *mac);

#endif /* AATCP_ARP_H */
