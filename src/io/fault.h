/*
 * fault.h - seeded fault injector for one direction of one port on one core.
 *
 * The kernel on the test machines has no netem, so loss, duplication,
 * reordering, corruption and rate limits for tests and experiments come from
 * here (docs/design.md "Invariants"; test_tcp_loss). Seeded: the same seed
 * and the same traffic give the same faults, so a failing run can be
 * replayed.
 */
#ifndef AATCP_FAULT_H
#define AATCP_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/counters.h"

struct rte_mbuf;
struct rte_mempool;

struct fault;

struct fault *fault_create(const struct fault_conf *conf, uint64_t seed,
			   struct rte_mempool *pool, struct counters *cnt);
void fault_destroy(struct fault *f);

/*
 * Passes n frames through the injector. Frames that may leave now are
 * written to out (at most out_cap; the rest stay queued); dropped frames are
 * freed and counted. Returns the number written. Call with n == 0 on every
 * loop iteration to release delayed frames.
 */
uint16_t fault_apply(struct fault *f, struct rte_mbuf **in, uint16_t n,
		     struct rte_mbuf **out, uint16_t out_cap, uint64_t now_us);

/* The injected "TX ring full": true when this TX burst must find the ring
 * full (probability txfull per burst); counted. */
bool fault_tx_refuses(struct fault *f);

#endif /* AATCP_FAULT_H */
