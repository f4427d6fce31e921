/*
 * loop.h - the network thread: its loop and the commands it runs
 * (docs/architecture.md "Threads and shared state"). It sits above every
 * protocol layer and calls them; the application side (api/) queues the
 * commands.
 */
#ifndef AATCP_CORE_LOOP_H
#define AATCP_CORE_LOOP_H

#include <stdint.h>

#include "core/core.h"

/* Application thread: queue a command for the network thread (waits while
 * the ring is full; the network thread drains it every iteration). */
void cmd_push(struct core *c, const struct cmd *cmd);
/* Network thread: run the queued commands; returns how many. */
int cmd_run(struct core *c);

/* One iteration of the network thread's loop at time now_us (netloop.c);
 * returns how much work it found. Tests drive a core with it directly. */
int net_iteration(struct core *c, uint64_t now_us);
/* The network thread's body (pthread start routine); arg: the core. */
void *net_main(void *arg);

#endif /* AATCP_CORE_LOOP_H */
