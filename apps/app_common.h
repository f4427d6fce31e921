/* app_common.h - small helpers shared by the example applications. */
#ifndef AATCP_APP_COMMON_H
#define AATCP_APP_COMMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* "10.0.1.1:8080" -> sockaddr; false on a malformed address. */
bool app_parse_addr(const char *s, struct sockaddr_in *out);
double app_now(void);
/* Exit with a message naming the program. */
void app_die(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Deterministic pseudo-random bytes (xorshift64*), for sources. */
void app_fill(uint64_t *state, char *buf, size_t len);

#endif
