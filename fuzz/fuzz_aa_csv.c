/*
 * fuzz_aa_csv.c - libFuzzer target for the CSV module (src/aa/aa_csv.c)
 * through the aa runtime, real mbufs and a real zc stream.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one) then the stream;
 * k[0] picks the parameters: fields 1 + k % 8, empty lines skipped or
 * not, a small line limit or none, ';' or ',' as delimiter, '\'' or '"'
 * as quote, the lines of a packet in one record (AA_CSV_P_BATCH) or not;
 * a batch is written as its lines, so it must give what the line records
 * give. Checked: no crash, no leak (ASan), every field view inside its
 * mbuf and node refs right (aa_stream_check), the same records whatever
 * the segmentation and the application's pace, every pool back to full.
 */
#include "fuzz_aa.h"

/* An AA_CSV_LINES record as its lines' AA_CSV_LINE records would print
 * (unquoted fields: the copy is the field itself). */
static void canon_lines(struct aa_h_buf *out, const struct aa_csv_record *c)
{
	const struct stream_field *all = c->fields[0];

	if (!c->n_lines || !all || all->next)
		abort();
	for (uint32_t j = 0; j < c->n_lines; j++) {
		aa_h_printf(out, "L@%llu", (unsigned long long)(c->hdr.offset +
				c->spans[(size_t)j * (c->n_fields + 1)]));
		for (uint32_t k = 0; k < c->n_fields; k++) {
			size_t n;
			const char *f = aa_csv_lines_field(c, j, k, &n);

			if (f < all->data.start || f + n > all->data.end)
				abort();
			aa_h_printf(out, " %zu:", n);
			aa_h_put(out, f, n);
		}
		aa_h_put(out, "\n", 1);
	}
}

static void canon(struct aa_h_buf *out, const struct aa_record *r, void *ctx)
{
	const struct aa_csv_record *c = (const void *)r;
	const struct aa_csv_params *pp = ctx;
	char tmp[64];

	if (r->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, r);
		return;
	}
	if (r->type == AA_CSV_LINES) {
		canon_lines(out, c);
		return;
	}
	aa_h_printf(out, "L@%llu", (unsigned long long)r->offset);
	for (uint32_t i = 0; i < c->n_fields; i++) {
		aa_h_put(out, " ", 1);
		aa_h_field(out, c->fields[i]);
		/* the unescaping copy, truncated or not */
		aa_csv_field_copy(c->fields[i], pp->quote, tmp,
				  (size_t)(i % 3 ? sizeof(tmp) : 4));
	}
	aa_h_put(out, "\n", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct aa_csv_params pp = { 0 };
	struct aa_h_run run = { .mod = &aa_csv_module, .canon = canon,
				.params = &pp, .ctx = &pp };

	if (n < 8)
		return 0;
	pp.n_fields = 1 + d[0] % 8;
	pp.flags = d[0] & 0x08 ? AA_CSV_P_SKIP_EMPTY_LINES : 0;
	pp.max_line = d[0] & 0x10 ? 64 : 0;
	pp.delimiter = d[0] & 0x20 ? ';' : 0;
	pp.quote = d[0] & 0x40 ? '\'' : 0;
	if (d[0] & 0x80)
		pp.flags |= AA_CSV_P_BATCH;
	aa_h_fuzz_one(&run, d, n);
	return 0;
}
