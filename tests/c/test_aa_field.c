/*
 * test_aa_field.c - the field helpers of aa_field.h (thesis 4.2.2:
 * get_byte, fieldstrcmp, fieldstrstr, fieldatoi, ...) on fields built by
 * hand: random strings cut into random chains of views (empty views
 * included), each helper compared with the same operation on the flat
 * string. Numbers at and beyond their limits must be refused, never
 * overflow (UBSan watches).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "mtcp_aa.h"

#define MAXV 64

struct chain {
	struct stream_field v[MAXV];
	char buf[256];
	size_t len;
};

/* s cut into a chain at random places (maybe empty views). */
static const struct stream_field *make(struct chain *c, const char *s, size_t n)
{
	size_t off = 0;
	int k = 0;

	CHECK(n < sizeof(c->buf));
	memcpy(c->buf, s, n);
	c->len = n;
	do {
		size_t take = n - off;

		if (k < MAXV - 1 && take && test_chance(2, 3))
			take = (size_t)test_rand_range(0, take);
		c->v[k].data.start = c->buf + off;
		c->v[k].data.end = c->buf + off + take;
		c->v[k].next = NULL;
		c->v[k].owner = NULL;
		if (k)
			c->v[k - 1].next = &c->v[k];
		off += take;
		k++;
	} while (off < n && k < MAXV);
	c->v[k - 1].data.end = c->buf + n; /* the last view takes the rest */
	return &c->v[0];
}

static const struct stream_field *make_s(struct chain *c, const char *s)
{
	return make(c, s, strlen(s));
}

static int sign(int x) { return (x > 0) - (x < 0); }

static int flat_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t m = an < bn ? an : bn;
	int r = memcmp(a, b, m);

	if (r)
		return sign(r);
	return an == bn ? 0 : an < bn ? -1 : 1;
}

static void random_text(char *s, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[test_rand() % k];
	s[n] = '\0';
}

static void strings(void)
{
	struct chain c, d;
	char a[128], b[128];

	for (int it = 0; it < 20000; it++) {
		size_t an = (size_t)test_rand_range(0, 40), bn;
		const struct stream_field *f, *g;
		long want_find;

		random_text(a, an, it % 2 ? "ab" : "aAbB-:xyz\xe9");
		/* b: a prefix of a, a mutation, or random */
		bn = (size_t)test_rand_range(0, 12);
		if (test_chance(1, 2) && an) {
			size_t off = (size_t)test_rand_range(0, an - 1);

			bn = (size_t)test_rand_range(0, an - off);
			memcpy(b, a + off, bn);
			b[bn] = '\0';
		} else {
			random_text(b, bn, "abAB");
		}
		f = make(&c, a, an);
		CHECK_EQ_U64(aa_field_len(f), an);
		for (size_t i = 0; i <= an; i++)
			CHECK(aa_field_byte(f, i) ==
			      (i < an ? (unsigned char)a[i] : -1));
		CHECK(sign(aa_field_cmp(f, b)) == flat_cmp(a, an, b, bn));
		CHECK(sign(aa_field_cmp_mem(f, b, bn)) == flat_cmp(a, an, b, bn));
		CHECK(sign(fieldstrcmp(f, b)) == flat_cmp(a, an, b, bn));
		CHECK((aa_field_casecmp(f, b) == 0) ==
		      (an == bn && strncasecmp(a, b, an) == 0));
		CHECK(aa_field_eq_case(f, b) == (an == bn && !strncasecmp(a, b, an)));
		CHECK(aa_field_has_prefix(f, b) == (bn <= an && !memcmp(a, b, bn)));
		CHECK(aa_field_has_prefix_case(f, b) ==
		      (bn <= an && !strncasecmp(a, b, bn)));
		for (size_t n = 0; n < 14; n++) {
			size_t ap = an < n ? an : n, bp = bn < n ? bn : n;

			CHECK(sign(aa_field_ncmp(f, b, n)) == flat_cmp(a, ap, b, bp));
		}
		/* find: memmem from every start */
		for (size_t from = 0; from <= an + 1; from++) {
			const char *hit = from <= an ? memmem(a + from, an - from, b, bn) : NULL;

			want_find = hit ? (long)(hit - a) : -1;
			if (from > an)
				want_find = -1;
			CHECK_MSG(aa_field_find(f, b, from) == want_find,
				  "find '%s' in '%s' from %zu: %ld, want %ld", b, a,
				  from, aa_field_find(f, b, from), want_find);
		}
		CHECK(fieldstrstr(f, b) == aa_field_find(f, b, 0));
		if (bn) {
			const char *hit = memchr(a, b[0], an);

			CHECK(aa_field_chr(f, b[0], 0) == (hit ? hit - a : -1));
		}
		/* equal: same bytes, other cuts */
		g = make(&d, a, an);
		CHECK(aa_field_equal(f, g));
		g = make(&d, b, bn);
		CHECK(aa_field_equal(f, g) == (an == bn && !memcmp(a, b, an)));
		/* copies */
		{
			char out[64];
			size_t cap = (size_t)test_rand_range(0, 50);
			size_t r = aa_field_copy(f, out, cap);

			CHECK(r == an);
			if (cap) {
				size_t k = an < cap - 1 ? an : cap - 1;

				CHECK(memcmp(out, a, k) == 0 && out[k] == '\0');
			}
			for (size_t off = 0; off <= an + 2; off += 3) {
				size_t n = (size_t)test_rand_range(0, 20);
				size_t want = off >= an ? 0 : (an - off < n ? an - off : n);

				CHECK(aa_field_copy_range(f, off, out, n) == want);
				CHECK(memcmp(out, a + (off < an ? off : an), want) == 0);
			}
		}
		/* views */
		{
			struct stream_fragment_content v[MAXV];
			unsigned nv = aa_field_views(f, v, MAXV);
			size_t tot = 0;

			CHECK(nv == aa_field_nviews(f));
			for (unsigned i = 0; i < nv; i++)
				tot += (size_t)(v[i].end - v[i].start);
			CHECK(tot == an);
		}
	}
	/* absent fields */
	CHECK(aa_field_len(NULL) == 0);
	CHECK(aa_field_byte(NULL, 0) == -1);
	CHECK(aa_field_cmp(NULL, "") == 0 && aa_field_cmp(NULL, "a") < 0);
	CHECK(aa_field_find(NULL, "", 0) == 0 && aa_field_find(NULL, "a", 0) == -1);
	CHECK(aa_field_equal(NULL, NULL));
}

static void numbers(void)
{
	static const struct {
		const char *s;
		int ok;
		int64_t v;
	} i64[] = {
		{ "0", 1, 0 },
		{ "42", 1, 42 },
		{ "+7", 1, 7 },
		{ "-7", 1, -7 },
		{ "007", 1, 7 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "9223372036854775808", 0, 0 },
		{ "-9223372036854775808", 1, INT64_MIN },
		{ "-9223372036854775809", 0, 0 },
		{ "99999999999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "+", 0, 0 },
		{ "-", 0, 0 },
		{ " 1", 0, 0 },
		{ "1 ", 0, 0 },
		{ "1a", 0, 0 },
		{ "--1", 0, 0 },
	};
	static const struct {
		const char *s;
		int ok;
		uint64_t v;
		int hex;
	} u64[] = {
		{ "18446744073709551615", 1, UINT64_MAX, 0 },
		{ "18446744073709551616", 0, 0, 0 },
		{ "-1", 0, 0, 0 },
		{ "+1", 0, 0, 0 },
		{ "ffffffffffffffff", 1, UINT64_MAX, 1 },
		{ "1ffffffffffffffff", 0, 0, 1 },
		{ "DeadBeef", 1, 0xdeadbeef, 1 },
		{ "0x10", 0, 0, 1 },
		{ "", 0, 0, 1 },
	};
	struct chain c;

	for (int rep = 0; rep < 200; rep++) {
		for (size_t i = 0; i < sizeof(i64) / sizeof(i64[0]); i++) {
			int64_t v = 12345;
			bool ok;
			int r = aa_field_to_i64(make_s(&c, i64[i].s), &v);

			CHECK_MSG((r == 0) == i64[i].ok, "'%s'", i64[i].s);
			CHECK(r == 0 ? v == i64[i].v : v == 12345);
			v = fieldatoi(make_s(&c, i64[i].s), &ok);
			CHECK(ok == (bool)i64[i].ok && (ok ? v == i64[i].v : v == 0));
		}
		for (size_t i = 0; i < sizeof(u64) / sizeof(u64[0]); i++) {
			uint64_t v = 9;
			const struct stream_field *f = make_s(&c, u64[i].s);
			int r = u64[i].hex ? aa_field_hex_to_u64(f, &v)
					   : aa_field_to_u64(f, &v);

			CHECK_MSG((r == 0) == u64[i].ok, "'%s'", u64[i].s);
			CHECK(r == 0 ? v == u64[i].v : v == 9);
		}
	}
	{
		int64_t v;

		CHECK(aa_field_to_i64_at(make_s(&c, "Content-Length: 123"), 16,
					 &v) == 0 && v == 123);
		CHECK(aa_field_to_i64_at(make_s(&c, "abc"), 5, &v) < 0);
	}
	/* random round trips */
	for (int it = 0; it < 20000; it++) {
		int64_t x = (int64_t)test_rand(), v;
		char s[32];

		snprintf(s, sizeof(s), "%" PRId64, x);
		CHECK(aa_field_to_i64(make_s(&c, s), &v) == 0 && v == x);
	}
}

static void csv_unescape(void)
{
	static const struct {
		const char *raw, *val;
	} t[] = {
		{ "plain", "plain" },
		{ "\"\"", "" },
		{ "\"a,b\"", "a,b" },
		{ "\"say \"\"hi\"\"\"", "say \"hi\"" },
		{ "\"\"\"\"", "\"" },
		{ "\"line\r\nbreak\"", "line\r\nbreak" },
	};
	struct chain c;
	char out[64];

	for (int rep = 0; rep < 100; rep++)
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			const struct stream_field *f = make_s(&c, t[i].raw);
			size_t n = aa_csv_field_copy(f, 0, out, sizeof(out));

			CHECK(n == strlen(t[i].val) && strcmp(out, t[i].val) == 0);
			CHECK(aa_csv_field_quoted(f, '"') == (t[i].raw[0] == '"'));
			/* truncation: still NUL-terminated, full length returned */
			CHECK(aa_csv_field_copy(f, 0, out, 2) == strlen(t[i].val));
			CHECK(strlen(out) <= 1);
		}
}

static void names(void)
{
	for (uint32_t e = AA_ERR_NONE; e <= AA_ERR_MODULE; e++)
		CHECK(strcmp(aa_error_name(e), "unknown") != 0);
	CHECK(strcmp(aa_error_name(999), "unknown") == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_init(argv[0]);
	strings();
	numbers();
	csv_unescape();
	names();
	return test_done();
}
