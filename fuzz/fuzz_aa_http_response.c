/*
 * fuzz_aa_http_response.c - libFuzzer target for the HTTP response module
 * (src/aa/aa_http*.c) through the aa runtime, real mbufs and a real zc
 * stream.
 *
 * Input: 8 knob bytes (test_aa_harness.h, aa_h_fuzz_one) then the stream;
 * k[0] picks the parameters (a few or the default number of headers, a
 * small or the default head limit, HEAD answers announced or by flag).
 * Checked: no crash, no leak (ASan), field views inside their mbufs and
 * node refs right (aa_stream_check), the same records whatever the
 * segmentation and the application's pace, every pool back to full.
 */
#include "fuzz_aa_http_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	fuzz_http_one(&aa_http_response_module, true, d, n);
	return 0;
}
