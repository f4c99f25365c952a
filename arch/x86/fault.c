/*
 * Page faults and the user trap dispatcher (arch/x86/entry.S calls
 * trap_dispatch_user for every exception and interrupt from user mode).
 *
 * Kernel mode: a fault on a user address by an instruction that has an
 * exception-table entry (the user-copy routines) is first resolved against
 * the current address space, like a user fault (demand paging of a buffer
 * the user passed in), unless page faults are disabled on this CPU; if that
 * fails the fixup returns -EFAULT. Every other kernel fault is a bug and
 * the caller reports it.
 *
 * User mode: resolved against the address space; an access the mapping
 * does not allow kills the process with a report.
 */
#include "arch/trap.h"
#include "arch/entry.h"
#include "arch/layout.h"
#include "arch/x86/cpu.h"
#include "arch/fpu.h"
#include "lib/percpu.h"
#include "lib/fmt.h"

bool arch_page_fault(struct trap_frame *tf)
{
	uint64_t addr = read_cr2();
	/* A user task runs here (cur_arch set): its mm is the loaded one. */
	struct mm *mm = this_cpu_read(cur_arch) ? this_cpu_read(shared.loaded_mm) : NULL;

	this_cpu_inc(counters[CNT_PAGE_FAULT]);
	/* Only a missing page is resolved for the kernel: a protection fault
	 * on a present user page is SMAP (or a real permission problem), and
	 * resolving it would retry the same fault forever. */
	if (addr >= USER_TOP || !mm || this_cpu_read(pagefault_disabled) ||
	    (tf->error & PF_PRESENT) || !extable_find(tf->rip))
		return false;
	if (tf->rflags & RFLAGS_IF)
		irq_enable();
	bool ok = entry_ops.resolve_fault(mm, addr, tf->error & PF_WRITE, false);

	irq_disable();
	return ok;
}

static void describe_pf(char *buf, size_t n, uint64_t addr, uint64_t err)
{
	snprintf(buf, n, "page fault at %#lx (%s %s, %s)", addr, err & PF_USER ? "user" : "kernel",
		 err & PF_INSTR	  ? "fetch"
		 : err & PF_WRITE ? "write"
				  : "read",
		 err & PF_PRESENT ? "protection violation" : "page not present");
}

/* A #DB from user mode: single steps are not a debugging service here
 * (no ptrace), so the process is killed with a report saying which kind. */
static const char *user_debug_trap_why(void)
{
	uint64_t dr6 = read_dr6();

	write_dr6(DR6_RESET);
	return dr6 & DR6_BS ? "#DB single-step trap (EFLAGS.TF set in user mode)"
			    : "#DB debug trap (INT1/ICEBP)";
}

/* A fault the process cannot go on from kills it, unless a test asked for
 * it to be diverted (SYST_FAULT_CATCH, kernel/syscall_test.c). */
static void user_fault_fatal(struct trap_frame *tf, uint64_t cr2, const char *what)
{
	if (!entry_ops.fault_catch(tf, cr2)) {
		entry_ops.kill_fault(tf, what);
		__builtin_unreachable();
	}
}

void trap_dispatch_user(struct trap_frame *tf)
{
	uint64_t v = tf->vector;

	entry_ops.user_enter();
	if (v == VEC_NMI) {
		entry_ops.do_nmi(tf);
	} else if (v >= 32) {
		trap_irq(tf);
		/* An interrupt that arrived after the last instruction of
		 * the lower half left RIP 0x800000000000 in the frame: the
		 * fetch there has not faulted yet, and IRETQ would check RIP
		 * first and raise #GP in ring 0, with the user's CR3 and GS
		 * (regression iret_to_noncanonical_rip: a double fault). Give
		 * the process the #GP the fetch raises. Only an interrupt can
		 * leave such a frame to return to: an exception's RIP is its
		 * instruction's, and a trap at that RIP (#DB) is fatal or
		 * diverted below. */
		if (unlikely(tf->rip >= USER_TOP)) {
			this_cpu_inc(counters[CNT_RETURN_NONCANONICAL_IRQ]);
			tf->vector = VEC_GP;
			tf->error = 0;
			irq_enable();
			user_fault_fatal(tf, 0, trap_name(VEC_GP));
		}
	} else if (v == VEC_PF) {
		uint64_t addr = read_cr2();
		char what[96];

		this_cpu_inc(counters[CNT_PAGE_FAULT_USER]);
		irq_enable();
		if (!entry_ops.resolve_fault(this_cpu_read(shared.loaded_mm), addr,
					     tf->error & PF_WRITE, tf->error & PF_INSTR)) {
			describe_pf(what, sizeof(what), addr, tf->error);
			user_fault_fatal(tf, addr, what);
		}
	} else {
		const char *why = NULL;

		if (v == VEC_DB)
			why = user_debug_trap_why();
		if ((v == VEC_NM || v == VEC_UD) &&
		    xstate_user_fault(this_cpu_read(cur_arch), tf, &why)) {
			/* first use of AMX: tile space given, run it again */
		} else {
			irq_enable();
			user_fault_fatal(tf, 0, why ? why : trap_name(v));
		}
	}
	irq_disable();
	entry_ops.return_to_user(tf);
}
