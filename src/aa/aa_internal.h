/*
 * aa_internal.h - the application-aware stream's own structures, shared by
 * the files of src/aa/ only (aa_stream.c: the stream and its threads;
 * aa_build.c: the calls modules make; aa_pool.c: the pools).
 */
#ifndef AATCP_AA_INTERNAL_H
#define AATCP_AA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aa/aa_module.h"
#include "aa/aa_stream.h"

struct zc_stream;
struct zc_node;

/*
 * Fixed-size pool of equal elements (records or field views) with a LIFO
 * free list threaded through a pointer inside the element (link_off).
 * Owned by the network thread of one stream: no atomics (docs/architecture.md "mbuf ownership": only
 * the network thread gives memory back). Free elements are poisoned under
 * AddressSanitizer, except their link, so that a record used after
 * mtcp_zc_free_aa_records is reported. Elements are carved from the
 * array only when first needed, so that attaching a stream costs O(1) and
 * touches no memory it does not use.
 */
struct aa_pool {
	char *mem;
	size_t esize;
	size_t link_off;
	uint32_t size;
	uint32_t n_free;
	uint32_t fresh;   /* elements [fresh, size) never handed out yet */
	void *free_list;
};

int aa_pool_init(struct aa_pool *p, uint32_t n, size_t esize, size_t link_off);
void aa_pool_fini(struct aa_pool *p);
void *aa_pool_get(struct aa_pool *p);
void aa_pool_put(struct aa_pool *p, void *e);

/*
 * The stack's private part of a record, right after the module's record in
 * the same pool element (aa_rec_priv_of). Thesis 4.2.1 / figure 4.4 fields
 * are chains of views; here the views of a record live in the record itself
 * (`inl`, taken in order as fields are made), so building a field costs a
 * few stores, not a pool allocation; only a record with more views than
 * that (many fields, or fields crossing many packets) takes the rest from
 * the stream's view pool.
 *
 * One reference per record, not per view: `held` is the node of the
 * record's first view, referenced once (zc_node_hold). Every later view of
 * the record lies in that node or a later one (the parser only moves
 * forward), and zc_stream_reclaim() frees nodes in order and stops at the
 * first one still referenced, so that single reference keeps every packet
 * of the record alive until the record is freed (checked by
 * aa_stream_check, tests/c/test_aa_*.c).
 */
struct aa_rec_priv {
	struct zc_node *held;    /* referenced node, NULL: none yet */
	uint32_t pool_views;     /* views of this record from the view pool */
	uint32_t inline_used;    /* inl[0 .. inline_used) handed out */
	struct stream_field inl[]; /* aa_stream.n_inline views */
};

/* The parsing context handed to modules (aa_module.h). Network thread. */
struct aa_parse {
	struct aa_stream *as;
	struct aa_record *rec;      /* record in progress = the list's tail */
	struct zc_node *node;       /* node being parsed; NULL in finish() */
	const char *chunk;          /* bytes of the current parse() call */
	const char *chunk_end;
	uint64_t chunk_off;         /* stream offset of chunk[0] */
	/* the open field, if any */
	struct stream_field **open_slot;
	struct stream_field *open_last; /* its last view; NULL: none yet */
	const char *open_start;         /* where it continues in `node` */
	struct stream_field *last_closed;
	uint32_t rec_views;         /* views held by the record in progress */
	bool rec_offset_set;
	bool failed;                /* an error record ended the stream */
	bool paused;                /* waiting for the pools */
	bool aborting;              /* finish() of an aborted stream: a record
				     * end becomes a truncation error */
	uint64_t rec_end_off;       /* stream offset after the last record */
};

struct aa_stream {
	/* --- shared: one writer each, see aa_stream.c --- */
	struct aa_record *app_head; /* app: store-release; net: load-acquire */
	uint32_t eos;               /* net: store-release; app: load-acquire */
	char _pad_app[64];
	/* --- application thread only --- */
	int app_outstanding;        /* records handed out by the last read */
	char _pad_net[64];
	/* --- network thread only --- */
	struct aa_parse p;
	const struct aa_module *mod;
	void *state;
	struct aa_layout layout;
	struct zc_stream *zc;
	struct aa_record *reclaim;  /* oldest record not given back yet */
	struct aa_pool recs;
	struct aa_pool views;
	uint32_t max_rec_bytes;     /* effective byte limit of a record */
	uint32_t max_views;         /* views per record: slots + crossings */
	uint32_t n_inline;          /* views inside each record (aa_rec_priv) */
	size_t priv_off;            /* record -> its aa_rec_priv */
	uint32_t backlog;           /* delivered nodes not consumed yet */
	uint32_t poff;              /* parsed bytes of the first of them */
	uint64_t off;               /* stream offset of the next byte to parse */
	bool fin_pending;
	bool aborted;               /* ended by RST/timeout, not a FIN */
	bool finished;
	bool eos_reported;
	uint64_t published;         /* records published */
	uint64_t published_seen;    /* ... at the last aa_stream_events() */
	uint64_t ignored_bytes;
	uint64_t pauses;
};

static inline struct aa_rec_priv *aa_rec_priv_of(const struct aa_stream *as,
						 const struct aa_record *r)
{
	return (struct aa_rec_priv *)((char *)(uintptr_t)r + as->priv_off);
}

/* aa_build.c */
static inline struct stream_field **aa_slots(const struct aa_stream *as,
					     const struct aa_record *r)
{
	return (struct stream_field **)((char *)(uintptr_t)r +
					as->layout.fields_offset);
}
void aa_release_record_fields(struct aa_stream *as, struct aa_record *r);
/* Materialises the open field's part in the node being left. */
void aa_open_field_node_end(struct aa_parse *p, const char *node_end);
/* The next record can start: the pools hold a whole record. */
bool aa_can_start_record(const struct aa_stream *as);
void aa_record_reset(struct aa_stream *as, struct aa_record *r);
/* The stream's module state (used by module-specific app calls). */
void *aa_stream_state(struct aa_stream *as);

static inline void aa_store_release_u32(uint32_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic(uint32_t) *)p, v, memory_order_release);
}

static inline uint32_t aa_load_acquire_u32(const uint32_t *p)
{
	return atomic_load_explicit((_Atomic(uint32_t) *)(uintptr_t)p,
				    memory_order_acquire);
}

static inline struct aa_record *aa_load_acquire_rec(struct aa_record *const *p)
{
	return atomic_load_explicit((_Atomic(struct aa_record *) *)(uintptr_t)p,
				    memory_order_acquire);
}

static inline void aa_store_release_rec(struct aa_record **p,
					struct aa_record *v)
{
	atomic_store_explicit((_Atomic(struct aa_record *) *)p, v,
			      memory_order_release);
}

#endif /* AATCP_AA_INTERNAL_H */
