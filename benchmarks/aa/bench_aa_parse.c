/*
 * bench_aa_parse.c - parser micro-benchmark of the application-aware layer
 * (thesis ch. 4): our CSV and HTTP modules against Debian's libcsv and
 * http-parser on the same bytes, in one run, printed as ratios (JSON on
 * stdout, a summary on stderr), with llhttp (Node.js' parser) beside them.
 *
 * Ours: the buffer is cut into MSS-sized packets (1460 bytes), each in its
 * own DPDK mbuf (built once, before timing), and goes through what the
 * stack does per packet: zc_stream_input() (the deliver hook parses it),
 * aa_stream_reclaim(), then the application reads every ready record
 * (aa_stream_read), counts it and reads one field length, and frees it
 * (aa_stream_free). So the time includes the zero-copy node, the views,
 * the record pools and the reference counts, not only the parse.
 * The generated modules go through the same path beside the hand-written
 * ones: ours_generated (made by the format compiler from formats/csv.fmt
 * and formats/http_response.fmt) and ours_macro (http_aa_module, made by
 * generate_aa_api.h from src/aa/http_gen_def.h); they produce the same
 * records (tests/c/test_fmt_*.c, test_aa_gen.c), so their ns per record
 * say what the generators cost. CSV also runs as ours_batch: the same
 * module with AA_CSV_P_BATCH (the whole lines of a packet in one record;
 * the application reads the first field of each line).
 * Peers: the same bytes fed in the same 1460-byte chunks, read where ours
 * reads them, in the packets' mbufs (for reference, also as chunks of one
 * contiguous buffer, <peer>_contiguous, and as one whole buffer), with
 * callbacks that count records and add up one length. libcsv copies every field into its buffer (that is
 * how it works); http-parser and llhttp hand out pointers, like ours.
 *
 * Each measurement is the best of --reps runs of the thread's CPU time
 * (bench_peers.h), the variants interleaved, each run after the same
 * cache sweep (level_caches) and with the next chunk's first line
 * prefetched as the stack's receive loop does (bench_prefetch_next); reported per workload: bytes
 * per ns, ns per record, bytes per TSC cycle (the TSC rate is measured at
 * start), and our speed-up over each peer fed the same chunks.
 *
 * Workloads (sizes from the thesis' experiments):
 *   csv       lines of 5 fields of 8 bytes; with --csv-field F, lines of
 *             4 fields of exactly F bytes (figure 4.5's sweep, as its
 *             answer_server sends them)
 *   http_res  responses of 7 headers and a body of S bytes (figure 4.9),
 *             S = 100 and 1000
 *   http_req  browser-like GET requests of 12 headers, no body
 *
 *   bench_aa_parse [--mb N] [--reps N] [--only csv|http_res|http_req|W]
 *                  [--csv-field F]
 *                  [--ours-only 1] [--generated 0] [--profile 1]
 *                  [--evict MB]
 *   (default 16 MiB, best of 7, all workloads; W: one workload by its
 *   name in the JSON, e.g. http_res_7h_body100; --ours-only 1 skips the
 *   peers (our hand-written and generated modules still run), for
 *   profiling our path with perf; --generated 0 skips the generated
 *   modules, so that a profile holds the hand-written one alone;
 *   --profile 1 splits the hand-written module's cycles per record into
 *   phases, see profiled_packet; --evict: the cache sweep's size, 64 MB,
 *   0 for none)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>
#include <http_parser.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "aa/aa_stream.h"
#include "bench_peers.h"
#include "fmt_csv.h"
#include "fmt_http_response.h"
#include "zc/zc_stream.h"

/* The macro generator's HTTP answer module (src/aa/http_gen.c). */
#include "aa/http_gen_def.h"
#define AA_GEN_DECLARE_ONLY
#include "generate_aa_api.h"

#define MSS 1460

/* TSC ticks per ns, measured against CLOCK_MONOTONIC over 100 ms. */
static double tsc_per_ns(void)
{
	struct timespec a, b;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = rte_rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) <
	       100000000L);
	t1 = rte_rdtsc();
	return (double)(t1 - t0) /
	       (double)((b.tv_sec - a.tv_sec) * 1000000000L +
			(b.tv_nsec - a.tv_nsec));
}

/* ---- workloads ------------------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->cap + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static struct buf make_csv(size_t target, uint64_t *records)
{
	struct buf b = { 0 };
	char line[128];

	*records = 0;
	while (b.len < target) {
		uint64_t i = *records;

		snprintf(line, sizeof(line), "%08llu,%08llx,abcdefgh,%08llu,zyxwvuts\n",
			 (unsigned long long)i, (unsigned long long)(i * 2654435761u),
			 (unsigned long long)(i % 100000000));
		puts_(&b, line);
		(*records)++;
	}
	return b;
}

/* Figure 4.5's lines: 4 fields of exactly `field` bytes. */
static struct buf make_csv_sized(size_t target, size_t field, uint64_t *records)
{
	struct buf b = { 0 };
	char line[4 * 256 + 4];
	size_t n = 0;

	for (int f = 0; f < 4; f++) {
		for (size_t i = 0; i < field; i++)
			line[n++] = (char)('a' + (f * 7 + i) % 26);
		line[n++] = f < 3 ? ',' : '\n';
	}
	*records = 0;
	while (b.len < target) {
		put(&b, line, n);
		(*records)++;
	}
	return b;
}

static struct buf make_http_res(size_t target, size_t body, uint64_t *records)
{
	struct buf b = { 0 };
	char head[512];
	char *data = malloc(body);

	memset(data, 'x', body);
	*records = 0;
	while (b.len < target) {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
			 "Date: Tue, 02 Jan 2024 10:15:42 GMT\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Length: %zu\r\n"
			 "Last-Modified: Mon, 01 Jan 2024 08:00:00 GMT\r\n"
			 "Connection: keep-alive\r\nETag: \"6592714a-%zx\"\r\n\r\n",
			 body, body);
		puts_(&b, head);
		put(&b, data, body);
		(*records)++;
	}
	free(data);
	return b;
}

static struct buf make_http_req(size_t target, uint64_t *records)
{
	struct buf b = { 0 };
	char req[1024];

	*records = 0;
	while (b.len < target) {
		snprintf(req, sizeof(req),
			 "GET /search?q=zero+copy&page=%llu HTTP/1.1\r\nHost: www.example.org\r\n"
			 "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0\r\n"
			 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
			 "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
			 "Referer: https://www.example.org/\r\nConnection: keep-alive\r\n"
			 "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
			 "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
			 "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\n\r\n",
			 (unsigned long long)*records);
		puts_(&b, req);
		(*records)++;
	}
	return b;
}

/* ---- ours: packets through the zc stream and the aa runtime ------------- */

struct packets {
	struct rte_mbuf **m;
	size_t n;
};

static struct packets make_packets(struct rte_mempool *mp, const struct buf *b)
{
	struct packets p = { .n = (b->len + MSS - 1) / MSS };

	p.m = calloc(p.n, sizeof(*p.m));
	for (size_t i = 0; i < p.n; i++) {
		size_t off = i * MSS, len = b->len - off < MSS ? b->len - off : MSS;
		char *d;

		p.m[i] = rte_pktmbuf_alloc(mp);
		if (!p.m[i] || !(d = rte_pktmbuf_append(p.m[i], (uint16_t)(54 + len)))) {
			fprintf(stderr, "out of mbufs\n");
			exit(1);
		}
		memcpy(d + 54, b->p + off, len);
	}
	return p;
}

static void free_packets(struct packets *p)
{
	for (size_t i = 0; i < p->n; i++)
		rte_pktmbuf_free(p->m[i]);
	free(p->m);
}

/*
 * What a peer is fed. The peers' headline figures parse each packet's
 * payload where it lies, in its mbuf: the bytes ours parses, at the same
 * addresses, so that both sides find them equally far from the core (a
 * program on the standard path would in addition copy them out first).
 * For reference, the same bytes in one contiguous buffer, in the same
 * 1460-byte chunks (the peers' figures before), and as one whole chunk.
 */
static struct peer_chunks mbuf_chunks(const struct packets *pk)
{
	struct peer_chunks ch = { .n = pk->n };

	ch.p = calloc(pk->n, sizeof(*ch.p));
	ch.len = calloc(pk->n, sizeof(*ch.len));
	for (size_t i = 0; i < pk->n; i++) {
		ch.p[i] = rte_pktmbuf_mtod_offset(pk->m[i], const char *, 54);
		ch.len[i] = pk->m[i]->data_len - 54u;
	}
	return ch;
}

static struct peer_chunks buf_chunks(const struct buf *b, size_t chunk)
{
	struct peer_chunks ch = { .n = (b->len + chunk - 1) / chunk };

	ch.p = calloc(ch.n, sizeof(*ch.p));
	ch.len = calloc(ch.n, sizeof(*ch.len));
	for (size_t i = 0; i < ch.n; i++) {
		size_t off = i * chunk;

		ch.p[i] = b->p + off;
		ch.len[i] = b->len - off < chunk ? b->len - off : chunk;
	}
	return ch;
}

static void free_chunks(struct peer_chunks *ch)
{
	free(ch->p);
	free(ch->len);
}

/* counts what the application sees: records of `count_type` (or all) */
struct app {
	uint64_t records, sum;
	bool count_all;
	bool profile; /* the --profile split (the hand-written modules) */
	unsigned count_type;
	const struct stream_field *(*field)(const struct aa_record *r);
};

static const struct stream_field *csv_field(const struct aa_record *r)
{
	return ((const struct aa_csv_record *)r)->fields[0];
}

static const struct stream_field *csv_gen_field(const struct aa_record *r)
{
	return ((const struct csv_record *)r)->fields.line.col[0];
}

/* a header value of a head record, the data of a body record */
static const struct stream_field *http_field(const struct aa_record *r)
{
	const struct aa_http_record *h = (const void *)r;

	return h->n_headers ? h->headers[0].value : h->data;
}

/* the first header line of an answer record, the data of a body record */
static const struct stream_field *http_gen_field(const struct aa_record *r)
{
	const struct http_response_record *h = (const void *)r;

	return r->type == HTTP_RESPONSE_ANSWER ? h->fields.answer.header[0]
					       : h->fields.body.data;
}

static const struct stream_field *http_macro_field(const struct aa_record *r)
{
	const struct http_record *h = (const void *)r;

	return r->type == HTTP_ANSWER ? h->fields.answer.header0
				      : h->fields.body.data;
}

/* An AA_CSV_LINES record (AA_CSV_P_BATCH): each of its lines is a record
 * to the application, which reads its first field, as it does for the
 * one-line records. */
static void app_lines(const struct aa_csv_record *r, struct app *a)
{
	for (uint32_t j = 0; j < r->n_lines; j++) {
		size_t len;

		aa_csv_lines_field(r, j, 0, &len);
		a->sum += len;
	}
	a->records += r->n_lines;
}

static void app_read(struct aa_stream *as, struct app *a)
{
	void *recs[256];
	int n;

	while ((n = aa_stream_read(as, recs, 256)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct aa_record *r = recs[i];
			const struct stream_field *f;

			if (r->type == AA_CSV_LINES && a->field == csv_field) {
				app_lines((const void *)r, a);
				continue;
			}
			f = a->field(r);

			if (a->count_all || r->type == a->count_type)
				a->records++;
			a->sum += f ? (size_t)(f->data.end - f->data.start) : 0;
		}
		aa_stream_free(as, n);
	}
}

/*
 * --profile 1: the same steps, with the TSC read between them, so that the
 * cycles of each phase add up over a run (g_phase): the packet's input
 * and parse (zc node, module, fields, record ends, publication), the
 * application's read and free of the ready records, and the network
 * thread's reclaim (records, fields, nodes and mbufs back to their pools).
 * The reads cost some 20-40 cycles each: use it for the split, not the
 * total.
 */
enum { PH_PARSE, PH_APP, PH_RECLAIM, PH_N };
static bool g_profile;
static uint64_t g_phase[PH_N];

static void profiled_packet(struct zc_stream *zs, struct aa_stream *as,
			    struct rte_mbuf *m, const char *pl, uint32_t *nxt,
			    struct app *a)
{
	uint64_t t0 = rte_rdtsc(), t1, t2, t3, t4;

	zc_stream_input(zs, m, pl, *nxt, m->data_len - 54, nxt);
	t1 = rte_rdtsc();
	aa_stream_reclaim(as);
	t2 = rte_rdtsc();
	app_read(as, a);
	t3 = rte_rdtsc();
	aa_stream_reclaim(as);
	t4 = rte_rdtsc();
	g_phase[PH_PARSE] += t1 - t0;
	g_phase[PH_RECLAIM] += (t2 - t1) + (t4 - t3);
	g_phase[PH_APP] += t3 - t2;
}

static double run_ours(const struct aa_module *mod, const void *params,
		       const struct packets *pk, struct zc_pool *zp,
		       struct app *a)
{
	struct aa_stream_config cfg = { .records = 512 };
	struct zc_stream zs;
	struct aa_stream *as;
	uint32_t nxt = 12345;
	struct bench_clock t0;
	double ns;

	a->records = a->sum = 0;
	if (zc_stream_init(&zs, zp) < 0 ||
	    !(as = aa_stream_create(mod, params, &zs, &cfg))) {
		fprintf(stderr, "cannot create the streams: %s\n", strerror(errno));
		exit(1);
	}
	bench_clock_start(&t0);
	for (size_t i = 0; i < pk->n; i++) {
		struct rte_mbuf *m = pk->m[i];
		const char *pl = rte_pktmbuf_mtod_offset(m, const char *, 54);

		if (i + 1 < pk->n) /* as rx_all() does: bench_prefetch_next() */
			rte_prefetch0(rte_pktmbuf_mtod(pk->m[i + 1], void *));
		if (a->profile) {
			profiled_packet(&zs, as, m, pl, &nxt, a);
			continue;
		}
		zc_stream_input(&zs, m, pl, nxt, m->data_len - 54, &nxt);
		aa_stream_reclaim(as);
		app_read(as, a);
		aa_stream_reclaim(as);
	}
	aa_stream_fin(as);
	app_read(as, a);
	aa_stream_reclaim(as);
	ns = bench_clock_ns(&t0);
	aa_stream_destroy(as);
	zc_stream_destroy(&zs);
	return ns;
}

/* ---- baselines ----------------------------------------------------------------- */

struct base {
	uint64_t records, sum;
	bool first;
};

static void csv_cb1(void *s, size_t len, void *data)
{
	struct base *b = data;

	(void)s;
	if (b->first)
		b->sum += len;
	b->first = false;
}

static void csv_cb2(int c, void *data)
{
	struct base *b = data;

	(void)c;
	b->records++;
	b->first = true;
}

static double run_libcsv(const struct peer_chunks *ch, struct base *b)
{
	struct csv_parser p;
	struct bench_clock t0;
	double ns;

	memset(b, 0, sizeof(*b));
	b->first = true;
	csv_init(&p, 0);
	bench_clock_start(&t0);
	for (size_t i = 0; i < ch->n; i++) {
		bench_prefetch_next(ch, i);
		csv_parse(&p, ch->p[i], ch->len[i], csv_cb1, csv_cb2, b);
	}
	csv_fini(&p, csv_cb1, csv_cb2, b);
	ns = bench_clock_ns(&t0);
	csv_free(&p);
	return ns;
}

static int hp_complete(http_parser *p)
{
	((struct base *)p->data)->records++;
	return 0;
}

static int hp_value(http_parser *p, const char *at, size_t n)
{
	(void)at;
	((struct base *)p->data)->sum += n;
	return 0;
}

static int hp_body(http_parser *p, const char *at, size_t n)
{
	(void)at;
	((struct base *)p->data)->sum += n;
	return 0;
}

static const http_parser_settings hp_settings = {
	.on_header_value = hp_value,
	.on_body = hp_body,
	.on_message_complete = hp_complete,
};

static double run_http_parser(const struct peer_chunks *ch, bool response,
			      struct base *b)
{
	http_parser p;
	struct bench_clock t0;

	memset(b, 0, sizeof(*b));
	http_parser_init(&p, response ? HTTP_RESPONSE : HTTP_REQUEST);
	p.data = b;
	bench_clock_start(&t0);
	for (size_t i = 0; i < ch->n; i++) {
		bench_prefetch_next(ch, i);
		if (http_parser_execute(&p, &hp_settings, ch->p[i], ch->len[i]) !=
		    ch->len[i]) {
			fprintf(stderr, "http-parser: %s\n",
				http_errno_name(HTTP_PARSER_ERRNO(&p)));
			exit(1);
		}
	}
	return bench_clock_ns(&t0);
}

/* ---- driver ----------------------------------------------------------------- */

struct result {
	double ns;
	uint64_t records;
};

static double g_tsc_per_ns;
static bool g_ours_only;
static bool g_no_generated; /* --generated 0 */
static int g_reps;

struct side {
	const char *name;
	struct result r;
};

/* Ours (hand-written, generated, macro) and up to 6 peers: the packets'
 * payloads, contiguous chunks, whole buffer... */
#define MAX_SIDES 9

struct workload {
	const char *name;
	size_t bytes;
	uint64_t expect;
	struct side side[MAX_SIDES]; /* side[0]: ours (the hand-written module) */
	int nsides;
	int nours; /* side[0 .. nours): our pipeline (also run with --ours-only) */
};

/* A side of the workload: our pipeline's come first. */
static int add_side(struct workload *w, const char *name, bool ours)
{
	if (ours && w->nours != w->nsides)
		abort();
	w->side[w->nsides].name = name;
	w->nours += ours;
	return w->nsides++;
}

static bool ran(const struct workload *w, int i)
{
	return w->side[i].r.ns > 0;
}

static void json_side(const struct side *s, size_t bytes)
{
	const struct result *r = &s->r;

	printf("    \"%s\": {\"ns\": %.0f, \"records\": %llu, \"records_per_s\": %.0f, "
	       "\"bytes_per_ns\": %.4f, \"ns_per_record\": %.1f, \"bytes_per_cycle\": %.4f},\n",
	       s->name, r->ns, (unsigned long long)r->records,
	       (double)r->records / (r->ns * 1e-9), (double)bytes / r->ns,
	       r->records ? r->ns / (double)r->records : 0.0,
	       (double)bytes / (r->ns * g_tsc_per_ns));
}

/* The phase split of ours, per record the application counted, over
 * every repetition (--profile 1). */
static void report_profile(const struct workload *w, int reps)
{
	double per = (double)w->side[0].r.records * reps;
	static const char *const names[PH_N] = { "input_parse", "app_read_free",
						  "reclaim" };

	printf("    \"profile_cycles_per_record\": {");
	for (int i = 0; i < PH_N; i++)
		printf("\"%s\": %.1f%s", names[i], (double)g_phase[i] / per,
		       i + 1 < PH_N ? ", " : "},\n");
	fprintf(stderr, "%-20s cycles per record: input+parse %.0f, app read+free %.0f, reclaim %.0f\n",
		w->name, (double)g_phase[PH_PARSE] / per,
		(double)g_phase[PH_APP] / per, (double)g_phase[PH_RECLAIM] / per);
	memset(g_phase, 0, sizeof(g_phase));
}

/*
 * JSON: each side that ran, then ours' speed-up over each other side
 * ("speedup_vs_ours_generated": hand-written over generated, > 1: the
 * hand-written module is faster). Summary on stderr: ns per record of each
 * of ours, the speed-ups.
 */
static void report(const struct workload *w)
{
	const struct result *ours = &w->side[0].r;
	int last = 0;

	printf("  \"%s\": {\n    \"bytes\": %zu,\n", w->name, w->bytes);
	if (g_profile)
		report_profile(w, g_reps);
	for (int i = 0; i < w->nsides; i++)
		if (ran(w, i)) {
			json_side(&w->side[i], w->bytes);
			last = i;
		}
	for (int i = 1; i <= last; i++)
		if (ran(w, i))
			printf("    \"speedup_vs_%s\": %.3f,\n", w->side[i].name,
			       w->side[i].r.ns / ours->ns);
	printf("    \"ours_sides\": %d\n  },\n", w->nours);
	fprintf(stderr, "%-20s", w->name);
	for (int i = 0; i < w->nours; i++)
		if (ran(w, i))
			fprintf(stderr, " %s %6.1f ns/rec", w->side[i].name,
				w->side[i].r.ns / (double)w->side[i].r.records);
	fprintf(stderr, " | ours %5.3f B/cycle |",
		(double)w->bytes / (ours->ns * g_tsc_per_ns));
	for (int i = 1; i < w->nsides; i++)
		if (ran(w, i))
			fprintf(stderr, " %s x%.2f", w->side[i].name,
				w->side[i].r.ns / ours->ns);
	fprintf(stderr, "\n");
	for (int i = 0; i < w->nsides; i++)
		if (ran(w, i) && w->side[i].r.records != w->expect)
			fprintf(stderr, "%s: %s counted %llu records, expected %llu\n",
				w->name, w->side[i].name,
				(unsigned long long)w->side[i].r.records,
				(unsigned long long)w->expect);
}

/*
 * Every side starts from the same cache state: before each timed run,
 * outside its time, a scratch buffer larger than the caches is read.
 * Without it the order decides: the peers run one after another over the
 * same bytes and find them warm from the peer before, ours runs after
 * them and finds its mbufs evicted. --evict 0: no sweep.
 */
static size_t g_evict_bytes = 64u << 20;
static uint8_t *g_evict;
static volatile uint64_t g_evict_sink;

static void level_caches(void)
{
	uint64_t x = 0;

	if (!g_evict_bytes)
		return;
	if (!g_evict) {
		g_evict = malloc(g_evict_bytes);
		if (!g_evict)
			exit(1);
		memset(g_evict, 1, g_evict_bytes);
	}
	for (size_t i = 0; i < g_evict_bytes; i += 64)
		x += g_evict[i];
	g_evict_sink = x;
}

static void best(struct result *r, double ns, uint64_t records)
{
	if (r->ns == 0 || ns < r->ns)
		r->ns = ns;
	r->records = records;
}

/* One of our modules on the packets: its side's best. */
static void run_ours_side(struct workload *w, int side, const struct aa_module *mod,
			  const void *params, const struct packets *pk,
			  struct zc_pool *zp, struct app *a)
{
	double t;

	level_caches();
	t = run_ours(mod, params, pk, zp, a);

	best(&w->side[side].r, t, a->records);
}

static void run_csv(struct rte_mempool *mp, struct zc_pool *zp, size_t bytes,
		    int reps, size_t field)
{
	char name[32];
	struct workload w = { .name = name };
	int s_ours = add_side(&w, "ours", true),
	    s_gen = add_side(&w, "ours_generated", true),
	    s_batch = add_side(&w, "ours_batch", true),
	    s_csv = add_side(&w, "libcsv", false),
	    s_contig = add_side(&w, "libcsv_contiguous", false),
	    s_whole = add_side(&w, "libcsv_whole_buffer", false);
	unsigned cols = field ? 4 : 5;
	struct buf b = field ? make_csv_sized(bytes, field, &w.expect)
			     : make_csv(bytes, &w.expect);
	struct packets pk = make_packets(mp, &b);
	struct peer_chunks ch_pkt = mbuf_chunks(&pk), ch_contig = buf_chunks(&b, MSS),
			   ch_whole = buf_chunks(&b, b.len);
	struct aa_csv_params pp = { .n_fields = cols };
	struct aa_csv_params bp = { .n_fields = cols, .flags = AA_CSV_P_BATCH };
	struct csv_params gp = { .columns = cols };
	struct app a = { .count_all = true, .profile = g_profile, .field = csv_field };
	struct app ga = { .count_all = true, .field = csv_gen_field };
	struct base bb;

	snprintf(name, sizeof(name), "csv_%ux%zu", cols, field ? field : 8);
	w.bytes = b.len;
	for (int r = 0; r < reps; r++) {
		double t;

		run_ours_side(&w, s_ours, &aa_csv_module, &pp, &pk, zp, &a);
		if (!g_no_generated)
			run_ours_side(&w, s_gen, &csv_aa_module, &gp, &pk, zp, &ga);
		run_ours_side(&w, s_batch, &aa_csv_module, &bp, &pk, zp, &a);
		if (g_ours_only)
			continue;
		level_caches();
		t = run_libcsv(&ch_pkt, &bb);
		best(&w.side[s_csv].r, t, bb.records);
		level_caches();
		t = run_libcsv(&ch_contig, &bb);
		best(&w.side[s_contig].r, t, bb.records);
		level_caches();
		t = run_libcsv(&ch_whole, &bb);
		best(&w.side[s_whole].r, t, bb.records);
	}
	report(&w);
	free_chunks(&ch_pkt);
	free_chunks(&ch_contig);
	free_chunks(&ch_whole);
	free_packets(&pk);
	free(b.p);
}

/* HTTP: ours (responses: also the generated and the macro modules),
 * http-parser and llhttp on the packets' payloads, then both peers on
 * contiguous chunks and on the whole buffer. */
static void run_http(struct rte_mempool *mp, struct zc_pool *zp,
		     const char *name, struct buf b, uint64_t n, bool response,
		     int reps)
{
	struct workload w = { .name = name, .bytes = b.len, .expect = n };
	bool ll = peer_llhttp_available();
	int s_ours = add_side(&w, "ours", true),
	    s_gen = response ? add_side(&w, "ours_generated", true) : -1,
	    s_macro = response ? add_side(&w, "ours_macro", true) : -1,
	    s_hp = add_side(&w, "http_parser", false),
	    s_ll = ll ? add_side(&w, "llhttp", false) : -1,
	    s_hp_contig = add_side(&w, "http_parser_contiguous", false),
	    s_ll_contig = ll ? add_side(&w, "llhttp_contiguous", false) : -1,
	    s_hp_whole = add_side(&w, "http_parser_whole_buffer", false),
	    s_ll_whole = ll ? add_side(&w, "llhttp_whole_buffer", false) : -1;
	struct packets pk = make_packets(mp, &b);
	struct peer_chunks ch[3] = { mbuf_chunks(&pk), buf_chunks(&b, MSS),
				     buf_chunks(&b, b.len) };
	int s_hp_of[3] = { s_hp, s_hp_contig, s_hp_whole },
	    s_ll_of[3] = { s_ll, s_ll_contig, s_ll_whole };
	struct app a = { .count_type = response ? AA_HTTP_RESPONSE : AA_HTTP_REQUEST,
			 .profile = g_profile, .field = http_field };
	struct app ga = { .count_type = HTTP_RESPONSE_ANSWER, .field = http_gen_field };
	struct app ma = { .count_type = HTTP_ANSWER, .field = http_macro_field };
	const struct aa_module *mod = response ? &aa_http_response_module
					       : &aa_http_request_module;
	struct base bb;

	for (int r = 0; r < reps; r++) {
		struct peer_count pc = { 0 };
		double t;

		run_ours_side(&w, s_ours, mod, NULL, &pk, zp, &a);
		if (response && !g_no_generated) {
			run_ours_side(&w, s_gen, &http_response_aa_module, NULL, &pk, zp, &ga);
			run_ours_side(&w, s_macro, &http_aa_module, NULL, &pk, zp, &ma);
		}
		if (g_ours_only)
			continue;
		for (int k = 0; k < 3; k++) {
			level_caches();
			t = run_http_parser(&ch[k], response, &bb);
			best(&w.side[s_hp_of[k]].r, t, bb.records);
			if (!ll)
				continue;
			pc = (struct peer_count){ 0 };
			level_caches();
			if (peer_llhttp(&ch[k], response, &pc, &t) < 0) {
				fprintf(stderr, "llhttp: parse error\n");
				exit(1);
			}
			best(&w.side[s_ll_of[k]].r, t, pc.records);
		}
	}
	report(&w);
	for (int k = 0; k < 3; k++)
		free_chunks(&ch[k]);
	free_packets(&pk);
	free(b.p);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
			"-l", "0", "--log-level=error" };
	size_t mb = 16;
	int reps = 7;
	const char *only = "";
	size_t csv_field = 0;
	struct rte_mempool *mp;
	struct zc_pool *zp;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mb"))
			mb = (size_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--only"))
			only = argv[i + 1];
		else if (!strcmp(argv[i], "--ours-only"))
			g_ours_only = atoi(argv[i + 1]) != 0;
		else if (!strcmp(argv[i], "--csv-field"))
			csv_field = (size_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--generated"))
			g_no_generated = atoi(argv[i + 1]) == 0;
		else if (!strcmp(argv[i], "--evict"))
			g_evict_bytes = (size_t)atoi(argv[i + 1]) << 20;
		else if (!strcmp(argv[i], "--profile"))
			g_profile = atoi(argv[i + 1]) != 0;
	}
	if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create("bench", (unsigned)(mb << 20) / MSS + 1024, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	zp = zc_pool_create((uint32_t)((mb << 20) / MSS + 1024));
	if (!mp || !zp) {
		fprintf(stderr, "cannot create the pools\n");
		return 1;
	}
	g_tsc_per_ns = tsc_per_ns();
	g_reps = reps;
	printf("{\n  \"mss\": %d, \"reps\": %d, \"tsc_ghz\": %.3f, \"llhttp\": %s, "
	       "\"note\": \"best of reps, thread CPU time; peers fed the packets' payloads in their mbufs (%d-byte chunks), the same chunks of one contiguous buffer, and the whole buffer\",\n",
	       MSS, reps, g_tsc_per_ns, peer_llhttp_available() ? "true" : "false", MSS);
	if (!*only || !strcmp(only, "csv"))
		run_csv(mp, zp, mb << 20, reps, csv_field > 256 ? 256 : csv_field);
	for (int k = 0; k < 2; k++) {
		const char *wname = k ? "http_res_7h_body1000" : "http_res_7h_body100";
		size_t body = k ? 1000 : 100;
		uint64_t n;
		struct buf b;

		/* --only http_res: both; --only http_res_7h_body100: that one */
		if (*only && strcmp(only, "http_res") && strcmp(only, wname))
			continue;
		b = make_http_res(mb << 20, body, &n);
		run_http(mp, zp, wname, b, n, true, reps);
	}
	if (!*only || !strcmp(only, "http_req")) {
		uint64_t n;
		struct buf b = make_http_req(mb << 20, &n);

		run_http(mp, zp, "http_req_12h", b, n, false, reps);
	}
	printf("  \"done\": true\n}\n");
	zc_pool_destroy(zp);
	rte_eal_cleanup();
	return 0;
}
