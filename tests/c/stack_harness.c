/*
 * stack_harness.c - see stack_harness.h.
 *
 * The peer's frame builder and the parser of the stack's frames are written
 * independently of src/net and src/tcp (own checksum, own option codec), so
 * that a bug there is not mirrored here.
 */
#include "stack_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "api/internal.h"
#include "check.h"
#include "common/log.h"
#include "common/seq.h"
#include "mtcp_epoll.h"
#include "net/arp.h"
#include "tcp/flow.h"
#include "tcp/secret.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#if AATCP_WITH_ZC
#include "zc/zc_stream.h"
#endif

#define RING_SIZE 8192
#define SECRET_K0 0x5eed12345eed1234ull
#define SECRET_K1 0x0123456789abcdefull
#define EPHEMERAL_START 40000

const struct rte_ether_addr h_peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
bool h_quiet;

static struct {
	int n_ports;
	struct rte_ring *rx[H_MAX_PORTS], *tx[H_MAX_PORTS];
	unsigned tx_fill[H_MAX_PORTS]; /* placeholders holding a TX ring full */
	bool up;
} G;

/* ---------------------------------------------------------------------- */
/* Process setup                                                          */

static void eal_init(const char *prog)
{
	char *args[] = {
		(char *)(uintptr_t)prog, "--no-huge", "--no-pci", "--no-shconf",
		"-m", "256", "-l", "0", "--log-level=error", "--no-telemetry",
	};

	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed: %s\n", prog, rte_strerror(rte_errno));
		exit(1);
	}
}

/* One ethdev over an RX and a TX ring; returns its ethdev name in name. */
static void make_port(int i, char *name, size_t len)
{
	char rname[32];
	int id;

	snprintf(rname, sizeof(rname), "h_rx%d", i);
	G.rx[i] = rte_ring_create(rname, RING_SIZE, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rname, sizeof(rname), "h_tx%d", i);
	G.tx[i] = rte_ring_create(rname, RING_SIZE, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!G.rx[i] || !G.tx[i]) {
		fprintf(stderr, "harness: rte_ring_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	snprintf(rname, sizeof(rname), "hport%d", i);
	id = rte_eth_from_rings(rname, &G.rx[i], 1, &G.tx[i], 1, (unsigned)rte_socket_id());
	if (id < 0 || rte_eth_dev_get_name_by_port((uint16_t)id, name)) {
		fprintf(stderr, "harness: rte_eth_from_rings failed: %s\n",
			rte_strerror(rte_errno));
		exit(1);
	}
	(void)len;
}

void h_global_init(const char *prog, int n_ports, const char *extra_conf)
{
	char conf[4096], name[RTE_ETH_NAME_MAX_LEN];
	size_t used;

	CHECK(!G.up && n_ports >= 1 && n_ports <= H_MAX_PORTS);
	eal_init(prog);
	G.n_ports = n_ports;
	used = (size_t)snprintf(conf, sizeof(conf),
				"num_cores = 1\n"
				"max_concurrency = 256\n"
				"max_num_buffers = 256\n"
				"rcvbuf = 65536\n"
				"sndbuf = 65536\n"
				"tcp_timeout = 30\n"
				"tcp_timewait = 0\n"
				"mbufs = 8192\n"
				"log_level = error\n"
				"arp.10.0.0.2 = 02:00:00:00:00:02\n"
				"arp.10.0.1.2 = 02:00:00:00:00:02\n");
	for (int i = 0; i < n_ports; i++) {
		make_port(i, name, sizeof(name));
		used += (size_t)snprintf(conf + used, sizeof(conf) - used,
					 "port.p%d.device = %s\nport.p%d.ip = 10.0.%d.1/24\n",
					 i, name, i, i);
	}
	if (extra_conf)
		snprintf(conf + used, sizeof(conf) - used, "%s\n", extra_conf);
	if (aatcp_init_with_ports(conf)) {
		fprintf(stderr, "harness: aatcp_init_with_ports failed:\n%s", conf);
		exit(1);
	}
	G.up = true;
}

void h_global_fini(void)
{
	if (!G.up)
		return;
	mtcp_destroy(); /* stops and closes the ports, cleans EAL up */
	G.up = false;
}

int h_test_main(const char *prog, void (*const tests[])(void), size_t n)
{
	test_init(prog);
	h_global_init(prog, 1, NULL);
	for (size_t i = 0; i < n; i++)
		tests[i]();
	h_global_fini();
	return test_done();
}

struct aatcp_config *h_conf(void)
{
	return &aatcp_g.conf;
}

/* ---------------------------------------------------------------------- */
/* Core lifecycle                                                         */

/* Deterministic: a fixed clock origin (the wheel starts there too), ISN
 * secret and first ephemeral port, and an ARP table holding only the
 * static entries. */
static void start(struct h_stack *h)
{
	h->mctx = (mctx_t)h->c;
	h->now = H_T0_US;
	h->c->now_us = h->now;
	CHECK(timer_reset_wheel(h->c->timers, h->now) == 0);
	secret_set_key(SECRET_K0, SECRET_K1);
	h->c->next_ephemeral = EPHEMERAL_START;
	arp_fini();
	CHECK(arp_init(&aatcp_g) == 0);
	aatcp_tls_core = h->c; /* the calls that take the thread's context */
	h->epid = mtcp_epoll_create(h->mctx, 64);
	CHECK(h->epid >= 0);
}

struct h_stack *h_open(void)
{
	struct h_stack *h = calloc(1, sizeof(*h));

	CHECK(h && G.up);
	h->c = core_create(0, false);
	CHECK_MSG(h->c, "core_create: %s", strerror(errno));
	start(h);
	return h;
}

/* What h_tx_block() puts in a TX ring: not an mbuf. */
static char tx_placeholder;

static unsigned drain_ring(struct rte_ring *r)
{
	void *m;
	unsigned n = 0;

	while (rte_ring_dequeue(r, &m) == 0) {
		if (m == &tx_placeholder)
			continue;
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static void check_pools(void)
{
	struct rte_mempool *mp = aatcp_g.pools[0];

	CHECK_MSG(rte_mempool_avail_count(mp) == mp->size,
		  "mbuf pool: %u of %u buffers not returned",
		  mp->size - rte_mempool_avail_count(mp), mp->size);
}

/* Frames left in the rings go back to the pool, which must be full. */
static void drain_rings(void)
{
	for (int i = 0; i < G.n_ports; i++) {
		drain_ring(G.tx[i]);
		G.tx_fill[i] = 0;
		drain_ring(G.rx[i]);
	}
	check_pools();
}

static void destroy(struct h_stack *h)
{
	core_destroy(h->c);
	drain_rings();
	free(h);
}

void h_close(struct h_stack *h)
{
	struct core *c = h->c;
	uint32_t in_pool = 0;

	mtcp_close(h->mctx, h->epid);
	h_run(h); /* let queued commands (closes) run */
	CHECK_MSG(h_pending(h) == 0, "%u frames sent and never read", h_pending(h));
	for (uint32_t i = 0; i < c->n_tcbs; i++)
		in_pool += c->tcbs[i].in_pool;
	CHECK_MSG(c->tcbs_used == 0 && in_pool == c->n_tcbs,
		  "%u TCBs in use (%u of %u in the pool)", c->tcbs_used, in_pool, c->n_tcbs);
	CHECK_MSG(flow_count(c->flows) == 0, "%u flows left", flow_count(c->flows));
	CHECK_MSG(c->listeners == NULL, "a listener was never closed");
	CHECK_MSG(atomic_load(&c->orphans) == 0, "%u orphans", atomic_load(&c->orphans));
	for (int i = 0; i < c->n_socks; i++)
		CHECK_MSG(c->socks[i].type == MTCP_SOCK_UNUSED || c->socks[i].closing,
			  "socket %d still open", i);
#if AATCP_WITH_ZC
	CHECK_MSG(zc_pool_free_count(c->zc_pool) == zc_pool_size(c->zc_pool),
		  "zc nodes not returned");
#endif
	destroy(h);
}

void h_close_any(struct h_stack *h)
{
	destroy(h);
}

void h_reset(struct h_stack *h)
{
	int rc = core_reset(h->c);

	CHECK_MSG(rc == 0, "core_reset: %s (a TCB, flow or node was not given back)",
		  strerror(-rc));
	drain_rings();
	start(h);
}

/* ---------------------------------------------------------------------- */
/* The loop and the clock                                                 */

void h_run(struct h_stack *h)
{
	net_iteration(h->c, h->now);
}

void h_advance(struct h_stack *h, uint64_t us)
{
	h->now += us;
	h_run(h);
}

uint64_t h_next_timer(struct h_stack *h)
{
	struct core *c = h->c;
	uint64_t e = 0;

	for (uint32_t i = 0; i < c->n_tcbs; i++) {
		struct tcb *t = &c->tcbs[i];
		if (t->in_pool || !t->core)
			continue;
		for (int k = 0; k < TT_MAX; k++)
			if (t->timer_at[k] && (!e || t->timer_at[k] < e))
				e = t->timer_at[k];
	}
	return e;
}

uint64_t h_run_timer(struct h_stack *h, uint64_t max_us)
{
	uint64_t e = h_next_timer(h);

	if (!e || e > h->now + max_us)
		return 0;
	/* the wheel runs a millisecond slot once the clock has passed it */
	e = (e + 999) / 1000 * 1000;
	if (e <= h->now)
		e = h->now + 1000;
	h->now = e;
	h_run(h);
	return h->now;
}

/* ---------------------------------------------------------------------- */
/* Checksums and frames                                                   */

uint16_t h_csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	for (; len > 1; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static int write_opts(const struct h_opts *o, uint8_t *p)
{
	uint8_t *s = p;

	if (o->mss_ok) {
		*p++ = 2;
		*p++ = 4;
		put16(p, o->mss);
		p += 2;
	}
	if (o->sack_perm) {
		*p++ = 1;
		*p++ = 1;
		*p++ = 4;
		*p++ = 2;
	}
	if (o->ts_ok) {
		*p++ = 1;
		*p++ = 1;
		*p++ = 8;
		*p++ = 10;
		put32(p, o->tsval);
		put32(p + 4, o->tsecr);
		p += 8;
	}
	if (o->ws_ok) {
		*p++ = 1;
		*p++ = 3;
		*p++ = 3;
		*p++ = o->ws;
	}
	if (o->n_sack) {
		*p++ = 1;
		*p++ = 1;
		*p++ = 5;
		*p++ = (uint8_t)(2 + 8 * o->n_sack);
		for (int i = 0; i < o->n_sack; i++) {
			put32(p, o->sack_l[i]);
			put32(p + 4, o->sack_r[i]);
			p += 8;
		}
	}
	return (int)(p - s);
}

uint32_t h_build_tcp(const struct h_seg *s, uint8_t *buf)
{
	uint8_t *eth = buf, *ip = buf + 14, *tcp = ip + 20;
	int olen;
	uint32_t src = s->src_ip ? s->src_ip : H_PEER_IP(s->port);
	uint32_t dst = s->dst_ip ? s->dst_ip : H_STACK_IP(s->port);
	struct rte_ether_addr our = aatcp_g.ports[s->port].mac;

	memcpy(eth, our.addr_bytes, 6);
	memcpy(eth + 6, h_peer_mac.addr_bytes, 6);
	put16(eth + 12, 0x0800);
	if (s->raw_opts) {
		memcpy(tcp + 20, s->raw_opts, (size_t)s->raw_opts_len);
		olen = s->raw_opts_len;
		while (olen % 4)
			tcp[20 + olen++] = 0; /* EOL padding */
	} else {
		olen = write_opts(&s->opts, tcp + 20);
	}
	CHECK(olen <= 40);
	uint16_t tcplen = (uint16_t)(20 + olen + s->len);
	put16(tcp, s->sport);
	put16(tcp + 2, s->dport);
	put32(tcp + 4, s->seq);
	put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(((20 + olen) / 4) << 4);
	tcp[13] = s->flags;
	put16(tcp + 14, s->win);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (s->len)
		memcpy(tcp + 20 + olen, s->payload, s->len);
	put16(tcp + 16, h_csum(tcp, tcplen, pseudo_sum(src, dst, 6, tcplen)));
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + tcplen));
	put16(ip + 4, 0);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, h_csum(ip, 20, 0));
	return 14 + 20 + tcplen;
}

struct rte_mbuf *h_mbuf(const void *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(aatcp_g.pools[0]);
	char *d;

	CHECK(m);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	CHECK_MSG(d, "frame of %u bytes does not fit an mbuf", len);
	memcpy(d, frame, len);
	return m;
}

void h_inject_raw(struct h_stack *h, int port, const void *frame, uint32_t len)
{
	(void)h;
	CHECK(port >= 0 && port < G.n_ports);
	CHECK(rte_ring_enqueue(G.rx[port], h_mbuf(frame, len)) == 0);
}

void h_send_seg(struct h_stack *h, const struct h_seg *s)
{
	uint8_t buf[2048 + 128];

	CHECK(s->len <= 2048 - 14 - 20 - 60);
	h_inject_raw(h, s->port, buf, h_build_tcp(s, buf));
	h_run(h);
}

unsigned h_pending(struct h_stack *h)
{
	unsigned n = 0;

	(void)h;
	for (int i = 0; i < G.n_ports; i++)
		n += rte_ring_count(G.tx[i]);
	return n;
}

void h_tx_block(struct h_stack *h, int port)
{
	void *fill[256];

	(void)h;
	CHECK(port >= 0 && port < G.n_ports && !G.tx_fill[port]);
	CHECK_MSG(rte_ring_count(G.tx[port]) == 0, "read the stack's frames before blocking");
	for (unsigned i = 0; i < 256; i++)
		fill[i] = &tx_placeholder;
	for (unsigned n; (n = rte_ring_enqueue_burst(G.tx[port], fill, 256, NULL)) > 0;)
		G.tx_fill[port] += n;
}

void h_tx_unblock(struct h_stack *h, int port)
{
	void *m;

	(void)h;
	for (; G.tx_fill[port]; G.tx_fill[port]--) {
		CHECK(rte_ring_dequeue(G.tx[port], &m) == 0 && m == &tx_placeholder);
	}
}

unsigned h_drain(struct h_stack *h)
{
	unsigned n = 0;

	(void)h;
	for (int i = 0; i < G.n_ports; i++)
		n += drain_ring(G.tx[i]);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Parsing what the stack sent                                            */

static void parse_opts(const uint8_t *p, int len, struct h_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (len > 0) {
		uint8_t kind = p[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			p++;
			len--;
			continue;
		}
		CHECK_MSG(len >= 2 && p[1] >= 2 && p[1] <= len, "malformed option %u", kind);
		uint8_t olen = p[1];
		switch (kind) {
		case 2:
			CHECK(olen == 4);
			o->mss_ok = true;
			o->mss = get16(p + 2);
			break;
		case 3:
			CHECK(olen == 3);
			o->ws_ok = true;
			o->ws = p[2];
			break;
		case 4:
			CHECK(olen == 2);
			o->sack_perm = true;
			break;
		case 5:
			CHECK((olen - 2) % 8 == 0 && olen >= 10 && (olen - 2) / 8 <= 4);
			o->n_sack = (olen - 2) / 8;
			for (int i = 0; i < o->n_sack; i++) {
				o->sack_l[i] = get32(p + 2 + 8 * i);
				o->sack_r[i] = get32(p + 6 + 8 * i);
			}
			break;
		case 8:
			CHECK(olen == 10);
			o->ts_ok = true;
			o->tsval = get32(p + 2);
			o->tsecr = get32(p + 6);
			break;
		default:
			CHECK_MSG(0, "the stack sent unknown option %u", kind);
		}
		p += olen;
		len -= olen;
	}
}

static void parse_tcp(const uint8_t *tcp, uint32_t tcplen, struct h_pkt *p)
{
	CHECK(tcplen >= 20);
	uint32_t hlen = (uint32_t)(tcp[12] >> 4) * 4;
	CHECK_MSG(hlen >= 20 && hlen <= tcplen, "data offset %u of %u", hlen, tcplen);
	CHECK_MSG(h_csum(tcp, tcplen, pseudo_sum(p->src_ip, p->dst_ip, 6, (uint16_t)tcplen)) == 0,
		  "bad TCP checksum from the stack");
	p->sport = get16(tcp);
	p->dport = get16(tcp + 2);
	p->seq = get32(tcp + 4);
	p->ack = get32(tcp + 8);
	p->flags = tcp[13];
	p->win = get16(tcp + 14);
	parse_opts(tcp + 20, (int)hlen - 20, &p->opts);
	p->len = tcplen - hlen;
	CHECK(p->len <= sizeof(p->payload));
	memcpy(p->payload, tcp + hlen, p->len);
}

void h_parse(const uint8_t *f, uint32_t len, struct h_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->frame_len = len;
	CHECK_MSG(len >= 14, "runt frame from the stack (%u)", len);
	memcpy(p->dst_mac.addr_bytes, f, 6);
	memcpy(p->src_mac.addr_bytes, f + 6, 6);
	p->ether_type = get16(f + 12);
	f += 14;
	len -= 14;
	if (p->ether_type == 0x0806) {
		CHECK(len >= 28);
		CHECK(get16(f) == 1 && get16(f + 2) == 0x0800 && f[4] == 6 && f[5] == 4);
		p->arp_op = get16(f + 6);
		memcpy(p->arp_sha.addr_bytes, f + 8, 6);
		p->arp_sip = get32(f + 14);
		memcpy(p->arp_tha.addr_bytes, f + 18, 6);
		p->arp_tip = get32(f + 24);
		return;
	}
	CHECK_MSG(p->ether_type == 0x0800, "ethertype %04x from the stack", p->ether_type);
	CHECK(len >= 20 && f[0] == 0x45);
	uint16_t tot = get16(f + 2);
	CHECK_MSG(tot >= 20 && tot <= len, "IP total length %u in %u bytes", tot, len);
	CHECK_MSG(h_csum(f, 20, 0) == 0, "bad IP header checksum from the stack");
	p->df = get16(f + 6) & 0x4000;
	CHECK_MSG((get16(f + 6) & 0x3fff) == 0, "the stack sent a fragment");
	p->ttl = f[8];
	p->proto = f[9];
	p->src_ip = get32(f + 12);
	p->dst_ip = get32(f + 16);
	if (p->proto == 6) {
		parse_tcp(f + 20, tot - 20u, p);
	} else if (p->proto == 1) {
		CHECK(tot >= 28);
		CHECK_MSG(h_csum(f + 20, tot - 20u, 0) == 0, "bad ICMP checksum from the stack");
		p->icmp_type = f[20];
		p->icmp_code = f[21];
		p->len = tot - 28u;
		CHECK(p->len <= sizeof(p->payload));
		memcpy(p->payload, f + 28, p->len);
	}
}

bool h_recv(struct h_stack *h, struct h_pkt *p)
{
	void *obj;

	(void)h;
	for (int i = 0; i < G.n_ports; i++) {
		if (rte_ring_dequeue(G.tx[i], &obj))
			continue;
		struct rte_mbuf *m = obj;
		uint8_t buf[4096];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		CHECK(len <= sizeof(buf));
		const uint8_t *f = rte_pktmbuf_read(m, 0, len, buf);
		CHECK(f != NULL);
		h_parse(f, len, p);
		p->port = i;
		CHECK_MSG(len <= 14u + aatcp_g.ports[i].mtu, "frame of %u bytes > MTU", len);
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

void h_recv_tcp(struct h_stack *h, struct h_pkt *p)
{
	CHECK_MSG(h_recv(h, p), "expected a segment from the stack, got nothing");
	CHECK_MSG(p->ether_type == 0x0800 && p->proto == 6, "expected TCP, got type %04x proto %u",
		  p->ether_type, p->proto);
}

/* ---------------------------------------------------------------------- */
/* The application side                                                   */

int h_listen(struct h_stack *h, uint16_t port, int backlog)
{
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr = {.s_addr = INADDR_ANY}};

	CHECK(s >= 0);
	CHECK(mtcp_bind(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(mtcp_listen(h->mctx, s, backlog) == 0);
	h_run(h);
	return s;
}

uint32_t h_events(struct h_stack *h, int sock)
{
	struct mtcp_epoll_event ev[64];
	struct mtcp_epoll_event e = {.events = MTCP_EPOLLIN | MTCP_EPOLLOUT | MTCP_EPOLLRDHUP,
				     .data = {.sockid = sock}};
	uint32_t bits = 0;
	int n;

	/* level-triggered and re-added each time: current readiness */
	mtcp_epoll_ctl(h->mctx, h->epid, MTCP_EPOLL_CTL_DEL, sock, NULL);
	CHECK(mtcp_epoll_ctl(h->mctx, h->epid, MTCP_EPOLL_CTL_ADD, sock, &e) == 0);
	n = mtcp_epoll_wait(h->mctx, h->epid, ev, 64, 0);
	for (int i = 0; i < n; i++)
		if (ev[i].data.sockid == sock)
			bits |= ev[i].events;
	mtcp_epoll_ctl(h->mctx, h->epid, MTCP_EPOLL_CTL_DEL, sock, NULL);
	return bits;
}

struct tcb *h_tcb(struct h_stack *h, int sock)
{
	return atomic_load(&h->c->links[sock].tcb);
}

long h_read(struct h_stack *h, int sock, void *buf, size_t cap)
{
	size_t got = 0;

	CHECK_MSG(h->c->socks[sock].nonblock, "h_read on blocking socket %d", sock);
	while (got < cap) {
		ssize_t n = mtcp_read(h->mctx, sock, (char *)buf + got, cap - got);
		if (n < 0)
			return got ? (long)got : -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

/* ---------------------------------------------------------------------- */
/* The scripted peer                                                      */

struct h_conn h_conn_default(uint16_t lport)
{
	struct h_conn k = {
		.sock = -1, .port = 0, .lport = lport, .pport = 50000,
		.peer_iss = 0x10000000u, .win = 65535, .ws = 7, .mss = 1460,
		.offer_ws = true, .offer_ts = true, .offer_sack = true,
		.ts_val = 5000,
	};

	k.snd_nxt = k.peer_iss;
	return k;
}

struct h_seg h_conn_seg(const struct h_conn *k, uint8_t flags, const void *payload,
			uint32_t len)
{
	struct h_seg s = {
		.sport = k->pport, .dport = k->lport, .seq = k->snd_nxt,
		.ack = (flags & RTE_TCP_ACK_FLAG) ? k->rcv_nxt : 0, .flags = flags,
		.win = k->win, .payload = payload, .len = len, .port = k->port,
	};

	if (k->ts_ok) {
		s.opts.ts_ok = true;
		s.opts.tsval = k->ts_val;
		s.opts.tsecr = k->ts_recent;
	}
	return s;
}

const char *h_flags_str(uint8_t f)
{
	/* a few rotating buffers: several calls may share one printf */
	static char bufs[4][12];
	static int next;
	static const char n[] = "FSRPAUEC";
	char *b = bufs[next++ % 4];
	int k = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			b[k++] = n[i];
	b[k] = 0;
	return b;
}

void h_check_seg(const struct h_pkt *p, const struct h_conn *k, uint8_t flags,
		 uint32_t seq, uint32_t ack, uint32_t len)
{
	CHECK_MSG(p->sport == k->lport && p->dport == k->pport, "ports %u->%u", p->sport,
		  p->dport);
	CHECK_MSG(p->src_ip == H_STACK_IP(k->port) && p->dst_ip == H_PEER_IP(k->port),
		  "addresses");
	CHECK_MSG(p->flags == flags, "flags %s, expected %s", h_flags_str(p->flags),
		  h_flags_str(flags));
	CHECK_MSG(p->seq == seq, "seq %u (iss+%u), expected %u (iss+%u)", p->seq,
		  p->seq - k->stack_iss, seq, seq - k->stack_iss);
	if (flags & RTE_TCP_ACK_FLAG)
		CHECK_MSG(p->ack == ack, "ack %u (peer iss+%u), expected %u (peer iss+%u)", p->ack,
			  p->ack - k->peer_iss, ack, ack - k->peer_iss);
	CHECK_MSG(p->len == len, "payload %u, expected %u", p->len, len);
	CHECK_MSG(p->opts.ts_ok == k->ts_ok, "timestamp option %d, negotiated %d",
		  p->opts.ts_ok, k->ts_ok);
}

void h_expect_data(struct h_stack *h, struct h_conn *k, const uint8_t *data, uint32_t off,
		   uint32_t len, struct h_pkt *p)
{
	h_recv_tcp(h, p);
	CHECK_MSG(p->seq == k->stack_iss + 1 + off && p->len == len,
		  "data at %u (%u bytes), expected at %u (%u bytes)", p->seq - k->stack_iss - 1,
		  p->len, off, len);
	CHECK_MSG((p->flags & ~RTE_TCP_PSH_FLAG) == RTE_TCP_ACK_FLAG, "flags %s",
		  h_flags_str(p->flags));
	CHECK(memcmp(p->payload, data + off, len) == 0);
	if (p->opts.ts_ok)
		k->ts_recent = p->opts.tsval;
}

void h_peer_ack_sack(struct h_stack *h, struct h_conn *k, uint32_t ack, int n,
		     const uint32_t *l, const uint32_t *r)
{
	struct h_seg s = h_conn_seg(k, RTE_TCP_ACK_FLAG, NULL, 0);

	s.ack = ack;
	s.opts.n_sack = n;
	for (int i = 0; i < n; i++) {
		s.opts.sack_l[i] = l[i];
		s.opts.sack_r[i] = r[i];
	}
	h_send_seg(h, &s);
}

void h_conn_absorb(struct h_conn *k, const struct h_pkt *p)
{
	uint32_t end = p->seq + p->len + !!(p->flags & RTE_TCP_SYN_FLAG) +
		       !!(p->flags & RTE_TCP_FIN_FLAG);

	if ((int32_t)(end - k->rcv_nxt) > 0 && (int32_t)(p->seq - k->rcv_nxt) <= 0)
		k->rcv_nxt = end;
	if (p->opts.ts_ok)
		k->ts_recent = p->opts.tsval;
}

static void syn_opts(const struct h_conn *k, struct h_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (k->mss) {
		o->mss_ok = true;
		o->mss = k->mss;
	}
	o->ws_ok = k->offer_ws;
	o->ws = k->ws;
	o->sack_perm = k->offer_sack;
	if (k->offer_ts) {
		o->ts_ok = true;
		o->tsval = k->ts_val;
	}
}

/* Records what the stack's SYN or SYN-ACK negotiated. */
static void learn_syn(struct h_conn *k, const struct h_pkt *p)
{
	k->stack_iss = p->seq;
	k->stack_mss = p->opts.mss_ok ? p->opts.mss : 536;
	k->ws_ok = k->offer_ws && p->opts.ws_ok;
	k->stack_ws = k->ws_ok ? p->opts.ws : 0;
	k->ts_ok = k->offer_ts && p->opts.ts_ok;
	k->sack_ok = k->offer_sack && p->opts.sack_perm;
	k->rcv_nxt = p->seq + 1;
	if (p->opts.ts_ok)
		k->ts_recent = p->opts.tsval;
}

void h_peer_syn(struct h_stack *h, struct h_conn *k, struct h_pkt *synack)
{
	struct h_seg s = {.sport = k->pport, .dport = k->lport, .seq = k->peer_iss,
			  .flags = RTE_TCP_SYN_FLAG, .win = k->win, .port = k->port};

	syn_opts(k, &s.opts);
	k->snd_nxt = k->peer_iss + 1;
	h_send_seg(h, &s);
	h_recv_tcp(h, synack);
	CHECK_MSG(synack->flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG), "flags %s",
		  h_flags_str(synack->flags));
	CHECK(synack->ack == k->peer_iss + 1);
	learn_syn(k, synack);
}

int h_passive_open(struct h_stack *h, int lsock, struct h_conn *k)
{
	struct h_pkt p;
	int s;

	h_peer_syn(h, k, &p);
	CHECK(p.sport == k->lport && p.dport == k->pport);
	/* RFC 7323 / 2018: answer only with options the peer offered */
	CHECK(p.opts.mss_ok && p.opts.mss == H_MSS);
	CHECK(p.opts.ws_ok == k->offer_ws && p.opts.ts_ok == k->offer_ts &&
	      p.opts.sack_perm == k->offer_sack);
	if (p.opts.ts_ok)
		CHECK(p.opts.tsecr == k->ts_val);
	h_peer_ack(h, k);
	h_expect_none(h);
	s = mtcp_accept(h->mctx, lsock, NULL, NULL);
	CHECK_MSG(s >= 0, "accept: %s", strerror(errno));
	CHECK(mtcp_setsock_nonblock(h->mctx, s) == 0);
	k->sock = s;
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_ESTABLISHED);
	return s;
}

struct h_stack *h_open_conn(struct h_conn *k, int *ls)
{
	struct h_stack *h = h_open();

	*ls = h_listen(h, 80, 16);
	*k = h_conn_default(80);
	h_passive_open(h, *ls, k);
	return h;
}

int h_active_open(struct h_stack *h, struct h_conn *k)
{
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(s >= 0);
	return h_active_open_sock(h, k, s);
}

void h_active_syn(struct h_stack *h, struct h_conn *k, int s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(k->pport),
				.sin_addr = {.s_addr = htonl(H_PEER_IP(k->port))}};
	struct h_pkt p;

	CHECK(mtcp_connect(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	      errno == EINPROGRESS);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK_MSG(p.flags == RTE_TCP_SYN_FLAG, "flags %s", h_flags_str(p.flags));
	CHECK(p.dport == k->pport && p.src_ip == H_STACK_IP(k->port));
	CHECK(p.opts.mss_ok && p.opts.mss == (k->syn_mss ? k->syn_mss : H_MSS) &&
	      p.opts.ws_ok && p.opts.ts_ok && p.opts.sack_perm);
	k->lport = p.sport;
	learn_syn(k, &p);
	k->sock = s;
}

void h_peer_synack(struct h_stack *h, struct h_conn *k)
{
	struct h_seg sa = {.sport = k->pport, .dport = k->lport, .seq = k->peer_iss,
			   .ack = k->rcv_nxt, .flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
			   .win = k->win, .port = k->port};

	syn_opts(k, &sa.opts);
	if (sa.opts.ts_ok)
		sa.opts.tsecr = k->ts_recent;
	k->snd_nxt = k->peer_iss + 1;
	h_send_seg(h, &sa);
}

int h_active_open_sock(struct h_stack *h, struct h_conn *k, int s)
{
	struct h_pkt p;

	h_active_syn(h, k, s);
	h_peer_synack(h, k);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, RTE_TCP_ACK_FLAG, k->stack_iss + 1, k->snd_nxt, 0);
	h_conn_absorb(k, &p);
	h_expect_none(h);
	k->sock = s;
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_ESTABLISHED);
	return s;
}

void h_peer_send(struct h_stack *h, struct h_conn *k, const void *data, uint32_t len)
{
	struct h_seg s = h_conn_seg(k, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, data, len);

	k->snd_nxt += len;
	h_send_seg(h, &s);
}

void h_peer_ack(struct h_stack *h, struct h_conn *k)
{
	struct h_seg s = h_conn_seg(k, RTE_TCP_ACK_FLAG, NULL, 0);

	h_send_seg(h, &s);
}

void h_peer_fin(struct h_stack *h, struct h_conn *k)
{
	struct h_seg s = h_conn_seg(k, RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG, NULL, 0);

	k->snd_nxt += 1;
	h_send_seg(h, &s);
}

void h_check_invariants(struct h_stack *h)
{
	struct core *c = h->c;
	uint32_t used = 0, in_flows = 0, time_wait = 0, listed = 0;

	/* only TCBs handed out at some time can be out of the pool */
	for (uint32_t i = 0; i < c->tcbs_hw; i++) {
		struct tcb *t = &c->tcbs[i];
		if (t->in_pool)
			continue;
		used++;
		if (!t->core)
			continue; /* freed, waiting for a work list to let go */
		int st = tcb_state(t);
		if (st == TCPS_CLOSED)
			continue;
		in_flows++;
		time_wait += st == TCPS_TIME_WAIT;
		CHECK_MSG(flow_lookup(c->flows, t->laddr, t->lport, t->raddr, t->rport) == t,
			  "tcb %u (%s) not in the flow table", t->id, tcp_state_name(st));
		CHECK_MSG(seq_leq(t->snd_una, t->snd_nxt) && seq_leq(t->snd_nxt, t->snd_max),
			  "tcb %u (%s): snd_una %u snd_nxt %u snd_max %u", t->id,
			  tcp_state_name(st), t->snd_una, t->snd_nxt, t->snd_max);
		if (st == TCPS_SYN_SENT)
			continue;
		CHECK_MSG(seq_leq(t->rcv_nxt, t->rcv_adv), "tcb %u (%s): rcv_nxt %u > rcv_adv %u",
			  t->id, tcp_state_name(st), t->rcv_nxt, t->rcv_adv);
		CHECK_MSG(t->cwnd > 0 && t->mss > 0, "tcb %u: cwnd %u mss %u", t->id, t->cwnd,
			  t->mss);
		CHECK_MSG(t->snd_wnd <= t->max_snd_wnd, "tcb %u: snd_wnd %u > max %u", t->id,
			  t->snd_wnd, t->max_snd_wnd);
	}
	CHECK_MSG(used == c->tcbs_used, "%u TCBs out of the pool, tcbs_used %u", used,
		  c->tcbs_used);
	CHECK_MSG(in_flows == flow_count(c->flows), "%u live TCBs, %u flows", in_flows,
		  flow_count(c->flows));
	/* the TIME-WAIT list holds exactly the TIME-WAIT TCBs, oldest timeout first */
	for (const struct tcb *t = c->tw_head; t; t = t->tw_next) {
		CHECK_MSG(tcb_state(t) == TCPS_TIME_WAIT && t->core, "tcb %u (%s) on the "
			  "TIME-WAIT list", t->id, tcp_state_name(tcb_state(t)));
		CHECK_MSG(!t->tw_next || t->timer_at[TT_TIMEWAIT] <= t->tw_next->timer_at[TT_TIMEWAIT],
			  "TIME-WAIT list out of order at tcb %u", t->id);
		listed++;
	}
	CHECK_MSG(listed == time_wait, "%u TCBs in TIME-WAIT, %u on its list", time_wait, listed);
}

unsigned h_rx_queued(struct h_stack *h)
{
	unsigned n = 0;

	(void)h;
	for (int i = 0; i < G.n_ports; i++)
		n += rte_ring_count(G.rx[i]);
	return n;
}

uint64_t h_drops(struct h_stack *h, enum drop_reason r)
{
	return h->c->cnt.drops[r];
}

void h_abort_and_close(struct h_stack *h, struct h_conn *k, int ls)
{
	struct h_pkt p;

	CHECK(mtcp_abort(h->mctx, k->sock) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags & TCP_FLAG_RST);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}
