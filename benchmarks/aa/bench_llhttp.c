/*
 * bench_llhttp.c - the llhttp peer of bench_aa_parse (Node.js' HTTP parser,
 * built from the C sources of Debian's node-llhttp package, never copied
 * into this repository). In its own file because llhttp.h and Debian's
 * http_parser.h define the same enum names.
 */
#include <llhttp.h>

#include "bench_peers.h"

static int on_complete(llhttp_t *p)
{
	((struct peer_count *)p->data)->records++;
	return 0;
}

static int on_data(llhttp_t *p, const char *at, size_t n)
{
	(void)at;
	((struct peer_count *)p->data)->sum += n;
	return 0;
}

int peer_llhttp(const struct peer_chunks *ch, bool response,
		struct peer_count *c, double *cpu_ns)
{
	llhttp_settings_t st;
	llhttp_t p;
	struct bench_clock t0;

	llhttp_settings_init(&st);
	st.on_header_value = on_data;
	st.on_body = on_data;
	st.on_message_complete = on_complete;
	llhttp_init(&p, response ? HTTP_RESPONSE : HTTP_REQUEST, &st);
	p.data = c;
	bench_clock_start(&t0);
	for (size_t i = 0; i < ch->n; i++) {
		bench_prefetch_next(ch, i);
		if (llhttp_execute(&p, ch->p[i], ch->len[i]) != HPE_OK)
			return -1;
	}
	*cpu_ns = bench_clock_ns(&t0);
	return 0;
}

bool peer_llhttp_available(void) { return true; }
