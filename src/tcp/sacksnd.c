/* sacksnd.c - see sacksnd.h. */
#include "tcp/sacksnd.h"

#include <stdlib.h>
#include <string.h>

#include "common/seq.h"
#include "tcp/bufcache.h"
#include "tcp/options.h"
#include "tcp/rack.h"

#define DUPTHRESH 3u /* RFC 6675 section 2 */

static struct sb_seg *rec(const struct scoreboard *sb, uint32_t i)
{
	return (struct sb_seg *)&sb->seg[sb->head + i];
}

/* Records for every 512 bytes of the send buffer plus slack: more than
 * its segments at any MSS the stack sends (append() coarsens the last
 * record when they run out). */
struct scoreboard *sacksnd_create(uint32_t sndbuf_size)
{
	uint32_t cap = sndbuf_size / 512u + 64u;
	struct scoreboard *sb = malloc(sizeof(*sb) + cap * sizeof(sb->seg[0]));

	if (sb) {
		sb->sndbuf_size = sndbuf_size;
		sb->cap = cap;
		sacksnd_reset(sb);
	}
	return sb;
}

/* Records are written before they are read (append()): only the header
 * is cleared. */
void sacksnd_reset(struct scoreboard *sb)
{
	sb->head = sb->n = 0;
	sb->sacked_segs = 0;
	sb->high_sacked = 0;
}

void sacksnd_free(struct core *c, struct tcb *t)
{
	bufcache_sbd_put(c, t->sbd);
	t->sbd = NULL;
}

/* Room for one more record at the end (moves the records to the front of
 * the array when they reached its end). False when all cap are in use. */
static bool room(struct scoreboard *sb)
{
	if (sb->n == sb->cap)
		return false;
	if (sb->head + sb->n == sb->cap) {
		memmove(&sb->seg[0], &sb->seg[sb->head], sb->n * sizeof(sb->seg[0]));
		sb->head = 0;
	}
	return true;
}

/* Splits record i at seq `at` (inside it) into two with the same state. */
static bool split(struct scoreboard *sb, uint32_t i, uint32_t at)
{
	if (!room(sb))
		return false;
	struct sb_seg *r = rec(sb, i);
	memmove(r + 1, r, (sb->n - i) * sizeof(*r));
	sb->n++;
	r->end = at;
	r[1].seq = at;
	if (r->flags & SBF_SACKED)
		sb->sacked_segs++;
	return true;
}

/* First record whose end lies above seq (binary search: records are
 * sorted and disjoint); n when none. */
static uint32_t find(const struct scoreboard *sb, uint32_t seq)
{
	uint32_t lo = 0, hi = sb->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (seq_leq(rec(sb, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void append(struct tcb *t, uint32_t seq, uint32_t end, uint64_t now_us)
{
	struct scoreboard *sb = t->sbd;

	if (room(sb)) {
		*rec(sb, sb->n++) = (struct sb_seg){.seq = seq, .end = end, .xmit_us = now_us};
		return;
	}
	/* full: the last record grows (coarser, never wrong: what it holds
	 * is all sent by now and none of it counts as SACKed) */
	struct sb_seg *last = rec(sb, sb->n - 1);
	if (last->flags & SBF_SACKED)
		sb->sacked_segs--;
	last->end = end;
	last->xmit_us = now_us;
	last->flags = 0;
}

void sacksnd_on_send(struct tcb *t, uint32_t seq, uint32_t len, uint64_t now_us)
{
	struct scoreboard *sb = t->sbd;
	uint32_t end = seq + len;

	if (!sb) {
		/* only from the first byte outstanding: a scoreboard never
		 * misses a segment in flight */
		if (!t->sack_ok || seq != t->snd_una || t->snd_max != t->snd_una)
			return;
		sb = t->sbd = bufcache_sbd_get(t->core, t->sndbuf_size);
		if (!sb)
			return;
	}
	if (!sb->n || seq_geq(seq, rec(sb, sb->n - 1)->end)) {
		append(t, seq, end, now_us);
		return;
	}
	/* a retransmission: every record it overlaps, split to its bounds */
	for (uint32_t i = find(sb, seq); i < sb->n && seq_lt(rec(sb, i)->seq, end); i++) {
		struct sb_seg *r = rec(sb, i);
		if (seq_lt(r->seq, seq) && split(sb, i, seq))
			continue; /* the part at seq is record i + 1 */
		r = rec(sb, i);
		if (seq_gt(r->end, end))
			split(sb, i, end);
		r = rec(sb, i);
		r->xmit_us = now_us;
		r->flags |= SBF_RETRANS; /* a lost one stays lost: counted once in the pipe */
	}
	if (seq_gt(end, rec(sb, sb->n - 1)->end))
		append(t, rec(sb, sb->n - 1)->end, end, now_us);
}

/* Marks [l, r) SACKed, record by record (split at the block's edges). */
static bool mark_sacked(struct core *c, struct tcb *t, uint32_t l, uint32_t r)
{
	struct scoreboard *sb = t->sbd;
	bool news = false;

	for (uint32_t i = find(sb, l); i < sb->n && seq_lt(rec(sb, i)->seq, r); i++) {
		struct sb_seg *s = rec(sb, i);
		if (s->flags & SBF_SACKED)
			continue;
		if (seq_lt(s->seq, l)) {
			split(sb, i, l); /* covered from l on: record i + 1 */
			continue;
		}
		if (seq_gt(s->end, r) && !split(sb, i, r))
			break; /* only partly covered and no room to split: not SACKed */
		s = rec(sb, i);
		s->flags |= SBF_SACKED;
		sb->sacked_segs++;
		if (sb->sacked_segs == 1 || seq_gt(s->end, sb->high_sacked))
			sb->high_sacked = s->end;
		rack_delivered(c, t, s);
		news = true;
	}
	return news;
}

bool sacksnd_update(struct core *c, struct tcb *t, const struct tcp_opts *o)
{
	bool news = false;

	if (!t->sbd)
		return false;
	for (int i = 0; i < o->n_sack; i++) {
		uint32_t l = o->sack_left[i], r = o->sack_right[i];
		/* RFC 2018 / RFC 5961: only blocks about data in flight; a
		 * D-SACK (RFC 2883) reports a duplicate below snd_una */
		if (!seq_lt(l, r) || seq_leq(r, t->snd_una) || seq_gt(r, t->snd_max))
			continue;
		news |= mark_sacked(c, t, seq_max(l, t->snd_una), r);
	}
	return news;
}

void sacksnd_advance(struct core *c, struct tcb *t, uint32_t ack)
{
	struct scoreboard *sb = t->sbd;

	if (!sb)
		return;
	while (sb->n && seq_leq(rec(sb, 0)->end, ack)) {
		struct sb_seg *s = rec(sb, 0);
		if (s->flags & SBF_SACKED)
			sb->sacked_segs--;
		else
			rack_delivered(c, t, s);
		sb->head++;
		sb->n--;
	}
	if (!sb->n)
		sb->head = 0;
	else if (seq_lt(rec(sb, 0)->seq, ack))
		rec(sb, 0)->seq = ack; /* partly acknowledged */
}

void sacksnd_on_rto(struct tcb *t)
{
	struct scoreboard *sb = t->sbd;

	if (!sb)
		return;
	for (uint32_t i = 0; i < sb->n; i++)
		rec(sb, i)->flags = 0;
	sb->sacked_segs = 0;
}

uint32_t sacksnd_mark_lost(struct tcb *t)
{
	struct scoreboard *sb = t->sbd;
	uint32_t segs = 0, bytes = 0, marked = 0;

	if (!sb || !sb->sacked_segs)
		return 0;
	for (uint32_t i = sb->n; i-- > 0;) {
		struct sb_seg *s = rec(sb, i);
		if (s->flags & SBF_SACKED) {
			segs++;
			bytes += s->end - s->seq;
			continue;
		}
		if (s->flags & (SBF_LOST | SBF_RETRANS))
			continue; /* a lost retransmission is RACK's to find */
		if (segs >= DUPTHRESH || bytes > (DUPTHRESH - 1) * t->mss) {
			s->flags |= SBF_LOST;
			marked++;
		}
	}
	return marked;
}

uint32_t sacksnd_pipe(const struct tcb *t)
{
	const struct scoreboard *sb = t->sbd;
	uint32_t pipe = 0;

	for (uint32_t i = 0; sb && i < sb->n; i++) {
		const struct sb_seg *s = rec(sb, i);
		uint32_t len = s->end - s->seq;
		if (s->flags & SBF_SACKED)
			continue;
		if (!(s->flags & SBF_LOST))
			pipe += len;
		if (s->flags & SBF_RETRANS)
			pipe += len;
	}
	return pipe;
}

bool sacksnd_next_seg(const struct tcb *t, bool lost, uint32_t *seq, uint32_t *len)
{
	const struct scoreboard *sb = t->sbd;

	for (uint32_t i = 0; sb && i < sb->n; i++) {
		const struct sb_seg *s = rec(sb, i);
		bool ok;
		if (lost) {
			ok = (s->flags & (SBF_LOST | SBF_SACKED | SBF_RETRANS)) == SBF_LOST;
		} else {
			if (!sb->sacked_segs || !seq_lt(s->seq, sb->high_sacked))
				return false;
			ok = !s->flags;
		}
		if (ok) {
			*seq = s->seq;
			*len = s->end - s->seq;
			return true;
		}
	}
	return false;
}

bool sacksnd_last_unsacked(const struct tcb *t, uint32_t *seq, uint32_t *len)
{
	const struct scoreboard *sb = t->sbd;

	for (uint32_t i = sb ? sb->n : 0; i-- > 0;) {
		const struct sb_seg *s = rec(sb, i);
		if (s->flags & SBF_RETRANS)
			return false; /* the highest one is already resent */
		if (!(s->flags & SBF_SACKED)) {
			*seq = s->seq;
			*len = s->end - s->seq;
			return true;
		}
	}
	return false;
}

struct sb_seg *sacksnd_iter(struct tcb *t, uint32_t *i)
{
	struct scoreboard *sb = t->sbd;

	for (; sb && *i < sb->n; (*i)++) {
		struct sb_seg *s = rec(sb, *i);
		if (s->flags & SBF_SACKED)
			continue;
		if ((s->flags & (SBF_LOST | SBF_RETRANS)) == SBF_LOST)
			continue; /* waits for its retransmission */
		(*i)++;
		return s;
	}
	return NULL;
}

bool sacksnd_any_lost(const struct tcb *t)
{
	uint32_t seq, len;

	return sacksnd_next_seg(t, true, &seq, &len);
}

bool sacksnd_mark_first_lost(struct tcb *t)
{
	struct scoreboard *sb = t->sbd;

	if (!sb || !sb->n || (rec(sb, 0)->flags & (SBF_SACKED | SBF_RETRANS)))
		return false;
	rec(sb, 0)->flags |= SBF_LOST;
	return true;
}
