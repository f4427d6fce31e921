/*
 * test_aa_gen.c - the macro generator (generate_aa_api.h, thesis 4.3.2).
 *
 *   1. http_aa_module, the thesis' HTTP answer module re-expressed with the
 *      macros (src/aa/http_gen_def.h), yields the same records as the
 *      hand-written aa_http_response_module on every response stream of
 *      the subset the thesis' version supports (Content-Length bodies,
 *      responses without a body): same heads (status, reason, version,
 *      headers, Content-Length) and the same per-packet body records, at
 *      every pair of cuts and random segmentations.
 *   2. The generated record struct has the appendix's shape.
 *   3. Two more formats written here (key=value pairs with UNTIL, and a
 *      length-prefixed binary format with LENGTH) against references.
 *   4. Errors: a body cut by the close, too many headers, a bad number.
 */
#include <errno.h>
#include <stddef.h>

#include "aa_compare.h"

#include "aa/http_gen_def.h"
#define AA_GEN_DECLARE_ONLY
#include "generate_aa_api.h"
#undef AA_GEN_DECLARE_ONLY

static const char *data_dir = "tests/c/data/aa";
static uint32_t segs[1 << 18];

/* ---- normalised records ----------------------------------------------------- */

static void canon_gen(struct aa_h_buf *out, const struct aa_record *rec,
		      void *ctx)
{
	const struct http_record *r = (const void *)rec;
	const struct stream_field *sc;
	size_t len;
	int c0, c1, c2;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u\n", rec->error);
		return;
	}
	if (r->type == HTTP_BODY) {
		/* the thesis emits an empty Body record for Content-Length 0
		 * (and no body at all); the hand-written module does not */
		if (aa_field_len(r->fields.body.data))
			aa_cmp_body_line(out, r->fields.body.data);
		return;
	}
	CHECK(r->type == HTTP_ANSWER);
	/* "HTTP/1.1 " + "200 OK\r\n" */
	CHECK(aa_field_has_prefix(r->fields.answer.version, "HTTP/1."));
	CHECK(aa_field_len(r->fields.answer.version) == 9);
	sc = r->fields.answer.status_code;
	len = aa_field_len(sc);
	CHECK(len >= 5 && aa_field_byte(sc, len - 1) == '\n');
	c0 = aa_field_byte(sc, 0);
	c1 = aa_field_byte(sc, 1);
	c2 = aa_field_byte(sc, 2);
	aa_h_printf(out, "A %d|", (c0 - '0') * 100 + (c1 - '0') * 10 + (c2 - '0'));
	if (len > 5)
		aa_cmp_put_trimmed(out, sc, 4, len - 2);
	else
		aa_h_put(out, "0:", 2); /* no reason phrase */
	aa_h_printf(out, "|%d|CL%d|",
		    10 + aa_field_byte(r->fields.answer.version, 7) - '0',
		    r->variables.answer.content_length);
	/* header fields until the empty line "\r\n" */
	for (unsigned i = 0; i < 16; i++) {
		const struct stream_field *h = r->fields.raw_fields[2 + i];

		CHECK(h);
		if (aa_field_cmp(h, "\r\n") == 0)
			break;
		aa_cmp_raw_header(out, h, 2); /* the thesis keeps the CRLF */
	}
	aa_h_put(out, "\n", 1);
}

/* ---- 1. generated vs hand-written ------------------------------------------- */

static const struct aa_cmp_pair gen_modules = {
	.what = "generated module",
	.ref = { .mod = &aa_http_response_module,
		 .canon = aa_cmp_canon_http_plain },
	.alt = { .mod = &http_aa_module, .canon = canon_gen },
};

/* Keep-alive responses; the caller frees the buffer. */
static struct aa_h_buf session(int n)
{
	struct aa_h_buf b = { 0 };

	for (int i = 0; i < n; i++) {
		size_t blen = i % 7 == 3 ? 0 : (size_t)test_rand_range(1, 4000);

		aa_h_printf(&b, "HTTP/1.1 %s\r\nServer: gen\r\nContent-Type: text/plain\r\n"
				"Content-Length: %zu\r\nX-N: %d\r\n\r\n",
			    i % 5 ? "200 OK" : "404 Not Found", blen, i);
		for (size_t k = 0; k < blen; k++)
			aa_h_put(&b, &"abcdefghij"[(k + (size_t)i) % 10], 1);
		if (i % 9 == 4)
			aa_h_printf(&b, "HTTP/1.1 304 Not Modified\r\nETag: \"x%d\"\r\n\r\n", i);
	}
	return b;
}

/* ---- 2. the appendix's record shape ----------------------------------------- */

static void shape(void)
{
	struct http_record r;

	CHECK(offsetof(struct http_record, next) == offsetof(struct aa_record, next));
	CHECK(offsetof(struct http_record, type) == offsetof(struct aa_record, type));
	CHECK((void *)&r.fields.answer.version == (void *)&r.fields.raw_fields[0]);
	CHECK((void *)&r.fields.answer.header15 == (void *)&r.fields.raw_fields[17]);
	CHECK((void *)&r.fields.body.data == (void *)&r.fields.raw_fields[0]);
	CHECK(sizeof(r.fields.raw_fields) / sizeof(r.fields.raw_fields[0]) == NUM_FIELDS);
	CHECK(HTTP_ANSWER == 0 && HTTP_BODY == 1);
	CHECK(HTTP_ANSWER_VERSION == 0 && HTTP_ANSWER_STATUS_CODE == 1 &&
	      HTTP_ANSWER_HEADER_0 == 2 && HTTP_BODY_DATA == 0);
	CHECK(strcmp(http_aa_module.name, "http") == 0);
	CHECK(http_aa_module.abi == AA_MODULE_ABI);
	(void)(http_record_t)&r;
}

/* ---- 3. two more formats ---------------------------------------------------- */

#undef PROTOCOL
#undef NUM_FIELDS
#undef REGISTER_STATES
#undef REGISTER_VARIABLES
#undef ON_END_OF_STREAM
#undef MAX_RECORD_BYTES
/* key=value; pairs, then a '.' line ends a group */
#define PROTOCOL kv
#define REGISTER_STATES() STATE(KV_PAIR, pair)
#define REGISTER_VARIABLES() VARIABLE(pairs, long)
#define REGISTER_FIELDS_KV_PAIR                                  \
	FIELD(KV_KEY, key, UNTIL("="), VOID())                   \
	FIELD(KV_VALUE, value, UNTIL(";"),                        \
	      SET_VARIABLE(pairs, GET_VARIABLE(pairs) + 1);       \
	      SET_RECORD_VARIABLE(pair.n, GET_VARIABLE(pairs));   \
	      END_OF_RECORD())
#define REGISTER_VARIABLES_KV_PAIR VARIABLE(n, long)
#define AA_GEN_STATIC
#include "generate_aa_api.h"

#undef PROTOCOL
#undef REGISTER_STATES
#undef REGISTER_VARIABLES
/* binary: 2-byte big-endian length, then that many bytes; "\xff\xff"
 * then a 4-byte tag ends the stream's framing (tag record) */
#define PROTOCOL lp
#define REGISTER_STATES() STATE(LP_FRAME, frame) STATE(LP_TAG, tag)
#define REGISTER_VARIABLES() VARIABLE(len, int)
#define LP_LEN()                                                          \
	SET_VARIABLE(len, aa_field_byte(THIS_FIELD(), 0) * 256 +          \
				  aa_field_byte(THIS_FIELD(), 1));        \
	if (GET_VARIABLE(len) == 0xffff)                                  \
		SET_VARIABLE(len, 0), SET_STATE(LP_TAG), END_OF_RECORD()
#define REGISTER_FIELDS_LP_FRAME                                          \
	FIELD(LP_FRAME_LEN, len, LENGTH(2), LP_LEN())                     \
	FIELD(LP_FRAME_DATA, data, LENGTH(GET_VARIABLE(len)),             \
	      SET_RECORD_VARIABLE(frame.bytes, FIELD_LEN()); END_OF_RECORD())
#define REGISTER_VARIABLES_LP_FRAME VARIABLE(bytes, int)
#define REGISTER_FIELDS_LP_TAG FIELD(LP_TAG_TAG, tag, LENGTH(4), END_OF_RECORD())
#define REGISTER_VARIABLES_LP_TAG
#include "generate_aa_api.h"

static void canon_kv(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct kv_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u@%llu\n", rec->error, (unsigned long long)rec->offset);
		return;
	}
	aa_h_printf(out, "%ld ", r->variables.pair.n);
	aa_h_field(out, r->fields.pair.key);
	aa_h_put(out, " ", 1);
	aa_h_field(out, r->fields.pair.value);
	aa_h_put(out, "\n", 1);
}

static void canon_lp(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct lp_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u@%llu\n", rec->error, (unsigned long long)rec->offset);
		return;
	}
	if (r->type == LP_TAG) {
		aa_h_put(out, "T ", 2);
		aa_h_field(out, r->fields.tag.tag);
	} else if (aa_field_len(r->fields.frame.data) == 0 && r->fields.frame.len &&
		   aa_field_byte(r->fields.frame.len, 0) == 0xff) {
		aa_h_put(out, "M", 1); /* the marker record */
	} else {
		CHECK(r->variables.frame.bytes == (int)aa_field_len(r->fields.frame.data));
		aa_h_put(out, "F ", 2);
		aa_h_field(out, r->fields.frame.data);
	}
	aa_h_put(out, "\n", 1);
}

static void more_formats(void)
{
	struct aa_h_buf data = { 0 }, want = { 0 }, got = { 0 };
	struct aa_h_run kv = { .mod = &kv_aa_module, .canon = canon_kv };
	struct aa_h_run lp = { .mod = &lp_aa_module, .canon = canon_lp };
	size_t n;

	/* kv: keys and values with repeated delimiter bytes around */
	for (int i = 0; i < 300; i++) {
		char key[16], val[40];
		int kl = (int)test_rand_range(0, 10), vl = (int)test_rand_range(0, 30);

		for (int k = 0; k < kl; k++)
			key[k] = "ab;"[test_rand() % 3];
		for (int k = 0; k < vl; k++)
			val[k] = "xy=="[test_rand() % 4];
		aa_h_put(&data, key, (size_t)kl);
		aa_h_put(&data, "=", 1);
		aa_h_put(&data, val, (size_t)vl);
		aa_h_put(&data, ";", 1);
		aa_h_printf(&want, "%d %d:", i + 1, kl);
		aa_h_put(&want, key, (size_t)kl);
		aa_h_printf(&want, " %d:", vl);
		aa_h_put(&want, val, (size_t)vl);
		aa_h_put(&want, "\n", 1);
	}
	for (int k = 0; k < 40; k++) {
		n = aa_h_random_segs(data.len, k % 2 ? 3 : 200, segs);
		kv.cfg.max_extra_views = 4096;
		aa_h_feed(&kv, data.p, data.len, segs, n, &got);
		if (!aa_h_same(&got, &want)) {
			aa_h_diff("kv", &want, &got);
			CHECK(0);
		}
		aa_h_clear(&got);
	}
	/* the stream ends inside a pair: an error record */
	n = aa_h_cut3(5, 2, 3, segs);
	aa_h_feed(&kv, "ab=cd", 5, segs, n, &got);
	CHECK(strcmp(got.p, "E9@5\n") == 0);
	aa_h_clear(&got);

	/* lp: frames of 0..3000 bytes, across packets (LENGTH) */
	aa_h_clear(&data);
	aa_h_clear(&want);
	for (int i = 0; i < 60; i++) {
		int len = i % 10 == 0 ? 0 : (int)test_rand_range(1, 3000);
		unsigned char hdr[2] = { (unsigned char)(len >> 8), (unsigned char)len };

		aa_h_put(&data, hdr, 2);
		aa_h_printf(&want, "F %d:", len);
		for (int k = 0; k < len; k++) {
			char ch = (char)test_rand();

			aa_h_put(&data, &ch, 1);
			aa_h_put(&want, &ch, 1);
		}
		aa_h_put(&want, "\n", 1);
	}
	aa_h_put(&data, "\xff\xffTAG!", 6);
	aa_h_put(&want, "M\nT 4:TAG!\n", 11);
	for (int k = 0; k < 30; k++) {
		n = aa_h_random_segs(data.len, k % 3 ? 1460 : 7, segs);
		lp.cfg.max_extra_views = 8192;
		aa_h_feed(&lp, data.p, data.len, segs, n, &got);
		if (!aa_h_same(&got, &want)) {
			aa_h_diff("lp", &want, &got);
			CHECK(0);
		}
		aa_h_clear(&got);
	}
	aa_h_free(&data);
	aa_h_free(&want);
	aa_h_free(&got);
}

/* ---- 4. errors of the generated HTTP module -------------------------------- */

static void gen_errors(void)
{
	static const struct {
		const char *s;
		unsigned err;
	} t[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", AA_ERR_TRUNCATED },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", AA_ERR_SYNTAX },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", AA_ERR_SYNTAX },
		{ "HTTP/1.1 200 OK\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
		  "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
		  "A: 1\r\nA: 1\r\nA: 1\r\n\r\n", AA_ERR_TOO_MANY_FIELDS },
		{ "HTTP/1.1 200 OK\r\nX: y", AA_ERR_TRUNCATED },
	};
	struct aa_h_run gen = { .mod = &http_aa_module, .canon = canon_gen };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = strlen(t[i].s);

		for (size_t cut = 1; cut < len; cut += 3) {
			struct aa_h_buf out = { 0 };
			size_t n = aa_h_cut3(len, cut, cut, segs);
			char want[16];

			snprintf(want, sizeof(want), "E%u\n", t[i].err);
			aa_h_feed(&gen, t[i].s, len, segs, n, &out);
			CHECK_MSG(out.len >= strlen(want) &&
					  strcmp(out.p + out.len - strlen(want), want) == 0,
				  "case %zu: %s", i, out.p);
			aa_h_free(&out);
		}
	}
}

int main(int argc, char **argv)
{
	data_dir = aa_h_data_dir(argc, argv, __FILE__);
	aa_h_init(argv[0], true);
	shape();
	aa_cmp_http_responses(&gen_modules, data_dir, session);
	more_formats();
	gen_errors();
	printf("gen: %llu comparisons\n", (unsigned long long)aa_cmp_runs);
	return test_done();
}
