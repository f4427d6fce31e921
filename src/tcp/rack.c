/* rack.c - see rack.h. */
#include "tcp/rack.h"

#include "common/seq.h"
#include "io/io.h"
#include "tcp/cc.h"
#include "tcp/options.h"
#include "tcp/rtt.h"
#include "tcp/sacksnd.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

#define DUPTHRESH 3u
#define REO_MULT_MAX 4u      /* reo_wnd up to 5 * min_RTT / 4 (capped at SRTT) */
#define REO_PERSIST 16u      /* RFC 8985 6.2 step 4: recoveries before the multiplier resets */

/* RFC 8985 6.2 RACK_sent_after(): (t1, s1) sent after (t2, s2). */
static bool sent_after(uint64_t t1, uint32_t s1, uint64_t t2, uint32_t s2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(s1, s2));
}

/* s lies within the outstanding loss probe's retransmission. */
static bool tlp_probe(const struct tcb *t, const struct sb_seg *s)
{
	return t->tlp_out && t->tlp_is_retrans && seq_geq(s->seq, t->tlp_probe_seq) &&
	       seq_leq(s->end, t->tlp_end_seq);
}

void rack_delivered(struct core *c, struct tcb *t, const struct sb_seg *s)
{
	uint64_t rtt64 = c->now_us - s->xmit_us;
	uint32_t rtt = rtt64 > RTO_MAX_US ? RTO_MAX_US : (uint32_t)rtt64;

	if ((s->flags & SBF_RETRANS) && !tlp_probe(t, s)) {
		/* step 2: a retransmitted segment's delivery may be its
		 * original's: no sample below the minimum RTT (as Linux; the
		 * timestamp echo cannot tell: a receiver echoes the last
		 * in-order segment's TSval in the SACK of an out-of-order one,
		 * RFC 7323 4.3). The probe's segment is exempt: its original
		 * was sent a PTO (two SRTTs) before it and never acknowledged,
		 * and its SACK is what the probe is for (RFC 8985 7.3). */
		if (t->rack_min_rtt && rtt < t->rack_min_rtt)
			return;
	}
	if (!rtt)
		rtt = 1;
	if (!t->rack_min_rtt || rtt < t->rack_min_rtt)
		t->rack_min_rtt = rtt;
	if (sent_after(s->xmit_us, s->end, t->rack_xmit_us, t->rack_end_seq)) {
		t->rack_rtt = rtt;
		t->rack_xmit_us = s->xmit_us;
		t->rack_end_seq = s->end;
	}
	/* step 3: an original transmission delivered below the highest end
	 * already delivered arrived out of order */
	if (!(s->flags & SBF_RETRANS) && seq_lt(s->end, t->rack_fack))
		t->rack_reordering_seen = true;
	else if (seq_gt(s->end, t->rack_fack) || !t->rack_fack)
		t->rack_fack = s->end;
}

uint32_t rack_reo_wnd(const struct tcb *t)
{
	/* step 4: no reordering seen so far: none in recovery or with
	 * DupThresh segments SACKed (the loss is then plain), else a
	 * quarter of the minimum RTT, times the multiplier, at most SRTT */
	if (!t->rack_reordering_seen &&
	    (t->in_recovery || sacksnd_sacked_segs(t) >= DUPTHRESH))
		return 0;
	uint64_t w = (uint64_t)(t->rack_reo_mult + 1u) * t->rack_min_rtt / 4u;
	if (t->srtt && w > t->srtt)
		w = t->srtt;
	return (uint32_t)w;
}

uint32_t rack_detect_loss(struct core *c, struct tcb *t)
{
	uint64_t timeout = 0;
	uint32_t marked = 0, i = 0;
	struct sb_seg *s;

	if (!t->sbd || !t->rack_xmit_us) {
		timer_cancel(t, TT_REO);
		return 0;
	}
	uint64_t wnd = (uint64_t)t->rack_rtt + rack_reo_wnd(t);
	while ((s = sacksnd_iter(t, &i))) {
		if (!sent_after(t->rack_xmit_us, t->rack_end_seq, s->xmit_us, s->end))
			continue;
		uint64_t at = s->xmit_us + wnd;
		if (at <= c->now_us) {
			/* step 5: lost; waits for its retransmission (a
			 * retransmission's send time is the segment's: a lost
			 * one is found the same way, RFC 8985 6.2) */
			if (s->flags & SBF_RETRANS)
				c->cnt.lost_retransmits++;
			s->flags = (s->flags & ~SBF_RETRANS) | SBF_LOST;
			marked++;
		} else if (at - c->now_us > timeout) {
			timeout = at - c->now_us;
		}
	}
	c->cnt.rack_lost += marked;
	if (timeout)
		timer_arm(c, t, TT_REO, c->now_us + timeout);
	else
		timer_cancel(t, TT_REO);
	return marked;
}

/* A D-SACK in the ACK (RFC 2883 4): the first block lies below the
 * cumulative ACK or inside the second block. */
static bool has_dsack(uint32_t ack, const struct tcp_opts *o)
{
	if (!o->n_sack)
		return false;
	if (seq_leq(o->sack_right[0], ack))
		return true;
	return o->n_sack > 1 && seq_geq(o->sack_left[0], o->sack_left[1]) &&
	       seq_leq(o->sack_right[0], o->sack_right[1]);
}

void rack_on_ack(struct core *c, struct tcb *t, uint32_t ack, const struct tcp_opts *o)
{
	bool dsack = has_dsack(ack, o);

	/* 6.2 step 4: a D-SACK says a retransmission was spurious: widen
	 * the reordering window, once per round trip, for the next
	 * REO_PERSIST recoveries */
	if (dsack && seq_geq(ack, t->rack_dsack_round)) {
		if (t->rack_reo_mult < REO_MULT_MAX)
			t->rack_reo_mult++;
		t->rack_reo_persist = REO_PERSIST;
		t->rack_dsack_round = t->snd_max;
	}
	/* 7.4: the probe's episode ends with an ACK at or past its end */
	if (!t->tlp_out || seq_lt(ack, t->tlp_end_seq))
		return;
	t->tlp_out = false;
	if (!t->tlp_is_retrans || dsack)
		return; /* new data, or the retransmission was a duplicate: no loss */
	/* the probe repaired a loss: the congestion response of fast
	 * recovery, once (RFC 8985 7.4.2) */
	c->cnt.tlp_recoveries++;
	if (!t->in_recovery) {
		cc_on_congestion(t);
		t->cwnd = t->ssthresh;
	}
}

static uint64_t pto(const struct tcb *t)
{
	uint64_t p = t->srtt ? 2u * (uint64_t)t->srtt : RTO_INITIAL_US;

	/* 7.2: one segment in flight: the peer may delay its ACK */
	if (t->snd_max - t->snd_una <= t->mss)
		p += TLP_WCDELACK_US;
	return p + TLP_SLACK_US;
}

void rack_arm_tlp(struct core *c, struct tcb *t)
{
	if (!t->sbd || t->in_recovery || t->tlp_out || sacksnd_sacked_segs(t) ||
	    t->snd_una == t->snd_max || t->snd_nxt != t->snd_max) {
		timer_cancel(t, TT_TLP);
		return;
	}
	uint64_t at = c->now_us + pto(t);
	if (t->timer_at[TT_RTO] && t->timer_at[TT_RTO] <= at) {
		timer_cancel(t, TT_TLP); /* the RTO comes first */
		return;
	}
	timer_arm(c, t, TT_TLP, at);
}

/* 7.3: a new segment if there is one and the peer's window takes it
 * (cwnd aside); else the last segment sent again. */
static bool send_probe(struct core *c, struct tcb *t)
{
	uint32_t end = snd_end(t);
	uint32_t avail = seq_lt(t->snd_nxt, end) ? end - t->snd_nxt : 0;
	uint32_t flight = t->snd_nxt - t->snd_una;
	uint32_t room = t->snd_wnd > flight ? t->snd_wnd - flight : 0;
	uint32_t len = avail < t->mss ? avail : t->mss;

	if (len && len <= room) {
		uint32_t sent = tcp_send_range(c, t, t->snd_nxt, len, false);
		t->snd_nxt += sent;
		t->snd_max = t->snd_nxt;
		t->tlp_is_retrans = false;
		return sent != 0;
	}
	uint32_t data_end = seq_lt(end, t->snd_max) ? end : t->snd_max;
	if (!seq_lt(t->snd_una, data_end))
		return false; /* only a FIN outstanding: the RTO resends it */
	uint32_t n = data_end - t->snd_una < t->mss ? data_end - t->snd_una : t->mss;
	t->tlp_is_retrans = true;
	t->tlp_probe_seq = data_end - n;
	return tcp_send_range(c, t, data_end - n, n, true) != 0;
}

void rack_tlp_fire(struct core *c, struct tcb *t)
{
	if (!t->sbd || t->in_recovery || t->tlp_out || t->snd_una == t->snd_max)
		return;
	if (!io_tx_room(c, t->port)) {
		/* our own TX queue is full: the silence is ours, not the path's
		 * (the flight has not all left), so no probe; look again a PTO
		 * later */
		rack_arm_tlp(c, t);
		return;
	}
	if (send_probe(c, t)) {
		c->cnt.tlp_probes++;
		t->tlp_out = true;
		t->tlp_end_seq = t->snd_max;
	}
	/* 7.3: after a probe, the RTO, not another probe */
	timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

void rack_on_rto(struct core *c, struct tcb *t)
{
	(void)c;
	/* the scoreboard forgot what was SACKed (RFC 2018 8): what is
	 * acknowledged from now on is delivered from snd_una up, and a
	 * segment SACKed before is no reordering (6.2 step 3) */
	t->rack_fack = t->snd_una;
	t->tlp_out = false;
	timer_cancel(t, TT_TLP);
	timer_cancel(t, TT_REO);
}
