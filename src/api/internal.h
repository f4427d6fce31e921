/*
 * internal.h - what the files of api/ share: socket table access, commands,
 * application-side waiting, readiness.
 */
#ifndef AATCP_API_INTERNAL_H
#define AATCP_API_INTERNAL_H

#include <errno.h>

#include "api/core.h"

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

/* Application thread: queue a command for the network thread (waits while
 * the ring is full; the network thread drains it every iteration). */
void cmd_push(struct core *c, const struct cmd *cmd);
void cmd_simple(struct core *c, enum cmd_type type, struct socket *s, struct tcb *t);
/* Network thread: run the queued commands; returns how many. */
int cmd_run(struct core *c);

/* Application thread: move events from the ring to the sockets (and their
 * epolls). Returns how many were drained. */
int app_drain_events(struct core *c);
/* Application thread: sleep until the network thread pushes an event or
 * timeout_ms passes (-1: 100 ms slices forever is the caller's loop). */
void app_wait(struct core *c, int timeout_ms);
/* Network thread: wake the application thread if it sleeps. */
void net_wake_app(struct core *c);
/* Signal handler: mark c interrupted and wake its application thread. */
void app_interrupt(struct core *c);
/* Application thread, about to block: true (and the mark cleared, errno
 * EINTR) when a registered signal arrived since the last blocking call. */
bool app_interrupted(struct core *c);

/* Current readiness of a socket (MTCP_EPOLL* bits). */
uint32_t sock_readiness(struct core *c, struct socket *s);
/* epoll bookkeeping when a socket is closed. */
void epoll_forget(struct core *c, struct socket *s);
void epoll_notify(struct core *c, struct socket *s);

/* After the application consumed receive data: ask the network thread for
 * a window update when the window grew enough to matter. */
void api_maybe_window_update(struct core *c, struct socket *s, struct tcb *t);

/* One iteration of the network thread's loop at time now_us (netloop.c);
 * returns how much work it found. Tests drive a core with it directly. */
int net_iteration(struct core *c, uint64_t now_us);
/* Creates core `id` of the initialised library; starts its network thread
 * unless start_thread is false (tests, fuzzers: net_iteration by hand). */
struct core *core_create(int id, bool start_thread);
/* Stops (if started), releases every buffer, frees the core. */
void core_destroy(struct core *c);
/* Tests and fuzzers: mtcp_init() for a process that started DPDK's EAL
 * itself and created its ports (e.g. rte_eth_from_rings()); the config is
 * text whose port.<name>.device keys name those ethdevs. mtcp_destroy()
 * tears it down as usual. */
int aatcp_init_with_ports(const char *config_text);

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

/* Stats (stats.c) */
void stats_print(struct core *c);
int stats_write(const char *path);

#endif /* AATCP_API_INTERNAL_H */
