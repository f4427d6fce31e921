/*
 * test_io_txfull.c - a PMD whose TX ring is full (io/io.h): the stack keeps
 * its frames, in order, offers them again on the next iteration and stops
 * TCP output while its own queue is full (backpressure to the send buffer);
 * nothing is dropped (counter tx_full stays 0) and nothing is retransmitted.
 * Every TX burst also finds the ring full with probability 0.3 (fault
 * txfull=, io/fault.h), and the tests block the ring for many iterations.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define P TCP_FLAG_PSH
#define BULK (8u << 20)

static uint8_t out[BULK];

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

/* Reads every frame the stack sent: each must be the next data segment
 * (no gap, no duplicate); with `ack`, the peer ACKs every second one.
 * Returns frames. */
static unsigned take_data(struct h_stack *h, struct h_conn *k, uint32_t base, bool ack)
{
	struct h_pkt p;
	unsigned n = 0;

	while (h_recv(h, &p)) {
		CHECK((p.flags & ~P) == A);
		CHECK_MSG(p.seq == k->rcv_nxt, "seq +%u, expected +%u", p.seq - base,
			  k->rcv_nxt - base);
		CHECK(p.len > 0 && k->rcv_nxt - base + p.len <= BULK);
		CHECK(memcmp(p.payload, out + (k->rcv_nxt - base), p.len) == 0);
		h_conn_absorb(k, &p);
		if (++n % 2 == 0 && ack)
			h_peer_ack(h, k);
	}
	return n;
}

static void write_some(struct h_stack *h, struct h_conn *k, uint32_t *written)
{
	if (*written == BULK)
		return;
	ssize_t n = mtcp_write(h->mctx, k->sock, (const char *)out + *written, BULK - *written);
	CHECK(n > 0 || (n < 0 && errno == EAGAIN));
	if (n > 0)
		*written += (uint32_t)n;
}

/* BULK bytes with the ring refusing bursts at random, and held full for 50
 * iterations three times (at least a quarter of the transfer apart), each
 * when the congestion window and the data waiting are larger than the
 * stack's TX queue: all bytes arrive once, in order, with no
 * retransmission. */
static void test_ring_full_backpressure(void)
{
	struct h_conn k;
	int ls;
	uint32_t sndbuf = h_conf()->sndbuf;

	h_conf()->sndbuf = 2u << 20;
	struct h_stack *h = h_open_conn(&k, &ls);
	h_conf()->sndbuf = sndbuf;
	uint32_t base = k.rcv_nxt, written = 0;
	struct core *c = h->c;
	int blocks = 0;

	for (uint32_t i = 0; i < BULK; i++)
		out[i] = pattern(i);
	while (k.rcv_nxt - base < BULK) {
		write_some(h, &k, &written);
		h_run(h);
		struct tcb *t = h_tcb(h, k.sock);
		uint32_t queue = (TXQ_LEN + 64) * t->mss;
		if (blocks < 3 && k.rcv_nxt - base >= (uint32_t)blocks * (BULK / 4)) {
			take_data(h, &k, base, false);
			uint32_t sendable = t->cwnd - (t->snd_nxt - t->snd_una);
			uint32_t waiting = written - (t->snd_nxt - (base));
			if (t->cwnd > t->snd_nxt - t->snd_una && sendable > queue &&
			    waiting > queue) {
				/* more than the TX queue is ready to go: the ring
				 * is full meanwhile */
				h_tx_block(h, 0);
				uint64_t bp = c->cnt.tx_backpressure;
				for (int i = 0; i < 50; i++) {
					write_some(h, &k, &written);
					h_advance(h, 100);
					CHECK(c->tx[0].n <= TXQ_LEN - TXQ_RESERVE);
				}
				CHECK_EQ_U64(c->tx[0].n, TXQ_LEN - TXQ_RESERVE);
				CHECK(c->cnt.tx_backpressure > bp);
				h_tx_unblock(h, 0);
				blocks++;
			}
			h_peer_ack(h, &k);
		}
		unsigned got = take_data(h, &k, base, true);
		if (got % 2)
			h_peer_ack(h, &k);
		h_advance(h, 100);
	}
	CHECK_EQ_U64(blocks, 3);
	CHECK_EQ_U64(c->cnt.retransmits, 0);
	CHECK_EQ_U64(h_drops(h, DROP_tx_full), 0);
	CHECK(c->cnt.tx_backpressure > 0);
	CHECK(c->cnt.fault_tx_refused > 0);
	CHECK(c->cnt.tx_ring_full >= c->cnt.fault_tx_refused);
	h_run(h);
	take_data(h, &k, base, true);
	h_peer_ack(h, &k);
	CHECK(h_tcb(h, k.sock)->snd_una == k.rcv_nxt);
	h_abort_and_close(h, &k, ls);
}

/* Frames still queued when the stack shuts down with the ring full go back
 * to the pool (h_close_any() checks every mbuf came back). */
static void test_teardown_with_queue(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);

	h_tx_block(h, 0);
	CHECK(mtcp_write(h->mctx, k.sock, (const char *)out, 8000) == 8000);
	h_run(h);
	CHECK(h->c->tx[0].n > 0);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_close_any(h); /* the ring still full: the queue is freed, not sent */
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_ring_full_backpressure,
		test_teardown_with_queue,
	};

	(void)argc;
	test_init(argv[0]);
	h_global_init(argv[0], 1, "port.p0.fault = txfull=0.3,dir=tx");
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tests[i]();
	h_global_fini();
	return test_done();
}
