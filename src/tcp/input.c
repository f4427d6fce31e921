/*
 * input.c - see input.h. The order of checks follows RFC 9293 3.10.7.4:
 * sequence number, RST, SYN, ACK, segment text, FIN.
 */
#include "tcp/input.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "common/log.h"
#include "common/seq.h"
#include "net/csum.h"
#include "tcp/cc.h"
#include "tcp/flow.h"
#include "tcp/options.h"
#include "tcp/placement.h"
#include "tcp/rtt.h"
#include "tcp/recovery.h"
#include "tcp/sacksnd.h"
#include "tcp/sackrcv.h"
#include "tcp/secret.h"
#include "tcp/sndbuf.h"
#include "tcp/syncookie.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

struct seg {
	uint32_t seq, ack, wnd; /* wnd as sent (unscaled) */
	uint8_t flags;
	char *payload;
	uint32_t len;           /* payload bytes */
	struct tcp_opts o;
	const struct rte_tcp_hdr *th;
};

static void drop(struct core *c, enum drop_reason r)
{
	count_drop(&c->cnt, r);
}

static bool checksum_ok(const struct port *p, const struct rte_mbuf *m,
			const struct rte_ipv4_hdr *ih, const void *th, uint16_t tcplen)
{
	if (p->rx_csum) {
		uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			return true;
		if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return false;
	}
	uint64_t s = csum_pseudo(ih->src_addr, ih->dst_addr, IPPROTO_TCP, tcplen);
	return csum_fold(csum_add(th, tcplen, s)) == 0xffff;
}

/* ---------------------------------------------------------------------- */
/* Connection setup                                                       */

/* Options of the peer's SYN decide what this connection uses. */
static void apply_syn_options(struct tcb *t, const struct seg *s)
{
	uint16_t peer_mss = s->o.mss_ok ? s->o.mss : 536; /* RFC 9293 3.7.1 */

	t->mss = peer_mss < t->our_mss ? peer_mss : t->our_mss;
	if (t->mss < 64)
		t->mss = 64; /* a peer announcing a tiny MSS must not stall us */
	t->ws_ok = s->o.ws_ok;
	if (t->ws_ok)
		t->snd_wscale = s->o.ws;
	else
		t->rcv_wscale = 0; /* RFC 7323 2.2: both sides or neither */
	t->ts_ok = s->o.ts_ok;
	if (t->ts_ok) {
		t->ts_recent = s->o.tsval;
		t->mss -= 12; /* the timestamp option rides in every segment */
	}
	t->sack_ok = s->o.sack_ok;
}

static void arm_idle(struct core *c, struct tcb *t)
{
	int to = c->g->conf.tcp_timeout;

	if (to > 0)
		timer_arm(c, t, TT_IDLE, c->now_us + (uint64_t)to * 1000000u);
}

/* A TCB for a connection to listener l (from the SYN's or the cookie
 * ACK's headers); no buffers yet. */
static struct tcb *passive_tcb(struct core *c, struct port *p, struct listener *l,
			       const struct rte_ipv4_hdr *ih, const struct seg *s,
			       const struct rte_ether_addr *src_mac)
{
	struct tcb *t = tcb_alloc(c);

	if (!t)
		return NULL;
	t->laddr = ih->dst_addr;
	t->raddr = ih->src_addr;
	t->lport = s->th->dst_port;
	t->rport = s->th->src_port;
	t->port = p;
	t->peer_mac = *src_mac;
	t->peer_mac_ok = true;
	t->rcv_mode = l->zc ? RCV_ZC : RCV_RING;
	tcb_params(c, t, l->rcvbuf, l->sndbuf);
	if (l->maxseg && l->maxseg < t->our_mss)
		t->our_mss = (uint16_t)l->maxseg;
	t->listener = l;
	return t;
}

/* The peer's SYN (numbers and options) taken, our ISN chosen: SYN-RECEIVED
 * (RFC 9293 3.10.7.2). */
static void enter_syn_rcvd(struct core *c, struct tcb *t, const struct seg *syn, uint32_t iss)
{
	t->irs = syn->seq;
	t->rcv_nxt = syn->seq + 1;
	apply_syn_options(t, syn);
	t->iss = iss;
	t->snd_una = t->snd_nxt = t->snd_max = iss;
	t->snd_wnd = syn->wnd; /* RFC 7323 2.2: never scaled in a SYN */
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = syn->seq;
	t->snd_wl2 = iss;
	cc_init(t, c->g->conf.tcp_congestion);
	atomic_fetch_add(&t->listener->syn_count, 1);
	tcp_set_state(c, t, TCPS_SYN_RCVD);
	flow_insert(c->flows, t);
	c->cnt.conn_passive++;
}

static struct cookie_tuple tuple_of(const struct rte_ipv4_hdr *ih, const struct seg *s)
{
	return (struct cookie_tuple){.laddr = ih->dst_addr, .raddr = ih->src_addr,
				     .lport = s->th->dst_port, .rport = s->th->src_port};
}

/* RFC 4987 3.6: the SYN queue is full (or no TCB is left): answer with a
 * SYN-ACK whose ISN is a cookie and keep nothing. Without timestamps the
 * cookie cannot carry window scale and SACK-permitted: not offered. */
static void cookie_synack(struct core *c, struct port *p, struct listener *l,
			  const struct rte_ipv4_hdr *ih, const struct seg *s,
			  const struct rte_ether_addr *src_mac)
{
	struct tcb tmp;
	struct cookie_tuple k = tuple_of(ih, s);

	memset(&tmp, 0, sizeof(tmp));
	tmp.laddr = k.laddr;
	tmp.raddr = k.raddr;
	tmp.lport = k.lport;
	tmp.rport = k.rport;
	tmp.port = p;
	tmp.peer_mac = *src_mac;
	tmp.core = c;
	tcb_params(c, &tmp, l->rcvbuf, l->sndbuf);
	if (l->maxseg && l->maxseg < tmp.our_mss)
		tmp.our_mss = (uint16_t)l->maxseg;
	tmp.irs = s->seq;
	tmp.rcv_nxt = s->seq + 1;
	apply_syn_options(&tmp, s);
	if (!tmp.ts_ok) {
		tmp.ws_ok = tmp.sack_ok = false;
		tmp.rcv_wscale = 0;
	}
	tmp.iss = syncookie_make(c, &k, s->seq, &s->o);
	atomic_init(&tmp.state, TCPS_SYN_RCVD);
	tcp_send_synack_stateless(c, &tmp, tmp.ts_ok ? syncookie_tsval(c, &s->o) : 0);
	c->cnt.syncookies_sent++;
	/* ACKs to this listener may carry cookies for two ticks */
	l->cookies_until_us = c->now_us + SYNCOOKIE_LIFE_US;
}

static void passive_open(struct core *c, struct port *p, struct listener *l,
			 const struct rte_ipv4_hdr *ih, const struct seg *s,
			 const struct rte_ether_addr *src_mac)
{
	struct tcb *t = NULL;

	/* bounded SYN queue: past it, a SYN costs a SYN-ACK and nothing else */
	if (atomic_load(&l->syn_count) + atomic_load(&l->queued) < l->backlog)
		t = passive_tcb(c, p, l, ih, s, src_mac);
	if (!t) {
		cookie_synack(c, p, l, ih, s, src_mac);
		return;
	}
	enter_syn_rcvd(c, t, s, tcp_iss(c, t));
	tcp_send_syn(c, t);
}

static void synchronized(struct core *c, struct tcb *t, struct rte_mbuf *m, struct seg *s);

/* RFC 4987 3.6: an ACK for no connection, to a listener that sent cookies
 * lately: a good cookie rebuilds the SYN-RECEIVED TCB, and the ACK then
 * completes the handshake as usual (with any data it carries). */
static void cookie_ack(struct core *c, struct port *p, struct listener *l,
		       const struct rte_ipv4_hdr *ih, struct rte_mbuf *m, struct seg *s,
		       const struct rte_ether_addr *src_mac)
{
	struct cookie_tuple k = tuple_of(ih, s);
	struct seg syn = {.seq = s->seq - 1, .th = s->th};
	struct tcb *t;

	if (!syncookie_check(c, &k, s->seq, s->ack, &s->o, &syn.o)) {
		drop(c, DROP_tcp_bad_cookie);
		tcp_send_rst_reply(c, p, src_mac, ih->dst_addr, ih->src_addr, s->th, s->len);
		return;
	}
	if (atomic_load(&l->queued) >= l->backlog) {
		drop(c, DROP_tcp_accept_full); /* the peer's next segment retries */
		return;
	}
	t = passive_tcb(c, p, l, ih, s, src_mac);
	if (!t) {
		drop(c, DROP_tcp_no_tcb);
		return;
	}
	enter_syn_rcvd(c, t, &syn, s->ack - 1);
	/* what our SYN-ACK said: its window (unscaled) and its SYN */
	t->rcv_wnd = t->rcvbuf_size > 0xffff ? 0xffff : t->rcvbuf_size;
	t->rcv_adv = t->rcv_nxt + t->rcv_wnd;
	t->snd_nxt = t->snd_max = t->iss + 1;
	t->last_ack_sent = t->rcv_nxt; /* our SYN-ACK's */
	c->cnt.syncookies_ok++;
	synchronized(c, t, m, s);
}

static void no_connection(struct core *c, struct port *p, const struct rte_ipv4_hdr *ih,
			  struct rte_mbuf *m, struct seg *s, const struct rte_ether_addr *src_mac)
{
	struct listener *l = listener_lookup(c, ih->dst_addr, s->th->dst_port);
	uint32_t seg_len = s->len + !!(s->flags & TCP_FLAG_SYN) + !!(s->flags & TCP_FLAG_FIN);
	uint8_t hs = s->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST);

	if (s->flags & TCP_FLAG_RST) {
		drop(c, DROP_tcp_no_flow); /* never answer a RST */
		return;
	}
	if (l && !l->closing && hs == TCP_FLAG_SYN) {
		passive_open(c, p, l, ih, s, src_mac);
		return;
	}
	if (l && !l->closing && hs == TCP_FLAG_ACK && c->now_us < l->cookies_until_us) {
		cookie_ack(c, p, l, ih, m, s, src_mac);
		return;
	}
	/* RFC 9293 3.10.7.1 (CLOSED) and 3.10.7.2 (LISTEN, an ACK): RST. */
	drop(c, DROP_tcp_no_flow);
	tcp_send_rst_reply(c, p, src_mac, ih->dst_addr, ih->src_addr, s->th, seg_len);
}

/* RFC 9293 3.10.7.3 */
static void syn_sent(struct core *c, struct tcb *t, const struct seg *s)
{
	bool ack = s->flags & TCP_FLAG_ACK;

	if (ack && (seq_leq(s->ack, t->iss) || seq_gt(s->ack, t->snd_max))) {
		if (!(s->flags & TCP_FLAG_RST))
			tcp_send_rst_reply(c, t->port, &t->peer_mac, t->laddr, t->raddr, s->th,
					   s->len);
		drop(c, DROP_tcp_bad_ack);
		return;
	}
	if (s->flags & TCP_FLAG_RST) {
		if (ack)
			tcp_done(c, t, ECONNREFUSED);
		else
			drop(c, DROP_tcp_rst_ignored);
		return;
	}
	if (!(s->flags & TCP_FLAG_SYN)) {
		drop(c, DROP_tcp_bad_flags);
		return;
	}
	t->irs = s->seq;
	t->rcv_nxt = s->seq + 1;
	/* Our SYN offered rcv_wnd before rcv_nxt was known (rcv_adv was
	 * rcv_wnd past a meaningless 0): anchor that offer at the real
	 * rcv_nxt. Left as it was, rcv_adv - rcv_nxt is garbage, for half of
	 * the peers' ISNs a huge "offered" window that tcp_rcv_window() will
	 * not shrink: the first ACK then offered 65535 << wscale whatever the
	 * receive buffer, and segments past the real space were dropped. */
	t->rcv_adv = t->rcv_nxt + t->rcv_wnd;
	apply_syn_options(t, s);
	t->last_ack_sent = t->rcv_nxt; /* our ACK (or SYN-ACK) goes out next */
	t->snd_wnd = s->wnd;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	cc_init(t, c->g->conf.tcp_congestion);
	if (ack) {
		t->snd_una = s->ack;
		rtt_ack(t, s->ack, c->now_us);
		timer_cancel(t, TT_RTO);
		t->syn_retries = 0;
		tcp_set_state(c, t, TCPS_ESTABLISHED);
		arm_idle(c, t);
		tcb_raise(c, t, TEV_OUT);
		t->ack_now = true;
	} else {
		/* simultaneous open (RFC 9293 figure 7) */
		tcp_set_state(c, t, TCPS_SYN_RCVD);
		t->ack_now = true;
		tcp_send_syn(c, t);
	}
	tcp_want_output(c, t);
}

/* ---------------------------------------------------------------------- */
/* Synchronized states                                                    */

/* RFC 9293 3.10.7.4, first check: is any part of the segment in window? */
static bool acceptable(const struct tcb *t, const struct seg *s)
{
	uint32_t wnd = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	uint32_t len = s->len + !!(s->flags & TCP_FLAG_SYN) + !!(s->flags & TCP_FLAG_FIN);
	uint32_t end = t->rcv_nxt + wnd;

	if (len == 0) {
		if (wnd == 0)
			return s->seq == t->rcv_nxt;
		return seq_in(s->seq, t->rcv_nxt, end);
	}
	if (wnd == 0)
		return false;
	return seq_in(s->seq, t->rcv_nxt, end) || seq_in(s->seq + len - 1, t->rcv_nxt, end);
}

/* RFC 5961 section 7: at most tcp_challenge_ack_limit challenge ACKs a
 * second (per core). The budget of each second is drawn between half and
 * one and a half times the limit, as Linux does since CVE-2016-5696: a
 * fixed global count would tell an off-path attacker when its guess hit a
 * connection. */
static bool challenge_allowed(struct core *c)
{
	uint64_t sec = c->now_us / 1000000u;
	uint32_t lim = (uint32_t)c->g->conf.tcp_challenge_ack_limit;

	if (sec != c->chack_sec) {
		c->chack_sec = sec;
		c->chack_left = lim ? lim / 2 + (uint32_t)(secret_hash(SECRET_CHALLENGE, 0, 0, 0, 0,
								     sec) % lim) : 0;
	}
	if (!c->chack_left) {
		c->cnt.challenge_acks_limited++;
		return false;
	}
	c->chack_left--;
	return true;
}

static void challenge_ack(struct core *c, struct tcb *t)
{
	if (!challenge_allowed(c))
		return;
	c->cnt.challenge_acks++;
	t->ack_now = true;
	tcp_want_output(c, t);
}

/* RFC 5961 3.2: only an exact RST resets; one in window gets a challenge. */
static bool handle_rst(struct core *c, struct tcb *t, const struct seg *s)
{
	if (s->seq == t->rcv_nxt) {
		c->cnt.conn_reset_rcvd++;
		rcv_abort(c, t); /* record readers end too (a cut record is an error) */
		tcp_done(c, t, tcb_state(t) == TCPS_SYN_RCVD ? ECONNREFUSED : ECONNRESET);
		return true;
	}
	if (acceptable(t, s)) {
		challenge_ack(c, t);
		drop(c, DROP_tcp_rst_challenged); /* the RST itself goes no further */
	} else {
		drop(c, DROP_tcp_rst_ignored);
	}
	return true;
}

static void update_window(struct core *c, struct tcb *t, const struct seg *s)
{
	/* RFC 9293 3.10.7.4: only from a segment newer than the last update */
	if (seq_lt(t->snd_wl1, s->seq) ||
	    (t->snd_wl1 == s->seq && seq_leq(t->snd_wl2, s->ack))) {
		uint32_t old = t->snd_wnd;
		t->snd_wnd = s->wnd << t->snd_wscale;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = s->ack;
		if (t->snd_wnd > t->max_snd_wnd)
			t->max_snd_wnd = t->snd_wnd;
		if (old == 0 && t->snd_wnd) {
			/* RFC 9293 3.8.6.1: the window opened: probing is over
			 * and no backoff carries over to the data now sent */
			timer_cancel(t, TT_PERSIST);
			t->persist_backoff = 0;
			t->rto_backoff = 0;
			tcp_want_output(c, t);
		}
	}
}

static bool is_dupack(const struct tcb *t, const struct seg *s, bool sack_news)
{
	if (s->ack != t->snd_una || s->len || (s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) ||
	    t->snd_max == t->snd_una)
		return false;
	/* RFC 6675 2: with SACK, an ACK that reports new SACK information
	 * (a receiver holding out-of-order data may shrink its window, so the
	 * window test of RFC 5681 would miss it) */
	if (t->sbd && s->o.n_sack)
		return sack_news;
	/* RFC 5681 section 2, "DUPLICATE ACKNOWLEDGMENT" */
	return (s->wnd << t->snd_wscale) == t->snd_wnd;
}

/* Wake a writer only when the freed space is worth a write: once a third
 * of the send buffer is free (as Linux's sk_stream_wspace rule), or when
 * this ACK emptied it. A wake-up per ACK would cost a futex round trip per
 * ACK between the two threads. Forwarding targets wake on every release
 * (their window is w_max - s, checked by the application). */
static bool writable_edge(const struct tcb *t, uint32_t freed)
{
	uint32_t space, third;

#if AATCP_WITH_FWD /* hook */
	if (t->out)
		return true;
#endif
	space = sndbuf_space(t->sb);
	third = t->sndbuf_size / 3;
	return space == t->sndbuf_size || (space >= third && space - freed < third);
}

static void new_ack(struct core *c, struct tcb *t, const struct seg *s)
{
	uint32_t acked = s->ack - t->snd_una;
	uint32_t freed = snd_acked(c, t, s->ack);

	t->snd_una = s->ack;
	if (seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	sacksnd_advance(c, t, s->ack);
	if (!rtt_ack(t, s->ack, c->now_us) && t->ts_ok && s->o.ts_ok)
		rtt_ts_sample(t, tcp_ts_now(c), s->o.tsecr);
	if (cc_on_ack(t, s->ack, acked, c->now_us))
		tcp_retransmit(c, t); /* RFC 6582 3.2 step 5: partial ACK, next hole */
	if (t->snd_una == t->snd_max)
		timer_cancel(t, TT_RTO);
	else
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t)); /* RFC 6298 5.3 */
	if (freed && writable_edge(t, freed))
		tcb_raise(c, t, TEV_OUT);
	tcp_want_output(c, t);
}

/* RFC 9293 3.10.7.4, fifth check. Returns false when processing stops. */
static bool handle_ack(struct core *c, struct tcb *t, const struct seg *s)
{
	int st = tcb_state(t);

	if (!(s->flags & TCP_FLAG_ACK)) {
		drop(c, DROP_tcp_bad_flags);
		return false;
	}
	if (st == TCPS_SYN_RCVD) {
		if (!(seq_lt(t->snd_una, s->ack) && seq_leq(s->ack, t->snd_max))) {
			tcp_send_rst_reply(c, t->port, &t->peer_mac, t->laddr, t->raddr, s->th,
					   s->len);
			drop(c, DROP_tcp_bad_ack);
			return false;
		}
		if (t->listener && listener_buffers(c, t)) {
			drop(c, DROP_tcp_no_buffers);
			tcp_send_rst(c, t);
			tcp_done(c, t, ENOMEM);
			return false;
		}
		t->snd_una = s->ack;
		t->snd_wnd = s->wnd << t->snd_wscale;
		t->max_snd_wnd = t->snd_wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = s->ack;
		rtt_ack(t, s->ack, c->now_us);
		timer_cancel(t, TT_RTO);
		t->syn_retries = 0;
		tcp_set_state(c, t, TCPS_ESTABLISHED);
		arm_idle(c, t);
		if (t->listener)
			listener_established(c, t);
		else
			tcb_raise(c, t, TEV_OUT); /* simultaneous open */
		return true;
	}
	if (seq_gt(s->ack, t->snd_max)) {
		/* acknowledges something never sent: ACK and drop */
		t->ack_now = true;
		tcp_want_output(c, t);
		drop(c, DROP_tcp_bad_ack);
		return false;
	}
	/* RFC 5961 5.2: an ACK older than the last window is suspicious */
	if (seq_lt(s->ack, t->snd_una - (t->max_snd_wnd > 65535 ? t->max_snd_wnd : 65535))) {
		challenge_ack(c, t);
		drop(c, DROP_tcp_bad_ack);
		return false;
	}
	bool sack_news = sacksnd_update(c, t, &s->o);
	if (seq_gt(s->ack, t->snd_una)) {
		new_ack(c, t, s);
	} else if (is_dupack(t, s, sack_news)) {
		c->cnt.dupacks_rcvd++;
		if (t->sbd) {
			/* SACK recovery (recovery.c) decides; the first two
			 * duplicates may send new data (RFC 3042) */
			t->dupacks++;
			tcp_want_output(c, t);
		} else if (cc_on_dupack(t, seq_lt(t->snd_max, snd_end(t)))) {
			c->cnt.fast_retransmits++;
			tcp_retransmit(c, t);
		} else {
			/* RFC 3042 limited transmit; in recovery the inflated
			 * window may allow more (RFC 6582 3.2 step 4) */
			tcp_want_output(c, t);
		}
	}
	update_window(c, t, s);
	recovery_on_ack(c, t, s->ack, &s->o);
	bool fin_acked = t->fin_sent && seq_geq(t->snd_una, t->fin_seq + 1);
	switch (st) {
	case TCPS_FIN_WAIT_1:
		if (fin_acked) {
			tcp_set_state(c, t, TCPS_FIN_WAIT_2);
			arm_idle(c, t); /* an orphan does not wait forever */
		}
		break;
	case TCPS_CLOSING:
		if (fin_acked)
			tcp_enter_time_wait(c, t);
		return fin_acked ? false : true;
	case TCPS_LAST_ACK:
		if (fin_acked) {
			tcp_done(c, t, 0);
			return false;
		}
		break;
	case TCPS_TIME_WAIT:
		if (s->flags & TCP_FLAG_FIN)
			tcp_time_wait_fin(c, t); /* the peer did not get our ACK */
		return false;
	default:
		break;
	}
	return true;
}

static void consume_fin(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);

	t->rcv_nxt++;
	atomic_store_explicit(&t->rd_closed, true, memory_order_release);
	t->ack_now = true;
	rcv_fin(c, t);
	tcb_raise(c, t, TEV_IN | TEV_RDHUP);
	switch (st) {
	case TCPS_SYN_RCVD:
	case TCPS_ESTABLISHED:
		tcp_set_state(c, t, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT_1:
		if (t->fin_sent && seq_geq(t->snd_una, t->fin_seq + 1))
			tcp_enter_time_wait(c, t);
		else
			tcp_set_state(c, t, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2:
		tcp_enter_time_wait(c, t);
		break;
	default:
		break;
	}
}

/* RFC 1122 4.2.2.13: new data for a connection the application closed
 * (no reader will ever come) is answered with a RST, so the peer learns its
 * data was lost instead of sending into a window nobody drains until
 * tcp_timeout. A spliced socket's bytes go to the other side: not lost. */
static bool data_after_close(struct core *c, struct tcb *t)
{
	if (!t->app_closed)
		return false;
#if AATCP_WITH_FWD /* hook */
	if (t->splice)
		return false;
#endif
	drop(c, DROP_tcp_data_after_close);
	tcp_send_rst(c, t);
	tcp_done(c, t, 0);
	return true;
}

/* Returns false when the segment ended the connection. */
static bool handle_text(struct core *c, struct tcb *t, struct rte_mbuf *m, struct seg *s)
{
	int st = tcb_state(t);
	uint32_t seq = s->seq, len = s->len;
	char *payload = s->payload;

	if (st != TCPS_ESTABLISHED && st != TCPS_FIN_WAIT_1 && st != TCPS_FIN_WAIT_2)
		return true;
	if (seq_lt(seq, t->rcv_nxt)) {
		uint32_t old = t->rcv_nxt - seq;
		if (old >= len) {
			if (len) {
				drop(c, DROP_tcp_old_dup);
				t->ack_now = true; /* RFC 5681 4.2: ACK duplicates now */
				sackrcv_dsack(c, t, seq, seq + len); /* RFC 2883 4 */
			}
			return true;
		}
		sackrcv_dsack(c, t, seq, t->rcv_nxt); /* RFC 2883 4: the old part */
		payload += old;
		len -= old;
		seq = t->rcv_nxt;
	}
	if (len && data_after_close(c, t))
		return false;
	/* Right edge: the window offered, and never past the buffer's room.
	 * Not the next offer's size: data inside a window already offered is
	 * taken while it fits (RFC 9293 3.8.6: a receiver must not shrink
	 * the window; a splice pacing its sender, thesis 5.1.2, only offers
	 * less from here on). */
	uint32_t space = rcv_buffer_space(t);
	uint32_t limit = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	if (limit > space)
		limit = space;
	uint32_t off = seq - t->rcv_nxt;
	if (off >= limit) {
		if (len)
			drop(c, DROP_tcp_rcv_full);
		t->ack_now = true;
		return true;
	}
	if (len > limit - off) {
		len = limit - off;
		t->ack_now = true;
	}
	if (!len)
		return true;
	bool in_order = seq == t->rcv_nxt;
	if (!in_order) {
		if (sackrcv_holds(t, seq, len)) /* RFC 2883 4: a duplicate above a hole */
			sackrcv_dsack(c, t, seq, seq + len);
		sackrcv_note(t, seq);
	}
	int64_t n = rcv_data(c, t, m, payload, seq, len);
	if (n < 0) {
		t->ack_now = true;
		return true;
	}
	if (!in_order) {
		LOG_DBG("tcb %u: out of order seq %u len %u rcv_nxt %u (+%u)", t->id, seq, len,
			t->rcv_nxt, seq - t->rcv_nxt);
		/* RFC 5681 4.2 / thesis 3.1.2: a duplicate ACK for each
		 * out-of-order segment drives the sender's fast retransmit */
		c->cnt.ooo_segs++;
		c->cnt.dupacks_sent++;
		t->ack_now = true;
	} else if ((uint64_t)n > len) {
		t->ack_now = true; /* a hole was filled: ACK at once (RFC 5681 4.2) */
	}
	if (n > 0)
		t->unacked_segs++;
	return true;
}

static void handle_fin(struct core *c, struct tcb *t, const struct seg *s)
{
	int st = tcb_state(t);

	if (st == TCPS_CLOSED || st == TCPS_LISTEN || st == TCPS_SYN_SENT)
		return;
	if ((s->flags & TCP_FLAG_FIN) && !t->fin_rcvd) {
		t->fin_rcvd = true;
		t->peer_fin_seq = s->seq + s->len;
	}
	if (t->fin_rcvd && !atomic_load(&t->rd_closed) && t->rcv_nxt == t->peer_fin_seq)
		consume_fin(c, t);
	else if (s->flags & TCP_FLAG_FIN)
		t->ack_now = true;
}

/* RFC 7323 5.5: TS.Recent left idle for more than 24 days is invalid (the
 * peer's clock may have wrapped past it). */
static bool ts_recent_stale(const struct core *c, const struct tcb *t)
{
	return c->now_us - t->ts_recent_us >= 24ull * 24 * 3600 * 1000000;
}

/* RFC 7323 5.3: PAWS. Returns true when the segment is an old duplicate. */
static bool paws_rejects(struct core *c, struct tcb *t, const struct seg *s)
{
	if (!t->ts_ok || !s->o.ts_ok || (s->flags & TCP_FLAG_RST))
		return false;
	if (seq_lt(s->o.tsval, t->ts_recent) && !ts_recent_stale(c, t)) {
		t->ack_now = true;
		tcp_want_output(c, t);
		drop(c, DROP_tcp_old_dup);
		return true;
	}
	return false;
}

static void record_ts(struct core *c, struct tcb *t, const struct seg *s)
{
	/* RFC 7323 4.3: TS.Recent from the segment that covers Last.ACK.sent
	 * (not RCV.NXT: with delayed ACKs the echo is then the TSval of the
	 * oldest segment the ACK covers, and RTT measures include the delay);
	 * an invalid (stale, 5.5) TS.Recent is replaced even by a smaller
	 * TSval, or we would echo a value from the peer's past forever */
	if (t->ts_ok && s->o.ts_ok && seq_leq(s->seq, t->last_ack_sent) &&
	    (seq_geq(s->o.tsval, t->ts_recent) || ts_recent_stale(c, t))) {
		t->ts_recent = s->o.tsval;
		t->ts_recent_us = c->now_us;
	}
}

/* RFC 9293 figure 7, line 6 (simultaneous open): in SYN-RECEIVED the
 * peer's SYN,ACK repeats the SYN we already took. Only that SYN is old
 * ("only the new parts are processed", 3.10.7.4): drop it and let the ACK
 * complete the handshake. Left whole, it failed the window test and got
 * our SYN,ACK again; two such stacks bounced SYN,ACKs until the retries
 * ran out. */
static void trim_repeated_syn(struct tcb *t, struct seg *s)
{
	if (tcb_state(t) == TCPS_SYN_RCVD &&
	    (s->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK) &&
	    s->seq == t->irs) {
		s->flags &= (uint8_t)~TCP_FLAG_SYN;
		s->seq++;
	}
}

/* RFC 9293 3.8.6.3 and RFC 5681 4.2: acknowledge at least every second
 * full-sized segment, and at once a segment that must be acknowledged now
 * (out of order, filling a hole, a duplicate, beyond the window), per
 * segment as it arrives, not once per receive burst (a stretch ACK slows
 * the sender's ACK clock and hides losses). One segment alone waits for the
 * delayed-ACK timer or for data of ours to ride on (tcp_output()). */
static void ack_policy(struct core *c, struct tcb *t, const struct seg *s)
{
	if (s->len && (t->ack_now || t->unacked_segs >= 2) && tcb_state(t) != TCPS_SYN_RCVD)
		tcp_send_ack(c, t); /* (SYN-RECEIVED answers with its SYN,ACK: tcp_output) */
}

/* RFC 1122 4.2.2.17: a sender may probe a closed window for as long as
 * the receiver answers. Probes sit just below RCV.NXT (an ACK at
 * RCV.NXT - 1, or the last byte again), outside the window, so they never
 * pass the acceptability test; such a probe of our zero window with an
 * acceptable ACK still proves the peer alive (tcp_timeout, timeouts.c):
 * it is our application, not the peer, that holds the data back. */
static bool window_probe(const struct tcb *t, const struct seg *s)
{
	return t->rcv_wnd == 0 && s->seq == t->rcv_nxt - 1 && s->len <= 1 &&
	       (s->flags & (TCP_FLAG_ACK | TCP_FLAG_SYN | TCP_FLAG_RST | TCP_FLAG_FIN)) ==
		       TCP_FLAG_ACK &&
	       seq_leq(t->snd_una, s->ack) && seq_leq(s->ack, t->snd_max);
}

static void synchronized(struct core *c, struct tcb *t, struct rte_mbuf *m, struct seg *s)
{
	if (paws_rejects(c, t, s))
		return;
	trim_repeated_syn(t, s);
	if (!acceptable(t, s)) {
		bool zero_wnd_probe = s->seq == t->rcv_nxt && s->len > 0;
		if (!zero_wnd_probe) {
			if (!(s->flags & TCP_FLAG_RST)) {
				t->ack_now = true;
				tcp_want_output(c, t);
				/* the peer's FIN again (it sits just below RCV.NXT,
				 * so it never passes the window test) */
				if (tcb_state(t) == TCPS_TIME_WAIT && (s->flags & TCP_FLAG_FIN))
					tcp_time_wait_fin(c, t);
			}
			/* an old duplicate (e.g. a retransmission we had) is
			 * not an attack: count it apart */
			uint32_t end = s->seq + s->len + !!(s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN));
			bool old_dup = seq_leq(end, t->rcv_nxt);
			if (window_probe(t, s))
				t->last_rx_us = c->now_us;
			if (old_dup && s->len && tcb_state(t) != TCPS_SYN_RCVD)
				sackrcv_dsack(c, t, s->seq, s->seq + s->len); /* RFC 2883 4 */
			drop(c, old_dup ? DROP_tcp_old_dup : DROP_tcp_out_of_window);
			LOG_DBG("tcb %u: out of window seq %u len %u flags %x rcv_nxt %u adv %u",
				t->id, s->seq, s->len, s->flags, t->rcv_nxt, t->rcv_adv);
			return;
		}
		/* RCV.WND is zero: still take the ACK (RFC 9293 3.10.7.4);
		 * handle_text drops the bytes and ACKs with our window. */
	}
	if (s->flags & TCP_FLAG_RST) {
		handle_rst(c, t, s);
		return;
	}
	if (s->flags & TCP_FLAG_SYN) {
		if (tcb_state(t) == TCPS_SYN_RCVD && s->seq == t->irs) {
			t->ack_now = true; /* our SYN-ACK was lost: send it again */
			tcp_want_output(c, t);
			return;
		}
		challenge_ack(c, t); /* RFC 5961 4.2 */
		drop(c, DROP_tcp_syn_challenged);
		return;
	}
	/* an acceptable segment proves the peer alive (tcp_timeout,
	 * zero-window probes); of the others only a probe of our closed
	 * window does (window_probe) */
	t->last_rx_us = c->now_us;
	t->probes_unanswered = 0;
	record_ts(c, t, s);
	if (!handle_ack(c, t, s))
		return;
	if (!handle_text(c, t, m, s))
		return;
	handle_fin(c, t, s);
	ack_policy(c, t, s);
	tcp_want_output(c, t);
}

/* ---------------------------------------------------------------------- */

static int parse(struct core *c, const struct rte_ipv4_hdr *ih, uint16_t iphl,
		 struct rte_mbuf *m, const struct port *p, struct seg *s)
{
	uint16_t tcplen = (uint16_t)(rte_pktmbuf_data_len(m) - iphl);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((char *)ih + iphl);
	uint16_t hlen;

	if (tcplen < sizeof(*th)) {
		drop(c, DROP_tcp_short);
		return -1;
	}
	hlen = (uint16_t)((th->data_off >> 4) * 4);
	if (hlen < sizeof(*th) || hlen > tcplen) {
		drop(c, DROP_tcp_hdr_len);
		return -1;
	}
	if (!checksum_ok(p, m, ih, th, tcplen)) {
		drop(c, DROP_tcp_csum);
		return -1;
	}
	s->th = th;
	s->flags = th->tcp_flags & 0x3f;
	/* SYN with RST or FIN is nonsense (and a scanner's trick): drop. */
	if ((s->flags & TCP_FLAG_SYN) && (s->flags & (TCP_FLAG_RST | TCP_FLAG_FIN))) {
		drop(c, DROP_tcp_bad_flags);
		return -1;
	}
	s->seq = rte_be_to_cpu_32(th->sent_seq);
	s->ack = rte_be_to_cpu_32(th->recv_ack);
	s->wnd = rte_be_to_cpu_16(th->rx_win);
	s->payload = (char *)th + hlen;
	s->len = tcplen - hlen;
	if (opts_parse((const uint8_t *)(th + 1), hlen - (int)sizeof(*th),
		       s->flags & TCP_FLAG_SYN, &s->o)) {
		drop(c, DROP_tcp_hdr_len);
		return -1;
	}
	return 0;
}

void tcp_input(struct core *c, struct port *p, struct rte_mbuf *m,
	       struct rte_ipv4_hdr *ih, uint16_t iphl,
	       const struct rte_ether_addr *src_mac)
{
	struct seg s;
	struct tcb *t;

	c->cnt.tcp_rx_segs++;
	if (parse(c, ih, iphl, m, p, &s))
		goto out;
	if (!placement_take(c, m, &t))
		t = flow_lookup(c->flows, ih->dst_addr, s.th->dst_port, ih->src_addr,
				s.th->src_port);
	if (t && tcb_state(t) == TCPS_TIME_WAIT && (s.flags & TCP_FLAG_SYN) &&
	    !(s.flags & TCP_FLAG_ACK) && t->app_closed &&
	    tcp_time_wait_reusable(t, s.seq, s.o.ts_ok, s.o.tsval)) {
		/* RFC 9293 3.10.7.4 note / RFC 6191: a new SYN may take over
		 * a 4-tuple in TIME_WAIT (timewait.c says which). */
		tcp_done(c, t, 0);
		t = NULL;
	}
	if (!t) {
		no_connection(c, p, ih, m, &s, src_mac);
		goto out;
	}
	if (tcb_state(t) == TCPS_SYN_SENT)
		syn_sent(c, t, &s);
	else
		synchronized(c, t, m, &s);
out:
	rte_pktmbuf_free(m);
}
