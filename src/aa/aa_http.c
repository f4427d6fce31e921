/*
 * aa_http.c - the HTTP/1.1 modules, both directions (thesis 4.3.1, table
 * 4.1; RFC 9112): module glue, the per-chunk dispatch over the state
 * groups (start line, header section, body), end of stream, and the
 * application-side calls. See aa_http_internal.h.
 */
#include <errno.h>
#include <stddef.h>

#include "aa/aa_http_internal.h"
#include "aa/aa_internal.h"

#define DEF_MAX_HEADERS 64u
#define MAX_MAX_HEADERS 4096u
#define DEF_MAX_HEAD (16u * 1024u)

static int http_init(void *state, const void *params, struct aa_layout *l,
		     bool response)
{
	static const struct aa_http_params defaults;
	const struct aa_http_params *pp = params ? params : &defaults;
	struct http_state *s = state;
	uint32_t maxh = pp->max_headers ? pp->max_headers : DEF_MAX_HEADERS;

	if (maxh > MAX_MAX_HEADERS || (pp->flags & ~AA_HTTP_P_HEAD_RESPONSES))
		return -EINVAL;
	if (!response && (pp->flags & AA_HTTP_P_HEAD_RESPONSES))
		return -EINVAL;
	s->response = response;
	s->max_headers = maxh;
	s->pflags = pp->flags;
	atomic_init(&s->head_expected, 0);
	s->st = HS_START;
	l->record_size = sizeof(struct aa_http_record) +
			 maxh * sizeof(struct aa_http_header);
	l->fields_offset = offsetof(struct aa_http_record, line);
	l->field_slots = HTTP_SLOT_NAME(maxh);
	l->max_record_bytes = pp->max_head ? pp->max_head : DEF_MAX_HEAD;
	return 0;
}

static int response_init(void *state, const void *params, struct aa_layout *l)
{
	return http_init(state, params, l, true);
}

static int request_init(void *state, const void *params, struct aa_layout *l)
{
	return http_init(state, params, l, false);
}

bool aa_http_emit(struct aa_parse *p, struct http_state *s, unsigned type,
		  const char *at)
{
	if (aa_record_end(p, type, at))
		return true;
	s->stop = true;
	return false;
}

void aa_http_fail(struct aa_parse *p, struct http_state *s, enum aa_error e,
		  const char *msg, const char *at)
{
	aa_fail(p, e, msg, at);
	s->stop = true;
}

void aa_http_next_message(struct http_state *s)
{
	s->hflags = 0;
	s->nhdr = 0;
	s->in_trailer = false;
	s->status = 0;
	s->method = 0;
	s->version = 0;
	s->content_length = 0;
	s->begun = false;
	s->vpos = 0;
	s->ndig = 0;
	if (s->tunnel_after) { /* 101, CONNECT, Upgrade: not HTTP any more */
		s->tunnel_after = false;
		s->tunnel = true;
		s->body_flags = 0;
		s->body_off = 0;
		s->st = HS_BODY_CLOSE;
	} else {
		s->st = HS_START;
	}
}

static size_t http_parse(struct aa_parse *p, void *state, const char *data,
			 size_t len)
{
	struct http_state *s = state;
	const char *c = data, *end = data + len;

	while (c < end) {
		if (s->st <= HS_LINE_LF)
			c = aa_http_line_step(p, s, c, end);
		else if (s->st <= HS_HDR_END_LF)
			c = aa_http_fields_step(p, s, c, end);
		else
			c = aa_http_body_step(p, s, c, end);
		if (s->stop) {
			s->stop = false;
			return (size_t)(c - data);
		}
	}
	http_field_flush(p, s);
	return len;
}

static void http_finish(struct aa_parse *p, void *state)
{
	struct http_state *s = state;
	struct aa_http_record *r;

	switch (s->st) {
	case HS_START: /* between messages: a clean end */
		return;
	case HS_BODY_CLOSE: /* RFC 9112 6.3 (8): the close ends the body */
		r = aa_record(p);
		r->flags = AA_HTTP_F_END |
			   (s->tunnel ? AA_HTTP_F_TUNNEL : AA_HTTP_F_UNTIL_CLOSE);
		r->body_offset = s->body_off;
		aa_record_end(p, AA_HTTP_END, NULL);
		return;
	default:
		aa_fail(p, AA_ERR_TRUNCATED,
			"connection closed inside a message", NULL);
	}
}

const struct aa_module aa_http_response_module = {
	.abi = AA_MODULE_ABI,
	.name = "http-response",
	.state_size = sizeof(struct http_state),
	.params_size = sizeof(struct aa_http_params),
	.init = response_init,
	.parse = http_parse,
	.finish = http_finish,
};

const struct aa_module aa_http_request_module = {
	.abi = AA_MODULE_ABI,
	.name = "http-request",
	.state_size = sizeof(struct http_state),
	.params_size = sizeof(struct aa_http_params),
	.init = request_init,
	.parse = http_parse,
	.finish = http_finish,
};

/* ---- application thread ------------------------------------------------ */

int aa_http_expect_head(struct aa_stream *as, int n)
{
	struct http_state *s;

	if (n < 0 || aa_stream_module(as) != &aa_http_response_module)
		return -EINVAL;
	s = aa_stream_state(as);
	atomic_fetch_add_explicit(&s->head_expected, (uint32_t)n,
				  memory_order_release);
	return 0;
}

/* ---- network thread: splice pairing --------------------------------- */

uint32_t aa_http_heads_seen(struct aa_stream *as)
{
	if (aa_stream_module(as) != &aa_http_request_module)
		return 0;
	return ((struct http_state *)aa_stream_state(as))->heads_seen;
}

const struct stream_field *aa_http_header_value(const struct aa_http_record *r,
						const char *name)
{
	for (uint32_t i = 0; i < r->n_headers; i++)
		if (aa_field_eq_case(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}
