/*
 * splice.h - merging two connections (thesis 5.1.2, figure 5.3): every
 * in-order segment received on `from` goes straight onto `to`'s outbound
 * list in the network thread, and `from` advertises the adaptive window
 *
 *     w_s = alpha * w_c,   alpha = 1 / (1 + 9 b / b0)
 *
 * where w_c is the window `to`'s peer advertises, b the bytes on `to`'s
 * outbound list and b0 the threshold (config `splice_b0`, ~1 MB): alpha is 1
 * with an empty list, 0.1 at b = b0, and tends to 0 beyond, so the sender
 * slows down before the list grows without bound (thesis equation 5.1);
 * beyond the thesis, nothing new is offered while b >= SPLICE_BMAX_B0 * b0,
 * so b <= SPLICE_BMAX_B0 * b0 + rcvbuf whatever w_c and the RTT are.
 *
 * Beyond the thesis (what a real proxy needs): a FIN on `from` becomes a
 * FIN on `to` once everything before it is sent; a RST or a failed
 * connection on either side resets the other; the application may still
 * read (and must free) fragments or records of `from` — a packet buffer is
 * freed only when both the outbound list and the reader are done with it.
 */
#ifndef AATCP_SPLICE_H
#define AATCP_SPLICE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

struct zc_node;

#define ALPHA_SAMPLES 4096
/* Hard ceiling of the outbound list, in units of b0 (splice_window). */
#define SPLICE_BMAX_B0 4

struct alpha_sample {
	uint64_t t_us;
	float alpha;
	uint32_t wc;
	uint64_t b;
};

struct splice {
	struct tcb *from, *to;
	bool app_reads;     /* the application reads `from` (zc or records) */
	uint32_t b0;
	/* the controller's last values, for mtcp_zc_splice_stats */
	double alpha;
	uint32_t wc;
	uint32_t ws;
	uint64_t forwarded;
	uint32_t heads_announced; /* HEADs passed on (splice.c, announce_heads) */
	/* alpha over time (thesis figure 5.4), one sample per ms at most */
	struct alpha_sample samples[ALPHA_SAMPLES];
	uint32_t n_samples;  /* total taken; ring of ALPHA_SAMPLES */
	uint64_t last_sample_us;
};

/* Links from -> to (both TCBs exist; `to` may still be connecting).
 * Switches `from` to zero-copy receive if needed (moving what its ring
 * buffer holds onto the list as copies). Returns 0 or -errno. */
int splice_link(struct core *c, struct tcb *from, struct tcb *to, bool app_reads);
/* The outbound list of t, created at its current send position if needed. */
struct outlist *fwd_outlist(struct core *c, struct tcb *t);
/* zc deliver hook part: node n became in-order on `from` (after `from`'s
 * parser, if any, ran on it). */
void splice_node(struct core *c, struct tcb *from, struct zc_node *n);
/* After input on `from`: a pure splice consumes the nodes at once. */
void splice_after_input(struct core *c, struct tcb *from);
/* Window `from` may advertise (thesis 5.1.2). */
uint32_t splice_window(struct core *c, struct tcb *from);
/* `to` got an ACK that released outbound bytes: `from` may open. */
void splice_acked(struct core *c, struct tcb *to);
/* `from`'s peer finished sending: close `to`'s sending side after it. */
void splice_fin(struct core *c, struct tcb *from);
/* t is gone (reset, failed, freed): reset and unlink its peers. */
void splice_free(struct tcb *t); /* the TCB itself is freed */
void splice_teardown(struct core *c, struct tcb *t, int err);

#endif /* AATCP_SPLICE_H */
