/*
 * vmalloc area (see vmalloc.h).
 *
 * Virtual space: a page bitmap (see va_alloc). Each live area is a struct
 * vm_area on a list, found by its start address when freed. Every area is
 * followed by an unmapped guard page, and areas never touch, so the page
 * below each area is a guard too.
 *
 * Freeing: the pages are unmapped, then kflush_kernel_range() makes sure no
 * CPU can still use the old translations before the frames go back to the
 * allocator (mm/kflush.c documents when that is immediate and when
 * deferred). Only then is the virtual range reused. vfree_many() unmaps up
 * to KFLUSH_RING small areas and flushes them with one IPI round: the
 * reaper frees the stacks of many dead tasks at once (after a process of
 * 500 threads exits, 500 rounds on a 288-CPU machine were minutes).
 *
 * Locking: vm_lock guards the bitmap and the area list; frames are
 * allocated outside it.
 */
#include "mm/vmalloc.h"
#include "mm/kpaging.h"
#include "arch/mmu.h"
#include "mm/kflush.h"
#include "mm/kflush_ring.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "arch/pgtable.h"
#include "lib/list.h"
#include "lib/spinlock.h"
#include "lib/panic.h"

struct vm_area {
	struct list_node link;
	uint64_t start;
	uint64_t pages;	   /* mapped */
	uint64_t reserved; /* of virtual space (pages + the guard after: va_alloc) */
};

/*
 * Virtual space: a bitmap of the first VM_WINDOW bytes of the area, one
 * bit per page, first fit. Each area reserves its pages plus the guard
 * page after it; the first page of the window is a guard. No heap memory
 * per range, and first fit keeps the used span (and the kernel page tables
 * that map it) compact, so a steady workload's memory use is steady.
 * vm_first_free: every page below it is used, so the first fit starts
 * there (what a scan from page 1 would find, without walking the kernel
 * stacks and other long-lived areas at the bottom; until 2026-12-03 each
 * vmalloc walked them bit by bit, 640 instructions in kernel_unmap_0).
 * Test: vmalloc_first_fit.
 */
#define VM_WINDOW (4ull << 30)
#define VM_PAGES  (VM_WINDOW / PAGE_SIZE)

static struct spinlock vm_lock = SPINLOCK_INIT("vmalloc");
static struct list_node areas = LIST_INIT(areas);
static uint64_t vm_bitmap[VM_PAGES / 64];
static uint64_t vm_first_free = 1; /* page 0 is the guard below the first area */
static uint64_t pages_in_use;

static bool page_used(uint64_t i)
{
	return vm_bitmap[i / 64] & (1ull << (i % 64));
}

static void mark(uint64_t first, uint64_t n, bool used)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (used)
			vm_bitmap[i / 64] |= 1ull << (i % 64);
		else
			vm_bitmap[i / 64] &= ~(1ull << (i % 64));
	}
}

/* Reserve len bytes of virtual space (plus a guard page after). */
static uint64_t va_alloc(uint64_t len)
{
	uint64_t need = len / PAGE_SIZE + 1;

	assert_held(&vm_lock);
	vm_bitmap[0] |= 1; /* page 0: the guard below the first area */
	uint64_t i = vm_first_free, run = 0;

	while (i + need - run <= VM_PAGES) {
		if (!(i % 64) && run == 0 && vm_bitmap[i / 64] == ~0ull) {
			i += 64; /* a full word: skip it */
			continue;
		}
		run = page_used(i) ? 0 : run + 1;
		i++;
		if (run == need) {
			uint64_t first = i - need;

			mark(first, need, true);
			if (first == vm_first_free) /* else a smaller hole stays below */
				vm_first_free = first + need;
			return VMALLOC_BASE + first * PAGE_SIZE;
		}
	}
	return 0;
}

static void va_free(uint64_t va, uint64_t len)
{
	assert_held(&vm_lock);
	uint64_t first = (va - VMALLOC_BASE) / PAGE_SIZE;

	mark(first, len / PAGE_SIZE + 1, false);
	vm_first_free = MIN(vm_first_free, first);
}

static void *map_area(size_t size, int node)
{
	uint64_t pages = DIV_ROUND_UP(size, PAGE_SIZE);
	struct vm_area *a = kmalloc(sizeof(*a));

	if (!a || !pages)
		goto fail;
	uint64_t f = spin_lock_irqsave(&vm_lock);

	a->start = va_alloc(pages * PAGE_SIZE);
	a->pages = pages;
	a->reserved = pages;
	if (a->start)
		list_add_tail(&areas, &a->link);
	spin_unlock_irqrestore(&vm_lock, f);
	if (!a->start)
		goto fail;
	for (uint64_t i = 0; i < pages; i++) {
		paddr_t pa = frame_alloc_node(0, FA_ZERO | FA_NOWARN, node);

		/* Unmapped later: never global. A page table it needs may not
		 * be had either (kmap_page_try). */
		if (pa && !kmap_page_try(a->start + i * PAGE_SIZE, pa,
					 PTE_W | (arch_mmu_has_nx() ? PTE_NX : 0), false)) {
			page_free(pa);
			pa = 0;
		}
		if (!pa) {
			/* vfree() unmaps the i pages mapped so far and takes
			 * them off pages_in_use: count them first (without
			 * this, every partial failure shrank the count). The
			 * whole reservation goes back (a->reserved): giving
			 * back only i pages of it leaked the rest for good
			 * (regression vmalloc_partial_failure_frees_va). */
			a->pages = i;
			__atomic_fetch_add(&pages_in_use, i, __ATOMIC_RELAXED);
			vfree((void *)a->start);
			return NULL;
		}
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

/* Unlink p's area from the list (it must be one). */
static struct vm_area *area_take(void *p)
{
	uint64_t va = (uint64_t)p;
	struct vm_area *a = NULL;
	struct list_node *pos;
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
	return a;
}

/* After the flush: the frames and the virtual range go back. */
static void area_release(struct vm_area *a)
{
	__atomic_fetch_sub(&pages_in_use, a->pages, __ATOMIC_RELAXED);
	uint64_t f = spin_lock_irqsave(&vm_lock);

	va_free(a->start, a->reserved * PAGE_SIZE);
	spin_unlock_irqrestore(&vm_lock, f);
	kfree(a);
}

/* Unmap a's pages in batches and flush each batch before its frames go
 * back (another CPU may still hold the translation). */
static void vfree_area(struct vm_area *a)
{
	uint64_t va = a->start;
	paddr_t frames[16];
	uint64_t done = 0;

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
	area_release(a);
}

void vfree(void *p)
{
	if (p)
		vfree_area(area_take(p));
}

/* Small areas freed together: unmapped, one kflush_kernel_ranges() for
 * all of them (one IPI round instead of one per area), then released. */
#define BATCH_PAGES 8

struct vfree_batch {
	uint32_t n;
	struct vm_area *area[KFLUSH_RING];
	struct kflush_range range[KFLUSH_RING];
	paddr_t frames[KFLUSH_RING][BATCH_PAGES];
};

static void vfree_batch_flush(struct vfree_batch *b)
{
	if (!b->n)
		return;
	kflush_kernel_ranges(b->range, b->n);
	for (uint32_t i = 0; i < b->n; i++) {
		for (uint64_t p = 0; p < b->area[i]->pages; p++) {
			if (b->frames[i][p])
				frame_free(b->frames[i][p], 0);
		}
		area_release(b->area[i]);
	}
	b->n = 0;
}

void vfree_many(void *const *ps, uint32_t n)
{
	struct vfree_batch b = { .n = 0 };

	for (uint32_t i = 0; i < n; i++) {
		if (!ps[i])
			continue;
		struct vm_area *a = area_take(ps[i]);

		if (a->pages > BATCH_PAGES) {
			vfree_area(a);
			continue;
		}
		for (uint64_t p = 0; p < a->pages; p++)
			b.frames[b.n][p] = kunmap_page(a->start + p * PAGE_SIZE);
		b.range[b.n] =
			(struct kflush_range){ 0, a->start, a->start + a->pages * PAGE_SIZE };
		b.area[b.n++] = a;
		if (b.n == KFLUSH_RING)
			vfree_batch_flush(&b);
	}
	vfree_batch_flush(&b);
}

void *kstack_alloc(size_t size, int node)
{
	return map_area(size, node);
}

void kstack_free(void *p)
{
	vfree(p);
}

void kstack_free_many(void *const *stacks, uint32_t n)
{
	vfree_many(stacks, n);
}

uint64_t vmalloc_pages_in_use(void)
{
	return __atomic_load_n(&pages_in_use, __ATOMIC_RELAXED);
}
