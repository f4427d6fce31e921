/*
 * aa_fast.h - the common case of aa_field_set() (aa_module.h) as an
 * inline function, for the modules compiled into the library (CSV, HTTP):
 * a field inside the current packet, in a slot not set yet, while no field
 * is open and the record has an inline view left (struct aa_rec_priv).
 * That is nearly every field; making it a few stores in the parser's own
 * loop instead of a call is worth about a fifth of the HTTP path
 * (docs/aa-performance.md). Every other case goes to aa_field_set().
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

/* aa_field_set() if it is the common case (true), else nothing (false). */
static inline bool aa_field_set_try(struct aa_parse *p, unsigned slot,
				    const char *start, const char *end)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);
	struct stream_field *v;

	if (p->failed || p->paused || p->open_slot || !p->node ||
	    slot >= as->layout.field_slots || slots[slot] ||
	    pr->inline_used >= as->n_inline || p->rec_views >= as->max_views)
		return false;
	v = &pr->inl[pr->inline_used++];
	p->rec_views++;
	v->data.start = (char *)(uintptr_t)start;
	v->data.end = (char *)(uintptr_t)end;
	v->next = NULL;
	v->owner = p->node;
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

static inline void aa_field_set_fast(struct aa_parse *p, unsigned slot,
				     const char *start, const char *end)
{
	if (!aa_field_set_try(p, slot, start, end))
		aa_field_set(p, slot, start, end);
}

#endif /* AATCP_AA_FAST_H */
