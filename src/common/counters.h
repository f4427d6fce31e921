/*
 * counters.h - per-core counters. Every dropped frame or segment is counted
 * under a reason, so "bad input gets a counted drop" can be checked from the
 * stats file and the per-second `stat_print` lines.
 *
 * Written by the network thread only; read by anyone (stats printing) with
 * relaxed, possibly slightly stale, loads.
 */
#ifndef AATCP_COUNTERS_H
#define AATCP_COUNTERS_H

#include <stdint.h>

#define DROP_REASONS(X)                                                         \
	X(eth_short) X(eth_not_for_us) X(eth_own_frame) X(eth_type)             \
	X(arp_bad) X(ip_short) X(ip_version) X(ip_hdr_len) X(ip_len)            \
	X(ip_csum) X(ip_frag) X(ip_not_for_us) X(ip_proto) X(icmp_bad)          \
	X(tcp_short) X(tcp_hdr_len) X(tcp_csum) X(tcp_bad_flags)                \
	X(tcp_no_flow) X(tcp_out_of_window) X(tcp_bad_ack) X(tcp_rst_ignored)   \
	X(tcp_syn_challenged) X(tcp_syn_backlog) X(tcp_no_tcb) X(tcp_rcv_full)  \
	X(tcp_old_dup) X(tcp_data_after_close) X(tcp_no_node)                   \
	X(arp_pending_full) X(fault_injected) X(tx_full) X(mbuf_alloc)          \
	X(steer_full) X(tcp_bad_cookie) X(tcp_accept_full) X(tcp_no_buffers)   \
	X(tcp_rst_challenged)

enum drop_reason {
#define X(name) DROP_##name,
	DROP_REASONS(X)
#undef X
	DROP_MAX
};

extern const char *const drop_reason_names[DROP_MAX];

struct counters {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drops[DROP_MAX];
	uint64_t tcp_rx_segs, tcp_tx_segs, tcp_tx_data_segs;
	uint64_t retransmits, fast_retransmits, rto_expired;
	uint64_t tlp_probes, tlp_recoveries, rack_lost; /* RFC 8985 */
	uint64_t lost_retransmits; /* retransmissions RACK deemed lost (6.2) */
	uint64_t dupacks_sent, dupacks_rcvd, ooo_segs, sack_blocks_sent;
	uint64_t conn_active, conn_passive, conn_closed, conn_reset_rcvd;
	uint64_t rst_sent, challenge_acks, zero_window_probes, window_updates;
	uint64_t syncookies_sent, syncookies_ok; /* RFC 4987 3.6 */
	uint64_t dsacks_sent;                    /* RFC 2883 */
	uint64_t keepalive_probes;               /* RFC 9293 3.8.4 */
	uint64_t conn_timedout;                  /* aborted with ETIMEDOUT (tcp/timeouts.c) */
	uint64_t challenge_acks_limited;         /* RFC 5961 7: not sent, over the limit */
	uint64_t timewait_recycled;              /* TIME_WAIT given up: no TCB left */
	uint64_t arp_requests, arp_replies, icmp_echo;
	uint64_t fault_dropped, fault_duped, fault_reordered, fault_corrupted,
		fault_delayed;
	uint64_t fwd_segs, splice_segs;
	uint64_t steered;           /* segments passed on to another core (io/steer.h) */
	uint64_t steer_taken;       /* segments another core passed here that were ours */
	uint64_t ports_placed;      /* active opens whose replies come to this core's queue */
	uint64_t ports_unplaced;    /* active opens from a port not known to (learning) */
	uint64_t tx_ring_full;      /* TX bursts the PMD took only in part (kept, retried) */
	uint64_t tx_backpressure;   /* TCP output stopped: the TX queue was full */
	uint64_t fault_tx_refused;  /* injected "TX ring full" (fault txfull=) */
	/* The poll loop's TSC cycles (core/loop/netloop.c): iterations that found
	 * work (busy) and those that did not (idle polls), and where a busy
	 * iteration's cycles went. Sleeps count in neither. */
	uint64_t busy_tsc, idle_tsc, iterations, busy_iterations;
	uint64_t rx_tsc, cmd_timer_tsc, output_tsc, flush_tsc, events_tsc;
	/* the application thread's cycles on this core inside our wake-up
	 * calls (left out of the above: core/loop/netloop.c account()) */
	uint64_t app_in_wake_tsc;
};

static inline void count_drop(struct counters *c, enum drop_reason r)
{
	c->drops[r]++;
}

#endif /* AATCP_COUNTERS_H */
