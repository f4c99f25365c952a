/*
 * Test-only system-call hooks (see syscall_test.h).
 */
#include "kernel/syscall_test.h"
#include "kernel/irq_obj.h"
#include "include/uapi/errno.h"
#include "kernel/proc.h"
#include "sched/task.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/vmalloc.h"
#include "mm/kpaging.h"
#include "kernel/uaccess.h"
#include "lib/string.h"
#include "lib/cmdline.h"
#include "arch/layout.h"
#include "arch/x86/cpufeature.h"
#include "kernel/counters.h"
#include "kernel/selfcheck.h"
#include "mm/mm.h"
#include "kernel/pasid.h"
#include "kernel/membarrier.h"
#include "lib/preempt.h"
#include "kernel/percpu_area.h"
#include "kernel/where.h"
#include "kernel/nmi.h"
#include "include/uapi/syscalls.h"
#include "kernel/syscall.h"
#include "mm/kstale.h"
#include "kernel/ipc.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"
#include "kernel/ktests/squeeze.h"

/* SYST_FAULT_CATCH: the handler and its stack pointer must be canonical
 * user addresses, so that the IRET to them cannot fault in ring 0 (whether
 * IRET checks the new RSP is the CPU's business); the record must be user
 * memory (it is written with copy_to_user, so unmapped is only a -EFAULT
 * later, and the fault then kills as usual). */
static long fault_catch_arm(uint64_t rip, uint64_t rsp, uint64_t rec)
{
	struct task *me = current_task();

	if (rip || rsp || rec) {
		if (rip < PAGE_SIZE || rip >= USER_TOP || rsp < PAGE_SIZE || rsp >= USER_TOP ||
		    (rec & 7) || !user_range_valid(rec, sizeof(struct syst_fault_rec)))
			return -EINVAL;
	}
	me->test_catch_rec = rec;
	me->test_catch_rsp = rsp;
	me->test_catch_rip = rip;
	return 0;
}

bool syscall_test_fault_catch(struct trap_frame *tf, uint64_t cr2)
{
	struct task *me = current_task();
	struct syst_fault_rec r;

	/* SYST_SMAP_PROBE mode 1, armed: read the user word without opening
	 * SMAP before anything here does (a copy's CLAC would clear AC), so
	 * that the read sees RFLAGS.AC as the entry code left it (regression
	 * smap_holds_in_traps_with_user_ac). */
	if (unlikely(me->test_trap_probe)) {
		uint32_t v;

		me->test_trap_probe_result = probe_user_no_stac(&v, me->test_trap_probe);
		me->test_trap_probe = 0;
	}
	if (!me->test_catch_rip || copy_from_user(&r.busy, me->test_catch_rec, sizeof(r.busy)) ||
	    r.busy)
		return false;
	r.busy = 1;
	r.vector = tf->vector;
	r.error = tf->error;
	r.cr2 = cr2;
	r.rip = tf->rip;
	r.cs = tf->cs;
	r.rflags = tf->rflags;
	r.rsp = tf->rsp;
	r.ss = tf->ss;
	/* regs[]: include/uapi/test.h's order (not the frame's). */
	const uint64_t regs[15] = { tf->r15, tf->r14, tf->r13, tf->r12, tf->r11,
				    tf->r10, tf->r9,  tf->r8,  tf->rbp, tf->rdi,
				    tf->rsi, tf->rdx, tf->rcx, tf->rbx, tf->rax };

	_Static_assert(sizeof(regs) == sizeof(r.regs), "uapi layout");
	memcpy(r.regs, regs, sizeof(r.regs));
	if (copy_to_user(me->test_catch_rec, &r, sizeof(r)))
		return false;
	/* Resume in the handler: a clean 64-bit user context (the faulting
	 * one may have had TF, AC, DF or NT set). */
	tf->rip = me->test_catch_rip;
	tf->rsp = me->test_catch_rsp;
	tf->rflags = RFLAGS_IF | 2; /* bit 1 is always 1 */
	tf->cs = SEL_UCODE | 3;
	tf->ss = SEL_UDATA | 3;
	tf->rdi = me->test_catch_rec;
	return true;
}

/* The hooks that reach beyond the calling process (include/uapi/test.h
 * marks them [hwres]): other CPUs, a global switch, the console, the
 * kernel's own memory, or this CPU held for up to 100 ms (or a lock for
 * longer: SYST_CHECK_MM walks every leaf and VMA under the mm lock, which
 * a process with many of both held past the lock-up detector's limit
 * while another thread waited for it, and the kernel panicked; found in
 * review, regression test_hooks_need_hwres). A process that may program
 * devices (it holds the hardware resource) may use them; a process
 * without it, hostile code under test included, may not. */
#define HOOKS_NEEDING_HWRES                                                                    \
	(1ull << SYST_KERNEL_UNMAP | 1ull << SYST_WHERE | 1ull << SYST_IPC_SWITCH_DELAY |      \
	 1ull << SYST_PIN_REAPER | 1ull << SYST_SEND_NMI | 1ull << SYST_KSTALE |               \
	 1ull << SYST_IPC_BLOCK_DELAY | 1ull << SYST_IPCFAST | 1ull << SYST_SWITCH_OUT_DELAY | \
	 1ull << SYST_SQUEEZE | 1ull << SYST_CHECK_MM | 1ull << SYST_DUP_DELAY |               \
	 1ull << SYST_REVOKE_DELAY | 1ull << SYST_WAKE_DELAY | 1ull << SYST_LAZY_DROP_MOVE)
_Static_assert(SYST_LAZY_DROP_MOVE < 64, "the mask holds every op");

static bool hook_needs_hwres(uint64_t op)
{
	return op < 64 && (HOOKS_NEEDING_HWRES >> op & 1);
}

/* SYST_SQUEEZE: the frames taken (kernel/ktests/squeeze.c), one squeeze
 * at a time. */
static paddr_t squeeze_chain;
static uint32_t squeeze_busy;

static long squeeze(int64_t left)
{
	/* Acquire: the last squeeze's chain is ours (pairs with the release
	 * below). */
	if (__atomic_exchange_n(&squeeze_busy, 1, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (left < 0)
		ktest_unsqueeze(&squeeze_chain);
	else
		ktest_squeeze(&squeeze_chain, (uint64_t)left);
	long r = (long)ktest_squeezed(squeeze_chain);

	/* Release: our chain writes before the next squeeze's reads (pairs
	 * with the acquire above). */
	__atomic_store_n(&squeeze_busy, 0, __ATOMIC_RELEASE);
	return r;
}

/* SYST_SYSRET_FLAGS: plants in the RFLAGS this call returns with what
 * QEMU TCG's SYSRET would take from a garbage R11 (syscall_entry_clears_vm).
 * VM only: a CPU's SYSRET clears it (R11 AND 3C7FD7H), so nothing changes
 * on hardware (IOPL, which SYSRET does load, would). */
static long sysret_flags(struct trap_frame *tf, uint64_t bits, uint64_t which)
{
	if ((bits & ~RFLAGS_VM) || which > 1)
		return -EINVAL;
	uint64_t user = tf->rflags, kernel = read_rflags();

	tf->rflags |= bits;
	return (long)(which ? user : kernel);
}

/* The test hooks' windows: at most 100 ms a spin ([hwres] holds a CPU
 * that long). */
#define HOOK_WINDOW_MAX_US 100000

/* Arm the calling thread's one-shot window *us (its next pass through the
 * hooked code spins that long: udelay_once()). */
static long arm_window(uint32_t *us, uint64_t a)
{
	if (a > HOOK_WINDOW_MAX_US)
		return -EINVAL;
	*us = (uint32_t)a;
	return 0;
}

long syscall_test(struct trap_frame *tf, uint64_t op, uint64_t a, uint64_t b, uint64_t c,
		  uint64_t res)
{
	(void)c;
	if (hook_needs_hwres(op)) {
		long err = hwres_check(res);

		if (err)
			return err;
	}
	switch (op) {
	case SYST_HANDLES:
		return (long)handles_live();
	case SYST_KOBJS:
		return (long)kobjs_live();
	case SYST_IRQ_RAISE:
		return irq_raise_test(a);
	case SYST_FRAMES_FREE:
		return (long)frames_free();
	case SYST_HEAP_BYTES:
		return (long)kheap_bytes_in_use();
	case SYST_VMALLOC_PAGES:
		return (long)vmalloc_pages_in_use();
	case SYST_SLAB_PAGES:
		return (long)kheap_slab_pages();
	case SYST_KPT_PAGES:
		return (long)__atomic_load_n(&kpt_pages, __ATOMIC_RELAXED);
	case SYST_SMAP_PROBE: {
		struct task *me = current_task();
		uint32_t v;

		if (b == 2)
			return me->test_trap_probe_result;
		if (!user_range_valid(a, 4) || b > 1)
			return -EINVAL;
		if (b == 0)
			return probe_user_no_stac(&v, a);
		me->test_trap_probe = a;
		me->test_trap_probe_result = 1;
		return 0;
	}
	case SYST_CPU_HAS: {
		char name[32];

		if (b == 0 || b >= sizeof(name) || copy_from_user(name, a, b))
			return -EFAULT;
		name[b] = '\0';
		for (int f = 0; f < NR_FEATURES; f++) {
			if (!strcmp(cpu_feature_name(f), name))
				return cpu_has(f);
		}
		return -ENOENT;
	}
	case SYST_KSTALE:
		return kstale_op(a);
	case SYST_KERNEL_UNMAP: {
		if (a == 0 || a > 64)
			return -EINVAL;
		uint8_t *p = vmalloc(a * PAGE_SIZE);

		if (!p)
			return -ENOMEM;
		for (uint64_t i = 0; i < a; i++)
			p[i * PAGE_SIZE] = 1;
		/* Count this unmap's own IPIs and deferrals: with preemption
		 * off, this CPU's counters move only for our vfree(). */
		preempt_disable();
		uint64_t ipi0 = this_cpu_read(counters[CNT_KFLUSH_IPI]);
		uint64_t def0 = this_cpu_read(counters[CNT_KFLUSH_DEFERRED]);

		vfree(p);
		uint64_t out[2] = { this_cpu_read(counters[CNT_KFLUSH_IPI]) - ipi0,
				    this_cpu_read(counters[CNT_KFLUSH_DEFERRED]) - def0 };

		preempt_enable();
		if (b && copy_to_user(b, out, sizeof(out)))
			return -EFAULT;
		return 0;
	}
	case SYST_PASID_READ:
		/* Nothing on the way in writes it: this is what user mode ran
		 * with (interrupts off: stay on this CPU). */
		return pasid_read_this_cpu_irqsafe();
	case SYST_SYNC_CORE_GEN:
		return membarrier_sync_core_gen();
	case SYST_CHECK_MM: {
		/* Under the mm lock: other threads of the caller may be
		 * unmapping (a frame freed under the walk is no violation). */
		struct mm *mm = current_task()->mm;

		spin_lock(&mm->lock);
		long r = selfcheck_mm(mm);

		spin_unlock(&mm->lock);
		return r;
	}
	case SYST_SWITCH: {
		char name[32];

		if (b == 0 || b >= sizeof(name) || copy_from_user(name, a, b))
			return -EFAULT;
		name[b] = '\0';
		const struct kswitch *s = kswitch_find(name);

		if (!s || s->type == SW_STRING)
			return -ENOENT;
		return kswitch_value(s);
	}
	case SYST_PROCS:
		return (long)proc_count();
	case SYST_TASKS_DYING:
		return (long)tasks_dying();
	case SYST_WHERE:
		where_report(proc_current());
		if (a)
			where_list_tasks();
		return 0;
	case SYST_TASK_OFF_CPU: {
		struct task *t = task_by_tid((uint32_t)a);

		if (!t)
			return -ESRCH;
		/* Acquire: pairs with the release of on_cpu in
		 * sched_finish_switch (the switch away is complete). */
		long off = READ_ONCE(t->state) == TASK_BLOCKED &&
			   !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE);

		task_put(t);
		return off;
	}
	case SYST_KILLED_THEN: {
		uint64_t args[6];

		if (a == SYS_TEST || a >= NR_SYSCALLS)
			return -EINVAL;
		if (copy_from_user(args, b, sizeof(args)))
			return -EFAULT;
		struct task *me = current_task();

		__atomic_fetch_or(&me->flags, TF_KILLED, __ATOMIC_RELAXED);
		long r = syscall_invoke(a, args);

		if (c && copy_to_user(c, &r, sizeof(r)))
			return -EFAULT;
		return r;
	}
	case SYST_IPC_SWITCH_DELAY:
		return arm_window(&current_task()->test_ipc_delay_us, a);
	case SYST_IPCFAST:
		if (a > 1)
			return -EINVAL;
		return ipc_set_fastpath(a != 0);
	case SYST_IPC_BLOCK_DELAY:
		return arm_window(&current_task()->test_ipc_block_delay_us, a);
	case SYST_DUP_DELAY:
		return arm_window(&current_task()->test_dup_delay_us, a);
	case SYST_LAZY_DROP_MOVE:
		if (a >= nr_cpus)
			return -EINVAL;
		current_task()->test_lazy_drop_move = (uint32_t)a + 1;
		return 0;
	case SYST_WAKE_DELAY:
		return arm_window(&current_task()->test_wake_delay_us, a);
	case SYST_REVOKE_DELAY: {
		long r = b < 1 || b > 2 ? -EINVAL
					: arm_window(&current_task()->test_revoke_delay_us, a);

		if (r == 0)
			current_task()->test_revoke_delay_step = (uint32_t)b;
		return r;
	}
	case SYST_SWITCH_OUT_DELAY: {
		struct task *me = current_task();

		if (a > HOOK_WINDOW_MAX_US)
			return -EINVAL;
		me->test_switch_delay_us = (uint32_t)a;
		/* Atomic: other CPUs set TF_KILLED concurrently. */
		__atomic_fetch_or(&me->flags, TF_SWITCH_DELAY, __ATOMIC_RELAXED);
		return 0;
	}
	case SYST_SQUEEZE:
		return squeeze((int64_t)a);
	case SYST_PIN_REAPER:
		return task_reaper_pin((int)a);
	case SYST_SEND_NMI: {
		int r = nmi_send_test((uint32_t)a);

		return r || !b ? r : (long)nmi_test_seen((uint32_t)a);
	}
	case SYST_FAULT_CATCH:
		return fault_catch_arm(a, b, c);
	case SYST_KILL_THREAD:
		return proc_kill_thread((uint32_t)a);
	case SYST_SYSRET_FLAGS:
		return sysret_flags(tf, a, b);
	case SYST_TASK_CPU: {
		struct task *t = task_by_tid((uint32_t)a);

		if (!t)
			return -ESRCH;
		long cpu = t->cpu;

		task_put(t);
		return cpu;
	}
	default:
		return -EINVAL;
	}
}
