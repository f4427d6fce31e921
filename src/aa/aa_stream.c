/*
 * aa_stream.c - the application-aware stream: attaching a module to a
 * socket's zc stream, the parse driver run from the deliver hook, reclaim,
 * end of stream (network thread). The application side is in aa_app.c, the
 * module calls in aa_build.c. See aa_stream.h for the picture.
 *
 * Consuming the zc stream (thesis 4.2.1, step 3): the aa layer is the zc
 * stream's only consumer. A delivered node gets a parser reference
 * (zc_node.refs) and joins the backlog; the parser works through the
 * backlog in order and, when it has finished a node, drops that reference
 * and consumes the node (zc_stream_consume), so the zc stream's head is
 * always the node being parsed. zc_stream_reclaim() then frees consumed
 * nodes in order as soon as no field view holds them.
 *
 * Why parsing may pause: a record is only started when the pools can hold
 * all of it (aa_can_start_record), so a module never meets an allocation
 * failure in the middle of a record; when they cannot, the parser stops
 * after the record it just ended and the backlog waits until the
 * application frees records (aa_stream_reclaim resumes). Meanwhile the
 * waiting nodes count as held bytes: the window closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aa/aa_internal.h"
#include "zc/zc_stream.h"

#define DEF_RECORDS 64u
/* With a receive buffer: one record per REC_PER_BYTES bytes of it, up to
 * MAX_DEF_RECORDS (see setup_pools). */
#define REC_PER_BYTES 64u
#define MAX_DEF_RECORDS 4096u
#define DEF_EXTRA_VIEWS 64u
#define DEF_MAX_RECORD (64u * 1024u)
#define DEF_MSS 1460u
#define MIN_VIEWS 256u
/* Views inside each record (struct aa_rec_priv): one per field slot and
 * two packet crossings, at most INLINE_VIEWS_MAX (an HTTP head of up to 22
 * header fields, a CSV line of up to 46 fields needs no pool view). */
#define INLINE_VIEWS_EXTRA 2u
#define INLINE_VIEWS_MAX 48u

/* ---- attach / detach ------------------------------------------------------ */

static bool layout_ok(const struct aa_layout *l)
{
	return l->fields_offset >= sizeof(struct aa_record) &&
	       l->fields_offset % sizeof(void *) == 0 &&
	       l->field_slots <= 65535 &&
	       l->record_size >= l->fields_offset +
				 (size_t)l->field_slots * sizeof(void *);
}

/* The byte limit of a record: the module's, the configuration's, and what
 * fits the receive buffer: if a record in progress could fill the buffer,
 * the window would close with nothing the application can free - a stall
 * (the first and last packets of a record may be mostly other bytes, hence
 * the 2 * mss). */
static uint32_t record_limit(const struct aa_layout *l,
			     const struct aa_stream_config *c)
{
	uint32_t lim = l->max_record_bytes ? l->max_record_bytes : DEF_MAX_RECORD;
	uint32_t mss = c->mss ? c->mss : DEF_MSS;

	if (c->max_record_bytes && c->max_record_bytes < lim)
		lim = c->max_record_bytes;
	if (c->rcvbuf) {
		uint32_t fit = c->rcvbuf > 3 * mss ? c->rcvbuf - 2 * mss
						   : c->rcvbuf / 2;
		if (fit < lim)
			lim = fit;
	}
	return lim ? lim : 1;
}

int aa_module_check(const struct aa_module *mod, const void *params)
{
	struct aa_layout l;
	void *state;
	int r;

	if (!mod || mod->abi != AA_MODULE_ABI || !mod->init || !mod->parse ||
	    !mod->finish)
		return -EINVAL;
	state = calloc(1, mod->state_size ? mod->state_size : 1);
	if (!state)
		return -ENOMEM;
	memset(&l, 0, sizeof(l));
	r = mod->init(state, params, &l);
	if (r == 0 && !layout_ok(&l))
		r = -EINVAL;
	if (mod->fini) /* as aa_stream_create(): also after a failed init */
		mod->fini(state);
	free(state);
	return r == 0 ? 0 : r == -ENOMEM ? -ENOMEM : -EINVAL;
}

static int setup_pools(struct aa_stream *as, const struct aa_stream_config *c)
{
	uint32_t extra = c->max_extra_views ? c->max_extra_views
					    : DEF_EXTRA_VIEWS;
	uint32_t nrec = c->records ? c->records : DEF_RECORDS;
	uint32_t nview;
	int r;

	/*
	 * The default record pool covers a receive window of small records
	 * (one per 64 bytes). With 64 records, a window of short CSV lines or
	 * small HTTP answers made the parser pause every 64 records until the
	 * application thread had run, read and freed them: one network <->
	 * application thread hand-off per 64 records, which on one core cost
	 * 2-3x in throughput (fig4_5, 4-byte fields: 0.23 -> 0.69 Gbit/s;
	 * fig4_9, 100-byte bodies: 0.88 -> 1.17), i.e. the very bufferisation
	 * thesis 4.1 sets out to avoid. Memory stays bounded by the window,
	 * and pool elements are carved only when first used. (One record per
	 * 8 bytes was tried: no measurable gain in fig4_5, and 3.5x the time
	 * of the C tests that create thousands of streams, all page faults of
	 * fresh pool memory; docs/aa-performance.md.)
	 */
	if (!c->records && c->rcvbuf / REC_PER_BYTES > nrec)
		nrec = c->rcvbuf / REC_PER_BYTES < MAX_DEF_RECORDS ?
			       c->rcvbuf / REC_PER_BYTES : MAX_DEF_RECORDS;
	as->max_views = as->layout.field_slots + extra;
	as->n_inline = as->layout.field_slots + INLINE_VIEWS_EXTRA;
	if (as->n_inline > INLINE_VIEWS_MAX)
		as->n_inline = INLINE_VIEWS_MAX;
	/* The pool holds the views that do not fit inside a record. */
	nview = c->views ? c->views : 4 * as->max_views;
	if (!c->views && nview < MIN_VIEWS)
		nview = MIN_VIEWS;
	if (nview < as->max_views) /* one whole record must fit */
		nview = as->max_views;
	if (nrec < 2) /* the record in progress and the next one */
		nrec = 2;
	as->priv_off = (as->layout.record_size + 7) & ~(size_t)7;
	r = aa_pool_init(&as->recs, nrec,
			 as->priv_off + sizeof(struct aa_rec_priv) +
				 as->n_inline * sizeof(struct stream_field),
			 offsetof(struct aa_record, next));
	if (r == 0)
		r = aa_pool_init(&as->views, nview, sizeof(struct stream_field),
				 offsetof(struct stream_field, next));
	return r;
}

static void free_stream(struct aa_stream *as)
{
	aa_pool_fini(&as->recs);
	aa_pool_fini(&as->views);
	free(as->state);
	free(as);
}

struct aa_stream *aa_stream_create(const struct aa_module *mod,
				   const void *params, struct zc_stream *zc,
				   const struct aa_stream_config *cfg)
{
	static const struct aa_stream_config defaults;
	struct aa_stream *as;
	struct aa_record *first;
	int r;

	if (!mod || mod->abi != AA_MODULE_ABI || !mod->init || !mod->parse ||
	    !mod->finish || !zc) {
		errno = EINVAL;
		return NULL;
	}
	if (!cfg)
		cfg = &defaults;
	as = aligned_alloc(64, (sizeof(*as) + 63) & ~(size_t)63);
	if (!as)
		goto nomem;
	memset(as, 0, sizeof(*as));
	as->state = calloc(1, mod->state_size ? mod->state_size : 1);
	if (!as->state) {
		free(as);
		goto nomem;
	}
	as->mod = mod;
	as->zc = zc;
	as->p.as = as;
	r = mod->init(as->state, params, &as->layout);
	if (r == 0 && !layout_ok(&as->layout))
		r = -EINVAL;
	if (r == 0)
		r = setup_pools(as, cfg);
	if (r != 0) {
		if (mod->fini)
			mod->fini(as->state);
		free_stream(as);
		errno = r == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	as->max_rec_bytes = record_limit(&as->layout, cfg);
	first = aa_pool_get(&as->recs);
	aa_record_reset(as, first);
	as->p.rec = first;
	as->reclaim = first;
	as->app_head = first;
	/* Nodes already in order (registered late): parse them first. */
	zc->deliver = aa_stream_deliver;
	zc->deliver_arg = as;
	for (struct zc_node *n = zc->head; n && n != zc->tail;) {
		struct zc_node *next = n->next;

		aa_stream_deliver(as, n);
		n = next;
	}
	return as;
nomem:
	errno = ENOMEM;
	return NULL;
}

void aa_stream_destroy(struct aa_stream *as)
{
	struct zc_node *n;

	if (!as)
		return;
	/* Every record, those the application still holds and the one in
	 * progress (whose open field is one of its slots) included. */
	for (struct aa_record *r = as->reclaim; r;) {
		struct aa_record *next = r->next;

		aa_release_record_fields(as, r);
		r = next;
	}
	/* The parser's references on the nodes it has not finished. */
	n = as->zc->head;
	for (uint32_t i = 0; i < as->backlog && n; i++, n = n->next)
		zc_node_release(n);
	if (as->zc->deliver_arg == as) {
		as->zc->deliver = NULL;
		as->zc->deliver_arg = NULL;
	}
	if (as->mod->fini)
		as->mod->fini(as->state);
	free_stream(as);
}

/* ---- the parse driver ------------------------------------------------- */

/* The parser is done with the head node of the zc stream. */
static void node_done(struct aa_stream *as, struct zc_node *n)
{
	aa_open_field_node_end(&as->p, n->data.start + n->len);
	zc_node_release(n);
	zc_stream_consume(as->zc, 1);
	as->backlog--;
	as->poff = 0;
}

/* After the stream ended: nodes are consumed unread (their mbufs still go
 * back to the pool), the peer is still acknowledged: no stall. */
static void drop_node(struct aa_stream *as, struct zc_node *n)
{
	as->ignored_bytes += n->len - as->poff;
	zc_node_release(n);
	zc_stream_consume(as->zc, 1);
	as->backlog--;
	as->poff = 0;
}

/*
 * Feeds the rest of node n to the module, in calls that never let a
 * record exceed max_rec_bytes (counted from the end of the previous
 * record, so the limit is exact whatever the segmentation). Returns true
 * when the node is finished.
 */
static bool parse_node(struct aa_stream *as, struct zc_node *n)
{
	struct aa_parse *p = &as->p;
	const char *base = n->data.start;

	p->node = n;
	if (as->poff == 0 && p->open_slot) /* a field continues here */
		p->open_start = base;
	while (as->poff < n->len && !p->failed && !p->paused) {
		uint64_t since = as->off - p->rec_end_off;
		size_t len = n->len - as->poff, used;

		if (since >= as->max_rec_bytes) {
			p->chunk = NULL;
			p->chunk_off = as->off;
			aa_fail(p, AA_ERR_TOO_LONG,
				"record longer than the configured maximum",
				NULL);
			break;
		}
		if (len > as->max_rec_bytes - since)
			len = (size_t)(as->max_rec_bytes - since);
		p->chunk = base + as->poff;
		p->chunk_end = p->chunk + len;
		p->chunk_off = as->off;
		used = as->mod->parse(p, as->state, p->chunk, len);
		if (p->failed)
			break;
		if (used > len || (used < len && !p->paused)) {
			aa_fail(p, AA_ERR_MODULE, "module stopped early",
				p->chunk + (used > len ? len : used));
			break;
		}
		as->poff += (uint32_t)used;
		as->off += used;
	}
	p->chunk = NULL;
	p->chunk_off = as->off;
	return as->poff == n->len || p->failed;
}

static void maybe_finish(struct aa_stream *as)
{
	struct aa_parse *p = &as->p;

	if (!as->fin_pending || as->finished || as->backlog || p->paused)
		return;
	as->finished = true;
	if (!p->failed) {
		p->node = NULL;
		p->chunk = NULL;
		p->chunk_off = as->off;
		p->aborting = as->aborted;
		as->mod->finish(p, as->state);
		if (p->open_slot && !p->failed) /* module bug */
			aa_fail(p, AA_ERR_MODULE, "field left open", NULL);
	}
	aa_store_release_u32(&as->eos, 1);
}

static void parse_backlog(struct aa_stream *as)
{
	struct aa_parse *p = &as->p;

	while (as->backlog > 0) {
		/* The zc head is the oldest node not consumed: ours. */
		struct zc_node *n = as->zc->head;

		if (p->failed || as->finished) { /* nothing may follow a FIN */
			drop_node(as, n);
			continue;
		}
		if (p->paused || !parse_node(as, n))
			return;
		if (p->failed)
			drop_node(as, n);
		else
			node_done(as, n);
	}
	maybe_finish(as);
}

void aa_stream_deliver(void *arg, struct zc_node *n)
{
	struct aa_stream *as = arg;

	if (n->len == 0) /* nothing to parse: let it go at once */
		return;
	zc_node_hold(n); /* the parser's reference, until node_done() */
	as->backlog++;
	parse_backlog(as);
}

/* ---- reclaim, FIN, events ----------------------------------------------- */

uint64_t aa_stream_reclaim(struct aa_stream *as)
{
	struct aa_record *head = aa_load_acquire_rec(&as->app_head);

	while (as->reclaim != head) {
		struct aa_record *r = as->reclaim;

		as->reclaim = r->next;
		aa_release_record_fields(as, r);
		r->next = NULL;
		aa_pool_put(&as->recs, r);
	}
	if (as->p.paused && aa_can_start_record(as)) {
		as->p.paused = false;
		parse_backlog(as);
	}
	return zc_stream_reclaim(as->zc);
}

void aa_stream_fin(struct aa_stream *as)
{
	as->fin_pending = true;
	parse_backlog(as);
}

/*
 * A reset is not an end of stream: the bytes before it that arrived in
 * order are parsed as usual (they are in the backlog), but module finish()
 * code that would complete a record at the end of the stream (the last CSV
 * line without its LF, a body delimited by the close, RFC 9112 6.3) must
 * not present cut data as a whole record (it did, before: a reset in the
 * middle of a line gave a "complete" line). aa_record_end() turns such a
 * record end into an AA_ERR_TRUNCATED error record (p->aborting).
 */
void aa_stream_abort(struct aa_stream *as)
{
	if (!as->finished)
		as->aborted = true;
	aa_stream_fin(as);
}

uint64_t aa_stream_held_bytes(const struct aa_stream *as)
{
	return as->zc->held_bytes;
}

bool aa_stream_unread(const struct aa_stream *as)
{
	/* app_head: every record before it was freed (and, the close command
	 * coming after the frees' reclaim requests, given back already) */
	return as->backlog > 0 || aa_load_acquire_rec(&as->app_head) != as->p.rec ||
	       (!as->p.failed && as->off > as->p.rec_end_off);
}

unsigned aa_stream_events(struct aa_stream *as)
{
	unsigned ev = 0;

	if (as->published != as->published_seen) {
		as->published_seen = as->published;
		ev |= AA_EV_RECORDS;
	}
	if (!as->eos_reported && as->eos) {
		as->eos_reported = true;
		ev |= AA_EV_EOS;
	}
	return ev;
}

/* ---- introspection ---------------------------------------------------- */

const struct aa_module *aa_stream_module(const struct aa_stream *as)
{
	return as->mod;
}

void aa_stream_stats(const struct aa_stream *as, struct aa_stream_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->records = as->published;
	st->bytes = as->off;
	st->ignored_bytes = as->ignored_bytes;
	st->pauses = as->pauses;
	st->records_free = as->recs.n_free;
	st->records_total = as->recs.size;
	st->views_free = as->views.n_free;
	st->views_total = as->views.size;
	st->max_record_bytes = as->max_rec_bytes;
	st->backlog = as->backlog;
	st->failed = as->p.failed;
	st->eos = as->eos != 0;
}
