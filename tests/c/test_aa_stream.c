/*
 * test_aa_stream.c - the application-aware stream core (src/aa/aa_stream.c,
 * aa_app.c, aa_build.c), driven step by step with the CSV module:
 *   - the read/free contract: EAGAIN, EBUSY, EINVAL, order, end of stream;
 *   - events: records only when a whole record is ready (thesis 4.1);
 *   - back-pressure: with an application that keeps its records, parsing
 *     pauses, held bytes grow (the window closes) and nothing else grows;
 *     freeing resumes it, a FIN that arrives meanwhile waits for it;
 *   - error records: readable, then end of stream; later bytes are ignored
 *     but their nodes and mbufs still go back;
 *   - limits: view cap (AA_ERR_FRAGMENTED), the record limit clamped to
 *     the receive buffer, parameter validation;
 *   - teardown with records held, a field open and a backlog: no leak;
 *   - attaching to a zc stream that already holds data;
 *   - two threads (network: input + reclaim; application: read + free)
 *     over the lock-free lists.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test_aa_harness.h"

struct conn {
	struct zc_stream zs;
	struct aa_stream *as;
	uint32_t nxt;
	unsigned zfree0;
};

static void conn_open(struct conn *c, uint32_t n_fields,
		      const struct aa_stream_config *cfg)
{
	struct aa_csv_params pp = { .n_fields = n_fields };

	c->zfree0 = zc_pool_free_count(aa_env.zp);
	c->nxt = (uint32_t)test_rand();
	CHECK(zc_stream_init(&c->zs, aa_env.zp) == 0);
	c->as = aa_stream_create(&aa_csv_module, &pp, &c->zs, cfg);
	CHECK(c->as);
}

/* Network thread: one segment. */
static void seg(struct conn *c, const char *s, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(aa_env.mp);
	char *pl;

	CHECK(m);
	pl = rte_pktmbuf_append(m, (uint16_t)(n + AA_H_HDR));
	CHECK(pl);
	memcpy(pl + AA_H_HDR, s, n);
	CHECK(zc_stream_input(&c->zs, m, pl + AA_H_HDR, c->nxt, (uint32_t)n,
			      &c->nxt) == (int64_t)n);
	rte_pktmbuf_free(m);
	aa_stream_reclaim(c->as);
	aa_h_check(c->as);
}

static void segs(struct conn *c, const char *s) { seg(c, s, strlen(s)); }

static void conn_close(struct conn *c)
{
	aa_stream_destroy(c->as);
	zc_stream_destroy(&c->zs);
	CHECK_EQ_U64(zc_pool_free_count(aa_env.zp), c->zfree0);
	CHECK(test_mbuf_pool_full(aa_env.mp));
}

static struct aa_csv_record *rec(void *p) { return p; }

static void contract(void)
{
	struct conn c;
	void *r[8];

	conn_open(&c, 2, NULL);
	CHECK(aa_stream_read(c.as, r, 8) == -EAGAIN);
	CHECK(aa_stream_read(c.as, r, 0) == -EINVAL);
	CHECK(aa_stream_free(c.as, 1) == -EINVAL);
	CHECK(!aa_stream_readable(c.as));
	segs(&c, "a,b\nc,");
	CHECK(aa_stream_events(c.as) == AA_EV_RECORDS);
	CHECK(aa_stream_events(c.as) == 0);
	segs(&c, "d"); /* no whole record: no event (thesis 4.1) */
	CHECK(aa_stream_events(c.as) == 0);
	segs(&c, "\ne,f\n");
	CHECK(aa_stream_events(c.as) == AA_EV_RECORDS);
	CHECK(aa_stream_readable(c.as));
	CHECK(aa_stream_read(c.as, r, 2) == 2);
	CHECK(aa_field_cmp(rec(r[0])->fields[0], "a") == 0);
	CHECK(aa_field_cmp(rec(r[1])->fields[1], "d") == 0);
	CHECK(rec(r[1])->fields[0]->next == NULL); /* "c" in one packet */
	CHECK(aa_stream_read(c.as, r, 2) == -EBUSY);
	CHECK(aa_stream_free(c.as, 3) == -EINVAL);
	CHECK(aa_stream_free(c.as, 1) == 0);
	CHECK(aa_stream_read(c.as, r, 2) == -EBUSY); /* one still out */
	CHECK(aa_stream_free(c.as, 1) == 0);
	CHECK(aa_stream_read(c.as, r, 8) == 1);
	CHECK(aa_field_cmp(rec(r[0])->fields[1], "f") == 0);
	CHECK(aa_stream_free(c.as, 1) == 0);
	CHECK(aa_stream_read(c.as, r, 8) == -EAGAIN);
	aa_stream_fin(c.as);
	CHECK(aa_stream_events(c.as) == AA_EV_EOS);
	CHECK(aa_stream_read(c.as, r, 8) == 0);
	CHECK(aa_stream_read(c.as, r, 8) == 0);
	CHECK(aa_http_expect_head(c.as, 1) == -EINVAL); /* not HTTP */
	conn_close(&c);
}

/* A field spanning three packets is one field of three views (figure 4.4). */
static void spanning(void)
{
	struct conn c;
	void *r[2];
	char buf[16];

	conn_open(&c, 2, NULL);
	segs(&c, "x,hel");
	segs(&c, "lo wo");
	segs(&c, "rld\n");
	CHECK(aa_stream_read(c.as, r, 2) == 1);
	CHECK(aa_field_nviews(rec(r[0])->fields[1]) == 3);
	CHECK(aa_field_cmp(rec(r[0])->fields[1], "hello world") == 0);
	CHECK(aa_field_copy(rec(r[0])->fields[1], buf, sizeof(buf)) == 11);
	CHECK(strcmp(buf, "hello world") == 0);
	/* the packets are held while the record is: 3 nodes */
	CHECK_EQ_U64(aa_stream_held_bytes(c.as), 14);
	CHECK(aa_stream_free(c.as, 1) == 0);
	aa_stream_reclaim(c.as);
	CHECK_EQ_U64(aa_stream_held_bytes(c.as), 0);
	conn_close(&c);
}

/* The application keeps its records: bounded pools, the window closes. */
static void back_pressure(void)
{
	struct aa_stream_config cfg = { .records = 4 };
	struct aa_stream_stats st;
	struct conn c;
	void *r[64];
	int got = 0, n;
	char line[32];

	conn_open(&c, 1, &cfg);
	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line%03d\n", i);
		segs(&c, line);
	}
	aa_stream_stats(c.as, &st);
	CHECK(st.pauses > 0);
	CHECK(st.records <= 4); /* never more than the pool */
	CHECK(st.backlog > 90);  /* the rest waits in the zc stream */
	CHECK_EQ_U64(aa_stream_held_bytes(c.as), 800); /* window shut */
	aa_stream_fin(c.as); /* FIN while paused: waits for the backlog */
	CHECK(aa_stream_events(c.as) == AA_EV_RECORDS);
	while ((n = aa_stream_read(c.as, r, 64)) > 0) {
		for (int i = 0; i < n; i++, got++) {
			snprintf(line, sizeof(line), "line%03d", got);
			CHECK(aa_field_cmp(rec(r[i])->fields[0], line) == 0);
		}
		CHECK(aa_stream_free(c.as, n) == 0);
		aa_stream_reclaim(c.as); /* the "window may open" command */
		aa_h_check(c.as);
	}
	CHECK(n == 0 && got == 100);
	CHECK(aa_stream_events(c.as) & AA_EV_EOS);
	CHECK_EQ_U64(aa_stream_held_bytes(c.as), 0);
	conn_close(&c);
}

static void error_then_eos(void)
{
	struct conn c;
	struct aa_stream_stats st;
	void *r[8];

	conn_open(&c, 2, NULL);
	segs(&c, "a,b\nc,d,e\nf,g\n");
	CHECK(aa_stream_read(c.as, r, 8) == 2);
	CHECK(rec(r[0])->hdr.type == AA_CSV_LINE);
	CHECK(rec(r[1])->hdr.type == AA_RECORD_ERROR);
	CHECK(rec(r[1])->hdr.error == AA_ERR_FIELD_COUNT);
	CHECK(rec(r[1])->hdr.offset == 7); /* the third field's comma */
	CHECK(rec(r[1])->hdr.message && strlen(rec(r[1])->hdr.message) > 0);
	CHECK(aa_stream_free(c.as, 2) == 0);
	CHECK(aa_stream_read(c.as, r, 8) == 0);
	CHECK(aa_stream_events(c.as) == (AA_EV_RECORDS | AA_EV_EOS));
	/* the peer keeps sending: ignored, freed, never a stall */
	for (int i = 0; i < 50; i++)
		segs(&c, "more,data\n");
	aa_stream_stats(c.as, &st);
	CHECK(st.failed && st.eos && st.ignored_bytes >= 500);
	CHECK_EQ_U64(aa_stream_held_bytes(c.as), 0);
	CHECK(aa_stream_read(c.as, r, 8) == 0);
	aa_stream_fin(c.as);
	CHECK(aa_stream_read(c.as, r, 8) == 0);
	conn_close(&c);
}

static void limits(void)
{
	struct aa_stream_config cfg = { .max_extra_views = 2 };
	struct aa_stream_stats st;
	struct conn c;
	void *r[4];

	/* a field over 4 packets needs 3 crossings: too fragmented */
	conn_open(&c, 1, &cfg);
	segs(&c, "ab");
	segs(&c, "cd");
	segs(&c, "ef");
	segs(&c, "gh\n");
	CHECK(aa_stream_read(c.as, r, 4) == 1);
	CHECK(rec(r[0])->hdr.type == AA_RECORD_ERROR &&
	      rec(r[0])->hdr.error == AA_ERR_FRAGMENTED);
	CHECK(aa_stream_free(c.as, 1) == 0);
	conn_close(&c);

	/* the record limit fits the receive buffer: 8192 - 2 * 1460 */
	cfg = (struct aa_stream_config){ .rcvbuf = 8192 };
	conn_open(&c, 1, &cfg);
	aa_stream_stats(c.as, &st);
	CHECK_EQ_U64(st.max_record_bytes, 8192 - 2 * 1460);
	{
		char big[1500];

		memset(big, 'x', sizeof(big));
		for (int i = 0; i < 4; i++)
			seg(&c, big, sizeof(big));
	}
	CHECK(aa_stream_read(c.as, r, 4) == 1);
	CHECK(rec(r[0])->hdr.error == AA_ERR_TOO_LONG);
	CHECK(rec(r[0])->hdr.offset == 8192 - 2 * 1460);
	CHECK(aa_stream_free(c.as, 1) == 0);
	conn_close(&c);

	/* parameters */
	{
		struct zc_stream zs;
		struct aa_csv_params bad_csv[] = {
			{ .n_fields = 0 },
			{ .n_fields = AA_CSV_MAX_FIELDS + 1 },
			{ .n_fields = 2, .delimiter = '"' },
			{ .n_fields = 2, .flags = 0x80 },
		};
		struct aa_http_params bad_http = { .flags = 0x40 };
		struct aa_http_params head = { .flags = AA_HTTP_P_HEAD_RESPONSES };
		struct aa_http_params many = { .max_headers = 100000 };
		struct aa_module bad_abi = aa_csv_module;

		bad_abi.abi = 99;
		CHECK(zc_stream_init(&zs, aa_env.zp) == 0);
		for (size_t i = 0; i < sizeof(bad_csv) / sizeof(bad_csv[0]); i++) {
			errno = 0;
			CHECK(!aa_stream_create(&aa_csv_module, &bad_csv[i], &zs, NULL));
			CHECK(errno == EINVAL);
		}
		CHECK(!aa_stream_create(&aa_csv_module, NULL, &zs, NULL));
		CHECK(!aa_stream_create(&aa_http_response_module, &bad_http, &zs, NULL));
		CHECK(!aa_stream_create(&aa_http_response_module, &many, &zs, NULL));
		CHECK(!aa_stream_create(&aa_http_request_module, &head, &zs, NULL));
		CHECK(!aa_stream_create(&bad_abi, &bad_csv[0], &zs, NULL));
		CHECK(!aa_stream_create(NULL, NULL, &zs, NULL));
		zc_stream_destroy(&zs);
	}
}

/* Teardown in the middle of everything. */
static void teardown(void)
{
	struct aa_stream_config cfg = { .records = 3 };
	struct conn c;
	void *r[4];

	conn_open(&c, 2, &cfg);
	for (int i = 0; i < 10; i++)
		segs(&c, "aa,bb\n");
	segs(&c, "open,fie");
	CHECK(aa_stream_read(c.as, r, 2) == 2); /* held by the app */
	conn_close(&c); /* no FIN, records held, backlog, open field */

	conn_open(&c, 2, NULL);
	segs(&c, "x,");
	segs(&c, "y"); /* open field over two nodes */
	conn_close(&c);
}

/* Registered after data arrived: the nodes already there are parsed. */
static void late_attach(void)
{
	struct zc_stream zs;
	struct aa_csv_params pp = { .n_fields = 2 };
	struct aa_stream *as;
	uint32_t nxt = 1000;
	const char *parts[] = { "a,b\nc", ",d\n" };
	void *r[4];
	unsigned z0 = zc_pool_free_count(aa_env.zp);

	CHECK(zc_stream_init(&zs, aa_env.zp) == 0);
	for (int i = 0; i < 2; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(aa_env.mp);
		size_t n = strlen(parts[i]);
		char *pl = rte_pktmbuf_append(m, (uint16_t)n);

		memcpy(pl, parts[i], n);
		CHECK(zc_stream_input(&zs, m, pl, nxt, (uint32_t)n, &nxt) ==
		      (int64_t)n);
		rte_pktmbuf_free(m);
	}
	as = aa_stream_create(&aa_csv_module, &pp, &zs, NULL);
	CHECK(as);
	aa_stream_reclaim(as);
	CHECK(aa_stream_read(as, r, 4) == 2);
	CHECK(aa_field_cmp(rec(r[1])->fields[0], "c") == 0);
	CHECK(aa_stream_free(as, 2) == 0);
	aa_stream_reclaim(as);
	aa_h_check(as);
	aa_stream_destroy(as);
	zc_stream_destroy(&zs);
	CHECK_EQ_U64(zc_pool_free_count(aa_env.zp), z0);
	CHECK(test_mbuf_pool_full(aa_env.mp));
}

/* ---- two threads --------------------------------------------------------- */

#define MT_LINES 50000

struct mt {
	struct conn c;
	atomic_bool app_done;
	uint32_t rcvbuf;
	char *stream;
	size_t len;
};

/* The network thread: segments as the window allows, reclaim, FIN. Its
 * own RNG: check.h's is not thread-safe. */
static void *net_thread(void *arg)
{
	struct mt *t = arg;
	uint64_t x = test_seed | 1;
	size_t off = 0;

	while (off < t->len) {
		size_t n;
		struct rte_mbuf *m;
		char *pl;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 1 + (size_t)(x % 1460);
		aa_stream_reclaim(t->c.as);
		if (n > t->len - off)
			n = t->len - off;
		if (aa_stream_held_bytes(t->c.as) + n > t->rcvbuf) {
			sched_yield(); /* window closed: the sender waits */
			continue;
		}
		m = rte_pktmbuf_alloc(aa_env.mp);
		if (!m) {
			sched_yield();
			continue;
		}
		pl = rte_pktmbuf_append(m, (uint16_t)n);
		memcpy(pl, t->stream + off, n);
		CHECK(zc_stream_input(&t->c.zs, m, pl, t->c.nxt, (uint32_t)n,
				      &t->c.nxt) == (int64_t)n);
		rte_pktmbuf_free(m);
		off += n;
	}
	aa_stream_fin(t->c.as);
	while (!atomic_load(&t->app_done)) { /* "window may open" commands */
		aa_stream_reclaim(t->c.as);
		sched_yield();
	}
	aa_stream_reclaim(t->c.as);
	return NULL;
}

static void two_threads(void)
{
	struct aa_stream_config cfg = { .records = 16, .rcvbuf = 32768 };
	struct aa_h_buf b = { 0 };
	struct mt t = { .rcvbuf = 32768 };
	pthread_t th;
	void *r[32];
	uint64_t got = 0;
	int n;

	for (int i = 0; i < MT_LINES; i++)
		aa_h_printf(&b, "%d,%x\n", i, (unsigned)i * 2654435761u);
	t.stream = b.p;
	t.len = b.len;
	conn_open(&t.c, 2, &cfg);
	CHECK(pthread_create(&th, NULL, net_thread, &t) == 0);
	for (;;) { /* the application thread */
		n = aa_stream_read(t.c.as, r, (int)test_rand_range(1, 32));
		if (n == 0)
			break;
		if (n < 0) {
			CHECK(n == -EAGAIN);
			sched_yield();
			continue;
		}
		for (int i = 0; i < n; i++, got++) {
			int64_t v;
			uint64_t h;

			CHECK(rec(r[i])->hdr.type == AA_CSV_LINE);
			CHECK(aa_field_to_i64(rec(r[i])->fields[0], &v) == 0);
			CHECK_EQ_U64(v, got);
			CHECK(aa_field_hex_to_u64(rec(r[i])->fields[1], &h) == 0);
			CHECK_EQ_U64(h, (uint32_t)((unsigned)got * 2654435761u));
		}
		CHECK(aa_stream_free(t.c.as, n) == 0);
	}
	atomic_store(&t.app_done, true);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK_EQ_U64(got, MT_LINES);
	aa_stream_reclaim(t.c.as);
	aa_h_check(t.c.as);
	conn_close(&t.c);
	aa_h_free(&b);
}

int main(int argc, char **argv)
{
	(void)argc;
	aa_h_init(argv[0], true);
	contract();
	spanning();
	back_pressure();
	error_then_eos();
	limits();
	teardown();
	late_attach();
	two_threads();
	return test_done();
}
