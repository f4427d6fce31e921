/* ipv4.c - see ipv4.h. */
#include "net/ipv4.h"

#include <rte_byteorder.h>

#include "net/csum.h"
#include "net/icmp.h"

static void drop(struct core *c, struct rte_mbuf *m, enum drop_reason r)
{
	count_drop(&c->cnt, r);
	rte_pktmbuf_free(m);
}

static bool header_checksum_ok(const struct port *p, const struct rte_mbuf *m,
			       const struct rte_ipv4_hdr *ih, uint16_t hlen)
{
	if (p->rx_csum) {
		uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			return true;
		if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
	}
	return csum_fold(csum_add(ih, hlen, 0)) == 0xffff;
}

void ipv4_input(struct core *c, struct port *p, struct rte_mbuf *m,
		const struct rte_ether_addr *src_mac)
{
	struct rte_ipv4_hdr *ih;
	uint16_t len = rte_pktmbuf_data_len(m), hlen, tlen;

	if (len < sizeof(*ih))
		return drop(c, m, DROP_ip_short);
	ih = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if ((ih->version_ihl >> 4) != 4)
		return drop(c, m, DROP_ip_version);
	hlen = (uint16_t)((ih->version_ihl & 0xf) * 4);
	if (hlen < sizeof(*ih) || hlen > len)
		return drop(c, m, DROP_ip_hdr_len);
	tlen = rte_be_to_cpu_16(ih->total_length);
	if (tlen < hlen || tlen > len)
		return drop(c, m, DROP_ip_len);
	if (!header_checksum_ok(p, m, ih, hlen))
		return drop(c, m, DROP_ip_csum);
	/* RFC 1122 3.3.2 allows a host not to reassemble; we count and drop:
	 * TCP peers use path MTU discovery and DF, so fragments are rare. */
	if (ih->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						   RTE_IPV4_HDR_OFFSET_MASK))
		return drop(c, m, DROP_ip_frag);
	if (ih->dst_addr != p->ip)
		return drop(c, m, DROP_ip_not_for_us);
	/* Ethernet pads short frames to 60 bytes: the IP length is the truth. */
	if (tlen < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - tlen));
	switch (ih->next_proto_id) {
	case IPPROTO_TCP:
		tcp_input(c, p, m, ih, hlen, src_mac);
		break;
	case IPPROTO_ICMP:
		icmp_input(c, p, m, hlen, src_mac);
		break;
	default:
		drop(c, m, DROP_ip_proto);
	}
}

struct rte_ipv4_hdr *ipv4_prepend(struct rte_mbuf *m, const struct port *p,
				  uint32_t src, uint32_t dst, uint8_t proto,
				  uint16_t l4len)
{
	struct rte_ipv4_hdr *ih =
		(struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ih));

	if (!ih)
		return NULL;
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->type_of_service = 0;
	ih->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ih) + l4len));
	ih->packet_id = 0;
	ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ih->time_to_live = 64;
	ih->next_proto_id = proto;
	ih->hdr_checksum = 0;
	ih->src_addr = src;
	ih->dst_addr = dst;
	if (p->tx_ip_csum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l3_len = sizeof(*ih);
	} else {
		ih->hdr_checksum = csum_finish(csum_add(ih, sizeof(*ih), 0));
	}
	return ih;
}
