/*
 * aa_misuse - drives the application-aware record API (include/mtcp_aa.h)
 * through real connections and checks its answers to misuse, for
 * tests/e2e/test_aa_api.py:
 *
 *   aa_misuse -f stack.conf IP:PORT
 *
 * The server (aa_peer.py serve --conns 2) sends the same CSV stream of
 * 3-field lines to two connections. Along the way:
 *   - registers modules wrongly: no module, a bad socket, invalid CSV
 *     parameters (0 fields, none given) on a stream and on a listening
 *     socket, an epoll socket, twice, after connecting (EINVAL / EBADF);
 *   - reads before connecting (ENOTCONN), with bad arguments (EINVAL), twice
 *     without freeing (EBUSY), frees more than it read (EINVAL), frees in two
 *     steps, frees with nothing outstanding, uses the zero-copy fragment and
 *     copying reads and the HTTP-only call on a CSV socket (EINVAL), reads
 *     again at the end of the stream (0), and uses the socket after
 *     mtcp_close() (EBADF);
 *   - on the second connection, closes the socket while it still holds
 *     records (the stack must give their packets back: mbufs_in_use == 0).
 * Prints one JSON object: {"checks": {name: "ok" | what happened}, "lines",
 * "dump_sha256"} (the lines of the first connection, through aa_canon.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aa_canon.h"
#include "app_common.h"
#include "mtcp_aa.h"
#include "mtcp_api.h"
#include "mtcp_epoll.h"
#include "mtcp_zc.h"

#define PROG "aa_misuse"
#define MAX_CHECKS 48
#define FIELDS 3

static struct {
	const char *name;
	char result[120];
} checks[MAX_CHECKS];
static int n_checks;

/* Records whether a call returned `want_rc` with errno `want_errno` (0: any). */
static void expect(const char *name, int rc, int want_rc, int want_errno)
{
	int err = errno;

	if (n_checks == MAX_CHECKS)
		app_die(PROG, "too many checks");
	checks[n_checks].name = name;
	if (rc == want_rc && (want_errno == 0 || err == want_errno))
		snprintf(checks[n_checks].result, sizeof(checks[0].result), "ok");
	else
		snprintf(checks[n_checks].result, sizeof(checks[0].result),
			 "returned %d, errno %d (%s); wanted %d, errno %d (%s)", rc,
			 rc < 0 ? err : 0, rc < 0 ? strerror(err) : "-", want_rc, want_errno,
			 want_errno ? strerror(want_errno) : "-");
	n_checks++;
}

static void dump_line(struct canon *cn, const struct aa_csv_record *r)
{
	canon_begin(cn, 'C');
	for (uint32_t i = 0; i < r->n_fields; i++) {
		canon_field_start(cn, aa_field_len(r->fields[i]));
		aa_field_foreach_view(v, r->fields[i])
			if (v->data.end > v->data.start)
				canon_field_bytes(cn, v->data.start,
						  (size_t)(v->data.end - v->data.start));
	}
	canon_end(cn);
}

/* A connected CSV socket (blocking). */
static int csv_socket(mctx_t m)
{
	struct aa_csv_params p = {.n_fields = FIELDS};
	int s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);

	if (s < 0 || mtcp_zc_register_aa_module(m, s, &aa_csv_module, &p))
		app_die(PROG, "socket/register: %s", strerror(errno));
	return s;
}

static void connect_to(mctx_t m, int s, const struct sockaddr_in *dst)
{
	if (mtcp_connect(m, s, (const struct sockaddr *)dst, sizeof(*dst)))
		app_die(PROG, "connect: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	struct sockaddr_in dst;
	struct canon cn;
	void *recs[64];
	char buf[64];
	int opt, s, n, ep, ls;
	struct aa_csv_params zero = {.n_fields = 0}, good = {.n_fields = FIELDS};
	struct stream_fragment_content frag[4];

	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt == 'f')
			conf = optarg;
		else
			app_die(PROG, "usage: aa_misuse -f conf IP:PORT");
	}
	if (!conf || optind >= argc || !app_parse_addr(argv[optind], &dst))
		app_die(PROG, "usage: aa_misuse -f conf IP:PORT");
	if (mtcp_init(conf))
		app_die(PROG, "mtcp_init failed");
	mctx_t m = mtcp_create_context(0);
	if (!m)
		app_die(PROG, "mtcp_create_context: %s", strerror(errno));
	canon_init(&cn, true);

	/* ---- registering ---- */
	s = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
	expect("register_null_module", mtcp_zc_register_aa_module(m, s, NULL, &good), -1, EINVAL);
	expect("register_bad_socket", mtcp_zc_register_aa_module(m, 4000, &aa_csv_module, &good),
	       -1, EBADF);
	expect("register_zero_fields", mtcp_zc_register_aa_module(m, s, &aa_csv_module, &zero),
	       -1, EINVAL);
	expect("register_csv_no_params", mtcp_zc_register_aa_module(m, s, &aa_csv_module, NULL),
	       -1, EINVAL);
	ep = mtcp_epoll_create(m, 4);
	expect("register_epoll_socket", mtcp_zc_register_aa_module(m, ep, &aa_csv_module, &good),
	       -1, EINVAL);
	ls = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9999)};
		mtcp_bind(m, ls, (struct sockaddr *)&a, sizeof(a));
		mtcp_listen(m, ls, 4);
	}
	expect("register_listener_zero_fields",
	       mtcp_zc_register_aa_module(m, ls, &aa_csv_module, &zero), -1, EINVAL);
	expect("register_listener", mtcp_zc_register_aa_module(m, ls, &aa_csv_module, &good), 0, 0);
	mtcp_close(m, ls);
	expect("read_before_connect", mtcp_zc_read_aa_records(m, s, recs, 64), -1, ENOTCONN);
	expect("register", mtcp_zc_register_aa_module(m, s, &aa_csv_module, &good), 0, 0);
	expect("register_twice", mtcp_zc_register_aa_module(m, s, &aa_csv_module, &good), -1,
	       EINVAL);
	connect_to(m, s, &dst);
	/* a second socket, connected, then registered: too late */
	{
		int late = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in d2 = dst;
		d2.sin_port = htons(9); /* refused or not: only the register matters */
		mtcp_setsock_nonblock(m, late);
		mtcp_connect(m, late, (struct sockaddr *)&d2, sizeof(d2));
		expect("register_after_connect",
		       mtcp_zc_register_aa_module(m, late, &aa_csv_module, &good), -1, EINVAL);
		mtcp_close(m, late);
	}

	/* ---- reading ---- */
	expect("read_zero", mtcp_zc_read_aa_records(m, s, recs, 0), -1, EINVAL);
	expect("read_null", mtcp_zc_read_aa_records(m, s, NULL, 4), -1, EINVAL);
	expect("free_nothing_outstanding", mtcp_zc_free_aa_records(m, s, 1), -1, EINVAL);
	expect("free_zero", mtcp_zc_free_aa_records(m, s, 0), 0, 0);
	expect("zc_fragments_on_aa", mtcp_zc_read_fragments(m, s, frag, 4), -1, EINVAL);
	expect("mtcp_read_on_aa", (int)mtcp_read(m, s, buf, sizeof(buf)), -1, EINVAL);
	expect("expect_head_on_csv", mtcp_zc_aa_http_expect_head(m, s, 1), -1, EINVAL);
	n = mtcp_zc_read_aa_records(m, s, recs, 64); /* blocking: waits for records */
	expect("first_read", n > 0 ? 0 : -1, 0, 0);
	if (n <= 0)
		app_die(PROG, "no records: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		dump_line(&cn, recs[i]);
	expect("read_twice", mtcp_zc_read_aa_records(m, s, recs + n, 4), -1, EBUSY);
	expect("free_too_many", mtcp_zc_free_aa_records(m, s, n + 1), -1, EINVAL);
	expect("free_negative", mtcp_zc_free_aa_records(m, s, -1), -1, EINVAL);
	if (n > 1)
		expect("free_part", mtcp_zc_free_aa_records(m, s, 1), 0, 0);
	expect("free_rest", mtcp_zc_free_aa_records(m, s, n > 1 ? n - 1 : 1), 0, 0);
	for (;;) {
		n = mtcp_zc_read_aa_records(m, s, recs, 64);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			const struct aa_record *r = recs[i];
			if (r->type == AA_RECORD_ERROR)
				app_die(PROG, "error record: %s", r->message);
			dump_line(&cn, recs[i]);
		}
		if (mtcp_zc_free_aa_records(m, s, n))
			app_die(PROG, "free: %s", strerror(errno));
	}
	expect("end_of_stream", n, 0, 0);
	expect("read_after_end", mtcp_zc_read_aa_records(m, s, recs, 64), 0, 0);
	mtcp_close(m, s);
	expect("read_after_close", mtcp_zc_read_aa_records(m, s, recs, 64), -1, EBADF);
	expect("free_after_close", mtcp_zc_free_aa_records(m, s, 1), -1, EBADF);

	/* ---- closing while holding records ---- */
	s = csv_socket(m);
	connect_to(m, s, &dst);
	n = mtcp_zc_read_aa_records(m, s, recs, 64);
	expect("hold_read", n > 0 ? 0 : -1, 0, 0);
	expect("close_holding", mtcp_close(m, s), 0, 0);

	char hex[65];
	sha256_hex(&cn.dump, hex);
	printf("{\"lines\": %llu, \"dump_sha256\": \"%s\", \"checks\": {",
	       (unsigned long long)cn.items['C'], hex);
	for (int i = 0; i < n_checks; i++)
		printf("%s\"%s\": \"%s\"", i ? ", " : "", checks[i].name, checks[i].result);
	printf("}}\n");
	fflush(stdout);
	mtcp_close(m, ep);
	mtcp_destroy();
	return 0;
}
