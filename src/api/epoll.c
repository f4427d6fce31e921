/*
 * epoll.c - mtcp_epoll_*: level-triggered by default, EPOLLET and
 * EPOLLONESHOT as in Linux. Everything here runs in the application thread.
 *
 * Each epoll keeps a queue of candidate sockets: a socket joins it when an
 * event for it is drained from the network thread's ring (or when it is
 * added); mtcp_epoll_wait() checks each candidate's current readiness.
 * Level-triggered sockets that are still ready stay in the queue; an
 * edge-triggered socket is reported once per edge.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "common/clock.h"
#include "tcp/rcvbuf.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"
#if AATCP_WITH_ZC
#include "zc/zc_stream.h"
#endif
#if AATCP_WITH_AA
#include "aa/aa_stream.h"
#endif

#define ALWAYS_REPORTED (MTCP_EPOLLERR | MTCP_EPOLLHUP)

int mtcp_epoll_create(mctx_t mctx, int size)
{
	struct core *c = api_core(mctx);
	struct socket *s;

	if (!c)
		return -1;
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	s = sock_alloc(c, MTCP_SOCK_EPOLL);
	if (!s)
		return -1;
	s->ep = calloc(1, sizeof(*s->ep));
	if (s->ep) {
		s->ep->qcap = 64;
		s->ep->queue = malloc((size_t)s->ep->qcap * sizeof(int));
	}
	if (!s->ep || !s->ep->queue) {
		free(s->ep);
		sock_free_now(c, s);
		errno = ENOMEM;
		return -1;
	}
	return s->id;
}

int mtcp_epoll_create1(mctx_t mctx, int flags)
{
	(void)flags; /* EPOLL_CLOEXEC has no meaning here */
	return mtcp_epoll_create(mctx, 1);
}

static int q_push(struct epoll *ep, int id)
{
	if (ep->qlen == ep->qcap) {
		int ncap = ep->qcap * 2;
		int *nq = malloc((size_t)ncap * sizeof(int));
		if (!nq)
			return -1;
		for (int i = 0; i < ep->qlen; i++)
			nq[i] = ep->queue[(ep->qhead + i) % ep->qcap];
		free(ep->queue);
		ep->queue = nq;
		ep->qcap = ncap;
		ep->qhead = 0;
	}
	ep->queue[(ep->qhead + ep->qlen++) % ep->qcap] = id;
	return 0;
}

static int q_pop(struct epoll *ep)
{
	int id = ep->queue[ep->qhead];

	ep->qhead = (ep->qhead + 1) % ep->qcap;
	ep->qlen--;
	return id;
}

void epoll_notify(struct core *c, struct socket *s)
{
	struct socket *eps;

	if (s->epid < 0 || s->ep_queued || s->ep_disabled)
		return;
	eps = &c->socks[s->epid];
	if (eps->type != MTCP_SOCK_EPOLL || !eps->ep)
		return;
	if (q_push(eps->ep, s->id) == 0)
		s->ep_queued = true;
}

void epoll_forget(struct core *c, struct socket *s)
{
	(void)c;
	/* a queued id is skipped when popped: its epid no longer matches */
	s->epid = -1;
	s->ep_queued = false;
}

static bool rcv_ready(const struct tcb *t)
{
#if AATCP_WITH_AA
	if (t->aa)
		return aa_stream_readable(t->aa);
#endif
#if AATCP_WITH_ZC
	if (t->rcv_mode == RCV_ZC)
		return zc_stream_pending_bytes(&t->zc) > 0;
#endif
	return t->rb && rcvbuf_held(t->rb) > 0; /* none: a connect that never started */
}

uint32_t sock_readiness(struct core *c, struct socket *s)
{
	struct tcb *t;
	uint32_t r = 0;
	int st;

	(void)c;
	if (s->type == MTCP_SOCK_LISTENER)
		return atomic_load(&s->lst->queued) > 0 ? MTCP_EPOLLIN : 0;
	if (s->type != MTCP_SOCK_STREAM)
		return 0;
	t = atomic_load_explicit(&s->link->tcb, memory_order_acquire);
	if (!t && atomic_load_explicit(&s->link->conn_error, memory_order_acquire))
		return MTCP_EPOLLERR | MTCP_EPOLLHUP | MTCP_EPOLLIN | MTCP_EPOLLOUT;
	if (!t)
		return s->connecting ? 0 : MTCP_EPOLLOUT | MTCP_EPOLLHUP;
	st = tcb_state(t);
	bool rd_closed = atomic_load_explicit(&t->rd_closed, memory_order_acquire);
	bool wr_closed = atomic_load(&t->wr_closed);
	if (st == TCPS_SYN_SENT || (st == TCPS_SYN_RCVD && !rd_closed))
		return 0;
	if (rcv_ready(t) || rd_closed || st == TCPS_CLOSED)
		r |= MTCP_EPOLLIN;
	if (rd_closed)
		r |= MTCP_EPOLLRDHUP;
	if ((st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT) && !wr_closed &&
	    sndbuf_space(t->sb) > 0)
		r |= MTCP_EPOLLOUT;
	if (atomic_load(&t->error))
		r |= MTCP_EPOLLERR;
	if (st == TCPS_CLOSED || (rd_closed && wr_closed))
		r |= MTCP_EPOLLHUP;
	return r;
}

int mtcp_epoll_ctl(mctx_t mctx, int epid, int op, int sockid, struct mtcp_epoll_event *event)
{
	struct core *c = api_core(mctx);
	struct socket *eps = c ? api_sock(c, epid, MTCP_SOCK_EPOLL) : NULL;
	struct socket *s = eps ? api_sock(c, sockid, 0) : NULL;

	if (!s)
		return -1;
	if (s->type == MTCP_SOCK_EPOLL) {
		errno = EINVAL;
		return -1;
	}
	switch (op) {
	case MTCP_EPOLL_CTL_ADD:
		if (s->epid >= 0) {
			errno = EEXIST;
			return -1;
		}
		/* fall through */
	case MTCP_EPOLL_CTL_MOD:
		if (!event) {
			errno = EINVAL;
			return -1;
		}
		if (op == MTCP_EPOLL_CTL_MOD && s->epid != epid) {
			errno = ENOENT;
			return -1;
		}
		s->epid = epid;
		s->ep_events = event->events;
		s->ep_data = event->data;
		s->ep_disabled = false;
		/* As Linux: current readiness counts as an edge. */
		s->ev_pending |= 0xffffffffu;
		s->ep_queued = false;
		epoll_notify(c, s);
		return 0;
	case MTCP_EPOLL_CTL_DEL:
		if (s->epid != epid) {
			errno = ENOENT;
			return -1;
		}
		epoll_forget(c, s);
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

/* One pass over the candidates present now; returns events written. */
static int collect(struct core *c, struct socket *eps, struct mtcp_epoll_event *events,
		   int maxevents)
{
	struct epoll *ep = eps->ep;
	int n = 0, todo = ep->qlen;

	while (todo-- > 0 && n < maxevents) {
		int id = q_pop(ep);
		struct socket *s = &c->socks[id];

		if (s->type == MTCP_SOCK_UNUSED || s->closing || s->epid != eps->id ||
		    !s->ep_queued)
			continue;
		s->ep_queued = false;
		if (s->ep_disabled)
			continue;
		uint32_t interest = (s->ep_events & ~(MTCP_EPOLLET | MTCP_EPOLLONESHOT)) |
				    ALWAYS_REPORTED;
		uint32_t ready = sock_readiness(c, s) & interest;
		bool et = s->ep_events & MTCP_EPOLLET;
		if (et && !(s->ev_pending & interest))
			ready = 0; /* no new edge since the last report */
		s->ev_pending = 0;
		if (!ready)
			continue;
		events[n].events = ready;
		events[n].data = s->ep_data;
		n++;
		if (s->ep_events & MTCP_EPOLLONESHOT)
			s->ep_disabled = true;
		else if (!et)
			epoll_notify(c, s); /* level-triggered: check again next time */
	}
	return n;
}

int mtcp_epoll_wait(mctx_t mctx, int epid, struct mtcp_epoll_event *events, int maxevents,
		    int timeout)
{
	struct core *c = api_core(mctx);
	struct socket *eps = c ? api_sock(c, epid, MTCP_SOCK_EPOLL) : NULL;
	uint64_t deadline = 0;

	if (!eps)
		return -1;
	if (!events || maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (timeout > 0)
		deadline = clock_now_us() + (uint64_t)timeout * 1000u;
	for (;;) {
		app_drain_events(c);
		int n = collect(c, eps, events, maxevents);
		if (n > 0 || timeout == 0)
			return n;
		if (!atomic_load(&c->running)) {
			errno = EINTR;
			return -1;
		}
		if (app_interrupted(c))
			return -1; /* EINTR: a registered signal (signal.c) */
		int slice = 100;
		if (timeout > 0) {
			uint64_t now = clock_now_us();
			if (now >= deadline)
				return 0;
			uint64_t left = (deadline - now + 999) / 1000;
			slice = left < 100 ? (int)left : 100;
		}
		if (spsc_empty(&c->evq))
			app_wait(c, slice);
	}
}

char *EventToString(uint32_t event)
{
	static _Thread_local char buf[128];
	static const struct { uint32_t bit; const char *name; } names[] = {
		{MTCP_EPOLLIN, "IN"}, {MTCP_EPOLLPRI, "PRI"}, {MTCP_EPOLLOUT, "OUT"},
		{MTCP_EPOLLERR, "ERR"}, {MTCP_EPOLLHUP, "HUP"}, {MTCP_EPOLLRDHUP, "RDHUP"},
		{MTCP_EPOLLONESHOT, "ONESHOT"}, {MTCP_EPOLLET, "ET"},
	};

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(event & names[i].bit))
			continue;
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, names[i].name);
	}
	if (!buf[0])
		strcpy(buf, "NONE");
	return buf;
}

int app_drain_events(struct core *c)
{
	struct event e;
	int n = 0;

	while (spsc_pop(&c->evq, &e)) {
		n++;
		if (e.sockid < 0 || e.sockid >= c->n_socks)
			continue;
		struct socket *s = &c->socks[e.sockid];
		if (s->type == MTCP_SOCK_UNUSED || s->closing || s->gen != e.gen)
			continue; /* stale: the socket it was for is gone */
		s->ev_pending |= e.bits;
		epoll_notify(c, s);
	}
	return n;
}
