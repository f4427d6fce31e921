/* app_mtcp.c - see app_mtcp.h. */
#include "app_mtcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app_common.h"
#include "mtcp_epoll.h"

void app_stack_start(const char *prog, const char *conf, int max_events,
		     struct app_stack *st)
{
	struct mtcp_conf mc;

	if (mtcp_init(conf))
		app_die(prog, "mtcp_init(%s) failed", conf);
	/* the application thread floats: pinning it to the network thread's
	 * core makes the two fight for one CPU */
	st->mctx = mtcp_create_context(0);
	if (!st->mctx)
		app_die(prog, "mtcp_create_context: %s", strerror(errno));
	st->ep = mtcp_epoll_create(st->mctx, max_events);
	mtcp_getconf(&mc);
	st->max_socks = mc.max_concurrency; /* every id is below it, as in mTCP */
	app_cpu_mark(); /* the program's work starts now */
}

int app_stack_socket(const char *prog, mctx_t m, int optname, int size)
{
	int s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		app_die(prog, "socket: %s", strerror(errno));
	mtcp_setsock_nonblock(m, s);
	if (size && mtcp_setsockopt(m, s, SOL_SOCKET, optname, &size, sizeof(size)))
		app_die(prog, "%s %d: %s", optname == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF",
			size, strerror(errno));
	return s;
}

void app_stack_listen(const char *prog, mctx_t m, int ep, int s, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = s};

	if (mtcp_bind(m, s, (struct sockaddr *)&a, sizeof(a)) || mtcp_listen(m, s, 4096))
		app_die(prog, "listen on %d: %s", port, strerror(errno));
	fprintf(stderr, "%s: listening on port %d\n", prog, port);
	mtcp_epoll_ctl(m, ep, MTCP_EPOLL_CTL_ADD, s, &ev);
}

void app_stack_connect(const char *prog, mctx_t m, int s,
		       const struct sockaddr_in *dst, const char *name)
{
	/* non-blocking: EINPROGRESS, and epoll says when it is done */
	if (mtcp_connect(m, s, (const struct sockaddr *)dst, sizeof(*dst)) &&
	    errno != EINPROGRESS)
		app_die(prog, "connect %s: %s", name, strerror(errno));
}
