/*
 * Address spaces (DESIGN.md "Address spaces and PTI").
 *
 * An mm holds the page-table roots, the TLB bookkeeping, the CPU mask, the
 * PASID and the mappings (VMAs). The kernel half of every root is a copy of
 * kernel_root's PML4 entries 256..511, made once at creation (those entries
 * never change after boot).
 *
 * Roots: with PTI (mm/pti.c) the kernel root and the user root are an 8 KiB
 * aligned pair, root | 0x1000 being the user root; without PTI only the
 * kernel root is used and user_root == 0.
 *
 * Lifetime: refcount holds the mm alive (one per process). CPUs that
 * still have it loaded lazily hold no reference: mm/tlb.c has the one rule
 * for freeing an mm they have loaded (mm_drop_lazy_users).
 *
 * Locking: mm->lock guards the VMA list and the user half of the page
 * tables. It is never taken in interrupt context; TLB shootdowns may be
 * sent while holding it (interrupts stay on). It is held for a bounded
 * stretch: an unmap, protect or revocation of a long range lets go of it
 * between chunks (mm/vm.c "Long operations").
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"
#include "lib/list.h"
#include "lib/spinlock.h"
#include "lib/cpumask.h"
#include "arch/layout.h"

#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#define MAP_FIXED    1 /* at exactly addr, replacing what is there */
#define MAP_POPULATE 2 /* fault every page in now */

#define USER_MMAP_BASE	0x0000000100000000ull
#define USER_MMAP_TOP	0x00007f0000000000ull
#define USER_STACK_TOP	0x00007ffffffff000ull
#define USER_STACK_SIZE (256 * 1024)

struct memobj;

struct vma {
	struct list_node link;
	uint64_t start, end; /* page aligned, [start, end) */
	uint8_t prot;	     /* PROT_* */
	uint8_t max_prot;    /* memory objects: what the handle allowed */
	/* mm/vm.c "Long operations", under mm->lock: whether the unmap or
	 * protect in progress that owns this VMA is an unmap (a fault in it
	 * is refused), and that operation's number in the mm (0: none). */
	bool dying;
	uint32_t op;
	struct memobj *mo; /* NULL: anonymous memory; else mm/memobj.c */
	uint64_t mo_epoch; /* the object's revocations when mapped */
};

struct mm {
	paddr_t root;		   /* kernel root (PML4) */
	paddr_t user_root;	   /* PTI user root, or 0 */
	uint64_t ctx_id;	   /* never reused; names the mm in PCID slots */
	uint64_t tlb_gen;	   /* bumped by every change that needs a flush */
	struct cpumask cpumask;	   /* CPUs that may cache its translations */
	uint32_t pasid;		   /* 0 = none (kernel/pasid.c; mm/pasid.c) */
	uint64_t pasid_msr;	   /* arch_pasid_value(pasid), stored with it: switch_mm's */
	uint32_t membarrier_flags; /* MEMBARRIER_REG_* (kernel/membarrier.c) */
	uint64_t sync_core_gen;	   /* sync-core membarriers so far */
	uint64_t io_key;	   /* kernel/ioport.c: I/O bitmap's key, 0 = no ports */
	const uint8_t *io_bitmap;  /* kernel/ioport.c: the bitmap io_key names */
	int refcount;
	struct spinlock lock;
	struct list_node vmas;
	/* mm/vm.c vma_find(): the VMA it found or vma_insert() added last,
	 * tried before the walk; NULL once any VMA has left the list (so it
	 * never points at a freed one). Under lock, as the list. */
	struct vma *vma_hint;
	/* Operations in progress that own VMAs, the last number given to
	 * one, and how many have ended (mm/vm.c "Long operations"). Under
	 * lock; ops_done is also polled without it. */
	uint32_t ops_marked;
	uint32_t op_seq;
	uint32_t ops_done;
	uint64_t rss_pages;
	uint64_t pt_pages;
	/* mm/tlb.c "Deferred flushes": operations whose changes wait for a
	 * flush after they let go of the lock (LOCK INC and DEC). */
	uint32_t flush_deferred;
};

extern struct mm kernel_mm;

void mm_init(void);
struct mm *mm_create(void);
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);

/* All return 0 or a negative errno; addresses are user virtual. */
int mm_map(struct mm *mm, uint64_t *addr, uint64_t len, uint32_t prot, uint32_t flags);
int mm_unmap(struct mm *mm, uint64_t addr, uint64_t len);
int mm_protect(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot);
/* The VMA of mm that contains va, or NULL; mm->lock held (a walk of the
 * list without the fault path's hint: kernel/selfcheck.c). */
const struct vma *mm_vma_at(const struct mm *mm, uint64_t va);
/* Map a page now with the given contents (ELF loading). */
int mm_populate_copy(struct mm *mm, uint64_t va, const void *src, uint64_t len);

/* Map memory object mo (the caller holds a reference for the call) whole
 * at *addr (a hint) with prot; mm/memobj.c keeps the mapping's record. A
 * memory-object mapping is unmapped whole, never split. */
int mm_map_memobj(struct mm *mm, struct memobj *mo, uint64_t pages, uint64_t *addr, uint32_t prot);
/* Clear every PTE of mo's mappings in mm (no flush, no frame freed: the
 * caller flushes every mm at once and then frees the object's pages).
 * Returns the range cleared in *start, *end (empty: nothing mapped). The
 * caller has begun a deferred flush of mm (mm/tlb.c mm_flush_defer). */
void mm_zap_memobj(struct mm *mm, struct memobj *mo, uint64_t *start, uint64_t *end);

/* Resolve a page fault on a user address in mm; false if the access is
 * not allowed (the arch's fault code calls it: arch/entry.h
 * entry_ops.resolve_fault). */
bool mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec);

/* Walk helpers for invariant checks and tests. */
bool mm_translate(struct mm *mm, uint64_t va, paddr_t *pa, uint64_t *pte);
