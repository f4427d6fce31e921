/* forward.c - see forward.h. */
#include "fwd/forward.h"

#include <stdlib.h>

#include <rte_mbuf.h>

#include "fwd/outlist.h"
#include "fwd/splice.h"
#include "tcp/tcp.h"

void fwd_drop_batch(struct fwd_batch *b)
{
	for (int i = 0; i < b->n; i++)
		rte_pktmbuf_free(b->items[i].mbuf);
	free(b);
}

void fwd_run_batch(struct core *c, struct fwd_batch *b)
{
	struct tcb *to = b->to;
	int st = to->core ? tcb_state(to) : TCPS_CLOSED;
	struct outlist *o;

	if (st == TCPS_CLOSED || atomic_load(&to->wr_closed) || !(o = fwd_outlist(c, to))) {
		fwd_drop_batch(b);
		return;
	}
	for (int i = 0; i < b->n; i++) {
		if (outlist_append(o, b->items[i].mbuf, b->items[i].payload, b->items[i].len))
			count_drop(&c->cnt, DROP_tx_full);
		else
			c->cnt.fwd_segs++;
		rte_pktmbuf_free(b->items[i].mbuf); /* the list holds its own */
	}
	free(b);
	tcp_want_output(c, to);
}
