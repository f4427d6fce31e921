/*
 * lsink - a Linux (kernel sockets) netcat-like sink for the chapter 5
 * experiments: opens connections, reads them with read() calls of a chosen
 * size and reports the throughput (thesis figure 5.5 sweeps that size).
 *
 *   lsink -c IP:PORT [-k CONNS] [-r READ] [-t SECONDS] [-W WARMUP] [-n BYTES]
 *         [-R RCVBUF] [-g TEXT] [-T CONNECT_SECONDS]
 *
 * -k  parallel connections, one thread each (default 1); all of them are
 *     connected at once before any is read, and lsink fails (exit 1, naming
 *     how many are missing) when they are not all established within -T
 *     seconds (default 10);
 * -r  bytes per read() (default 131072);
 * -t  measure for SECONDS after a WARMUP (-W, default 0) and then close every
 *     connection; without -t each connection is read to its end (or -n);
 * -n  close a connection after BYTES;
 * -R  SO_RCVBUF (default: the kernel's autotuning);
 * -g  send TEXT first on each connection ("\r\n" escapes allowed as \r \n).
 * Prints one JSON object: {"conns", "bytes", "seconds", "gbps",
 * "per_conn_bytes": [...], "errors"}; with -t, bytes/seconds/gbps are those
 * of the measured window.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	pthread_t th;
	int fd;
	_Atomic unsigned long long bytes;
	int err;
};

static struct sockaddr_in addr;
static size_t rsize = 131072;
static unsigned long long limit;
static int rcvbuf;
static char *greeting;
static atomic_bool stop_all;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: lsink -c IP:PORT [-k CONNS] [-r READ] [-t SECONDS] [-W WARMUP] "
			"[-n BYTES] [-R RCVBUF] [-g TEXT] [-T CONNECT_SECONDS]\n");
	exit(2);
}

static char *unescape(const char *s)
{
	char *o = malloc(strlen(s) + 1), *d = o;

	for (; o && *s; s++) {
		if (s[0] == '\\' && (s[1] == 'r' || s[1] == 'n')) {
			*d++ = s[1] == 'r' ? '\r' : '\n';
			s++;
		} else {
			*d++ = *s;
		}
	}
	if (d)
		*d = 0;
	return o;
}

static void *reader(void *arg)
{
	struct conn *c = arg;
	char *buf = malloc(rsize);

	if (!buf) {
		c->err = ENOMEM;
		return NULL;
	}
	if (greeting && write(c->fd, greeting, strlen(greeting)) < 0)
		c->err = errno;
	while (!atomic_load_explicit(&stop_all, memory_order_relaxed)) {
		size_t want = rsize;
		if (limit && limit - c->bytes < want)
			want = (size_t)(limit - c->bytes);
		if (!want)
			break;
		ssize_t n = read(c->fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!atomic_load(&stop_all))
				c->err = errno;
			break;
		}
		if (n == 0)
			break;
		atomic_fetch_add_explicit(&c->bytes, (unsigned long long)n, memory_order_relaxed);
	}
	free(buf);
	return NULL;
}

/*
 * Connect all k sockets at once: every SYN leaves before any data flows.
 * Connecting one by one while the earlier connections already stream lets
 * their data fill the receiver's backlog and drop the later SYNs and
 * SYN-ACKs, each drop costing a retransmission wait of 1, 3, 7, 15... s
 * (RFC 6298 backoff): with 100 connections a run could stall for minutes.
 * Returns 0 when all are established within `timeout` s, else -1 (reported).
 */
static int connect_all(struct conn *cs, int k, double timeout)
{
	struct pollfd *pf = calloc((size_t)k, sizeof(*pf));
	int pending = 0;

	if (!pf)
		return -1;
	for (int i = 0; i < k; i++) {
		cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (cs[i].fd < 0) {
			fprintf(stderr, "lsink: socket: %s\n", strerror(errno));
			free(pf);
			return -1;
		}
		if (rcvbuf)
			setsockopt(cs[i].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (connect(cs[i].fd, (struct sockaddr *)&addr, sizeof(addr)) && errno != EINPROGRESS) {
			fprintf(stderr, "lsink: connect: %s\n", strerror(errno));
			free(pf);
			return -1;
		}
		pf[i] = (struct pollfd){.fd = cs[i].fd, .events = POLLOUT};
		pending++;
	}
	double deadline = now() + timeout;
	while (pending > 0) {
		double left = deadline - now();
		if (left <= 0)
			break;
		int n = poll(pf, (nfds_t)k, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; n > 0 && i < k; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				fprintf(stderr, "lsink: connect: %s\n", strerror(err));
				free(pf);
				return -1;
			}
			pf[i].fd = -1; /* established: poll ignores it from now on */
			pending--;
		}
	}
	free(pf);
	if (pending) {
		fprintf(stderr, "lsink: %d of %d connections not established after %g s\n", pending,
			k, timeout);
		return -1;
	}
	for (int i = 0; i < k; i++) /* the readers block in read() */
		fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) & ~O_NONBLOCK);
	return 0;
}

static unsigned long long total(struct conn *cs, int k)
{
	unsigned long long s = 0;

	for (int i = 0; i < k; i++)
		s += atomic_load(&cs[i].bytes);
	return s;
}

int main(int argc, char **argv)
{
	int k = 1, opt;
	double secs = 0, warm = 0, connect_timeout = 10;
	char *target = NULL;

	while ((opt = getopt(argc, argv, "c:k:r:t:W:n:R:g:T:")) != -1) {
		switch (opt) {
		case 'c': target = optarg; break;
		case 'k': k = atoi(optarg); break;
		case 'r': rsize = strtoul(optarg, NULL, 0); break;
		case 't': secs = atof(optarg); break;
		case 'W': warm = atof(optarg); break;
		case 'n': limit = strtoull(optarg, NULL, 0); break;
		case 'R': rcvbuf = atoi(optarg); break;
		case 'g': greeting = unescape(optarg); break;
		case 'T': connect_timeout = atof(optarg); break;
		default: usage();
		}
	}
	char *colon = target ? strrchr(target, ':') : NULL;
	if (!colon || k < 1 || !rsize || connect_timeout <= 0)
		usage();
	*colon = 0;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, target, &addr.sin_addr) != 1)
		usage();

	struct conn *cs = calloc((size_t)k, sizeof(*cs));
	int errors = 0;
	if (!cs)
		return 1;
	if (connect_all(cs, k, connect_timeout)) {
		fprintf(stderr, "lsink: could not connect to %s:%d\n", target, ntohs(addr.sin_port));
		return 1;
	}
	double t0 = now();
	for (int i = 0; i < k; i++)
		pthread_create(&cs[i].th, NULL, reader, &cs[i]);
	unsigned long long b0 = 0, b1;
	double m0 = t0, m1;
	if (secs > 0) {
		usleep((useconds_t)(warm * 1e6));
		b0 = total(cs, k);
		m0 = now();
		usleep((useconds_t)(secs * 1e6));
		b1 = total(cs, k);
		m1 = now();
		atomic_store(&stop_all, true);
		for (int i = 0; i < k; i++)
			shutdown(cs[i].fd, SHUT_RDWR); /* wakes blocked readers */
		for (int i = 0; i < k; i++)
			pthread_join(cs[i].th, NULL);
	} else {
		for (int i = 0; i < k; i++)
			pthread_join(cs[i].th, NULL);
		b1 = total(cs, k);
		m1 = now();
	}
	for (int i = 0; i < k; i++) {
		errors += cs[i].err != 0;
		close(cs[i].fd);
	}
	double dt = m1 - m0 > 0 ? m1 - m0 : 1e-9;
	printf("{\"conns\": %d, \"bytes\": %llu, \"seconds\": %.6f, \"gbps\": %.6f, "
	       "\"errors\": %d, \"per_conn_bytes\": [", k, b1 - b0, dt,
	       (double)(b1 - b0) * 8 / dt / 1e9, errors);
	for (int i = 0; i < k; i++)
		printf("%s%llu", i ? ", " : "", atomic_load(&cs[i].bytes));
	printf("]}\n");
	return errors ? 1 : 0;
}
