/*
 * fuzz_aa_http_common.h - what the HTTP fuzz targets share: a record
 * canonicaliser that reads every field of every record (so that ASan sees
 * any view outside its packet) and exercises the header lookup. BODY
 * records are one per packet, so only their bytes are written.
 */
#ifndef AATCP_FUZZ_AA_HTTP_COMMON_H
#define AATCP_FUZZ_AA_HTTP_COMMON_H

#include "test_aa_harness.h"

static void fuzz_http_canon(struct aa_h_buf *out, const struct aa_record *r,
			    void *ctx)
{
	const struct aa_http_record *h = (const void *)r;
	uint64_t v;

	(void)ctx;
	if (r->type == AA_RECORD_ERROR) {
		aa_h_printf(out, "E%u@%llu\n", r->error,
			    (unsigned long long)r->offset);
		return;
	}
	if (r->type == AA_HTTP_BODY) {
		/* one record per packet: only the bytes are segmentation-
		 * invariant, and where the message ends */
		for (const struct stream_field *f = h->data; f; f = f->next)
			aa_h_put(out, f->data.start,
				 (size_t)(f->data.end - f->data.start));
		if (h->flags & AA_HTTP_F_END)
			aa_h_put(out, "<END>\n", 6);
		return;
	}
	aa_h_printf(out, "%u %x %u %u %u %llu %llu|", r->type, h->flags,
		    h->status, h->method, h->version,
		    (unsigned long long)h->content_length,
		    (unsigned long long)h->body_offset);
	for (int i = 0; i < 3; i++)
		aa_h_field(out, h->line[i]);
	aa_h_field(out, h->data);
	for (uint32_t i = 0; i < h->n_headers; i++) {
		aa_h_field(out, h->headers[i].name);
		aa_h_put(out, "=", 1);
		aa_h_field(out, h->headers[i].value);
		aa_h_put(out, ";", 1);
		(void)aa_field_to_u64(h->headers[i].value, &v);
	}
	(void)aa_http_header_value(h, "content-length");
	aa_h_put(out, "\n", 1);
}

#endif /* AATCP_FUZZ_AA_HTTP_COMMON_H */
