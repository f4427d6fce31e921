/*
 * generate_aa_api.h - the preprocessor-based module generator of thesis
 * 4.3.2 (figure 4.8, appendix). Describe a format with the macros below,
 * then include this header: it generates the record struct and an
 * application-aware module (struct aa_module, aa_module.h) that the stack
 * calls on every in-order packet. No recompilation of the stack is needed:
 * register the module on a socket with mtcp_zc_register_aa_module() and
 * read records with mtcp_zc_read_aa_records() (mtcp_aa.h).
 *
 * Description (before the #include):
 *
 *   #define PROTOCOL <id>                      names: struct <id>_record,
 *                                              <id>_record_t, <id>_aa_module
 *   #define NUM_FIELDS <n>                     optional: raw_fields[] size
 *   #define REGISTER_VARIABLES() VARIABLE(<name>, <type>) ...
 *                                              stream variables (parser state)
 *   #define REGISTER_STATES() STATE(<ID>, <name>) ...
 *                                              record types, the first one
 *                                              is the initial state
 *   #define REGISTER_FIELDS_<ID> FIELD(<FIELD_ID>, <name>, <end_of_field>,
 *                                      <post_processing>) ...
 *   #define REGISTER_VARIABLES_<ID> VARIABLE(<name>, <type>) ...
 *                                              variables of that record type
 *                                              (may be empty)
 *   #define ON_END_OF_STREAM() ...             optional, see below
 *   #define MAX_RECORD_BYTES <n>               optional record byte limit
 *   #include "generate_aa_api.h"
 *
 * Note (as in the thesis' appendix) REGISTER_FIELDS_<ID> and
 * REGISTER_VARIABLES_<ID> are object-like macros, REGISTER_STATES() and
 * REGISTER_VARIABLES() function-like. Every state needs at least one field.
 * FIELD ids are numbered from 0 within their state.
 *
 * How a record is parsed: the fields of the current state are read in
 * order; each ends where its <end_of_field> expression says:
 *   STRSTR("s")     after the first occurrence of s; the field *includes*
 *                   s (thesis appendix: a header field is "Name: v\r\n" and
 *                   the empty line is the field "\r\n")
 *   UNTIL("s")      same, the field excludes s (s is skipped); s is at
 *                   most AA_DELIM_MAX_LEN (255) bytes (aa_delim.h: the
 *                   same KMP matcher as the format compiler's runtime)
 *   OFFSET(n)       after n bytes or at the end of the packet, whichever
 *                   comes first (thesis table 4.1: one Body record per
 *                   packet); n <= 0: an empty field at once
 *   LENGTH(n)       exactly n bytes, across packets if needed
 * then its <post_processing> code runs (statements, may be VOID()):
 *   GET_VARIABLE(v), SET_VARIABLE(v, x)         stream variables
 *   GET_RECORD_VARIABLE(st.v), SET_RECORD_VARIABLE(st.v, x)
 *                                               record variables, e.g.
 *                                               (answer.content_length)
 *   END_OF_RECORD()   the record ends after this field
 *   SET_STATE(ID)     the type of the next record (default: the same)
 *   STRCMP("s")       compares the field's first strlen(s) bytes with s
 *                     (0: equal), STRCASECMP likewise ignoring ASCII case
 *   ATOI_WITH_OFFSET(k)  the decimal number at byte k of the field (spaces
 *                     before it and CR/LF/spaces after it allowed); an
 *                     invalid number or one beyond int ends the stream
 *                     with an error record
 *   FIELD_LEN()       length of the field, THIS_FIELD() the field itself
 *   FAIL("message")   ends the stream with an error record
 *   VOID()            nothing
 * A field that ends without END_OF_RECORD() is followed by the next field
 * of the state; there must be one (else: an error record, never a silent
 * truncation). At the end of the stream the record in progress is an error
 * (AA_ERR_TRUNCATED) unless the stream ended between records;
 * ON_END_OF_STREAM(), if defined, runs first and may use SET_VARIABLE,
 * GET_VARIABLE, the state (CURRENT_STATE()) and FAIL (then the error is
 * AA_ERR_TRUNCATED).
 *
 * Generated (PROTOCOL http, thesis appendix):
 *
 *   typedef struct http_record {
 *       struct http_record *next; uint16_t type;   // + struct aa_record hdr
 *       union { struct { int content_length; } answer; ... } variables;
 *       union { struct { struct stream_field *version, ...; } answer; ...
 *               struct stream_field *raw_fields[NUM_FIELDS]; } fields;
 *   } *http_record_t;
 *   extern const struct aa_module http_aa_module;
 *
 * `type` is the state id (or AA_RECORD_ERROR: then hdr.error, hdr.message
 * and hdr.offset say what happened). Define AA_GEN_DECLARE_ONLY before the
 * include to get the types and the extern declaration only (for the files
 * that use the records, when the module is compiled elsewhere), and
 * AA_GEN_STATIC to make the module static.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* aa_module.h and aa_delim.h (the KMP matcher and scanner), through the
 * format compiler's runtime: both generators share them. */
#include "aa_fmt_runtime.h"

/* ---- runtime helpers, shared by every generated module ------------------ */
#ifndef AATCP_GENERATE_AA_API_HELPERS
#define AATCP_GENERATE_AA_API_HELPERS

#define AA_GEN_CAT_(a, b) a##b
#define AA_GEN_CAT(a, b) AA_GEN_CAT_(a, b)
#define AA_GEN_CAT3(a, b, c) AA_GEN_CAT(AA_GEN_CAT(a, b), c)
#define AA_GEN_N(suffix) AA_GEN_CAT(PROTOCOL, suffix)
#define AA_GEN_STR_(x) #x
#define AA_GEN_STR(x) AA_GEN_STR_(x)

/* Parser position shared by all generated modules. */
struct aa_gen_core {
	unsigned state;      /* current record type */
	unsigned field;      /* field being read in that state */
	bool open;           /* that field has begun */
	const char *start;   /* where, while the runtime has not been told
			      * (it began in this packet), else NULL */
	uint64_t flen;       /* its bytes so far */
	uint32_t match;      /* STRSTR/UNTIL: delimiter bytes matched */
	uint8_t pi[AA_DELIM_MAX_LEN]; /* STRSTR/UNTIL: the delimiter's KMP table */
	uint32_t back;       /* UNTIL: delimiter bytes to cut off */
	unsigned next_state; /* post-processing: SET_STATE */
	bool end_record;     /* post-processing: END_OF_RECORD */
	enum aa_error fail;  /* post-processing: FAIL, bad number */
	const char *fail_msg;
	uint32_t idle;       /* records in a row that consumed nothing */
	struct aa_fmt_batch batch; /* fields of this packet not given to the
				    * runtime yet (aa_fmt_runtime.h) */
};

/*
 * A field that begins and ends in one packet is gathered (aa_fmt_batch,
 * as in the format compiler's runtime) and a record's worth goes to the
 * runtime in one aa_fields_set() call; aa_field_begin() is called only
 * when the packet ends with the field still open (aa_gen_begun). The
 * gathered fields are flushed before every other call that needs them.
 */
static inline void aa_gen_open(struct aa_parse *p, struct aa_gen_core *g,
			       const char *c)
{
	(void)p;
	if (g->open)
		return;
	g->start = c;
	g->open = true;
	g->flen = 0;
	g->match = 0;
	g->back = 0;
}

static inline void aa_gen_begun(struct aa_parse *p, struct aa_gen_core *g)
{
	aa_fmt_batch_flush(p, &g->batch);
	if (g->start) {
		aa_field_begin(p, g->field, g->start);
		g->start = NULL;
	}
}

/* The field ends before c, minus g->back bytes (UNTIL's delimiter). */
static inline void aa_gen_close(struct aa_parse *p, struct aa_gen_core *g,
				const char *c)
{
	if (g->start) {
		aa_fmt_batch_add(p, &g->batch, g->field, g->start, c - g->back);
		g->start = NULL;
	} else {
		aa_fmt_batch_flush(p, &g->batch);
		aa_field_end_back(p, c, g->back);
	}
	g->open = false;
}

/* aa_gen_strstr() byte by byte, the field open (its KMP table built). */
__attribute__((noinline, unused)) static int
aa_gen_strstr_bytes(struct aa_gen_core *g, const char **pc, const char *end,
		    const char *s, size_t m, int excl)
{
	const char *c = *pc;

	while (c < end) {
		if (g->match == 0) {
			const char *h = aa_delim_find_byte(c, end, s[0]);

			g->flen += (uint64_t)(h - c);
			c = h;
			if (c == end)
				break;
		}
		g->match = aa_delim_kmp(s, g->pi, (unsigned)m, g->match, *c++);
		g->flen++;
		if (g->match == m) {
			g->match = 0;
			if (excl)
				g->back = (uint32_t)m;
			*pc = c;
			return 1;
		}
	}
	*pc = c;
	return 0;
}

/*
 * STRSTR (excl = 0) and UNTIL (excl = 1). A field that begins and ends in
 * this packet is found as the format compiler's `until` fields are
 * (aa_fmt_find: the vector scan, the delimiter compared whole); otherwise
 * skip to the delimiter's first byte, then match it with KMP (aa_delim.h,
 * the same matcher as the format compiler's runtime), whose table is
 * built when the field begins. A delimiter longer than AA_DELIM_MAX_LEN
 * bytes ends the stream with an AA_ERR_MODULE error record.
 */
static inline int aa_gen_strstr(struct aa_parse *p, struct aa_gen_core *g,
				const char **pc, const char *end,
				const char *s, size_t m, int excl)
{
	const char *c = *pc;

	if (m == 0) {
		aa_gen_open(p, g, c);
		return 1;
	}
	if (m > AA_DELIM_MAX_LEN) {
		aa_gen_open(p, g, c);
		if (!g->fail) {
			g->fail = AA_ERR_MODULE;
			g->fail_msg = "STRSTR/UNTIL delimiter longer than 255 bytes";
		}
		return 1;
	}
	if (c == end)
		return 0;
	if (!g->open) {
		const uint8_t len = (uint8_t)m;
		const struct aa_fmt_until u = { .n = 1, .max = UINT64_MAX, .s = &s,
						.len = &len, .simple = true };
		int k;
		const char *h = aa_fmt_find(&u, c, end, &k);

		aa_gen_open(p, g, c);
		if (h) {
			g->flen = (uint64_t)(h + m - c);
			g->back = excl ? (uint32_t)m : 0;
			*pc = h + m;
			return 1;
		}
		aa_delim_kmp_table(s, (unsigned)m, g->pi);
	}
	return aa_gen_strstr_bytes(g, pc, end, s, m, excl);
}

/* OFFSET (packet_end = 1) and LENGTH (packet_end = 0). */
static inline int aa_gen_offset(struct aa_parse *p, struct aa_gen_core *g,
				const char **pc, const char *end, int64_t n,
				int packet_end)
{
	const char *c = *pc;
	uint64_t want = n > 0 ? (uint64_t)n : 0, take;

	if (g->open ? g->flen >= want : want == 0) {
		aa_gen_open(p, g, c);
		return 1;
	}
	if (c == end)
		return 0;
	aa_gen_open(p, g, c);
	take = want - g->flen;
	if (take > (uint64_t)(end - c))
		take = (uint64_t)(end - c);
	c += take;
	g->flen += take;
	*pc = c;
	return g->flen == want || (packet_end && c == end);
}

/* ATOI_WITH_OFFSET: [SP/HT]* [+-] DIGIT+ [SP/HT/CR/LF]* from byte k. */
static inline int aa_gen_atoi(struct aa_gen_core *g,
			      const struct stream_field *f, size_t k)
{
	int64_t v = 0;
	int neg = 0, c, ndig = 0;

	while ((c = aa_field_byte(f, k)) == ' ' || c == '\t')
		k++;
	if (c == '+' || c == '-') {
		neg = c == '-';
		c = aa_field_byte(f, ++k);
	}
	for (; c >= '0' && c <= '9'; c = aa_field_byte(f, ++k), ndig++) {
		v = v * 10 + (c - '0');
		if (v > (int64_t)INT32_MAX + 1)
			goto bad;
	}
	while (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		c = aa_field_byte(f, ++k);
	if (ndig == 0 || c != -1 || (!neg && v > INT32_MAX))
		goto bad;
	return (int)(neg ? -v : v);
bad:
	if (!g->fail) {
		g->fail = AA_ERR_SYNTAX;
		g->fail_msg = "invalid number";
	}
	return 0;
}

/* STRCMP: aa_field_ncmp(), inline for a field in one view. */
static inline int aa_gen_ncmp(const struct stream_field *f, const char *s,
			      size_t n)
{
	const unsigned char *a;
	size_t flen, m, i;

	if (!f || f->next)
		return aa_field_ncmp(f, s, n);
	a = (const unsigned char *)f->data.start;
	flen = (size_t)(f->data.end - f->data.start);
	m = flen < n ? flen : n;
	for (i = 0; i < m && s[i]; i++)
		if (a[i] != (unsigned char)s[i])
			return a[i] - (unsigned char)s[i];
	if (i < m)
		return 1; /* s is shorter */
	return i < n && s[i] ? -1 : 0;
}

/* The macros of the description (figure 4.8, appendix). They refer to
 * the names the generated parse function has in scope: p (the parsing
 * context), G (the module state), R (the record in progress), c, end. */
#define STRSTR(s) aa_gen_strstr(p, &G->core, &c, end, (s), strlen(s), 0)
#define UNTIL(s) aa_gen_strstr(p, &G->core, &c, end, (s), strlen(s), 1)
#define OFFSET(n) aa_gen_offset(p, &G->core, &c, end, (int64_t)(n), 1)
#define LENGTH(n) aa_gen_offset(p, &G->core, &c, end, (int64_t)(n), 0)
#define GET_VARIABLE(v) (G->vars.v)
#define SET_VARIABLE(v, x) (G->vars.v = (x))
#define GET_RECORD_VARIABLE(v) (R->variables.v)
#define SET_RECORD_VARIABLE(v, x) (R->variables.v = (x))
#define END_OF_RECORD() (G->core.end_record = true)
#define SET_STATE(s) (G->core.next_state = (s))
#define CURRENT_STATE() (G->core.state)
#define THIS_FIELD() aa_fmt_batch_last(p, &G->core.batch)
#define FIELD_LEN() ((int64_t)(G->core.flen - G->core.back))
#define STRCMP(s) aa_gen_ncmp(THIS_FIELD(), (s), strlen(s))
#define STRCASECMP(s) (aa_fmt_starts(THIS_FIELD(), (s), strlen(s), true) ? 0 : 1)
#define ATOI_WITH_OFFSET(k) aa_gen_atoi(&G->core, THIS_FIELD(), (size_t)(k))
#define FAIL(msg) \
	((void)(G->core.fail ? 0 : (G->core.fail = AA_ERR_MODULE, G->core.fail_msg = (msg), 0)))
#define VOID() ((void)0)

/*
 * One state's cases in a switch on G->core.state: a switch on the current
 * field whose cases are what FIELD(), as defined where it expands, makes
 * of each field of the state. Used as STATE by the per-field dispatches.
 */
#define AA_GEN_FIELD_CASES(sid, sname)           \
	case sid:                                \
		switch (G->core.field) {         \
			REGISTER_FIELDS_##sid    \
		default:                         \
			break;                   \
		}                                \
		break;

#endif /* AATCP_GENERATE_AA_API_HELPERS */

/* ---- the generated types and module (once per PROTOCOL) ----------------- */

#ifndef PROTOCOL
#error "generate_aa_api.h: define PROTOCOL and the REGISTER_* macros first"
#endif

/* Record types: the states, in order. */
#define STATE(id, name) id,
enum { REGISTER_STATES() AA_GEN_N(_n_states) };
#undef STATE

/* Field ids, numbered within their state. */
#define FIELD(id, name, eof, pp) id,
#define STATE(sid, sname) enum { REGISTER_FIELDS_##sid AA_GEN_CAT3(PROTOCOL, _nfields_, sid) };
REGISTER_STATES()
#undef STATE
#undef FIELD

/* The field slots of every state, to size raw_fields[]. */
#define FIELD(id, name, eof, pp) struct stream_field *name;
#define STATE(sid, sname) struct { REGISTER_FIELDS_##sid } sname;
union AA_GEN_N(_aa_fields) { REGISTER_STATES() };
#undef STATE
#undef FIELD
#ifdef NUM_FIELDS
#define AA_GEN_NUM_FIELDS_OF_THIS NUM_FIELDS
_Static_assert(NUM_FIELDS * sizeof(struct stream_field *) >=
		       sizeof(union AA_GEN_N(_aa_fields)),
	       "NUM_FIELDS is smaller than the largest state");
#else
#define AA_GEN_NUM_FIELDS_OF_THIS \
	(sizeof(union AA_GEN_N(_aa_fields)) / sizeof(struct stream_field *))
#endif

typedef struct AA_GEN_N(_record) {
	union {
		struct aa_record hdr;
		struct {
			struct AA_GEN_N(_record) *next;
			uint16_t type;
		};
	};
#define VARIABLE(name, type) type name;
#define STATE(sid, sname) struct { REGISTER_VARIABLES_##sid char aa_gen_unused_; } sname;
	union {
		REGISTER_STATES()
	} variables;
#undef STATE
#undef VARIABLE
#define FIELD(id, name, eof, pp) struct stream_field *name;
#define STATE(sid, sname) struct { REGISTER_FIELDS_##sid } sname;
	union {
		REGISTER_STATES()
		struct stream_field *raw_fields[AA_GEN_NUM_FIELDS_OF_THIS];
	} fields;
#undef STATE
#undef FIELD
} *AA_GEN_N(_record_t);

#ifdef AA_GEN_STATIC
static const struct aa_module AA_GEN_N(_aa_module);
#else
extern const struct aa_module AA_GEN_N(_aa_module);
#endif

#ifndef AA_GEN_DECLARE_ONLY

/* Stream variables and the parser position. */
#define VARIABLE(name, type) type name;
struct AA_GEN_N(_aa_state) {
	struct aa_gen_core core;
	struct {
		REGISTER_VARIABLES()
		char aa_gen_unused_;
	} vars;
};
#undef VARIABLE

static const unsigned AA_GEN_N(_aa_nfields)[] = {
#define STATE(sid, sname) [sid] = AA_GEN_CAT3(PROTOCOL, _nfields_, sid),
	REGISTER_STATES()
#undef STATE
};

static int AA_GEN_N(_aa_init)(void *state, const void *params,
			      struct aa_layout *l)
{
	(void)state;
	if (params)
		return -22; /* -EINVAL: no parameters */
	l->record_size = sizeof(struct AA_GEN_N(_record));
	l->fields_offset = offsetof(struct AA_GEN_N(_record), fields);
	l->field_slots = (uint32_t)AA_GEN_NUM_FIELDS_OF_THIS;
#ifdef MAX_RECORD_BYTES
	l->max_record_bytes = MAX_RECORD_BYTES;
#else
	l->max_record_bytes = 0;
#endif
	return 0;
}

/* Finds the end of the current field: 1 when it ended (c after it). */
static int AA_GEN_N(_aa_end_of_field)(struct aa_parse *p,
				      struct AA_GEN_N(_aa_state) *G,
				      const char **pc, const char *end)
{
	const char *c = *pc;
	int done = 0;

	switch (G->core.state) {
#define FIELD(id, name, eof, pp) \
	case id:                 \
		done = (eof);    \
		break;
#define STATE AA_GEN_FIELD_CASES
		REGISTER_STATES()
#undef STATE
#undef FIELD
	default:
		break;
	}
	*pc = c;
	return done;
}

/* Runs the post-processing code of the field that just ended. */
static void AA_GEN_N(_aa_post)(struct aa_parse *p,
			       struct AA_GEN_N(_aa_state) *G)
{
	struct AA_GEN_N(_record) *R = aa_record(p);

	(void)R;
	switch (G->core.state) {
#define FIELD(id, name, eof, pp) \
	case id: {               \
		pp;              \
	} break;
#define STATE AA_GEN_FIELD_CASES
		REGISTER_STATES()
#undef STATE
#undef FIELD
	default:
		break;
	}
}

static size_t AA_GEN_N(_aa_parse)(struct aa_parse *p, void *state,
				  const char *data, size_t len)
{
	struct AA_GEN_N(_aa_state) *G = state;
	struct aa_gen_core *g = &G->core;
	const char *c = data, *end = data + len;

	for (;;) {
		const char *from = c;

		if (!AA_GEN_N(_aa_end_of_field)(p, G, &c, end)) {
			aa_gen_begun(p, g); /* it goes on in the next packet */
			return len;
		}
		aa_gen_close(p, g, c);
		g->end_record = false;
		g->next_state = g->state;
		AA_GEN_N(_aa_post)(p, G);
		if (g->fail) {
			aa_fmt_batch_flush(p, &g->batch);
			aa_fail(p, g->fail, g->fail_msg, c);
			return len;
		}
		if (!g->end_record) {
			if (++g->field >= AA_GEN_N(_aa_nfields)[g->state]) {
				aa_fmt_batch_flush(p, &g->batch);
				aa_fail(p, AA_ERR_TOO_MANY_FIELDS,
					"more fields than the state declares", c);
				return len;
			}
			continue;
		}
		/* a description that never consumes would spin: stop it */
		aa_fmt_batch_flush(p, &g->batch);
		g->idle = c == from ? g->idle + 1 : 0;
		if (g->idle > 1000) {
			aa_fail(p, AA_ERR_MODULE, "records that consume nothing", c);
			return len;
		}
		{
			unsigned type = g->state;

			g->state = g->next_state < AA_GEN_N(_n_states) ? g->next_state : 0;
			g->field = 0;
			if (!aa_record_end(p, type, c))
				return (size_t)(c - data);
		}
	}
}

static void AA_GEN_N(_aa_finish)(struct aa_parse *p, void *state)
{
	struct AA_GEN_N(_aa_state) *G = state;

	(void)G;
#ifdef ON_END_OF_STREAM
	ON_END_OF_STREAM();
	if (G->core.fail) { /* FAIL() at the close: a truncated stream */
		aa_fail(p, AA_ERR_TRUNCATED, G->core.fail_msg, NULL);
		return;
	}
#endif
	if (G->core.open || G->core.field)
		aa_fail(p, AA_ERR_TRUNCATED, "stream ended inside a record", NULL);
}

#ifdef AA_GEN_STATIC
static
#endif
const struct aa_module AA_GEN_N(_aa_module) = {
	.abi = AA_MODULE_ABI,
	.name = AA_GEN_STR(PROTOCOL),
	.state_size = sizeof(struct AA_GEN_N(_aa_state)),
	.params_size = 0,
	.init = AA_GEN_N(_aa_init),
	.parse = AA_GEN_N(_aa_parse),
	.finish = AA_GEN_N(_aa_finish),
	.fini = NULL,
};

#endif /* !AA_GEN_DECLARE_ONLY */

#undef AA_GEN_NUM_FIELDS_OF_THIS
