/*
 * test_tcp_open.c - connection establishment through the whole stack
 * (stack_harness.h): passive and active open, the options each side ends up
 * with (MSS, window scale, timestamps, SACK-permitted; RFC 9293 3.7.1,
 * RFC 7323 2-3, RFC 2018) and the effective MSS the stack sends with,
 * refusal, simultaneous open (RFC 9293 figure 7), and a clean close.
 */
#include <errno.h>
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
 * (Nagle, RFC 9293 3.7.4). */
static void write_and_check_segments(struct h_stack *h, struct h_conn *k, uint32_t len,
				     uint32_t mss)
{
	static char buf[8192];
	struct h_pkt p;
	uint32_t off = 0;

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 26);
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
	(void)argc;
	test_init(argv[0]);
	h_global_init(argv[0], 1, NULL);
	test_passive_all_options();
	test_destroy_with_open_sockets();
	h_global_fini();
	return test_done();
}
