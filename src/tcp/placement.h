/*
 * placement.h - segments that arrived on a core that does not own their
 * flow go to the core that does (the rule and the port types:
 * io/steer.h, docs/architecture.md "Cores and flow placement"). Here, one
 * layer above io/, because owning a flow means having its TCB.
 */
#ifndef AATCP_TCP_PLACEMENT_H
#define AATCP_TCP_PLACEMENT_H

#include <stdbool.h>

#include "core/core.h"

/* True when m (an Ethernet frame from this core's RX queue) belongs to
 * another core and was passed on (or dropped and counted: ring full). */
bool placement_away(struct core *c, struct rte_mbuf *m);
/* Frames other cores passed to this one that it takes; returns how many
 * (<= max). Frames it does not own go on around the ring. */
unsigned placement_receive(struct core *c, struct rte_mbuf **pkts, unsigned max);

/*
 * The flow of m as placement found it, when m is the frame placement looked
 * at last on this core: sets *t (NULL: no flow) and returns true, once. The
 * network thread takes each frame through placement and then straight into
 * input, so no TCB can have been freed or inserted in between; any other
 * frame returns false and the caller looks the flow up itself.
 */
static inline bool placement_take(struct core *c, const struct rte_mbuf *m, struct tcb **t)
{
	if (c->placed.m != m)
		return false;
	c->placed.m = NULL;
	*t = c->placed.t;
	return true;
}

#endif /* AATCP_TCP_PLACEMENT_H */
