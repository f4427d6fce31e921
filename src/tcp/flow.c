/* flow.c - see flow.h. */
#include "tcp/flow.h"

#include <stdlib.h>

#include "tcp/tcb.h"

struct flow_table {
	struct tcb **buckets;
	uint32_t mask;
	uint32_t count;
};

struct flow_table *flow_create(uint32_t max_flows)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	uint32_t n = 64;

	if (!ft)
		return NULL;
	while (n < max_flows * 2 && n < (1u << 24))
		n <<= 1;
	ft->buckets = calloc(n, sizeof(*ft->buckets));
	if (!ft->buckets) {
		free(ft);
		return NULL;
	}
	ft->mask = n - 1;
	return ft;
}

void flow_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->buckets);
	free(ft);
}

static struct tcb **bucket(const struct flow_table *ft, uint32_t laddr, uint16_t lport,
			   uint32_t raddr, uint16_t rport)
{
	return &ft->buckets[flow_hash(laddr, lport, raddr, rport) & ft->mask];
}

void flow_insert(struct flow_table *ft, struct tcb *t)
{
	struct tcb **b = bucket(ft, t->laddr, t->lport, t->raddr, t->rport);

	t->hash_next = *b;
	*b = t;
	ft->count++;
}

void flow_remove(struct flow_table *ft, struct tcb *t)
{
	struct tcb **pp = bucket(ft, t->laddr, t->lport, t->raddr, t->rport);

	for (; *pp; pp = &(*pp)->hash_next)
		if (*pp == t) {
			*pp = t->hash_next;
			t->hash_next = NULL;
			ft->count--;
			return;
		}
}

struct tcb *flow_lookup(const struct flow_table *ft, uint32_t laddr, uint16_t lport,
			uint32_t raddr, uint16_t rport)
{
	struct tcb *t = *bucket(ft, laddr, lport, raddr, rport);

	for (; t; t = t->hash_next)
		if (t->raddr == raddr && t->rport == rport && t->lport == lport &&
		    t->laddr == laddr)
			return t;
	return NULL;
}

uint32_t flow_count(const struct flow_table *ft)
{
	return ft->count;
}

void flow_foreach(struct flow_table *ft, void (*fn)(struct tcb *, void *), void *arg)
{
	/* stops when the table is empty (fn may remove entries) */
	for (uint32_t i = 0; i <= ft->mask && ft->count; i++) {
		struct tcb *t = ft->buckets[i];
		while (t) {
			struct tcb *next = t->hash_next;
			fn(t, arg);
			t = next;
		}
	}
}
