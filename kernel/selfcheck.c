/*
 * Boot-time invariant checks (see selfcheck.h). A violation at boot is a
 * kernel bug: selfcheck_run_boot() panics so no test run can pass with it.
 */
#include "kernel/selfcheck.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "kernel/ktest.h"
#include "mm/ptwalk.h"
#include "mm/kpaging.h"
#include "mm/frame.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "arch/layout.h"
#include "arch/static_branch.h"

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

struct user_ctx {
	const struct mm *mm;
	int violations;
	uint64_t pages;
};

/* Why the frame behind a user mapping must not be there, or NULL. A
 * memory object's frame belongs to the object, not to the mapping
 * (mm/memobj.c): it is not FRAME_USER. */
static const char *user_frame_problem(paddr_t pa, bool memobj)
{
	struct frame *f = pa_to_frame(pa);

	if (!f || (f->flags & FRAME_RESERVED))
		return "not allocatable RAM (kernel image, firmware or MMIO)";
	if (frame_in_free_block(pa))
		return "a free frame";
	if (f->flags & (FRAME_PGTABLE | FRAME_SLAB | FRAME_KSTACK))
		return "a kernel frame (page table, heap slab or kernel stack)";
	if (!memobj && !(f->flags & FRAME_USER))
		return "not accounted as a user frame";
	return NULL;
}

static bool user_leaf(const struct pt_leaf *l, void *p)
{
	struct user_ctx *c = p;
	const struct vma *v = mm_vma_at(c->mm, l->va);
	const char *why = user_frame_problem(l->pa, v && v->mo);

	c->pages++;
	if (why) {
		pr_err("selfcheck: user page %#lx maps frame %#lx: %s", l->va, l->pa, why);
		c->violations++;
	}
	if (!l->user) {
		pr_err("selfcheck: user-half address %#lx is not user-accessible (pte %#lx): "
		       "SMEP/SMAP would not guard it",
		       l->va, l->pte);
		c->violations++;
	}
	if (l->write && l->exec) {
		pr_err("selfcheck: user page %#lx is writable and executable (pte %#lx)", l->va,
		       l->pte);
		c->violations++;
	}
	/* Unmapping takes a page's entry before its VMA (and a fault maps
	 * only inside one): a page outside every VMA outlived an unmap. */
	if (!v) {
		pr_err("selfcheck: user page %#lx is outside every VMA (pte %#lx)", l->va, l->pte);
		c->violations++;
	}
	return true;
}

int selfcheck_mm(const struct mm *mm)
{
	struct user_ctx c = { mm, 0, 0 };

	pt_walk_leaves(mm->root, 0, USER_TOP, user_leaf, &c);
	return c.violations + pti_check_user_root(mm);
}

static bool idt_leaf(const struct pt_leaf *l, void *p)
{
	*(int *)p = l->write;
	return false;
}

/*
 * The IDT the CPU uses is a read-only alias (arch/x86/cpu_setup.c), so a
 * stray kernel write cannot redirect an interrupt. The GDT and TSS stay
 * writable: LTR sets the busy bit in the TSS descriptor in the GDT, and the
 * TSS holds RSP0 and the IST pointers, written at every switch.
 */
int selfcheck_idt_readonly(void)
{
	struct __packed {
		uint16_t limit;
		uint64_t base;
	} d;
	int writable = -1;

	__asm__ __volatile__("sidt %0" : "=m"(d));
	pt_walk_leaves(kernel_root, d.base, d.base + 1, idt_leaf, &writable);
	if (writable) {
		pr_err("selfcheck: the live IDT at %#lx is %s", d.base,
		       writable < 0 ? "not mapped" : "writable");
		return 1;
	}
	return 0;
}

int selfcheck_run_boot(void)
{
	int bad = selfcheck_kernel_wx() + selfcheck_idt_readonly();
	const char *err = frame_check();

	if (err) {
		pr_err("selfcheck: frame allocator: %s", err);
		bad++;
	}
	if (bad)
		panic("selfcheck: %d invariant violation(s) at boot", bad);
	pr_info("selfcheck: kernel W^X, read-only IDT, user bit and frame allocator invariants "
		"hold");
	return 0;
}

KTEST(kpaging_wx)
{
	KT_EXPECT_EQ(t, selfcheck_kernel_wx(), 0);
}

/* Every static branch holds what the boot's patch writes for its flag's
 * value now (arch/static_branch.h): fails if the patch did not run (a site
 * still jumps to its test) or a flag changed after it. */
KTEST(static_branch_sites_match_their_flags)
{
	KT_EXPECT(t, __static_branch_end - __static_branch_start > 0);
	KT_EXPECT_EQ(t, static_branches_check(), 0);
	KT_EXPECT_EQ(t, (long)(static_branches_taken + static_branches_not_taken),
		     (long)(__static_branch_end - __static_branch_start));
}

/* Two flags that nothing writes, one true and one false: each site takes
 * its flag's branch (patched, or through its test before the patch). */
static bool probe_on = true, probe_off;

static __noinline int static_branch_probe(void)
{
	return (static_branch(&probe_on) ? 1 : 0) | (static_branch(&probe_off) ? 2 : 0);
}

KTEST(static_branch_takes_its_flags_branch)
{
	KT_EXPECT_EQ(t, static_branch_probe(), 1);
}

KTEST(idt_is_read_only)
{
	KT_EXPECT_EQ(t, selfcheck_idt_readonly(), 0);
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

/* The leaf PTE of va in root (4 KiB pages only), or NULL. */
static pte_t *leaf_pte(paddr_t root, uint64_t va)
{
	pte_t *t = pt_table(root);

	for (int level = 4; level > 1; level--) {
		pte_t e = t[pt_index(va, level)];

		if (!(e & PTE_P) || (e & PTE_PS))
			return NULL;
		t = pt_table(pte_addr(e));
	}
	return &t[pt_index(va, 1)];
}

/* The walkers pass a real address space, and catch each kind of violation
 * planted in one (the mm is never loaded, so no flush is needed). */
KTEST(mm_invariants_hold_and_catch_violations)
{
	struct mm *mm = mm_create();
	uint64_t rw = 0, rx = 0;

	KT_ASSERT(t, mm != NULL);
	KT_ASSERT(t, mm_map(mm, &rw, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_POPULATE) == 0);
	KT_ASSERT(t, mm_map(mm, &rx, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_POPULATE) == 0);
	KT_ASSERT(t, mm_protect(mm, rx, 4 * PAGE_SIZE, PROT_READ | PROT_EXEC) == 0);
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 0);

	pte_t *e = leaf_pte(mm->root, rw), saved;

	KT_ASSERT(t, e != NULL);
	saved = *e;
	*e &= ~PTE_U; /* a user page the kernel could touch without STAC */
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 1);
	*e = saved;

	/* A user page on a page-table frame, and on a free frame. */
	*e = (saved & ~PTE_ADDR) | mm->root;
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 1);
	paddr_t gone = page_alloc(0);

	KT_ASSERT(t, gone != 0);
	page_free(gone);
	*e = (saved & ~PTE_ADDR) | gone;
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 1);
	*e = saved;

	/* A page past the VMA's end (the hole find_gap() leaves after it),
	 * of a frame that is fine: an unmap that left it behind. */
	e[4] = saved;
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 1);
	e[4] = 0;

	e = leaf_pte(mm->root, rx);
	KT_ASSERT(t, e != NULL);
	saved = *e;
	*e |= PTE_W; /* writable and executable */
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 1);
	*e = saved;

	if (mm->user_root) {
		/* The user root maps the kernel's direct map. */
		pte_t *u = pt_table(mm->user_root), *k = pt_table(mm->root);
		unsigned i = pt_index(DIRECT_MAP_BASE, 4);
		pte_t was = u[i];

		u[i] = k[i];
		KT_EXPECT(t, selfcheck_mm(mm) > 0);
		u[i] = was;
	}
	KT_EXPECT_EQ(t, selfcheck_mm(mm), 0);
	mm_put(mm);
}
