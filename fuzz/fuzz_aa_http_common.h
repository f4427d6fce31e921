/*
 * fuzz_aa_http_common.h - what the HTTP fuzz targets share: a record
 * canonicaliser that reads every field of every record (so that ASan sees
 * any view outside its packet) and exercises the header lookup. BODY
 * records are one per packet, so only their bytes are written.
 */
#ifndef AATCP_FUZZ_AA_HTTP_COMMON_H
#define AATCP_FUZZ_AA_HTTP_COMMON_H

#include "fuzz_aa.h"

static void fuzz_http_canon(struct aa_h_buf *out, const struct aa_record *r,
			    void *ctx)
{
	const struct aa_http_record *h = (const void *)r;
	uint64_t v;

	(void)ctx;
	if (r->type == AA_RECORD_ERROR) {
		fuzz_aa_error(out, r);
		return;
	}
	if (r->type == AA_HTTP_BODY) {
		/* one record per packet: only the bytes are segmentation-
		 * invariant, and where the message ends */
		fuzz_aa_bytes(out, h->data);
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

/*
 * One input for an HTTP module. k[0] picks the parameters: a few (bit 0)
 * or the default number of headers, a small (bit 1) or the default head
 * limit; for responses also the answers to HEAD, expected by count (bits
 * 6-7) and/or announced by flag (bit 5).
 */
static void fuzz_http_one(const struct aa_module *mod, bool response,
			  const uint8_t *d, size_t n)
{
	struct aa_http_params pp = { 0 };
	struct aa_h_run run = { .mod = mod, .canon = fuzz_http_canon, .params = &pp };

	if (n < 8)
		return;
	pp.max_headers = d[0] & 0x01 ? 3 : 0;
	pp.max_head = d[0] & 0x02 ? 200 : 0;
	if (response) {
		run.head_expect = d[0] >> 6;
		pp.flags = (d[0] & 0x20) ? AA_HTTP_P_HEAD_RESPONSES : 0;
	}
	aa_h_fuzz_one(&run, d, n);
}

#endif /* AATCP_FUZZ_AA_HTTP_COMMON_H */
