/*
 * steer.h - which core owns a flow, and the rings that pass a segment to
 * its owner when the port delivered it to another core.
 *
 * Placement rule (docs/architecture.md "Cores and flow placement"): a flow
 * belongs to the core that created its TCB. A passive flow is created by the
 * core whose RX queue received the SYN; every port type hashes the incoming
 * 4-tuple deterministically (NIC RSS, af_packet's fanout hash), so the
 * flow's later segments arrive on that same queue. An active flow is created
 * by the calling core, which picks its source port so that the replies come
 * to its own queue: exactly where the port's hash is ours (RSS with our key
 * and redirection table, steer_predict()), by learning where replies of a
 * 4-tuple arrived where it is not (af_packet: the kernel's hash has a random
 * per-boot seed).
 *
 * A segment for which the core it arrived on has no TCB (and which is not a
 * SYN, a new passive flow of that core) walks the ring of cores: each core
 * looks it up in its own flow table; the first that has the flow takes it;
 * when it comes back to the core it arrived on, nobody has it and that core
 * answers it (RST, SYN cookie, ...). With two cores a foreign segment makes
 * one hop. The rings live from mtcp_init() to mtcp_destroy(), so a core
 * never enqueues into a freed ring, whatever order the contexts stop in.
 */
#ifndef AATCP_STEER_H
#define AATCP_STEER_H

#include <stdbool.h>

#include "core/core.h"

/* Placement of incoming flows on a port's RX queues (struct port.placement). */
enum steer_placement {
	PLACE_SINGLE,  /* one queue: nothing to place */
	PLACE_RSS,     /* our RSS key and redirection table, or a link that hashes
			* like one (port.<name>.link_hash): steer_predict() is exact */
	PLACE_LEARNED, /* a deterministic hash we cannot compute (af_packet fanout):
			* passive flows exact, active flows learned per 4-tuple */
};

/* The Toeplitz key programmed into RSS ports (Microsoft's RSS verification
 * key, so the software hash can be checked against its published vectors). */
extern const uint8_t steer_rss_key[40]; /* io/toeplitz.h TOEPLITZ_KEY_INIT */

/* Rings between the cores: mtcp_init() creates them (after the ports),
 * mtcp_destroy() frees them after every network thread stopped. 0, or
 * -rte_errno when a ring cannot be created. */
int steer_global_init(struct aatcp_global *g);
void steer_global_fini(struct aatcp_global *g);
/* Per-core state (the learned source ports); called by the core itself. */
int steer_init(struct core *c);
void steer_fini(struct core *c);

/* The 4-tuple of an IPv4/TCP frame from our point of view (local = its
 * destination), network byte order, and its flags. */
struct steer_key {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t flags;
};
/* false for anything but IPv4/TCP (ARP, ICMP and malformed frames are
 * handled wherever they arrive). */
bool steer_key_of(const struct rte_mbuf *m, struct steer_key *k);
/* Passes m (made `hops` hops so far) to the next live core after c; true
 * when it went (or was dropped and counted), false when it is back home. */
bool steer_pass_on(struct core *c, struct rte_mbuf *m, unsigned hops);
/* Frames other cores passed to this one, each with the hops it made. */
unsigned steer_dequeue(struct core *c, struct rte_mbuf **pkts, unsigned *hops,
		       unsigned max);
/* The owner of an active open in SYN-SENT saw segment k (of frame m) arrive
 * on queue `queue`: a SYN,ACK tells where this 4-tuple lands (learned
 * placement). */
void steer_learn_arrival(struct core *c, const struct rte_mbuf *m,
			 const struct steer_key *k, int queue);
/* The segment steering itself, which needs the flow tables, is one layer up:
 * tcp/placement.h. */

/* The RX queue on which replies of the flow (local laddr:lport, remote
 * raddr:rport, network byte order) arrive on port p: exact for PLACE_RSS,
 * learned for PLACE_LEARNED, -1 when not known. */
int steer_predict(const struct port *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
		  uint16_t rport);
/* Toeplitz hash of an IPv4/TCP segment from raddr:rport to laddr:lport as an
 * RSS port computes it (RSS hash input order: source, destination). */
uint32_t steer_toeplitz(uint32_t raddr, uint16_t rport, uint32_t laddr, uint16_t lport,
			bool l4);

/* An active open takes the 4-tuple: false when a TCB of some core holds it. */
bool steer_claim(const struct port *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport);
/* The TCB of a 4-tuple is freed (tcp/tcb.c): an active open's claim ends, and
 * a port whose replies landed on this core's queue is kept for reuse. */
void steer_release(struct core *c, const struct port *p, uint32_t laddr, uint16_t lport,
		   uint32_t raddr, uint16_t rport);
/* Whether a TCB of this core holds the 4-tuple (tcp/connect.c passes one). */
typedef bool (*steer_in_use_fn)(struct core *c, uint32_t laddr, uint16_t lport,
				uint32_t raddr, uint16_t rport);
/* Source port for an active open from this core to raddr:rport: a port freed
 * a while ago whose replies land here and not in_use, claimed; else 0
 * (tcp/connect.c scans). */
uint16_t steer_reuse_port(struct core *c, const struct port *p, uint32_t laddr,
			  uint32_t raddr, uint16_t rport, steer_in_use_fn in_use);

#endif /* AATCP_STEER_H */
