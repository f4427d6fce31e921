/*
 * test_tcp_data.c - data transfer through the whole stack (stack_harness.h):
 * bulk in both directions with byte-exact checks and the ACK clock
 * (RFC 9293 3.8.6.3: an ACK for every second full segment, a delayed ACK
 * otherwise), out-of-order arrival (an immediate duplicate ACK per segment
 * with SACK blocks, RFC 5681 4.2 and RFC 2018; reassembly), old duplicates,
 * the receive window closing to zero and reopening (window update), the
 * peer's zero window and our persist probes (RFC 9293 3.8.6.1).
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/rcvbuf.h"
#include "tcp/rtt.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define F TCP_FLAG_FIN
#define P TCP_FLAG_PSH

#define BULK (200 * 1024)

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static void fill(uint8_t *buf, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(off + i);
}

static void finish(struct h_stack *h, struct h_conn *k, int ls)
{
	struct h_pkt p;

	/* the peer closes first: CLOSE_WAIT, then our FIN, LAST_ACK, done */
	h_peer_fin(h, k);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, A, k->rcv_nxt, k->snd_nxt, 0);
	CHECK(tcb_state(h_tcb(h, k->sock)) == TCPS_CLOSE_WAIT);
	char eof[8];
	CHECK(h_read(h, k->sock, eof, sizeof(eof)) == 0); /* end of stream */
	CHECK(mtcp_close(h->mctx, k->sock) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, k, F | A, k->rcv_nxt, k->snd_nxt, 0);
	h_conn_absorb(k, &p);
	h_peer_ack(h, k);
	h_expect_none(h);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_close(h);
}

/* Peer -> application, BULK bytes in full segments within the window the
 * stack advertises; the application reads after every segment. */
static void test_bulk_to_app(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t seg[1448], got[BULK];
	uint32_t sent = 0, rcvd = 0, acked = k.snd_nxt, segs = 0, acks = 0;
	uint32_t wnd_edge = k.snd_nxt + 65535; /* from the SYN-ACK (unscaled) */
	struct h_pkt p;

	while (sent < BULK) {
		uint32_t n = BULK - sent < 1448 ? BULK - sent : 1448;
		CHECK_MSG((int32_t)(wnd_edge - (k.snd_nxt + n)) >= 0, "window closed at %u", sent);
		fill(seg, sent, n);
		h_peer_send(h, &k, seg, n);
		sent += n;
		segs++;
		long r = h_read(h, k.sock, got + rcvd, sizeof(got) - rcvd);
		CHECK(r >= 0);
		rcvd += (uint32_t)r;
		h_run(h);
		while (h_recv(h, &p)) {
			/* the ACK clock: one ACK per two full segments, at once */
			h_check_seg(&p, &k, A, k.rcv_nxt, p.ack, 0);
			CHECK(p.ack == k.snd_nxt && segs % 2 == 0);
			acked = p.ack;
			wnd_edge = p.ack + ((uint32_t)p.win << 1);
			acks++;
		}
	}
	CHECK_EQ_U64(rcvd, BULK);
	for (uint32_t i = 0; i < BULK; i++)
		CHECK_MSG(got[i] == pattern(i), "byte %u", i);
	CHECK_EQ_U64(acks, segs / 2);
	/* the odd last segment: ACKed by the delayed-ACK timer only */
	if (acked != k.snd_nxt) {
		h_advance(h, DELACK_US - 1000);
		h_expect_none(h);
		h_advance(h, 1000);
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 0);
	}
	finish(h, &k, ls);
}

/* Application -> peer, BULK bytes through a 64 KiB send buffer; the peer
 * ACKs everything it got after each burst. */
static void test_bulk_from_app(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t out[BULK], got[BULK];
	uint32_t written = 0, rcvd = 0;
	struct h_pkt p;

	fill(out, 0, BULK);
	while (rcvd < BULK) {
		if (written < BULK) {
			ssize_t n = mtcp_write(h->mctx, k.sock, (const char *)out + written,
					       BULK - written);
			CHECK(n > 0 || (n < 0 && errno == EAGAIN));
			if (n > 0)
				written += (uint32_t)n;
		}
		h_run(h);
		int in_burst = 0;
		while (h_recv(h, &p)) {
			CHECK(p.ack == k.snd_nxt && (p.flags & ~P) == A);
			CHECK_MSG(p.seq == k.rcv_nxt, "seq iss+%u, expected iss+%u",
				  p.seq - k.stack_iss, k.rcv_nxt - k.stack_iss);
			CHECK(p.len > 0 && p.len <= 1448 && rcvd + p.len <= BULK);
			memcpy(got + rcvd, p.payload, p.len);
			rcvd += p.len;
			h_conn_absorb(&k, &p);
			in_burst++;
		}
		CHECK_MSG(in_burst > 0 || rcvd == BULK, "stalled at %u of %u", rcvd, BULK);
		h_advance(h, 1000);
		h_peer_ack(h, &k);
	}
	CHECK(memcmp(out, got, BULK) == 0);
	CHECK(h_tcb(h, k.sock)->snd_una == k.rcv_nxt);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* Segments arriving out of order: each gets an immediate duplicate ACK
 * carrying SACK blocks (newest first); filling the holes ACKs at once. */
static void test_out_of_order(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t data[4000], got[4000];
	uint32_t base = k.snd_nxt;
	struct h_pkt p;
	struct h_seg s;

	fill(data, 0, sizeof(data));
	/* [1000, 2000) first */
	k.snd_nxt = base + 1000;
	s = h_conn_seg(&k, A, data + 1000, 1000);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base, 0);
	CHECK(p.opts.n_sack == 1 && p.opts.sack_l[0] == base + 1000 &&
	      p.opts.sack_r[0] == base + 2000);
	CHECK_EQ_U64(h->c->cnt.ooo_segs, 1);
	CHECK_EQ_U64(h->c->cnt.dupacks_sent, 1);
	CHECK(h_read(h, k.sock, got, sizeof(got)) == -EAGAIN);
	/* [3000, 4000): two blocks, the newest first */
	k.snd_nxt = base + 3000;
	s = h_conn_seg(&k, A, data + 3000, 1000);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base, 0);
	CHECK(p.opts.n_sack == 2);
	CHECK(p.opts.sack_l[0] == base + 3000 && p.opts.sack_r[0] == base + 4000);
	CHECK(p.opts.sack_l[1] == base + 1000 && p.opts.sack_r[1] == base + 2000);
	/* a duplicate of an out-of-order segment: another duplicate ACK,
	 * a D-SACK first (RFC 2883 4), then the block that holds it */
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base, 0);
	CHECK(p.opts.n_sack == 3);
	CHECK(p.opts.sack_l[0] == base + 3000 && p.opts.sack_r[0] == base + 4000);
	CHECK(p.opts.sack_l[1] == base + 3000 && p.opts.sack_r[1] == base + 4000);
	CHECK(p.opts.sack_l[2] == base + 1000 && p.opts.sack_r[2] == base + 2000);
	/* [0, 1000) fills the first hole: ACK 2000 at once, one block left */
	k.snd_nxt = base;
	s = h_conn_seg(&k, A, data, 1000);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 2000, 0);
	CHECK(p.opts.n_sack == 1 && p.opts.sack_l[0] == base + 3000 &&
	      p.opts.sack_r[0] == base + 4000);
	CHECK(h_read(h, k.sock, got, sizeof(got)) == 2000);
	/* [2000, 3000): everything in order, no SACK block */
	k.snd_nxt = base + 2000;
	s = h_conn_seg(&k, A, data + 2000, 1000);
	h_send_seg(h, &s);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 4000, 0);
	CHECK(p.opts.n_sack == 0);
	CHECK(h_read(h, k.sock, got + 2000, sizeof(got) - 2000) == 2000);
	CHECK(memcmp(got, data, sizeof(data)) == 0);
	k.snd_nxt = base + 4000;
	/* an old duplicate: dropped, counted, ACKed at once (RFC 5681 4.2) */
	uint64_t old = h_drops(h, DROP_tcp_old_dup);
	k.snd_nxt = base + 1000;
	h_peer_send(h, &k, data + 1000, 500);
	k.snd_nxt = base + 4000;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 4000, 0);
	CHECK(p.opts.n_sack == 1 && p.opts.sack_l[0] == base + 1000 &&
	      p.opts.sack_r[0] == base + 1500); /* D-SACK */
	CHECK_EQ_U64(h_drops(h, DROP_tcp_old_dup), old + 1);
	/* a segment overlapping old and new data: only the new part counts */
	uint8_t more[600];
	fill(more, 3500, sizeof(more));
	k.snd_nxt = base + 3500;
	h_peer_send(h, &k, more, sizeof(more));
	CHECK(h_read(h, k.sock, got, sizeof(got)) == 100 && memcmp(got, more + 500, 100) == 0);
	h_advance(h, DELACK_US);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, base + 4100, 0);
	finish(h, &k, ls);
}

/* The peer sends until the application, which does not read, has the
 * whole receive buffer (64 KB, the first ACK's right edge): every ACK
 * keeps that edge, and the last ones offer a zero window. */
static void fill_window(struct h_stack *h, struct h_conn *k, uint32_t base, uint32_t right)
{
	static uint8_t seg[1448];
	struct h_pkt p;

	while (k->snd_nxt != right) {
		uint32_t n = right - k->snd_nxt < 1448 ? right - k->snd_nxt : 1448;
		fill(seg, k->snd_nxt - base, n);
		h_peer_send(h, k, seg, n);
		while (h_recv(h, &p)) {
			CHECK(p.ack == k->snd_nxt);
			/* the right edge never moves back (RFC 9293 3.8.6) */
			CHECK_MSG(p.ack + ((uint32_t)p.win << 1) == right, "edge %u",
				  p.ack + ((uint32_t)p.win << 1) - base);
		}
	}
	h_advance(h, DELACK_US);
	while (h_recv(h, &p))
		CHECK(p.ack == right && p.win == 0);
	CHECK(rcvbuf_held(h_tcb(h, k->sock)->rb) == 65536);
}

/* The application does not read: the window closes; a zero-window probe
 * is answered with the zero window; reading opens it (window update). */
static void test_receive_window_zero(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t got[65536];
	uint32_t base = k.snd_nxt, right = base + 65536; /* the first ACK's edge */
	struct h_pkt p;

	fill_window(h, &k, base, right);
	/* a probe (one byte at rcv_nxt): dropped, answered with window 0 */
	uint64_t full = h_drops(h, DROP_tcp_rcv_full);
	h_peer_send(h, &k, "x", 1);
	k.snd_nxt -= 1;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, right, 0);
	CHECK(p.win == 0);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_rcv_full), full + 1);
	/* a segment beyond the window: dropped, ACKed */
	uint64_t oow = h_drops(h, DROP_tcp_out_of_window);
	k.snd_nxt = right + 100;
	h_peer_send(h, &k, "y", 1);
	k.snd_nxt = right;
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, right, 0);
	CHECK_EQ_U64(h_drops(h, DROP_tcp_out_of_window), oow + 1);
	/* reading half opens the window: an unsolicited window update */
	uint64_t wu = h->c->cnt.window_updates;
	CHECK(h_read(h, k.sock, got, 32768) == 32768);
	for (uint32_t i = 0; i < 32768; i++)
		CHECK(got[i] == pattern(i));
	h_run(h);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, right, 0);
	CHECK_EQ_U64(p.win, 32768 >> 1);
	CHECK_EQ_U64(h->c->cnt.window_updates, wu + 1);
	CHECK(h_read(h, k.sock, got, sizeof(got)) == 32768);
	h_run(h);
	h_drain(h); /* a second update may follow: not part of this check */
	finish(h, &k, ls);
}

/* Our window stays closed (the application does not read) for twice
 * tcp_timeout while the peer probes it as Linux does, an ACK at RCV.NXT - 1
 * (RFC 1122 4.2.2.17): each probe is answered with the zero window and
 * keeps the connection, since it is the application that is idle, not the
 * peer. The same peer falling silent is aborted after tcp_timeout. */
static void test_closed_window_probes_keep_connection(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	uint32_t base = k.snd_nxt, right = base + 65536;
	struct tcb *t = h_tcb(h, k.sock);
	static uint8_t got[65536];
	struct h_pkt p;
	int n;

	fill_window(h, &k, base, right);
	for (int i = 0; i < 6; i++) {
		struct h_seg s = h_conn_seg(&k, A, NULL, 0);

		h_advance(h, 10000000);
		h_expect_none(h);
		s.seq = k.snd_nxt - 1;
		h_send_seg(h, &s);
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A, k.rcv_nxt, right, 0);
		CHECK(p.win == 0);
	}
	CHECK(tcb_state(t) == TCPS_ESTABLISHED);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 0);
	/* silence: tcp_timeout after the last probe, RST and ETIMEDOUT */
	h_advance(h, 29000000);
	h_expect_none(h);
	h_advance(h, 1000000);
	h_recv_tcp(h, &p);
	CHECK(p.flags & TCP_FLAG_RST);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 1);
	while ((n = mtcp_read(h->mctx, k.sock, (char *)got, sizeof(got))) > 0)
		; /* what was received before the abort */
	CHECK(n == -1 && errno == ETIMEDOUT);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_close(h);
}

/* The peer's window closes with our data waiting: persist probes at the
 * RTO, backing off, each an ACK-only segment at snd_una - 1; a window
 * update restarts the flow. */
static void test_persist(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t out[5000];
	struct h_pkt p;
	struct h_seg s;

	fill(out, 0, sizeof(out));
	k.win = 0; /* the peer's window is closed before anything is sent */
	h_peer_ack(h, &k);
	CHECK(h_tcb(h, k.sock)->snd_wnd == 0);
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, sizeof(out)) == sizeof(out));
	h_run(h);
	h_expect_none(h);
	struct tcb *t = h_tcb(h, k.sock);
	uint64_t at = t->timer_at[TT_PERSIST];
	CHECK_EQ_U64(at, h->now + RTO_INITIAL_US);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_U64(h_run_timer(h, 100000000), at);
		h_recv_tcp(h, &p);
		h_check_seg(&p, &k, A, k.rcv_nxt - 1, k.snd_nxt, 0);
		CHECK_EQ_U64(h->c->cnt.zero_window_probes, (uint64_t)i + 1);
		/* the peer answers each probe with its (still zero) window */
		h_peer_ack(h, &k);
		h_expect_none(h);
		CHECK_EQ_U64(t->timer_at[TT_PERSIST], at + ((uint64_t)RTO_INITIAL_US << (i + 1)));
		at = t->timer_at[TT_PERSIST];
	}
	/* the window opens: data flows at once, no more probes */
	k.win = 1000; /* << 7 */
	s = h_conn_seg(&k, A, NULL, 0);
	h_send_seg(h, &s);
	uint32_t got = 0;
	while (h_recv(h, &p)) {
		CHECK(p.seq == k.rcv_nxt && p.len > 0);
		got += p.len;
		h_conn_absorb(&k, &p);
	}
	CHECK_EQ_U64(got, sizeof(out)); /* three full segments and the rest: no Nagle (mTCP) */
	CHECK(t->timer_at[TT_PERSIST] == 0);
	k.win = 65535;
	while (got < sizeof(out)) {
		h_peer_ack(h, &k);
		while (h_recv(h, &p)) {
			got += p.len;
			h_conn_absorb(&k, &p);
		}
	}
	h_peer_ack(h, &k);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* Zero-window probes until now + dur: each answered (answer) with the
 * window still closed, none more than 60 s apart. Returns the probes. */
static int probe_for(struct h_stack *h, struct h_conn *k, uint64_t dur, bool answer)
{
	uint64_t end = h->now + dur, last = h->now;
	int probes = 0;
	struct h_pkt p;

	while (h->now < end && tcb_state(h_tcb(h, k->sock)) == TCPS_ESTABLISHED) {
		CHECK(h_run_timer(h, 100000000));
		if (!h_recv(h, &p))
			continue; /* another timer (idle, delayed ACK) */
		if (p.flags & TCP_FLAG_RST)
			break;
		h_check_seg(&p, k, A, k->rcv_nxt - 1, k->snd_nxt, 0);
		CHECK_MSG(h->now - last <= 60000000 + 1000, "probes %llu us apart",
			  (unsigned long long)(h->now - last));
		last = h->now;
		probes++;
		if (answer)
			h_peer_ack(h, k);
		h_expect_none(h);
	}
	return probes;
}

/* RFC 9293 3.8.6.1: a window held at zero for 10 minutes (virtual time)
 * by a peer that answers the probes never kills the connection, and
 * tcp_timeout (30 s here) does not either; once the window opens, the data
 * goes at once and its retransmission timer starts from the un-backed-off
 * RTO (the probes' backoff is their own). */
static void test_persist_ten_minutes(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t out[2 * 1448]; /* two full segments: Nagle holds none */
	struct h_pkt p;

	fill(out, 0, sizeof(out));
	k.win = 0;
	h_peer_ack(h, &k);
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, sizeof(out)) == sizeof(out));
	h_run(h);
	h_expect_none(h);
	int probes = probe_for(h, &k, 600000000, true);
	/* 1, 2, 4, ... 32 s apart (63 s), then one a minute */
	CHECK_MSG(probes == 6 + 8, "%d probes in 10 minutes", probes);
	struct tcb *t = h_tcb(h, k.sock);
	CHECK(tcb_state(t) == TCPS_ESTABLISHED);
	/* the window opens: two segments at once */
	k.win = 1000; /* << 7 */
	h_peer_ack(h, &k);
	uint32_t got = 0;
	while (h_recv(h, &p)) {
		CHECK_MSG(p.seq == k.rcv_nxt + got && p.len > 0, "%s seq +%u len %u",
			  h_flags_str(p.flags), p.seq - k.rcv_nxt, p.len);
		CHECK(memcmp(p.payload, out + got, p.len) == 0);
		got += p.len;
	}
	CHECK_EQ_U64(got, sizeof(out));
	CHECK(t->rto_backoff == 0 && t->persist_backoff == 0);
	CHECK(t->timer_at[TT_PERSIST] == 0);
	CHECK(t->timer_at[TT_RTO] && t->timer_at[TT_RTO] - h->now <= RTO_INITIAL_US);
	/* all of it lost: retransmitted after that RTO, not a minute later */
	uint64_t at = t->timer_at[TT_RTO];
	CHECK_EQ_U64(h_run_timer(h, 100000000), at);
	h_recv_tcp(h, &p);
	CHECK(p.seq == k.rcv_nxt && p.len > 0);
	h_drain(h);
	k.rcv_nxt += sizeof(out);
	h_peer_ack(h, &k);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* A peer that stops answering the probes is gone: after tcp_retries
 * unanswered probes the connection is reset with ETIMEDOUT. */
static void test_persist_dead_peer(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;
	char buf[8];

	k.win = 0;
	h_peer_ack(h, &k);
	CHECK(mtcp_write(h->mctx, k.sock, "x", 1) == 1);
	h_run(h);
	CHECK_EQ_U64(probe_for(h, &k, 3600000000ull, false), (uint64_t)h_conf()->tcp_retries);
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_CLOSED);
	(void)p;
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -ETIMEDOUT);
	h_drain(h);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

/* The peer's window shrinks to less than a segment (and less than half
 * the largest it offered) with nothing in flight: sender SWS avoidance
 * holds the data, but not forever: the override timeout (RFC 9293
 * 3.8.6.2.1, RFC 1122 4.2.3.4) sends what fits when the persist timer
 * fires. */
static void test_small_window_override(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	static uint8_t out[1000];
	struct h_pkt p;

	fill(out, 0, sizeof(out));
	k.win = 1; /* << 7: 128 bytes, the largest offered was 8 MiB */
	h_peer_ack(h, &k);
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, sizeof(out)) == sizeof(out));
	h_run(h);
	h_expect_none(h); /* SWS avoidance: no 128-byte runt at once */
	struct tcb *t = h_tcb(h, k.sock);
	CHECK_MSG(t->timer_at[TT_PERSIST] != 0, "nothing in flight, nothing sent, no timer");
	uint64_t at = t->timer_at[TT_PERSIST];
	CHECK_EQ_U64(h_run_timer(h, 10000000), at);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A, k.rcv_nxt, k.snd_nxt, 128);
	CHECK(memcmp(p.payload, out, 128) == 0);
	h_conn_absorb(&k, &p);
	/* the window opens: the rest goes */
	k.win = 65535;
	h_peer_ack(h, &k);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, 1000 - 128);
	CHECK(memcmp(p.payload, out + 128, 1000 - 128) == 0);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* Data waiting, nothing in flight, and no packet buffer to send it in (the
 * pool empty for a while): the persist timer that tcp_output() armed is the
 * only one left (RFC 9293 3.8.6.2.1's override timeout); when it finds the
 * send still impossible it must stay armed, so the data goes once buffers
 * are back. A timer is armed whenever data is queued (RFC 6298 5.1 for
 * data outstanding; here, data not yet sent), or nothing would ever send
 * it: no ACK comes back for data that never left. */
static struct rte_mbuf *held[1 << 17];
static uint8_t out1k[1000];

/* Takes every buffer of the core's pool; returns how many. */
static unsigned hold_pool(struct h_stack *h)
{
	struct rte_mempool *mp = h->c->pool;
	unsigned n = 0;

	while (n < sizeof(held) / sizeof(held[0]) && (held[n] = rte_pktmbuf_alloc(mp)))
		n++;
	CHECK(n > 0 && rte_mempool_avail_count(mp) == 0);
	return n;
}

/* Data written with the pool empty: nothing can go, and a timer must be
 * armed for it. */
static struct tcb *write_without_mbufs(struct h_stack *h, struct h_conn *k)
{
	fill(out1k, 0, sizeof(out1k));
	CHECK(mtcp_write(h->mctx, k->sock, (const char *)out1k, sizeof(out1k)) == sizeof(out1k));
	h_run(h);
	h_expect_none(h);
	CHECK(h_drops(h, DROP_mbuf_alloc) > 0);
	return h_tcb(h, k->sock);
}

static void test_no_mbuf_then_send(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;
	unsigned n = hold_pool(h);
	struct tcb *t = write_without_mbufs(h, &k);

	for (int i = 0; i < 3; i++) {
		CHECK_MSG(t->timer_at[TT_PERSIST] || t->timer_at[TT_RTO],
			  "data waiting, nothing sent, no timer armed (round %d)", i);
		CHECK(h_run_timer(h, 70000000) != 0);
		h_expect_none(h);
	}
	CHECK(t->timer_at[TT_PERSIST] || t->timer_at[TT_RTO]);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(held[i]);
	CHECK(h_run_timer(h, 70000000) != 0);
	h_recv_tcp(h, &p);
	h_check_seg(&p, &k, A | P, k.rcv_nxt, k.snd_nxt, sizeof(out1k));
	CHECK(memcmp(p.payload, out1k, sizeof(out1k)) == 0);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	h_expect_none(h);
	finish(h, &k, ls);
}

/* The pool stays empty: the retries are bounded as zero-window probes are
 * (tcp_retries, RFC 9293 3.8.3 R2), so the connection ends with ETIMEDOUT
 * instead of waiting in silence, also with the idle timeout off
 * (tcp_timeout = 0). */
static void test_no_mbuf_forever_times_out(void)
{
	struct h_conn k;
	int ls, idle = h_conf()->tcp_timeout;

	h_conf()->tcp_timeout = 0;
	struct h_stack *h = h_open_conn(&k, &ls);
	h_conf()->tcp_timeout = idle;
	unsigned n = hold_pool(h);
	struct tcb *t = write_without_mbufs(h, &k);
	char buf[8];

	for (int i = 0; i < 100 && tcb_state(t) != TCPS_CLOSED; i++)
		CHECK(h_run_timer(h, 70000000) != 0);
	CHECK(tcb_state(t) == TCPS_CLOSED);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 1);
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == -1 && errno == ETIMEDOUT);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(held[i]);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h); /* the RST found no buffer either */
	h_close(h);
}

/* SO_RCVBUF of 256 KiB: window scale 3 offered (RFC 7323 2.3: the
 * smallest shift that spans the buffer), the SYN's window unscaled, then
 * the whole buffer opened and usable without the application reading;
 * for a passive and an active open. */
static void big_window(bool active)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(80);
	int v = 256 * 1024, ls = -1;
	static uint8_t seg[1448];
	struct h_pkt p;

	if (active) {
		/* h_active_open makes its own socket: set the default instead */
		int old = h_conf()->rcvbuf;
		h_conf()->rcvbuf = v;
		k.pport = 8080;
		h_active_open(h, &k);
		h_conf()->rcvbuf = old;
	} else {
		ls = h_listen(h, 80, 4);
		/* the listener's buffer sizes pass to what it accepts */
		CHECK(mtcp_close(h->mctx, ls) == 0);
		h_run(h);
		ls = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		CHECK(mtcp_setsockopt(h->mctx, ls, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
		CHECK(mtcp_bind(h->mctx, ls, (struct sockaddr *)&a, sizeof(a)) == 0);
		CHECK(mtcp_listen(h->mctx, ls, 4) == 0);
		h_run(h);
		h_passive_open(h, ls, &k);
	}
	CHECK_EQ_U64(k.stack_ws, 3);
	CHECK_EQ_U64(h_tcb(h, k.sock)->rcv_wscale, 3);
	/* the first ACK opens the whole buffer */
	h_peer_send(h, &k, seg, 1448);
	h_peer_send(h, &k, seg, 1448);
	h_recv_tcp(h, &p);
	CHECK_MSG(((uint32_t)p.win << 3) >= (uint32_t)v - 2 * 1448, "window %u", p.win << 3);
	uint32_t edge = p.ack + ((uint32_t)p.win << 3);
	uint64_t full = h_drops(h, DROP_tcp_rcv_full) + h_drops(h, DROP_tcp_out_of_window);
	while (k.snd_nxt + 1448 <= edge) {
		h_peer_send(h, &k, seg, 1448);
		h_drain(h);
	}
	CHECK_EQ_U64(h_drops(h, DROP_tcp_rcv_full) + h_drops(h, DROP_tcp_out_of_window), full);
	CHECK(rcvbuf_held(h_tcb(h, k.sock)->rb) > 200 * 1024);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	if (ls >= 0)
		CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

static void test_big_window(void)
{
	big_window(false);
	big_window(true);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_bulk_to_app,
		test_bulk_from_app,
		test_out_of_order,
		test_receive_window_zero,
		test_closed_window_probes_keep_connection,
		test_persist,
		test_persist_ten_minutes,
		test_persist_dead_peer,
		test_small_window_override,
		test_no_mbuf_then_send,
		test_no_mbuf_forever_times_out,
		test_big_window,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
