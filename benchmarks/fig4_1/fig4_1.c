/*
 * fig4_1: should a stack parse application data in its network thread or
 * leave it to the application thread? (thesis section 4.1.1, figure 4.1)
 *
 * A model of a user-space stack with no network at all: two threads pinned to
 * the SAME core, as mTCP runs its network thread and its application thread.
 *
 *   network thread      "receives" bursts of fake packets into a bounded
 *                       buffer (blocking while the buffer is full), then
 *                       signals the application thread with a pthread
 *                       condition variable;
 *   application thread  waits for packets, takes them out of the buffer and
 *                       frees their slots (signalling the network thread).
 *
 * A dummy parsing loop of `--loop` iterations per packet runs either in the
 * network thread, right after the packet is received (`--placement network`),
 * or in the application thread, after it dequeues the packet
 * (`--placement application`). The total CPU work is the same in both cases;
 * what differs is *when* it runs: while the packet is still hot in the cache
 * and before the hand-off, or later, after a context switch, when the buffer
 * has been filled with other packets. The program runs for `--duration`
 * seconds and prints one JSON object with the packets per second the
 * application thread consumed.
 *
 * Usage: fig4_1 --placement network|application [--loop N] [--duration S]
 *               [--burst N] [--capacity N] [--size BYTES] [--cpu N]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* A slot holds one packet; 2 KiB like a DPDK mbuf's default data room. */
#define SLOT_BYTES 2048u

enum placement { PARSE_IN_NETWORK, PARSE_IN_APPLICATION };

struct slot {
	uint32_t len;
	uint32_t seq;
	uint64_t parsed; /* result of the parse, when the network thread did it */
	unsigned char data[SLOT_BYTES];
};

struct options {
	enum placement placement;
	long loop;        /* parsing loop iterations per packet */
	double duration;  /* seconds of measurement */
	unsigned burst;   /* packets per receive burst (DPDK's usual 32) */
	unsigned capacity; /* slots in the buffer */
	unsigned size;    /* packet length in bytes */
	int cpu;          /* core both threads are pinned to; -1: first allowed */
};

/*
 * The buffer between the two threads. head/tail/count are only touched with
 * `lock` held. Slot *contents* are written by the network thread outside the
 * lock, but only in free slots, and read by the application thread only in
 * slots it was handed through `count`; the mutex hand-off orders the accesses.
 */
struct ring {
	pthread_mutex_t lock;
	pthread_cond_t not_empty; /* network -> application: packets are waiting */
	pthread_cond_t not_full;  /* application -> network: slots were freed */
	struct slot *slots;
	unsigned cap, head, tail, count;
	bool stop;                /* set by main: stop receiving, drain, exit */
	uint64_t consumed;        /* packets the application finished with */
};

struct shared {
	struct options opt;
	struct ring ring;
	unsigned char template[SLOT_BYTES];
	uint64_t app_checksum;     /* keeps the parse results observable */
	long csw_network, csw_application;
};

/*
 * The dummy parser: a serial hash over the packet's bytes. Each iteration
 * depends on the previous one, so the compiler cannot vectorise or drop it,
 * and its cost grows linearly with `loop`; it reads the packet itself, so it
 * pays for cache misses on packets that have gone cold.
 */
static uint64_t parse(const struct slot *s, long loop)
{
	uint64_t h = 1469598103934665603ull;
	uint32_t len = s->len;
	uint32_t i = 0;

	for (long n = 0; n < loop; n++) {
		h = (h ^ s->data[i]) * 1099511628211ull;
		if (++i == len)
			i = 0;
	}
	return h;
}

/* "Reception": the NIC would DMA the frame, the driver fill its metadata. */
static void receive(struct shared *sh, struct slot *s, uint32_t seq)
{
	s->len = sh->opt.size;
	s->seq = seq;
	memcpy(s->data, sh->template, sh->opt.size);
	memcpy(s->data, &seq, sizeof(seq)); /* every packet differs a little */
	s->parsed = 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static long context_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return -1;
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void *network_thread(void *arg)
{
	struct shared *sh = arg;
	struct ring *r = &sh->ring;
	uint32_t seq = 0;

	if (pin(sh->opt.cpu) != 0)
		abort(); /* main pinned itself to the same cpu already: cannot fail */
	for (;;) {
		unsigned tail, room, n;

		pthread_mutex_lock(&r->lock);
		while (r->count == r->cap && !r->stop)
			pthread_cond_wait(&r->not_full, &r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		tail = r->tail;
		room = r->cap - r->count;
		pthread_mutex_unlock(&r->lock);

		/* Receive at most one burst into free slots; parse each packet right
		 * away if parsing belongs to the network thread. */
		n = room < sh->opt.burst ? room : sh->opt.burst;
		for (unsigned i = 0; i < n; i++) {
			struct slot *s = &r->slots[(tail + i) % r->cap];

			receive(sh, s, seq++);
			if (sh->opt.placement == PARSE_IN_NETWORK)
				s->parsed = parse(s, sh->opt.loop);
		}

		pthread_mutex_lock(&r->lock);
		r->tail = (tail + n) % r->cap;
		r->count += n;
		pthread_cond_signal(&r->not_empty);
		pthread_mutex_unlock(&r->lock);
	}
	sh->csw_network = context_switches();
	return NULL;
}

static void *application_thread(void *arg)
{
	struct shared *sh = arg;
	struct ring *r = &sh->ring;
	uint64_t sum = 0;

	if (pin(sh->opt.cpu) != 0)
		abort();
	for (;;) {
		unsigned head, n;

		pthread_mutex_lock(&r->lock);
		while (r->count == 0 && !r->stop)
			pthread_cond_wait(&r->not_empty, &r->lock);
		if (r->count == 0 && r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		head = r->head;
		n = r->count;
		pthread_mutex_unlock(&r->lock);

		/* Like a read() returning everything pending: take all packets,
		 * parse them here if the network thread did not. */
		for (unsigned i = 0; i < n; i++) {
			const struct slot *s = &r->slots[(head + i) % r->cap];

			if (sh->opt.placement == PARSE_IN_APPLICATION)
				sum += parse(s, sh->opt.loop);
			else
				sum += s->parsed;
		}

		pthread_mutex_lock(&r->lock);
		r->head = (head + n) % r->cap;
		r->count -= n;
		r->consumed += n;
		pthread_cond_signal(&r->not_full);
		pthread_mutex_unlock(&r->lock);
	}
	sh->app_checksum = sum;
	sh->csw_application = context_switches();
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int first_allowed_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fig4_1 --placement network|application [--loop N] [--duration S]\n"
		   "              [--burst N] [--capacity N] [--size BYTES] [--cpu N]\n");
}

static int parse_long(const char *name, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		fprintf(stderr, "fig4_1: --%s: '%s' is not an integer in %ld..%ld\n", name, s, lo,
			hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"placement", required_argument, NULL, 'p'},
		{"loop", required_argument, NULL, 'l'},
		{"duration", required_argument, NULL, 'd'},
		{"burst", required_argument, NULL, 'b'},
		{"capacity", required_argument, NULL, 'c'},
		{"size", required_argument, NULL, 's'},
		{"cpu", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool have_placement = false;
	long v;
	int c;

	*o = (struct options){ .loop = 0, .duration = 1.0, .burst = 32, .capacity = 512,
			       .size = 1500, .cpu = -1 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strcmp(optarg, "network") == 0)
				o->placement = PARSE_IN_NETWORK;
			else if (strcmp(optarg, "application") == 0)
				o->placement = PARSE_IN_APPLICATION;
			else {
				fprintf(stderr, "fig4_1: --placement: '%s' is not network or "
						"application\n", optarg);
				return -1;
			}
			have_placement = true;
			break;
		case 'l':
			if (parse_long("loop", optarg, 0, 1L << 30, &v))
				return -1;
			o->loop = v;
			break;
		case 'd': {
			char *end;

			o->duration = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(o->duration > 0 &&
							      o->duration <= 3600)) {
				fprintf(stderr, "fig4_1: --duration: '%s' is not a number of "
						"seconds in (0, 3600]\n", optarg);
				return -1;
			}
			break;
		}
		case 'b':
			if (parse_long("burst", optarg, 1, 4096, &v))
				return -1;
			o->burst = (unsigned)v;
			break;
		case 'c':
			if (parse_long("capacity", optarg, 1, 1 << 20, &v))
				return -1;
			o->capacity = (unsigned)v;
			break;
		case 's':
			if (parse_long("size", optarg, 64, SLOT_BYTES, &v))
				return -1;
			o->size = (unsigned)v;
			break;
		case 'C':
			if (parse_long("cpu", optarg, -1, CPU_SETSIZE - 1, &v))
				return -1;
			o->cpu = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !have_placement) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct shared sh;
	struct ring *r = &sh.ring;
	pthread_t net, app;
	struct timespec pause;
	double t0, elapsed;
	uint64_t consumed;
	int err;

	if (parse_options(argc, argv, &sh.opt) != 0)
		return 2;
	if (sh.opt.cpu < 0)
		sh.opt.cpu = first_allowed_cpu();
	/* main pins itself too: a refused cpu is reported once, here. */
	err = pin(sh.opt.cpu);
	if (err != 0) {
		fprintf(stderr, "fig4_1: cannot pin to cpu %d: %s\n", sh.opt.cpu, strerror(err));
		return 1;
	}
	for (unsigned i = 0; i < SLOT_BYTES; i++)
		sh.template[i] = (unsigned char)(i * 131u + 7u);
	r->cap = sh.opt.capacity;
	r->slots = calloc(r->cap, sizeof(*r->slots));
	if (r->slots == NULL) {
		fprintf(stderr, "fig4_1: out of memory for %u slots\n", r->cap);
		return 1;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->not_empty, NULL);
	pthread_cond_init(&r->not_full, NULL);

	t0 = now();
	if (pthread_create(&app, NULL, application_thread, &sh) != 0 ||
	    pthread_create(&net, NULL, network_thread, &sh) != 0) {
		fprintf(stderr, "fig4_1: cannot create threads\n");
		return 1;
	}
	/* main sleeps through the measurement: it wakes once, at the end. */
	pause.tv_sec = (time_t)sh.opt.duration;
	pause.tv_nsec = (long)((sh.opt.duration - (double)pause.tv_sec) * 1e9);
	while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&r->lock);
	/* Count what was consumed by now: packets still in the buffer are drained
	 * after the clock stops and do not count. */
	consumed = r->consumed;
	elapsed = now() - t0;
	r->stop = true;
	pthread_cond_broadcast(&r->not_full);
	pthread_cond_broadcast(&r->not_empty);
	pthread_mutex_unlock(&r->lock);
	pthread_join(net, NULL);
	pthread_join(app, NULL);

	printf("{\"program\": \"fig4_1\", \"placement\": \"%s\", \"loop\": %ld, "
	       "\"burst\": %u, \"capacity\": %u, \"size\": %u, \"cpu\": %d, "
	       "\"duration_s\": %.6f, \"packets\": %llu, \"pps\": %.1f, "
	       "\"csw_network\": %ld, \"csw_application\": %ld, \"checksum\": %llu}\n",
	       sh.opt.placement == PARSE_IN_NETWORK ? "network" : "application", sh.opt.loop,
	       sh.opt.burst, sh.opt.capacity, sh.opt.size, sh.opt.cpu, elapsed,
	       (unsigned long long)consumed, (double)consumed / elapsed, sh.csw_network,
	       sh.csw_application, (unsigned long long)sh.app_checksum);
	free(r->slots);
	return 0;
}
