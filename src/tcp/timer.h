/*
 * timer.h - one hashed timing wheel per core for every TCB timer (RTO,
 * delayed ACK, persist, TIME_WAIT, idle). A TCB is filed once, under its
 * earliest deadline; arming a later timer costs nothing (it is checked when
 * the earlier one fires), arming an earlier one refiles it. Millisecond
 * slots: TCP timers need no finer grain (the minimum RTO is 200 ms and the
 * delayed ACK timer a few ms). A bitmap marks the slots holding a TCB, so a
 * long gap between two runs costs its deadlines, not its milliseconds.
 */
#ifndef AATCP_TIMER_H
#define AATCP_TIMER_H

#include <stdint.h>

#include "tcp/tcb.h"

struct timer_wheel;

struct timer_wheel *timer_create_wheel(uint64_t now_us);
void timer_destroy_wheel(struct timer_wheel *w);
/* Restarts an empty wheel at now_us: 0, or -EBUSY when a TCB is filed. */
int timer_reset_wheel(struct timer_wheel *w, uint64_t now_us);

/* Arms timer `which` of t at absolute time at_us. */
void timer_arm(struct core *c, struct tcb *t, enum tcb_timer which, uint64_t at_us);
void timer_cancel(struct tcb *t, enum tcb_timer which);
/* Removes t from the wheel (before it is freed). */
void timer_unfile(struct core *c, struct tcb *t);
/* Fires every due timer: calls tcp_timer_fire(c, t, which) for each. */
void timer_run(struct core *c);

/* Implemented by tcp/: handles an expired timer. */
void tcp_timer_fire(struct core *c, struct tcb *t, enum tcb_timer which);

#endif /* AATCP_TIMER_H */
