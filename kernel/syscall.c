/*
 * System-call dispatch and the calls themselves (numbers and ABI in
 * include/uapi/syscalls.h).
 *
 * Every argument is checked before use: user pointers only through
 * kernel/uaccess.h, lengths against fixed limits, handles and ids against
 * their tables. Nonsense returns -EINVAL (or the specific errno); nothing
 * a user passes can make the kernel fault.
 *
 * Entry: arch/x86/entry.S builds the trap frame on the task's kernel stack
 * and calls syscall_dispatch() (or its PTI twin) with interrupts off; the
 * result goes to RAX in the frame, and the exit is SYSRET.
 */
#include "include/uapi/syscalls.h"
#include "kernel/boot_report.h"
#include "include/uapi/errno.h"
#include "kernel/uaccess.h"
#include "kernel/proc.h"
#include "kernel/ipc.h"
#include "kernel/handle.h"
#include "kernel/shm.h"
#include "kernel/irq_obj.h"
#include "kernel/ioport.h"
#include "kernel/futex.h"
#include "lib/printk.h"
#include "lib/cmdline.h"
#include "kernel/multiboot2.h"
#include "lib/string.h"
#include "kernel/percpu_area.h"
#include "kernel/entry_work.h"
#include "kernel/entry_exit.h"
#include "lib/time.h"
#include "kernel/counters.h"
#include "kernel/syscall_test.h"
#include "kernel/syscall.h"
#include "kernel/pasid.h"
#include "kernel/membarrier.h"
#include "arch/fpu.h"
#include "sched/task.h"
#include "mm/mm.h"
#include "kernel/trace.h"
#include "arch/x86/cpu.h"
#include "arch/trap.h"
#include "arch/x86/cpufeature.h"

typedef long (*syscall_fn)(struct trap_frame *tf);

#define ARG0 (tf->rdi)
#define ARG1 (tf->rsi)
#define ARG2 (tf->rdx)
#define ARG3 (tf->r10)
#define ARG4 (tf->r8)
#define ARG5 (tf->r9)

#define MAX_NAME  64
#define MAX_WRITE (64 * 1024)

static long sys_exit(struct trap_frame *tf)
{
	proc_exit((int)ARG0);
}

static long sys_spawn(struct trap_frame *tf)
{
	char name[MAX_NAME], arg[256];
	struct spawn_handle hs[SPAWN_MAX_HANDLES];
	uint64_t arg_len = ARG3, nh = ARG5;

	if (ARG1 == 0 || ARG1 >= MAX_NAME || arg_len >= sizeof(arg) || nh > SPAWN_MAX_HANDLES)
		return -EINVAL;
	if (copy_from_user(name, ARG0, ARG1) || (arg_len && copy_from_user(arg, ARG2, arg_len)) ||
	    (nh && copy_from_user(hs, ARG4, nh * sizeof(hs[0]))))
		return -EFAULT;
	name[ARG1] = '\0';
	return proc_spawn(name, arg, arg_len, proc_current(), hs, (uint32_t)nh);
}

static long sys_wait(struct trap_frame *tf)
{
	int code;
	int r = proc_wait((uint32_t)ARG0, &code);

	if (r)
		return r;
	if (ARG1 && copy_to_user(ARG1, &code, sizeof(code)))
		return -EFAULT;
	return 0;
}

static long sys_thread_create(struct trap_frame *tf)
{
	if (!user_range_valid(ARG0, 1) || !user_range_valid(ARG1 - 1, 1) || ARG1 < 4096)
		return -EINVAL;
	struct task *t = proc_thread_create(proc_current(), ARG0, ARG1, ARG2);

	if (!t)
		return -ENOMEM;
	t->affinity = current_task()->affinity;
	uint32_t tid = t->tid;

	task_start(t, this_cpu_id());
	return tid;
}

static long sys_thread_exit(struct trap_frame *tf)
{
	thread_exit((int)ARG0);
}

static long sys_thread_join(struct trap_frame *tf)
{
	int code;
	int r = thread_join((uint32_t)ARG0, &code);

	if (r)
		return r;
	if (ARG1 && copy_to_user(ARG1, &code, sizeof(code)))
		return -EFAULT;
	return 0;
}

static long sys_yield(struct trap_frame *tf)
{
	(void)tf;
	sched_yield();
	return 0;
}

static long sys_sleep(struct trap_frame *tf)
{
	if (ARG0 > 3600ull * 1000000000ull)
		return -EINVAL;
	sched_sleep_ns(ARG0);
	return current_task()->flags & TF_KILLED ? -EINTR : 0;
}

static long sys_set_affinity(struct trap_frame *tf)
{
	struct cpumask mask;
	uint64_t bytes = ARG2;

	if (bytes == 0 || bytes > sizeof(mask.bits) || (bytes & 7))
		return -EINVAL;
	cpumask_clear_all(&mask);
	if (copy_from_user(mask.bits, ARG1, bytes))
		return -EFAULT;
	struct task *t = ARG0 ? task_by_tid((uint32_t)ARG0) : current_task();

	if (!t)
		return -ESRCH;
	long r = t->proc == proc_current() ? sched_set_affinity(t, &mask) : -ESRCH;

	if (ARG0)
		task_put(t);
	return r;
}

static long sys_get_cpu(struct trap_frame *tf)
{
	(void)tf;
	return this_cpu_id();
}

static long sys_map(struct trap_frame *tf)
{
	uint64_t addr = ARG0;

	if (ARG2 > 7 || ARG3 > 3)
		return -EINVAL;
	int r = mm_map(current_task()->mm, &addr, ARG1, (uint32_t)ARG2, (uint32_t)ARG3);

	return r ? r : (long)addr;
}

static long sys_unmap(struct trap_frame *tf)
{
	return mm_unmap(current_task()->mm, ARG0, ARG1);
}

static long sys_protect(struct trap_frame *tf)
{
	return mm_protect(current_task()->mm, ARG0, ARG1, (uint32_t)ARG2);
}

static long sys_futex_wait(struct trap_frame *tf)
{
	return futex_wait(ARG0, (uint32_t)ARG1, ARG2);
}

static long sys_futex_wake(struct trap_frame *tf)
{
	return futex_wake(ARG0, (uint32_t)MIN(ARG1, 0xffffffffull));
}

static long sys_ep_create(struct trap_frame *tf)
{
	(void)tf;
	return ipc_ep_create();
}

static long sys_handle_dup(struct trap_frame *tf)
{
	return handle_dup(proc_current(), ARG0, (uint32_t)MIN(ARG1, 0xffffffffull));
}

static long sys_handle_close(struct trap_frame *tf)
{
	return handle_close(proc_current(), ARG0);
}

static long sys_handle_info(struct trap_frame *tf)
{
	return handle_info(proc_current(), ARG0);
}

static long sys_irq_create(struct trap_frame *tf)
{
	return irq_create(ARG0, ARG1);
}

static long sys_irq_wait(struct trap_frame *tf)
{
	return irq_wait(ARG0, ARG1);
}

static long sys_irq_ack(struct trap_frame *tf)
{
	return irq_ack(ARG0);
}

static long sys_ioport_create(struct trap_frame *tf)
{
	return ioport_create(ARG0, ARG1, ARG2);
}

static long sys_ioport_enable(struct trap_frame *tf)
{
	return ioport_enable(ARG0, ARG1);
}

static long sys_mo_create(struct trap_frame *tf)
{
	return shm_create(ARG0);
}

static long sys_mo_map(struct trap_frame *tf)
{
	return shm_map(ARG0, ARG1, ARG2);
}

static long sys_mo_revoke(struct trap_frame *tf)
{
	return shm_revoke(ARG0, ARG1);
}

/* SYS_IPC_CALL and SYS_IPC_REPLY_RECV are kernel/ipc.c's (ipc_sys_call,
 * ipc_sys_reply_recv): a fused fast path in front of the general calls. */

static long sys_ipc_recv(struct trap_frame *tf)
{
	struct ipc_msg m = { { 0 } };
	long r = ipc_reply_recv(ARG0, &m, false, 0);

	if (r >= 0)
		syscall_msg_out(tf, &m);
	return r;
}

static long sys_ipc_reply(struct trap_frame *tf)
{
	struct ipc_msg m;

	syscall_msg_in(tf, &m);
	return ipc_reply(ARG0, &m, ARG5);
}

static long sys_console_write(struct trap_frame *tf)
{
	char buf[257];
	uint64_t done = 0, len = ARG1;

	if (len > MAX_WRITE)
		return -EINVAL;
	while (done < len) {
		uint64_t n = MIN(len - done, sizeof(buf) - 1);

		if (copy_from_user(buf, ARG0 + done, n))
			return -EFAULT;
		buf[n] = '\0';
		/* Control bytes but newline, tab and carriage return as '?':
		 * NULs would end the string, and no user text can then hold the
		 * kernel's verdict line, which starts with one (kernel/machine.c;
		 * regression console_cannot_forge_the_verdict). */
		for (uint64_t i = 0; i < n; i++)
			if (((uint8_t)buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t' &&
			     buf[i] != '\r') ||
			    buf[i] == 0x7f)
				buf[i] = '?';
		kputs(buf);
		done += n;
	}
	return (long)len;
}

static long sys_clock(struct trap_frame *tf)
{
	(void)tf;
	return (long)time_ns();
}

static long sys_counters(struct trap_frame *tf)
{
	uint64_t n = MIN(ARG1, (uint64_t)NR_COUNTERS);
	int64_t cpu = (int64_t)ARG2;
	uint64_t vals[NR_COUNTERS];

	if (cpu >= (int64_t)nr_cpus || cpu < -1)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++)
		vals[i] = cpu < 0 ? counter_sum((enum counter_id)i)
				  : counter_read((uint32_t)cpu, (enum counter_id)i);
	if (copy_to_user(ARG0, vals, n * sizeof(uint64_t)))
		return -EFAULT;
	return (long)n;
}

static long copy_string_out(const char *s, uint64_t ubuf, uint64_t len)
{
	uint64_t n = strlen(s);

	if (!len)
		return -EINVAL;
	if (n >= len)
		n = len - 1;
	if (copy_to_user(ubuf, s, n) || copy_to_user(ubuf + n, "", 1))
		return -EFAULT;
	return (long)n;
}

static long sys_counter_name(struct trap_frame *tf)
{
	if (ARG0 >= NR_COUNTERS)
		return -EINVAL;
	return copy_string_out(counter_names[ARG0], ARG1, ARG2);
}

static long sys_getpid(struct trap_frame *tf)
{
	(void)tf;
	return proc_current()->pid;
}

static long sys_gettid(struct trap_frame *tf)
{
	(void)tf;
	return current_task()->tid;
}

static long sys_nr_cpus(struct trap_frame *tf)
{
	(void)tf;
	return nr_cpus_online;
}

static long sys_kill(struct trap_frame *tf)
{
	return proc_kill((uint32_t)ARG0, EXIT_KILLED_BASE + 9, proc_current());
}

static long sys_kinfo(struct trap_frame *tf)
{
	switch (ARG0) {
	case KINFO_CONFIG:
		return copy_string_out(config_string(), ARG1, ARG2);
	case KINFO_CMDLINE:
		return copy_string_out(boot_info_parsed.cmdline, ARG1, ARG2);
	case KINFO_PLATFORM:
		return copy_string_out(platform_name(), ARG1, ARG2);
	case KINFO_BOOT_REPORT:
		return copy_string_out(boot_report_text(), ARG1, ARG2);
	case KINFO_LOG: {
		static char buf[16384];
		static struct spinlock lock = SPINLOCK_INIT("kinfo log");
		uint64_t len = MIN(ARG2, sizeof(buf));

		spin_lock(&lock);
		size_t n = log_read(buf, len);
		long r = copy_to_user(ARG1, buf, n) ? -EFAULT : (long)n;

		spin_unlock(&lock);
		return r;
	}
	default:
		return -EINVAL;
	}
}

static long sys_tsc_khz(struct trap_frame *tf)
{
	(void)tf;
	return (long)tsc_khz;
}

static long sys_test(struct trap_frame *tf)
{
	return syscall_test(tf, ARG0, ARG1, ARG2, ARG3, ARG4);
}

static long sys_pasid_bind(struct trap_frame *tf)
{
	(void)tf;
	return pasid_bind();
}

static long sys_pasid_unbind(struct trap_frame *tf)
{
	(void)tf;
	return pasid_unbind();
}

static long sys_xstate_perm(struct trap_frame *tf)
{
	return xstate_perm(&current_task()->arch, ARG0, ARG1);
}

static long sys_membarrier(struct trap_frame *tf)
{
	return membarrier_cmd(ARG0, ARG1);
}

static long sys_trace(struct trap_frame *tf)
{
	return trace_ctl(ARG0, ARG1);
}

static long sys_enosys(struct trap_frame *tf)
{
	(void)tf;
	return -ENOSYS;
}

/* Every slot is filled (unused numbers with sys_enosys): the dispatch
 * checks only the range. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const syscall_fn table[NR_SYSCALLS] = {
	[0 ... NR_SYSCALLS - 1] = sys_enosys,
	[SYS_EXIT] = sys_exit,
	[SYS_SPAWN] = sys_spawn,
	[SYS_WAIT] = sys_wait,
	[SYS_THREAD_CREATE] = sys_thread_create,
	[SYS_THREAD_EXIT] = sys_thread_exit,
	[SYS_THREAD_JOIN] = sys_thread_join,
	[SYS_YIELD] = sys_yield,
	[SYS_SLEEP] = sys_sleep,
	[SYS_SET_AFFINITY] = sys_set_affinity,
	[SYS_GET_CPU] = sys_get_cpu,
	[SYS_MAP] = sys_map,
	[SYS_UNMAP] = sys_unmap,
	[SYS_PROTECT] = sys_protect,
	[SYS_FUTEX_WAIT] = sys_futex_wait,
	[SYS_FUTEX_WAKE] = sys_futex_wake,
	[SYS_EP_CREATE] = sys_ep_create,
	[SYS_HANDLE_DUP] = sys_handle_dup,
	[SYS_HANDLE_CLOSE] = sys_handle_close,
	[SYS_HANDLE_INFO] = sys_handle_info,
	[SYS_MO_CREATE] = sys_mo_create,
	[SYS_MO_MAP] = sys_mo_map,
	[SYS_MO_REVOKE] = sys_mo_revoke,
	[SYS_IRQ_CREATE] = sys_irq_create,
	[SYS_IRQ_WAIT] = sys_irq_wait,
	[SYS_IRQ_ACK] = sys_irq_ack,
	[SYS_IOPORT_CREATE] = sys_ioport_create,
	[SYS_IOPORT_ENABLE] = sys_ioport_enable,
	[SYS_IPC_CALL] = ipc_sys_call,
	[SYS_IPC_REPLY_RECV] = ipc_sys_reply_recv,
	[SYS_IPC_RECV] = sys_ipc_recv,
	[SYS_CONSOLE_WRITE] = sys_console_write,
	[SYS_CLOCK] = sys_clock,
	[SYS_COUNTERS] = sys_counters,
	[SYS_COUNTER_NAME] = sys_counter_name,
	[SYS_GETPID] = sys_getpid,
	[SYS_GETTID] = sys_gettid,
	[SYS_NR_CPUS] = sys_nr_cpus,
	[SYS_KILL] = sys_kill,
	[SYS_KINFO] = sys_kinfo,
	[SYS_TSC_KHZ] = sys_tsc_khz,
	[SYS_TEST] = sys_test,
	[SYS_PASID_BIND] = sys_pasid_bind,
	[SYS_PASID_UNBIND] = sys_pasid_unbind,
	[SYS_MEMBARRIER] = sys_membarrier,
	[SYS_XSTATE_PERM] = sys_xstate_perm,
	[SYS_IPC_REPLY] = sys_ipc_reply,
	[SYS_TRACE] = sys_trace,
};
#pragma GCC diagnostic pop

static __noreturn __noinline void syscall_return_noncanonical(struct trap_frame *tf)
{
	tf->vector = VEC_GP;
	tf->error = 0;
	proc_kill_fault(tf, "return to a non-canonical address");
}

long syscall_invoke(uint64_t nr, const uint64_t args[6])
{
	struct trap_frame tf = { .rdi = args[0],
				 .rsi = args[1],
				 .rdx = args[2],
				 .r10 = args[3],
				 .r8 = args[4],
				 .r9 = args[5],
				 .vector = ~0ull };

	return nr < NR_SYSCALLS ? table[nr](&tf) : -ENOSYS;
}

/*
 * The system call, compiled once per PTI setting (pti a constant): the
 * entry code the boot chose calls its own (arch/entry.h), so that neither
 * tests the switch at entry or exit. The same for tlbcheck=on with PTI
 * (may_check): the others never test that switch either.
 */
static __always_inline void syscall_dispatch_as(struct trap_frame *tf, bool pti, bool may_check)
{
	user_enter_kernel_as(pti, may_check, true);
	/* Also the count of the entry code's CR3 writes with PTI (above). */
	this_cpu_inc(counters[CNT_SYSCALL]);
	irq_enable();
	uint64_t nr = tf->rax;

	tf->rax = likely(nr < NR_SYSCALLS) ? (uint64_t)table[nr](tf) : (uint64_t)-ENOSYS;
	/* A SYSCALL in the last two bytes of user space returns to
	 * 0x800000000000. The SYSRET exit may not go there: it would fault
	 * in ring 0 on the user's stack (SDM Vol. 2B SYSRET). Kill the
	 * process as if the fetch there had faulted. */
	if (unlikely(tf->rip >= USER_TOP))
		syscall_return_noncanonical(tf);
	irq_disable();
	/* prepare_return_to_user(tf), inline, but for PTI's user CR3 and
	 * CTX_USER: the entry code does those (the fast CR3 test and load
	 * are its own; pti_prepare_exit_slow() when that test fails), then
	 * leaves by SYSRET, RCX and R11 loaded from the frame's RIP and
	 * RFLAGS (CS and SS are the entry's: arch/trap.h). */
	exit_to_user_task_work();
}

/* Without a frame of their own: the entry code calls them with RBP 0
 * (the end of the frame chain), which their callees' frames then link to,
 * so a backtrace still names them (by their callee's return address) and
 * ends there. Setting up RBP here would cost four instructions per system
 * call for nothing. They must not use RBP otherwise: the row
 * static/syscall_dispatch_keeps_rbp checks their code. GCC's optimize
 * attribute adds to the command line's options (static/
 * percpu_value_reused_across_call checks that -fno-delete-null-pointer-
 * checks still holds under it). */
#define NO_FRAME __attribute__((optimize("omit-frame-pointer")))

NO_FRAME void syscall_dispatch(struct trap_frame *tf)
{
	syscall_dispatch_as(tf, false, false);
}

NO_FRAME void syscall_dispatch_pti(struct trap_frame *tf)
{
	syscall_dispatch_as(tf, true, false);
}

NO_FRAME void syscall_dispatch_pti_tlbcheck(struct trap_frame *tf)
{
	syscall_dispatch_as(tf, true, true);
}
