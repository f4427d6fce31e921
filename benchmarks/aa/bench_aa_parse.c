/*
 * bench_aa_parse.c - parser micro-benchmark of the application-aware layer
 * (thesis ch. 4): our CSV and HTTP modules against Debian's libcsv and
 * http-parser on the same bytes, in one run, printed as ratios (JSON on
 * stdout, a summary on stderr).
 *
 * Ours: the buffer is cut into MSS-sized packets (1460 bytes), each in its
 * own DPDK mbuf (built once, before timing), and goes through what the
 * stack does per packet: zc_stream_input() (the deliver hook parses it),
 * aa_stream_reclaim(), then the application reads every ready record
 * (aa_stream_read), counts it and reads one field length, and frees it
 * (aa_stream_free). So the time includes the zero-copy node, the views,
 * the record pools and the reference counts, not only the parse.
 * Baselines: the same bytes fed in the same 1460-byte chunks (and, for
 * reference, as one whole buffer), with callbacks that count records and
 * add up one length. libcsv copies every field into its buffer (that is
 * how it works); http-parser hands out pointers, like ours.
 *
 * Workloads (sizes from the thesis' experiments):
 *   csv       lines of 5 fields of 8 bytes (figure 4.5's field size sweep)
 *   http_res  responses of 7 headers and a body of S bytes (figure 4.9),
 *             S = 100 and 1000
 *   http_req  browser-like GET requests of 12 headers, no body
 *
 *   bench_aa_parse [--mb N] [--reps N] [--only csv|http_res|http_req]
 *   (default 16 MiB, best of 5, all workloads)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <csv.h>
#include <http_parser.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "aa/aa_stream.h"
#include "zc/zc_stream.h"

#define MSS 1460

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
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

/* counts what the application sees: records of `count_type` (0: all) */
struct app {
	uint64_t records, sum;
	unsigned count_type;
	const struct stream_field *(*field)(const struct aa_record *r);
};

static const struct stream_field *csv_field(const struct aa_record *r)
{
	return ((const struct aa_csv_record *)r)->fields[0];
}

/* a header value of a head record, the data of a body record */
static const struct stream_field *http_field(const struct aa_record *r)
{
	const struct aa_http_record *h = (const void *)r;

	return h->n_headers ? h->headers[0].value : h->data;
}

static void app_read(struct aa_stream *as, struct app *a)
{
	void *recs[256];
	int n;

	while ((n = aa_stream_read(as, recs, 256)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct aa_record *r = recs[i];
			const struct stream_field *f = a->field(r);

			if (!a->count_type || r->type == a->count_type)
				a->records++;
			a->sum += f ? (size_t)(f->data.end - f->data.start) : 0;
		}
		aa_stream_free(as, n);
	}
}

static double run_ours(const struct aa_module *mod, const void *params,
		       const struct packets *pk, struct zc_pool *zp,
		       struct app *a)
{
	struct aa_stream_config cfg = { .records = 512 };
	struct zc_stream zs;
	struct aa_stream *as;
	uint32_t nxt = 12345;
	double t0, t1;

	a->records = a->sum = 0;
	if (zc_stream_init(&zs, zp) < 0 ||
	    !(as = aa_stream_create(mod, params, &zs, &cfg))) {
		fprintf(stderr, "cannot create the streams: %s\n", strerror(errno));
		exit(1);
	}
	t0 = now_ns();
	for (size_t i = 0; i < pk->n; i++) {
		struct rte_mbuf *m = pk->m[i];
		const char *pl = rte_pktmbuf_mtod_offset(m, const char *, 54);

		zc_stream_input(&zs, m, pl, nxt, m->data_len - 54, &nxt);
		aa_stream_reclaim(as);
		app_read(as, a);
		aa_stream_reclaim(as);
	}
	aa_stream_fin(as);
	app_read(as, a);
	aa_stream_reclaim(as);
	t1 = now_ns();
	aa_stream_destroy(as);
	zc_stream_destroy(&zs);
	return t1 - t0;
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

static double run_libcsv(const struct buf *buf, size_t chunk, struct base *b)
{
	struct csv_parser p;
	double t0, t1;

	memset(b, 0, sizeof(*b));
	b->first = true;
	csv_init(&p, 0);
	t0 = now_ns();
	for (size_t off = 0; off < buf->len; off += chunk) {
		size_t n = buf->len - off < chunk ? buf->len - off : chunk;

		csv_parse(&p, buf->p + off, n, csv_cb1, csv_cb2, b);
	}
	csv_fini(&p, csv_cb1, csv_cb2, b);
	t1 = now_ns();
	csv_free(&p);
	return t1 - t0;
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

static double run_http_parser(const struct buf *buf, size_t chunk, bool response,
			      struct base *b)
{
	http_parser p;
	double t0, t1;

	memset(b, 0, sizeof(*b));
	http_parser_init(&p, response ? HTTP_RESPONSE : HTTP_REQUEST);
	p.data = b;
	t0 = now_ns();
	for (size_t off = 0; off < buf->len; off += chunk) {
		size_t n = buf->len - off < chunk ? buf->len - off : chunk;

		if (http_parser_execute(&p, &hp_settings, buf->p + off, n) != n) {
			fprintf(stderr, "http-parser: %s\n",
				http_errno_name(HTTP_PARSER_ERRNO(&p)));
			exit(1);
		}
	}
	t1 = now_ns();
	return t1 - t0;
}

/* ---- driver ----------------------------------------------------------------- */

struct result {
	double ns;
	uint64_t records;
};

static void json_side(const char *name, const struct result *r, size_t bytes,
		      bool comma)
{
	printf("    \"%s\": {\"ns\": %.0f, \"records\": %llu, \"records_per_s\": %.0f, "
	       "\"bytes_per_ns\": %.4f}%s\n",
	       name, r->ns, (unsigned long long)r->records,
	       (double)r->records / (r->ns * 1e-9), (double)bytes / r->ns,
	       comma ? "," : "");
}

static void report(const char *name, const char *base_name, size_t bytes,
		   const struct result *ours, const struct result *chunks,
		   const struct result *whole, bool last)
{
	printf("  \"%s\": {\n    \"bytes\": %zu,\n", name, bytes);
	json_side("ours_mss_packets", ours, bytes, true);
	json_side(base_name, chunks, bytes, true);
	{
		char wn[64];

		snprintf(wn, sizeof(wn), "%s_whole_buffer", base_name);
		json_side(wn, whole, bytes, true);
	}
	printf("    \"speedup_vs_baseline_same_chunks\": %.3f,\n", chunks->ns / ours->ns);
	printf("    \"speedup_vs_baseline_whole_buffer\": %.3f\n  }%s\n",
	       whole->ns / ours->ns, last ? "" : ",");
	fprintf(stderr, "%-14s ours %7.3f B/ns %11.0f rec/s | %s %7.3f B/ns (x%.2f) | whole %7.3f B/ns (x%.2f)\n",
		name, (double)bytes / ours->ns,
		(double)ours->records / (ours->ns * 1e-9), base_name,
		(double)bytes / chunks->ns, chunks->ns / ours->ns,
		(double)bytes / whole->ns, whole->ns / ours->ns);
}

static void best(struct result *r, double ns, uint64_t records)
{
	if (r->ns == 0 || ns < r->ns)
		r->ns = ns;
	r->records = records;
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
			"-l", "0", "--log-level=error" };
	size_t mb = 16;
	int reps = 5;
	const char *only = "";
	struct rte_mempool *mp;
	struct zc_pool *zp;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mb"))
			mb = (size_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--only"))
			only = argv[i + 1];
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
	printf("{\n  \"mss\": %d, \"reps\": %d, \"note\": \"best of reps; baselines fed the same %d-byte chunks, and the whole buffer\",\n",
	       MSS, reps, MSS);
	/* CSV */
	if (!*only || !strcmp(only, "csv")) {
		uint64_t n;
		struct buf b = make_csv(mb << 20, &n);
		struct packets pk = make_packets(mp, &b);
		struct aa_csv_params pp = { .n_fields = 5 };
		struct result ours = { 0 }, ch = { 0 }, wh = { 0 };
		struct app a = { .count_type = 0, .field = csv_field };
		struct base bb;

		for (int r = 0; r < reps; r++) {
			double t = run_ours(&aa_csv_module, &pp, &pk, zp, &a);

			best(&ours, t, a.records);
			t = run_libcsv(&b, MSS, &bb);
			best(&ch, t, bb.records);
			t = run_libcsv(&b, b.len, &bb);
			best(&wh, t, bb.records);
		}
		if (ours.records != n || ch.records != n)
			fprintf(stderr, "csv: record counts differ (%llu %llu %llu)\n",
				(unsigned long long)n, (unsigned long long)ours.records,
				(unsigned long long)ch.records);
		report("csv_5x8", "libcsv", b.len, &ours, &ch, &wh, false);
		free_packets(&pk);
		free(b.p);
	}
	/* HTTP responses, 7 headers + body */
	for (int k = 0; k < 2 && (!*only || !strcmp(only, "http_res")); k++) {
		size_t body = k ? 1000 : 100;
		uint64_t n;
		struct buf b = make_http_res(mb << 20, body, &n);
		struct packets pk = make_packets(mp, &b);
		struct result ours = { 0 }, ch = { 0 }, wh = { 0 };
		struct app a = { .count_type = AA_HTTP_RESPONSE, .field = http_field };
		struct base bb;
		char name[32];

		for (int r = 0; r < reps; r++) {
			double t = run_ours(&aa_http_response_module, NULL, &pk, zp, &a);

			best(&ours, t, a.records);
			t = run_http_parser(&b, MSS, true, &bb);
			best(&ch, t, bb.records);
			t = run_http_parser(&b, b.len, true, &bb);
			best(&wh, t, bb.records);
		}
		if (ours.records != n || ch.records != n)
			fprintf(stderr, "http: message counts differ\n");
		snprintf(name, sizeof(name), "http_res_7h_body%zu", body);
		report(name, "http_parser", b.len, &ours, &ch, &wh, false);
		free_packets(&pk);
		free(b.p);
	}
	/* HTTP requests */
	if (!*only || !strcmp(only, "http_req")) {
		uint64_t n;
		struct buf b = make_http_req(mb << 20, &n);
		struct packets pk = make_packets(mp, &b);
		struct result ours = { 0 }, ch = { 0 }, wh = { 0 };
		struct app a = { .count_type = AA_HTTP_REQUEST, .field = http_field };
		struct base bb;

		for (int r = 0; r < reps; r++) {
			double t = run_ours(&aa_http_request_module, NULL, &pk, zp, &a);

			best(&ours, t, a.records);
			t = run_http_parser(&b, MSS, false, &bb);
			best(&ch, t, bb.records);
			t = run_http_parser(&b, b.len, false, &bb);
			best(&wh, t, bb.records);
		}
		if (ours.records != n || ch.records != n)
			fprintf(stderr, "http requests: message counts differ\n");
		report("http_req_12h", "http_parser", b.len, &ours, &ch, &wh, false);
		free_packets(&pk);
		free(b.p);
	}
	printf("  \"done\": true\n}\n");
	zc_pool_destroy(zp);
	rte_eal_cleanup();
	return 0;
}
