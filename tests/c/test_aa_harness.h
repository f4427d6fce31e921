/*
 * test_aa_harness.h - shared driver of the application-aware tests and
 * fuzzers (header-only so that each test stays one source file).
 *
 * aa_h_feed() plays TCP, the network thread and the application thread of
 * one connection, single-threaded: it cuts a byte stream into the given
 * segments, puts each one in its own real mbuf (behind a fake header, at a
 * random initial sequence number so that the stream may wrap 2^32), feeds
 * it to a real zc stream with an aa stream attached (zc_stream_input ->
 * deliver hook -> module), frees its own mbuf reference as TCP does,
 * reclaims, and reads records as an application would - at once, or
 * holding them for a few segments to exercise back-pressure. Every record
 * read is turned into text by a canonicaliser (one per module), so that
 * two parses compare as strings. At the end: FIN, drain until the read
 * returns 0, and every pool back to full (records, views, zc nodes, mbufs),
 * with aa_stream_check() (refs, views inside their mbufs) along the way.
 */
#ifndef AATCP_TEST_AA_HARNESS_H
#define AATCP_TEST_AA_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "aa/aa_stream.h"
#include "check.h"
#include "zc/zc_stream.h"

/* ---- growable text buffer ------------------------------------------------- */

struct aa_h_buf {
	char *p;
	size_t len, cap;
};

static inline void aa_h_put(struct aa_h_buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		CHECK(b->p);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static inline void
aa_h_printf(struct aa_h_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	CHECK(n >= 0 && (size_t)n < sizeof(tmp));
	aa_h_put(b, tmp, (size_t)n);
}

/* Decimal, without printf (the canonicalisers run millions of times). */
static inline void aa_h_u64(struct aa_h_buf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	aa_h_put(b, tmp + sizeof(tmp) - n, (size_t)n);
}

/* A field's bytes, length-prefixed. */
static inline void aa_h_field(struct aa_h_buf *b, const struct stream_field *f)
{
	size_t len = aa_field_len(f);

	aa_h_u64(b, len);
	aa_h_put(b, ":", 1);
	for (const struct stream_field *v = f; v; v = v->next)
		aa_h_put(b, v->data.start, (size_t)(v->data.end - v->data.start));
}

/* Same bytes (memcmp must not see NULL, even for 0 bytes). */
static inline bool aa_h_same(const struct aa_h_buf *a, const struct aa_h_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static inline void aa_h_clear(struct aa_h_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

static inline void aa_h_free(struct aa_h_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Prints where two canonical outputs first differ. */
static inline void aa_h_diff(const char *what, const struct aa_h_buf *a,
			     const struct aa_h_buf *b)
{
	size_t i = 0;

	while (i < a->len && i < b->len && a->p[i] == b->p[i])
		i++;
	fprintf(stderr, "%s: outputs differ at byte %zu (len %zu vs %zu)\n", what,
		i, a->len, b->len);
	fprintf(stderr, "--- expected ...%.*s\n", (int)(a->len - i < 200 ? a->len - i : 200),
		a->p ? a->p + i : "");
	fprintf(stderr, "--- got      ...%.*s\n", (int)(b->len - i < 200 ? b->len - i : 200),
		b->p ? b->p + i : "");
}

/* ---- environment ------------------------------------------------------------- */

#define AA_H_MBUFS 16384u
#define AA_H_NODES (1u << 17)
#define AA_H_HDR 66        /* a fake Ethernet + IPv4 + TCP header */
#define AA_H_MAX_SEG 1900  /* payload that fits one default mbuf */

struct aa_h_env {
	struct rte_mempool *mp;
	struct zc_pool *zp;
};

static struct aa_h_env aa_env;

static inline void aa_h_init(const char *prog, bool eal)
{
	test_init(prog);
	if (eal) {
		test_eal_init(prog);
		aa_env.mp = test_mbuf_pool("aa_test", AA_H_MBUFS);
		CHECK(aa_env.mp);
	}
	aa_env.zp = zc_pool_create(AA_H_NODES);
	CHECK(aa_env.zp);
}

/* ---- one connection ------------------------------------------------------- */

typedef void (*aa_h_canon_fn)(struct aa_h_buf *out, const struct aa_record *r,
			      void *ctx);

struct aa_h_run {
	const struct aa_module *mod;
	const void *params;
	struct aa_stream_config cfg;
	aa_h_canon_fn canon;
	void (*at_eos)(struct aa_h_buf *out, void *ctx); /* may be NULL */
	void *ctx;
	unsigned hold_steps;  /* free what was read this many segments later */
	unsigned read_batch;  /* records per read, 0: 16 */
	unsigned head_expect; /* aa_http_expect_head(n) before the data */
	unsigned check_every; /* aa_stream_check() every k segments, 0: end */
	bool no_fin;          /* stream ends without FIN: only destroy */
	uint32_t window;      /* receive buffer, 0: AA_H_WINDOW */
};

/* The sender waits while the advertised window (rcvbuf - held bytes) is
 * too small, or while this many nodes are held (zc pool / mbufs). */
#define AA_H_WINDOW (128u * 1024u)
#define AA_H_MAX_NODES 8192u

struct aa_h_app {
	const struct aa_h_run *run;
	struct aa_stream *as;
	struct aa_h_buf *out;
	void *recs[256];
	int held;
	unsigned held_since;
	unsigned step;
	bool eos;
	uint64_t records;
};

static inline void aa_h_check(struct aa_stream *as)
{
	const char *e = aa_stream_check(as);

	CHECK_MSG(!e, "aa_stream_check: %s", e);
}

/* The application thread's turn: free what is due, read what is ready. */
static inline void aa_h_app_step(struct aa_h_app *a, bool final)
{
	const struct aa_h_run *run = a->run;
	int batch = run->read_batch ? (int)run->read_batch : 16;

	if (batch > 256)
		batch = 256;
	for (;;) {
		int n;

		if (a->held) {
			if (!final && a->step < a->held_since + run->hold_steps)
				return;
			CHECK(aa_stream_free(a->as, a->held) == 0);
			a->held = 0;
			aa_stream_reclaim(a->as);
		}
		n = aa_stream_read(a->as, a->recs, batch);
		if (n == 0) {
			a->eos = true;
			return;
		}
		if (n < 0) {
			CHECK_MSG(n == -EAGAIN, "read: %d", n);
			return;
		}
		CHECK(aa_stream_read(a->as, a->recs, batch) == -EBUSY);
		for (int i = 0; i < n; i++) {
			const struct aa_record *r = a->recs[i];

			CHECK(r->next != NULL); /* published records only */
			run->canon(a->out, r, run->ctx);
			a->records++;
		}
		a->held = n;
		a->held_since = a->step;
	}
}

/*
 * Feeds data cut into segs[0..nsegs) (sum = len, each <= AA_H_MAX_SEG) and
 * appends the canonical text of every record to out. Returns the number of
 * records read.
 */
static inline uint64_t aa_h_feed(const struct aa_h_run *run, const char *data,
				 size_t len, const uint32_t *segs, size_t nsegs,
				 struct aa_h_buf *out)
{
	struct zc_stream zs;
	struct aa_stream *as;
	struct aa_h_app app = { .run = run, .out = out };
	struct aa_stream_stats st;
	uint32_t isn = (uint32_t)test_rand(), nxt = isn;
	size_t off = 0;
	unsigned zfree0 = zc_pool_free_count(aa_env.zp);

	struct aa_stream_config cfg = run->cfg;
	uint32_t window = run->window ? run->window : AA_H_WINDOW;

	if (!cfg.rcvbuf)
		cfg.rcvbuf = window;
	CHECK(zc_stream_init(&zs, aa_env.zp) == 0);
	as = aa_stream_create(run->mod, run->params, &zs, &cfg);
	CHECK_MSG(as, "aa_stream_create: %s", strerror(errno));
	app.as = as;
	if (run->head_expect)
		CHECK(aa_http_expect_head(as, (int)run->head_expect) == 0);
	for (size_t i = 0; i < nsegs; i++) {
		uint32_t n = segs[i];
		struct rte_mbuf *m;
		char *pl;
		uint32_t hdr = AA_H_HDR + (uint32_t)(test_rand() % 8);

		CHECK(n > 0 && n <= AA_H_MAX_SEG && off + n <= len);
		/* TCP flow control: wait for the window (never forever). */
		for (int guard = 0;
		     aa_stream_held_bytes(as) + n > window ||
		     zc_pool_free_count(aa_env.zp) + AA_H_MAX_NODES < zfree0;
		     guard++) {
			CHECK_MSG(guard < 100000, "stall: the window never opens");
			app.step++;
			aa_h_app_step(&app, false);
			aa_stream_reclaim(as);
		}
		m = rte_pktmbuf_alloc(aa_env.mp);
		CHECK(m);
		pl = rte_pktmbuf_append(m, (uint16_t)(hdr + n));
		CHECK(pl);
		memset(pl, 0xee, hdr);
		memcpy(pl + hdr, data + off, n);
		CHECK(zc_stream_input(&zs, m, pl + hdr, nxt, n, &nxt) == n);
		rte_pktmbuf_free(m); /* TCP drops its own reference */
		off += n;
		aa_stream_reclaim(as);
		app.step++;
		aa_h_app_step(&app, false);
		if (run->check_every && app.step % run->check_every == 0)
			aa_h_check(as);
	}
	CHECK(off == len);
	aa_h_check(as);
	if (!run->no_fin) {
		aa_stream_fin(as);
		for (int guard = 0; !app.eos; guard++) {
			CHECK_MSG(guard < 1000000, "no end of stream");
			aa_h_app_step(&app, true);
			aa_stream_reclaim(as);
		}
		CHECK(aa_stream_read(as, app.recs, 4) == 0); /* stays at EOS */
		if (run->at_eos)
			run->at_eos(out, run->ctx);
		aa_stream_reclaim(as);
		aa_h_check(as);
		/* Everything back but the record in progress and its views
		 * (none: the stream ended between records). */
		aa_stream_stats(as, &st);
		CHECK_EQ_U64(st.records_free, st.records_total - 1);
		CHECK_EQ_U64(st.views_free, st.views_total);
		CHECK_EQ_U64(st.backlog, 0);
		CHECK_EQ_U64(aa_stream_held_bytes(as), 0);
		CHECK_EQ_U64(zc_pool_free_count(aa_env.zp), zfree0 - 1);
	}
	aa_stream_destroy(as);
	zc_stream_destroy(&zs);
	CHECK_EQ_U64(zc_pool_free_count(aa_env.zp), zfree0);
	CHECK_EQ_U64(zc_pool_errors(aa_env.zp), 0);
	if (aa_env.mp)
		CHECK(test_mbuf_pool_full(aa_env.mp));
	return app.records;
}

/* ---- segmentations ------------------------------------------------------- */

/* Random segment sizes in [1, max] (max <= AA_H_MAX_SEG). */
static inline size_t aa_h_random_segs(size_t len, uint32_t max, uint32_t *segs)
{
	size_t n = 0, off = 0;

	while (off < len) {
		uint32_t s = (uint32_t)test_rand_range(1, max);

		if (s > len - off)
			s = (uint32_t)(len - off);
		segs[n++] = s;
		off += s;
	}
	return n;
}

/* Segments of at most max bytes, all full but the last. */
static inline size_t aa_h_fixed_segs(size_t len, uint32_t max, uint32_t *segs)
{
	size_t n = 0;

	for (size_t off = 0; off < len; off += max)
		segs[n++] = (uint32_t)(len - off < max ? len - off : max);
	return n;
}

/* Cut at i and j (0 < i < j < len; i == j or 0 allowed: fewer pieces). */
static inline size_t aa_h_cut3(size_t len, size_t i, size_t j, uint32_t *segs)
{
	size_t n = 0, cuts[3] = { i, j, len }, prev = 0;

	for (int k = 0; k < 3; k++) {
		if (cuts[k] > prev) {
			size_t s = cuts[k] - prev;

			while (s > AA_H_MAX_SEG) {
				segs[n++] = AA_H_MAX_SEG;
				s -= AA_H_MAX_SEG;
			}
			segs[n++] = (uint32_t)s;
			prev = cuts[k];
		}
	}
	return n;
}

/*
 * Pairs of cuts. Every pair costs O(len^3) bytes parsed per sample, which
 * is fine in plain builds (a few seconds) but not under ASan at -O0 (some
 * 25 times slower). So: every pair in plain builds; under a sanitizer,
 * every pair for streams up to AA_H_SAN_FULL bytes, and for longer ones
 * every single cut, every pair less than AA_H_SAN_NEAR bytes apart (two
 * cuts interact only through the record or field they share) and random
 * far pairs. AA_TEST_EXHAUSTIVE=1 (0) forces every pair (the reduced set).
 */
#if defined(__SANITIZE_ADDRESS__)
#define AA_H_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AA_H_SANITIZED 1
#endif
#endif
#ifndef AA_H_SANITIZED
#define AA_H_SANITIZED 0
#endif
#define AA_H_SAN_FULL 200
#define AA_H_SAN_NEAR 16
#define AA_H_SAN_FAR 600

static inline bool aa_h_exhaustive(size_t len)
{
	const char *e = getenv("AA_TEST_EXHAUSTIVE");

	if (e && *e)
		return *e == '1';
	return !AA_H_SANITIZED || len <= AA_H_SAN_FULL;
}

/* Calls fn(i, j, arg) for the pairs of cuts 0 < i <= j < len (i == j:
 * two pieces) chosen as described above; returns how many. */
static inline uint64_t aa_h_for_pairs(size_t len,
				      void (*fn)(size_t, size_t, void *),
				      void *arg)
{
	uint64_t n = 0;

	if (aa_h_exhaustive(len)) {
		for (size_t i = 1; i < len; i++)
			for (size_t j = i; j < len; j++, n++)
				fn(i, j, arg);
		return n;
	}
	for (size_t i = 1; i < len; i++)
		for (size_t j = i; j < len && j - i < AA_H_SAN_NEAR; j++, n++)
			fn(i, j, arg);
	for (int k = 0; k < AA_H_SAN_FAR && len > AA_H_SAN_NEAR + 1; k++, n++) {
		size_t i = (size_t)test_rand_range(1, len - AA_H_SAN_NEAR - 1);
		size_t j = (size_t)test_rand_range(i + AA_H_SAN_NEAR, len - 1);

		fn(i, j, arg);
	}
	return n;
}

/*
 * The sample files: argv[1], else $AA_TEST_DATA, else data/aa beside the
 * test's source file (src_file: __FILE__, which meson gives relative to
 * the build directory, where `meson test` runs the tests).
 */
static inline const char *aa_h_data_dir(int argc, char **argv,
					const char *src_file)
{
	static char dir[1024];
	const char *e = getenv("AA_TEST_DATA");
	const char *slash = strrchr(src_file, '/');

	if (argc > 1)
		return argv[1];
	if (e && *e)
		return e;
	if (!slash)
		return "data/aa";
	snprintf(dir, sizeof(dir), "%.*s/data/aa", (int)(slash - src_file),
		 src_file);
	return dir;
}

/* Reads a whole file (test data). */
static inline char *aa_h_read_file(const char *dir, const char *name,
				   size_t *len)
{
	char path[1024];
	FILE *f;
	char *d;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	CHECK_MSG(f, "cannot open %s", path);
	CHECK(fseek(f, 0, SEEK_END) == 0);
	n = ftell(f);
	CHECK(n >= 0);
	rewind(f);
	d = malloc((size_t)n + 1);
	CHECK(d);
	CHECK(fread(d, 1, (size_t)n, f) == (size_t)n);
	d[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return d;
}

/* ---- fuzzing (fuzz/fuzz_aa_*.c) ------------------------------------------ */

/*
 * libFuzzer saves the input on a crash (abort), not on exit(): CHECK()
 * exits, so a failure inside a fuzzed run is turned into an abort.
 */
static bool aa_h_fuzz_running;

static inline void aa_h_fuzz_exit(void)
{
	if (aa_h_fuzz_running)
		abort();
}

static inline void aa_h_fuzz_init(const char *prog)
{
	aa_h_init(prog, true);
	atexit(aa_h_fuzz_exit);
}

/*
 * One fuzz input: 8 knob bytes, then the stream.
 *   k[0]      for the target (module parameters)
 *   k[1]      segment size bound: 1, 2, 7, 31, 200, 1460 ...
 *   k[2]      application: hold records k[2] % 4 segments, batch size
 *   k[3]      record pool (0: default, else 2 + k % 6), tiny view pool
 *   k[4..7]   RNG seed of the segmentation
 * The stream is parsed twice, cut in MSS-sized segments with a prompt
 * application and cut as the knobs say with the knobs' application: the
 * records must be the same (segmentation invariance), the pools full.
 */
static inline void aa_h_fuzz_one(struct aa_h_run *run, const uint8_t *d,
				 size_t n)
{
	static uint32_t segs[1 << 16];
	static const uint32_t bounds[] = { 1, 2, 7, 31, 200, 1460, 3, 536 };
	struct aa_h_buf a = { 0 }, b = { 0 };
	const char *data = (const char *)d + 8;
	size_t len = n - 8, nsg;
	uint64_t seed = 0;

	if (n < 8 || len >= sizeof(segs) / sizeof(segs[0]))
		return;
	memcpy(&seed, d + 4, 4);
	test_rng_seed(seed);
	aa_h_fuzz_running = true;
	/* 1: MSS segments, prompt application, default pools */
	/* no AA_ERR_FRAGMENTED: a record may cross every byte boundary */
	run->cfg.max_extra_views = (uint32_t)len + 16;
	nsg = aa_h_fixed_segs(len, 1460, segs);
	aa_h_feed(run, data, len, segs, nsg, &a);
	/* 2: the knobs */
	nsg = aa_h_random_segs(len, bounds[d[1] % 8], segs);
	run->hold_steps = d[2] % 4;
	run->read_batch = 1 + d[2] / 4 % 32;
	run->cfg.records = d[3] % 8 ? 2 + d[3] % 6 : 0;
	run->cfg.views = d[3] & 0x80 ? 1 : 0;
	run->check_every = d[2] & 0x80 ? 1 : 0;
	aa_h_feed(run, data, len, segs, nsg, &b);
	if (!aa_h_same(&a, &b)) {
		aa_h_diff("fuzz", &a, &b);
		abort();
	}
	aa_h_free(&a);
	aa_h_free(&b);
	aa_h_fuzz_running = false;
}

#endif /* AATCP_TEST_AA_HARNESS_H */
