/* recovery.c - see recovery.h. */
#include "tcp/recovery.h"

#include "common/seq.h"
#include "tcp/cc.h"
#include "tcp/rack.h"
#include "tcp/rtt.h"
#include "tcp/sacksnd.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

#define DUPTHRESH 3u /* RFC 6675 section 2 */

uint32_t recovery_in_flight(const struct tcb *t)
{
	if (t->in_recovery && t->sbd)
		return sacksnd_pipe(t);
	return t->snd_nxt - t->snd_una;
}

/* Sends [seq, seq + len) again, at most one segment. */
static uint32_t resend(struct core *c, struct tcb *t, uint32_t seq, uint32_t len)
{
	return tcp_send_range(c, t, seq, len < t->mss ? len : t->mss, true);
}

/* RFC 6675 section 5, steps (4.1)-(4.3). */
static void enter(struct core *c, struct tcb *t)
{
	uint32_t seq, len;

	c->cnt.fast_retransmits++;
	t->recover = t->snd_max;             /* RecoveryPoint = HighData */
	cc_on_congestion(t); /* RFC 6675 (4.2): ssthresh, cc.h */
	t->cwnd = t->ssthresh;
	t->in_recovery = true;
	t->rescue_rxt = t->snd_una;
	if (t->rack_reo_persist && --t->rack_reo_persist == 0)
		t->rack_reo_mult = 0;
	timer_cancel(t, TT_TLP);
	/* (4.3): the first segment deemed lost, whatever the pipe; and no
	 * rescue below it */
	if (sacksnd_next_seg(t, true, &seq, &len)) {
		uint32_t sent = resend(c, t, seq, len);
		t->rescue_rxt = seq + sent;
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
	}
}

/* Detection after new information (an ACK or the reordering timer):
 * RACK, then IsLost(); recovery starts at the first loss, unless this
 * loss belongs to the window already recovered (RFC 6582 3.2 step 2: the
 * cumulative ACK must cover more than `recover`, the highest octet sent,
 * i.e. reach the byte after it, which `recover` holds: snd_una at
 * `recover` means the whole old window was acknowledged, and a loss of
 * the segment that starts there is a new one). */
static void detect(struct core *c, struct tcb *t)
{
	if (sacksnd_sacked_segs(t) || t->in_recovery || t->timer_at[TT_REO])
		rack_detect_loss(c, t);
	sacksnd_mark_lost(t);
	if (!t->in_recovery && t->dupacks >= DUPTHRESH)
		sacksnd_mark_first_lost(t); /* duplicates without SACK blocks */
	if (!t->in_recovery && seq_geq(t->snd_una, t->recover) && sacksnd_any_lost(t))
		enter(c, t);
	if (t->in_recovery)
		tcp_want_output(c, t);
}

void recovery_on_ack(struct core *c, struct tcb *t, uint32_t ack, const struct tcp_opts *o)
{
	if (!t->sbd)
		return;
	rack_on_ack(c, t, ack, o);
	detect(c, t);
	rack_arm_tlp(c, t);
}

void recovery_reo_fire(struct core *c, struct tcb *t)
{
	if (!t->sbd || t->snd_una == t->snd_max)
		return;
	detect(c, t);
	tcp_output(c, t);
}

void recovery_output(struct core *c, struct tcb *t)
{
	uint32_t seq, len, end = snd_end(t);

	if (!t->in_recovery || !t->sbd)
		return;
	for (int burst = 0; burst < TX_BURST; burst++) {
		uint32_t pipe = sacksnd_pipe(t);
		uint32_t flight = t->snd_nxt - t->snd_una;
		if (pipe + t->mss > t->cwnd)
			return; /* (C): cwnd - pipe >= 1 SMSS */
		if (sacksnd_next_seg(t, true, &seq, &len)) {          /* rule (1) */
			if (!resend(c, t, seq, len))
				return;
			continue;
		}
		if (seq_lt(t->snd_nxt, end) && flight < t->snd_wnd)
			return;                                       /* rule (2): new data */
		if (sacksnd_next_seg(t, false, &seq, &len)) {         /* rule (3) */
			if (!resend(c, t, seq, len))
				return;
			continue;
		}
		/* rule (4): one rescue per recovery, of the highest segment
		 * not SACKed, once HighACK passed RescueRxt */
		if (seq_gt(t->snd_una, t->rescue_rxt) && seq_lt(t->rescue_rxt, t->recover) &&
		    sacksnd_last_unsacked(t, &seq, &len)) {
			t->rescue_rxt = t->recover;
			if (len > t->mss) {
				seq += len - t->mss;
				len = t->mss;
			}
			resend(c, t, seq, len);
			continue;
		}
		return;
	}
}
