/*
 * test_zc_pool.c - the zero-copy node pool (src/zc/zc_pool.c): O(1) get and
 * put, every node handed out once, double and foreign puts refused and
 * counted, the pool back to full.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zc/zc_stream.h"

#define N 1000

int main(int argc, char **argv)
{
	static struct zc_node *out[N];
	struct zc_node foreign;
	struct zc_pool *p;
	uint32_t n_out = 0;

	(void)argc;
	test_init(argv[0]);
	CHECK(zc_pool_create(0) == NULL);
	p = zc_pool_create(N);
	CHECK(p && zc_pool_size(p) == N && zc_pool_free_count(p) == N);

	/* drain it: distinct, zeroed nodes, then NULL */
	for (uint32_t i = 0; i < N; i++) {
		out[i] = zc_pool_get(p);
		CHECK(out[i] != NULL);
		CHECK(out[i]->next == NULL && out[i]->len == 0 && out[i]->mbuf == NULL);
		out[i]->seq = i; /* a node keeps what we write while we own it */
		for (uint32_t j = 0; j < i; j += 97)
			CHECK(out[j] != out[i]);
	}
	CHECK(zc_pool_get(p) == NULL && zc_pool_free_count(p) == 0);
	for (uint32_t i = 0; i < N; i++)
		CHECK(out[i]->seq == i);
	for (uint32_t i = 0; i < N; i++)
		zc_pool_put(p, out[i]);
	CHECK(zc_pool_free_count(p) == N && zc_pool_errors(p) == 0);

	/* misuse: double put, foreign node, misaligned pointer, NULL */
	out[0] = zc_pool_get(p);
	zc_pool_put(p, out[0]);
	zc_pool_put(p, out[0]);
	CHECK(zc_pool_errors(p) == 1 && zc_pool_free_count(p) == N);
	zc_pool_put(p, &foreign);
	zc_pool_put(p, (struct zc_node *)((char *)out[0] + 8));
	zc_pool_put(p, NULL);
	CHECK(zc_pool_errors(p) == 4 && zc_pool_free_count(p) == N);

	/* random churn against a model */
	for (int it = 0; it < 200000; it++) {
		if (n_out < N && (n_out == 0 || test_chance(1, 2))) {
			struct zc_node *n = zc_pool_get(p);

			CHECK(n != NULL);
			out[n_out++] = n;
		} else {
			uint32_t k = (uint32_t)test_rand_range(0, n_out - 1);

			zc_pool_put(p, out[k]);
			out[k] = out[--n_out];
		}
		CHECK(zc_pool_free_count(p) == N - n_out);
	}
	while (n_out)
		zc_pool_put(p, out[--n_out]);
	CHECK(zc_pool_free_count(p) == N && zc_pool_errors(p) == 4);
	zc_pool_destroy(p);
	zc_pool_destroy(NULL);
	return test_done();
}
