/*
 * proxy - a TCP proxy on aatcp (thesis ch. 5): each client connection is
 * joined to a new connection to the backend.
 *
 *   proxy -f stack.conf -l PORT -b IP:PORT [-m splice|forward|copy] [-H]
 *         [-n CONNS] [-a ALPHA.csv] [-N CORES]
 *
 * -m splice  (default) mtcp_zc_splice both ways: the network thread moves
 *            packets from one connection to the other by rewriting headers
 *            (thesis figure 5.3), nothing is copied;
 * -m forward the standard forward API: read fragments, mtcp_zc_forward
 *            (thesis figure 5.2);
 * -m copy    the standard socket API: mtcp_read + mtcp_write (the baseline
 *            with four copies, thesis 5.1.1).
 * -H         (splice only) parse HTTP in the middle (thesis 5.2): requests on
 *            the client side, responses on the backend side, and report
 *            methods, hosts, user agents, status codes and bytes.
 * -n         exit after CONNS client connections ended (default: on SIGTERM).
 * -a         write alpha over time of the first connection's server->client
 *            splice (thesis figure 5.4) to a CSV file (core 0's first).
 * -N         network threads (default: the configuration's num_cores), one
 *            application thread and context per core, each listening on
 *            PORT, mTCP style: a client connection and its backend
 *            connection live on the core that accepted it.
 * Prints one JSON object with the statistics at exit, with "cpu_s" (the
 * process's user + system CPU seconds, start-up and the network threads'
 * idle polls included) and "app_cpu_s" (the application threads', each from
 * listening to its end; also per core): with the stats file's busy_tsc, the
 * proxy's CPU in the chapter 5 tables.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_common.h"
#include "mtcp_aa.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "mtcp_zc.h"

#define MAX_EVENTS 1024
#define COPY_BUF (64 * 1024)
#define MAX_KEYS 64
#define ALPHA_BATCH 4096
#define MAX_THREADS 16

enum mode { SPLICE, FORWARD, COPY };

struct side {
	int sock;
	int peer;       /* index of the other side's slot */
	bool rd_done;   /* the peer half closed towards us */
	bool wr_shut;   /* we shut down the other side's writing */
	unsigned long long bytes;
	char *buf;      /* COPY: bytes read, not yet written */
	size_t len, off;
	int held;       /* FORWARD: fragments read, not forwarded yet */
};

struct counter {
	char key[64];
	unsigned long n;
};

/* What every core's proxy does (set before the threads start). */
struct proxy_opts {
	enum mode mode;
	bool http;
	struct sockaddr_in backend;
	int port;
	int max_conns;      /* over all cores; 0: until SIGTERM */
};

/* One core's proxy: its context and connections. */
struct proxy {
	const struct proxy_opts *o;
	int core;
	mctx_t mctx;
	int ep, ls;
	struct side *sides; /* indexed by socket id */
	int n_sides;
	int opened, ended, errors;
	unsigned long long c2s, s2c;
	unsigned long requests, responses;
	struct counter methods[MAX_KEYS], hosts[MAX_KEYS], agents[MAX_KEYS], statuses[MAX_KEYS];
	int alpha_sock;     /* backend socket of the first connection */
	FILE *alpha_out;
	double app_cpu_s;   /* this application thread's CPU from listening on */
};

static volatile sig_atomic_t stop;
static atomic_int ended_all; /* pairs ended on every core */
static atomic_int listening;  /* cores whose listener is up */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: proxy -f CONF -l PORT -b IP:PORT [-m splice|forward|copy] [-H] "
			"[-n CONNS] [-a ALPHA.csv] [-N CORES]\n");
	exit(2);
}

static void count_n(struct counter *tab, const char *key, unsigned long n)
{
	for (int i = 0; i < MAX_KEYS; i++) {
		if (!tab[i].key[0]) {
			snprintf(tab[i].key, sizeof(tab[i].key), "%s", key);
			tab[i].n = n;
			return;
		}
		if (!strcmp(tab[i].key, key)) {
			tab[i].n += n;
			return;
		}
	}
}

static void count(struct counter *tab, const char *key)
{
	count_n(tab, key, 1);
}

static void field_key(const struct stream_field *f, char *buf, size_t cap)
{
	if (!f) {
		snprintf(buf, cap, "-");
		return;
	}
	aa_field_copy(f, buf, cap);
	for (char *p = buf; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 32)
			*p = '_'; /* it ends up in JSON */
}

static void take_http(struct proxy *px, struct aa_http_record *r)
{
	char key[64];

	if (r->hdr.type == AA_RECORD_ERROR) {
		px->errors++;
		return;
	}
	if (r->hdr.type == AA_HTTP_REQUEST) {
		px->requests++;
		field_key(r->line[0], key, sizeof(key));
		count(px->methods, key);
		field_key(aa_http_header_value(r, "Host"), key, sizeof(key));
		count(px->hosts, key);
		field_key(aa_http_header_value(r, "User-Agent"), key, sizeof(key));
		count(px->agents, key);
	} else if (r->hdr.type == AA_HTTP_RESPONSE) {
		px->responses++;
		snprintf(key, sizeof(key), "%u", r->status);
		count(px->statuses, key);
	}
}

/* In-the-middle inspection: read and free whatever records are ready. */
static void read_records(struct proxy *px, int s)
{
	void *recs[64];
	int n;

	while ((n = mtcp_zc_read_aa_records(px->mctx, s, recs, 64)) > 0) {
		for (int i = 0; i < n; i++)
			take_http(px, recs[i]);
		mtcp_zc_free_aa_records(px->mctx, s, n);
	}
}

static void end_pair(struct proxy *px, int s)
{
	int p = px->sides[s].peer;

	if (px->sides[s].sock < 0)
		return;
	if (px->o->mode == SPLICE) {
		/* the network thread moved the bytes: ask it how many */
		struct mtcp_splice_stats st;
		if (!mtcp_zc_splice_stats(px->mctx, s, &st))
			px->sides[s].bytes = st.forwarded;
		if (p >= 0 && !mtcp_zc_splice_stats(px->mctx, p, &st))
			px->sides[p].bytes = st.forwarded;
	}
	px->c2s += px->sides[s].bytes + (p >= 0 ? px->sides[p].bytes : 0);
	px->sides[s].sock = -1;
	mtcp_epoll_ctl(px->mctx, px->ep, MTCP_EPOLL_CTL_DEL, s, NULL);
	mtcp_close(px->mctx, s);
	if (p >= 0 && px->sides[p].sock >= 0) {
		px->sides[p].sock = -1;
		mtcp_epoll_ctl(px->mctx, px->ep, MTCP_EPOLL_CTL_DEL, p, NULL);
		mtcp_close(px->mctx, p);
	}
	free(px->sides[s].buf);
	px->sides[s].buf = NULL;
	if (p >= 0) {
		free(px->sides[p].buf);
		px->sides[p].buf = NULL;
	}
	px->ended++;
	atomic_fetch_add_explicit(&ended_all, 1, memory_order_relaxed);
}

/* COPY: move bytes s -> peer until either side would block. */
static bool pump_copy(struct proxy *px, int s)
{
	struct side *a = &px->sides[s];
	int p = a->peer;

	for (;;) {
		if (a->off == a->len) {
			ssize_t n = mtcp_read(px->mctx, s, a->buf, COPY_BUF);
			if (n == 0) {
				a->rd_done = true;
				if (!a->wr_shut) {
					mtcp_shutdown(px->mctx, p, SHUT_WR);
					a->wr_shut = true;
				}
				return true;
			}
			if (n < 0)
				return errno == EAGAIN;
			a->len = (size_t)n;
			a->off = 0;
			a->bytes += (unsigned long long)n;
		}
		ssize_t w = mtcp_write(px->mctx, p, a->buf + a->off, a->len - a->off);
		if (w < 0)
			return errno == EAGAIN;
		a->off += (size_t)w;
	}
}

/* FORWARD: fragments read on s go onto peer's outbound list. When the
 * list is full (w = w_max - s = 0, thesis 5.1.2) they stay read and are
 * forwarded on the peer's next EPOLLOUT. */
static bool pump_forward(struct proxy *px, int s)
{
	struct side *a = &px->sides[s];
	struct stream_fragment_content f[64];

	for (;;) {
		if (a->held) {
			/* EAGAIN: the list is full; ENOTCONN: the backend is
			 * still connecting. Either way its EPOLLOUT retries. */
			if (mtcp_zc_forward(s, a->peer, a->held) != a->held)
				return errno == EAGAIN || errno == ENOTCONN;
			a->held = 0;
		}
		int n = mtcp_zc_read_fragments(px->mctx, s, f, 64);
		if (n == 0) {
			a->rd_done = true;
			if (!a->wr_shut) {
				mtcp_shutdown(px->mctx, a->peer, SHUT_WR);
				a->wr_shut = true;
			}
			return true;
		}
		if (n < 0)
			return errno == EAGAIN || errno == ENOTCONN;
		for (int i = 0; i < n; i++)
			a->bytes += (unsigned long long)(f[i].end - f[i].start);
		a->held = n;
	}
}

static void handle(struct proxy *px, int s, uint32_t ev)
{
	struct side *a = &px->sides[s];
	bool ok = true;

	if (a->sock < 0)
		return;
	if (px->o->mode == COPY) {
		ok = pump_copy(px, s);
		if (ok && (ev & MTCP_EPOLLOUT))
			ok = pump_copy(px, a->peer);
	} else if (px->o->mode == FORWARD) {
		ok = pump_forward(px, s);
		if (ok && (ev & MTCP_EPOLLOUT))
			ok = pump_forward(px, a->peer); /* our list drained a bit */
	} else {
		if (px->o->http)
			read_records(px, s);
		if (ev & MTCP_EPOLLRDHUP)
			a->rd_done = true;
	}
	if (!ok || (ev & (MTCP_EPOLLERR | MTCP_EPOLLHUP)) ||
	    (a->rd_done && px->sides[a->peer].rd_done && (px->o->mode != COPY ||
		(a->off == a->len && px->sides[a->peer].off == px->sides[a->peer].len))))
		end_pair(px, s);
}

static int new_stream(struct proxy *px)
{
	int s = mtcp_socket(px->mctx, AF_INET, SOCK_STREAM, 0);

	if (s < 0 || s >= px->n_sides)
		app_die("proxy", "socket: %s", strerror(errno));
	mtcp_setsock_nonblock(px->mctx, s);
	return s;
}

static void watch(struct proxy *px, int s, uint32_t events)
{
	struct mtcp_epoll_event ev = {.events = events, .data.sockid = s};

	mtcp_epoll_ctl(px->mctx, px->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
}

static void accept_one(struct proxy *px, int c)
{
	int b = new_stream(px);

	mtcp_setsock_nonblock(px->mctx, c);
	px->sides[c] = (struct side){.sock = c, .peer = b};
	px->sides[b] = (struct side){.sock = b, .peer = c};
	if (px->o->mode == COPY) {
		px->sides[c].buf = malloc(COPY_BUF);
		px->sides[b].buf = malloc(COPY_BUF);
	}
	if (px->o->mode == SPLICE) {
		if (px->o->http) {
			struct aa_http_params hp = {0};
			if (mtcp_zc_register_aa_module(px->mctx, b, &aa_http_response_module, &hp))
				app_die("proxy", "register response module: %s", strerror(errno));
		}
		/* thesis 5.1.2: splice, then connect the backend */
		if (mtcp_zc_splice(c, b) || mtcp_zc_splice(b, c))
			app_die("proxy", "splice: %s", strerror(errno));
	} else if (px->o->mode == FORWARD) {
		mtcp_zc_enable(px->mctx, b);
	}
	if (mtcp_connect(px->mctx, b, (struct sockaddr *)&px->o->backend,
			 sizeof(px->o->backend)) && errno != EINPROGRESS) {
		px->errors++;
		end_pair(px, c);
		return;
	}
	/* edge-triggered in every mode: a half-closed side stays readable
	 * (RDHUP) until its peer closes too, and level-triggered it would
	 * wake this thread at every wait until then */
	uint32_t evs = MTCP_EPOLLIN | MTCP_EPOLLRDHUP | MTCP_EPOLLET;
	if (px->o->mode != SPLICE)
		evs |= MTCP_EPOLLOUT; /* room to move more */
	watch(px, c, evs);
	watch(px, b, evs);
	if (px->alpha_sock < 0)
		px->alpha_sock = b;
	px->opened++;
}

static void accept_all(struct proxy *px)
{
	int c;

	while ((c = mtcp_accept(px->mctx, px->ls, NULL, NULL)) >= 0) {
		if (c >= px->n_sides) {
			mtcp_close(px->mctx, c);
			continue;
		}
		accept_one(px, c);
	}
}

static void sample_alpha(struct proxy *px)
{
	static struct mtcp_alpha_sample s[ALPHA_BATCH];
	static uint64_t written;
	struct mtcp_splice_stats st;

	if (!px->alpha_out || px->alpha_sock < 0 ||
	    mtcp_zc_splice_stats(px->mctx, px->alpha_sock, &st))
		return;
	int n = mtcp_zc_splice_samples(px->mctx, px->alpha_sock, s, ALPHA_BATCH);
	uint64_t first = st.n_samples - (uint64_t)(n > 0 ? n : 0);
	for (int i = 0; i < n; i++)
		if (first + (uint64_t)i >= written)
			fprintf(px->alpha_out, "%.6f,%.4f,%u,%lu\n", (double)s[i].t_us / 1e6,
				(double)s[i].alpha, s[i].w_c, (unsigned long)s[i].b);
	written = st.n_samples;
}

static void print_table(const char *name, const struct counter *tab, bool last)
{
	printf("\"%s\": {", name);
	for (int i = 0, k = 0; i < MAX_KEYS && tab[i].key[0]; i++, k++)
		printf("%s\"%s\": %lu", k ? ", " : "", tab[i].key, tab[i].n);
	printf("}%s", last ? "" : ", ");
}

static bool proxy_done(const struct proxy *px)
{
	return stop || (px->o->max_conns &&
			atomic_load_explicit(&ended_all, memory_order_relaxed) >= px->o->max_conns);
}

static void proxy_listen(struct proxy *px)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)px->o->port)};

	px->ls = new_stream(px);
	/* zero-copy receive on every accepted socket: splicing and forwarding
	 * work on the packets themselves */
	if (px->o->mode != COPY)
		mtcp_zc_enable(px->mctx, px->ls);
	if (px->o->http) {
		struct aa_http_params hp = {0};
		if (mtcp_zc_register_aa_module(px->mctx, px->ls, &aa_http_request_module, &hp))
			app_die("proxy", "register request module: %s", strerror(errno));
	}
	if (mtcp_bind(px->mctx, px->ls, (struct sockaddr *)&a, sizeof(a)) ||
	    mtcp_listen(px->mctx, px->ls, 4096))
		app_die("proxy", "listen on %d: %s", px->o->port, strerror(errno));
	watch(px, px->ls, MTCP_EPOLLIN);
}

/* One core's application thread: its context, listener and event loop. */
static void *proxy_run(void *arg)
{
	struct proxy *px = arg;
	struct mtcp_conf mc;

	px->mctx = mtcp_create_context(px->core);
	if (!px->mctx)
		app_die("proxy", "mtcp_create_context(%d): %s", px->core, strerror(errno));
	mtcp_getconf(&mc);
	px->n_sides = mc.max_concurrency + 64;
	px->sides = calloc((size_t)px->n_sides, sizeof(*px->sides));
	if (!px->sides)
		app_die("proxy", "out of memory");
	px->ep = mtcp_epoll_create(px->mctx, MAX_EVENTS);
	proxy_listen(px);
	atomic_fetch_add_explicit(&listening, 1, memory_order_release);
	app_cpu_mark();
	while (!proxy_done(px)) {
		struct mtcp_epoll_event ev[MAX_EVENTS];
		int n = mtcp_epoll_wait(px->mctx, px->ep, ev, MAX_EVENTS, 10);
		for (int i = 0; i < n; i++) {
			int s = ev[i].data.sockid;
			if (s == px->ls)
				accept_all(px);
			else
				handle(px, s, ev[i].events);
		}
		sample_alpha(px);
	}
	sample_alpha(px);
	mtcp_close(px->mctx, px->ls);
	px->app_cpu_s = app_thread_cpu();
	return NULL;
}

/* Core i's counts and tables added into the first core's. */
static void proxy_merge(struct proxy *into, const struct proxy *px)
{
	const struct counter *from[] = {px->methods, px->hosts, px->agents, px->statuses};
	struct counter *to[] = {into->methods, into->hosts, into->agents, into->statuses};

	into->opened += px->opened;
	into->ended += px->ended;
	into->errors += px->errors;
	into->c2s += px->c2s;
	into->requests += px->requests;
	into->responses += px->responses;
	into->app_cpu_s += px->app_cpu_s;
	for (size_t t = 0; t < sizeof(to) / sizeof(to[0]); t++)
		for (int i = 0; i < MAX_KEYS && from[t][i].key[0]; i++)
			count_n(to[t], from[t][i].key, from[t][i].n);
}

static void print_report(const char *mode, const struct proxy_opts *o, struct proxy *px,
			 int cores)
{
	struct proxy all = {.o = o};

	for (int i = 0; i < cores; i++)
		proxy_merge(&all, &px[i]);
	printf("{\"mode\": \"%s\", \"http\": %s, \"connections\": %d, \"ended\": %d, "
	       "\"errors\": %d, \"bytes\": %llu, \"requests\": %lu, \"responses\": %lu, "
	       "\"cpu_s\": %.6f, \"app_cpu_s\": %.6f, ",
	       mode, o->http ? "true" : "false", all.opened, all.ended, all.errors, all.c2s,
	       all.requests, all.responses, app_process_cpu(), all.app_cpu_s);
	printf("\"per_core\": [");
	for (int i = 0; i < cores; i++)
		printf("%s{\"connections\": %d, \"bytes\": %llu, \"app_cpu_s\": %.6f}",
		       i ? ", " : "", px[i].opened, px[i].c2s, px[i].app_cpu_s);
	printf("], ");
	print_table("methods", all.methods, false);
	print_table("hosts", all.hosts, false);
	print_table("user_agents", all.agents, false);
	print_table("statuses", all.statuses, true);
	printf("}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct proxy px[MAX_THREADS];
	struct proxy_opts o = {.mode = SPLICE};
	const char *conf = NULL, *backend = NULL, *alpha = NULL, *mode = "splice";
	FILE *alpha_out = NULL;
	pthread_t th[MAX_THREADS];
	int cores = 0, opt;
	struct mtcp_conf mc;

	while ((opt = getopt(argc, argv, "f:l:b:m:Hn:a:N:")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'l': o.port = atoi(optarg); break;
		case 'b': backend = optarg; break;
		case 'm': mode = optarg; break;
		case 'H': o.http = true; break;
		case 'n': o.max_conns = atoi(optarg); break;
		case 'a': alpha = optarg; break;
		case 'N': cores = atoi(optarg); break;
		default: usage();
		}
	}
	if (!conf || !o.port || !backend || !app_parse_addr(backend, &o.backend) ||
	    cores < 0 || cores > MAX_THREADS)
		usage();
	if (!strcmp(mode, "forward"))
		o.mode = FORWARD;
	else if (!strcmp(mode, "copy"))
		o.mode = COPY;
	else if (strcmp(mode, "splice"))
		usage();
	if (o.http && o.mode != SPLICE)
		app_die("proxy", "-H needs -m splice");
	if (alpha && !(alpha_out = fopen(alpha, "w")))
		app_die("proxy", "cannot open %s", alpha);
	if (alpha_out)
		fprintf(alpha_out, "t_s,alpha,w_c,b\n");
	if (cores > 0) {
		mtcp_getconf(&mc);
		mc.num_cores = cores;
		mtcp_setconf(&mc);
	}
	if (mtcp_init(conf))
		app_die("proxy", "mtcp_init(%s) failed", conf);
	mtcp_register_signal(SIGINT, on_signal);
	mtcp_register_signal(SIGTERM, on_signal);
	mtcp_getconf(&mc);
	cores = mc.num_cores > MAX_THREADS ? MAX_THREADS : mc.num_cores;
	for (int i = 0; i < cores; i++) {
		px[i] = (struct proxy){.o = &o, .core = i, .alpha_sock = -1,
				       .alpha_out = i ? NULL : alpha_out};
		if (pthread_create(&th[i], NULL, proxy_run, &px[i]))
			app_die("proxy", "cannot start the thread of core %d", i);
	}
	/* "listening" once every core listens: a SYN on any queue is taken */
	while (atomic_load_explicit(&listening, memory_order_acquire) < cores)
		usleep(1000);
	fprintf(stderr, "proxy: listening on port %d, mode %s%s, %d core%s\n", o.port, mode,
		o.http ? " +http" : "", cores, cores == 1 ? "" : "s");
	for (int i = 0; i < cores; i++)
		pthread_join(th[i], NULL);
	if (alpha_out)
		fclose(alpha_out);
	print_report(mode, &o, px, cores);
	mtcp_destroy();
	/* every connection ended (or mtcp_destroy reset it): nothing else
	 * holds a buffer (LeakSanitizer, tests/e2e/test_proxy_e2e.py) */
	for (int i = 0; i < cores; i++) {
		for (int k = 0; k < px[i].n_sides; k++)
			free(px[i].sides[k].buf);
		free(px[i].sides);
	}
	return 0;
}
