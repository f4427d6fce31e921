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
#include "io/intr_sync.h"
#include "io/io.h"
#include "io/port.h"
#include "io/steer.h"
#include "net/arp.h"
#include "tcp/bufcache.h"
#include "tcp/flow.h"
#include "tcp/secret.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#if AATCP_WITH_ZC
#include "zc/zc_stream.h"
#endif
#if AATCP_WITH_FWD
#include "fwd/outlist.h"
#endif

struct aatcp_global aatcp_g;

void *net_main(void *arg);

/* mTCP's struct mtcp_conf counts tcp_timeout and tcp_timewait in its timer
 * ticks (1 ms); the configuration file, and aatcp_config, in seconds. */
static int secs_to_ticks(int s)
{
	return s > 0 ? s * 1000 : s;
}

static int ticks_to_secs(int t)
{
	return (t + 999) / 1000;
}

static void conf_to_mtcp(const struct aatcp_config *c, struct mtcp_conf *m)
{
	memset(m, 0, sizeof(*m));
	m->num_cores = c->num_cores;
	m->max_concurrency = c->max_concurrency;
	m->num_ip = c->n_ports ? c->n_ports : 1;
	m->max_num_buffers = c->max_num_buffers;
	m->rcvbuf_size = c->rcvbuf;
	m->sndbuf_size = c->sndbuf;
	m->tcp_timewait = secs_to_ticks(c->tcp_timewait);
	m->tcp_timeout = secs_to_ticks(c->tcp_timeout);
}

/* As mTCP's mtcp_setconf(): only the fields given as > 0 change. Fields
 * the file set (c->set) keep the file's value when keep_file is true. */
static void mtcp_to_conf(const struct mtcp_conf *m, struct aatcp_config *c, bool keep_file)
{
	unsigned locked = keep_file ? c->set : 0;

#define TAKE(field, value, bit)                          \
	do {                                             \
		if ((value) > 0 && !(locked & (bit)))    \
			c->field = (value);              \
	} while (0)
	TAKE(num_cores, m->num_cores, CONF_NUM_CORES);
	TAKE(max_concurrency, m->max_concurrency, CONF_MAX_CONCURRENCY);
	TAKE(max_num_buffers, m->max_num_buffers, CONF_MAX_NUM_BUFFERS);
	TAKE(rcvbuf, m->rcvbuf_size, CONF_RCVBUF);
	TAKE(sndbuf, m->sndbuf_size, CONF_SNDBUF);
	TAKE(tcp_timewait, ticks_to_secs(m->tcp_timewait), CONF_TCP_TIMEWAIT);
	TAKE(tcp_timeout, ticks_to_secs(m->tcp_timeout), CONF_TCP_TIMEOUT);
#undef TAKE
}

/* mtcp_setconf() before mtcp_init(): applied under the file's values. */
static struct aatcp_config pre_init;
static bool have_pre_init;

int mtcp_getconf(struct mtcp_conf *conf)
{
	struct aatcp_config d;

	if (!conf) {
		errno = EINVAL;
		return -1;
	}
	if (aatcp_g.initialised) {
		conf_to_mtcp(&aatcp_g.conf, conf);
		return 0;
	}
	if (have_pre_init)
		d = pre_init;
	else
		config_defaults(&d);
	conf_to_mtcp(&d, conf);
	return 0;
}

/* Accepted before mtcp_init() (the file's keys win, as in mTCP) and after
 * it until the first mtcp_create_context() (the program's values win: the
 * contexts are sized from them); EBUSY afterwards. num_cores is fixed by
 * mtcp_init() (the ports' queues are set up): changing it then is EINVAL. */
int mtcp_setconf(const struct mtcp_conf *conf)
{
	struct aatcp_global *g = &aatcp_g;

	if (!conf) {
		errno = EINVAL;
		return -1;
	}
	if (g->contexts_created) {
		errno = EBUSY;
		return -1;
	}
	if (!g->initialised) {
		if (!have_pre_init)
			config_defaults(&pre_init);
		have_pre_init = true;
		mtcp_to_conf(conf, &pre_init, false);
		return 0;
	}
	if (conf->num_cores > 0 && conf->num_cores != g->conf.num_cores) {
		LOG_WARN("mtcp_setconf: num_cores %d after mtcp_init(): the ports run %d "
			 "queues; set it before mtcp_init()", conf->num_cores, g->conf.num_cores);
		errno = EINVAL;
		return -1;
	}
	mtcp_to_conf(conf, &g->conf, false);
	return 0;
}

static void apply_pre_init(struct aatcp_config *c)
{
	struct mtcp_conf m;

	if (!have_pre_init)
		return;
	conf_to_mtcp(&pre_init, &m);
	mtcp_to_conf(&m, c, true);
}

static int start_eal(struct aatcp_config *conf)
{
	static char store[4096];
	char *argv[64];
	int argc;

	port_fallback_af_xdp(conf);
	argc = port_eal_args(conf, store, sizeof(store), argv, 64);

	if (argc < 0) {
		fprintf(stderr, "aatcp: %s: too many EAL arguments\n", conf->path);
		return argc;
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
		return -rte_errno;
	}
	return 0;
}

static int bad_config(const char *why);

/* The part of initialisation after the config is read: EAL (unless the
 * caller started it), ports, ARP. 0, or -errno with the reason on stderr. */
static int init_library(struct aatcp_global *g, bool eal)
{
	char err[512];
	int rc;

	apply_pre_init(&g->conf);
	if (config_resolve_kernel_ports(&g->conf, err, sizeof(err)))
		return bad_config(err);
	if (g->conf.num_cores > MAX_CORES) {
		fprintf(stderr, "aatcp: %s: num_cores: at most %d\n", g->conf.path, MAX_CORES);
		return -EINVAL;
	}
	aatcp_log_level = g->conf.log_level;
	g->n_cores = g->conf.num_cores;
	g->start_us = clock_now_us();
	if (eal && (rc = start_eal(&g->conf)))
		return rc;
	if ((rc = port_setup_all(g, err, sizeof(err)))) {
		fprintf(stderr, "aatcp: %s\n", err);
		return rc;
	}
	if ((rc = steer_global_init(g))) {
		fprintf(stderr, "aatcp: cannot create the rings between cores\n");
		return rc;
	}
	for (int i = 0; i < g->n_ports; i++)
		g->any_stat_print |= g->ports[i].conf->stat_print;
	if ((rc = arp_init(g))) {
		fprintf(stderr, "aatcp: %s: too many static ARP entries\n", g->conf.path);
		return rc;
	}
	g->initialised = true;
	return 0;
}

/* What both initialisations start with: once only, then a clean global
 * holding the defaults, for the configuration to be read over. */
static int begin_init(struct aatcp_global *g)
{
	if (g->initialised)
		return -EBUSY;
	memset(g, 0, sizeof(*g));
	config_defaults(&g->conf);
	return 0;
}

/* A configuration that could not be read: why, on stderr, and -EINVAL. */
static int bad_config(const char *why)
{
	fprintf(stderr, "aatcp: %s\n", why);
	return -EINVAL;
}

/* The directory of path ("." for a bare name): where mTCP's config/arp.conf
 * and config/route.conf are looked for. */
static const char *config_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return ".";
	snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return slash == path ? "/" : dir;
}

static int init_from_file(struct aatcp_global *g, const char *config_file)
{
	char err[512], dir[256];
	int rc = begin_init(g);

	if (rc)
		return rc;
	if (!config_file)
		return bad_config("no configuration file");
	if (config_load(&g->conf, config_file, err, sizeof(err)) ||
	    config_load_mtcp_tables(&g->conf, config_dir(config_file, dir, sizeof(dir)),
				    err, sizeof(err)))
		return bad_config(err);
	return init_library(g, true);
}

int mtcp_init(const char *config_file)
{
	return api_result(init_from_file(&aatcp_g, config_file));
}

static int init_from_text(struct aatcp_global *g, const char *config_text)
{
	char err[512];
	int rc = begin_init(g);

	if (rc)
		return rc;
	if (config_parse_text(&g->conf, "<text>", config_text, err, sizeof(err)))
		return bad_config(err);
	return init_library(g, false);
}

int aatcp_init_with_ports(const char *config_text)
{
	return api_result(init_from_text(&aatcp_g, config_text));
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 64;

	while (p < n)
		p <<= 1;
	return p;
}

/* TCBs [0, tcbs) and socket ids [0, socks) free in their first order
 * (handed out from 0), ahead of the ones after them, which were never
 * handed out and are still listed in order; the first ephemeral port, the
 * steering and fault state: what a new core starts with. */
static int init_state(struct core *c, uint32_t tcbs, int socks)
{
	uint32_t n_tcbs = c->n_tcbs;
	int n_socks = c->n_socks;

	for (uint32_t i = 0; i < tcbs; i++) {
		c->tcbs[i].id = i;
		c->tcbs[i].in_pool = true;
		c->tcbs[i].pool_next = i + 1 < n_tcbs ? &c->tcbs[i + 1] : NULL;
	}
	c->tcb_free = &c->tcbs[0];
	for (int i = socks - 1; i >= 0; i--) {
		c->socks[i].id = i;
		c->socks[i].free_next = i + 1 < n_socks ? i + 1 : -1;
	}
	c->sock_free = 0;
	c->sock_free_tail = n_socks - 1;
	c->next_ephemeral = (uint16_t)secret_random32(); /* RFC 6056 3.3.3 */
	int rc = steer_init(c);

	return rc ? rc : io_faults_init(c);
}

/* The core's tables, pools and rings: 0, or -ENOMEM. */
static int alloc_core(struct core *c)
{
	const struct aatcp_config *conf = &c->g->conf;
	uint32_t n_tcbs = (uint32_t)conf->max_concurrency;
	/* as mTCP: listeners and epolls take ids of the same max_concurrency */
	uint32_t n_socks = (uint32_t)conf->max_concurrency;

	c->pool = c->g->pools[c->id];
	c->tcbs = calloc(n_tcbs, sizeof(struct tcb));
	c->socks = calloc(n_socks, sizeof(struct socket));
	c->links = calloc(n_socks, sizeof(struct sock_link));
	c->flows = flow_create(n_tcbs);
	c->timers = timer_create_wheel(clock_now_us());
	if (!c->tcbs || !c->socks || !c->links || !c->flows || !c->timers ||
	    bufcache_init(c, n_tcbs))
		return -ENOMEM;
#if AATCP_WITH_ZC
	/* a node per mbuf this core can hold (its own pool's and those other
	 * cores steer here, io/steer.h), plus each zero-copy socket's empty
	 * tail node */
	uint32_t mbufs = 0;
	for (int i = 0; i < c->g->n_cores; i++)
		mbufs += c->g->pools[i] ? c->g->pools[i]->size : 0;
	c->zc_pool = zc_pool_create(mbufs + n_tcbs);
	if (!c->zc_pool)
		return -ENOMEM;
#endif
#if AATCP_WITH_FWD
	/* one outbound node per mbuf at most: appends cannot run dry */
	c->out_pool = out_pool_create(mbufs);
	if (!c->out_pool)
		return -ENOMEM;
#endif
	if (spsc_init(&c->cmdq, 4096, sizeof(struct cmd)) ||
	    spsc_init(&c->evq, pow2_at_least(n_tcbs * 2 + 64), sizeof(struct event)) ||
	    spsc_init(&c->released, pow2_at_least(n_socks), sizeof(int)))
		return -ENOMEM;
	c->n_tcbs = n_tcbs;
	c->n_socks = (int)n_socks;
	return init_state(c, n_tcbs, (int)n_socks);
}

/* Epoll instances the application did not close before destroying the
 * context (mTCP's examples never do): their memory goes with the core. */
static void free_epolls(struct core *c)
{
	/* only ids handed out at some time can hold one */
	for (int i = 0; c->socks && i < c->socks_hw; i++) {
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
	rss_free(c);
	steer_fini(c);
	io_faults_destroy(c);
	spsc_free(&c->cmdq);
	spsc_free(&c->evq);
	spsc_free(&c->released);
#if AATCP_WITH_ZC
	zc_pool_destroy(c->zc_pool);
#endif
#if AATCP_WITH_FWD
	out_pool_destroy(c->out_pool);
#endif
	timer_destroy_wheel(c->timers);
	flow_destroy(c->flows);
	bufcache_fini(c);
	free_epolls(c);
	for (int i = 0; i < c->n_socks; i++)
		free(c->socks[i].aa_params); /* module params copied at registration */
	free(c->socks);
	free(c->links);
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

/* The CPU of network thread `id`: the id-th CPU of core_mask, else id. */
static int core_cpu(const struct aatcp_config *conf, int id)
{
	int seen = 0;

	for (int cpu = 0; conf->core_mask && cpu < 64; cpu++)
		if ((conf->core_mask >> cpu & 1) && seen++ == id)
			return cpu;
	return id;
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
	c->cpu = core_cpu(&g->conf, id);
	c->g = g;
	c->now_us = clock_now_us();
	int rc = alloc_core(c);

	if (rc) {
		free_core(c);
		errno = -rc;
		return NULL;
	}
	if (start_thread) {
		pthread_attr_init(&attr);
		CPU_ZERO(&set);
		CPU_SET(c->cpu % CPU_SETSIZE, &set);
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
	__atomic_store_n(&g->cores[id], c, __ATOMIC_RELEASE); /* io/steer.c reads it */
	g->contexts_created = true;
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
	/* TCBs no longer in the flow table (closed, not yet released); only
	 * those handed out at some time can be */
	for (uint32_t i = 0; i < c->tcbs_hw; i++) {
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
	io_tx_discard(c);
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
	__atomic_store_n(&aatcp_g.cores[c->id], NULL, __ATOMIC_RELEASE); /* io/steer.c reads it */
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

/* Everything teardown() gives back is back: every TCB in the pool (none on
 * a work list), no flow, no orphan, no timer, every zero-copy and outbound
 * node free; the wheel and pools are then restarted. */
static bool all_returned(struct core *c)
{
	for (uint32_t i = 0; i < c->tcbs_hw; i++)
		if (!c->tcbs[i].in_pool)
			return false;
	if (c->tcbs_used || flow_count(c->flows) || atomic_load(&c->orphans) || c->out_list ||
	    c->ev_list || c->arp_wait || timer_reset_wheel(c->timers, c->now_us))
		return false;
#if AATCP_WITH_ZC
	if (zc_pool_reset(c->zc_pool))
		return false;
#endif
#if AATCP_WITH_FWD
	if (out_pool_reset(c->out_pool))
		return false;
#endif
	return true;
}

/* A queue keeps its slots and starts empty again. */
static void keep_queue(struct spsc *q, const struct spsc *old)
{
	q->slots = old->slots;
	q->mask = old->mask;
	q->esize = old->esize;
}

int core_reset(struct core *c)
{
	if (c->has_thread)
		return -EINVAL;
	c->now_us = clock_now_us();
	teardown(c);
	if (!all_returned(c))
		return -EBUSY;
	rss_free(c);
	steer_fini(c);
	free_epolls(c);
	/* only the ids and TCBs handed out since the core was made or reset
	 * changed (init_state) */
	int socks = c->socks_hw;
	uint32_t tcbs = c->tcbs_hw;
	for (int i = 0; i < socks; i++)
		free(c->socks[i].aa_params);
	memset(c->socks, 0, (size_t)socks * sizeof(*c->socks));
	memset(c->links, 0, (size_t)socks * sizeof(*c->links));
	/* Every other field as core_create leaves it: zero, except the
	 * identity, the tables (emptied above) and the queues' slots. A field
	 * that holds an allocation is kept here. */
	struct core_tables {
		int id, cpu, n_socks;
		struct aatcp_global *g;
		struct rte_mempool *pool;
		struct zc_pool *zc_pool;
		struct out_pool *out_pool;
		struct flow_table *flows;
		struct timer_wheel *timers;
		struct tcb *tcbs;
		uint32_t n_tcbs;
		struct bufcache *bufcache;
		struct socket *socks;
		struct sock_link *links;
		pthread_t app_thread;
		uint64_t now_us;
		struct spsc cmdq, evq, released;
	} k = {c->id, c->cpu, c->n_socks, c->g, c->pool, c->zc_pool, c->out_pool, c->flows,
	       c->timers, c->tcbs, c->n_tcbs, c->bufcache, c->socks, c->links,
	       c->app_thread, c->now_us,
	       .cmdq.slots = NULL};
	keep_queue(&k.cmdq, &c->cmdq);
	keep_queue(&k.evq, &c->evq);
	keep_queue(&k.released, &c->released);
	memset(c, 0, sizeof(*c));
	c->id = k.id;
	c->cpu = k.cpu;
	c->n_socks = k.n_socks;
	c->g = k.g;
	c->pool = k.pool;
	c->zc_pool = k.zc_pool;
	c->out_pool = k.out_pool;
	c->flows = k.flows;
	c->timers = k.timers;
	c->tcbs = k.tcbs;
	c->bufcache = k.bufcache; /* emptied objects, kept for the next connections */
	c->n_tcbs = k.n_tcbs;
	c->socks = k.socks;
	c->links = k.links;
	c->app_thread = k.app_thread;
	c->now_us = k.now_us;
	keep_queue(&c->cmdq, &k.cmdq);
	keep_queue(&c->evq, &k.evq);
	keep_queue(&c->released, &k.released);
	atomic_store(&c->running, true);
	return init_state(c, tcbs, socks);
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

/* The one mTCP call aatcp does not offer (README, "Differences from
 * mTCP"): mTCP's pipes are in-process byte channels between application
 * threads of one context, readable through mtcp_epoll; none of mTCP's
 * example applications uses them. */
int mtcp_pipe(mctx_t mctx, int pipeid[2])
{
	(void)mctx;
	(void)pipeid;
	errno = ENOSYS;
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
	/* every network thread has stopped: nobody enqueues any more */
	steer_global_fini(g);
	port_reclaim_tx(g);
	port_halt_all(g);
	if (g->conf.stats_file[0] && stats_write(g->conf.stats_file))
		LOG_WARN("cannot write stats file %s", g->conf.stats_file);
	port_stop_all(g);
	for (int i = 0; i < g->n_cores; i++) {
		if (!g->pools[i])
			continue;
		unsigned int in_use = g->pools[i]->size - rte_mempool_avail_count(g->pools[i]);
		if (in_use)
			LOG_WARN("core %d: %u packet buffers not returned to the pool (the "
				 "ports held %lu of all cores' after they started)", i, in_use,
				 g->mbufs_port_held);
	}
	for (int i = 0; i < MAX_CORES; i++) {
		free(g->finished[i]);
		g->finished[i] = NULL;
	}
	arp_fini();
	intr_thread_park(1000 * 1000);
	rte_eal_cleanup();
	g->initialised = false;
}
