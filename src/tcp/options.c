/* options.c - see options.h. */
#include "tcp/options.h"

#include <rte_byteorder.h>
#include <string.h>

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACK_PERM = 4,
       OPT_SACK = 5, OPT_TS = 8 };

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int opts_parse(const uint8_t *p, int len, bool syn, struct tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (len > 0) {
		uint8_t kind = p[0];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			p++;
			len--;
			continue;
		}
		if (len < 2 || p[1] < 2 || p[1] > len)
			return -1;
		uint8_t olen = p[1];
		switch (kind) {
		case OPT_MSS:
			/* RFC 9293 3.7.1: only in SYN segments */
			if (olen == 4 && syn) {
				o->mss_ok = true;
				o->mss = get16(p + 2);
			}
			break;
		case OPT_WS:
			if (olen == 3 && syn) {
				o->ws_ok = true;
				/* RFC 7323 2.3: shift counts above 14 mean 14 */
				o->ws = p[2] > 14 ? 14 : p[2];
			}
			break;
		case OPT_SACK_PERM:
			if (olen == 2 && syn)
				o->sack_ok = true;
			break;
		case OPT_TS:
			if (olen == 10) {
				o->ts_ok = true;
				o->tsval = get32(p + 2);
				o->tsecr = get32(p + 6);
			}
			break;
		case OPT_SACK:
			/* RFC 2018 3: kind, length 2 + 8n, n blocks; we keep 4 */
			if ((olen - 2) % 8 == 0)
				for (int i = 0; i < (olen - 2) / 8 && o->n_sack < 4; i++) {
					o->sack_left[o->n_sack] = get32(p + 2 + 8 * i);
					o->sack_right[o->n_sack] = get32(p + 6 + 8 * i);
					o->n_sack++;
				}
			break;
		default:
			break; /* unknown options: skipped */
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

int opts_len(const struct opts_out *o)
{
	int n = 0;

	if (o->mss)
		n += 4;
	if (o->ts)
		n += 12;  /* NOP NOP TS, or SACK-PERM TS on a SYN */
	else if (o->sack_perm)
		n += 4;   /* NOP NOP SACK-PERM */
	if (o->ws)
		n += 4;   /* NOP WS */
	if (o->n_sack)
		n += 4 + 8 * o->n_sack; /* NOP NOP SACK(2 + 8n) */
	return n;
}

int opts_write(uint8_t *p, const struct opts_out *o)
{
	uint8_t *s = p;

	if (o->mss) {
		*p++ = OPT_MSS;
		*p++ = 4;
		*p++ = (uint8_t)(o->mss_val >> 8);
		*p++ = (uint8_t)o->mss_val;
	}
	if (o->ts) {
		if (o->sack_perm) {
			*p++ = OPT_SACK_PERM;
			*p++ = 2;
		} else {
			*p++ = OPT_NOP;
			*p++ = OPT_NOP;
		}
		*p++ = OPT_TS;
		*p++ = 10;
		put32(p, o->tsval);
		put32(p + 4, o->tsecr);
		p += 8;
	} else if (o->sack_perm) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK_PERM;
		*p++ = 2;
	}
	if (o->ws) {
		*p++ = OPT_NOP;
		*p++ = OPT_WS;
		*p++ = 3;
		*p++ = o->ws_val;
	}
	if (o->n_sack) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK;
		*p++ = (uint8_t)(2 + 8 * o->n_sack);
		for (int i = 0; i < o->n_sack; i++) {
			put32(p, o->sack_left[i]);
			put32(p + 4, o->sack_right[i]);
			p += 8;
		}
	}
	return (int)(p - s);
}
