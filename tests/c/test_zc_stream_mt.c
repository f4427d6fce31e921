/*
 * test_zc_stream_mt.c - the lock-free head/tail protocol of the zero-copy
 * stream (thesis 3.2.1) under two real threads: the main thread plays the
 * network thread (input with reordering, duplicates and re-cut
 * retransmissions, reclaim, invariant checks), a second thread plays the
 * application (peek, verify every byte, consume). The in-order list goes
 * empty and non-empty constantly, which is the case the sentinel tail is
 * for. Run it under ASan/UBSan: a reclaimed node or mbuf read by the
 * application shows up as a use after free (the node pool poisons free
 * nodes) or as wrong bytes.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "check.h"
#include "common/seq.h"
#include "zc/zc_stream.h"

#define PERIOD 1048573u /* prime: reference bytes repeat with this period */
#define MSS 1460u
#define REORDER 16
#define NODES 512
#define WINDOW (128u << 10) /* sender's window: bounds the OOO queue */
#define RTO_POLLS 32        /* no progress for this long: resend at rcv_nxt */

static uint8_t ref[PERIOD];
static uint64_t total_bytes;
static struct zc_stream s;
static uint32_t isn;
static _Atomic int consumer_failed;
static _Atomic uint64_t consumer_read;
static uint64_t consumer_seed;
static uint64_t consumer_empty; /* peeks that found only the sentinel */

/* ref[off % PERIOD ...] == buf, compared piecewise across the period end */
static bool ref_equal(uint64_t off, const char *buf, size_t len)
{
	while (len) {
		size_t at = (size_t)(off % PERIOD), k = PERIOD - at;

		if (k > len)
			k = len;
		if (memcmp(ref + at, buf, k) != 0)
			return false;
		buf += k;
		off += k;
		len -= k;
	}
	return true;
}

static void copy_ref(char *dst, uint64_t off, size_t len)
{
	while (len) {
		size_t at = (size_t)(off % PERIOD), k = PERIOD - at;

		if (k > len)
			k = len;
		memcpy(dst, ref + at, k);
		dst += k;
		off += k;
		len -= k;
	}
}

/* ---- application thread ------------------------------------------- */

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *consumer(void *arg)
{
	struct stream_fragment_content f[32];
	uint64_t rng = consumer_seed | 1, read = 0;

	(void)arg;
	while (read < total_bytes) {
		int want = (int)(xorshift(&rng) % 32) + 1, n, k;
		uint64_t bytes = 0, pos = read;

		n = zc_stream_peek(&s, f, want);
		if (n == 0) {
			consumer_empty++;
			if (xorshift(&rng) % 4 == 0)
				sched_yield();
			continue;
		}
		for (int i = 0; i < n; i++) {
			size_t l = (size_t)(f[i].end - f[i].start);

			if (l == 0 || !ref_equal(pos, f[i].start, l)) {
				fprintf(stderr, "consumer: wrong bytes at %llu\n",
					(unsigned long long)pos);
				atomic_store(&consumer_failed, 1);
				return NULL;
			}
			pos += l;
			bytes += l;
		}
		/* in_bytes is raised before the link that shows the bytes */
		if (zc_stream_pending_bytes(&s) < bytes) {
			fprintf(stderr, "consumer: pending < peeked\n");
			atomic_store(&consumer_failed, 1);
			return NULL;
		}
		k = (int)(xorshift(&rng) % (uint64_t)n) + 1;
		if (zc_stream_consume(&s, k) != k) {
			fprintf(stderr, "consumer: consume(%d) of %d failed\n", k, n);
			atomic_store(&consumer_failed, 1);
			return NULL;
		}
		for (int i = 0; i < k; i++)
			read += (uint64_t)(f[i].end - f[i].start);
		atomic_store_explicit(&consumer_read, read, memory_order_relaxed);
	}
	return NULL;
}

/* ---- network thread ------------------------------------------------- */

struct seg {
	uint64_t off;
	uint32_t len;
};

static uint64_t delivered;

static void on_deliver(void *arg, struct zc_node *n)
{
	(void)arg;
	CHECK(n->seq == isn + (uint32_t)delivered);
	CHECK(ref_equal(delivered, n->data.start, n->len));
	delivered += n->len;
}

/* Returns -1 (no node), else bytes that became in-order. */
static int64_t send_seg(struct rte_mempool *mp, uint64_t off, uint32_t len,
			uint32_t *rcv_nxt)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint32_t hdr = (uint32_t)test_rand_range(0, 54);
	char *p;
	int64_t adv;

	CHECK(m != NULL);
	p = rte_pktmbuf_append(m, (uint16_t)(hdr + len));
	CHECK(p != NULL);
	copy_ref(p + hdr, off, len);
	adv = zc_stream_input(&s, m, p + hdr, isn + (uint32_t)off, len, rcv_nxt);
	rte_pktmbuf_free(m);
	return adv;
}

int main(int argc, char **argv)
{
	const char *env = getenv("TEST_MT_BYTES");
	struct seg buf[REORDER];
	int n_buf = 0;
	uint64_t snd = 0, rcv = 0, inputs = 0, nomem = 0, empty_polls = 0;
	uint64_t stalled = 0, rto = 0;
	uint32_t rcv_nxt;
	struct rte_mempool *mp;
	struct zc_pool *pool;
	pthread_t th;
	const char *err;

	(void)argc;
	total_bytes = env ? strtoull(env, NULL, 0) : 160ull << 20;
	test_init(argv[0]);
	test_eal_init(argv[0]);
	mp = test_mbuf_pool("zc_mt", 4 * NODES);
	test_rand_bytes(ref, sizeof(ref));
	consumer_seed = test_rand();
	isn = (uint32_t)(0u - (uint32_t)test_rand_range(1, 1u << 20)); /* wraps */
	rcv_nxt = isn;
	pool = zc_pool_create(NODES);
	CHECK(pool && zc_stream_init(&s, pool) == 0);
	s.deliver = on_deliver;
	CHECK(pthread_create(&th, NULL, consumer, NULL) == 0);

	while (rcv < total_bytes && !atomic_load(&consumer_failed)) {
		int i;
		int64_t adv;

		while (n_buf < REORDER && snd < total_bytes && snd - rcv < WINDOW) {
			/* mostly MSS-sized, sometimes tiny: more nodes, more
			 * head/tail crossings per byte */
			uint32_t len = (uint32_t)test_rand_range(1, test_chance(1, 4) ? 64 : MSS);

			if (len > total_bytes - snd)
				len = (uint32_t)(total_bytes - snd);
			buf[n_buf].off = snd;
			buf[n_buf++].len = len;
			snd += len;
		}
		if (n_buf == 0 || stalled >= RTO_POLLS) {
			/* The "RTO": data that was reneged (or a window's worth
			 * dropped) is sent again from rcv_nxt. */
			uint32_t len = (uint32_t)(total_bytes - rcv < MSS ? total_bytes - rcv : MSS);

			adv = send_seg(mp, rcv, len, &rcv_nxt);
			inputs++;
			rto++;
			stalled = 0;
			if (adv > 0)
				rcv += (uint64_t)adv;
			else
				sched_yield(); /* the application holds every node */
			zc_stream_reclaim(&s);
			continue;
		}
		/* mostly in order, sometimes any of the next REORDER segments */
		i = test_chance(3, 4) ? 0 : (int)test_rand_range(0, (uint64_t)n_buf - 1);
		adv = send_seg(mp, buf[i].off, buf[i].len, &rcv_nxt);
		inputs++;
		stalled = adv > 0 ? 0 : stalled + 1;
		if (adv < 0) {
			nomem++;
			zc_stream_reclaim(&s);
		} else {
			rcv += (uint64_t)adv;
			memmove(&buf[i], &buf[i + 1], (size_t)(n_buf - i - 1) * sizeof(buf[0]));
			n_buf--;
		}
		CHECK((uint32_t)rcv == (uint32_t)(rcv_nxt - isn));
		if (test_chance(1, 20) && rcv > 0) { /* re-cut retransmission */
			uint64_t lo = rcv > 3000 ? rcv - 3000 : 0;
			uint64_t off = test_rand_range(lo, snd > lo ? snd - 1 : lo);
			uint32_t len = (uint32_t)test_rand_range(1, MSS);

			if (off < total_bytes) {
				if (len > total_bytes - off)
					len = (uint32_t)(total_bytes - off);
				adv = send_seg(mp, off, len, &rcv_nxt);
				if (adv > 0) {
					rcv += (uint64_t)adv;
					stalled = 0;
				}
				inputs++;
			}
		}
		zc_stream_reclaim(&s);
		if ((inputs & 63) == 0) {
			err = zc_stream_check(&s, rcv_nxt);
			CHECK_MSG(err == NULL, "%s", err);
		}
		if (zc_stream_pending_bytes(&s) == 0)
			empty_polls++;
	}
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(!atomic_load(&consumer_failed));
	CHECK_EQ_U64(delivered, total_bytes);
	CHECK_EQ_U64(atomic_load(&consumer_read), total_bytes);
	zc_stream_reclaim(&s);
	err = zc_stream_check(&s, rcv_nxt);
	CHECK_MSG(err == NULL, "%s", err);
	CHECK(s.held_bytes == 0 && s.ooo_nodes == 0);
	CHECK_EQ_U64(s.in_bytes, total_bytes);
	printf("zc_stream_mt: %llu bytes, %llu inputs, %llu dropped for nodes, "
	       "%llu resends from rcv_nxt, %llu reneged bytes, %llu duplicate "
	       "bytes, empty list seen %llu times by the network thread and %llu by the application\n",
	       (unsigned long long)total_bytes, (unsigned long long)inputs,
	       (unsigned long long)nomem, (unsigned long long)rto,
	       (unsigned long long)s.renege_bytes,
	       (unsigned long long)s.dup_bytes, (unsigned long long)empty_polls,
	       (unsigned long long)consumer_empty);
	zc_stream_destroy(&s);
	CHECK(zc_pool_free_count(pool) == NODES && zc_pool_errors(pool) == 0);
	CHECK(test_mbuf_pool_full(mp));
	zc_pool_destroy(pool);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return test_done();
}
