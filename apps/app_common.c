/* app_common.c - see app_common.h. */
#include "app_common.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

bool app_parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return false;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

double app_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void app_die(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

void app_fill(uint64_t *state, char *buf, size_t len)
{
	uint64_t x = *state;

	for (size_t i = 0; i < len; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t v = x * 0x2545F4914F6CDD1DULL;
		size_t k = len - i < 8 ? len - i : 8;
		memcpy(buf + i, &v, k);
	}
	*state = x;
}

bool app_out_of_time(double t_start, double t0, double give_up, double t_limit,
		     bool *timed_out, bool *time_up)
{
	double now = app_now();

	if (give_up > 0 && now - t_start >= give_up) {
		*timed_out = true;
		return true;
	}
	if (t_limit > 0 && t0 && now - t0 >= t_limit) {
		*time_up = true;
		return true;
	}
	return false;
}

static double cpu_seconds(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* per thread: the proxy's application threads each mark their own start */
static _Thread_local double thread_cpu_mark;

void app_cpu_mark(void)
{
	thread_cpu_mark = cpu_seconds(RUSAGE_THREAD);
}

double app_thread_cpu(void)
{
	return cpu_seconds(RUSAGE_THREAD) - thread_cpu_mark;
}

double app_process_cpu(void)
{
	return cpu_seconds(RUSAGE_SELF);
}

void app_report(uint64_t bytes, int conns, double secs,
		const char *(*hex)(const void *ctx, int i), const void *ctx)
{
	/* CPU time: the whole process so far (start-up and the network
	 * thread's idle polls included; the stats file's busy_tsc leaves
	 * them out) and this, the application, thread's since app_cpu_mark */
	printf("{\"bytes\": %lu, \"conns\": %d, \"seconds\": %.6f, \"gbps\": %.4f, "
	       "\"cpu_s\": %.6f, \"app_cpu_s\": %.6f, \"sha256\": [",
	       (unsigned long)bytes, conns, secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0,
	       app_process_cpu(), app_thread_cpu());
	for (int i = 0; i < conns; i++)
		printf("%s\"%s\"", i ? ", " : "", hex(ctx, i));
	printf("]}\n");
	fflush(stdout);
}

/* The C escapes of s undone, into out; returns the bytes written. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			out[n++] = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'x': {
			char hex[3] = {s[1], s[1] ? s[2] : 0, 0};
			out[n++] = (char)strtoul(hex, NULL, 16);
			s += strlen(hex);
			break;
		}
		default: out[n++] = *s; break;
		}
	}
	return n;
}

void app_append_unescaped(const char *prog, char **buf, size_t *len, const char *arg)
{
	/* unescaping never makes a string longer */
	char *p = realloc(*buf, *len + strlen(arg) + 1);

	if (!p)
		app_die(prog, "out of memory");
	*buf = p;
	*len += unescape(arg, p + *len);
}
