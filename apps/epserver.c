/*
 * epserver - mTCP's example web server, on aatcp: serves the files of a
 * directory from memory over HTTP/1.1 with keep-alive, one thread per core.
 *
 *   epserver -p www_dir -f stack.conf [-N cores] [-l port]
 *
 * Same flags as mTCP's epserver (plus -l, default 80). Requests are
 * answered in order; a request for a missing file gets 404, a request we do
 * not understand gets 400 and the connection closes.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "app_common.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"

#define MAX_FILES 1024
#define MAX_EVENTS 1024
#define REQ_MAX 8192

/* A file served from memory, with its two answer heads made at load time
 * (index: keep-alive or not): a request costs no formatting. */
struct file {
	char name[256];
	char *data;
	size_t len;
	char head[2][160];
	size_t head_len[2];
};

static struct file files[MAX_FILES];
static int n_files;
static int listen_port = 80;
static volatile sig_atomic_t done;

struct conn {
	bool used;
	char req[REQ_MAX];
	size_t req_len;
	const char *hdr;
	size_t hdr_len, hdr_off;
	const char *body;
	size_t body_len, body_off;
	bool close_after;
	bool sending;
};

/* A new connection's state; its buffers are written before they are read,
 * so they are not cleared (8 KB per accept). */
static void conn_reset(struct conn *c)
{
	c->used = true;
	c->req_len = 0;
	c->hdr = NULL;
	c->hdr_len = c->hdr_off = 0;
	c->body = NULL;
	c->body_len = c->body_off = 0;
	c->close_after = false;
	c->sending = false;
}

struct worker {
	int core;
	mctx_t mctx;
	int ep, ls;
	struct conn *conns;
	int n_conns;
	unsigned long requests;
};

static struct file not_found = {.name = "", .data = "not found\n", .len = 10};

static void make_heads(struct file *f, int status, const char *reason)
{
	for (int keep = 0; keep < 2; keep++)
		f->head_len[keep] = (size_t)snprintf(
			f->head[keep], sizeof(f->head[keep]),
			"HTTP/1.1 %d %s\r\nServer: aatcp-epserver\r\n"
			"Content-Length: %zu\r\nConnection: %s\r\n\r\n",
			status, reason, f->len, keep ? "keep-alive" : "close");
}

static void load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		app_die("epserver", "-p %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n_files < MAX_FILES) {
		char path[4096];
		struct stat st;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || strlen(e->d_name) >= 255)
			continue;
		struct file *fl = &files[n_files];
		snprintf(fl->name, sizeof(fl->name), "%s", e->d_name);
		fl->len = (size_t)st.st_size;
		fl->data = malloc(fl->len ? fl->len : 1);
		f = fopen(path, "rb");
		if (!fl->data || !f || fread(fl->data, 1, fl->len, f) != fl->len)
			app_die("epserver", "cannot read %s", path);
		fclose(f);
		make_heads(fl, 200, "OK");
		n_files++;
	}
	closedir(d);
	fprintf(stderr, "epserver: %d files loaded from %s\n", n_files, dir);
}

static const struct file *find(const char *path, size_t len)
{
	while (len && *path == '/')
		path++, len--;
	for (int i = 0; i < n_files; i++)
		if (strlen(files[i].name) == len && !memcmp(files[i].name, path, len))
			return &files[i];
	return NULL;
}

static void close_conn(struct worker *w, int s)
{
	w->conns[s].used = false;
	mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_DEL, s, NULL);
	mtcp_close(w->mctx, s);
}

/* The next token of [*p, end) up to `stop` (not included); *p moves past
 * the stop byte. NULL when the stop byte is missing or the token empty. */
static const char *token(const char **p, const char *end, char stop, size_t *len)
{
	const char *t = *p, *e = memchr(t, stop, (size_t)(end - t));

	if (!e || e == t)
		return NULL;
	*len = (size_t)(e - t);
	*p = e + 1;
	return t;
}

/* Whether the header block [h, end) (lines after the request line) asks
 * for keep-alive, starting from `keep`: the last Connection field wins. */
static bool connection_keep(const char *h, const char *end, bool keep)
{
	static const char name[] = "connection:";

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));
		const char *next = eol ? eol + 1 : end;

		if ((size_t)(next - h) > sizeof(name) - 1 && !strncasecmp(h, name, sizeof(name) - 1)) {
			const char *v = h + sizeof(name) - 1;
			while (v < next && (*v == ' ' || *v == '\t'))
				v++;
			keep = (size_t)(next - v) >= 10 && !strncasecmp(v, "keep-alive", 10);
		}
		h = next;
	}
	return keep;
}

/* Parses one complete request at the start of c->req (ends with an empty
 * line, RFC 9112 2.1) and prepares the answer. Returns the request's
 * length, 0 if it is not complete yet, -1 if it is malformed. */
static long prepare(struct conn *c)
{
	const char *end = memmem(c->req, c->req_len, "\r\n\r\n", 4);
	const char *p = c->req, *method, *path, *version;
	size_t mlen, plen, vlen;
	const struct file *f;

	if (!end)
		return c->req_len >= REQ_MAX ? -1 : 0;
	/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3) */
	if (!(method = token(&p, end, ' ', &mlen)) || !(path = token(&p, end, ' ', &plen)) ||
	    !(version = token(&p, end + 2, '\n', &vlen)) || vlen != 9 || version[8] != '\r' ||
	    strncmp(version, "HTTP/1.", 7))
		return -1;
	bool head = mlen == 4 && !memcmp(method, "HEAD", 4);
	if (!head && !(mlen == 3 && !memcmp(method, "GET", 3)))
		return -1;
	/* HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes unless
	 * asked to keep it (RFC 9112 9.3) */
	bool keep = connection_keep(p, end + 2, version[7] == '1');
	f = find(path, plen);
	if (!f)
		f = &not_found;
	c->hdr = f->head[keep];
	c->hdr_len = f->head_len[keep];
	c->body = f->data;
	c->body_len = head ? 0 : f->len;
	c->hdr_off = c->body_off = 0;
	c->close_after = !keep;
	c->sending = true;
	return (long)(end + 4 - c->req);
}

static void bad_request(struct worker *w, int s)
{
	static const char msg[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
				  "Connection: close\r\n\r\n";

	mtcp_write(w->mctx, s, msg, sizeof(msg) - 1);
	close_conn(w, s);
}

/* Writes as much of the answer (head and body, one call) as the socket
 * takes. */
static bool send_answer(struct worker *w, int s, struct conn *c)
{
	while (c->hdr_off < c->hdr_len || c->body_off < c->body_len) {
		struct iovec v[2] = {
			{(void *)(uintptr_t)(c->hdr + c->hdr_off), c->hdr_len - c->hdr_off},
			{(void *)(uintptr_t)(c->body + c->body_off), c->body_len - c->body_off},
		};
		int n = mtcp_writev(w->mctx, s, v, 2);
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		size_t h = v[0].iov_len < (size_t)n ? v[0].iov_len : (size_t)n;
		c->hdr_off += h;
		c->body_off += (size_t)n - h;
	}
	c->sending = false;
	w->requests++;
	return true;
}

static void serve(struct worker *w, int s)
{
	struct conn *c = &w->conns[s];

	for (;;) {
		if (c->sending) {
			if (!send_answer(w, s, c)) {
				close_conn(w, s);
				return;
			}
			if (c->sending)
				return; /* wait for EPOLLOUT */
			if (c->close_after) {
				close_conn(w, s);
				return;
			}
		}
		long used = prepare(c);
		if (used < 0) {
			bad_request(w, s);
			return;
		}
		if (used > 0) {
			memmove(c->req, c->req + used, c->req_len - (size_t)used);
			c->req_len -= (size_t)used;
			continue;
		}
		ssize_t n = mtcp_read(w->mctx, s, c->req + c->req_len, REQ_MAX - c->req_len);
		if (n > 0) {
			c->req_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		close_conn(w, s); /* peer closed or reset */
		return;
	}
}

static void accept_all(struct worker *w)
{
	for (;;) {
		int s = mtcp_accept(w->mctx, w->ls, NULL, NULL);
		if (s < 0)
			return;
		if (s >= w->n_conns) {
			mtcp_close(w->mctx, s);
			continue;
		}
		struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLET,
					      .data.sockid = s};
		int one = 1;
		mtcp_setsock_nonblock(w->mctx, s);
		mtcp_setsockopt(w->mctx, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conn_reset(&w->conns[s]);
		mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN};
	struct mtcp_epoll_event evs[MAX_EVENTS];
	struct mtcp_conf mc;

	/* each worker on its network thread's CPU, as mTCP's epserver */
	if (mtcp_core_affinitize(w->core))
		fprintf(stderr, "epserver: core %d: affinitize: %s (left unpinned)\n", w->core,
			strerror(errno));
	w->mctx = mtcp_create_context(w->core);
	if (!w->mctx)
		app_die("epserver", "mtcp_create_context(%d): %s", w->core, strerror(errno));
	mtcp_getconf(&mc);
	w->n_conns = mc.max_concurrency; /* every id is below it, as in mTCP */
	w->conns = calloc((size_t)w->n_conns, sizeof(*w->conns));
	w->ep = mtcp_epoll_create(w->mctx, MAX_EVENTS);
	w->ls = mtcp_socket(w->mctx, AF_INET, SOCK_STREAM, 0);
	mtcp_setsock_nonblock(w->mctx, w->ls);
	if (mtcp_bind(w->mctx, w->ls, (struct sockaddr *)&a, sizeof(a)) ||
	    mtcp_listen(w->mctx, w->ls, 4096))
		app_die("epserver", "listen on port %d: %s", listen_port, strerror(errno));
	ev.data.sockid = w->ls;
	mtcp_epoll_ctl(w->mctx, w->ep, MTCP_EPOLL_CTL_ADD, w->ls, &ev);
	fprintf(stderr, "epserver: core %d listening on port %d\n", w->core, listen_port);
	while (!done) {
		int n = mtcp_epoll_wait(w->mctx, w->ep, evs, MAX_EVENTS, 200);
		for (int i = 0; i < n; i++) {
			int s = evs[i].data.sockid;
			if (s == w->ls)
				accept_all(w);
			else if (s < w->n_conns && w->conns[s].used)
				serve(w, s);
		}
	}
	mtcp_close(w->mctx, w->ls);
	free(w->conns);
	w->conns = NULL;
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *conf = NULL;
	int cores = 0, opt;
	struct worker w[16];
	pthread_t th[16];
	struct mtcp_conf mc;

	while ((opt = getopt(argc, argv, "p:f:N:l:h")) != -1) {
		switch (opt) {
		case 'p': dir = optarg; break;
		case 'f': conf = optarg; break;
		case 'N': cores = atoi(optarg); break;
		case 'l': listen_port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: epserver -p www_dir -f conf [-N cores] [-l port]\n");
			return 2;
		}
	}
	if (!dir || !conf) {
		fprintf(stderr, "usage: epserver -p www_dir -f conf [-N cores] [-l port]\n");
		return 2;
	}
	load_dir(dir);
	make_heads(&not_found, 404, "Not Found");
	if (cores > 0) {
		mtcp_getconf(&mc);
		mc.num_cores = cores;
		mtcp_setconf(&mc);
	}
	if (mtcp_init(conf))
		app_die("epserver", "mtcp_init(%s) failed", conf);
	mtcp_register_signal(SIGINT, on_signal);
	mtcp_register_signal(SIGTERM, on_signal);
	mtcp_getconf(&mc);
	cores = mc.num_cores > 16 ? 16 : mc.num_cores;
	for (int i = 0; i < cores; i++) {
		w[i] = (struct worker){.core = i};
		pthread_create(&th[i], NULL, run, &w[i]);
	}
	unsigned long total = 0;
	for (int i = 0; i < cores; i++) {
		pthread_join(th[i], NULL);
		total += w[i].requests;
	}
	printf("{\"requests\": %lu}\n", total);
	fflush(stdout);
	mtcp_destroy();
	return 0;
}
