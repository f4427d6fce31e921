/*
 * flow.h - per-core flow table: 4-tuple -> TCB, chained hash, sized from
 * max_concurrency. Network thread only.
 */
#ifndef AATCP_FLOW_H
#define AATCP_FLOW_H

#include <stdint.h>

#include "io/flow_hash.h"

struct tcb;
struct flow_table;

struct flow_table *flow_create(uint32_t max_flows);
void flow_destroy(struct flow_table *ft);
void flow_insert(struct flow_table *ft, struct tcb *t);
void flow_remove(struct flow_table *ft, struct tcb *t);
/* Addresses and ports in network byte order, from our point of view. */
struct tcb *flow_lookup(const struct flow_table *ft, uint32_t laddr, uint16_t lport,
			uint32_t raddr, uint16_t rport);
uint32_t flow_count(const struct flow_table *ft);
/* Calls fn for every TCB (teardown). fn may remove the TCB it is given. */
void flow_foreach(struct flow_table *ft, void (*fn)(struct tcb *, void *), void *arg);

#endif /* AATCP_FLOW_H */
