/*
 * source - send byte streams and report how many bytes, how fast, and the
 * SHA-256 of each stream (the counterpart of sink).
 *
 *   source -f stack.conf -c IP:PORT -n BYTES [-k CONNS] [-s SEED] [-i FILE] [-b SNDBUF]
 *   source -f stack.conf -l PORT -n BYTES [-k CONNS] [-s SEED] [-i FILE] [-b SNDBUF]
 *
 * Each stream carries BYTES of seeded pseudo-random data (or FILE's
 * contents); the source then half-closes (mtcp_shutdown SHUT_WR) and waits
 * for the peer to close. Prints one JSON object like sink's.
 *
 * -q (throughput runs): no SHA-256, and without -i the stream is one
 * seeded CHUNK generated once and sent over and over, as the Linux
 * baseline's sender (core_peer.py `blast`) sends one fixed buffer: the
 * generator would otherwise cost the application thread, on the network
 * thread's core, about as many cycles per byte as the stack's own copy.
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
#include "sha256.h"

#define MAX_EVENTS 256
#define CHUNK (64 * 1024)

struct conn {
	int sock;
	bool connected, shut, done;
	bool filled; /* -q: buf holds the one chunk sent over and over */
	uint64_t sent;
	uint64_t rng;
	FILE *in;
	char buf[CHUNK];
	size_t off, len; /* bytes of buf still to write */
	struct sha256 hash;
	char hex[65];
};

struct source {
	mctx_t mctx;
	int ep;
	uint64_t bytes;
	uint64_t seed;
	bool nohash;
	const char *infile;
	int target, opened, finished;
	struct conn *conns;
	int *by_sock;
	double t0, t1;
};

static void usage(void)
{
	fprintf(stderr, "usage: source -f CONF (-c IP:PORT | -l PORT) -n BYTES [-k CONNS] "
			"[-s SEED] [-i FILE] [-b SNDBUF] [-q]\n");
	exit(2);
}

static void refill(struct source *k, struct conn *c)
{
	uint64_t left = k->bytes - c->sent;
	size_t n = left < CHUNK ? (size_t)left : CHUNK;

	if (c->in) {
		n = fread(c->buf, 1, CHUNK, c->in);
	} else if (!k->nohash) {
		app_fill(&c->rng, c->buf, n);
	} else if (!c->filled) {
		app_fill(&c->rng, c->buf, CHUNK);
		c->filled = true;
	}
	if (!k->nohash)
		sha256_update(&c->hash, c->buf, n);
	c->off = 0;
	c->len = n;
}

static void finish(struct source *k, struct conn *c)
{
	c->done = true;
	sha256_hex(&c->hash, c->hex);
	mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_DEL, c->sock, NULL);
	mtcp_close(k->mctx, c->sock);
	k->finished++;
}

static void pump(struct source *k, struct conn *c)
{
	for (;;) {
		if (c->off == c->len) {
			if ((!c->in && c->sent >= k->bytes) || (c->in && feof(c->in))) {
				if (!c->shut) {
					mtcp_shutdown(k->mctx, c->sock, SHUT_WR);
					c->shut = true;
					k->t1 = app_now();
				}
				return;
			}
			refill(k, c);
			if (c->len == 0)
				continue;
		}
		ssize_t n = mtcp_write(k->mctx, c->sock, c->buf + c->off, c->len - c->off);
		if (n < 0) {
			if (errno != EAGAIN) {
				fprintf(stderr, "source: write: %s\n", strerror(errno));
				finish(k, c);
			}
			return;
		}
		c->off += (size_t)n;
		c->sent += (uint64_t)n;
	}
}

static void handle(struct source *k, int sock, uint32_t events)
{
	struct conn *c = &k->conns[k->by_sock[sock]];
	char tmp[4096];

	if (c->done)
		return;
	if (!k->t0)
		k->t0 = app_now();
	if (events & (MTCP_EPOLLIN | MTCP_EPOLLRDHUP | MTCP_EPOLLHUP | MTCP_EPOLLERR)) {
		/* the peer closed (or sent something we ignore) */
		ssize_t n;
		while ((n = mtcp_read(k->mctx, sock, tmp, sizeof(tmp))) > 0)
			;
		if (n < 0 && errno != EAGAIN) /* reset, or timed out (ETIMEDOUT) */
			fprintf(stderr, "source: read: %s\n", strerror(errno));
		if (n == 0 || (n < 0 && errno != EAGAIN) ||
		    (events & (MTCP_EPOLLHUP | MTCP_EPOLLERR))) {
			if (!c->shut)
				fprintf(stderr, "source: peer closed after %lu bytes\n",
					(unsigned long)c->sent);
			finish(k, c);
			return;
		}
	}
	if (events & MTCP_EPOLLOUT)
		pump(k, c);
}

static void add_conn(struct source *k, int sock)
{
	struct conn *c = &k->conns[k->opened];
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLRDHUP,
				      .data.sockid = sock};

	c->sock = sock;
	c->rng = k->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)k->opened + 1;
	sha256_init(&c->hash);
	if (k->infile && !(c->in = fopen(k->infile, "rb")))
		app_die("source", "cannot open %s", k->infile);
	k->by_sock[sock] = k->opened++;
	mtcp_epoll_ctl(k->mctx, k->ep, MTCP_EPOLL_CTL_ADD, sock, &ev);
}

static const char *conn_hex(const void *ctx, int i)
{
	return ((const struct source *)ctx)->conns[i].hex;
}

int main(int argc, char **argv)
{
	struct source k = {0};
	const char *conf = NULL, *connect_to = NULL;
	int port = 0, sndbuf = 0, opt, ls = -1;
	struct sockaddr_in dst;
	bool have_n = false;
	struct app_stack st;

	k.target = 1;
	k.seed = 1;
	while ((opt = getopt(argc, argv, "f:l:c:k:n:s:i:b:q")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'l': port = atoi(optarg); break;
		case 'c': connect_to = optarg; break;
		case 'k': k.target = atoi(optarg); break;
		case 'n': k.bytes = strtoull(optarg, NULL, 0); have_n = true; break;
		case 's': k.seed = strtoull(optarg, NULL, 0); break;
		case 'i': k.infile = optarg; break;
		case 'b': sndbuf = atoi(optarg); break;
		case 'q': k.nohash = true; break;
		default: usage();
		}
	}
	if (!conf || (!port == !connect_to) || k.target <= 0 || (!have_n && !k.infile))
		usage();
	if (connect_to && !app_parse_addr(connect_to, &dst))
		app_die("source", "-c %s: expected IP:PORT", connect_to);
	app_stack_start("source", conf, MAX_EVENTS, &st);
	k.mctx = st.mctx;
	k.ep = st.ep;
	k.conns = calloc((size_t)k.target, sizeof(*k.conns));
	k.by_sock = calloc((size_t)st.max_socks, sizeof(int));
	if (port) {
		ls = app_stack_socket("source", k.mctx, SO_SNDBUF, sndbuf);
		app_stack_listen("source", k.mctx, k.ep, ls, port);
	} else {
		for (int i = 0; i < k.target; i++) {
			int s = app_stack_socket("source", k.mctx, SO_SNDBUF, sndbuf);

			app_stack_connect("source", k.mctx, s, &dst, connect_to);
			add_conn(&k, s);
		}
	}
	while (k.finished < k.target) {
		struct mtcp_epoll_event ev[MAX_EVENTS];
		int n = mtcp_epoll_wait(k.mctx, k.ep, ev, MAX_EVENTS, -1);
		if (n < 0)
			app_die("source", "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			int s = ev[i].data.sockid;
			if (s == ls) {
				int a;
				while ((a = mtcp_accept(k.mctx, ls, NULL, NULL)) >= 0) {
					mtcp_setsock_nonblock(k.mctx, a);
					if (k.opened < k.target)
						add_conn(&k, a);
					else
						mtcp_close(k.mctx, a);
				}
			} else {
				handle(&k, s, ev[i].events);
			}
		}
	}
	uint64_t total = 0;
	for (int i = 0; i < k.opened; i++)
		total += k.conns[i].sent;
	app_report(total, k.opened, k.t1 > k.t0 ? k.t1 - k.t0 : 0, conn_hex, &k);
	if (ls >= 0)
		mtcp_close(k.mctx, ls);
	mtcp_destroy();
	for (int i = 0; i < k.opened; i++)
		if (k.conns[i].in)
			fclose(k.conns[i].in);
	free(k.conns);
	free(k.by_sock);
	return 0;
}
