/*
 * Preemption control (lib/preempt.h). Rescheduling itself is the
 * scheduler's: it registers the function to call (preempt_set_resched)
 * when the count drops to zero with a reschedule due.
 */
#include "lib/preempt.h"
#include "lib/panic.h"
#include "arch/cpu.h"

static void (*resched)(void);

void preempt_set_resched(void (*fn)(void))
{
	resched = fn;
}

void preempt_count_underflow(void)
{
	panic("preempt_count underflow (an unlock or preempt_enable without its pair)");
}

void preempt_check_resched(void)
{
	if (this_cpu_read(need_resched) && preemptible() && irqs_enabled() && resched)
		resched();
}
