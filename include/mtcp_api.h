/*
 * mtcp_api.h - the socket API of aatcp.
 *
 * Same function names, arguments, struct layouts and semantics as mTCP's
 * public header, so a program written for mTCP compiles and runs against
 * libaatcp unchanged (README, "Differences from mTCP", lists the few
 * differences and why). Extensions: mtcp_shutdown() really half-closes,
 * mtcp_getsockopt()/mtcp_setsockopt() really work (SO_ERROR, SO_RCVBUF,
 * SO_SNDBUF, SO_KEEPALIVE, TCP_NODELAY, TCP_MAXSEG, and TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT at IPPROTO_TCP/SOL_TCP: this socket's
 * tcp_keepalive_time, _intvl and _probes, in seconds and with Linux's
 * ranges, 1..32767, 1..32767 and 1..127, EINVAL outside; a listener's are
 * inherited by the connections it accepts), and mtcp_abort() sends a RST.
 *
 * Socket ids (epoll ids included) are 0 .. max_concurrency-1 per context,
 * reused after close; when none is free mtcp_socket() and mtcp_accept()
 * fail with ENFILE, as in mTCP.
 *
 * Threading model (as mTCP): mtcp_create_context(cpu) starts one network
 * thread pinned to `cpu`; the thread that created the context is that
 * context's application thread and is the only thread that may call the
 * functions below with the returned mctx_t.
 */
#ifndef AATCP_MTCP_API_H
#define AATCP_MTCP_API_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef UNUSED
#define UNUSED(x) (void)(x)
#endif

#ifndef INPORT_ANY
#define INPORT_ANY (uint16_t)0
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum socket_type {
	MTCP_SOCK_UNUSED,
	MTCP_SOCK_STREAM,
	MTCP_SOCK_PROXY,
	MTCP_SOCK_LISTENER,
	MTCP_SOCK_EPOLL,
	MTCP_SOCK_PIPE,
};

struct mtcp_conf {
	int num_cores;
	int max_concurrency;
	int num_ip;

	int max_num_buffers;
	int rcvbuf_size;
	int sndbuf_size;

	int tcp_timewait;
	int tcp_timeout;
};

typedef struct mtcp_context *mctx_t;

/* Reads the configuration file (mTCP's keys plus aatcp's port keys, see
 * docs/config.md), starts DPDK and the ports. Returns 0, or -1 after printing
 * one line naming the file, line and key that is wrong. */
int mtcp_init(const char *config_file);
void mtcp_destroy(void);

/* The values in force (after mtcp_init(): the file's); tcp_timeout and
 * tcp_timewait in mTCP's 1 ms ticks. */
int mtcp_getconf(struct mtcp_conf *conf);
/* As mTCP: changes the fields given as > 0. Before mtcp_init() the file's
 * keys win over it; after mtcp_init() it is accepted until the first
 * mtcp_create_context() (then EBUSY), except a different num_cores (EINVAL:
 * the ports' queues are set up by mtcp_init()). */
int mtcp_setconf(const struct mtcp_conf *conf);

int mtcp_core_affinitize(int cpu);

mctx_t mtcp_create_context(int cpu);
void mtcp_destroy_context(mctx_t mctx);

typedef void (*mtcp_sighandler_t)(int);
/* Installs handler for signum; when the signal arrives the handler runs
 * once, then every context's blocked mtcp_epoll_wait() (and blocking
 * mtcp_accept/read/write/connect) returns -1 with errno EINTR, as mTCP's
 * does for SIGINT. Returns the previous handler. */
mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler);

/* Not supported: -1 with errno ENOSYS (README, "Differences from mTCP"). */
int mtcp_pipe(mctx_t mctx, int pipeid[2]);

int mtcp_getsockopt(mctx_t mctx, int sockid, int level, int optname,
		    void *optval, socklen_t *optlen);
int mtcp_setsockopt(mctx_t mctx, int sockid, int level, int optname,
		    const void *optval, socklen_t optlen);

int mtcp_setsock_nonblock(mctx_t mctx, int sockid);

/* FIONREAD (bytes, or for a zero-copy socket bytes not yet handed out) and
 * FIONBIO. */
int mtcp_socket_ioctl(mctx_t mctx, int sockid, int request, void *argp);

int mtcp_socket(mctx_t mctx, int domain, int type, int protocol);
int mtcp_bind(mctx_t mctx, int sockid, const struct sockaddr *addr,
	      socklen_t addrlen);
int mtcp_listen(mctx_t mctx, int sockid, int backlog);
int mtcp_accept(mctx_t mctx, int sockid, struct sockaddr *addr,
		socklen_t *addrlen);

/* Source addresses/ports this context may pick for active opens so that the
 * peer's answers land on this core's RX queue. */
int mtcp_init_rss(mctx_t mctx, in_addr_t saddr_base, int num_addr,
		  in_addr_t daddr, in_addr_t dport);

int mtcp_connect(mctx_t mctx, int sockid, const struct sockaddr *addr,
		 socklen_t addrlen);
int mtcp_close(mctx_t mctx, int sockid);
/* Sends a RST and releases the connection at once. */
int mtcp_abort(mctx_t mctx, int sockid);
/* SHUT_RD, SHUT_WR, SHUT_RDWR: unlike mTCP, SHUT_WR sends a FIN and the
 * socket can still read until the peer closes (RFC 9293 half-close). */
int mtcp_shutdown(mctx_t mctx, int sockid, int how);

int mtcp_getsockname(mctx_t mctx, int sockid, struct sockaddr *addr,
		     socklen_t *addrlen);
int mtcp_getpeername(mctx_t mctx, int sockid, struct sockaddr *addr,
		     socklen_t *addrlen);

ssize_t mtcp_read(mctx_t mctx, int sockid, char *buf, size_t len);
/* flags: MSG_PEEK */
ssize_t mtcp_recv(mctx_t mctx, int sockid, char *buf, size_t len, int flags);
int mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);
ssize_t mtcp_write(mctx_t mctx, int sockid, const char *buf, size_t len);
int mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV);

#ifdef __cplusplus
}
#endif

#endif /* AATCP_MTCP_API_H */
