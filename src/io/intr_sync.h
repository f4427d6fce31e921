/*
 * intr_sync.h - run a function on the EAL interrupt thread and wait for it.
 *
 * DPDK runs PMD control handlers (net_memif's control-channel messages, link
 * events) on one EAL thread, and some PMDs do not guard their device against
 * a close from another thread: net_memif's handler for a peer's disconnect
 * message tears the device's regions down, and rte_eth_dev_close() on the
 * application's thread releases them at the same moment (both ends of a
 * memif link closing together). Closing devices from the interrupt thread
 * itself puts the close between two handlers, never beside one.
 */
#ifndef AATCP_INTR_SYNC_H
#define AATCP_INTR_SYNC_H

/*
 * Runs fn(arg) on the interrupt thread and returns after it has run. If the
 * thread cannot take it (no alarm could be set, or it did not run within
 * timeout_us: logged), fn runs on the calling thread instead; it runs
 * exactly once either way.
 */
void intr_thread_run(void (*fn)(void *), void *arg, unsigned int timeout_us);

/*
 * Parks the interrupt thread for good, inside a callback of an interrupt
 * source of our own, and returns once it is parked (or after timeout_us,
 * logged). Called just before rte_eal_cleanup(): DPDK 22.11 unmaps its
 * memory there without stopping the interrupt thread, which would otherwise
 * go on walking interrupt handles that lived in that memory. A parked thread
 * walks nothing, and the cleanup never waits on our source (it unregisters
 * only the alarm source, which is idle while ours runs).
 */
void intr_thread_park(unsigned int timeout_us);

#endif
