/*
 * Exception and interrupt dispatch.
 *
 * Kernel-mode exceptions are bugs unless an exception-table entry covers
 * the faulting instruction (user copies, rdmsr_safe): the report names the
 * vector, error code, CR2, registers and a symbolized backtrace, then the
 * machine stops with the failure verdict. User-mode exceptions go to the
 * process layer (arch/x86/fault.c), which kills the offender and lets
 * everything else run on.
 */
#include "arch/trap.h"
#include "arch/entry.h"
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/percpu.h"
#include "lib/ksyms.h"
#include "arch/layout.h"
#include "lib/stack_window.h"

static irq_handler_t irq_handlers[256];

struct entry_ops entry_ops;

void arch_entry_init(const struct entry_ops *ops)
{
	entry_ops = *ops;
}

static const char *const exception_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor segment overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 floating point",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD floating point",
	"#VE virtualization",
	"#CP control protection",
	"reserved 22",
	"reserved 23",
	"reserved 24",
	"reserved 25",
	"reserved 26",
	"reserved 27",
	"#HV hypervisor injection",
	"#VC VMM communication",
	"#SX security",
	"reserved 31",
};

const char *trap_name(uint64_t vector)
{
	if (vector < 32)
		return exception_names[vector];
	if (vector == VEC_TIMER)
		return "timer interrupt";
	if (vector == VEC_SPURIOUS)
		return "spurious interrupt";
	return "interrupt";
}

void irq_register(uint8_t vector, irq_handler_t fn)
{
	irq_handlers[vector] = fn;
}

extern const struct extable_entry __extable_start[], __extable_end[];

uint64_t extable_find(uint64_t ip)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if ((uint64_t)e->insn == ip)
			return (uint64_t)e->fixup;
	}
	return 0;
}

bool extable_fixup(struct trap_frame *tf)
{
	uint64_t fixup = extable_find(tf->rip);

	if (!fixup)
		return false;
	tf->rip = fixup;
	tf->rax = (uint64_t)-14; /* -EFAULT */
	return true;
}

static void print_sym(const char *label, uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		kprintf("  %s %016lx <%s+0x%lx>\n", label, addr, name, off);
	else
		kprintf("  %s %016lx\n", label, addr);
}

void trap_print_frame(const struct trap_frame *tf)
{
	kprintf("  vector %lu (%s), error code 0x%lx\n", tf->vector, trap_name(tf->vector),
		tf->error);
	if (tf->vector == VEC_PF) {
		kprintf("  CR2 %016lx (%s %s, %s%s)\n", read_cr2(),
			tf->error & PF_USER ? "user" : "kernel",
			tf->error & PF_INSTR   ? "fetch"
			: tf->error & PF_WRITE ? "write"
					       : "read",
			tf->error & PF_PRESENT ? "protection violation" : "page not present",
			tf->error & PF_RSVD ? ", reserved bit set" : "");
	}
	print_sym("RIP", tf->rip);
	kprintf("  CS %04lx RFLAGS %016lx RSP %016lx SS %04lx\n", tf->cs, tf->rflags, tf->rsp,
		tf->ss);
	kprintf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", tf->rax, tf->rbx, tf->rcx,
		tf->rdx);
	kprintf("  RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", tf->rsi, tf->rdi, tf->rbp,
		tf->r8);
	kprintf("  R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", tf->r9, tf->r10, tf->r11,
		tf->r12);
	kprintf("  R13 %016lx R14 %016lx R15 %016lx\n", tf->r13, tf->r14, tf->r15);
	kprintf("  CR0 %016lx CR3 %016lx CR4 %016lx\n", read_cr0(), read_cr3(), read_cr4());
	apic_print_state();
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
	/* User mode: RBP is the user's, any value. One in the kernel half
	 * passed backtrace_plausible_frame() and was read, in the NMI handler
	 * of a CPU a panic stopped: a #PF there cut the report short (ktest
	 * backtrace_of_user_frame_reads_no_user_rbp). */
	if (trap_from_user(tf)) {
		kprintf("  backtrace:\n    #0  %016lx (user mode)\n", tf->rip);
		return;
	}
	uint64_t off = 0;
	const char *fn = ksym_lookup(tf->rip, &off);

	if (fn && backtrace_frame_readable(tf->rsp)) {
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

/* The words from a kernel-mode trap's RSP to the top of the stack it was
 * on, when that is one of this CPU's (lib/stack_window.h says why): for a
 * #DF, the frame of the exception whose delivery failed. */
static void print_interrupted_stack(const struct trap_frame *tf)
{
	enum { MAX_WORDS = 16 };
	uint64_t pc = (uint64_t)this_cpu();
	struct task_ident t;

	entry_ops.current_ident(&t);
	struct stack_range stacks[PERCPU_NR_STACKS + 1];

	for (size_t k = 0; k < PERCPU_NR_STACKS; k++) {
		uint64_t lo = pc + percpu_stacks[k].off;

		stacks[k] =
			(struct stack_range){ lo, lo + PERCPU_STACK_SIZE, percpu_stacks[k].name };
	}
	stacks[PERCPU_NR_STACKS] = (struct stack_range){ t.kstack_lo, t.kstack_hi, "task" };
	unsigned n;
	uint64_t rsp = tf->rsp & ~7ull;
	int i = stack_window(stacks, (int)ARRAY_SIZE(stacks), rsp, MAX_WORDS, &n);

	if (i < 0)
		return;
	kprintf("  RSP is in the %s stack (top %016lx); %u word(s) from RSP up%s:\n",
		stacks[i].name, stacks[i].hi, n, n == MAX_WORDS ? " (the first ones)" : "");
	const uint64_t *w = (const uint64_t *)rsp;

	for (unsigned k = 0; k < n; k += 4) {
		kprintf("    %016lx:", rsp + 8 * k);
		for (unsigned j = k; j < n && j < k + 4; j++)
			kprintf(" %016lx", w[j]);
		kprintf("\n");
	}
}

/* The panic report of a trap frame (lib/panic.h panic_ops.print_frame). */
void trap_panic_print(const struct trap_frame *tf)
{
	trap_print_frame(tf);
	if (!trap_from_user(tf))
		print_interrupted_stack(tf);
	backtrace_print_trap(tf);
}

/* Kernel stacks (mm/vmalloc.c kstack_alloc) have an unmapped guard page
 * below them. Running into it faults with RSP or CR2 there; the #PF cannot
 * push its frame on that stack, so the CPU raises #DF, which runs on its
 * own IST stack (SDM Vol. 3A 6.14.5, 6.15 "Interrupt 8") and gets here. */
static bool kstack_overflowed(const struct trap_frame *tf, uint64_t cr2)
{
	struct task_ident t;

	entry_ops.current_ident(&t);
	uint64_t lo = t.kstack_lo;

	if (!lo || (tf->vector != VEC_DF && tf->vector != VEC_PF))
		return false;
	return (tf->rsp >= lo - PAGE_SIZE && tf->rsp < lo + 256) ||
	       (cr2 >= lo - PAGE_SIZE && cr2 < lo);
}

static void kernel_exception(struct trap_frame *tf)
{
	if (extable_fixup(tf))
		return;
	uint64_t off, cr2 = read_cr2();
	const char *fn = ksym_lookup(tf->rip, &off);

	if (kstack_overflowed(tf, cr2)) {
		struct task_ident t;

		entry_ops.current_ident(&t);
		panic_with_frame(tf,
				 "kernel stack overflow: %s in %s, task %u '%s' ran below its "
				 "stack [%#lx, %#lx) into the guard page (RSP %#lx, CR2 %#lx)",
				 trap_name(tf->vector), fn ? fn : "unknown code", t.tid, t.name,
				 t.kstack_lo, t.kstack_hi, tf->rsp, cr2);
	}

	panic_with_frame(tf, "unexpected %s in kernel mode in %s", trap_name(tf->vector),
			 fn ? fn : "unknown code");
}

/* A hardware interrupt (vector >= 32), from either mode. */
void trap_irq(struct trap_frame *tf)
{
	uint64_t v = tf->vector;

	this_cpu()->irq_depth++;
	if (irq_handlers[v])
		irq_handlers[v](tf);
	else if (v != VEC_SPURIOUS)
		pr_warn("unhandled interrupt vector %lu", v);
	if (v != VEC_SPURIOUS && v >= VEC_LEGACY_BASE + 16)
		apic_eoi();
	this_cpu()->irq_depth--;
}

/* A #DB in kernel mode. The kernel sets no breakpoints and never steps
 * itself, so the only one expected is a single step that user code armed:
 * EFLAGS.TF followed by MOV SS/POP SS and SYSCALL, INT n or a fault
 * delivers the step's #DB on the first instruction of the kernel's handler
 * (the MOV SS shadow defers it; SDM Vol. 3A 6.8.3, Vol. 3B 18.3.1.4).
 * Clear TF in the interrupted frame (delivery through an interrupt gate
 * has already cleared it for the handler itself) and carry on; the user's
 * own TF comes back with its saved RFLAGS and traps in user mode. */
static bool kernel_debug_step(struct trap_frame *tf)
{
	uint64_t dr6 = read_dr6();

	write_dr6(DR6_RESET);
	if (!(dr6 & DR6_BS))
		return false;
	tf->rflags &= ~RFLAGS_TF;
	this_cpu_inc(counters[CNT_DEBUG_KERNEL_STEP]);
	return true;
}

/* Everything that interrupts kernel mode. */
void trap_dispatch(struct trap_frame *tf)
{
	uint64_t v = tf->vector;

	if (v == VEC_NMI) {
		entry_ops.do_nmi(tf);
		/* paranoid_entry turns it into the #GP of that fetch
		 * (regression iret_to_noncanonical_rip) */
		if (unlikely((tf->cs & 3) && tf->rip >= USER_TOP))
			this_cpu_inc(counters[CNT_RETURN_NONCANONICAL_NMI]);
		return;
	}
	if (v == VEC_DB && kernel_debug_step(tf))
		return;
	if (v < 32) {
		if (v == VEC_PF && arch_page_fault(tf))
			return;
		kernel_exception(tf);
		return;
	}
	/* Woken from idle: no handler may run on translations this CPU has
	 * yet to flush (mm/kflush.c). */
	if (unlikely(this_cpu_read(entry.context) != CTX_KERNEL))
		entry_ops.irq_enter_idle();
	trap_irq(tf);
	entry_ops.irq_exit(tf);
}
