/*
 * aa_fast.h - the common case of aa_field_set() (aa_module.h) as an
 * inline function, for the modules compiled into the library (CSV, HTTP):
 * a field inside the current packet, in a slot not set yet, while no field
 * is open and the record has an inline view left (struct aa_rec_priv).
 * That is nearly every field; making it a few stores in the parser's own
 * loop instead of a call pays (docs/aa-performance.md, steps 3 and 7).
 * Every other case goes to aa_field_set().
 */
#ifndef AATCP_AA_FAST_H
#define AATCP_AA_FAST_H

#include "aa/aa_internal.h"
#include "zc/zc_stream.h"

/* The record keeps its first view's node (see struct aa_rec_priv). */
static inline void aa_rec_hold(struct aa_rec_priv *pr, struct zc_node *node)
{
	if (node && !pr->held) {
		pr->held = node;
		zc_node_hold(node);
	}
}

/* The common case for n new fields from `slot` on: no field open, inside a
 * packet, the slots in range, n inline views left. */
static inline bool aa_fast_ok(const struct aa_parse *p,
			      const struct aa_rec_priv *pr, unsigned slot,
			      unsigned n)
{
	const struct aa_stream *as = p->as;

	return !p->failed && !p->paused && !p->open_slot && p->node &&
	       slot + n <= as->layout.field_slots &&
	       pr->inline_used + n <= as->n_inline &&
	       p->rec_views + n <= as->max_views;
}

static inline void aa_fast_fill(struct stream_field *v, const char *start,
				const char *end, struct zc_node *node)
{
	v->data.start = (char *)(uintptr_t)start;
	v->data.end = (char *)(uintptr_t)end;
	v->next = NULL;
	v->owner = node;
}

/* aa_field_set() if it is the common case (true), else nothing (false). */
static inline bool aa_field_set_try(struct aa_parse *p, unsigned slot,
				    const char *start, const char *end)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	struct stream_field *v;

	if (!aa_fast_ok(p, pr, slot, 1) || slots[slot])
		return false;
	v = &pr->inl[pr->inline_used++];
	p->rec_views++;
	aa_fast_fill(v, start, end, p->node);
	slots[slot] = v;
	if (slot >= r->nfields)
		r->nfields = (uint16_t)(slot + 1);
	if (!p->rec_offset_set) {
		r->offset = p->chunk_off + (uint64_t)(start - p->chunk);
		p->rec_offset_set = true;
	}
	aa_rec_hold(pr, p->node);
	p->last_closed = v;
	return true;
}

/*
 * Two fields in slots `slot` and `slot + 1` (an HTTP header's name and
 * value) at once: the common case checked once for both. false: nothing
 * done, set them one by one.
 */
static inline bool aa_field_pair_try(struct aa_parse *p, unsigned slot,
				     const char *s0, const char *e0,
				     const char *s1, const char *e1)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	struct stream_field *v;

	if (!aa_fast_ok(p, pr, slot, 2) || slots[slot] || slots[slot + 1] ||
	    !p->rec_offset_set)
		return false;
	v = &pr->inl[pr->inline_used];
	pr->inline_used += 2;
	p->rec_views += 2;
	aa_fast_fill(&v[0], s0, e0, p->node);
	aa_fast_fill(&v[1], s1, e1, p->node);
	slots[slot] = &v[0];
	slots[slot + 1] = &v[1];
	if (slot + 1 >= r->nfields)
		r->nfields = (uint16_t)(slot + 2);
	aa_rec_hold(pr, p->node);
	p->last_closed = &v[1];
	return true;
}

/*
 * n fields in slots slot .. slot + n - 1 at once, field i = [st[i], en[i])
 * inside the current packet (a CSV line parsed whole): the common case
 * checked once for all. false: nothing done, set them one by one.
 */
static inline bool aa_fields_set_try(struct aa_parse *p, unsigned slot,
				     unsigned n, const char *const *st,
				     const char *const *en)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	struct stream_field *v;

	if (!n || !aa_fast_ok(p, pr, slot, n))
		return false;
	for (unsigned i = 0; i < n; i++)
		if (slots[slot + i])
			return false;
	v = &pr->inl[pr->inline_used];
	pr->inline_used += n;
	p->rec_views += n;
	for (unsigned i = 0; i < n; i++) {
		aa_fast_fill(&v[i], st[i], en[i], p->node);
		slots[slot + i] = &v[i];
	}
	if (slot + n > r->nfields)
		r->nfields = (uint16_t)(slot + n);
	if (!p->rec_offset_set) {
		r->offset = p->chunk_off + (uint64_t)(st[0] - p->chunk);
		p->rec_offset_set = true;
	}
	aa_rec_hold(pr, p->node);
	p->last_closed = &v[n - 1];
	return true;
}

static inline void aa_field_set_fast(struct aa_parse *p, unsigned slot,
				     const char *start, const char *end)
{
	if (!aa_field_set_try(p, slot, start, end))
		aa_field_set(p, slot, start, end);
}

#endif /* AATCP_AA_FAST_H */
