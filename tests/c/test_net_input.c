/*
 * test_net_input.c - the input path below TCP and TCP's own header checks
 * (stack_harness.h): every malformed frame is dropped and counted under its
 * reason in struct counters, nothing crashes, nothing is sent, and an
 * established connection beside it is not disturbed. Also ARP (answer,
 * learn, resolve a next hop for a connect), ICMP echo, and Ethernet
 * padding (the IP length is the truth).
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>

#include "check.h"
#include "net/arp.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define S TCP_FLAG_SYN
#define P TCP_FLAG_PSH

#define IP 14
#define TCPH (14 + 20)

static struct h_stack *h;
static struct h_conn k;
static int ls;
static uint64_t before[DROP_MAX];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix_ip_csum(uint8_t *f)
{
	int hl = (f[IP] & 0xf) * 4;

	put16(f + IP + 10, 0);
	put16(f + IP + 10, h_csum(f + IP, (size_t)hl, 0));
}

static void fix_tcp_csum(uint8_t *f, uint32_t tcplen)
{
	uint32_t sum = 0;

	for (int i = 0; i < 8; i += 2)
		sum += (uint32_t)(f[IP + 12 + i] << 8 | f[IP + 13 + i]);
	sum += 6 + tcplen;
	put16(f + TCPH + 16, 0);
	put16(f + TCPH + 16, h_csum(f + TCPH, tcplen, sum));
}

/* A valid data segment of the connection into f; returns its length. */
static uint32_t good_frame(uint8_t *f)
{
	struct h_seg s = h_conn_seg(&k, A | P, "payload!", 8);

	return h_build_tcp(&s, f);
}

static void snapshot(void)
{
	memcpy(before, h->c->cnt.drops, sizeof(before));
}

/* Feeds the frame and CHECKs exactly one drop, under reason r, no reply. */
static void expect_drop(const char *what, const uint8_t *f, uint32_t len, enum drop_reason r)
{
	snapshot();
	h_inject_raw(h, 0, f, len);
	h_run(h);
	for (int i = 0; i < DROP_MAX; i++) {
		uint64_t want = before[i] + (i == (int)r);
		CHECK_MSG(h->c->cnt.drops[i] == want, "%s: drop %s %llu, expected %llu", what,
			  drop_reason_names[i], (unsigned long long)h->c->cnt.drops[i],
			  (unsigned long long)want);
	}
	CHECK_MSG(h_pending(h) == 0, "%s: the stack answered", what);
}

static void test_ethernet(void)
{
	uint8_t f[256];
	uint32_t len = good_frame(f);

	expect_drop("10-byte frame", f, 10, DROP_eth_short);
	memcpy(f, "\x02\x00\x00\x00\x00\x99", 6);
	expect_drop("other MAC", f, len, DROP_eth_not_for_us);
	len = good_frame(f);
	memcpy(f + 6, aatcp_g.ports[0].mac.addr_bytes, 6);
	expect_drop("our own frame", f, len, DROP_eth_own_frame);
	len = good_frame(f);
	put16(f + 12, 0x86dd);
	expect_drop("IPv6", f, len, DROP_eth_type);
}

static void test_ipv4(void)
{
	uint8_t f[256];
	uint32_t len = good_frame(f);

	expect_drop("IP header cut", f, IP + 10, DROP_ip_short);
	len = good_frame(f);
	f[IP] = 0x65;
	expect_drop("version 6", f, len, DROP_ip_version);
	len = good_frame(f);
	f[IP] = 0x44;
	expect_drop("IHL 4", f, len, DROP_ip_hdr_len);
	len = good_frame(f);
	f[IP] = 0x4f; /* 60 bytes of header in a 28-byte packet */
	expect_drop("IHL past the end", f, IP + 28, DROP_ip_hdr_len);
	len = good_frame(f);
	put16(f + IP + 2, 19);
	fix_ip_csum(f);
	expect_drop("total length < header", f, len, DROP_ip_len);
	len = good_frame(f);
	put16(f + IP + 2, (uint16_t)(len - IP + 1));
	fix_ip_csum(f);
	expect_drop("total length > frame", f, len, DROP_ip_len);
	len = good_frame(f);
	f[IP + 10] ^= 0xff;
	expect_drop("bad header checksum", f, len, DROP_ip_csum);
	len = good_frame(f);
	put16(f + IP + 6, 0x2000); /* MF */
	fix_ip_csum(f);
	expect_drop("first fragment", f, len, DROP_ip_frag);
	len = good_frame(f);
	put16(f + IP + 6, 0x0010); /* offset 128 */
	fix_ip_csum(f);
	expect_drop("later fragment", f, len, DROP_ip_frag);
	len = good_frame(f);
	f[IP + 19] = 99;
	fix_ip_csum(f);
	expect_drop("other address", f, len, DROP_ip_not_for_us);
	len = good_frame(f);
	f[IP + 9] = 17;
	fix_ip_csum(f);
	expect_drop("UDP", f, len, DROP_ip_proto);
	/* IP options are skipped: a 24-byte header with a NOP option */
	uint8_t g[256];
	len = good_frame(f);
	memcpy(g, f, IP + 20);
	g[IP + 20] = 1; g[IP + 21] = 1; g[IP + 22] = 1; g[IP + 23] = 0;
	memcpy(g + IP + 24, f + IP + 20, len - IP - 20);
	g[IP] = 0x46;
	put16(g + IP + 2, (uint16_t)(len - IP + 4));
	fix_ip_csum(g);
	snapshot();
	h_inject_raw(h, 0, g, len + 4);
	h_run(h);
	k.snd_nxt += 8;
	char buf[16];
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 8 && memcmp(buf, "payload!", 8) == 0);
	CHECK(memcmp(before, h->c->cnt.drops, sizeof(before)) == 0);
	/* Ethernet padding: a 60-byte frame around a shorter IP packet */
	struct h_seg s = h_conn_seg(&k, A | P, "ab", 2);
	s.opts.ts_ok = false; /* 56 bytes: padded to 60 */
	memset(f, 0xee, sizeof(f));
	len = h_build_tcp(&s, f);
	CHECK(len < 60);
	snapshot();
	h_inject_raw(h, 0, f, 60);
	h_run(h);
	k.snd_nxt += 2;
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 2 && memcmp(buf, "ab", 2) == 0);
	CHECK(memcmp(before, h->c->cnt.drops, sizeof(before)) == 0);
	h_advance(h, DELACK_US);
	struct h_pkt p;
	h_recv_tcp(h, &p);
	CHECK(p.ack == k.snd_nxt);
}

static void test_tcp_header(void)
{
	uint8_t f[256];
	uint32_t len;

	len = good_frame(f);
	put16(f + IP + 2, 20 + 12);
	fix_ip_csum(f);
	expect_drop("12-byte TCP header", f, IP + 32, DROP_tcp_short);
	len = good_frame(f);
	f[TCPH + 12] = 4 << 4;
	fix_tcp_csum(f, len - TCPH);
	expect_drop("data offset 4", f, len, DROP_tcp_hdr_len);
	len = good_frame(f);
	f[TCPH + 12] = 15 << 4; /* 60 bytes in a 40-byte segment */
	fix_tcp_csum(f, len - TCPH);
	expect_drop("data offset past the end", f, len, DROP_tcp_hdr_len);
	len = good_frame(f);
	f[TCPH + 16] ^= 0x01;
	expect_drop("bad TCP checksum", f, len, DROP_tcp_csum);
	/* garbage options */
	static const uint8_t zero_len[] = {8, 0, 1, 1};
	static const uint8_t past_end[] = {1, 1, 8, 10};
	static const uint8_t one_byte[] = {1, 1, 1, 5};
	const uint8_t *bad[] = {zero_len, past_end, one_byte};
	for (int i = 0; i < 3; i++) {
		struct h_seg s = h_conn_seg(&k, A | P, "x", 1);
		s.raw_opts = bad[i];
		s.raw_opts_len = 4;
		len = h_build_tcp(&s, f);
		expect_drop("garbage options", f, len, DROP_tcp_hdr_len);
	}
	/* unknown options and SACK blocks are skipped, not fatal */
	static const uint8_t unknown[] = {1, 1, 30, 6, 0, 0, 0, 0};
	struct h_seg s = h_conn_seg(&k, A | P, "ok", 2);
	s.raw_opts = unknown;
	s.raw_opts_len = 8;
	snapshot();
	h_send_seg(h, &s);
	k.snd_nxt += 2;
	char buf[8];
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 2);
	CHECK(memcmp(before, h->c->cnt.drops, sizeof(before)) == 0);
	/* nonsense flag combinations */
	s = h_conn_seg(&k, S | F, NULL, 0);
	len = h_build_tcp(&s, f);
	expect_drop("SYN+FIN", f, len, DROP_tcp_bad_flags);
	s = h_conn_seg(&k, S | R, NULL, 0);
	len = h_build_tcp(&s, f);
	expect_drop("SYN+RST", f, len, DROP_tcp_bad_flags);
	/* to a listener's port too: no connection is created */
	struct h_conn n = h_conn_default(80);
	n.pport = 55555;
	s = h_conn_seg(&n, S | F, NULL, 0);
	len = h_build_tcp(&s, f);
	expect_drop("SYN+FIN to a listener", f, len, DROP_tcp_bad_flags);
	CHECK_EQ_U64(h->c->tcbs_used, 1);
	h_advance(h, DELACK_US);
	h_drain(h);
}

static void test_icmp(void)
{
	uint8_t f[128];
	struct h_pkt p;

	memcpy(f, aatcp_g.ports[0].mac.addr_bytes, 6);
	memcpy(f + 6, h_peer_mac.addr_bytes, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + IP;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 6);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
	fix_ip_csum(f);
	uint8_t *ic = ip + 20;
	memcpy(ic, "\x08\x00\x00\x00\x12\x34\x00\x01" "echo!!", 14);
	put16(ic + 2, h_csum(ic, 14, 0));
	snapshot();
	h_inject_raw(h, 0, f, IP + 34);
	h_run(h);
	CHECK(h_recv(h, &p));
	CHECK(p.proto == 1 && p.icmp_type == 0 && p.icmp_code == 0);
	CHECK(p.src_ip == H_STACK_IP(0) && p.dst_ip == H_PEER_IP(0));
	CHECK(p.len == 6 && memcmp(p.payload, "echo!!", 6) == 0); /* after id, seq */
	CHECK_EQ_U64(h->c->cnt.icmp_echo, 1);
	/* a bad ICMP checksum, and a truncated header */
	ic[2] ^= 1;
	expect_drop("ICMP checksum", f, IP + 34, DROP_icmp_bad);
	ic[2] ^= 1;
	put16(ip + 2, 20 + 4);
	fix_ip_csum(f);
	expect_drop("ICMP too short", f, IP + 24, DROP_icmp_bad);
}

static void arp_frame(uint8_t *f, uint16_t op, uint32_t sip, uint32_t tip,
		      const uint8_t *dst)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x03", 6);
	put16(f + 12, 0x0806);
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04", 6);
	put16(f + 20, op);
	memcpy(f + 22, "\x02\x00\x00\x00\x00\x03", 6);
	uint32_t s = htonl(sip), t = htonl(tip);
	memcpy(f + 28, &s, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, &t, 4);
}

static void test_arp(void)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t f[64];
	struct h_pkt p;

	/* a request for our address: answered, and the sender learned */
	arp_frame(f, 1, H_NOARP_IP, H_STACK_IP(0), bcast);
	h_inject_raw(h, 0, f, 42);
	h_run(h);
	CHECK(h_recv(h, &p));
	CHECK(p.ether_type == 0x0806 && p.arp_op == 2);
	CHECK(p.arp_sip == H_STACK_IP(0) && p.arp_tip == H_NOARP_IP);
	CHECK(rte_is_same_ether_addr(&p.arp_sha, &aatcp_g.ports[0].mac));
	CHECK(memcmp(p.dst_mac.addr_bytes, "\x02\x00\x00\x00\x00\x03", 6) == 0);
	CHECK_EQ_U64(h->c->cnt.arp_replies, 1);
	struct rte_ether_addr mac;
	CHECK(arp_lookup(htonl(H_NOARP_IP), &mac));
	/* a request for someone else: nothing */
	arp_frame(f, 1, H_NOARP_IP, H_IP(10, 0, 0, 77), bcast);
	h_inject_raw(h, 0, f, 42);
	h_run(h);
	h_expect_none(h);
	/* malformed */
	expect_drop("ARP cut short", f, 30, DROP_arp_bad);
	arp_frame(f, 1, H_NOARP_IP, H_STACK_IP(0), bcast);
	f[18] = 8; /* hardware address length */
	expect_drop("ARP hlen 8", f, 42, DROP_arp_bad);
}

/* A connect to a neighbour without an ARP entry: a request, then the SYN
 * once the reply arrives. */
static void test_connect_resolves(void)
{
	struct h_stack *g = h_open();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9000),
				.sin_addr = {.s_addr = htonl(H_NOARP_IP)}};
	struct h_pkt p;
	uint8_t f[64];
	int s = mtcp_socket(g->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(mtcp_connect(g->mctx, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	      errno == EINPROGRESS);
	h_run(g);
	CHECK(h_recv(g, &p));
	CHECK(p.ether_type == 0x0806 && p.arp_op == 1 && p.arp_tip == H_NOARP_IP &&
	      rte_is_broadcast_ether_addr(&p.dst_mac));
	h_expect_none(g);
	/* the reply */
	arp_frame(f, 2, H_NOARP_IP, H_STACK_IP(0), aatcp_g.ports[0].mac.addr_bytes);
	h_inject_raw(g, 0, f, 42);
	h_advance(g, 2000);
	h_recv_tcp(g, &p);
	CHECK(p.flags == S && p.dst_ip == H_NOARP_IP && p.dport == 9000);
	CHECK(memcmp(p.dst_mac.addr_bytes, "\x02\x00\x00\x00\x00\x03", 6) == 0);
	CHECK(mtcp_close(g->mctx, s) == 0);
	h_run(g);
	h_expect_none(g);
	h_close(g);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	h_global_init(argv[0], 1, NULL);
	h = h_open_conn(&k, &ls);
	test_ethernet();
	test_ipv4();
	test_tcp_header();
	test_icmp();
	test_arp();
	/* the connection beside all this still works */
	h_peer_send(h, &k, "alive", 5);
	char buf[8];
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == 5);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
	test_connect_resolves();
	h_global_fini();
	return test_done();
}
