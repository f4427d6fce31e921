/*
 * check.h - tiny shared infrastructure for the C tests (tests/c/) and
 * fuzzers: CHECK macros, a seeded RNG whose seed is always printed, and a
 * DPDK EAL + real rte_pktmbuf pool for tests that handle packet buffers.
 *
 *   int main(int argc, char **argv) {
 *       test_init(argv[0]);                     // seed from TEST_SEED or time
 *       test_eal_init(argv[0]);                  // only if you need mbufs
 *       struct rte_mempool *mp = test_mbuf_pool("t", 4096);
 *       CHECK(x == 1);
 *       CHECK_MSG(a == b, "a=%d b=%d", a, b);
 *       ...
 *       CHECK(test_mbuf_pool_full(mp));
 *       return test_done();                      // prints a summary, 0 or 1
 *   }
 *
 * A failing CHECK prints the file, line, expression and the seed, then
 * exits(1): a property test is reproduced with TEST_SEED=<seed>.
 */
#ifndef AATCP_TESTS_CHECK_H
#define AATCP_TESTS_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rte_mempool;

extern uint64_t test_seed;

void test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, #cond, NULL);        \
	} while (0)

#define CHECK_MSG(cond, ...)                                               \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                 \
	do {                                                               \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);           \
		if (a_ != b_)                                              \
			test_fail(__FILE__, __LINE__, #a " == " #b,        \
				  "%llu != %llu", (unsigned long long)a_,  \
				  (unsigned long long)b_);                 \
	} while (0)

/* Seed from $TEST_SEED (decimal or 0x...) or the clock; prints it. */
void test_init(const char *prog);
/* Prints "<prog>: OK (<seconds>)" and returns the exit status. */
int test_done(void);
/* Seconds since test_init(). */
double test_elapsed(void);

/* Seeded RNG (xoshiro256**); test_rng_seed() restarts it. */
void test_rng_seed(uint64_t seed);
uint64_t test_rand(void);
/* Uniform in [lo, hi] (inclusive). */
uint64_t test_rand_range(uint64_t lo, uint64_t hi);
/* true with probability num/den */
bool test_chance(uint32_t num, uint32_t den);
void test_rand_bytes(void *buf, size_t len);

/* EAL for tests: --no-huge --no-pci --no-shconf -m 128 -l 0
 * --log-level=error, once per process (exits on failure). */
void test_eal_init(const char *prog);
/* A real pktmbuf pool of n buffers with RTE_MBUF_DEFAULT_BUF_SIZE rooms. */
struct rte_mempool *test_mbuf_pool(const char *name, unsigned int n);
/* rte_mempool_avail_count(mp) == mp->size */
bool test_mbuf_pool_full(const struct rte_mempool *mp);

#endif /* AATCP_TESTS_CHECK_H */
