/*
 * PASID numbers (mm/pasid.h): 20-bit ids 1..pasids in a bitmap, next-fit.
 * PASID 0 means none and is never handed out. Which mm holds which, and
 * when the CPUs load it, is kernel/pasid.c's (the policy) and
 * arch/pasid.h's (the load).
 */
#include "mm/pasid.h"
#include "mm/mm.h"
#include "arch/pasid.h"
#include "lib/spinlock.h"

#define NR_PASIDS (1u << PASID_BITS)

int pasids = NR_PASIDS - 1;

static struct spinlock alloc_lock = SPINLOCK_INIT("pasid_alloc");
static uint64_t used[NR_PASIDS / 64]; /* bit p: PASID p taken (bit 0 unused) */
static uint32_t next_hint = 1;

uint32_t pasid_alloc(void)
{
	uint32_t got = 0;
	uint64_t f = spin_lock_irqsave(&alloc_lock);

	for (uint32_t n = 0; n < NR_PASIDS && !got; n++) {
		uint32_t p = (next_hint + n) % NR_PASIDS;

		if (p && p <= (uint32_t)pasids && !(used[p / 64] & (1ull << (p % 64)))) {
			used[p / 64] |= 1ull << (p % 64);
			got = p;
			next_hint = p + 1;
		}
	}
	spin_unlock_irqrestore(&alloc_lock, f);
	return got;
}

void pasid_free(uint32_t p)
{
	if (!p)
		return;
	uint64_t f = spin_lock_irqsave(&alloc_lock);

	used[p / 64] &= ~(1ull << (p % 64));
	spin_unlock_irqrestore(&alloc_lock, f);
}

void pasid_mm_exit(struct mm *mm)
{
	/* No thread left, nothing loaded: the value may go back. CPUs whose
	 * pasid_msr still holds it only compare against it. */
	pasid_free(mm->pasid);
	mm->pasid = 0;
	mm->pasid_msr = 0;
}
