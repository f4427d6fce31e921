/*
 * zc_misuse - drives the zero-copy receive API (include/mtcp_zc.h) through a
 * real connection and checks its answers to misuse, for
 * tests/e2e/test_zc_api.py:
 *
 *   zc_misuse -f stack.conf -b RCVBUF IP:PORT /path
 *
 * Fetches /path (HTTP/1.1, Connection: close) on a zero-copy socket whose
 * receive buffer is RCVBUF, and along the way:
 *   - calls the API before connecting, after connecting (enable), with bad
 *     arguments, reads twice without freeing (EBUSY), frees more than it
 *     read (EINVAL), frees in two steps, frees with nothing outstanding,
 *     reads again at the end of the stream, reads a standard socket with the
 *     zero-copy call, and uses the socket after mtcp_close() (EBADF);
 *   - before reading anything, waits until the peer has filled the window:
 *     what the first read returns is everything the stack accepted while
 *     the application held nothing, so it must not exceed RCVBUF (the
 *     advertised window is the receive buffer minus what the application
 *     holds).
 * Prints one JSON object: {"checks": {name: "ok" | what happened},
 * "first_read_bytes", "rcvbuf", "body_bytes", "body_sha256"}; the body is
 * hashed from the fragments themselves, so a stream corrupted by the misuse
 * shows up in the hash. Exits 0 once the JSON is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_common.h"
#include "mtcp_api.h"
#include "mtcp_zc.h"
#include "sha256.h"

#define MAX_FRAGS 4096
#define MAX_CHECKS 32

static struct {
	const char *name;
	char result[96];
} checks[MAX_CHECKS];
static int n_checks;

/* Records whether a call returned `want_rc` with errno `want_errno` (0: any). */
static void expect(const char *name, int rc, int want_rc, int want_errno)
{
	int err = errno;

	if (n_checks == MAX_CHECKS)
		app_die("zc_misuse", "too many checks");
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

struct body {
	bool in_body;
	char hdr[8192];
	size_t hdr_len;
	unsigned long long bytes;
	struct sha256 hash;
};

/* Response bytes in stream order: headers skipped, the body hashed. */
static void feed(struct body *b, const char *p, size_t n)
{
	if (!b->in_body) {
		size_t take = sizeof(b->hdr) - b->hdr_len < n ? sizeof(b->hdr) - b->hdr_len : n;
		memcpy(b->hdr + b->hdr_len, p, take);
		b->hdr_len += take;
		char *end = memmem(b->hdr, b->hdr_len, "\r\n\r\n", 4);
		if (!end) {
			if (b->hdr_len == sizeof(b->hdr))
				app_die("zc_misuse", "response header too long");
			return;
		}
		size_t body_in_hdr = b->hdr_len - (size_t)(end + 4 - b->hdr);
		b->in_body = true;
		/* the body bytes that came with the last header fragment */
		p += take - body_in_hdr;
		n = body_in_hdr + (n - take);
	}
	sha256_update(&b->hash, p, n);
	b->bytes += n;
}

static size_t feed_frags(struct body *b, const struct stream_fragment_content *f, int n)
{
	size_t total = 0;

	for (int i = 0; i < n; i++) {
		feed(b, f[i].start, (size_t)(f[i].end - f[i].start));
		total += (size_t)(f[i].end - f[i].start);
	}
	return total;
}

static int new_socket(mctx_t mctx, bool zc, int rcvbuf)
{
	int s = mtcp_socket(mctx, AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		app_die("zc_misuse", "mtcp_socket: %s", strerror(errno));
	if (rcvbuf && mtcp_setsockopt(mctx, s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		app_die("zc_misuse", "SO_RCVBUF: %s", strerror(errno));
	if (zc && mtcp_zc_enable(mctx, s))
		app_die("zc_misuse", "mtcp_zc_enable: %s", strerror(errno));
	return s;
}

int main(int argc, char **argv)
{
	static struct stream_fragment_content f[MAX_FRAGS];
	const char *conf = NULL;
	struct sockaddr_in addr;
	struct body b;
	char req[512], hex[65], buf[64];
	int rcvbuf = 16384, opt, s, s2, k;
	size_t first;

	while ((opt = getopt(argc, argv, "f:b:")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'b': rcvbuf = atoi(optarg); break;
		default: conf = NULL; optind = argc; break;
		}
	}
	if (!conf || optind + 2 != argc || !app_parse_addr(argv[optind], &addr)) {
		fprintf(stderr, "usage: zc_misuse -f CONF [-b RCVBUF] IP:PORT /path\n");
		return 2;
	}
	memset(&b, 0, sizeof(b));
	sha256_init(&b.hash);
	if (mtcp_init(conf))
		app_die("zc_misuse", "mtcp_init(%s) failed", conf);
	mctx_t mctx = mtcp_create_context(0);
	if (!mctx)
		app_die("zc_misuse", "mtcp_create_context: %s", strerror(errno));

	s = new_socket(mctx, true, rcvbuf);
	errno = 0;
	expect("read_before_connect", mtcp_zc_read_fragments(mctx, s, f, 4), -1, ENOTCONN);
	expect("free_before_connect", mtcp_zc_free_fragments(mctx, s, 1), -1, ENOTCONN);
	if (mtcp_connect(mctx, s, (struct sockaddr *)&addr, sizeof(addr)))
		app_die("zc_misuse", "connect %s: %s", argv[optind], strerror(errno));
	expect("enable_after_connect", mtcp_zc_enable(mctx, s), -1, EISCONN);
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
		     "User-Agent: aatcp-zc_misuse\r\nConnection: close\r\n\r\n",
		     argv[optind + 1], argv[optind]);
	if (mtcp_write(mctx, s, req, (size_t)n) != n)
		app_die("zc_misuse", "cannot send the request: %s", strerror(errno));

	/* The peer fills the window while we hold nothing and read nothing. */
	usleep(300 * 1000);
	expect("read_n_0", mtcp_zc_read_fragments(mctx, s, f, 0), -1, EINVAL);
	expect("read_null_array", mtcp_zc_read_fragments(mctx, s, NULL, 4), -1, EINVAL);
	expect("copying_read_on_zc_socket", (int)mtcp_read(mctx, s, buf, sizeof(buf)), -1,
	       EINVAL);
	k = mtcp_zc_read_fragments(mctx, s, f, MAX_FRAGS);
	if (k <= 0)
		app_die("zc_misuse", "first read: %d (%s)", k, strerror(errno));
	first = feed_frags(&b, f, k);

	/* Holding k fragments. */
	expect("read_again_before_free", mtcp_zc_read_fragments(mctx, s, f + k, 4), -1, EBUSY);
	expect("free_more_than_read", mtcp_zc_free_fragments(mctx, s, k + 1), -1, EINVAL);
	expect("free_0", mtcp_zc_free_fragments(mctx, s, 0), -1, EINVAL);
	expect("free_negative", mtcp_zc_free_fragments(mctx, s, -1), -1, EINVAL);
	if (k >= 2) {
		expect("free_first_one", mtcp_zc_free_fragments(mctx, s, 1), 0, 0);
		expect("read_while_some_held", mtcp_zc_read_fragments(mctx, s, f, 4), -1, EBUSY);
		expect("free_all_read_after_partial", mtcp_zc_free_fragments(mctx, s, k), -1,
		       EINVAL);
		expect("free_the_rest", mtcp_zc_free_fragments(mctx, s, k - 1), 0, 0);
	} else {
		expect("free_the_rest", mtcp_zc_free_fragments(mctx, s, k), 0, 0);
	}
	expect("free_nothing_outstanding", mtcp_zc_free_fragments(mctx, s, 1), -1, EINVAL);

	/* The rest of the stream, in small reads. */
	for (;;) {
		k = mtcp_zc_read_fragments(mctx, s, f, 3);
		if (k == 0)
			break;
		if (k < 0)
			app_die("zc_misuse", "read: %s", strerror(errno));
		feed_frags(&b, f, k);
		if (mtcp_zc_free_fragments(mctx, s, k))
			app_die("zc_misuse", "free %d: %s", k, strerror(errno));
	}
	expect("read_after_end", mtcp_zc_read_fragments(mctx, s, f, 4), 0, 0);
	expect("free_after_end", mtcp_zc_free_fragments(mctx, s, 1), -1, EINVAL);

	/* The zero-copy calls on a connected standard socket. */
	s2 = new_socket(mctx, false, 0);
	if (mtcp_connect(mctx, s2, (struct sockaddr *)&addr, sizeof(addr)))
		app_die("zc_misuse", "connect (standard socket): %s", strerror(errno));
	expect("zc_read_on_standard_socket", mtcp_zc_read_fragments(mctx, s2, f, 4), -1, EINVAL);
	expect("zc_free_on_standard_socket", mtcp_zc_free_fragments(mctx, s2, 1), -1, EINVAL);
	mtcp_close(mctx, s2);

	mtcp_close(mctx, s);
	expect("read_after_close", mtcp_zc_read_fragments(mctx, s, f, 4), -1, EBADF);
	expect("free_after_close", mtcp_zc_free_fragments(mctx, s, 1), -1, EBADF);
	expect("read_bad_socket_id", mtcp_zc_read_fragments(mctx, 1 << 30, f, 4), -1, EBADF);

	sha256_hex(&b.hash, hex);
	printf("{\"checks\": {");
	for (int i = 0; i < n_checks; i++)
		printf("%s\"%s\": \"%s\"", i ? ", " : "", checks[i].name, checks[i].result);
	printf("}, \"first_read_bytes\": %zu, \"rcvbuf\": %d, \"body_bytes\": %llu, "
	       "\"body_sha256\": \"%s\"}\n", first, rcvbuf, b.bytes, hex);
	fflush(stdout);
	mtcp_destroy();
	return 0;
}
