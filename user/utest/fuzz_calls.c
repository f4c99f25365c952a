/* syscall_fuzz: one call of each kind (see fuzz.h, t_fuzz.c). */
#include "user/utest/fuzz.h"
#include "include/uapi/test.h"

/* ---- the calls ---- */

static void kept_add(int *list, int v)
{
	for (int i = 0; i < MAX_KEPT; i++) {
		if (!list[i]) {
			list[i] = v;
			return;
		}
	}
}

static int kept_pick(struct rng *r, int *list)
{
	return list[below(r, MAX_KEPT)];
}

static void kept_drop(int *list, int v)
{
	for (int i = 0; i < MAX_KEPT; i++) {
		if (list[i] == v)
			list[i] = 0;
	}
}

static void helper_fn(void *arg)
{
	struct rng r = { (uint64_t)arg | 1 };

	for (uint64_t i = below(&r, 4); i; i--)
		syscall2(below(&r, 2) ? SYS_YIELD : SYS_GET_CPU, 0, 0);
	if (below(&r, 2))
		thread_exit((int)below(&r, 100));
}

/* Clears the out buffer we will scan (only inside our arena). */
static void out_prepare(struct worker *w, uint64_t p)
{
	uint64_t a = (uint64_t)w->arena;

	if (p >= a && p < a + ARENA_SIZE)
		memset((void *)p, 0, MIN(1024, a + ARENA_SIZE - p));
}

static void out_check(struct worker *w, uint64_t nr, uint64_t p)
{
	uint64_t a = (uint64_t)w->arena;

	if (p < a || p >= a + ARENA_SIZE)
		return;
	for (uint64_t q = p; q + 8 <= MIN(p + 1024, a + ARENA_SIZE); q += 8) {
		uint64_t v;

		memcpy(&v, (void *)q, 8);
		if (kernel_looking(v))
			fuzz_fail(w, "kernel address in an output buffer", nr, v);
	}
}

static long call_mm(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t len = any_len(r), a = vm_addr(w, &len);
	long ret;

	if (nr == SYS_MAP) {
		uint64_t flags = below(r, 5);

		if ((flags & UMAP_POPULATE) && len > (1 << 20))
			flags &= ~(uint64_t)UMAP_POPULATE;
		if (below(r, 4) == 0)
			a = 0;
		ret = syscall4(SYS_MAP, a, len, below(r, 9), flags);
		if (ret >= 0) {
			uint64_t got = (uint64_t)ret;

			if (got >= USER_TOP_ || (got & 4095) || ((flags & UMAP_FIXED) && got != a))
				fuzz_fail(w, "map returned a wrong address", nr, got);
			/* Keep what a plain map() placed: a fresh range nothing else
			 * uses. (Not a fixed one: it may lie over a range we keep
			 * already, and unmapping one record would leave the other
			 * pointing at whatever map() puts there next, such as a
			 * thread's stack.) */
			if (!(flags & UMAP_FIXED) &&
			    (got < WINDOW || got >= WINDOW + WINDOW_SIZE)) {
				uint64_t k = below(r, MAX_KEPT);

				if (w->maps[k][0])
					syscall2(SYS_UNMAP, w->maps[k][0], w->maps[k][1]);
				w->maps[k][0] = got;
				w->maps[k][1] = len;
			}
		}
		return ret;
	}
	if (nr == SYS_UNMAP) {
		ret = syscall2(SYS_UNMAP, a, len);
		for (int k = 0; k < MAX_KEPT; k++) {
			if (ret == 0 && w->maps[k][0] == a && w->maps[k][1] == len)
				w->maps[k][0] = 0;
		}
		return ret;
	}
	return syscall3(SYS_PROTECT, a, len, below(r, 9));
}

static long call_ipc(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t m[4] = { clean_word(r), clean_word(r), clean_word(r), clean_word(r) };
	uint64_t h = nr == SYS_IPC_REPLY ? any_int(r) : bad_handle(r);
	long ret = ipc_syscall((long)nr, (long)h, m);

	for (int i = 0; i < 4 && ret >= 0; i++) {
		if (kernel_looking(m[i]))
			fuzz_fail(w, "kernel address in an IPC message word", nr, m[i]);
	}
	return ret;
}

static long call_spawn(struct worker *w)
{
	struct rng *r = &w->r;

	if (below(r, 64) == 0) {
		int pid = spawn("utest", "role_exit 3");

		if (pid > 0) {
			if (below(r, 2))
				kept_add(w->pids, pid);
			else
				wait_pid(pid, NULL);
		}
		return pid;
	}
	return syscall4(SYS_SPAWN, any_ptr(w), any_len(r), any_ptr(w), any_len(r));
}

static long call_procs(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t p = any_ptr(w);
	long ret;

	switch (nr) {
	case SYS_WAIT: {
		int pid = below(r, 2) ? kept_pick(r, w->pids) : (int)any_int(r);

		if (pid == 0 || pid == getpid())
			pid = 1; /* init: not our child */
		out_prepare(w, p);
		ret = syscall2(SYS_WAIT, pid, p);
		if (ret == 0 || ret == -10)
			kept_drop(w->pids, pid);
		out_check(w, nr, p);
		return ret;
	}
	case SYS_KILL: {
		/* Ours, init, our parent (both must be refused), or nobody. */
		int others[] = { 1, fz.parent, 0, -1 };
		int pid = kept_pick(r, w->pids);

		if (!pid || below(r, 2))
			pid = below(r, 2) ? others[below(r, 4)]
					  : (int)(0x40000000 + below(r, 1 << 20));
		ret = syscall1(SYS_KILL, pid);
		if ((pid == 1 || pid == fz.parent) && ret != -1)
			fuzz_fail(w, "kill of a process not ours did not return -EPERM", nr,
				  (uint64_t)ret);
		return ret;
	}
	case SYS_THREAD_CREATE:
		if (below(r, 4) == 0) {
			int tid = thread_create(helper_fn, (void *)rnd(r));

			if (tid > 0) {
				int old = w->tids[below(r, MAX_KEPT)];

				if (old) {
					thread_join(old, NULL);
					kept_drop(w->tids, old);
				}
				kept_add(w->tids, tid);
			}
			return tid;
		}
		/* An entry point the kernel must refuse (a user one would run). */
		uint64_t entry = bad_ptr(r);

		entry = entry < USER_TOP_ ? KADDR_MIN : entry;
		ret = syscall3(SYS_THREAD_CREATE, entry, any_ptr(w), rnd(r));
		if (ret >= 0)
			fuzz_fail(w, "a thread was created at a kernel address", nr, (uint64_t)ret);
		return ret;
	default: { /* SYS_THREAD_JOIN */
		int tid = below(r, 2) ? kept_pick(r, w->tids) : 0;

		if (!tid)
			tid = below(r, 2) ? gettid() : (int)(0x40000000 + below(r, 1 << 20));
		out_prepare(w, p);
		ret = syscall2(SYS_THREAD_JOIN, tid, p);
		if (ret == 0)
			kept_drop(w->tids, tid);
		out_check(w, nr, p);
		return ret;
	}
	}
}

static long call_test(struct worker *w)
{
	struct rng *r = &w->r;
	uint64_t op = below(r, SYST_WHERE + 1), a = any_ptr(w), b = any_len(r);

	switch (op) {
	case SYST_WHERE: /* a page of serial output: try an op that is not one */
		op = SYST_WHERE + 1 + below(r, 1000);
		/* SYST_KILL_THREAD could end a sibling worker; SYST_IPCFAST
		 * would change which IPC path later tests measure; SYST_SQUEEZE
		 * would leave the machine without memory. */
		if (op == SYST_KILL_THREAD || op == SYST_IPCFAST || op == SYST_SQUEEZE)
			op = SYST_KOBJS;
		break;
	case SYST_KERNEL_UNMAP:
		a = below(r, 70);
		b = any_ptr(w);
		out_prepare(w, b);
		break;
	case SYST_TASK_CPU:
	case SYST_TASK_OFF_CPU:
		a = any_int(r);
		break;
	case SYST_CPU_HAS:
	case SYST_SWITCH:
		b = below(r, 40);
		break;
	}
	/* The [hwres] hooks: with our hardware-resource handle half the time
	 * (they run), a random word the other half (they must refuse). */
	long ret = syscall6(SYS_TEST, op, a, b, rnd(r), below(r, 2) ? hwres_handle() : (long)rnd(r),
			    0);

	if (op == SYST_KERNEL_UNMAP)
		out_check(w, SYS_TEST, b);
	/* Refused (< 0) without the hardware resource. */
	if (op == SYST_CHECK_MM && ret > 0)
		fuzz_fail(w, "SYST_CHECK_MM found invariant violations", op, (uint64_t)ret);
	return ret;
}

static long call_info(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t p = any_ptr(w), len = any_len(r), a = any_int(r);
	long ret;

	out_prepare(w, p);
	switch (nr) {
	case SYS_COUNTERS:
		ret = syscall3(SYS_COUNTERS, p, len, below(r, 2) ? (uint64_t)-1 : a);
		break;
	case SYS_COUNTER_NAME:
		ret = syscall3(SYS_COUNTER_NAME, a, p, len);
		break;
	default:
		ret = syscall3(SYS_KINFO, below(r, 2) ? below(r, 6) : a, p, len);
		break;
	}
	out_check(w, nr, p);
	return ret;
}

static long call_console(struct worker *w)
{
	struct rng *r = &w->r;

	switch (below(r, 3)) {
	case 0: /* a few dots, then the hole: -EFAULT */
		return syscall2(SYS_CONSOLE_WRITE, fz.text + PAGE_SIZE - 1 - below(r, 4),
				2 + below(r, 8));
	case 1:
		return syscall2(SYS_CONSOLE_WRITE, bad_ptr(r), any_len(r));
	default:
		return syscall2(SYS_CONSOLE_WRITE, fz.text,
				below(r, 2) ? 0 : (1ull << 20) + rnd(r));
	}
}

static long call_misc(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;

	switch (nr) {
	case SYS_SLEEP: {
		static const uint64_t bad[] = { 3600ull * 1000000000ull + 1, ~0ull, 1ull << 63 };

		/* A real sleep lasts until the next tick (hz=100): keep them rare. */
		return syscall1(SYS_SLEEP, below(r, 32) ? bad[below(r, 3)] : below(r, 20000));
	}
	case SYS_SET_AFFINITY: {
		uint64_t p = any_ptr(w), tid = below(r, 2) ? 0 : any_int(r);

		if (tid && tid < (1 << 20) && below(r, 4))
			tid = (uint64_t)gettid();
		return syscall3(SYS_SET_AFFINITY, tid, p,
				below(r, 2) ? 8 * below(r, 3) : any_len(r));
	}
	case SYS_FUTEX_WAIT: { /* always a bounded timeout; few of them wait */
		uint64_t p = any_ptr(w), a = (uint64_t)w->arena;
		bool ours = p >= a && p < a + ARENA_SIZE;

		return syscall3(SYS_FUTEX_WAIT, p, ours && below(r, 16) ? 0x5a5a5a5a : 0,
				1 + below(r, 20000));
	}
	case SYS_FUTEX_WAKE:
		return syscall2(SYS_FUTEX_WAKE, any_ptr(w), any_int(r));
	case SYS_EP_CREATE: /* closed at once: the table stays for the blockers */
		return syscall1(SYS_HANDLE_CLOSE, syscall0(SYS_EP_CREATE));
	case SYS_HANDLE_DUP:
	case SYS_HANDLE_INFO:
	case SYS_HANDLE_CLOSE: /* never one of ours (user/utest/fuzz_handles.c does those) */
		return syscall2(nr, bad_handle(r), any_int(r));
	case SYS_TRACE:
		if (fz.trace_on)
			return 0;
		return syscall2(SYS_TRACE, any_int(r), any_int(r));
	default:
		return syscall6((long)nr, (long)any_int(r), (long)any_int(r), (long)any_int(r),
				(long)any_int(r), (long)any_int(r), (long)any_int(r));
	}
}

long fuzz_one(struct worker *w, uint64_t nr)
{
	switch (nr) {
	case SYS_MAP:
	case SYS_UNMAP:
	case SYS_PROTECT:
		return call_mm(w, nr);
	case SYS_IPC_CALL:
	case SYS_IPC_REPLY_RECV:
	case SYS_IPC_RECV:
	case SYS_IPC_REPLY:
		return call_ipc(w, nr);
	case SYS_SPAWN:
		return call_spawn(w);
	case SYS_WAIT:
	case SYS_KILL:
	case SYS_THREAD_CREATE:
	case SYS_THREAD_JOIN:
		return call_procs(w, nr);
	case SYS_TEST:
		return call_test(w);
	case SYS_COUNTERS:
	case SYS_COUNTER_NAME:
	case SYS_KINFO:
		return call_info(w, nr);
	case SYS_CONSOLE_WRITE:
		return call_console(w);
	default:
		return call_misc(w, nr);
	}
}

/* How often each call is drawn, out of 16 per number: calls that wait for
 * every CPU of the process (an IPI round trip: milliseconds under TCG with
 * more virtual CPUs than host cores) would take all the time otherwise.
 * Index NR_SYSCALLS stands for the unknown numbers. */
static uint8_t weight(uint64_t nr)
{
	switch (nr) {
	case SYS_PASID_BIND:
	case SYS_PASID_UNBIND:
		return 1;
	case SYS_MEMBARRIER:
		return 4;
	default:
		return 16;
	}
}

static uint8_t pick_table[(NR_SYSCALLS + 1) * 16];
static uint32_t pick_len;

void pick_init(void)
{
	for (uint64_t nr = 0; nr <= NR_SYSCALLS; nr++) {
		for (int i = 0; i < weight(nr); i++)
			pick_table[pick_len++] = (uint8_t)nr;
	}
}

uint64_t fuzz_pick(struct rng *r)
{
	return pick_table[below(r, pick_len)];
}
