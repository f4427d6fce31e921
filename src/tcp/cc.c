/* cc.c - see cc.h. */
#include "tcp/cc.h"

#include "common/seq.h"

#define DUPACK_THRESHOLD 3 /* RFC 5681 3.2 */

uint32_t cc_flight(const struct tcb *t)
{
	return t->snd_max - t->snd_una;
}

void cc_init(struct tcb *t)
{
	uint32_t iw = 10u * t->mss; /* RFC 6928 */

	if (iw > 14600u && 14600u > 2u * t->mss)
		iw = 14600u;
	t->cwnd = iw;
	t->ssthresh = 0x7fffffff; /* RFC 5681 3.1: arbitrarily high */
	t->dupacks = 0;
	t->in_recovery = false;
	t->recover = t->iss;
	t->bytes_acked = 0;
}

static uint32_t half_flight(const struct tcb *t)
{
	uint32_t h = cc_flight(t) / 2; /* RFC 5681 equation (4) */

	return h > 2u * t->mss ? h : 2u * t->mss;
}

bool cc_on_ack(struct tcb *t, uint32_t ack, uint32_t acked)
{
	t->dupacks = 0;
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
	if (t->cwnd < t->ssthresh) {
		/* slow start, RFC 3465 with L = 2 SMSS */
		t->cwnd += acked < 2u * t->mss ? acked : 2u * t->mss;
	} else {
		/* congestion avoidance: one SMSS per cwnd of acked bytes */
		t->bytes_acked += acked;
		if (t->bytes_acked >= t->cwnd) {
			t->bytes_acked -= t->cwnd;
			t->cwnd += t->mss;
		}
	}
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
	t->ssthresh = half_flight(t);
	t->cwnd = t->ssthresh + t->dupacks * t->mss;
	t->recover = t->snd_max;
	t->in_recovery = true;
	return true;
}

void cc_on_rto(struct tcb *t)
{
	t->ssthresh = half_flight(t); /* RFC 5681 equation (4) */
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
