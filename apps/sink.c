/*
 * sink - receive byte streams and report how many bytes, how fast, and the
 * SHA-256 of each stream (netcat-like; for throughput and integrity runs).
 *
 *   sink -f stack.conf -l PORT [-k CONNS] [-z] [-b RCVBUF] [-o FILE] [-K] [-P SECS]
 *   sink -f stack.conf -c IP:PORT [-k CONNS] [-z] [-b RCVBUF] [-o FILE] [-q] [-K] [-P SECS]
 *
 * -l accepts CONNS connections (default 1), -c opens CONNS connections; each
 * is read to its end. -z reads with the zero-copy API (thesis 3.2.2) instead
 * of mtcp_read. -q skips the SHA-256 (throughput runs: hashing costs more
 * than receiving). -o writes the first stream's bytes to FILE. -K sets
 * SO_KEEPALIVE (the stack's tcp_keepalive_* keys time it). -P stops reading a
 * stream for SECS seconds after its first bytes (its receive window
 * closes, the peer probes it), then reads it to its end. Prints one JSON
 * object: {"bytes", "conns", "seconds", "gbps", "sha256": [...per stream]}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_common.h"
#include "app_mtcp.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "mtcp_zc.h"
#include "sha256.h"

#define MAX_EVENTS 256
#define READ_CHUNK (64 * 1024)

struct conn {
	int sock;
	bool done;
	bool paused;      /* -P: its pause began (resume_at) */
	bool resumed;     /* -P: its pause is over */
	double resume_at;
	uint64_t bytes;
	struct sha256 hash;
	char hex[65];
};

struct sink {
	mctx_t mctx;
	int ep;
	bool zc;
	bool nohash;
	bool keepalive;
	double pause_s;   /* -P */
	int target;
	int finished, opened;
	struct conn *conns;
	int *by_sock; /* socket id -> conn index */
	FILE *out;
	double t0, t1;
	char buf[READ_CHUNK];
};

static void usage(void)
{
	fprintf(stderr, "usage: sink -f CONF (-l PORT | -c IP:PORT) [-k CONNS] [-z] "
			"[-b RCVBUF] [-o FILE] [-q] [-K] [-P SECS]\n");
	exit(2);
}

static void finish(struct sink *k, struct conn *c)
{
	c->done = true;
	sha256_hex(&c->hash, c->hex);
	mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_DEL, c->sock, NULL);
	mtcp_close(k->mctx, c->sock);
	k->finished++;
	k->t1 = app_now();
}

static void consume(struct sink *k, struct conn *c, const char *p, size_t n)
{
	if (!k->t0)
		k->t0 = app_now();
	if (!k->nohash)
		sha256_update(&c->hash, p, n);
	c->bytes += n;
	if (k->out && c == &k->conns[0] && fwrite(p, 1, n, k->out) != n)
		app_die("sink", "cannot write the output file");
}

/* Returns false once the stream ended. */
static bool drain_copy(struct sink *k, struct conn *c)
{
	for (;;) {
		ssize_t n = mtcp_read(k->mctx, c->sock, k->buf, sizeof(k->buf));
		if (n > 0) {
			consume(k, c, k->buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0)
			fprintf(stderr, "sink: read on socket %d: %s\n", c->sock, strerror(errno));
		return false;
	}
}

static bool drain_zc(struct sink *k, struct conn *c)
{
	struct stream_fragment_content frags[64];

	for (;;) {
		int n = mtcp_zc_read_fragments(k->mctx, c->sock, frags, 64);
		if (n > 0) {
			for (int i = 0; i < n; i++)
				consume(k, c, frags[i].start, (size_t)(frags[i].end - frags[i].start));
			if (mtcp_zc_free_fragments(k->mctx, c->sock, n))
				app_die("sink", "free_fragments: %s", strerror(errno));
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0)
			fprintf(stderr, "sink: zc read on socket %d: %s\n", c->sock, strerror(errno));
		return false;
	}
}

static void add_conn(struct sink *k, int sock, uint32_t events)
{
	struct conn *c = &k->conns[k->opened];
	struct mtcp_epoll_event ev = {.events = events, .data.sockid = sock};

	c->sock = sock;
	sha256_init(&c->hash);
	k->by_sock[sock] = k->opened++;
	if (mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_ADD, sock, &ev))
		app_die("sink", "epoll_ctl: %s", strerror(errno));
}

static int new_socket(struct sink *k, int rcvbuf)
{
	int s = app_stack_socket("sink", k->mctx, SO_RCVBUF, rcvbuf);

	int on = 1;

	if (k->zc && mtcp_zc_enable(k->mctx, s))
		app_die("sink", "zc_enable: %s", strerror(errno));
	if (k->keepalive && mtcp_setsockopt(k->mctx, s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)))
		app_die("sink", "SO_KEEPALIVE: %s", strerror(errno));
	return s;
}

static void accept_all(struct sink *k, int ls)
{
	for (;;) {
		int s = mtcp_accept(k->mctx, ls, NULL, NULL);
		if (s < 0)
			return;
		mtcp_setsock_nonblock(k->mctx, s);
		if (k->opened == k->target) {
			mtcp_close(k->mctx, s);
			continue;
		}
		add_conn(k, s, MTCP_EPOLLIN | MTCP_EPOLLRDHUP);
	}
}

/* -P: the stream's first bytes are in; read nothing more (no EPOLLIN)
 * until resume_at. */
static void pause_conn(struct sink *k, struct conn *c)
{
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLRDHUP, .data.sockid = c->sock};

	c->paused = true;
	c->resume_at = app_now() + k->pause_s;
	mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_MOD, c->sock, &ev);
	fprintf(stderr, "sink: socket %d paused for %g s after %lu bytes\n", c->sock, k->pause_s,
		(unsigned long)c->bytes);
}

static void handle(struct sink *k, int sock, uint32_t events);

/* Streams whose pause is over are read again; true while one is paused. */
static bool resume_due(struct sink *k)
{
	bool waiting = false;

	for (int i = 0; i < k->opened; i++) {
		struct conn *c = &k->conns[i];
		if (!c->paused || c->resumed || c->done)
			continue;
		if (app_now() < c->resume_at) {
			waiting = true;
			continue;
		}
		struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLRDHUP,
					      .data.sockid = c->sock};
		c->resumed = true;
		mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_MOD, c->sock, &ev);
		handle(k, c->sock, 0);
	}
	return waiting;
}

static void handle(struct sink *k, int sock, uint32_t events)
{
	struct conn *c = &k->conns[k->by_sock[sock]];
	bool alive;

	if (c->done || (c->paused && !c->resumed))
		return;
	if (events & MTCP_EPOLLOUT) {
		/* connected: from now on only reading matters */
		struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLRDHUP,
					      .data.sockid = sock};
		mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_MOD, sock, &ev);
	}
	alive = k->zc ? drain_zc(k, c) : drain_copy(k, c);
	if (!alive || (events & (MTCP_EPOLLERR | MTCP_EPOLLHUP)))
		finish(k, c);
	else if (k->pause_s > 0 && !c->paused && c->bytes)
		pause_conn(k, c);
}

static const char *conn_hex(const void *ctx, int i)
{
	return ((const struct sink *)ctx)->conns[i].hex;
}

static void report(struct sink *k)
{
	uint64_t total = 0;

	for (int i = 0; i < k->opened; i++)
		total += k->conns[i].bytes;
	app_report(total, k->opened, k->t1 > k->t0 ? k->t1 - k->t0 : 0, conn_hex, k);
}

int main(int argc, char **argv)
{
	struct sink k = {0};
	const char *conf = NULL, *connect_to = NULL, *outfile = NULL;
	int port = 0, rcvbuf = 0, opt, ls = -1;
	struct sockaddr_in dst;
	struct app_stack st;

	k.target = 1;
	while ((opt = getopt(argc, argv, "f:l:c:k:zb:o:qKP:")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'l': port = atoi(optarg); break;
		case 'c': connect_to = optarg; break;
		case 'k': k.target = atoi(optarg); break;
		case 'z': k.zc = true; break;
		case 'b': rcvbuf = atoi(optarg); break;
		case 'o': outfile = optarg; break;
		case 'q': k.nohash = true; break;
		case 'K': k.keepalive = true; break;
		case 'P': k.pause_s = atof(optarg); break;
		default: usage();
		}
	}
	if (!conf || (!port == !connect_to) || k.target <= 0 || k.pause_s < 0)
		usage();
	if (connect_to && !app_parse_addr(connect_to, &dst))
		app_die("sink", "-c %s: expected IP:PORT", connect_to);
	if (outfile && !(k.out = fopen(outfile, "wb")))
		app_die("sink", "cannot open %s", outfile);
	app_stack_start("sink", conf, MAX_EVENTS, &st);
	k.mctx = st.mctx;
	k.ep = st.ep;
	k.conns = calloc((size_t)k.target, sizeof(*k.conns));
	k.by_sock = calloc((size_t)st.max_socks, sizeof(int));
	if (port) {
		ls = new_socket(&k, rcvbuf);
		app_stack_listen("sink", k.mctx, k.ep, ls, port);
	} else {
		for (int i = 0; i < k.target; i++) {
			int s = new_socket(&k, rcvbuf);

			app_stack_connect("sink", k.mctx, s, &dst, connect_to);
			add_conn(&k, s, MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLRDHUP);
		}
	}
	for (;;) {
		struct mtcp_epoll_event ev[MAX_EVENTS];
		/* a paused stream is looked at every 100 ms (-P); resuming
		 * one may end it */
		bool waiting = resume_due(&k);

		if (k.finished >= k.target)
			break;
		int n = mtcp_epoll_wait(k.mctx, k.ep, ev, MAX_EVENTS, waiting ? 100 : -1);
		if (n < 0)
			app_die("sink", "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			if (ev[i].data.sockid == ls)
				accept_all(&k, ls);
			else
				handle(&k, ev[i].data.sockid, ev[i].events);
		}
	}
	report(&k);
	if (ls >= 0)
		mtcp_close(k.mctx, ls);
	if (k.out)
		fclose(k.out);
	mtcp_destroy();
	free(k.conns);
	free(k.by_sock);
	return 0;
}
