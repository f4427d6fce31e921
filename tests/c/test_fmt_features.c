/*
 * test_fmt_features.c - the constructs of the format language, through
 * modules compiled from tests/formats/data/good/ (meson runs the compiler
 * at build time), real mbufs, a real zc stream and the aa runtime:
 *
 *   netstring.fmt  a length read into a record variable, then `length n`
 *                  across packets; a stream variable; fail codes; against
 *                  the records the test builds, at random segmentations
 *   delims.fmt     overlapping multi-byte delimiters (KMP), the longest of
 *                  several completing on one byte, `max`, `eof`: random
 *                  streams against a brute-force reference, including the
 *                  offsets of too-long errors, at random segmentations
 *   features.fmt   parameters (defaults, range), bool variables, elif,
 *                  next FIELD, count, arithmetic, the field tests, packet
 *                  fields, until eof, on eof: expected records by hand
 *   fast.fmt       the record fast path (aatcp/formats/cfast.py) and every
 *                  way it gives a record up: random streams against the
 *                  same stream fed a byte at a time (the general loop),
 *                  and expected records by hand
 *
 * Every stream whose records do not depend on packet boundaries (all but
 * features.fmt's packet mode) must give the same records at every pair of
 * cuts and at random segmentations; every pool must come back full.
 */
#include <errno.h>

#include "test_aa_harness.h"

#include "fmt_delims.h"
#include "fmt_fast.h"
#include "fmt_lines.h"
#include "fmt_features.h"
#include "fmt_netstring.h"

static uint32_t segs[1 << 18];
static uint64_t n_runs;

static void canon_error(struct aa_h_buf *out, const struct aa_record *r)
{
	aa_h_printf(out, "E%u@%llu\n", r->error, (unsigned long long)r->offset);
}

/* Parses s whole, then at every pair of cuts (unless !invariant) and at
 * random segmentations: always the records `want`. */
struct pair_arg {
	struct aa_h_run *run;
	const char *data;
	size_t len;
	const char *want;
};

static void expect(struct aa_h_run *run, const char *data, size_t len,
		   const uint32_t *sg, size_t n, const char *want)
{
	struct aa_h_buf out = { 0 };

	aa_h_feed(run, data, len, sg, n, &out);
	n_runs++;
	if (strcmp(out.p ? out.p : "", want) != 0) {
		struct aa_h_buf w = { 0 };

		aa_h_put(&w, want, strlen(want));
		aa_h_diff(run->mod->name, &w, &out);
		CHECK_MSG(0, "%s: unexpected records", run->mod->name);
	}
	aa_h_free(&out);
}

static void cut_pair(size_t i, size_t j, void *arg)
{
	struct pair_arg *pa = arg;
	size_t n = aa_h_cut3(pa->len, i, j, segs);

	expect(pa->run, pa->data, pa->len, segs, n, pa->want);
}

static void everywhere(struct aa_h_run *run, const char *data, size_t len,
		       const char *want, bool pairs, int n_random)
{
	struct pair_arg pa = { run, data, len, want };
	size_t n = aa_h_cut3(len, 0, 0, segs);

	expect(run, data, len, segs, n, want);
	if (pairs)
		aa_h_for_pairs(len, cut_pair, &pa);
	for (int k = 0; k < n_random; k++) {
		static const uint32_t maxseg[] = { 1, 2, 7, 64, 1460 };

		n = aa_h_random_segs(len, maxseg[k % 5], segs);
		run->hold_steps = k % 3 ? 0 : (unsigned)test_rand_range(1, 9);
		run->cfg.records = k % 2 ? 0 : (uint32_t)test_rand_range(2, 6);
		/* a field may cross every packet of a 1-byte segmentation */
		run->cfg.max_extra_views = (uint32_t)len + 16;
		expect(run, data, len, segs, n, want);
	}
	run->hold_steps = 0;
	run->cfg.records = 0;
	run->cfg.max_extra_views = 0;
}

/* ---- netstring.fmt ------------------------------------------------------------ */

static void canon_ns(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct netstring_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		canon_error(out, rec);
		return;
	}
	CHECK(rec->type == NETSTRING_ITEM);
	CHECK(aa_field_len(r->fields.item.comma) == 1);
	aa_h_printf(out, "N@%llu n=%lld before=%lld ", (unsigned long long)rec->offset,
		    (long long)r->vars.item.n, (long long)r->vars.item.total_before);
	aa_h_field(out, r->fields.item.data);
	aa_h_put(out, "\n", 1);
}

static void netstrings(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "5:hello,0:,3:abc,", "N@0 n=5 before=0 5:hello\nN@8 n=0 before=5 0:\n"
				       "N@11 n=3 before=5 3:abc\n" },
		{ "+2: x,", "N@0 n=2 before=0 2: x\n" },
		{ "3:abcd", "E1@6\n" },
		{ "-1:", "E5@3\n" },
		{ "1234567890:", "E2@9\n" },
		{ "5:hel", "E9@5\n" },
		{ "x:", "E1@2\n" },
		{ "", "" },
	};
	struct aa_h_run run = { .mod = &netstring_aa_module, .canon = canon_ns };
	struct aa_h_buf data = { 0 }, want = { 0 };
	long long total = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		everywhere(&run, t[i].in, strlen(t[i].in), t[i].want, true, 10);
	/* long payloads across many packets */
	for (int i = 0; i < 80; i++) {
		int len = i % 9 == 0 ? 0 : (int)test_rand_range(1, 5000);
		size_t at = data.len;

		aa_h_printf(&data, "%d:", len);
		aa_h_printf(&want, "N@%zu n=%d before=%lld %d:", at, len, total, len);
		for (int k = 0; k < len; k++) {
			char ch = (char)test_rand();

			aa_h_put(&data, &ch, 1);
			aa_h_put(&want, &ch, 1);
		}
		aa_h_put(&data, ",", 1);
		aa_h_put(&want, "\n", 1);
		total += len;
	}
	everywhere(&run, data.p, data.len, want.p, false, AA_H_SANITIZED ? 10 : 40);
	aa_h_free(&data);
	aa_h_free(&want);
}

/* ---- delims.fmt ----------------------------------------------------------------- */

static void canon_dl(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct delims_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		canon_error(out, rec);
		return;
	}
	aa_h_printf(out, "X@%llu %lld ", (unsigned long long)rec->offset,
		    (long long)r->vars.item.which);
	aa_h_field(out, r->fields.item.x);
	aa_h_put(out, "\n", 1);
}

/*
 * The reference: a field ends at the first byte that completes one of
 * the delimiters (counting only bytes of the field), the longest if
 * several complete there; content beyond 6 bytes (bytes that may still
 * begin a delimiter do not count yet) is an error at that byte, or after
 * the delimiter when the limit is exceeded only by the final content.
 */
static void ref_delims(const char *d, size_t len, struct aa_h_buf *out)
{
	static const char *const dl[] = { "aab", "abab", "b;", ";" };
	const size_t max = 6;
	size_t s = 0;

	while (s < len) {
		size_t e;

		for (e = s + 1; e <= len; e++) {
			int best = -1;
			size_t partial = 0;

			for (int k = 0; k < 4; k++) {
				size_t l = strlen(dl[k]);

				if (e - s >= l && memcmp(d + e - l, dl[k], l) == 0 &&
				    (best < 0 || l > strlen(dl[best])))
					best = k;
				for (size_t q = l - 1; q > partial; q--)
					if (e - s >= q && memcmp(d + e - q, dl[k], q) == 0) {
						partial = q;
						break;
					}
			}
			if (best >= 0) {
				size_t cl = e - s - strlen(dl[best]);

				if (cl > max) {
					aa_h_printf(out, "E2@%zu\n", e);
					return;
				}
				aa_h_printf(out, "X@%zu %d %zu:", s, best + 1, cl);
				aa_h_put(out, d + s, cl);
				aa_h_put(out, "\n", 1);
				break;
			}
			if (e - s - partial > max) {
				aa_h_printf(out, "E2@%zu\n", e - 1);
				return;
			}
		}
		if (e > len) { /* the end of the stream ends the field */
			if (len - s > max) {
				aa_h_printf(out, "E2@%zu\n", len);
				return;
			}
			aa_h_printf(out, "X@%zu 5 %zu:", s, len - s);
			aa_h_put(out, d + s, len - s);
			aa_h_put(out, "\n", 1);
			return;
		}
		s = e;
	}
}

static void delims(void)
{
	struct aa_h_run run = { .mod = &delims_aa_module, .canon = canon_dl };

	for (int k = 0; k < (AA_H_SANITIZED ? 60 : 300); k++) {
		char d[200];
		size_t len = (size_t)test_rand_range(0, sizeof(d));
		struct aa_h_buf want = { 0 };
		const char *alpha = k % 2 ? "aab;xy" : "ab;abab";
		size_t na = strlen(alpha);

		for (size_t i = 0; i < len; i++)
			d[i] = alpha[test_rand() % na];
		ref_delims(d, len, &want);
		everywhere(&run, d, len, want.p ? want.p : "", k < 20, 6);
		aa_h_free(&want);
	}
}

/* ---- features.fmt ----------------------------------------------------------------- */

static void canon_ft(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct features_record *r = (const void *)rec;

	(void)ctx;
	switch (rec->type) {
	case AA_RECORD_ERROR:
		canon_error(out, rec);
		return;
	case FEATURES_MSG:
		aa_h_printf(out, "M#%lld k%lld s%d w%lld t%d ", (long long)r->vars.msg.seq,
			    (long long)r->vars.msg.kind, r->vars.msg.shouted,
			    (long long)r->vars.msg.weight, r->vars.msg.tagged);
		aa_h_field(out, r->fields.msg.verb);
		aa_h_put(out, " [", 2);
		for (uint32_t i = 0; i < r->vars.msg.n_item; i++) {
			aa_h_field(out, r->fields.msg.item[i]);
			aa_h_put(out, i + 1 < r->vars.msg.n_item ? "," : "", i + 1 < r->vars.msg.n_item);
		}
		CHECK(r->vars.msg.n_item == 8 || r->fields.msg.item[r->vars.msg.n_item] == NULL);
		aa_h_put(out, "]", 1);
		if (r->fields.msg.mode) {
			aa_h_put(out, " ", 1);
			aa_h_field(out, r->fields.msg.mode);
		}
		break;
	case FEATURES_CHUNK:
		aa_h_put(out, "C ", 2);
		aa_h_field(out, r->fields.chunk.data);
		break;
	case FEATURES_REST:
		aa_h_put(out, "R ", 2);
		aa_h_field(out, r->fields.rest.data);
		break;
	default:
		CHECK_MSG(0, "record type %u", rec->type);
	}
	aa_h_put(out, "\n", 1);
}

#define S(x) x, sizeof(x) - 1

static void features(void)
{
	static const char session[] = "SET a,#b,cc\nGET x\nPING\nRAW rest\nhello\nworld";
	struct features_params lax = { .strict = false, .max_items = 4 };
	struct features_params wide = { .strict = true, .max_items = 8 };
	struct aa_h_run strict = { .mod = &features_aa_module, .canon = canon_ft };
	struct aa_h_run run = strict;
	char want[512];

	run.params = &lax;
	everywhere(&run, S(session),
		   "M#101 k1 s1 w55 t1 3:SET [1:a,2:#b,2:cc]\n"
		   "M#102 k2 s1 w9 t0 3:GET [1:x]\n"
		   "M#103 k4 s1 w0 t0 4:PING []\n"
		   "M#104 k3 s1 w0 t0 3:RAW [] 4:rest\n"
		   "R 11:hello\nworld\n", true, 20);
	snprintf(want, sizeof(want), "M#101 k1 s1 w55 t1 3:SET [1:a,2:#b,2:cc]\n"
		 "M#102 k2 s1 w9 t0 3:GET [1:x]\nE1@%zu\n",
		 sizeof("SET a,#b,cc\nGET x\nPING\n") - 1);
	everywhere(&strict, S(session), want, true, 10);
	/* items: the parameter's limit, then the field's slots */
	everywhere(&strict, S("SET a,b,c,d,e\n"), "E4@14\n", true, 4);
	run.params = &wide;
	everywhere(&run, S("set 1,2,3,4,5,6,7,8\n"),
		   "M#101 k1 s0 w352 t0 3:set [1:1,1:2,1:3,1:4,1:5,1:6,1:7,1:8]\n", true, 4);
	everywhere(&run, S("set 1,2,3,4,5,6,7,8,9\n"), "E4@20\n", true, 4);
	/* max on the verb; an unknown verb; a bad mode; a tag */
	everywhere(&strict, S("SETTINGS1 a\n"), "E2@8\n", true, 4);
	everywhere(&strict, S("SETTINGS a\n"), "E1@9\n", true, 4);
	everywhere(&strict, S("RAW x\n"), "E1@6\n", true, 4);
	everywhere(&strict, S("get a!!b\n"), "M#101 k2 s0 w6 t1 3:get [4:a!!b]\n", true, 4);
	everywhere(&strict, S("RAW rest\n"), "M#101 k3 s1 w0 t0 3:RAW [] 4:rest\n", true, 4);
	everywhere(&strict, S("GET x"), "E9@5\n", true, 4);
	/* packet mode: records follow the packets */
	{
		static const char d[] = "get a!!b\nRAW packet\nxxyyyz.wset q\n";
		static const uint32_t sg[] = { 22, 3, 3, 6 };

		expect(&strict, d, sizeof(d) - 1, sg, 4,
		       "M#101 k2 s0 w6 t1 3:get [4:a!!b]\n"
		       "M#102 k3 s1 w0 t0 3:RAW [] 6:packet\n"
		       "C 2:xx\nC 3:yyy\nC 3:z.w\n"
		       "M#103 k1 s0 w9 t0 3:set [1:q]\n");
	}
	{
		static const char d[] = "RAW packet\nabc";
		static const uint32_t sg[] = { 14 };

		expect(&strict, d, sizeof(d) - 1, sg, 1,
		       "M#101 k3 s1 w0 t0 3:RAW [] 6:packet\nC 3:abc\nE9@14\n");
	}
}

/* ---- fast.fmt -------------------------------------------------------------------- */

static void canon_fast(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct fast_record *r = (const void *)rec;

	(void)ctx;
	switch (rec->type) {
	case AA_RECORD_ERROR:
		canon_error(out, rec);
		return;
	case FAST_ROW:
		aa_h_printf(out, "R@%llu ", (unsigned long long)rec->offset);
		aa_h_field(out, r->fields.row.key);
		aa_h_put(out, " [", 2);
		for (uint32_t i = 0; i < r->vars.row.n_val; i++) {
			aa_h_field(out, r->fields.row.val[i]);
			aa_h_put(out, i + 1 < r->vars.row.n_val ? "," : "", i + 1 < r->vars.row.n_val);
		}
		aa_h_put(out, "]", 1);
		if (r->fields.row.tail) {
			aa_h_put(out, " ", 1);
			aa_h_field(out, r->fields.row.tail);
		}
		break;
	case FAST_NOTE:
		aa_h_printf(out, "N@%llu ", (unsigned long long)rec->offset);
		aa_h_field(out, r->fields.note.text);
		break;
	default:
		CHECK_MSG(0, "record type %u", rec->type);
	}
	aa_h_put(out, "\n", 1);
}

/* n random bytes of alpha at *w */
static void fast_word(char **w, size_t n, const char *alpha)
{
	for (size_t i = 0; i < n; i++)
		*(*w)++ = alpha[test_rand() % strlen(alpha)];
}

/* A stream of fast.fmt records with cols values at most, now and then a
 * record the fast path gives up (quotes, a long key, too many values, an
 * empty key or note) or a stray byte; written at d, its length returned. */
static size_t fast_stream(char *d, size_t cap, uint32_t cols)
{
	static const char *const stray[] = { ":", "=>", ",", ";", "\r", "\n", "||", "'", "=" };
	char *w = d;
	bool note = false;

	while ((size_t)(w - d) + 64 < cap) {
		int odd = test_rand_range(0, 30);

		if (odd == 0) { /* a stray delimiter byte */
			const char *x = stray[test_rand() % 9];

			memcpy(w, x, strlen(x));
			w += strlen(x);
		}
		if (note) {
			fast_word(&w, (size_t)test_rand_range(odd == 1 ? 0 : 1, 6), "abc|");
			memcpy(w, test_rand() % 2 ? "\n" : "||", 2);
			w += *w == '\n' ? 1 : 2;
			note = false;
			continue;
		}
		fast_word(&w, (size_t)test_rand_range(odd == 2 ? 0 : 1, odd == 3 ? 11 : 8), "kxy=");
		if (test_rand() % 4 == 0) {
			size_t t = (size_t)test_rand_range(0, 9);

			memcpy(w, "=>", 2);
			w += 2;
			fast_word(&w, t, "tu:,;");
			*w++ = '\n';
			note = t > 5;
			continue;
		}
		*w++ = ':';
		for (uint32_t v = 0, nv = (uint32_t)test_rand_range(1, (int)cols + (odd == 4));
		     v < nv; v++) {
			if (odd == 5 && v == nv - 1) {
				memcpy(w, "'q,;'", 5);
				w += 5;
			} else {
				fast_word(&w, (size_t)test_rand_range(0, 5), "vwz:=|");
			}
			if (v + 1 < nv) {
				*w++ = ',';
			} else if (test_rand() % 3 == 0) {
				*w++ = ';';
				note = true;
			} else {
				memcpy(w, "\r\n", 2);
				w += 2;
			}
		}
	}
	return (size_t)(w - d);
}

static void fast(void)
{
	struct fast_params p = FAST_PARAMS_DEFAULT;
	struct aa_h_run run = { .mod = &fast_aa_module, .params = &p, .canon = canon_fast };
	static const char by_hand[] =
		"ab:1,2\r\n"        /* a row, ended by CRLF */
		"k=>tailxx\n"        /* `next tail`; tail longer than 5: a note follows */
		"note one||"
		"c:x;"                /* ; ends the row, a note follows */
		"\n"                 /* an empty note ended by LF */
		"d:'q,;',2\r\n"     /* a quoted value: the general loop */
		"e:1,2,3,4\r\n";    /* a fourth value: more than cols */
	const char *want =
		"R@0 2:ab [1:1,1:2]\n"
		"R@8 1:k [] 6:tailxx\n"
		"N@18 8:note one\n"
		"R@28 1:c [1:x]\n"
		"N@32 0:\n"
		"R@33 1:d [5:'q,;',1:2]\n"
		"E4@52\n";           /* too many fields, where the fourth begins */

	everywhere(&run, S(by_hand), want, true, 30);
	for (int k = 0; k < (AA_H_SANITIZED ? 60 : 300); k++) {
		char d[1200];
		size_t len;
		struct aa_h_buf ref = { 0 };

		p.cols = test_rand_range(1, 6);
		len = fast_stream(d, (size_t)test_rand_range(70, (int)sizeof(d)), (uint32_t)p.cols);
		for (size_t i = 0; i < len; i++)
			segs[i] = 1;
		run.cfg.max_extra_views = (uint32_t)len + 16;
		aa_h_feed(&run, d, len, segs, len, &ref);
		run.cfg.max_extra_views = 0;
		everywhere(&run, d, len, ref.p ? ref.p : "", k < 4, 6);
		aa_h_free(&ref);
	}
}

/* ---- lines.fmt ------------------------------------------------------------------- */

static void canon_lines(struct aa_h_buf *out, const struct aa_record *rec, void *ctx)
{
	const struct lines_record *r = (const void *)rec;

	(void)ctx;
	if (rec->type == AA_RECORD_ERROR) {
		canon_error(out, rec);
		return;
	}
	if (rec->type == LINES_NOTHING) {
		aa_h_put(out, "0", 1); /* a thousand of them: one byte each */
		return;
	}
	CHECK(rec->type == LINES_LINE);
	aa_h_put(out, "L ", 2);
	aa_h_field(out, r->fields.line.text);
	aa_h_put(out, "\n", 1);
}

/* A fast record, then records that consume nothing: the guard stops the
 * stream after 1000 of them, as after a record of the general loop. */
static void lines(void)
{
	struct aa_h_run run = { .mod = &lines_aa_module, .canon = canon_lines };
	struct aa_h_buf want = { 0 };

	aa_h_put(&want, "L 2:ab\nL 0:\n", 12);
	for (int i = 0; i < 1000; i++)
		aa_h_put(&want, "0", 1);
	aa_h_put(&want, "E11@4\n", 6);
	run.cfg.records = 2048;
	everywhere(&run, S("ab\n\nmore\n"), want.p, false, 10);
	aa_h_free(&want);
}

static void params(void)
{
	static uint64_t state[512];
	struct aa_layout l;
	struct features_params p = FEATURES_PARAMS_DEFAULT;

	CHECK(features_aa_module.state_size <= sizeof(state));
	CHECK(p.strict == true && p.max_items == 4);
	CHECK(features_aa_module.init(state, NULL, &l) == 0);
	CHECK(l.max_record_bytes == 0 && l.field_slots == FEATURES_MAX_FIELDS);
	p.max_items = 0;
	CHECK(features_aa_module.init(state, &p, &l) == -EINVAL);
	p.max_items = 9;
	CHECK(features_aa_module.init(state, &p, &l) == -EINVAL);
	CHECK(netstring_aa_module.init(state, &p, &l) == -EINVAL); /* no params */
	CHECK(FEATURES_MSG == 1 && FEATURES_CHUNK == 2 && FEATURES_REST == 3);
	CHECK(FEATURES_MAX_FIELDS == 10 && DELIMS_MAX_FIELDS == 1);
}

int main(int argc, char **argv)
{
	(void)argc;
	aa_h_init(argv[0], true);
	params();
	netstrings();
	delims();
	features();
	fast();
	lines();
	printf("fmt_features: %llu runs\n", (unsigned long long)n_runs);
	return test_done();
}
