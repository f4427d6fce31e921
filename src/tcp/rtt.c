/* rtt.c - see rtt.h. */
#include "tcp/rtt.h"

#include "common/seq.h"

void rtt_init(struct tcb *t)
{
	t->srtt = 0;
	t->rttvar = 0;
	t->rto = RTO_INITIAL_US;
	t->rtt_timing = false;
	t->rto_backoff = 0;
}

void rtt_start(struct tcb *t, uint32_t seq_end, uint64_t now_us)
{
	if (t->rtt_timing)
		return;
	t->rtt_timing = true;
	t->rtt_seq = seq_end;
	t->rtt_start = now_us;
}

void rtt_cancel(struct tcb *t)
{
	t->rtt_timing = false;
}

static void sample(struct tcb *t, uint32_t r)
{
	if (r == 0)
		r = 1;
	if (t->srtt == 0) { /* RFC 6298 2.2 */
		t->srtt = r;
		t->rttvar = r / 2;
	} else { /* RFC 6298 2.3, alpha = 1/8, beta = 1/4 */
		uint32_t diff = t->srtt > r ? t->srtt - r : r - t->srtt;
		t->rttvar = (3 * t->rttvar + diff) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
	}
	uint64_t rto = (uint64_t)t->srtt + (4 * t->rttvar > 1000 ? 4 * t->rttvar : 1000);
	if (rto < RTO_MIN_US)
		rto = RTO_MIN_US;
	if (rto > RTO_MAX_US)
		rto = RTO_MAX_US;
	t->rto = (uint32_t)rto;
}

bool rtt_ack(struct tcb *t, uint32_t ack, uint64_t now_us)
{
	bool sampled = false;

	if (t->rtt_timing && seq_geq(ack, t->rtt_seq)) {
		t->rtt_timing = false;
		sample(t, (uint32_t)(now_us - t->rtt_start));
		sampled = true;
	}
	/* RFC 6298 5.7: new data acknowledged ends the backoff */
	t->rto_backoff = 0;
	return sampled;
}

void rtt_ts_sample(struct tcb *t, uint32_t now_ts, uint32_t tsecr)
{
	uint32_t ms = now_ts - tsecr;

	/* RFC 7323 4.1 (RTTM): the echo of the TSval of the segment that
	 * was acknowledged; unambiguous even for a retransmission, where
	 * Karn's rule leaves the timed segment without a sample. An echo
	 * from the future or older than the largest RTO is no sample. A
	 * 1 ms clock: a difference of 0 says "below 1 ms", taken as 0.5. */
	if (!tsecr || seq_gt(tsecr, now_ts) || (uint64_t)ms * 1000u > RTO_MAX_US)
		return;
	sample(t, ms ? ms * 1000u : 500u);
}

uint32_t rtt_rto(const struct tcb *t)
{
	uint64_t rto = (uint64_t)t->rto << t->rto_backoff;

	return rto > RTO_MAX_US ? RTO_MAX_US : (uint32_t)rto;
}
