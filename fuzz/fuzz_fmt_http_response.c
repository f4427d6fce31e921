/*
 * fuzz_fmt_http_response.c - libFuzzer target for a module made by the
 * format compiler: formats/http_response.fmt (aatcp/formats), generated
 * by meson at build time and compiled here with coverage, through the aa
 * runtime, real mbufs and a real zc stream.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one) then the stream.
 * Checked: no crash, no leak (ASan), no undefined behaviour (UBSan: the
 * generated arithmetic and number parsing), field views inside their
 * mbufs and node refs right (aa_stream_check), the same records whatever
 * the segmentation and the application's pace (body records follow the
 * packets: only their bytes count), every pool back to full.
 */
#include "fuzz_aa.h"

#include "fmt_http_response.h"

static void canon(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct http_response_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, rec);
		return;
	}
	if (rec->type == HTTP_RESPONSE_BODY) {
		CHECK(aa_field_len(r->fields.body.data) > 0);
		fuzz_aa_bytes(out, r->fields.body.data);
		return;
	}
	CHECK(rec->type == HTTP_RESPONSE_ANSWER);
	CHECK(r->vars.answer.n_header <= 64);
	aa_h_printf(out, "A@%llu %lld %u|", (unsigned long long)rec->offset,
		    (long long)r->vars.answer.content_length,
		    r->vars.answer.n_header);
	for (uint32_t i = 0; i < HTTP_RESPONSE_MAX_FIELDS; i++)
		if (i < rec->nfields)
			aa_h_field(out, r->fields.raw[i]);
	aa_h_put(out, "\n", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct aa_h_run run = { .mod = &http_response_aa_module, .canon = canon };

	aa_h_fuzz_one(&run, d, n);
	return 0;
}
