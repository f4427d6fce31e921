/* placement.c - see placement.h. */
#include "tcp/placement.h"

#include <rte_tcp.h>

#include "io/steer.h"
#include "tcp/flow.h"
#include "tcp/tcb.h"

/* The reply to our SYN tells where its 4-tuple lands (learned placement). */
static void note_arrival(struct core *c, const struct tcb *t, const struct rte_mbuf *m,
			 const struct steer_key *k, int queue)
{
	if (tcb_state(t) == TCPS_SYN_SENT)
		steer_learn_arrival(c, m, k, queue);
}

bool placement_away(struct core *c, struct rte_mbuf *m)
{
	struct steer_key k;
	struct tcb *t;

	c->placed.m = NULL;
	if (c->g->n_cores < 2 || !c->steer || !steer_key_of(m, &k))
		return false;
	t = flow_lookup(c->flows, k.laddr, k.lport, k.raddr, k.rport);
	c->placed.m = m;
	c->placed.t = t;
	if (t) {
		note_arrival(c, t, m, &k, c->id);
		return false;
	}
	/* a SYN opens a passive flow on the core whose queue received it */
	if ((k.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) ==
	    RTE_TCP_SYN_FLAG)
		return false;
	c->placed.m = NULL;
	return steer_pass_on(c, m, 0);
}

unsigned placement_receive(struct core *c, struct rte_mbuf **pkts, unsigned max)
{
	unsigned hops[RX_BURST];
	unsigned n, kept = 0;
	int nc = c->g->n_cores;

	/* no hint for these: input takes the kept frames after all of them
	 * were looked up, and one may end a flow another one found */
	c->placed.m = NULL;
	n = steer_dequeue(c, pkts, hops, max < RX_BURST ? max : RX_BURST);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct steer_key k;
		struct tcb *t = NULL;

		if (steer_key_of(m, &k))
			t = flow_lookup(c->flows, k.laddr, k.lport, k.raddr, k.rport);
		if (t) {
			/* it arrived on the queue `hops` cores before this one */
			note_arrival(c, t, m, &k, (c->id - (int)hops[i] % nc + nc) % nc);
			c->cnt.steer_taken++;
		} else if (steer_pass_on(c, m, hops[i])) {
			continue;
		}
		pkts[kept++] = m;
	}
	return kept;
}
