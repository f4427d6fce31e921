/*
 * fuzz_aa_csv.c - libFuzzer target for the CSV module (src/aa/aa_csv.c)
 * through the aa runtime, real mbufs and a real zc stream.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one) then the stream;
 * k[0] picks the parameters: fields 1 + k % 8, empty lines skipped or
 * not, a small line limit or none, ';' or ',' as delimiter, '\'' or '"'
 * as quote. Checked: no crash, no leak (ASan), every field view inside its
 * mbuf and node refs right (aa_stream_check), the same records whatever
 * the segmentation and the application's pace, every pool back to full.
 */
#include "fuzz_aa.h"

static void canon(struct aa_h_buf *out, const struct aa_record *r, void *ctx)
{
	const struct aa_csv_record *c = (const void *)r;
	const struct aa_csv_params *pp = ctx;
	char tmp[64];

	if (r->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, r);
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
	aa_h_fuzz_one(&run, d, n);
	return 0;
}
