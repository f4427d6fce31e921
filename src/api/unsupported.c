/*
 * unsupported.c - the public calls of the features this build left out
 * (meson options zc, aa, fwd; docs/architecture.md "Features"): each fails
 * with -1 and errno ENOTSUP, so an application linked against a smaller
 * build learns it at the call (test_api_mtcp checks the core-only build).
 */
#include <errno.h>

#include "mtcp_aa.h"
#include "mtcp_zc.h"

#if !AATCP_WITH_ZC || !AATCP_WITH_AA || !AATCP_WITH_FWD
static int unsupported(void)
{
	errno = ENOTSUP;
	return -1;
}
#endif

#if !AATCP_WITH_ZC
int mtcp_zc_enable(mctx_t mctx, int sockid)
{
	(void)mctx;
	(void)sockid;
	return unsupported();
}

int mtcp_zc_read_fragments(mctx_t mctx, int sockid, struct stream_fragment_content *frags,
			   int n)
{
	(void)mctx;
	(void)sockid;
	(void)frags;
	(void)n;
	return unsupported();
}

int mtcp_zc_free_fragments(mctx_t mctx, int sockid, int n)
{
	(void)mctx;
	(void)sockid;
	(void)n;
	return unsupported();
}
#endif

#if !AATCP_WITH_AA
int mtcp_zc_register_aa_module(mctx_t mctx, int sockid, const struct aa_module *mod,
			       const void *params)
{
	(void)mctx;
	(void)sockid;
	(void)mod;
	(void)params;
	return unsupported();
}

int mtcp_zc_read_aa_records(mctx_t mctx, int sockid, void *records, int n)
{
	(void)mctx;
	(void)sockid;
	(void)records;
	(void)n;
	return unsupported();
}

int mtcp_zc_free_aa_records(mctx_t mctx, int sockid, int n)
{
	(void)mctx;
	(void)sockid;
	(void)n;
	return unsupported();
}

int mtcp_zc_aa_http_expect_head(mctx_t mctx, int sockid, int n)
{
	(void)mctx;
	(void)sockid;
	(void)n;
	return unsupported();
}
#endif

#if !AATCP_WITH_FWD
int mtcp_zc_forward(int sockid_from, int sockid_to, int n)
{
	(void)sockid_from;
	(void)sockid_to;
	(void)n;
	return unsupported();
}

int mtcp_zc_splice(int sockid_from, int sockid_to)
{
	(void)sockid_from;
	(void)sockid_to;
	return unsupported();
}

int mtcp_zc_splice_flags(int sockid_from, int sockid_to, unsigned flags)
{
	(void)sockid_from;
	(void)sockid_to;
	(void)flags;
	return unsupported();
}

int mtcp_zc_splice_stats(mctx_t mctx, int sockid_from, struct mtcp_splice_stats *st)
{
	(void)mctx;
	(void)sockid_from;
	(void)st;
	return unsupported();
}

int mtcp_zc_splice_samples(mctx_t mctx, int sockid_from, struct mtcp_alpha_sample *out,
			   int max)
{
	(void)mctx;
	(void)sockid_from;
	(void)out;
	(void)max;
	return unsupported();
}
#endif
