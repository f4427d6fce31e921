/*
 * output.c - building and sending segments (RFC 9293 3.8.6 and 3.10.7 for
 * what goes in them): data within min(snd_wnd, cwnd), FIN, ACKs with the
 * receive window, SYN / SYN-ACK, RST, zero-window probes.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "common/seq.h"
#include "io/io.h"
#include "net/csum.h"
#include "net/eth.h"
#include "net/ipv4.h"
#include "tcp/cc.h"
#include "tcp/options.h"
#include "tcp/rtt.h"
#include "tcp/rack.h"
#include "tcp/recovery.h"
#include "tcp/sacksnd.h"
#include "tcp/sackrcv.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

uint32_t tcp_rcv_window(struct core *c, struct tcb *t)
{
	uint32_t space = rcv_space(c, t);
	uint32_t offered = t->rcv_adv - t->rcv_nxt; /* may be 0 */
	uint32_t sws = t->rcvbuf_size / 2 < t->our_mss ? t->rcvbuf_size / 2 : t->our_mss;

	if (seq_lt(t->rcv_adv, t->rcv_nxt))
		offered = 0;
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): move the right edge
	 * only by at least min(rcvbuf/2, MSS); RFC 9293 3.8.6: never shrink
	 * a window already offered. */
	if (space <= offered || space - offered < sws)
		return offered;
	return space;
}

void tcp_window_update(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);
	uint32_t offered = t->rcv_adv - t->rcv_nxt;

	if (st == TCPS_CLOSED || st == TCPS_SYN_SENT || st == TCPS_LISTEN)
		return;
	/* After the peer's FIN (CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT) it
	 * sends no more data (RFC 9293 3.10.7.4): a window is no news to it,
	 * and the peer may be gone already (after our last ACK in TIME-WAIT,
	 * a closed Linux socket answers with a RST, which then resets what
	 * a splice still has to deliver the other way). */
	if (st == TCPS_CLOSE_WAIT || st == TCPS_LAST_ACK || st == TCPS_CLOSING ||
	    st == TCPS_TIME_WAIT)
		return;
	if (seq_lt(t->rcv_adv, t->rcv_nxt))
		offered = 0;
	if (tcp_rcv_window(c, t) > offered) {
		c->cnt.window_updates++;
		t->ack_now = true;
		tcp_want_output(c, t);
	}
}

/* Window field for a non-SYN segment, and the right edge it promises. */
static uint16_t window_field(struct core *c, struct tcb *t)
{
	uint32_t w = tcp_rcv_window(c, t);
	uint32_t f = w >> t->rcv_wscale;
	uint32_t offered = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;

	/* Round a new window down, so we never offer more than the space we
	 * have; round up only to keep an edge already offered (RFC 9293
	 * 3.8.6: the right edge must not move back). */
	if ((f << t->rcv_wscale) < offered)
		f = (uint32_t)(((uint64_t)offered + (1u << t->rcv_wscale) - 1) >> t->rcv_wscale);
	if (f > 0xffff)
		f = 0xffff;
	t->rcv_wnd = f << t->rcv_wscale;
	t->rcv_adv = t->rcv_nxt + t->rcv_wnd;
	atomic_store_explicit(&t->rcv_adv_wnd, t->rcv_wnd, memory_order_relaxed);
	return (uint16_t)f;
}

static void fill_ts(struct core *c, const struct tcb *t, struct opts_out *o)
{
	if (t->ts_ok) {
		o->ts = true;
		o->tsval = tcp_ts_now(c);
		o->tsecr = t->ts_recent;
	}
}

/*
 * Prepends the TCP header (with options), computes the checksum, prepends
 * IPv4 and Ethernet and queues the frame. m holds `len` payload bytes whose
 * partial checksum is `psum` (SND_NO_SUM: not known, summed here).
 */
static void seg_send_sum(struct core *c, struct tcb *t, struct rte_mbuf *m, uint32_t seq,
			 uint8_t flags, uint32_t len, const struct opts_out *o, uint64_t psum)
{
	int olen = opts_len(o);
	uint16_t hlen = (uint16_t)(sizeof(struct rte_tcp_hdr) + olen);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)rte_pktmbuf_prepend(m, hlen);

	if (!th) {
		rte_pktmbuf_free(m);
		return;
	}
	th->src_port = t->lport;
	th->dst_port = t->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & TCP_FLAG_ACK) ? rte_cpu_to_be_32(t->rcv_nxt) : 0;
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	if (flags & TCP_FLAG_SYN) {
		/* RFC 7323 2.2: the window in a SYN is never scaled */
		uint32_t w = rcv_space(c, t);
		th->rx_win = rte_cpu_to_be_16(w > 0xffff ? 0xffff : (uint16_t)w);
		t->rcv_wnd = w > 0xffff ? 0xffff : w;
		t->rcv_adv = t->rcv_nxt + t->rcv_wnd;
	} else {
		th->rx_win = rte_cpu_to_be_16(window_field(c, t));
	}
	th->cksum = 0;
	th->tcp_urp = 0;
	opts_write((uint8_t *)(th + 1), o);
	if (t->port->tx_tcp_csum) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		m->l4_len = hlen;
		th->cksum = csum_fold(csum_pseudo(t->laddr, t->raddr, IPPROTO_TCP,
						  (uint16_t)(hlen + len)));
	} else if (psum != SND_NO_SUM) {
		/* the payload was summed while it was copied (snd.c); the
		 * header is a multiple of 4 bytes, so the payload's offset is
		 * even (RFC 1071 2 (B)) */
		uint64_t s = csum_pseudo(t->laddr, t->raddr, IPPROTO_TCP, (uint16_t)(hlen + len));
		th->cksum = csum_finish(csum_add(th, hlen, s + psum));
	} else {
		uint64_t s = csum_pseudo(t->laddr, t->raddr, IPPROTO_TCP, (uint16_t)(hlen + len));
		th->cksum = csum_finish(csum_add(th, (size_t)hlen + len, s));
	}
	if (!ipv4_prepend(m, t->port, t->laddr, t->raddr, IPPROTO_TCP, (uint16_t)(hlen + len)) ||
	    !eth_prepend(m, t->port, &t->peer_mac, RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (flags & TCP_FLAG_ACK) {
		/* every segment we send acknowledges rcv_nxt */
		t->last_ack_sent = t->rcv_nxt;
		t->unacked_segs = 0;
		t->ack_now = false;
		timer_cancel(t, TT_DELACK);
	}
	c->cnt.tcp_tx_segs++;
	io_tx(c, t->port, m);
}

static void seg_send(struct core *c, struct tcb *t, struct rte_mbuf *m, uint32_t seq,
		     uint8_t flags, uint32_t len, const struct opts_out *o)
{
	seg_send_sum(c, t, m, seq, flags, len, o, SND_NO_SUM);
}

static struct rte_mbuf *alloc_empty(struct core *c)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);

	if (!m)
		count_drop(&c->cnt, DROP_mbuf_alloc);
	return m;
}

void tcp_send_ack(struct core *c, struct tcb *t)
{
	struct opts_out o = {0};
	struct rte_mbuf *m = alloc_empty(c);

	if (!m)
		return;
	fill_ts(c, t, &o);
	if (t->sack_ok) {
		o.n_sack = sackrcv_blocks(t, o.sack_left, o.sack_right, MAX_SACK_BLOCKS);
		if (o.n_sack)
			c->cnt.sack_blocks_sent++;
	}
	seg_send(c, t, m, t->snd_nxt, TCP_FLAG_ACK, 0, &o);
}

/* SYN or SYN-ACK of t with its options. */
static bool send_syn_seg(struct core *c, struct tcb *t, uint32_t tsval)
{
	struct opts_out o = {0};
	struct rte_mbuf *m = alloc_empty(c);
	bool synack = tcb_state(t) == TCPS_SYN_RCVD;

	if (!m)
		return false;
	o.mss = true;
	o.mss_val = t->our_mss;
	/* On a SYN-ACK, options only if the peer's SYN offered them
	 * (RFC 7323 2.2, 3.2; RFC 2018 2). */
	o.ws = !synack || t->ws_ok;
	o.ws_val = t->rcv_wscale;
	o.sack_perm = !synack || t->sack_ok;
	if (!synack || t->ts_ok) {
		o.ts = true;
		o.tsval = tsval;
		o.tsecr = synack ? t->ts_recent : 0;
	}
	seg_send(c, t, m, t->iss, (uint8_t)(TCP_FLAG_SYN | (synack ? TCP_FLAG_ACK : 0)), 0, &o);
	return true;
}

void tcp_send_syn(struct core *c, struct tcb *t)
{
	if (!send_syn_seg(c, t, tcp_ts_now(c)))
		return;
	t->snd_nxt = t->iss + 1;
	if (seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	if (!t->timer_at[TT_RTO])
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

void tcp_send_synack_stateless(struct core *c, struct tcb *t, uint32_t tsval)
{
	send_syn_seg(c, t, tsval);
}

void tcp_send_rst(struct core *c, struct tcb *t)
{
	struct opts_out o = {0};
	struct rte_mbuf *m = alloc_empty(c);

	if (!m)
		return;
	fill_ts(c, t, &o);
	c->cnt.rst_sent++;
	seg_send(c, t, m, t->snd_nxt, TCP_FLAG_RST | TCP_FLAG_ACK, 0, &o);
}

void tcp_send_rst_reply(struct core *c, struct port *p, const struct rte_ether_addr *dst,
			uint32_t laddr, uint32_t raddr, const struct rte_tcp_hdr *th,
			uint32_t seg_len)
{
	struct rte_mbuf *m = alloc_empty(c);
	struct rte_tcp_hdr *r;

	if (!m)
		return;
	r = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->src_port = th->dst_port;
	r->dst_port = th->src_port;
	r->data_off = (sizeof(*r) / 4) << 4;
	/* RFC 9293 3.10.7.1: if the segment has an ACK, <SEQ=SEG.ACK><RST>;
	 * otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>. */
	if (th->tcp_flags & TCP_FLAG_ACK) {
		r->sent_seq = th->recv_ack;
		r->tcp_flags = TCP_FLAG_RST;
	} else {
		r->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + seg_len);
		r->tcp_flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	uint64_t s = csum_pseudo(laddr, raddr, IPPROTO_TCP, sizeof(*r));
	r->cksum = csum_finish(csum_add(r, sizeof(*r), s));
	if (!ipv4_prepend(m, p, laddr, raddr, IPPROTO_TCP, sizeof(*r)) ||
	    !eth_prepend(m, p, dst, RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	c->cnt.rst_sent++;
	io_tx(c, p, m);
}

/* An ACK with an old sequence number: the peer must answer with an ACK
 * carrying its current window (RFC 9293 3.10.7.4); nothing is consumed. */
static void send_old_ack(struct core *c, struct tcb *t)
{
	struct opts_out o = {0};
	struct rte_mbuf *m = alloc_empty(c);

	if (!m)
		return;
	fill_ts(c, t, &o);
	seg_send(c, t, m, t->snd_una - 1, TCP_FLAG_ACK, 0, &o);
}

void tcp_send_probe(struct core *c, struct tcb *t)
{
	c->cnt.zero_window_probes++;
	send_old_ack(c, t);
}

void tcp_send_keepalive(struct core *c, struct tcb *t)
{
	c->cnt.keepalive_probes++;
	send_old_ack(c, t); /* RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1 (= SND.UNA - 1) */
}

/* Sends one data segment of up to max bytes at seq. Returns bytes sent. */
static uint32_t send_data(struct core *c, struct tcb *t, uint32_t seq, uint32_t max,
			  bool retransmit)
{
	struct opts_out o = {0};
	uint32_t len;
	uint64_t psum;
	struct rte_mbuf *m = snd_segment(c, t, seq, max, &len, &psum);

	if (!m || !len) {
		if (m)
			rte_pktmbuf_free(m);
		return 0;
	}
	fill_ts(c, t, &o);
	uint8_t flags = TCP_FLAG_ACK;
	if (seq + len == snd_end(t))
		flags |= TCP_FLAG_PSH;
	sacksnd_on_send(t, seq, len, c->now_us);
	seg_send_sum(c, t, m, seq, flags, len, &o, psum);
	c->cnt.tcp_tx_data_segs++;
	if (retransmit) {
		c->cnt.retransmits++;
		rtt_cancel(t); /* Karn: no sample from a retransmitted range */
	} else {
		rtt_start(t, seq + len, c->now_us);
	}
	return len;
}

static void send_fin(struct core *c, struct tcb *t)
{
	struct opts_out o = {0};
	struct rte_mbuf *m = alloc_empty(c);

	if (!m)
		return;
	fill_ts(c, t, &o);
	seg_send(c, t, m, t->fin_seq, TCP_FLAG_FIN | TCP_FLAG_ACK, 0, &o);
}

uint32_t tcp_send_range(struct core *c, struct tcb *t, uint32_t seq, uint32_t max, bool rexmit)
{
	return send_data(c, t, seq, max, rexmit);
}

void tcp_retransmit(struct core *c, struct tcb *t)
{
	uint32_t end = snd_end(t);

	if (seq_lt(t->snd_una, end)) {
		send_data(c, t, t->snd_una, t->mss, true);
	} else if (t->fin_sent && t->snd_una == t->fin_seq) {
		send_fin(c, t);
		c->cnt.retransmits++;
	}
	timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

static uint32_t send_window(const struct tcb *t)
{
	uint32_t cw = t->cwnd + cc_limited_transmit(t);
	uint32_t flight = t->snd_nxt - t->snd_una;
	/* RFC 6675 5 (C): in SACK recovery the congestion window limits the
	 * pipe, the peer's window the sequence space */
	uint32_t used = recovery_in_flight(t);
	uint32_t cr = cw > used ? cw - used : 0;
	uint32_t wr = t->snd_wnd > flight ? t->snd_wnd - flight : 0;

	return cr < wr ? cr : wr;
}

/* Nagle (RFC 9293 3.7.4): hold a small segment while data is in flight,
 * unless TCP_NODELAY, or it is the last data before our FIN. */
static bool nagle_holds(const struct tcb *t, uint32_t len, uint32_t avail)
{
	if (len >= t->mss || t->nodelay || t->fin_queued)
		return false;
	return t->snd_nxt != t->snd_una && len == avail;
}

static bool can_send_data(int st)
{
	return st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT || st == TCPS_FIN_WAIT_1 ||
	       st == TCPS_CLOSING || st == TCPS_LAST_ACK;
}

static void output_data(struct core *c, struct tcb *t)
{
	uint32_t max0 = t->snd_max;
	int burst;

	for (burst = 0; burst < TX_BURST; burst++) {
		uint32_t end = snd_end(t);
		uint32_t avail = seq_lt(t->snd_nxt, end) ? end - t->snd_nxt : 0;
		uint32_t wnd = send_window(t);
		uint32_t len = avail < t->mss ? avail : t->mss;

		if (!avail || !wnd)
			break;
		if (len > wnd) {
			/* sender SWS avoidance (RFC 9293 3.8.6.2.1): no runt
			 * segments unless the peer's whole window is that small */
			if (wnd < t->mss && wnd < t->max_snd_wnd / 2)
				break;
			len = wnd;
		}
		if (nagle_holds(t, len, avail))
			break;
		if (!io_tx_room(c, t->port)) {
			/* the TX ring is full: keep the data in the send buffer
			 * and try again next iteration (io.h) */
			c->cnt.tx_backpressure++;
			tcp_want_output(c, t);
			break;
		}
		bool rexmit = seq_lt(t->snd_nxt, t->snd_max);
		uint32_t sent = send_data(c, t, t->snd_nxt, len, rexmit);
		if (!sent)
			break;
		t->snd_nxt += sent;
		if (seq_gt(t->snd_nxt, t->snd_max))
			t->snd_max = t->snd_nxt;
		if (!t->timer_at[TT_RTO])
			timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
	}
	/* a burst per connection and iteration (other connections get their
	 * turn); the rest next iteration, not at the next ACK or write */
	if (burst == TX_BURST)
		tcp_want_output(c, t);
	if (burst)
		cc_on_send(t);
	if (seq_gt(t->snd_max, max0))
		rack_arm_tlp(c, t); /* RFC 8985 7.2: after new data */
}

void tcp_send_override(struct core *c, struct tcb *t)
{
	uint32_t end = snd_end(t);
	uint32_t avail = seq_lt(t->snd_nxt, end) ? end - t->snd_nxt : 0;
	uint32_t len = send_window(t);

	if (!can_send_data(tcb_state(t)))
		return;
	len = len < avail ? len : avail;
	len = len < t->mss ? len : t->mss;
	if (!len)
		return;
	uint32_t sent = send_data(c, t, t->snd_nxt, len, seq_lt(t->snd_nxt, t->snd_max));
	t->snd_nxt += sent;
	if (seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	if (sent && !t->timer_at[TT_RTO])
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

static void output_fin(struct core *c, struct tcb *t)
{
	uint32_t end = snd_end(t);

	if (!t->fin_queued || t->snd_nxt != end)
		return;
	if (!t->fin_sent) {
		t->fin_sent = true;
		t->fin_seq = end;
	}
	if (t->snd_nxt != t->fin_seq)
		return;
	send_fin(c, t);
	t->snd_nxt = t->fin_seq + 1;
	if (seq_gt(t->snd_nxt, t->snd_max))
		t->snd_max = t->snd_nxt;
	if (!t->timer_at[TT_RTO])
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

void tcp_output(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);

	if (st == TCPS_CLOSED || st == TCPS_LISTEN || st == TCPS_SYN_SENT)
		return;
	if (st == TCPS_SYN_RCVD) {
		if (t->ack_now)
			tcp_send_syn(c, t);
		return;
	}
	if (can_send_data(st)) {
		recovery_output(c, t);
		output_data(c, t);
		output_fin(c, t);
	}
	/* Nothing in flight, data waiting, nothing sent: the peer's window is
	 * closed (probe it open) or too small for sender SWS avoidance (the
	 * same timer is then the override timeout, RFC 9293 3.8.6.2.1).
	 * Without it a small window that never changes stalls us for good. */
	if (seq_lt(t->snd_una, snd_end(t)) && t->snd_nxt == t->snd_una &&
	    !t->timer_at[TT_PERSIST])
		timer_arm(c, t, TT_PERSIST, c->now_us + rtt_rto(t));
	if (t->ack_now || t->unacked_segs >= 2)
		tcp_send_ack(c, t);
	else if (t->unacked_segs && !t->timer_at[TT_DELACK])
		timer_arm(c, t, TT_DELACK, c->now_us + DELACK_US);
}
