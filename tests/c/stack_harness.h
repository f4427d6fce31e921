/*
 * stack_harness.h - a deterministic, single-threaded test bed for the whole
 * stack: DPDK EAL in-process, ethdev ports backed by rte_rings
 * (rte_eth_from_rings), the library initialised from config text, one core
 * created without a network thread and driven by hand with net_iteration()
 * at a fake clock. The test thread is both the application (it calls the
 * real mtcp_* API on non-blocking sockets) and the network (a scripted peer
 * that builds frames with correct checksums and reads what the stack sent).
 *
 *   h_global_init(argv[0], 1, NULL);            // once per process
 *   struct h_stack *h = h_open();               // fresh core, fake clock
 *   int ls = h_listen(h, 80, 16);
 *   struct h_conn k = h_conn_default(h, 80);    // peer port, ISS, options
 *   int s = h_passive_open(h, ls, &k);          // 3-way handshake, accept
 *   h_peer_send(h, &k, "hello", 5);             // data from the peer
 *   struct h_pkt p;
 *   CHECK(h_recv(h, &p) && p.ack == k.snd_nxt); // the stack's ACK
 *   ...
 *   h_close(h);   // no TCB, socket or listener left; every mbuf back in its pool
 *   h_global_fini();
 *
 * Teardown is strict: a test ends its connections itself (close, abort,
 * timeouts) and reads every frame the stack sent (or h_drain()s them).
 *
 * Used by tests/c/test_tcp_*.c, tests/c/test_net_*.c, tests/c/test_fwd_*.c
 * and the fuzzer fuzz/fuzz_tcp_input.c (which sets h_quiet).
 */
#ifndef AATCP_TESTS_STACK_HARNESS_H
#define AATCP_TESTS_STACK_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "core/core.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "tcp/tcb.h"

#define H_MAX_PORTS 2
#define H_T0_US 1000000000ull /* the fake clock starts at 1000 s */
#define H_MTU 1500
#define H_MSS (H_MTU - 40)

/* Addresses (host byte order). Port i of the stack is 10.0.i.1/24; the
 * peer is 10.0.i.2 (static ARP entry on port 0); 10.0.0.3 has no ARP entry
 * (for ARP tests). */
#define H_IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define H_STACK_IP(port) H_IP(10, 0, (port), 1)
#define H_PEER_IP(port) H_IP(10, 0, (port), 2)
#define H_NOARP_IP H_IP(10, 0, 0, 3)
extern const struct rte_ether_addr h_peer_mac;

/* TCP options as the peer writes them or as parsed from the stack. */
struct h_opts {
	bool mss_ok, ws_ok, ts_ok, sack_perm;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int n_sack;
	uint32_t sack_l[4], sack_r[4];
};

/* A frame the stack transmitted, parsed (numbers in host byte order). The
 * parser CHECKs what the stack must always get right: lengths, IPv4 and
 * TCP checksums, well-formed options. */
struct h_pkt {
	int port;                       /* which port it left on */
	uint32_t frame_len;
	struct rte_ether_addr src_mac, dst_mac;
	uint16_t ether_type;
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_sip, arp_tip;
	struct rte_ether_addr arp_sha, arp_tha;
	/* IPv4 */
	uint32_t src_ip, dst_ip;
	uint8_t proto, ttl;
	bool df;
	/* ICMP */
	uint8_t icmp_type, icmp_code;
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;                   /* the raw 16-bit field */
	struct h_opts opts;
	uint32_t len;                   /* payload bytes */
	uint8_t payload[2048];
};

/* A segment the peer sends (host byte order). */
struct h_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	struct h_opts opts;
	const uint8_t *raw_opts;        /* used instead of opts when set */
	int raw_opts_len;               /* padded by the builder to 4 bytes */
	const void *payload;
	uint32_t len;
	uint32_t src_ip, dst_ip;        /* 0: the peer / the stack on port */
	int port;                       /* stack port it arrives on */
};

/* The peer's side of one connection: what it sends and what it expects. */
struct h_conn {
	int sock;                       /* the application's socket id */
	int port;                       /* stack port */
	uint16_t lport, pport;          /* stack's port, peer's port */
	uint32_t peer_iss, stack_iss;
	uint32_t snd_nxt;               /* peer: next sequence number it sends */
	uint32_t rcv_nxt;               /* peer: next byte it expects (what it ACKs) */
	uint16_t win;                   /* window field the peer sends */
	uint8_t ws;                     /* peer's window scale (if offered) */
	uint16_t mss;                   /* MSS the peer offers (0: no option) */
	uint16_t syn_mss;               /* MSS the stack's SYN must offer (0: H_MSS) */
	bool offer_ws, offer_ts, offer_sack;
	uint32_t ts_val;                /* peer's timestamp clock */
	uint32_t ts_recent;             /* stack's last TSval */
	/* negotiated (from the stack's SYN or SYN-ACK) */
	uint16_t stack_mss;
	uint8_t stack_ws;
	bool ws_ok, ts_ok, sack_ok;
};

struct h_stack {
	struct core *c;
	mctx_t mctx;
	uint64_t now;                   /* fake clock, us */
	int epid;                       /* the harness' epoll */
};

/* Set by the fuzzer: no chatter, frames from the stack are only parsed. */
extern bool h_quiet;

/* Once per process: EAL, n_ports ring ports, the library from the base
 * config plus extra_conf lines (may be NULL). */
void h_global_init(const char *prog, int n_ports, const char *extra_conf);
void h_global_fini(void);
/* main() of a whole-stack test with one port: test_init, the harness up,
 * the n tests in order, the harness down; returns test_done(). */
int h_test_main(const char *prog, void (*const tests[])(void), size_t n);
struct aatcp_config *h_conf(void);

/* A fresh core (no network thread) at the fake clock H_T0_US, with a fixed
 * ISN secret, a cleared ARP table and an epoll. */
struct h_stack *h_open(void);
/* Strict teardown: CHECKs no TCB in use, no listener, no open socket and
 * no frame left unread, destroys the core and CHECKs every pool is full. */
void h_close(struct h_stack *h);
/* Teardown without the strict checks (the fuzzer; a test that ends with the
 * TX ring blocked): whatever is left is released by core_destroy;
 * CHECKs the mbuf pool is full afterwards. */
void h_close_any(struct h_stack *h);
/* h_close_any() that keeps the core for the next run (the fuzzer: no core
 * allocated per input): core_reset() CHECKs that every TCB, flow,
 * zero-copy and outbound node went back, the pool must be full, and the
 * stack starts again as h_open() leaves it. */
void h_reset(struct h_stack *h);

/* ---- driving the network loop ---- */
void h_run(struct h_stack *h);                       /* one iteration, same time */
void h_advance(struct h_stack *h, uint64_t us);      /* clock += us, one iteration */
/* Earliest armed TCB timer (0: none). */
uint64_t h_next_timer(struct h_stack *h);
/* Jumps to the next timer deadline (rounded up to the wheel's ms) and runs
 * one iteration; returns the new time, 0 when no timer is armed or the
 * next one is more than max_us ahead. */
uint64_t h_run_timer(struct h_stack *h, uint64_t max_us);

/* ---- frames ---- */
struct rte_mbuf *h_mbuf(const void *frame, uint32_t len);
/* Puts a raw Ethernet frame into port's RX ring (not yet processed). */
void h_inject_raw(struct h_stack *h, int port, const void *frame, uint32_t len);
/* Builds a full Ethernet/IPv4/TCP frame for s into buf (>= 1600 + len);
 * returns its length. */
uint32_t h_build_tcp(const struct h_seg *s, uint8_t *buf);
/* Builds, injects and runs one iteration. */
void h_send_seg(struct h_stack *h, const struct h_seg *s);
/* Frames the stack sent and nobody read yet. */
unsigned h_pending(struct h_stack *h);
/* Pops the next frame the stack sent (any port, port 0 first); false if none. */
bool h_recv(struct h_stack *h, struct h_pkt *p);
/* Pops the next frame that must exist and be TCP. */
void h_recv_tcp(struct h_stack *h, struct h_pkt *p);
/* Makes port's TX ring full (the PMD takes nothing) until h_tx_unblock();
 * every frame the stack sent must have been read first. */
void h_tx_block(struct h_stack *h, int port);
void h_tx_unblock(struct h_stack *h, int port);
/* Discards every frame sent; returns how many. */
unsigned h_drain(struct h_stack *h);
/* CHECKs nothing was sent. */
#define h_expect_none(h) CHECK_MSG(h_pending(h) == 0, "%u unexpected frames", h_pending(h))
/* Ends a test's connection k with mtcp_abort (CHECKs the RST goes out),
 * closes the listener ls, then h_close(). */
void h_abort_and_close(struct h_stack *h, struct h_conn *k, int ls);
/* Parses one frame (exported for the fuzzer and the net tests). */
void h_parse(const uint8_t *frame, uint32_t len, struct h_pkt *p);
/* Internet checksum over buf (folded, complemented). */
uint16_t h_csum(const void *buf, size_t len, uint32_t sum);

/* ---- the application side ---- */
int h_listen(struct h_stack *h, uint16_t port, int backlog);
/* Epoll bits reported for sock now (mtcp_epoll_wait with timeout 0). */
uint32_t h_events(struct h_stack *h, int sock);
struct tcb *h_tcb(struct h_stack *h, int sock);
/* Reads everything readable now into buf; returns bytes, or -errno. */
long h_read(struct h_stack *h, int sock, void *buf, size_t cap);

/* ---- the scripted peer ---- */
/* A peer connection to stack port lport with every option offered:
 * MSS 1460, window scale 7, timestamps, SACK, window 65535. */
struct h_conn h_conn_default(uint16_t lport);
/* A segment of k with its current numbers (ACK set). */
struct h_seg h_conn_seg(const struct h_conn *k, uint8_t flags, const void *payload,
			uint32_t len);
/* Sends SYN, CHECKs the SYN-ACK (options, numbers), sends the ACK, accepts.
 * Returns the accepted socket. */
int h_passive_open(struct h_stack *h, int lsock, struct h_conn *k);
/* The usual start of a connection test: a fresh stack, a listener on port
 * 80 (in *ls) and h_conn_default(80) opened on it (in *k). */
struct h_stack *h_open_conn(struct h_conn *k, int *ls);
/* The peer's SYN only; fills k from the SYN-ACK (h_pkt in *synack). */
void h_peer_syn(struct h_stack *h, struct h_conn *k, struct h_pkt *synack);
/* mtcp_connect from the application to the peer; CHECKs the SYN, answers
 * with a SYN-ACK and CHECKs the final ACK. Returns the socket. */
int h_active_open(struct h_stack *h, struct h_conn *k);
/* h_active_open() on a non-blocking socket the test prepared (a module
 * registered, a splice set up: what must happen before mtcp_connect). */
int h_active_open_sock(struct h_stack *h, struct h_conn *k, int s);
/* Its two halves, for a test that acts while the connection opens:
 * mtcp_connect on s and the SYN CHECKed (k learns it); then the peer's
 * SYN-ACK alone (what the stack answers is left to the test). */
void h_active_syn(struct h_stack *h, struct h_conn *k, int s);
void h_peer_synack(struct h_stack *h, struct h_conn *k);
/* Peer sends data (ACK set, acking k->rcv_nxt), advances k->snd_nxt. */
void h_peer_send(struct h_stack *h, struct h_conn *k, const void *data, uint32_t len);
/* Peer sends a pure ACK of k->rcv_nxt. */
void h_peer_ack(struct h_stack *h, struct h_conn *k);
/* Peer sends FIN (with ACK), advances k->snd_nxt. */
void h_peer_fin(struct h_stack *h, struct h_conn *k);
/* Takes what the stack sent in p into account: rcv_nxt and ts_recent. */
void h_conn_absorb(struct h_conn *k, const struct h_pkt *p);
/* CHECKs p is a TCP segment of k with the given flags, seq and ack. */
void h_check_seg(const struct h_pkt *p, const struct h_conn *k, uint8_t flags,
		 uint32_t seq, uint32_t ack, uint32_t len);

/* Receives the stack's next TCP segment into p and CHECKs it carries
 * data[off, off + len) at stream offset off of k's send direction (seq =
 * stack_iss + 1 + off), ACK set (PSH allowed); takes its TSval as the peer's
 * TS.Recent (RFC 7323 4.3). */
void h_expect_data(struct h_stack *h, struct h_conn *k, const uint8_t *data, uint32_t off,
		   uint32_t len, struct h_pkt *p);
/* The peer acknowledges `ack` with n SACK blocks [l[i], r[i]) (absolute
 * sequence numbers, most recent first, RFC 2018 4). */
void h_peer_ack_sack(struct h_stack *h, struct h_conn *k, uint32_t ack, int n,
		     const uint32_t *l, const uint32_t *r);

/* CHECKs what must hold between iterations for every live TCB: sequence
 * variables ordered (snd_una <= snd_nxt <= snd_max, rcv_nxt <= rcv_adv),
 * a congestion window, the pool and flow table counts agreeing. */
void h_check_invariants(struct h_stack *h);
/* Frames queued in the RX rings, not yet taken by the stack. */
unsigned h_rx_queued(struct h_stack *h);

const char *h_flags_str(uint8_t flags);
uint64_t h_drops(struct h_stack *h, enum drop_reason r);

#endif /* AATCP_TESTS_STACK_HARNESS_H */
