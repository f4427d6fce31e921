/*
 * test_api_mtcp.c - mTCP programs run unchanged: what mTCP's public headers
 * and its example applications rely on, through the whole-stack harness.
 *
 *   - ABI: struct mtcp_conf, struct mtcp_epoll_event and the enums have
 *     mTCP's layout and values (its mtcp_api.h, mtcp_epoll.h);
 *   - mtcp_getconf() after mtcp_init() returns the file's values (timeouts
 *     in mTCP's 1 ms ticks); mtcp_setconf() before mtcp_init() never beats
 *     the file, after it changes only the fields given as > 0 until the
 *     first context, which is sized from them; EBUSY afterwards;
 *   - socket ids are 0 .. max_concurrency-1 (the epoll's included), ENFILE
 *     when none is left, reused after close; an event queued for a closed
 *     socket never reaches the new socket with its id;
 *   - no Nagle unless TCP_NODELAY = 0 asks for it, and back;
 *   - a signal registered with mtcp_register_signal() ends a blocked
 *     mtcp_epoll_wait(-1), mtcp_accept(), mtcp_read(), mtcp_write() (what
 *     fitted) and mtcp_connect() with EINTR, its handler run once;
 *   - mTCP's configuration keys, `port = NAME` from a Linux interface,
 *     config/arp.conf and config/route.conf, `multiprocess` refused.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "stack_harness.h"
#include "api/internal.h"
#include "common/config.h"
#include "mtcp_aa.h"
#include "mtcp_epoll.h"
#include "mtcp_zc.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

/* ---- ABI: mTCP's mtcp_api.h and mtcp_epoll.h (x86-64 / any LP64) ---- */

_Static_assert(sizeof(struct mtcp_conf) == 8 * sizeof(int), "mtcp_conf size");
_Static_assert(offsetof(struct mtcp_conf, num_cores) == 0, "num_cores");
_Static_assert(offsetof(struct mtcp_conf, max_concurrency) == 4, "max_concurrency");
_Static_assert(offsetof(struct mtcp_conf, num_ip) == 8, "num_ip");
_Static_assert(offsetof(struct mtcp_conf, max_num_buffers) == 12, "max_num_buffers");
_Static_assert(offsetof(struct mtcp_conf, rcvbuf_size) == 16, "rcvbuf_size");
_Static_assert(offsetof(struct mtcp_conf, sndbuf_size) == 20, "sndbuf_size");
_Static_assert(offsetof(struct mtcp_conf, tcp_timewait) == 24, "tcp_timewait");
_Static_assert(offsetof(struct mtcp_conf, tcp_timeout) == 28, "tcp_timeout");
_Static_assert(sizeof(mtcp_epoll_data_t) == 8, "mtcp_epoll_data_t size");
_Static_assert(sizeof(struct mtcp_epoll_event) == 16, "mtcp_epoll_event size");
_Static_assert(offsetof(struct mtcp_epoll_event, events) == 0, "events");
_Static_assert(offsetof(struct mtcp_epoll_event, data) == 8, "data");
_Static_assert(MTCP_SOCK_UNUSED == 0 && MTCP_SOCK_STREAM == 1 && MTCP_SOCK_PROXY == 2 &&
	       MTCP_SOCK_LISTENER == 3 && MTCP_SOCK_EPOLL == 4 && MTCP_SOCK_PIPE == 5,
	       "socket_type values");
_Static_assert(MTCP_EPOLL_CTL_ADD == 1 && MTCP_EPOLL_CTL_DEL == 2 && MTCP_EPOLL_CTL_MOD == 3,
	       "epoll ops");
_Static_assert(MTCP_EPOLLIN == 0x001 && MTCP_EPOLLPRI == 0x002 && MTCP_EPOLLOUT == 0x004 &&
	       MTCP_EPOLLERR == 0x008 && MTCP_EPOLLHUP == 0x010 && MTCP_EPOLLRDNORM == 0x040 &&
	       MTCP_EPOLLRDBAND == 0x080 && MTCP_EPOLLWRNORM == 0x100 &&
	       MTCP_EPOLLWRBAND == 0x200 && MTCP_EPOLLMSG == 0x400 && MTCP_EPOLLRDHUP == 0x2000 &&
	       (uint32_t)MTCP_EPOLLONESHOT == 1u << 30 && (uint32_t)MTCP_EPOLLET == 1u << 31,
	       "epoll event bits");

/* The harness' file sets every mTCP key; these tests then size the context
 * down with mtcp_setconf(). */
#define FILE_CONCURRENCY 256
#define SET_CONCURRENCY 64
#define SET_RCVBUF 32768

static struct mtcp_conf conf_now(void)
{
	struct mtcp_conf m;

	CHECK(mtcp_getconf(&m) == 0);
	return m;
}

/* Before any context exists (run first). */
static void test_getconf_setconf(void)
{
	struct mtcp_conf m = conf_now();

	/* the file's values, not built-in defaults (mTCP's rcvbuf is 8192);
	 * main() asked for rcvbuf 16384 before mtcp_init(): the file wins */
	CHECK_EQ_U64(m.num_cores, 1);
	CHECK_EQ_U64(m.max_concurrency, FILE_CONCURRENCY);
	CHECK_EQ_U64(m.max_num_buffers, 256);
	CHECK_EQ_U64(m.rcvbuf_size, 65536);
	CHECK_EQ_U64(m.sndbuf_size, 65536);
	CHECK_EQ_U64(m.tcp_timeout, 30 * 1000); /* mTCP's 1 ms ticks */
	CHECK_EQ_U64(m.tcp_timewait, 0);
	/* only the fields given as > 0 change */
	struct mtcp_conf set = {.max_concurrency = SET_CONCURRENCY, .rcvbuf_size = SET_RCVBUF,
				.tcp_timewait = -1, .tcp_timeout = 0};
	CHECK(mtcp_setconf(&set) == 0);
	m = conf_now();
	CHECK_EQ_U64(m.max_concurrency, SET_CONCURRENCY);
	CHECK_EQ_U64(m.rcvbuf_size, SET_RCVBUF);
	CHECK_EQ_U64(m.sndbuf_size, 65536);
	CHECK_EQ_U64(m.max_num_buffers, 256);
	CHECK_EQ_U64(m.tcp_timeout, 30 * 1000);
	CHECK_EQ_U64(m.tcp_timewait, 0);
	/* what mTCP's epwget does: getconf, change some fields, setconf */
	m.max_num_buffers = 3 * SET_CONCURRENCY;
	CHECK(mtcp_setconf(&m) == 0);
	CHECK_EQ_U64(conf_now().max_num_buffers, 3 * SET_CONCURRENCY);
	/* the ports' queues exist: num_cores is fixed by mtcp_init() */
	m.num_cores = 2;
	CHECK(mtcp_setconf(&m) == -1 && errno == EINVAL);
	CHECK(mtcp_setconf(NULL) == -1 && errno == EINVAL);

	struct h_stack *h = h_open();
	CHECK_EQ_U64(h->c->n_socks, SET_CONCURRENCY);
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0), v = 0;
	socklen_t len = sizeof(v);
	CHECK(s >= 0);
	CHECK(mtcp_getsockopt(h->mctx, s, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
	CHECK_EQ_U64(v, SET_RCVBUF);
	/* contexts are sized: too late */
	CHECK(mtcp_setconf(&m) == -1 && errno == EBUSY);
	CHECK(mtcp_close(h->mctx, s) == 0);
	h_close(h);
}

/* Every id below max_concurrency, then ENFILE; a closed id comes back. */
static void test_socket_ids(void)
{
	struct h_stack *h = h_open();
	int n = SET_CONCURRENCY, ids[SET_CONCURRENCY];
	bool seen[SET_CONCURRENCY] = {false};

	CHECK(h->epid >= 0 && h->epid < n);
	seen[h->epid] = true;
	for (int i = 0; i < n - 1; i++) {
		ids[i] = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0);
		CHECK_MSG(ids[i] >= 0 && ids[i] < n, "socket %d: id %d", i, ids[i]);
		CHECK(!seen[ids[i]]);
		seen[ids[i]] = true;
	}
	CHECK(mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0) == -1 && errno == ENFILE);
	CHECK(mtcp_epoll_create(h->mctx, 8) == -1 && errno == ENFILE);
	/* closed: the id is back once the network thread processed the close */
	CHECK(mtcp_close(h->mctx, ids[7]) == 0);
	h_run(h);
	int again = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ_U64(again, ids[7]);
	ids[7] = again;
	for (int i = 0; i < n - 1; i++)
		CHECK(mtcp_close(h->mctx, ids[i]) == 0);
	h_close(h);
}

/* An event for a socket that was closed before the application drained
 * it is dropped (generation), not delivered to the new socket that got
 * the same id. */
static void test_stale_event_dropped(void)
{
	struct h_stack *h = h_open();
	int n = SET_CONCURRENCY, fill[SET_CONCURRENCY], nfill = 0;
	struct h_conn k = h_conn_default(80);
	k.pport = 8080;
	int s = h_active_open(h, &k);

	while ((fill[nfill] = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0)) >= 0)
		nfill++;
	CHECK_EQ_U64(nfill, n - 2);
	h_peer_send(h, &k, "data", 4);  /* queues an IN event for s */
	h_drain(h);                     /* our ACK */
	CHECK(!spsc_empty(&h->c->evq));
	uint32_t old_gen = h->c->socks[s].gen;
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_drain(h);                     /* the RST */
	int s2 = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0);
	CHECK_EQ_U64(s2, s);            /* the only free id */
	CHECK(h->c->socks[s2].gen != old_gen);
	CHECK(app_drain_events(h->c) >= 1);
	CHECK_EQ_U64(h->c->socks[s2].ev_pending, 0);
	CHECK(!h->c->socks[s2].ep_queued);
	CHECK(mtcp_close(h->mctx, s2) == 0);
	for (int i = 0; i < nfill; i++)
		CHECK(mtcp_close(h->mctx, fill[i]) == 0);
	h_close(h);
}

static void write_small(struct h_stack *h, int s)
{
	CHECK(mtcp_write(h->mctx, s, "0123456789", 10) == 10);
	h_run(h);
}

static void set_nodelay(struct h_stack *h, int s, int on)
{
	int v = -1;
	socklen_t len = sizeof(v);

	CHECK(mtcp_setsockopt(h->mctx, s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0);
	CHECK(mtcp_getsockopt(h->mctx, s, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
	CHECK_EQ_U64(v, on);
}

/* mTCP sends small segments at once; Nagle only when asked, and off again. */
static void test_no_nagle_by_default(void)
{
	struct h_conn k;
	int ls, v = 0;
	socklen_t len = sizeof(v);
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;

	CHECK(mtcp_getsockopt(h->mctx, k.sock, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
	CHECK_EQ_U64(v, 1);
	for (int i = 0; i < 2; i++) { /* the second with the first unacked */
		write_small(h, k.sock);
		h_recv_tcp(h, &p);
		CHECK_EQ_U64(p.len, 10);
		h_conn_absorb(&k, &p);
	}
	h_peer_ack(h, &k);
	set_nodelay(h, k.sock, 0);
	write_small(h, k.sock);
	h_recv_tcp(h, &p);              /* nothing in flight: goes */
	h_conn_absorb(&k, &p);
	write_small(h, k.sock);
	h_expect_none(h);               /* Nagle holds the runt */
	h_peer_ack(h, &k);
	h_recv_tcp(h, &p);
	CHECK_EQ_U64(p.len, 10);
	h_conn_absorb(&k, &p);
	set_nodelay(h, k.sock, 1);
	write_small(h, k.sock);
	h_recv_tcp(h, &p);              /* unacked data, sent anyway */
	CHECK_EQ_U64(p.len, 10);
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

/* mtcp_writev: the buffers' bytes in order, in one segment when they fit
 * (one command to the network thread); a non-blocking socket takes what
 * the send buffer has room for and says EAGAIN when it has none. */
static void test_writev(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct h_pkt p;
	struct iovec v[3] = {{"GET ", 4}, {"", 0}, {"/x HTTP/1.1\r\n\r\n", 15}};

	CHECK(mtcp_writev(h->mctx, k.sock, v, 3) == 19);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.len == 19 && !memcmp(p.payload, "GET /x HTTP/1.1\r\n\r\n", 19));
	h_conn_absorb(&k, &p);
	h_peer_ack(h, &k);
	h_expect_none(h);
	CHECK(mtcp_writev(h->mctx, k.sock, v, -1) == -1 && errno == EINVAL);

	struct tcb *t = h_tcb(h, k.sock);
	uint32_t room = sndbuf_space(t->sb);
	char *a = malloc(room), *b = malloc(room);
	CHECK(a && b);
	memset(a, 'a', room);
	memset(b, 'b', room);
	struct iovec big[2] = {{a, room - 100}, {b, room}};
	CHECK(mtcp_setsock_nonblock(h->mctx, k.sock) == 0);
	CHECK(mtcp_writev(h->mctx, k.sock, big, 2) == (int)room);
	CHECK(mtcp_writev(h->mctx, k.sock, big, 2) == -1 && errno == EAGAIN);
	char tail[100];
	CHECK(sndbuf_copy(t->sb, t->snd_una + room - 100, tail, 100, false) == 0);
	CHECK(memcmp(tail, b, 100) == 0); /* the second buffer's first bytes last */
	free(a);
	free(b);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	CHECK(sig == SIGALRM);
	handled++;
}

static void alarm_in_ms(int ms)
{
	struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = ms * 1000}};

	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

/* mTCP's examples stop on SIGINT: their handler sets a flag and the
 * blocked mtcp_epoll_wait(-1) returns -1/EINTR. */
static void test_signal_interrupts_blocking_calls(void)
{
	struct h_conn k;
	int ls;
	struct h_stack *h = h_open_conn(&k, &ls);
	struct mtcp_epoll_event ev[4];
	char buf[16];

	CHECK(mtcp_register_signal(SIGALRM, on_alarm) != SIG_ERR);
	handled = 0;
	alarm_in_ms(50);
	CHECK(mtcp_epoll_wait(h->mctx, h->epid, ev, 4, -1) == -1 && errno == EINTR);
	CHECK_EQ_U64(handled, 1);
	/* blocking accept (nothing queued) and read (nothing received) */
	int bl = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(81)};
	CHECK(mtcp_bind(h->mctx, bl, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(mtcp_listen(h->mctx, bl, 4) == 0);
	h_run(h);
	alarm_in_ms(50);
	CHECK(mtcp_accept(h->mctx, bl, NULL, NULL) == -1 && errno == EINTR);
	CHECK_EQ_U64(handled, 2);
	int on = 0;
	CHECK(mtcp_socket_ioctl(h->mctx, k.sock, FIONBIO, &on) == 0);
	alarm_in_ms(50);
	CHECK(mtcp_read(h->mctx, k.sock, buf, sizeof(buf)) == -1 && errno == EINTR);
	CHECK_EQ_U64(handled, 3);
	/* blocking write into a closed window: what fitted, then EINTR */
	static char big[3 * SET_RCVBUF];
	k.win = 0;
	h_peer_ack(h, &k);
	alarm_in_ms(50);
	ssize_t wr = mtcp_write(h->mctx, k.sock, big, sizeof(big));
	CHECK_MSG(wr > 0 && wr < (ssize_t)sizeof(big), "write %zd", wr);
	CHECK_EQ_U64(handled, 4);
	/* blocking connect: no network thread runs here, so no answer comes */
	int cs = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(8081),
				 .sin_addr = {.s_addr = htonl(H_PEER_IP(0))}};
	alarm_in_ms(50);
	CHECK(mtcp_connect(h->mctx, cs, (struct sockaddr *)&to, sizeof(to)) == -1 &&
	      errno == EINTR);
	CHECK_EQ_U64(handled, 5);
	CHECK(mtcp_abort(h->mctx, cs) == 0);
	/* the mark is consumed: a poll does not see it again */
	CHECK(mtcp_epoll_wait(h->mctx, h->epid, ev, 4, 0) >= 0);
	CHECK(mtcp_register_signal(SIGALRM, SIG_DFL) == on_alarm);
	CHECK(mtcp_abort(h->mctx, k.sock) == 0);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	CHECK(mtcp_close(h->mctx, bl) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

/* mtcp_init_rss(): active opens to the pool's destination take their
 * source from the pool (addresses the stack owns), one pair per socket,
 * given back at close; other destinations are untouched. */
static void test_init_rss(void)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;
	uint32_t peer = htonl(H_PEER_IP(0));
	int pipefd[2];

	k.pport = 8080;
	CHECK(mtcp_init_rss(h->mctx, htonl(H_IP(10, 0, 0, 77)), 1, peer, htons(8080)) == -1 &&
	      errno == EADDRNOTAVAIL);
	CHECK(mtcp_init_rss(h->mctx, INADDR_ANY, 1, peer, htons(8080)) == 0);
	int s1 = h_active_open(h, &k);
	CHECK(h->c->socks[s1].rss_pair >= 0);
	CHECK(h->c->socks[s1].laddr == htonl(H_STACK_IP(0)));
	CHECK_EQ_U64(k.lport, ntohs(h->c->socks[s1].lport));
	struct h_conn k2 = k;
	int s2 = h_active_open(h, &k2);
	CHECK(k2.lport != k.lport && h->c->socks[s2].rss_pair >= 0);
	CHECK(mtcp_abort(h->mctx, s1) == 0);
	CHECK(h->c->socks[s1].rss_pair == -1); /* given back */
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags & RTE_TCP_RST_FLAG);
	/* another destination: the network thread's own choice */
	struct h_conn k3 = h_conn_default(80);
	k3.pport = 9090;
	int s3 = h_active_open(h, &k3);
	CHECK(h->c->socks[s3].rss_pair == -1);
	CHECK(mtcp_abort(h->mctx, s2) == 0);
	CHECK(mtcp_abort(h->mctx, s3) == 0);
	h_run(h);
	while (h_recv(h, &p))
		CHECK(p.flags & RTE_TCP_RST_FLAG);
	/* the one call aatcp does not offer (README) */
	CHECK(mtcp_pipe(h->mctx, pipefd) == -1 && errno == ENOSYS);
	h_close(h);
}

/* ---- mTCP's configuration files ---- */

static int parse(struct aatcp_config *c, const char *text, char *err, int errlen)
{
	config_defaults(c);
	return config_parse_text(c, "mtcp.conf", text, err, errlen);
}

/* mTCP's apps/example/epserver.conf, its port changed to an interface. */
static const char epserver_conf[] =
	"############### mtcp configuration file ###############\n"
	"io = dpdk\n"
	"#num_cores = 8\n"
	"num_mem_ch = 4\n"
	"#multiprocess = 0 master\n"
	"port = lo\n"
	"max_concurrency = 10000\n"
	"max_num_buffers = 10000\n"
	"rcvbuf = 8192\n"
	"sndbuf = 8192\n"
	"tcp_timeout = 30\n"
	"tcp_timewait = 0\n"
	"stat_print = lo\n"
	"core_mask = 0000000c\n";

static void test_mtcp_config_file(void)
{
	struct aatcp_config *c = malloc(sizeof(*c));
	char err[512];

	CHECK(c);
	CHECK_MSG(parse(c, epserver_conf, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(c->n_ports, 1);
	CHECK(c->ports[0].from_kernel && c->ports[0].stat_print);
	CHECK_EQ_U64(c->max_concurrency, 10000);
	CHECK_EQ_U64(c->core_mask, 0xc);
	CHECK(c->set & CONF_RCVBUF && !(c->set & CONF_NUM_CORES));
	/* the interface's address, prefix and MAC, driven with af_packet */
	c->num_cores = 2;
	CHECK_MSG(config_resolve_kernel_ports(c, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(c->ports[0].ip, htonl(0x7f000001));
	CHECK_EQ_U64(c->ports[0].prefix, 8);
	CHECK_MSG(strstr(c->ports[0].device, "net_af_packet") &&
		  strstr(c->ports[0].device, ",iface=lo") &&
		  strstr(c->ports[0].device, ",qpairs=2"), "device '%s'", c->ports[0].device);
	/* defaults: mTCP's buffer sizes and idle timeout; TIME_WAIT 2*MSL
	 * (RFC 9293 3.3.2), where mTCP frees at once */
	CHECK(parse(c, "port = lo\n", err, sizeof(err)) == 0);
	CHECK_EQ_U64(c->rcvbuf, 8192);
	CHECK_EQ_U64(c->sndbuf, 8192);
	CHECK_EQ_U64(c->tcp_timeout, 30);
	CHECK_EQ_U64(c->tcp_timewait, 60);
	/* the idle policy (docs/config.md): polls before yielding, 1 or more */
	CHECK_EQ_U64(c->idle_polls, 64);
	CHECK_EQ_U64(c->idle_sleep_us, 0);
	CHECK(parse(c, "port = lo\nidle_polls = 16\nidle_sleep_us = 20\n", err, sizeof(err)) == 0);
	CHECK_EQ_U64(c->idle_polls, 16);
	CHECK_EQ_U64(c->idle_sleep_us, 20);
	CHECK(parse(c, "port = lo\nidle_polls = 0\n", err, sizeof(err)) == -EINVAL);
	CHECK_MSG(strstr(err, "idle_polls"), "%s", err);
	/* refused with one line naming the key */
	CHECK(parse(c, "port = lo\nmultiprocess = 0 master\n", err, sizeof(err)) == -EINVAL);
	CHECK_MSG(strstr(err, "mtcp.conf:2: multiprocess: not supported") == err, "%s", err);
	CHECK(parse(c, "io = psio\nport = lo\n", err, sizeof(err)) == -EINVAL);
	CHECK_MSG(strstr(err, "mtcp.conf:1: io:") == err, "%s", err);
	CHECK(parse(c, "port = dpdk0:1\n", err, sizeof(err)) == -EINVAL);
	CHECK(parse(c, "core_mask = xyz\nport = lo\n", err, sizeof(err)) == -EINVAL);
	/* an interface that does not exist: the fix in words */
	CHECK(parse(c, "port = nosuchif0\n", err, sizeof(err)) == 0);
	CHECK(config_resolve_kernel_ports(c, err, sizeof(err)) < 0);
	CHECK_MSG(strstr(err, "port = nosuchif0") == err, "%s", err);
	free(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_MSG(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* config/arp.conf and config/route.conf beside the configuration file. */
static void test_mtcp_tables(void)
{
	struct aatcp_config *c = malloc(sizeof(*c));
	char dir[] = "/tmp/aatcp_mtcp_XXXXXX", sub[64], path[96], err[512];

	CHECK(c && mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/config", dir);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK(parse(c, "port = lo\n", err, sizeof(err)) == 0);
	/* none there: fine, as in mTCP */
	CHECK(config_load_mtcp_tables(c, dir, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/arp.conf", sub);
	write_file(path, "# static ARP\nARP_ENTRY 2\n10.0.0.1/32 02:00:00:00:01:01\n"
			 "10.0.0.9/32 02:00:00:00:01:09  # second\n");
	snprintf(path, sizeof(path), "%s/route.conf", sub);
	write_file(path, "ROUTES 1\n192.168.7.0/24 lo\n");
	CHECK_MSG(config_load_mtcp_tables(c, dir, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(c->n_arp, 2);
	CHECK_EQ_U64(c->arp[1].ip, htonl(0x0a000009));
	CHECK_EQ_U64(c->arp[1].mac[5], 9);
	CHECK_EQ_U64(c->n_routes, 1);
	CHECK(c->routes[0].ip == htonl(0xc0a80700) && c->routes[0].prefix == 24 &&
	      c->routes[0].port == 0);
	/* a bad line names the file and line */
	write_file(path, "ROUTES 1\n192.168.7.0/24 dpdk7\n");
	CHECK(parse(c, "port = lo\n", err, sizeof(err)) == 0);
	CHECK(config_load_mtcp_tables(c, dir, err, sizeof(err)) == -EINVAL);
	CHECK_MSG(strstr(err, "route.conf:2:") && strstr(err, "dpdk7"), "%s", err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/arp.conf", sub);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
	free(c);
}

/* A build without a feature (meson options zc, aa, fwd) fails its calls
 * with ENOTSUP (src/api/unsupported.c), on a connected socket too. */
static void test_features_left_out(void)
{
	struct h_stack *h = h_open();
	struct h_conn k = h_conn_default(80);
	int s = h_active_open(h, &k);
	int calls = 0;

	(void)calls;
#define LEFT_OUT(call)                                          \
	do {                                                    \
		errno = 0;                                      \
		CHECK((call) == -1 && errno == ENOTSUP);        \
		calls++;                                        \
	} while (0)
#if !AATCP_WITH_ZC
	struct stream_fragment_content frag;
	LEFT_OUT(mtcp_zc_enable(h->mctx, s));
	LEFT_OUT(mtcp_zc_read_fragments(h->mctx, s, &frag, 1));
	LEFT_OUT(mtcp_zc_free_fragments(h->mctx, s, 1));
#endif
#if !AATCP_WITH_AA
	void *rec[1];
	LEFT_OUT(mtcp_zc_register_aa_module(h->mctx, s, NULL, NULL));
	LEFT_OUT(mtcp_zc_read_aa_records(h->mctx, s, rec, 1));
	LEFT_OUT(mtcp_zc_free_aa_records(h->mctx, s, 1));
	LEFT_OUT(mtcp_zc_aa_http_expect_head(h->mctx, s, 1));
#endif
#if !AATCP_WITH_FWD
	struct mtcp_splice_stats st;
	struct mtcp_alpha_sample sample;
	LEFT_OUT(mtcp_zc_forward(s, s, 1));
	LEFT_OUT(mtcp_zc_splice(s, s));
	LEFT_OUT(mtcp_zc_splice_flags(s, s, 0));
	LEFT_OUT(mtcp_zc_splice_stats(h->mctx, s, &st));
	LEFT_OUT(mtcp_zc_splice_samples(h->mctx, s, &sample, 1));
#endif
#undef LEFT_OUT
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_drain(h); /* the RST */
	h_close(h);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	/* before mtcp_init(): the file's rcvbuf wins (test_getconf_setconf) */
	struct mtcp_conf pre = {.rcvbuf_size = 16384};
	CHECK(mtcp_setconf(&pre) == 0);
	CHECK_EQ_U64(conf_now().rcvbuf_size, 16384);
	h_global_init(argv[0], 1, NULL);
	test_getconf_setconf();
	test_socket_ids();
	test_stale_event_dropped();
	test_no_nagle_by_default();
	test_writev();
	test_signal_interrupts_blocking_calls();
	test_init_rss();
	test_mtcp_config_file();
	test_mtcp_tables();
	test_features_left_out();
	h_global_fini();
	return test_done();
}
