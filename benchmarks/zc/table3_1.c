/*
 * table3_1.c - thesis table 3.1: the per-packet cost of putting a TCP
 * payload into the zero-copy list (zc_stream_input: a node, an mbuf
 * reference, a link) versus copying it into the standard ring buffer
 * (rcvbuf_input: a memcpy), isolated from the network (thesis 3.3: "we
 * isolated the TCPProcessPayload() function and benchmarked it
 * independently of the network stack, using fake packets held in RAM").
 *
 * What is measured
 *   - Packets are prepared once in real mbufs (a 54-byte header, then the
 *     payload, random bytes) and reused round-robin; the benchmark holds
 *     one reference on each for the whole run, as the RX path would while
 *     TCP processes the segment. The RX path's own rte_pktmbuf_free() is
 *     outside the measured region on both paths.
 *   - Each path receives in-order segments (seq == rcv_nxt, the common
 *     case) in bursts of --batch packets. Only the input calls are inside
 *     the timed region (rte_rdtsc_precise() around each burst, so the
 *     fences cost < 1 cycle per packet).
 *   - After every burst the consumer side is drained so buffers never
 *     fill, timed separately and reported as *_drain_ns, NOT included in
 *     zc_ns/copy_ns: for the ring buffer rcvbuf_read() into an application
 *     buffer (mtcp_read's copy), for the zero-copy stream peek + consume +
 *     reclaim (mtcp_zc_read_fragments + mtcp_zc_free_fragments + the net
 *     thread dropping the node's mbuf reference).
 *   - Single thread, pinned by EAL (-l <core>), a warm-up run first, then
 *     --reps repetitions of --packets packets per payload size; the median
 *     of the per-repetition means is reported.
 *
 * Output: one JSON object on stdout (the toolkit's runner parses it):
 *   {"experiment": "table3_1", ..., "results": [{"payload": 64, "zc_ns":
 *    ..., "copy_ns": ..., "ratio": copy_ns / zc_ns, ...}, ...],
 *    "headline": {the 1460-byte row}}
 * ratio > 1 means the zero-copy list is faster (thesis: 29.0 / 20.8 =
 * 1.39 for full-size segments).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "common/seq.h"
#include "tcp/rcvbuf.h"
#include "zc/zc_stream.h"

#define HDR_LEN 54 /* Ethernet + IPv4 + TCP without options */
#define MAX_PAYLOAD 1460
#define MAX_SIZES 16
#define MAX_REPS 101

struct opts {
	unsigned core;
	uint64_t packets; /* per repetition and size */
	unsigned reps;
	unsigned batch;
	unsigned prepared; /* distinct packets in RAM */
	uint32_t rcvbuf;
	unsigned n_sizes;
	uint32_t sizes[MAX_SIZES];
};

struct sample {
	double in_ns;    /* per packet, input only */
	double drain_ns; /* per packet, consumer side */
};

static struct rte_mbuf **pkts;
static char *app_buf; /* mtcp_read()'s destination for the ring buffer */

static double cyc_to_ns(uint64_t cyc, uint64_t packets)
{
	return (double)cyc * 1e9 / (double)rte_get_tsc_hz() / (double)packets;
}

static const char *payload_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const char *, HDR_LEN);
}

/* ---- zero-copy list ---------------------------------------------------- */

static struct sample run_zc(const struct opts *o, uint32_t size)
{
	struct stream_fragment_content frags[256];
	struct zc_pool *pool = zc_pool_create(o->batch + 2);
	struct zc_stream s;
	uint32_t rcv_nxt = 0xfffff000u; /* wraps during the run */
	uint64_t in_cyc = 0, drain_cyc = 0, done = 0, k = 0;
	unsigned mask = o->prepared - 1;

	if (!pool || zc_stream_init(&s, pool)) {
		fprintf(stderr, "table3_1: no zc pool\n");
		exit(1);
	}
	while (done < o->packets) {
		uint64_t t0, t1, t2;
		int n;

		t0 = rte_rdtsc_precise();
		for (unsigned i = 0; i < o->batch; i++) {
			struct rte_mbuf *m = pkts[k++ & mask];

			if (zc_stream_input(&s, m, payload_of(m), rcv_nxt, size,
					    &rcv_nxt) != (int64_t)size)
				abort();
		}
		t1 = rte_rdtsc_precise();
		n = zc_stream_peek(&s, frags, (int)o->batch);
		if (n != (int)o->batch || zc_stream_consume(&s, n) != n)
			abort();
		zc_stream_reclaim(&s);
		t2 = rte_rdtsc_precise();
		in_cyc += t1 - t0;
		drain_cyc += t2 - t1;
		done += o->batch;
	}
	zc_stream_destroy(&s);
	zc_pool_destroy(pool);
	return (struct sample){ cyc_to_ns(in_cyc, done), cyc_to_ns(drain_cyc, done) };
}

/* ---- copying ring buffer (standard mTCP) ------------------------------- */

static struct sample run_copy(const struct opts *o, uint32_t size)
{
	struct rcvbuf *rb = rcvbuf_create(o->rcvbuf);
	uint32_t rcv_nxt = 0xfffff000u;
	uint64_t in_cyc = 0, drain_cyc = 0, done = 0, k = 0;
	unsigned mask = o->prepared - 1;
	size_t burst = (size_t)o->batch * size;

	if (!rb) {
		fprintf(stderr, "table3_1: no ring buffer\n");
		exit(1);
	}
	while (done < o->packets) {
		uint64_t t0, t1, t2;

		t0 = rte_rdtsc_precise();
		for (unsigned i = 0; i < o->batch; i++) {
			struct rte_mbuf *m = pkts[k++ & mask];

			if (rcvbuf_input(rb, payload_of(m), rcv_nxt, size,
					 &rcv_nxt) != size)
				abort();
		}
		t1 = rte_rdtsc_precise();
		if (rcvbuf_read(rb, app_buf, burst) != burst)
			abort();
		t2 = rte_rdtsc_precise();
		in_cyc += t1 - t0;
		drain_cyc += t2 - t1;
		done += o->batch;
	}
	rcvbuf_destroy(rb);
	return (struct sample){ cyc_to_ns(in_cyc, done), cyc_to_ns(drain_cyc, done) };
}

/* ---- driver ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_list(const char *name, const double *v, unsigned n)
{
	printf("\"%s\": [", name);
	for (unsigned i = 0; i < n; i++)
		printf("%s%.3f", i ? ", " : "", v[i]);
	printf("]");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: table3_1 [--core N] [--packets N] [--reps N] [--batch N]\n"
		"                [--prepared N (power of 2)] [--rcvbuf BYTES]\n"
		"                [--sizes 64,128,256,512,1024,1460]\n");
	exit(2);
}

static void parse_sizes(struct opts *o, char *arg)
{
	o->n_sizes = 0;
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		unsigned long v = strtoul(tok, NULL, 0);

		if (v == 0 || v > MAX_PAYLOAD || o->n_sizes == MAX_SIZES)
			usage();
		o->sizes[o->n_sizes++] = (uint32_t)v;
	}
	if (o->n_sizes == 0)
		usage();
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "core", required_argument, NULL, 'c' },
		{ "packets", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "prepared", required_argument, NULL, 'p' },
		{ "rcvbuf", required_argument, NULL, 'w' },
		{ "sizes", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint32_t def_sizes[] = { 64, 128, 256, 512, 1024, 1460 };
	int c;

	*o = (struct opts){ .core = 0, .packets = 20000000, .reps = 5,
			    .batch = 64, .prepared = 512, .rcvbuf = 256 << 10,
			    .n_sizes = 6 };
	memcpy(o->sizes, def_sizes, sizeof(def_sizes));
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->core = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': o->packets = strtoull(optarg, NULL, 0); break;
		case 'r': o->reps = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': o->batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': o->prepared = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': o->rcvbuf = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': parse_sizes(o, optarg); break;
		default: usage();
		}
	}
	if (o->reps == 0 || o->reps > MAX_REPS || o->batch == 0 ||
	    o->batch > 256 || o->packets < o->batch ||
	    o->prepared < o->batch || (o->prepared & (o->prepared - 1)) ||
	    (uint64_t)o->batch * MAX_PAYLOAD > o->rcvbuf)
		usage();
}

static void init_eal(const char *prog, unsigned core)
{
	char lcore[16];
	char *args[] = {
		(char *)(uintptr_t)prog, "--no-huge", "--no-pci", "--no-shconf",
		"-m", "256", "-l", lcore, "--log-level=error", "--no-telemetry",
	};

	snprintf(lcore, sizeof(lcore), "%u", core);
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0) {
		fprintf(stderr, "table3_1: rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
}

static void prepare_packets(unsigned n)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
		"table3_1", n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	uint64_t x = 0x9e3779b97f4a7c15ull;

	pkts = calloc(n, sizeof(*pkts));
	if (!mp || !pkts) {
		fprintf(stderr, "table3_1: no packets\n");
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		char *p;

		pkts[i] = rte_pktmbuf_alloc(mp);
		p = pkts[i] ? rte_pktmbuf_append(pkts[i], HDR_LEN + MAX_PAYLOAD) : NULL;
		if (!p)
			exit(1);
		for (unsigned j = 0; j < HDR_LEN + MAX_PAYLOAD; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[j] = (char)x;
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct opts warm;
	double zc[MAX_REPS], cp[MAX_REPS], zc_dr[MAX_REPS], cp_dr[MAX_REPS];

	parse_opts(&o, argc, argv);
	optind = 1; /* EAL parses its own argument vector with getopt too */
	init_eal(argv[0], o.core); /* -l core: the main thread is pinned there */
	prepare_packets(o.prepared);
	app_buf = malloc((size_t)o.batch * MAX_PAYLOAD);
	if (!app_buf)
		return 1;

	/* warm-up: caches, branch predictors, page faults of both buffers */
	warm = o;
	warm.packets = o.packets / 10 > o.batch ? o.packets / 10 : o.batch;
	for (unsigned i = 0; i < o.n_sizes; i++) {
		run_zc(&warm, o.sizes[i]);
		run_copy(&warm, o.sizes[i]);
	}

	printf("{\"experiment\": \"table3_1\", \"unit\": \"ns/packet\", "
	       "\"what\": \"zc_ns: zc_stream_input per in-order segment; copy_ns: "
	       "rcvbuf_input per in-order segment; drains excluded and reported "
	       "as *_drain_ns; median of per-repetition means\", "
	       "\"core\": %u, \"tsc_hz\": %llu, \"packets_per_rep\": %llu, "
	       "\"reps\": %u, \"batch\": %u, \"prepared_packets\": %u, "
	       "\"rcvbuf\": %u, \"results\": [",
	       o.core, (unsigned long long)rte_get_tsc_hz(),
	       (unsigned long long)o.packets, o.reps, o.batch, o.prepared, o.rcvbuf);
	for (unsigned i = 0; i < o.n_sizes; i++) {
		uint32_t size = o.sizes[i];
		double mz, mc;

		/* alternate the two paths so that slow drifts hit both */
		for (unsigned r = 0; r < o.reps; r++) {
			struct sample a = run_zc(&o, size), b = run_copy(&o, size);

			zc[r] = a.in_ns;
			zc_dr[r] = a.drain_ns;
			cp[r] = b.in_ns;
			cp_dr[r] = b.drain_ns;
		}
		printf("%s{\"payload\": %u, ", i ? ", " : "", size);
		print_list("zc_ns_reps", zc, o.reps);
		printf(", ");
		print_list("copy_ns_reps", cp, o.reps);
		mz = median(zc, o.reps); /* sorts: zc[0] is the minimum */
		mc = median(cp, o.reps);
		printf(", \"zc_ns_min\": %.3f, \"copy_ns_min\": %.3f", zc[0], cp[0]);
		printf(", \"zc_ns\": %.3f, \"copy_ns\": %.3f, \"ratio\": %.3f, "
		       "\"zc_ns_per_byte\": %.5f, \"copy_ns_per_byte\": %.5f, "
		       "\"zc_drain_ns\": %.3f, \"copy_drain_ns\": %.3f}",
		       mz, mc, mc / mz, mz / size, mc / size,
		       median(zc_dr, o.reps), median(cp_dr, o.reps));
		fflush(stdout);
	}
	printf("], \"thesis\": {\"zc_ns\": 20.8, \"copy_ns\": 29.0, \"ratio\": 1.39}}\n");
	rte_eal_cleanup();
	return 0;
}
