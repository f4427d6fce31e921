/*
 * test_fmt_http.c - the HTTP response module compiled from
 * formats/http_response.fmt (the thesis' appendix module, table 4.1)
 * against the hand-written aa_http_response_module, through real mbufs, a
 * real zc stream and the aa runtime (test_aa_harness.h).
 *
 *   1. Same records on every response stream of the subset the thesis'
 *      module covers (Content-Length bodies, responses without a body:
 *      1xx, 204, 304, length 0): the same heads (status, reason, version,
 *      Content-Length, header names and values) and the same per-packet
 *      body records, whole, at every pair of cuts and at random
 *      segmentations with slow applications and tiny pools.
 *   2. Errors: each malformed stream gives its error record, with the same
 *      code and offset whatever the segmentation.
 */
#include <errno.h>

#include "aa_compare.h"

#include "fmt_http_response.h"

static const char *data_dir = "tests/c/data/aa";
static uint32_t segs[1 << 18];

/* ---- normalised records ---------------------------------------------------- */

static void canon_fmt(struct aa_h_buf *out, const struct aa_record *rec,
		      void *ctx)
{
	const struct http_response_record *r = (const void *)rec;
	const struct stream_field *v = r->fields.answer.version;
	const struct stream_field *sc = r->fields.answer.status;
	uint32_t nh = r->vars.answer.n_header;

	if (rec->type == AA_RECORD_ERROR) {
		if (ctx)
			aa_h_printf(out, "@%llu", (unsigned long long)rec->offset);
		aa_h_printf(out, "E%u\n", rec->error);
		return;
	}
	if (rec->type == HTTP_RESPONSE_BODY) {
		CHECK(aa_field_len(r->fields.body.data) > 0);
		if (ctx) /* only the bytes: records follow the packets */
			aa_field_foreach_view(w, r->fields.body.data)
				aa_h_put(out, w->data.start,
					 (size_t)(w->data.end - w->data.start));
		else
			aa_cmp_body_line(out, r->fields.body.data);
		return;
	}
	CHECK(rec->type == HTTP_RESPONSE_ANSWER);
	CHECK(aa_field_has_prefix(v, "HTTP/1.") && aa_field_len(v) == 8);
	CHECK(aa_field_len(sc) == 3);
	aa_h_printf(out, "A@%llu %d|", (unsigned long long)rec->offset,
		    (aa_field_byte(sc, 0) - '0') * 100 +
			    (aa_field_byte(sc, 1) - '0') * 10 +
			    (aa_field_byte(sc, 2) - '0'));
	aa_h_field(out, r->fields.answer.reason);
	aa_h_printf(out, "|%d|CL%lld|", 10 + aa_field_byte(v, 7) - '0',
		    (long long)r->vars.answer.content_length);
	/* "Name: value" lines, then the empty line that ended the section */
	CHECK(nh >= 1 && nh <= 64);
	CHECK(aa_field_len(r->fields.answer.header[nh - 1]) == 0);
	CHECK(nh == 64 || r->fields.answer.header[nh] == NULL);
	for (uint32_t i = 0; i + 1 < nh; i++)
		aa_cmp_raw_header(out, r->fields.answer.header[i], 0);
	aa_h_put(out, "\n", 1);
}

/* ---- 1. compiled vs hand-written ------------------------------------------- */

/* Against the hand-written module; the samples are well-formed: no error
 * record. */
static const struct aa_cmp_pair fmt_modules = {
	.what = "the compiled module",
	.ref = { .mod = &aa_http_response_module,
		 .canon = aa_cmp_canon_http_at },
	.alt = { .mod = &http_response_aa_module, .canon = canon_fmt },
	.well_formed = true,
};

/* Keep-alive responses: random bodies, no-body statuses, many headers;
 * the caller frees the buffer. */
static struct aa_h_buf session(int n)
{
	struct aa_h_buf b = { 0 };

	for (int i = 0; i < n; i++) {
		size_t blen = i % 7 == 3 ? 0 : (size_t)test_rand_range(1, 4000);

		aa_h_printf(&b, "HTTP/1.1 %s\r\nServer: fmt\r\ncontent-length:%zu\r\n"
				"Content-Type: text/plain\r\nX-N: %d\r\n",
			    i % 5 ? "200 OK" : "404 Not Found", blen, i);
		for (int h = 0; h < (i % 11 == 5 ? 55 : 2); h++)
			aa_h_printf(&b, "X-H%d:\t v%d \r\n", h, h);
		aa_h_put(&b, "\r\n", 2);
		for (size_t k = 0; k < blen; k++)
			aa_h_put(&b, &"abcdefghij"[(k + (size_t)i) % 10], 1);
		if (i % 9 == 4)
			aa_h_printf(&b, "HTTP/1.1 304 Not Modified\r\nETag: \"x%d\"\r\n\r\n", i);
		if (i % 13 == 6)
			aa_h_printf(&b, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	return b;
}

/* ---- 2. errors ----------------------------------------------------------------- */

static void errors(void)
{
	static const struct {
		const char *s;
		unsigned err;
	} t[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", AA_ERR_TRUNCATED },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", AA_ERR_SYNTAX },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", AA_ERR_BAD_LENGTH },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  AA_ERR_SYNTAX },
		{ "HTTP/1.1 200 OK\r\nX: y", AA_ERR_TRUNCATED },
		{ "HTTP/1.1 2000 OK\r\n\r\n", AA_ERR_TOO_LONG },
		{ "HTTP/1.1.1.1.1.1.1.1 200 OK\r\n\r\n", AA_ERR_TOO_LONG },
		{ "HTTP/1.1 200 OK\r\n", AA_ERR_TRUNCATED },
	};
	static int join_bodies;
	struct aa_h_run fmt = { .mod = &http_response_aa_module,
				.canon = canon_fmt, .ctx = &join_bodies };
	struct aa_h_buf many = { 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = strlen(t[i].s);
		struct aa_h_buf first = { 0 };
		char want[16];

		snprintf(want, sizeof(want), "E%u\n", t[i].err);
		for (size_t cut = 0; cut < len; cut++) {
			struct aa_h_buf out = { 0 };
			size_t n = aa_h_cut3(len, cut, cut, segs);
			aa_h_feed(&fmt, t[i].s, len, segs, n, &out);
			CHECK_MSG(out.len >= strlen(want) &&
					  strcmp(out.p + out.len - strlen(want), want) == 0,
				  "case %zu: %s", i, out.p);
			if (cut == 0)
				aa_h_put(&first, out.p, out.len);
			else
				CHECK_MSG(aa_h_same(&first, &out), "case %zu at cut %zu", i, cut);
			aa_h_free(&out);
		}
		aa_h_free(&first);
	}
	/* 64 header lines and the empty one: one too many (the error is after
	 * the 64th line: 17 + 10 * 7 + 54 * 8 = 519) */
	aa_h_printf(&many, "HTTP/1.1 200 OK\r\n");
	for (int h = 0; h < 64; h++)
		aa_h_printf(&many, "H%d: x\r\n", h);
	aa_h_printf(&many, "\r\n");
	for (int k = 0; k < 20; k++) {
		struct aa_h_buf out = { 0 };
		size_t n = aa_h_random_segs(many.len, k % 2 ? 7 : 300, segs);

		fmt.cfg.max_extra_views = 4096;
		aa_h_feed(&fmt, many.p, many.len, segs, n, &out);
		CHECK_MSG(strcmp(out.p, "@519E4\n") == 0, "%s", out.p);
		aa_h_free(&out);
	}
	aa_h_free(&many);
}

/* ---- the module ------------------------------------------------------------------ */

static void shape(void)
{
	struct http_response_record r;

	CHECK(strcmp(http_response_aa_module.name, "http_response") == 0);
	CHECK(http_response_aa_module.params_size == 0);
	CHECK(HTTP_RESPONSE_ANSWER == 1 && HTTP_RESPONSE_BODY == 2);
	CHECK(HTTP_RESPONSE_N_STATES == 2 && HTTP_RESPONSE_MAX_FIELDS == 67);
	CHECK((void *)&r.fields.answer.version == (void *)&r.fields.raw[0]);
	CHECK((void *)&r.fields.answer.header[63] == (void *)&r.fields.raw[66]);
	CHECK((void *)&r.fields.body.data == (void *)&r.fields.raw[0]);
	CHECK(offsetof(struct http_response_record, hdr) == 0);
}

int main(int argc, char **argv)
{
	data_dir = aa_h_data_dir(argc, argv, __FILE__);
	aa_h_init(argv[0], true);
	shape();
	aa_cmp_http_responses(&fmt_modules, data_dir, session);
	errors();
	printf("fmt_http: %llu comparisons\n", (unsigned long long)aa_cmp_runs);
	return test_done();
}
