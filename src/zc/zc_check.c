/*
 * zc_check.c - zc_stream_check(): every invariant of zc_stream.h, for tests
 * and fuzzers. Network thread (it walks the producer's structures; the only
 * word it shares is `head`, loaded once with acquire: head only moves toward
 * the tail and nothing at or after it is freed while we run).
 */
#include <stdio.h>

#include <rte_mbuf.h>

#include "common/seq.h"
#include "zc/zc_internal.h"
#include "zc/zc_stream.h"

/* Sequence distances beyond this are certainly a bug (a window never gets
 * close to 2^31: RFC 7323 caps it at 2^30). */
#define SEQ_SANE (1u << 30)

static char msg[256];

static const char *fail(const char *what, const struct zc_node *n)
{
	snprintf(msg, sizeof(msg), "%s (node %p seq %u len %u)", what,
		 (const void *)n, n ? n->seq : 0, n ? n->len : 0);
	return msg;
}

/* The view lies inside one segment's data buffer and has the node's len. */
static bool view_ok(const struct zc_node *n)
{
	uintptr_t st = (uintptr_t)n->data.start, en = (uintptr_t)n->data.end;

	if (!n->mbuf || !n->data.start || en < st || en - st != n->len)
		return false;
	for (const struct rte_mbuf *m = n->mbuf; m; m = m->next) {
		uintptr_t lo = (uintptr_t)m->buf_addr;

		if (rte_mbuf_refcnt_read(m) == 0)
			return false;
		if (st >= lo && en <= lo + m->buf_len)
			return true;
	}
	return false;
}

static const char *check_in_order(const struct zc_stream *s, uint32_t rcv_nxt)
{
	const struct zc_node *head = zc_load_acquire(&s->head);
	const struct zc_node *n, *last = NULL;
	bool saw_head = false;
	uint64_t held = 0;

	if (!s->tail || s->tail->next || s->tail->len || s->tail->mbuf)
		return fail("tail is not an empty sentinel", s->tail);
	for (n = s->reclaim; n != s->tail; n = n->next) {
		if (!n)
			return fail("in-order list does not reach tail", last);
		saw_head |= n == head;
		if (n->len == 0 || !view_ok(n))
			return fail("in-order node with a bad view", n);
		if (n->prev || (n->flags & ZC_NODE_F_OOO))
			return fail("in-order node marked out-of-order", n);
		if (last && last->seq + last->len != n->seq)
			return fail("in-order list not contiguous", n);
		held += n->len;
		last = n;
	}
	if (!saw_head && head != s->tail)
		return fail("head not between reclaim and tail", head);
	if (last && last->seq + last->len != rcv_nxt)
		return fail("in-order list does not end at rcv_nxt", last);
	if (held != s->held_bytes)
		return fail("held_bytes differs from the list", NULL);
	if (zc_load_acquire_u64(&s->in_bytes) -
		    zc_load_acquire_u64(&s->out_bytes) > held)
		return fail("pending bytes exceed held bytes", NULL);
	return NULL;
}

static const char *check_ooo(const struct zc_stream *s, uint32_t rcv_nxt)
{
	const struct zc_node *n, *prev = NULL;
	uint32_t nodes = 0;
	uint64_t bytes = 0;
	bool saw_last = s->ooo_last == NULL;

	for (n = s->ooo_head; n; prev = n, n = n->next) {
		if (n->prev != prev)
			return fail("out-of-order prev link broken", n);
		if (!(n->flags & ZC_NODE_F_OOO) || n->len == 0 || !view_ok(n))
			return fail("out-of-order node with a bad view", n);
		if (!seq_gt(n->seq, rcv_nxt) || n->seq - rcv_nxt > SEQ_SANE)
			return fail("out-of-order node not after rcv_nxt", n);
		/* thesis 3.1.2: node.seq + node.len <= node.next.seq */
		if (prev && !seq_leq(prev->seq + prev->len, n->seq))
			return fail("out-of-order queue unsorted or overlapping", n);
		saw_last |= n == s->ooo_last;
		nodes++;
		bytes += n->len;
	}
	if (prev != s->ooo_tail)
		return fail("ooo_tail is not the last node", s->ooo_tail);
	if (nodes != s->ooo_nodes || bytes != s->ooo_bytes)
		return fail("ooo_nodes/ooo_bytes differ from the queue", NULL);
	if (!saw_last)
		return fail("ooo_last not in the queue", s->ooo_last);
	return NULL;
}

const char *zc_stream_check(const struct zc_stream *s, uint32_t rcv_nxt)
{
	const char *err;

	if (!s->pool)
		return "stream not initialised";
	err = check_in_order(s, rcv_nxt);
	if (!err)
		err = check_ooo(s, rcv_nxt);
	if (!err && zc_pool_errors(s->pool))
		err = "node pool refused a put (double free or foreign node)";
	return err;
}
