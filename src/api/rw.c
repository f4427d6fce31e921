/*
 * rw.c - mtcp_read/recv/readv and mtcp_write/writev: copies between the
 * application's buffers and the socket's ring buffers (the standard path
 * that zero-copy is measured against).
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "api/internal.h"
#include "tcp/rcvbuf.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

void api_maybe_window_update(struct core *c, struct socket *s, struct tcb *t)
{
	uint32_t adv = atomic_load_explicit(&t->rcv_adv_wnd, memory_order_relaxed);
	uint32_t space = t->rcv_mode == RCV_ZC ? 0 : rcvbuf_space(t->rb);
	uint32_t mss = t->port ? (uint32_t)t->port->mtu - 40 : 1460;

	/* Worth a segment only when the window grew by two segments or half
	 * the buffer (RFC 9293 3.8.6.2.2); the net thread decides exactly. */
	if (t->rcv_mode == RCV_RING && space < adv + 2 * mss && space < adv + t->rcvbuf_size / 2)
		return;
	if (!atomic_exchange(&t->wnd_cmd_pending, true))
		cmd_simple(c, CMD_WND_UPDATE, s, t);
}

/* Why a read found nothing: 0 at end of stream, else -1 with errno. */
static ssize_t read_nothing(struct tcb *t)
{
	int err = atomic_load(&t->error);

	if (atomic_load_explicit(&t->rd_closed, memory_order_acquire))
		return 0;
	if (err && err != ETIMEDOUT && err != ECONNRESET && err != ECONNABORTED &&
	    err != ECONNREFUSED)
		err = ECONNRESET;
	if (err) {
		errno = err;
		return -1;
	}
	if (tcb_state(t) == TCPS_CLOSED)
		return 0;
	errno = EAGAIN;
	return -1;
}

static ssize_t recv_common(mctx_t mctx, int sockid, char *buf, size_t len, int flags)
{
	struct core *c = api_core(mctx);
	struct socket *s = NULL;
	struct tcb *t = c ? api_tcb(c, sockid, &s) : NULL;

	if (!t)
		return -1;
	if (t->rcv_mode == RCV_ZC) {
		errno = EINVAL; /* zero-copy socket: use mtcp_zc_read_fragments */
		return -1;
	}
	for (;;) {
		size_t n = (flags & MSG_PEEK) ? rcvbuf_peek(t->rb, buf, len)
					      : rcvbuf_read(t->rb, buf, len);
		if (n > 0 || len == 0) {
			if (n && !(flags & MSG_PEEK))
				api_maybe_window_update(c, s, t);
			return (ssize_t)n;
		}
		ssize_t r = read_nothing(t);
		if (r == 0) {
			/* The net thread may have appended the last bytes and
			 * then consumed the FIN between the read above and
			 * read_nothing()'s acquire load of rd_closed: read once
			 * more, or those bytes would hide behind an early end
			 * of stream. */
			n = (flags & MSG_PEEK) ? rcvbuf_peek(t->rb, buf, len)
					       : rcvbuf_read(t->rb, buf, len);
			if (n > 0) {
				if (!(flags & MSG_PEEK))
					api_maybe_window_update(c, s, t);
				return (ssize_t)n;
			}
		}
		if (r == 0 || errno != EAGAIN || s->nonblock || (flags & MSG_DONTWAIT))
			return r;
		app_drain_events(c);
		if (rcvbuf_held(t->rb) == 0) {
			if (app_interrupted(c))
				return -1;
			app_wait(c, 100);
		}
	}
}

ssize_t mtcp_read(mctx_t mctx, int sockid, char *buf, size_t len)
{
	return recv_common(mctx, sockid, buf, len, 0);
}

ssize_t mtcp_recv(mctx_t mctx, int sockid, char *buf, size_t len, int flags)
{
	if (flags & ~(MSG_PEEK | MSG_DONTWAIT)) {
		errno = EINVAL;
		return -1;
	}
	return recv_common(mctx, sockid, buf, len, flags);
}

int mtcp_readv(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV)
{
	ssize_t total = 0;

	for (int i = 0; i < numIOV; i++) {
		ssize_t n = recv_common(mctx, sockid, iov[i].iov_base, iov[i].iov_len,
					total ? MSG_DONTWAIT : 0);
		if (n < 0)
			return total ? (int)total : -1;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return (int)total;
}

static bool writable_state(struct tcb *t)
{
	int st = tcb_state(t);

	return (st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT) && !atomic_load(&t->wr_closed);
}

/* Why a write cannot proceed; -1 with errno. */
static ssize_t write_refused(struct tcb *t)
{
	int err = atomic_load(&t->error);
	int st = tcb_state(t);

	if (err)
		errno = err == ETIMEDOUT ? ETIMEDOUT : (err == ECONNREFUSED ? ECONNREFUSED : EPIPE);
	else if (st == TCPS_SYN_SENT || st == TCPS_SYN_RCVD)
		errno = EAGAIN;
	else
		errno = EPIPE;
	return -1;
}

/* Where a write stands in the caller's buffers: iov[i] from byte off. */
struct wcursor {
	const struct iovec *iov;
	int n, i;
	size_t off;
};

/* Copies what fits of the rest into the send buffer, in order; the bytes
 * taken. */
static size_t cursor_write(struct sndbuf *sb, struct wcursor *w)
{
	size_t done = 0;

	while (w->i < w->n) {
		const struct iovec *v = &w->iov[w->i];
		size_t k = sndbuf_write(sb, (const char *)v->iov_base + w->off, v->iov_len - w->off);

		done += k;
		w->off += k;
		if (w->off < v->iov_len)
			break;
		w->i++;
		w->off = 0;
	}
	return done;
}

/* mtcp_write and mtcp_writev: the bytes go into the send buffer and one
 * CMD_SEND tells the network thread, whatever the number of buffers. */
static ssize_t write_common(mctx_t mctx, int sockid, struct wcursor *w)
{
	struct core *c = api_core(mctx);
	struct socket *s = NULL;
	struct tcb *t = c ? api_tcb(c, sockid, &s) : NULL;
	size_t done = 0;

	if (!t)
		return -1;
#if AATCP_WITH_FWD
	if (s->fwd_target || t->out) {
#else
	if (s->fwd_target) {
#endif
		errno = EINVAL; /* bytes would overtake the forwarded packets */
		return -1;
	}
	for (;;) {
		if (!writable_state(t)) {
			if (done)
				return (ssize_t)done;
			write_refused(t);
			if (errno != EAGAIN || s->nonblock)
				return -1;
		} else {
			done += cursor_write(t->sb, w);
			if (done && !atomic_exchange(&t->snd_cmd_pending, true))
				cmd_simple(c, CMD_SEND, s, t);
			if (w->i == w->n || (done && s->nonblock))
				return (ssize_t)done;
			if (s->nonblock) {
				errno = EAGAIN;
				return -1;
			}
		}
		app_drain_events(c);
		if (!writable_state(t) || sndbuf_space(t->sb) == 0) {
			if (app_interrupted(c))
				return done ? (ssize_t)done : -1;
			app_wait(c, 100);
		}
	}
}

ssize_t mtcp_write(mctx_t mctx, int sockid, const char *buf, size_t len)
{
	struct iovec v = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct wcursor w = {.iov = &v, .n = 1};

	return write_common(mctx, sockid, &w);
}

int mtcp_writev(mctx_t mctx, int sockid, const struct iovec *iov, int numIOV)
{
	struct wcursor w = {.iov = iov, .n = numIOV > 0 ? numIOV : 0};

	if (numIOV < 0 || (numIOV && !iov)) {
		errno = EINVAL;
		return -1;
	}
	return (int)write_common(mctx, sockid, &w);
}
