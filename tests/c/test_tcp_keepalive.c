/*
 * test_tcp_keepalive.c - SO_KEEPALIVE (RFC 9293 3.8.4) through the whole
 * stack, in virtual time:
 *   - after 2 h of silence a probe (ACK at SND.NXT - 1); the peer answers,
 *     the connection lives (tcp_timeout, 30 s here, does not end it), and
 *     the next probe waits for the next 2 h of silence;
 *   - a peer that answers none: 9 probes 75 s apart, then a RST and
 *     ETIMEDOUT (EPOLLERR) for the application;
 *   - accepted sockets inherit SO_KEEPALIVE from their listener;
 *   - tcp_keepalive_time, _intvl and _probes change the three numbers;
 *   - TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT change them for one
 *     socket (inherited from a listener; a new idle time re-arms the
 *     probe), in Linux's ranges (EINVAL outside).
 */
#include <errno.h>
#include <netinet/tcp.h>
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

static void set_opt(struct h_stack *h, int s, int opt, int v)
{
	CHECK_MSG(mtcp_setsockopt(h->mctx, s, IPPROTO_TCP, opt, &v, sizeof(v)) == 0,
		  "option %d = %d: %s", opt, v, strerror(errno));
}

static int get_opt(struct h_stack *h, int s, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	CHECK(mtcp_getsockopt(h->mctx, s, SOL_TCP, opt, &v, &len) == 0 && len == sizeof(v));
	return v;
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
 * silence, then RST and ETIMEDOUT (counter conn_timedout). With opts, the
 * listener sets TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT to them. */
static void dead_peer(uint64_t idle, uint64_t intvl, int probes, const int *opts)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	char buf[8];

	set_keepalive(h, ls, 1); /* inherited by the accepted socket */
	if (opts) {
		set_opt(h, ls, TCP_KEEPIDLE, opts[0]); /* inherited too */
		set_opt(h, ls, TCP_KEEPINTVL, opts[1]);
		set_opt(h, ls, TCP_KEEPCNT, opts[2]);
	}
	h_passive_open(h, ls, &k);
	if (opts) {
		CHECK(get_opt(h, k.sock, TCP_KEEPIDLE) == opts[0]);
		CHECK(get_opt(h, k.sock, TCP_KEEPINTVL) == opts[1]);
		CHECK(get_opt(h, k.sock, TCP_KEEPCNT) == opts[2]);
	}
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
	dead_peer(IDLE_US, INTVL_US, 9, NULL);
}

/* tcp_keepalive_time, _intvl and _probes (docs/config.md) set the probing. */
static void test_keepalive_configured(void)
{
	struct aatcp_config saved = *h_conf();

	h_conf()->tcp_keepalive_time = 5;
	h_conf()->tcp_keepalive_intvl = 2;
	h_conf()->tcp_keepalive_probes = 3;
	dead_peer(5000000, 2000000, 3, NULL);
	*h_conf() = saved;
}

/* TCP_KEEPIDLE 10 s, TCP_KEEPINTVL 3 s, TCP_KEEPCNT 2 on the listener: its
 * connection probes at 10 s and 13 s and is reset at 16 s, whatever the
 * config says (7200 s, 75 s, 9 here). */
static void test_keepalive_socket_options(void)
{
	static const int opts[] = {10, 3, 2};

	dead_peer(10000000, 3000000, 2, opts);
}

/* On an established connection probing with the config's numbers: a new
 * TCP_KEEPIDLE re-arms the first probe at that time after the peer's last
 * segment, TCP_KEEPINTVL and TCP_KEEPCNT set what follows; another
 * connection of the same listener keeps the config's numbers. */
static void test_keepalive_options_connected(void)
{
	struct h_conn k, k2;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;
	char buf[8];

	k2 = h_conn_default(80);
	k2.pport = (uint16_t)(k.pport + 1);
	h_passive_open(h, ls, &k2);
	h_run(h);
	uint64_t quiet = h->now; /* both peers' last segments */
	set_keepalive(h, k.sock, 1);
	set_keepalive(h, k2.sock, 1);
	h_advance(h, 5000000); /* 5 s later: armed for quiet + 7200 s */
	h_expect_none(h);
	set_opt(h, k.sock, TCP_KEEPIDLE, 20);
	set_opt(h, k.sock, TCP_KEEPINTVL, 5);
	set_opt(h, k.sock, TCP_KEEPCNT, 1);
	CHECK(get_opt(h, k2.sock, TCP_KEEPIDLE) == 7200);
	h_run(h);
	uint64_t at = next_frame(h, &p);
	CHECK_MSG(at >= quiet + 20000000 && at < quiet + 20002000, "probe at %llu us",
		  (unsigned long long)(at - quiet));
	h_check_seg(&p, &k, A, k.rcv_nxt - 1, k.snd_nxt, 0);
	at = next_frame(h, &p);
	CHECK(at >= quiet + 25000000 && at < quiet + 25002000);
	h_check_seg(&p, &k, R | A, k.rcv_nxt, k.snd_nxt, 0);
	CHECK(h_read(h, k.sock, buf, sizeof(buf)) == -ETIMEDOUT);
	/* the other connection: its first probe at the config's 7200 s */
	at = next_frame(h, &p);
	CHECK(at >= quiet + IDLE_US && at < quiet + IDLE_US + 2000);
	h_check_seg(&p, &k2, A, k2.rcv_nxt - 1, k2.snd_nxt, 0);
	CHECK_EQ_U64(h->c->cnt.keepalive_probes, 2);
	CHECK_EQ_U64(h->c->cnt.conn_timedout, 1);
	CHECK(mtcp_close(h->mctx, k.sock) == 0);
	h_abort_and_close(h, &k2, ls);
}

/* getsockopt gives the config's numbers until the socket sets its own;
 * Linux's ranges: 1..32767 s for TCP_KEEPIDLE and TCP_KEEPINTVL, 1..127
 * for TCP_KEEPCNT, EINVAL outside (the value stays). */
static void test_keepalive_option_values(void)
{
	struct aatcp_config saved = *h_conf();
	struct h_stack *h = h_open();
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	static const int opt[] = {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
	static const int max[] = {32767, 32767, 127};

	CHECK(s >= 0);
	CHECK(get_opt(h, s, TCP_KEEPIDLE) == 7200 && get_opt(h, s, TCP_KEEPINTVL) == 75 &&
	      get_opt(h, s, TCP_KEEPCNT) == 9);
	h_conf()->tcp_keepalive_time = 5;
	CHECK(get_opt(h, s, TCP_KEEPIDLE) == 5);
	for (int i = 0; i < 3; i++) {
		const int bad[] = {0, -1, max[i] + 1, 1 << 16};

		set_opt(h, s, opt[i], max[i]);
		CHECK(get_opt(h, s, opt[i]) == max[i]);
		set_opt(h, s, opt[i], 1);
		CHECK(get_opt(h, s, opt[i]) == 1);
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			errno = 0;
			CHECK(mtcp_setsockopt(h->mctx, s, IPPROTO_TCP, opt[i], &bad[b],
					      sizeof(bad[b])) == -1 && errno == EINVAL);
			CHECK(get_opt(h, s, opt[i]) == 1);
		}
		short tiny = 3;
		errno = 0;
		CHECK(mtcp_setsockopt(h->mctx, s, IPPROTO_TCP, opt[i], &tiny, sizeof(tiny)) == -1 &&
		      errno == EINVAL);
	}
	*h_conf() = saved;
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_close(h);
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
		test_keepalive_socket_options,
		test_keepalive_options_connected,
		test_keepalive_option_values,
		test_dead_peer_keys,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
