/*
 * forward.h - the standard forward API (thesis 5.1.2, figure 5.2): after
 * mtcp_zc_read_fragments() on one socket, the application moves fragments
 * onto another socket's outbound list instead of freeing them. The
 * application thread takes one mbuf reference per fragment (atomic, safe
 * from any thread) and hands the batch to the network thread, which
 * appends it; the zero-copy stream then frees its own references as usual.
 */
#ifndef AATCP_FORWARD_H
#define AATCP_FORWARD_H

#include <stdint.h>

#include "core/core.h"

struct fwd_item {
	struct rte_mbuf *mbuf; /* a reference taken for the outbound list */
	char *payload;
	uint32_t len;
};

struct fwd_batch {
	struct tcb *to;
	int n;
	struct fwd_item items[];
};

/* Network thread: append the batch to its socket's list, free the batch. */
void fwd_run_batch(struct core *c, struct fwd_batch *b);
/* Network thread: drop the references of a batch that cannot be sent. */
void fwd_drop_batch(struct fwd_batch *b);

#endif /* AATCP_FORWARD_H */
