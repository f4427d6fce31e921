/*
 * aa_twin.h - "the same parse in the application" (thesis 4.2.3, 4.3.3):
 * a plain, hand-written CSV and HTTP/1.1 parser over a byte buffer, used
 * by the readers that receive bytes (aa_reader -S on the stack's standard
 * mtcp_read path, aa_lreader on Linux sockets) to produce the same records
 * as the stack's application-aware modules, reported through the same
 * canonical dump (aa_canon.h).
 *
 * The usual application structure: read into a buffer, parse the complete
 * records at its start in place, keep the incomplete tail, move it to the
 * front, read more behind it. Body bytes are handed on as they come (never
 * buffered). twin_feed() returns how many bytes at the start of the buffer
 * it consumed; the caller keeps the rest. A record longer than the buffer
 * is the caller's to report (twin_too_long()).
 *
 * What it accepts is what the stack's modules accept on well-formed input:
 * CSV lines of exactly n fields (LF or CRLF ends, RFC 4180 quotes: a quoted
 * field's bytes include its quotes, as the stack's views do); HTTP heads
 * with CRLF line ends, Content-Length, chunked (with trailers and chunk
 * extensions) and close-delimited bodies, 1xx/204/304 without a body. On
 * malformed input it reports an error (same codes as enum aa_error) and
 * stops, like the stack's modules; error offsets may differ from theirs.
 */
#ifndef AATCP_APPS_AA_TWIN_H
#define AATCP_APPS_AA_TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aa_canon.h"

enum twin_mode { TWIN_CSV, TWIN_HTTP_RES, TWIN_HTTP_REQ };

struct twin {
	enum twin_mode mode;
	unsigned n_fields;   /* CSV */
	struct canon *canon;
	bool failed;         /* an error was reported: nothing more is parsed */
	bool done;           /* the end of the stream was parsed */
	uint64_t off;        /* stream offset of the next byte to parse */
	uint64_t msgs_done;  /* HTTP messages complete (for answering) */
	/* HTTP */
	int st;
	uint64_t remaining;
	/* CSV: field boundaries of the current line */
	const char **fs, **fe;
};

/* 0, or -1 when out of memory. */
int twin_init(struct twin *t, enum twin_mode mode, unsigned n_fields, struct canon *c);
void twin_fini(struct twin *t);
/* Parses what it can of buf[0, len); eof: the stream ends after these
 * bytes. Returns the bytes consumed (the rest must be given again, with
 * more behind it). */
size_t twin_feed(struct twin *t, const char *buf, size_t len, bool eof);
/* The buffer is full and twin_feed() consumed nothing: a record longer
 * than the buffer, reported as an error. */
void twin_too_long(struct twin *t);

#endif
