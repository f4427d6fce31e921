/*
 * zc_api.c - the zero-copy receive API (thesis 3.2.2): mtcp_zc_enable,
 * mtcp_zc_read_fragments, mtcp_zc_free_fragments. The application thread
 * only reads nodes and moves the stream's head; the network thread gives
 * the nodes and their packet buffers back (CMD_RECLAIM), and advertises
 * the window they free.
 */
#include "api/internal.h"
#include "mtcp_zc.h"
#include "tcp/tcp.h"

int mtcp_zc_enable(mctx_t mctx, int sockid)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? api_sock(c, sockid, 0) : NULL;

	if (!s)
		return -1;
	if (s->type == MTCP_SOCK_LISTENER) {
		/* too late for connections already accepted or queued; the
		 * listener's flag is read by the net thread on each SYN */
		s->zc = true;
		s->lst->zc = true;
		return 0;
	}
	if (s->type != MTCP_SOCK_STREAM) {
		errno = ENOTSOCK;
		return -1;
	}
	if (atomic_load(&s->link->tcb) || s->connecting) {
		errno = EISCONN; /* the receive side is chosen when the TCB is made */
		return -1;
	}
	s->zc = true;
	return 0;
}

/* The zero-copy TCB of a socket, or NULL with errno. */
static struct tcb *zc_tcb(struct core *c, int sockid, struct socket **sp)
{
	struct tcb *t = api_tcb(c, sockid, sp);

	if (t && (t->rcv_mode != RCV_ZC || tcb_has_records(t))) {
		errno = EINVAL;
		return NULL;
	}
	return t;
}

int mtcp_zc_read_fragments(mctx_t mctx, int sockid, struct stream_fragment_content *frags,
			   int n)
{
	struct core *c = api_core(mctx);
	struct socket *s = NULL;
	struct tcb *t = c ? zc_tcb(c, sockid, &s) : NULL;

	if (!t)
		return -1;
	if (!frags || n <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (s->zc_out) {
		errno = EBUSY; /* thesis 3.2.2: free before reading again */
		return -1;
	}
	for (;;) {
		int got = zc_stream_peek(&t->zc, frags, n);
		if (got > 0) {
			s->zc_out = got;
			return got;
		}
		if (atomic_load_explicit(&t->rd_closed, memory_order_acquire) ||
		    tcb_state(t) == TCPS_CLOSED) {
			/* The net thread may have appended the last segments and
			 * then consumed the FIN (or closed) between our peek and
			 * the load above: look again now that the acquire load
			 * made everything published before the close visible,
			 * or those bytes would be lost behind an early 0. */
			got = zc_stream_peek(&t->zc, frags, n);
			if (got > 0) {
				s->zc_out = got;
				return got;
			}
			/* everything was read: end of stream, or the error */
			int err = atomic_load(&t->error);
			if (err && err != ETIMEDOUT && !atomic_load(&t->rd_closed)) {
				errno = err;
				return -1;
			}
			return 0;
		}
		if (s->nonblock) {
			errno = EAGAIN;
			return -1;
		}
		app_drain_events(c);
		if (zc_stream_pending_bytes(&t->zc) == 0)
			app_wait(c, 100);
	}
}

int mtcp_zc_free_fragments(mctx_t mctx, int sockid, int n)
{
	struct core *c = api_core(mctx);
	struct socket *s = NULL;
	struct tcb *t = c ? zc_tcb(c, sockid, &s) : NULL;

	if (!t)
		return -1;
	if (n <= 0 || n > s->zc_out) {
		errno = EINVAL; /* freeing more than was read would free data
				 * the application never saw */
		return -1;
	}
	zc_stream_consume(&t->zc, n);
	s->zc_out -= n;
	api_reclaim(c, s, t);
	return 0;
}
