/*
 * test_fwd_splice.c - the splice API (thesis figure 5.3) through the whole
 * stack (stack_harness.h), deterministically: a client peer connects to a
 * listener, the application splices the accepted socket and a backend
 * socket both ways and connects the backend to a server peer; what each
 * peer sends must reach the other byte for byte, the FINs must travel
 * across, and every mbuf must be back in its pool at the end.
 *
 * With HTTP inspection (thesis 5.2): the request module on the client's
 * socket, the response module on the backend's. The answer to a HEAD
 * request carries GET's Content-Length and no body (RFC 9110 9.3.2, RFC
 * 9112 6.3), which the response parser cannot see in the response; the
 * stack announces the HEAD that the request parser saw before the request
 * is forwarded (src/fwd/splice.c, announce_heads). In the e2e test
 * (tests/e2e/test_proxy_e2e.py::test_http_inspection_matches_access_log) a
 * missing announcement failed only when the app thread lost a race; here
 * it fails every time.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "mtcp_aa.h"
#include "mtcp_zc.h"
#include "stack_harness.h"
#include "tcp/tcp.h"

#define SERVER_PORT 8080

/* One peer of the proxy and the bytes the stack sent it. */
struct side {
	struct h_conn k;
	char rx[4096];
	uint32_t n_rx;
	bool fin;
};

/* Takes every frame the stack sent, in order, for whichever side it is. */
static void take_frames(struct h_stack *h, struct side *a, struct side *b)
{
	struct h_pkt p;

	while (h_recv(h, &p)) {
		CHECK(p.proto == IPPROTO_TCP);
		struct side *s = p.dport == a->k.pport ? a : p.dport == b->k.pport ? b : NULL;
		CHECK_MSG(s, "a segment to port %u", p.dport);
		CHECK_MSG(p.seq == s->k.rcv_nxt, "port %u: seq %u, expected %u", p.dport, p.seq,
			  s->k.rcv_nxt);
		CHECK(!(p.flags & (TCP_FLAG_RST | TCP_FLAG_SYN)));
		CHECK(s->n_rx + p.len <= sizeof(s->rx));
		memcpy(s->rx + s->n_rx, p.payload, p.len);
		s->n_rx += p.len;
		s->fin |= !!(p.flags & TCP_FLAG_FIN);
		h_conn_absorb(&s->k, &p);
	}
}

static void check_rx(const struct side *s, const char *want, size_t len)
{
	CHECK_MSG(s->n_rx == len && !memcmp(s->rx, want, len),
		  "port %u got %u bytes '%.*s', expected %zu", s->k.pport, s->n_rx,
		  (int)s->n_rx, s->rx, len);
}

/* The proxy of apps/proxy.c in miniature: a listener on 80 (with the
 * request module when http), a client connected to it, a backend socket
 * (with the response module when http) spliced both ways and connected to
 * the server peer (cl->k.sock and sv->k.sock). Returns the listener. */
static int open_pair(struct h_stack *h, bool http, struct side *cl, struct side *sv)
{
	int ls = h_listen(h, 80, 16);

	if (http)
		CHECK(mtcp_zc_register_aa_module(h->mctx, ls, &aa_http_request_module, NULL) == 0);
	*cl = (struct side){.k = h_conn_default(80)};
	int c = h_passive_open(h, ls, &cl->k);
	int b = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(b >= 0);
	if (http)
		CHECK(mtcp_zc_register_aa_module(h->mctx, b, &aa_http_response_module, NULL) == 0);
	/* thesis 5.1.2: splice, then connect the backend */
	CHECK(mtcp_zc_splice(c, b) == 0 && mtcp_zc_splice(b, c) == 0);
	*sv = (struct side){.k = h_conn_default(0)};
	sv->k.pport = SERVER_PORT;
	sv->k.peer_iss = 0x20000000u;
	sv->k.snd_nxt = sv->k.peer_iss;
	/* the backend is asked for segments that fit the client's (splice.c):
	 * the client's MSS less its timestamp option */
	sv->k.syn_mss = H_MSS - 12;
	h_active_open_sock(h, &sv->k, b);
	return ls;
}

/* The client closes first; its FIN goes across, the server answers with
 * its own, which goes back. */
static void fin_exchange(struct h_stack *h, struct side *cl, struct side *sv)
{
	h_peer_fin(h, &cl->k);
	take_frames(h, cl, sv);
	CHECK_MSG(sv->fin, "the client's FIN did not reach the server");
	h_peer_fin(h, &sv->k);
	take_frames(h, cl, sv);
	CHECK_MSG(cl->fin, "the server's FIN did not reach the client");
	h_peer_ack(h, &cl->k);
	take_frames(h, cl, sv);
	CHECK(tcb_state(h_tcb(h, cl->k.sock)) == TCPS_CLOSED);
	CHECK(tcb_state(h_tcb(h, sv->k.sock)) == TCPS_CLOSED);
}

static void close_pair(struct h_stack *h, const struct side *cl, const struct side *sv)
{
	CHECK(mtcp_close(h->mctx, cl->k.sock) == 0 && mtcp_close(h->mctx, sv->k.sock) == 0);
	h_run(h);
	h_expect_none(h);
	CHECK_EQ_U64(h->c->tcbs_used, 0);
}

static void end(struct h_stack *h, int ls)
{
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_expect_none(h);
	h_close(h); /* no TCB, no socket, every mbuf back in its pool */
}

/* The client sends req, which must reach the server as it is; then the
 * server sends resp, which must reach the client. Each peer ACKs. */
static void exchange(struct h_stack *h, struct side *cl, struct side *sv, const char *req,
		     const char *resp)
{
	h_peer_send(h, &cl->k, req, (uint32_t)strlen(req));
	take_frames(h, cl, sv);
	check_rx(sv, req, strlen(req));
	h_peer_ack(h, &sv->k);
	h_peer_send(h, &sv->k, resp, (uint32_t)strlen(resp));
	take_frames(h, cl, sv);
	check_rx(cl, resp, strlen(resp));
	h_peer_ack(h, &cl->k);
}

static void test_plain_splice_both_ways(void)
{
	static const char req[] = "ping from the client", resp[] = "pong from the server";
	struct h_stack *h = h_open();
	struct side cl, sv;
	int ls = open_pair(h, false, &cl, &sv);

	exchange(h, &cl, &sv, req, resp);
	struct mtcp_splice_stats st;
	CHECK(mtcp_zc_splice_stats(h->mctx, cl.k.sock, &st) == 0);
	CHECK_EQ_U64(st.forwarded, sizeof(req) - 1);
	CHECK(st.active);
	CHECK_EQ_U64(h->c->cnt.splice_segs, 2);
	fin_exchange(h, &cl, &sv);
	close_pair(h, &cl, &sv);
	end(h, ls);
}

/* Forward mode's pair: a zero-copy listener on 80 with the client cl
 * connected (its socket non-blocking: forwards wait with EAGAIN), and a
 * zero-copy backend socket for the server peer sv, not connected yet.
 * Returns the listener; *c and *b get the two sockets. */
static int open_forward_pair(struct h_stack *h, struct side *cl, struct side *sv, int *c,
			     int *b)
{
	int ls = h_listen(h, 80, 16);

	*cl = (struct side){.k = h_conn_default(80)};
	*sv = (struct side){.k = h_conn_default(0)};
	CHECK(mtcp_zc_enable(h->mctx, ls) == 0);
	*c = h_passive_open(h, ls, &cl->k);
	CHECK(mtcp_setsock_nonblock(h->mctx, *c) == 0);
	*b = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(*b >= 0 && mtcp_zc_enable(h->mctx, *b) == 0);
	sv->k.pport = SERVER_PORT;
	sv->k.peer_iss = 0x20000000u;
	sv->k.snd_nxt = sv->k.peer_iss;
	return ls;
}

/* RFC 9293 3.10.4 (CLOSE, ESTABLISHED STATE): the FIN is queued "until all
 * preceding SENDs have been segmentized". Fragments forwarded (thesis figure
 * 5.2) before shutdown(SHUT_WR) are such SENDs: the backend gets all of them,
 * then the FIN, also when the forward and the shutdown reach the network
 * thread in the same iteration (apps/proxy.c does exactly that when the
 * client's last data and its FIN arrive together). A forward after the
 * shutdown is refused with EPIPE. */
static void test_forward_then_shutdown(void)
{
	static const char req[] = "the last bytes, forwarded just before the shutdown";
	struct h_stack *h = h_open();
	struct side cl, sv;
	struct stream_fragment_content f[8];
	int c, b, ls = open_forward_pair(h, &cl, &sv, &c, &b);

	h_active_open_sock(h, &sv.k, b);
	h_peer_send(h, &cl.k, req, 20);
	h_peer_send(h, &cl.k, req + 20, (uint32_t)sizeof(req) - 1 - 20);
	take_frames(h, &cl, &sv); /* the client's ACK */
	int n = mtcp_zc_read_fragments(h->mctx, c, f, 8);
	CHECK_MSG(n == 2, "%d fragments", n);
	CHECK(mtcp_zc_forward(c, b, n) == n);
	CHECK(mtcp_shutdown(h->mctx, b, SHUT_WR) == 0); /* no iteration in between */
	h_run(h);
	take_frames(h, &cl, &sv);
	check_rx(&sv, req, sizeof(req) - 1);
	CHECK_MSG(sv.fin, "no FIN after the forwarded bytes");
	CHECK_EQ_U64(h->c->cnt.fwd_segs, 2);
	/* after the shutdown there is nothing more to forward onto b */
	h_peer_send(h, &cl.k, "late", 4);
	take_frames(h, &cl, &sv);
	CHECK(mtcp_zc_read_fragments(h->mctx, c, f, 8) == 1);
	CHECK(mtcp_zc_forward(c, b, 1) == -1 && errno == EPIPE);
	CHECK(mtcp_zc_free_fragments(h->mctx, c, 1) == 0);
	h_peer_ack(h, &sv.k);
	struct h_pkt p;
	CHECK(mtcp_abort(h->mctx, b) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.dport == SERVER_PORT && (p.flags & TCP_FLAG_RST));
	h_abort_and_close(h, &cl.k, ls);
}

/* Thesis 5.1.2: a forward waits while the outbound list is full (w = w_max
 * - s <= 0). A backend still connecting (SYN sent, no SYN-ACK yet: a slow
 * backend, or one whose answer waits on its ARP) will send that list once
 * it is open: the wait is EAGAIN, as for an open one, not EPIPE (which
 * would make the proxy end the pair while its client is uploading). */
static void test_forward_while_backend_connects(void)
{
	static const char req[] = "twenty bytes first, then the rest once the backend answers";
	uint32_t wmax = h_conf()->fwd_wmax;
	h_conf()->fwd_wmax = 20;
	struct h_stack *h = h_open();
	struct side cl, sv;
	struct stream_fragment_content f[8];
	int c, b, ls = open_forward_pair(h, &cl, &sv, &c, &b);

	h_active_syn(h, &sv.k, b);
	h_peer_send(h, &cl.k, req, 20);
	h_peer_send(h, &cl.k, req + 20, (uint32_t)sizeof(req) - 1 - 20);
	take_frames(h, &cl, &sv); /* the client's ACK */
	CHECK(mtcp_zc_read_fragments(h->mctx, c, f, 8) == 2);
	CHECK(mtcp_zc_forward(c, b, 1) == 1); /* fills w_max */
	h_run(h);
	CHECK_MSG(mtcp_zc_forward(c, b, 1) == -1 && errno == EAGAIN, "errno %d", errno);
	CHECK(tcb_state(h_tcb(h, b)) == TCPS_SYN_SENT);
	h_peer_synack(h, &sv.k);
	take_frames(h, &cl, &sv); /* the handshake's ACK and the first 20 bytes */
	check_rx(&sv, req, 20);
	h_peer_ack(h, &sv.k); /* the list drains: room again */
	CHECK(mtcp_zc_forward(c, b, 1) == 1);
	h_run(h);
	take_frames(h, &cl, &sv);
	check_rx(&sv, req, sizeof(req) - 1);
	h_peer_ack(h, &sv.k);
	CHECK_EQ_U64(h->c->cnt.fwd_segs, 2);
	struct h_pkt p;
	CHECK(mtcp_abort(h->mctx, b) == 0);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.dport == SERVER_PORT && (p.flags & TCP_FLAG_RST));
	h_abort_and_close(h, &cl.k, ls);
	h_conf()->fwd_wmax = wmax;
}

/* Reads the records ready on s into recs (at most max), none of them an
 * error record; the caller frees them. */
static int read_records(struct h_stack *h, int s, struct aa_http_record **recs, int max)
{
	int n = mtcp_zc_read_aa_records(h->mctx, s, recs, max);

	CHECK_MSG(n > 0, "no record on socket %d (errno %d)", s, errno);
	for (int i = 0; i < n; i++)
		CHECK_MSG(recs[i]->hdr.type != AA_RECORD_ERROR, "record %d: error %s at %llu", i,
			  aa_error_name(recs[i]->hdr.error),
			  (unsigned long long)recs[i]->hdr.offset);
	return n;
}

static void test_http_head_answer_has_no_body(void)
{
	/* pipelined: HEAD, then GET; the HEAD's answer says Content-Length:
	 * 1000 and sends none, the GET's has a 5-byte body */
	static const char reqs[] = "HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n"
				   "GET /small HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char resps[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
				    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	struct h_stack *h = h_open();
	struct side cl, sv;
	int ls = open_pair(h, true, &cl, &sv), c = cl.k.sock, b = sv.k.sock;
	struct aa_http_record *r[8];
	char body[8];

	/* the application reads no request record before the answers came */
	exchange(h, &cl, &sv, reqs, resps);

	/* what the inspecting application sees: two requests ... */
	CHECK(read_records(h, c, r, 8) == 2);
	CHECK(r[0]->hdr.type == AA_HTTP_REQUEST && r[0]->method == AA_HTTP_M_HEAD);
	CHECK(r[1]->hdr.type == AA_HTTP_REQUEST && r[1]->method == AA_HTTP_M_GET);
	CHECK(mtcp_zc_free_aa_records(h->mctx, c, 2) == 0);
	/* ... and two responses, the first without a body */
	int n = read_records(h, b, r, 8);
	CHECK_MSG(n == 3, "%d records", n);
	CHECK(r[0]->hdr.type == AA_HTTP_RESPONSE && r[0]->status == 200);
	CHECK_MSG((r[0]->flags & (AA_HTTP_F_HEAD | AA_HTTP_F_NO_BODY | AA_HTTP_F_END)) ==
			  (AA_HTTP_F_HEAD | AA_HTTP_F_NO_BODY | AA_HTTP_F_END),
		  "the answer to HEAD was parsed as expecting a body (flags %#x)", r[0]->flags);
	CHECK(r[0]->content_length == 1000);
	CHECK(r[1]->hdr.type == AA_HTTP_RESPONSE && !(r[1]->flags & AA_HTTP_F_HEAD));
	CHECK(r[1]->content_length == 5);
	CHECK(r[2]->hdr.type == AA_HTTP_BODY && (r[2]->flags & AA_HTTP_F_END));
	CHECK(aa_field_copy(r[2]->data, body, sizeof(body)) == 5 && !memcmp(body, "hello", 5));
	CHECK(mtcp_zc_free_aa_records(h->mctx, b, n) == 0);

	fin_exchange(h, &cl, &sv);
	/* both streams end cleanly: no truncated record at the close (what
	 * a parser still waiting for 1000 bytes of body would give) */
	CHECK(mtcp_zc_read_aa_records(h->mctx, c, r, 8) == 0);
	CHECK(mtcp_zc_read_aa_records(h->mctx, b, r, 8) == 0);
	close_pair(h, &cl, &sv);
	end(h, ls);
}

/* A RST that ends one side's TIME-WAIT (RFC 9293 3.10.7.4) is not carried
 * across the splice: in TIME-WAIT both directions of that side have
 * ended, every byte acknowledged, so the RST says nothing about the other
 * side, whose own close goes on with its bytes still unacknowledged. */
static void test_rst_in_time_wait_stays_on_its_side(void)
{
	static const char resp[] = "the server's last words";
	struct h_stack *h = h_open();
	int tw = h_conf()->tcp_timewait;
	struct side cl, sv;

	h_conf()->tcp_timewait = 60;
	int ls = open_pair(h, false, &cl, &sv);
	/* the client closes first: its FIN goes on, the server ACKs it */
	h_peer_fin(h, &cl.k);
	take_frames(h, &cl, &sv);
	CHECK(sv.fin);
	h_peer_ack(h, &sv.k);
	take_frames(h, &cl, &sv);
	/* the server's answer and FIN: its side enters TIME-WAIT, the client's
	 * side sends both on and waits for the client's ACK */
	h_peer_send(h, &sv.k, resp, sizeof(resp) - 1);
	h_peer_fin(h, &sv.k);
	take_frames(h, &cl, &sv);
	check_rx(&cl, resp, sizeof(resp) - 1);
	CHECK(cl.fin);
	CHECK(tcb_state(h_tcb(h, sv.k.sock)) == TCPS_TIME_WAIT);
	CHECK(tcb_state(h_tcb(h, cl.k.sock)) == TCPS_LAST_ACK);
	struct h_seg rst = h_conn_seg(&sv.k, TCP_FLAG_RST, NULL, 0);
	h_send_seg(h, &rst);
	CHECK(tcb_state(h_tcb(h, sv.k.sock)) == TCPS_CLOSED);
	take_frames(h, &cl, &sv); /* CHECKs that no RST went to the client */
	CHECK(tcb_state(h_tcb(h, cl.k.sock)) == TCPS_LAST_ACK);
	h_peer_ack(h, &cl.k);
	take_frames(h, &cl, &sv);
	CHECK(tcb_state(h_tcb(h, cl.k.sock)) == TCPS_CLOSED);
	int err = -1;
	socklen_t el = sizeof(err);
	CHECK(mtcp_getsockopt(h->mctx, cl.k.sock, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
	CHECK_EQ_U64(err, 0);
	h_conf()->tcp_timewait = tw;
	close_pair(h, &cl, &sv);
	end(h, ls);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_plain_splice_both_ways,
		test_http_head_answer_has_no_body,
		test_forward_then_shutdown,
		test_forward_while_backend_connects,
		test_rst_in_time_wait_stays_on_its_side,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
