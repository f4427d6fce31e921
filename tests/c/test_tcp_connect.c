/*
 * test_tcp_connect.c - a connect that cannot start reports its error
 * instead of hanging (mtcp_connect, SO_ERROR, EPOLLERR|EPOLLHUP), on
 * non-blocking and blocking sockets:
 *   - no TCB left (max_concurrency reached): ENOMEM;
 *   - no port routes to the address: ENETUNREACH;
 *   - no ephemeral port left for this core: EADDRNOTAVAIL;
 *   - the TCB pool refilled, the same socket type connects again.
 * A blocking connect runs in a second thread (the application) while the
 * test thread runs the network loop, as the library's two threads do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "io/steer.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define UNROUTED_IP H_IP(192, 168, 77, 7)

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
	return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr = {.s_addr = htonl(ip)}};
}

static int so_error(struct h_stack *h, int s)
{
	int v = -1;
	socklen_t len = sizeof(v);

	CHECK(mtcp_getsockopt(h->mctx, s, SOL_SOCKET, SO_ERROR, &v, &len) == 0);
	return v;
}

/* Non-blocking: EINPROGRESS, then the error through epoll and SO_ERROR. */
static void nonblocking_fails(struct h_stack *h, uint32_t ip, int want)
{
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = addr_of(ip, 80);

	CHECK(s >= 0);
	CHECK(mtcp_connect(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	      errno == EINPROGRESS);
	h_run(h);
	h_expect_none(h);
	uint32_t ev = h_events(h, s);
	CHECK_MSG((ev & (MTCP_EPOLLERR | MTCP_EPOLLHUP)) == (MTCP_EPOLLERR | MTCP_EPOLLHUP),
		  "events %#x", ev);
	CHECK_EQ_U64(so_error(h, s), want);
	CHECK_EQ_U64(so_error(h, s), 0); /* reading it cleared it (as Linux) */
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_run(h);
}

struct blocking_connect {
	struct h_stack *h;
	uint32_t ip;
	int rc, err;
	_Atomic bool done;
};

static void *blocking_thread(void *arg)
{
	struct blocking_connect *b = arg;
	int s = mtcp_socket(b->h->mctx, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = addr_of(b->ip, 80);

	b->rc = mtcp_connect(b->h->mctx, s, (struct sockaddr *)&a, sizeof(a));
	b->err = errno;
	mtcp_close(b->h->mctx, s);
	atomic_store(&b->done, true);
	return NULL;
}

/* Blocking: mtcp_connect returns -1 with the error (it used to spin). */
static void blocking_fails(struct h_stack *h, uint32_t ip, int want)
{
	struct blocking_connect b = {.h = h, .ip = ip};
	pthread_t th;

	CHECK(pthread_create(&th, NULL, blocking_thread, &b) == 0);
	for (int i = 0; i < 200000 && !atomic_load(&b.done); i++) {
		h_run(h);
		sched_yield();
	}
	CHECK_MSG(atomic_load(&b.done), "blocking connect still waiting");
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(b.rc == -1);
	CHECK_MSG(b.err == want, "errno %d (%s), want %d", b.err, strerror(b.err), want);
	h_run(h);
	h_expect_none(h);
}

static void test_no_tcb(void)
{
	struct h_stack *h = h_open();
	struct tcb *pool = h->c->tcb_free;

	h->c->tcb_free = NULL; /* every TCB in use (max_concurrency reached) */
	nonblocking_fails(h, H_PEER_IP(0), ENOMEM);
	blocking_fails(h, H_PEER_IP(0), ENOMEM);
	h->c->tcb_free = pool;
	/* TCBs again: a connect works */
	struct h_conn k = h_conn_default(80);
	k.pport = 80;
	int s = h_active_open(h, &k);
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

static void test_no_route(void)
{
	struct h_stack *h = h_open();

	nonblocking_fails(h, UNROUTED_IP, ENETUNREACH);
	blocking_fails(h, UNROUTED_IP, ENETUNREACH);
	h_close(h);
}

/* No source port left: with (pretended) two cores, every ephemeral 4-tuple
 * towards the peer is held by an open of the other core (io/steer.h: two
 * cores never open the same 4-tuple; tcp/connect.c pick_port). */
static void test_no_port(void)
{
	struct h_stack *h = h_open();
	const struct port *p = &h->c->g->ports[0];
	int cores = h->c->g->n_cores;

	for (uint32_t lp = 32768; lp <= 60999; lp++)
		CHECK(steer_claim(p, htonl(H_STACK_IP(0)), htons((uint16_t)lp), htonl(H_PEER_IP(0)),
				  htons(80)));
	h->c->g->n_cores = 2;
	nonblocking_fails(h, H_PEER_IP(0), EADDRNOTAVAIL);
	blocking_fails(h, H_PEER_IP(0), EADDRNOTAVAIL);
	h->c->g->n_cores = cores;
	h_close(h);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_no_tcb,
		test_no_route,
		test_no_port,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
