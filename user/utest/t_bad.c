/*
 * Every system call with bad pointers (NULL, unmapped, kernel, non-
 * canonical), nonsense lengths, unknown handles and ids: each returns an
 * error, and the process (and the kernel) carry on.
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"

#define EPERM_	1
#define ENOENT_ 2
#define ESRCH_	3
#define EAGAIN_ 11
#define EFAULT_ 14
#define EEXIST_ 17
#define EINVAL_ 22
#define ECHILD_ 10
#define ENOSYS_ 38

static const uint64_t bad_ptrs[] = {
	0,		       /* NULL */
	0x1000,		       /* unmapped user page */
	0x00007ffffffff000ull, /* top of user space, unmapped */
	0x0000800000000000ull, /* first non-canonical address */
	0xffff800000000000ull, /* kernel direct map */
	0xffffffff80200000ull, /* kernel text */
	0xfffffe0000200000ull, /* per-CPU area */
	~0ull,
};
#define NR_BAD (sizeof(bad_ptrs) / sizeof(bad_ptrs[0]))

void t_bad_syscall_args(const char *arg)
{
	(void)arg;
	char buf[64];
	uint64_t m[4] = { 0 };

	T_EQ(syscall0(NR_SYSCALLS), -ENOSYS_);
	T_EQ(syscall0(-1), -ENOSYS_);
	T_EQ(syscall0(1ll << 40), -ENOSYS_);

	for (size_t i = 0; i < NR_BAD; i++) {
		uint64_t p = bad_ptrs[i];

		T_EQ(syscall2(SYS_CONSOLE_WRITE, p, 10), -EFAULT_);
		T_EQ(syscall4(SYS_SPAWN, p, 5, 0, 0), -EFAULT_);
		T_EQ(syscall4(SYS_SPAWN, "utest", 5, p, 5), -EFAULT_);
		T_EQ(syscall3(SYS_COUNTERS, p, 4, -1), -EFAULT_);
		T_EQ(syscall3(SYS_COUNTER_NAME, 0, p, 16), -EFAULT_);
		T_EQ(syscall3(SYS_KINFO, KINFO_CONFIG, p, 16), -EFAULT_);
		T_EQ(syscall3(SYS_SET_AFFINITY, 0, p, 8), -EFAULT_);
		T_EXPECT(syscall3(SYS_FUTEX_WAIT, p, 0, 0) < 0);
		T_EXPECT(syscall2(SYS_FUTEX_WAKE, p, 1) <= 0);
		T_EXPECT(syscall2(SYS_UNMAP, p, PAGE_SIZE) == -EINVAL_ || p == 0x1000 ||
			 p == 0x00007ffffffff000ull);
	}
	/* Output pointers of calls that succeed otherwise. */
	int pid = start_child("role_exit 1");

	T_EQ(syscall2(SYS_WAIT, pid, 0xffffffff80200000ull), -EFAULT_);
	T_EQ(syscall2(SYS_WAIT, pid, 0), -ECHILD_); /* the failed wait collected it */

	/* Lengths and ranges. */
	T_EQ(syscall2(SYS_CONSOLE_WRITE, buf, 1ull << 40), -EINVAL_);
	T_EQ(syscall4(SYS_SPAWN, "utest", 0, 0, 0), -EINVAL_);
	T_EQ(syscall4(SYS_SPAWN, "utest", 1ull << 40, 0, 0), -EINVAL_);
	T_EQ(syscall4(SYS_SPAWN, "utest", 5, buf, 100000), -EINVAL_);
	T_EQ(syscall3(SYS_SET_AFFINITY, 0, buf, 0), -EINVAL_);
	T_EQ(syscall3(SYS_SET_AFFINITY, 0, buf, 7), -EINVAL_);
	T_EQ(syscall3(SYS_SET_AFFINITY, 0, buf, 1 << 20), -EINVAL_);
	memset(buf, 0, sizeof(buf));
	T_EQ(syscall3(SYS_SET_AFFINITY, 0, buf, 8), -EINVAL_); /* empty mask */
	T_EQ(syscall3(SYS_SET_AFFINITY, 999999, buf, 8), -ESRCH_);
	T_EQ(syscall3(SYS_COUNTERS, buf, 4, 1 << 20), -EINVAL_);
	T_EQ(syscall3(SYS_COUNTER_NAME, 1 << 20, buf, 16), -EINVAL_);
	T_EQ(syscall3(SYS_COUNTER_NAME, 0, buf, 0), -EINVAL_);
	T_EQ(syscall3(SYS_KINFO, 77, buf, 16), -EINVAL_);
	T_EQ(syscall1(SYS_SLEEP, ~0ull), -EINVAL_);
	T_EQ(syscall4(SYS_TEST, 9999, 0, 0, 0), -EINVAL_);
	T_EQ(syscall2(SYS_TRACE, 99, 0), -EINVAL_);
	T_EQ(syscall2(SYS_TRACE, 3, 0), -EINVAL_);    /* TRACE_COUNT of no type */
	T_EQ(syscall2(SYS_TRACE, 3, 1000), -EINVAL_); /* nor of an unknown one */
	T_EQ(syscall2(SYS_TRACE, 0, 7), -EINVAL_);    /* TRACE_START takes no argument */

	/* Memory calls. */
	T_EQ(syscall4(SYS_MAP, 0, 0, UPROT_READ, 0), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0, PAGE_SIZE, 8, 0), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0, PAGE_SIZE, UPROT_READ, 4), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0, 1ull << 45, UPROT_READ, 0), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0xffffffff80200000ull, PAGE_SIZE, UPROT_READ, UMAP_FIXED), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0x10000123, PAGE_SIZE, UPROT_READ, UMAP_FIXED), -EINVAL_);
	T_EQ(syscall4(SYS_MAP, 0, PAGE_SIZE, UPROT_READ, UMAP_FIXED), -EINVAL_);
	T_EQ(syscall2(SYS_UNMAP, 0x10000123, PAGE_SIZE), -EINVAL_);
	T_EQ(syscall2(SYS_UNMAP, 0x7ffffffff000ull, 0x10000), -EINVAL_);
	T_EQ(syscall3(SYS_PROTECT, 0x200000000ull, PAGE_SIZE, UPROT_READ), -12);
	T_EQ(syscall3(SYS_PROTECT, 0x200000000ull, PAGE_SIZE, 99), -EINVAL_);

	/* Futexes. */
	uint32_t word = 5;

	T_EQ(futex_wait((uint32_t *)((char *)&word + 1), 5, 0), -EINVAL_);
	T_EQ(futex_wait(&word, 6, 0), -EAGAIN_);
	T_EQ(futex_wait(&word, 5, 1000000), -110); /* -ETIMEDOUT */
	T_EQ(futex_wake(&word, 1), 0);
	T_EQ(syscall3(SYS_FUTEX_WAIT, 0x200000000ull, 0, 0), -EFAULT_);

	/* Handles and ids: numbers that are no handle of ours are -EBADF. */
	T_EQ(ipc_call(-1, m), -EBADF_);
	T_EQ(ipc_call(64, m), -EBADF_);
	T_EQ(ipc_call(1 << 30, m), -EBADF_);
	T_EQ(ipc_recv(5, m), -EBADF_);
	T_EQ(ipc_reply_recv(5, m), -EBADF_);
	T_EQ(ep_close(-3), -EBADF_);
	T_EQ(ep_close(7), -EBADF_);
	int h = ep_create();

	T_EXPECT(h >= 0);
	T_EQ(ipc_reply_recv(h, m), -EINVAL_); /* nobody to reply to */
	T_EQ(ep_close(h), 0);
	T_EQ(ep_close(h), -EBADF_); /* closed: stale */
	T_EQ(kill_pid(999999), -ESRCH_);
	T_EQ(thread_join(999999, NULL), -ESRCH_);
	T_EQ(syscall3(SYS_THREAD_CREATE, 0xffffffff80200000ull, 0x200000, 0), -EINVAL_);
	T_EQ(syscall3(SYS_THREAD_CREATE, 0x400000, 0, 0), -EINVAL_);
	T_EQ(wait_pid(999999, NULL), -ECHILD_);
	(void)EPERM_;
	/* Still alive, and the kernel still answers. */
	T_EXPECT(getpid() > 0);
}

/*
 * A live handle with bits set outside what a handle can hold: above bit
 * 30 (handles are positive ints; the kernel takes 64 bits from RDI), or
 * a slot index at or above the table's 64 slots with the generation bits
 * of the live handle kept. Each names nothing: -EBADF from a lookup
 * (reply_recv: a live endpoint with nobody to reply to says -EINVAL
 * instead, and does not block) and from close, which would otherwise
 * close the live handle. One TEST of a mask does this check in the
 * kernel (handle_in_range(), kernel/handle.h).
 */
void t_handle_bits_out_of_range(const char *arg)
{
	(void)arg;
	int h = ep_create();

	T_EXPECT(h >= 0);
	uint64_t live = (uint64_t)h, gen = live & ~0xffull, idx = live & 0xff;
	const uint64_t bad[] = {
		gen | (idx + 64),    gen | (idx + 128),	  gen | (idx + 192),   live | (1ull << 31),
		live | (1ull << 32), live | (1ull << 40), live | (1ull << 61), live | (1ull << 63),
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(syscall2(SYS_IPC_REPLY_RECV, bad[i], 0), -EBADF_);
		T_EQ(syscall1(SYS_HANDLE_CLOSE, bad[i]), -EBADF_);
	}
	/* Bit 62 is IPC_HANDLES (a message with handles), not part of h. */
	T_EQ(syscall2(SYS_IPC_REPLY_RECV, live, 0), -EINVAL_);
	T_EQ(syscall1(SYS_HANDLE_CLOSE, live), 0);
	T_EQ(syscall1(SYS_HANDLE_CLOSE, live), -EBADF_);
}
