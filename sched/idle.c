/*
 * Idle loop. Work is checked with interrupts off, and "sti; hlt" is one
 * sequence: an interrupt arriving after the check still ends the HLT
 * (STI's one-instruction interrupt shadow, SDM Vol. 2B STI), so no wake-up
 * is lost between the check and the halt.
 */
#include "sched/idle.h"
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "arch/x86/cpu.h"

void cpu_idle_loop(void)
{
	for (;;) {
		irq_disable();
		if (smp_work_pending()) {
			irq_enable();
			smp_run_pending_work();
			continue;
		}
		irq_enable_and_halt();
	}
}
