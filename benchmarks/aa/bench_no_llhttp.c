/*
 * bench_no_llhttp.c - stands in for bench_llhttp.c when the build found no
 * llhttp sources (Debian's node-llhttp, installed by `./inv setup`).
 */
#include "bench_peers.h"

int peer_llhttp(const struct peer_chunks *ch, bool response,
		struct peer_count *c, double *cpu_ns)
{
	(void)ch, (void)response, (void)c;
	*cpu_ns = 0;
	return -1;
}

bool peer_llhttp_available(void) { return false; }
