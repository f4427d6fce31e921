/*
 * test_zc_stream.c - property tests of the zero-copy stream and its
 * out-of-order queue (src/zc/, thesis ch. 3), single-threaded: the test
 * plays both the network thread (input, reclaim) and the application
 * thread (peek, consume), interleaved at random.
 *
 * Each iteration: a random byte stream with an initial sequence number near
 * 2^32 (so it wraps), cut into random segments, plus retransmissions re-cut
 * at other boundaries, exact duplicates and old data, delivered with random
 * reordering. Each segment travels in its own real mbuf, behind a random
 * "header", and the test frees its own reference right after
 * zc_stream_input(), as the TCP layer will. Checked:
 *   - zc_stream_check() after every input;
 *   - the deliver hook sees exactly the stream, in order, once;
 *   - fragments read through peek/consume, in chunks, are the stream;
 *   - every out-of-order node views the right bytes, and the queue covers
 *     exactly the bytes received beyond rcv_nxt (nothing lost by trimming);
 *   - SACK blocks are the queue's maximal runs, the newest one first;
 *   - accounting: offered = in + ooo + dup + nomem + renege bytes;
 *   - at the end: mbuf pool and node pool full, no refused put.
 * Some iterations use a tiny node pool (nomem drops, reneging) and hold
 * delivered nodes through `refs` as the application-aware layer does.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "common/seq.h"
#include "zc/zc_stream.h"

#define MBUF_POOL_SIZE 4096
#define MAX_PAYLOAD 1900 /* fits a default mbuf with a 60-byte "header" */
#define MAX_HOLD 64

struct seg {
	uint32_t off;
	uint32_t len;
};

struct run {
	/* the stream */
	uint8_t *data;
	uint32_t len;
	uint32_t isn;
	uint8_t *got; /* per byte: offered and accepted (not -1) at least once */
	uint32_t hi;  /* highest offset accepted + 1 */
	/* the system under test */
	struct rte_mempool *mp;
	struct zc_pool *pool;
	struct zc_stream s;
	uint32_t rcv_nxt;
	/* observations */
	uint64_t offered;
	uint64_t delivered; /* bytes seen by the hook */
	uint64_t read;      /* bytes consumed by the "application" */
	struct zc_node *held[MAX_HOLD]; /* nodes held through refs, FIFO */
	int n_held;
	bool hold_nodes;
	bool last_kept_ooo;
	uint32_t last_seq, last_len;
};

static struct rte_mempool *mp;
static uint64_t stat_inputs, stat_ooo, stat_dup_bytes, stat_nomem, stat_renege;

static uint32_t off_of(const struct run *r, uint32_t seq) { return seq - r->isn; }

/* ---- the application-aware layer stand-in: the deliver hook ---------- */

static void on_deliver(void *arg, struct zc_node *n)
{
	struct run *r = arg;

	CHECK_MSG(n->seq == r->isn + (uint32_t)r->delivered,
		  "delivered seq %u, expected %u", n->seq,
		  r->isn + (uint32_t)r->delivered);
	CHECK(n->len > 0 && r->delivered + n->len <= r->len);
	CHECK(memcmp(n->data.start, r->data + r->delivered, n->len) == 0);
	r->delivered += n->len;
	if (r->hold_nodes && r->n_held < MAX_HOLD && test_chance(1, 3)) {
		zc_node_hold(n);
		r->held[r->n_held++] = n;
	}
}

/* Releases the oldest held nodes (in stream order, as records are freed),
 * checking first that their bytes are still intact. */
static void release_held(struct run *r, int k)
{
	int i;

	for (i = 0; i < k && i < r->n_held; i++) {
		struct zc_node *n = r->held[i];

		CHECK(n->refs > 0);
		CHECK(memcmp(n->data.start, r->data + off_of(r, n->seq), n->len) == 0);
		zc_node_release(n);
	}
	memmove(r->held, r->held + i, (size_t)(r->n_held - i) * sizeof(r->held[0]));
	r->n_held -= i;
}

/* ---- the network side ---------------------------------------------- */

static void check_accounting(const struct run *r)
{
	const struct zc_stream *s = &r->s;
	uint64_t in_order = (uint32_t)(r->rcv_nxt - r->isn);

	CHECK_EQ_U64(s->in_bytes, in_order);
	CHECK_EQ_U64(r->offered, s->in_bytes + s->ooo_bytes + s->dup_bytes +
				       s->nomem_bytes + s->renege_bytes);
	CHECK_EQ_U64(r->delivered, in_order);
	CHECK_EQ_U64(zc_stream_pending_bytes(s), in_order - r->read);
}

/* Every out-of-order node views its own bytes; when nothing was reneged,
 * the queue covers exactly the accepted bytes beyond rcv_nxt. */
static void check_ooo_contents(const struct run *r)
{
	uint32_t from = off_of(r, r->rcv_nxt), pos = from;

	for (const struct zc_node *n = r->s.ooo_head; n; n = n->next) {
		uint32_t o = off_of(r, n->seq);

		CHECK(o >= from && o + n->len <= r->len);
		CHECK(memcmp(n->data.start, r->data + o, n->len) == 0);
		if (r->s.renege_bytes == 0) {
			for (; pos < o; pos++)
				CHECK_MSG(!r->got[pos], "byte %u accepted but lost", pos);
			pos = o + n->len;
		}
	}
	if (r->s.renege_bytes == 0)
		for (; pos < r->hi; pos++)
			CHECK_MSG(!r->got[pos], "byte %u accepted but lost", pos);
}

/* SACK blocks are the maximal contiguous runs of the queue, disjoint, the
 * run holding the newest kept segment first (RFC 2018 section 4). */
static void check_sack(const struct run *r)
{
	uint32_t left[8], right[8];
	int max = (int)test_rand_range(1, 8), n, runs = 0;
	const struct zc_node *q;

	n = zc_stream_sack_blocks(&r->s, left, right, max);
	for (q = r->s.ooo_head; q; q = q->next)
		if (!q->prev || q->prev->seq + q->prev->len != q->seq)
			runs++;
	CHECK_MSG(n == (runs < max ? runs : max), "%d blocks, %d runs, max %d",
		  n, runs, max);
	for (int i = 0; i < n; i++) {
		bool found = false;

		CHECK(seq_lt(left[i], right[i]));
		/* left must start a run and right end it */
		for (q = r->s.ooo_head; q; q = q->next) {
			if (q->seq == left[i] &&
			    (!q->prev || q->prev->seq + q->prev->len != q->seq)) {
				while (q->next && q->seq + q->len == q->next->seq)
					q = q->next;
				found = q->seq + q->len == right[i];
				break;
			}
		}
		CHECK_MSG(found, "block [%u, %u) is not a run", left[i], right[i]);
		for (int j = 0; j < i; j++)
			CHECK(left[j] != left[i]);
	}
	if (n > 0 && r->last_kept_ooo)
		CHECK(seq_leq(left[0], r->last_seq) &&
		      seq_leq(r->last_seq + r->last_len, right[0]));
}

static struct rte_mbuf *make_packet(const struct run *r, uint32_t off,
				    uint32_t len, const char **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->mp);
	uint32_t hdr = (uint32_t)test_rand_range(0, 60);
	char *p;

	CHECK(m != NULL);
	p = rte_pktmbuf_append(m, (uint16_t)(hdr + len));
	CHECK(p != NULL);
	test_rand_bytes(p, hdr); /* headers: the node must not see them */
	memcpy(p + hdr, r->data + off, len);
	*payload = p + hdr;
	return m;
}

/* Offers one segment; returns false when it was dropped for lack of nodes. */
static bool offer(struct run *r, uint32_t off, uint32_t len)
{
	const char *payload;
	struct rte_mbuf *m = make_packet(r, off, len, &payload);
	uint32_t before = r->rcv_nxt, seq = r->isn + off;
	uint64_t ooo_inserts = r->s.ooo_inserts;
	int64_t adv;
	const char *err;

	adv = zc_stream_input(&r->s, m, payload, seq, len, &r->rcv_nxt);
	rte_pktmbuf_free(m); /* the caller's own reference */
	stat_inputs++;
	r->offered += len;
	err = zc_stream_check(&r->s, r->rcv_nxt);
	CHECK_MSG(err == NULL, "%s", err);
	if (adv < 0) {
		CHECK(r->rcv_nxt == before);
		stat_nomem++;
	} else {
		CHECK_EQ_U64((uint64_t)adv, (uint32_t)(r->rcv_nxt - before));
		memset(r->got + off, 1, len);
		if (off + len > r->hi)
			r->hi = off + len;
	}
	if (adv >= 0 && r->s.ooo_inserts != ooo_inserts) {
		stat_ooo++;
		r->last_kept_ooo = true;
		r->last_seq = r->s.ooo_last->seq;
		r->last_len = r->s.ooo_last->len;
	} else if (adv != 0) {
		r->last_kept_ooo = false;
	}
	/* a hole filled may have drained the newest segment: forget it */
	if (r->last_kept_ooo && !r->s.ooo_last)
		r->last_kept_ooo = false;
	check_accounting(r);
	if (test_chance(1, 8))
		check_sack(r);
	if (test_chance(1, 16))
		check_ooo_contents(r);
	return adv >= 0;
}

/* ---- the application side ------------------------------------------ */

/* Reads up to a random number of fragments, checks them, consumes some. */
static void app_read(struct run *r)
{
	struct stream_fragment_content frags[16];
	int want = (int)test_rand_range(1, 16), n, k;
	uint64_t pos = r->read;

	n = zc_stream_peek(&r->s, frags, want);
	CHECK(n >= 0 && n <= want);
	for (int i = 0; i < n; i++) {
		size_t l = (size_t)(frags[i].end - frags[i].start);

		CHECK(l > 0 && pos + l <= r->len);
		CHECK(memcmp(frags[i].start, r->data + pos, l) == 0);
		pos += l;
	}
	if (n < want) { /* everything pending was returned: one more is misuse */
		CHECK(zc_stream_consume(&r->s, n + 1) == -EINVAL);
		CHECK_EQ_U64(zc_stream_pending_bytes(&r->s), pos - r->read);
	}
	k = n ? (int)test_rand_range(0, (uint64_t)n) : 0;
	CHECK(zc_stream_consume(&r->s, k) == k);
	for (int i = 0; i < k; i++)
		r->read += (uint64_t)(frags[i].end - frags[i].start);
}

static void net_reclaim(struct run *r)
{
	uint64_t held = r->s.held_bytes, freed = zc_stream_reclaim(&r->s);
	const char *err;

	CHECK_EQ_U64(held - freed, r->s.held_bytes);
	err = zc_stream_check(&r->s, r->rcv_nxt);
	CHECK_MSG(err == NULL, "%s", err);
}

static void random_app_step(struct run *r)
{
	if (test_chance(1, 2))
		app_read(r);
	if (test_chance(1, 3))
		net_reclaim(r);
	if (r->n_held && test_chance(1, 4))
		release_held(r, (int)test_rand_range(1, (uint64_t)r->n_held));
}

/* ---- schedules ----------------------------------------------------- */

static void push(struct seg **v, size_t *n, size_t *cap, uint32_t off, uint32_t len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = realloc(*v, *cap * sizeof(**v));
		CHECK(*v != NULL);
	}
	(*v)[*n].off = off;
	(*v)[*n].len = len;
	(*n)++;
}

/* Random segmentation + re-cut retransmissions + duplicates, then a local
 * shuffle (each segment moves up to `reorder` places; a few "losses" move
 * much further, as a fast retransmission would). */
static struct seg *make_schedule(const struct run *r, uint32_t max_seg,
				 uint32_t reorder, size_t *count, size_t *capacity)
{
	struct seg *v = NULL;
	size_t n = 0, cap = 0;

	for (uint32_t off = 0; off < r->len;) {
		uint32_t len = (uint32_t)test_rand_range(1, max_seg);

		if (len > r->len - off)
			len = r->len - off;
		push(&v, &n, &cap, off, len);
		if (test_chance(1, 10)) /* exact duplicate */
			push(&v, &n, &cap, off, len);
		if (test_chance(1, 6)) { /* retransmission, cut elsewhere */
			uint32_t back = (uint32_t)test_rand_range(0, 2 * max_seg);
			uint32_t o = off > back ? off - back : 0;
			uint32_t l = (uint32_t)test_rand_range(1, 3 * max_seg);

			if (l > MAX_PAYLOAD)
				l = MAX_PAYLOAD;
			if (l > r->len - o)
				l = r->len - o;
			push(&v, &n, &cap, o, l);
		}
		off += len;
	}
	for (size_t i = 0; i < n && reorder; i++) {
		size_t j = i + (size_t)test_rand_range(0, reorder);

		if (test_chance(1, 50))
			j = i + (size_t)test_rand_range(reorder, 8 * reorder);
		if (j >= n)
			j = n - 1;
		struct seg t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	*count = n;
	*capacity = cap;
	return v;
}

/* ---- one iteration -------------------------------------------------- */

static void run_one(uint32_t len, uint32_t max_seg, uint32_t reorder,
		    uint32_t pool_nodes, bool hold)
{
	struct run r;
	struct seg *sched;
	size_t n, cap, i;
	size_t retries = 0, budget;
	uint32_t stuck = 0;

	memset(&r, 0, sizeof(r));
	r.len = len;
	r.data = malloc(len);
	r.got = calloc(len, 1);
	CHECK(r.data && r.got);
	test_rand_bytes(r.data, len);
	/* ISN just below 2^32 (or anywhere, now and then): the stream wraps */
	r.isn = test_chance(4, 5) ? (uint32_t)(0u - (uint32_t)test_rand_range(0, len))
				  : (uint32_t)test_rand();
	r.rcv_nxt = r.isn;
	r.mp = mp;
	r.hold_nodes = hold;
	r.pool = zc_pool_create(pool_nodes);
	CHECK(r.pool != NULL);
	CHECK(zc_stream_init(&r.s, r.pool) == 0);
	r.s.deliver = on_deliver;
	r.s.deliver_arg = &r;
	CHECK(zc_stream_check(&r.s, r.rcv_nxt) == NULL);

	sched = make_schedule(&r, max_seg, reorder, &n, &cap);
	budget = 2 * n;
	for (i = 0; i < n; i++) {
		if (!offer(&r, sched[i].off, sched[i].len) && retries < budget) {
			/* dropped for lack of nodes: TCP gets it again later,
			 * after the application read something */
			retries++;
			push(&sched, &n, &cap, sched[i].off, sched[i].len);
			release_held(&r, 1);
			app_read(&r);
			net_reclaim(&r);
		}
		random_app_step(&r);
	}
	free(sched);
	/* Recovery (as after an RTO): resend from rcv_nxt until complete.
	 * Reneged out-of-order data is sent again here too. */
	while (off_of(&r, r.rcv_nxt) < r.len) {
		uint32_t o = off_of(&r, r.rcv_nxt), l = r.len - o;

		if (l > max_seg)
			l = max_seg;
		if (!offer(&r, o, l)) {
			/* every node is in order: the application must read */
			CHECK_MSG(++stuck < 10000, "no progress at offset %u", o);
			release_held(&r, 1);
			app_read(&r);
			net_reclaim(&r);
		} else {
			stuck = 0;
		}
		random_app_step(&r);
	}
	/* Drain the application side. */
	release_held(&r, r.n_held);
	while (r.read < r.len)
		app_read(&r);
	CHECK(zc_stream_pending_bytes(&r.s) == 0);
	net_reclaim(&r);
	CHECK(r.s.held_bytes == 0 && r.s.ooo_nodes == 0 && r.s.ooo_bytes == 0);
	CHECK(zc_pool_free_count(r.pool) == pool_nodes - 1); /* the sentinel */
	CHECK_EQ_U64(r.delivered, len);
	check_accounting(&r);
	stat_dup_bytes += r.s.dup_bytes;
	stat_renege += r.s.renege_bytes;

	zc_stream_destroy(&r.s);
	CHECK(zc_pool_free_count(r.pool) == pool_nodes);
	CHECK(zc_pool_errors(r.pool) == 0);
	CHECK_MSG(test_mbuf_pool_full(mp), "%u of %u mbufs free",
		  rte_mempool_avail_count(mp), mp->size);
	zc_pool_destroy(r.pool);
	free(r.data);
	free(r.got);
}

/* ---- directed cases --------------------------------------------------- */

/* Builds a stream over data[0..len) with ISN isn, for hand-written cases. */
static void directed_setup(struct run *r, uint8_t *data, uint32_t len,
			   uint32_t isn, uint32_t nodes)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->got = calloc(len, 1);
	r->isn = r->rcv_nxt = isn;
	r->mp = mp;
	r->pool = zc_pool_create(nodes);
	CHECK(r->got && r->pool && zc_stream_init(&r->s, r->pool) == 0);
	r->s.deliver = on_deliver;
	r->s.deliver_arg = r;
}

static void directed_teardown(struct run *r, uint32_t nodes)
{
	zc_stream_destroy(&r->s);
	CHECK(zc_pool_free_count(r->pool) == nodes && zc_pool_errors(r->pool) == 0);
	CHECK(test_mbuf_pool_full(mp));
	zc_pool_destroy(r->pool);
	free(r->got);
}

/* Overlap shapes of thesis 3.1.2, around a wrapping sequence number. */
static void test_overlaps(void)
{
	static uint8_t data[1000];
	struct run r;
	struct stream_fragment_content f[8];

	test_rand_bytes(data, sizeof(data));
	directed_setup(&r, data, sizeof(data), 0xfffffff0u, 32);
	CHECK(offer(&r, 100, 100));         /* [100,200) */
	CHECK(offer(&r, 300, 100));         /* [300,400) */
	CHECK(r.s.ooo_nodes == 2);
	CHECK(offer(&r, 150, 100));         /* overlaps the end: [200,250) kept */
	CHECK(r.s.ooo_nodes == 3 && r.s.ooo_bytes == 250);
	CHECK(offer(&r, 100, 100));         /* exact duplicate */
	CHECK(offer(&r, 120, 20));          /* inside one node */
	CHECK(r.s.ooo_nodes == 3 && r.s.ooo_bytes == 250);
	CHECK(offer(&r, 50, 400));          /* spans everything: replaces all */
	CHECK(r.s.ooo_nodes == 1 && r.s.ooo_bytes == 400);
	CHECK(offer(&r, 600, 50));
	CHECK(offer(&r, 500, 200));         /* covers [600,650) on both sides */
	CHECK(r.s.ooo_nodes == 2 && r.s.ooo_bytes == 600);
	CHECK(offer(&r, 40, 20));           /* overlaps the front: [40,50) kept */
	CHECK(r.s.ooo_nodes == 3 && r.s.ooo_bytes == 610);
	CHECK(zc_stream_peek(&r.s, f, 8) == 0);
	CHECK(offer(&r, 0, 45));            /* fills the hole at 0, overlaps 40 */
	CHECK_EQ_U64(off_of(&r, r.rcv_nxt), 450);
	CHECK(r.s.ooo_nodes == 1);
	CHECK(offer(&r, 440, 100));         /* old + new + overlaps [500,700) */
	CHECK_EQ_U64(off_of(&r, r.rcv_nxt), 700);
	CHECK(offer(&r, 0, 700));           /* entirely old */
	CHECK(offer(&r, 690, 310));
	CHECK_EQ_U64(off_of(&r, r.rcv_nxt), 1000);
	while (r.read < r.len)
		app_read(&r);
	net_reclaim(&r);
	check_accounting(&r);
	directed_teardown(&r, 32);
}

/* Misuse must not corrupt: consuming more than pending, negative counts,
 * empty segments, peeking zero, reclaiming an empty stream, SACK max 0. */
static void test_misuse(void)
{
	static uint8_t data[300];
	struct run r;
	struct stream_fragment_content f[4];
	uint32_t l, rr;

	test_rand_bytes(data, sizeof(data));
	directed_setup(&r, data, sizeof(data), 12345, 8);
	CHECK(zc_stream_consume(&r.s, 1) == -EINVAL);
	CHECK(zc_stream_consume(&r.s, -3) == -EINVAL);
	CHECK(zc_stream_consume(&r.s, 0) == 0);
	CHECK(zc_stream_peek(&r.s, f, 0) == 0);
	CHECK(zc_stream_peek(&r.s, f, -1) == 0);
	CHECK(zc_stream_reclaim(&r.s) == 0);
	CHECK(offer(&r, 0, 100));
	CHECK(offer(&r, 200, 50));
	CHECK(zc_stream_sack_blocks(&r.s, &l, &rr, 0) == 0);
	CHECK(zc_stream_sack_blocks(&r.s, &l, &rr, 1) == 1 && l == 12345 + 200);
	/* zero-length input is ignored (a pure ACK never reaches us, but) */
	CHECK(zc_stream_input(&r.s, NULL, NULL, r.rcv_nxt, 0, &r.rcv_nxt) == 0);
	CHECK(zc_stream_consume(&r.s, 2) == -EINVAL); /* one pending */
	CHECK(zc_stream_pending_bytes(&r.s) == 100);
	CHECK(zc_stream_peek(&r.s, f, 4) == 1);
	CHECK(zc_stream_consume(&r.s, 1) == 1);
	r.read += 100;
	CHECK(zc_stream_consume(&r.s, 1) == -EINVAL);
	CHECK(zc_stream_check(&r.s, r.rcv_nxt) == NULL);
	CHECK(zc_stream_reclaim(&r.s) == 100);
	CHECK(zc_stream_reclaim(&r.s) == 0);
	/* teardown with pending in-order data and out-of-order data */
	CHECK(offer(&r, 100, 20));
	CHECK(r.s.ooo_nodes == 1 && zc_stream_pending_bytes(&r.s) == 20);
	directed_teardown(&r, 8);
}

/* A pool that runs dry: out-of-order data is dropped (-1), in-order data
 * reneges the highest out-of-order node instead of stalling. */
static void test_pool_exhaustion(void)
{
	static uint8_t data[1000];
	struct run r;

	test_rand_bytes(data, sizeof(data));
	directed_setup(&r, data, sizeof(data), 0xffffff00u, 4); /* 1 sentinel */
	CHECK(offer(&r, 100, 10));
	CHECK(offer(&r, 200, 10));
	CHECK(offer(&r, 300, 10));
	CHECK(!offer(&r, 400, 10));            /* no node: dropped, counted */
	CHECK(r.s.nomem_drops == 1 && r.s.nomem_bytes == 10);
	CHECK(offer(&r, 0, 50));               /* reneges [300,310) */
	CHECK(r.s.renege_bytes == 10 && r.s.ooo_nodes == 2);
	CHECK(offer(&r, 50, 50));              /* reneges [200,210), drains 100 */
	CHECK_EQ_U64(off_of(&r, r.rcv_nxt), 110);
	CHECK(r.s.ooo_nodes == 0 && r.s.renege_bytes == 20);
	CHECK(!offer(&r, 110, 10));            /* all 4 nodes in order now */
	r.read = 0;
	app_read(&r);
	while (r.read < 110)
		app_read(&r);
	net_reclaim(&r);
	CHECK(offer(&r, 110, 10));
	check_accounting(&r);
	directed_teardown(&r, 4);
}

/* refs: reclaim stops at a consumed node that is still held. */
static void test_refs_block_reclaim(void)
{
	static uint8_t data[300];
	struct run r;
	struct zc_node *first;

	test_rand_bytes(data, sizeof(data));
	directed_setup(&r, data, sizeof(data), 7, 8);
	CHECK(offer(&r, 0, 100));
	CHECK(offer(&r, 100, 100));
	first = r.s.reclaim;
	zc_node_hold(first);
	CHECK(zc_stream_consume(&r.s, 2) == 2);
	r.read = 200;
	CHECK(zc_stream_reclaim(&r.s) == 0);    /* blocked by the first node */
	CHECK(r.s.held_bytes == 200);
	zc_node_release(first);
	CHECK(zc_stream_reclaim(&r.s) == 200);
	CHECK(zc_stream_check(&r.s, r.rcv_nxt) == NULL);
	directed_teardown(&r, 8);
}

int main(int argc, char **argv)
{
	const char *env = getenv("TEST_ITERS");
	uint32_t iters = env ? (uint32_t)strtoul(env, NULL, 0) : 400;
	static const uint32_t max_segs[] = { 1, 7, 64, 536, 1460 };
	static const uint32_t reorders[] = { 0, 3, 16, 64 };
	/* mostly roomy, sometimes tiny (nomem drops, reneging) */
	static const uint32_t pools[] = { 3, 8, 64, 64, 4096, 4096, 4096, 4096, 4096, 4096 };

	(void)argc;
	test_init(argv[0]);
	test_eal_init(argv[0]);
	mp = test_mbuf_pool("zc_test", MBUF_POOL_SIZE);

	test_overlaps();
	test_misuse();
	test_pool_exhaustion();
	test_refs_block_reclaim();

	for (uint32_t it = 0; it < iters; it++) {
		uint32_t max_seg = max_segs[test_rand_range(0, 4)];
		uint32_t len = (uint32_t)test_rand_range(1, max_seg < 8 ? 3000 : 200000);
		uint32_t reorder = reorders[test_rand_range(0, 3)];
		uint32_t nodes = pools[test_rand_range(0, 9)];

		run_one(len, max_seg, reorder, nodes, test_chance(1, 3));
	}
	printf("zc_stream: %u iterations, %llu inputs (%llu out of order, %llu "
	       "dropped for nodes), %llu duplicate bytes, %llu reneged bytes\n",
	       iters, (unsigned long long)stat_inputs, (unsigned long long)stat_ooo,
	       (unsigned long long)stat_nomem, (unsigned long long)stat_dup_bytes,
	       (unsigned long long)stat_renege);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return test_done();
}
