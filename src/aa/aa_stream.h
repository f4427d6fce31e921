/*
 * aa_stream.h - the application-aware stream of one socket (thesis 4.2.1,
 * 4.2.2: tcp_zc_aa_stream, figure 4.3): the internal interface that the
 * socket API (src/api/) and TCP (src/tcp/) call. The module interface is in
 * aa_module.h, the public API in include/mtcp_aa.h.
 *
 * Picture
 * -------
 *       zc stream (src/zc)                      aa stream (this file)
 *   [n1]->[n2]->[n3]->[n4]->[sentinel]    [r1]->[r2]->[r3]->[in progress]
 *    ^ consumed by the parser              ^ app head      ^ tail (sentinel)
 *
 * In aa mode the aa layer, on the network thread, is the consumer of the
 * zc stream: zc_stream_input() calls aa_stream_deliver() for each node that
 * becomes in-order; the module parses it at once (packets are still in the
 * cache, thesis 4.1) and appends complete records at the tail. Each field
 * view holds a reference on its zc node (zc_node.refs), the parser holds one
 * on every node it has not finished; a finished node is consumed at once
 * and zc_stream_reclaim() gives it back, with its mbuf, as soon as its refs
 * fall to 0, i.e. as soon as no record references it (O(1), thesis 4.2.1).
 * The record list uses the zc stream's trick (thesis 3.2.1): the tail is
 * always a fresh record being filled; a record is published by a store-
 * release of its `next`; the application thread only moves its head
 * (store-release) and never writes anything else; records, fields and
 * nodes are given back by the network thread alone (aa_stream_reclaim), so
 * the pools are single-threaded.
 *
 * Bounded memory: records and field views come from per-stream pools.
 * Parsing proceeds one record at a time only while the pools can hold a
 * whole record; otherwise it pauses and the delivered nodes wait (held by
 * the parser), so held bytes grow and the advertised window
 * (rcvbuf - aa_stream_held_bytes) closes: back-pressure. A record larger
 * than max_record_bytes or spanning too many packets becomes an error
 * record instead of stalling.
 *
 * What the socket/TCP layers call, and when
 * -----------------------------------------
 * Network thread:
 *   attach   aa_stream_create(mod, params, zc, cfg) when the application
 *            registers a module (mtcp_zc_register_aa_module), after
 *            zc_stream_init(); it sets zc->deliver/deliver_arg itself and
 *            parses any node already in the zc stream. Pass cfg->rcvbuf
 *            (and the MSS) so that a record always fits in the window.
 *   input    zc_stream_input() as usual: the hook parses. Then
 *   reclaim  aa_stream_reclaim(as): after every zc_stream_input() that
 *            advanced, and whenever the application freed records ("window
 *            may open" command). Returns zc bytes released; resumes a
 *            paused parser.
 *   window   rcvbuf - aa_stream_held_bytes(as) (after reclaim).
 *   events   aa_stream_events(as) after input/reclaim/fin: AA_EV_RECORDS
 *            when new records were published (raise MTCP_EPOLLIN),
 *            AA_EV_EOS when the end of the record stream was reached
 *            (raise MTCP_EPOLLIN too: the read returns 0).
 *   FIN      aa_stream_fin(as) once the peer's FIN is in order (every byte
 *            before it delivered); aa_stream_abort(as) on RST/timeout/
 *            abort instead, so that readers end without taking a cut
 *            record for a whole one.
 *   destroy  aa_stream_destroy(as) at teardown, before zc_stream_destroy():
 *            drops every reference it holds, records the application
 *            still holds included (the socket is gone).
 * Application thread (the API functions):
 *   mtcp_zc_read_aa_records -> aa_stream_read(as, recs, n)
 *            returns n > 0, 0 (end of stream), -EAGAIN, -EBUSY
 *   mtcp_zc_free_aa_records -> aa_stream_free(as, n): 0 or -EINVAL; then
 *            send the net thread the "window may open" command
 *   mtcp_zc_aa_http_expect_head -> aa_http_expect_head(as, n)
 *   (aa_stream_peek / aa_stream_consume are the raw operations below
 *   read/free; aa_stream_readable() for epoll level checks.)
 */
#ifndef AATCP_AA_STREAM_H
#define AATCP_AA_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "aa/aa_module.h"

struct zc_stream;
struct zc_node;
struct aa_stream;

/* Limits of one stream; 0 means the default shown. */
struct aa_stream_config {
	uint32_t records;          /* record pool (64, or rcvbuf / 64 up to
				    * 4096 when rcvbuf is given) */
	uint32_t views;            /* field views beyond those inside each
				    * record (4 x views per record, at least
				    * 256) */
	uint32_t max_extra_views;  /* views per record beyond one per field
				    * slot, i.e. packet crossings (64) */
	uint32_t max_record_bytes; /* (module's value, else 64 KiB) */
	uint32_t rcvbuf;           /* receive buffer: max_record_bytes is
				    * lowered to rcvbuf - 2 * mss so that a
				    * record always fits (0: no clamp) */
	uint32_t mss;              /* (1460) */
};

/* ---- any thread ------------------------------------------------------------ */

/* Whether the module accepts these params: runs its init() on a scratch
 * state (and fini()) and checks the layout it gives. 0, -EINVAL or
 * -ENOMEM. mtcp_zc_register_aa_module() calls it, so that invalid params
 * are refused when they are given, not at each connection later. */
int aa_module_check(const struct aa_module *mod, const void *params);

/* ---- network thread ------------------------------------------------------- */

/* NULL with errno EINVAL (bad module/params/config) or ENOMEM. */
struct aa_stream *aa_stream_create(const struct aa_module *mod,
				   const void *params, struct zc_stream *zc,
				   const struct aa_stream_config *cfg);
void aa_stream_destroy(struct aa_stream *as);

/* The zc_stream deliver hook (zc_deliver_fn); set by aa_stream_create. */
void aa_stream_deliver(void *arg, struct zc_node *n);
uint64_t aa_stream_reclaim(struct aa_stream *as);
void aa_stream_fin(struct aa_stream *as);
/* The stream ended without the peer's FIN (RST, timeout, local abort):
 * records already complete stay readable, but a record that only the end
 * of the stream would complete (a CSV line without its line end, an HTTP
 * body delimited by the close) is cut, not complete: it becomes an
 * AA_ERR_TRUNCATED error record. Idempotent, also after aa_stream_fin. */
void aa_stream_abort(struct aa_stream *as);
uint64_t aa_stream_held_bytes(const struct aa_stream *as);
/* The application has not consumed everything that arrived: records not
 * freed yet, a record in progress, or packets not parsed yet (for
 * mtcp_close(): unread data means a RST, RFC 2525 2.17). */
bool aa_stream_unread(const struct aa_stream *as);

#define AA_EV_RECORDS 0x1u
#define AA_EV_EOS     0x2u
unsigned aa_stream_events(struct aa_stream *as);

/* ---- application thread ------------------------------------------------- */

int aa_stream_read(struct aa_stream *as, void **recs, int n);
int aa_stream_free(struct aa_stream *as, int n);
/* Up to n published records from the head, not consumed. */
int aa_stream_peek(const struct aa_stream *as, void **recs, int n);
/* Moves the head n records forward: n, or -EINVAL (nothing moves) if fewer
 * are pending or n < 0. */
int aa_stream_consume(struct aa_stream *as, int n);
/* A read would not return -EAGAIN. */
bool aa_stream_readable(const struct aa_stream *as);
/* HTTP response module: see mtcp_zc_aa_http_expect_head. 0 or -EINVAL. */
int aa_http_expect_head(struct aa_stream *as, int n);
/* HTTP request module: HEAD requests parsed so far (0 for other modules);
 * network thread only (fwd/splice.c pairs them with the other side). */
uint32_t aa_http_heads_seen(struct aa_stream *as);

/* ---- introspection (tests, stats) ------------------------------------- */

struct aa_stream_stats {
	uint64_t records;        /* published, error records included */
	uint64_t bytes;          /* parsed */
	uint64_t ignored_bytes;  /* delivered after the stream ended */
	uint64_t pauses;         /* times parsing waited for the pools */
	uint32_t records_free, records_total;
	uint32_t views_free, views_total;
	uint32_t max_record_bytes; /* effective limit */
	uint32_t backlog;          /* delivered nodes not parsed yet */
	bool failed, eos;
};
void aa_stream_stats(const struct aa_stream *as, struct aa_stream_stats *st);
const struct aa_module *aa_stream_module(const struct aa_stream *as);
/* Network thread, tests: NULL if every invariant holds, else a message. */
const char *aa_stream_check(const struct aa_stream *as);

#endif /* AATCP_AA_STREAM_H */
