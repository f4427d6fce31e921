/*
 * aa_fast.h - the common case of aa_field_set() (aa_module.h) as an
 * inline function, for the modules compiled into the library (CSV, HTTP):
 * a field inside the current packet, in a slot not set yet, while no field
 * is open and the record has an inline view left (struct aa_rec_priv).
 * That is nearly every field; making it a few stores in the parser's own
 * loop instead of a call pays (docs/aa-performance.md, steps 3 and 8).
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

/*
 * n (1 or 2) inline views for new fields in slots [slot, slot + n) of the
 * record in progress, when it is the common case: no field open, inside a
 * packet, the slots unset, the views left. NULL: nothing done.
 */
static inline struct stream_field *aa_fast_views(struct aa_parse *p,
						 unsigned slot, unsigned n,
						 const char *start)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	struct stream_field *v;

	if (p->failed || p->paused || p->open_slot || !p->node ||
	    slot + n > as->layout.field_slots || pr->inline_used + n > as->n_inline ||
	    p->rec_views + n > as->max_views)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if (slots[slot + i])
			return NULL;
	v = &pr->inl[pr->inline_used];
	pr->inline_used += n;
	p->rec_views += n;
	for (unsigned i = 0; i < n; i++)
		slots[slot + i] = &v[i];
	if (slot + n > r->nfields)
		r->nfields = (uint16_t)(slot + n);
	if (!p->rec_offset_set) {
		r->offset = p->chunk_off + (uint64_t)(start - p->chunk);
		p->rec_offset_set = true;
	}
	aa_rec_hold(pr, p->node);
	return v;
}

static inline void aa_fast_fill(struct aa_parse *p, struct stream_field *v,
				const char *start, const char *end)
{
	v->data.start = (char *)(uintptr_t)start;
	v->data.end = (char *)(uintptr_t)end;
	v->next = NULL;
	v->owner = p->node;
	p->last_closed = v;
}

/* aa_field_set() if it is the common case (true), else nothing (false). */
static inline bool aa_field_set_try(struct aa_parse *p, unsigned slot,
				    const char *start, const char *end)
{
	struct stream_field *v = aa_fast_views(p, slot, 1, start);

	if (!v)
		return false;
	aa_fast_fill(p, v, start, end);
	return true;
}

/* Two fields in slots `slot` and `slot + 1` (an HTTP header's name and
 * value) at once, as two aa_field_set_try() that both succeed; false:
 * nothing done. */
static inline bool aa_field_pair_try(struct aa_parse *p, unsigned slot,
				     const char *s0, const char *e0,
				     const char *s1, const char *e1)
{
	struct stream_field *v = aa_fast_views(p, slot, 2, s0);

	if (!v)
		return false;
	aa_fast_fill(p, &v[0], s0, e0);
	aa_fast_fill(p, &v[1], s1, e1);
	return true;
}

static inline void aa_field_set_fast(struct aa_parse *p, unsigned slot,
				     const char *start, const char *end)
{
	if (!aa_field_set_try(p, slot, start, end))
		aa_field_set(p, slot, start, end);
}

#endif /* AATCP_AA_FAST_H */
