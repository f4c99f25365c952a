/*
 * SYS_TEST operations (user ABI): hooks that only tests use, implemented
 * in kernel/syscall_test.c. Each op reads kernel state a user-level test
 * checks, or changes it in a way a test needs; none can harm the kernel.
 * SYS_TEST(op, a, b, c, res): the ops marked [hwres] reach beyond the
 * calling process (other CPUs, a global switch, the console, the kernel's
 * own memory, or a CPU held for up to 100 ms) and need res, a handle to
 * the hardware resource (KOBJ_HWRES, which init holds and passes to the
 * test and benchmark programs); without it they fail as a handle lookup
 * does (-EBADF, -EPROTOTYPE). ulib's sys_test() passes the caller's.
 */
#pragma once

#include <stdint.h>

/* clang-format off */
#define SYST_FRAMES_FREE   1  /* -> free frames */
#define SYST_HEAP_BYTES    2  /* -> kernel heap bytes in use */
#define SYST_VMALLOC_PAGES 3  /* -> vmalloc pages in use */
#define SYST_PROCS         4  /* -> live processes */
#define SYST_TASK_CPU      5  /* (tid) -> CPU the task last ran on */
#define SYST_SLAB_PAGES    6  /* -> frames held by kernel heap slabs */
#define SYST_KPT_PAGES     7  /* -> kernel page-table frames (never freed) */
#define SYST_SMAP_PROBE    8  /* (uaddr, mode): read it without opening SMAP:
                               * -EFAULT if SMAP stopped the kernel, else 0.
                               * mode 0: now, in the system call; 1: arm it
                               * for the calling thread's next fault that
                               * SYST_FAULT_CATCH diverts, read first thing
                               * there -> 0; 2: -> that read's result (1:
                               * none yet) (smap_holds_in_traps_with_user_ac) */
#define SYST_CPU_HAS       9  /* (name, len) -> 1 if the CPU has the feature */
#define SYST_KERNEL_UNMAP  10 /* [hwres] (pages, out[2]): vmalloc, touch and vfree
                               * them; out = {IPIs sent, CPUs deferred} */
#define SYST_SWITCH        11 /* (name, len) -> the boot switch's value (enums:
                               * the choice's index), or -ENOENT */
#define SYST_CHECK_MM      12 /* [hwres] -> invariant violations in our address
                               * space (kernel/selfcheck.c: selfcheck_mm),
                               * under the mm lock for as long as the walk
                               * takes (leaves x VMAs) */
#define SYST_TASK_OFF_CPU  13 /* (tid) -> 1 if the task is blocked and its
                               * CPU has switched away from it, else 0 */
#define SYST_PASID_READ    14 /* -> this CPU's IA32_PASID (or its shadow) as
                               * the calling thread ran with it in user mode */
#define SYST_SYNC_CORE_GEN 15 /* -> the sync-core membarrier generation the
                               * calling thread serialized to */
#define SYST_TASKS_DYING   16 /* -> tasks that have exited and whose kernel
                               * stacks are not yet freed (0: quiet) */
#define SYST_WHERE         17 /* [hwres] (all): print where every CPU is and the
                               * calling process's threads, and with all != 0
                               * every task (kernel/where.h) -> 0 */
#define SYST_KILLED_THEN   18 /* (nr, const uint64_t args[6], long *result):
                               * mark the calling thread killed, as a kill
                               * does but waking nobody, then run system
                               * call nr (not SYS_TEST) with args and store
                               * its result; the thread exits on its way
                               * back to user (regression kill_before_block) */
#define SYST_IPC_SWITCH_DELAY 19 /* [hwres] (us <= 100000): the calling thread's next
                               * ipc_call spins that long between taking a
                               * receiver off the endpoint and switching to
                               * it (regression ipc_direct_switch_vs_kill) */
#define SYST_PIN_REAPER    20 /* [hwres] (cpu, or -1 for any): where the reaper
                               * thread may run (kflush_idle_ipi_reads_flushed) */
#define SYST_SEND_NMI      21 /* [hwres] (cpu, what): an NMI to another online CPU,
                               * handled quietly (counter nmi_test); returns
                               * once handled, -ETIMEDOUT after 10 s; with
                               * what = 1, what the handler found: 1 it
                               * interrupted user mode, | 2 RFLAGS.AC was
                               * set in it (smap_holds_in_traps_with_user_ac) */
#define SYST_HANDLES       22 /* -> handles alive, in every table and in
                               * flight (kernel/handle.c) */
#define SYST_KOBJS         23 /* -> kernel objects alive (endpoints, memory
                               * objects, IRQs, I/O port ranges) */
#define SYST_KSTALE        24 /* [hwres] (KSTALE_* op, below): a kernel page read and
                               * remapped in place (stale-read torture,
                               * mm/kstale.c) */
#define SYST_FAULT_CATCH   25 /* (rip, rsp, struct syst_fault_rec *rec), or
                               * (0, 0, 0) to disarm: a user fault that would
                               * kill the calling thread's process is instead
                               * written to *rec and the thread resumes at rip
                               * with RSP = rsp, RDI = rec, RFLAGS = IF, the
                               * other registers as they were. Only while
                               * rec->busy is 0 (the kernel sets it to 1; a
                               * fault while it is 1 kills): cpu_fuzz runs
                               * 10^6 faulting sequences without a process each */
#define SYST_KILL_THREAD   26 /* (tid): kill one other thread of the calling
                               * process, as a kill does each of them; the
                               * process lives on (kill torture) */
#define SYST_IRQ_RAISE     27 /* (irq handle with R_ACK): a self-IPI on the
                               * object's vector, handled as if its I/O APIC
                               * line had fired (irq_to_user, irq tests) */
#define SYST_IPC_BLOCK_DELAY 28 /* [hwres] (us <= 100000): the calling thread's next
                               * hand-over that wakes its partner on another
                               * CPU spins that long between the wake and
                               * its own block (regression
                               * ipc_wait_done_races_the_wakers_block) */
#define SYST_IPCFAST       29 /* [hwres] (0 or 1): the fused IPC fast path off or on
                               * (boot switch ipcfast), for every CPU; returns
                               * the previous setting (ipc_fused_equals_general) */
#define SYST_SWITCH_OUT_DELAY 30 /* [hwres] (us <= 100000): the next time a CPU
                               * switches away from the calling thread, it
                               * spins that long after letting the thread go
                               * (on_cpu 0, the run-queue lock dropped) and
                               * before the rest of finish_switch (regression
                               * finish_switch_vs_exit_elsewhere) */
#define SYST_SQUEEZE       31 /* [hwres] (left, or -1): the kernel takes free
                               * frames, or gives back ones it took, until
                               * exactly left are free (-1: gives all back)
                               * -> the frames it holds after; -EBUSY while
                               * another squeeze runs (exhaustion_sweep) */
#define SYST_SYSRET_FLAGS  32 /* (bits: 0 or RFLAGS.VM, 1 << 17; which): bits
                               * ORed into the RFLAGS this call returns to user
                               * with (SYSRET loads R11: a CPU clears VM, QEMU
                               * TCG loads it) -> which 0: the kernel's RFLAGS
                               * in this call (PUSHF), 1: the user's, as
                               * SYSCALL saved them (syscall_entry_clears_vm) */
#define SYST_DUP_DELAY     33 /* [hwres] (us <= 100000): the calling thread's next
                               * handle_dup spins that long between taking its
                               * reference and counting the new handle, the
                               * window a close of the source can kill the
                               * object in (regression
                               * irq_handle_of_dead_object_unbinds_nothing) */
#define SYST_REVOKE_DELAY  34 /* [hwres] (us <= 100000, step 1 or 2): the
                               * calling thread's next memobj revocation
                               * spins that long after its step 1 (frames
                               * taken) or 2 (PTEs cleared, before the flush
                               * round): mm/memobj.c (regression
                               * concurrent_revokes_flush_each_others_clears) */
#define SYST_WAKE_DELAY    35 /* [hwres] (us <= 100000): the calling thread's
                               * next wake of a task onto another CPU spins
                               * that long between choosing the CPU and
                               * taking both run-queue locks (regression
                               * wake_rechecks_affinity_after_relock) */
#define SYST_LAZY_DROP_MOVE 36 /* [hwres] (cpu): when the calling thread
                               * drops the last reference to an address
                               * space (its process's exit), it moves to
                               * that CPU between dropping its own CPU's
                               * lazy hold and calling the others, if it
                               * can be preempted there (regression
                               * lazy_drop_stays_on_one_cpu) */
/* clang-format on */

/* SYST_KSTALE's operations. */
#define KSTALE_SETUP	0
#define KSTALE_READ	1
#define KSTALE_REMAP	2
#define KSTALE_TEARDOWN 3

/* SYST_FAULT_CATCH's record: what the kernel saw when it diverted a fault. */
struct syst_fault_rec {
	uint64_t busy;		     /* 0: may divert; the kernel sets 1 */
	uint64_t vector, error, cr2; /* cr2: the faulting address of a #PF, else 0 */
	uint64_t rip, cs, rflags, rsp, ss;
	uint64_t regs[15]; /* r15, r14, ..., r8, rbp, rdi, rsi, rdx, rcx, rbx, rax */
};
_Static_assert(sizeof(struct syst_fault_rec) == 24 * 8, "uapi layout");
