/*
 * stats.c - counters out: one line per port and core every second when
 * `stat_print` names the port, and a JSON file at mtcp_destroy() when
 * `stats_file` is set (read by the toolkit and the tests: drops by reason,
 * retransmissions, and packet buffers not returned to their pools).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "core/core.h"

void stats_print(struct core *c)
{
	static _Thread_local struct counters last;
	const struct counters *n = &c->cnt;
	uint64_t drops = 0;

	if (!c->g->any_stat_print)
		return;
	for (int i = 0; i < DROP_MAX; i++)
		drops += n->drops[i];
	fprintf(stderr,
		"[core %d] rx %lu pkt/s %.3f Gbit/s | tx %lu pkt/s %.3f Gbit/s | drops %lu "
		"retx %lu | flows %u\n",
		c->id, (unsigned long)(n->rx_pkts - last.rx_pkts),
		(double)(n->rx_bytes - last.rx_bytes) * 8 / 1e9,
		(unsigned long)(n->tx_pkts - last.tx_pkts),
		(double)(n->tx_bytes - last.tx_bytes) * 8 / 1e9, (unsigned long)drops,
		(unsigned long)n->retransmits, c->tcbs_used);
	last = *n;
}

static void write_counters(FILE *f, const struct counters *n)
{
#define F(name) fprintf(f, "\"%s\": %lu, ", #name, (unsigned long)n->name)
	F(rx_pkts); F(rx_bytes); F(tx_pkts); F(tx_bytes);
	F(tcp_rx_segs); F(tcp_tx_segs); F(tcp_tx_data_segs);
	F(retransmits); F(fast_retransmits); F(rto_expired);
	F(tlp_probes); F(tlp_recoveries); F(rack_lost); F(lost_retransmits);
	F(dupacks_sent); F(dupacks_rcvd); F(ooo_segs); F(sack_blocks_sent);
	F(conn_active); F(conn_passive); F(conn_closed); F(conn_reset_rcvd);
	F(rst_sent); F(challenge_acks); F(zero_window_probes); F(window_updates);
	F(syncookies_sent); F(syncookies_ok); F(timewait_recycled); F(dsacks_sent);
	F(challenge_acks_limited); F(keepalive_probes); F(conn_timedout);
	F(arp_requests); F(arp_replies); F(icmp_echo);
	F(fault_dropped); F(fault_duped); F(fault_reordered); F(fault_corrupted);
	F(fault_delayed); F(fwd_segs); F(splice_segs); F(steered);
	F(tx_ring_full); F(tx_backpressure); F(fault_tx_refused);
	F(busy_tsc); F(idle_tsc); F(iterations); F(busy_iterations);
	F(rx_tsc); F(cmd_timer_tsc); F(output_tsc); F(flush_tsc); F(events_tsc);
	F(app_in_wake_tsc);
	F(steer_taken); F(ports_placed); F(ports_unplaced);
#undef F
	fprintf(f, "\"drops\": {");
	for (int i = 0; i < DROP_MAX; i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", drop_reason_names[i],
			(unsigned long)n->drops[i]);
	fprintf(f, "}");
}

int stats_write(const char *path)
{
	struct aatcp_global *g = &aatcp_g;
	FILE *f = fopen(path, "w");
	unsigned long total = 0, in_use = 0;

	if (!f)
		return -errno;
	for (int i = 0; i < g->n_cores; i++) {
		if (!g->pools[i])
			continue;
		total += g->pools[i]->size;
		in_use += g->pools[i]->size - rte_mempool_avail_count(g->pools[i]);
	}
	/* tsc_hz: the unit of the *_tsc counters (the poll loop's cycles) */
	fprintf(f, "{\"mbufs_total\": %lu, \"mbufs_in_use\": %lu, \"mbufs_port_held\": %lu, "
		"\"mbufs_port_slack\": %lu, \"tsc_hz\": %lu, \"cores\": [", total, in_use,
		g->mbufs_port_held, g->mbufs_port_slack, (unsigned long)rte_get_tsc_hz());
	for (int i = 0; i < g->n_cores; i++) {
		struct core *c = g->cores[i] ? g->cores[i] : g->finished[i];
		if (!c)
			continue;
		fprintf(f, "%s{\"core\": %d, \"tcbs_in_use\": %u, ", i ? ", " : "", i, c->tcbs_used);
		write_counters(f, &c->cnt);
		fprintf(f, "}");
	}
	fprintf(f, "], \"ports\": [");
	for (int i = 0; i < g->n_ports; i++) {
		struct rte_eth_stats es, d_es;
		memset(&es, 0, sizeof(es));
		for (uint16_t d = 0; d < g->ports[i].n_devs; d++) {
			memset(&d_es, 0, sizeof(d_es));
			rte_eth_stats_get(g->ports[i].devs[d], &d_es);
			es.ipackets += d_es.ipackets;
			es.opackets += d_es.opackets;
			es.imissed += d_es.imissed;
			es.ierrors += d_es.ierrors;
			es.oerrors += d_es.oerrors;
			es.rx_nombuf += d_es.rx_nombuf;
		}
		/* imissed: frames the port (or the kernel ring under af_packet)
		 * dropped before the stack saw them */
		fprintf(f, "%s{\"name\": \"%s\", \"ipackets\": %lu, \"opackets\": %lu, "
			"\"imissed\": %lu, \"ierrors\": %lu, \"oerrors\": %lu, \"rx_nombuf\": %lu}",
			i ? ", " : "", g->ports[i].name, (unsigned long)es.ipackets,
			(unsigned long)es.opackets, (unsigned long)es.imissed,
			(unsigned long)es.ierrors, (unsigned long)es.oerrors,
			(unsigned long)es.rx_nombuf);
	}
	fprintf(f, "]}\n");
	return fclose(f);
}
