/*
 * aa_module.h - the interface between the application-aware runtime
 * (src/aa/aa_stream.c) and a parsing module (thesis 4.3.2): what a module
 * implements and the functions it calls to build records. Hand-written
 * modules (CSV, HTTP), the macro generator (generate_aa_api.h) and code
 * produced by a format compiler all target this interface; it is installed
 * with the public headers and versioned by AA_MODULE_ABI.
 *
 * Model
 * -----
 * A module is a push parser. The runtime hands it the bytes of the TCP
 * stream in order, in chunks (one chunk per packet, or part of a packet),
 * on the network thread: parse(p, state, data, len). The module keeps
 * whatever it needs in `state` (state_size bytes, zeroed, one per socket)
 * and describes records with the calls below, using pointers into the
 * chunk it was given:
 *
 *   aa_field_begin(p, slot, at)   a field starts at `at` in record slot
 *                                 `slot` (0 .. layout.field_slots - 1)
 *   aa_field_end(p, at)           the open field ends before `at`; it may
 *                                 have begun in an earlier chunk: the
 *                                 runtime chains the views (figure 4.4)
 *   aa_field_end_back(p, at, k)   same, minus the last k bytes before at
 *                                 (which may lie in earlier chunks), e.g. a
 *                                 delimiter or trailing whitespace
 *   aa_field_set(p, slot, s, e)   a whole field [s, e) of the current chunk
 *                                 in one call (the common case: begin and
 *                                 end in the same packet)
 *   aa_fields_set(p, n, slots, s, e)  n whole fields of the current chunk
 *                                 in one call (fields a module gathered)
 *   aa_record_end(p, type, at)    the record in progress is complete; its
 *                                 last byte is before `at`; it becomes
 *                                 visible to the application
 *   aa_fail(p, code, msg, at)     unparseable input at `at`: the record in
 *                                 progress becomes an error record and the
 *                                 stream ends (thesis: never a crash)
 *   aa_record(p)                  the record in progress, to set the
 *                                 module's variables in it
 *
 * At most one field is open at a time, fields of a record are disjoint,
 * and every field must be closed before aa_record_end. Bytes that belong
 * to no field (delimiters, chunk-size lines...) are simply skipped.
 *
 * Flow control: aa_record_end() returns false when the module must stop
 * now (the application holds too many records: back-pressure, or the
 * stream failed). The module then returns the number of bytes of the chunk
 * it consumed, which is `at - data` for that record end; parse() is called
 * again later with the rest, as if it were a new chunk. Otherwise parse()
 * consumes the whole chunk and returns len. After aa_fail(), parse()
 * returns at once (any value) and is never called again.
 *
 * The runtime guarantees that while a record is in progress it has room
 * for layout.field_slots + max_extra_views views, and it ends a record that
 * grows beyond its byte limit (layout.max_record_bytes, lowered to fit the
 * receive buffer) with an AA_ERR_TOO_LONG error record: a module never
 * needs to bound buffering itself. The limit counts bytes since the end of
 * the previous record; to enforce it exactly the runtime may cut a chunk
 * short, so a module must not assume that a chunk ends at a packet end.
 *
 * End of stream (the peer's FIN, after every byte was parsed):
 * finish(p, state) ends a final record (e.g. the last CSV line without a
 * newline, an HTTP body delimited by the close), reports AA_ERR_TRUNCATED
 * through aa_fail(), or does nothing when the stream ended between records.
 * In finish(), `at` arguments are NULL (the end of the stream).
 *
 * Records: the module's record struct begins with struct aa_record (the
 * runtime fills next, type, nfields, offset, and error fields); the field
 * slots are an array of struct stream_field * at layout.fields_offset. At
 * the start of each record the runtime zeroes the bytes
 * [sizeof(struct aa_record), layout.fields_offset) (the module's
 * variables) and every slot is NULL.
 *
 * Threads: init() runs once when the module is attached; parse() and
 * finish() on the network thread; fini() at teardown. init() (then fini())
 * also runs once on a scratch state when the application registers the
 * module, to refuse invalid params then: it must touch nothing but state
 * and layout. No callback may
 * block or allocate per packet.
 */
#ifndef AATCP_AA_MODULE_H
#define AATCP_AA_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtcp_aa.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AA_MODULE_ABI 1

/* What init() tells the runtime about the records of this stream. */
struct aa_layout {
	size_t record_size;        /* sizeof the module's record struct */
	size_t fields_offset;      /* offset of the first field slot */
	uint32_t field_slots;      /* number of struct stream_field * slots */
	uint32_t max_record_bytes; /* 0: the runtime default (64 KiB) */
};

/* The parsing context; opaque to modules. */
struct aa_parse;

struct aa_module {
	uint32_t abi;       /* AA_MODULE_ABI */
	const char *name;   /* "csv", "http-response"... */
	size_t state_size;  /* per-socket parser state, zeroed by the runtime */
	size_t params_size; /* size of the params struct (copied), 0: none */
	/* Validate params (NULL: defaults), set up state, fill the layout.
	 * Returns 0 or -EINVAL. */
	int (*init)(void *state, const void *params, struct aa_layout *layout);
	/* Parse [data, data + len) (see above). Returns bytes consumed. */
	size_t (*parse)(struct aa_parse *p, void *state, const char *data,
			size_t len);
	/* End of stream (see above). */
	void (*finish)(struct aa_parse *p, void *state);
	/* Teardown; may be NULL. */
	void (*fini)(void *state);
};

/* ---- what a module calls (network thread, inside parse/finish) ---------- */

void aa_field_begin(struct aa_parse *p, unsigned slot, const char *at);
void aa_field_end(struct aa_parse *p, const char *at);
void aa_field_end_back(struct aa_parse *p, const char *at, size_t back);
void aa_field_set(struct aa_parse *p, unsigned slot, const char *start,
		  const char *end);
void aa_fields_set(struct aa_parse *p, unsigned n, const uint16_t *slots,
		   const char *const *start, const char *const *end);
/* The field that aa_field_end() just closed (its full chain), or NULL. */
struct stream_field *aa_field_last(struct aa_parse *p);
bool aa_record_end(struct aa_parse *p, unsigned type, const char *at);
void aa_fail(struct aa_parse *p, enum aa_error code, const char *msg,
	     const char *at);
void *aa_record(struct aa_parse *p);
/* Stream offset of `at` (NULL: the end of what was given). */
uint64_t aa_offset(struct aa_parse *p, const char *at);
/* true once the stream failed: the module should return. */
bool aa_failed(const struct aa_parse *p);
/* The module's state from the parsing context (what parse() receives). */
void *aa_state(struct aa_parse *p);

#ifdef __cplusplus
}
#endif

#endif /* AATCP_AA_MODULE_H */
