/*
 * core.h - the per-core context: one network thread, the state it owns, the
 * application thread's socket table, and the queues between the two
 * (docs/architecture.md "Threads and shared state").
 */
#ifndef AATCP_CORE_H
#define AATCP_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "common/config.h"
#include "common/counters.h"
#include "common/spsc.h"

#define MAX_CORES 16
#define TX_BURST 64
#define RX_BURST 64
/* Frames a core queues per port while the PMD's TX ring is full; the last
 * TXQ_RESERVE are kept for ACKs and control segments (io_tx_room()). */
#define TXQ_LEN 1024
#define TXQ_RESERVE 256

struct fault;
struct arp_table;
struct flow_table;
struct timer_wheel;
struct zc_pool;
struct out_pool;
struct rte_ring;
struct aa_module;
struct rss_pool;
struct tcb;
struct socket;
struct steer_local;
struct bufcache;

struct port {
	int index;              /* position in the config */
	uint16_t dpdk_id;
	char name[CONFIG_NAME_LEN];
	struct rte_ether_addr mac;
	uint32_t ip, mask, gateway; /* network byte order */
	uint16_t mtu;
	bool tx_ip_csum, tx_tcp_csum, rx_csum; /* offloads the port offers */
	uint8_t placement;      /* enum steer_placement (io/steer.h) */
	bool rss_l4;            /* PLACE_RSS: the hash covers the TCP ports */
	uint16_t reta_size;     /* PLACE_RSS: entries of the redirection table */
	uint16_t n_queues;      /* RX queues: one per core */
	/* DPDK devices behind the port: one with a queue per core, or one per
	 * core with one queue each (net_af_xdp on several cores, io/port.c) */
	uint16_t n_devs;
	uint16_t devs[MAX_CORES];
	const struct port_conf *conf;
};

/* Commands, application -> network thread. */
enum cmd_type {
	CMD_CONNECT,
	CMD_LISTEN,
	CMD_CLOSE_LISTENER,
	CMD_CLOSE,
	CMD_SHUTDOWN_WR,
	CMD_ABORT,
	CMD_SEND,       /* data was written */
	CMD_WND_UPDATE, /* the application freed receive space */
	CMD_RECLAIM,    /* zc/aa: nodes or records were freed */
	CMD_FORWARD,    /* fwd: move n fragments to another socket */
	CMD_SPLICE,
	CMD_SETOPT,
	CMD_KEEPALIVE,  /* SO_KEEPALIVE: arg on/off, and the socket's numbers (ka) */
};

/* CONNECT: the socket's options, copied when the command is queued, so
 * that the network thread never reads the application's socket table. */
struct cmd_connect {
	uint32_t rcvbuf, sndbuf;
	uint32_t maxseg;                /* TCP_MAXSEG, 0: the port's */
	bool zc, nodelay, keepalive;
	struct keepalive_opts ka;       /* TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT */
	const struct aa_module *aa_mod; /* record module, or NULL */
	const void *aa_params;          /* the socket's copy: lives as long as it */
	/* splices asked before the connect (thesis 5.1.2): the other
	 * socket's id, whose link (struct sock_link) holds its TCB when the
	 * command runs (commands run in order, so an earlier CONNECT's TCB is
	 * there), or -1 */
	int splice_from, splice_to;
	unsigned splice_flags;
};

/*
 * The link of a socket id (core.links[id]): what both threads know of the
 * connection behind it. The application's socket table (api/) is its own;
 * the network thread reads and writes only these words, each with one
 * writer at a time:
 *   tcb         set by the network thread when CONNECT gets a TCB, by the
 *               application when accept() hands one to a new socket;
 *               cleared by the network thread when CLOSE/ABORT releases it
 *               (the id goes back afterwards, through core.released);
 *   conn_error  the errno of a CONNECT that got no TCB (ENOMEM); written
 *               by the network thread, taken by the application.
 */
struct sock_link {
	_Atomic(struct tcb *) tcb;
	_Atomic int conn_error;
};

/* A command. The network thread reads only the command and the links of
 * the ids it names: what it needs of the socket is copied into it
 * (docs/architecture.md "Threads and shared state"). */
struct cmd {
	uint8_t type;
	int sockid;                      /* -1: no socket (ABORT of an unaccepted TCB) */
	uint32_t gen;
	struct tcb *tcb;
	union {
		struct cmd_connect conn; /* CONNECT */
		struct keepalive_opts ka; /* KEEPALIVE */
		struct {
			void *ptr;        /* listener, forward batch */
			struct tcb *tcb2; /* SPLICE: the `to` side */
		};
	};
	uint32_t addr;    /* CONNECT: remote address/port, local address/port */
	uint16_t port;
	uint32_t laddr;
	uint16_t lport;
	int arg;
};

/* Events, network thread -> application. */
struct event {
	int sockid;
	uint32_t gen;
	uint32_t bits;
};

/* A listening socket as the network thread sees it. */
struct listener {
	uint32_t ip;          /* 0: any of our addresses */
	uint16_t port;
	int backlog;
	int sockid;
	uint32_t gen;
	_Atomic int syn_count;    /* half-open connections (net) */
	struct spsc accepts;      /* struct tcb *: net produces, app consumes */
	_Atomic int queued;       /* established, not yet accepted */
	bool zc;                  /* accepted sockets inherit zero-copy receive */
	bool nodelay;
	uint32_t maxseg;
	_Atomic(const struct aa_module *) aa_mod_pub; /* writer: app (register) */
	const void *aa_params;
	uint32_t rcvbuf, sndbuf;
	struct listener *next;    /* net: listener table chain */
	bool closing;
	bool ev_pending;           /* net: an IN event still to push */
	uint64_t cookies_until_us; /* net: SYN cookies sent lately: ACKs may carry
				    * one until then (tcp/syncookie.h) */
};

struct core {
	int id;
	int cpu;
	struct aatcp_global *g;

	/* ---- network thread state ---- */
	struct rte_mempool *pool;
	struct zc_pool *zc_pool;
	struct out_pool *out_pool;    /* fwd/ outbound nodes */
	struct steer_local *steer;    /* learned source ports (io/steer.c) */
	struct {
		struct rte_mbuf *pkts[TXQ_LEN]; /* oldest first (io/io.c) */
		uint16_t n;
		bool refused;                   /* the PMD took less this iteration */
	} tx[CONFIG_MAX_PORTS];
	struct fault *fault_rx[CONFIG_MAX_PORTS], *fault_tx[CONFIG_MAX_PORTS];
	struct flow_table *flows;
	struct {                     /* the frame placement looked up last and */
		const struct rte_mbuf *m; /* its flow's TCB (NULL: none), so that */
		struct tcb *t;           /* tcp_input does not look it up again */
	} placed;                    /* (tcp/placement.h) */
	struct listener *listeners;
	struct arp_table *arp;
	struct timer_wheel *timers;
	struct tcb *tcbs;            /* pool */
	struct tcb *tcb_free;
	uint32_t n_tcbs, tcbs_used;
	uint32_t tcbs_hw;            /* tcbs[0..tcbs_hw-1] were handed out at some
				      * time (core_reset) */
	_Atomic uint32_t orphans;    /* closed by the app, still finishing */
	struct tcb *out_list;        /* tcbs that may have something to send */
	struct tcb *ev_list;         /* tcbs with events to push */
	struct tcb *arp_wait;        /* tcbs waiting for ARP */
	struct tcb *tw_head, *tw_tail; /* tcbs in TIME-WAIT, oldest first (tcp/timewait.c) */
	uint32_t pool_avail;         /* free mbufs of `pool` at pool_avail_us - 1 */
	uint64_t pool_avail_us;      /* 0: never read (fwd/splice.c) */
	struct bufcache *bufcache;   /* per-connection memory kept for the next
				      * connection (tcp/bufcache.h) */
	bool lst_ev_pending;         /* some listener has an event to push */
	bool ev_pushed_direct;  /* an event went to evq outside push_events() (a listener's, a connect without a TCB): wake the app */
	uint64_t wake_due_us;        /* events pushed: wake the app by then (0: none) */
	uint64_t now_us;
	uint16_t next_ephemeral;
	uint64_t chack_sec;          /* RFC 5961 7: the second challenge ACKs count in */
	uint32_t chack_left;         /* challenge ACKs still allowed in it */
	struct counters cnt;
	uint64_t last_stat_us;
	uint64_t last_arp_poll_us;

	/* ---- between the threads ---- */
	struct spsc cmdq;            /* struct cmd: app -> net */
	struct spsc evq;             /* struct event: net -> app */
	struct spsc released;        /* int socket ids the net thread let go of: net -> app */
	_Atomic uint32_t wake_word;  /* futex: bumped by net when it pushed events */
	_Atomic bool app_sleeping;
	/* TSC cycles the application thread ran on the network thread's CPU,
	 * each run from a return of app_wait() to its next call (wait.c). A
	 * wake-up lets it run inside net_wake_app() there, so the network
	 * thread takes what this grew by during that call out of its busy
	 * cycles (core/loop/netloop.c): the cycles are the application's. */
	_Atomic uint64_t app_ran_tsc;
	_Atomic bool interrupted;    /* a registered signal arrived (signal.c) */
	_Atomic bool stop;
	_Atomic bool running;
	pthread_t thread;
	bool has_thread;

	/* ---- application thread state ---- */
	uint64_t app_woke_tsc;       /* when app_wait() last returned (0: not yet) */
	struct socket *socks;
	int n_socks;                 /* = max_concurrency: ids are 0..n_socks-1 */
	int socks_hw;                /* ids 0..socks_hw-1 were handed out at some
				      * time (core_reset) */
	struct sock_link *links;     /* n_socks, shared: see struct sock_link */
	int sock_free;               /* free list head (oldest freed first) */
	int sock_free_tail;
	int n_closing;               /* closed, id not yet handed back by net */
	pthread_t app_thread;
	struct rss_pool *rss;        /* mtcp_init_rss() (rss.c) */
};

struct aatcp_global {
	struct aatcp_config conf;
	int n_ports;
	struct port ports[CONFIG_MAX_PORTS];
	int n_cores;
	struct core *cores[MAX_CORES];
	struct rte_mempool *pools[MAX_CORES];
	/* mbufs the ports held right after they started: the RX rings the PMD
	 * filled (AF_XDP's fill rings, which DPDK 22.11 does not give back) */
	unsigned long mbufs_port_held;
	/* how far those rings may differ at the exit: a PMD that holds mbufs
	 * refills its ring by up to one burst per RX queue per poll */
	unsigned long mbufs_port_slack;
	struct rte_ring *steer_rings[MAX_CORES]; /* frames for core i (io/steer.c) */
	struct rte_ring *steer_gifts[MAX_CORES]; /* source ports for core i (io/steer.c) */
	bool any_stat_print;
	struct core *finished[MAX_CORES]; /* counters of destroyed contexts */
	uint64_t start_us;
	bool initialised;
	bool contexts_created;       /* mtcp_setconf() refused from then on */
};

extern struct aatcp_global aatcp_g;

/* The calling thread's context (set by mtcp_create_context). */
extern _Thread_local struct core *aatcp_tls_core;

/* ---- waking each other (wait.c) ---- */
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

/* Stats (stats.c) */
void stats_print(struct core *c);
/* Writes the pool and counter summary to path: 0, or -errno of fopen. */
int stats_write(const char *path);

#endif /* AATCP_CORE_H */
