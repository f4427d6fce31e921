/*
 * aa_canon.h - the canonical dump of a record stream, shared by the record
 * readers (aa_reader on the stack, aa_lreader on Linux sockets), so that a
 * test can compare what a reader saw with a parse of the bytes the server
 * sent (tests/e2e/aa_canon.py computes the same dump in Python).
 *
 * The dump is a byte string; the readers print its SHA-256 ("dump_sha256").
 * It does not depend on how the stream was cut into packets or reads, nor on
 * how the stack split a body into BODY records:
 *
 *   dump  := item*
 *   item  := 'C' field* '\n'         one CSV line: each field's raw bytes
 *                                    (a quoted field with its quotes and
 *                                    doubled quotes, as the stack's views
 *                                    cover it; no line terminator)
 *          | 'R' field field field (field field)* '\n'
 *                                    an HTTP response head: version, status
 *                                    code, reason phrase, then name and
 *                                    value of each header (value without
 *                                    surrounding whitespace)
 *          | 'Q' field field field (field field)* '\n'
 *                                    an HTTP request head: method, target,
 *                                    version, then the headers
 *          | 'B' DEC ':' HEX '\n'    the body of a message that has one
 *                                    (Content-Length > 0, chunked, or until
 *                                    the close): its length and the SHA-256
 *                                    (64 lowercase hex digits) of its bytes
 *                                    (chunked: the chunk data only)
 *          | 'T' (field field)* '\n' the trailer section of a chunked body
 *                                    (after its 'B'), possibly empty
 *   field := DEC ':' BYTES           length in decimal, then the bytes
 *
 * Error records are not part of the dump: they are reported on their own
 * (code, name, message, stream offset); the dump covers the records before.
 *
 * The readers also keep a short summary of the first CANON_MAX_MSGS HTTP
 * messages (start line, header count, body length and SHA-256) for tests
 * that do not know every header (nginx, curl).
 */
#ifndef AATCP_APPS_AA_CANON_H
#define AATCP_APPS_AA_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

#define CANON_MAX_MSGS 32
#define CANON_MAX_ERRS 4
#define CANON_LINE_MAX 96

/* Error codes of the readers: the same numbers as enum aa_error in
 * mtcp_aa.h (the Linux reader cannot include it). */
enum canon_err {
	CANON_ERR_SYNTAX = 1,
	CANON_ERR_TOO_LONG = 2,
	CANON_ERR_FIELD_COUNT = 3,
	CANON_ERR_TOO_MANY_FIELDS = 4,
	CANON_ERR_BAD_LENGTH = 5,
	CANON_ERR_BAD_CHUNK = 6,
	CANON_ERR_BAD_ENCODING = 7,
	CANON_ERR_BINARY = 8,
	CANON_ERR_TRUNCATED = 9,
};

struct canon_msg {
	char kind; /* 'R' or 'Q' */
	char line[3][CANON_LINE_MAX];
	uint32_t headers;
	bool has_body;
	uint64_t body_len;
	char body_sha[65];
};

struct canon_err_rec {
	uint32_t code;
	char message[96];
	uint64_t offset;
};

struct canon {
	bool hash;               /* false: count only (throughput runs) */
	struct sha256 dump;
	struct sha256 body;
	/* the item being written */
	char type;
	unsigned field;          /* index of the field in the item */
	size_t field_left;       /* bytes still due in a streamed field */
	/* the body in progress */
	bool in_body;
	uint64_t body_len;
	/* counts */
	uint64_t records;        /* records read (error records included) */
	uint64_t items[128];     /* dump items by type byte */
	uint64_t field_bytes;    /* bytes of every field (the app's "use") */
	uint64_t body_bytes;
	struct canon_msg msgs[CANON_MAX_MSGS];
	unsigned nmsgs;
	uint64_t messages;
	struct canon_err_rec errs[CANON_MAX_ERRS];
	unsigned nerrs;
	uint64_t errors;
};

void canon_init(struct canon *c, bool hash);

/* An item: canon_begin(type), then its fields, then canon_end(). A field is
 * given whole (canon_field) or in pieces: canon_field_start(total length),
 * then canon_field_bytes() until `total` bytes were given. Without the hash
 * (throughput runs) each is a few additions, inline: the application's
 * work per record is then the same small loop on every path measured
 * (records read in the application, parsed there, or read on Linux), and
 * the comparisons of thesis ch. 4 measure the parse, not the calls of this
 * dump. The *_dump versions do the hashing. */
void canon_begin_dump(struct canon *c, char type);
void canon_field_start_dump(struct canon *c, size_t total);
void canon_field_bytes(struct canon *c, const char *p, size_t n);
void canon_end_dump(struct canon *c);

static inline void canon_begin(struct canon *c, char type)
{
	if (c->hash) {
		canon_begin_dump(c, type);
		return;
	}
	c->type = type;
	c->field = 0;
	c->field_left = 0;
	c->records++;
	if (type == 'R' || type == 'Q')
		c->messages++;
}

static inline void canon_field_start(struct canon *c, size_t total)
{
	if (c->hash)
		canon_field_start_dump(c, total);
	else
		c->field_bytes += total;
}

static inline void canon_field(struct canon *c, const char *p, size_t n)
{
	canon_field_start(c, n);
	if (n && c->hash)
		canon_field_bytes(c, p, n);
}

static inline void canon_end(struct canon *c)
{
	if (c->hash)
		canon_end_dump(c);
	else
		c->items[(unsigned char)c->type & 127]++;
}

/* Body bytes of the current message (any number of calls), then its end:
 * the 'B' item. */
void canon_body(struct canon *c, const char *p, size_t n);
void canon_body_end(struct canon *c);

/* An error record (not in the dump). */
void canon_error(struct canon *c, uint32_t code, const char *msg, uint64_t offset);

/* "records": ..., "csv_lines": ..., ..., "dump_sha256": "...", "messages":
 * [...], "errors": [...] : the members of the readers' JSON object (no
 * braces), for `f`. */
void canon_json(struct canon *c, FILE *f);

/* Adds src's counts (and its first error records, while `into` has room) to
 * `into`, for a report over several connections; hashes are not merged. */
void canon_add(struct canon *into, const struct canon *src);

/* A short English name for an error code (as aa_error_name()). */
const char *canon_err_name(uint32_t code);

#endif
