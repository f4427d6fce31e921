/*
 * internal.h - what the files of api/ share: socket table access, commands,
 * application-side waiting, readiness.
 */
#ifndef AATCP_API_INTERNAL_H
#define AATCP_API_INTERNAL_H

#include <errno.h>

#include "core/core.h"
#include "core/loop/loop.h"
#include "mtcp_epoll.h"

struct epoll;

/* Application-side socket slot. */
struct socket {
	int id;
	enum socket_type type;
	uint32_t gen;
	bool nonblock;
	bool bound;
	bool connecting;
	bool zc;                     /* mtcp_zc_enable() called */
	const struct aa_module *aa_mod;
	void *aa_params;             /* our copy */
	bool nodelay;
	bool keepalive;              /* SO_KEEPALIVE (accepted sockets inherit it) */
	struct keepalive_opts ka;    /* TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT (inherited too) */
	bool closing;                /* closed, id not yet released by net */
	uint32_t rcvbuf, sndbuf;
	uint32_t laddr, raddr;       /* network byte order */
	uint16_t lport, rport;
	struct sock_link *link;      /* core.links[id]: its TCB, a connect's errno */
	struct listener *lst;        /* MTCP_SOCK_LISTENER */
	struct epoll *ep;            /* MTCP_SOCK_EPOLL */
	int zc_out;                  /* fragments handed out, not freed */
	struct socket *splice_to;    /* splice asked before this socket connected */
	struct socket *splice_from;
	unsigned splice_flags;
	bool fwd_target;             /* has an outbound list: mtcp_write refused */
	uint32_t maxseg;             /* TCP_MAXSEG: MSS to advertise, 0: the port's */
	int aa_out;                  /* records handed out, not freed */
	/* epoll membership */
	int epid;                    /* -1: none */
	uint32_t ep_events;
	mtcp_epoll_data_t ep_data;
	bool ep_queued;              /* on its epoll's candidate queue */
	bool ep_disabled;            /* ONESHOT fired */
	uint32_t ev_pending;         /* edges drained from the event ring, for ET */
	int64_t rss_pair;            /* mtcp_init_rss() pair it holds, -1: none */
	int free_next;
};

struct epoll {
	int *queue;                  /* candidate socket ids */
	int qhead, qlen, qcap;
};

/* The library's -errno convention turned into mTCP's at the API boundary:
 * rc < 0 sets errno to -rc and returns -1; else 0 (docs/architecture.md,
 * "Errors"). */
static inline int api_result(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* The context of mctx, checked: NULL (errno EINVAL/EPERM) when misused. */
struct core *api_core(mctx_t mctx);
/* The live socket sockid of c, of one of the given types (0: any), or NULL
 * with errno EBADF / ENOTSOCK. */
struct socket *api_sock(struct core *c, int sockid, int type);
/* The TCB of stream socket sockid (and the socket in *sp), or NULL with
 * errno EBADF, ENOTSOCK, ENOTCONN, or EAGAIN while it is connecting. */
struct tcb *api_tcb(struct core *c, int sockid, struct socket **sp);
struct socket *sock_alloc(struct core *c, enum socket_type type);
/* Application thread: the id goes back to the free list at once (epoll). */
void sock_free_now(struct core *c, struct socket *s);


/* Application thread: move events from the ring to the sockets (and their
 * epolls). Returns how many were drained. */
int app_drain_events(struct core *c);

/* Current readiness of a socket (MTCP_EPOLL* bits). */
uint32_t sock_readiness(struct core *c, struct socket *s);
/* epoll bookkeeping when a socket is closed. */
void epoll_forget(struct core *c, struct socket *s);
void epoll_notify(struct core *c, struct socket *s);

/* After the application consumed receive data: ask the network thread for
 * a window update when the window grew enough to matter. */
void api_maybe_window_update(struct core *c, struct socket *s, struct tcb *t);

/* Creates core `id` of the initialised library; starts its network thread
 * unless start_thread is false (tests, fuzzers: net_iteration by hand). */
struct core *core_create(int id, bool start_thread);
/* Stops (if started), releases every buffer, frees the core. */
void core_destroy(struct core *c);
/* Tests and fuzzers, a core without a network thread: releases every
 * buffer as core_destroy does and makes the core again what core_create
 * made (every TCB and socket id free in their first order, empty queues,
 * wheel and pools, zeroed counters), keeping its tables: a fuzzer runs
 * each input on a fresh core without allocating one. 0; -EBUSY when a TCB,
 * flow, timer, zero-copy or outbound node was not given back (a leak: the
 * core must be destroyed, or reset again once it is back); -EINVAL for a
 * core with a network thread. */
int core_reset(struct core *c);
/* Tests and fuzzers: mtcp_init() for a process that started DPDK's EAL
 * itself and created its ports (e.g. rte_eth_from_rings()); the config is
 * text whose port.<name>.device keys name those ethdevs. mtcp_destroy()
 * tears it down as usual. */
int aatcp_init_with_ports(const char *config_text);

/* Application thread: a command about socket s (its id and generation)
 * and TCB t. */
void cmd_simple(struct core *c, enum cmd_type type, struct socket *s, struct tcb *t);

/* After the application freed zero-copy fragments or records: ask the
 * network thread to reclaim them and advertise the window they free (one
 * command in flight per TCB). */
void api_reclaim(struct core *c, struct socket *s, struct tcb *t);

/* mtcp_init_rss() (rss.c): a source (address, port) from the context's
 * pool for a connect to raddr:rport into s->laddr/lport: 1; 0 when no pool
 * is set for that destination, -1 when every pair is taken. */
int rss_pick(struct core *c, struct socket *s, uint32_t raddr, uint16_t rport);
/* The socket gives its pair back (close). */
void rss_release(struct core *c, struct socket *s);
/* Whether the flow's replies may come to this core's RX queue: predicted
 * there, or not known (io/steer.h). */
bool rss_owned(struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
	       uint16_t rport);
void rss_free(struct core *c);


#endif /* AATCP_API_INTERNAL_H */
