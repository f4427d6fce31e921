/* cc.c - see cc.h. */
#include "tcp/cc.h"

#include "common/config.h"
#include "common/seq.h"
#include "tcp/cubic.h"

#define DUPACK_THRESHOLD 3 /* RFC 5681 3.2 */

uint32_t cc_flight(const struct tcb *t)
{
	return t->snd_max - t->snd_una;
}

void cc_init(struct tcb *t, int algo)
{
	uint32_t iw = 10u * t->mss; /* RFC 6928 */

	if (iw > 14600u && 14600u > 2u * t->mss)
		iw = 14600u;
	t->cc_algo = (uint8_t)algo;
	t->cwnd = iw;
	t->ssthresh = 0x7fffffff; /* RFC 5681 3.1: arbitrarily high */
	t->dupacks = 0;
	t->in_recovery = false;
	t->recover = t->iss;
	t->bytes_acked = 0;
	t->cubic_wmax = t->cubic_prior = 0;
	t->cubic_west = 0;
	t->cubic_epoch_us = 0;
	t->cwv_seq = t->snd_nxt;
	t->cwv_max = t->cwv_prev_max = 0;
	t->cwv_full = t->cwv_prev_full = false;
}

static uint32_t half_flight(const struct tcb *t)
{
	uint32_t h = cc_flight(t) / 2; /* RFC 5681 equation (4) */

	return h > 2u * t->mss ? h : 2u * t->mss;
}

void cc_on_congestion(struct tcb *t)
{
	/* RFC 9438 4.6 applies beta_cubic to cwnd, not to the flight: a
	 * flight that happens to be short when the loss is seen would cut
	 * the window far below what the path carried; cwnd validation
	 * (cc_cwnd_limited) keeps cwnd close to what the sender used */
	if (t->cc_algo == TCP_CC_CUBIC)
		t->ssthresh = cubic_on_congestion(t);
	else
		t->ssthresh = half_flight(t);
}

void cc_on_send(struct tcb *t)
{
	uint32_t flight = t->snd_nxt - t->snd_una;

	if (flight > t->cwv_max)
		t->cwv_max = flight;
	if (flight + t->mss > t->cwnd)
		t->cwv_full = true;
}

bool cc_cwnd_limited(const struct tcb *t)
{
	uint32_t used = t->cwv_max > t->cwv_prev_max ? t->cwv_max : t->cwv_prev_max;

	if (t->cwnd < t->ssthresh)
		return t->cwnd < 2u * used;
	return t->cwv_full || t->cwv_prev_full;
}

/* A window of data is over once snd_una passes what was sent when it
 * began: its record becomes the previous one. */
static void cwv_roll(struct tcb *t, uint32_t ack)
{
	if (seq_lt(ack, t->cwv_seq))
		return;
	t->cwv_prev_max = t->cwv_max;
	t->cwv_prev_full = t->cwv_full;
	t->cwv_max = t->snd_nxt - t->snd_una;
	t->cwv_full = false;
	t->cwv_seq = t->snd_nxt;
}

/* Slow start (RFC 3465 with L = 2 SMSS) or congestion avoidance. */
static void grow(struct tcb *t, uint32_t acked, uint64_t now_us)
{
	if (t->cwnd < t->ssthresh) {
		t->cwnd += acked < 2u * t->mss ? acked : 2u * t->mss;
		return;
	}
	if (t->cc_algo == TCP_CC_CUBIC) {
		cubic_on_ack(t, acked, now_us);
		return;
	}
	/* Reno: one SMSS per cwnd of acked bytes (RFC 5681 3.1) */
	t->bytes_acked += acked;
	if (t->bytes_acked >= t->cwnd) {
		t->bytes_acked -= t->cwnd;
		t->cwnd += t->mss;
	}
}

bool cc_on_ack(struct tcb *t, uint32_t ack, uint32_t acked, uint64_t now_us)
{
	t->dupacks = 0;
	cwv_roll(t, ack);
	if (t->in_recovery) {
		if (seq_geq(ack, t->recover)) {
			/* RFC 6582 3.2 step 3: full acknowledgment, leave recovery
			 * (NewReno deflates to at most the flight + 1 MSS; with
			 * SACK the pipe kept the flight at cwnd = ssthresh all
			 * along, RFC 6675 5: it stays) */
			uint32_t f = cc_flight(t) + t->mss;
			t->cwnd = t->ssthresh < f || t->sbd ? t->ssthresh : f;
			t->in_recovery = false;
			return false;
		}
		if (t->sbd)
			return false; /* RFC 6675: the pipe, not the window, governs */
		/* Step 5: partial ACK. Deflate by what was acked, add back one
		 * segment, and retransmit the next hole. */
		t->cwnd = t->cwnd > acked ? t->cwnd - acked : 0;
		t->cwnd += t->mss;
		return true;
	}
	if (cc_cwnd_limited(t))
		grow(t, acked, now_us);
	return false;
}

bool cc_on_dupack(struct tcb *t, bool unsent)
{
	uint32_t thresh = DUPACK_THRESHOLD;
	uint32_t oseg = (cc_flight(t) + t->mss - 1) / t->mss;

	if (t->in_recovery) {
		t->cwnd += t->mss; /* RFC 6582 3.2 step 4: inflate */
		return false;
	}
	/* RFC 5827 early retransmit: with fewer than four segments out and
	 * nothing new to send, three duplicates can never come */
	if (!unsent && oseg < 4 && oseg >= 2)
		thresh = oseg - 1;
	if (++t->dupacks < thresh)
		return false;
	/* RFC 6582 3.2 step 2: only if the cumulative ACK covers more than
	 * `recover` (the highest octet sent; we keep the byte after it, so
	 * reaching it is enough), i.e. this loss is not from the window
	 * already recovered */
	if (!seq_geq(t->snd_una, t->recover))
		return false;
	cc_on_congestion(t);
	t->cwnd = t->ssthresh + t->dupacks * t->mss;
	t->recover = t->snd_max;
	t->in_recovery = true;
	return true;
}

void cc_on_rto(struct tcb *t, bool first)
{
	/* RFC 5681 3.1: ssthresh by equation (4), RFC 9438 4.8 by
	 * beta_cubic; held when the timer expires again for a segment it
	 * already retransmitted */
	if (first)
		cc_on_congestion(t);
	if (t->cc_algo == TCP_CC_CUBIC)
		cubic_on_rto(t);
	t->cwnd = t->mss;             /* loss window */
	t->dupacks = 0;
	t->in_recovery = false;
	t->recover = t->snd_max;      /* RFC 6582 section 4.1 */
	t->bytes_acked = 0;
}

uint32_t cc_limited_transmit(const struct tcb *t)
{
	/* RFC 3042: one new segment for each of the first two duplicates,
	 * so a small window still produces the third */
	if (t->in_recovery || t->dupacks == 0 || t->dupacks >= DUPACK_THRESHOLD)
		return 0;
	return t->dupacks * t->mss;
}
