/*
 * config.c - parser for the `key = value` configuration file.
 *
 * Every error names the file, the line and the key, and says what is
 * expected, because a typo in a lab's config is the most common way a run
 * fails (mTCP's most reported setup failure was its kernel-module config).
 */
#include "common/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

struct parse {
	struct aatcp_config *c;
	const char *file;
	int line;
	char *err;
	int errlen;
};

static int fail(struct parse *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, const char *key, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, (size_t)p->errlen, "%s:%d: %s: %s", p->file, p->line, key, what);
	return -EINVAL;
}

void config_defaults(struct aatcp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->num_cores = 1;
	c->max_concurrency = 10000;
	c->max_num_buffers = 10000;
	c->rcvbuf = 8192;  /* mTCP's defaults (docs/config.md) */
	c->sndbuf = 8192;
	c->tcp_timeout = 30;
	c->tcp_timewait = 60; /* 2*MSL, MSL 30 s (tcp/timewait.c) */
	snprintf(c->eal, sizeof(c->eal), "--no-huge -m 1024");
	c->fault_seed = 1;
	c->idle_polls = 64;
	c->log_level = LOG_WARNING;
	c->splice_b0 = 1 << 20;
	c->fwd_wmax = 1 << 20;
	c->tcp_challenge_ack_limit = 1000; /* Linux's tcp_challenge_ack_limit */
	c->tcp_congestion = TCP_CC_CUBIC; /* RFC 9438, as Linux (tcp/cubic.c) */
	c->tcp_retries = 15;          /* Linux's tcp_retries2 (tcp/timeouts.c) */
	c->tcp_keepalive_time = 7200; /* Linux's tcp_keepalive_* (tcp/keepalive.c) */
	c->tcp_keepalive_intvl = 75;
	c->tcp_keepalive_probes = 9;
}

static int parse_long(struct parse *p, const char *key, const char *v, long lo,
		      long hi, long *out)
{
	char *end;
	long x = 0;

	errno = 0;
	x = strtol(v, &end, 0);
	if (errno || end == v || *end)
		return fail(p, key, "'%s' is not an integer", v);
	if (x < lo || x > hi)
		return fail(p, key, "%ld is out of range [%ld, %ld]", x, lo, hi);
	*out = x;
	return 0;
}

static int set_int(struct parse *p, const char *key, const char *v, long lo,
		   long hi, int *dst)
{
	long x = 0;

	if (parse_long(p, key, v, lo, hi, &x))
		return -EINVAL;
	*dst = (int)x;
	return 0;
}

static int parse_ip(struct parse *p, const char *key, const char *v, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return fail(p, key, "'%s' is not an IPv4 address", v);
	*ip = a.s_addr;
	return 0;
}

static int parse_ip_prefix(struct parse *p, const char *key, const char *v,
			   uint32_t *ip, uint8_t *prefix)
{
	char buf[64];
	char *slash;
	long pl = 0;

	if (strlen(v) >= sizeof(buf))
		return fail(p, key, "value too long");
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (!slash)
		return fail(p, key, "'%s' needs a prefix length, e.g. 10.0.1.2/24", v);
	*slash = '\0';
	if (parse_ip(p, key, buf, ip))
		return -EINVAL;
	if (parse_long(p, key, slash + 1, 1, 32, &pl))
		return fail(p, key, "'%s' is not an IPv4 address/prefix", v);
	*prefix = (uint8_t)pl;
	return 0;
}

static int parse_mac(const char *v, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(v, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* "200mbit", "1gbit", "500kbit", "1000000" (bit/s) */
static int parse_rate(const char *v, uint64_t *bps)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x <= 0)
		return -EINVAL;
	if (!strcasecmp(end, "") || !strcasecmp(end, "bit"))
		*bps = (uint64_t)x;
	else if (!strcasecmp(end, "kbit"))
		*bps = (uint64_t)(x * 1e3);
	else if (!strcasecmp(end, "mbit"))
		*bps = (uint64_t)(x * 1e6);
	else if (!strcasecmp(end, "gbit"))
		*bps = (uint64_t)(x * 1e9);
	else
		return -EINVAL;
	return 0;
}

static int parse_prob(struct parse *p, const char *key, const char *name,
		      const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || *end || x < 0 || x > 1)
		return fail(p, key, "%s=%s is not a probability in [0, 1]", name, v);
	*out = x;
	return 0;
}

/* drop=0.01,dup=0.01,reorder=0.1,depth=3,corrupt=0.001,rate=200mbit,dir=rx */
static int parse_fault(struct parse *p, const char *key, const char *v,
		       struct fault_conf *f)
{
	char buf[256];
	char *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return fail(p, key, "value too long");
	strcpy(buf, v);
	memset(f, 0, sizeof(*f));
	f->rx = f->tx = true;
	f->depth = 3;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		long x = 0;

		if (!eq)
			return fail(p, key, "'%s' should be name=value", tok);
		*eq = '\0';
		const char *name = tok, *val = eq + 1;
		if (!strcmp(name, "drop")) {
			if (parse_prob(p, key, name, val, &f->drop))
				return -EINVAL;
		} else if (!strcmp(name, "dup")) {
			if (parse_prob(p, key, name, val, &f->dup))
				return -EINVAL;
		} else if (!strcmp(name, "reorder")) {
			if (parse_prob(p, key, name, val, &f->reorder))
				return -EINVAL;
		} else if (!strcmp(name, "corrupt")) {
			if (parse_prob(p, key, name, val, &f->corrupt))
				return -EINVAL;
		} else if (!strcmp(name, "txfull")) {
			if (parse_prob(p, key, name, val, &f->txfull))
				return -EINVAL;
		} else if (!strcmp(name, "depth")) {
			if (parse_long(p, key, val, 1, 1024, &x))
				return -EINVAL;
			f->depth = (uint32_t)x;
		} else if (!strcmp(name, "rate")) {
			if (parse_rate(val, &f->rate_bps))
				return fail(p, key, "rate=%s: expected e.g. 200mbit", val);
		} else if (!strcmp(name, "dir")) {
			f->rx = !strcmp(val, "rx") || !strcmp(val, "both");
			f->tx = !strcmp(val, "tx") || !strcmp(val, "both");
			if (!f->rx && !f->tx)
				return fail(p, key, "dir=%s: expected rx, tx or both", val);
		} else {
			return fail(p, key, "unknown fault '%s' (drop, dup, reorder, depth, "
				    "corrupt, txfull, rate, dir)", name);
		}
	}
	f->enabled = true;
	return 0;
}

static struct port_conf *port_by_name(struct parse *p, const char *key,
				      const char *name, size_t len)
{
	struct aatcp_config *c = p->c;

	if (len == 0 || len >= CONFIG_NAME_LEN) {
		fail(p, key, "port name must be 1..%d characters", CONFIG_NAME_LEN - 1);
		return NULL;
	}
	for (int i = 0; i < c->n_ports; i++)
		if (strlen(c->ports[i].name) == len && !strncmp(c->ports[i].name, name, len))
			return &c->ports[i];
	if (c->n_ports == CONFIG_MAX_PORTS) {
		fail(p, key, "more than %d ports", CONFIG_MAX_PORTS);
		return NULL;
	}
	struct port_conf *pc = &c->ports[c->n_ports++];
	memset(pc, 0, sizeof(*pc));
	memcpy(pc->name, name, len);
	pc->mtu = 1500;
	pc->line = p->line;
	return pc;
}

static int set_port_key(struct parse *p, const char *key, const char *v)
{
	const char *name = key + strlen("port.");
	const char *dot = strrchr(name, '.');
	struct port_conf *pc;
	long x = 0;

	if (!dot || dot == name)
		return fail(p, key, "expected port.<name>.<device|ip|gateway|mtu|link_hash|fault>");
	pc = port_by_name(p, key, name, (size_t)(dot - name));
	if (!pc)
		return -EINVAL;
	const char *field = dot + 1;
	if (!strcmp(field, "device")) {
		if (strlen(v) >= CONFIG_DEV_LEN)
			return fail(p, key, "device string too long");
		strcpy(pc->device, v);
	} else if (!strcmp(field, "ip")) {
		return parse_ip_prefix(p, key, v, &pc->ip, &pc->prefix);
	} else if (!strcmp(field, "gateway")) {
		return parse_ip(p, key, v, &pc->gateway);
	} else if (!strcmp(field, "mtu")) {
		if (parse_long(p, key, v, 576, 9000, &x))
			return -EINVAL;
		pc->mtu = (uint16_t)x;
	} else if (!strcmp(field, "link_hash")) {
		if (strcmp(v, "toeplitz") && strcmp(v, "none"))
			return fail(p, key, "'%s': expected toeplitz (the link spreads frames "
				    "over the RX queues like RSS with the stack's key) or none", v);
		pc->link_toeplitz = !strcmp(v, "toeplitz");
	} else if (!strcmp(field, "fault")) {
		return parse_fault(p, key, v, &pc->fault);
	} else {
		return fail(p, key, "unknown port key '%s' (device, ip, gateway, mtu, link_hash, "
			    "fault)", field);
	}
	return 0;
}

static int set_arp_key(struct parse *p, const char *key, const char *v)
{
	struct aatcp_config *c = p->c;
	struct arp_conf *a;

	if (c->n_arp == CONFIG_MAX_ARP)
		return fail(p, key, "more than %d static ARP entries", CONFIG_MAX_ARP);
	a = &c->arp[c->n_arp];
	if (parse_ip(p, key, key + strlen("arp."), &a->ip))
		return -EINVAL;
	if (parse_mac(v, a->mac))
		return fail(p, key, "'%s' is not a MAC address like 02:00:00:00:01:01", v);
	c->n_arp++;
	return 0;
}

static int set_stat_print(struct parse *p, const char *v)
{
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
		struct port_conf *pc = port_by_name(p, "stat_print", t, strlen(t));
		if (!pc)
			return -EINVAL;
		pc->stat_print = true;
	}
	return 0;
}

static int set_log_level(struct parse *p, const char *key, const char *v)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			p->c->log_level = i;
			return 0;
		}
	return fail(p, key, "'%s': expected error, warning, info or debug", v);
}

static int set_congestion(struct parse *p, const char *key, const char *v)
{
	if (!strcmp(v, "cubic"))
		p->c->tcp_congestion = TCP_CC_CUBIC;
	else if (!strcmp(v, "reno"))
		p->c->tcp_congestion = TCP_CC_RENO;
	else
		return fail(p, key, "'%s': expected cubic or reno", v);
	return 0;
}

static int set_string(struct parse *p, const char *key, const char *v, char *dst,
		      size_t len)
{
	if (strlen(v) >= len)
		return fail(p, key, "value longer than %zu characters", len - 1);
	strcpy(dst, v);
	return 0;
}

/* mTCP's integer keys: name, range, field, bit in aatcp_config.set. */
static int set_mtcp_int(struct parse *p, const char *key, const char *v)
{
	static const struct {
		const char *name;
		long lo, hi;
		size_t off;
		unsigned bit;
	} keys[] = {
		{"num_cores", 1, 64, offsetof(struct aatcp_config, num_cores), CONF_NUM_CORES},
		{"max_concurrency", 1, 1 << 22, offsetof(struct aatcp_config, max_concurrency),
		 CONF_MAX_CONCURRENCY},
		{"max_num_buffers", 1, 1 << 22, offsetof(struct aatcp_config, max_num_buffers),
		 CONF_MAX_NUM_BUFFERS},
		{"rcvbuf", 1024, 1 << 30, offsetof(struct aatcp_config, rcvbuf), CONF_RCVBUF},
		{"sndbuf", 1024, 1 << 30, offsetof(struct aatcp_config, sndbuf), CONF_SNDBUF},
		{"tcp_timeout", -1, 1 << 20, offsetof(struct aatcp_config, tcp_timeout),
		 CONF_TCP_TIMEOUT},
		{"tcp_timewait", 0, 3600, offsetof(struct aatcp_config, tcp_timewait),
		 CONF_TCP_TIMEWAIT},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].name))
			continue;
		p->c->set |= keys[i].bit;
		return set_int(p, key, v, keys[i].lo, keys[i].hi,
			       (int *)((char *)p->c + keys[i].off));
	}
	return 1;
}

/* `port = NAME [NAME...]`: each NAME is a Linux interface whose address,
 * prefix and MAC the port takes (config_resolve_kernel_ports), as mTCP
 * takes them from its dpdk0.. interfaces. */
static int set_mtcp_ports(struct parse *p, const char *v)
{
	char buf[512];
	char *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return fail(p, "port", "value too long");
	strcpy(buf, v);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (strchr(t, ':'))
			return fail(p, "port", "'%s': mTCP's NAME:QUEUE form is not supported; "
				    "name the interface (one queue pair per core is used)", t);
		struct port_conf *pc = port_by_name(p, "port", t, strlen(t));
		if (!pc)
			return -EINVAL;
		pc->from_kernel = true;
	}
	return 0;
}

/* `core_mask = HEX`: network thread i runs on the i-th CPU of the mask. */
static int set_core_mask(struct parse *p, const char *key, const char *v)
{
	char *end;

	errno = 0;
	unsigned long long m = strtoull(v, &end, 16);
	if (errno || end == v || *end || !m)
		return fail(p, key, "'%s' is not a non-zero hexadecimal CPU mask", v);
	p->c->core_mask = m;
	return 0;
}

/* mTCP's keys (its README, config/sample_mtcp.conf); 1 when key is not one. */
static int set_mtcp_key(struct parse *p, const char *key, const char *v)
{
	int rc = set_mtcp_int(p, key, v);

	if (rc != 1)
		return rc;
	if (!strcmp(key, "stat_print"))
		return set_stat_print(p, v);
	if (!strcmp(key, "port"))
		return set_mtcp_ports(p, v);
	if (!strcmp(key, "core_mask"))
		return set_core_mask(p, key, v);
	if (!strcmp(key, "io")) {
		if (strcmp(v, "dpdk"))
			return fail(p, key, "'%s': only dpdk (aatcp drives its ports with DPDK)", v);
		return 0;
	}
	if (!strcmp(key, "num_mem_ch"))
		return parse_long(p, key, v, 0, 64, &(long){0}); /* EAL finds the channels */
	if (!strcmp(key, "multiprocess"))
		return fail(p, key, "not supported: aatcp runs one process per set of ports "
			    "(remove the line)");
	return 1;
}

static int set_key(struct parse *p, const char *key, const char *v)
{
	struct aatcp_config *c = p->c;
	long x = 0;

	int rc = set_mtcp_key(p, key, v);
	if (rc != 1)
		return rc;
	if (!strcmp(key, "tcp_challenge_ack_limit"))
		return set_int(p, key, v, 0, 1 << 30, &c->tcp_challenge_ack_limit);
	if (!strcmp(key, "tcp_retries"))
		return set_int(p, key, v, 1, 30, &c->tcp_retries);
	if (!strcmp(key, "tcp_keepalive_time"))
		return set_int(p, key, v, 1, 1 << 20, &c->tcp_keepalive_time);
	if (!strcmp(key, "tcp_keepalive_intvl"))
		return set_int(p, key, v, 1, 1 << 20, &c->tcp_keepalive_intvl);
	if (!strcmp(key, "tcp_keepalive_probes"))
		return set_int(p, key, v, 1, 255, &c->tcp_keepalive_probes);
	if (!strcmp(key, "tcp_congestion"))
		return set_congestion(p, key, v);
	if (!strncmp(key, "port.", 5))
		return set_port_key(p, key, v);
	if (!strncmp(key, "arp.", 4))
		return set_arp_key(p, key, v);
	if (!strcmp(key, "mbufs")) {
		if (parse_long(p, key, v, 1024, 1 << 24, &x))
			return -EINVAL;
		c->mbufs = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "eal"))
		return set_string(p, key, v, c->eal, sizeof(c->eal));
	if (!strcmp(key, "idle_polls")) {
		if (parse_long(p, key, v, 1, 1000000, &x))
			return -EINVAL;
		c->idle_polls = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "idle_sleep_us")) {
		if (parse_long(p, key, v, 0, 100000, &x))
			return -EINVAL;
		c->idle_sleep_us = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "stats_file"))
		return set_string(p, key, v, c->stats_file, sizeof(c->stats_file));
	if (!strcmp(key, "fault_seed")) {
		if (parse_long(p, key, v, 0, 0x7fffffff, &x))
			return -EINVAL;
		c->fault_seed = (uint64_t)x;
		return 0;
	}
	if (!strcmp(key, "log_level"))
		return set_log_level(p, key, v);
	if (!strcmp(key, "splice_b0")) {
		if (parse_long(p, key, v, 4096, 1 << 30, &x))
			return -EINVAL;
		c->splice_b0 = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "fwd_wmax")) {
		if (parse_long(p, key, v, 4096, 1 << 30, &x))
			return -EINVAL;
		c->fwd_wmax = (uint32_t)x;
		return 0;
	}
	return fail(p, key, "unknown key (see docs/config.md)");
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int check_ports(struct parse *p)
{
	struct aatcp_config *c = p->c;

	if (c->n_ports == 0) {
		p->line = 0;
		return fail(p, "port.<name>.device", "no port configured");
	}
	for (int i = 0; i < c->n_ports; i++) {
		struct port_conf *pc = &c->ports[i];
		char key[80];

		p->line = pc->line;
		if (pc->link_toeplitz &&
		    (pc->from_kernel || strncmp(pc->device, "net_af_xdp", 10))) {
			snprintf(key, sizeof(key), "port.%s.link_hash", pc->name);
			return fail(p, key, "toeplitz needs a net_af_xdp device (AF_XDP "
				    "receives on the queue the link chose; net_af_packet's "
				    "fanout and a NIC's RSS place frames themselves)");
		}
		if (pc->from_kernel)
			continue; /* device and address come from the interface */
		if (!pc->device[0]) {
			snprintf(key, sizeof(key), "port.%s.device", pc->name);
			return fail(p, key, "missing (PCI address or DPDK vdev)");
		}
		if (!pc->ip) {
			snprintf(key, sizeof(key), "port.%s.ip", pc->name);
			return fail(p, key, "missing (address/prefix the stack owns)");
		}
	}
	return 0;
}

int config_parse_text(struct aatcp_config *c, const char *name, const char *text,
		      char *err, int errlen)
{
	struct parse p = {.c = c, .file = name, .line = 0, .err = err, .errlen = errlen};
	const char *s = text;

	while (*s) {
		char line[1024];
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		p.line++;
		if (len >= sizeof(line))
			return fail(&p, "(line)", "longer than %zu characters", sizeof(line) - 1);
		memcpy(line, s, len);
		line[len] = '\0';
		s += len + (nl ? 1 : 0);

		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return fail(&p, trim(l), "expected 'key = value'");
		*eq = '\0';
		char *key = trim(l), *val = trim(eq + 1);
		if (!*key)
			return fail(&p, "(key)", "empty key before '='");
		if (!*val)
			return fail(&p, key, "empty value");
		int rc = set_key(&p, key, val);

		if (rc)
			return rc;
	}
	if (check_ports(&p))
		return -EINVAL;
	snprintf(c->path, sizeof(c->path), "%s", name);
	return 0;
}

int config_load(struct aatcp_config *c, const char *path, char *err, int errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	if (!f) {
		int e = errno;

		snprintf(err, (size_t)errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || n > (1 << 20)) {
		fclose(f);
		snprintf(err, (size_t)errlen, "%s: not a config file (size)", path);
		return -EINVAL;
	}
	text = malloc((size_t)n + 1);
	if (!text) {
		fclose(f);
		snprintf(err, (size_t)errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	size_t got = fread(text, 1, (size_t)n, f);
	text[got] = '\0';
	fclose(f);
	int rc = config_parse_text(c, path, text, err, errlen);
	free(text);
	return rc;
}

/* ---- mTCP's side files: config/arp.conf, config/route.conf ---- */

/* "ip/prefix rest": the address, prefix and what follows (trimmed). */
static int split_entry(struct parse *p, char *line, uint32_t *ip, uint8_t *prefix, char **rest)
{
	char *sp = line + strcspn(line, " \t");

	if (!*sp)
		return fail(p, line, "expected 'ip/prefix value'");
	*sp = '\0';
	*rest = trim(sp + 1);
	return parse_ip_prefix(p, line, line, ip, prefix);
}

static int arp_entry(struct parse *p, char *line)
{
	struct aatcp_config *c = p->c;
	uint32_t ip = 0;
	uint8_t prefix = 0;
	char *mac = NULL;

	if (split_entry(p, line, &ip, &prefix, &mac))
		return -EINVAL;
	if (prefix != 32)
		return fail(p, line, "only /32 entries (one neighbour per line) are supported");
	if (c->n_arp == CONFIG_MAX_ARP)
		return fail(p, line, "more than %d static ARP entries", CONFIG_MAX_ARP);
	c->arp[c->n_arp].ip = ip;
	if (parse_mac(mac, c->arp[c->n_arp].mac))
		return fail(p, line, "'%s' is not a MAC address like 02:00:00:00:01:01", mac);
	c->n_arp++;
	return 0;
}

static int route_entry(struct parse *p, char *line)
{
	struct aatcp_config *c = p->c;
	struct route_conf *r;
	char *dev = NULL;
	int i;

	if (c->n_routes == CONFIG_MAX_ROUTES)
		return fail(p, line, "more than %d routes", CONFIG_MAX_ROUTES);
	r = &c->routes[c->n_routes];
	if (split_entry(p, line, &r->ip, &r->prefix, &dev))
		return -EINVAL;
	for (i = 0; i < c->n_ports && strcmp(c->ports[i].name, dev); i++)
		;
	if (i == c->n_ports)
		return fail(p, line, "'%s' is not one of the configured ports", dev);
	r->port = i;
	c->n_routes++;
	return 0;
}

/* One table file: a header line "<header> n", then n entries. */
static int load_table(struct aatcp_config *c, const char *path, const char *header,
		      int (*entry)(struct parse *, char *), char *err, int errlen)
{
	struct parse p = {.c = c, .file = path, .err = err, .errlen = errlen};
	char line[1024];
	long left = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0; /* optional, as in mTCP */
	while (fgets(line, sizeof(line), f)) {
		p.line++;
		line[strcspn(line, "#\n")] = '\0';
		char *l = trim(line);
		int rc = 0;
		if (!*l)
			continue;
		if (left < 0 && !strncmp(l, header, strlen(header)))
			rc = parse_long(&p, header, trim(l + strlen(header)), 0, 1 << 16, &left);
		else if (left <= 0)
			rc = fail(&p, header, "an entry before '%s n' or more entries than n", header);
		else if (!(rc = entry(&p, l)))
			left--;
		if (rc) {
			fclose(f);
			return rc;
		}
	}
	fclose(f);
	return 0;
}

int config_load_mtcp_tables(struct aatcp_config *c, const char *dir, char *err, int errlen)
{
	char path[512];

	int rc;

	snprintf(path, sizeof(path), "%s/config/arp.conf", dir);
	if ((rc = load_table(c, path, "ARP_ENTRY", arp_entry, err, errlen)))
		return rc;
	snprintf(path, sizeof(path), "%s/config/route.conf", dir);
	return load_table(c, path, "ROUTES", route_entry, err, errlen);
}

/* ---- `port = NAME`: the Linux interface's address, prefix and MAC ---- */

static int iface_query(int fd, const char *name, unsigned long req, struct ifreq *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ifr_name, sizeof(r->ifr_name), "%s", name);
	r->ifr_addr.sa_family = AF_INET;
	return ioctl(fd, req, r);
}

static int iface_error(const struct port_conf *pc, const char *what, char *err, int errlen)
{
	int e = errno;

	snprintf(err, (size_t)errlen, "port = %s: cannot read the interface's %s: %s", pc->name,
		 what, strerror(e));
	return -e;
}

static int kernel_port(int fd, struct port_conf *pc, int idx, int num_cores, char *err,
		       int errlen)
{
	struct ifreq r;
	struct sockaddr_in a;
	uint32_t mask;

	if (iface_query(fd, pc->name, SIOCGIFADDR, &r)) {
		int e = errno;

		snprintf(err, (size_t)errlen, "port = %s: the interface has no IPv4 address "
			 "(%s). Fix: 'ip addr add A/P dev %s', or configure it with "
			 "port.%s.device and port.%s.ip", pc->name, strerror(e), pc->name,
			 pc->name, pc->name);
		return -e;
	}
	memcpy(&a, &r.ifr_addr, sizeof(a));
	pc->ip = a.sin_addr.s_addr;
	if (iface_query(fd, pc->name, SIOCGIFNETMASK, &r))
		return iface_error(pc, "netmask", err, errlen);
	memcpy(&a, &r.ifr_addr, sizeof(a));
	mask = ntohl(a.sin_addr.s_addr);
	pc->prefix = (uint8_t)__builtin_popcount(mask);
	if (iface_query(fd, pc->name, SIOCGIFHWADDR, &r))
		return iface_error(pc, "MAC", err, errlen);
	memcpy(pc->mac, r.ifr_hwaddr.sa_data, 6);
	snprintf(pc->device, sizeof(pc->device), "net_af_packet_mtcp%d,iface=%s,qpairs=%d",
		 idx, pc->name, num_cores);
	return 0;
}

int config_resolve_kernel_ports(struct aatcp_config *c, char *err, int errlen)
{
	int fd = -1, rc = 0;

	for (int i = 0; i < c->n_ports && !rc; i++) {
		if (!c->ports[i].from_kernel || c->ports[i].device[0])
			continue;
		if (fd < 0 && (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
			int e = errno;

			snprintf(err, (size_t)errlen, "port = %s: socket: %s", c->ports[i].name,
				 strerror(e));
			return -e;
		}
		rc = kernel_port(fd, &c->ports[i], i, c->num_cores, err, errlen);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
