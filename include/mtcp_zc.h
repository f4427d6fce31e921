/*
 * mtcp_zc.h - zero-copy receive (thesis ch. 3) and zero-copy forwarding
 * (thesis ch. 5).
 *
 * Zero-copy receive: a socket opts in with mtcp_zc_enable() before data
 * arrives (on a listening socket it is inherited by every accepted socket; on
 * an active socket call it before mtcp_connect()). From then on the socket's
 * ring buffer is bypassed: each in-order segment becomes one fragment that
 * points into the DPDK packet buffer it arrived in (thesis figure 3.2).
 *
 * Ownership: fragments returned by mtcp_zc_read_fragments() stay valid until
 * mtcp_zc_free_fragments() releases them; the advertised receive window is
 * the receive buffer minus the bytes the application still holds.
 */
#ifndef AATCP_MTCP_ZC_H
#define AATCP_MTCP_ZC_H

#include <stdint.h>

#include "mtcp_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One contiguous view of payload bytes inside a packet buffer (thesis
 * figure 3.6): bytes [start, end). */
struct stream_fragment_content {
	char *start;
	char *end;
};

/* Switch the socket to the zero-copy receive path (see above). Returns 0, or
 * -1 with errno EBADF (no such socket), EINVAL (data already received),
 * EISCONN (the ring buffer already holds data). */
int mtcp_zc_enable(mctx_t mctx, int sockid);

/* Up to n views of the next in-order payloads. Returns the count; 0 when the
 * peer closed and everything was read; -1 with errno EAGAIN when nothing is
 * pending (a blocking socket waits instead), EBUSY when fragments from the
 * previous call were not freed yet, EBADF/ENOTCONN/EINVAL on misuse. Works
 * with mtcp_epoll like mtcp_read (MTCP_EPOLLIN). */
int mtcp_zc_read_fragments(mctx_t mctx, int sockid,
			   struct stream_fragment_content *frags, int n);

/* Releases the first n fragments handed out by the last read; their packet
 * buffers go back to the pool (unless something else, such as a splice,
 * still holds them). n larger than what was read: -1, errno EINVAL, nothing
 * freed. */
int mtcp_zc_free_fragments(mctx_t mctx, int sockid, int n);

/*
 * Zero-copy forwarding (thesis ch. 5). Both calls take the calling thread's
 * context (the one it created with mtcp_create_context()), as in the thesis.
 *
 * mtcp_zc_forward(): the "standard API" (thesis figure 5.2). After
 * mtcp_zc_read_fragments() on sockid_from, moves the first n fragments onto
 * sockid_to's outbound list instead of freeing them; the packets leave with
 * rewritten headers, no byte is copied. Returns n; blocks (or -1 with errno
 * EAGAIN on a non-blocking socket) while the outbound window
 * w = w_max - s is zero, also while sockid_to is still connecting (its list
 * leaves once it is open). -1 with EPIPE once sockid_to will send no more
 * (shut down for writing, closed or failed); ENOTCONN before it has a
 * connection at all.
 *
 * mtcp_zc_splice(): the "splice API" (thesis figure 5.3). Call it before
 * connecting sockid_to (the backend); from then on every in-order segment
 * received on sockid_from is put straight onto sockid_to's outbound list by
 * the network thread, and sockid_from advertises the adaptive window
 * w_s = w_c / (1 + 9 b / b0) (thesis section 5.1.2). Call it for each
 * direction you want spliced. The application may still read fragments or
 * records of a spliced socket (and must free them).
 */
int mtcp_zc_forward(int sockid_from, int sockid_to, int n);
int mtcp_zc_splice(int sockid_from, int sockid_to);

/* mtcp_zc_splice() with flags. MTCP_SPLICE_READ: the application also reads
 * sockid_from's fragments (mtcp_zc_read_fragments) and must free them; a
 * packet buffer is released once both the splice and the reader are done.
 * Without it (and without an application-aware module on sockid_from, which
 * implies reading records) the splice alone consumes the stream. */
#define MTCP_SPLICE_READ 0x1u
int mtcp_zc_splice_flags(int sockid_from, int sockid_to, unsigned flags);

/* The adaptive window of a splice, seen from its `from` socket. */
struct mtcp_splice_stats {
	double alpha;        /* 1 / (1 + 9 b / b0) */
	uint32_t w_c;        /* window advertised by the `to` side's peer */
	uint32_t w_s;        /* alpha * w_c, what `from` may advertise */
	uint64_t b;          /* bytes on the `to` side's outbound list */
	uint32_t b0;
	uint64_t forwarded;  /* bytes spliced so far */
	uint64_t n_samples;  /* alpha samples taken (one per ms at most) */
	int active;          /* 0 once the splice ended */
};
int mtcp_zc_splice_stats(mctx_t mctx, int sockid_from, struct mtcp_splice_stats *st);

/* alpha over time (thesis figure 5.4): copies the most recent samples,
 * oldest first; returns how many (<= max). */
struct mtcp_alpha_sample {
	uint64_t t_us;       /* since mtcp_init() */
	float alpha;
	uint32_t w_c;
	uint64_t b;
};
int mtcp_zc_splice_samples(mctx_t mctx, int sockid_from,
			   struct mtcp_alpha_sample *out, int max);

#ifdef __cplusplus
}
#endif

#endif /* AATCP_MTCP_ZC_H */
