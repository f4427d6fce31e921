/*
 * steer.h - flow steering between cores. Each core owns the flows whose
 * flow_hash() modulo the number of cores is its index (tcp/connect.c picks
 * source ports so that a core's active flows hash to it). A TCP segment that
 * the NIC (RSS) or af_packet's fanout delivered to another core is passed to
 * the owner through a ring, so a flow's state is only ever touched by one
 * network thread, whatever hash the hardware uses.
 */
#ifndef AATCP_STEER_H
#define AATCP_STEER_H

#include <stdbool.h>

#include "core/core.h"

int steer_init(struct core *c);
void steer_fini(struct core *c);
/* True when m (an Ethernet frame) belongs to another core and was queued
 * there (or dropped and counted when that core's ring is full). */
bool steer_away(struct core *c, struct rte_mbuf *m);
/* Frames other cores passed to this one; returns how many (<= max). */
unsigned steer_receive(struct core *c, struct rte_mbuf **pkts, unsigned max);

#endif /* AATCP_STEER_H */
