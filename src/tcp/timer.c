/* timer.c - see timer.h. */
#include "tcp/timer.h"

#include <errno.h>
#include <stdlib.h>

#include "core/core.h"

#define SLOT_US 1000u
#define N_SLOTS 4096u /* 4 s per turn; later deadlines wait for their round */

struct timer_wheel {
	struct tcb *slots[N_SLOTS];
	uint64_t busy[N_SLOTS / 64]; /* bit s set: slots[s] holds a TCB */
	uint64_t done_ms; /* every slot up to this millisecond has been run */
};

struct timer_wheel *timer_create_wheel(uint64_t now_us)
{
	struct timer_wheel *w = calloc(1, sizeof(*w));

	if (w)
		w->done_ms = now_us / SLOT_US;
	return w;
}

int timer_reset_wheel(struct timer_wheel *w, uint64_t now_us)
{
	/* an empty slot has its bit clear: no bit, no TCB filed */
	for (uint32_t i = 0; i < N_SLOTS / 64; i++)
		if (w->busy[i])
			return -EBUSY;
	w->done_ms = now_us / SLOT_US;
	return 0;
}

void timer_destroy_wheel(struct timer_wheel *w)
{
	free(w);
}

static uint64_t earliest(const struct tcb *t)
{
	uint64_t e = 0;

	for (int i = 0; i < TT_MAX; i++)
		if (t->timer_at[i] && (!e || t->timer_at[i] < e))
			e = t->timer_at[i];
	return e;
}

void timer_unfile(struct core *c, struct tcb *t)
{
	struct timer_wheel *w = c->timers;

	if (!t->timer_slot_at)
		return;
	uint32_t slot = (uint32_t)((t->timer_slot_at / SLOT_US) % N_SLOTS);

	if (t->timer_prev)
		t->timer_prev->timer_next = t->timer_next;
	else
		w->slots[slot] = t->timer_next;
	if (!w->slots[slot])
		w->busy[slot / 64] &= ~(1ull << (slot % 64));
	if (t->timer_next)
		t->timer_next->timer_prev = t->timer_prev;
	t->timer_next = t->timer_prev = NULL;
	t->timer_slot_at = 0;
}

static void file(struct core *c, struct tcb *t, uint64_t at)
{
	struct timer_wheel *w = c->timers;
	uint64_t ms = at / SLOT_US;

	/* Never file into a slot the wheel has already passed. */
	if (ms <= w->done_ms)
		ms = w->done_ms + 1;
	uint32_t slot = (uint32_t)(ms % N_SLOTS);
	struct tcb **head = &w->slots[slot];
	w->busy[slot / 64] |= 1ull << (slot % 64);
	t->timer_slot_at = ms * SLOT_US;
	t->timer_prev = NULL;
	t->timer_next = *head;
	if (*head)
		(*head)->timer_prev = t;
	*head = t;
}

void timer_arm(struct core *c, struct tcb *t, enum tcb_timer which, uint64_t at_us)
{
	t->timer_at[which] = at_us;
	if (t->timer_slot_at && t->timer_slot_at <= at_us)
		return; /* an earlier deadline is filed: checked then */
	timer_unfile(c, t);
	/* File under the earliest pending deadline, not just this one: a TCB
	 * that is not filed (run_slot() unfiles it before firing) may still
	 * have an earlier timer armed, e.g. the idle timer re-arming itself
	 * 30 s ahead while an RTO is pending would otherwise hide that RTO
	 * until the idle slot, and RFC 6298 5.1 wants the retransmission
	 * timer running whenever data is outstanding. */
	file(c, t, earliest(t));
}

void timer_cancel(struct tcb *t, enum tcb_timer which)
{
	t->timer_at[which] = 0; /* lazily: the filed entry finds nothing due */
}

static void run_slot(struct core *c, uint64_t ms)
{
	struct timer_wheel *w = c->timers;
	struct tcb *t = w->slots[ms % N_SLOTS];

	while (t) {
		struct tcb *next = t->timer_next;

		if (t->timer_slot_at / SLOT_US == ms) {
			timer_unfile(c, t);
			for (int i = 0; i < TT_MAX; i++) {
				if (t->timer_at[i] && t->timer_at[i] <= c->now_us) {
					t->timer_at[i] = 0;
					tcp_timer_fire(c, t, (enum tcb_timer)i);
					/* the TCB may be gone (freed) after a fire */
					if (!t->core)
						break;
				}
			}
			if (t->core && !t->timer_slot_at) {
				uint64_t e = earliest(t);
				if (e)
					file(c, t, e);
			}
			/* next may have been unfiled by the fire: restart */
			next = w->slots[ms % N_SLOTS];
			while (next && next->timer_slot_at / SLOT_US != ms)
				next = next->timer_next;
		}
		t = next;
	}
}

/* The first millisecond in (after, until] whose slot holds a TCB (filed
 * for that turn of the wheel or a later one); 0 when there is none. One
 * turn is enough: past it the same slots come round again. */
static uint64_t next_busy(const struct timer_wheel *w, uint64_t after, uint64_t until)
{
	if (until - after > N_SLOTS)
		until = after + N_SLOTS;
	for (uint64_t ms = after + 1; ms <= until;) {
		uint32_t slot = (uint32_t)(ms % N_SLOTS);
		uint64_t bits = w->busy[slot / 64] >> (slot % 64);
		if (bits) {
			ms += (uint64_t)__builtin_ctzll(bits);
			return ms <= until ? ms : 0;
		}
		ms += 64 - slot % 64;
	}
	return 0;
}

void timer_run(struct core *c)
{
	struct timer_wheel *w = c->timers;
	uint64_t now_ms = c->now_us / SLOT_US;

	/* Runs the slots in order, skipping the empty ones: a loop that
	 * slept (or a clock that jumped) does not walk every millisecond. */
	while (w->done_ms < now_ms) {
		uint64_t ms = next_busy(w, w->done_ms, now_ms);
		if (!ms) {
			w->done_ms = now_ms;
			break;
		}
		w->done_ms = ms;
		run_slot(c, ms);
	}
}
