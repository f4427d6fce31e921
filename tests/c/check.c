/*
 * check.c - see check.h.
 */
#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

uint64_t test_seed;
static const char *test_prog = "test";
static struct timespec test_t0;
static uint64_t rng[4];

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: CHECK failed: %s", file, line, expr);
	if (fmt) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "\n%s: FAILED, reproduce with TEST_SEED=0x%llx\n",
		test_prog, (unsigned long long)test_seed);
	fflush(stderr);
	exit(1);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void test_rng_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t test_rand(void)
{
	uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;

	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl(rng[3], 45);
	return r;
}

uint64_t test_rand_range(uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	return span == 0 ? test_rand() : lo + test_rand() % span;
}

bool test_chance(uint32_t num, uint32_t den)
{
	return test_rand() % den < num;
}

void test_rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = test_rand();
		size_t k = len - i < 8 ? len - i : 8;

		memcpy(p + i, &r, k);
	}
}

void test_init(const char *prog)
{
	const char *env = getenv("TEST_SEED");

	test_prog = prog;
	clock_gettime(CLOCK_MONOTONIC, &test_t0);
	if (env && *env)
		test_seed = strtoull(env, NULL, 0);
	else
		test_seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid() ^
			    (uint64_t)test_t0.tv_nsec;
	test_rng_seed(test_seed);
	printf("%s: seed 0x%llx (set TEST_SEED to reproduce)\n", prog,
	       (unsigned long long)test_seed);
	fflush(stdout);
}

double test_elapsed(void)
{
	return now_s() - ((double)test_t0.tv_sec + (double)test_t0.tv_nsec * 1e-9);
}

int test_done(void)
{
	printf("%s: OK (%.2f s, seed 0x%llx)\n", test_prog, test_elapsed(),
	       (unsigned long long)test_seed);
	fflush(stdout);
	return 0;
}

void test_eal_init(const char *prog)
{
	static bool done;
	char *args[] = {
		(char *)(uintptr_t)prog, "--no-huge", "--no-pci", "--no-shconf",
		"-m", "128", "-l", "0", "--log-level=error", "--no-telemetry",
	};
	int argc = (int)(sizeof(args) / sizeof(args[0]));

	if (done)
		return;
	if (rte_eal_init(argc, args) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed: %s\n", prog,
			rte_strerror(rte_errno));
		exit(1);
	}
	done = true;
}

struct rte_mempool *test_mbuf_pool(const char *name, unsigned int n)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
		name, n, n >= 512 ? 32 : 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		(int)rte_socket_id());

	if (!mp) {
		fprintf(stderr, "%s: cannot create mbuf pool %s (%u): %s\n",
			test_prog, name, n, rte_strerror(rte_errno));
		exit(1);
	}
	return mp;
}

bool test_mbuf_pool_full(const struct rte_mempool *mp)
{
	return rte_mempool_avail_count(mp) == mp->size;
}
