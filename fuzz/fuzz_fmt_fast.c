/*
 * fuzz_fmt_fast.c - libFuzzer target for the record fast path of the
 * format compiler (aatcp/formats/cfast.py), through
 * tests/formats/data/good/fast.fmt: two states that take it, and every way
 * it gives a record up to the general loop.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one; d[0]: the `cols`
 * parameter, 1..6) then the stream. Checked: the stream in MSS segments
 * (mostly the fast path) gives the same records as the knobs' segmentation
 * (with one-byte segments the general loop does nearly all of it), and as
 * one-byte segments whatever the knobs; no crash, leak or undefined
 * behaviour; field views inside their mbufs; every pool back to full.
 */
#include "fuzz_aa.h"

#include "fmt_fast.h"

static void canon(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct fast_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, rec);
		return;
	}
	if (rec->type == FAST_NOTE) {
		aa_h_printf(out, "N@%llu ", (unsigned long long)rec->offset);
		aa_h_field(out, r->fields.note.text);
		aa_h_put(out, "\n", 1);
		return;
	}
	CHECK(rec->type == FAST_ROW);
	CHECK(r->vars.row.n_val <= 6);
	aa_h_printf(out, "R@%llu %u ", (unsigned long long)rec->offset,
		    r->vars.row.n_val);
	aa_h_field(out, r->fields.row.key);
	for (uint32_t i = 0; i < r->vars.row.n_val; i++)
		aa_h_field(out, r->fields.row.val[i]);
	if (r->fields.row.tail)
		aa_h_field(out, r->fields.row.tail);
	aa_h_put(out, "\n", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint32_t segs[1 << 16];
	struct fast_params p = FAST_PARAMS_DEFAULT;
	struct aa_h_run run = { .mod = &fast_aa_module, .canon = canon, .params = &p };
	struct aa_h_buf a = { 0 }, b = { 0 };
	const char *s = (const char *)d + 8;
	size_t len = n - 8;

	if (n < 8 || len >= sizeof(segs) / sizeof(segs[0]))
		return 0;
	p.cols = 1 + d[0] % 6;
	aa_h_fuzz_one(&run, d, n);
	/* MSS segments against one byte at a time */
	run = (struct aa_h_run){ .mod = &fast_aa_module, .canon = canon, .params = &p };
	run.cfg.max_extra_views = (uint32_t)len + 16;
	aa_h_fuzz_running = true;
	aa_h_feed(&run, s, len, segs, aa_h_fixed_segs(len, 1460, segs), &a);
	aa_h_feed(&run, s, len, segs, aa_h_fixed_segs(len, 1, segs), &b);
	if (!aa_h_same(&a, &b)) {
		aa_h_diff("fast.fmt: MSS segments vs one byte at a time", &a, &b);
		abort();
	}
	aa_h_fuzz_running = false;
	aa_h_free(&a);
	aa_h_free(&b);
	return 0;
}
