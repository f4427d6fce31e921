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
	struct fault_conf fault;
	bool stat_print;
	int line;         /* where it was first named, for messages */
};

struct arp_conf {
	uint32_t ip;
	uint8_t mac[6];
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
	/* aatcp's keys */
	int n_ports;
	struct port_conf ports[CONFIG_MAX_PORTS];
	int n_arp;
	struct arp_conf arp[CONFIG_MAX_ARP];
	uint32_t mbufs;          /* per core, 0: derived */
	char eal[512];
	uint32_t idle_sleep_us;
	char stats_file[256];
	uint64_t fault_seed;
	int log_level;
	uint32_t splice_b0;      /* bytes, thesis 5.1.2 threshold */
	uint32_t fwd_wmax;       /* bytes, thesis 5.1.2 w_max of the forward API */
	int tcp_challenge_ack_limit; /* per second and core, RFC 5961 section 7 */
	char path[256];
};

void config_defaults(struct aatcp_config *c);
/* Parses `path` into c (over the defaults). Returns 0, or -1 after writing
 * one message "file:line: key: what is wrong" into err. */
int config_load(struct aatcp_config *c, const char *path, char *err, int errlen);
/* Exposed for tests: parse text as if read from `name`. */
int config_parse_text(struct aatcp_config *c, const char *name, const char *text,
		      char *err, int errlen);

#endif /* AATCP_CONFIG_H */
