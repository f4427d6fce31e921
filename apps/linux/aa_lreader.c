/*
 * aa_lreader - the Linux-sockets twin of aa_reader (apps/aa_reader.c): the
 * same hand-written CSV / HTTP parse in the application (apps/aa_twin.c)
 * over plain kernel sockets, the same JSON report and canonical dump
 * (apps/aa_canon.h). Thesis 4.3.3, figure 4.9's third curve ("an
 * application using the Linux TCP stack", GRO off on the receiving side).
 *
 *   aa_lreader (-c IP:PORT [-s SRC_IP] | -l PORT [-k CONNS]) [-m csv|http-res|http-req]
 *              [-F N] [-r STR]... [-a] [-q] [-t S] [-W S] [-b RCVBUF] [-T S]
 *
 * Options as aa_reader's; -s binds the connecting socket to SRC_IP (a
 * kernel address of the host). Reads with read() into a 256 KiB buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "aa_canon.h"
#include "aa_twin.h"
#include "app_common.h"

#define PROG "aa_lreader"
#define BUF (256 * 1024)

static const char *const mode_names[] = {"csv", "http-res", "http-req"};

struct lr {
	enum twin_mode mode;
	unsigned fields;
	bool answer;
	double t_limit, warmup, give_up;
	struct canon canon;
	struct twin twin;
	char *buf;
	size_t have;
	char *req;
	size_t req_len;
	uint64_t answered, bytes, bytes_w;
	double t_start, t0, tw, t_end;
	int conns, read_errno;
	bool timed_out, time_up;
};

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " (-c IP:PORT [-s SRC] | -l PORT [-k CONNS]) "
			"[-m csv|http-res|http-req] [-F N] [-r STR]... [-a] [-q] [-t S] [-W S] "
			"[-b RCVBUF] [-T S]\n");
	exit(2);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			app_die(PROG, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static bool out_of_time(struct lr *r)
{
	return app_out_of_time(r->t_start, r->t0, r->give_up, r->t_limit,
			       &r->timed_out, &r->time_up);
}

static void serve_conn(struct lr *r, int fd)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};

	r->conns++;
	r->have = 0;
	/* reads wake up every 100 ms so that -t/-T are noticed */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (r->req_len)
		write_all(fd, r->req, r->req_len);
	while (!out_of_time(r)) {
		ssize_t n = read(fd, r->buf + r->have, BUF - r->have);
		size_t used;
		double now;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			r->read_errno = errno;
			n = 0;
		}
		r->have += (size_t)n;
		r->bytes += (uint64_t)n;
		used = twin_feed(&r->twin, r->buf, r->have, n == 0);
		memmove(r->buf, r->buf + used, r->have - used);
		r->have -= used;
		if (r->have == BUF && !r->twin.failed)
			twin_too_long(&r->twin);
		for (; r->answer && r->answered < r->twin.msgs_done; r->answered++)
			write_all(fd, ok, sizeof(ok) - 1);
		now = app_now();
		if (!r->t0)
			r->t0 = r->tw = now;
		if (r->warmup > 0 && r->tw == r->t0 && now - r->t0 >= r->warmup) {
			r->tw = now;
			r->bytes_w = r->bytes;
		}
		r->t_end = now;
		if (n == 0 || r->twin.failed || r->twin.done)
			break;
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct lr r = {.fields = 4};
	const char *connect_to = NULL, *src = NULL;
	int port = 0, rcvbuf = 0, conns = 1, opt, one = 1;
	bool hash = true;
	struct sockaddr_in dst;

	r.req = calloc(1, 1);
	while ((opt = getopt(argc, argv, "c:s:l:k:m:F:r:aqt:W:b:T:")) != -1) {
		switch (opt) {
		case 'c': connect_to = optarg; break;
		case 's': src = optarg; break;
		case 'l': port = atoi(optarg); break;
		case 'k': conns = atoi(optarg); break;
		case 'm': {
			unsigned i = 0;
			while (i < 3 && strcmp(optarg, mode_names[i]))
				i++;
			if (i == 3)
				usage();
			r.mode = (enum twin_mode)i;
			break;
		}
		case 'F': r.fields = (unsigned)atoi(optarg); break;
		case 'r': app_append_unescaped(PROG, &r.req, &r.req_len, optarg); break;
		case 'a': r.answer = true; break;
		case 'q': hash = false; break;
		case 't': r.t_limit = atof(optarg); break;
		case 'W': r.warmup = atof(optarg); break;
		case 'b': rcvbuf = atoi(optarg); break;
		case 'T': r.give_up = atof(optarg); break;
		default: usage();
		}
	}
	if (!port == !connect_to || conns <= 0)
		usage();
	if (connect_to && !app_parse_addr(connect_to, &dst))
		app_die(PROG, "-c %s: expected IP:PORT", connect_to);
	canon_init(&r.canon, hash);
	if (!(r.buf = malloc(BUF)))
		app_die(PROG, "out of memory");
	r.t_start = app_now();
	if (connect_to) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			app_die(PROG, "socket: %s", strerror(errno));
		if (rcvbuf)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (src) {
			struct sockaddr_in a = {.sin_family = AF_INET};
			if (inet_pton(AF_INET, src, &a.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&a, sizeof(a)))
				app_die(PROG, "bind %s: %s", src, strerror(errno));
		}
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
			app_die(PROG, "connect %s: %s", connect_to, strerror(errno));
		if (twin_init(&r.twin, r.mode, r.fields, &r.canon))
			app_die(PROG, "bad -F %u", r.fields);
		serve_conn(&r, fd);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		int ls = socket(AF_INET, SOCK_STREAM, 0);
		if (ls < 0)
			app_die(PROG, "socket: %s", strerror(errno));
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (rcvbuf)
			setsockopt(ls, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 16))
			app_die(PROG, "listen on %d: %s", port, strerror(errno));
		fprintf(stderr, PROG ": listening on port %d\n", port);
		while (r.conns < conns && !out_of_time(&r)) {
			int fd = accept(ls, NULL, NULL);
			if (fd < 0) {
				if (errno == EINTR)
					continue;
				app_die(PROG, "accept: %s", strerror(errno));
			}
			twin_fini(&r.twin);
			if (twin_init(&r.twin, r.mode, r.fields, &r.canon))
				app_die(PROG, "bad -F %u", r.fields);
			serve_conn(&r, fd);
		}
		close(ls);
	}
	double secs = r.t_end > r.t0 ? r.t_end - r.t0 : 0;
	double msecs = r.t_end > r.tw ? r.t_end - r.tw : 0;
	printf("{\"mode\": \"%s\", \"path\": \"linux\", \"conns\": %d, \"bytes\": %llu, "
	       "\"seconds\": %.6f, \"gbps\": %.4f, \"measured_gbps\": %.4f, "
	       "\"measured_seconds\": %.6f, \"records_per_s\": %.0f, \"timed_out\": %s, "
	       "\"time_up\": %s, \"read_error\": \"%s\", ",
	       mode_names[r.mode], r.conns, (unsigned long long)r.bytes, secs,
	       secs > 0 ? (double)r.bytes * 8 / secs / 1e9 : 0,
	       msecs > 0 ? (double)(r.bytes - r.bytes_w) * 8 / msecs / 1e9 : 0, msecs,
	       secs > 0 ? (double)r.canon.records / secs : 0, r.timed_out ? "true" : "false",
	       r.time_up ? "true" : "false", r.read_errno ? strerror(r.read_errno) : "");
	canon_json(&r.canon, stdout);
	printf("}\n");
	fflush(stdout);
	twin_fini(&r.twin);
	free(r.buf);
	free(r.req);
	return r.timed_out ? 3 : 0;
}
