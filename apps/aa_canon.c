/* aa_canon.c - the canonical dump of a record stream (see aa_canon.h). */
#include "aa_canon.h"

#include <string.h>

static void put(struct canon *c, const void *p, size_t n)
{
	if (c->hash)
		sha256_update(&c->dump, p, n);
}

static void put_dec(struct canon *c, uint64_t v, char end)
{
	char b[24];
	int n;

	if (!c->hash)
		return;
	n = snprintf(b, sizeof(b), "%llu%c", (unsigned long long)v, end);
	put(c, b, (size_t)n);
}

static struct canon_msg *cur_msg(struct canon *c)
{
	return c->nmsgs && c->nmsgs <= CANON_MAX_MSGS ? &c->msgs[c->nmsgs - 1] : NULL;
}

void canon_init(struct canon *c, bool hash)
{
	memset(c, 0, sizeof(*c));
	c->hash = hash;
	sha256_init(&c->dump);
}

void canon_begin_dump(struct canon *c, char type)
{
	c->type = type;
	c->field = 0;
	c->field_left = 0;
	c->records++;
	put(c, &type, 1);
	if (type == 'R' || type == 'Q') {
		c->messages++;
		if (c->nmsgs < CANON_MAX_MSGS) {
			memset(&c->msgs[c->nmsgs], 0, sizeof(c->msgs[0]));
			c->msgs[c->nmsgs].kind = type;
		}
		/* one past the array: messages after the first ones are not kept */
		if (c->nmsgs <= CANON_MAX_MSGS)
			c->nmsgs++;
	}
}

/* Keeps the start line of the first messages (truncated, NUL-ended). */
static void keep_line(struct canon *c, const char *p, size_t n, size_t at)
{
	struct canon_msg *m = cur_msg(c);

	if (!m || (c->type != 'R' && c->type != 'Q') || c->field >= 3 ||
	    at >= CANON_LINE_MAX - 1)
		return;
	if (n > CANON_LINE_MAX - 1 - at)
		n = CANON_LINE_MAX - 1 - at;
	memcpy(m->line[c->field] + at, p, n);
}

void canon_field_start_dump(struct canon *c, size_t total)
{
	put_dec(c, total, ':');
	c->field_left = total;
	c->field_bytes += total;
	if (total == 0)
		c->field++;
}

void canon_field_bytes(struct canon *c, const char *p, size_t n)
{
	struct canon_msg *m;
	size_t at;

	if (!c->hash)
		return;
	/* the bytes of this field before these: for keep_line */
	m = cur_msg(c);
	at = m && c->field < 3 ? strlen(m->line[c->field]) : 0;
	put(c, p, n);
	keep_line(c, p, n, at);
	c->field_left -= n < c->field_left ? n : c->field_left;
	if (c->field_left == 0)
		c->field++;
}

void canon_end_dump(struct canon *c)
{
	struct canon_msg *m = cur_msg(c);

	put(c, "\n", 1);
	c->items[(unsigned char)c->type & 127]++;
	if (m && (c->type == 'R' || c->type == 'Q'))
		m->headers = c->field >= 3 ? (c->field - 3) / 2 : 0;
}

void canon_body(struct canon *c, const char *p, size_t n)
{
	if (!c->in_body) {
		c->in_body = true;
		c->body_len = 0;
		sha256_init(&c->body);
	}
	if (c->hash)
		sha256_update(&c->body, p, n);
	c->body_len += n;
	c->body_bytes += n;
}

void canon_body_end(struct canon *c)
{
	struct canon_msg *m = cur_msg(c);
	char hex[65] = "";

	if (!c->in_body) { /* an empty body (chunked "0", or closed at once) */
		sha256_init(&c->body);
		c->body_len = 0;
	}
	if (c->hash)
		sha256_hex(&c->body, hex);
	c->in_body = false;
	put(c, "B", 1);
	put_dec(c, c->body_len, ':');
	put(c, hex, 64);
	put(c, "\n", 1);
	c->items['B']++;
	if (m) {
		m->has_body = true;
		m->body_len = c->body_len;
		memcpy(m->body_sha, hex, sizeof(hex));
	}
}

void canon_error(struct canon *c, uint32_t code, const char *msg, uint64_t offset)
{
	c->records++;
	c->errors++;
	if (c->nerrs < CANON_MAX_ERRS) {
		struct canon_err_rec *e = &c->errs[c->nerrs++];
		e->code = code;
		e->offset = offset;
		snprintf(e->message, sizeof(e->message), "%s", msg ? msg : "");
	}
}

const char *canon_err_name(uint32_t code)
{
	static const char *const names[] = {
		"none", "syntax", "too_long", "field_count", "too_many_fields", "bad_length",
		"bad_chunk", "bad_encoding", "binary", "truncated", "fragmented", "module",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown";
}

/* A JSON string of at most n bytes of s (escaped). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void canon_json(struct canon *c, FILE *f)
{
	char hex[65] = "";

	if (c->hash)
		sha256_hex(&c->dump, hex);
	fprintf(f, "\"records\": %llu, \"csv_lines\": %llu, \"responses\": %llu, "
		   "\"requests\": %llu, \"bodies\": %llu, \"trailers\": %llu, "
		   "\"body_bytes\": %llu, \"field_bytes\": %llu, \"dump_sha256\": \"%s\", ",
		(unsigned long long)c->records, (unsigned long long)c->items['C'],
		(unsigned long long)c->items['R'], (unsigned long long)c->items['Q'],
		(unsigned long long)c->items['B'], (unsigned long long)c->items['T'],
		(unsigned long long)c->body_bytes, (unsigned long long)c->field_bytes, hex);
	fprintf(f, "\"messages\": [");
	for (unsigned i = 0; i < c->nmsgs && i < CANON_MAX_MSGS; i++) {
		struct canon_msg *m = &c->msgs[i];
		fprintf(f, "%s{\"kind\": \"%c\", \"line\": [", i ? ", " : "", m->kind);
		for (int k = 0; k < 3; k++) {
			if (k)
				fputs(", ", f);
			json_str(f, m->line[k]);
		}
		fprintf(f, "], \"headers\": %u", m->headers);
		if (m->has_body)
			fprintf(f, ", \"body_len\": %llu, \"body_sha256\": \"%s\"",
				(unsigned long long)m->body_len, m->body_sha);
		fputc('}', f);
	}
	fprintf(f, "], \"errors\": [");
	for (unsigned i = 0; i < c->nerrs; i++) {
		struct canon_err_rec *e = &c->errs[i];
		fprintf(f, "%s{\"code\": %u, \"name\": \"%s\", \"message\": ", i ? ", " : "", e->code,
			canon_err_name(e->code));
		json_str(f, e->message);
		fprintf(f, ", \"offset\": %llu}", (unsigned long long)e->offset);
	}
	fprintf(f, "]");
}

void canon_add(struct canon *into, const struct canon *src)
{
	into->records += src->records;
	for (size_t i = 0; i < sizeof(into->items) / sizeof(into->items[0]); i++)
		into->items[i] += src->items[i];
	into->field_bytes += src->field_bytes;
	into->body_bytes += src->body_bytes;
	into->messages += src->messages;
	into->errors += src->errors;
	for (unsigned i = 0; i < src->nerrs && into->nerrs < CANON_MAX_ERRS; i++)
		into->errs[into->nerrs++] = src->errs[i];
}
