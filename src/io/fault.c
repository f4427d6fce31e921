/*
 * fault.c - see fault.h.
 *
 * Order of faults for each frame: drop, corrupt, duplicate, reorder, then the
 * rate limiter (a token bucket shaper with a bounded queue, like tc tbf).
 * Corruption and duplication work on private copies: a transmitted frame may
 * share its buffer with a zero-copy node kept for retransmission, which must
 * never change.
 */
#include "io/fault.h"

#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#define HOLD_MAX 1024       /* reordered frames held at once */
#define RATE_QUEUE 4096     /* frames waiting for tokens */
#define HOLD_TIMEOUT_US 2000 /* a held frame leaves after this even if idle */

struct held {
	struct rte_mbuf *m;
	uint32_t release_after; /* frames still to pass before it leaves */
	uint64_t deadline_us;
};

struct fault {
	struct fault_conf c;
	uint64_t rng;
	struct rte_mempool *pool;
	struct counters *cnt;
	struct held hold[HOLD_MAX];
	uint32_t n_hold;
	/* token bucket, in bits */
	double tokens, burst;
	uint64_t last_us;
	struct rte_mbuf *q[RATE_QUEUE];
	uint32_t qh, qn;
};

/* xorshift64*: small, fast, good enough for fault decisions, and seeded. */
static uint64_t rnd(struct fault *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static bool chance(struct fault *f, double p)
{
	return p > 0 && (double)(rnd(f) >> 11) * (1.0 / 9007199254740992.0) < p;
}

struct fault *fault_create(const struct fault_conf *conf, uint64_t seed,
			   struct rte_mempool *pool, struct counters *cnt)
{
	struct fault *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->c = *conf;
	f->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	f->pool = pool;
	f->cnt = cnt;
	/* burst of 64 KB or 1 ms worth, whichever is larger */
	f->burst = (double)conf->rate_bps / 1000.0;
	if (f->burst < 64 * 1024 * 8)
		f->burst = 64 * 1024 * 8;
	f->tokens = f->burst;
	return f;
}

void fault_destroy(struct fault *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->n_hold; i++)
		rte_pktmbuf_free(f->hold[i].m);
	for (uint32_t i = 0; i < f->qn; i++)
		rte_pktmbuf_free(f->q[(f->qh + i) % RATE_QUEUE]);
	free(f);
}

static struct rte_mbuf *private_copy(struct fault *f, struct rte_mbuf *m)
{
	return rte_pktmbuf_copy(m, f->pool, 0, UINT32_MAX);
}

/* Flip one random bit of the frame, in a private copy. */
static struct rte_mbuf *corrupt(struct fault *f, struct rte_mbuf *m)
{
	struct rte_mbuf *c = private_copy(f, m);

	rte_pktmbuf_free(m);
	if (!c)
		return NULL;
	uint32_t bit = (uint32_t)(rnd(f) % ((uint64_t)rte_pktmbuf_data_len(c) * 8));
	rte_pktmbuf_mtod(c, uint8_t *)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	f->cnt->fault_corrupted++;
	return c;
}

/* Queue for the shaper (or pass straight on when there is no rate limit). */
static void enqueue(struct fault *f, struct rte_mbuf *m, struct rte_mbuf **out,
		    uint16_t *n_out, uint16_t out_cap)
{
	if (!f->c.rate_bps && f->qn == 0 && *n_out < out_cap) {
		out[(*n_out)++] = m;
		return;
	}
	if (f->qn == RATE_QUEUE) {
		rte_pktmbuf_free(m);
		f->cnt->fault_dropped++;
		return;
	}
	f->q[(f->qh + f->qn++) % RATE_QUEUE] = m;
}

static void release_held(struct fault *f, uint64_t now, struct rte_mbuf **out,
			 uint16_t *n_out, uint16_t out_cap, bool one_frame_passed)
{
	uint32_t i = 0;

	while (i < f->n_hold) {
		struct held *h = &f->hold[i];
		if (one_frame_passed && h->release_after)
			h->release_after--;
		if (h->release_after == 0 || now >= h->deadline_us) {
			enqueue(f, h->m, out, n_out, out_cap);
			f->hold[i] = f->hold[--f->n_hold];
			continue;
		}
		i++;
	}
}

static void one_frame(struct fault *f, struct rte_mbuf *m, uint64_t now,
		      struct rte_mbuf **out, uint16_t *n_out, uint16_t out_cap)
{
	if (chance(f, f->c.drop)) {
		rte_pktmbuf_free(m);
		f->cnt->fault_dropped++;
		return;
	}
	if (chance(f, f->c.corrupt)) {
		m = corrupt(f, m);
		if (!m)
			return;
	}
	if (chance(f, f->c.dup)) {
		struct rte_mbuf *d = private_copy(f, m);
		if (d) {
			f->cnt->fault_duped++;
			enqueue(f, d, out, n_out, out_cap);
		}
	}
	if (f->n_hold < HOLD_MAX && chance(f, f->c.reorder)) {
		f->hold[f->n_hold++] = (struct held){
			.m = m,
			.release_after = f->c.depth,
			.deadline_us = now + HOLD_TIMEOUT_US,
		};
		f->cnt->fault_reordered++;
		return;
	}
	enqueue(f, m, out, n_out, out_cap);
	release_held(f, now, out, n_out, out_cap, true);
}

static void shape(struct fault *f, uint64_t now, struct rte_mbuf **out,
		  uint16_t *n_out, uint16_t out_cap)
{
	if (!f->c.rate_bps) {
		while (f->qn && *n_out < out_cap) {
			out[(*n_out)++] = f->q[f->qh];
			f->qh = (f->qh + 1) % RATE_QUEUE;
			f->qn--;
		}
		return;
	}
	f->tokens += (double)(now - f->last_us) * (double)f->c.rate_bps / 1e6;
	if (f->tokens > f->burst)
		f->tokens = f->burst;
	f->last_us = now;
	while (f->qn && *n_out < out_cap) {
		struct rte_mbuf *m = f->q[f->qh];
		double bits = (double)rte_pktmbuf_pkt_len(m) * 8;
		if (f->tokens < bits)
			break;
		f->tokens -= bits;
		out[(*n_out)++] = m;
		f->qh = (f->qh + 1) % RATE_QUEUE;
		f->qn--;
	}
	if (f->qn)
		f->cnt->fault_delayed++;
}

uint16_t fault_apply(struct fault *f, struct rte_mbuf **in, uint16_t n,
		     struct rte_mbuf **out, uint16_t out_cap, uint64_t now_us)
{
	uint16_t n_out = 0;

	if (f->last_us == 0)
		f->last_us = now_us;
	/* Frames pass through the queue when shaping so order is kept. */
	for (uint16_t i = 0; i < n; i++)
		one_frame(f, in[i], now_us, out, &n_out, f->c.rate_bps ? 0 : out_cap);
	release_held(f, now_us, out, &n_out, f->c.rate_bps ? 0 : out_cap, false);
	shape(f, now_us, out, &n_out, out_cap);
	return n_out;
}

bool fault_tx_refuses(struct fault *f)
{
	if (!chance(f, f->c.txfull))
		return false;
	f->cnt->fault_tx_refused++;
	return true;
}
