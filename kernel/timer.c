/*
 * Per-CPU tick (see timer.h). Each deadline is the previous one plus the
 * period, so the tick does not drift with handler latency; if a tick was
 * missed entirely (the CPU had interrupts off), the next deadline is set
 * from now.
 */
#include "kernel/timer.h"
#include "sched/task.h"
#include "kernel/percpu_area.h"
#include "lib/cmdline.h"
#include "kernel/lockup.h"
#include "kernel/where.h"
#include "lib/time.h"
#include "arch/x86/apic.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"

int tick_hz = 100;
KSWITCH_INT(tick_hz, "hz", "timer tick rate per CPU", 10, 10000);

static uint64_t period_tsc;
static uint64_t next_deadline[NR_CPUS];

uint64_t tick_period_ns(void)
{
	return 1000000000ull / (uint64_t)tick_hz;
}

static void arm_next(void)
{
	uint32_t cpu = this_cpu_id();
	uint64_t now = rdtsc();
	uint64_t next = next_deadline[cpu] + period_tsc;

	if (next <= now)
		next = now + period_tsc;
	next_deadline[cpu] = next;
	apic_timer_arm_tsc(next);
}

static void timer_irq(struct trap_frame *tf)
{
	this_cpu_inc(counters[CNT_TIMER_IRQ]);
	where_sample(tf);
	if (this_cpu_id() == 0)
		where_idle_check();
	lockup_tick();
	sched_tick();
	arm_next();
}

void timer_init(void)
{
	period_tsc = ns_to_tsc(tick_period_ns());
	irq_register(VEC_TIMER, timer_irq);
}

void timer_cpu_init(void)
{
	lockup_touch();
	apic_timer_init();
	next_deadline[this_cpu_id()] = rdtsc();
	arm_next();
}
