/*
 * secret.h - the per-boot secret behind every value an off-path attacker
 * must not predict: ISNs (RFC 6528 section 3), ephemeral ports (RFC 6056
 * 3.3.3) and SYN cookies (RFC 4987 3.6). One 128-bit SipHash key per
 * process, drawn from getrandom() on first use; tests fix it.
 */
#ifndef AATCP_SECRET_H
#define AATCP_SECRET_H

#include <stdint.h>

/* What a hash is for: the same 4-tuple hashes differently per use. */
enum secret_use { SECRET_ISN = 1, SECRET_PORT, SECRET_COOKIE, SECRET_CHALLENGE };

/* SipHash-2-4 under the secret key of (use, addresses and ports as they
 * are on the wire, extra). rport 0 and extra 0 where a use has none. */
uint64_t secret_hash(enum secret_use use, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport, uint64_t extra);
/* Replaces the key (tests: a deterministic stack). */
void secret_set_key(uint64_t k0, uint64_t k1);
/* 32 random bits from the kernel (a starting point for counters). */
uint32_t secret_random32(void);

#endif /* AATCP_SECRET_H */
