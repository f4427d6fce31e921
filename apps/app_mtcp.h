/*
 * app_mtcp.h - start-up and socket set-up shared by the stack applications
 * that serve a number of connections from one context (sink, source).
 * Apart from app_common.h because the Linux-socket apps link app_common
 * without libaatcp. Every function exits through app_die() on failure,
 * naming prog.
 */
#ifndef AATCP_APP_MTCP_H
#define AATCP_APP_MTCP_H

#include <netinet/in.h>

#include "mtcp_api.h"

struct app_stack {
	mctx_t mctx;
	int ep;        /* an epoll for max_events events */
	int max_socks; /* socket ids are below this: size of by-socket tables */
};

/* mtcp_init(conf), one context and its epoll; then app_cpu_mark(): the
 * application thread's CPU in app_report leaves the start-up out. */
void app_stack_start(const char *prog, const char *conf, int max_events,
		     struct app_stack *st);
/* A non-blocking stream socket; size != 0 sets its buffer optname
 * (SO_RCVBUF or SO_SNDBUF). */
int app_stack_socket(const char *prog, mctx_t m, int optname, int size);
/* Socket s listening on port, its accepts reported by epoll ep. */
void app_stack_listen(const char *prog, mctx_t m, int ep, int s, int port);
/* Starts connecting s to dst (named as on the command line). */
void app_stack_connect(const char *prog, mctx_t m, int s,
		       const struct sockaddr_in *dst, const char *name);

#endif
