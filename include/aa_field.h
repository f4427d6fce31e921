/*
 * aa_field.h - fields of application-aware records (thesis 4.2.1-4.2.2,
 * figure 4.4) and the string helpers that treat a chained field as one
 * string.
 *
 * A field is a chain of views (start, end) into packet buffers, because a
 * field may span packets: `data` is the part of the field in one packet and
 * `next` continues it in the next packet (NULL at the end). Views point into
 * DPDK packet buffers owned by the stack: they stay valid until the record
 * that holds the field is freed (mtcp_zc_free_aa_records), and they are
 * read-only for the application.
 *
 * An empty field is one view with start == end; an absent field is a NULL
 * pointer. Every helper below accepts NULL as an absent (empty) field, never
 * reads outside the views, never allocates, and never overflows: numbers
 * that do not fit are reported as errors (thesis 4.2.2 names the helpers
 * get_byte, fieldstrcmp, fieldstrstr and fieldatoi; they are provided under
 * those names too, see the end of this file).
 */
#ifndef AATCP_AA_FIELD_H
#define AATCP_AA_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtcp_zc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct zc_node;

/* Thesis figure 4.4, plus the owner the stack needs to release the packet
 * buffer in O(1) when the record is freed (thesis 4.2.1). */
struct stream_field {
	struct stream_fragment_content data; /* [start, end) in one packet */
	struct stream_field *next;           /* continuation, NULL at the end */
	struct zc_node *owner;               /* internal: packet holding data */
};

/* Walks the views of a field: for (v = f; v; v = v->next) ... */
#define aa_field_foreach_view(v, f) \
	for (const struct stream_field *v = (f); v; v = v->next)

/*
 * The accessors an application calls per field come inline with a fast
 * path for a field in one view (nearly every field: one packet holds it);
 * a field across packets goes to the library's *_chain version.
 */
size_t aa_field_len_chain(const struct stream_field *f);
int aa_field_byte_chain(const struct stream_field *f, size_t i);
int aa_field_cmp_chain(const struct stream_field *f, const char *s);

/* Total length in bytes. */
static inline size_t aa_field_len(const struct stream_field *f)
{
	if (f && !f->next)
		return (size_t)(f->data.end - f->data.start);
	return aa_field_len_chain(f);
}
/* Number of views (packets) the field spans. */
unsigned aa_field_nviews(const struct stream_field *f);
/* Copies up to n views into v; returns the number of views of the field
 * (may be more than n). */
unsigned aa_field_views(const struct stream_field *f,
			struct stream_fragment_content *v, unsigned n);

/* Byte i of the field (0..255), or -1 when i >= length (get_byte). */
static inline int aa_field_byte(const struct stream_field *f, size_t i)
{
	if (f && !f->next)
		return i < (size_t)(f->data.end - f->data.start)
			       ? (unsigned char)f->data.start[i] : -1;
	return aa_field_byte_chain(f, i);
}

/* Compare the field with the NUL-terminated string s as strcmp() does
 * (the difference of the first differing bytes, unsigned; shorter is
 * smaller): fieldstrcmp. */
static inline int aa_field_cmp(const struct stream_field *f, const char *s)
{
	if (f && !f->next) {
		const unsigned char *p = (const unsigned char *)f->data.start;
		size_t n = (size_t)(f->data.end - f->data.start);

		for (size_t i = 0; i < n; i++) {
			if (!s[i])
				return 1; /* the field is longer */
			if (p[i] != (unsigned char)s[i])
				return p[i] - (unsigned char)s[i];
		}
		return s[n] ? -1 : 0;
	}
	return aa_field_cmp_chain(f, s);
}
/* Same with a byte array of length n (may contain NUL bytes). */
int aa_field_cmp_mem(const struct stream_field *f, const void *s, size_t n);
/* ASCII case-insensitive versions, e.g. for HTTP field names (RFC 9110
 * section 5.1: field names are case-insensitive). */
int aa_field_casecmp(const struct stream_field *f, const char *s);
/* true when the field equals s ignoring ASCII case. */
bool aa_field_eq_case(const struct stream_field *f, const char *s);
/* true when the field begins with s (exact bytes / ignoring ASCII case). */
bool aa_field_has_prefix(const struct stream_field *f, const char *s);
bool aa_field_has_prefix_case(const struct stream_field *f, const char *s);
/* Compares the first n bytes of the field (fewer if it is shorter) with the
 * first n bytes of s, as strncmp(); s is NUL-terminated. */
int aa_field_ncmp(const struct stream_field *f, const char *s, size_t n);
/* Two fields with the same bytes (views may be cut differently). */
bool aa_field_equal(const struct stream_field *a, const struct stream_field *b);

/* Offset of the first occurrence of s in the field at or after `from`, or
 * -1 (fieldstrstr). An empty s is found at `from` if from <= length. */
long aa_field_find(const struct stream_field *f, const char *s, size_t from);
/* Offset of the first byte c at or after from, or -1. */
long aa_field_chr(const struct stream_field *f, int c, size_t from);

/*
 * Numbers. All return 0 and store the value, or -1 and leave *out alone
 * when the field is not exactly a number of that form (empty, stray bytes,
 * leading or trailing spaces) or it does not fit (overflow is detected
 * before it happens, never undefined behaviour).
 *   aa_field_to_i64: optional '+' or '-', then 1..n decimal digits (fieldatoi)
 *   aa_field_to_u64: 1..n decimal digits only
 *   aa_field_hex_to_u64: 1..n hexadecimal digits (e.g. an HTTP chunk size)
 * The _at variants start at byte offset `off` (bytes before it ignored).
 */
int aa_field_to_i64(const struct stream_field *f, int64_t *out);
int aa_field_to_u64(const struct stream_field *f, uint64_t *out);
int aa_field_hex_to_u64(const struct stream_field *f, uint64_t *out);
int aa_field_to_i64_at(const struct stream_field *f, size_t off, int64_t *out);

/*
 * Copies bytes [off, off + n) of the field (clamped to its length) into
 * buf; returns the number copied. No NUL added.
 */
size_t aa_field_copy_range(const struct stream_field *f, size_t off, void *buf,
			   size_t n);
/*
 * Copies the field into buf as a C string: at most cap - 1 bytes, always
 * NUL-terminated when cap > 0. Returns the field's length, as strlcpy():
 * truncated iff the result >= cap.
 */
size_t aa_field_copy(const struct stream_field *f, char *buf, size_t cap);

/*
 * The names used by the thesis (4.2.2). Define AA_FIELD_NO_THESIS_NAMES
 * before including this header if they clash with names of your program.
 */
#ifndef AA_FIELD_NO_THESIS_NAMES
static inline int get_byte(const struct stream_field *f, size_t i)
{
	return aa_field_byte(f, i);
}
static inline int fieldstrcmp(const struct stream_field *f, const char *s)
{
	return aa_field_cmp(f, s);
}
static inline long fieldstrstr(const struct stream_field *f, const char *s)
{
	return aa_field_find(f, s, 0);
}
/* The value of a decimal field; 0 and *ok = false when it is not one. */
static inline int64_t fieldatoi(const struct stream_field *f, bool *ok)
{
	int64_t v = 0;
	int r = aa_field_to_i64(f, &v);

	if (ok)
		*ok = r == 0;
	return r == 0 ? v : 0;
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* AATCP_AA_FIELD_H */
