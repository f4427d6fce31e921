/*
 * options.h - TCP options: MSS (RFC 9293 3.7.1), window scale and
 * timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018).
 */
#ifndef AATCP_OPTIONS_H
#define AATCP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define TCPOPT_MAX_LEN 40
#define MAX_SACK_BLOCKS 3 /* with timestamps, 3 blocks fit in 40 bytes */

struct tcp_opts {
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	int n_sack;                       /* SACK blocks received (RFC 2018) */
	uint32_t sack_left[4], sack_right[4];
};

/* Parses the options area; malformed options (a length that runs past the
 * header, a zero length) make it return -1 and the segment is dropped. */
int opts_parse(const uint8_t *p, int len, bool syn, struct tcp_opts *o);

struct opts_out {
	bool mss, ws, sack_perm, ts;
	uint16_t mss_val;
	uint8_t ws_val;
	uint32_t tsval, tsecr;
	int n_sack;
	uint32_t sack_left[MAX_SACK_BLOCKS], sack_right[MAX_SACK_BLOCKS];
};

/* Length of the options opts_write() will produce (a multiple of 4). */
int opts_len(const struct opts_out *o);
/* Writes them to p; returns the length. */
int opts_write(uint8_t *p, const struct opts_out *o);

#endif /* AATCP_OPTIONS_H */
