/*
 * fuzz_aa.h - what the application-aware fuzz targets (fuzz_aa_*.c,
 * fuzz_fmt_*.c) share on top of test_aa_harness.h: libFuzzer's start-up
 * (EAL and pools) and the parts of the record canonicalisers that every
 * target writes the same way.
 *
 * Each target is one source file linked into its own executable, so the
 * LLVMFuzzerInitialize() defined here is each executable's only one.
 */
#ifndef AATCP_FUZZ_AA_H
#define AATCP_FUZZ_AA_H

#include "test_aa_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	aa_h_fuzz_init((*argv)[0]);
	return 0;
}

/* An error record: its code and offset must not depend on the
 * segmentation either. */
static inline void fuzz_aa_error(struct aa_h_buf *out, const struct aa_record *r)
{
	aa_h_printf(out, "E%u@%llu\n", r->error, (unsigned long long)r->offset);
}

/* Only the bytes of a field: body records follow the packets, so where
 * they are cut (and so each record's length) depends on the segmentation. */
static inline void fuzz_aa_bytes(struct aa_h_buf *out, const struct stream_field *f)
{
	aa_field_foreach_view(v, f)
		aa_h_put(out, v->data.start, (size_t)(v->data.end - v->data.start));
}

#endif /* AATCP_FUZZ_AA_H */
