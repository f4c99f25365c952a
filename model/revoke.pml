/*
 * Revoking a page mapped in two address spaces in one flush round
 * (mm_flush_many in mm/tlb.c, used by memory-object revocation in
 * kernel/shm.c and mm/memobj.c), under x86-TSO (tso.pml).
 *
 * CPU 0 revokes: clears the page's PTE in mm 0 and in mm 1, bumps both
 * mms' tlb_gen with LOCKed adds (step 1 for every mm before any mask is
 * read), then for each mm reads CPU 1's bit in its CPU mask and, if set,
 * CPU 1's lazy flag and loaded mm, interrupts CPU 1 once if it is a target
 * for any mm (not excused: lazy on that very mm), waits for the handler,
 * then frees the frame and reuses it.
 *
 * CPU 1 holds a translation of the page in both mms' PCID slots (PCIDs
 * keep the other mm's entries across switches) and runs one of them,
 * possibly lazily. It can:
 *   - touch the page through the mm it runs
 *   - refill its TLB from the loaded mm's page table (also when lazy)
 *   - become lazy (a kernel thread runs); leave lazy mode for the same mm:
 *     clear is_lazy, fence, read tlb_gen, flush if its slot is behind
 *   - switch to the other mm (switch_mm, load_mm): clear is_lazy, set its
 *     mask bit with a LOCKed OR unless it is set already, read that mm's
 *     tlb_gen, flush its slot if behind, then store loaded_mm
 *   - take the IPI: for each request whose mm is the loaded one and not
 *     lazy, flush (flush_many_ipi); requests for other mms are skipped
 *
 * Property: CPU 1 never uses the old frame's translation, in either mm,
 * after the frame was freed.
 *
 * Broken variants (spin must find the violation):
 *   -DBROKEN_FIRST_MM_ONLY  the initiator gathers targets from the first
 *                           mm's mask only (tlbinject=skip_many_rest)
 *   -DBROKEN_HANDLER_FIRST  the IPI handler serves only the first request
 *   -DBROKEN_SWITCH_NO_GEN  a switch loads the other mm's slot without
 *                           comparing generations (tlbinject=skip_gen_check)
 *   -DBROKEN_LAZY_READ_ORDER the initiator reads is_lazy before loaded_mm,
 *                           as the kernel did until this model found it:
 *                           the old flag (lazy on mm 0) pairs with the new
 *                           loaded_mm (mm 1) of a CPU switching to mm 1
 *                           with its bit already set, which read the old
 *                           generation, and it is excused
 */
#define NVARS 8
#define PTE0   0 /* the page's PTE in mm 0: 0 none, 1 old frame, 2 reused */
#define PTE1   1
#define GEN0   2 /* mm 0's tlb_gen */
#define GEN1   3
#define MASK0  4 /* CPU 1's bit in mm 0's CPU mask */
#define MASK1  5
#define LAZY   6 /* CPU 1's is_lazy */
#define LOADED 7 /* CPU 1's loaded_mm: 0 or 1 */

#include "tso.pml"

bool freed;
bool ipi;
byte cur;	/* the mm CPU 1 has loaded */
bool lazy;	/* CPU 1 runs a kernel thread on it */
byte tlb[2];	/* CPU 1's cached translation of the page per mm: 0 none */
byte seen[2];	/* CPU 1's slot generation per mm */

/* CPU 0: is CPU 1 a target for mm i (mm/tlb.c many_target, lazy_on_mm:
 * loaded_mm read before is_lazy)? */
#ifdef BROKEN_LAZY_READ_ORDER
#define LAZY_PAIR                                                    \
		LOAD(0, LAZY, l);                                    \
		LOAD(0, LOADED, ld)
#else
#define LAZY_PAIR                                                    \
		LOAD(0, LOADED, ld);                                 \
		LOAD(0, LAZY, l)
#endif
#define GATHER(i, MASKV)                                             \
	LOAD(0, MASKV, m);                                           \
	if                                                           \
	:: m ->                                                      \
		LAZY_PAIR;                                           \
		if                                                   \
		:: !(l && ld == i) -> target = true                  \
		:: else -> skip                                      \
		fi                                                   \
	:: else -> skip                                              \
	fi

proctype revoker()
{
	byte g, m, l, ld;
	bool target;

	STORE(0, PTE0, 0);
	STORE(0, PTE1, 0);
	LOCKED_ADD(0, GEN0, 1, g);
	LOCKED_ADD(0, GEN1, 1, g);
	GATHER(0, MASK0);
#ifndef BROKEN_FIRST_MM_ONLY
	GATHER(1, MASK1);
#endif
	if
	:: target -> ipi = true; !ipi
	:: else -> skip
	fi;
	FENCE(0);
	freed = true;
	STORE(0, PTE0, 2);
	STORE(0, PTE1, 2)
}

/* CPU 1 flushes its slot of mm i if it is behind (generation g read). */
#define CATCH_UP(i, g)                                               \
	if                                                           \
	:: g > seen[i] -> tlb[i] = 0; seen[i] = g                    \
	:: else -> skip                                              \
	fi

proctype cpu1()
{
	byte g, p, o, m;

	do
	:: !lazy -> /* a thread of the loaded mm touches the page */
		assert(!(freed && tlb[cur] == 1))
	:: tlb[cur] == 0 -> /* a page walk through the loaded mm's tables */
		if
		:: cur == 0 -> LOAD(1, PTE0, p)
		:: else -> LOAD(1, PTE1, p)
		fi;
		tlb[cur] = p
	:: !lazy -> /* a kernel thread runs: lazy */
		STORE(1, LAZY, 1);
		lazy = true
	:: lazy -> /* back to a thread of the same mm: catch up */
		STORE(1, LAZY, 0);
		FENCE(1);
		lazy = false;
		if
		:: cur == 0 -> LOAD(1, GEN0, g)
		:: else -> LOAD(1, GEN1, g)
		fi;
		CATCH_UP(cur, g)
	:: true -> /* switch to the other mm (from a thread or lazily): switch_mm */
		o = 1 - cur;
		STORE(1, LAZY, 0);
		lazy = false;
		/* load_mm: the bit is set with a LOCKed OR only if clear; when
		 * it is set already (load_mm_fast too) nothing fences the
		 * generation's read against the stores before it. */
		if
		:: o == 0 -> LOAD(1, MASK0, m)
		:: else -> LOAD(1, MASK1, m)
		fi;
		if
		:: m -> skip
		:: !m && o == 0 -> atomic { sb_n[1] == 0 -> mem[MASK0] = 1 }
		:: !m && o == 1 -> atomic { sb_n[1] == 0 -> mem[MASK1] = 1 }
		fi;
#ifndef BROKEN_SWITCH_NO_GEN
		if
		:: o == 0 -> LOAD(1, GEN0, g)
		:: else -> LOAD(1, GEN1, g)
		fi;
		CATCH_UP(o, g);
#endif
		STORE(1, LOADED, o); /* last, as load_mm_in_tx's */
		cur = o
	:: ipi -> /* flush_many_ipi: requests for mm 0, then mm 1 */
		if
		:: cur == 0 && !lazy -> LOAD(1, GEN0, g); tlb[0] = 0; seen[0] = g
		:: else -> skip
		fi;
#ifndef BROKEN_HANDLER_FIRST
		if
		:: cur == 1 && !lazy -> LOAD(1, GEN1, g); tlb[1] = 0; seen[1] = g
		:: else -> skip
		fi;
#endif
		ipi = false
	od
}

init
{
	atomic {
		mem[PTE0] = 1;
		mem[PTE1] = 1;
		/* CPU 1 runs mm 0 or mm 1, maybe lazily; its bit is set in the
		 * loaded mm's mask and set or clear (stale) in the other's; both
		 * slots hold the old frame's translation at generation 0. */
		if
		:: cur = 0
		:: cur = 1
		fi;
		if
		:: lazy = true
		:: lazy = false
		fi;
		mem[LOADED] = cur;
		mem[LAZY] = lazy;
		if
		:: cur == 0 -> mem[MASK0] = 1
		:: else -> mem[MASK1] = 1
		fi;
		if
		:: mem[MASK0] = 1; mem[MASK1] = 1
		:: skip
		fi;
		tlb[0] = 1;
		tlb[1] = 1;
		run drain(0);
		run drain(1);
		run revoker();
		run cpu1()
	}
}
