/*
 * test_fmt_csv.c - the CSV module compiled from formats/csv.fmt by the
 * format compiler (aatcp/formats; meson runs it at build time) against the
 * hand-written aa_csv_module, through real mbufs, a real zc stream and the
 * aa runtime (test_aa_harness.h).
 *
 * For every sample (the .csv files of tests/c/data/aa/ and inline streams,
 * well-formed or not) both modules parse the stream cut at every pair of
 * boundaries (3 pieces) and by random segmentations, with an application
 * that frees at once or holds records (back-pressure, tiny pools): the
 * records - fields, offsets, error records with their code and offset -
 * must be the same, and every pool must come back full.
 *
 * Where the two differ by design (docs/formats.md, "CSV"), the sample
 * compares less: a line with too many fields is an error with the same
 * code, reported one byte later (after the delimiter, as every error of a
 * compiled module's actions); NUL bytes and a bare CR are data for the
 * compiled module, so random streams are drawn without them.
 */
#include <errno.h>

#include "aa_compare.h"

#include "fmt_csv.h"

static const char *data_dir = "tests/c/data/aa";
static uint32_t segs[1 << 16];
static uint64_t n_runs, n_records;

struct canon_ctx {
	bool error_offsets; /* compare the offsets of error records */
	uint32_t columns;
};

static void canon_error(struct aa_h_buf *out, const struct aa_record *r,
			const struct canon_ctx *c)
{
	CHECK(r->message != NULL);
	if (c->error_offsets)
		aa_h_printf(out, "E%u@%llu\n", r->error,
			    (unsigned long long)r->offset);
	else
		aa_h_printf(out, "E%u\n", r->error);
}

static void canon_fields(struct aa_h_buf *out, const struct aa_record *r,
			 struct stream_field *const *f, uint32_t n)
{
	aa_h_put(out, "L@", 2);
	aa_h_u64(out, r->offset);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(f[i] != NULL);
		aa_h_put(out, " ", 1);
		aa_h_field(out, f[i]);
	}
	aa_h_put(out, "\n", 1);
	n_records++;
}

static void canon_hand(struct aa_h_buf *out, const struct aa_record *r, void *vc)
{
	const struct aa_csv_record *cr = (const void *)r;

	if (r->type == AA_RECORD_ERROR) {
		canon_error(out, r, vc);
		return;
	}
	CHECK(r->type == AA_CSV_LINE);
	canon_fields(out, r, cr->fields, cr->n_fields);
}

static void canon_fmt(struct aa_h_buf *out, const struct aa_record *r, void *vc)
{
	const struct canon_ctx *c = vc;
	const struct csv_record *cr = (const void *)r;

	if (r->type == AA_RECORD_ERROR) {
		canon_error(out, r, c);
		return;
	}
	CHECK(r->type == CSV_LINE);
	CHECK_EQ_U64(cr->vars.line.n_col, c->columns);
	/* col[columns]: the record has columns slots (col[columns] lies past it) */
	CHECK_EQ_U64(r->nfields, c->columns);
	canon_fields(out, r, cr->fields.line.col, cr->vars.line.n_col);
}

/* ---- one sample, every segmentation ---------------------------------------- */

struct sample {
	const char *name;
	const char *data;
	size_t len;
	uint32_t columns;
	uint32_t max_record; /* runtime record limit, 0: the modules' */
	bool error_offsets;
	int expect_error;    /* the last record's error code, -1: none */
};

struct pair {
	struct aa_h_run hand, fmt;
	struct aa_csv_params hp;
	struct csv_params fp;
	struct canon_ctx cc;
};

static void make_pair(struct pair *pr, const struct sample *s)
{
	memset(pr, 0, sizeof(*pr));
	pr->hp.n_fields = s->columns;
	pr->fp.columns = s->columns;
	pr->cc.error_offsets = s->error_offsets;
	pr->cc.columns = s->columns;
	pr->hand.mod = &aa_csv_module;
	pr->hand.params = &pr->hp;
	pr->hand.canon = canon_hand;
	pr->fmt.mod = &csv_aa_module;
	pr->fmt.params = &pr->fp;
	pr->fmt.canon = canon_fmt;
	pr->hand.ctx = pr->fmt.ctx = &pr->cc;
	pr->hand.cfg.max_record_bytes = pr->fmt.cfg.max_record_bytes = s->max_record;
}

static void compare(const struct sample *s, struct pair *pr, const uint32_t *sg,
		    size_t n, const char *how)
{
	struct aa_h_buf a = { 0 }, b = { 0 };

	pr->fmt.hold_steps = pr->hand.hold_steps;
	pr->fmt.read_batch = pr->hand.read_batch;
	pr->fmt.check_every = pr->hand.check_every;
	pr->fmt.cfg = pr->hand.cfg;
	aa_h_feed(&pr->hand, s->data, s->len, sg, n, &a);
	aa_h_feed(&pr->fmt, s->data, s->len, sg, n, &b);
	n_runs++;
	if (!aa_h_same(&a, &b)) {
		aa_h_diff(s->name, &a, &b);
		CHECK_MSG(0, "%s (%s): the compiled module differs from aa_csv_module",
			  s->name, how);
	}
	if (s->expect_error != -2)
		CHECK_MSG(aa_cmp_last_error(&a) == s->expect_error, "%s: %s", s->name, a.p);
	aa_h_free(&a);
	aa_h_free(&b);
}

struct pair_arg {
	const struct sample *s;
	struct pair *pr;
};

static void cut_pair(size_t i, size_t j, void *arg)
{
	struct pair_arg *pa = arg;
	size_t n = aa_h_cut3(pa->s->len, i, j, segs);

	compare(pa->s, pa->pr, segs, n, "3 pieces");
}

static void run_sample(const struct sample *s)
{
	struct pair pr;
	struct pair_arg pa = { s, &pr };
	size_t n;

	make_pair(&pr, s);
	n = aa_h_cut3(s->len, 0, 0, segs);
	compare(s, &pr, segs, n, "one segment");
	aa_h_for_pairs(s->len, cut_pair, &pa);
	for (int k = 0; k < 40; k++) {
		static const uint32_t maxseg[] = { 1, 3, 8, 40, 300, 1460 };

		n = aa_h_random_segs(s->len, maxseg[k % 6], segs);
		pr.hand.hold_steps = (unsigned)(k % 3 == 0 ? test_rand_range(1, 20) : 0);
		pr.hand.read_batch = (unsigned)test_rand_range(1, 32);
		pr.hand.cfg.records = k % 2 ? (uint32_t)test_rand_range(2, 6) : 0;
		pr.hand.cfg.views = k % 4 == 1 ? 1 : 0;
		pr.hand.cfg.max_extra_views = k % 6 < 2 ? 4096 : 0;
		pr.hand.check_every = k % 5 ? 0 : n <= 2000 ? 1 : 257;
		compare(s, &pr, segs, n, "random segmentation");
	}
}

static struct sample file_sample(const char *file, uint32_t columns, bool offsets,
				 int err)
{
	struct sample s = { .name = file, .columns = columns, .error_offsets = offsets,
			    .expect_error = err };

	s.data = aa_h_read_file(data_dir, file, &s.len);
	return s;
}

#define INL(nm, str, cols, max, offs, err)                                     \
	((struct sample){ .name = nm, .data = str, .len = sizeof(str) - 1,     \
			  .columns = cols, .max_record = max,                  \
			  .error_offsets = offs, .expect_error = err })

/* ---- the module's own behaviour -------------------------------------------- */

static void params(void)
{
	struct aa_layout l;
	struct csv_params p = { .columns = 0 };
	static uint64_t state[512];

	CHECK(csv_aa_module.abi == AA_MODULE_ABI);
	CHECK(strcmp(csv_aa_module.name, "csv") == 0);
	CHECK(csv_aa_module.params_size == sizeof(struct csv_params));
	CHECK(csv_aa_module.state_size <= sizeof(state));
	memset(state, 0, sizeof(state));
	CHECK(csv_aa_module.init(state, NULL, &l) == -EINVAL); /* required */
	CHECK(csv_aa_module.init(state, &p, &l) == -EINVAL);
	p.columns = 257;
	CHECK(csv_aa_module.init(state, &p, &l) == -EINVAL);
	p.columns = 256;
	CHECK(csv_aa_module.init(state, &p, &l) == 0);
	CHECK(l.field_slots == CSV_MAX_FIELDS && CSV_MAX_FIELDS == 256);
	CHECK(l.fields_offset == offsetof(struct csv_record, fields));
	CHECK(l.record_size == sizeof(struct csv_record));
	CHECK(l.max_record_bytes == 65536);
	/* col[columns]: a record has the socket's columns slots, no more */
	p.columns = 5;
	CHECK(csv_aa_module.init(state, &p, &l) == 0);
	CHECK(l.field_slots == 5);
	CHECK(l.record_size == offsetof(struct csv_record, fields) + 5 * sizeof(void *));
	CHECK(CSV_LINE == 1 && CSV_N_STATES == 1);
}

int main(int argc, char **argv)
{
	data_dir = aa_h_data_dir(argc, argv, __FILE__);
	struct sample files[] = {
		file_sample("stocks.csv", 5, true, -1),
		file_sample("people_crlf.csv", 4, true, -1),
		file_sample("quoted.csv", 4, true, -1),
		file_sample("quoted_crlf.csv", 2, true, -1),
		file_sample("blank_lines.csv", 2, true, AA_ERR_FIELD_COUNT), /* too few */
		file_sample("stocks.csv", 6, true, AA_ERR_FIELD_COUNT),
		file_sample("stocks.csv", 4, false, AA_ERR_FIELD_COUNT), /* too many */
		file_sample("quoted.csv", 1, false, AA_ERR_FIELD_COUNT),
	};
	struct sample inl[] = {
		INL("too-few", "a,b,c\nd,e\nf,g,h\n", 3, 0, true, AA_ERR_FIELD_COUNT),
		INL("too-many", "a,b\nc,d,e,f\n", 2, 0, false, AA_ERR_FIELD_COUNT),
		INL("after-quote", "\"a\"x,b\n", 2, 0, true, AA_ERR_SYNTAX),
		INL("after-quote-cr", "a,\"b\"\rx\n", 2, 0, true, AA_ERR_SYNTAX),
		INL("unterminated", "a,\"b\nc,d\n", 2, 0, true, AA_ERR_TRUNCATED),
		INL("too-long", "aa,bb\nccccccccccccccccccccccccc,d\ne,f\n", 2, 16, true,
		    AA_ERR_TOO_LONG),
		INL("too-long-quoted", "x,\"0123456789012345678901234\"\n", 2, 20, true,
		    AA_ERR_TOO_LONG),
		INL("limit-exact", "abcdefg,h\nijklmno,p\nq,r", 2, 10, true, -1),
		INL("eos-comma", "a,b,", 3, 0, true, -1),
		INL("eos-quote", "a,\"b\"", 2, 0, true, -1),
		INL("eos-short", "a,b\nc", 2, 0, true, AA_ERR_FIELD_COUNT),
		INL("one-column-empty-lines", "\n\nx\n\r\n", 1, 0, true, -1),
		INL("quote-in-unquoted", "a\"b,c\"\"d\n", 2, 0, true, -1),
		INL("empty-quoted", "\"\",\"\"\"\"\r\n", 2, 0, true, -1),
		INL("crlf-in-quotes", "\"a\r\nb\",\"\r\"\r\n\"\n\",x\n", 2, 0, true, -1),
		INL("empty", "", 2, 0, true, -1),
	};

	aa_h_init(argv[0], true);
	params();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		run_sample(&files[i]);
	for (size_t i = 0; i < sizeof(inl) / sizeof(inl[0]); i++)
		run_sample(&inl[i]);
	/* random streams of CSV bytes (no NUL, no CR: see above) */
	for (int k = 0; k < (AA_H_SANITIZED ? 40 : 150); k++) {
		static char junk[400];
		struct sample s = { .name = "random", .data = junk, .len = sizeof(junk),
				    .columns = (uint32_t)test_rand_range(1, 4),
				    .max_record = k % 3 ? 0 : 64, .expect_error = -2 };
		struct pair pr;

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = test_chance(1, 3) ? ",\n\"\""[test_rand() % 4]
						    : (char)test_rand_range(' ', 0x7e);
		make_pair(&pr, &s);
		for (int t = 0; t < 10; t++) {
			size_t n = aa_h_random_segs(s.len, t % 2 ? 5 : 60, segs);

			pr.hand.hold_steps = (unsigned)(t % 3);
			compare(&s, &pr, segs, n, "random stream");
		}
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free((char *)(uintptr_t)files[i].data);
	printf("fmt_csv: %llu runs, %llu records\n", (unsigned long long)n_runs,
	       (unsigned long long)n_records);
	return test_done();
}
