/*
 * Conformance tests of the PCID-faithful emulator (tools/bochs/README.md):
 * does the TLB we run on keep what SDM Vol. 3A 4.10 lets a processor keep,
 * and drop what it must drop? Run under the patched Bochs (emutlb: present);
 * everywhere else they SKIP, as they do with tlbcheck=on (they load CR3
 * values the checker does not know) or without PCID/INVPCID.
 *
 * Each test builds a private address space (the lab): a root whose kernel
 * half is the current root's and whose PML4 slot 1 maps a few test pages
 * through page tables of its own; it runs with interrupts off under test
 * PCIDs nobody else uses (0x7f0..0x7f3), changes page-table entries
 * *without* flushing, and reads the test pages back: an old tag means the
 * old translation was still cached. Before it starts it sets a large model
 * geometry (nothing is evicted behind the test's back) and at the end it
 * restores the emulator's geometry, CR4.PGE (on in the lab, for global
 * entries) and the CR3 it found.
 *
 *   emutlb_pcid_retained     a CR3 write with bit 63 keeps every PCID's
 *                            entries; without it only the new PCID's go
 *   emutlb_global_entries    global entries survive CR3 writes and INVPCID
 *                            types 1 and 3, match under any PCID, and go on
 *                            a CR4.PGE toggle and INVPCID type 2
 *   emutlb_invlpg            INVLPG drops the current PCID's and the global
 *                            entry of the page; another PCID's stays (the
 *                            emulator's documented choice)
 *   emutlb_invpcid_types     INVPCID types 0 to 3, each exactly
 *   emutlb_capacity_lru      a 16-entry STLB keeps the 16 most recently
 *                            filled pages and no others, level 1 included
 *   emutlb_psc_walks_old_table  a PDE changed without a flush is walked
 *                            through the old page table (paging-structure
 *                            cache) until a flush of that PCID; INVLPG of
 *                            any address drops it; another PCID's stays
 *   emutlb_speculative_walk  a stale PSC entry makes the speculative walker
 *                            set an accessed flag in the old table page
 *   emutlb_page_walk_counter the walk counter counts walks, not hits
 */
#include "kernel/ktest.h"
#include "lib/percpu.h"
#include "lib/string.h"
#include "arch/pgtable.h"
#include "mm/frame.h"
#include "mm/pcid.h"
#include "arch/mmu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/emu_tlb.h"

#define LAB_VA	   (1ull << 39) /* PML4 slot 1 */
#define LAB_PAGES  64		/* pages mapped by the lab's first page table */
#define LAB_FRAMES 8		/* tagged frames the pages point at */
#define PCID_A	   0x7f0
#define PCID_B	   0x7f1
#define BIG_STLB   EMU_TLB_CONFIG(65536, 16, 1024, 8, 1)

struct lab {
	paddr_t root, pdpt, pd, pt, pt2;
	paddr_t frame[LAB_FRAMES];
	uint64_t saved_cr3, flags;
	bool saved_pge;
};

static uint64_t tag_of(int i)
{
	return 0x7a60000000000000ull | (uint64_t)i;
}

static pte_t *pte(const struct lab *l, int i)
{
	return &pt_table(l->pt)[i];
}

static uint64_t *va(int i)
{
	return (uint64_t *)(LAB_VA + (uint64_t)i * PAGE_SIZE);
}

/* What the CPU sees at page i (the tag of the frame it translates to). */
static uint64_t peek(int i)
{
	return *(volatile uint64_t *)va(i);
}

/* Page i -> frame f, without any flush. */
static void point(struct lab *l, int i, int f, bool global)
{
	*pte(l, i) = l->frame[f] | PTE_P | PTE_W | PTE_A | PTE_D | (global ? PTE_G : 0);
}

static void load(const struct lab *l, uint16_t pcid, bool noflush)
{
	arch_write_cr3(l->root | pcid | (noflush ? CR3_NOFLUSH : 0));
}

static const char *lab_unusable(void)
{
	if (!emu_tlb_present)
		return "no PCID-faithful emulator (emutlb: none)";
	if (tlbcheck_enabled)
		return "tlbcheck=on (the lab's CR3 values are unknown to the checker)";
	if (!pcid_hw || !invpcid_hw)
		return "needs pcid=on and INVPCID";
	if (nr_asids >= PCID_A)
		return "asids= leaves no PCID for the lab";
	return NULL;
}

static void lab_free(struct lab *l)
{
	paddr_t *pages[] = { &l->root, &l->pdpt, &l->pd, &l->pt, &l->pt2 };

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (*pages[i])
			page_free(*pages[i]);
	for (int i = 0; i < LAB_FRAMES; i++)
		if (l->frame[i])
			page_free(l->frame[i]);
}

/* Build the lab and enter it (interrupts off, PCID A loaded, flushed).
 * Pages 0..LAB_PAGES-1 point at frame i % LAB_FRAMES. */
static bool lab_enter(struct ktest *t, struct lab *l)
{
	const char *why = lab_unusable();

	memset(l, 0, sizeof(*l));
	if (why) {
		ktest_skip(t, why);
		return false;
	}
	l->root = page_alloc(FA_ZERO);
	l->pdpt = page_alloc(FA_ZERO);
	l->pd = page_alloc(FA_ZERO);
	l->pt = page_alloc(FA_ZERO);
	l->pt2 = page_alloc(FA_ZERO);
	for (int i = 0; i < LAB_FRAMES; i++) {
		l->frame[i] = page_alloc(FA_ZERO);
		if (l->frame[i])
			*(uint64_t *)phys_to_virt(l->frame[i]) = tag_of(i);
	}
	bool ok = l->root && l->pdpt && l->pd && l->pt && l->pt2;

	for (int i = 0; i < LAB_FRAMES; i++)
		ok = ok && l->frame[i];
	if (!KT_EXPECT(t, ok)) {
		lab_free(l);
		return false;
	}
	l->flags = irq_save();
	l->saved_cr3 = read_cr3();
	pte_t *root = pt_table(l->root), *cur = pt_table(l->saved_cr3 & CR3_ADDR_MASK);

	for (int i = 256; i < PT_ENTRIES; i++)
		root[i] = cur[i];
	root[pt_index(LAB_VA, 4)] = l->pdpt | PTE_P | PTE_W;
	pt_table(l->pdpt)[pt_index(LAB_VA, 3)] = l->pd | PTE_P | PTE_W;
	pt_table(l->pd)[pt_index(LAB_VA, 2)] = l->pt | PTE_P | PTE_W;
	for (int i = 0; i < LAB_PAGES; i++)
		point(l, i, i % LAB_FRAMES, false);
	KT_EXPECT(t, emu_tlb_set_config(BIG_STLB));
	l->saved_pge = arch_global_pages(true); /* pti=on runs without them */
	load(l, PCID_B, false);
	load(l, PCID_A, false);
	return true;
}

static void lab_leave(struct lab *l)
{
	arch_invpcid(INVPCID_SINGLE, PCID_A, 0);
	arch_invpcid(INVPCID_SINGLE, PCID_B, 0);
	/* The CR3 we found, its PCID's entries kept: nothing of it changed.
	 * (Its read value has no bit 63; the geometry write dropped every
	 * entry anyway.) */
	emu_tlb_set_config(0);
	arch_global_pages(l->saved_pge);
	arch_write_cr3(l->saved_cr3 | (pcid_hw ? CR3_NOFLUSH : 0));
	irq_restore(l->flags);
	lab_free(l);
}

KTEST(emutlb_pcid_retained)
{
	struct lab l;

	if (!lab_enter(t, &l))
		return;
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* filled under A */
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* and under B */
	point(&l, 0, 1, false);		     /* no flush */
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* A kept its entry across the switches */
	load(&l, PCID_B, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* so did B */
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* the same PCID reloaded with bit 63 */
	load(&l, PCID_A, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(1)); /* without bit 63: A flushed */
	load(&l, PCID_B, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* ...and only A */
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(1));
	lab_leave(&l);
}

KTEST(emutlb_global_entries)
{
	struct lab l;

	if (!lab_enter(t, &l))
		return;
	point(&l, 0, 0, true);
	load(&l, PCID_A, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* a global entry, filled under A */
	point(&l, 0, 1, true);
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* survives a flushing CR3 write, matches under B */
	arch_invpcid(INVPCID_SINGLE, PCID_B, 0);
	arch_invpcid(INVPCID_SINGLE, PCID_A, 0);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* INVPCID type 1 keeps globals */
	arch_invpcid(INVPCID_ALL, 0, 0);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* so does type 3 */
	arch_flush_all_global();	     /* CR4.PGE toggled */
	KT_EXPECT_EQ(t, peek(0), tag_of(1));
	point(&l, 0, 2, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(1)); /* refilled, global again */
	arch_invpcid(INVPCID_ALL_GLOBAL, 0, 0);
	KT_EXPECT_EQ(t, peek(0), tag_of(2)); /* type 2 drops globals */
	lab_leave(&l);
}

KTEST(emutlb_invlpg)
{
	struct lab l;

	if (!lab_enter(t, &l))
		return;
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* under A */
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* under B */
	point(&l, 0, 1, false);
	arch_invlpg((uint64_t)va(0));
	KT_EXPECT_EQ(t, peek(0), tag_of(1)); /* B's entry gone */
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* A's kept: INVLPG is for the current PCID */
	/* A global entry goes whatever PCID executes the INVLPG. */
	point(&l, 2, 2, true);
	KT_EXPECT_EQ(t, peek(2), tag_of(2));
	point(&l, 2, 3, true);
	load(&l, PCID_B, true);
	KT_EXPECT_EQ(t, peek(2), tag_of(2));
	arch_invlpg((uint64_t)va(2));
	KT_EXPECT_EQ(t, peek(2), tag_of(3));
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(2), tag_of(3));
	lab_leave(&l);
}

KTEST(emutlb_invpcid_types)
{
	struct lab l;

	if (!lab_enter(t, &l))
		return;
	/* Pages 0, 1 non-global and 2 global, cached under A and B. */
	point(&l, 2, 2, true);
	for (int pass = 0; pass < 2; pass++) {
		load(&l, pass ? PCID_B : PCID_A, true);
		for (int i = 0; i < 3; i++)
			KT_EXPECT_EQ(t, peek(i), tag_of(i));
	}
	for (int i = 0; i < 3; i++)
		point(&l, i, i + 4, i == 2);
	/* Type 0: page 0 of A only (executed under B). */
	arch_invpcid(INVPCID_ADDR, PCID_A, (uint64_t)va(0));
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* B's page 0 kept */
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(4)); /* A's page 0 gone */
	KT_EXPECT_EQ(t, peek(1), tag_of(1)); /* A's page 1 kept */
	arch_invpcid(INVPCID_ADDR, PCID_A, (uint64_t)va(2));
	KT_EXPECT_EQ(t, peek(2), tag_of(2)); /* type 0 keeps globals */
	/* Type 1: all of B, globals kept. */
	arch_invpcid(INVPCID_SINGLE, PCID_B, 0);
	KT_EXPECT_EQ(t, peek(1), tag_of(1)); /* A untouched */
	load(&l, PCID_B, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(4));
	KT_EXPECT_EQ(t, peek(1), tag_of(5));
	KT_EXPECT_EQ(t, peek(2), tag_of(2));
	/* Type 3: every PCID, globals kept. B caches 0 -> 4, 1 -> 5; A 0 -> 4. */
	point(&l, 0, 0, false);
	point(&l, 1, 1, false);
	arch_invpcid(INVPCID_ALL, 0, 0);
	KT_EXPECT_EQ(t, peek(1), tag_of(1));
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(0), tag_of(0));
	KT_EXPECT_EQ(t, peek(2), tag_of(2));
	/* Type 2: everything. */
	arch_invpcid(INVPCID_ALL_GLOBAL, 0, 0);
	KT_EXPECT_EQ(t, peek(2), tag_of(6));
	lab_leave(&l);
}

KTEST(emutlb_capacity_lru)
{
	struct lab l;
	int stale = 0;

	if (!lab_enter(t, &l))
		return;
	/* One set of 16 ways, so that the kernel's own pages compete too; the
	 * geometry write empties the model. */
	KT_ASSERT(t, emu_tlb_set_config(EMU_TLB_CONFIG(16, 16, 64, 4, 0)));
	load(&l, PCID_A, false);
	for (int i = 0; i < LAB_PAGES; i++)
		(void)peek(i);
	for (int i = 0; i < LAB_PAGES; i++)
		point(&l, i, (i + 1) % LAB_FRAMES, false);
	KT_EXPECT_EQ(t, peek(LAB_PAGES - 1),
		     tag_of((LAB_PAGES - 1) % LAB_FRAMES)); /* recent: kept */
	/* Newest first: a read that misses refills and evicts the least
	 * recently filled, which has been counted by then. */
	for (int i = LAB_PAGES - 1; i >= 0; i--)
		stale += peek(i) == tag_of(i % LAB_FRAMES);
	KT_EXPECT_EQ(t, peek(0), tag_of(1)); /* the first filled: evicted */
	KT_EXPECT(t, stale >= 1 && stale <= 16);
	ktest_note("16-entry STLB, %d pages read: %d still cached", LAB_PAGES, stale);
	lab_leave(&l);
}

/* The lab's pages share one page table, pt; the PDE switched to pt2 (a
 * copy with pages 0, 1, 2 -> frames 6, 7, 5) makes pt the freed one. */
static void switch_table(struct lab *l, paddr_t table)
{
	pt_table(l->pd)[pt_index(LAB_VA, 2)] = table | PTE_P | PTE_W | PTE_A;
}

KTEST(emutlb_psc_walks_old_table)
{
	struct lab l;

	if (!lab_enter(t, &l))
		return;
	memcpy(pt_table(l.pt2), pt_table(l.pt), PAGE_SIZE);
	pt_table(l.pt2)[0] = l.frame[6] | PTE_P | PTE_W | PTE_A | PTE_D;
	pt_table(l.pt2)[1] = l.frame[7] | PTE_P | PTE_W | PTE_A | PTE_D;
	pt_table(l.pt2)[2] = l.frame[5] | PTE_P | PTE_W | PTE_A | PTE_D;
	uint64_t hits0 = emu_tlb_read(this_cpu()->entry.apic_id, EMU_PSC_HIT);

	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* caches the PDE -> pt under A */
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* and under B */
	switch_table(&l, l.pt2);	     /* no flush */
	KT_EXPECT_EQ(t, peek(1), tag_of(1)); /* a TLB miss walked through the old table */
	KT_EXPECT(t, emu_tlb_read(this_cpu()->entry.apic_id, EMU_PSC_HIT) > hits0);
	load(&l, PCID_B, false);
	KT_EXPECT_EQ(t, peek(1), tag_of(7)); /* B flushed: the new table */
	load(&l, PCID_A, true);
	KT_EXPECT_EQ(t, peek(1), tag_of(1)); /* A's PSC kept (and now its TLB entry) */
	/* INVLPG of another page drops every PSC entry of the current PCID
	 * (SDM Vol. 3A 4.10.4.1), but not the TLB entries of other pages. */
	arch_invlpg((uint64_t)va(30));
	KT_EXPECT_EQ(t, peek(2), tag_of(5)); /* walked from the root: the new table */
	KT_EXPECT_EQ(t, peek(0), tag_of(0)); /* page 0's old translation kept */
	KT_EXPECT_EQ(t, peek(1), tag_of(1)); /* and page 1's */
	lab_leave(&l);
}

KTEST(emutlb_speculative_walk)
{
	struct lab l;
	uint32_t apic = this_cpu()->entry.apic_id;

	if (!lab_enter(t, &l))
		return;
	memcpy(pt_table(l.pt2), pt_table(l.pt), PAGE_SIZE);
	KT_EXPECT_EQ(t, peek(3), tag_of(3)); /* PSC: PDE -> pt, last walked for page 3 */
	switch_table(&l, l.pt2);	     /* pt is "freed" without a flush... */
	/* ...and reused: a word that looks like a present, unaccessed entry. */
	volatile pte_t *old = &pt_table(l.pt)[3];

	*old = 0x1001;
	uint64_t a0 = emu_tlb_read(apic, EMU_SPEC_ACCESSED);

	KT_ASSERT(t, wrmsr_safe(EMU_TLB_MSR_ID + 3, 1)); /* speculate now, as at HLT */
	KT_EXPECT_EQ(t, *old, 0x1021ull);		 /* the accessed flag landed in it */
	KT_EXPECT(t, emu_tlb_read(apic, EMU_SPEC_ACCESSED) > a0);
	/* After a flush of the PCID nothing walks into the old table. */
	*old = 0x1001;
	load(&l, PCID_A, false);
	KT_ASSERT(t, wrmsr_safe(EMU_TLB_MSR_ID + 3, 1));
	KT_EXPECT_EQ(t, *old, 0x1001ull);
	lab_leave(&l);
}

KTEST(emutlb_page_walk_counter)
{
	struct lab l;
	uint32_t apic = this_cpu()->entry.apic_id;

	if (!lab_enter(t, &l))
		return;
	uint64_t w0 = emu_tlb_read(apic, EMU_WALK_DATA_USER);

	for (int i = 0; i < 8; i++)
		(void)peek(i);
	uint64_t w1 = emu_tlb_read(apic, EMU_WALK_DATA_USER);

	for (int r = 0; r < 4; r++)
		for (int i = 0; i < 8; i++)
			(void)peek(i);
	uint64_t w2 = emu_tlb_read(apic, EMU_WALK_DATA_USER);

	KT_EXPECT_EQ(t, w1 - w0, 8ull); /* one walk per fresh page (lower half: "user") */
	KT_EXPECT_EQ(t, w2 - w1, 0ull); /* none for cached ones */
	lab_leave(&l);
}
