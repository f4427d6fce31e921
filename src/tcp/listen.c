/*
 * listen.c - the network thread's listener table and the hand-off of
 * established connections to the application's accept queue.
 */
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

struct listener *listener_lookup(struct core *c, uint32_t ip, uint16_t port)
{
	struct listener *any = NULL;

	for (struct listener *l = c->listeners; l; l = l->next) {
		if (l->port != port)
			continue;
		if (l->ip == ip)
			return l;
		if (l->ip == 0)
			any = l;
	}
	return any;
}

void listener_add(struct core *c, struct listener *l)
{
	l->next = c->listeners;
	c->listeners = l;
}

void listener_remove(struct core *c, struct listener *l)
{
	for (struct listener **pp = &c->listeners; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			return;
		}
}

int listener_buffers(struct core *c, struct tcb *t)
{
	int rc = tcb_buffers(c, t);

	if (rc)
		return rc;
#if AATCP_WITH_AA /* hook */
	struct listener *l = t->listener;
	const struct aa_module *mod = atomic_load_explicit(&l->aa_mod_pub, memory_order_acquire);

	if (mod && !t->aa && (rc = rcv_attach_aa(c, t, mod, l->aa_params)))
		return rc;
#endif
	sndbuf_set_seq(t->sb, t->iss + 1); /* first data byte follows the SYN */
	return 0;
}

static bool push_listener_event(struct core *c, struct listener *l)
{
	struct event e = {.sockid = l->sockid, .gen = l->gen, .bits = TEV_IN};

	return spsc_push(&c->evq, &e);
}

void listener_established(struct core *c, struct tcb *t)
{
	struct listener *l = t->listener;

	atomic_fetch_sub(&l->syn_count, 1);
	if (l->closing || !spsc_push(&l->accepts, &t)) {
		count_drop(&c->cnt, DROP_tcp_syn_backlog);
		t->listener = NULL;
		t->app_closed = true;
		tcp_send_rst(c, t);
		tcp_done(c, t, ECONNRESET);
		return;
	}
	atomic_fetch_add(&l->queued, 1);
	/* the accept queue is the application's now; if the event ring is
	 * full, listener_events() retries */
	if (!push_listener_event(c, l)) {
		l->ev_pending = true;
		c->lst_ev_pending = true;
	} else {
		c->ev_pushed_direct = true;
	}
}

void listener_events(struct core *c)
{
	bool pending = false;

	for (struct listener *l = c->listeners; l; l = l->next) {
		if (!l->ev_pending)
			continue;
		if (push_listener_event(c, l)) {
			l->ev_pending = false;
			c->ev_pushed_direct = true;
		} else
			pending = true;
	}
	c->lst_ev_pending = pending;
}
