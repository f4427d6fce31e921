/*
 * fuzz_tcp_input.c - libFuzzer target for the receive path of the whole
 * stack (eth -> ARP / IPv4 -> ICMP / TCP), through the test harness
 * (tests/c/stack_harness.h): ring-backed port, fake clock, real mtcp_* API.
 *
 * Every input starts from the same deterministic stack: a listener on port
 * 80 and three established connections (two accepted, one connected by the
 * application; different options), one of them with ten segments in flight and one
 * with unread data. The input is then a program of operations:
 *
 *   op & 7 == 0  raw Ethernet frame (2-byte length, bytes)
 *             1  IPv4 packet (length byte, bytes) behind a valid Ethernet
 *                header, its header checksum fixed unless op & 0x80
 *             2  TCP segment of connection op >> 3 near its windows: flags,
 *                seq/ack offsets from rcv_nxt / snd_una, window, options
 *                (MSS, WS, TS, SACK-permitted, SACK blocks, raw bytes),
 *                payload length, a bad checksum on request
 *             3  like 2 but the sequence number counts from the right edge
 *                of the receive window and the ack from snd_max
 *             4  segment from a new peer port to the listener (SYN floods,
 *                stray ACKs, RSTs; flags 0xc0: the ACK that completes the
 *                handshake of the SYN-ACK that port got last, a SYN cookie
 *                once the listener's SYN queue (8) is full)
 *             5  the clock moves (byte^2 ms), timers fire
 *             6  an application call on a connection: read, write,
 *                shutdown, close, abort, accept, socket options
 *                (TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT)
 *             7  run the network loop on what was queued (a burst)
 *
 * Frames queue in the RX ring and are processed in bursts, as a real port
 * delivers them. Everything the stack sends is parsed and checked (lengths,
 * checksums, options). After the program every socket is closed and the
 * core is reset for the next input (h_reset: every TCB, flow, zero-copy
 * and outbound node and mbuf must be back).
 *
 * Cost per input, and how to run it long: docs/fuzzing.md.
 *
 *   ./inv build --fuzz     (build-fuzz/: clang, -O1, ASan + UBSan)
 *   build-fuzz/fuzz/fuzz_tcp_input -max_total_time=600 fuzz/corpus/tcp_input
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <rte_ring.h>

#include "check.h"
#include "mtcp_zc.h"
#include "common/seq.h"
#include "stack_harness.h"
#include "api/internal.h"
#include "tcp/flow.h"
#include "tcp/tcp.h"

#define N_CONNS 6       /* see setup() */
#define MAX_SOCKS 16
#define MAX_ADVANCE_US (300ull * 1000000) /* clock budget per input */

struct in {
	const uint8_t *p;
	size_t n, i;
};

static uint8_t u8(struct in *in)
{
	return in->i < in->n ? in->p[in->i++] : 0;
}

static uint16_t u16(struct in *in)
{
	return (uint16_t)(u8(in) << 8 | u8(in));
}

static struct h_conn conns[N_CONNS];
static int socks[MAX_SOCKS];
static int n_socks;
static int listener, zc_listener;
static uint64_t advanced;
static uint8_t payload[20480];
/* One core for every input, reset in between (h_reset); with
 * AATCP_FUZZ_FRESH_CORE=1 in the environment a core is created and
 * destroyed per input instead, as before core_reset (the comparison in
 * docs/fuzzing.md). */
static struct h_stack *stack;
static bool fresh_core;

static void add_sock(int s)
{
	if (s >= 0 && n_socks < MAX_SOCKS)
		socks[n_socks++] = s;
}

/* The last SYN-ACK each new peer (port 40000 + i) got: op_new_peer can
 * answer it, completing a handshake from a SYN cookie (RFC 4987 3.6). */
static struct {
	bool seen;
	uint32_t seq, ack, tsval;
} synacks[256];

/* With AATCP_FUZZ_TRACE=1 in the environment, a digest of every frame the
 * stack sent is printed after each input: the same input must print the
 * same digest whatever ran before it (determinism of the reset core). */
static bool trace_on;
static uint64_t trace;

static void trace_u32(uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		trace ^= (v >> (8 * i)) & 0xff;
		trace *= 0x100000001b3ull; /* FNV-1a */
	}
}

static void trace_frame(const struct h_pkt *p)
{
	trace_u32((uint32_t)p->port << 16 | p->ether_type);
	trace_u32(p->frame_len);
	trace_u32((uint32_t)p->sport << 16 | p->dport);
	trace_u32(p->seq);
	trace_u32(p->ack);
	trace_u32((uint32_t)p->flags << 16 | p->win);
	trace_u32(p->len);
	trace_u32(p->opts.tsval);
	trace_u32(p->opts.tsecr);
	trace_u32((uint32_t)p->opts.n_sack);
}

/* Reads and checks everything the stack sent. */
static void drain_tx(struct h_stack *h)
{
	struct h_pkt p;

	while (h_recv(h, &p)) {
		if (trace_on)
			trace_frame(&p);
		unsigned i = (unsigned)(p.dport - 40000u);
		if (p.ether_type == RTE_ETHER_TYPE_IPV4 && p.proto == IPPROTO_TCP &&
		    p.flags == (TCP_FLAG_SYN | TCP_FLAG_ACK) && p.dport >= 40000 && i < 256) {
			synacks[i].seen = true;
			synacks[i].seq = p.seq;
			synacks[i].ack = p.ack;
			synacks[i].tsval = p.opts.ts_ok ? p.opts.tsval : 0;
		}
	}
}

static void run(struct h_stack *h)
{
	h_run(h);
	drain_tx(h);
}

/* Keeps bursts within what one rx_burst takes. */
static void queue_frame(struct h_stack *h, int port, const void *f, uint32_t len)
{
	if (len < 1)
		return;
	h_inject_raw(h, port, f, len);
	if (h_rx_queued(h) >= 48)
		run(h);
}

static void setup(struct h_stack *h)
{
	static const char data[] = "data the application has not read yet";

	n_socks = 0;
	advanced = 0;
	listener = h_listen(h, 80, 8);
	/* 0: every option; data in flight from the stack */
	conns[0] = h_conn_default(80);
	add_sock(h_passive_open(h, listener, &conns[0]));
	/* ten segments in flight (the initial window), more queued: SACK
	 * recovery, RACK and TLP have a scoreboard to work on */
	CHECK(mtcp_write(h->mctx, conns[0].sock, (const char *)payload, 20000) == 20000);
	run(h);
	/* 1: no options at all (MSS 536, no scaling); unread data */
	conns[1] = h_conn_default(80);
	conns[1].pport = 50001;
	conns[1].mss = 0;
	conns[1].offer_ws = conns[1].offer_ts = conns[1].offer_sack = false;
	add_sock(h_passive_open(h, listener, &conns[1]));
	h_peer_send(h, &conns[1], data, sizeof(data));
	drain_tx(h);
	/* 2: opened by the application */
	conns[2] = h_conn_default(8080);
	conns[2].pport = 8080;
	conns[2].offer_sack = false;
	add_sock(h_active_open(h, &conns[2]));
	/* 3: a peer the listener has not seen */
	conns[3] = h_conn_default(80);
	conns[3].pport = 40000;
	/* 4: zero-copy receive (thesis ch. 3) on a second listener; unread */
	zc_listener = h_listen(h, 81, 8);
	CHECK(mtcp_zc_enable(h->mctx, zc_listener) == 0);
	conns[4] = h_conn_default(81);
	conns[4].pport = 50004;
	add_sock(h_passive_open(h, zc_listener, &conns[4]));
	h_peer_send(h, &conns[4], data, sizeof(data));
	drain_tx(h);
	/* 5: where the application connects to (op 6, what 9) */
	conns[5] = h_conn_default(0);
	conns[5].pport = 9000;
}

/* Reads zero-copy fragments and frees them, or forwards some of them to
 * another connection first (thesis ch. 3 and 5). */
static void zc_read(struct h_stack *h, struct in *in, int s, bool forward)
{
	struct stream_fragment_content frags[8];
	int n = mtcp_zc_read_fragments(h->mctx, s, frags, 1 + u8(in) % 8);

	if (n <= 0)
		return;
	if (forward && n_socks > 1) {
		int to = socks[u8(in) % n_socks];
		if (to != s)
			mtcp_zc_forward(s, to, 1 + u8(in) % n);
	}
	int left = h->c->socks[s].zc_out;
	if (left > 0)
		CHECK(mtcp_zc_free_fragments(h->mctx, s, left) == 0);
}

static void app_connect(struct h_stack *h)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(conns[5].pport),
				.sin_addr = {.s_addr = htonl(H_PEER_IP(0))}};
	int s;

	if (n_socks >= MAX_SOCKS)
		return;
	s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s < 0)
		return;
	if (mtcp_connect(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	    errno != EINPROGRESS) {
		mtcp_close(h->mctx, s);
		return;
	}
	add_sock(s);
	h_run(h);
	struct tcb *t = h_tcb(h, s);
	if (t)
		conns[5].lport = rte_be_to_cpu_16(t->lport);
}

static struct tcb *live_tcb(struct h_stack *h, const struct h_conn *k)
{
	return flow_lookup(h->c->flows, rte_cpu_to_be_32(H_STACK_IP(k->port)),
			   rte_cpu_to_be_16(k->lport), rte_cpu_to_be_32(H_PEER_IP(k->port)),
			   rte_cpu_to_be_16(k->pport));
}

/* At most 40 bytes of options: drops the SACK blocks that do not fit. */
static void fit_opts(struct h_opts *o)
{
	int used = 4 * o->mss_ok + 4 * o->ws_ok + 12 * o->ts_ok + 4 * o->sack_perm;

	while (o->n_sack && used + 4 + 8 * o->n_sack > 40)
		o->n_sack--;
}

static int read_opts(struct in *in, struct h_seg *s, uint8_t *raw, const struct tcb *t)
{
	uint8_t mask = u8(in);

	if (mask & 1) {
		s->opts.mss_ok = true;
		s->opts.mss = u16(in);
	}
	if (mask & 2) {
		s->opts.ws_ok = true;
		s->opts.ws = u8(in);
	}
	if (mask & 4) {
		s->opts.ts_ok = true;
		/* near the connection's TS.Recent, so PAWS both passes and fails */
		s->opts.tsval = (t ? t->ts_recent : 5000) + (uint32_t)(int32_t)(int8_t)u8(in) * 100u;
		s->opts.tsecr = u16(in);
	}
	if (mask & 8)
		s->opts.sack_perm = true;
	if (mask & 16) {
		s->opts.n_sack = 1 + u8(in) % 3;
		for (int i = 0; i < s->opts.n_sack; i++) {
			uint32_t base = t ? t->snd_una : 0, mss = t ? t->mss : 536;
			uint16_t a = u16(in), b = u16(in);
			if (a & 1) {
				/* on segment boundaries, as real receivers report
				 * them: the scoreboard's records and RACK */
				s->opts.sack_l[i] = base + (uint32_t)(int32_t)(int8_t)(a >> 8) * mss;
				s->opts.sack_r[i] = s->opts.sack_l[i] + (b % 16u) * mss;
			} else {
				s->opts.sack_l[i] = base + (uint32_t)(int32_t)(int16_t)a;
				s->opts.sack_r[i] = s->opts.sack_l[i] + b;
			}
		}
	}
	fit_opts(&s->opts);
	if (mask & 32) {
		int n = u8(in) % 41;
		for (int i = 0; i < n; i++)
			raw[i] = u8(in);
		s->raw_opts = raw;
		s->raw_opts_len = n;
	}
	return mask & 0x80; /* bad checksum */
}

static void op_segment(struct h_stack *h, struct in *in, uint8_t op)
{
	struct h_conn *k = &conns[(op >> 3) % N_CONNS];
	struct tcb *t = live_tcb(h, k);
	struct h_seg s = h_conn_seg(k, 0, NULL, 0);
	uint8_t raw[48], frame[2200];
	bool edge = (op & 7) == 3;

	s.flags = u8(in);
	int32_t dseq = (int16_t)u16(in), dack = (int16_t)u16(in);
	if (t) {
		uint32_t base = t->rcv_nxt;
		if (edge)
			base = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv : t->rcv_nxt;
		s.seq = base + (uint32_t)dseq;
		s.ack = (edge ? t->snd_max : t->snd_una) + (uint32_t)dack;
	} else {
		s.seq = k->snd_nxt + (uint32_t)dseq;
		s.ack = k->rcv_nxt + (uint32_t)dack;
	}
	s.win = u16(in);
	bool bad_csum = read_opts(in, &s, raw, t);
	s.len = u16(in) % 1461;
	s.payload = payload;
	uint32_t len = h_build_tcp(&s, frame);
	if (bad_csum)
		frame[14 + 20 + 16] ^= 0x5a;
	queue_frame(h, k->port, frame, len);
}

static void op_new_peer(struct h_stack *h, struct in *in)
{
	struct h_seg s = h_conn_seg(&conns[3], 0, NULL, 0);
	uint8_t raw[48], frame[2200];

	uint8_t port = u8(in);
	s.sport = (uint16_t)(40000 + port);
	s.flags = u8(in);
	s.seq = 0x20000000u + u16(in);
	s.ack = (uint32_t)u16(in) << 16 | u16(in);
	s.win = u16(in);
	read_opts(in, &s, raw, NULL);
	if ((s.flags & 0xc0) == 0xc0 && synacks[port].seen) {
		/* the handshake's ACK to the SYN-ACK this port got (a cookie
		 * when the SYN queue was full): numbers and TSecr echoed,
		 * perturbed by the low bits of the ACK field */
		s.flags = (uint8_t)((s.flags & (TCP_FLAG_FIN | TCP_FLAG_PSH)) | TCP_FLAG_ACK);
		s.seq = synacks[port].ack;
		s.ack = synacks[port].seq + 1 + (s.ack & 0x100 ? s.ack & 3 : 0);
		if (s.opts.ts_ok || !s.raw_opts) {
			s.opts.ts_ok = synacks[port].tsval != 0;
			s.opts.tsecr = synacks[port].tsval ^ (s.ack & 0x200 ? 0x3f : 0);
			fit_opts(&s.opts); /* the timestamp may not have been counted */
		}
	}
	s.len = u8(in);
	s.payload = payload;
	queue_frame(h, 0, frame, h_build_tcp(&s, frame));
}

static void op_raw(struct h_stack *h, struct in *in, uint8_t op)
{
	bool ip = op & 1;
	uint8_t frame[2048];
	uint32_t len = 0;

	if (ip) {
		memcpy(frame, aatcp_g.ports[0].mac.addr_bytes, 6);
		memcpy(frame + 6, h_peer_mac.addr_bytes, 6);
		frame[12] = 0x08;
		frame[13] = 0x00;
		len = 14;
	}
	uint32_t n = ip ? u8(in) : u16(in) % 1600u;
	for (uint32_t i = 0; i < n && in->i < in->n; i++)
		frame[len++] = u8(in);
	if (ip && len >= 34 && !(op & 0x80)) {
		/* a valid header checksum gets the packet past IPv4 */
		size_t hl = (size_t)(frame[14] & 0xf) * 4;
		if (hl < 20 || hl > len - 14)
			hl = 20;
		frame[24] = frame[25] = 0;
		uint16_t c = h_csum(frame + 14, hl, 0);
		frame[24] = (uint8_t)(c >> 8);
		frame[25] = (uint8_t)c;
	}
	queue_frame(h, 0, frame, len);
}

/* TCP_NODELAY on, or SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT to a value of the input (in range or not: EINVAL). */
static void set_option(struct h_stack *h, struct in *in, int s, int which)
{
	static const int level[] = {IPPROTO_TCP, SOL_SOCKET, IPPROTO_TCP, IPPROTO_TCP,
				    IPPROTO_TCP};
	static const int name[] = {TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
				   TCP_KEEPCNT};
	int v = which ? u8(in) : 1;

	if (which == 1)
		v &= 1;
	mtcp_setsockopt(h->mctx, s, level[which], name[which], &v, sizeof(v));
}

static void op_app(struct h_stack *h, struct in *in, uint8_t op)
{
	int s = n_socks ? socks[(op >> 3) % n_socks] : -1;
	uint8_t what = u8(in);
	char buf[4096];

	switch (what % 10) {
	case 0:
		if (s >= 0)
			while (mtcp_read(h->mctx, s, buf, sizeof(buf)) > 0)
				;
		break;
	case 1:
		if (s >= 0)
			mtcp_write(h->mctx, s, (const char *)payload, u16(in) % 2048u);
		break;
	case 2:
		if (s >= 0)
			mtcp_shutdown(h->mctx, s, SHUT_WR);
		break;
	case 3:
	case 4:
		if (s >= 0) {
			if (what % 10 == 3)
				mtcp_close(h->mctx, s);
			else
				mtcp_abort(h->mctx, s);
			int idx = (op >> 3) % n_socks;
			n_socks--;
			socks[idx] = socks[n_socks];
		}
		break;
	case 7:
	case 8:
		if (s >= 0)
			zc_read(h, in, s, what % 10 == 8);
		break;
	case 9:
		app_connect(h);
		break;
	case 5: {
		int a = mtcp_accept(h->mctx, (what & 0x80) ? zc_listener : listener, NULL, NULL);
		if (a >= 0) {
			mtcp_setsock_nonblock(h->mctx, a);
			if (n_socks < MAX_SOCKS)
				add_sock(a);
			else
				mtcp_close(h->mctx, a);
		}
		break;
	}
	case 6:
		if (s >= 0)
			set_option(h, in, s, what / 10 % 5);
		break;
	}
	run(h);
}

static void op_time(struct h_stack *h, struct in *in)
{
	uint64_t b = u8(in), us = b * b * 1000u;

	if (advanced + us > MAX_ADVANCE_US)
		return;
	advanced += us;
	/* two steps: timers that the first firing armed get their turn */
	h->now += us / 2;
	run(h);
	h->now += us - us / 2;
	run(h);
}

/* Closes every socket and gives the stack back for the next input. */
static void teardown(struct h_stack *h)
{
	run(h);
	for (int i = 0; i < n_socks; i++)
		mtcp_close(h->mctx, socks[i]);
	mtcp_close(h->mctx, listener);
	mtcp_close(h->mctx, zc_listener);
	run(h);
	h->now += 1000;
	run(h);
	if (fresh_core) {
		h_close_any(h); /* CHECKs the mbuf pool is full */
		stack = NULL;
	} else {
		h_reset(h); /* CHECKs every TCB, flow, node and mbuf went back */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	h_quiet = true;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	/* a small mbuf pool (the zc and outbound node pools are sized from
	 * it); 32 TCBs and socket ids, so that SYN floods, TIME_WAIT (2*MSL
	 * here, as by default: RFC 6191 reuse, the oldest recycled when no
	 * TCB is left) and the application can use them all up */
	h_global_init((*argv)[0], 1, "mbufs = 1024\nmax_concurrency = 32\ntcp_timewait = 60");
	const char *fresh = getenv("AATCP_FUZZ_FRESH_CORE");
	fresh_core = fresh && strcmp(fresh, "0") != 0;
	trace_on = getenv("AATCP_FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {.p = data, .n = size};

	if (!stack)
		stack = h_open();
	struct h_stack *h = stack;

	memset(synacks, 0, sizeof(synacks));
	trace = 0xcbf29ce484222325ull;
	setup(h);
	while (in.i < in.n) {
		uint8_t op = u8(&in);
		switch (op & 7) {
		case 0:
		case 1:
			op_raw(h, &in, op);
			break;
		case 2:
		case 3:
			op_segment(h, &in, op);
			break;
		case 4:
			op_new_peer(h, &in);
			break;
		case 5:
			op_time(h, &in);
			break;
		case 6:
			op_app(h, &in, op);
			break;
		default:
			run(h);
			break;
		}
		h_check_invariants(h);
	}
	teardown(h);
	if (trace_on)
		fprintf(stderr, "trace %zu %016llx\n", size, (unsigned long long)trace);
	return 0;
}
