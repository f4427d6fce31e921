/*
 * aa_build.c - the calls a module makes to build records (aa_module.h):
 * fields as chains of views into packets (thesis 4.2.1, figure 4.4), record
 * ends, error records. Network thread only.
 *
 * Views come from the record itself (aa_rec_priv.inl, in the order fields
 * are made), then from the stream's view pool; a record holds one
 * reference, on the node of its first view, which keeps all of its packets
 * (see struct aa_rec_priv). Freeing a record is then O(fields): clear its
 * slots, give back pool views if it had any, drop one reference.
 *
 * A field that is still open when the parser leaves a node gets the view of
 * its part in that node then ("materialised"); the part in the current node
 * is kept as a bare pointer (open_start) until the field ends or the node
 * is left. A view is never empty unless the whole field is empty, in which
 * case the field is exactly one empty view (an empty view is reused when
 * the field turns out to continue).
 */
#include <string.h>

#include "aa/aa_fast.h"
#include "aa/aa_internal.h"
#include "zc/zc_stream.h"

bool aa_can_start_record(const struct aa_stream *as)
{
	/* One record to publish the next one with (the tail is always a
	 * fresh record), and room for the largest record's views. */
	return as->recs.n_free >= 1 && as->views.n_free >= as->max_views;
}

void aa_record_reset(struct aa_stream *as, struct aa_record *r)
{
	size_t vars = as->layout.fields_offset - sizeof(*r);
	char *v = (char *)r + sizeof(*r);
	static const uint64_t zero;

	memset(r, 0, sizeof(*r));
	/* A module's own members are a few words (CSV: 8 bytes): stored here
	 * rather than by a call per record. */
	if (vars % sizeof(zero) || vars > 4 * sizeof(zero)) {
		memset(v, 0, vars);
		return;
	}
	for (size_t i = 0; i < vars; i += sizeof(zero))
		memcpy(v + i, &zero, sizeof(zero));
}

static bool is_inline(const struct aa_stream *as,
		      const struct aa_rec_priv *pr, const struct stream_field *v)
{
	return v >= pr->inl && v < pr->inl + as->n_inline;
}

/* Gives a chain of views back; returns how many. Inline views stay used
 * until the record is freed (they are handed out in order). */
static uint32_t release_chain(struct aa_stream *as, struct aa_rec_priv *pr,
			      struct stream_field *v)
{
	uint32_t n = 0;

	while (v) {
		struct stream_field *next = v->next;

		if (!is_inline(as, pr, v)) {
			memset(v, 0, sizeof(*v));
			aa_pool_put(&as->views, v);
			pr->pool_views--;
		}
		v = next;
		n++;
	}
	return n;
}

/* Clears n slots: the small counts of most records without a call (this
 * runs once per record). */
static void clear_slots(struct stream_field **s, unsigned n)
{
	switch (n) {
	default:
		memset(s, 0, (size_t)n * sizeof(*s));
		return;
	case 6: s[5] = NULL; /* fall through */
	case 5: s[4] = NULL; /* fall through */
	case 4: s[3] = NULL; /* fall through */
	case 3: s[2] = NULL; /* fall through */
	case 2: s[1] = NULL; /* fall through */
	case 1: s[0] = NULL; /* fall through */
	case 0: return;
	}
}

void aa_release_record_fields(struct aa_stream *as, struct aa_record *r)
{
	struct stream_field **slots = aa_slots(as, r);
	struct aa_rec_priv *pr = aa_rec_priv_of(as, r);

	if (pr->pool_views)
		for (uint32_t i = 0; i < r->nfields && pr->pool_views; i++)
			release_chain(as, pr, slots[i]);
	clear_slots(slots, r->nfields);
	r->nfields = 0;
	pr->inline_used = 0;
	if (pr->held) {
		zc_node_release(pr->held);
		pr->held = NULL;
	}
}

uint64_t aa_offset(struct aa_parse *p, const char *at)
{
	if (!p->chunk)
		return p->chunk_off;
	if (!at)
		return p->chunk_off + (uint64_t)(p->chunk_end - p->chunk);
	return p->chunk_off + (uint64_t)(at - p->chunk);
}

void *aa_record(struct aa_parse *p) { return p->rec; }
bool aa_failed(const struct aa_parse *p) { return p->failed; }
void *aa_state(struct aa_parse *p) { return p->as->state; }
void *aa_stream_state(struct aa_stream *as) { return as->state; }
struct stream_field *aa_field_last(struct aa_parse *p) { return p->last_closed; }

/* The empty view of a field that begins at the end of the stream: it has
 * no packet to point into (and a view is never NULL). */
static const char end_of_stream[1];

/* A view for the record in progress: the next inline one, else one from
 * the pool (never fails after aa_can_start_record; NULL means the record
 * has too many views). */
static struct stream_field *new_view(struct aa_parse *p)
{
	struct aa_stream *as = p->as;
	struct aa_rec_priv *pr = aa_rec_priv_of(as, p->rec);
	struct stream_field *v;

	if (p->rec_views >= as->max_views)
		return NULL;
	if (pr->inline_used < as->n_inline) {
		v = &pr->inl[pr->inline_used++];
	} else {
		v = aa_pool_get(&as->views);
		if (!v)
			return NULL;
		pr->pool_views++;
	}
	p->rec_views++;
	return v;
}

static void hold_node(struct aa_parse *p, struct zc_node *node)
{
	aa_rec_hold(aa_rec_priv_of(p->as, p->rec), node);
}

/* Appends [start, end) of node to the open field (node NULL: the empty
 * view of a field that begins at the end of the stream). */
static bool materialise(struct aa_parse *p, const char *start, const char *end,
			struct zc_node *node)
{
	struct stream_field *v = p->open_last;

	if (!v || v->data.start != v->data.end) {
		/* (an empty view of a field that continues is reused) */
		v = new_view(p);
		if (!v) {
			aa_fail(p, AA_ERR_FRAGMENTED,
				"record spans too many packets", NULL);
			return false;
		}
		v->next = NULL;
		if (p->open_last)
			p->open_last->next = v;
		else
			*p->open_slot = v;
		p->open_last = v;
	}
	/* The stack never writes through these views (mtcp_zc.h). */
	v->data.start = (char *)(uintptr_t)start;
	v->data.end = (char *)(uintptr_t)end;
	v->owner = node;
	hold_node(p, node);
	return true;
}

void aa_open_field_node_end(struct aa_parse *p, const char *node_end)
{
	if (p->failed || !p->open_slot)
		return;
	if (node_end > p->open_start || !p->open_last)
		materialise(p, p->open_start, node_end, p->node);
}

static void close_field(struct aa_parse *p);

/* Prepares slot for a new field starting at `at`; NULL if the stream
 * failed (or the module misbehaved and made it fail). */
static struct stream_field **slot_for(struct aa_parse *p, unsigned slot,
				      const char *at)
{
	struct aa_stream *as = p->as;
	struct stream_field **slots;

	if (p->failed || p->paused) /* paused: the module must return */
		return NULL;
	if (p->open_slot) /* module bug: fields do not nest */
		aa_field_end(p, at);
	if (slot >= as->layout.field_slots) {
		aa_fail(p, AA_ERR_MODULE, "field slot out of range", at);
		return NULL;
	}
	slots = aa_slots(as, p->rec);
	if (slots[slot]) /* a module may overwrite a field */
		p->rec_views -= release_chain(as, aa_rec_priv_of(as, p->rec),
					      slots[slot]);
	slots[slot] = NULL;
	if (slot + 1 > p->rec->nfields)
		p->rec->nfields = (uint16_t)(slot + 1);
	if (!p->rec_offset_set) {
		p->rec->offset = aa_offset(p, at);
		p->rec_offset_set = true;
	}
	return &slots[slot];
}

void aa_field_begin(struct aa_parse *p, unsigned slot, const char *at)
{
	struct stream_field **s = slot_for(p, slot, at);

	if (!s)
		return;
	p->open_slot = s;
	p->open_last = NULL;
	p->open_start = at;
}

void aa_field_set(struct aa_parse *p, unsigned slot, const char *start,
		  const char *end)
{
	struct stream_field **s;

	if (aa_field_set_try(p, slot, start, end))
		return;
	s = slot_for(p, slot, start);

	if (!s)
		return;
	p->open_slot = s;
	p->open_last = NULL;
	if (!p->node) { /* finish(): an empty field at the end */
		start = end = end_of_stream;
	}
	if (materialise(p, start, end, p->node))
		close_field(p);
}

/*
 * Fields slots[i] = [st[i], en[i]) of the current chunk, in that order:
 * each run of consecutive slots is set at once when it is the common case
 * (aa_fields_set_try, the path of the hand-written CSV lines), else field
 * by field as aa_field_set() does.
 */
void aa_fields_set(struct aa_parse *p, unsigned n, const uint16_t *slots,
		   const char *const *st, const char *const *en)
{
	for (unsigned i = 0, run; i < n; i += run) {
		for (run = 1; i + run < n && slots[i + run] == slots[i] + run; run++)
			;
		if (aa_fields_set_try(p, slots[i], run, st + i, en + i))
			continue;
		for (unsigned j = i; j < i + run; j++)
			aa_field_set(p, slots[j], st[j], en[j]);
	}
}

static void close_field(struct aa_parse *p)
{
	p->last_closed = p->open_slot ? *p->open_slot : NULL;
	p->open_slot = NULL;
	p->open_last = NULL;
	p->open_start = NULL;
}

void aa_field_end(struct aa_parse *p, const char *at)
{
	if (p->failed || !p->open_slot)
		return;
	if (!p->node) { /* finish(): the stream's end */
		if (!p->open_last &&
		    !materialise(p, end_of_stream, end_of_stream, NULL))
			return;
	} else if (at > p->open_start || !p->open_last) {
		if (!materialise(p, p->open_start, at, p->node))
			return;
	}
	close_field(p);
}

/* Cuts `back` bytes off the end of a closed chain (never below one,
 * possibly empty, view). */
static void truncate_chain(struct aa_parse *p, struct stream_field *f,
			   size_t back)
{
	size_t total = 0, keep, acc = 0;
	struct stream_field *v;

	for (v = f; v; v = v->next)
		total += (size_t)(v->data.end - v->data.start);
	keep = total > back ? total - back : 0;
	for (v = f; v; v = v->next) {
		size_t len = (size_t)(v->data.end - v->data.start);

		if (acc + len >= keep) {
			v->data.end = v->data.start + (keep - acc);
			p->rec_views -= release_chain(
				p->as, aa_rec_priv_of(p->as, p->rec), v->next);
			v->next = NULL;
			return;
		}
		acc += len;
	}
}

void aa_field_end_back(struct aa_parse *p, const char *at, size_t back)
{
	size_t here;
	struct stream_field *f;

	if (p->failed || !p->open_slot)
		return;
	here = (p->node && at) ? (size_t)(at - p->open_start) : 0;
	if (back <= here) {
		aa_field_end(p, at - back);
		return;
	}
	/* The cut is in views of earlier packets. */
	if (!p->open_last) { /* nothing before: an empty field */
		aa_field_end(p, p->node ? p->open_start : NULL);
		return;
	}
	f = *p->open_slot;
	close_field(p);
	truncate_chain(p, f, back - here);
}

/* Publishes the record in progress and starts the next one (the tail is
 * always a fresh record: thesis 3.2.1, 4.2.2). */
static bool publish(struct aa_parse *p)
{
	struct aa_stream *as = p->as;
	struct aa_record *fresh = aa_pool_get(&as->recs);

	if (!fresh) /* cannot happen: aa_can_start_record() held */
		return false;
	aa_record_reset(as, fresh);
	/* The record's content before the link that makes it visible. */
	aa_store_release_rec(&p->rec->next, fresh);
	p->rec = fresh;
	p->rec_views = 0;
	p->rec_offset_set = false;
	as->published++;
	return true;
}

bool aa_record_end(struct aa_parse *p, unsigned type, const char *at)
{
	struct aa_stream *as = p->as;

	if (p->failed || p->paused)
		return false;
	if (p->aborting) { /* see aa_stream_abort() */
		aa_fail(p, AA_ERR_TRUNCATED, "connection reset inside a record", at);
		return false;
	}
	if (p->open_slot) /* module bug: close it here */
		aa_field_end(p, at);
	if (p->failed)
		return false;
	p->rec->type = (uint16_t)type;
	if (!p->rec_offset_set)
		p->rec->offset = aa_offset(p, at);
	p->rec_end_off = aa_offset(p, at);
	if (!publish(p)) {
		aa_fail(p, AA_ERR_MODULE, "record pool exhausted", at);
		return false;
	}
	if (!aa_can_start_record(as)) {
		p->paused = true;
		as->pauses++;
		return false;
	}
	return true;
}

void aa_fail(struct aa_parse *p, enum aa_error code, const char *msg,
	     const char *at)
{
	struct aa_stream *as = p->as;
	struct aa_record *r = p->rec;

	if (p->failed)
		return;
	p->failed = true;
	/* The record in progress becomes the error record: its fields go. */
	close_field(p);
	p->last_closed = NULL;
	aa_release_record_fields(as, r);
	p->rec_views = 0;
	r->type = AA_RECORD_ERROR;
	r->error = (uint32_t)code;
	r->message = msg;
	r->offset = aa_offset(p, at);
	publish(p);
	/* End of the record stream, after the error record is visible. */
	aa_store_release_u32(&as->eos, 1);
}
