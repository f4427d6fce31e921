// SPDX-License-Identifier: GPL-2.0
/*
 * loss_drop.c - a tc cls_bpf program (clsact ingress) that drops TCP data
 * segments (of one port, or all), the same way for every sender on the link
 * (the kernel here has no netem). Compiled per run by experiments/loss.py:
 *
 *   clang -O2 -g -target bpf -DMODE=1 -DSEED=7 -DPPM=10000 \
 *         -DTOTAL=1048576 -DTAIL=2 -I/usr/include/x86_64-linux-gnu \
 *         -c loss_drop.c -o loss_drop.o
 *   tc qdisc add dev IF clsact
 *   tc filter add dev IF ingress bpf direct-action obj loss_drop.o sec tc
 *
 * MODE 1 (random): each data segment (first transmission or not) is
 *   dropped with probability PPM / 1e6, from a xorshift32 generator seeded
 *   with SEED and stepped once per data segment: the n-th data segment on
 *   the link meets the same decision whoever sends it.
 * MODE 0 (none): nothing is dropped (the same program on the path, so the
 *   runs without loss pay the same per-packet cost as those with loss).
 * MODE 2 (tail): the first TAIL data segments among the last TAIL
 *   segments of a TOTAL-byte stream (MSS 1448) are dropped once (their
 *   retransmissions pass): the end of the last flight is lost, nothing
 *   after it but the FIN. The stream's first byte is the SYN's sequence
 *   number + 1.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef MODE
#define MODE 1
#endif
#ifndef SEED
#define SEED 1
#endif
#ifndef PPM
#define PPM 10000
#endif
#ifndef PORT
#define PORT 0 /* 0: every TCP segment on the link */
#endif
#ifndef TOTAL
#define TOTAL 1048576
#endif
#ifndef TAIL
#define TAIL 2
#endif

/* 0: generator state, 1: stream base (SYN seq + 1), 2: tail drops done,
 * 3: data segments seen, 4: dropped */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u32);
} state SEC(".maps");

static __always_inline __u32 *slot(__u32 k)
{
	return bpf_map_lookup_elem(&state, &k);
}

static __always_inline int drop_random(void)
{
	__u32 *x = slot(0);

	if (!x)
		return 0;
	__u32 v = *x ? *x : (SEED ? SEED : 1);
	v ^= v << 13;
	v ^= v >> 17;
	v ^= v << 5;
	*x = v;
	return (__u64)v * 1000000ull >> 32 < PPM;
}

static __always_inline int drop_tail(__u32 seq, __u32 len)
{
	__u32 *base = slot(1), *done = slot(2);

	if (!base || !done || *done >= TAIL)
		return 0;
	__u32 end = seq + len - *base;
	/* the segment ending the stream and the TAIL - 1 MSS-sized ones
	 * before it (a segment ends a multiple of MSS into the stream or at
	 * its end) */
	if (end + (__u32)(TAIL - 1) * 1448u < (__u32)TOTAL || end > (__u32)TOTAL)
		return 0;
	__sync_fetch_and_add(done, 1);
	return 1;
}

SEC("tc")
int loss_drop(struct __sk_buff *skb)
{
	/* a frame sent from an AF_PACKET ring (DPDK's net_af_packet) may hold
	 * only its Ethernet header in the linear part: pull the headers in */
	bpf_skb_pull_data(skb, skb->len < 134 ? skb->len : 134);
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP)
		return TC_ACT_OK;
	struct tcphdr *th = (void *)ip + ip->ihl * 4;
	if ((void *)(th + 1) > end)
		return TC_ACT_OK;
	if (PORT && th->dest != bpf_htons(PORT) && th->source != bpf_htons(PORT))
		return TC_ACT_OK;
	__u32 seq = bpf_ntohl(th->seq);
	if (th->syn) {
		__u32 *base = slot(1);
		if (base)
			*base = seq + 1;
		return TC_ACT_OK;
	}
	__u32 len = bpf_ntohs(ip->tot_len) - ip->ihl * 4 - th->doff * 4;
	if (!len || len > 65535)
		return TC_ACT_OK;
	__u32 *seen = slot(3), *dropped = slot(4);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	int drop = MODE == 1 ? drop_random() : MODE == 2 ? drop_tail(seq, len) : 0;
	if (drop && dropped)
		__sync_fetch_and_add(dropped, 1);
	return drop ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
