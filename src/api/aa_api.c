/*
 * aa_api.c - the application-aware record API (thesis 4.2.2, mtcp_aa.h):
 * registering a module on a socket, reading and freeing records. The
 * records are parsed by the network thread (src/aa/, src/tcp/rcv.c); the
 * application thread only reads them and moves the stream's head.
 */
#include <stdlib.h>
#include <string.h>

#include "aa/aa_module.h"
#include "aa/aa_stream.h"
#include "api/internal.h"
#include "mtcp_aa.h"
#include "tcp/tcp.h"

/* What the aa layer returns (0 or -errno), the mtcp way: 0, or -1 with
 * errno set. */
int mtcp_zc_register_aa_module(mctx_t mctx, int sockid, const struct aa_module *mod,
			       const void *params)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;
	void *copy = NULL;

	if (!s)
		return -1;
	if (!mod || mod->abi != AA_MODULE_ABI ||
	    (s->type != MTCP_SOCK_STREAM && s->type != MTCP_SOCK_LISTENER)) {
		errno = EINVAL;
		return -1;
	}
	if (atomic_load(&s->link->tcb) || s->connecting || s->aa_mod) {
		errno = EINVAL; /* the parser must see the stream from its start */
		return -1;
	}
	/* Check the params now (mtcp_aa.h promises EINVAL here): before, they
	 * were only checked when each connection attached the module, so a
	 * listener with bad params dropped every SYN (its clients retried
	 * forever) and a connect failed later with ENOMEM. */
	if (api_result(aa_module_check(mod, params)))
		return -1;
	if (params && mod->params_size) {
		copy = malloc(mod->params_size);
		if (!copy) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(copy, params, mod->params_size);
	}
	s->zc = true;
	s->aa_mod = mod;
	s->aa_params = copy; /* freed when the socket id is reused */
	if (s->type == MTCP_SOCK_LISTENER) {
		/* read by the network thread on each SYN: params first */
		s->lst->aa_params = copy;
		s->lst->zc = true;
		atomic_store_explicit(&s->lst->aa_mod_pub, mod, memory_order_release);
	}
	return 0;
}

/* The application-aware stream of a socket, or NULL with errno; its core,
 * socket and tcb in *cp, *sp, *tp. */
static struct aa_stream *aa_of(mctx_t mctx, int sockid, struct core **cp,
			       struct socket **sp, struct tcb **tp)
{
	struct core *c = api_core(mctx);
	struct tcb *t = c ? api_tcb(c, sockid, sp) : NULL;

	*cp = c;
	if (!t)
		return NULL;
	if (!t->aa) {
		errno = EINVAL;
		return NULL;
	}
	*tp = t;
	return t->aa;
}

int mtcp_zc_read_aa_records(mctx_t mctx, int sockid, void *records, int n)
{
	struct core *c;
	struct socket *s = NULL;
	struct tcb *t = NULL;
	struct aa_stream *as = aa_of(mctx, sockid, &c, &s, &t);

	if (!as)
		return -1;
	if (!records || n <= 0) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		int r = aa_stream_read(as, records, n);
		if (r >= 0)
			return r;
		if (r != -EAGAIN || s->nonblock) {
			errno = -r;
			return -1;
		}
		if (tcb_state(t) == TCPS_CLOSED && atomic_load(&t->error)) {
			errno = atomic_load(&t->error);
			return -1;
		}
		app_drain_events(c);
		if (!aa_stream_readable(as))
			app_wait(c, 100);
	}
}

int mtcp_zc_free_aa_records(mctx_t mctx, int sockid, int n)
{
	struct core *c;
	struct socket *s = NULL;
	struct tcb *t = NULL;
	struct aa_stream *as = aa_of(mctx, sockid, &c, &s, &t);

	if (!as || api_result(aa_stream_free(as, n)))
		return -1;
	api_reclaim(c, s, t);
	return 0;
}

int mtcp_zc_aa_http_expect_head(mctx_t mctx, int sockid, int n)
{
	struct core *c;
	struct socket *s = NULL;
	struct tcb *t = NULL;
	struct aa_stream *as = aa_of(mctx, sockid, &c, &s, &t);

	return as ? api_result(aa_http_expect_head(as, n)) : -1;
}
