/*
 * aa_app.c - the application thread's side of the application-aware stream
 * (thesis 4.2.2): read records from the head, free them by moving the head.
 *
 * The application thread writes exactly one shared word, `app_head`
 * (store-release, after it has finished with the records before it); the
 * network thread reads it with acquire in aa_stream_reclaim() and only then
 * gives those records and their packets back. Records are read while their
 * `next` is non-NULL (load-acquire): the network thread publishes a record
 * with a store-release of its `next` after writing it, and the tail - the
 * record in progress - always has next == NULL, so the application never
 * looks at a record being written (thesis 3.2.1's fresh-tail trick).
 */
#include <errno.h>
#include <stdatomic.h>

#include "aa/aa_internal.h"

static struct aa_record *app_head(const struct aa_stream *as)
{
	/* Our own pointer: relaxed is enough for the thread that writes it. */
	return atomic_load_explicit(
		(_Atomic(struct aa_record *) *)(uintptr_t)&as->app_head,
		memory_order_relaxed);
}

int aa_stream_peek(const struct aa_stream *as, void **recs, int n)
{
	struct aa_record *r = app_head(as);
	int count = 0;

	while (count < n) {
		struct aa_record *next = aa_load_acquire_rec(&r->next);

		if (!next)
			break;
		recs[count++] = r;
		r = next;
	}
	return count;
}

int aa_stream_consume(struct aa_stream *as, int n)
{
	struct aa_record *r = app_head(as);

	if (n < 0)
		return -EINVAL;
	/* Walk first, publish once: a wrong count moves nothing. */
	for (int i = 0; i < n; i++) {
		struct aa_record *next = aa_load_acquire_rec(&r->next);

		if (!next)
			return -EINVAL;
		r = next;
	}
	aa_store_release_rec(&as->app_head, r);
	return n;
}

bool aa_stream_readable(const struct aa_stream *as)
{
	struct aa_record *r = app_head(as);

	return aa_load_acquire_u32(&as->eos) ||
	       aa_load_acquire_rec(&r->next) != NULL;
}

int aa_stream_read(struct aa_stream *as, void **recs, int n)
{
	uint32_t eos;
	int count;

	if (n <= 0 || !recs)
		return -EINVAL;
	if (as->app_outstanding)
		return -EBUSY;
	/* eos first: when it is set, every record is already published, so
	 * an empty peek after it really is the end. */
	eos = aa_load_acquire_u32(&as->eos);
	count = aa_stream_peek(as, recs, n);
	if (count > 0) {
		as->app_outstanding = count;
		return count;
	}
	return eos ? 0 : -EAGAIN;
}

int aa_stream_free(struct aa_stream *as, int n)
{
	if (n < 0 || n > as->app_outstanding)
		return -EINVAL;
	if (n && aa_stream_consume(as, n) != n)
		return -EINVAL;
	as->app_outstanding -= n;
	return 0;
}
