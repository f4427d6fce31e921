/*
 * bench_no_llhttp.c - stands in for bench_llhttp.c when the build found no
 * llhttp sources (Debian's node-llhttp, installed by `./inv setup`).
 */
#include "bench_peers.h"

int peer_llhttp(const char *buf, size_t len, size_t chunk, bool response,
		struct peer_count *c, double *cpu_ns)
{
	(void)buf, (void)len, (void)chunk, (void)response, (void)c;
	*cpu_ns = 0;
	return -1;
}

bool peer_llhttp_available(void) { return false; }
