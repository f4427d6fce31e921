/*
 * config.h - the stack's configuration (docs/config.md): mTCP's keys plus
 * each port's device, address, gateway, fault injector and static ARP
 * entries, so the stack needs no kernel module and no kernel interface.
 */
#ifndef AATCP_CONFIG_H
#define AATCP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_PORTS 8
#define CONFIG_MAX_ARP 64
#define CONFIG_NAME_LEN 32
#define CONFIG_DEV_LEN 256

struct fault_conf {
	double drop, dup, reorder, corrupt; /* probabilities per frame */
	double txfull;                      /* per TX burst: the ring takes none */
	uint32_t depth;                     /* frames a reordered frame is held */
	uint64_t rate_bps;                  /* 0: unlimited */
	bool rx, tx;                        /* directions it applies to */
	bool enabled;
};

struct port_conf {
	char name[CONFIG_NAME_LEN];
	char device[CONFIG_DEV_LEN];
	uint32_t ip;      /* network byte order */
	uint8_t prefix;
	uint32_t gateway; /* network byte order, 0: none */
	uint16_t mtu;
	bool link_toeplitz; /* link_hash = toeplitz: the link puts each frame on RX
			     * queue toeplitz % cores (io/toeplitz.h) */
	struct fault_conf fault;
	bool stat_print;
	bool from_kernel; /* `port = NAME`: address, prefix and MAC read from the
			   * Linux interface NAME, driven with net_af_packet */
	uint8_t mac[6];   /* from_kernel: the interface's MAC */
	int line;         /* where it was first named, for messages */
};

struct arp_conf {
	uint32_t ip;
	uint8_t mac[6];
};

/* A static route (mTCP's config/route.conf): destinations in ip/prefix
 * leave through port `port` (index into ports[]). */
struct route_conf {
	uint32_t ip;      /* network byte order */
	uint8_t prefix;
	int port;
};

#define CONFIG_MAX_ROUTES 64

/* Bits of aatcp_config.set: which of mTCP's keys the file set (a value
 * given with mtcp_setconf() before mtcp_init() never overrides them). */
enum config_key_bit {
	CONF_NUM_CORES = 1 << 0,
	CONF_MAX_CONCURRENCY = 1 << 1,
	CONF_MAX_NUM_BUFFERS = 1 << 2,
	CONF_RCVBUF = 1 << 3,
	CONF_SNDBUF = 1 << 4,
	CONF_TCP_TIMEOUT = 1 << 5,
	CONF_TCP_TIMEWAIT = 1 << 6,
};

/* `tcp_congestion`: the congestion control of every connection. */
enum tcp_cc {
	TCP_CC_CUBIC, /* RFC 9438 (the default, as Linux's) */
	TCP_CC_RENO,  /* RFC 5681 with RFC 6582 / RFC 6675 recovery */
};

struct aatcp_config {
	/* mTCP's keys */
	int num_cores;
	int max_concurrency;
	int max_num_buffers;
	int rcvbuf;
	int sndbuf;
	int tcp_timeout; /* seconds, -1: never */
	int tcp_timewait;
	uint64_t core_mask;      /* CPUs of the network threads, 0: core i on CPU i */
	unsigned set;            /* enum config_key_bit: keys the file set */
	/* aatcp's keys */
	int n_ports;
	struct port_conf ports[CONFIG_MAX_PORTS];
	int n_arp;
	struct arp_conf arp[CONFIG_MAX_ARP];
	int n_routes;
	struct route_conf routes[CONFIG_MAX_ROUTES];
	uint32_t mbufs;          /* per core, 0: derived */
	char eal[512];
	uint32_t idle_sleep_us;
	uint32_t idle_polls;     /* empty polls before yielding or sleeping */
	char stats_file[256];
	uint64_t fault_seed;
	int log_level;
	uint32_t splice_b0;      /* bytes, thesis 5.1.2 threshold */
	uint32_t fwd_wmax;       /* bytes, thesis 5.1.2 w_max of the forward API */
	int tcp_challenge_ack_limit; /* per second and core, RFC 5961 section 7 */
	int tcp_retries;         /* RTO expiries / unanswered probes before ETIMEDOUT */
	int tcp_keepalive_time;  /* seconds of silence before the first keep-alive */
	int tcp_keepalive_intvl; /* seconds between keep-alives */
	int tcp_keepalive_probes; /* unanswered keep-alives before ETIMEDOUT */
	int tcp_congestion;      /* enum tcp_cc */
	char path[256];
};

/* A socket's own keep-alive numbers (TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT, in Linux's ranges); 0: the config's tcp_keepalive_time,
 * _intvl, _probes. */
struct keepalive_opts {
	uint16_t idle_s, intvl_s;
	uint8_t probes;
};

void config_defaults(struct aatcp_config *c);
/* Parses `path` into c (over the defaults). Returns 0, or -errno (-EINVAL
 * for a bad line, -ENOENT etc. when the file cannot be read) after writing
 * one message "file:line: key: what is wrong" into err. */
int config_load(struct aatcp_config *c, const char *path, char *err, int errlen);
/* Exposed for tests: parse text as if read from `name`. */
int config_parse_text(struct aatcp_config *c, const char *name, const char *text,
		      char *err, int errlen);
/* mTCP's side files, read from directory `dir` when present (as mTCP reads
 * config/arp.conf and config/route.conf): "ARP_ENTRY n" then n lines
 * "ip/prefix mac"; "ROUTES n" then n lines "ip/prefix portname". Returns 0
 * (also when a file is absent), or -EINVAL with one message in err. */
int config_load_mtcp_tables(struct aatcp_config *c, const char *dir, char *err, int errlen);
/* Ports given as `port = NAME`: fills each one's device (net_af_packet on
 * the interface, one queue pair per core), address, prefix and MAC from
 * the Linux interface NAME. Runs once num_cores is final. 0, or the -errno
 * of the interface query with one message in err. */
int config_resolve_kernel_ports(struct aatcp_config *c, char *err, int errlen);

#endif /* AATCP_CONFIG_H */
