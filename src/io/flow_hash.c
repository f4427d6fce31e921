/* flow_hash.c - see flow_hash.h. */
#include "io/flow_hash.h"

uint32_t flow_hash(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* Symmetric in (local, remote) so both directions of a flow agree on
	 * the owning core; then a 64-bit mix (splitmix finaliser). */
	uint64_t a = (uint64_t)(laddr ^ raddr) << 32 | (uint32_t)(lport ^ rport);
	uint64_t b = (uint64_t)(laddr + raddr) << 16 ^ (uint32_t)(lport + rport);
	uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ b;

	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return (uint32_t)x;
}
