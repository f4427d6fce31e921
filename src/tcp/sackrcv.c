/* sackrcv.c - see sackrcv.h. */
#include "tcp/sackrcv.h"

#include <stdbool.h>

#include "common/seq.h"
#include "tcp/rcvbuf.h"
#include "tcp/tcp.h"

#define ALL RCVBUF_MAX_HOLES

struct ranges {
	uint32_t l[ALL], r[ALL];
	int n;
};

static void current(const struct tcb *t, struct ranges *cur)
{
	cur->n = rcv_sack_blocks(t, cur->l, cur->r, ALL);
}

/* The range holding seq, -1 if none. */
static int containing(const struct ranges *cur, uint32_t seq)
{
	for (int i = 0; i < cur->n; i++)
		if (seq_leq(cur->l[i], seq) && seq_lt(seq, cur->r[i]))
			return i;
	return -1;
}

void sackrcv_note(struct tcb *t, uint32_t seq)
{
	t->sack_last_seq = seq;
	t->sack_last_ok = true;
}

int sackrcv_holds(const struct tcb *t, uint32_t seq, uint32_t len)
{
	struct ranges cur;
	int i;

	if (!t->sack_ok || !len)
		return 0;
	current(t, &cur);
	i = containing(&cur, seq);
	return i >= 0 && seq_leq(seq + len, cur.r[i]);
}

void sackrcv_dsack(struct core *c, struct tcb *t, uint32_t l, uint32_t r)
{
	if (!t->sack_ok)
		return;
	t->dsack_l = l;
	t->dsack_r = r;
	t->dsack_pending = true;
	c->cnt.dsacks_sent++;
}

struct out {
	uint32_t *l, *r;
	int n, max;
	int first; /* blocks before it: the D-SACK, which a block may repeat */
};

static void put(struct out *o, const struct ranges *cur, int i)
{
	if (i < 0 || o->n >= o->max)
		return;
	for (int j = o->first; j < o->n; j++)
		if (o->l[j] == cur->l[i] && o->r[j] == cur->r[i])
			return;
	o->l[o->n] = cur->l[i];
	o->r[o->n] = cur->r[i];
	o->n++;
}

int sackrcv_blocks(struct tcb *t, uint32_t *l, uint32_t *r, int max)
{
	struct ranges cur;
	struct out o = {.l = l, .r = r, .max = max};
	current(t, &cur);
	if (t->dsack_pending && max > 0) {
		/* RFC 2883 4: the duplicate first, then the block holding it
		 * even when equal (that is how the sender tells a D-SACK
		 * above its cumulative ACK) */
		l[0] = t->dsack_l;
		r[0] = t->dsack_r;
		o.n = o.first = 1;
		t->dsack_pending = false;
		put(&o, &cur, containing(&cur, t->dsack_l));
	}
	if (t->sack_last_ok)
		put(&o, &cur, containing(&cur, t->sack_last_seq));
	for (int i = 0; i < t->n_sack_sent; i++)
		put(&o, &cur, containing(&cur, t->sack_sent[i]));
	for (int i = 0; i < cur.n; i++)
		put(&o, &cur, i); /* never reported: highest first */
	t->n_sack_sent = 0;
	for (int i = o.first; i < o.n && t->n_sack_sent < MAX_SACK_HIST; i++)
		t->sack_sent[t->n_sack_sent++] = l[i];
	return o.n;
}
