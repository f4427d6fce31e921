/*
 * tcb.h - the transmission control block (RFC 9293 section 3.3.1).
 *
 * A TCB is allocated and freed by its core's network thread. The
 * application thread reaches it through its socket and touches only the
 * fields in the "shared" block below: the SPSC sides of the buffers and the
 * single-writer state words, each documented with its writer.
 */
#ifndef AATCP_TCB_H
#define AATCP_TCB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "common/config.h"

#if AATCP_WITH_ZC /* hook: zero-copy receive (thesis ch. 3) */
#include "zc/zc_stream.h"
#endif

struct core;
struct port;
struct rcvbuf;
struct sndbuf;
struct listener;
struct aa_stream;
struct outlist;
struct splice;
struct scoreboard;

enum tcp_state {
	TCPS_CLOSED = 0,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RCVD,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSE_WAIT,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
};

const char *tcp_state_name(int s);

/* Timers (one deadline each; the wheel in timer.c fires the earliest). */
enum tcb_timer {
	TT_RTO = 0,  /* retransmission (RFC 6298) and SYN retries */
	TT_DELACK,   /* delayed ACK (RFC 9293 3.8.6.3) */
	TT_PERSIST,  /* zero-window probes (RFC 9293 3.8.6.1) */
	TT_TIMEWAIT, /* 2*MSL, config tcp_timewait */
	TT_IDLE,     /* config tcp_timeout */
	TT_KEEPALIVE, /* SO_KEEPALIVE probes (RFC 9293 3.8.4) */
	TT_REO,      /* RACK reordering window (RFC 8985 6.2) */
	TT_TLP,      /* tail loss probe (RFC 8985 7.2) */
	TT_MAX
};

/* Receive-side mode of a socket. */
enum rcv_mode { RCV_RING = 0, RCV_ZC };

/* Event bits raised toward the application (same values as MTCP_EPOLL*). */
#define TEV_IN 0x001u
#define TEV_OUT 0x004u
#define TEV_ERR 0x008u
#define TEV_HUP 0x010u
#define TEV_RDHUP 0x2000u

struct tcb {
	/* ---- identity (network byte order), fixed after creation ---- */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	struct port *port;
	struct rte_ether_addr peer_mac; /* next hop's MAC */
	bool peer_mac_ok;
	struct tcb *hash_next;          /* flow table chain */

	/* ---- shared with the application thread ---- */
	_Atomic int state;              /* writer: net */
	_Atomic int error;              /* errno to report; writer: net */
	_Atomic bool rd_closed;         /* peer's FIN consumed in order; writer: net */
	_Atomic bool wr_closed;         /* our FIN queued (close/shutdown); writer: app via cmd */
	_Atomic int sockid;             /* -1 until accepted; writer: app (accept) or net (connect) */
	_Atomic uint32_t gen;           /* socket generation, to spot stale events */
	_Atomic uint32_t rcv_adv_wnd;   /* last window advertised; writer: net, read by app */
	_Atomic bool wnd_cmd_pending;   /* app asked for a window update; cleared by net */
	_Atomic bool snd_cmd_pending;   /* app queued data; cleared by net */
	enum rcv_mode rcv_mode;         /* set before data arrives */
	struct rcvbuf *rb;              /* RCV_RING */
#if AATCP_WITH_ZC /* hook */
	struct zc_stream zc;            /* RCV_ZC */
#endif
#if AATCP_WITH_AA /* hook */
	struct aa_stream *aa;           /* RCV_ZC with an application-aware module */
#endif
	struct sndbuf *sb;              /* copying send buffer */
#if AATCP_WITH_FWD /* hook */
	struct outlist *out;            /* zero-copy outbound list (fwd/) */
	struct splice *splice;          /* fwd/: we splice into splice->to */
	struct splice *splice_in;       /* fwd/: splice_in->from splices into us */
	struct splice *splice_mem;      /* fwd/: our splice's memory, freed with the TCB
					 * (the application may read its stats) */
#endif

	/* ---- network thread only ---- */
	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd;               /* peer's window, scaled, in bytes */
	uint32_t snd_wl1, snd_wl2;
	uint32_t max_snd_wnd;
	/* receive sequence space */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_wnd;               /* window in the last segment we sent */
	uint32_t rcv_adv;               /* right edge we advertised: never shrink it */
	uint32_t rcvbuf_size, sndbuf_size;
	/* options (RFC 7323, RFC 2018) */
	uint16_t mss;                   /* payload bytes per segment we send */
	uint16_t our_mss;               /* what we advertised */
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent;             /* RFC 7323 4.3 */
	uint32_t last_ack_sent;         /* RFC 7323 4.3 Last.ACK.sent */
	uint64_t ts_recent_us;
	/* congestion control (RFC 5681, RFC 6582) */
	uint32_t cwnd, ssthresh;
	uint32_t dupacks;
	uint32_t recover;                /* snd_max when recovery or the last RTO began:
					  * RFC 6582 "recover" + 1 */
	bool in_recovery;
	uint32_t bytes_acked;           /* congestion avoidance byte counting (RFC 3465) */
	uint8_t cc_algo;                /* TCP_CC_CUBIC or TCP_CC_RENO (config.h) */
	/* CUBIC (RFC 9438, cubic.c): W_max, cwnd_prior (the window before
	 * the last reduction), W_est, and the congestion-avoidance epoch: its
	 * start (0: not started) and K in seconds */
	uint32_t cubic_wmax, cubic_prior;
	uint64_t cubic_epoch_us;
	double cubic_k, cubic_west;
	/* cwnd validation (RFC 9438 5.8, RFC 7661): per window of data (until
	 * snd_una passes cwv_seq), the largest flight and whether the flight
	 * filled cwnd; the previous window's, too */
	uint32_t cwv_seq, cwv_max, cwv_prev_max;
	bool cwv_full, cwv_prev_full;
	/* SACK scoreboard (sacksnd.h, RFC 6675): NULL without SACK; and
	 * RescueRxt of RFC 6675 section 5 */
	struct scoreboard *sbd;
	uint32_t rescue_rxt;
	/* RACK (RFC 8985 6.1): the most recently sent segment delivered, its
	 * RTT, the minimum RTT, the highest end SACKed or acknowledged
	 * (fack), reordering seen, the reordering window's multiplier */
	uint64_t rack_xmit_us;
	uint32_t rack_end_seq;
	uint32_t rack_rtt, rack_min_rtt; /* us; 0: no sample yet */
	uint32_t rack_fack;
	bool rack_reordering_seen;
	uint8_t rack_reo_mult;           /* RACK.reo_wnd_mult - 1 */
	uint8_t rack_reo_persist;        /* recoveries left before it resets */
	uint32_t rack_dsack_round;       /* snd_max when a D-SACK last grew it */
	/* TLP (RFC 8985 7): the probe outstanding, its end */
	bool tlp_out, tlp_is_retrans;
	uint32_t tlp_end_seq, tlp_probe_seq; /* a retransmitted probe: [probe_seq, end) */
	/* receiver SACK (sackrcv.h): the latest out-of-order segment, the
	 * first bytes of the blocks last reported, a D-SACK to send */
	uint32_t sack_last_seq;
	bool sack_last_ok;
#define MAX_SACK_HIST 4
	uint32_t sack_sent[MAX_SACK_HIST];
	uint8_t n_sack_sent;
	bool dsack_pending;
	uint32_t dsack_l, dsack_r;
	/* RTT (RFC 6298), microseconds */
	uint32_t srtt, rttvar, rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	bool rtt_timing;
	uint8_t rto_backoff;
	uint8_t syn_retries;
	/* zero-window probes (RFC 9293 3.8.6.1): their own backoff, apart
	 * from the RTO's; probes sent since the peer last said anything */
	uint8_t persist_backoff;
	uint8_t probes_unanswered;
	/* FIN bookkeeping */
	bool fin_queued;                /* send a FIN once the send queue is empty */
	bool fin_sent;
	uint32_t fin_seq;               /* sequence number of our FIN */
	bool fin_rcvd;                  /* peer's FIN seen (maybe out of order) */
	uint32_t peer_fin_seq;
	/* ACK policy */
	uint16_t unacked_segs;          /* full segments received since our last ACK */
	bool ack_now;
	bool app_closed;                /* socket released by the application */
	bool orphan;                    /* counted in core->orphans */
	bool rst_on_close;              /* abort: send RST instead of FIN */
	bool nodelay;
	bool keepalive;                 /* SO_KEEPALIVE (keepalive.c) */
	struct keepalive_opts ka;       /* TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT */
	uint8_t ka_probes;              /* keep-alive probes unanswered */
	bool zc_wanted;
	/* timers */
	uint64_t timer_at[TT_MAX];      /* 0: not armed */
	struct tcb *timer_next;         /* wheel slot chain */
	struct tcb *timer_prev;
	uint64_t timer_slot_at;         /* deadline the tcb is filed under, 0: not filed */
	uint64_t last_rx_us;            /* for tcp_timeout */
	/* list memberships (net thread work lists) */
	struct tcb *out_next;           /* needs output this iteration */
	bool on_out_list;
	struct tcb *ev_next;            /* has events to push */
	bool on_ev_list;
	uint32_t ev_bits;
	struct tcb *arp_next;           /* waiting for ARP resolution */
	bool on_arp_list;
	struct tcb *tw_prev, *tw_next;  /* the core's TIME-WAIT list (timewait.c) */
	struct listener *listener;      /* SYN_RCVD/accept queue: where it goes */
	struct tcb *pool_next;          /* free list */
	bool in_pool;
	struct core *core;
	uint32_t id;                    /* index in the core's TCB pool */
};

static inline int tcb_state(const struct tcb *t)
{
	return atomic_load_explicit(&((struct tcb *)t)->state, memory_order_acquire);
}

/* Whether t builds records (a module of aa/ parses its stream). */
static inline bool tcb_has_records(const struct tcb *t)
{
#if AATCP_WITH_AA /* hook */
	return t->aa != NULL;
#else
	(void)t;
	return false;
#endif
}

#endif /* AATCP_TCB_H */
