/*
 * zc_wget - the thesis' zero-copy wget (section 3.3): downloads a URL over
 * one connection, reading the response with mtcp_zc_read_fragments() so
 * that no payload byte is copied. -S reads with mtcp_read() instead (the
 * standard mTCP path), so both receive paths are measured by one program.
 *
 *   zc_wget URL -f stack.conf [-n requests] [-t seconds] [-b rcvbuf] [-o outfile] [-S] [-q]
 *
 * -n sends that many requests one after another on the same connection
 * (keep-alive), e.g. to download a large file several times. -t stops
 * starting new requests once that many seconds have passed (the response in
 * progress is read to its end): with a large -n, a download lasts about that
 * long whatever the throughput, as the experiments need. Prints one JSON
 * object: body bytes, time, throughput, the SHA-256 of the bodies, and the
 * best throughput over any one-second window ("peak_gbps", the thesis'
 * metric).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app_common.h"
#include "mtcp_api.h"
#include "mtcp_zc.h"
#include "sha256.h"

#define HDR_MAX 16384
/* peak_gbps: (time, bytes) samples at least 1 ms apart, of which only the
 * last second or so is kept: fewer than 1100 at any time */
#define RATE_SAMPLES 2048

struct dl {
	mctx_t mctx;
	int sock;
	bool standard, nohash;
	char host[128], path[1024];
	struct sockaddr_in addr;
	/* response being read */
	char hdr[HDR_MAX];
	size_t hdr_len;
	bool in_body;
	long long clen, got;
	int status;
	int responses;
	/* totals */
	unsigned long long bytes;
	struct sha256 hash;
	FILE *out;
	double t0, peak;
	/* ring of rate samples for peak_gbps, oldest at s_first */
	double s_t[RATE_SAMPLES];
	unsigned long long s_b[RATE_SAMPLES];
	unsigned s_first, s_count;
};

static void usage(void)
{
	fprintf(stderr, "usage: zc_wget URL -f conf [-n requests] [-t seconds] [-b rcvbuf] "
			"[-o outfile] [-S] [-q]\n");
	exit(2);
}

static bool parse_url(struct dl *d, const char *url)
{
	const char *p = strncmp(url, "http://", 7) ? url : url + 7;
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	char addr[200];

	if (!hl || hl >= sizeof(d->host))
		return false;
	memcpy(d->host, p, hl);
	d->host[hl] = '\0';
	snprintf(d->path, sizeof(d->path), "%s", slash ? slash : "/");
	snprintf(addr, sizeof(addr), strchr(d->host, ':') ? "%s" : "%s:80", d->host);
	return app_parse_addr(addr, &d->addr);
}

/*
 * peak_gbps, the thesis' metric (3.3: "the highest throughput achieved in a
 * 1s time window"): a sliding window. Each sample is (time, body bytes so
 * far); the rate is taken between the newest sample and the newest one at
 * least 1 s older (the span is 1 s plus at most one gap between samples, so
 * a stall inside it lowers it, as it should). Tumbling windows, as before,
 * stretched over stalls and never counted the last, partial one, so
 * peak_gbps could come out below the average ("gbps").
 */
static void meter(struct dl *d, bool force)
{
	double now = app_now();
	unsigned last;

	if (d->s_count) {
		last = (d->s_first + d->s_count - 1) % RATE_SAMPLES;
		if (!force && now - d->s_t[last] < 1e-3)
			return;
	}
	if (d->s_count == RATE_SAMPLES) { /* cannot happen (see RATE_SAMPLES) */
		d->s_first = (d->s_first + 1) % RATE_SAMPLES;
		d->s_count--;
	}
	last = (d->s_first + d->s_count) % RATE_SAMPLES;
	d->s_t[last] = now;
	d->s_b[last] = d->bytes;
	d->s_count++;
	/* drop the oldest while the next one is still >= 1 s old */
	while (d->s_count >= 2 &&
	       now - d->s_t[(d->s_first + 1) % RATE_SAMPLES] >= 1.0) {
		d->s_first = (d->s_first + 1) % RATE_SAMPLES;
		d->s_count--;
	}
	double span = now - d->s_t[d->s_first];
	if (span >= 1.0) {
		double g = (double)(d->bytes - d->s_b[d->s_first]) * 8 / span / 1e9;
		if (g > d->peak)
			d->peak = g;
	}
}

static void body(struct dl *d, const char *p, size_t n)
{
	if (!d->nohash)
		sha256_update(&d->hash, p, n);
	if (d->out && fwrite(p, 1, n, d->out) != n)
		app_die("zc_wget", "cannot write the output file");
	d->got += (long long)n;
	d->bytes += n;
	meter(d, false);
}

/* Feeds received bytes; returns true when the current response is done. */
static bool feed(struct dl *d, const char *p, size_t n)
{
	while (n) {
		if (!d->in_body) {
			size_t take = HDR_MAX - d->hdr_len < n ? HDR_MAX - d->hdr_len : n;
			memcpy(d->hdr + d->hdr_len, p, take);
			size_t before = d->hdr_len;
			d->hdr_len += take;
			char *end = memmem(d->hdr, d->hdr_len, "\r\n\r\n", 4);
			if (!end) {
				if (d->hdr_len == HDR_MAX)
					app_die("zc_wget", "response header longer than %d bytes", HDR_MAX);
				return false;
			}
			size_t hdr_end = (size_t)(end + 4 - d->hdr);
			if (sscanf(d->hdr, "HTTP/1.%*d %d", &d->status) != 1)
				app_die("zc_wget", "not an HTTP response");
			d->clen = -1;
			for (char *h = strstr(d->hdr, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
				if (!strncasecmp(h + 2, "Content-Length:", 15))
					d->clen = atoll(h + 17);
			d->in_body = true;
			p += hdr_end - before;
			n -= hdr_end - before;
		}
		size_t want = n;
		if (d->clen >= 0 && (long long)want > d->clen - d->got)
			want = (size_t)(d->clen - d->got);
		body(d, p, want);
		p += want;
		n -= want;
		if (d->clen >= 0 && d->got == d->clen)
			return true;
	}
	return false;
}

static void request(struct dl *d, bool last)
{
	char req[1400];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: aatcp-zc_wget\r\n"
			 "Connection: %s\r\n\r\n", d->path, d->host, last ? "close" : "keep-alive");

	if (mtcp_write(d->mctx, d->sock, req, (size_t)n) != n)
		app_die("zc_wget", "cannot send the request: %s", strerror(errno));
	d->hdr_len = 0;
	d->in_body = false;
	d->got = 0;
}

/* One read: returns bytes consumed (0 at end of stream) and sets *done. */
static ssize_t read_some(struct dl *d, bool *done)
{
	if (d->standard) {
		static char buf[1 << 16];
		ssize_t n = mtcp_read(d->mctx, d->sock, buf, sizeof(buf));
		if (n > 0)
			*done = feed(d, buf, (size_t)n);
		return n;
	}
	struct stream_fragment_content f[64];
	int n = mtcp_zc_read_fragments(d->mctx, d->sock, f, 64);
	ssize_t total = 0;
	if (n <= 0)
		return n;
	/* a response ends inside these fragments only at the very end of a
	 * request's answer; the next answer starts after we asked for it */
	for (int i = 0; i < n && !*done; i++) {
		*done = feed(d, f[i].start, (size_t)(f[i].end - f[i].start));
		total += f[i].end - f[i].start;
	}
	if (mtcp_zc_free_fragments(d->mctx, d->sock, n))
		app_die("zc_wget", "free_fragments: %s", strerror(errno));
	return total;
}

int main(int argc, char **argv)
{
	struct dl d = {0};
	const char *conf = NULL, *outfile = NULL;
	int requests = 1, rcvbuf = 0, opt;
	double seconds = 0;

	if (argc < 2 || !parse_url(&d, argv[1]))
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "f:n:t:b:o:Sq")) != -1) {
		switch (opt) {
		case 'f': conf = optarg; break;
		case 'n': requests = atoi(optarg); break;
		case 'b': rcvbuf = atoi(optarg); break;
		case 'o': outfile = optarg; break;
		case 'S': d.standard = true; break;
		case 'q': d.nohash = true; break;
		case 't': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (!conf || requests <= 0)
		usage();
	if (outfile && !(d.out = fopen(outfile, "wb")))
		app_die("zc_wget", "cannot open %s", outfile);
	if (mtcp_init(conf))
		app_die("zc_wget", "mtcp_init(%s) failed", conf);
	d.mctx = mtcp_create_context(0);
	if (!d.mctx)
		app_die("zc_wget", "mtcp_create_context: %s", strerror(errno));
	d.sock = mtcp_socket(d.mctx, AF_INET, SOCK_STREAM, 0);
	if (rcvbuf && mtcp_setsockopt(d.mctx, d.sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		app_die("zc_wget", "SO_RCVBUF %d: %s", rcvbuf, strerror(errno));
	if (!d.standard && mtcp_zc_enable(d.mctx, d.sock))
		app_die("zc_wget", "mtcp_zc_enable: %s", strerror(errno));
	/* blocking socket: connect, then reads wait for data (thesis' wget) */
	if (mtcp_connect(d.mctx, d.sock, (struct sockaddr *)&d.addr, sizeof(d.addr)))
		app_die("zc_wget", "connect %s: %s", d.host, strerror(errno));
	sha256_init(&d.hash);
	d.t0 = app_now();
	meter(&d, true);
	for (int r = 0; r < requests; r++) {
		if (r > 0 && seconds > 0 && app_now() - d.t0 >= seconds)
			break; /* -t: time is up; we close the connection */
		bool done = false;
		request(&d, r == requests - 1);
		while (!done) {
			ssize_t n = read_some(&d, &done);
			if (n == 0 && d.in_body && d.clen < 0)
				done = true; /* body delimited by the close */
			else if (n == 0)
				app_die("zc_wget", "connection closed after %lld body bytes", d.got);
			else if (n < 0)
				app_die("zc_wget", "read: %s", strerror(errno));
		}
		d.responses++;
		if (d.status != 200)
			app_die("zc_wget", "HTTP status %d", d.status);
	}
	meter(&d, true); /* the last window ends with the last byte */
	double secs = app_now() - d.t0;
	char hex[65] = "";
	if (!d.nohash)
		sha256_hex(&d.hash, hex);
	if (d.peak == 0 && secs > 0)
		d.peak = (double)d.bytes * 8 / secs / 1e9;
	printf("{\"responses\": %d, \"bytes\": %llu, \"seconds\": %.6f, \"gbps\": %.4f, "
	       "\"peak_gbps\": %.4f, \"sha256\": \"%s\", \"zero_copy\": %s}\n",
	       d.responses, d.bytes, secs, secs > 0 ? (double)d.bytes * 8 / secs / 1e9 : 0,
	       d.peak, hex, d.standard ? "false" : "true");
	fflush(stdout);
	if (d.out)
		fclose(d.out);
	mtcp_close(d.mctx, d.sock);
	mtcp_destroy();
	return 0;
}
