/*
 * test_aa_csv.c - the CSV module (thesis 4.2, RFC 4180) through real mbufs,
 * a real zc stream and the aa runtime.
 *
 * For every sample (the .csv files of tests/c/data/aa/ and inline malformed streams):
 *   - a whole-buffer reference parse written here (independent of the
 *     module: a plain loop over one buffer), including error records, their
 *     offsets and the record byte limit, gives the expected records;
 *   - Debian's libcsv agrees on the valid files (fields only);
 *   - the module gives exactly those records when the stream is cut at
 *     every pair of boundaries (3 pieces) and by random segmentations, with
 *     an application that frees at once or holds records (back-pressure,
 *     tiny pools), and every pool returns to full.
 */
#include <errno.h>

#include <csv.h>

#include "aa_compare.h"

static const char *data_dir = "tests/c/data/aa";

/* ---- canonical text of a record ---------------------------------------- */

struct canon_ctx {
	bool offsets;
	char quote;
};

/* Lines that came in AA_CSV_LINES records (AA_CSV_P_BATCH runs). */
static uint64_t batched_lines;

/*
 * An AA_CSV_LINES record as the AA_CSV_LINE records of its lines would
 * read: the batch runs must give the reference's text exactly. Checked on
 * the way: one view holds the lines, the offsets rise inside it, every
 * line ends in LF or CRLF, no field is quoted.
 */
static void canon_lines(struct aa_h_buf *out, const struct aa_csv_record *cr,
			const struct canon_ctx *c)
{
	const struct stream_field *all = cr->fields[0];
	size_t total = aa_field_len(all), n;
	uint32_t per = cr->n_fields + 1;

	CHECK(cr->n_lines >= 1 && all && !all->next && cr->spans);
	for (uint32_t i = 1; i < cr->n_fields; i++)
		CHECK(!cr->fields[i]);
	CHECK(cr->spans[0] == 0);
	for (uint32_t j = 0; j < cr->n_lines; j++) {
		const uint16_t *e = cr->spans + (size_t)j * per;
		size_t line_end = j + 1 < cr->n_lines ? e[per] : total;

		CHECK(e[cr->n_fields] < line_end);
		CHECK(all->data.start[line_end - 1] == '\n');
		aa_h_put(out, "L", 1);
		if (c->offsets) {
			aa_h_put(out, "@", 1);
			aa_h_u64(out, cr->hdr.offset + e[0]);
		}
		for (uint32_t k = 0; k < cr->n_fields; k++) {
			const char *f = aa_csv_lines_field(cr, j, k, &n);

			CHECK(f >= all->data.start && f + n <= all->data.end);
			CHECK(!n || *f != (c->quote ? c->quote : '"'));
			aa_h_printf(out, " %zu:", n);
			aa_h_put(out, f, n);
		}
		aa_h_put(out, "\n", 1);
	}
	batched_lines += cr->n_lines;
}

static void canon_csv(struct aa_h_buf *out, const struct aa_record *r,
		      void *vctx)
{
	const struct canon_ctx *c = vctx;
	const struct aa_csv_record *cr = (const void *)r;
	static char *tmp;
	static size_t cap;

	if (r->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u@%llu\n", r->error,
			    (unsigned long long)r->offset);
		CHECK(r->message != NULL);
		return;
	}
	if (r->type == AA_CSV_LINES) {
		canon_lines(out, cr, c);
		return;
	}
	CHECK(r->type == AA_CSV_LINE && cr->n_lines == 1);
	aa_h_put(out, "L", 1);
	if (c->offsets) {
		aa_h_put(out, "@", 1);
		aa_h_u64(out, r->offset);
	}
	for (uint32_t i = 0; i < cr->n_fields; i++) {
		const struct stream_field *f = cr->fields[i];
		size_t len, n;

		CHECK(f);
		aa_h_put(out, " ", 1);
		if (!aa_csv_field_quoted(f, c->quote)) {
			aa_h_field(out, f);
			continue;
		}
		len = aa_field_len(f);
		CHECK(len >= 2);
		CHECK(aa_field_byte(f, len - 1) == (c->quote ? c->quote : '"'));
		CHECK(cr->flags & AA_CSV_F_QUOTED);
		if (len + 1 > cap) {
			cap = 2 * len + 64;
			tmp = realloc(tmp, cap);
			CHECK(tmp);
		}
		n = aa_csv_field_copy(f, c->quote, tmp, cap);
		CHECK(n <= len - 2);
		aa_h_u64(out, n);
		aa_h_put(out, ":", 1);
		aa_h_put(out, tmp, n);
	}
	aa_h_put(out, "\n", 1);
}

/* ---- the reference: one loop over the whole buffer ------------------------ */

struct ref {
	const char *d;
	size_t len;
	uint32_t n;
	char delim, quote;
	bool skip;
	uint64_t max;
	bool offsets;
	struct aa_h_buf *out;
	/* progress */
	size_t prev_end;
	bool stop;
	/* fields of the line */
	size_t fs[64], fe[64];
	bool fq[64];
	uint32_t nf;
};

static void ref_error(struct ref *r, unsigned code, size_t at)
{
	aa_h_printf(r->out, "E%u@%zu\n", code, at);
	r->stop = true;
}

/* The runtime's byte limit: byte i may be parsed only if it is within max
 * bytes of the end of the previous record. */
static bool ref_lim(struct ref *r, size_t i)
{
	if (i >= r->prev_end + r->max) {
		ref_error(r, AA_ERR_TOO_LONG, r->prev_end + r->max);
		return false;
	}
	return true;
}

static void ref_unescape(struct ref *r, uint32_t k, struct aa_h_buf *b)
{
	size_t s = r->fs[k], e = r->fe[k];

	if (!r->fq[k]) {
		aa_h_put(b, r->d + s, e - s);
		return;
	}
	for (size_t i = s + 1; i + 1 < e; i++) {
		aa_h_put(b, r->d + i, 1);
		if (r->d[i] == r->quote)
			i++; /* "" -> " */
	}
}

/* The line ended; `at` after its terminator (len at the end). */
static void ref_line(struct ref *r, size_t line_start, size_t at)
{
	struct aa_h_buf f = { 0 };

	if (r->nf != r->n) {
		ref_error(r, AA_ERR_FIELD_COUNT, at);
		return;
	}
	if (r->offsets)
		aa_h_printf(r->out, "L@%zu", line_start);
	else
		aa_h_put(r->out, "L", 1);
	for (uint32_t k = 0; k < r->nf; k++) {
		aa_h_clear(&f);
		ref_unescape(r, k, &f);
		aa_h_printf(r->out, " %zu:", f.len);
		aa_h_put(r->out, f.p, f.len);
	}
	aa_h_free(&f);
	aa_h_put(r->out, "\n", 1);
	r->prev_end = at;
}

/* One field from *pos; false when the stream stopped. */
static bool ref_field(struct ref *r, size_t *pos)
{
	size_t p = *pos, start = p;
	bool q = p < r->len && r->d[p] == r->quote;

	if (q) {
		if (!ref_lim(r, p))
			return false;
		for (p++;; p++) {
			if (p == r->len) {
				ref_error(r, AA_ERR_TRUNCATED, r->len);
				return false;
			}
			if (!ref_lim(r, p))
				return false;
			if (r->d[p] == r->quote) {
				if (p + 1 < r->len && r->d[p + 1] == r->quote) {
					if (!ref_lim(r, p + 1))
						return false;
					p++;
					continue;
				}
				p++;
				break;
			}
			if (r->d[p] == 0) {
				ref_error(r, AA_ERR_BINARY, p);
				return false;
			}
		}
		if (p < r->len) {
			if (!ref_lim(r, p))
				return false;
			if (r->d[p] != r->delim && r->d[p] != '\r' && r->d[p] != '\n') {
				ref_error(r, AA_ERR_SYNTAX, p);
				return false;
			}
		}
	} else {
		for (; p < r->len; p++) {
			char c = r->d[p];

			if (!ref_lim(r, p))
				return false;
			if (c == r->delim || c == '\r' || c == '\n' || c == 0)
				break;
		}
		if (p < r->len && r->d[p] == 0) {
			ref_error(r, AA_ERR_BINARY, p);
			return false;
		}
	}
	CHECK(r->nf < 64);
	r->fs[r->nf] = start;
	r->fe[r->nf] = p;
	r->fq[r->nf] = q;
	r->nf++;
	*pos = p;
	return true;
}

/* Skips an empty line at *pos (skip mode); true if one was skipped. */
static bool ref_skip_empty(struct ref *r, size_t *pos)
{
	size_t p = *pos;

	if (r->d[p] != '\n' && r->d[p] != '\r')
		return false;
	if (!ref_lim(r, p))
		return true;
	if (r->d[p] == '\r') {
		p++;
		if (p < r->len) {
			if (!ref_lim(r, p))
				return true;
			if (r->d[p] != '\n') {
				ref_error(r, AA_ERR_SYNTAX, p);
				return true;
			}
		}
	}
	*pos = p + 1;
	return true;
}

/* One line from *pos. */
static void ref_one_line(struct ref *r, size_t *pos)
{
	size_t p = *pos, line_start = p;

	r->nf = 0;
	for (;;) {
		if (!ref_field(r, &p))
			return;
		if (p == r->len) {
			ref_line(r, line_start, r->len);
			*pos = p;
			return;
		}
		if (r->d[p] == r->delim) {
			if (r->nf >= r->n) {
				ref_error(r, AA_ERR_FIELD_COUNT, p);
				return;
			}
			p++;
			if (p == r->len) { /* empty last field at the end */
				r->fs[r->nf] = r->fe[r->nf] = p;
				r->fq[r->nf] = false;
				r->nf++;
				ref_line(r, line_start, r->len);
				*pos = p;
				return;
			}
			continue;
		}
		if (r->d[p] == '\r') {
			p++;
			if (p < r->len) {
				if (!ref_lim(r, p))
					return;
				if (r->d[p] != '\n') {
					ref_error(r, AA_ERR_SYNTAX, p);
					return;
				}
				p++;
			}
		} else { /* '\n' */
			p++;
		}
		ref_line(r, line_start, p);
		*pos = p;
		return;
	}
}

static void reference(struct ref *r)
{
	size_t pos = 0;

	r->prev_end = 0;
	r->stop = false;
	while (pos < r->len && !r->stop) {
		if (r->skip && ref_skip_empty(r, &pos))
			continue;
		ref_one_line(r, &pos);
	}
}

/* ---- libcsv ------------------------------------------------------------------ */

struct lib_ctx {
	struct aa_h_buf *out;
	struct aa_h_buf line;
};

static void lib_field(void *s, size_t len, void *vctx)
{
	struct lib_ctx *c = vctx;

	aa_h_printf(&c->line, " %zu:", len);
	aa_h_put(&c->line, s, len);
}

static void lib_row(int ch, void *vctx)
{
	struct lib_ctx *c = vctx;

	(void)ch;
	aa_h_put(c->out, "L", 1);
	aa_h_put(c->out, c->line.p, c->line.len);
	aa_h_put(c->out, "\n", 1);
	aa_h_clear(&c->line);
}

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void libcsv_parse(const char *d, size_t len, struct aa_h_buf *out)
{
	struct csv_parser p;
	struct lib_ctx c = { .out = out };

	CHECK(csv_init(&p, 0) == 0);
	csv_set_space_func(&p, no_space); /* keep spaces, as RFC 4180 does */
	aa_h_put(&c.line, "", 0);
	CHECK(csv_parse(&p, d, len, lib_field, lib_row, &c) == len);
	CHECK(csv_fini(&p, lib_field, lib_row, &c) == 0);
	csv_free(&p);
	aa_h_free(&c.line);
}

/* ---- the runs --------------------------------------------------------------- */

struct sample {
	const char *name;
	const char *data;
	size_t len;
	uint32_t n_fields;
	uint32_t flags;
	uint32_t max_line;
	bool libcsv;
	int expect_error; /* -1: none */
};

static struct aa_h_run make_run(const struct sample *s,
				struct aa_csv_params *pp, struct canon_ctx *cc)
{
	struct aa_h_run run = { 0 };

	memset(pp, 0, sizeof(*pp));
	pp->n_fields = s->n_fields;
	pp->flags = s->flags;
	pp->max_line = s->max_line;
	run.mod = &aa_csv_module;
	run.params = pp;
	run.canon = canon_csv;
	run.ctx = cc;
	return run;
}

static struct aa_cmp_sample cmp_sample(const struct sample *s)
{
	return (struct aa_cmp_sample){ s->name, s->data, s->len };
}

static void run_sample(const struct sample *s)
{
	static const uint32_t csv_maxseg[] = { 1, 3, 8, 40, 300, 1460 };
	struct aa_csv_params pp;
	struct canon_ctx cc = { .offsets = true };
	struct aa_h_run run = make_run(s, &pp, &cc);
	struct aa_cmp_sample cs = cmp_sample(s);
	struct aa_h_buf want = { 0 };
	struct ref r = {
		.d = s->data, .len = s->len, .n = s->n_fields, .delim = ',',
		.quote = '"', .skip = s->flags & AA_CSV_P_SKIP_EMPTY_LINES,
		.max = s->max_line ? s->max_line : 65536, .offsets = true,
		.out = &want,
	};

	reference(&r);
	if (s->expect_error != -2)
		CHECK_MSG(aa_cmp_last_error(&want) == s->expect_error,
			  "%s: reference gives %s", s->name, want.p);
	if (s->libcsv) { /* libcsv agrees with the reference (fields only) */
		struct aa_h_buf lib = { 0 }, mine = { 0 };
		struct ref r2 = r;

		r2.offsets = false;
		r2.out = &mine;
		reference(&r2);
		libcsv_parse(s->data, s->len, &lib);
		if (!aa_h_same(&lib, &mine)) {
			aa_h_diff(s->name, &lib, &mine);
			CHECK_MSG(0, "%s: reference differs from libcsv", s->name);
		}
		aa_h_free(&lib);
		aa_h_free(&mine);
	}
	/* one segment, then every pair of cuts (3 pieces); random
	 * segmentations, slow applications, tiny pools; the same with the
	 * lines of a packet batched (AA_CSV_P_BATCH): the same lines */
	for (int batch = 0; batch < 2; batch++) {
		pp.flags = s->flags | (batch ? AA_CSV_P_BATCH : 0);
		aa_cmp_expect_cuts(&cs, &run, &want, true);
		aa_cmp_expect_random(&cs, run, &want, csv_maxseg, 60, 4096);
	}
	aa_h_free(&want);
}

/* ---- samples ------------------------------------------------------------------ */

static struct sample file_sample(const char *file, uint32_t n, uint32_t flags,
				 bool lib, int err)
{
	struct sample s = { .name = file, .n_fields = n, .flags = flags,
			    .libcsv = lib, .expect_error = err };

	s.data = aa_h_read_file(data_dir, file, &s.len);
	return s;
}

static struct sample inline_sample(const char *name, const char *d, size_t len,
				   uint32_t n, uint32_t flags, uint32_t max,
				   int err)
{
	struct sample s = { .name = name, .data = d, .len = len, .n_fields = n,
			    .flags = flags, .max_line = max,
			    .expect_error = err };

	return s;
}

#define INL(name, str, n, flags, max, err) \
	inline_sample(name, str, sizeof(str) - 1, n, flags, max, err)

int main(int argc, char **argv)
{
	data_dir = aa_h_data_dir(argc, argv, __FILE__);
	struct sample files[] = {
		file_sample("stocks.csv", 5, 0, true, -1),
		file_sample("people_crlf.csv", 4, 0, true, -1),
		file_sample("quoted.csv", 4, 0, true, -1),
		file_sample("quoted_crlf.csv", 2, 0, true, -1),
		file_sample("blank_lines.csv", 2, AA_CSV_P_SKIP_EMPTY_LINES, true, -1),
		file_sample("blank_lines.csv", 2, 0, false, AA_ERR_FIELD_COUNT),
	};
	struct sample inl[] = {
		INL("too-few", "a,b,c\nd,e\nf,g,h\n", 3, 0, 0, AA_ERR_FIELD_COUNT),
		INL("too-many", "a,b\nc,d,e,f\n", 2, 0, 0, AA_ERR_FIELD_COUNT),
		INL("nul", "a,b\nc\0d,e\n", 2, 0, 0, AA_ERR_BINARY),
		INL("nul-quoted", "a,\"b\0\"\n", 2, 0, 0, AA_ERR_BINARY),
		INL("after-quote", "\"a\"x,b\n", 2, 0, 0, AA_ERR_SYNTAX),
		INL("bare-cr", "a,b\rc,d\n", 2, 0, 0, AA_ERR_SYNTAX),
		INL("unterminated", "a,\"b\nc,d\n", 2, 0, 0, AA_ERR_TRUNCATED),
		INL("too-long", "aa,bb\nccccccccccccccccccccccccc,d\ne,f\n", 2, 0, 16,
		    AA_ERR_TOO_LONG),
		INL("too-long-quoted", "x,\"0123456789012345678901234\"\n", 2, 0, 20,
		    AA_ERR_TOO_LONG),
		INL("limit-exact", "abcdefg,h\nijklmno,p\nq,r", 2, 0, 10, -1),
		INL("eos-cr", "a,b\r", 2, 0, 0, -1),
		INL("eos-comma", "a,b,", 3, 0, 0, -1),
		INL("eos-quote", "a,\"b\"", 2, 0, 0, -1),
		INL("one-field-empty-lines", "\n\nx\n\r\n", 1, 0, 0, -1),
		INL("skip-cr-junk", "a,b\n\rx\n", 2, AA_CSV_P_SKIP_EMPTY_LINES, 0,
		    AA_ERR_SYNTAX),
		INL("quote-in-unquoted", "a\"b,c\"\"d\n", 2, 0, 0, -1),
		INL("empty-quoted", "\"\",\"\"\"\"\r\n", 2, 0, 0, -1),
	};

	aa_h_init(argv[0], true);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		run_sample(&files[i]);
	for (size_t i = 0; i < sizeof(inl) / sizeof(inl[0]); i++)
		run_sample(&inl[i]);
	/* binary junk: the reference's records (errors) at any segmentation */
	for (int k = 0; k < 30; k++) {
		static char junk[300];
		struct sample s = inline_sample("junk", junk, sizeof(junk), 3, 0,
						100, -2);
		struct aa_csv_params pp;
		struct canon_ctx cc = { .offsets = true };
		struct aa_h_run run = make_run(&s, &pp, &cc);
		struct aa_cmp_sample cs = cmp_sample(&s);
		struct aa_h_buf want = { 0 };
		struct ref r = { .d = junk, .len = sizeof(junk), .n = 3,
				 .delim = ',', .quote = '"', .max = 100,
				 .offsets = true, .out = &want };

		test_rand_bytes(junk, sizeof(junk));
		for (size_t i = 0; i < sizeof(junk); i++) /* some structure */
			if (test_chance(1, 8))
				junk[i] = ",\n\r\""[test_rand() % 4];
		reference(&r);
		for (int t = 0; t < 20; t++) {
			size_t nsg = aa_h_random_segs(s.len, 16, aa_cmp_segs);

			pp.flags = t % 2 ? AA_CSV_P_BATCH : 0;
			aa_cmp_expect(&cs, &run, aa_cmp_segs, nsg, &want, "junk");
		}
		aa_h_free(&want);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free((char *)(uintptr_t)files[i].data);
	/* the batch runs batched (the files' lines are mostly whole in a
	 * packet of the one-segment runs) */
	CHECK(batched_lines > 1000);
	printf("csv: %llu runs, %llu records, %llu lines in batches\n",
	       (unsigned long long)aa_cmp_runs, (unsigned long long)aa_cmp_records,
	       (unsigned long long)batched_lines);
	return test_done();
}
