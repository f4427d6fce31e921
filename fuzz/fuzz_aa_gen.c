/*
 * fuzz_aa_gen.c - libFuzzer target for a module built by the macro
 * generator (generate_aa_api.h): the thesis' HTTP answer module
 * (src/aa/http_gen_def.h), compiled here with coverage.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one) then the stream.
 * Checked: no crash, no leak (ASan), field views inside their mbufs and
 * node refs right (aa_stream_check), the same records whatever the
 * segmentation and the application's pace, every pool back to full.
 */
#include "fuzz_aa.h"

#include "aa/http_gen_def.h"
#define AA_GEN_DECLARE_ONLY
#include "generate_aa_api.h"

static void canon(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct http_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, rec);
		return;
	}
	if (r->type == HTTP_BODY) { /* per packet: only the bytes */
		fuzz_aa_bytes(out, r->fields.body.data);
		return;
	}
	aa_h_printf(out, "%u %d|", r->type,
		    r->type == HTTP_ANSWER ? r->variables.answer.content_length : -1);
	for (uint32_t i = 0; i < NUM_FIELDS; i++)
		if (i < rec->nfields)
			aa_h_field(out, r->fields.raw_fields[i]);
	aa_h_put(out, "\n", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct aa_h_run run = { .mod = &http_aa_module, .canon = canon };

	aa_h_fuzz_one(&run, d, n);
	return 0;
}
