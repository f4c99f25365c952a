/*
 * Test-only system-call hooks (see syscall_test.h).
 */
#include "kernel/syscall_test.h"
#include "kernel/errno.h"
#include "kernel/proc.h"
#include "sched/task.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/vmalloc.h"
#include "mm/kpaging.h"
#include "kernel/uaccess.h"
#include "kernel/string.h"
#include "arch/x86/cpufeature.h"

long syscall_test(uint64_t op, uint64_t a, uint64_t b, uint64_t c)
{
	(void)b;
	(void)c;
	switch (op) {
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
		uint32_t v;

		if (!user_range_valid(a, 4))
			return -EINVAL;
		return probe_user_no_stac(&v, a);
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
	case SYST_PROCS:
		return (long)proc_count();
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
