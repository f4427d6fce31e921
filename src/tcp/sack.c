/* sack.c - see sack.h. */
#include "tcp/sack.h"

#include <string.h>

#include "common/seq.h"
#include "tcp/options.h"

#define MAX_RANGES (sizeof(((struct tcb *)0)->sacked) / sizeof(((struct tcb *)0)->sacked[0]))

void sack_clear(struct tcb *t)
{
	t->n_sacked = 0;
}

uint32_t sack_bytes(const struct tcb *t)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < t->n_sacked; i++)
		n += t->sacked[i].r - t->sacked[i].l;
	return n;
}

/* Adds [l, r), merging; returns true if it covered anything new. */
static bool add(struct tcb *t, uint32_t l, uint32_t r)
{
	unsigned i = 0, j;
	bool grew = false;

	while (i < t->n_sacked && seq_lt(t->sacked[i].r, l))
		i++;
	if (i < t->n_sacked && seq_leq(t->sacked[i].l, r)) {
		grew = seq_lt(l, t->sacked[i].l) || seq_gt(r, t->sacked[i].r);
		t->sacked[i].l = seq_min(t->sacked[i].l, l);
		t->sacked[i].r = seq_max(t->sacked[i].r, r);
		for (j = i + 1; j < t->n_sacked && seq_leq(t->sacked[j].l, t->sacked[i].r); j++)
			t->sacked[i].r = seq_max(t->sacked[i].r, t->sacked[j].r);
		memmove(&t->sacked[i + 1], &t->sacked[j], (t->n_sacked - j) * sizeof(t->sacked[0]));
		t->n_sacked = (uint8_t)(t->n_sacked - (j - i - 1));
		return grew;
	}
	if (t->n_sacked == MAX_RANGES) {
		if (i == MAX_RANGES)
			return false; /* keep the lowest ranges: they find the holes */
		t->n_sacked--;
	}
	memmove(&t->sacked[i + 1], &t->sacked[i], (t->n_sacked - i) * sizeof(t->sacked[0]));
	t->sacked[i].l = l;
	t->sacked[i].r = r;
	t->n_sacked++;
	return true;
}

bool sack_update(struct tcb *t, const struct tcp_opts *o)
{
	bool news = false;

	if (!t->sack_ok)
		return false;
	for (int i = 0; i < o->n_sack; i++) {
		uint32_t l = o->sack_left[i], r = o->sack_right[i];
		/* a D-SACK (RFC 2883) reports a duplicate below snd_una: not a hole */
		if (!seq_lt(l, r) || seq_leq(r, t->snd_una) || seq_gt(r, t->snd_max))
			continue;
		if (seq_lt(l, t->snd_una))
			l = t->snd_una;
		news |= add(t, l, r);
	}
	return news;
}

void sack_advance(struct tcb *t)
{
	unsigned k = 0;

	for (unsigned i = 0; i < t->n_sacked; i++) {
		if (seq_leq(t->sacked[i].r, t->snd_una))
			continue;
		t->sacked[k] = t->sacked[i];
		if (seq_lt(t->sacked[k].l, t->snd_una))
			t->sacked[k].l = t->snd_una;
		k++;
	}
	t->n_sacked = (uint8_t)k;
}

bool sack_next_hole(const struct tcb *t, uint32_t from, uint32_t *seq, uint32_t *len)
{
	for (unsigned i = 0; i < t->n_sacked; i++) {
		if (seq_geq(from, t->sacked[i].r))
			continue;
		if (seq_lt(from, t->sacked[i].l)) {
			*seq = from;
			*len = t->sacked[i].l - from;
			return true;
		}
		from = t->sacked[i].r; /* inside a SACKed range: skip it */
	}
	return false;
}
