/*
 * tcp.h - functions shared by the files of tcp/ (and called by api/).
 * Everything here runs in the network thread.
 */
#ifndef AATCP_TCP_H
#define AATCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "core/core.h"
#include "tcp/tcb.h"

#define TCP_FLAG_FIN RTE_TCP_FIN_FLAG
#define TCP_FLAG_SYN RTE_TCP_SYN_FLAG
#define TCP_FLAG_RST RTE_TCP_RST_FLAG
#define TCP_FLAG_PSH RTE_TCP_PSH_FLAG
#define TCP_FLAG_ACK RTE_TCP_ACK_FLAG
#define TCP_FLAG_URG RTE_TCP_URG_FLAG

#define DELACK_US 5000u          /* delayed ACK (RFC 9293 3.8.6.3: < 0.5 s) */
#define SYN_RETRIES 5
#define HDR_ROOM (14 + 20 + 60)  /* Ethernet + IPv4 + TCP with options */

/* ---- TCB lifecycle (tcb.c) ---- */
struct tcb *tcb_alloc(struct core *c);
/* Buffer sizes, window scale, MSS and RTT state of a new connection. */
void tcb_params(struct core *c, struct tcb *t, uint32_t rcvbuf, uint32_t sndbuf);
/* Allocates the receive and send buffers (those not allocated yet): 0, or
 * -ENOMEM. */
int tcb_buffers(struct core *c, struct tcb *t);
/* tcb_params() and tcb_buffers(): an active open. */
int tcb_setup(struct core *c, struct tcb *t, uint32_t rcvbuf, uint32_t sndbuf);
void tcb_free(struct core *c, struct tcb *t);
/* A work list let go of t: if t was freed meanwhile, return it to the pool. */
void tcb_release_if_dead(struct core *c, struct tcb *t);
void tcp_set_state(struct core *c, struct tcb *t, int state);
/* Connection is over (RST, timeout, normal close): report err (0 for a
 * clean close) and free it once the application let go of it. */
void tcp_done(struct core *c, struct tcb *t, int err);
void tcb_raise(struct core *c, struct tcb *t, uint32_t bits);
void tcp_want_output(struct core *c, struct tcb *t);
uint32_t tcp_iss(struct core *c, const struct tcb *t);
uint32_t tcp_ts_now(const struct core *c);

/* ---- receive side (rcv.c): ring buffer or zero-copy stream ---- */
/* Offers payload [seq, seq+len), already trimmed to the window and to
 * seq >= rcv_nxt. Returns bytes that became in-order, -1 when dropped for
 * lack of buffers. */
int64_t rcv_data(struct core *c, struct tcb *t, struct rte_mbuf *m,
		 const char *payload, uint32_t seq, uint32_t len);
/* Bytes the receive side can still hold: what arriving data may fill. */
uint32_t rcv_buffer_space(const struct tcb *t);
/* Room to offer the peer (before scaling and SWS rules): the buffer space,
 * less where a splice paces its sender (thesis 5.1.2). */
uint32_t rcv_space(struct core *c, struct tcb *t);
int rcv_sack_blocks(const struct tcb *t, uint32_t *l, uint32_t *r, int max);
/* Network thread: give back what the application freed (zc/aa). */
void rcv_reclaim(struct core *c, struct tcb *t);
void rcv_destroy(struct core *c, struct tcb *t);
/* Puts an application-aware module on a zero-copy TCB (network thread): 0,
 * -EINVAL when the TCB does not receive zero-copy, -ENOMEM. */
struct aa_module;
int rcv_attach_aa(struct core *c, struct tcb *t, const struct aa_module *mod,
		  const void *params);
/* Routes the zero-copy stream's in-order nodes through aa/ and fwd/. */
void rcv_hook_deliver(struct tcb *t);
/* The peer's FIN has been consumed in order. */
void rcv_fin(struct core *c, struct tcb *t);
/* The receive stream ended without a FIN (RST, timeout, abort): record
 * readers end, with an error record if a record was cut. */
void rcv_abort(struct core *c, struct tcb *t);

/* ---- send side (snd.c): copying buffer or zero-copy outbound list ---- */
uint32_t snd_end(const struct tcb *t);
/* A frame holding payload [seq, seq + *len) (len <= max), with headroom for
 * the headers; NULL when no buffer is available. *sum: the payload's partial
 * checksum when the copy computed it (net/csum.h), else SND_NO_SUM. */
#define SND_NO_SUM UINT64_MAX
struct rte_mbuf *snd_segment(struct core *c, struct tcb *t, uint32_t seq,
			     uint32_t max, uint32_t *len, uint64_t *sum);
/* Releases what ack covers; returns bytes released. */
uint32_t snd_acked(struct core *c, struct tcb *t, uint32_t ack);
void snd_destroy(struct core *c, struct tcb *t);

/* ---- output (output.c) ---- */
/* Sends whatever the windows allow: data, FIN, and a pending ACK. */
void tcp_output(struct core *c, struct tcb *t);
void tcp_send_ack(struct core *c, struct tcb *t);
void tcp_send_syn(struct core *c, struct tcb *t);
/* A SYN-ACK for t that keeps no state: no timer, t may be a temporary
 * (SYN cookies); tsval replaces our clock in the timestamp option. */
void tcp_send_synack_stateless(struct core *c, struct tcb *t, uint32_t tsval);
/* RST for a connection we abort. */
void tcp_send_rst(struct core *c, struct tcb *t);
/* RST answering a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_rst_reply(struct core *c, struct port *p, const struct rte_ether_addr *dst,
			uint32_t laddr, uint32_t raddr, const struct rte_tcp_hdr *th,
			uint32_t seg_len);
/* Retransmit the first unacknowledged segment (fast retransmit, RTO). */
void tcp_retransmit(struct core *c, struct tcb *t);
/* Sends one data segment of up to max bytes at seq, ignoring the windows
 * (loss recovery and probes decide); returns the bytes sent. */
uint32_t tcp_send_range(struct core *c, struct tcb *t, uint32_t seq, uint32_t max, bool rexmit);
/* Zero-window probe (RFC 9293 3.8.6.1). */
void tcp_send_probe(struct core *c, struct tcb *t);
/* Keep-alive probe (RFC 9293 3.8.4). */
void tcp_send_keepalive(struct core *c, struct tcb *t);
/* The override timeout of sender SWS avoidance (RFC 9293 3.8.6.2.1): the
 * peer's window is open but too small to be worth a segment by the usual
 * rule; send what fits anyway. */
void tcp_send_override(struct core *c, struct tcb *t);
/* Window to advertise now (bytes, before scaling), never shrinking the
 * right edge already offered. */
uint32_t tcp_rcv_window(struct core *c, struct tcb *t);
/* The receive side freed space: send a window update if it matters
 * (RFC 9293 3.8.6.2.2). */
void tcp_window_update(struct core *c, struct tcb *t);

/* ---- listeners (listen.c) ---- */
struct listener *listener_lookup(struct core *c, uint32_t ip, uint16_t port);
void listener_add(struct core *c, struct listener *l);
void listener_remove(struct core *c, struct listener *l);
/* The handshake of a passive connection completed: its buffers (and the
 * listener's application-aware module). A SYN_RCVD TCB holds none, so a
 * SYN flood costs no buffer memory (RFC 4987 3.3). 0, or -ENOMEM, -EINVAL. */
int listener_buffers(struct core *c, struct tcb *t);
/* A connection from l's backlog is established: queue it for accept(). */
void listener_established(struct core *c, struct tcb *t);
/* Flush listener events that could not be queued earlier. */
void listener_events(struct core *c);

/* ---- keep-alives (keepalive.c) ---- */
/* SO_KEEPALIVE on or off and the socket's keep-alive numbers (network
 * thread): turned on, the first probe is armed at the idle time after the
 * peer's last segment; a new idle time re-arms it; a new interval or count
 * applies from the next probe (Linux's TCP_KEEPIDLE/INTVL/CNT). */
void tcp_set_keepalive(struct core *c, struct tcb *t, bool on, struct keepalive_opts ka);
void tcp_keepalive_fire(struct core *c, struct tcb *t);
/* The peer is gone (retries, probes or keep-alives unanswered, or silent
 * past tcp_timeout; `why` says which, in the log): RST, ETIMEDOUT to the
 * application, counter conn_timedout (timeouts.c). */
void tcp_abort_timedout(struct core *c, struct tcb *t, const char *why);

/* ---- TIME-WAIT (timewait.c) ---- */
/* TIME-WAIT's length: tcp_timewait (default 2*MSL). */
uint64_t tcp_timewait_us(const struct core *c);
void tcp_enter_time_wait(struct core *c, struct tcb *t);
/* The peer's FIN again: ACK it, restart the timeout. */
void tcp_time_wait_fin(struct core *c, struct tcb *t);
/* May a SYN (seq, its timestamp if any) take over t's 4-tuple (RFC 6191)? */
bool tcp_time_wait_reusable(const struct tcb *t, uint32_t seq, bool ts_ok, uint32_t tsval);
/* No TCB left: ends the oldest closed TIME-WAIT connection; returns the
 * pool's head (NULL if none could go). */
struct tcb *tcp_time_wait_recycle(struct core *c);
/* t's state goes from `was` to `state`: keeps the core's TIME-WAIT list
 * (tcp_set_state calls it). */
void tcp_time_wait_track(struct core *c, struct tcb *t, int was, int state);

/* ---- active open (connect.c) ---- */
int tcp_connect(struct core *c, struct tcb *t, uint32_t raddr, uint16_t rport);
/* TCBs waiting for ARP: send their SYN when the next hop is known. */
void tcp_arp_poll(struct core *c);
/* SYN retransmission (or another ARP request while the next hop is unknown). */
void tcp_syn_retry(struct core *c, struct tcb *t);

#endif /* AATCP_TCP_H */
