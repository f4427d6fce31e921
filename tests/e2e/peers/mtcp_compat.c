/*
 * mtcp_compat.c - a program written the way mTCP's example applications are
 * (apps/example/epwget.c and epserver.c of mTCP's public repository), to
 * show that such programs run on aatcp unchanged (issue 12). Our own code;
 * the calling patterns are mTCP's:
 *
 *   - mtcp_getconf/mtcp_setconf(num_cores) before mtcp_init() (-N), and
 *     mtcp_getconf/mtcp_setconf(max_concurrency, max_num_buffers) after it;
 *   - mtcp_register_signal(SIGINT) whose handler only sets done[core];
 *   - one thread per core: mtcp_core_affinitize, mtcp_create_context,
 *     mtcp_init_rss (client), mtcp_epoll_create, and a loop around
 *     mtcp_epoll_wait(..., -1) that ends when it returns -1 with EINTR;
 *   - per-socket state in an array indexed by the socket id and sized by
 *     max_concurrency (ids must be below it, or this program exits 3).
 *
 * Client: mtcp_compat -f conf [-N cores] -s ip:port [-u /path] [-c conc]
 *                     [-n requests (0: until SIGINT)]
 *   HTTP/1.0 GETs, one per connection; prints {"mode": "client", "requests",
 *   "errors", "bytes", "sha256" (of the first body), "same" (all bodies equal)}.
 * Server: mtcp_compat -f conf [-N cores] -l port [-b body_bytes]
 *   answers every request (HTTP/1.1 keep-alive) with the same body until
 *   SIGINT; prints {"mode": "server", "requests", "conns", "sha256" (of the
 *   body)}. Both print "max_sockid" and "max_concurrency", exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mtcp_api.h>
#include <mtcp_epoll.h>

#include "app_common.h"
#include "sha256.h"

#define MAX_CPUS 16
#define HDR_MAX 2048
#define BUF_SIZE 8192

/* ---- per program ---- */
static int num_cores = 1;
static int is_server;
static struct sockaddr_in server_addr;
static const char *path = "/";
static int concurrency = 8;
static long total_requests;      /* client: 0 = until SIGINT */
static int listen_port;
static size_t body_len = 10000;
static char *body;
static int max_fds;
static volatile int done[MAX_CPUS];
static volatile int interrupted;

/* ---- per socket (indexed by socket id) ---- */
struct conn_vars {
	int used;
	/* client */
	char hdr[HDR_MAX];
	int hdr_len;
	int hdr_done;
	long content_len;
	long got;
	struct sha256 sha;
	/* server */
	int eoh_state;           /* bytes of "\r\n\r\n" matched so far */
	long pending;            /* requests not yet answered */
	size_t sent;             /* of the current answer */
};

struct thread_context {
	int core;
	mctx_t mctx;
	int ep;
	struct conn_vars *vars;
	long target, started, completed, errors, pending;
	unsigned long long bytes;
	long requests, conns;
	int max_sockid;
	char first_hex[65];
	int same;
	pthread_t thread;
};

static struct thread_context g_ctx[MAX_CPUS];
static char resp_hdr[256];
static size_t resp_hdr_len;

static void SignalHandler(int signum)
{
	(void)signum;
	interrupted = 1;
	for (int i = 0; i < num_cores; i++)
		done[i] = 1;
}

static struct conn_vars *VarsOf(struct thread_context *ctx, int sockid)
{
	if (sockid < 0 || sockid >= max_fds) {
		fprintf(stderr, "mtcp_compat: socket id %d is not below max_concurrency %d\n",
			sockid, max_fds);
		exit(3);
	}
	if (sockid > ctx->max_sockid)
		ctx->max_sockid = sockid;
	return &ctx->vars[sockid];
}

static void CloseConnection(struct thread_context *ctx, int sockid)
{
	mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_DEL, sockid, NULL);
	mtcp_close(ctx->mctx, sockid);
	ctx->vars[sockid].used = 0;
}

/* ------------------------------------------------------------ client */

static int CreateConnection(struct thread_context *ctx)
{
	struct mtcp_epoll_event ev;
	int sockid = mtcp_socket(ctx->mctx, AF_INET, SOCK_STREAM, 0);

	if (sockid < 0) {
		fprintf(stderr, "mtcp_compat: mtcp_socket: %s\n", strerror(errno));
		return -1;
	}
	struct conn_vars *v = VarsOf(ctx, sockid);
	memset(v, 0, sizeof(*v));
	v->used = 1;
	v->content_len = -1;
	sha256_init(&v->sha);
	mtcp_setsock_nonblock(ctx->mctx, sockid);
	if (mtcp_connect(ctx->mctx, sockid, (struct sockaddr *)&server_addr,
			 sizeof(server_addr)) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "mtcp_compat: mtcp_connect: %s\n", strerror(errno));
		mtcp_close(ctx->mctx, sockid);
		v->used = 0;
		return -1;
	}
	ctx->started++;
	ctx->pending++;
	ev.events = MTCP_EPOLLOUT;
	ev.data.sockid = sockid;
	mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_ADD, sockid, &ev);
	return sockid;
}

static void SendRequest(struct thread_context *ctx, int sockid)
{
	char req[512];
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = sockid};
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
			   "User-Agent: mtcp_compat\r\nConnection: close\r\n\r\n", path,
			   inet_ntoa(server_addr.sin_addr));

	if (mtcp_write(ctx->mctx, sockid, req, (size_t)len) != len) {
		ctx->errors++;
		ctx->pending--;
		CloseConnection(ctx, sockid);
		return;
	}
	mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_MOD, sockid, &ev);
}

/* Splits header and body; the body goes into the hash. */
static void TakeBytes(struct conn_vars *v, const char *buf, int n)
{
	if (!v->hdr_done) {
		int room = HDR_MAX - 1 - v->hdr_len, take = n < room ? n : room;
		memcpy(v->hdr + v->hdr_len, buf, (size_t)take);
		v->hdr_len += take;
		v->hdr[v->hdr_len] = '\0';
		char *end = strstr(v->hdr, "\r\n\r\n");
		if (!end)
			return;
		v->hdr_done = 1;
		int hlen = (int)(end + 4 - v->hdr);
		char *cl = strstr(v->hdr, "Content-Length:");
		if (!cl)
			cl = strstr(v->hdr, "content-length:");
		if (cl)
			v->content_len = atol(cl + 15);
		/* body bytes of this read: after the header */
		int before = v->hdr_len - take; /* header bytes from earlier reads */
		buf += hlen - before;
		n -= hlen - before;
	}
	sha256_update(&v->sha, buf, (size_t)n);
	v->got += n;
}

static void DownloadDone(struct thread_context *ctx, int sockid, struct conn_vars *v)
{
	char hex[65];
	bool ok = v->hdr_done && !strncmp(v->hdr, "HTTP/1.1 200", 12) &&
		  (v->content_len < 0 || v->got == v->content_len);

	ctx->pending--;
	if (!ok) {
		ctx->errors++;
	} else {
		sha256_hex(&v->sha, hex);
		if (!ctx->first_hex[0])
			memcpy(ctx->first_hex, hex, sizeof(hex));
		else if (strcmp(hex, ctx->first_hex))
			ctx->same = 0;
		ctx->completed++;
		ctx->bytes += (unsigned long long)v->got;
	}
	CloseConnection(ctx, sockid);
}

static void HandleReadEvent(struct thread_context *ctx, int sockid)
{
	struct conn_vars *v = VarsOf(ctx, sockid);
	char buf[BUF_SIZE];
	int rd;

	while ((rd = (int)mtcp_read(ctx->mctx, sockid, buf, sizeof(buf))) > 0)
		TakeBytes(v, buf, rd);
	if (rd == 0 || (v->content_len >= 0 && v->got >= v->content_len))
		DownloadDone(ctx, sockid, v);
	else if (errno != EAGAIN) {
		ctx->errors++;
		ctx->pending--;
		CloseConnection(ctx, sockid);
	}
}

static void RunClient(struct thread_context *ctx, struct mtcp_epoll_event *events)
{
	while (!done[ctx->core]) {
		while (ctx->pending < concurrency &&
		       (ctx->target == 0 || ctx->started < ctx->target))
			if (CreateConnection(ctx) < 0) {
				done[ctx->core] = 1;
				break;
			}
		if (ctx->target && ctx->completed + ctx->errors >= ctx->target)
			break;
		int n = mtcp_epoll_wait(ctx->mctx, ctx->ep, events, max_fds, -1);
		if (n < 0) {
			if (errno != EINTR)
				fprintf(stderr, "mtcp_compat: mtcp_epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int sockid = events[i].data.sockid;
			if (!VarsOf(ctx, sockid)->used)
				continue;
			if (events[i].events & MTCP_EPOLLERR) {
				ctx->errors++;
				ctx->pending--;
				CloseConnection(ctx, sockid);
			} else if (events[i].events & MTCP_EPOLLIN) {
				HandleReadEvent(ctx, sockid);
			} else if (events[i].events & MTCP_EPOLLOUT) {
				SendRequest(ctx, sockid);
			}
		}
	}
}

/* ------------------------------------------------------------ server */

static void SendPending(struct thread_context *ctx, int sockid, struct conn_vars *v)
{
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = sockid};

	while (v->pending > 0) {
		size_t total = resp_hdr_len + body_len;
		const char *from = v->sent < resp_hdr_len ? resp_hdr + v->sent
							   : body + (v->sent - resp_hdr_len);
		size_t len = v->sent < resp_hdr_len ? resp_hdr_len - v->sent : total - v->sent;
		ssize_t wr = mtcp_write(ctx->mctx, sockid, from, len);
		if (wr < 0 && errno != EAGAIN) {
			CloseConnection(ctx, sockid);
			return;
		}
		if (wr > 0)
			v->sent += (size_t)wr;
		if (v->sent == total) {
			v->sent = 0;
			v->pending--;
			ctx->requests++;
			continue;
		}
		if (wr < (ssize_t)len) {
			ev.events |= MTCP_EPOLLOUT; /* the rest when there is room */
			break;
		}
	}
	mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_MOD, sockid, &ev);
}

/* Counts the requests that ended in buf (each ends with an empty line). */
static void CountRequests(struct conn_vars *v, const char *buf, int n)
{
	static const char eoh[] = "\r\n\r\n";

	for (int i = 0; i < n; i++) {
		if (buf[i] == eoh[v->eoh_state])
			v->eoh_state++;
		else
			v->eoh_state = buf[i] == '\r' ? 1 : 0;
		if (v->eoh_state == 4) {
			v->pending++;
			v->eoh_state = 0;
		}
	}
}

static void HandleRequest(struct thread_context *ctx, int sockid)
{
	struct conn_vars *v = VarsOf(ctx, sockid);
	char buf[BUF_SIZE];
	int rd;

	while ((rd = (int)mtcp_read(ctx->mctx, sockid, buf, sizeof(buf))) > 0)
		CountRequests(v, buf, rd);
	if (rd == 0 || (rd < 0 && errno != EAGAIN)) {
		CloseConnection(ctx, sockid);
		return;
	}
	SendPending(ctx, sockid, v);
}

static void AcceptConnections(struct thread_context *ctx, int listener)
{
	int c;

	while ((c = mtcp_accept(ctx->mctx, listener, NULL, NULL)) >= 0) {
		struct conn_vars *v = VarsOf(ctx, c);
		struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = c};
		memset(v, 0, sizeof(*v));
		v->used = 1;
		ctx->conns++;
		mtcp_setsock_nonblock(ctx->mctx, c);
		mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_ADD, c, &ev);
	}
}

static int CreateListeningSocket(struct thread_context *ctx)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port),
				.sin_addr = {.s_addr = INADDR_ANY}};
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN};
	int ls = mtcp_socket(ctx->mctx, AF_INET, SOCK_STREAM, 0);

	if (ls < 0 || mtcp_setsock_nonblock(ctx->mctx, ls) ||
	    mtcp_bind(ctx->mctx, ls, (struct sockaddr *)&a, sizeof(a)) ||
	    mtcp_listen(ctx->mctx, ls, 4096)) {
		fprintf(stderr, "mtcp_compat: listen on %d: %s\n", listen_port, strerror(errno));
		return -1;
	}
	VarsOf(ctx, ls);
	ev.data.sockid = ls;
	mtcp_epoll_ctl(ctx->mctx, ctx->ep, MTCP_EPOLL_CTL_ADD, ls, &ev);
	return ls;
}

static void RunServer(struct thread_context *ctx, struct mtcp_epoll_event *events)
{
	int ls = CreateListeningSocket(ctx);

	if (ls < 0)
		exit(1);
	fprintf(stderr, "mtcp_compat: core %d listening on port %d\n", ctx->core, listen_port);
	while (!done[ctx->core]) {
		int n = mtcp_epoll_wait(ctx->mctx, ctx->ep, events, max_fds, -1);
		if (n < 0) {
			if (errno != EINTR)
				fprintf(stderr, "mtcp_compat: mtcp_epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int sockid = events[i].data.sockid;
			if (sockid == ls)
				AcceptConnections(ctx, ls);
			else if (!VarsOf(ctx, sockid)->used)
				continue;
			else if (events[i].events & (MTCP_EPOLLERR | MTCP_EPOLLHUP))
				CloseConnection(ctx, sockid);
			else if (events[i].events & MTCP_EPOLLIN)
				HandleRequest(ctx, sockid);
			else if (events[i].events & MTCP_EPOLLOUT)
				SendPending(ctx, sockid, VarsOf(ctx, sockid));
		}
	}
	mtcp_close(ctx->mctx, ls);
}

/* ------------------------------------------------------------ threads */

static void *RunMain(void *arg)
{
	struct thread_context *ctx = arg;
	struct mtcp_epoll_event *events;

	mtcp_core_affinitize(ctx->core);
	ctx->mctx = mtcp_create_context(ctx->core);
	if (!ctx->mctx) {
		fprintf(stderr, "mtcp_compat: mtcp_create_context(%d) failed\n", ctx->core);
		exit(1);
	}
	if (!is_server)
		mtcp_init_rss(ctx->mctx, INADDR_ANY, 1, server_addr.sin_addr.s_addr,
			      server_addr.sin_port);
	ctx->ep = mtcp_epoll_create(ctx->mctx, max_fds);
	events = calloc((size_t)max_fds, sizeof(*events));
	ctx->vars = calloc((size_t)max_fds, sizeof(*ctx->vars));
	if (ctx->ep < 0 || !events || !ctx->vars) {
		fprintf(stderr, "mtcp_compat: core %d: epoll or memory\n", ctx->core);
		exit(1);
	}
	VarsOf(ctx, ctx->ep);
	ctx->same = 1;
	if (is_server)
		RunServer(ctx, events);
	else
		RunClient(ctx, events);
	for (int s = 0; s < max_fds; s++) /* what is still open */
		if (ctx->vars[s].used)
			CloseConnection(ctx, s);
	mtcp_destroy_context(ctx->mctx);
	free(events);
	free(ctx->vars);
	return NULL;
}

static void Usage(void)
{
	fprintf(stderr, "usage: mtcp_compat -f conf [-N cores] (-s ip:port [-u path] [-c conc] "
			"[-n requests] | -l port [-b bytes])\n");
	exit(2);
}

static void Report(void)
{
	long requests = 0, errors = 0, conns = 0;
	unsigned long long bytes = 0;
	int max_sockid = -1, same = 1;
	const char *first = "";

	for (int i = 0; i < num_cores; i++) {
		struct thread_context *c = &g_ctx[i];
		requests += is_server ? c->requests : c->completed;
		errors += c->errors;
		conns += c->conns;
		bytes += c->bytes;
		max_sockid = c->max_sockid > max_sockid ? c->max_sockid : max_sockid;
		if (c->first_hex[0] && !first[0])
			first = c->first_hex;
		same &= c->same && (!c->first_hex[0] || !strcmp(c->first_hex, first));
	}
	if (is_server) {
		struct sha256 s;
		static char hex[65];
		sha256_init(&s);
		sha256_update(&s, body, body_len);
		sha256_hex(&s, hex);
		first = hex;
	}
	printf("{\"mode\": \"%s\", \"requests\": %ld, \"errors\": %ld, \"conns\": %ld, "
	       "\"bytes\": %llu, \"sha256\": \"%s\", \"same\": %s, \"interrupted\": %s, "
	       "\"max_sockid\": %d, \"max_concurrency\": %d, \"cores\": %d}\n",
	       is_server ? "server" : "client", requests, errors, conns, bytes, first,
	       same ? "true" : "false", interrupted ? "true" : "false", max_sockid, max_fds,
	       num_cores);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct mtcp_conf mcfg;
	const char *conf_file = NULL;
	int core_limit = 0, o;

	while ((o = getopt(argc, argv, "f:N:s:u:c:n:l:b:")) != -1) {
		switch (o) {
		case 'f': conf_file = optarg; break;
		case 'N': core_limit = atoi(optarg); break;
		case 's': if (!app_parse_addr(optarg, &server_addr)) Usage(); break;
		case 'u': path = optarg; break;
		case 'c': concurrency = atoi(optarg); break;
		case 'n': total_requests = atol(optarg); break;
		case 'l': listen_port = atoi(optarg); is_server = 1; break;
		case 'b': body_len = (size_t)atol(optarg); break;
		default: Usage();
		}
	}
	if (!conf_file || (!is_server && !server_addr.sin_port) || concurrency < 1 ||
	    core_limit > MAX_CPUS)
		Usage();
	/* as mTCP's examples: -N before mtcp_init(), the file may override it */
	if (core_limit > 0) {
		mtcp_getconf(&mcfg);
		mcfg.num_cores = core_limit;
		mtcp_setconf(&mcfg);
	}
	if (mtcp_init(conf_file)) {
		fprintf(stderr, "mtcp_compat: mtcp_init(%s) failed\n", conf_file);
		return 1;
	}
	mtcp_getconf(&mcfg);
	num_cores = mcfg.num_cores > MAX_CPUS ? MAX_CPUS : mcfg.num_cores;
	/* as mTCP's epwget: size the id space after mtcp_init() */
	max_fds = is_server ? mcfg.max_concurrency : concurrency * 3 + 8;
	mcfg.max_concurrency = max_fds;
	mcfg.max_num_buffers = max_fds;
	if (mtcp_setconf(&mcfg)) {
		fprintf(stderr, "mtcp_compat: mtcp_setconf: %s\n", strerror(errno));
		return 1;
	}
	mtcp_register_signal(SIGINT, SignalHandler);
	body = malloc(body_len ? body_len : 1);
	for (size_t i = 0; i < body_len; i++)
		body[i] = (char)('a' + (i * 7 + i / 26) % 26);
	resp_hdr_len = (size_t)snprintf(resp_hdr, sizeof(resp_hdr),
					"HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
					"Content-Type: text/plain\r\nConnection: keep-alive\r\n\r\n",
					body_len);
	for (int i = 0; i < num_cores; i++) {
		g_ctx[i].core = i;
		g_ctx[i].max_sockid = -1;
		g_ctx[i].target = total_requests / num_cores + (i < total_requests % num_cores);
		if (total_requests && !g_ctx[i].target)
			done[i] = 1;
		if (pthread_create(&g_ctx[i].thread, NULL, RunMain, &g_ctx[i])) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < num_cores; i++)
		pthread_join(g_ctx[i].thread, NULL);
	Report();
	mtcp_destroy();
	free(body);
	return 0;
}
