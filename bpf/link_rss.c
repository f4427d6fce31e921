// SPDX-License-Identifier: GPL-2.0
/*
 * link_rss.c - a tc cls_bpf program (clsact egress) on the Linux end of a
 * multi-queue veth that puts every IPv4/TCP frame on the peer's RX queue an
 * RSS NIC would: Toeplitz with the stack's key over (source, destination
 * address and port), modulo QUEUES (src/io/toeplitz.h, the function the
 * stack predicts with). The lab's `rss: true` links (docs/toolkit.md) load
 * it; the toolkit compiles it:
 *
 *   clang -O2 -g -target bpf -DQUEUES=2 -I<repo>/src -I/usr/include/<arch>-linux-gnu \
 *         -c link_rss.c -o link_rss.o
 *   tc qdisc add dev IF clsact
 *   tc filter add dev IF egress bpf direct-action obj link_rss.o sec tc
 *
 * A veth hands a frame to the RX queue of its peer whose number is the
 * frame's TX queue. The egress hook runs before the TX queue is picked, and
 * the pick (netdev_pick_tx -> skb_tx_hash) keeps the queue a frame "was
 * received on", stored as queue_mapping = queue + 1, as forwarding does, as
 * long as the device has no XPS map (veths get none). Frames other than
 * IPv4/TCP keep the kernel's choice.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "io/toeplitz.h"

#ifndef QUEUES
#define QUEUES 2
#endif

SEC("tc")
int link_rss(struct __sk_buff *skb)
{
	const __u8 key[TOEPLITZ_KEY_LEN] = TOEPLITZ_KEY_INIT;

	/* a frame sent from an AF_PACKET or AF_XDP ring may hold only its
	 * Ethernet header in the linear part: pull the headers in */
	bpf_skb_pull_data(skb, skb->len < 74 ? skb->len : 74);
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl < 5 ||
	    (ip->frag_off & bpf_htons(0x3fff))) /* a fragment: no ports to hash */
		return TC_ACT_OK;
	struct tcphdr *th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > end)
		return TC_ACT_OK;
	unsigned q = toeplitz_queue(key, ip->saddr, th->source, ip->daddr, th->dest, QUEUES);
	/* cb[0]: the queue, for BPF_PROG_TEST_RUN (tc's scratch area) */
	skb->cb[0] = q;
	skb->queue_mapping = q + 1;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
