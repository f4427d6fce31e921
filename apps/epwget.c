/*
 * epwget - mTCP's example HTTP client, on aatcp: fetches a URL a number of
 * times over many concurrent connections, one thread per core.
 *
 *   epwget URL #requests -f stack.conf [-N cores] [-c concurrency] [-o outfile] [-k] [-q]
 *
 * Same flags as mTCP's epwget, plus -k (keep-alive: each connection sends
 * its requests one after another instead of one per connection) and -q (no
 * SHA-256). -o saves the first response body. Prints one JSON object with
 * requests done, errors, body bytes, time, throughput and the SHA-256 of the
 * first body; "same" says whether every body had that hash.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app_common.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "sha256.h"

#define MAX_EVENTS 1024
#define HDR_MAX 16384

struct target {
	struct sockaddr_in addr;
	char host[128];
	char path[1024];
};

struct conn {
	int sock;
	bool active, sent_req;
	char hdr[HDR_MAX];
	size_t hdr_len;
	bool in_body;
	long long clen;      /* -1: until close */
	long long got;
	int status;
	struct sha256 hash;
	int left;            /* requests still to send on this connection (-k) */
};

struct worker {
	int core;
	mctx_t mctx;
	int ep;
	int requests;        /* this worker's share */
	int started, done, errors;
	int concurrency;
	unsigned long long bytes;
	struct conn *conns;  /* indexed by socket id */
	int n_conns;
	char first_hex[65];
	bool have_first, all_same;
	FILE *out;
	int first_status;
};

static struct target tgt;
static bool keepalive, nohash;
static const char *outfile;

static bool parse_url(const char *url, struct target *t)
{
	char hostport[128];
	const char *p = url, *slash;
	char addr[200];

	if (!strncmp(p, "http://", 7))
		p += 7;
	slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(hostport))
		return false;
	memcpy(hostport, p, hl);
	hostport[hl] = '\0';
	snprintf(t->path, sizeof(t->path), "%s", slash ? slash : "/");
	snprintf(t->host, sizeof(t->host), "%s", hostport);
	if (strchr(hostport, ':'))
		snprintf(addr, sizeof(addr), "%s", hostport);
	else
		snprintf(addr, sizeof(addr), "%s:80", hostport);
	return app_parse_addr(addr, &t->addr);
}

static void open_conn(struct worker *w)
{
	int s = mtcp_socket(w->mctx, AF_INET, SOCK_STREAM, 0);

	if (s < 0 || s >= w->n_conns) {
		if (s >= 0)
			mtcp_close(w->mctx, s);
		w->errors++;
		w->started++;
		return;
	}
	mtcp_setsock_nonblock(w->mctx, s);
	if (mtcp_connect(w->mctx, s, (struct sockaddr *)&tgt.addr, sizeof(tgt.addr)) &&
	    errno != EINPROGRESS) {
		mtcp_close(w->mctx, s);
		w->errors++;
		w->started++;
		return;
	}
	struct conn *c = &w->conns[s];
	memset(c, 0, sizeof(*c));
	c->sock = s;
	c->active = true;
	c->left = 1;
	if (keepalive) {
		/* spread this worker's requests over its connections */
		int remaining = w->requests - w->started;
		c->left = (remaining + w->concurrency - 1) / w->concurrency;
		if (c->left < 1)
			c->left = 1;
		if (c->left > remaining)
			c->left = remaining;
	}
	w->started += c->left;
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLOUT, .data.sockid = s};
	mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
}

static void send_request(struct worker *w, struct conn *c)
{
	char req[1400];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: aatcp-epwget\r\n"
			 "Accept: */*\r\nConnection: %s\r\n\r\n",
			 tgt.path, tgt.host, c->left > 1 ? "keep-alive" : "close");

	/* a request fits in the send buffer of a fresh connection */
	if (mtcp_write(w->mctx, c->sock, req, (size_t)n) != n) {
		w->errors++;
		return;
	}
	c->sent_req = true;
	c->hdr_len = 0;
	c->in_body = false;
	c->got = 0;
	c->clen = -1;
	if (!nohash)
		sha256_init(&c->hash);
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = c->sock};
	mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_MOD, c->sock, &ev);
}

static void body_bytes(struct worker *w, struct conn *c, const char *p, size_t n)
{
	if (!nohash)
		sha256_update(&c->hash, p, n);
	if (w->out && !w->have_first && fwrite(p, 1, n, w->out) != n)
		app_die("epwget", "cannot write %s", outfile);
	c->got += (long long)n;
	w->bytes += n;
}

static void response_done(struct worker *w, struct conn *c, bool ok)
{
	char hex[65] = "";

	if (!ok || c->status != 200)
		w->errors++;
	else
		w->done++;
	if (!nohash)
		sha256_hex(&c->hash, hex);
	if (!w->have_first) {
		memcpy(w->first_hex, hex, sizeof(hex));
		w->first_status = c->status;
		w->have_first = true;
		if (w->out) {
			fclose(w->out);
			w->out = NULL;
		}
	} else if (strcmp(hex, w->first_hex)) {
		w->all_same = false;
	}
	c->sent_req = false;
	c->left--;
}

static void close_conn(struct worker *w, struct conn *c)
{
	c->active = false;
	mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_DEL, c->sock, NULL);
	mtcp_close(w->mctx, c->sock);
	if (c->left > 0) {
		w->errors += c->left; /* requests this connection never made */
		c->left = 0;
	}
	if (w->started < w->requests)
		open_conn(w);
}

/* Header complete: status and Content-Length; returns false if malformed. */
static bool parse_header(struct conn *c, size_t *hdr_end)
{
	char *end = memmem(c->hdr, c->hdr_len, "\r\n\r\n", 4);

	if (!end)
		return true;
	*hdr_end = (size_t)(end + 4 - c->hdr);
	if (sscanf(c->hdr, "HTTP/1.%*d %d", &c->status) != 1)
		return false;
	for (char *h = memmem(c->hdr, *hdr_end, "\r\n", 2); h && h < end;
	     h = memmem(h + 2, (size_t)(end - h), "\r\n", 2))
		if (!strncasecmp(h + 2, "Content-Length:", 15))
			c->clen = atoll(h + 17);
	c->in_body = true;
	return true;
}

static void on_data(struct worker *w, struct conn *c, char *buf, size_t n)
{
	while (n) {
		if (!c->in_body) {
			size_t take = HDR_MAX - c->hdr_len < n ? HDR_MAX - c->hdr_len : n;
			size_t hdr_end = 0;
			memcpy(c->hdr + c->hdr_len, buf, take);
			c->hdr_len += take;
			if (!parse_header(c, &hdr_end) || (!c->in_body && c->hdr_len == HDR_MAX)) {
				response_done(w, c, false);
				close_conn(w, c);
				return;
			}
			if (!c->in_body)
				return;
			size_t body_in_hdr = c->hdr_len - hdr_end;
			size_t consumed = take - body_in_hdr;
			buf += consumed;
			n -= consumed;
		}
		size_t want = c->clen < 0 ? n : (size_t)(c->clen - c->got) < n ? (size_t)(c->clen - c->got) : n;
		body_bytes(w, c, buf, want);
		buf += want;
		n -= want;
		if (c->clen >= 0 && c->got == c->clen) {
			response_done(w, c, true);
			if (c->left > 0)
				send_request(w, c);
			else {
				close_conn(w, c);
				return;
			}
		}
	}
}

static void handle(struct worker *w, int s, uint32_t events)
{
	struct conn *c = &w->conns[s];
	char buf[65536];

	if (!c->active)
		return;
	if (!c->sent_req && (events & MTCP_EPOLLOUT) && !(events & MTCP_EPOLLERR)) {
		send_request(w, c);
		return;
	}
	for (;;) {
		ssize_t n = mtcp_read(w->mctx, s, buf, sizeof(buf));
		if (n > 0) {
			on_data(w, c, buf, (size_t)n);
			if (!c->active)
				return;
			continue;
		}
		if (n < 0 && errno == EAGAIN && !(events & MTCP_EPOLLERR))
			return;
		/* closed: a body delimited by the close is complete now */
		if (c->sent_req)
			response_done(w, c, n == 0 && c->in_body && c->clen < 0);
		close_conn(w, c);
		return;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct mtcp_epoll_event evs[MAX_EVENTS];
	struct mtcp_conf mc;

	w->mctx = mtcp_create_context(w->core);
	if (!w->mctx)
		app_die("epwget", "mtcp_create_context(%d): %s", w->core, strerror(errno));
	mtcp_getconf(&mc);
	w->n_conns = mc.max_concurrency; /* every id is below it, as in mTCP */
	w->conns = calloc((size_t)w->n_conns, sizeof(*w->conns));
	w->ep = mtcp_epoll_create(w->mctx, MAX_EVENTS);
	w->all_same = true;
	if (w->core == 0 && outfile && !(w->out = fopen(outfile, "wb")))
		app_die("epwget", "cannot open %s", outfile);
	for (int i = 0; i < w->concurrency && w->started < w->requests; i++)
		open_conn(w);
	while (w->done + w->errors < w->requests) {
		int n = mtcp_epoll_wait(w->mctx, w->ep, evs, MAX_EVENTS, 1000);
		if (n < 0)
			break;
		for (int i = 0; i < n; i++)
			handle(w, evs[i].data.sockid, evs[i].events);
	}
	if (w->out)
		fclose(w->out);
	free(w->conns);
	w->conns = NULL;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	int cores = 0, concurrency = 1, requests, opt;
	struct mtcp_conf mc;
	struct worker w[16];
	pthread_t th[16];

	if (argc < 3 || !parse_url(argv[1], &tgt) || (requests = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: epwget URL #requests -f conf [-N cores] [-c concurrency] "
				"[-o outfile] [-k] [-q]\n");
		return 2;
	}
	optind = 3;
	while ((opt = getopt(argc, argv, "f:N:c:o:kq")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'N': cores = atoi(optarg); break;
		case 'c': concurrency = atoi(optarg); break;
		case 'o': outfile = optarg; break;
		case 'k': keepalive = true; break;
		case 'q': nohash = true; break;
		default: return 2;
		}
	}
	if (!conf || concurrency <= 0)
		app_die("epwget", "need -f conf and a positive -c");
	if (cores > 0) {
		mtcp_getconf(&mc);
		mc.num_cores = cores;
		mtcp_setconf(&mc);
	}
	if (mtcp_init(conf))
		app_die("epwget", "mtcp_init(%s) failed", conf);
	mtcp_getconf(&mc);
	cores = mc.num_cores > 16 ? 16 : mc.num_cores;
	double t0 = app_now();
	for (int i = 0; i < cores; i++) {
		w[i] = (struct worker){.core = i};
		w[i].requests = requests / cores + (i < requests % cores);
		w[i].concurrency = concurrency / cores + (i < concurrency % cores);
		if (w[i].concurrency < 1)
			w[i].concurrency = 1;
		pthread_create(&th[i], NULL, run, &w[i]);
	}
	int done = 0, errors = 0;
	unsigned long long bytes = 0;
	bool same = true;
	for (int i = 0; i < cores; i++) {
		pthread_join(th[i], NULL);
		done += w[i].done;
		errors += w[i].errors;
		bytes += w[i].bytes;
		same &= w[i].all_same && !strcmp(w[i].first_hex, w[0].first_hex);
	}
	double secs = app_now() - t0;
	printf("{\"requests\": %d, \"errors\": %d, \"bytes\": %llu, \"seconds\": %.6f, "
	       "\"gbps\": %.4f, \"status\": %d, \"sha256\": \"%s\", \"same\": %s}\n",
	       done, errors, bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0,
	       w[0].first_status, w[0].first_hex, same ? "true" : "false");
	fflush(stdout);
	mtcp_destroy();
	return errors ? 1 : 0;
}
