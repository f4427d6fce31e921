/* sha256.h - SHA-256 (FIPS 180-4), so the apps can print the hash of every
 * byte stream they send or receive and the tests compare both ends. */
#ifndef AATCP_APPS_SHA256_H
#define AATCP_APPS_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Final digest as 64 lowercase hex characters plus NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

#endif
