/*
 * aa_check.c - invariant checker of an application-aware stream, for the
 * tests and fuzzers (network thread, O(records + views + nodes)).
 *
 * Checked: records and pool views are all either in a pool or in the
 * record list (nothing leaks, nothing is counted twice); every view lies
 * inside its owner node's payload and that payload inside a segment of the
 * node's mbuf; every view's node is the record's held node or a later one
 * (so the record's one reference keeps it, see struct aa_rec_priv); every
 * node's refs equals the number of records holding it plus the parser's
 * reference while it is in the backlog (assumes no other holder, such as a
 * splice, in the test).
 */
#include <stdlib.h>

#include <rte_mbuf.h>

#include "aa/aa_internal.h"
#include "zc/zc_stream.h"

struct node_count {
	const struct zc_node *node;
	uint32_t expect;
	uint32_t pos;       /* order in the zc stream from its reclaim point */
};

struct count_map {
	struct node_count *slot;
	size_t mask;
};

static size_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

static struct node_count *map_find(struct count_map *m, const struct zc_node *n)
{
	for (size_t i = hash_ptr(n) & m->mask;; i = (i + 1) & m->mask)
		if (m->slot[i].node == n || !m->slot[i].node)
			return &m->slot[i];
}

static bool in_range(const void *lo, const void *hi, const void *a,
		     const void *b)
{
	uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi;

	return (uintptr_t)a >= l && (uintptr_t)b <= h &&
	       (uintptr_t)a <= (uintptr_t)b;
}

static bool in_mbuf(const struct rte_mbuf *m, const char *a, const char *b)
{
	for (; m; m = m->next) {
		const char *s = rte_pktmbuf_mtod(m, const char *);

		if (in_range(s, s + m->data_len, a, b))
			return true;
	}
	return false;
}

/* A view of a record whose held node is at position `held_pos`. */
static const char *check_view(struct count_map *map,
			      const struct stream_field *v, uint32_t held_pos)
{
	struct node_count *c;

	if (!v->owner)
		return v->data.start == v->data.end ? NULL
						    : "view without owner";
	if (!in_range(v->owner->data.start, v->owner->data.end, v->data.start,
		      v->data.end))
		return "view outside its node's payload";
	if (!in_mbuf(v->owner->mbuf, v->data.start, v->data.end))
		return "view outside its mbuf's data area";
	c = map_find(map, v->owner);
	if (!c->node)
		return "view on a node that is not in the zc stream";
	if (c->pos < held_pos)
		return "view on a node before the record's held node";
	return NULL;
}

/* The views of one record; *npool counts those from the view pool. */
static const char *check_record_views(const struct aa_stream *as,
				      const struct aa_record *r,
				      struct count_map *map, uint32_t *npool)
{
	struct stream_field **slots = aa_slots(as, r);
	const struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	uint32_t held_pos = UINT32_MAX, own_pool = 0;

	if (pr->inline_used > as->n_inline)
		return "more inline views than the record has";
	if (pr->held) {
		struct node_count *c = map_find(map, pr->held);

		if (!c->node)
			return "record holds a node that is not in the zc stream";
		c->expect++;
		held_pos = c->pos;
	}
	for (uint32_t i = 0; i < as->layout.field_slots; i++) {
		if (i >= r->nfields && slots[i])
			return "field set beyond nfields";
		for (const struct stream_field *v = slots[i]; v; v = v->next) {
			const char *e = check_view(map, v, held_pos);

			if (e)
				return e;
			if (v < pr->inl || v >= pr->inl + pr->inline_used)
				own_pool++;
		}
	}
	if (own_pool != pr->pool_views)
		return "record's pool view count is wrong";
	*npool += own_pool;
	if (*npool > as->views.size)
		return "more views than the pool";
	return NULL;
}

static const char *check_records(const struct aa_stream *as,
				 struct count_map *map, uint32_t *nrec,
				 uint32_t *nview)
{
	for (const struct aa_record *r = as->reclaim; r; r = r->next) {
		const char *e;

		(*nrec)++;
		if (*nrec > as->recs.size)
			return "record list longer than the pool";
		if (r->nfields > as->layout.field_slots)
			return "nfields beyond the slots";
		e = check_record_views(as, r, map, nview);
		if (e)
			return e;
		if (r == as->p.rec)
			return r->next ? "tail record has a next" : NULL;
	}
	return "record list does not reach the tail";
}

static const char *check_nodes(const struct aa_stream *as,
			       struct count_map *map, size_t nnodes)
{
	const struct zc_node *n = as->zc->head;

	/* The backlog: the first `backlog` nodes from the zc head. */
	for (uint32_t k = 0; k < as->backlog; k++, n = n->next) {
		struct node_count *c = map_find(map, n);

		if (!c->node || n == as->zc->tail)
			return "backlog node not in the zc stream";
		c->expect++;
	}
	n = as->zc->reclaim;
	for (size_t i = 0; i < nnodes; i++, n = n->next)
		if (map_find(map, n)->expect != n->refs)
			return "node refs differ from records + parser";
	return NULL;
}

const char *aa_stream_check(const struct aa_stream *as)
{
	struct count_map map;
	size_t nnodes = 0, cap = 16;
	uint32_t nrec = 0, nview = 0;
	const char *err;

	for (const struct zc_node *n = as->zc->reclaim; n && n != as->zc->tail;
	     n = n->next)
		nnodes++;
	while (cap < 2 * nnodes + 2)
		cap *= 2;
	map.mask = cap - 1;
	map.slot = calloc(cap, sizeof(*map.slot));
	if (!map.slot)
		return "out of memory";
	nnodes = 0;
	for (const struct zc_node *n = as->zc->reclaim; n && n != as->zc->tail;
	     n = n->next) {
		struct node_count *c = map_find(&map, n);

		c->node = n;
		c->pos = (uint32_t)nnodes++;
	}
	err = check_records(as, &map, &nrec, &nview);
	if (!err && nrec + as->recs.n_free != as->recs.size)
		err = "records leaked";
	if (!err && nview + as->views.n_free != as->views.size)
		err = "views leaked";
	if (!err && as->backlog > 1000000)
		err = "backlog runaway";
	if (!err)
		err = check_nodes(as, &map, nnodes);
	free(map.slot);
	return err;
}
