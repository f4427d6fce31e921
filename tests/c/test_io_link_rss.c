/*
 * test_io_link_rss.c - the lab's tc program (bpf/link_rss.c, compiled by
 * meson into link_rss.o with QUEUES=2) puts IPv4/TCP frames on the queue the
 * stack predicts for a port with link_hash = toeplitz (io/port.h
 * port_link_placement, io/steer.h steer_predict):
 *   - the program's queue for the frames of Microsoft's RSS verification
 *     vectors is the published IPv4/TCP hash % 2;
 *   - for 4,000 source ports of an active open, the queue of the reply frame
 *     (remote -> local) is steer_predict()'s;
 *   - frames that are not IPv4/TCP (ARP, UDP, a fragment, a truncated
 *     header) pass without a queue.
 * The object runs in the kernel through BPF_PROG_TEST_RUN; its queue comes
 * back in cb[0] (the program writes it there and into queue_mapping). Needs
 * CAP_BPF: skipped (exit 77) without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "io/port.h"
#include "io/steer.h"

#define SKIP 77

struct frame {
	uint8_t eth[14];
	uint8_t ip[20];
	uint8_t tcp[20];
} __attribute__((packed));

static int prog_fd = -1;

static uint32_t ip(const char *s)
{
	struct in_addr a;

	CHECK(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static struct frame tcp_frame(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.eth[12] = 0x08; /* IPv4 */
	f.ip[0] = 0x45;
	f.ip[3] = sizeof(f.ip) + sizeof(f.tcp);
	f.ip[8] = 64;
	f.ip[9] = 6; /* TCP */
	memcpy(&f.ip[12], &saddr, 4);
	memcpy(&f.ip[16], &daddr, 4);
	memcpy(&f.tcp[0], &sport, 2);
	memcpy(&f.tcp[2], &dport, 2);
	f.tcp[12] = 5 << 4;
	f.tcp[13] = 0x12; /* SYN,ACK */
	return f;
}

/* The queue the program chose for the frame (cb[0] + 1), 0: none. */
static unsigned run(const void *frame, unsigned len)
{
	struct __sk_buff skb;
	uint8_t out[256];

	memset(&skb, 0, sizeof(skb));
	skb.cb[0] = ~0u;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb), .ctx_out = &skb, .ctx_size_out = sizeof(skb));
	int rc = bpf_prog_test_run_opts(prog_fd, &o);
	CHECK_MSG(rc == 0, "BPF_PROG_TEST_RUN: %s", strerror(errno));
	CHECK_MSG(o.retval == TC_ACT_OK, "the program returned %u, not TC_ACT_OK", o.retval);
	return skb.cb[0] == ~0u ? 0 : skb.cb[0] + 1;
}

struct vec {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t l4;
};

/* Microsoft's "Verifying the RSS Hash Calculation", IPv4 with TCP ports */
static const struct vec vectors[] = {
	{"161.142.100.80", "66.9.149.187", 1766, 2794, 0x51ccc178},
	{"65.69.140.83", "199.92.111.2", 4739, 14230, 0xc626b0ea},
	{"12.22.207.184", "24.19.198.95", 38024, 12898, 0x5c2b394a},
	{"209.142.163.6", "38.27.205.30", 2217, 48228, 0xafc7327f},
	{"202.188.127.2", "153.39.163.191", 1303, 44251, 0x10e828a2},
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		struct frame f = tcp_frame(ip(v->src), htons(v->sport), ip(v->dst),
					   htons(v->dport));
		unsigned q = run(&f, sizeof(f));
		CHECK_MSG(q == v->l4 % 2 + 1, "vector %zu: queue %d, want %u", i, (int)q - 1,
			  v->l4 % 2);
	}
}

static void test_predicted(void)
{
	struct port_conf pc = {.device = "net_af_xdp0,iface=x", .link_toeplitz = true};
	struct port p = {.n_queues = 2, .n_devs = 2, .conf = &pc};
	uint32_t la = ip("10.0.1.2"), ra = ip("10.0.1.1");
	int seen[2] = {0};

	port_link_placement(&p, true);
	CHECK(p.placement == PLACE_RSS);
	for (uint32_t lport = 32768; lport < 36768; lport++) {
		uint16_t lp = htons((uint16_t)lport), rp = htons(8133);
		int want = steer_predict(&p, la, lp, ra, rp);
		struct frame f = tcp_frame(ra, rp, la, lp); /* the reply */
		unsigned q = run(&f, sizeof(f));
		CHECK_MSG((int)q - 1 == want, "port %u: program %d, stack %d", lport, (int)q - 1,
			  want);
		if (want >= 0 && want < 2)
			seen[want]++;
	}
	CHECK_MSG(seen[0] > 1500 && seen[1] > 1500, "queues %d / %d of 4000", seen[0], seen[1]);
}

static void test_not_tcp(void)
{
	struct frame f = tcp_frame(ip("10.0.1.1"), htons(80), ip("10.0.1.2"), htons(40000));
	uint8_t arp[42] = {[12] = 0x08, [13] = 0x06};

	CHECK(run(arp, sizeof(arp)) == 0);
	f.ip[9] = 17; /* UDP */
	CHECK(run(&f, sizeof(f)) == 0);
	f.ip[9] = 6;
	f.ip[6] = 0x20; /* more fragments: no ports to hash */
	CHECK(run(&f, sizeof(f)) == 0);
	f.ip[6] = 0;
	CHECK(run(&f, 14 + 20 + 10) == 0); /* the TCP header cut short */
	CHECK(run(&f, sizeof(f)) != 0);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	test_init(argv[0]);
	if (argc < 2) {
		fprintf(stderr, "usage: %s link_rss.o\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	CHECK_MSG(obj != NULL, "%s: %s", argv[1], strerror(errno));
	if (bpf_object__load(obj)) {
		if (errno == EPERM || errno == EACCES) {
			fprintf(stderr, "skipped: loading BPF programs needs CAP_BPF\n");
			bpf_object__close(obj);
			return SKIP;
		}
		CHECK_MSG(false, "%s: the kernel refused the program: %s", argv[1],
			  strerror(errno));
		return test_done();
	}
	prog = bpf_object__find_program_by_name(obj, "link_rss");
	CHECK(prog != NULL);
	prog_fd = bpf_program__fd(prog);
	test_vectors();
	test_predicted();
	test_not_tcp();
	bpf_object__close(obj);
	return test_done();
}
