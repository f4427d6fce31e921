/*
 * test_core_reset.c - core_reset() (the fuzzer's fresh core per input):
 *   - a core reset with connections, a listener, data in flight and unread
 *     data behaves like a new one: the same script gives the same socket
 *     and TCB ids, ephemeral port, ISNs and segments, and every pool is
 *     full;
 *   - a node not given back is reported (-EBUSY), not hidden: the leak
 *     oracle of h_reset().
 */
#include <errno.h>
#include <string.h>

#include "api/internal.h"
#include "check.h"
#include "stack_harness.h"
#include "tcp/flow.h"
#include "tcp/tcp.h"
#include "zc/zc_stream.h"

/* What a script's run shows of the stack's state. */
struct seen {
	int ls, s1, s2;
	uint32_t tcb1, tcb2;            /* TCB ids: the pool's order */
	uint32_t iss1, iss2;
	uint16_t lport2;
	uint32_t data_seq, data_len;
};

/* A listener, an accepted connection with 3,000 bytes written (in flight)
 * and unread data, an active open; nothing is closed. */
static struct seen script(struct h_stack *h)
{
	static const char data[3000];
	struct seen r;
	struct h_conn k = h_conn_default(80), a = h_conn_default(8080);
	struct h_pkt p;

	memset(&r, 0, sizeof(r)); /* padding too: compared with memcmp */
	a.pport = 8080;
	r.ls = h_listen(h, 80, 8);
	r.s1 = h_passive_open(h, r.ls, &k);
	h_peer_send(h, &k, "unread", 6);
	h_drain(h);
	CHECK(mtcp_write(h->mctx, r.s1, data, sizeof(data)) == (ssize_t)sizeof(data));
	h_run(h);
	h_recv_tcp(h, &p);
	r.data_seq = p.seq;
	r.data_len = p.len;
	h_drain(h);
	r.s2 = h_active_open(h, &a);
	r.tcb1 = h_tcb(h, r.s1)->id;
	r.tcb2 = h_tcb(h, r.s2)->id;
	r.iss1 = k.stack_iss;
	r.iss2 = a.stack_iss;
	r.lport2 = a.lport;
	return r;
}

static void check_fresh(struct h_stack *h)
{
	struct core *c = h->c;

	CHECK(c->tcbs_used == 0 && flow_count(c->flows) == 0 && !c->listeners);
	/* the harness' epoll took socket id 0 again */
	CHECK(c->tcb_free == &c->tcbs[0] && h->epid == 0 && c->sock_free == 1);
	CHECK(zc_pool_free_count(c->zc_pool) == zc_pool_size(c->zc_pool));
	CHECK(c->cnt.conn_closed == 0 && h_pending(h) == 0);
}

static void test_reset_is_a_new_core(void)
{
	struct h_stack *h = h_open();
	struct seen first = script(h);

	CHECK(h->c->tcbs_used == 2);
	h_reset(h); /* CHECKs every TCB, flow, node and mbuf came back */
	check_fresh(h);
	struct seen again = script(h);
	CHECK_MSG(memcmp(&first, &again, sizeof(first)) == 0,
		  "after the reset: sockets %d %d %d, ISNs %u %u, port %u, seq %u (first %d %d %d, "
		  "%u %u, %u, %u)", again.ls, again.s1, again.s2, again.iss1, again.iss2,
		  again.lport2, again.data_seq, first.ls, first.s1, first.s2, first.iss1,
		  first.iss2, first.lport2, first.data_seq);
	h_close_any(h);
	/* and the same as on a core just created */
	h = h_open();
	struct seen fresh = script(h);
	CHECK(memcmp(&first, &fresh, sizeof(first)) == 0);
	h_close_any(h);
}

static void test_reset_reports_a_leak(void)
{
	struct h_stack *h = h_open();
	struct zc_node *n = zc_pool_get(h->c->zc_pool);

	CHECK(n);
	CHECK(core_reset(h->c) == -EBUSY); /* a zero-copy node is still out */
	zc_pool_put(h->c->zc_pool, n);
	h_reset(h);
	check_fresh(h);
	h_close(h);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_reset_is_a_new_core,
		test_reset_reports_a_leak,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
