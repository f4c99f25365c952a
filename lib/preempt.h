/*
 * Preemption control: while this CPU's preempt_count is non-zero the
 * scheduler does not switch away from the current task involuntarily.
 * Interrupt handlers run with interrupts off and need no count.
 */
#pragma once

#include "lib/percpu.h"

static __always_inline void preempt_disable(void)
{
	this_cpu_inc(preempt_count);
	barrier(); /* compiler only: the critical section stays after the count */
}

void preempt_count_underflow(void) __attribute__((noreturn));

static __always_inline void preempt_enable_no_resched(void)
{
	barrier(); /* compiler only: the critical section stays before the count */
	if (unlikely(PERCPU_GS->preempt_count == 0))
		preempt_count_underflow();
	PERCPU_GS->preempt_count--;
}

/* Reschedule now if one is due and allowed (count 0, interrupts on). */
void preempt_check_resched(void);

/* Drop the count; reschedule now if it reached zero, a reschedule is due,
 * and interrupts are on. Inline: preempt_check_resched() asks need_resched
 * first, so testing it here only spares the call. */
static __always_inline void preempt_enable(void)
{
	preempt_enable_no_resched();
	if (unlikely(this_cpu_read(need_resched)))
		preempt_check_resched();
}
/* The scheduler's function for that (sched/sched.c). */
void preempt_set_resched(void (*fn)(void));

static __always_inline bool preemptible(void)
{
	return this_cpu_read(preempt_count) == 0 && this_cpu_read(irq_depth) == 0;
}
