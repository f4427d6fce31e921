/*
 * test_aa_http.c - the HTTP/1.1 modules, both directions (thesis 4.3.1,
 * RFC 9112), through real mbufs, a real zc stream and the aa runtime,
 * against Debian's http-parser as the reference.
 *
 * Samples: hand-written captures in tests/c/data/aa/ (requests from curl,
 * wget, Firefox, a form POST, a chunked PUT, pipelining, a websocket
 * upgrade; responses from nginx, Apache, Python's http.server, keep-alive
 * sessions with 304/204/404/301, chunked bodies with extensions and
 * trailers, 100 Continue, a close-delimited body, answers to HEAD, a 101
 * upgrade, Content-Length bodies that look like heads) plus a generated
 * keep-alive session of many transactions.
 * Each stream is parsed whole by http-parser into a canonical text (start
 * line, keep-alive, headers, body bytes, trailers, tunnel bytes); the
 * module's records, read as an application would, must give the same text
 * when the stream is cut at every pair of boundaries (3 pieces) and by
 * random segmentations, with slow applications and tiny pools, and every
 * pool must return to full.
 *
 * Malformed streams (each error class of mtcp_aa.h) must give the expected
 * error record, at the same offset whatever the segmentation.
 */
#include <errno.h>

#include <http_parser.h>

#include "aa_compare.h"

static const char *data_dir = "tests/c/data/aa";

/* ---- canonical text of a message ------------------------------------------ */

static void put_str(struct aa_h_buf *b, const char *s) { aa_h_put(b, s, strlen(s)); }

static void trimmed(struct aa_h_buf *b, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	aa_h_put(b, s, n);
}

struct hcanon {
	struct aa_h_buf msg;    /* head of the message in progress */
	struct aa_h_buf body;
	struct aa_h_buf tunnel;
	bool in_msg, upgraded;
};

static void field_text(struct aa_h_buf *b, const struct stream_field *f)
{
	for (const struct stream_field *v = f; v; v = v->next)
		aa_h_put(b, v->data.start, (size_t)(v->data.end - v->data.start));
}

static void emit_msg(struct aa_h_buf *out, struct hcanon *c,
		     const struct aa_http_record *trailers)
{
	aa_h_put(out, c->msg.p, c->msg.len);
	put_str(out, "BODY ");
	aa_h_u64(out, c->body.len);
	put_str(out, ":");
	aa_h_put(out, c->body.p, c->body.len);
	put_str(out, "\n");
	for (uint32_t i = 0; trailers && i < trailers->n_headers; i++) {
		put_str(out, "T ");
		field_text(out, trailers->headers[i].name);
		put_str(out, ":");
		field_text(out, trailers->headers[i].value);
		put_str(out, "\n");
	}
	put_str(out, "END\n");
	aa_h_clear(&c->msg);
	aa_h_clear(&c->body);
	c->in_msg = false;
}

static void canon_head(struct hcanon *c, const struct aa_http_record *r)
{
	struct aa_h_buf *m = &c->msg;

	CHECK(!c->in_msg);
	aa_h_clear(m);
	aa_h_clear(&c->body);
	if (r->hdr.type == AA_HTTP_REQUEST) {
		put_str(m, "REQ ");
		field_text(m, r->line[0]);
		put_str(m, " ");
		field_text(m, r->line[1]);
		CHECK(aa_field_has_prefix(r->line[2], "HTTP/1."));
	} else {
		CHECK(r->hdr.type == AA_HTTP_RESPONSE);
		put_str(m, "RES ");
		aa_h_u64(m, r->status);
		CHECK(aa_field_len(r->line[1]) == 3);
		put_str(m, " ");
		field_text(m, r->line[2]);
		CHECK(aa_field_has_prefix(r->line[0], "HTTP/1."));
	}
	aa_h_printf(m, " %u.%u KA%d\n", r->version / 10, r->version % 10,
		    (r->flags & AA_HTTP_F_KEEPALIVE) ? 1 : 0);
	for (uint32_t i = 0; i < r->n_headers; i++) {
		const struct stream_field *v = r->headers[i].value;

		put_str(m, "H ");
		field_text(m, r->headers[i].name);
		put_str(m, ":");
		field_text(m, v);
		put_str(m, "\n");
		/* values come without surrounding whitespace */
		CHECK(aa_field_byte(v, 0) != ' ' && aa_field_byte(v, 0) != '\t');
	}
	if (r->flags & AA_HTTP_F_LENGTH) {
		const struct stream_field *cl =
			aa_http_header_value(r, "content-length");
		uint64_t n;

		CHECK(cl && aa_field_to_u64(cl, &n) == 0 && n == r->content_length);
	}
	c->in_msg = true;
	if (r->flags & AA_HTTP_F_UPGRADE)
		c->upgraded = true;
}

static void canon_http(struct aa_h_buf *out, const struct aa_record *rec,
		       void *vctx)
{
	struct hcanon *c = vctx;
	const struct aa_http_record *r = (const void *)rec;

	switch (rec->type) {
	case AA_RECORD_ERROR:
		aa_h_printf(out, "E%u@%llu\n", rec->error,
			    (unsigned long long)rec->offset);
		return;
	case AA_HTTP_REQUEST:
	case AA_HTTP_RESPONSE:
		canon_head(c, r);
		if (r->flags & AA_HTTP_F_END)
			emit_msg(out, c, NULL);
		return;
	case AA_HTTP_BODY:
		CHECK(r->data && r->n_headers == 0);
		if (r->flags & AA_HTTP_F_TUNNEL) {
			CHECK(c->upgraded && !c->in_msg);
			CHECK(r->body_offset == c->tunnel.len);
			field_text(&c->tunnel, r->data);
			return;
		}
		CHECK(c->in_msg);
		CHECK_MSG(r->body_offset == c->body.len, "body offset %llu, have %zu",
			  (unsigned long long)r->body_offset, c->body.len);
		CHECK(aa_field_len(r->data) > 0);
		field_text(&c->body, r->data);
		if (r->flags & AA_HTTP_F_END)
			emit_msg(out, c, NULL);
		return;
	case AA_HTTP_END:
		CHECK(r->flags & AA_HTTP_F_END);
		if (r->flags & AA_HTTP_F_TUNNEL) {
			CHECK(c->upgraded && !c->in_msg);
			return;
		}
		CHECK(c->in_msg);
		emit_msg(out, c, r);
		return;
	default:
		CHECK_MSG(0, "record type %u", rec->type);
	}
}

static void canon_eos(struct aa_h_buf *out, void *vctx)
{
	struct hcanon *c = vctx;

	if (c->upgraded) {
		put_str(out, "TUNNEL ");
		aa_h_u64(out, c->tunnel.len);
		put_str(out, ":");
		aa_h_put(out, c->tunnel.p, c->tunnel.len);
		put_str(out, "\n");
	}
	aa_h_clear(&c->msg);
	aa_h_clear(&c->body);
	aa_h_clear(&c->tunnel);
	c->in_msg = c->upgraded = false;
}

/* ---- the reference: http-parser over the whole stream ----------------------- */

struct hp {
	struct aa_h_buf *out;
	struct aa_h_buf start, hdrs, trailers, body, field, value;
	bool in_value, headers_done;
	unsigned head_left; /* final responses that answer HEAD */
};

static struct hp *hp_of(http_parser *p) { return p->data; }

static void hp_flush_header(struct hp *h)
{
	struct aa_h_buf *b = h->headers_done ? &h->trailers : &h->hdrs;

	if (!h->in_value)
		return;
	put_str(b, h->headers_done ? "T " : "H ");
	aa_h_put(b, h->field.p, h->field.len);
	put_str(b, ":");
	trimmed(b, h->value.p, h->value.len);
	put_str(b, "\n");
	aa_h_clear(&h->field);
	aa_h_clear(&h->value);
	h->in_value = false;
}

static int hp_begin(http_parser *p)
{
	struct hp *h = hp_of(p);

	aa_h_clear(&h->start);
	aa_h_clear(&h->hdrs);
	aa_h_clear(&h->trailers);
	aa_h_clear(&h->body);
	aa_h_clear(&h->field);
	aa_h_clear(&h->value);
	aa_h_put(&h->start, "", 0);
	h->in_value = h->headers_done = false;
	return 0;
}

static int hp_data(struct aa_h_buf *b, const char *at, size_t n)
{
	aa_h_put(b, at, n);
	return 0;
}

static int hp_url(http_parser *p, const char *at, size_t n) { return hp_data(&hp_of(p)->start, at, n); }
static int hp_status(http_parser *p, const char *at, size_t n) { return hp_data(&hp_of(p)->start, at, n); }
static int hp_body(http_parser *p, const char *at, size_t n) { return hp_data(&hp_of(p)->body, at, n); }

static int hp_field(http_parser *p, const char *at, size_t n)
{
	struct hp *h = hp_of(p);

	hp_flush_header(h);
	return hp_data(&h->field, at, n);
}

static int hp_value(http_parser *p, const char *at, size_t n)
{
	struct hp *h = hp_of(p);

	h->in_value = true;
	return hp_data(&h->value, at, n);
}

static int hp_headers_complete(http_parser *p)
{
	struct hp *h = hp_of(p);

	hp_flush_header(h);
	h->headers_done = true;
	if (p->type == HTTP_RESPONSE && p->status_code >= 200 && h->head_left) {
		h->head_left--;
		return 1; /* no body: it answers HEAD */
	}
	return 0;
}

static int hp_complete(http_parser *p)
{
	struct hp *h = hp_of(p);
	struct aa_h_buf *o = h->out;

	hp_flush_header(h);
	if (p->type == HTTP_REQUEST)
		aa_h_printf(o, "REQ %s ", http_method_str(p->method));
	else
		aa_h_printf(o, "RES %u ", p->status_code);
	aa_h_put(o, h->start.p, h->start.len);
	aa_h_printf(o, " %u.%u KA%d\n", p->http_major, p->http_minor,
		    http_should_keep_alive(p) ? 1 : 0);
	aa_h_put(o, h->hdrs.p, h->hdrs.len);
	put_str(o, "BODY ");
	aa_h_u64(o, h->body.len);
	put_str(o, ":");
	aa_h_put(o, h->body.p, h->body.len);
	put_str(o, "\n");
	aa_h_put(o, h->trailers.p, h->trailers.len);
	put_str(o, "END\n");
	return 0;
}

static const http_parser_settings hp_settings = {
	.on_message_begin = hp_begin,
	.on_url = hp_url,
	.on_status = hp_status,
	.on_header_field = hp_field,
	.on_header_value = hp_value,
	.on_headers_complete = hp_headers_complete,
	.on_body = hp_body,
	.on_message_complete = hp_complete,
};

static void reference(const char *d, size_t len, bool response,
		      unsigned head, struct aa_h_buf *out)
{
	http_parser p;
	struct hp h = { .out = out, .head_left = head };
	size_t n;

	http_parser_init(&p, response ? HTTP_RESPONSE : HTTP_REQUEST);
	p.data = &h;
	n = http_parser_execute(&p, &hp_settings, d, len);
	CHECK_MSG(HTTP_PARSER_ERRNO(&p) == HPE_OK, "http-parser: %s",
		  http_errno_name(HTTP_PARSER_ERRNO(&p)));
	if (p.upgrade) {
		put_str(out, "TUNNEL ");
		aa_h_u64(out, len - n);
		put_str(out, ":");
		aa_h_put(out, d + n, len - n);
		put_str(out, "\n");
	} else {
		CHECK(n == len);
		http_parser_execute(&p, &hp_settings, NULL, 0); /* EOF */
		CHECK_MSG(HTTP_PARSER_ERRNO(&p) == HPE_OK, "http-parser at EOF: %s",
			  http_errno_name(HTTP_PARSER_ERRNO(&p)));
	}
	aa_h_free(&h.start);
	aa_h_free(&h.hdrs);
	aa_h_free(&h.trailers);
	aa_h_free(&h.body);
	aa_h_free(&h.field);
	aa_h_free(&h.value);
}

/* ---- runs ------------------------------------------------------------------ */

struct sample {
	const char *name;
	char *data;
	size_t len;
	bool response;
	unsigned head;      /* responses that answer HEAD */
	bool head_param;    /* ... announced by AA_HTTP_P_HEAD_RESPONSES */
	int expect_error;   /* -1: valid, compared with http-parser */
	uint32_t max_headers, max_head;
	bool exhaustive;    /* every pair of cuts */
};

static struct hcanon hc;

static struct aa_h_run make_run(const struct sample *s,
				struct aa_http_params *pp)
{
	struct aa_h_run run = { 0 };

	memset(pp, 0, sizeof(*pp));
	pp->max_headers = s->max_headers;
	pp->max_head = s->max_head;
	pp->flags = s->head_param ? AA_HTTP_P_HEAD_RESPONSES : 0;
	run.mod = s->response ? &aa_http_response_module : &aa_http_request_module;
	run.params = pp;
	run.canon = canon_http;
	run.at_eos = canon_eos;
	run.ctx = &hc;
	run.head_expect = s->head_param ? 0 : s->head;
	run.cfg.records = 8;
	return run;
}

static void run_sample(const struct sample *s, int n_random)
{
	static const uint32_t maxseg[] = { 1, 4, 16, 100, 536, 1460 };
	struct aa_http_params pp;
	struct aa_h_run run = make_run(s, &pp);
	struct aa_cmp_sample cs = { s->name, s->data, s->len };
	struct aa_h_buf want = { 0 };

	if (s->expect_error < 0) {
		reference(s->data, s->len, s->response, s->head, &want);
	} else { /* the module's own whole-stream parse is the reference */
		size_t nsg = aa_h_cut3(s->len, 0, 0, aa_cmp_segs);

		aa_h_feed(&run, s->data, s->len, aa_cmp_segs, nsg, &want);
		CHECK_MSG(aa_cmp_last_error(&want) == s->expect_error,
			  "%s: expected error %d, got:\n%s", s->name,
			  s->expect_error, want.p);
	}
	aa_cmp_expect_cuts(&cs, &run, &want, s->exhaustive);
	aa_cmp_expect_random(&cs, run, &want, maxseg, n_random, 8192);
	aa_h_free(&want);
}

static struct sample file_sample(const char *file, bool response, unsigned head)
{
	struct sample s = { .name = file, .response = response, .head = head,
			    .expect_error = -1, .exhaustive = true };

	s.data = aa_h_read_file(data_dir, file, &s.len);
	return s;
}

/* A keep-alive session of many transactions, every framing mixed. */
static struct sample generated_session(bool response, int n)
{
	struct aa_h_buf b = { 0 };
	struct sample s = { .name = response ? "generated responses"
					     : "generated requests",
			    .response = response, .expect_error = -1 };

	for (int i = 0; i < n; i++) {
		int kind = (int)(test_rand() % 4);
		size_t blen = (size_t)test_rand_range(0, 2000);
		char body[2000];

		for (size_t k = 0; k < blen; k++)
			body[k] = (char)('a' + (k * 7 + (size_t)i) % 26);
		if (response && kind == 3)
			kind = 0;
		if (response)
			aa_h_printf(&b, "HTTP/1.1 %s\r\nServer: gen/%d\r\n"
					"Date: Tue, 02 Jan 2024 10:15:42 GMT\r\n"
					"Content-Type: text/plain\r\n"
					"Cache-Control: max-age=%d\r\n"
					"X-Request-Id: %08x\r\n",
				    kind == 2 ? "304 Not Modified" : "200 OK", i,
				    i * 10, (unsigned)test_rand());
		else
			aa_h_printf(&b, "%s /item/%d?x=%d HTTP/1.1\r\n"
					"Host: example.com\r\n"
					"User-Agent: gen/%d\r\nAccept: */*\r\n",
				    kind ? "POST" : "GET", i, i * 3, i);
		if (kind == 0 || (kind == 2 && !response)) {
			aa_h_printf(&b, "Content-Length: %zu\r\n\r\n", blen);
			aa_h_put(&b, body, blen);
		} else if (kind == 1) {
			size_t off = 0;

			aa_h_printf(&b, "Transfer-Encoding: chunked\r\n\r\n");
			while (off < blen) {
				size_t c = (size_t)test_rand_range(1, 700);

				if (c > blen - off)
					c = blen - off;
				aa_h_printf(&b, "%zx\r\n", c);
				aa_h_put(&b, body + off, c);
				aa_h_put(&b, "\r\n", 2);
				off += c;
			}
			aa_h_printf(&b, "0\r\n%s\r\n",
				    i % 2 ? "X-Sum: 1\r\n" : "");
		} else {
			aa_h_put(&b, "\r\n", 2);
		}
	}
	CHECK(b.len < sizeof(aa_cmp_segs) / sizeof(aa_cmp_segs[0]));
	s.data = b.p;
	s.len = b.len;
	return s;
}

/* ---- malformed streams ------------------------------------------------------- */

struct bad {
	const char *name;
	const char *data;
	size_t len;
	bool response;
	int error;
	uint32_t max_headers, max_head;
};

#define BAD(name, resp, err, str) { name, str, sizeof(str) - 1, resp, err, 0, 0 }
#define BADL(name, resp, err, mh, mb, str) \
	{ name, str, sizeof(str) - 1, resp, err, mh, mb }

static const struct bad bads[] = {
	BADL("header line without end", true, AA_ERR_TOO_LONG, 0, 64,
	     "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	BADL("header section too long", false, AA_ERR_TOO_LONG, 0, 48,
	     "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
	BAD("negative Content-Length", true, AA_ERR_BAD_LENGTH,
	    "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello"),
	BAD("huge Content-Length", true, AA_ERR_BAD_LENGTH,
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
	BAD("Content-Length over 2^63", false, AA_ERR_BAD_LENGTH,
	    "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n"),
	BAD("non-numeric Content-Length", false, AA_ERR_BAD_LENGTH,
	    "POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n"),
	BAD("empty Content-Length", false, AA_ERR_BAD_LENGTH,
	    "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"),
	BAD("two Content-Length", true, AA_ERR_BAD_LENGTH,
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
	BAD("Transfer-Encoding and Content-Length", false, AA_ERR_BAD_ENCODING,
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
	BAD("request coding not chunked", false, AA_ERR_BAD_ENCODING,
	    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxxxx"),
	BAD("bad chunk size", true, AA_ERR_BAD_CHUNK,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"),
	BAD("chunk size overflow", true, AA_ERR_BAD_CHUNK,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n"),
	BAD("no CRLF after chunk", true, AA_ERR_BAD_CHUNK,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"),
	BADL("too many headers", true, AA_ERR_TOO_MANY_FIELDS, 4, 0,
	     "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
	BADL("too many trailers", false, AA_ERR_TOO_MANY_FIELDS, 2, 0,
	     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
	BAD("binary junk", true, AA_ERR_SYNTAX,
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x12"),
	BAD("TLS to a request parser", false, AA_ERR_SYNTAX,
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x12"),
	BAD("NUL in a value", true, AA_ERR_BINARY,
	    "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n"),
	BAD("space before colon", false, AA_ERR_SYNTAX,
	    "GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
	BAD("obsolete folding", true, AA_ERR_SYNTAX,
	    "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n"),
	BAD("HTTP/2.0", true, AA_ERR_SYNTAX, "HTTP/2.0 200 OK\r\n\r\n"),
	BAD("bad status", true, AA_ERR_SYNTAX, "HTTP/1.1 2x0 OK\r\n\r\n"),
	BAD("CR without LF", false, AA_ERR_SYNTAX, "GET / HTTP/1.1\rHost: x\r\n\r\n"),
	BAD("HTTP/0.9 request", false, AA_ERR_SYNTAX, "GET /\r\n\r\n"),
	BAD("control in target", false, AA_ERR_BINARY, "GET /a\x01 HTTP/1.1\r\n\r\n"),
	BAD("truncated head", true, AA_ERR_TRUNCATED,
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"),
	BAD("truncated body", true, AA_ERR_TRUNCATED,
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"),
	BAD("truncated chunked", false, AA_ERR_TRUNCATED,
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"),
};

static void run_bad(const struct bad *b)
{
	struct sample s = { .name = b->name, .data = (char *)(uintptr_t)b->data,
			    .len = b->len, .response = b->response,
			    .expect_error = b->error,
			    .max_headers = b->max_headers,
			    .max_head = b->max_head, .exhaustive = true };

	run_sample(&s, 20);
}

/* ---- a few direct checks ---------------------------------------------------- */

/* Records are the thesis' Answer + per-packet Body: a response whose body
 * spans 3 packets gives 1 head record and 3 body records. */
static void body_per_packet(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n"
				   "0123456789abcdefghij0123456789";
	struct aa_http_params pp = { 0 };
	struct sample s = { .name = "per packet", .data = (char *)(uintptr_t)resp,
			    .len = sizeof(resp) - 1, .response = true };
	struct aa_h_run run = make_run(&s, &pp);
	struct aa_h_buf out = { 0 };
	uint32_t sg[3] = { 49, 10, 10 }; /* head + 10 body bytes, 10, 10 */

	CHECK_EQ_U64(aa_h_feed(&run, resp, sizeof(resp) - 1, sg, 3, &out), 4);
	aa_h_free(&out);
}

int main(int argc, char **argv)
{
	data_dir = aa_h_data_dir(argc, argv, __FILE__);
	aa_h_init(argv[0], true);
	struct sample files[] = {
		file_sample("res_nginx_200.http", true, 0),
		file_sample("res_keepalive.http", true, 0),
		file_sample("res_chunked.http", true, 0),
		file_sample("res_continue.http", true, 0),
		file_sample("res_close.http", true, 0),
		file_sample("res_head.http", true, 3),
		file_sample("res_upgrade.http", true, 0),
		/* Content-Length bodies that end where the next head begins,
		 * one that holds a whole response's bytes and CRLFs, one of
		 * one CR, one empty: skipped by their length, never scanned */
		file_sample("res_lengths.http", true, 0),
		file_sample("req_curl_wget.http", false, 0),
		file_sample("req_firefox.http", false, 0),
		file_sample("req_post_put.http", false, 0),
		file_sample("req_pipeline.http", false, 0),
		file_sample("req_upgrade.http", false, 0),
	};
	struct sample head_param = files[5];

	body_per_packet();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		run_sample(&files[i], AA_H_SANITIZED ? 24 : 40);
	head_param.head_param = true;
	head_param.exhaustive = false;
	run_sample(&head_param, 20);
	for (int resp = 0; resp < 2; resp++) {
		struct sample g = generated_session(resp, AA_H_SANITIZED ? 30 : 80);

		run_sample(&g, AA_H_SANITIZED ? 12 : 30);
		free(g.data);
	}
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		run_bad(&bads[i]);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free(files[i].data);
	aa_h_free(&hc.msg);
	aa_h_free(&hc.body);
	aa_h_free(&hc.tunnel);
	printf("http: %llu runs, %llu records\n", (unsigned long long)aa_cmp_runs,
	       (unsigned long long)aa_cmp_records);
	return test_done();
}
