/*
 * port.c - DPDK EAL arguments, mempools and port configuration.
 */
#include "io/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_build_config.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

#include "common/log.h"
#include "io/intr_sync.h"
#include "io/steer.h"

#define RX_DESC 1024
#define TX_DESC 1024

static bool is_pci(const char *dev)
{
	unsigned int d, b, s, f;
	char tail;

	/* domain:bus:slot.func or bus:slot.func */
	return sscanf(dev, "%x:%x:%x.%x%c", &d, &b, &s, &f, &tail) == 4 ||
	       sscanf(dev, "%x:%x.%x%c", &b, &s, &f, &tail) == 3;
}

/* Why net_af_xdp cannot run here (NULL: it can): the kernel must offer
 * AF_XDP sockets and DPDK must have the PMD (a plugin in Debian's build). */
static const char *af_xdp_missing(void)
{
	int fd = socket(AF_XDP, SOCK_RAW, 0);

	if (fd < 0)
		return "this kernel offers no AF_XDP sockets (CONFIG_XDP_SOCKETS)";
	close(fd);
	if (sizeof(RTE_EAL_PMD_PATH) > 1 &&
	    access(RTE_EAL_PMD_PATH "/librte_net_af_xdp.so", F_OK))
		return "DPDK's net_af_xdp PMD is not installed (Debian: librte-net-af-xdp23)";
	return NULL;
}

void port_fallback_af_xdp(struct aatcp_config *c)
{
	for (int i = 0; i < c->n_ports; i++) {
		char *dev = c->ports[i].device;
		const char *iface = strstr(dev, "iface="), *why;
		char name[64]; /* an interface name (IFNAMSIZ is 16) */

		if (strncmp(dev, "net_af_xdp", 10) || !iface || !(why = af_xdp_missing()))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(iface + 6, ","), iface + 6);
		fprintf(stderr, "aatcp: %s: port.%s.device: %s; driving %s with "
			"net_af_packet instead (slower: a copy and a syscall per burst)\n",
			c->path, c->ports[i].name, why, name);
		snprintf(dev, CONFIG_DEV_LEN, "net_af_packet_x%d,iface=%s,qpairs=%d", i, name,
			 c->num_cores > 1 ? c->num_cores : 1);
	}
}

/* RX queues of the Linux interface `iface=` of a device string (ethtool's
 * channels: combined plus RX-only ones), 1 when it cannot tell. */
static int iface_rx_queues(const char *device)
{
	const char *iface = strstr(device, "iface=");
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr;
	int fd, rc;

	if (!iface)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.*s", (int)strcspn(iface + 6, ","),
		 iface + 6);
	ifr.ifr_data = (void *)&ch;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (rc || ch.combined_count + ch.rx_count == 0)
		return 1;
	return (int)(ch.combined_count + ch.rx_count);
}

/* A net_af_xdp port whose device string does not name its queues is opened
 * as one device per RX queue of the interface, each an AF_XDP socket on that
 * queue (start_queue=q, queue_count=1), and at least one per core: an AF_XDP
 * socket receives only from its own queue, so every queue the interface
 * spreads frames over is polled (queue q by core q % cores), and DPDK
 * 22.11's PMD refuses queue_count above the interface's combined channels,
 * which a veth does not report (it has separate RX and TX counts). Returns
 * the number of devices, 0 for a port opened as configured. */
static int split_count(const struct aatcp_config *c, const struct port_conf *pc)
{
	int n;

	if (strncmp(pc->device, "net_af_xdp", 10) || strstr(pc->device, "start_queue=") ||
	    strstr(pc->device, "queue_count="))
		return 0;
	n = iface_rx_queues(pc->device);
	if (n > MAX_CORES)
		n = MAX_CORES; /* more than the stack polls: see docs/config.md */
	if (n < c->num_cores)
		n = c->num_cores;
	return n > 1 ? n : 0;
}

int port_eal_args(const struct aatcp_config *c, char *store, size_t store_len,
		  char **argv, int max_args)
{
	size_t used = 0;
	int argc = 0;
	bool any_pci = false;

#define PUSH(...)                                                            \
	do {                                                                 \
		int n_ = snprintf(store + used, store_len - used, __VA_ARGS__); \
		if (n_ < 0 || (size_t)n_ >= store_len - used || argc >= max_args - 1) \
			return -E2BIG;                                       \
		argv[argc++] = store + used;                                 \
		used += (size_t)n_ + 1;                                      \
	} while (0)

	PUSH("aatcp");
	/* The application thread that calls mtcp_init() is EAL's main lcore;
	 * network threads register themselves (rte_thread_register). */
	PUSH("-l");
	PUSH("0");
	PUSH("--file-prefix=aatcp%d", (int)getpid());
	/* One process, no secondary processes: no shared config files and no
	 * telemetry socket left behind in /var/run/dpdk. */
	PUSH("--no-shconf");
	PUSH("--no-telemetry");
	for (int i = 0; i < c->n_ports; i++) {
		const char *dev = c->ports[i].device;
		int name_len = (int)strcspn(dev, ",");

		if (is_pci(dev)) {
			PUSH("-a");
			PUSH("%s", dev);
			any_pci = true;
		} else if (split_count(c, &c->ports[i])) {
			for (int q = 0; q < split_count(c, &c->ports[i]); q++)
				PUSH("--vdev=%.*sq%d%s,start_queue=%d,queue_count=1", name_len, dev,
				     q, dev + name_len, q);
		} else {
			PUSH("--vdev=%s", c->ports[i].device);
		}
	}
	if (!any_pci)
		PUSH("--no-pci");
	PUSH("--log-level=error"); /* DPDK's own messages: errors only */
	/* extra arguments, split on spaces */
	char extra[sizeof(c->eal)];
	char *save = NULL;
	snprintf(extra, sizeof(extra), "%s", c->eal);
	for (char *t = strtok_r(extra, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		PUSH("%s", t);
	argv[argc] = NULL;
	return argc;
#undef PUSH
}

/* The ethdev name of a configured device: the vdev name before the first
 * comma, or the PCI address. */
static void dev_name(const char *device, char *out, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(out, device, n);
	out[n] = '\0';
}

static uint32_t pool_size(const struct aatcp_config *c)
{
	uint32_t n = c->mbufs;

	if (!n) {
		/* RX and TX rings of every port, plus room for every socket's
		 * receive window held as packets (zero-copy keeps them). */
		n = (uint32_t)c->n_ports * (RX_DESC + TX_DESC) * 2 + 32768;
	}
	return n;
}

/* Whether the pools must be packed for net_af_xdp: a port on AF_XDP and
 * none on PCI (whose DMA wants each buffer IOVA-contiguous). */
static bool pools_for_af_xdp(const struct aatcp_config *c)
{
	bool xdp = false;

	for (int i = 0; i < c->n_ports; i++) {
		if (is_pci(c->ports[i].device))
			return false;
		xdp |= !strncmp(c->ports[i].device, "net_af_xdp", 10);
	}
	return xdp;
}

/* A packet pool whose objects lie back to back in one memory chunk.
 * DPDK 22.11's net_af_xdp registers a pool as the AF_XDP UMEM from its
 * first chunk's start for populated_size * object size bytes, and the
 * kernel refuses every descriptor beyond that: a fill-ring buffer out
 * there is never filled nor given back, a frame sent from one is never
 * sent (no error on either side). rte_pktmbuf_pool_create keeps each
 * object within one page where IOVAs are not contiguous (--no-huge: one
 * 2.3 KB mbuf per 4 KB page), which spreads the pool over about 1.7 times
 * what the PMD registers; with RTE_MEMPOOL_F_NO_IOVA_CONTIG objects may
 * cross pages (an AF_XDP socket in copy mode, which a veth gives, copies
 * through the kernel's mapping: no DMA). */
static struct rte_mempool *packed_pool(const char *name, uint32_t n)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
		.mbuf_priv_size = 0,
	};
	struct rte_mempool *mp = rte_mempool_create_empty(
		name, n, sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 256, sizeof(priv),
		(int)rte_socket_id(), RTE_MEMPOOL_F_NO_IOVA_CONTIG);

	if (!mp)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL))
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	if (mp->nb_mem_chunks != 1)
		LOG_WARN("mbuf pool %s: %u memory chunks; net_af_xdp registers only the "
			 "first, frames in the others are lost (give EAL more memory with "
			 "'eal = -m ...')", name, mp->nb_mem_chunks);
	return mp;
fail:
	rte_mempool_free(mp);
	return NULL;
}

struct rte_mempool *port_packet_pool(const char *name, uint32_t n, bool for_af_xdp)
{
	if (for_af_xdp)
		return packed_pool(name, n);
	return rte_pktmbuf_pool_create(name, n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
}

static int create_pools(struct aatcp_global *g, char *err, int errlen)
{
	uint32_t n = pool_size(&g->conf);
	bool packed = pools_for_af_xdp(&g->conf);

	for (int i = 0; i < g->conf.num_cores; i++) {
		char name[32];

		snprintf(name, sizeof(name), "aatcp_mbuf_%d", i);
		g->pools[i] = port_packet_pool(name, n, packed);
		if (!g->pools[i]) {
			snprintf(err, (size_t)errlen,
				 "%s: cannot allocate %u mbufs for core %d (%s); lower "
				 "'mbufs' or give EAL more memory with 'eal = -m ...'",
				 g->conf.path, n, i, rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

static void pick_offloads(struct port *p, const struct rte_eth_dev_info *di,
			  struct rte_eth_conf *ec)
{
	uint64_t tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

	if ((di->tx_offload_capa & tx) == tx) {
		ec->txmode.offloads |= tx;
		p->tx_ip_csum = p->tx_tcp_csum = true;
	}
	if ((di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) == RTE_ETH_RX_OFFLOAD_CHECKSUM) {
		ec->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
		p->rx_csum = true;
	}
	if (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		ec->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
}

/* Flow placement on a multi-queue port (io/steer.h): RSS with our Toeplitz
 * key where the port has RSS and takes a key of ours, else a hash of the
 * port's own that the stack learns (af_packet's fanout). */
static void rss_configure(struct port *p, const struct rte_eth_dev_info *di,
			  struct rte_eth_conf *ec, uint8_t *key)
{
	uint64_t hf = di->flow_type_rss_offloads;

	p->placement = PLACE_LEARNED;
	if (!(hf & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP)) || !di->reta_size ||
	    di->hash_key_size < sizeof(steer_rss_key) || di->hash_key_size > 64)
		return;
	memcpy(key, steer_rss_key, sizeof(steer_rss_key)); /* longer keys: zeros after */
	ec->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	ec->rx_adv_conf.rss_conf.rss_key = key;
	ec->rx_adv_conf.rss_conf.rss_key_len = di->hash_key_size;
	ec->rx_adv_conf.rss_conf.rss_hf = hf & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP);
	p->rss_l4 = hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	p->reta_size = di->reta_size;
	p->placement = PLACE_RSS;
}

/* Redirection table entry i -> queue i % nq: steer_predict() computes the
 * same. Returns 0, or -ENOTSUP / the port's -errno when it refuses it. */
static int reta_program(struct port *p, uint16_t nq)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];

	if (p->reta_size > RTE_ETH_RSS_RETA_SIZE_512)
		return -ENOTSUP;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < p->reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nq;
	}
	int rc = rte_eth_dev_rss_reta_update(p->dpdk_id, reta, p->reta_size);

	if (rc)
		LOG_WARN("port %s: redirection table refused: active opens learn their "
			 "queues", p->name);
	return rc;
}

static unsigned long pools_in_use(const struct aatcp_global *g)
{
	unsigned long n = 0;

	for (int i = 0; i < g->conf.num_cores; i++)
		n += g->pools[i]->size - rte_mempool_avail_count(g->pools[i]);
	return n;
}

/* Configures and starts device `d` of port p with nq queue pairs, queue q
 * taking its mbufs from the pool of core (d * nq + q) % cores, the core that
 * polls it. */
static int setup_dev(struct aatcp_global *g, struct port *p, uint16_t d, uint16_t nq,
		     char *err, int errlen)
{
	const struct port_conf *pc = p->conf;
	uint16_t id = p->devs[d];
	struct rte_eth_dev_info di;
	struct rte_eth_conf ec;
	unsigned long held = pools_in_use(g);
	int rc;

	rte_eth_dev_info_get(id, &di);
	if (di.max_rx_queues < nq || di.max_tx_queues < nq) {
		snprintf(err, (size_t)errlen,
			 "%s: port.%s.device: '%s' offers %u queue pairs but num_cores "
			 "is %u (for net_af_packet add qpairs=%u)", g->conf.path, pc->name,
			 pc->device, di.max_rx_queues, nq, nq);
		return -EINVAL;
	}
	memset(&ec, 0, sizeof(ec));
	pick_offloads(p, &di, &ec);
	uint8_t key[64] = {0};
	if (nq > 1)
		rss_configure(p, &di, &ec, key);
	rc = rte_eth_dev_configure(id, nq, nq, &ec);
	if (rc) {
		snprintf(err, (size_t)errlen, "%s: port.%s: configure failed: %s",
			 g->conf.path, pc->name, rte_strerror(-rc));
		return rc;
	}
	rte_eth_dev_set_mtu(id, p->mtu); /* best effort: not every PMD can */
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(id, q, RX_DESC, rte_eth_dev_socket_id(id), NULL,
					    g->pools[(d * nq + q) % g->conf.num_cores]);
		if (!rc)
			rc = rte_eth_tx_queue_setup(id, q, TX_DESC, rte_eth_dev_socket_id(id), NULL);
		if (rc) {
			snprintf(err, (size_t)errlen, "%s: port.%s: queue %u setup failed: %s",
				 g->conf.path, pc->name, d * nq + q, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(id);
	if (rc) {
		snprintf(err, (size_t)errlen, "%s: port.%s: start failed: %s",
			 g->conf.path, pc->name, rte_strerror(-rc));
		return rc;
	}
	if (p->placement == PLACE_RSS && reta_program(p, nq))
		p->placement = PLACE_LEARNED;
	if (pools_in_use(g) > held) /* it filled RX rings from our pools */
		g->mbufs_port_slack += (unsigned long)RX_BURST * nq;
	return 0;
}

void port_link_placement(struct port *p, bool split)
{
	if (p->n_queues < 2)
		return;
	if (p->conf->link_toeplitz && strncmp(p->conf->device, "net_af_xdp", 10)) {
		LOG_WARN("port %s: link_hash = toeplitz ignored on %s (not AF_XDP): active "
			 "opens learn their queues", p->name, p->conf->device);
	} else if (p->conf->link_toeplitz) {
		/* the link's queue h % devices is polled by core queue % cores */
		p->placement = PLACE_RSS;
		p->rss_l4 = true;
		p->reta_size = p->n_devs > 1 ? p->n_devs : p->n_queues;
		return;
	}
	if (split)
		p->placement = PLACE_LEARNED; /* the interface's own hash */
}

static int setup_port(struct aatcp_global *g, int idx, char *err, int errlen)
{
	const struct port_conf *pc = &g->conf.ports[idx];
	struct port *p = &g->ports[idx];
	char name[CONFIG_DEV_LEN + 8];
	uint16_t nq = (uint16_t)g->conf.num_cores;
	int split = split_count(&g->conf, pc);
	int rc;

	memset(p, 0, sizeof(*p));
	p->index = idx;
	p->conf = pc;
	memcpy(p->name, pc->name, sizeof(p->name));
	p->ip = pc->ip;
	p->mask = pc->prefix ? htonl(~0u << (32 - pc->prefix)) : 0;
	p->gateway = pc->gateway;
	p->mtu = pc->mtu;
	p->n_queues = nq;
	for (uint16_t d = 0; d < (split ? split : 1); d++) {
		dev_name(pc->device, name, CONFIG_DEV_LEN);
		if (split)
			snprintf(name + strlen(name), 8, "q%u", d);
		if (rte_eth_dev_get_port_by_name(name, &p->devs[d])) {
			snprintf(err, (size_t)errlen,
				 "%s: port.%s.device: DPDK has no device '%s' (is the interface "
				 "there, the PCI device bound to vfio-pci, the vdev string right?)",
				 g->conf.path, pc->name, name);
			return -ENODEV;
		}
		p->n_devs = (uint16_t)(d + 1); /* teardown stops the devices found */
		rc = setup_dev(g, p, d, split ? 1 : nq, err, errlen);
		if (rc)
			return rc;
	}
	p->dpdk_id = p->devs[0];
	port_link_placement(p, split > 0);
	rte_eth_macaddr_get(p->dpdk_id, &p->mac);
	LOG_INFO("port %s: dpdk port %u (%u devices), mac %02x:%02x:%02x:%02x:%02x:%02x, "
		 "csum offload tx=%d rx=%d, placement %d", p->name, p->dpdk_id, p->n_devs,
		 p->mac.addr_bytes[0], p->mac.addr_bytes[1], p->mac.addr_bytes[2],
		 p->mac.addr_bytes[3], p->mac.addr_bytes[4], p->mac.addr_bytes[5],
		 p->tx_tcp_csum, p->rx_csum, p->placement);
	return 0;
}

int port_setup_all(struct aatcp_global *g, char *err, int errlen)
{
	int rc = create_pools(g, err, errlen);

	if (rc)
		return rc;
	g->n_ports = g->conf.n_ports;
	g->mbufs_port_slack = 0;
	for (int i = 0; i < g->n_ports; i++)
		if ((rc = setup_port(g, i, err, errlen)))
			return rc;
	g->mbufs_port_held = pools_in_use(g);
	return 0;
}

void port_reclaim_tx(struct aatcp_global *g)
{
	for (int i = 0; i < g->n_ports; i++)
		for (uint16_t d = 0; d < g->ports[i].n_devs; d++) {
			uint16_t id = g->ports[i].devs[d];
			struct rte_eth_dev_info di;

			if (rte_eth_dev_info_get(id, &di))
				continue;
			for (uint16_t q = 0; q < di.nb_tx_queues; q++)
				rte_eth_tx_burst(id, q, NULL, 0);
		}
}

static void stop_all_devs(void *arg)
{
	struct aatcp_global *g = arg;

	for (int i = 0; i < g->n_ports; i++)
		for (uint16_t d = 0; d < g->ports[i].n_devs; d++)
			rte_eth_dev_stop(g->ports[i].devs[d]); /* harmless if stopped */
}

static void close_all_devs(void *arg)
{
	struct aatcp_global *g = arg;

	stop_all_devs(g);
	for (int i = 0; i < g->n_ports; i++)
		for (uint16_t d = 0; d < g->ports[i].n_devs; d++)
			rte_eth_dev_close(g->ports[i].devs[d]);
}

/* Both run on the interrupt thread: a stop or close never overlaps a PMD
 * handler (intr_sync.h; net_memif's disconnect runs in both). */
void port_halt_all(struct aatcp_global *g)
{
	intr_thread_run(stop_all_devs, g, 5000000);
}

void port_stop_all(struct aatcp_global *g)
{
	intr_thread_run(close_all_devs, g, 5000000);
}

struct port *port_by_ip(struct aatcp_global *g, uint32_t ip)
{
	for (int i = 0; i < g->n_ports; i++)
		if (g->ports[i].ip == ip)
			return &g->ports[i];
	return NULL;
}

struct port *port_for_dest(struct aatcp_global *g, uint32_t ip, uint32_t *next_hop)
{
	for (int i = 0; i < g->n_ports; i++) {
		struct port *p = &g->ports[i];
		if ((ip & p->mask) == (p->ip & p->mask)) {
			*next_hop = ip;
			return p;
		}
	}
	/* static routes (mTCP's config/route.conf): destinations on the
	 * link of the named port, the longest prefix first */
	const struct route_conf *best = NULL;
	for (int i = 0; i < g->conf.n_routes; i++) {
		const struct route_conf *r = &g->conf.routes[i];
		uint32_t m = r->prefix ? htonl(~0u << (32 - r->prefix)) : 0;
		if ((ip & m) == (r->ip & m) && (!best || r->prefix > best->prefix))
			best = r;
	}
	if (best && best->port < g->n_ports) {
		*next_hop = ip;
		return &g->ports[best->port];
	}
	for (int i = 0; i < g->n_ports; i++) {
		struct port *p = &g->ports[i];
		if (p->gateway) {
			*next_hop = p->gateway;
			return p;
		}
	}
	return NULL;
}

int port_index(const struct aatcp_global *g, uint16_t dpdk_id)
{
	for (int i = 0; i < g->n_ports; i++)
		for (uint16_t d = 0; d < g->ports[i].n_devs; d++)
			if (g->ports[i].devs[d] == dpdk_id)
				return i;
	return 0;
}
