/* syncookie.c - see syncookie.h (RFC 4987 section 3.6). */
#include "tcp/syncookie.h"

#include "core/core.h"
#include "common/seq.h"
#include "tcp/secret.h"
#include "tcp/tcp.h"

#define TICK_SHIFT SYNCOOKIE_TICK_SHIFT /* t advances every 2^26 us, about 67 s */
#define HASH_MASK 0xffffffu
#define TS_OPT_BITS 6      /* low TSval bits: window scale (4), SACK (1) */
#define TS_WS_NONE 0xfu
#define TS_SACK 0x10u

/* Peer MSS values a cookie can say: the largest not above the peer's is
 * used, so we never send bigger segments than it asked for. */
static const uint16_t mss_table[8] = {536, 1200, 1360, 1400, 1440, 1460, 4312, 8960};

static uint32_t tick(const struct core *c)
{
	return (uint32_t)(c->now_us >> TICK_SHIFT);
}

static uint32_t cookie_hash(const struct cookie_tuple *k, uint32_t irs, uint32_t t,
			    uint32_t mss_idx)
{
	uint64_t h = secret_hash(SECRET_COOKIE, k->laddr, k->lport, k->raddr, k->rport,
				 (uint64_t)irs << 32 | t << 3 | mss_idx);

	return (uint32_t)(h ^ (h >> 32)) & HASH_MASK;
}

static uint32_t mss_index(const struct tcp_opts *syn)
{
	/* RFC 9293 3.7.1: no option means 536 */
	uint16_t mss = syn->mss_ok ? syn->mss : 536;
	uint32_t i = 7;

	while (i > 0 && mss_table[i] > mss)
		i--;
	return i;
}

static uint32_t encode(const struct cookie_tuple *k, uint32_t irs, uint32_t t, uint32_t mss_idx)
{
	return (t & 31u) << 27 | mss_idx << 24 | cookie_hash(k, irs, t, mss_idx);
}

uint32_t syncookie_make(const struct core *c, const struct cookie_tuple *k, uint32_t irs,
			const struct tcp_opts *syn)
{
	return encode(k, irs, tick(c), mss_index(syn));
}

uint32_t syncookie_tsval(const struct core *c, const struct tcp_opts *syn)
{
	uint32_t now = tcp_ts_now(c);
	uint32_t bits = syn->ws_ok ? (syn->ws > 14 ? 14u : syn->ws) : TS_WS_NONE;
	uint32_t v;

	if (syn->sack_ok)
		bits |= TS_SACK;
	v = (now & ~((1u << TS_OPT_BITS) - 1)) | bits;
	return seq_gt(v, now) ? v - (1u << TS_OPT_BITS) : v;
}

/* The options a timestamped ACK brings back in TSecr; the echo must be a
 * value of our clock from the cookie's lifetime, not from the future. */
static bool decode_ts(const struct core *c, const struct tcp_opts *ack_opts,
		      struct tcp_opts *syn)
{
	uint32_t now = tcp_ts_now(c);
	uint32_t ecr = ack_opts->tsecr;
	uint32_t life_ms = (uint32_t)(SYNCOOKIE_LIFE_US / 1000u);
	uint32_t ws = ecr & 0xfu;

	if (seq_gt(ecr, now) || now - ecr > life_ms)
		return false;
	syn->ts_ok = true;
	syn->tsval = ack_opts->tsval;
	syn->ws_ok = ws != TS_WS_NONE;
	syn->ws = syn->ws_ok ? (uint8_t)ws : 0;
	syn->sack_ok = ecr & TS_SACK;
	return syn->ws <= 14;
}

bool syncookie_check(const struct core *c, const struct cookie_tuple *k, uint32_t seq,
		     uint32_t ack, const struct tcp_opts *ack_opts, struct tcp_opts *syn)
{
	uint32_t cookie = ack - 1, irs = seq - 1;
	uint32_t now = tick(c);
	uint32_t mss_idx = (cookie >> 24) & 7u;

	*syn = (struct tcp_opts){0};
	for (uint32_t age = 0; age < 2; age++) {
		uint32_t t = now - age;
		if (encode(k, irs, t, mss_idx) != cookie)
			continue;
		syn->mss_ok = true;
		syn->mss = mss_table[mss_idx];
		return !ack_opts->ts_ok || decode_ts(c, ack_opts, syn);
	}
	return false;
}
