/* app_common.h - small helpers shared by the example applications. */
#ifndef AATCP_APP_COMMON_H
#define AATCP_APP_COMMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* "10.0.1.1:8080" -> sockaddr; false on a malformed address. */
bool app_parse_addr(const char *s, struct sockaddr_in *out);
double app_now(void);
/* The record readers' two deadlines, seconds of app_now(): give_up after
 * t_start (sets *timed_out) and t_limit after the first byte at t0 (0: not
 * yet; sets *time_up); a limit <= 0 is none. True when one has passed. */
bool app_out_of_time(double t_start, double t0, double give_up, double t_limit,
		     bool *timed_out, bool *time_up);
/* Exit with a message naming the program. */
void app_die(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Deterministic pseudo-random bytes (xorshift64*), for sources. */
void app_fill(uint64_t *state, char *buf, size_t len);

/* The calling thread's measured work starts here: app_thread_cpu() in the
 * same thread counts its CPU from the last call on (start-up such as
 * mtcp_init's left out; app_stack_start calls it). */
void app_cpu_mark(void);
/* User + system CPU seconds of the calling thread since app_cpu_mark() (or
 * since it started, without one). */
double app_thread_cpu(void);
/* User + system CPU seconds of the whole process so far. */
double app_process_cpu(void);
/* The result line of sink and source, one JSON object: {"bytes", "conns",
 * "seconds", "gbps", "cpu_s" (the process's user + system CPU seconds),
 * "app_cpu_s" (the calling thread's, app_thread_cpu()),
 * "sha256": [hex(ctx, i) for each of the conns]}. */
void app_report(uint64_t bytes, int conns, double secs,
		const char *(*hex)(const void *ctx, int i), const void *ctx);
/* Appends arg to the malloc'ed *buf of *len bytes, its C escapes (\r \n
 * \t \xHH; any other escaped character stands for itself) undone: the
 * readers' -r strings. Dies when out of memory. */
void app_append_unescaped(const char *prog, char **buf, size_t *len, const char *arg);

#endif
