/* secret.c - see secret.h. */
#include "tcp/secret.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tcp/siphash.h"

static uint64_t key[2];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < len) {
		/* no kernel entropy (getrandom failed): the clock is weak, but
		 * still a per-boot value (RFC 6528 section 3 asks for one) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		for (size_t i = got; i < len; i++)
			p[i] = (uint8_t)(x >> (8 * (i % 8)) ^ (i * 131));
	}
}

static void key_init(void)
{
	fill_random(key, sizeof(key));
}

void secret_set_key(uint64_t k0, uint64_t k1)
{
	pthread_once(&key_once, key_init);
	key[0] = k0;
	key[1] = k1;
}

uint64_t secret_hash(enum secret_use use, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport, uint64_t extra)
{
	uint8_t m[21];

	pthread_once(&key_once, key_init);
	m[0] = (uint8_t)use;
	memcpy(m + 1, &laddr, 4);
	memcpy(m + 5, &raddr, 4);
	memcpy(m + 9, &lport, 2);
	memcpy(m + 11, &rport, 2);
	memcpy(m + 13, &extra, 8);
	return siphash24(key[0], key[1], m, sizeof(m));
}

uint32_t secret_random32(void)
{
	uint32_t r;

	fill_random(&r, sizeof(r));
	return r;
}
