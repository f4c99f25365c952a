/*
 * Context switch, the x86 half (arch/switch.h): the user state that lives
 * in registers, and where the entry code finds the kernel stack.
 *
 *   extended state   saved eagerly for the task leaving (xstate_switch_out);
 *                    restored on the next task's way back to user
 *                    (arch/x86/xstate.c), so kernel-only switches pay nothing
 *   FS base          RDFSBASE/WRFSBASE where CR4.FSGSBASE is on, else the
 *                    IA32_FS_BASE MSR
 *   GS base          in the kernel the user's value sits in KERNEL_GS_BASE
 *                    (SWAPGS exchanges them at entry and exit), so that MSR
 *                    is what is saved and loaded
 *   kernel stack     the per-CPU copy the SYSCALL entry loads; without PTI
 *                    also TSS.RSP0 (with PTI the CPU enters on the per-CPU
 *                    entry stack and the entry code moves to the copy)
 */
#include "arch/switch.h"
#include "arch/fpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/desc.h"
#include "lib/percpu.h"

static bool fsgsbase;

void arch_switch_init(void)
{
	fsgsbase = cpu_has(FEAT_FSGSBASE);
}

static uint64_t read_fs_base(void)
{
	uint64_t v;

	if (!fsgsbase)
		return rdmsr(MSR_FS_BASE);
	__asm__ __volatile__("rdfsbase %0" : "=r"(v));
	return v;
}

static void write_fs_base(uint64_t v)
{
	if (!fsgsbase) {
		wrmsr(MSR_FS_BASE, v);
		return;
	}
	__asm__ __volatile__("wrfsbase %0" ::"r"(v) : "memory");
}

void arch_switch_user_state(struct arch_task *prev, struct arch_task *next,
			    uint64_t next_kstack_top)
{
	if (prev) {
		xstate_switch_out(prev);
		prev->fs_base = read_fs_base();
		prev->gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	}
	if (next) {
		write_fs_base(next->fs_base);
		wrmsr(MSR_KERNEL_GS_BASE, next->gs_base);
	}
	this_cpu_write(cur_arch, next);
	this_cpu_write(entry.kstack_top, next_kstack_top);
	if (next_kstack_top && !this_cpu_read(entry.pti_on))
		tss_set_rsp0(next_kstack_top);
}
