/*
 * test_tcp_keepalive.c - SO_KEEPALIVE (RFC 9293 3.8.4) through the whole
 * stack, in virtual time:
 *   - after 2 h of silence a probe (ACK at SND.NXT - 1); the peer answers,
 *     the connection lives (tcp_timeout, 30 s here, does not end it), and
 *     the next probe waits for the next 2 h of silence;
 *   - a peer that answers none: 9 probes 75 s apart, then a RST and
 *     ETIMEDOUT (EPOLLERR) for the application;
 *   - accepted sockets inherit SO_KEEPALIVE from their listener;
 *   - tcp_keepalive_time, _intvl and _probes change the three numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/config.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define A TCP_FLAG_ACK
#define R TCP_FLAG_RST
#define IDLE_US (7200ull * 1000000u)
#define INTVL_US (75ull * 1000000u)

static void set_keepalive(struct h_stack *h, int s, int on)
{
	int v = -1;
	socklen_t len = sizeof(v);

	CHECK(mtcp_setsockopt(h->mctx, s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == 0);
	CHECK(mtcp_getsockopt(h->mctx, s, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v == on);
}

/* Runs timers until the next frame the stack sends; returns its time. */
static uint64_t next_frame(struct h_stack *h, struct h_pkt *p)
{
	while (!h_recv(h, p))
		CHECK(h_run_timer(h, 100000000000ull));
	return h->now;
}

static void test_keepalive_answered(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;

	set_keepalive(h, k.sock, 1);
	h_run(h);
	uint64_t quiet = h->now;
	for (int round = 0; round < 3; round++) {
		uint64_t at = next_frame(h, &p);
		CHECK_MSG(at >= quiet + IDLE_US && at < quiet + IDLE_US + 2000,
			  "probe %llu s after the last word", (unsigned long long)((at - quiet) / 1000000));
		h_check_seg(&p, &k, A, k.rcv_nxt - 1, k.snd_nxt, 0);
		h_advance(h, 10000);
		h_peer_ack(h, &k); /* "I am here" */
		quiet = h->now;
		h_expect_none(h);
		CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_ESTABLISHED);
	}
	CHECK_EQ_U64(h->c->cnt.keepalive_probes, 3);
	/* off: no more probes; (tcp_timeout takes over again: it resets) */
	set_keepalive(h, k.sock, 0);
	h_run(h);
	next_frame(h, &p);
	CHECK(p.flags == (R | A) && h->now - quiet < 31000000);
	CHECK_EQ_U64(h->c->cnt.keepalive_probes, 3);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

/* The peer answers none: `probes` probes `intvl` apart after `idle` of
 * silence, then RST and ETIMEDOUT (counter conn_timedout). */
static void dead_peer(uint64_t idle, uint64_t intvl, int probes)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	char buf[8];

	set_keepalive(h, ls, 1); /* inherited by the accepted socket */
	h_passive_open(h, ls, &k);
	int v = 0;
	socklen_t len = sizeof(v);
	CHECK(mtcp_getsockopt(h->mctx, k.sock, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v);
	h_run(h);
	uint64_t quiet = h->now;
	for (int i = 0; i < probes; i++) {
		uint64_t at = next_frame(h, &p);
		CHECK(at >= quiet + idle + (uint64_t)i * intvl &&
		      at < quiet + idle + (uint64_t)i * intvl + 2000);
		h_check_seg(&p, &k, A, k.rcv_nxt - 1, k.snd_nxt, 0);
	}
	uint64_t at = next_frame(h, &p);
	CHECK(p.flags == (R | A) && at >= quiet + idle + (uint64_t)probes * intvl);
	CHECK_EQ_U64(h->c->cnt.keepalive_probes, (uint64_t)probes);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 1);
	CHECK(tcb_state(h_tcb(h, k.sock)) == TCPS_CLOSED);
	CHECK(h_events(h, k.sock) & MTCP_EPOLLERR);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -ETIMEDOUT);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h);
}

static void test_keepalive_dead_peer(void)
{
	dead_peer(IDLE_US, INTVL_US, 9);
}

/* tcp_keepalive_time, _intvl and _probes (docs/config.md) set the probing. */
static void test_keepalive_configured(void)
{
	struct aatcp_config saved = *h_conf();

	h_conf()->tcp_keepalive_time = 5;
	h_conf()->tcp_keepalive_intvl = 2;
	h_conf()->tcp_keepalive_probes = 3;
	dead_peer(5000000, 2000000, 3);
	*h_conf() = saved;
}

/* The keys of the dead-peer limits (docs/config.md): Linux's defaults,
 * values taken, out-of-range values refused with the key named. */
static void test_dead_peer_keys(void)
{
	struct aatcp_config *c = malloc(sizeof(*c));
	char err[256];

	CHECK(c);
	config_defaults(c);
	CHECK_EQ_U64(c->tcp_retries, 15);
	CHECK_EQ_U64(c->tcp_keepalive_time, 7200);
	CHECK_EQ_U64(c->tcp_keepalive_intvl, 75);
	CHECK_EQ_U64(c->tcp_keepalive_probes, 9);
	CHECK_MSG(config_parse_text(c, "s.conf", "port = lo\ntcp_retries = 5\n"
				    "tcp_keepalive_time = 2\ntcp_keepalive_intvl = 1\n"
				    "tcp_keepalive_probes = 3\n", err, sizeof(err)) == 0, "%s", err);
	CHECK(c->tcp_retries == 5 && c->tcp_keepalive_time == 2 &&
	      c->tcp_keepalive_intvl == 1 && c->tcp_keepalive_probes == 3);
	static const char *const bad[] = {"tcp_retries = 0", "tcp_retries = 31",
					  "tcp_keepalive_time = 0", "tcp_keepalive_intvl = -1",
					  "tcp_keepalive_probes = x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64], want[64];

		snprintf(text, sizeof(text), "port = lo\n%s\n", bad[i]);
		snprintf(want, sizeof(want), "s.conf:2: %.*s:", (int)strcspn(bad[i], " "), bad[i]);
		CHECK(config_parse_text(c, "s.conf", text, err, sizeof(err)) != 0);
		CHECK_MSG(strstr(err, want) == err, "%s: %s", bad[i], err);
	}
	free(c);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_keepalive_answered,
		test_keepalive_dead_peer,
		test_keepalive_configured,
		test_dead_peer_keys,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
