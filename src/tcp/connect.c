/*
 * connect.c - active open: source port choice, next hop, SYN (RFC 9293
 * 3.10.1), and the wait for ARP when the next hop is not known yet.
 */
#include <errno.h>

#include "common/seq.h"
#include "io/port.h"
#include "io/steer.h"
#include "net/arp.h"
#include "tcp/cc.h"
#include "tcp/flow.h"
#include "tcp/rtt.h"
#include "tcp/secret.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#if AATCP_WITH_FWD /* hook: forwarding and splice (thesis ch. 5) */
#include "fwd/outlist.h"
#endif

#include <rte_byteorder.h>

#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999

/* With several cores the 4-tuple must also be free on the others (io/steer.h). */
static bool take(struct core *c, const struct port *pt, uint32_t laddr, uint16_t lport,
		 uint32_t raddr, uint16_t rport)
{
	return c->g->n_cores < 2 || steer_claim(pt, laddr, lport, raddr, rport);
}

/* steer_reuse_port()'s question: a TCB of this core holds the 4-tuple. */
static bool tuple_in_use(struct core *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
			 uint16_t rport)
{
	return flow_lookup(c->flows, laddr, lport, raddr, rport) != NULL;
}

#define GUESS_SCAN 256 /* ports looked at past the first unknown one */

/* RFC 6056 3.3.3 (algorithm 3, simple hash-based): each destination
 * starts its search at a secret offset, so ports neither repeat a visible
 * sequence nor tell one destination what another got; next_ephemeral moves
 * on with every try. The port must be free and should bring the replies to
 * this core's queue (io/steer.h): first a port learned to do so, else the
 * first whose queue the port predicts to be ours, else one whose queue is
 * not known yet (its reply teaches it), else any free one (its segments
 * are then steered). */
static uint16_t pick_port(struct core *c, const struct port *pt, uint32_t laddr,
			  uint32_t raddr, uint16_t rport)
{
	const uint32_t num = EPHEMERAL_HI - EPHEMERAL_LO + 1;
	uint32_t offset = (uint32_t)secret_hash(SECRET_PORT, laddr, 0, raddr, rport, 0);
	uint16_t guess = 0, any = 0, np = steer_reuse_port(c, pt, laddr, raddr, rport,
								  tuple_in_use);
	uint32_t since_guess = 0;

	if (np) {
		c->cnt.ports_placed++;
		return np;
	}
	for (uint32_t count = 0; count < num && since_guess < GUESS_SCAN; count++) {
		uint16_t p = (uint16_t)(EPHEMERAL_LO + (c->next_ephemeral + offset) % num);
		c->next_ephemeral++;
		np = rte_cpu_to_be_16(p);
		if (guess)
			since_guess++;
		if (flow_lookup(c->flows, laddr, np, raddr, rport))
			continue;
		int q = steer_predict(pt, laddr, np, raddr, rport);
		if (q == c->id && take(c, pt, laddr, np, raddr, rport)) {
			c->cnt.ports_placed++;
			return np;
		}
		if (q < 0 && !guess)
			guess = np;
		if (!any)
			any = np;
	}
	/* the claims of the two candidates are taken last: first come, first
	 * served between the cores; a lost one falls back to the next */
	if (guess && take(c, pt, laddr, guess, raddr, rport)) {
		c->cnt.ports_unplaced++;
		return guess;
	}
	if (any && any != guess && take(c, pt, laddr, any, raddr, rport)) {
		c->cnt.ports_unplaced++;
		return any;
	}
	/* both taken by another core meanwhile: the first free port */
	for (uint32_t count = 0; count < num; count++) {
		np = rte_cpu_to_be_16((uint16_t)(EPHEMERAL_LO + (c->next_ephemeral++ + offset) % num));
		if (!flow_lookup(c->flows, laddr, np, raddr, rport) &&
		    take(c, pt, laddr, np, raddr, rport)) {
			c->cnt.ports_unplaced++;
			return np;
		}
	}
	return 0;
}

static void wait_arp(struct core *c, struct tcb *t, uint32_t next_hop)
{
	arp_request(c, t->port, next_hop);
	if (!t->on_arp_list) {
		t->on_arp_list = true;
		t->arp_next = c->arp_wait;
		c->arp_wait = t;
	}
}

static uint32_t next_hop_of(struct core *c, const struct tcb *t)
{
	uint32_t nh = t->raddr;

	port_for_dest(c->g, t->raddr, &nh);
	return nh;
}

int tcp_connect(struct core *c, struct tcb *t, uint32_t raddr, uint16_t rport)
{
	uint32_t nh;
	struct port *p = port_for_dest(c->g, raddr, &nh);

	if (!p)
		return -ENETUNREACH;
	t->port = p;
	t->raddr = raddr;
	t->rport = rport;
	if (!t->laddr)
		t->laddr = p->ip;
	if (!t->lport) {
		t->lport = pick_port(c, p, t->laddr, raddr, rport);
		if (!t->lport)
			return -EADDRNOTAVAIL;
	} else if (flow_lookup(c->flows, t->laddr, t->lport, raddr, rport)) {
		return -EADDRINUSE;
	}
	t->iss = tcp_iss(c, t);
	t->snd_una = t->snd_nxt = t->snd_max = t->iss;
	sndbuf_set_seq(t->sb, t->iss + 1);
#if AATCP_WITH_FWD /* hook */
	if (t->out)
		outlist_rebase(t->out, t->iss + 1); /* spliced before connecting */
#endif
	tcp_set_state(c, t, TCPS_SYN_SENT);
	flow_insert(c->flows, t);
	c->cnt.conn_active++;
	t->peer_mac_ok = arp_lookup(nh, &t->peer_mac);
	if (t->peer_mac_ok)
		tcp_send_syn(c, t);
	else {
		wait_arp(c, t, nh);
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
	}
	return 0;
}

void tcp_arp_poll(struct core *c)
{
	struct tcb **pp = &c->arp_wait;

	while (*pp) {
		struct tcb *t = *pp;
		bool done = !t->core || tcb_state(t) != TCPS_SYN_SENT;

		if (!done && arp_lookup(next_hop_of(c, t), &t->peer_mac)) {
			t->peer_mac_ok = true;
			tcp_send_syn(c, t);
			done = true;
		}
		if (!done) {
			arp_request(c, t->port, next_hop_of(c, t));
			pp = &t->arp_next;
			continue;
		}
		*pp = t->arp_next;
		t->on_arp_list = false;
		tcb_release_if_dead(c, t);
	}
}

void tcp_syn_retry(struct core *c, struct tcb *t)
{
	if (t->peer_mac_ok)
		tcp_send_syn(c, t);
	else
		wait_arp(c, t, next_hop_of(c, t));
}
