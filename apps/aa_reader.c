/*
 * aa_reader - reads a record stream on the stack (thesis ch. 4): the
 * application-aware modules (CSV, HTTP responses, HTTP requests) parse in
 * the network thread and the application reads records; or, with -S, the
 * standard path: mtcp_read() and the same parse in the application thread
 * (aa_twin.c, thesis 4.2.3 / 4.3.3 "the same parsing in a standard mTCP
 * application"). Also the two placements of thesis 4.1.2 / figure 4.2: a
 * dummy parsing loop in the network thread, as an application-aware module
 * (spin), or in the application thread after mtcp_zc_read_fragments()
 * (zcspin). apps/linux/aa_lreader.c is the Linux-sockets twin.
 *
 *   aa_reader -f CONF (-c IP:PORT [-k CONNS [-N CORES]] | -l PORT [-k CONNS])
 *             [-m MODE] [options]
 *
 * MODE (-m, default csv):
 *   csv       CSV module, -F fields per line (default 4); with -g the
 *             whole lines of a packet come as one record (AA_CSV_P_BATCH)
 *   http-res  HTTP/1.1 response module (thesis 4.3.1)
 *   http-req  HTTP/1.1 request module
 *   spin      a module whose parse() spins -L iterations on every packet and
 *             makes one record (one field: the packet's bytes) per packet
 *   zcspin    zero-copy receive; the application spins -L iterations on
 *             every fragment (packet) it reads, then frees it
 * Connections: -l serves CONNS (-k) accepted connections one after the
 * other on core 0. -c with -k CONNS opens CONNS connections at once, spread
 * over -N CORES network threads as mTCP's applications do (thesis 4.2.3,
 * figure 4.6: one thread and context per core, connection j on core
 * j % CORES, each thread pinned to its core and polling its connections
 * together); the report then sums the connections' counters and adds
 * "per_conn" (core, bytes, measured_gbps, dump_sha256 of each) and
 * "per_core" (connections and measured_gbps of each core).
 * Options:
 *   -S        standard path for csv/http-*: mtcp_read() + the parse in the app
 *   -r STR    send STR after connecting (C escapes \r \n \t \\ \xHH); may be
 *             repeated, sent in order (e.g. pipelined GETs)
 *   -a        answer every complete request with an empty 200 (http-req)
 *   -q        no dump hash: counts only (throughput runs)
 *   -t SECS   stop reading after SECS (then close); -W SECS: the throughput
 *             is measured from SECS after the first byte (warm-up)
 *   -w SECS   when the records end before the peer closed (an error record),
 *             keep the connection open up to SECS for the peer's FIN; the
 *             stack keeps acknowledging and discarding meanwhile
 *             ("peer_closed" says whether the FIN came)
 *   -b BYTES  SO_RCVBUF;  -B N  records/fragments per read (default 64)
 *   -M N      HTTP: max headers per message (module parameter)
 *   -T SECS   give up after SECS (exit status 3, the report still printed)
 *
 * Prints one JSON object: mode, path ("aa", "standard", "zero-copy"),
 * conns, bytes (stream bytes: records' offsets, or bytes read), seconds,
 * gbps, measured_gbps (after -W), records_per_s, packets (spin modes),
 * peer_closed, timed_out, and the canonical dump's counts, SHA-256,
 * message summaries and error records (aa_canon.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aa_canon.h"
#include "aa_twin.h"
#include "app_common.h"
#include "mtcp_aa.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "mtcp_zc.h"
/* the module interface (installed with the public headers; in the build
 * tree it lives beside the runtime) */
#include "../src/aa/aa_module.h"

#define PROG "aa_reader"
#define MAX_BATCH 1024
#define STD_BUF (256 * 1024)
#define OUT_MAX 65536
#define MAX_CORES 64

enum mode { M_CSV, M_HTTP_RES, M_HTTP_REQ, M_SPIN, M_ZCSPIN };
static const char *const mode_names[] = {"csv", "http-res", "http-req", "spin", "zcspin"};

struct rd {
	mctx_t m;
	int ep;
	enum mode mode;
	bool std, hash, answer, lines_batch;
	unsigned fields, max_headers;
	uint64_t spin;
	int batch;
	double t_limit, warmup, linger, give_up;
	struct canon canon;
	struct twin twin;
	char *buf;
	size_t have;
	/* requests to send, answers to send */
	char *req;
	size_t req_len;
	char out[OUT_MAX];
	size_t out_len, out_off;
	uint64_t msgs_answered;
	/* progress */
	uint64_t bytes, packets, msgs_ended;
	uint64_t spin_acc;
	double t_start, t0, tw, t_end;
	uint64_t bytes_w;
	int conns;
	bool peer_closed, peer_closed_known, timed_out, time_up;
	int read_errno;
	/* -k/-N connect mode: the connection's socket and core */
	int sock, core;
	bool done;
};

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " -f CONF (-c IP:PORT [-k CONNS [-N CORES]] | -l PORT "
			"[-k CONNS]) [-m csv|http-res|"
			"http-req|spin|zcspin] [-F N] [-g] [-L N] [-S] [-r STR]... [-a] [-q] [-t S] [-W S] "
			"[-w S] [-b B] [-B N] [-M N] [-T S]\n");
	exit(2);
}

/* ---- the dummy parsing loop (thesis 4.1) --------------------------------- */

/* n iterations of a multiply-add the compiler cannot drop or fold. */
static inline uint64_t spin(uint64_t n, uint64_t x)
{
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + i;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

struct spin_params {
	uint64_t iterations;
};

struct spin_state {
	uint64_t iterations;
	uint64_t acc;
};

struct spin_record {
	struct aa_record hdr;
	uint64_t acc;               /* the loop's result (so it is used) */
	struct stream_field *data;  /* the packet's bytes */
};

static int spin_init(void *state, const void *params, struct aa_layout *l)
{
	const struct spin_params *pp = params;
	struct spin_state *s = state;

	s->iterations = pp ? pp->iterations : 0;
	l->record_size = sizeof(struct spin_record);
	l->fields_offset = offsetof(struct spin_record, data);
	l->field_slots = 1;
	l->max_record_bytes = 0;
	return 0;
}

/* One record per packet (per call: the runtime calls parse() once per
 * in-order packet, unless it paused inside one). */
static size_t spin_parse(struct aa_parse *p, void *state, const char *data, size_t len)
{
	struct spin_state *s = state;
	struct spin_record *r = aa_record(p);

	s->acc = spin(s->iterations, s->acc ^ len);
	r->acc = s->acc;
	aa_field_set(p, 0, data, data + len);
	aa_record_end(p, 1, data + len); /* false (paused) is fine: all consumed */
	return len;
}

static void spin_finish(struct aa_parse *p, void *state)
{
	(void)p;
	(void)state;
}

static const struct aa_module spin_module = {
	.abi = AA_MODULE_ABI,
	.name = "spin",
	.state_size = sizeof(struct spin_state),
	.params_size = sizeof(struct spin_params),
	.init = spin_init,
	.parse = spin_parse,
	.finish = spin_finish,
};

/* ---- records -> canonical dump ----------------------------------------- */

static void dump_field(struct canon *c, const struct stream_field *f)
{
	canon_field_start(c, aa_field_len(f));
	if (!c->hash)
		return;
	aa_field_foreach_view(v, f)
		if (v->data.end > v->data.start)
			canon_field_bytes(c, v->data.start, (size_t)(v->data.end - v->data.start));
}

static void dump_headers(struct canon *c, const struct aa_http_record *h)
{
	for (uint32_t i = 0; i < h->n_headers; i++) {
		dump_field(c, h->headers[i].name);
		dump_field(c, h->headers[i].value);
	}
}

static void account(struct rd *r, uint64_t end)
{
	if (end > r->bytes)
		r->bytes = end;
}

static void http_record(struct rd *r, const struct aa_http_record *h)
{
	struct canon *c = &r->canon;

	switch (h->hdr.type) {
	case AA_HTTP_REQUEST:
	case AA_HTTP_RESPONSE:
		canon_begin(c, h->hdr.type == AA_HTTP_REQUEST ? 'Q' : 'R');
		for (int i = 0; i < 3; i++)
			dump_field(c, h->line[i]);
		dump_headers(c, h);
		canon_end(c);
		account(r, h->hdr.offset);
		if (h->flags & AA_HTTP_F_END)
			r->msgs_ended++;
		break;
	case AA_HTTP_BODY: {
		size_t len = aa_field_len(h->data);
		if (c->hash) {
			aa_field_foreach_view(v, h->data)
				canon_body(c, v->data.start, (size_t)(v->data.end - v->data.start));
		} else {
			canon_body(c, NULL, len);
		}
		account(r, h->hdr.offset + len);
		if (h->flags & AA_HTTP_F_END) {
			canon_body_end(c);
			r->msgs_ended++;
		}
		break;
	}
	case AA_HTTP_END:
		canon_body_end(c);
		if (h->flags & AA_HTTP_F_CHUNKED) {
			canon_begin(c, 'T');
			dump_headers(c, h);
			canon_end(c);
		}
		account(r, h->hdr.offset);
		r->msgs_ended++;
		break;
	default:
		break;
	}
}

/* An AA_CSV_LINES record: its lines, each dumped as one AA_CSV_LINE. */
static void csv_lines(struct rd *r, const struct aa_csv_record *l)
{
	struct canon *c = &r->canon;
	uint32_t last = l->n_lines - 1;

	for (uint32_t j = 0; j < l->n_lines; j++) {
		canon_begin(c, 'C');
		for (uint32_t k = 0; k < l->n_fields; k++) {
			size_t n;
			const char *f = aa_csv_lines_field(l, j, k, &n);
			canon_field(c, f, n);
		}
		canon_end(c);
	}
	account(r, l->hdr.offset + l->spans[last * (l->n_fields + 1)]);
}

static void record(struct rd *r, const struct aa_record *rec)
{
	struct canon *c = &r->canon;

	if (rec->type == AA_RECORD_ERROR) {
		canon_error(c, rec->error, rec->message, rec->offset);
		return;
	}
	switch (r->mode) {
	case M_CSV: {
		const struct aa_csv_record *l = (const void *)rec;
		if (rec->type == AA_CSV_LINES) {
			csv_lines(r, l);
			break;
		}
		canon_begin(c, 'C');
		for (uint32_t i = 0; i < l->n_fields; i++)
			dump_field(c, l->fields[i]);
		canon_end(c);
		account(r, rec->offset);
		break;
	}
	case M_SPIN: {
		const struct spin_record *s = (const void *)rec;
		size_t len = aa_field_len(s->data);
		c->records++;
		r->packets++;
		r->spin_acc ^= s->acc;
		account(r, rec->offset + len);
		break;
	}
	default:
		http_record(r, (const void *)rec);
		break;
	}
}

/* ---- sending ------------------------------------------------------------- */

static void queue_out(struct rd *r, const char *p, size_t n)
{
	if (r->out_off && r->out_off == r->out_len)
		r->out_off = r->out_len = 0;
	if (n > OUT_MAX - r->out_len)
		app_die(PROG, "output buffer full (the peer does not read our answers)");
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
}

static void flush_out(struct rd *r, int s)
{
	while (r->out_off < r->out_len) {
		ssize_t w = mtcp_write(r->m, s, r->out + r->out_off, r->out_len - r->out_off);
		if (w <= 0) {
			if (w < 0 && errno != EAGAIN)
				app_die(PROG, "write: %s", strerror(errno));
			return;
		}
		r->out_off += (size_t)w;
	}
}

/* -a: an empty 200 for every request that ended since the last call. */
static void answer(struct rd *r, int s, uint64_t ended)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	for (; r->answer && r->msgs_answered < ended; r->msgs_answered++)
		queue_out(r, ok, sizeof(ok) - 1);
	flush_out(r, s);
}

/* ---- reading -------------------------------------------------------------- */

static void progress(struct rd *r)
{
	double now = app_now();

	if (!r->t0) {
		r->t0 = now;
		r->tw = now;
		r->bytes_w = 0;
	}
	if (r->warmup > 0 && r->tw == r->t0 && now - r->t0 >= r->warmup) {
		r->tw = now;
		r->bytes_w = r->bytes;
	}
	r->t_end = now;
}

/* One read: 1 progress, 0 nothing ready, -1 the stream ended. */
static int read_aa(struct rd *r, int s)
{
	void *recs[MAX_BATCH];
	int n = mtcp_zc_read_aa_records(r->m, s, recs, r->batch);

	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		r->read_errno = errno;
		return -1;
	}
	if (n == 0)
		return -1;
	for (int i = 0; i < n; i++)
		record(r, recs[i]);
	if (mtcp_zc_free_aa_records(r->m, s, n))
		app_die(PROG, "free_aa_records: %s", strerror(errno));
	progress(r);
	answer(r, s, r->msgs_ended);
	return 1;
}

static int read_zc(struct rd *r, int s)
{
	struct stream_fragment_content f[MAX_BATCH];
	int n = mtcp_zc_read_fragments(r->m, s, f, r->batch);

	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		r->read_errno = errno;
		return -1;
	}
	if (n == 0)
		return -1;
	for (int i = 0; i < n; i++) {
		size_t len = (size_t)(f[i].end - f[i].start);
		r->spin_acc = spin(r->spin, r->spin_acc ^ len);
		r->bytes += len;
		r->packets++;
		r->canon.records++;
	}
	if (mtcp_zc_free_fragments(r->m, s, n))
		app_die(PROG, "free_fragments: %s", strerror(errno));
	progress(r);
	return 1;
}

static int read_std(struct rd *r, int s)
{
	ssize_t n = mtcp_read(r->m, s, r->buf + r->have, STD_BUF - r->have);
	size_t used;

	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		r->read_errno = errno;
		n = 0; /* an error ends the stream like a close */
	}
	r->have += (size_t)n;
	r->bytes += (uint64_t)n;
	used = twin_feed(&r->twin, r->buf, r->have, n == 0);
	memmove(r->buf, r->buf + used, r->have - used);
	r->have -= used;
	if (r->have == STD_BUF && !r->twin.failed)
		twin_too_long(&r->twin);
	progress(r);
	answer(r, s, r->twin.msgs_done);
	return n == 0 || r->twin.failed || r->twin.done ? -1 : 1;
}

static int read_some(struct rd *r, int s)
{
	if (r->mode == M_ZCSPIN)
		return read_zc(r, s);
	return r->std ? read_std(r, s) : read_aa(r, s);
}

static bool out_of_time(struct rd *r)
{
	return app_out_of_time(r->t_start, r->t0, r->give_up, r->t_limit,
			       &r->timed_out, &r->time_up);
}

/* Waits for events on s; returns the events (0 on timeout). */
static uint32_t wait_on(struct rd *r, int s, int ms)
{
	struct mtcp_epoll_event ev[8];
	uint32_t got = 0;
	int n = mtcp_epoll_wait(r->m, r->ep, ev, 8, ms);

	if (n < 0 && errno != EINTR)
		app_die(PROG, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		if (ev[i].data.sockid == s)
			got |= ev[i].events;
	return got;
}

/* -w: the records ended (an error record) before the stream did: wait for
 * the peer's FIN while the stack discards what it still sends. */
static void linger(struct rd *r, int s)
{
	double t = app_now();

	r->peer_closed_known = true;
	while (app_now() - t < r->linger) {
		if (wait_on(r, s, 50) & (MTCP_EPOLLRDHUP | MTCP_EPOLLHUP)) {
			r->peer_closed = true;
			return;
		}
		usleep(1000); /* the socket stays readable (end of records) */
	}
}

static void conn_begin(struct rd *r, int s)
{
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLRDHUP, .data.sockid = s};

	r->conns++;
	mtcp_epoll_ctl(r->m, r->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
	if (r->req_len)
		queue_out(r, r->req, r->req_len);
	flush_out(r, s);
}

/* One step: 2 out of time, 1 progress, 0 nothing ready, -1 the stream ended. */
static int conn_step(struct rd *r, int s)
{
	if (out_of_time(r))
		return 2;
	if (r->out_off < r->out_len)
		flush_out(r, s);
	return read_some(r, s);
}

/* st: conn_step's last answer. */
static void conn_end(struct rd *r, int s, int st)
{
	if (st < 0 && !r->std && r->mode != M_ZCSPIN && r->linger > 0)
		linger(r, s);
	mtcp_epoll_ctl(r->m, r->ep, MTCP_EPOLL_CTL_DEL, s, NULL);
	mtcp_close(r->m, s);
}

static void serve_conn(struct rd *r, int s)
{
	int st;

	conn_begin(r, s);
	while ((st = conn_step(r, s)) == 0 || st == 1)
		if (st == 0)
			wait_on(r, s, 20);
	conn_end(r, s, st);
}

static int new_socket(struct rd *r, int rcvbuf)
{
	int s = mtcp_socket(r->m, AF_INET, SOCK_STREAM, 0);
	struct aa_csv_params csv = {.n_fields = r->fields,
				    .flags = r->lines_batch ? AA_CSV_P_BATCH : 0};
	struct aa_http_params http = {.max_headers = r->max_headers};
	struct spin_params sp = {.iterations = r->spin};
	const struct aa_module *mod = NULL;
	const void *params = NULL;

	if (s < 0)
		app_die(PROG, "socket: %s", strerror(errno));
	mtcp_setsock_nonblock(r->m, s);
	if (rcvbuf && mtcp_setsockopt(r->m, s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		app_die(PROG, "SO_RCVBUF %d: %s", rcvbuf, strerror(errno));
	if (r->mode == M_ZCSPIN) {
		if (mtcp_zc_enable(r->m, s))
			app_die(PROG, "zc_enable: %s", strerror(errno));
		return s;
	}
	if (r->std)
		return s;
	switch (r->mode) {
	case M_CSV: mod = &aa_csv_module; params = &csv; break;
	case M_HTTP_RES: mod = &aa_http_response_module; params = &http; break;
	case M_HTTP_REQ: mod = &aa_http_request_module; params = &http; break;
	default: mod = &spin_module; params = &sp; break;
	}
	if (mtcp_zc_register_aa_module(r->m, s, mod, params))
		app_die(PROG, "register_aa_module(%s): %s", mod->name, strerror(errno));
	return s;
}

/* Connects s to dst and waits for the handshake (or -T); false: out of time. */
static bool connect_wait(struct rd *r, int s, const struct sockaddr_in *dst, const char *name)
{
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLOUT, .data.sockid = s};
	uint32_t got = 0;

	if (mtcp_connect(r->m, s, (const struct sockaddr *)dst, sizeof(*dst)) && errno != EINPROGRESS)
		app_die(PROG, "connect %s: %s", name, strerror(errno));
	mtcp_epoll_ctl(r->m, r->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
	while (!(got & (MTCP_EPOLLOUT | MTCP_EPOLLERR | MTCP_EPOLLHUP)) && !out_of_time(r))
		got = wait_on(r, s, 100);
	mtcp_epoll_ctl(r->m, r->ep, MTCP_EPOLL_CTL_DEL, s, NULL);
	if (got & MTCP_EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);
		mtcp_getsockopt(r->m, s, SOL_SOCKET, SO_ERROR, &err, &len);
		app_die(PROG, "connect %s: %s", name, strerror(err ? err : ECONNREFUSED));
	}
	return !r->timed_out;
}

/* The report's fields, without the braces. */
static void report_fields(struct rd *r, double measured_gbps)
{
	double secs = r->t_end > r->t0 ? r->t_end - r->t0 : 0;
	double msecs = r->t_end > r->tw ? r->t_end - r->tw : 0;

	printf("\"mode\": \"%s\", \"path\": \"%s\", \"conns\": %d, \"bytes\": %llu, "
	       "\"seconds\": %.6f, \"gbps\": %.4f, \"measured_gbps\": %.4f, "
	       "\"measured_seconds\": %.6f, \"records_per_s\": %.0f, \"packets\": %llu, "
	       "\"spin\": %llu, \"spin_acc\": %llu, \"peer_closed\": %s, \"timed_out\": %s, "
	       "\"time_up\": %s, \"read_error\": \"%s\", ",
	       mode_names[r->mode], r->mode == M_ZCSPIN ? "zero-copy" : r->std ? "standard" : "aa",
	       r->conns, (unsigned long long)r->bytes, secs,
	       secs > 0 ? (double)r->bytes * 8 / secs / 1e9 : 0,
	       measured_gbps, msecs,
	       secs > 0 ? (double)r->canon.records / secs : 0, (unsigned long long)r->packets,
	       (unsigned long long)r->spin, (unsigned long long)(r->spin_acc & 0xffff),
	       !r->peer_closed_known ? "null" : r->peer_closed ? "true" : "false",
	       r->timed_out ? "true" : "false", r->time_up ? "true" : "false",
	       r->read_errno ? strerror(r->read_errno) : "");
	canon_json(&r->canon, stdout);
}

/* Throughput after the warm-up (-W), Gbit/s. */
static double measured(const struct rd *r)
{
	double msecs = r->t_end > r->tw ? r->t_end - r->tw : 0;

	return msecs > 0 ? (double)(r->bytes - r->bytes_w) * 8 / msecs / 1e9 : 0;
}

static void report(struct rd *r)
{
	printf("{");
	report_fields(r, measured(r));
	printf("}\n");
	fflush(stdout);
}

/* ---- several connections on several cores (-c with -k/-N) ---------------- */

struct worker {
	int core, n, rcvbuf;
	struct rd **conns;
	const struct sockaddr_in *dst;
	const char *name;
};

/* A network thread's application side, pinned to its core as mTCP's are:
 * connects its connections, then polls them all until each has ended or its
 * time is up. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	mctx_t m;
	int ep, left = 0;

	if (mtcp_core_affinitize(w->core))
		app_die(PROG, "core %d: affinitize: %s", w->core, strerror(errno));
	m = mtcp_create_context(w->core);
	if (!m)
		app_die(PROG, "mtcp_create_context(%d): %s", w->core, strerror(errno));
	ep = mtcp_epoll_create(m, 16 + w->n);
	for (int i = 0; i < w->n; i++) {
		struct rd *r = w->conns[i];
		r->m = m;
		r->ep = ep;
		r->core = w->core;
		r->t_start = app_now();
		r->sock = new_socket(r, w->rcvbuf);
		if (!connect_wait(r, r->sock, w->dst, w->name)) {
			mtcp_close(m, r->sock);
			r->done = true;
			continue;
		}
		conn_begin(r, r->sock);
		left++;
	}
	while (left > 0) {
		struct mtcp_epoll_event ev[16];
		bool moved = false;
		for (int i = 0; i < w->n; i++) {
			struct rd *r = w->conns[i];
			int st = r->done ? 0 : conn_step(r, r->sock);
			if (!r->done && (st < 0 || st == 2)) {
				conn_end(r, r->sock, st);
				r->done = true;
				left--;
			}
			moved |= st == 1;
		}
		if (!moved && left > 0 && mtcp_epoll_wait(m, ep, ev, 16, 20) < 0 && errno != EINTR)
			app_die(PROG, "epoll_wait: %s", strerror(errno));
	}
	return NULL;
}

/* The sum over the connections (measured_gbps: the sum of each connection's
 * own, as they run side by side), then each connection and core. */
static void report_many(struct rd *rs, int n, int cores)
{
	struct rd sum = {.mode = rs[0].mode, .std = rs[0].std, .spin = rs[0].spin};
	double total = 0;

	canon_init(&sum.canon, false);
	for (int i = 0; i < n; i++) {
		struct rd *r = &rs[i];
		sum.bytes += r->bytes;
		sum.packets += r->packets;
		sum.conns += r->conns;
		sum.spin_acc ^= r->spin_acc;
		canon_add(&sum.canon, &r->canon);
		if (!sum.t0 || (r->t0 && r->t0 < sum.t0))
			sum.t0 = r->t0;
		if (r->t_end > sum.t_end)
			sum.t_end = r->t_end;
		if (!sum.tw || (r->tw && r->tw > sum.tw))
			sum.tw = r->tw;
		sum.timed_out |= r->timed_out;
		sum.time_up = i ? sum.time_up && r->time_up : r->time_up;
		if (!sum.read_errno)
			sum.read_errno = r->read_errno;
		total += measured(r);
	}
	printf("{");
	report_fields(&sum, total);
	printf(", \"cores\": %d, \"per_conn\": [", cores);
	for (int i = 0; i < n; i++) {
		char hex[65] = "";
		if (rs[i].canon.hash)
			sha256_hex(&rs[i].canon.dump, hex);
		printf("%s{\"core\": %d, \"bytes\": %llu, \"measured_gbps\": %.4f, "
		       "\"records\": %llu, \"dump_sha256\": \"%s\"}", i ? ", " : "", rs[i].core,
		       (unsigned long long)rs[i].bytes, measured(&rs[i]),
		       (unsigned long long)rs[i].canon.records, hex);
	}
	printf("], \"per_core\": [");
	for (int c = 0; c < cores; c++) {
		double g = 0;
		int k = 0;
		for (int i = 0; i < n; i++)
			if (rs[i].core == c && rs[i].conns) {
				g += measured(&rs[i]);
				k++;
			}
		printf("%s{\"core\": %d, \"conns\": %d, \"measured_gbps\": %.4f}", c ? ", " : "",
		       c, k, g);
	}
	printf("]}\n");
	fflush(stdout);
}

/* -c with -k CONNS / -N CORES: connection j on core j % CORES; tmpl holds the
 * options. Returns the exit status. */
static int run_many(const struct rd *tmpl, int conns, int cores, int rcvbuf,
		    const struct sockaddr_in *dst, const char *name)
{
	struct rd *rs = calloc((size_t)conns, sizeof(*rs));
	struct rd **order = calloc((size_t)conns, sizeof(*order));
	struct worker w[MAX_CORES];
	pthread_t th[MAX_CORES];
	int rc = 0;

	if (!rs || !order)
		app_die(PROG, "out of memory");
	for (int i = 0; i < conns; i++) {
		rs[i] = *tmpl;
		canon_init(&rs[i].canon, tmpl->hash);
		if (tmpl->std && (twin_init(&rs[i].twin, tmpl->twin.mode, tmpl->fields, &rs[i].canon) ||
				  !(rs[i].buf = malloc(STD_BUF))))
			app_die(PROG, "out of memory");
	}
	for (int c = 0, k = 0; c < cores; c++) {
		w[c] = (struct worker){.core = c, .rcvbuf = rcvbuf, .conns = order + k, .dst = dst,
				       .name = name};
		for (int i = c; i < conns; i += cores)
			order[k++] = &rs[i];
		w[c].n = (int)(order + k - w[c].conns);
		if (pthread_create(&th[c], NULL, worker_run, &w[c]))
			app_die(PROG, "pthread_create: %s", strerror(errno));
	}
	for (int c = 0; c < cores; c++)
		pthread_join(th[c], NULL);
	report_many(rs, conns, cores);
	for (int i = 0; i < conns; i++) {
		rc |= rs[i].timed_out ? 3 : 0;
		if (tmpl->std)
			twin_fini(&rs[i].twin);
		free(rs[i].buf);
	}
	free(order);
	free(rs);
	return rc;
}

int main(int argc, char **argv)
{
	struct rd r = {.fields = 4, .batch = 64, .hash = true};
	const char *conf = NULL, *connect_to = NULL;
	int port = 0, rcvbuf = 0, conns = 1, cores = 1, opt;
	struct sockaddr_in dst;

	r.req = calloc(1, 1);
	while ((opt = getopt(argc, argv, "f:c:l:k:N:m:F:gL:Sr:aqt:W:w:b:B:M:T:")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'c': connect_to = optarg; break;
		case 'l': port = atoi(optarg); break;
		case 'k': conns = atoi(optarg); break;
		case 'N': cores = atoi(optarg); break;
		case 'm':
			for (r.mode = 0; r.mode <= M_ZCSPIN; r.mode++)
				if (!strcmp(optarg, mode_names[r.mode]))
					break;
			if (r.mode > M_ZCSPIN)
				usage();
			break;
		case 'F': r.fields = (unsigned)atoi(optarg); break;
		case 'g': r.lines_batch = true; break;
		case 'L': r.spin = strtoull(optarg, NULL, 0); break;
		case 'S': r.std = true; break;
		case 'r': app_append_unescaped(PROG, &r.req, &r.req_len, optarg); break;
		case 'a': r.answer = true; break;
		case 'q': r.hash = false; break;
		case 't': r.t_limit = atof(optarg); break;
		case 'W': r.warmup = atof(optarg); break;
		case 'w': r.linger = atof(optarg); break;
		case 'b': rcvbuf = atoi(optarg); break;
		case 'B': r.batch = atoi(optarg); break;
		case 'M': r.max_headers = (unsigned)atoi(optarg); break;
		case 'T': r.give_up = atof(optarg); break;
		default: usage();
		}
	}
	if (!conf || !port == !connect_to || conns <= 0 || cores <= 0 || cores > MAX_CORES ||
	    (port && cores > 1) || r.batch <= 0 || r.batch > MAX_BATCH ||
	    (r.std && r.mode >= M_SPIN) || r.req_len > OUT_MAX ||
	    (r.lines_batch && (r.std || r.mode != M_CSV)))
		usage();
	if (connect_to && !app_parse_addr(connect_to, &dst))
		app_die(PROG, "-c %s: expected IP:PORT", connect_to);
	canon_init(&r.canon, r.hash);
	if (r.std) {
		enum twin_mode tm = r.mode == M_CSV ? TWIN_CSV
				    : r.mode == M_HTTP_RES ? TWIN_HTTP_RES : TWIN_HTTP_REQ;
		if (twin_init(&r.twin, tm, r.fields, &r.canon) || !(r.buf = malloc(STD_BUF)))
			app_die(PROG, "bad -F %u, or out of memory", r.fields);
	}
	if (cores > 1) {
		struct mtcp_conf mc;
		mtcp_getconf(&mc);
		mc.num_cores = cores;
		mtcp_setconf(&mc);
	}
	if (mtcp_init(conf))
		app_die(PROG, "mtcp_init(%s) failed", conf);
	if (connect_to && (conns > 1 || cores > 1)) {
		int rc = run_many(&r, conns, cores, rcvbuf, &dst, connect_to);
		mtcp_destroy();
		twin_fini(&r.twin);
		free(r.buf);
		free(r.req);
		return rc;
	}
	r.m = mtcp_create_context(0);
	if (!r.m)
		app_die(PROG, "mtcp_create_context: %s", strerror(errno));
	r.ep = mtcp_epoll_create(r.m, 16);
	r.t_start = app_now();
	if (connect_to) {
		int s = new_socket(&r, rcvbuf);
		if (connect_wait(&r, s, &dst, connect_to))
			serve_conn(&r, s);
		else
			mtcp_close(r.m, s);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN};
		int ls = new_socket(&r, rcvbuf);
		if (mtcp_bind(r.m, ls, (struct sockaddr *)&a, sizeof(a)) || mtcp_listen(r.m, ls, 16))
			app_die(PROG, "listen on %d: %s", port, strerror(errno));
		ev.data.sockid = ls;
		mtcp_epoll_ctl(r.m, r.ep, MTCP_EPOLL_CTL_ADD, ls, &ev);
		fprintf(stderr, PROG ": listening on port %d\n", port);
		while (r.conns < conns && !out_of_time(&r)) {
			int s = mtcp_accept(r.m, ls, NULL, NULL);
			if (s < 0) {
				if (errno != EAGAIN)
					app_die(PROG, "accept: %s", strerror(errno));
				wait_on(&r, ls, 100);
				continue;
			}
			mtcp_setsock_nonblock(r.m, s);
			if (r.std) { /* a fresh parser per connection */
				enum twin_mode tm = r.twin.mode;
				twin_fini(&r.twin);
				twin_init(&r.twin, tm, r.fields, &r.canon);
			}
			r.have = 0;
			serve_conn(&r, s);
		}
		mtcp_close(r.m, ls);
	}
	report(&r);
	mtcp_destroy();
	twin_fini(&r.twin);
	free(r.buf);
	free(r.req);
	return r.timed_out ? 3 : 0;
}
