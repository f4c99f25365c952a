/*
 * Kernel page tables (see kpaging.h).
 *
 * Permissions (W^X, checked by ktest kpaging_wx): kernel text RX, rodata
 * and the symbol table R+NX, data/bss RW+NX, the direct map RW+NX, MMIO
 * RW+NX uncached, the IDT alias R+NX. Nothing in the kernel half is both
 * writable and executable.
 *
 * Locking: kpt_lock guards changes below the kernel-half PML4 entries.
 */
#include "mm/kpaging.h"
#include "mm/memmap.h"
#include "mm/frame.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "lib/spinlock.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "mm/kheap.h"
#include "arch/mem.h"

paddr_t kernel_root;
bool kpaging_global;
uint64_t kpt_pages; /* kernel page-table pages from the frame allocator */
static bool frames_ready;
static struct spinlock kpt_lock = SPINLOCK_INIT("kpt");
static uint64_t ioremap_next = IOREMAP_BASE;

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[], __ksyms_start[], __ksyms_end[];

/* A page for a kernel page table; at run time 0 when may_fail and no
 * frame is free (a vmalloc then fails with it: regression
 * vmalloc_oom_new_page_table_fails_cleanly, where any thread_create under
 * memory pressure could panic the kernel; found in review). */
static paddr_t kpt_alloc_page_or(bool may_fail)
{
	if (!frames_ready)
		return early_alloc(PAGE_SIZE, 1ull << 32); /* the boot direct map covers 4 GiB */
	paddr_t pa = frame_alloc(0, FA_ZERO | (may_fail ? FA_NOWARN : 0));

	if (!pa) {
		if (may_fail)
			return 0;
		panic("kpaging: out of memory for kernel page tables");
	}
	pa_to_frame(pa)->flags |= FRAME_PGTABLE;
	__atomic_fetch_add(&kpt_pages, 1, __ATOMIC_RELAXED);
	return pa;
}

paddr_t kpt_alloc_page(void)
{
	return kpt_alloc_page_or(false);
}

void kpaging_frames_ready(void)
{
	frames_ready = true;
}

/* Walks to the entry at `level` for va, creating tables on the way; NULL
 * if may_fail and a table could not be had (the tables made on the way
 * stay: kernel tables are never freed). */
static pte_t *walk_create_or(paddr_t root, uint64_t va, int level, bool may_fail)
{
	pte_t *table = pt_table(root);

	for (int l = 4; l > level; l--) {
		pte_t *e = &table[pt_index(va, l)];

		if (!pte_present(*e)) {
			paddr_t t = kpt_alloc_page_or(may_fail);

			if (!t)
				return NULL;
			*e = t | PTE_P | PTE_W;
		} else if (*e & PTE_PS)
			panic("kpaging: %#lx already mapped by a large page", va);
		table = pt_table(pte_addr(*e));
	}
	return &table[pt_index(va, level)];
}

static pte_t *walk_create(paddr_t root, uint64_t va, int level)
{
	return walk_create_or(root, va, level, false);
}

pte_t *pt_lookup(paddr_t root, uint64_t va, int *level)
{
	pte_t *table = pt_table(root);

	for (int l = 4; l >= 1; l--) {
		pte_t *e = &table[pt_index(va, l)];

		if (!pte_present(*e))
			return NULL;
		if (pte_is_leaf(*e, l)) {
			if (level)
				*level = l;
			return e;
		}
		table = pt_table(pte_addr(*e));
	}
	return NULL;
}

pte_t *kpte_lookup(uint64_t va, int *level)
{
	return pt_lookup(kernel_root, va, level);
}

bool kernel_readable(uint64_t va, uint64_t len)
{
	/* No lock: a panic report asks (the crashing CPU may hold kpt_lock),
	 * and kernel tables are never freed. */
	return len && va >= DIRECT_MAP_BASE && va + len - 1 >= va && kpte_lookup(va, NULL) &&
	       kpte_lookup(va + len - 1, NULL);
}

static uint64_t global_bit(void)
{
	return kpaging_global ? PTE_G : 0;
}

bool kmap_page_try(uint64_t va, paddr_t pa, uint64_t flags, bool global)
{
	uint64_t f = spin_lock_irqsave(&kpt_lock);
	pte_t *e = walk_create_or(kernel_root, va, 1, true);

	if (e)
		*e = pa | flags | PTE_P | (global ? global_bit() : 0);
	spin_unlock_irqrestore(&kpt_lock, f);
	return e != NULL;
}

void kmap_page(uint64_t va, paddr_t pa, uint64_t flags, bool global)
{
	uint64_t f = spin_lock_irqsave(&kpt_lock);
	pte_t *e = walk_create(kernel_root, va, 1);

	*e = pa | flags | PTE_P | (global ? global_bit() : 0);
	spin_unlock_irqrestore(&kpt_lock, f);
}

paddr_t kunmap_page(uint64_t va)
{
	uint64_t f = spin_lock_irqsave(&kpt_lock);
	int level;
	pte_t *e = kpte_lookup(va, &level);
	paddr_t pa = 0;

	if (e && level == 1) {
		/* A global entry would survive the PCID flushes that are to
		 * remove it (kmap_page's comment): a bug, never silently. */
		BUG_ON(*e & PTE_G);
		pa = pte_addr(*e);
		*e = 0;
	}
	spin_unlock_irqrestore(&kpt_lock, f);
	return pa;
}

/* Maps [va, va+size) -> pa with the largest pages alignment allows. */
static void map_range(uint64_t va, paddr_t pa, uint64_t size, uint64_t flags, bool large)
{
	bool gb = large && arch_mmu_has_1g_pages();

	while (size) {
		if (gb && IS_ALIGNED(va | pa, PAGE_SIZE_1G) && size >= PAGE_SIZE_1G) {
			*walk_create(kernel_root, va, 3) =
				pa | flags | PTE_P | PTE_PS | global_bit();
			va += PAGE_SIZE_1G, pa += PAGE_SIZE_1G, size -= PAGE_SIZE_1G;
		} else if (large && IS_ALIGNED(va | pa, PAGE_SIZE_2M) && size >= PAGE_SIZE_2M) {
			*walk_create(kernel_root, va, 2) =
				pa | flags | PTE_P | PTE_PS | global_bit();
			va += PAGE_SIZE_2M, pa += PAGE_SIZE_2M, size -= PAGE_SIZE_2M;
		} else {
			*walk_create(kernel_root, va, 1) = pa | flags | PTE_P | global_bit();
			va += PAGE_SIZE, pa += PAGE_SIZE, size -= PAGE_SIZE;
		}
	}
}

static void map_image(const char *start, const char *end, uint64_t flags)
{
	map_range((uint64_t)start, kimage_to_phys(start), (uint64_t)(end - start), flags, false);
}

static void prealloc_pml4(unsigned idx)
{
	pte_t *pml4 = pt_table(kernel_root);

	if (!pte_present(pml4[idx]))
		pml4[idx] = kpt_alloc_page() | PTE_P | PTE_W;
}

void kpaging_init(void)
{
	uint64_t nx = arch_mmu_has_nx() ? PTE_NX : 0;

	kernel_root = kpt_alloc_page();

	/* Every kernel-half PML4 entry we will ever use exists from now on. */
	for (uint32_t i = 0; i < memmap.nr_mapped; i++) {
		uint64_t first = pt_index(DIRECT_MAP_BASE + memmap.mapped[i].start, 4);
		uint64_t last = pt_index(DIRECT_MAP_BASE + memmap.mapped[i].end - 1, 4);

		/* Compared as physical addresses: DIRECT_MAP_BASE + end wraps
		 * for an end past 2^47. memmap_init() clips there already. */
		if (memmap.mapped[i].end > DIRECT_MAP_REACH)
			panic("kpaging: RAM beyond the %lu TiB direct map",
			      (VMALLOC_BASE - DIRECT_MAP_BASE) >> 40);
		for (uint64_t p = first; p <= last; p++)
			prealloc_pml4((unsigned)p);
	}
	prealloc_pml4(pt_index(VMALLOC_BASE, 4));
	prealloc_pml4(pt_index(IOREMAP_BASE, 4));
	prealloc_pml4(pt_index(ENTRY_AREA_BASE, 4));
	prealloc_pml4(pt_index(KERNEL_VMA, 4));

	map_image(__text_start, __text_end, 0);
	map_image(__rodata_start, __rodata_end, nx);
	map_image(__data_start, __bss_end, PTE_W | nx);
	map_image(__ksyms_start, __ksyms_end, nx);

	for (uint32_t i = 0; i < memmap.nr_mapped; i++)
		map_range(DIRECT_MAP_BASE + memmap.mapped[i].start, memmap.mapped[i].start,
			  memmap.mapped[i].end - memmap.mapped[i].start, PTE_W | nx, true);

	/* CR4.PGE: global pages only mean something with it on. With global
	 * kernel mappings, a CR3 write no longer flushes them (SDM Vol. 3A
	 * 4.10.2.4); the kernel half never changes except vmalloc, which
	 * flushes explicitly. */
	arch_set_global_pages(kpaging_global);
	arch_write_cr3(kernel_root);
}

void *ioremap(paddr_t pa, uint64_t size, uint64_t cache)
{
	uint64_t off = pa & (PAGE_SIZE - 1);
	uint64_t f = spin_lock_irqsave(&kpt_lock);
	uint64_t va = ioremap_next;

	size = ALIGN_UP(size + off, PAGE_SIZE);
	if (va + size > IOREMAP_BASE + IOREMAP_SIZE)
		panic("ioremap: area exhausted");
	ioremap_next += size;
	map_range(va, pa - off, size, PTE_W | cache | (arch_mmu_has_nx() ? PTE_NX : 0), false);
	spin_unlock_irqrestore(&kpt_lock, f);
	return (void *)(va + off);
}

const void *kmap_firmware(paddr_t pa, uint64_t size)
{
	for (uint32_t i = 0; i < memmap.nr_mapped; i++) {
		if (pa >= memmap.mapped[i].start && pa + size <= memmap.mapped[i].end)
			return phys_to_virt(pa);
	}
	return ioremap(pa, size, PTE_CACHE_WB);
}

static bool ram_covers(paddr_t pa, uint64_t size)
{
	for (uint32_t i = 0; i < memmap.nr_ram; i++) {
		if (memmap.ram[i].start <= pa && pa + size <= memmap.ram[i].end)
			return true;
	}
	return false;
}

const struct arch_mem_ops mm_arch_mem_ops = {
	.map_mmio = ioremap,
	.map_firmware = kmap_firmware,
	.map_page = kmap_page,
	.is_ram = ram_covers,
	.alloc = kmalloc,
	.free = kfree,
	.cache_create = kmem_cache_create_for_arch,
	.cache_alloc = kmem_cache_alloc_for_arch,
};
