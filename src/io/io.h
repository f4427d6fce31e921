/*
 * io.h - burst RX/TX for one core's queue pair on each port, through the
 * port's fault injector when one is configured.
 */
#ifndef AATCP_IO_H
#define AATCP_IO_H

#include "core/core.h"

/* Receives up to max frames (<= RX_BURST) from port p's queue for core c. */
uint16_t io_rx(struct core *c, struct port *p, struct rte_mbuf **pkts, uint16_t max);
/* Queues one frame for transmission; sent at the next io_flush() or when
 * TX_BURST frames are queued. The frame's reference passes to the driver. */
void io_tx(struct core *c, struct port *p, struct rte_mbuf *m);
/* Transmits everything queued on every port (and frames the TX fault
 * injector released). */
void io_flush(struct core *c);
/* Creates the core's fault injectors from the config. */
int io_faults_init(struct core *c);
void io_faults_destroy(struct core *c);

#endif /* AATCP_IO_H */
