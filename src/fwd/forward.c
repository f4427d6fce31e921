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

	/* RFC 9293 3.10.4: a shutdown queues the FIN behind every SEND before
	 * it. Commands run in order, so a batch forwarded before the
	 * shutdown comes before CMD_SHUTDOWN_WR: only a FIN this thread has
	 * already queued (fin_queued) ends what may be appended, not the
	 * application's wr_closed, which it sets before its command runs. */
	if (st == TCPS_CLOSED || to->fin_queued || !(o = fwd_outlist(c, to))) {
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
