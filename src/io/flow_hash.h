/*
 * flow_hash.h - the hash of a TCP 4-tuple: it files a flow in its core's
 * flow table (tcp/flow.c) and names the core that owns the flow (the
 * frame steering of io/steer.c, the source ports of tcp/connect.c and
 * api/rss.c agree on it).
 */
#ifndef AATCP_FLOW_HASH_H
#define AATCP_FLOW_HASH_H

#include <stdint.h>

/* Addresses and ports in network byte order, from our point of view. */
uint32_t flow_hash(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

#endif /* AATCP_FLOW_HASH_H */
