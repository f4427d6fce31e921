/*
 * sock.c - the socket table (application thread) and the socket calls of
 * mtcp_api.h that set up, connect and tear down connections.
 *
 * Socket ids are mTCP's: 0 .. max_concurrency-1 per context, listeners and
 * epolls included, reused after close, oldest freed first. An id goes back
 * to the free list once the network thread has processed the close (it
 * hands the id back through the `released` ring, within one iteration), so
 * a command that names the old socket never reaches a new one; events carry
 * the socket's generation and stale ones are dropped (app_drain_events).
 * When every id is taken, mtcp_socket() waits for closes in flight and
 * fails with ENFILE (as mTCP) only when there are none.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "api/internal.h"
#include "common/log.h"
#include "io/port.h"
#include "tcp/rcvbuf.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"
#if AATCP_WITH_ZC
#include "zc/zc_stream.h"
#endif

_Thread_local struct core *aatcp_tls_core;

struct core *api_core(mctx_t mctx)
{
	struct core *c = (struct core *)mctx;

	if (!c) {
		errno = EINVAL;
		return NULL;
	}
	return c;
}

struct socket *api_sock(struct core *c, int sockid, int type)
{
	struct socket *s;

	if (sockid < 0 || sockid >= c->n_socks) {
		errno = EBADF;
		return NULL;
	}
	s = &c->socks[sockid];
	if (s->type == MTCP_SOCK_UNUSED || s->closing) {
		errno = EBADF;
		return NULL;
	}
	if (type && (int)s->type != type) {
		errno = ENOTSOCK;
		return NULL;
	}
	return s;
}

struct tcb *api_tcb(struct core *c, int sockid, struct socket **sp)
{
	struct socket *s = api_sock(c, sockid, MTCP_SOCK_STREAM);
	struct tcb *t;

	if (!s)
		return NULL;
	t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	if (!t) {
		errno = s->connecting ? EAGAIN : ENOTCONN;
		return NULL;
	}
	*sp = s;
	return t;
}

/* Appends id to the free list (taken last: mTCP's order). */
static void free_list_push(struct core *c, int id)
{
	c->socks[id].free_next = -1;
	if (c->sock_free < 0)
		c->sock_free = id;
	else
		c->socks[c->sock_free_tail].free_next = id;
	c->sock_free_tail = id;
}

static void refill_free_list(struct core *c)
{
	int id;

	while (spsc_pop(&c->released, &id)) {
		struct socket *s = &c->socks[id];
		s->type = MTCP_SOCK_UNUSED;
		s->closing = false;
		c->n_closing--;
		free_list_push(c, id);
	}
}

/* A free id, waiting for the network thread to hand back ids closed but
 * not yet released (it does within an iteration); -1 when none can come. */
static int free_id(struct core *c)
{
	refill_free_list(c);
	while (c->sock_free < 0 && c->n_closing > 0 && c->has_thread &&
	       atomic_load(&c->running)) {
		sched_yield();
		refill_free_list(c);
	}
	return c->sock_free;
}

struct socket *sock_alloc(struct core *c, enum socket_type type)
{
	struct socket *s;
	uint32_t gen;
	int id;

	if (free_id(c) < 0) {
		errno = ENFILE; /* mTCP's errno: "the concurrent sockets are at maximum" */
		return NULL;
	}
	id = c->sock_free;
	s = &c->socks[id];
	c->sock_free = s->free_next;
	if (id >= c->socks_hw)
		c->socks_hw = id + 1;
	gen = s->gen + 1;
	free(s->aa_params); /* the network thread is done with the old socket */
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->gen = gen;
	s->type = type;
	s->epid = -1;
	s->rss_pair = -1;
	s->rcvbuf = (uint32_t)c->g->conf.rcvbuf;
	s->sndbuf = (uint32_t)c->g->conf.sndbuf;
	s->nodelay = true; /* mTCP has no Nagle; TCP_NODELAY = 0 turns it on */
	s->link = &c->links[id];
	atomic_store(&s->link->tcb, NULL);
	atomic_store(&s->link->conn_error, 0);
	return s;
}

void sock_free_now(struct core *c, struct socket *s)
{
	s->type = MTCP_SOCK_UNUSED;
	free_list_push(c, s->id);
}

int mtcp_socket(mctx_t mctx, int domain, int type, int protocol)
{
	struct core *c = api_core(mctx);
	struct socket *s;

	if (!c)
		return -1;
	if (domain != AF_INET || (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP)) {
		errno = EINVAL;
		return -1;
	}
	s = sock_alloc(c, MTCP_SOCK_STREAM);
	if (!s)
		return -1;
	s->nonblock = type & SOCK_NONBLOCK;
	return s->id;
}

static int sockaddr_in_of(const struct sockaddr *addr, socklen_t len, struct sockaddr_in *out)
{
	if (!addr || len < (socklen_t)sizeof(*out)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, addr, sizeof(*out));
	if (out->sin_family != AF_INET) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, MTCP_SOCK_STREAM) : NULL;
	struct sockaddr_in in;

	if (!s || sockaddr_in_of(addr, addrlen, &in))
		return -1;
	if (s->bound || atomic_load(&s->link->tcb) || s->connecting) {
		errno = EINVAL;
		return -1;
	}
	if (in.sin_addr.s_addr != INADDR_ANY && !port_by_ip(c->g, in.sin_addr.s_addr)) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	s->laddr = in.sin_addr.s_addr;
	s->lport = in.sin_port;
	s->bound = true;
	return 0;
}

int mtcp_listen(mctx_t mctx, int sockid, int backlog)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, MTCP_SOCK_STREAM) : NULL;
	struct listener *l;
	uint32_t cap = 16;

	if (!s)
		return -1;
	if (!s->bound || !s->lport) {
		errno = EDESTADDRREQ;
		return -1;
	}
	if (backlog <= 0 || backlog > c->g->conf.max_concurrency)
		backlog = backlog <= 0 ? 128 : c->g->conf.max_concurrency;
	l = calloc(1, sizeof(*l));
	while (cap < (uint32_t)backlog * 2)
		cap <<= 1;
	if (!l || spsc_init(&l->accepts, cap, sizeof(struct tcb *))) {
		free(l);
		errno = ENOMEM;
		return -1;
	}
	l->ip = s->laddr;
	l->port = s->lport;
	l->backlog = backlog;
	l->sockid = s->id;
	l->gen = s->gen;
	l->zc = s->zc;
	l->aa_params = s->aa_params;
	atomic_init(&l->aa_mod_pub, s->aa_mod);
	l->rcvbuf = s->rcvbuf;
	l->sndbuf = s->sndbuf;
	l->nodelay = s->nodelay;
	l->maxseg = s->maxseg;
	s->type = MTCP_SOCK_LISTENER;
	s->lst = l;
	struct cmd cmd = {.type = CMD_LISTEN, .sockid = s->id, .gen = s->gen, .ptr = l};
	cmd_push(c, &cmd);
	return 0;
}

static void fill_sockaddr(struct sockaddr *addr, socklen_t *addrlen, uint32_t ip, uint16_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = port,
				 .sin_addr = {.s_addr = ip}};

	if (!addr || !addrlen)
		return;
	memcpy(addr, &in, *addrlen < (socklen_t)sizeof(in) ? (size_t)*addrlen : sizeof(in));
	*addrlen = sizeof(in);
}

/* SO_KEEPALIVE and the socket's keep-alive numbers to the network thread
 * (tcp/keepalive.c). */
static void push_keepalive(struct core *c, struct socket *s, struct tcb *t)
{
	struct cmd cmd = {.type = CMD_KEEPALIVE, .tcb = t, .sockid = s->id,
			  .gen = s->gen, .arg = s->keepalive, .ka = s->ka};

	cmd_push(c, &cmd);
}

int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
	struct core *c = api_core(mctx);
	struct socket *ls = c ? api_sock(c, sockid, MTCP_SOCK_LISTENER) : NULL;
	struct tcb *t;
	struct socket *s;

	if (!ls)
		return -1;
	while (!spsc_pop(&ls->lst->accepts, &t)) {
		if (ls->nonblock) {
			errno = EAGAIN;
			return -1;
		}
		app_drain_events(c);
		if (spsc_empty(&ls->lst->accepts)) {
			if (app_interrupted(c))
				return -1;
			app_wait(c, 100);
		}
	}
	atomic_fetch_sub(&ls->lst->queued, 1);
	s = sock_alloc(c, MTCP_SOCK_STREAM);
	if (!s) {
		/* no socket for it: let the network thread reset it */
		struct cmd cmd = {.type = CMD_ABORT, .tcb = t, .sockid = -1};
		cmd_push(c, &cmd);
		errno = ENFILE;
		return -1;
	}
	s->zc = ls->zc;
	s->aa_mod = atomic_load(&ls->lst->aa_mod_pub);
	s->nodelay = ls->nodelay;
	s->keepalive = ls->keepalive;
	s->ka = ls->ka;
	s->laddr = t->laddr;
	s->lport = t->lport;
	s->raddr = t->raddr;
	s->rport = t->rport;
	atomic_store_explicit(&t->gen, s->gen, memory_order_relaxed);
	atomic_store_explicit(&t->sockid, s->id, memory_order_release);
	atomic_store_explicit(&s->link->tcb, t, memory_order_release);
	if (s->nodelay) {
		/* the TCB was made at the SYN with Nagle's default: the
		 * network thread applies the listener's choice */
		struct cmd cmd = {.type = CMD_SETOPT, .tcb = t, .sockid = s->id,
				  .gen = s->gen, .arg = 1};
		cmd_push(c, &cmd);
	}
	if (s->keepalive)
		push_keepalive(c, s, t);
	fill_sockaddr(addr, addrlen, t->raddr, t->rport);
	return s->id;
}

static bool wait_connected(struct core *c, struct socket *s)
{
	for (;;) {
		struct tcb *t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
		int ce = atomic_load_explicit(&s->link->conn_error, memory_order_acquire);
		if (!t && ce) {
			errno = ce; /* no TCB was left (cmd.c do_connect) */
			s->connecting = false;
			return false;
		}
		if (t) {
			int st = tcb_state(t);
			if (st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT)
				return true;
			if (st == TCPS_CLOSED || atomic_load(&t->error)) {
				errno = atomic_load(&t->error) ? atomic_load(&t->error) : ECONNREFUSED;
				return false;
			}
		}
		app_drain_events(c);
		if (app_interrupted(c))
			return false; /* EINTR; the connection goes on, as in Linux */
		app_wait(c, 100);
	}
}

/* The source of an active open, as in mTCP: a socket bound to an address
 * and port must be one this core owns (EINVAL), else the mtcp_init_rss()
 * pool for this destination chooses (EAGAIN when it is used up), else the
 * network thread picks a port this core owns. */
static int source_of(struct core *c, struct socket *s, const struct sockaddr_in *to)
{
	if (s->bound && s->laddr && s->lport) {
		if (rss_owned(c, s->laddr, s->lport, to->sin_addr.s_addr, to->sin_port))
			return 0;
		errno = EINVAL;
		return -1;
	}
	if (s->bound)
		return 0;
	if (rss_pick(c, s, to->sin_addr.s_addr, to->sin_port) < 0) {
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

/* What the network thread needs of s to open its connection. */
static struct cmd_connect connect_options(const struct socket *s)
{
	struct cmd_connect o = {.rcvbuf = s->rcvbuf, .sndbuf = s->sndbuf, .maxseg = s->maxseg,
				.zc = s->zc, .nodelay = s->nodelay, .keepalive = s->keepalive,
				.ka = s->ka,
				.aa_mod = s->aa_mod, .aa_params = s->aa_params,
				.splice_from = s->splice_from ? s->splice_from->id : -1,
				.splice_to = s->splice_to ? s->splice_to->id : -1,
				.splice_flags = s->splice_flags};

	return o;
}

int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr *addr, socklen_t addrlen)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, MTCP_SOCK_STREAM) : NULL;
	struct sockaddr_in in;

	if (!s || sockaddr_in_of(addr, addrlen, &in))
		return -1;
	if (atomic_load(&s->link->tcb) || s->connecting) {
		errno = s->connecting && !atomic_load(&s->link->tcb) ? EALREADY : EISCONN;
		return -1;
	}
	if (source_of(c, s, &in))
		return -1;
	s->connecting = true;
	s->raddr = in.sin_addr.s_addr;
	s->rport = in.sin_port;
	struct cmd cmd = {.type = CMD_CONNECT, .sockid = s->id, .gen = s->gen,
			  .conn = connect_options(s),
			  .addr = in.sin_addr.s_addr, .port = in.sin_port,
			  .laddr = s->laddr, .lport = s->lport};
	cmd_push(c, &cmd);
	if (s->nonblock) {
		errno = EINPROGRESS;
		return -1;
	}
	return wait_connected(c, s) ? 0 : -1;
}

static void release(struct core *c, struct socket *s, enum cmd_type type)
{
	struct cmd cmd = {.type = (uint8_t)type, .sockid = s->id, .gen = s->gen,
			  .tcb = atomic_load_explicit(&s->link->tcb, memory_order_acquire),
			  .ptr = s->lst};

	epoll_forget(c, s);
	rss_release(c, s);
	s->closing = true;
	c->n_closing++;
	cmd_push(c, &cmd);
}

int mtcp_close(mctx_t mctx, int sockid)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;

	if (!s)
		return -1;
	switch (s->type) {
	case MTCP_SOCK_EPOLL:
		epoll_forget(c, s);
		free(s->ep->queue);
		free(s->ep);
		s->ep = NULL;
		sock_free_now(c, s);
		return 0;
	case MTCP_SOCK_LISTENER:
		release(c, s, CMD_CLOSE_LISTENER);
		return 0;
	default:
		release(c, s, CMD_CLOSE);
		return 0;
	}
}

int mtcp_abort(mctx_t mctx, int sockid)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, MTCP_SOCK_STREAM) : NULL;

	if (!s)
		return -1;
	release(c, s, CMD_ABORT);
	return 0;
}

/* The tcb of a socket past SYN_SENT (a peer answered), or NULL with
 * errno ENOTCONN: what shutdown() and getpeername() need. */
static struct tcb *connected_tcb(struct socket *s)
{
	struct tcb *t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);

	if (!t || tcb_state(t) == TCPS_SYN_SENT) {
		errno = ENOTCONN;
		return NULL;
	}
	return t;
}

int mtcp_shutdown(mctx_t mctx, int sockid, int how)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, MTCP_SOCK_STREAM) : NULL;
	struct tcb *t;

	if (!s)
		return -1;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	t = connected_tcb(s);
	if (!t)
		return -1;
	if (how != SHUT_RD && !atomic_exchange(&t->wr_closed, true))
		cmd_simple(c, CMD_SHUTDOWN_WR, s, t);
	return 0;
}

/* The socket whose name getsockname()/getpeername() report (type as
 * api_sock()'s), once the caller's buffer is known usable; NULL with errno. */
static struct socket *name_sock(mctx_t mctx, int sockid, int type,
				struct sockaddr *addr, socklen_t *addrlen)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, type) : NULL;

	if (!s)
		return NULL;
	if (!addr || !addrlen || *addrlen <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return s;
}

int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
	struct socket *s = name_sock(mctx, sockid, 0, addr, addrlen);
	struct tcb *t;

	if (!s)
		return -1;
	t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	/* a connected socket's address is only known once the SYN went out */
	if (t && tcb_state(t) != TCPS_CLOSED)
		fill_sockaddr(addr, addrlen, t->laddr, t->lport);
	else
		fill_sockaddr(addr, addrlen, s->laddr, s->lport);
	return 0;
}

int mtcp_getpeername(mctx_t mctx, int sockid, struct sockaddr *addr, socklen_t *addrlen)
{
	struct socket *s = name_sock(mctx, sockid, MTCP_SOCK_STREAM, addr, addrlen);
	struct tcb *t;

	if (!s)
		return -1;
	t = connected_tcb(s);
	if (!t)
		return -1;
	fill_sockaddr(addr, addrlen, t->raddr, t->rport);
	return 0;
}

int mtcp_setsock_nonblock(mctx_t mctx, int sockid)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;

	if (!s)
		return -1;
	s->nonblock = true;
	return 0;
}

int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void *argp)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;
	struct tcb *t;

	if (!s)
		return -1;
	if (!argp) {
		errno = EFAULT;
		return -1;
	}
	if (request == FIONBIO) {
		s->nonblock = *(int *)argp != 0;
		return 0;
	}
	if (request != FIONREAD) {
		errno = EINVAL;
		return -1;
	}
	t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	if (s->type != MTCP_SOCK_STREAM || !t) {
		errno = s->type != MTCP_SOCK_STREAM ? EINVAL : ENOTCONN;
		return -1;
	}
#if AATCP_WITH_ZC
	if (t->rcv_mode == RCV_ZC)
		*(int *)argp = (int)zc_stream_pending_bytes(&t->zc);
	else
#endif
		*(int *)argp = (int)rcvbuf_held(t->rb);
	return 0;
}

static int opt_int(const void *optval, socklen_t optlen, int *out)
{
	if (!optval || optlen < (socklen_t)sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, optval, sizeof(int));
	return 0;
}

/* TCP_KEEPIDLE and TCP_KEEPINTVL (seconds, 1..32767) and TCP_KEEPCNT
 * (1..127), Linux's ranges and meaning: this socket's tcp_keepalive_time,
 * _intvl and _probes (RFC 9293 3.8.4), inherited by the connections a
 * listener accepts; EINVAL out of range. */
static int set_keepalive_opt(struct core *c, struct socket *s, int optname, int v)
{
	int max = optname == TCP_KEEPCNT ? 127 : 32767;

	if (v < 1 || v > max) {
		errno = EINVAL;
		return -1;
	}
	if (optname == TCP_KEEPIDLE)
		s->ka.idle_s = (uint16_t)v;
	else if (optname == TCP_KEEPINTVL)
		s->ka.intvl_s = (uint16_t)v;
	else
		s->ka.probes = (uint8_t)v;
	struct tcb *t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	if (t)
		push_keepalive(c, s, t);
	return 0;
}

/* The number a socket's keep-alives use: its own, else the config's. */
static int keepalive_opt(const struct core *c, const struct socket *s, int optname)
{
	const struct aatcp_config *conf = &c->g->conf;

	if (optname == TCP_KEEPIDLE)
		return s->ka.idle_s ? s->ka.idle_s : conf->tcp_keepalive_time;
	if (optname == TCP_KEEPINTVL)
		return s->ka.intvl_s ? s->ka.intvl_s : conf->tcp_keepalive_intvl;
	return s->ka.probes ? s->ka.probes : conf->tcp_keepalive_probes;
}

int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname, const void *optval,
		    socklen_t optlen)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;
	int v;

	if (!s || opt_int(optval, optlen, &v))
		return -1;
	if (level == SOL_SOCKET && (optname == SO_RCVBUF || optname == SO_SNDBUF)) {
		if (atomic_load(&s->link->tcb) || s->type == MTCP_SOCK_LISTENER) {
			errno = EISCONN; /* buffers are sized when the connection starts */
			return -1;
		}
		if (v < 1024 || v > (1 << 30)) {
			errno = EINVAL;
			return -1;
		}
		if (optname == SO_RCVBUF)
			s->rcvbuf = (uint32_t)v;
		else
			s->sndbuf = (uint32_t)v;
		return 0;
	}
	if (level == SOL_SOCKET && (optname == SO_REUSEADDR || optname == SO_REUSEPORT))
		return 0; /* nothing to do: no kernel port table to share */
	if (level == SOL_SOCKET && optname == SO_KEEPALIVE) {
		struct tcb *t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
		s->keepalive = v != 0;
		if (t)
			push_keepalive(c, s, t);
		return 0;
	}
	if (level == IPPROTO_TCP &&
	    (optname == TCP_KEEPIDLE || optname == TCP_KEEPINTVL || optname == TCP_KEEPCNT))
		return set_keepalive_opt(c, s, optname, v);
	if (level == IPPROTO_TCP && optname == TCP_MAXSEG) {
		/* the MSS we advertise (e.g. a proxy making both sides' segments
		 * fit each other); only before the SYN goes out */
		if (atomic_load(&s->link->tcb) || s->type == MTCP_SOCK_LISTENER || v < 88 || v > 65495) {
			errno = atomic_load(&s->link->tcb) ? EISCONN : EINVAL;
			return -1;
		}
		s->maxseg = (uint32_t)v;
		return 0;
	}
	if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
		struct tcb *t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
		s->nodelay = v != 0;
		if (t) {
			struct cmd cmd = {.type = CMD_SETOPT, .tcb = t,
					  .sockid = s->id, .gen = s->gen, .arg = s->nodelay};
			cmd_push(c, &cmd);
		}
		return 0;
	}
	errno = ENOPROTOOPT;
	return -1;
}

int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname, void *optval,
		    socklen_t *optlen)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;
	struct tcb *t;
	int v;

	if (!s)
		return -1;
	if (!optval || !optlen || *optlen < (socklen_t)sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	if (level == SOL_SOCKET && optname == SO_ERROR) {
		/* as Linux: reading the pending error clears it */
		v = t ? atomic_exchange(&t->error, 0) : atomic_exchange(&s->link->conn_error, 0);
		if (!t && v)
			s->connecting = false; /* the connect is over: unconnected */
	} else if (level == SOL_SOCKET && optname == SO_RCVBUF) {
		v = (int)(t ? t->rcvbuf_size : s->rcvbuf);
	} else if (level == SOL_SOCKET && optname == SO_SNDBUF) {
		v = (int)(t ? t->sndbuf_size : s->sndbuf);
	} else if (level == SOL_SOCKET && optname == SO_TYPE) {
		v = SOCK_STREAM;
	} else if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
		v = s->nodelay;
	} else if (level == SOL_SOCKET && optname == SO_KEEPALIVE) {
		v = s->keepalive;
	} else if (level == IPPROTO_TCP && (optname == TCP_KEEPIDLE || optname == TCP_KEEPINTVL ||
					    optname == TCP_KEEPCNT)) {
		v = keepalive_opt(c, s, optname);
	} else if (level == IPPROTO_TCP && optname == TCP_MAXSEG) {
		v = t ? t->mss : 536;
	} else {
		errno = ENOPROTOOPT;
		return -1;
	}
	memcpy(optval, &v, sizeof(v));
	*optlen = sizeof(v);
	return 0;
}

void cmd_simple(struct core *c, enum cmd_type type, struct socket *s, struct tcb *t)
{
	struct cmd cmd = {.type = (uint8_t)type, .sockid = s ? s->id : -1,
			  .gen = s ? s->gen : 0, .tcb = t};

	cmd_push(c, &cmd);
}

void api_reclaim(struct core *c, struct socket *s, struct tcb *t)
{
	if (!atomic_exchange(&t->wnd_cmd_pending, true))
		cmd_simple(c, CMD_RECLAIM, s, t);
}
