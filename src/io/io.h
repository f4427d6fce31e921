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
 * TX_BURST frames are queued. The frame's reference passes to the driver.
 * Frames the PMD's TX ring refuses stay queued (in order) and are offered
 * again at the next io_flush(): backpressure, not loss. */
void io_tx(struct core *c, struct port *p, struct rte_mbuf *m);
/* How many more data segments port p's queue takes now; 0 while the TX ring
 * is full (TCP output stops and tries again next iteration). ACKs and
 * control segments may still use the last TXQ_RESERVE slots. */
uint32_t io_tx_room(const struct core *c, const struct port *p);
/* Transmits everything queued on every port (and frames the TX fault
 * injector released); what the PMD does not take stays queued. Returns
 * the frames still queued (the loop is not idle while there are any). */
unsigned io_flush(struct core *c);
/* At teardown, after the last io_flush(): frees frames no ring took. */
void io_tx_discard(struct core *c);
/* Creates the core's fault injectors from the config: 0, or -ENOMEM. */
int io_faults_init(struct core *c);
void io_faults_destroy(struct core *c);

#endif /* AATCP_IO_H */
