/*
 * clock.h - the network thread's notion of time. Read once per loop
 * iteration (core->now_us) so that every timer decision in one iteration
 * sees the same instant; TCP timestamps (RFC 7323) tick in milliseconds.
 */
#ifndef AATCP_CLOCK_H
#define AATCP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif /* AATCP_CLOCK_H */
