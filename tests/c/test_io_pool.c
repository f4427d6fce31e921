/*
 * test_io_pool.c - packet pools for net_af_xdp (io/port.c port_packet_pool):
 * DPDK 22.11's PMD registers a core's pool as the AF_XDP UMEM from its
 * first memory chunk's page for populated_size * object size bytes (plus
 * the chunk's offset in that page), and the kernel refuses a descriptor
 * whose chunk does not lie inside (a fill buffer is never filled nor given
 * back, a frame is never sent). Every mbuf of a pool made for AF_XDP must lie
 * inside that range: the pool is one chunk, objects back to back. The EAL
 * runs with --no-huge as the local lab's dut does, where a default pool keeps
 * each object inside a 4 KB page and spreads past the range (printed for
 * comparison; whether it does depends on the EAL's IOVA mode).
 */
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "check.h"
#include "io/port.h"

struct umem_range {
	uintptr_t base;    /* first chunk's address, page aligned down */
	uint64_t size;     /* populated_size * object size + the alignment */
	uint32_t frame;    /* object size: the UMEM's chunk size */
	uint32_t hdr;      /* mempool header before each mbuf */
	unsigned int outside;
};

/* The PMD's UMEM of a pool (drivers/net/af_xdp, xdp_umem_configure). */
static struct umem_range umem_of(const struct rte_mempool *mp)
{
	const struct rte_mempool_memhdr *first = STAILQ_FIRST(&mp->mem_list);
	uintptr_t addr = (uintptr_t)first->addr;
	uintptr_t page = (uintptr_t)getpagesize();
	struct umem_range r = {
		.base = addr & ~(page - 1),
		.frame = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL),
		.hdr = mp->header_size,
	};

	r.size = (uint64_t)mp->populated_size * r.frame + (addr - r.base);
	return r;
}

/* rte_mempool_obj_iter: the mbuf's chunk (header to end) lies in the UMEM */
static void count_outside(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct umem_range *r = arg;
	uint64_t start = (uintptr_t)obj - r->hdr - r->base;

	(void)mp;
	(void)idx;
	if ((uintptr_t)obj - r->hdr < r->base || start + r->frame > r->size)
		r->outside++;
}

static unsigned int outside_umem(struct rte_mempool *mp, struct umem_range *r)
{
	*r = umem_of(mp);
	rte_mempool_obj_iter(mp, count_outside, r);
	return r->outside;
}

static void test_af_xdp_pool_inside_umem(void)
{
	struct rte_mempool *mp = port_packet_pool("pool_xdp", 8192, true);
	struct umem_range r;

	CHECK(mp != NULL);
	CHECK_EQ_U64(mp->populated_size, 8192);
	CHECK_EQ_U64(mp->nb_mem_chunks, 1);
	CHECK_MSG(outside_umem(mp, &r) == 0, "%u of 8192 mbufs outside the %llu-byte UMEM",
		  r.outside, (unsigned long long)r.size);
	/* still a packet pool: an mbuf from it takes a full frame */
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	CHECK(m != NULL);
	CHECK(rte_pktmbuf_tailroom(m) >= 1514);
	rte_pktmbuf_free(m);
	CHECK(test_mbuf_pool_full(mp));
	rte_mempool_free(mp);
}

static void test_default_pool_for_comparison(void)
{
	struct rte_mempool *mp = port_packet_pool("pool_def", 8192, false);
	struct umem_range r;

	CHECK(mp != NULL);
	printf("default pool: %u chunk(s), %u of 8192 mbufs outside the UMEM net_af_xdp "
	       "would register\n", mp->nb_mem_chunks, outside_umem(mp, &r));
	rte_mempool_free(mp);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	test_eal_init(argv[0]);
	test_af_xdp_pool_inside_umem();
	test_default_pool_for_comparison();
	return test_done();
}
