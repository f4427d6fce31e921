/*
 * cmd.c - commands from the application thread, run by the network thread.
 * Commands are processed in the order they were queued, so a CLOSE always
 * finds the TCB its CONNECT created.
 */
#include <sched.h>
#include <stdlib.h>

#include "core/loop/loop.h"
#include "mtcp_zc.h"
#include "common/log.h"
#include "common/seq.h"
#include "io/port.h"
#include "tcp/flow.h"
#include "tcp/rcvbuf.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#if AATCP_WITH_ZC /* hook: zero-copy receive (thesis ch. 3) */
#include "zc/zc_stream.h"
#endif
#if AATCP_WITH_AA /* hook: record streams (thesis ch. 4) */
#include "aa/aa_stream.h"
#endif
#if AATCP_WITH_FWD /* hook: forwarding and splice (thesis ch. 5) */
#include "fwd/forward.h"
#include "fwd/splice.h"
#endif

void cmd_push(struct core *c, const struct cmd *cmd)
{
	while (!spsc_push(&c->cmdq, cmd))
		sched_yield(); /* the network thread empties it every iteration */
}

static void release_id(struct core *c, int id)
{
	/* sized for every socket: cannot be full */
	spsc_push(&c->released, &id);
}

#if AATCP_WITH_FWD /* hook */
/* Splices asked for before this socket connected (thesis 5.1.2: splice,
 * then connect the backend). */
static int link_pending_splices(struct core *c, const struct cmd_connect *o, struct tcb *t)
{
	int rc = 0;

	if (o->splice_from >= 0) {
		struct tcb *from = atomic_load_explicit(&c->links[o->splice_from].tcb,
							memory_order_acquire);
		rc = from ? splice_link(c, from, t, o->splice_flags & MTCP_SPLICE_READ) : -ENOTCONN;
	}
	if (!rc && o->splice_to >= 0) {
		struct tcb *to = atomic_load_explicit(&c->links[o->splice_to].tcb,
						      memory_order_acquire);
		rc = to ? splice_link(c, t, to, o->splice_flags & MTCP_SPLICE_READ) : -ENOTCONN;
	}
	return rc;
}
#endif

static void do_connect(struct core *c, struct cmd *cmd)
{
	const struct cmd_connect *o = &cmd->conn;
	struct tcb *t = tcb_alloc(c);
	int rc;

	if (!t) {
		/* no TCB left (max_concurrency): the socket never gets one;
		 * connect, SO_ERROR and epoll report ENOMEM */
		struct event e = {.sockid = cmd->sockid, .gen = cmd->gen,
				  .bits = TEV_ERR | TEV_HUP | TEV_IN | TEV_OUT};
		LOG_WARN("core %d: no TCB left for a connect (max_concurrency)", c->id);
		atomic_store_explicit(&c->links[cmd->sockid].conn_error, ENOMEM,
				      memory_order_release);
		if (!spsc_push(&c->evq, &e))
			LOG_WARN("core %d: event ring full: socket %d sees ENOMEM on its next wait",
				 c->id, cmd->sockid);
		c->ev_pushed_direct = true; /* a blocked connect wakes (test_no_tcb) */
		return;
	}
	t->laddr = cmd->laddr;
	t->lport = cmd->lport;
	t->rcv_mode = o->zc ? RCV_ZC : RCV_RING;
	t->nodelay = o->nodelay;
	atomic_store_explicit(&t->gen, cmd->gen, memory_order_relaxed);
	atomic_store_explicit(&t->sockid, cmd->sockid, memory_order_relaxed);
	/* tcb_setup needs the egress port for the MSS */
	uint32_t nh;
	t->port = port_for_dest(c->g, cmd->addr, &nh);
	rc = t->port ? tcb_setup(c, t, o->rcvbuf, o->sndbuf) : -ENETUNREACH;
	if (!rc && o->maxseg && o->maxseg < t->our_mss)
		t->our_mss = (uint16_t)o->maxseg;
#if AATCP_WITH_AA /* hook */
	if (!rc && o->aa_mod)
		rc = rcv_attach_aa(c, t, o->aa_mod, o->aa_params);
#endif
#if AATCP_WITH_FWD /* hook */
	if (!rc)
		rc = link_pending_splices(c, o, t);
#endif
	if (!rc)
		rc = tcp_connect(c, t, cmd->addr, cmd->port);
	atomic_store_explicit(&c->links[cmd->sockid].tcb, t, memory_order_release);
	if (!rc)
		tcp_set_keepalive(c, t, o->keepalive, o->ka);
	if (rc) {
		atomic_store(&t->error, -rc);
		tcb_raise(c, t, TEV_ERR | TEV_HUP | TEV_IN | TEV_OUT);
	}
}

static bool unread_data(const struct tcb *t)
{
	/* Unread means what the application has not read yet, in its own
	 * unit: records (and a record half parsed) on a record socket, whose
	 * parser consumes the zc stream itself; bytes otherwise. A spliced
	 * socket's bytes belong to the splice: never unread (RFC 2525 2.17
	 * below; test_close_with_unread_data). */
#if AATCP_WITH_AA /* hook */
#if AATCP_WITH_FWD /* hook */
	if (t->aa && !t->splice)
#else
	if (t->aa)
#endif
		return aa_stream_unread(t->aa);
#endif
#if AATCP_WITH_ZC /* hook */
	if (t->rcv_mode == RCV_ZC)
		return zc_stream_pending_bytes(&t->zc) > 0;
#endif
	return t->rb && rcvbuf_held(t->rb) > 0;
}

/* mtcp_close(): the application lets go of the connection. */
static void close_tcb(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);

	t->app_closed = true;
	atomic_store(&t->sockid, -1);
	switch (st) {
	case TCPS_CLOSED:
		tcb_free(c, t);
		return;
	case TCPS_SYN_SENT:
		tcp_done(c, t, 0);
		return;
	default:
		break;
	}
	if (unread_data(t) && st != TCPS_TIME_WAIT) {
		/* RFC 2525 2.17: closing with unread data resets, so the
		 * peer learns its data was not consumed */
		tcp_send_rst(c, t);
		tcp_done(c, t, 0);
		return;
	}
	if (st == TCPS_SYN_RCVD || st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT) {
		t->fin_queued = true;
		atomic_store(&t->wr_closed, true);
		tcp_set_state(c, t, st == TCPS_CLOSE_WAIT ? TCPS_LAST_ACK : TCPS_FIN_WAIT_1);
		tcp_want_output(c, t);
	}
	/* FIN_WAIT_x, CLOSING, LAST_ACK, TIME_WAIT: already closing; the
	 * timers finish it (an orphan in FIN_WAIT_2 ends with tcp_timeout). */
	if (!t->orphan) {
		t->orphan = true;
		atomic_fetch_add(&c->orphans, 1);
	}
	/* TIME_WAIT ends by its 2 MSL timer alone (timewait.c), never by an
	 * idle abort and its RST */
	if (c->g->conf.tcp_timeout > 0 && !t->timer_at[TT_IDLE] && st != TCPS_TIME_WAIT)
		timer_arm(c, t, TT_IDLE, c->now_us + (uint64_t)c->g->conf.tcp_timeout * 1000000u);
}

static void shutdown_wr(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);

	if (st != TCPS_ESTABLISHED && st != TCPS_CLOSE_WAIT && st != TCPS_SYN_RCVD)
		return;
	t->fin_queued = true;
	tcp_set_state(c, t, st == TCPS_CLOSE_WAIT ? TCPS_LAST_ACK : TCPS_FIN_WAIT_1);
	tcp_want_output(c, t);
}

static void abort_tcb(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);

	t->app_closed = true;
	atomic_store(&t->sockid, -1);
	if (st != TCPS_CLOSED && st != TCPS_SYN_SENT && st != TCPS_TIME_WAIT)
		tcp_send_rst(c, t);
	if (st == TCPS_CLOSED)
		tcb_free(c, t);
	else
		tcp_done(c, t, ECONNABORTED);
}

static void abort_listener_tcb(struct tcb *t, void *arg)
{
	struct listener *l = arg;

	if (t->listener != l)
		return;
	t->listener = NULL; /* l is freed by our caller */
	/* Only half-open connections die with their listener (and, in
	 * close_listener(), the established ones nobody accepted). An accepted
	 * connection left LISTEN at its SYN (RFC 9293 3.3.2) and belongs to
	 * the application: closing a listener discards its queues only, as in
	 * BSD sockets (test_close_listener_with_pending). */
	if (tcb_state(t) != TCPS_SYN_RCVD)
		return;
	t->app_closed = true;
	tcp_send_rst(t->core, t);
	tcp_done(t->core, t, ECONNRESET);
}

static void close_listener(struct core *c, struct listener *l)
{
	struct tcb *t;

	l->closing = true;
	listener_remove(c, l);
	/* half-open connections pointing at it */
	flow_foreach(c->flows, abort_listener_tcb, l);
	/* established ones nobody accepted: the queue is ours now */
	while (spsc_pop(&l->accepts, &t)) {
		t->app_closed = true;
		if (tcb_state(t) != TCPS_CLOSED)
			tcp_send_rst(c, t);
		tcp_done(c, t, ECONNRESET);
	}
	spsc_free(&l->accepts);
	free(l);
}

static void run_one(struct core *c, struct cmd *cmd)
{
	struct tcb *t = cmd->tcb;

	switch (cmd->type) {
	case CMD_CONNECT:
		do_connect(c, cmd);
		break;
	case CMD_LISTEN:
		listener_add(c, cmd->ptr);
		break;
	case CMD_CLOSE_LISTENER:
		close_listener(c, cmd->ptr);
		release_id(c, cmd->sockid);
		break;
	case CMD_CLOSE:
		t = atomic_load_explicit(&c->links[cmd->sockid].tcb, memory_order_acquire);
		if (t)
			close_tcb(c, t);
		atomic_store(&c->links[cmd->sockid].tcb, NULL);
		release_id(c, cmd->sockid);
		break;
	case CMD_ABORT:
		if (cmd->sockid >= 0)
			t = atomic_load_explicit(&c->links[cmd->sockid].tcb, memory_order_acquire);
		if (t)
			abort_tcb(c, t);
		if (cmd->sockid >= 0) {
			atomic_store(&c->links[cmd->sockid].tcb, NULL);
			release_id(c, cmd->sockid);
		}
		break;
	case CMD_SHUTDOWN_WR:
		shutdown_wr(c, t);
		break;
	case CMD_SEND:
		atomic_store(&t->snd_cmd_pending, false);
		tcp_want_output(c, t);
		break;
	case CMD_RECLAIM:
	case CMD_WND_UPDATE:
		/* One command in flight per TCB (api_reclaim): the flag is
		 * cleared before the reclaim, so a free after this point sends
		 * its own command and one before it is seen here. An exchange,
		 * not a store: it synchronises with the application's exchange,
		 * so the head moved before it is visible to the reclaim
		 * (test_zc_stream_mt). */
		(void)atomic_exchange(&t->wnd_cmd_pending, false);
		if (cmd->type == CMD_RECLAIM)
			rcv_reclaim(c, t);
		tcp_window_update(c, t);
		break;
#if AATCP_WITH_FWD /* hook */
	case CMD_SPLICE:
		if (tcb_state(t) == TCPS_CLOSED || tcb_state(cmd->tcb2) == TCPS_CLOSED ||
		    splice_link(c, t, cmd->tcb2, cmd->arg & MTCP_SPLICE_READ)) {
			tcp_send_rst(c, t);
			tcp_done(c, t, ECONNRESET);
		}
		break;
	case CMD_FORWARD:
		fwd_run_batch(c, cmd->ptr);
		break;
#endif
	case CMD_SETOPT:
		t->nodelay = cmd->arg != 0;
		tcp_want_output(c, t);
		break;
	case CMD_KEEPALIVE:
		tcp_set_keepalive(c, t, cmd->arg != 0, cmd->ka);
		break;
	default:
		break;
	}
}

int cmd_run(struct core *c)
{
	struct cmd cmd;
	int n = 0;

	/* bounded, so a flood of commands cannot starve packet processing */
	while (n < 256 && spsc_pop(&c->cmdq, &cmd)) {
		run_one(c, &cmd);
		n++;
	}
	return n;
}
