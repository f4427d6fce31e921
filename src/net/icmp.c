/* icmp.c - see icmp.h. Echo replies reuse the request's buffer. */
#include "net/icmp.h"

#include <rte_icmp.h>
#include <rte_ip.h>

#include "io/io.h"
#include "net/csum.h"
#include "net/eth.h"
#include "net/ipv4.h"

void icmp_input(struct core *c, struct port *p, struct rte_mbuf *m, uint16_t hlen,
		const struct rte_ether_addr *src_mac)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t len = rte_pktmbuf_data_len(m) - hlen;
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((char *)ih + hlen);
	struct rte_ether_addr dst = *src_mac;

	if (len < sizeof(*ic) || csum_fold(csum_add(ic, len, 0)) != 0xffff) {
		count_drop(&c->cnt, DROP_icmp_bad);
		rte_pktmbuf_free(m);
		return;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		rte_pktmbuf_free(m); /* other ICMP: nothing to do, not an error */
		return;
	}
	uint32_t peer = ih->src_addr;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = csum_finish(csum_add(ic, len, 0));
	rte_pktmbuf_adj(m, hlen);
	if (!ipv4_prepend(m, p, p->ip, peer, IPPROTO_ICMP, len) ||
	    !eth_prepend(m, p, &dst, RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	c->cnt.icmp_echo++;
	io_tx(c, p, m);
}
