/*
 * test_tcp_open.c - connection establishment through the whole stack
 * (stack_harness.h): passive and active open, the options each side ends up
 * with (MSS, window scale, timestamps, SACK-permitted; RFC 9293 3.7.1,
 * RFC 7323 2-3, RFC 2018) and the effective MSS the stack sends with,
 * refusal, simultaneous open (RFC 9293 figure 7), and a clean close.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST
#define P TCP_FLAG_PSH

/* App closes first, the peer ACKs and closes too; with tcp_timewait = 0
 * the connection ends at once. */
static void close_cleanly(struct h_stack *h, struct h_conn *k)
{
	struct h_pkt p;

	CHECK(mtcp_close(h->mctx, k->sock) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, F | A, k->rcv_nxt, k->snd_nxt, 0);
	h_conn_absorb(k, &p);
	h_peer_ack(h, k);
	h_expect_none(h);
	h_peer_fin(h, k);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, A, k->rcv_nxt, k->snd_nxt, 0);
	h_expect_none(h);
}

/* Sends len bytes from the application and CHECKs the segments: full
 * ones at once, the runt tail only once everything before it is ACKed
 * (Nagle, RFC 9293 3.7.4, which the socket asks for: the default is off,
 * as in mTCP). */
static void write_and_check_segments(struct h_stack *h, struct h_conn *k, uint32_t len,
				     uint32_t mss)
{
	static char buf[8192];
	struct h_pkt p;
	uint32_t off = 0;

	int off_opt = 0;

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 26);
	CHECK(mtcp_setsockopt(h->mctx, k->sock, IPPROTO_TCP, TCP_NODELAY, &off_opt,
			      sizeof(off_opt)) == 0);
	CHECK(mtcp_write(h->mctx, k->sock, buf, len) == (ssize_t)len);
	h_run(h);
	while (off < len) {
		uint32_t n = len - off < mss ? len - off : mss;
		if (n < mss && off > 0) {
			h_expect_none(h); /* Nagle holds the runt */
			h_peer_ack(h, k);
		}
		h_recv_tcp(h, &p);
		h_check_seg(&p, k, (uint8_t)(A | (off + n == len ? P : 0)), k->rcv_nxt,
			    k->snd_nxt, n);
		CHECK(memcmp(p.payload, buf + off, n) == 0);
		h_conn_absorb(k, &p);
		off += n;
	}
	h_expect_none(h);
	h_peer_ack(h, k);
	h_expect_none(h);
}

static void test_passive_all_options(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	int mss = 0;
	socklen_t len = sizeof(mss);

	h_peer_syn(h, &k, &p);
	/* SYN-ACK: our ISS, ACK of the SYN, MSS = MTU - 40, window scale for
	 * a 64 KiB buffer (1), timestamps echoing the peer, SACK-permitted,
	 * and an unscaled window (RFC 7323 2.2) */
	CHECK(p.flags == (S | A) && p.ack == k.peer_iss + 1 && p.len == 0);
	CHECK(p.opts.mss_ok && p.opts.mss == 1460);
	CHECK(p.opts.ws_ok && p.opts.ws == 1);
	CHECK(p.opts.ts_ok && p.opts.tsecr == k.ts_val && p.opts.tsval == H_T0_US / 1000);
	CHECK(p.opts.sack_perm && p.opts.n_sack == 0);
	CHECK(p.win == 65535);
	CHECK(p.dst_ip == H_PEER_IP(0) && p.src_ip == H_STACK_IP(0) && p.df && p.ttl == 64);
	CHECK(rte_is_same_ether_addr(&p.dst_mac, &h_peer_mac));
	CHECK(h->c->cnt.conn_passive == 1);
	/* not accepted before the handshake completes */
	CHECK(mtcp_accept(h->mctx, ls, NULL, NULL) == -1 && errno == EAGAIN);
	h_peer_ack(h, &k);
	h_expect_none(h);
	CHECK(h_events(h, ls) == MTCP_EPOLLIN);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int s = mtcp_accept(h->mctx, ls, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0 && peer.sin_port == htons(k.pport) &&
	      peer.sin_addr.s_addr == htonl(H_PEER_IP(0)));
	k.sock = s;
	CHECK(mtcp_setsock_nonblock(h->mctx, s) == 0);
	struct tcb *t = h_tcb(h, s);
	CHECK(tcb_state(t) == TCPS_ESTABLISHED);
	CHECK(t->ws_ok && t->snd_wscale == 7 && t->rcv_wscale == 1);
	CHECK(t->ts_ok && t->sack_ok);
	/* effective MSS: the peer's 1460 less the 12 bytes of timestamps */
	CHECK_EQ_U64(t->mss, 1448);
	CHECK(mtcp_getsockopt(h->mctx, s, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == 0 &&
	      mss == 1448);
	/* the ACK's window is scaled (<< 7) */
	CHECK_EQ_U64(t->snd_wnd, 65535u << 7);
	CHECK(h_events(h, s) == MTCP_EPOLLOUT);

	write_and_check_segments(h, &k, 3000, 1448);
	/* data from the peer: ACKed with the scaled window; the right edge
	 * stays where the last ACK put it (65536 bytes past the data before),
	 * so 65531 bytes, >> 1 rounded up */
	h_peer_send(h, &k, "hello", 5);
	h_advance(h, DELACK_US);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK_EQ_U64(p.win, 32766);
	CHECK(p.opts.tsecr == k.ts_val);
	char buf[16];
	CHECK(h_read(h, s, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	close_cleanly(h, &k);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_close(h);
}

/* A SYN without options: MSS 536 (RFC 9293 3.7.1), no scaling on either
 * side, no timestamps or SACK in the SYN-ACK or after. */
static void test_passive_no_options(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;

	k.mss = 0;
	k.offer_ws = k.offer_ts = k.offer_sack = false;
	h_peer_syn(h, &k, &p);
	CHECK(p.opts.mss_ok && p.opts.mss == 1460);
	CHECK(!p.opts.ws_ok && !p.opts.ts_ok && !p.opts.sack_perm);
	CHECK(p.win == 65535);
	h_peer_ack(h, &k);
	int s = mtcp_accept(h->mctx, ls, NULL, NULL);
	CHECK(s >= 0 && mtcp_setsock_nonblock(h->mctx, s) == 0);
	k.sock = s;
	struct tcb *t = h_tcb(h, s);
	CHECK(!t->ws_ok && t->rcv_wscale == 0 && t->snd_wscale == 0 && !t->ts_ok && !t->sack_ok);
	CHECK_EQ_U64(t->mss, 536);
	CHECK_EQ_U64(t->snd_wnd, 65535);
	write_and_check_segments(h, &k, 1200, 536);
	/* the window field is in bytes, unscaled */
	h_peer_send(h, &k, "abc", 3);
	h_advance(h, DELACK_US);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK(p.win == 65535 - 3 && p.opts.n_sack == 0); /* the edge of the SYN-ACK */
	char buf[8];
	CHECK(h_read(h, s, buf, sizeof(buf)) == 3);
	close_cleanly(h, &k);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_close(h);
}

/* A smaller MSS from the peer, with timestamps: segments of 1000 - 12. */
static void test_passive_small_mss(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);

	k.mss = 1000;
	int s = h_passive_open(h, ls, &k);
	CHECK_EQ_U64(h_tcb(h, s)->mss, 988);
	write_and_check_segments(h, &k, 2500, 988);
	close_cleanly(h, &k);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_close(h);
}

static void test_active_open(void)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(0);
	struct h_pkt p;

	k.pport = 8080;
	k.ws = 3;
	int s = h_active_open(h, &k);
	struct tcb *t = h_tcb(h, s);
	CHECK(h->c->cnt.conn_active == 1);
	CHECK(k.lport >= 32768 && k.stack_ws == 1 && t->snd_wscale == 3);
	CHECK(t->ts_ok && t->sack_ok);
	CHECK_EQ_U64(t->mss, 1448);
	CHECK(h_events(h, s) == MTCP_EPOLLOUT);
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	CHECK(mtcp_getpeername(h->mctx, s, (struct sockaddr *)&a, &alen) == 0 &&
	      a.sin_port == htons(8080) && a.sin_addr.s_addr == htonl(H_PEER_IP(0)));
	CHECK(mtcp_getsockname(h->mctx, s, (struct sockaddr *)&a, &alen) == 0 &&
	      a.sin_port == htons(k.lport) && a.sin_addr.s_addr == htonl(H_STACK_IP(0)));
	write_and_check_segments(h, &k, 2000, 1448);
	h_peer_send(h, &k, "response", 8);
	char buf[16];
	CHECK(h_read(h, s, buf, sizeof(buf)) == 8 && memcmp(buf, "response", 8) == 0);
	h_advance(h, DELACK_US);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	close_cleanly(h, &k);
	h_close(h);
}

/* The SYN-ACK leaves timestamps and SACK out: neither is used. */
static void test_active_open_peer_declines(void)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(0);

	k.pport = 8080;
	k.offer_ts = k.offer_sack = false;
	int s = h_active_open(h, &k);
	struct tcb *t = h_tcb(h, s);
	CHECK(!t->ts_ok && !t->sack_ok && t->ws_ok);
	CHECK_EQ_U64(t->mss, 1460);
	write_and_check_segments(h, &k, 1500, 1460);
	close_cleanly(h, &k);
	h_close(h);
}

static int connect_nb(struct h_stack *h, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr = {.s_addr = htonl(H_PEER_IP(0))}};
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	CHECK(s >= 0);
	CHECK(mtcp_connect(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	      errno == EINPROGRESS);
	h_run(h);
	return s;
}

static void test_connect_refused(void)
{
	struct h_stack *h = h_open();
	struct h_pkt p;
	int s = connect_nb(h, 8081);

	h_recv_tcp(h, &p);
	CHECK(p.flags == S);
	CHECK(h_events(h, s) == 0); /* still connecting */
	/* a RST without ACK is ignored in SYN_SENT */
	struct h_seg r = {.sport = 8081, .dport = p.sport, .seq = 0, .flags = R, .win = 0};
	h_send_seg(h, &r);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_SYN_SENT);
	/* RST|ACK acknowledging our SYN: refused */
	r.flags = R | A;
	r.ack = p.seq + 1;
	h_send_seg(h, &r);
	h_expect_none(h);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_CLOSED);
	uint32_t ev = h_events(h, s);
	CHECK(ev & MTCP_EPOLLERR);
	int err = 0;
	socklen_t len = sizeof(err);
	CHECK(mtcp_getsockopt(h->mctx, s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == ECONNREFUSED);
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_run(h);
	h_close(h);
}

/* A SYN-ACK acknowledging something else: RST <SEQ=SEG.ACK>, still
 * connecting; then the right SYN-ACK completes. */
static void test_synack_bad_ack(void)
{
	struct h_stack *h = h_open();
	struct h_pkt p, syn;
	int s = connect_nb(h, 8082);

	h_recv_tcp(h, &syn);
	struct h_seg sa = {.sport = 8082, .dport = syn.sport, .seq = 777, .ack = syn.seq + 5,
			   .flags = S | A, .win = 65535};
	h_send_seg(h, &sa);
	h_recv_tcp(h, &p);
	CHECK(p.flags == R && p.seq == syn.seq + 5);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_SYN_SENT);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_bad_ack), 1);
	sa.ack = syn.seq + 1;
	h_send_seg(h, &sa);
	h_recv_tcp(h, &p);
	CHECK(p.flags == A && p.seq == syn.seq + 1 && p.ack == 778);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_ESTABLISHED);
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	h_close(h);
}

/* The SYN is never answered: retransmitted 1, 2, 4, 8, 16 s apart, then
 * ETIMEDOUT. */
static void test_syn_timeout(void)
{
	struct h_stack *h = h_open();
	struct h_pkt p, syn;
	int s = connect_nb(h, 8083);

	h_recv_tcp(h, &syn);
	uint64_t at = h->now + 1000000;
	for (int i = 0; i < SYN_RETRIES; i++) {
		CHECK_EQ_U64(h_run_timer(h, 100000000), at);
		h_recv_tcp(h, &p);
		CHECK(p.flags == S && p.seq == syn.seq && p.sport == syn.sport);
		at += 2000000ull << i;
	}
	CHECK_EQ_U64(h_run_timer(h, 100000000), at);
	h_expect_none(h);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_CLOSED);
	int err = 0;
	socklen_t len = sizeof(err);
	CHECK(mtcp_getsockopt(h->mctx, s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == ETIMEDOUT);
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_run(h);
	h_close(h);
}

/* RFC 9293 figure 7: both sides send a SYN; each answers the other's with
 * a SYN,ACK; each side's SYN,ACK completes the other's handshake. */
static void test_simultaneous_open(void)
{
	struct h_stack *h = h_open();
	struct h_pkt syn, p;
	int s = connect_nb(h, 8084);

	h_recv_tcp(h, &syn);
	CHECK(syn.flags == S);
	/* line 3: the peer's SYN crosses ours */
	struct h_seg ps = {.sport = 8084, .dport = syn.sport, .seq = 300, .flags = S,
			   .win = 65535};
	ps.opts.mss_ok = true;
	ps.opts.mss = 1460;
	h_send_seg(h, &ps);
	/* line 5: our SYN,ACK (the same ISS) */
	h_recv_tcp(h, &p);
	CHECK(p.flags == (S | A) && p.seq == syn.seq && p.ack == 301);
	CHECK(tcb_state(h_tcb(h, s)) == TCPS_SYN_RCVD);
	h_expect_none(h);
	/* line 6: the peer's SYN,ACK; we are established */
	ps.flags = S | A;
	ps.ack = syn.seq + 1;
	h_send_seg(h, &ps);
	CHECK_MSG(tcb_state(h_tcb(h, s)) == TCPS_ESTABLISHED, "state %s",
		  tcp_state_name(tcb_state(h_tcb(h, s))));
	/* no SYN,ACK again (two such stacks would bounce them forever) */
	while (h_recv(h, &p))
		CHECK(!(p.flags & S));
	CHECK(h_events(h, s) & MTCP_EPOLLOUT);
	/* and data flows */
	CHECK(mtcp_write(h->mctx, s, "hi", 2) == 2);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (A | P) && p.seq == syn.seq + 1 && p.ack == 301 && p.len == 2);
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == (R | A));
	h_close(h);
}

/* Destroying a context with sockets, a listener, connections and an epoll
 * still open (as mTCP's examples do) releases everything: the mbuf pool is
 * full afterwards (h_close_any) and LeakSanitizer finds nothing at exit. */
static void test_destroy_with_open_sockets(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	int ep = mtcp_epoll_create(h->mctx, 16);
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data = {.sockid = ls}};

	CHECK(ep >= 0 && mtcp_epoll_ctl(h->mctx, ep, MTCP_EPOLL_CTL_ADD, ls, &ev) == 0);
	h_passive_open(h, ls, &k);
	h_peer_send(h, &k, "unread", 6);
	CHECK(mtcp_write(h->mctx, k.sock, "unacked", 7) == 7);
	h_run(h);
	h_drain(h);
	h_close_any(h);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_passive_all_options,
		test_passive_no_options,
		test_passive_small_mss,
		test_active_open,
		test_active_open_peer_declines,
		test_connect_refused,
		test_synack_bad_ack,
		test_syn_timeout,
		test_simultaneous_open,
		test_destroy_with_open_sockets,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
