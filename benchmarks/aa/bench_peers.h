/*
 * bench_peers.h - what bench_aa_parse.c shares with its peer parsers that
 * live in files of their own (bench_llhttp.c), and the clock of every
 * measurement.
 *
 * Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time:
 * the development machines have two cores shared with other work, and CPU
 * time leaves out the time the benchmark was not running. Cycles are read
 * with rdtsc at the same points (the TSC ticks at a constant rate, so they
 * are wall-clock cycles; the JSON reports both).
 */
#ifndef AATCP_BENCH_PEERS_H
#define AATCP_BENCH_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct peer_count {
	uint64_t records, sum;
};

struct bench_clock {
	struct timespec cpu;
};

static inline void bench_clock_start(struct bench_clock *c)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c->cpu);
}

/* CPU nanoseconds since bench_clock_start(). */
static inline double bench_clock_ns(const struct bench_clock *c)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)(t.tv_sec - c->cpu.tv_sec) * 1e9 +
	       (double)(t.tv_nsec - c->cpu.tv_nsec);
}

/* llhttp over [buf, buf + len) in chunks; 0, or -1 on a parse error.
 * Not available (returns -1, peer_llhttp_available() false) when the
 * build found no llhttp sources. */
/* The bytes a peer is fed: n chunks, chunk i is [p[i], p[i] + len[i]). */
struct peer_chunks {
	const char **p;
	size_t *len;
	size_t n;
};

/*
 * While a chunk is parsed, the first cache line of the next one is
 * requested, as the stack's receive loop does for the next packet of a
 * burst (rx_all() in src/core/loop/netloop.c): every side, ours and the
 * peers, gets the same hint for the same line.
 */
static inline void bench_prefetch_next(const struct peer_chunks *ch, size_t i)
{
	if (i + 1 < ch->n)
		__builtin_prefetch(ch->p[i + 1]);
}

int peer_llhttp(const struct peer_chunks *ch, bool response,
		struct peer_count *c, double *cpu_ns);
bool peer_llhttp_available(void);

#endif /* AATCP_BENCH_PEERS_H */
