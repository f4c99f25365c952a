/*
 * Panic: one report, then the machine stops with the failure verdict.
 *
 * The first CPU to panic owns the console. It prints the message, the trap
 * frame if there is one, and a symbolized backtrace; then it stops every
 * other CPU, asking each in turn to print its own backtrace, and ends the
 * machine. A CPU that panics while another panic is in progress stops
 * quietly.
 *
 * What only the layers above know (how a trap frame looks, how to stop the
 * other CPUs, how to end the machine) comes through struct panic_ops, which
 * the boot code registers first thing (panic_set_ops). Before that, a panic
 * prints and halts this CPU.
 */
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "lib/ksyms.h"
#include "lib/percpu.h"
#include "arch/cpu.h"

volatile int panic_in_progress;
static const struct panic_ops *ops;

void panic_set_ops(const struct panic_ops *o)
{
	ops = o;
}

static __noreturn void halt_here(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

bool backtrace_plausible_frame(uint64_t rbp)
{
	/* Frames live in the kernel half, 8-byte aligned. */
	return rbp >= 0xffff800000000000ull && !(rbp & 7);
}

bool backtrace_frame_readable(uint64_t rbp)
{
	/* A chain through unmapped memory (often why the kernel crashed)
	 * faulted in the report, and the nested panic halted: no end of the
	 * report, no verdict (found in review; death test bad-frame-chain). */
	return backtrace_plausible_frame(rbp) && (!ops || !ops->readable || ops->readable(rbp, 16));
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	kprintf("  backtrace:\n");
	for (int depth = 0; depth < 32; depth++) {
		uint64_t off;
		/* A return address may point just past a call to a noreturn
		 * function, i.e. into the next function: look up rip - 1. */
		uint64_t at = depth ? rip - 1 : rip;
		const char *name = ksym_lookup(at, &off);

		if (name)
			kprintf("    #%-2d %016lx %s+0x%lx\n", depth, rip, name, off + (rip - at));
		else
			kprintf("    #%-2d %016lx ?\n", depth, rip);
		if (!backtrace_frame_readable(rbp))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;

		rip = frame[1];
		if (frame[0] <= rbp)
			break; /* frames grow upwards; anything else is the end or junk */
		rbp = frame[0];
		if (!rip)
			break;
	}
}

static void panic_common(const struct trap_frame *tf, const char *fmt, va_list ap)
{
	char msg[512];

	irq_disable();
	/* Exactly one CPU wins the panic (full barrier: the loser also sees
	 * the winner's console takeover). Pairs with itself: the same
	 * exchange on every other CPU that panics; the plain readers of the
	 * flag (lib/time.c, kernel/lockup.c) only quiet the lockup check. */
	if (__atomic_exchange_n(&panic_in_progress, 1, __ATOMIC_SEQ_CST)) {
		if (this_cpu()->panicking == 1) {
			/* A fault in our own report: end it without the rest,
			 * so that the others still stop and the verdict comes
			 * (a second one here gives up). */
			this_cpu()->panicking = 2;
			vsnprintf(msg, sizeof(msg), fmt, ap);
			kprintf("\n--- the report itself failed: %s ---\n", msg);
			if (ops)
				ops->stop_other_cpus(false);
			kprintf("==================== END OF PANIC ====================\n");
			if (ops)
				ops->exit_failure();
		}
		/* Someone else is reporting; wait for their NMI. */
		halt_here();
	}
	this_cpu()->panicking = 1;
	console_enter_panic();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	kprintf("\n==================== KERNEL PANIC ====================\n");
	kprintf("PANIC on cpu %u: %s\n", this_cpu_id(), msg);
	if (tf && ops) {
		ops->print_frame(tf);
	} else {
		/* Start at panic_common's caller: the frame of panic(). */
		const uint64_t *fp = __builtin_frame_address(0);

		backtrace_print(fp[1], fp[0]);
	}
	if (ops)
		ops->stop_other_cpus(true);
	kprintf("==================== END OF PANIC ====================\n");
	if (ops)
		ops->exit_failure();
	halt_here();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_common(NULL, fmt, ap);
	va_end(ap);
	__builtin_unreachable();
}

void panic_with_frame(const struct trap_frame *tf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	panic_common(tf, fmt, ap);
	va_end(ap);
	__builtin_unreachable();
}
