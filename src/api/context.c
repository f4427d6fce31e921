/*
 * context.c - library and per-core context lifecycle: mtcp_init (config,
 * DPDK, ports), mtcp_create_context (one network thread per core), and
 * their teardown, which checks that every packet buffer went back to its
 * pool.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "api/internal.h"
#include "common/clock.h"
#include "common/log.h"
#include "io/io.h"
#include "io/port.h"
#include "io/steer.h"
#include "net/arp.h"
#include "tcp/flow.h"
#include "tcp/secret.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#include "fwd/outlist.h"
#include "zc/zc_stream.h"

struct aatcp_global aatcp_g;
static struct mtcp_conf override;
static bool have_override;

void *net_main(void *arg);

int mtcp_getconf(struct mtcp_conf *conf)
{
	const struct aatcp_config *c = &aatcp_g.conf;

	if (!conf) {
		errno = EINVAL;
		return -1;
	}
	if (!aatcp_g.initialised) {
		struct aatcp_config d;
		config_defaults(&d);
		c = &d;
		memset(conf, 0, sizeof(*conf));
		conf->num_cores = d.num_cores;
		conf->max_concurrency = d.max_concurrency;
		conf->max_num_buffers = d.max_num_buffers;
		conf->rcvbuf_size = d.rcvbuf;
		conf->sndbuf_size = d.sndbuf;
		conf->tcp_timewait = d.tcp_timewait;
		conf->tcp_timeout = d.tcp_timeout;
		if (have_override)
			*conf = override;
		return 0;
	}
	memset(conf, 0, sizeof(*conf));
	conf->num_cores = c->num_cores;
	conf->max_concurrency = c->max_concurrency;
	conf->num_ip = c->n_ports;
	conf->max_num_buffers = c->max_num_buffers;
	conf->rcvbuf_size = c->rcvbuf;
	conf->sndbuf_size = c->sndbuf;
	conf->tcp_timewait = c->tcp_timewait;
	conf->tcp_timeout = c->tcp_timeout;
	return 0;
}

int mtcp_setconf(const struct mtcp_conf *conf)
{
	if (!conf || aatcp_g.initialised) {
		errno = aatcp_g.initialised ? EBUSY : EINVAL;
		return -1;
	}
	override = *conf;
	have_override = true;
	return 0;
}

static void apply_override(struct aatcp_config *c)
{
	if (!have_override)
		return;
	if (override.num_cores > 0)
		c->num_cores = override.num_cores;
	if (override.max_concurrency > 0)
		c->max_concurrency = override.max_concurrency;
	if (override.max_num_buffers > 0)
		c->max_num_buffers = override.max_num_buffers;
	if (override.rcvbuf_size > 0)
		c->rcvbuf = override.rcvbuf_size;
	if (override.sndbuf_size > 0)
		c->sndbuf = override.sndbuf_size;
	if (override.tcp_timeout)
		c->tcp_timeout = override.tcp_timeout;
	if (override.tcp_timewait >= 0)
		c->tcp_timewait = override.tcp_timewait;
}

static int start_eal(struct aatcp_config *conf)
{
	static char store[4096];
	char *argv[64];
	int argc = port_eal_args(conf, store, sizeof(store), argv, 64);

	if (argc < 0) {
		fprintf(stderr, "aatcp: %s: too many EAL arguments\n", conf->path);
		return -1;
	}
	/* EAL pins the calling thread to its main lcore; the application
	 * thread must keep the placement it had (it is not a network thread). */
	cpu_set_t saved;
	bool have_saved = !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	int rc = rte_eal_init(argc, argv);
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (rc < 0) {
		fprintf(stderr, "aatcp: %s: DPDK EAL init failed: %s (eal = %s)\n", conf->path,
			rte_strerror(rte_errno), conf->eal);
		return -1;
	}
	return 0;
}

/* The part of initialisation after the config is read: EAL (unless the
 * caller started it), ports, ARP. */
static int init_library(struct aatcp_global *g, bool eal)
{
	char err[512];

	apply_override(&g->conf);
	if (g->conf.num_cores > MAX_CORES) {
		fprintf(stderr, "aatcp: %s: num_cores: at most %d\n", g->conf.path, MAX_CORES);
		errno = EINVAL;
		return -1;
	}
	aatcp_log_level = g->conf.log_level;
	g->n_cores = g->conf.num_cores;
	g->start_us = clock_now_us();
	if (eal && start_eal(&g->conf))
		return -1;
	if (port_setup_all(g, err, sizeof(err))) {
		fprintf(stderr, "aatcp: %s\n", err);
		return -1;
	}
	for (int i = 0; i < g->n_ports; i++)
		g->any_stat_print |= g->ports[i].conf->stat_print;
	if (arp_init(g)) {
		fprintf(stderr, "aatcp: %s: too many static ARP entries\n", g->conf.path);
		return -1;
	}
	g->initialised = true;
	return 0;
}

/* What both initialisations start with: once only, then a clean global
 * holding the defaults, for the configuration to be read over. */
static int begin_init(struct aatcp_global *g)
{
	if (g->initialised) {
		errno = EBUSY;
		return -1;
	}
	memset(g, 0, sizeof(*g));
	config_defaults(&g->conf);
	return 0;
}

/* A configuration that could not be read: why, on stderr, and EINVAL. */
static int bad_config(const char *why)
{
	fprintf(stderr, "aatcp: %s\n", why);
	errno = EINVAL;
	return -1;
}

int mtcp_init(const char *config_file)
{
	struct aatcp_global *g = &aatcp_g;
	char err[512];

	if (begin_init(g))
		return -1;
	if (!config_file)
		return bad_config("no configuration file");
	if (config_load(&g->conf, config_file, err, sizeof(err)))
		return bad_config(err);
	return init_library(g, true);
}

int aatcp_init_with_ports(const char *config_text)
{
	struct aatcp_global *g = &aatcp_g;
	char err[512];

	if (begin_init(g))
		return -1;
	if (config_parse_text(&g->conf, "<text>", config_text, err, sizeof(err)))
		return bad_config(err);
	return init_library(g, false);
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 64;

	while (p < n)
		p <<= 1;
	return p;
}

static int alloc_core(struct core *c)
{
	const struct aatcp_config *conf = &c->g->conf;
	uint32_t n_tcbs = (uint32_t)conf->max_concurrency;
	uint32_t n_socks = (uint32_t)conf->max_concurrency + 64; /* + listeners, epolls */

	c->pool = c->g->pools[c->id];
	c->tcbs = calloc(n_tcbs, sizeof(struct tcb));
	c->socks = calloc(n_socks, sizeof(struct socket));
	c->flows = flow_create(n_tcbs);
	c->timers = timer_create_wheel(clock_now_us());
	/* a node per mbuf, plus each zero-copy socket's empty tail node */
	c->zc_pool = zc_pool_create(rte_mempool_avail_count(c->pool) + n_tcbs);
	/* one outbound node per mbuf at most: appends cannot run dry */
	c->out_pool = out_pool_create(rte_mempool_avail_count(c->pool));
	if (!c->tcbs || !c->socks || !c->flows || !c->timers || !c->zc_pool || !c->out_pool)
		return -1;
	if (spsc_init(&c->cmdq, 4096, sizeof(struct cmd)) ||
	    spsc_init(&c->evq, pow2_at_least(n_tcbs * 2 + 64), sizeof(struct event)) ||
	    spsc_init(&c->released, pow2_at_least(n_socks), sizeof(int)))
		return -1;
	c->n_tcbs = n_tcbs;
	for (uint32_t i = 0; i < n_tcbs; i++) {
		c->tcbs[i].id = i;
		c->tcbs[i].in_pool = true;
		c->tcbs[i].pool_next = i + 1 < n_tcbs ? &c->tcbs[i + 1] : NULL;
	}
	c->tcb_free = &c->tcbs[0];
	c->n_socks = (int)n_socks;
	for (int i = (int)n_socks - 1; i >= 0; i--) {
		c->socks[i].id = i;
		c->socks[i].free_next = i + 1 < (int)n_socks ? i + 1 : -1;
	}
	c->sock_free = 0;
	c->next_ephemeral = (uint16_t)secret_random32(); /* RFC 6056 3.3.3 */
	if (steer_init(c))
		return -1;
	return io_faults_init(c);
}

/* Epoll instances the application did not close before destroying the
 * context (mTCP's examples never do): their memory goes with the core. */
static void free_epolls(struct core *c)
{
	for (int i = 0; c->socks && i < c->n_socks; i++) {
		struct socket *s = &c->socks[i];
		if (s->type == MTCP_SOCK_EPOLL && s->ep) {
			free(s->ep->queue);
			free(s->ep);
			s->ep = NULL;
		}
	}
}

static void free_core(struct core *c)
{
	steer_fini(c);
	io_faults_destroy(c);
	spsc_free(&c->cmdq);
	spsc_free(&c->evq);
	spsc_free(&c->released);
	zc_pool_destroy(c->zc_pool);
	out_pool_destroy(c->out_pool);
	timer_destroy_wheel(c->timers);
	flow_destroy(c->flows);
	free_epolls(c);
	for (int i = 0; i < c->n_socks; i++)
		free(c->socks[i].aa_params); /* module params copied at registration */
	free(c->socks);
	free(c->tcbs);
	free(c);
}

int mtcp_core_affinitize(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ? -1 : 0;
}

struct core *core_create(int id, bool start_thread)
{
	struct aatcp_global *g = &aatcp_g;
	struct core *c;
	pthread_attr_t attr;
	cpu_set_t set;

	if (!g->initialised || id < 0 || id >= g->n_cores || g->cores[id]) {
		errno = !g->initialised ? EPERM : EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->id = id;
	c->cpu = id;
	c->g = g;
	c->now_us = clock_now_us();
	if (alloc_core(c)) {
		free_core(c);
		errno = ENOMEM;
		return NULL;
	}
	if (start_thread) {
		pthread_attr_init(&attr);
		CPU_ZERO(&set);
		CPU_SET(id % CPU_SETSIZE, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (pthread_create(&c->thread, &attr, net_main, c)) {
			pthread_attr_destroy(&attr);
			free_core(c);
			errno = EAGAIN;
			return NULL;
		}
		pthread_attr_destroy(&attr);
		c->has_thread = true;
		while (!atomic_load(&c->running))
			sched_yield();
	} else {
		atomic_store(&c->running, true);
	}
	c->app_thread = pthread_self();
	g->cores[id] = c;
	return c;
}

mctx_t mtcp_create_context(int cpu)
{
	struct core *c = core_create(cpu, true);

	if (c)
		aatcp_tls_core = c;
	return (mctx_t)c;
}

static void teardown_tcb(struct tcb *t, void *arg)
{
	struct core *c = arg;

	t->app_closed = true;
	tcb_free(c, t);
}

/* After the network thread stopped: give every buffer back. */
static void teardown(struct core *c)
{
	struct tcb *t;

	flow_foreach(c->flows, teardown_tcb, c);
	/* TCBs no longer in the flow table (closed, not yet released) */
	for (uint32_t i = 0; i < c->n_tcbs; i++) {
		t = &c->tcbs[i];
		if (!t->in_pool && t->core) {
			t->app_closed = true;
			tcb_free(c, t);
		}
	}
	for (struct listener *l = c->listeners, *next; l; l = next) {
		next = l->next;
		while (spsc_pop(&l->accepts, &t))
			tcb_free(c, t);
		spsc_free(&l->accepts);
		free(l);
	}
	c->listeners = NULL;
	io_flush(c);
	io_faults_destroy(c);
}

void core_destroy(struct core *c)
{
	if (c->has_thread) {
		atomic_store(&c->stop, true);
		pthread_join(c->thread, NULL);
	}
	atomic_store(&c->running, false);
	c->now_us = clock_now_us();
	teardown(c);
	stats_print(c);
	aatcp_g.cores[c->id] = NULL;
	/* keep the counters for the stats file */
	struct core *keep = malloc(sizeof(*keep));
	if (keep) {
		memcpy(keep, c, sizeof(*keep));
		free(aatcp_g.finished[c->id]);
		aatcp_g.finished[c->id] = keep;
	}
	if (aatcp_tls_core == c)
		aatcp_tls_core = NULL;
	free_core(c);
}

void mtcp_destroy_context(mctx_t mctx)
{
	struct core *c = (struct core *)mctx;

	if (!c)
		return;
	/* Give connections the application closed a moment to finish their
	 * handshakes (our FIN, the peer's last ACK) before the thread stops. */
	uint64_t until = clock_now_us() + 2000000u;
	while ((!spsc_empty(&c->cmdq) || atomic_load(&c->orphans) > 0) &&
	       clock_now_us() < until) {
		app_drain_events(c);
		app_wait(c, 10);
	}
	core_destroy(c);
}

mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signum, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}

int mtcp_pipe(mctx_t mctx, int pipeid[2])
{
	(void)mctx;
	(void)pipeid;
	errno = ENOSYS; /* mTCP's in-stack pipes are not part of aatcp */
	return -1;
}

void mtcp_destroy(void)
{
	struct aatcp_global *g = &aatcp_g;

	if (!g->initialised)
		return;
	for (int i = 0; i < MAX_CORES; i++)
		if (g->cores[i])
			mtcp_destroy_context((mctx_t)g->cores[i]);
	for (int i = 0; i < g->n_ports; i++)
		rte_eth_dev_stop(g->ports[i].dpdk_id);
	if (g->conf.stats_file[0] && stats_write(g->conf.stats_file))
		LOG_WARN("cannot write stats file %s", g->conf.stats_file);
	port_stop_all(g);
	for (int i = 0; i < g->n_cores; i++) {
		if (!g->pools[i])
			continue;
		unsigned int in_use = g->pools[i]->size - rte_mempool_avail_count(g->pools[i]);
		if (in_use)
			LOG_WARN("core %d: %u packet buffers not returned to the pool", i, in_use);
	}
	for (int i = 0; i < MAX_CORES; i++) {
		free(g->finished[i]);
		g->finished[i] = NULL;
	}
	arp_fini();
	rte_eal_cleanup();
	g->initialised = false;
}
