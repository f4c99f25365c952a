/*
 * The TLB-coherence checker's hooks (the protocol is at the top of
 * mm/tlbcheck.c): the arch's instruction wrappers report every CR3 write,
 * INVLPG and INVPCID through struct mmu_check_ops (arch/mmu.h), which this
 * file applies to the CPU's model under the SDM's rules (Vol. 3A 4.10),
 * checking each CR3 load with the no-flush bit against the caller's
 * claim; and the page-table code reports every translation it removes or
 * weakens, which is recorded as possibly stale in every PCID that may
 * hold it.
 */
#include "mm/tlbcheck.h"
#include "mm/tlbcheck_internal.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "arch/pgtable.h"
#include "lib/percpu.h"
#include "arch/mmu.h"

/* ---- hardware events ---- */

void tlbcheck_claim(uint64_t ctx, uint64_t gen, uint64_t kgen)
{
	struct tc_cpu *t = me_tc();

	if (!t)
		return;
	t->claim_ctx = ctx;
	t->claim_gen = gen;
	t->claim_kgen = kgen;
	t->claimed = true;
}

/* With no-flush: what the claim allows to survive in PCID p. */
static void check_noflush_load(struct tc_cpu *t, uint16_t p, uint64_t ctx, void *caller)
{
	/* Translations of another address space, even current ones, would
	 * be used for this one's addresses. */
	for (int i = 0; i < ASSOC_MAX; i++) {
		uint64_t other = t->assoc[p][i] ? t->assoc[p][i] - 1 : ctx;

		if (other != ctx) {
			struct stale s = { other, 0, 0, 0, p, TC_CTX };

			tc_report("CR3 load with the no-flush bit for another address space",
				  this_cpu_id(), &s, caller);
		}
	}
	for (uint32_t i = 0; i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->pcid != p)
			continue;
		bool ok = t->claimed &&
			  ((s->ctx == CTX_KERNEL && s->gen > t->claim_kgen) ||
			   (s->ctx == ctx && ctx == t->claim_ctx && s->gen > t->claim_gen));

		if (!ok)
			tc_report("CR3 load with the no-flush bit", this_cpu_id(), s, caller);
	}
}

void tc_cr3_write(struct tc_cpu *t, uint64_t cr3, void *caller, bool check)
{
	bool user;
	paddr_t root = cr3 & CR3_ADDR_MASK;
	uint64_t ctx = tc_ctx_of_root(root, &user);
	uint16_t p = pcid_mode == PCID_OFF ? 0 : (uint16_t)(cr3 & CR3_PCID_MASK);
	bool noflush = pcid_mode != PCID_OFF && (cr3 & CR3_NOFLUSH);

	tc_count_check();
	if (pcid_mode == PCID_OFF)
		tc_flush_everything(t);
	else if (!noflush)
		tc_flush_pcid(t, p);
	else if (check)
		check_noflush_load(t, p, ctx, caller);
	t->claimed = false;
	if (ctx != ~0ull)
		tc_assoc_add(t, p, ctx);
	if (!user)
		tc_bit_set(t->kassoc, p);
	t->pcid = p;
	t->ctx = ctx;
	t->user = user;
}

void tlbcheck_cr3_write_slow(uint64_t cr3)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	if (t)
		tc_cr3_write(t, cr3, __builtin_return_address(0), true);
	tc_unlock_me(t, &h);
}

static bool match_va_cur(const struct stale *s, const void *arg)
{
	const struct stale *k = arg;

	/* Not TC_PAGES: other pages are in it too. */
	return s->pcid == k->pcid &&
	       (s->kind == TC_TABLE || (s->kind == TC_PAGE && s->va == k->va));
}

void tc_invlpg(struct tc_cpu *t, uint16_t p, uint64_t va)
{
	struct stale k = { .pcid = p, .va = va & ~0xfffull };

	/* The page in that PCID, and every paging-structure cache entry of
	 * the PCID (SDM Vol. 3A 4.10.4.1, INVLPG). */
	tc_drop_where(t, match_va_cur, &k);
}

void tlbcheck_invlpg_slow(uint64_t va)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	if (t)
		tc_invlpg(t, t->pcid, va);
	tc_unlock_me(t, &h);
}

void tlbcheck_invpcid_slow(unsigned type, uint64_t pcid, uint64_t va)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	if (t) {
		if (type == INVPCID_ADDR)
			tc_invlpg(t, (uint16_t)pcid, va);
		else if (type == INVPCID_SINGLE)
			tc_flush_pcid(t, (uint16_t)pcid);
		else
			tc_flush_everything(t);
		if (type != INVPCID_ADDR && t->pcid == pcid) {
			tc_assoc_add(t, t->pcid, t->ctx);
			if (!t->user)
				tc_bit_set(t->kassoc, t->pcid);
		}
	}
	tc_unlock_me(t, &h);
}

void tlbcheck_flush_all_slow(void)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	if (t) {
		tc_flush_everything(t);
		tc_assoc_add(t, t->pcid, t->ctx);
		if (!t->user)
			tc_bit_set(t->kassoc, t->pcid);
	}
	tc_unlock_me(t, &h);
}

const struct mmu_check_ops tlbcheck_mmu_ops = {
	.cr3_write = tlbcheck_cr3_write_slow,
	.invlpg = tlbcheck_invlpg_slow,
	.invpcid = tlbcheck_invpcid_slow,
	.flush_all = tlbcheck_flush_all_slow,
};

/* ---- page-table events ---- */

static bool weakened(uint64_t o, uint64_t n)
{
	if (!(o & PTE_P))
		return false;
	return !(n & PTE_P) || pte_addr(o) != pte_addr(n) || ((o & PTE_W) && !(n & PTE_W)) ||
	       (!(o & PTE_NX) && (n & PTE_NX));
}

static void add_everywhere(uint64_t ctx, uint64_t va, paddr_t pa, uint64_t gen, uint8_t kind)
{
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t f = tc_lock_other(t);

		for (uint32_t w = 0; w < NR_PCIDS / 64; w++) {
			uint64_t bits = ctx == CTX_KERNEL ? t->kassoc[w] : t->used[w];

			while (bits) {
				uint16_t p = (uint16_t)(w * 64 + (uint32_t)__builtin_ctzll(bits));

				bits &= bits - 1;
				if (ctx != CTX_KERNEL && !tc_assoc_has(t, p, ctx))
					continue;
				struct stale s = { ctx, va, pa, gen, p, kind };

				tc_add_stale(t, &s);
			}
		}
		spin_unlock_irqrestore(&t->lock, f);
	}
}

void tlbcheck_pte_change(const struct mm *mm, uint64_t va, uint64_t old_pte, uint64_t new_pte)
{
	if (!weakened(old_pte, new_pte))
		return;
	/* The flush that covers this change brings the mm to tlb_gen + 1. */
	add_everywhere(mm->ctx_id, va & ~0xfffull, pte_addr(old_pte), mm->tlb_gen + 1, TC_PAGE);
}

void tlbcheck_table_free(const struct mm *mm, uint64_t va, paddr_t table)
{
	add_everywhere(mm->ctx_id, va & ~0xfffull, table, mm->tlb_gen + 1, TC_TABLE);
}

void tlbcheck_kernel_unmap(uint64_t va, paddr_t pa, uint64_t gen)
{
	add_everywhere(CTX_KERNEL, va, pa, gen, TC_PAGE);
}
