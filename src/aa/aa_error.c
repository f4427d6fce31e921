/*
 * aa_error.c - names of the error codes carried by error records
 * (mtcp_aa.h, enum aa_error).
 */
#include "mtcp_aa.h"

const char *aa_error_name(uint32_t code)
{
	static const char *const names[] = {
		[AA_ERR_NONE] = "none",
		[AA_ERR_SYNTAX] = "syntax",
		[AA_ERR_TOO_LONG] = "too-long",
		[AA_ERR_FIELD_COUNT] = "field-count",
		[AA_ERR_TOO_MANY_FIELDS] = "too-many-fields",
		[AA_ERR_BAD_LENGTH] = "bad-length",
		[AA_ERR_BAD_CHUNK] = "bad-chunk",
		[AA_ERR_BAD_ENCODING] = "bad-encoding",
		[AA_ERR_BINARY] = "binary",
		[AA_ERR_TRUNCATED] = "truncated",
		[AA_ERR_FRAGMENTED] = "fragmented",
		[AA_ERR_MODULE] = "module",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
