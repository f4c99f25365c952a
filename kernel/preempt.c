/*
 * preempt_enable: drop the count; the scheduler (sched/) decides on the
 * next tick or interrupt exit whether to switch.
 */
#include "kernel/preempt.h"
#include "kernel/timer.h"

void preempt_enable(void)
{
	preempt_enable_no_resched();
}

void sched_tick(void)
{
}
