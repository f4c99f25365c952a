/*
 * PTI: page-table isolation. First version: pti=off only (the roots are a
 * single page and there is no user root); the split tables, the entry-area
 * template and the CR3 flip on entry and exit arrive with the TLB
 * capability.
 */
#include "mm/pti.h"
#include "mm/mm.h"
#include "mm/frame.h"
#include "mm/pgtable.h"

int pti_enabled;

int pti_alloc_roots(struct mm *mm)
{
	paddr_t root = page_alloc(FA_ZERO | FA_NOWARN);

	if (!root)
		return -12;
	pa_to_frame(root)->flags |= FRAME_PGTABLE;
	mm->root = root;
	mm->user_root = 0;
	return 0;
}

void pti_free_roots(struct mm *mm)
{
	pa_to_frame(mm->root)->flags &= ~FRAME_PGTABLE;
	page_free(mm->root);
}

void pti_sync_user_pml4(struct mm *mm, uint64_t va, int level)
{
	(void)mm;
	(void)va;
	(void)level;
}

void pti_init(void)
{
}

void pti_init_cpu(void)
{
}
