/*
 * One kernel (vmalloc) page remapped in place, for the stale-read torture
 * (user/utest/t_stale.c, SYST_KSTALE): the user test reads it through the
 * kernel on one CPU while another CPU remaps it, so a deferred kernel
 * flush that is never caught up (tlbinject=skip_kflush) shows as a read of
 * the old frame.
 *
 *   SETUP     vmalloc the page, tag it 1
 *   READ      -> the word at the page's start, read through its virtual
 *             address on this CPU (what this CPU's TLB says)
 *   REMAP     unmap, flush (kflush_kernel_range: deferred for CPUs in user
 *             mode or idle), free the old frame, map a new one tagged
 *             tag + 1 at the same address -> the new tag
 *   TEARDOWN  vfree
 *
 * A READ and a REMAP never overlap: each claims the page under kst_lock
 * (REMAP only when no READ is in flight, READ only when no REMAP is), and
 * the loser gets -EBUSY, so a READ never touches the page while it is
 * unmapped. The lock is not held across the flush or the read.
 */
#include "mm/kstale.h"
#include "mm/vmalloc.h"
#include "mm/kpaging.h"
#include "mm/kflush.h"
#include "mm/frame.h"
#include "arch/pgtable.h"
#include "lib/spinlock.h"
#include "include/uapi/errno.h"
#include "arch/mmu.h"

static struct spinlock kst_lock = SPINLOCK_INIT("kstale");
static uint64_t *kst_page; /* the mapping; NULL when not set up */
static uint64_t kst_tag;
static uint32_t kst_readers; /* READs in flight */
static bool kst_remapping;

/* Claim the page for a READ (!remap) or a REMAP; false: busy or absent. */
static bool claim(bool remap)
{
	uint64_t f = spin_lock_irqsave(&kst_lock);
	bool ok = kst_page && !kst_remapping && (!remap || !kst_readers);

	if (ok && remap)
		kst_remapping = true;
	else if (ok)
		kst_readers++;
	spin_unlock_irqrestore(&kst_lock, f);
	return ok;
}

static void release(bool remap)
{
	uint64_t f = spin_lock_irqsave(&kst_lock);

	if (remap)
		kst_remapping = false;
	else
		kst_readers--;
	spin_unlock_irqrestore(&kst_lock, f);
}

static long remap(void)
{
	uint64_t va = (uint64_t)kst_page;
	paddr_t pa = page_alloc(0), old;

	if (!pa)
		return -ENOMEM;
	*(uint64_t *)phys_to_virt(pa) = kst_tag + 1;
	old = kunmap_page(va);
	kflush_kernel_range(va, va + PAGE_SIZE);
	if (old)
		page_free(old);
	kmap_page(va, pa, PTE_W | (arch_mmu_has_nx() ? PTE_NX : 0), false);
	return (long)++kst_tag;
}

long kstale_op(uint64_t op)
{
	long r;

	switch (op) {
	case KSTALE_SETUP: {
		uint64_t *p = vmalloc(PAGE_SIZE);
		uint64_t f;

		if (!p)
			return -ENOMEM;
		p[0] = 1;
		f = spin_lock_irqsave(&kst_lock);
		if (kst_page) {
			spin_unlock_irqrestore(&kst_lock, f);
			vfree(p);
			return -EBUSY;
		}
		kst_page = p;
		kst_tag = 1;
		spin_unlock_irqrestore(&kst_lock, f);
		return 1;
	}
	case KSTALE_READ:
		if (!claim(false))
			return -EBUSY;
		r = (long)READ_ONCE(kst_page[0]);
		release(false);
		return r;
	case KSTALE_REMAP:
		if (!claim(true))
			return -EBUSY;
		r = remap();
		release(true);
		return r;
	case KSTALE_TEARDOWN: {
		if (!claim(true))
			return -EBUSY;
		uint64_t *p = kst_page;
		uint64_t f = spin_lock_irqsave(&kst_lock);

		kst_page = NULL;
		kst_remapping = false;
		spin_unlock_irqrestore(&kst_lock, f);
		vfree(p);
		return 0;
	}
	default:
		return -EINVAL;
	}
}
