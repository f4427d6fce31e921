/*
 * input.h - TCP segment arrival (RFC 9293 section 3.10.7), with RFC 5961's
 * RST/SYN/ACK acceptance rules and RFC 7323's PAWS.
 */
#ifndef AATCP_TCP_INPUT_H
#define AATCP_TCP_INPUT_H

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "core/core.h"
#include "net/ipv4.h" /* tcp_input(): declared by the layer that calls it */

#endif /* AATCP_TCP_INPUT_H */
