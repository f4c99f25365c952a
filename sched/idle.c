/*
 * The idle loop (sched/idle.h), which each CPU runs as its idle task once
 * it is up (the idle task itself is made by sched_init_cpu in
 * sched/sched.c, whose top comment has the scheduler's policy and
 * protocols): pending thread-context work, then HLT with interrupts
 * enabled until the next interrupt, and the deferred kernel flush's
 * catch-up on the way out of it.
 */
#include "sched/rq.h"
#include "sched/idle.h"
#include "lib/percpu.h"
#include "arch/cpu.h"
#include "mm/kflush.h"

void cpu_idle_loop(void)
{
	struct rq *rq = this_rq();

	for (;;) {
		irq_disable();
		if (this_cpu_read(need_resched) || READ_ONCE(rq->nr_running)) {
			irq_enable();
			schedule();
			continue;
		}
		this_cpu_write(entry.context, CTX_IDLE);
		irq_enable_and_halt();
		irq_disable();
		kflush_enter_kernel(true);
		irq_enable();
	}
}

void sched_start_cpu(void)
{
	cpu_idle_loop();
}
