/*
 * test_tcp_secret.c - the values an off-path attacker must not predict:
 *   - SipHash-2-4 against the reference vectors of the paper's test.c
 *     (key 00..0f, messages 00..n-1);
 *   - ISNs per RFC 6528 section 3: M (4 us clock) + SipHash of the 4-tuple
 *     under the key, exactly, through the whole stack;
 *   - ephemeral ports per RFC 6056 3.3.3 (algorithm 3): each destination
 *     starts at its own secret offset.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "stack_harness.h"
#include "tcp/secret.h"
#include "tcp/siphash.h"
#include "tcp/tcp.h"

static const uint64_t sip_vectors[16] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
	0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
	0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
	0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
	0xa129ca6149be45e5ull,
};

static void test_siphash_vectors(void)
{
	uint8_t msg[16];

	for (int i = 0; i < 16; i++)
		msg[i] = (uint8_t)i;
	for (size_t n = 0; n < 16; n++)
		CHECK_MSG(siphash24(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, msg, n) ==
				  sip_vectors[n],
			  "SipHash-2-4 of %zu bytes", n);
}

/* The stack's SYN-ACK to a peer's SYN. */
static uint32_t synack_iss(struct h_stack *h, uint16_t pport)
{
	struct h_conn k = h_conn_default(80);
	struct h_pkt p;

	k.pport = pport;
	h_peer_syn(h, &k, &p);
	return p.seq;
}

static uint32_t expected_isn(const struct h_stack *h, uint16_t pport)
{
	uint64_t f = secret_hash(SECRET_ISN, htonl(H_STACK_IP(0)), htons(80), htonl(H_PEER_IP(0)),
				 htons(pport), 0);

	return (uint32_t)(h->now / 4) + (uint32_t)f;
}

static void test_isn_rfc6528(void)
{
	struct h_stack *h = h_open();
	int ls = h_listen(h, 80, 16);

	uint32_t a = synack_iss(h, 40001);
	CHECK_EQ_U64(a, expected_isn(h, 40001));
	CHECK_EQ_U64(synack_iss(h, 40002), expected_isn(h, 40002));
	/* M: the same 4-tuple a second later is 250,000 further on (the old
	 * connection must go first) */
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h); /* the half-open ones are reset */
	ls = h_listen(h, 80, 16);
	h_advance(h, 1000000);
	CHECK_EQ_U64(synack_iss(h, 40001), a + 250000);
	/* another key, another ISN */
	uint32_t under_first = expected_isn(h, 40003);
	secret_set_key(1, 2);
	uint32_t under_second = synack_iss(h, 40003);
	CHECK(under_second != under_first && under_second == expected_isn(h, 40003));
	secret_set_key(0x5eed12345eed1234ull, 0x0123456789abcdefull);
	CHECK(mtcp_close(h->mctx, ls) == 0);
	h_run(h);
	h_drain(h);
	h_close(h);
}

/* The source port mtcp_connect picks toward pport. */
static uint16_t connect_port(struct h_stack *h, uint16_t pport)
{
	int s = mtcp_socket(h->mctx, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(pport),
				.sin_addr = {.s_addr = htonl(H_PEER_IP(0))}};
	struct h_pkt p;

	CHECK(s >= 0);
	CHECK(mtcp_connect(h->mctx, s, (struct sockaddr *)&a, sizeof(a)) == -1 &&
	      errno == EINPROGRESS);
	h_run(h);
	h_recv_tcp(h, &p);
	CHECK(p.flags == TCP_FLAG_SYN);
	CHECK(mtcp_abort(h->mctx, s) == 0);
	h_run(h);
	h_drain(h);
	return p.sport;
}

static void test_ephemeral_ports(void)
{
	struct h_stack *h = h_open();
	const uint32_t lo = 32768, num = 60999 - 32768 + 1;

	for (uint16_t dport = 5000; dport < 5004; dport++) {
		uint16_t counter = h->c->next_ephemeral;
		uint32_t off = (uint32_t)secret_hash(SECRET_PORT, htonl(H_STACK_IP(0)), 0,
						      htonl(H_PEER_IP(0)), htons(dport), 0);
		uint16_t got = connect_port(h, dport);
		/* RFC 6056 3.3.3: min + (next_ephemeral + offset) % num */
		CHECK_EQ_U64(got, (uint16_t)(lo + (counter + off) % num));
	}
	h_close(h);
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_siphash_vectors,
		test_isn_rfc6528,
		test_ephemeral_ports,
	};

	(void)argc;
	return h_test_main(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
