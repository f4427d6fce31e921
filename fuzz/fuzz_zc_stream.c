/*
 * fuzz_zc_stream.c - libFuzzer target for the zero-copy stream and its
 * out-of-order queue (src/zc/, thesis ch. 3).
 *
 * The input is a script run against a reference byte stream (byte k of the
 * stream is a fixed function of k, so no stream is stored):
 *
 *   byte 0      node pool size: 2 + (b % 64) nodes (tiny pools reach the
 *               nomem and reneging paths)
 *   bytes 1-4   initial sequence number, little endian (wrap-around)
 *   then ops, one opcode byte each, op % 8:
 *     0-3  segment: int16 rel, uint16 len, uint8 hdr -> offer stream bytes
 *          [rcv + rel, + 1 + len % 2000) (rel < 0: old data, overlaps)
 *     4    read: uint8 k -> peek up to 16 fragments, verify them, consume
 *          k % (n + 2) of them (n + 1 is misuse and must change nothing)
 *     5    reclaim
 *     6    SACK: uint8 max -> blocks are maximal runs of the queue
 *     7    hold (odd) or release (even) a delivered node, as aa fields do
 *
 * After every op: zc_stream_check(), the accounting identity, each
 * out-of-order node views its reference bytes, the deliver hook saw the
 * stream in order. At the end the stream is completed in order, read,
 * reclaimed and destroyed, and both pools must be full.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "common/seq.h"
#include "zc/zc_stream.h"

#define MBUFS 512
#define MAX_SEG 2000 /* + HDR_MAX fits a default mbuf (2048) */
#define HDR_MAX 40
#define MAX_HOLD 32

/* A fuzzer must crash (abort) on failure so that the input is saved. */
#define FZ(cond)                                                              \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: FZ failed: %s\n", __FILE__,   \
				__LINE__, #cond);                             \
			abort();                                              \
		}                                                             \
	} while (0)

static struct rte_mempool *mp;

struct fz {
	struct zc_pool *pool;
	struct zc_stream s;
	uint32_t isn, rcv_nxt;
	uint64_t offered, delivered, read, hi;
	struct zc_node *held[MAX_HOLD];
	int n_held;
	struct zc_node *last_delivered;
};

static uint8_t ref_byte(uint64_t k)
{
	uint64_t x = k * 0x9e3779b97f4a7c15ull;

	return (uint8_t)((x >> 29) ^ (x >> 47) ^ k);
}

static bool ref_equal(uint64_t off, const char *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if ((uint8_t)p[i] != ref_byte(off + i))
			return false;
	return true;
}

static uint64_t rcv_off(const struct fz *f)
{
	/* in-order bytes never exceed what a script can offer (< 2^32) */
	return (uint32_t)(f->rcv_nxt - f->isn);
}

static void on_deliver(void *arg, struct zc_node *n)
{
	struct fz *f = arg;

	FZ(n->seq == f->isn + (uint32_t)f->delivered);
	FZ(n->len > 0 && ref_equal(f->delivered, n->data.start, n->len));
	f->delivered += n->len;
	f->last_delivered = n;
}

static void check_all(struct fz *f)
{
	const char *err = zc_stream_check(&f->s, f->rcv_nxt);
	const struct zc_stream *s = &f->s;

	if (err) {
		fprintf(stderr, "zc_stream_check: %s\n", err);
		abort();
	}
	FZ(s->in_bytes == rcv_off(f));
	FZ(f->delivered == rcv_off(f));
	FZ(f->offered == s->in_bytes + s->ooo_bytes + s->dup_bytes +
				 s->nomem_bytes + s->renege_bytes);
	FZ(zc_stream_pending_bytes(s) == rcv_off(f) - f->read);
	for (const struct zc_node *n = s->ooo_head; n; n = n->next)
		FZ(ref_equal((uint32_t)(n->seq - f->isn), n->data.start, n->len));
}

/* Returns the input's result (-1: no node). */
static int64_t offer(struct fz *f, uint64_t off, uint32_t len, uint32_t hdr)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *p;
	int64_t adv;
	uint32_t before = f->rcv_nxt;

	FZ(m != NULL);
	p = rte_pktmbuf_append(m, (uint16_t)(hdr + len));
	FZ(p != NULL);
	memset(p, 0xee, hdr);
	for (uint32_t i = 0; i < len; i++)
		p[hdr + i] = (char)ref_byte(off + i);
	adv = zc_stream_input(&f->s, m, p + hdr, f->isn + (uint32_t)off, len,
			      &f->rcv_nxt);
	rte_pktmbuf_free(m);
	f->offered += len;
	if (off + len > f->hi)
		f->hi = off + len;
	FZ(adv < 0 ? f->rcv_nxt == before
		   : (uint64_t)adv == (uint32_t)(f->rcv_nxt - before));
	return adv;
}

static void app_read(struct fz *f, unsigned k)
{
	struct stream_fragment_content frags[16];
	int n = zc_stream_peek(&f->s, frags, 16), want;
	uint64_t pos = f->read;

	FZ(n >= 0 && n <= 16);
	for (int i = 0; i < n; i++) {
		uint32_t l = (uint32_t)(frags[i].end - frags[i].start);

		FZ(l > 0 && ref_equal(pos, frags[i].start, l));
		pos += l;
	}
	want = (int)(k % (unsigned)(n + 2));
	if (want > n) {
		if (n < 16) /* all that is pending was returned */
			FZ(zc_stream_consume(&f->s, want) == -EINVAL);
		return;
	}
	FZ(zc_stream_consume(&f->s, want) == want);
	for (int i = 0; i < want; i++)
		f->read += (uint64_t)(frags[i].end - frags[i].start);
}

/* Reads and consumes everything the peek returns (no misuse). */
static void app_drain(struct fz *f)
{
	struct stream_fragment_content frags[16];
	int n = zc_stream_peek(&f->s, frags, 16);

	for (int i = 0; i < n; i++) {
		uint32_t l = (uint32_t)(frags[i].end - frags[i].start);

		FZ(ref_equal(f->read, frags[i].start, l));
		f->read += l;
	}
	FZ(zc_stream_consume(&f->s, n) == n);
}

static void sack(const struct fz *f, unsigned max)
{
	uint32_t l[8], r[8];
	int m = (int)(max % 9), n = zc_stream_sack_blocks(&f->s, l, r, m), runs = 0;

	for (const struct zc_node *q = f->s.ooo_head; q; q = q->next)
		if (!q->prev || q->prev->seq + q->prev->len != q->seq)
			runs++;
	FZ(n == (runs < m ? runs : m));
	for (int i = 0; i < n; i++) {
		bool found = false;

		for (const struct zc_node *q = f->s.ooo_head; q; q = q->next) {
			if (q->seq != l[i] ||
			    (q->prev && q->prev->seq + q->prev->len == q->seq))
				continue;
			while (q->next && q->seq + q->len == q->next->seq)
				q = q->next;
			found = q->seq + q->len == r[i];
			break;
		}
		FZ(found);
	}
	if (n && f->s.ooo_last)
		FZ(seq_leq(l[0], f->s.ooo_last->seq) &&
		   seq_leq(f->s.ooo_last->seq + f->s.ooo_last->len, r[0]));
}

static void hold_or_release(struct fz *f, uint8_t arg)
{
	if ((arg & 1) && f->last_delivered && f->n_held < MAX_HOLD &&
	    f->last_delivered->refs == 0) {
		/* only a node the stream still has: not yet reclaimed */
		zc_node_hold(f->last_delivered);
		f->held[f->n_held++] = f->last_delivered;
	} else if (!(arg & 1) && f->n_held) {
		struct zc_node *n = f->held[0];

		FZ(n->refs == 1 &&
		   ref_equal((uint32_t)(n->seq - f->isn), n->data.start, n->len));
		zc_node_release(n);
		memmove(f->held, f->held + 1, (size_t)(f->n_held - 1) * sizeof(f->held[0]));
		f->n_held--;
	}
}

static void reclaim(struct fz *f)
{
	uint64_t held = f->s.held_bytes, freed;

	/* an unheld node may be freed now: forget it first */
	if (f->last_delivered && !f->last_delivered->refs)
		f->last_delivered = NULL;
	freed = zc_stream_reclaim(&f->s);
	FZ(held - freed == f->s.held_bytes);
}

/* Completes the stream in order up to everything ever offered, reading
 * and reclaiming when the pool is dry. */
static void finish(struct fz *f)
{
	unsigned stuck = 0;

	while (f->n_held)
		hold_or_release(f, 0);
	while (rcv_off(f) < f->hi) {
		uint64_t o = rcv_off(f);
		uint32_t l = f->hi - o > 1460 ? 1460 : (uint32_t)(f->hi - o);

		if (offer(f, o, l, 0) < 0) {
			FZ(++stuck < 1000);
			app_drain(f);
			reclaim(f);
		}
		check_all(f);
	}
	while (f->read < rcv_off(f))
		app_drain(f);
	reclaim(f);
	check_all(f);
	FZ(f->s.held_bytes == 0 && f->s.ooo_nodes == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	test_eal_init((*argv)[0]);
	mp = test_mbuf_pool("fuzz_zc", MBUFS);
	return 0;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;
	uint32_t nodes;
	size_t i;

	if (size < 5)
		return 0;
	memset(&f, 0, sizeof(f));
	nodes = 2 + data[0] % 64;
	f.isn = f.rcv_nxt = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
			    (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
	f.pool = zc_pool_create(nodes);
	FZ(f.pool && zc_stream_init(&f.s, f.pool) == 0);
	f.s.deliver = on_deliver;
	f.s.deliver_arg = &f;

	for (i = 5; i < size;) {
		uint8_t op = data[i++] % 8;

		if (op <= 3 && i + 5 <= size) {
			int16_t rel = (int16_t)get16(data + i);
			uint32_t len = 1 + get16(data + i + 2) % MAX_SEG;
			uint32_t hdr = data[i + 4] % (HDR_MAX + 1);
			int64_t off = (int64_t)rcv_off(&f) + rel;

			i += 5;
			offer(&f, off < 0 ? 0 : (uint64_t)off, len, hdr);
		} else if (op == 4 && i < size) {
			app_read(&f, data[i++]);
		} else if (op == 5) {
			reclaim(&f);
		} else if (op == 6 && i < size) {
			sack(&f, data[i++]);
		} else if (op == 7 && i < size) {
			hold_or_release(&f, data[i++]);
		} else {
			break; /* truncated op */
		}
		check_all(&f);
	}
	finish(&f);
	zc_stream_destroy(&f.s);
	FZ(zc_pool_free_count(f.pool) == nodes && zc_pool_errors(f.pool) == 0);
	FZ(test_mbuf_pool_full(mp));
	zc_pool_destroy(f.pool);
	return 0;
}
