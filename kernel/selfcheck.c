/*
 * Boot-time invariant checks (see selfcheck.h). A violation at boot is a
 * kernel bug: selfcheck_run_boot() panics so no test run can pass with it.
 */
#include "kernel/selfcheck.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/ktest.h"
#include "mm/ptwalk.h"
#include "mm/kpaging.h"
#include "mm/frame.h"

extern char __text_start[], __text_end[];

struct wx_ctx {
	int violations;
	uint64_t exec_pages;
};

static bool wx_leaf(const struct pt_leaf *l, void *p)
{
	struct wx_ctx *c = p;

	if (l->exec) {
		c->exec_pages++;
		if (l->write) {
			pr_err("selfcheck: %#lx is writable and executable (pte %#lx)", l->va,
			       l->pte);
			c->violations++;
		}
		if (l->va < (uint64_t)__text_start || l->va >= (uint64_t)__text_end) {
			pr_err("selfcheck: %#lx outside kernel text is executable", l->va);
			c->violations++;
		}
	}
	if (l->user) {
		pr_err("selfcheck: kernel-half address %#lx is user-accessible", l->va);
		c->violations++;
	}
	return true;
}

int selfcheck_kernel_wx(void)
{
	struct wx_ctx c = { 0, 0 };

	pt_walk_leaves(kernel_root, 0xffff800000000000ull, ~0ull, wx_leaf, &c);
	if (!c.exec_pages) {
		pr_err("selfcheck: no executable kernel page found");
		c.violations++;
	}
	return c.violations;
}

int selfcheck_run_boot(void)
{
	int bad = selfcheck_kernel_wx();
	const char *err = frame_check();

	if (err) {
		pr_err("selfcheck: frame allocator: %s", err);
		bad++;
	}
	if (bad)
		panic("selfcheck: %d invariant violation(s) at boot", bad);
	pr_info("selfcheck: kernel W^X, user bit and frame allocator invariants hold");
	return 0;
}

KTEST(kpaging_wx)
{
	KT_EXPECT_EQ(t, selfcheck_kernel_wx(), 0);
}

KTEST(frame_allocator_consistent)
{
	KT_EXPECT(t, frame_check() == NULL);
}

#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"

/* The protections are on wherever the CPU has them (and the switch did not
 * turn them off: the test boots use the defaults). */
KTEST(cpu_protections_enabled)
{
	uint64_t cr4 = read_cr4();

	KT_EXPECT(t, !cpu_has(FEAT_SMEP) || (cr4 & CR4_SMEP));
	KT_EXPECT(t, !cpu_has(FEAT_SMAP) || (cr4 & CR4_SMAP));
	KT_EXPECT(t, !cpu_has(FEAT_UMIP) || (cr4 & CR4_UMIP));
	KT_EXPECT(t, !cpu_has(FEAT_NX) || (rdmsr(MSR_EFER) & EFER_NXE));
	KT_EXPECT(t, read_cr0() & CR0_WP);
}
