/*
 * aa_compare.h - the "same records at every segmentation" scaffolding of
 * the application-aware tests, on top of test_aa_harness.h.
 *
 * Two ways to compare:
 *   - against a reference text (aa_cmp_expect*): test_aa_csv and
 *     test_aa_http, whose references are libraries or a model parser;
 *   - two modules against each other (aa_cmp_pair_*): test_aa_gen and
 *     test_fmt_http, a generated module against the hand-written one.
 *
 * Header-only, like test_aa_harness.h: the harness keeps its pools in
 * per-file statics (aa_env), so its functions must be compiled in the
 * test's own file to see the pools the test set up.
 */
#ifndef AATCP_TEST_AA_COMPARE_H
#define AATCP_TEST_AA_COMPARE_H

#include "test_aa_harness.h"

/* Runs and records seen, for the tests' closing line. */
static uint64_t aa_cmp_runs, aa_cmp_records;
static uint32_t aa_cmp_segs[1 << 18];

struct aa_cmp_sample {
	const char *name;
	const char *data;
	size_t len;
};

/* The code of the error record that ends b ("E<code>..." last line), -1
 * when the last record is not an error. */
static inline int aa_cmp_last_error(const struct aa_h_buf *b)
{
	const char *last;
	unsigned code;

	if (!b->len)
		return -1;
	last = b->len >= 2 ? memrchr(b->p, '\n', b->len - 1) : NULL;
	last = last ? last + 1 : b->p;
	return sscanf(last, "E%u", &code) == 1 ? (int)code : -1;
}

/* ---- against a reference text ---------------------------------------------- */

/* Parses s cut as sg says; the records must be want's. */
static inline void aa_cmp_expect(const struct aa_cmp_sample *s,
				 const struct aa_h_run *run, const uint32_t *sg,
				 size_t nsg, const struct aa_h_buf *want,
				 const char *how)
{
	struct aa_h_buf got = { 0 };

	aa_cmp_records += aa_h_feed(run, s->data, s->len, sg, nsg, &got);
	aa_cmp_runs++;
	if (!aa_h_same(&got, want)) {
		aa_h_diff(s->name, want, &got);
		CHECK_MSG(0, "%s: %s differs from the reference", s->name, how);
	}
	aa_h_free(&got);
}

struct aa_cmp_expect_arg {
	const struct aa_cmp_sample *s;
	const struct aa_h_run *run;
	const struct aa_h_buf *want;
};

static inline void aa_cmp_expect_pair(size_t i, size_t j, void *arg)
{
	struct aa_cmp_expect_arg *a = arg;
	size_t nsg = aa_h_cut3(a->s->len, i, j, aa_cmp_segs);

	aa_cmp_expect(a->s, a->run, aa_cmp_segs, nsg, a->want, "3 pieces");
}

/* The stream in one segment, then (pairs) cut at every pair of places. */
static inline void aa_cmp_expect_cuts(const struct aa_cmp_sample *s,
				      const struct aa_h_run *run,
				      const struct aa_h_buf *want, bool pairs)
{
	struct aa_cmp_expect_arg a = { s, run, want };
	size_t nsg = aa_h_cut3(s->len, 0, 0, aa_cmp_segs);

	aa_cmp_expect(s, run, aa_cmp_segs, nsg, want, "one segment");
	if (pairs)
		aa_h_for_pairs(s->len, aa_cmp_expect_pair, &a);
}

/* Random segmentations (segment bounds cycling through maxseg[6]) with
 * slow applications and tiny pools; extra_views: the view pool's room
 * for the tiniest segments. */
static inline void aa_cmp_expect_random(const struct aa_cmp_sample *s,
					struct aa_h_run run,
					const struct aa_h_buf *want,
					const uint32_t maxseg[6], int rounds,
					uint32_t extra_views)
{
	for (int k = 0; k < rounds; k++) {
		size_t nsg = aa_h_random_segs(s->len, maxseg[k % 6], aa_cmp_segs);

		run.hold_steps = (unsigned)(k % 3 == 0 ? test_rand_range(1, 20) : 0);
		run.read_batch = (unsigned)test_rand_range(1, 32);
		run.cfg.records = k % 2 ? (uint32_t)test_rand_range(2, 6) : 0;
		run.cfg.views = k % 4 == 1 ? 1 : 0; /* the minimum */
		run.cfg.max_extra_views = k % 6 < 2 ? extra_views : 0;
		run.check_every = k % 5 ? 0 : nsg <= 2000 ? 1 : 257;
		aa_cmp_expect(s, &run, aa_cmp_segs, nsg, want, "random segmentation");
	}
}

/* ---- two modules against each other ---------------------------------------- */

struct aa_cmp_pair {
	struct aa_cmp_sample s;
	const char *what;        /* the second module, for messages */
	struct aa_h_run ref, alt; /* only mod, canon (and ctx) set */
	bool well_formed;        /* the reference must give no error record */
};

static inline bool aa_cmp_no_error(const struct aa_h_buf *b)
{
	return b->len == 0 || (b->p[0] != 'E' && !strstr(b->p, "\nE"));
}

/* Both modules parse the stream cut as sg says, with an application that
 * holds its records hold segments and a record pool of records. */
static inline void aa_cmp_pair_once(const struct aa_cmp_pair *p,
				    const uint32_t *sg, size_t n,
				    unsigned hold, uint32_t records)
{
	struct aa_h_run ref = p->ref, alt = p->alt;
	struct aa_h_buf a = { 0 }, b = { 0 };

	ref.hold_steps = alt.hold_steps = hold;
	ref.cfg.records = alt.cfg.records = records;
	ref.cfg.max_extra_views = alt.cfg.max_extra_views = n > 64 ? 4096 : 0;
	aa_h_feed(&ref, p->s.data, p->s.len, sg, n, &a);
	aa_h_feed(&alt, p->s.data, p->s.len, sg, n, &b);
	aa_cmp_runs++;
	if (!aa_h_same(&a, &b)) {
		aa_h_diff(p->s.name, &a, &b);
		CHECK_MSG(0, "%s: %s differs", p->s.name, p->what);
	}
	if (p->well_formed)
		CHECK_MSG(aa_cmp_no_error(&a), "%s: %s", p->s.name, a.p);
	aa_h_free(&a);
	aa_h_free(&b);
}

static inline void aa_cmp_pair_cut(size_t i, size_t j, void *arg)
{
	const struct aa_cmp_pair *p = arg;
	size_t n = aa_h_cut3(p->s.len, i, j, aa_cmp_segs);

	aa_cmp_pair_once(p, aa_cmp_segs, n, 0, 8);
}

/* Whole, at every pair of cuts (a small record pool), then n_random
 * random segmentations with slow applications. */
static inline void aa_cmp_pair_every_segmentation(const struct aa_cmp_pair *p,
						  int n_random)
{
	size_t n = aa_h_cut3(p->s.len, 0, 0, aa_cmp_segs);

	aa_cmp_pair_once(p, aa_cmp_segs, n, 0, 0);
	aa_h_for_pairs(p->s.len, aa_cmp_pair_cut, (void *)p);
	for (int k = 0; k < n_random; k++) {
		static const uint32_t maxseg[] = { 1, 5, 50, 536, 1460 };

		n = aa_h_random_segs(p->s.len, maxseg[k % 5], aa_cmp_segs);
		aa_cmp_pair_once(p, aa_cmp_segs, n,
				 k % 3 ? 0 : (unsigned)test_rand_range(1, 9),
				 k % 2 ? 0 : (uint32_t)test_rand_range(2, 6));
	}
}

/* A long stream (a generated session): random segmentations only, the
 * pairs of cuts would take too long. */
static inline void aa_cmp_pair_random(const struct aa_cmp_pair *p, int rounds)
{
	for (int k = 0; k < rounds; k++) {
		static const uint32_t maxseg[] = { 1460, 536, 9, 1 };
		size_t n = aa_h_random_segs(p->s.len, maxseg[k % 4], aa_cmp_segs);

		aa_cmp_pair_once(p, aa_cmp_segs, n, k % 3 ? 0 : 3, k % 2 ? 4 : 0);
	}
}

/* ---- HTTP responses as text (test_aa_gen, test_fmt_http) ------------------- */

static inline void aa_cmp_body_line(struct aa_h_buf *out,
				    const struct stream_field *f)
{
	aa_h_put(out, "B ", 2);
	aa_h_field(out, f);
	aa_h_put(out, "\n", 1);
}

/* A record of the hand-written aa_http_response_module; the head's stream
 * offset too when with_offset. The other module's canonicaliser must
 * write the same text. */
static inline void aa_cmp_canon_http_hand(struct aa_h_buf *out,
					  const struct aa_record *rec,
					  bool with_offset)
{
	const struct aa_http_record *r = (const void *)rec;

	if (rec->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u\n", rec->error);
		return;
	}
	if (rec->type == AA_HTTP_BODY) {
		aa_cmp_body_line(out, r->data);
		return;
	}
	CHECK(rec->type == AA_HTTP_RESPONSE);
	if (with_offset)
		aa_h_printf(out, "A@%llu %u|", (unsigned long long)rec->offset, r->status);
	else
		aa_h_printf(out, "A %u|", r->status);
	aa_h_field(out, r->line[2]);
	aa_h_printf(out, "|%u|CL%llu|", r->version,
		    (unsigned long long)((r->flags & AA_HTTP_F_LENGTH)
						 ? r->content_length : 0));
	for (uint32_t i = 0; i < r->n_headers; i++) {
		aa_h_field(out, r->headers[i].name);
		aa_h_put(out, "=", 1);
		aa_h_field(out, r->headers[i].value);
		aa_h_put(out, ";", 1);
	}
	aa_h_put(out, "\n", 1);
}

/* aa_cmp_canon_http_hand() as the reference run's canonicaliser: without
 * the offsets (test_aa_gen: the thesis' records have none), with them. */
static inline void aa_cmp_canon_http_plain(struct aa_h_buf *out,
					   const struct aa_record *rec, void *ctx)
{
	(void)ctx;
	aa_cmp_canon_http_hand(out, rec, false);
}

static inline void aa_cmp_canon_http_at(struct aa_h_buf *out,
					const struct aa_record *rec, void *ctx)
{
	(void)ctx;
	aa_cmp_canon_http_hand(out, rec, true);
}

/* Bytes [from, to) of a field without the blanks around them, length-
 * prefixed as aa_h_field() writes a field. */
static inline void aa_cmp_put_trimmed(struct aa_h_buf *out,
				      const struct stream_field *f,
				      size_t from, size_t to)
{
	char tmp[512];
	size_t n;

	CHECK(to >= from && to - from < sizeof(tmp));
	n = aa_field_copy_range(f, from, tmp, to - from);
	CHECK(n == to - from);
	while (n && (tmp[n - 1] == ' ' || tmp[n - 1] == '\t'))
		n--;
	from = 0;
	while (from < n && (tmp[from] == ' ' || tmp[from] == '\t'))
		from++;
	aa_h_u64(out, n - from);
	aa_h_put(out, ":", 1);
	aa_h_put(out, tmp + from, n - from);
}

/* A raw header line (a field of "Name: value" and tail more bytes, the
 * CRLF where the module keeps it) as aa_cmp_canon_http_hand() writes a
 * header: "name=value;", the value trimmed. */
static inline void aa_cmp_raw_header(struct aa_h_buf *out,
				     const struct stream_field *h, size_t tail)
{
	long colon = aa_field_chr(h, ':', 0);
	char name[128];

	CHECK(colon > 0);
	aa_h_u64(out, (uint64_t)colon);
	aa_h_put(out, ":", 1);
	CHECK((size_t)colon < sizeof(name));
	aa_field_copy_range(h, 0, name, (size_t)colon);
	aa_h_put(out, name, (size_t)colon);
	aa_h_put(out, "=", 1);
	aa_cmp_put_trimmed(out, h, (size_t)colon + 1, aa_field_len(h) - tail);
	aa_h_put(out, ";", 1);
}

/*
 * What test_aa_gen and test_fmt_http check of a module for the thesis'
 * HTTP response subset (Content-Length bodies, responses without a body)
 * against the hand-written one: the response samples of dir at every
 * segmentation, then session(n) (a generated keep-alive stream, made
 * after the samples ran: the RNG's sequence stays the test's) at random
 * ones. modules: ref, alt, what and well_formed; its s is not used.
 */
static inline void aa_cmp_http_responses(const struct aa_cmp_pair *modules,
					 const char *dir,
					 struct aa_h_buf (*session)(int n))
{
	static const char *const files[] = { "res_nginx_200.http",
					     "res_keepalive.http",
					     "res_continue.http" };
	struct aa_cmp_pair p = *modules;
	struct aa_h_buf b;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *data = aa_h_read_file(dir, files[i], &p.s.len);

		p.s.name = files[i];
		p.s.data = data;
		aa_cmp_pair_every_segmentation(&p, AA_H_SANITIZED ? 16 : 30);
		free(data);
	}
	b = session(AA_H_SANITIZED ? 40 : 120);
	p.s = (struct aa_cmp_sample){ "generated session", b.p, b.len };
	aa_cmp_pair_random(&p, AA_H_SANITIZED ? 8 : 30);
	aa_h_free(&b);
}

#endif /* AATCP_TEST_AA_COMPARE_H */
