/*
 * vmalloc area (see vmalloc.h).
 *
 * Virtual space: a sorted list of free ranges in [VMALLOC_BASE,
 * VMALLOC_BASE + VMALLOC_SIZE); allocation is first fit, freeing merges
 * with neighbours. Each live area is a struct vm_area on a list, found by
 * its start address when freed. Every area is followed by an unmapped guard
 * page, and areas never touch, so the page below each area is a guard too.
 *
 * Freeing: the pages are unmapped, then kflush_kernel_range() makes sure no
 * CPU can still use the old translations before the frames go back to the
 * allocator (mm/kflush.c documents when that is immediate and when
 * deferred). Only then is the virtual range reused.
 *
 * Locking: vm_lock guards both lists; frames are allocated outside it.
 */
#include "mm/vmalloc.h"
#include "mm/kpaging.h"
#include "mm/kflush.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/pgtable.h"
#include "kernel/list.h"
#include "kernel/spinlock.h"
#include "kernel/panic.h"
#include "arch/x86/cpufeature.h"

struct vm_range {
	struct list_node link;
	uint64_t start, end;
};

struct vm_area {
	struct list_node link;
	uint64_t start;
	uint64_t pages;
};

static struct spinlock vm_lock = SPINLOCK_INIT("vmalloc");
static struct list_node free_ranges = LIST_INIT(free_ranges);
static struct list_node areas = LIST_INIT(areas);
static struct vm_range first_range;
static uint64_t pages_in_use;

static void vm_init_once(void)
{
	if (!list_empty(&free_ranges) || first_range.end)
		return;
	first_range.start = VMALLOC_BASE + PAGE_SIZE; /* the first page is a guard */
	first_range.end = VMALLOC_BASE + VMALLOC_SIZE;
	list_add_tail(&free_ranges, &first_range.link);
}

/* Reserve len bytes of virtual space (plus a guard page after). */
static uint64_t va_alloc(uint64_t len)
{
	struct list_node *pos;
	uint64_t need = len + PAGE_SIZE;

	assert_held(&vm_lock);
	list_for_each (pos, &free_ranges) {
		struct vm_range *r = list_entry(pos, struct vm_range, link);

		if (r->end - r->start >= need) {
			uint64_t va = r->start;

			r->start += need;
			return va;
		}
	}
	return 0;
}

static void va_free(uint64_t va, uint64_t len, struct vm_range *spare)
{
	uint64_t end = va + len + PAGE_SIZE;
	struct list_node *pos;

	assert_held(&vm_lock);
	list_for_each (pos, &free_ranges) {
		struct vm_range *r = list_entry(pos, struct vm_range, link);

		if (r->start == end) { /* grows down into the freed range */
			r->start = va;
			kfree(spare);
			return;
		}
		if (r->end == va) {
			r->end = end;
			kfree(spare);
			return;
		}
		if (r->start > end)
			break;
	}
	spare->start = va;
	spare->end = end;
	list_insert_between(&spare->link, pos->prev, pos);
}

static void *map_area(size_t size, int node)
{
	uint64_t pages = DIV_ROUND_UP(size, PAGE_SIZE);
	struct vm_area *a = kmalloc(sizeof(*a));

	if (!a || !pages)
		goto fail;
	uint64_t f = spin_lock_irqsave(&vm_lock);

	vm_init_once();
	a->start = va_alloc(pages * PAGE_SIZE);
	a->pages = pages;
	if (a->start)
		list_add_tail(&areas, &a->link);
	spin_unlock_irqrestore(&vm_lock, f);
	if (!a->start)
		goto fail;
	for (uint64_t i = 0; i < pages; i++) {
		paddr_t pa = frame_alloc_node(0, FA_ZERO | FA_NOWARN, node);

		if (!pa) {
			a->pages = i;
			vfree((void *)a->start);
			return NULL;
		}
		kmap_page(a->start + i * PAGE_SIZE, pa, PTE_W | (cpu_has(FEAT_NX) ? PTE_NX : 0));
	}
	__atomic_fetch_add(&pages_in_use, pages, __ATOMIC_RELAXED);
	return (void *)a->start;
fail:
	kfree(a);
	return NULL;
}

void *vmalloc(size_t size)
{
	return map_area(size, -1);
}

void vfree(void *p)
{
	uint64_t va = (uint64_t)p;
	struct vm_area *a = NULL;
	struct list_node *pos;

	if (!p)
		return;
	uint64_t f = spin_lock_irqsave(&vm_lock);

	list_for_each (pos, &areas) {
		struct vm_area *x = list_entry(pos, struct vm_area, link);

		if (x->start == va) {
			a = x;
			list_del(&a->link);
			break;
		}
	}
	spin_unlock_irqrestore(&vm_lock, f);
	if (!a)
		panic("vfree: %p is not a vmalloc area", p);

	paddr_t frames[16];
	uint64_t done = 0;

	/* Unmap in batches: the flush must complete before the frames are
	 * reused (another CPU may still hold the translation). */
	while (done < a->pages) {
		uint64_t n = MIN(a->pages - done, ARRAY_SIZE(frames));

		for (uint64_t i = 0; i < n; i++)
			frames[i] = kunmap_page(va + (done + i) * PAGE_SIZE);
		kflush_kernel_range(va + done * PAGE_SIZE, va + (done + n) * PAGE_SIZE);
		for (uint64_t i = 0; i < n; i++) {
			if (frames[i])
				frame_free(frames[i], 0);
		}
		done += n;
	}
	__atomic_fetch_sub(&pages_in_use, a->pages, __ATOMIC_RELAXED);

	struct vm_range *spare = kmalloc(sizeof(*spare));

	BUG_ON(!spare);
	f = spin_lock_irqsave(&vm_lock);
	va_free(a->start, a->pages * PAGE_SIZE, spare);
	spin_unlock_irqrestore(&vm_lock, f);
	kfree(a);
}

void *kstack_alloc(size_t size, int node)
{
	return map_area(size, node);
}

void kstack_free(void *p)
{
	vfree(p);
}

uint64_t vmalloc_pages_in_use(void)
{
	return __atomic_load_n(&pages_in_use, __ATOMIC_RELAXED);
}
