/*
 * answer_server - a Linux (kernel sockets) server that endlessly sends
 * pre-generated records to every client that connects: the thesis' custom
 * server of sections 4.2.3 / 4.3.3 / 5.2.2. One chunk of records is built
 * in RAM once and each connection loops over it with large write()s, so the
 * server is never the bottleneck.
 *
 *   answer_server -l PORT [-B IP] [-s BODY | --csv FIELD [--fields N] | --raw]
 *                 [-c CHUNK] [-w WRITE] [-n BYTES] [-k CONNS] [-i]
 *
 * HTTP (default): HTTP/1.1 200 answers of a status line, seven headers
 *   (Server, Date, Content-Type, Content-Length, Connection, Cache-Control,
 *   X-Answer) and a body of BODY bytes (-s, default 2000);
 * --csv FIELD: CSV lines of N (--fields, default 4) fields of exactly FIELD
 *   bytes each, separated by ',' and ended by '\n';
 * --raw: pseudo-random bytes (throughput baselines: no structure).
 * -c  chunk size to build (default 4 MiB, rounded up to whole records);
 * -w  bytes per write() (default 1 MiB);
 * -n  stop each connection after BYTES (then close; the last record may be
 *     cut), default: until the client goes away;
 * -k  exit after CONNS connections ended (default: run until SIGTERM);
 * -i  read and discard what the client sends (default: ignored; the kernel
 *     buffers it).
 *
 * On start it prints one JSON line on stdout: {"mode", "record_bytes",
 * "chunk_bytes", "records_per_chunk"} and then "answer_server: listening on
 * port N" on stderr. Each connection is served by its own thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum mode { HTTP, CSV, RAW };

static struct {
	enum mode mode;
	size_t body, field, fields, chunk_min, wsize;
	unsigned long long limit;
	bool drain;
	char *chunk;
	size_t chunk_len, rec_len, n_recs;
	atomic_int ended;
} g = {.mode = HTTP, .body = 2000, .field = 16, .fields = 4, .chunk_min = 4u << 20,
       .wsize = 1u << 20};

static void die(const char *what)
{
	fprintf(stderr, "answer_server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: answer_server -l PORT [-B IP] [-s BODY | --csv FIELD [--fields N] "
			"| --raw] [-c CHUNK] [-w WRITE] [-n BYTES] [-k CONNS] [-i]\n");
	exit(2);
}

/* One HTTP answer with body size g.body; i numbers it (fixed width, so that
 * every answer has the same length). */
static size_t http_answer(char *dst, size_t cap, size_t i)
{
	int h = snprintf(dst, cap,
			 "HTTP/1.1 200 OK\r\n"
			 "Server: answer_server\r\n"
			 "Date: Thu, 01 Jan 2015 00:00:00 GMT\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: keep-alive\r\n"
			 "Cache-Control: no-cache\r\n"
			 "X-Answer: %08zu\r\n"
			 "\r\n", g.body, i % 100000000);
	if (h < 0 || (size_t)h + g.body > cap)
		return 0;
	for (size_t k = 0; k < g.body; k++)
		dst[h + k] = (char)('a' + (i + k) % 26);
	return (size_t)h + g.body;
}

static size_t csv_line(char *dst, size_t i)
{
	size_t o = 0;

	for (size_t f = 0; f < g.fields; f++) {
		for (size_t k = 0; k < g.field; k++)
			dst[o++] = (char)('a' + (i + f + k) % 26);
		dst[o++] = f + 1 < g.fields ? ',' : '\n';
	}
	return o;
}

static void build_chunk(void)
{
	if (g.mode == RAW) {
		uint64_t x = 0x9e3779b97f4a7c15ull;
		g.rec_len = 1;
		g.chunk_len = g.chunk_min;
		g.chunk = malloc(g.chunk_len);
		if (!g.chunk)
			die("malloc");
		for (size_t k = 0; k < g.chunk_len; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			g.chunk[k] = (char)x;
		}
		g.n_recs = g.chunk_len;
		return;
	}
	if (g.mode == HTTP) {
		/* every answer has the same length: measure the first one */
		char *tmp = malloc(512 + g.body);
		if (!tmp)
			die("malloc");
		g.rec_len = http_answer(tmp, 512 + g.body, 0);
		free(tmp);
	} else {
		g.rec_len = g.fields * (g.field + 1);
	}
	g.n_recs = (g.chunk_min + g.rec_len - 1) / g.rec_len;
	if (!g.n_recs)
		g.n_recs = 1;
	g.chunk_len = g.n_recs * g.rec_len;
	g.chunk = malloc(g.chunk_len + 1);
	if (!g.chunk)
		die("malloc");
	size_t o = 0;
	for (size_t i = 0; i < g.n_recs; i++) {
		size_t n = g.mode == HTTP ? http_answer(g.chunk + o, g.chunk_len + 1 - o, i)
					  : csv_line(g.chunk + o, i);
		if (n != g.rec_len) {
			fprintf(stderr, "answer_server: record %zu has %zu bytes, not %zu\n", i, n,
				g.rec_len);
			exit(1);
		}
		o += n;
	}
}

static void *drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[16384];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	unsigned long long sent = 0;
	size_t off = 0;
	pthread_t dr;
	bool draining = false;

	if (g.drain)
		draining = !pthread_create(&dr, NULL, drain, arg);
	while (!g.limit || sent < g.limit) {
		size_t n = g.chunk_len - off < g.wsize ? g.chunk_len - off : g.wsize;
		if (g.limit && g.limit - sent < n)
			n = (size_t)(g.limit - sent);
		ssize_t w = write(fd, g.chunk + off, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the client went away: that is how a run ends */
		sent += (unsigned long long)w;
		off = (off + (size_t)w) % g.chunk_len;
	}
	shutdown(fd, SHUT_WR);
	if (draining) {
		pthread_join(dr, NULL);
	} else {
		/* wait for the client's close so that it reads everything */
		char buf[4096];
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	close(fd);
	atomic_fetch_add(&g.ended, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"csv", required_argument, NULL, 'C'},
					   {"fields", required_argument, NULL, 'F'},
					   {"raw", no_argument, NULL, 'R'},
					   {NULL, 0, NULL, 0}};
	const char *bind_ip = "0.0.0.0";
	int port = 0, max_conns = 0, opt, one = 1;

	while ((opt = getopt_long(argc, argv, "l:B:s:c:w:n:k:i", lo, NULL)) != -1) {
		switch (opt) {
		case 'l': port = atoi(optarg); break;
		case 'B': bind_ip = optarg; break;
		case 's': g.body = strtoul(optarg, NULL, 0); break;
		case 'C': g.mode = CSV; g.field = strtoul(optarg, NULL, 0); break;
		case 'F': g.fields = strtoul(optarg, NULL, 0); break;
		case 'R': g.mode = RAW; break;
		case 'c': g.chunk_min = strtoul(optarg, NULL, 0); break;
		case 'w': g.wsize = strtoul(optarg, NULL, 0); break;
		case 'n': g.limit = strtoull(optarg, NULL, 0); break;
		case 'k': max_conns = atoi(optarg); break;
		case 'i': g.drain = true; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || !g.wsize || !g.chunk_min ||
	    (g.mode == CSV && (!g.field || !g.fields)) || g.body > (1u << 30))
		usage();
	signal(SIGPIPE, SIG_IGN);
	build_chunk();
	printf("{\"mode\": \"%s\", \"record_bytes\": %zu, \"chunk_bytes\": %zu, "
	       "\"records_per_chunk\": %zu}\n",
	       g.mode == HTTP ? "http" : g.mode == CSV ? "csv" : "raw", g.rec_len, g.chunk_len,
	       g.n_recs);
	fflush(stdout);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (ls < 0)
		die("socket");
	if (inet_pton(AF_INET, bind_ip, &a.sin_addr) != 1)
		usage();
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1024))
		die("bind/listen");
	fprintf(stderr, "answer_server: listening on port %d\n", port);
	for (int accepted = 0; !max_conns || accepted < max_conns; accepted++) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				accepted--;
				continue;
			}
			die("accept");
		}
		pthread_t th;
		if (pthread_create(&th, NULL, serve, (void *)(intptr_t)fd))
			die("pthread_create");
		pthread_detach(th);
	}
	while (atomic_load(&g.ended) < max_conns)
		usleep(10000);
	return 0;
}
