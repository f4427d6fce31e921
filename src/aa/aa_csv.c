/*
 * aa_csv.c - the CSV module (thesis 4.2: records are lines, fields are
 * columns, the number of fields fixed per socket), extended to RFC 4180:
 * quoted fields with delimiters, CR, LF and doubled quotes inside; LF or
 * CRLF line ends. See struct aa_csv_record in mtcp_aa.h for what the
 * application gets.
 *
 * A byte-driven state machine, so a line or a field may be split anywhere
 * across packets; an unquoted field is scanned for the four bytes that end
 * it (delimiter, CR, LF, NUL) with the vector scanner (aa_scan.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "aa/aa_fast.h"
#include "aa/aa_module.h"
#include "aa/aa_scan.h"
#include "aa_delim.h"

#define DEF_MAX_LINE (64u * 1024u)
/* Bytes of a field looked at one by one before the vector scanner. */
#define SHORT_PROBE 2
/* Lines of up to this many fields may take the whole-line path. */
#define LINE_FAST_FIELDS 32u
/* Offsets of an AA_CSV_LINES record (mtcp_aa.h): room for 255 lines of 3
 * fields, 204 of 4 (a 1460-byte packet of figure 4.5's 1-byte fields holds
 * 182), 31 of 32; they follow the field slots in the pool element. */
#define BATCH_SPANS 1024u
/* The offsets are 16 bits: a batch covers at most this many bytes. */
#define BATCH_MAX_BYTES 65535

enum csv_st {
	CSV_FIELD_START, /* before the first byte of a field */
	CSV_UNQUOTED,
	CSV_QUOTED,      /* inside quotes */
	CSV_QUOTE,       /* a quote inside quotes: closing, or doubled */
	CSV_CR,          /* after a CR that ended the last field */
	CSV_CR_EMPTY,    /* after a CR at the start of a line (skipped) */
};

struct csv_state {
	uint32_t n_fields;
	uint32_t pflags;
	uint32_t field;     /* index of the field being parsed */
	uint8_t st;
	uint8_t delim;
	uint8_t quote;
	bool quoted;        /* the line has a quoted field */
	uint8_t special[256]; /* unquoted field ends at these */
};

/* Whole lines of a packet go into one AA_CSV_LINES record. */
static bool batching(const struct csv_state *s)
{
	return (s->pflags & AA_CSV_P_BATCH) && s->n_fields <= LINE_FAST_FIELDS;
}

static int csv_init(void *state, const void *params, struct aa_layout *l)
{
	const struct aa_csv_params *pp = params;
	struct csv_state *s = state;

	if (!pp || pp->n_fields == 0 || pp->n_fields > AA_CSV_MAX_FIELDS ||
	    (pp->flags & ~(AA_CSV_P_SKIP_EMPTY_LINES | AA_CSV_P_BATCH)))
		return -EINVAL;
	s->n_fields = pp->n_fields;
	s->pflags = pp->flags;
	s->delim = (uint8_t)(pp->delimiter ? pp->delimiter : ',');
	s->quote = (uint8_t)(pp->quote ? pp->quote : '"');
	if (s->delim == s->quote || s->delim == '\r' || s->delim == '\n' ||
	    s->quote == '\r' || s->quote == '\n')
		return -EINVAL;
	s->special[s->delim] = 1;
	s->special['\r'] = 1;
	s->special['\n'] = 1;
	s->special[0] = 1;
	s->st = CSV_FIELD_START;
	l->record_size = sizeof(struct aa_csv_record) +
			 s->n_fields * sizeof(struct stream_field *);
	if (batching(s))
		l->record_size += BATCH_SPANS * sizeof(uint16_t);
	l->fields_offset = offsetof(struct aa_csv_record, fields);
	l->field_slots = s->n_fields;
	l->max_record_bytes = pp->max_line ? pp->max_line : DEF_MAX_LINE;
	return 0;
}

/* The first byte that ends an unquoted field (delimiter, CR, LF or NUL),
 * 16 or 32 bytes at a time (aa_scan.h). */
static const char *scan_special(const struct csv_state *s, const char *c,
				const char *end)
{
	return aa_scan_any4(c, end, (char)s->delim, '\r', '\n', '\0');
}

/* The first special byte at or after c. The SSE2 scanner is inlined here
 * (aa_delim.h): the fields of figure 4.5's sweep are short, and a call per
 * field cost more than the scan (docs/aa-performance.md). */
static inline const char *field_end(const struct csv_state *s, const char *c,
				    const char *end)
{
	/* the shortest fields end before a vector step pays */
	for (int i = 0; i < SHORT_PROBE && c < end; i++, c++)
		if (s->special[(uint8_t)*c])
			return c;
	if (aa_simd_level == AA_SIMD_SSE2)
		return aa_delim_find_any4(c, end, (char)s->delim, '\r', '\n', '\0');
	return scan_special(s, c, end);
}

/*
 * Where the next special byte at or after pos is, for the whole-line path:
 * with SSE2 a bit mask per 16 bytes, carried from field to field and line to
 * line, so that the short fields of figure 4.5 cost a bit each, not a scan
 * each; otherwise field_end(). NULL: not within the bytes this path looks
 * at (the last < 16 bytes of the packet with SSE2): the states take over.
 */
struct special_cursor {
	const char *blk; /* 16-byte block whose bits are in m */
	unsigned m;      /* special bytes of blk not yet handed out */
};

static inline const char *next_special(const struct csv_state *s,
				       struct special_cursor *k,
				       const char *pos, const char *end)
{
	const char *e;

#if defined(__SSE2__)
	if (aa_simd_level == AA_SIMD_SSE2) {
		for (;;) {
			while (!k->m) {
				k->blk += 16;
				if (end - k->blk < 16)
					return NULL;
				k->m = aa_delim_mask16_any4(k->blk, (char)s->delim,
							    '\r', '\n', '\0');
			}
			e = k->blk + __builtin_ctz(k->m);
			k->m &= k->m - 1;
			if (e >= pos) /* bits before pos: an LF after a CR */
				return e;
		}
	}
#else
	(void)k;
#endif
	e = field_end(s, pos, end);
	return e == end ? NULL : e;
}

/*
 * One line at c (c < end) whose fields are all unquoted and that ends in
 * LF or CRLF with exactly n_fields fields: its fields in st/en, the byte
 * after it returned; NULL for any other line (a quote at a field start, a
 * NUL, a stray CR, a wrong field count, an empty line, a line cut by the
 * packet end). RFC 4180 2.1-2.4.
 */
static const char *line_fast(const struct csv_state *s,
			     struct special_cursor *k, const char *c,
			     const char *end, const char **st, const char **en)
{
	const char *pos = c, *e;
	unsigned n = s->n_fields;

	if (*c == '\n' || *c == '\r')
		return NULL; /* empty lines: skipped or an error */
	for (unsigned i = 0; i < n; i++) {
		if (pos >= end || (uint8_t)*pos == s->quote)
			return NULL;
		e = next_special(s, k, pos, end);
		if (!e)
			return NULL;
		st[i] = pos;
		en[i] = e;
		pos = e + 1;
		if (*e == (char)s->delim) {
			if (i + 1 == n)
				return NULL; /* too many fields: the states say so */
		} else if (i + 1 != n || !*e) {
			return NULL; /* too few fields, or a NUL */
		}
	}
	if (pos[-1] != '\r')
		return pos;
	return pos < end && *pos == '\n' ? pos + 1 : NULL;
}

/*
 * The common case in one pass: the whole lines from c (a line start) on,
 * each with its fields set together and its record ended. Returns the byte
 * after the last line done, NULL when the first one is not the common case;
 * nothing of a line that is not was changed, so the states parse it and
 * report any error exactly (tests/c/test_aa_csv.c runs every split through
 * both). *go_on is false when parse() must return (the pools are full).
 */
static const char *lines_fast(struct aa_parse *p, struct csv_state *s,
			      const char *c, const char *end, bool *go_on)
{
	const char *st[LINE_FAST_FIELDS], *en[LINE_FAST_FIELDS];
	struct special_cursor k = { .blk = c - 16, .m = 0 };
	const char *done = NULL;

	*go_on = true;
	if (s->n_fields > LINE_FAST_FIELDS)
		return NULL;
	while (c < end) {
		const char *next = line_fast(s, &k, c, end, st, en);
		struct aa_csv_record *r;

		if (!next || !aa_fields_set_try(p, 0, s->n_fields, st, en))
			break;
		r = aa_record(p);
		r->n_fields = s->n_fields;
		r->flags = 0;
		r->n_lines = 1;
		done = c = next;
		*go_on = aa_record_end(p, AA_CSV_LINE, c);
		if (!*go_on)
			break;
	}
	return done;
}

/* Bit i set: byte b[i] ends an unquoted field (delimiter, CR, LF, NUL);
 * 16 bytes with SSE2, or what is left before end (< 16) byte by byte. */
static inline uint32_t special_bits(const struct csv_state *s, const char *b,
				    const char *end)
{
	uint32_t m = 0;
	ptrdiff_t n = end - b;

#if defined(__SSE2__)
	if (n >= 16 && aa_simd_level != AA_SIMD_SCALAR)
		return aa_delim_mask16_any4(b, (char)s->delim, '\r', '\n', '\0');
#endif
	for (ptrdiff_t i = 0; i < n && i < 16; i++)
		m |= (uint32_t)s->special[(uint8_t)b[i]] << i;
	return m;
}

/*
 * The lines of [c, end) that lines_fast() would take (every field unquoted,
 * exactly n_fields, LF or CRLF at the end; RFC 4180 2.1-2.4), up to cap
 * lines, into spans (mtcp_aa.h, AA_CSV_LINES): one bit per special byte,
 * 16 bytes per mask, walked lowest bit first; each bit ends a field. At
 * anything else (a quote at a field start, a NUL, a bare CR, a wrong field
 * count, an empty line, a line cut by end) it stops before that line,
 * which the byte states then parse and, if it is wrong, report exactly.
 * Returns the start of the first line not taken; *n_lines the lines taken.
 */
static const char *batch_scan(const struct csv_state *s, const char *c,
			      const char *end, uint16_t *sp, uint32_t cap,
			      uint32_t *n_lines)
{
	const char *const first = c;
	const char *blk = c, *line = c, *fs = c;
	const uint32_t n = s->n_fields;
	uint32_t m = special_bits(s, blk, end), field = 0, lines = 0;

	*n_lines = 0;
	if (*c == '\n' || *c == '\r')
		return c; /* an empty line: skipped or an error, the states say */
	sp[0] = 0;
	for (;;) {
		const char *x;

		while (!m) {
			blk += 16;
			if (blk >= end)
				goto out; /* the line goes on in the next packet */
			m = special_bits(s, blk, end);
		}
		x = blk + __builtin_ctz(m);
		m &= m - 1;
		if (x < fs)
			continue; /* the LF of a CRLF already taken */
		if (x > fs && (uint8_t)*fs == s->quote)
			goto out; /* a quoted field */
		sp[1 + field] = (uint16_t)(x - first);
		if (*x == (char)s->delim) {
			if (++field == n)
				goto out; /* too many fields */
			fs = x + 1;
			continue;
		}
		if (!*x || field + 1 != n)
			goto out; /* a NUL, or too few fields */
		if (*x == '\r' && (x + 1 == end || x[1] != '\n'))
			goto out; /* a bare CR, or the LF not here yet */
		line = fs = x + (*x == '\r' ? 2 : 1);
		field = 0;
		sp += n + 1;
		if (++lines == cap || line == end || *line == '\n' ||
		    *line == '\r')
			goto out;
		sp[0] = (uint16_t)(line - first);
	}
out:
	*n_lines = lines;
	return line;
}

/* Where an AA_CSV_LINES record keeps its offsets: after its field slots. */
static uint16_t *batch_spans(const struct csv_state *s, struct aa_csv_record *r)
{
	return (uint16_t *)(void *)&r->fields[s->n_fields];
}

/*
 * AA_CSV_P_BATCH: the whole lines from c (a line start) on, into one
 * AA_CSV_LINES record: their bytes one field, their field ends offsets from
 * the first byte (mtcp_aa.h). Returns the byte after the last line taken,
 * NULL when the first line is not the common case (then nothing was set).
 */
static const char *lines_batch(struct aa_parse *p, struct csv_state *s,
			       const char *c, const char *end, bool *go_on)
{
	struct aa_csv_record *r = aa_record(p);
	uint32_t lines;
	const char *done;

	*go_on = true;
	if (end - c > BATCH_MAX_BYTES)
		end = c + BATCH_MAX_BYTES;
	done = batch_scan(s, c, end, batch_spans(s, r),
			  BATCH_SPANS / (s->n_fields + 1), &lines);
	if (!lines || !aa_field_set_try(p, 0, c, done))
		return NULL;
	r->n_fields = s->n_fields;
	r->flags = 0;
	r->n_lines = lines;
	r->spans = batch_spans(s, r);
	*go_on = aa_record_end(p, AA_CSV_LINES, done);
	return done;
}

/* The line ended (at: after its terminator, NULL at the end of stream). */
static bool end_line(struct aa_parse *p, struct csv_state *s, const char *at)
{
	struct aa_csv_record *r = aa_record(p);

	if (s->field + 1 != s->n_fields) {
		aa_fail(p, AA_ERR_FIELD_COUNT, "too few fields in a line", at);
		return false;
	}
	r->n_fields = s->n_fields;
	r->flags = s->quoted ? AA_CSV_F_QUOTED : 0;
	r->n_lines = 1;
	s->field = 0;
	s->quoted = false;
	s->st = CSV_FIELD_START;
	return aa_record_end(p, AA_CSV_LINE, at);
}

/* A delimiter ended field s->field at c. */
static bool next_field(struct aa_parse *p, struct csv_state *s, const char *c)
{
	if (++s->field >= s->n_fields) {
		aa_fail(p, AA_ERR_FIELD_COUNT, "too many fields in a line", c);
		return false;
	}
	s->st = CSV_FIELD_START;
	return true;
}

static void empty_field(struct aa_parse *p, struct csv_state *s, const char *c)
{
	aa_field_set_fast(p, s->field, c, c);
}

/*
 * The byte after a field (c: delimiter, CR or LF; the field is closed).
 * Returns the next position, or NULL when parse() must return (*stop_at
 * then says where).
 */
static const char *after_field(struct aa_parse *p, struct csv_state *s,
			       const char *c, const char **stop_at)
{
	if (*c == (char)s->delim) {
		if (!next_field(p, s, c))
			goto stop;
		return c + 1;
	}
	if (*c == '\r') {
		s->st = CSV_CR;
		return c + 1;
	}
	if (*c == '\n') {
		if (!end_line(p, s, c + 1)) {
			*stop_at = c + 1;
			return NULL;
		}
		return c + 1;
	}
	aa_fail(p, AA_ERR_BINARY, "NUL byte in a field", c);
stop:
	*stop_at = c;
	return NULL;
}

static const char *field_start(struct aa_parse *p, struct csv_state *s,
			       const char *c, const char *end,
			       const char **stop_at)
{
	const char *e;

	uint8_t ch = (uint8_t)*c;

	if (s->field == 0) {
		bool go_on;

		e = batching(s) ? lines_batch(p, s, c, end, &go_on)
				: lines_fast(p, s, c, end, &go_on);
		if (e && !go_on)
			*stop_at = e;
		if (e)
			return go_on ? e : NULL;
	}
	if (ch == s->quote) {
		aa_field_begin(p, s->field, c);
		s->quoted = true;
		s->st = CSV_QUOTED;
		return c + 1;
	}
	if (s->field == 0 && (s->pflags & AA_CSV_P_SKIP_EMPTY_LINES) &&
	    (ch == '\n' || ch == '\r')) {
		if (ch == '\r')
			s->st = CSV_CR_EMPTY;
		return c + 1;
	}
	if (s->special[ch]) { /* an empty field */
		empty_field(p, s, c);
		return after_field(p, s, c, stop_at);
	}
	/* unquoted: usually it ends in this packet, then one call does */
	e = field_end(s, c + 1, end);
	if (e == end) {
		aa_field_begin(p, s->field, c);
		s->st = CSV_UNQUOTED;
		return end;
	}
	aa_field_set_fast(p, s->field, c, e);
	return after_field(p, s, e, stop_at);
}

static const char *unquoted(struct aa_parse *p, struct csv_state *s,
			    const char *c, const char *end, const char **stop_at)
{
	c = field_end(s, c, end);
	if (c == end)
		return c;
	aa_field_end(p, c);
	return after_field(p, s, c, stop_at);
}

static const char *quoted(struct aa_parse *p, struct csv_state *s,
			  const char *c, const char *end, const char **stop_at)
{
	const char *q = memchr(c, s->quote, (size_t)(end - c));
	const char *nul = memchr(c, 0, (size_t)((q ? q : end) - c));

	if (nul) {
		aa_fail(p, AA_ERR_BINARY, "NUL byte in a field", nul);
		*stop_at = nul;
		return NULL;
	}
	if (!q)
		return end;
	s->st = CSV_QUOTE;
	return q + 1;
}

/* After a quote inside a quoted field: "" is a quote, else it closed. */
static const char *after_quote(struct aa_parse *p, struct csv_state *s,
			       const char *c, const char **stop_at)
{
	if ((uint8_t)*c == s->quote) {
		s->st = CSV_QUOTED;
		return c + 1;
	}
	if (*c != (char)s->delim && *c != '\r' && *c != '\n') {
		aa_fail(p, AA_ERR_SYNTAX, "data after a closing quote", c);
		*stop_at = c;
		return NULL;
	}
	aa_field_end(p, c);
	return after_field(p, s, c, stop_at);
}

static const char *after_cr(struct aa_parse *p, struct csv_state *s,
			    const char *c, const char **stop_at)
{
	if (*c != '\n') {
		aa_fail(p, AA_ERR_SYNTAX, "CR not followed by LF", c);
		*stop_at = c;
		return NULL;
	}
	if (s->st == CSV_CR_EMPTY) { /* a skipped empty CRLF line */
		s->st = CSV_FIELD_START;
		return c + 1;
	}
	if (!end_line(p, s, c + 1)) {
		*stop_at = c + 1;
		return NULL;
	}
	return c + 1;
}

static size_t csv_parse(struct aa_parse *p, void *state, const char *data,
			size_t len)
{
	struct csv_state *s = state;
	const char *c = data, *end = data + len, *stop_at = NULL;

	while (c < end) {
		switch (s->st) {
		case CSV_FIELD_START:
			c = field_start(p, s, c, end, &stop_at);
			break;
		case CSV_UNQUOTED:
			c = unquoted(p, s, c, end, &stop_at);
			break;
		case CSV_QUOTED:
			c = quoted(p, s, c, end, &stop_at);
			break;
		case CSV_QUOTE:
			c = after_quote(p, s, c, &stop_at);
			break;
		default:
			c = after_cr(p, s, c, &stop_at);
			break;
		}
		if (!c)
			return (size_t)(stop_at - data);
	}
	return len;
}

static void csv_finish(struct aa_parse *p, void *state)
{
	struct csv_state *s = state;

	switch (s->st) {
	case CSV_FIELD_START:
		if (s->field == 0) /* at a line start: a clean end */
			return;
		empty_field(p, s, NULL); /* "a,b," then the close */
		break;
	case CSV_UNQUOTED:
	case CSV_QUOTE:
		aa_field_end(p, NULL);
		break;
	case CSV_QUOTED:
		aa_fail(p, AA_ERR_TRUNCATED, "unterminated quoted field", NULL);
		return;
	case CSV_CR_EMPTY:
		return;
	default: /* CSV_CR: the LF of the last line is missing */
		break;
	}
	end_line(p, s, NULL);
}

const struct aa_module aa_csv_module = {
	.abi = AA_MODULE_ABI,
	.name = "csv",
	.state_size = sizeof(struct csv_state),
	.params_size = sizeof(struct aa_csv_params),
	.init = csv_init,
	.parse = csv_parse,
	.finish = csv_finish,
};

/* ---- unescaping (application side) ------------------------------------- */

bool aa_csv_field_quoted(const struct stream_field *f, char quote)
{
	return aa_field_byte(f, 0) == (unsigned char)(quote ? quote : '"');
}

size_t aa_csv_field_copy(const struct stream_field *f, char quote, char *buf,
			 size_t cap)
{
	size_t len = aa_field_len(f), out = 0;
	bool prev_quote = false;
	char q = quote ? quote : '"';

	if (!aa_csv_field_quoted(f, q))
		return aa_field_copy(f, buf, cap);
	/* Between the outer quotes, "" stands for one quote (RFC 4180 2.7). */
	for (size_t i = 1; i + 1 < len; i++) {
		char ch = (char)aa_field_byte(f, i);

		if (ch == q && !prev_quote) {
			prev_quote = true;
			continue;
		}
		prev_quote = false;
		if (cap && out < cap - 1)
			buf[out] = ch;
		out++;
	}
	if (cap)
		buf[out < cap - 1 ? out : cap - 1] = '\0';
	return out;
}
