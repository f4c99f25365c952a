/*
 * Panic: one report, then the machine stops with the failure verdict.
 *
 * The first CPU to panic owns the console. It prints the message, the trap
 * frame if there is one, and a symbolized backtrace; then it stops every
 * other CPU with an NMI (kernel/nmi.c), asking each in turn to print its own
 * backtrace, and ends the machine. A CPU that panics while another panic is
 * in progress stops quietly.
 */
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/fmt.h"
#include "kernel/ksyms.h"
#include "kernel/machine.h"
#include "kernel/percpu.h"
#include "kernel/nmi.h"
#include "arch/x86/trap.h"
#include "arch/x86/cpu.h"

volatile int panic_in_progress;

static bool plausible_frame(uint64_t rbp)
{
	/* Frames live in the kernel half, 8-byte aligned. */
	return rbp >= 0xffff800000000000ull && !(rbp & 7);
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
		if (!plausible_frame(rbp))
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

/*
 * The frame-pointer chain misses the innermost caller when the trap hit a
 * function before it pushed RBP: at its first instruction (a bad call), or
 * anywhere in a leaf that GCC compiled without a frame. Then the return
 * address is on top of the stack ([RSP], or [RSP+8] right after the push),
 * and RBP still names the caller's caller. Recognise that from the prologue
 * ("push %rbp" is 0x55 and we build without CET's endbr64).
 */
void backtrace_print_trap(const struct trap_frame *tf)
{
	uint64_t off = 0;
	const char *fn = trap_from_user(tf) ? NULL : ksym_lookup(tf->rip, &off);

	if (fn && plausible_frame(tf->rsp)) {
		const uint8_t *start = (const uint8_t *)(tf->rip - off);
		const uint64_t *sp = (const uint64_t *)tf->rsp;
		uint64_t ret = 0;

		if (off == 0 || start[0] != 0x55)
			ret = sp[0];
		else if (off == 1)
			ret = sp[1];
		const char *caller = ret ? ksym_lookup(ret, &off) : NULL;

		if (caller)
			kprintf("  called from %016lx %s+0x%lx\n", ret, caller, off);
	}
	backtrace_print(tf->rip, tf->rbp);
}

static void panic_common(const struct trap_frame *tf, const char *fmt, va_list ap)
{
	char msg[512];

	irq_disable();
	/* Exactly one CPU wins the panic (full barrier: the loser also sees
	 * the winner's console takeover). */
	if (__atomic_exchange_n(&panic_in_progress, 1, __ATOMIC_SEQ_CST)) {
		/* Someone else is reporting; wait for their NMI. */
		cpu_halt_forever();
	}
	this_cpu()->panicking = 1;
	console_enter_panic();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	kprintf("\n==================== KERNEL PANIC ====================\n");
	kprintf("PANIC on cpu %u: %s\n", this_cpu_id(), msg);
	if (tf) {
		trap_print_frame(tf);
		backtrace_print_trap(tf);
	} else {
		/* Start at panic_common's caller: the frame of panic(). */
		const uint64_t *fp = __builtin_frame_address(0);

		backtrace_print(fp[1], fp[0]);
	}
	nmi_stop_other_cpus(true);
	kprintf("==================== END OF PANIC ====================\n");
	machine_exit(false);
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
