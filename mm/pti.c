/*
 * PTI: page-table isolation (DESIGN.md "Address spaces and PTI").
 *
 * Each mm's roots are an 8 KiB-aligned pair: the kernel root (full) and,
 * at root | 0x1000, the user root. The entry code turns one CR3 into the
 * other by flipping bit 12, and the PCID into its user twin by bit 11
 * (mm/pcid.h); arch/x86/entry.S loads the values this file prepares.
 *
 * The user root maps:
 *   - user space: its PML4 entries 0..255 mirror the kernel root's (the
 *     lower-level tables are shared), kept in sync by pti_sync_user_pml4;
 *   - the entry area only: a template's PML4 entries 508 and 511, created
 *     at boot and copied into every user root, map the per-CPU entry pages
 *     (GDT, TSS, entry scratch), the entry and IST stacks, the IDT (read
 *     only) and the entry text (.entry.text). Nothing else of the kernel.
 *
 * Deferred user flush: INVLPG in the kernel (PCID kpcid) does not reach
 * the user PCID (SDM Vol. 3A 4.10.4.1: INVLPG acts on the current PCID).
 * Instead of INVPCID, the slot's user side is marked stale and the return
 * to user loads the user CR3 without the no-flush bit (ptiflush=full), or
 * up to PTI_FLUSH_QUEUE addresses are queued in the entry page and the exit
 * code runs INVLPG on them right after loading the user CR3 with the
 * no-flush bit (ptiflush=precise), falling back to full on overflow.
 */
#include "mm/pti.h"
#include "mm/mm.h"
#include "mm/pcid.h"
#include "mm/tlb.h"
#include "mm/frame.h"
#include "mm/kpaging.h"
#include "arch/pgtable.h"
#include "mm/tlbcheck.h"
#include "mm/ptwalk.h"
#include "lib/cmdline.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "arch/mmu.h"
#include "lib/trace.h"

bool pti_enabled = true;
KSWITCH_BOOL(pti_enabled, "pti", "page-table isolation (split user/kernel roots)");
int ptiflush_precise;
KSWITCH_ENUM(ptiflush_precise, "ptiflush", "deferred user flush with PTI: full or precise", "full",
	     "precise");

#define IDT_ALIAS (ENTRY_AREA_BASE + 0x1000)

static paddr_t tmpl; /* PML4 whose entries 256..511 every user root copies */

extern char __entry_text_start[], __entry_text_end[];

void pti_init(void)
{
	/* Kernel mappings must not be global with PTI: a global entry would
	 * survive the switch to the user root. */
	kpaging_global = !pti_enabled;
}

/* Map one page into the user template (entry area, entry text). */
static void tmpl_map(uint64_t va, paddr_t pa, uint64_t flags)
{
	pte_t *table = pt_table(tmpl);

	for (int l = 4; l > 1; l--) {
		pte_t *e = &table[pt_index(va, l)];

		if (!pte_present(*e))
			*e = kpt_alloc_page() | PTE_P | PTE_W;
		table = pt_table(pte_addr(*e));
	}
	table[pt_index(va, 1)] = pa | flags | PTE_P;
}

static void tmpl_map_alias(uint64_t va, uint64_t flags)
{
	int level;
	pte_t *e = kpte_lookup(va, &level);

	BUG_ON(!e || level != 1);
	tmpl_map(va, pte_addr(*e), flags);
}

void pti_init_tables(void)
{
	uint64_t nx = arch_mmu_has_nx() ? PTE_NX : 0;

	if (!pti_enabled)
		return;
	tmpl = kpt_alloc_page();
	for (uint64_t va = (uint64_t)__entry_text_start; va < (uint64_t)__entry_text_end;
	     va += PAGE_SIZE)
		tmpl_map(va, kimage_to_phys((void *)va), 0);
	tmpl_map(IDT_ALIAS, virt_to_phys(idt_page()), nx);
}

void pti_map_cpu_area(uint64_t base)
{
	uint64_t rw = PTE_W | (arch_mmu_has_nx() ? PTE_NX : 0);

	if (!pti_enabled)
		return;
	tmpl_map_alias(base, rw); /* the entry page: GDT, TSS, entry scratch */
	for (size_t i = 0; i < PERCPU_NR_STACKS; i++)
		for (uint64_t off = 0; off < PERCPU_STACK_SIZE; off += PAGE_SIZE)
			tmpl_map_alias(base + percpu_stacks[i].off + off, rw);
}

void pti_init_cpu(void)
{
	arch_entry_set_pti(pti_enabled);
	if (pti_enabled)
		tss_set_rsp0(this_cpu_read(entry.entry_stack_ptr));
}

int pti_alloc_roots(struct mm *mm)
{
	unsigned order = pti_enabled ? 1 : 0;
	paddr_t root = frame_alloc(order, FA_ZERO | FA_NOWARN);

	if (!root)
		return -12;
	pa_to_frame(root)->flags |= FRAME_PGTABLE;
	mm->root = root;
	mm->user_root = 0;
	if (pti_enabled) {
		mm->user_root = root + PAGE_SIZE;
		memcpy(pt_table(mm->user_root) + 256, pt_table(tmpl) + 256, 256 * sizeof(pte_t));
	}
	return 0;
}

void pti_free_roots(struct mm *mm)
{
	pa_to_frame(mm->root)->flags &= ~FRAME_PGTABLE;
	frame_free(mm->root, pti_enabled ? 1 : 0);
}

void pti_sync_user_pml4(struct mm *mm, uint64_t va, int level)
{
	if (level != 4 || !mm->user_root)
		return;
	unsigned i = pt_index(va, 4);

	WRITE_ONCE(pt_table(mm->user_root)[i], pt_table(mm->root)[i]);
}

/* ---- deferred user flushes ---- */

static bool is_current(const struct asid_slot *s)
{
	struct cpu_tlb *ts = this_tlb();

	return s == &ts->slots[ts->cur];
}

void pti_user_flush_all(struct asid_slot *s)
{
	if (!pti_enabled)
		return;
	if (!s->user_stale)
		this_cpu_inc(counters[CNT_PTI_USER_STALE]);
	s->user_stale = true;
	if (is_current(s)) {
		this_cpu_write(entry.flush_count, 0);
		this_cpu_write(entry.user_cr3_keep, 0); /* the exit takes the slow path */
	}
}

void pti_user_flush_page(struct asid_slot *s, uint64_t va)
{
	if (!pti_enabled || s->user_stale || tlbinject == INJECT_SKIP_USER_FLUSH)
		return;
	if (!ptiflush_precise || !is_current(s)) {
		pti_user_flush_all(s);
		return;
	}
	uint64_t n = this_cpu_read(entry.flush_count);

	if (n == PTI_FLUSH_QUEUE) {
		this_cpu_inc(counters[CNT_PTI_QUEUE_OVERFLOW]);
		pti_user_flush_all(s);
		return;
	}
	this_cpu_write(entry.flush_addr[n], va);
	this_cpu_write(entry.flush_count, n + 1);
	this_cpu_write(entry.user_cr3_keep, 0); /* the exit takes the slow path */
}

/*
 * Page tables were freed: the user PCID is flushed whole even with
 * ptiflush=precise. A queued INVLPG runs only after the user CR3 load, and
 * in between a walk through the freed table's cached entry could fill
 * translations of pages the queue does not name.
 */
void pti_user_flush_freed_tables(struct asid_slot *s)
{
	if (!pti_enabled || s->user_stale)
		return;
	if (ptiflush_precise)
		this_cpu_inc(counters[CNT_PTI_FULL_FREED_TABLES]);
	pti_user_flush_all(s);
}

void pti_prepare_exit_slow(void)
{
	uint64_t tx = tlbcheck_begin();
	struct cpu_tlb *ts = this_tlb();
	struct asid_slot *s = &ts->slots[ts->cur];
	struct mm *mm = this_cpu_read(shared.loaded_mm);
	bool flush = s->user_stale || pcid_mode == PCID_OFF;
	uint64_t n = this_cpu_read(entry.flush_count);
	uint64_t logical = cr3_user_value(mm, ts->cur, !flush);

	if (flush) {
		this_cpu_inc(counters[CNT_PTI_FLUSH_FULL]);
		trace(TR_PTI_FLUSH_FULL, 0, 0);
		s->user_stale = false;
		n = 0;
		this_cpu_write(entry.flush_count, 0);
	} else if (n) {
		this_cpu_add(counters[CNT_PTI_FLUSH_PRECISE], n);
		trace(TR_PTI_FLUSH_PRECISE, (uint32_t)n, 0);
		this_cpu_add(counters[CNT_INVLPG], n);
	}
	this_cpu_write(entry.user_cr3, cr3_hw_value(logical));
	this_cpu_inc(counters[CNT_CR3_WRITE]); /* the exit code's CR3 write */
	if (!flush)
		this_cpu_inc(counters[CNT_CR3_WRITE_NOFLUSH]);
	if (tlbcheck_enabled)
		tlbcheck_user_exit(logical, this_cpu()->entry.flush_addr, n, s->tlb_gen);
	/* The slot is no longer stale, and the exit code (interrupts off
	 * until user mode) empties the queue: the next exit may be fast. */
	this_cpu_write(entry.user_cr3_keep, s->ucr3_keep);
	tlbcheck_end(tx);
}

void pti_note_entry_slow(void)
{
	struct cpu_tlb *ts = this_tlb();
	struct mm *mm = this_cpu_read(shared.loaded_mm);
	/* The entry code loaded the kernel root, no-flush, same slot. */
	struct asid_slot *s = &ts->slots[ts->cur];

	tlbcheck_claim(mm->ctx_id, s->tlb_gen, s->kgen);
	tlbcheck_cr3_write_slow(cr3_kernel_value(mm, ts->cur, true));
}

/* ---- invariant walker ---- */

struct uroot_ctx {
	int bad;
};

/* Print the first few violations; count them all. */
#define report(c, ...)                             \
	do {                                       \
		if ((c)->bad < 8)                  \
			pr_err(__VA_ARGS__);       \
		else if ((c)->bad == 8)            \
			pr_err("pti: (more ...)"); \
	} while (0)

static bool uroot_leaf(const struct pt_leaf *l, void *p)
{
	struct uroot_ctx *c = p;
	uint64_t va = l->va;
	bool entry_text = va >= (uint64_t)__entry_text_start && va < (uint64_t)__entry_text_end;
	bool idt = va == IDT_ALIAS;
	bool cpu_area =
		va >= PERCPU_AREA_BASE && va < PERCPU_AREA_BASE + (uint64_t)nr_cpus * PERCPU_STRIDE;

	if (!entry_text && !idt && !cpu_area) {
		report(c, "pti: user root maps kernel address %#lx", va);
		c->bad++;
	}
	if (cpu_area) {
		uint64_t off = (va - PERCPU_AREA_BASE) % PERCPU_STRIDE;

		if (off >= PAGE_SIZE && off < PERCPU_ENTRY_STACK) {
			report(c, "pti: user root maps private per-CPU data at %#lx", va);
			c->bad++;
		}
	}
	if (l->exec && !entry_text) {
		report(c, "pti: user root has executable kernel page %#lx", va);
		c->bad++;
	}
	if (idt && l->write) {
		report(c, "pti: the IDT alias is writable in the user root");
		c->bad++;
	}
	return true;
}

int pti_check_user_root(const struct mm *mm)
{
	struct uroot_ctx c = { 0 };

	if (!pti_enabled || !mm->user_root)
		return 0;
	pt_walk_leaves(mm->user_root, 0xffff800000000000ull, ~0ull, uroot_leaf, &c);
	/* The user half of the two roots must agree entry for entry (but for
	 * the accessed bit, which the CPU sets in whichever root it walks). */
	for (int i = 0; i < 256; i++) {
		if ((pt_table(mm->user_root)[i] ^ pt_table(mm->root)[i]) & ~PTE_A) {
			report(&c, "pti: user root PML4[%d] differs from the kernel root's", i);
			c.bad++;
		}
	}
	if (c.bad > 8)
		pr_err("pti: %d violations in the user root of mm ctx %lu", c.bad, mm->ctx_id);
	return c.bad;
}
