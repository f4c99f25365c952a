/*
 * x86-64 4-level page-table entries (SDM Vol. 3A 4.5).
 *
 * Levels are numbered 4 (PML4) down to 1 (PT). A "leaf" is a PTE at level 1
 * or a large page (PS) at level 2 (2 MiB) or 3 (1 GiB).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

typedef uint64_t pte_t;

#define PTE_P		   (1ull << 0)
#define PTE_W		   (1ull << 1)
#define PTE_U		   (1ull << 2)
#define PTE_PWT		   (1ull << 3)
#define PTE_PCD		   (1ull << 4)
#define PTE_A		   (1ull << 5)
#define PTE_D		   (1ull << 6)
#define PTE_PS		   (1ull << 7) /* large page at levels 2 and 3 */
#define PTE_PAT		   (1ull << 7) /* at level 1 */
#define PTE_G		   (1ull << 8)
#define PTE_NX		   (1ull << 63)
#define PTE_ADDR	   0x000ffffffffff000ull
#define PTE_ADDR_LARGE_PAT (1ull << 12) /* PAT bit of a large page */

/* Cache types through PAT (arch/x86/cpu_setup.c programs PA1 = WC). */
#define PTE_CACHE_WB 0
#define PTE_CACHE_WC PTE_PWT
#define PTE_CACHE_UC (PTE_PCD | PTE_PWT)

#define PT_ENTRIES   512
#define PAGE_SIZE_2M (1ull << 21)
#define PAGE_SIZE_1G (1ull << 30)

static inline unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

static inline uint64_t pt_level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * (level - 1));
}

static inline paddr_t pte_addr(pte_t e)
{
	return e & PTE_ADDR;
}

static inline bool pte_present(pte_t e)
{
	return e & PTE_P;
}

static inline bool pte_is_leaf(pte_t e, int level)
{
	return level == 1 || (e & PTE_PS);
}

static inline pte_t *pt_table(paddr_t pa)
{
	return (pte_t *)phys_to_virt(pa);
}
