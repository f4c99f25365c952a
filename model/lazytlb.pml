/*
 * Lazy TLB and the flush protocol's two races (mm/tlb.c, races a and b in
 * its header), under x86-TSO (tso.pml).
 *
 * CPU 0 runs a thread of mm and unmaps a page: clears the PTE, bumps
 * mm->tlb_gen with a LOCKed add, reads CPU 1's lazy flag and whether CPU 1
 * is in mm's CPU mask, interrupts CPU 1 if it is in the mask and not lazy,
 * then frees the frame and maps the address again.
 *
 * CPU 1 has mm loaded either lazily (a kernel thread runs on it: the
 * initial state "lazy") or not at all ("away": another mm is loaded, its
 * mask bit may be stale-set or clear). It can:
 *   - leave lazy mode for a thread of mm: clear is_lazy, fence, read
 *     tlb_gen, flush if its slot is behind (lazy_catch_up; race b)
 *   - switch to mm from another mm: set its mask bit with a LOCKed OR,
 *     read tlb_gen, flush if behind (load_mm; race a)
 *   - become lazy again (a kernel thread runs): set is_lazy
 *   - take the IPI: flush unless lazy (flush_ipi; freed page tables are
 *     not modelled here: they always interrupt)
 *   - touch the page, when a thread of mm runs
 *   - refill its TLB from the page table while mm is loaded (speculation
 *     happens in lazy mode too)
 *
 * Property: CPU 1 never uses the old frame's translation after the frame
 * was freed.
 *
 * The switch here always sets the mask bit with a LOCKed OR, and "away"
 * is never lazy; a switch whose bit is set already (no LOCK) from lazy
 * mode on another mm, and the initiator's read order of loaded_mm and
 * is_lazy, are model/revoke.pml's.
 *
 * Broken variants (spin must find the violation):
 *   -DBROKEN_LAZY_FENCE    no fence between clearing is_lazy and reading
 *                          tlb_gen in lazy_catch_up
 *   -DBROKEN_EARLY_READ    the initiator reads the lazy flag and the mask
 *                          before bumping tlb_gen
 *   -DBROKEN_MASK_STORE    the switch sets its mask bit with a plain store
 *                          (no LOCK), so its read of tlb_gen can pass it
 */
#define NVARS 4
#define PTE   0 /* 0 none, 1 old frame, 2 new frame */
#define GEN   1 /* mm->tlb_gen */
#define LAZY  2 /* CPU 1's is_lazy */
#define MASK  3 /* CPU 1's bit in mm->cpumask */

#define LAZY_ON_MM 0 /* CPU 1 states */
#define RUNS_MM    1
#define AWAY       2

#include "tso.pml"

bool freed;
bool ipi;
byte tlb;    /* CPU 1's cached translation of the page for mm: 0 none */
byte seen;   /* CPU 1's slot generation for mm */
byte state;  /* CPU 1's actual state */

proctype initiator()
{
	byte g, l, m;

	STORE(0, PTE, 0);
#ifdef BROKEN_EARLY_READ
	LOAD(0, LAZY, l);
	LOAD(0, MASK, m);
	LOCKED_ADD(0, GEN, 1, g);
#else
	LOCKED_ADD(0, GEN, 1, g);
	LOAD(0, LAZY, l);
	LOAD(0, MASK, m);
#endif
	if
	:: m && !l -> ipi = true; !ipi
	:: else -> skip /* not in the mask, or lazy: skipped */
	fi;
	FENCE(0);
	freed = true;
	STORE(0, PTE, 2)
}

proctype target()
{
	byte g, p;

	do
	:: state == RUNS_MM -> /* a thread of mm touches the page */
		assert(!(freed && tlb == 1))
	:: state == RUNS_MM -> /* a kernel thread runs: lazy */
		STORE(1, LAZY, 1);
		state = LAZY_ON_MM
	:: state == LAZY_ON_MM -> /* back to a thread of mm: catch up */
		STORE(1, LAZY, 0);
#ifndef BROKEN_LAZY_FENCE
		FENCE(1);
#endif
		LOAD(1, GEN, g);
		if
		:: g > seen -> tlb = 0; seen = g
		:: else -> skip
		fi;
		state = RUNS_MM
	:: state == AWAY -> /* switch to mm (its slot kept generation seen) */
#ifdef BROKEN_MASK_STORE
		STORE(1, MASK, 1);
#else
		atomic { sb_n[1] == 0 -> mem[MASK] = 1 }
#endif
		STORE(1, LAZY, 0);
		LOAD(1, GEN, g);
		if
		:: g > seen -> tlb = 0; seen = g
		:: else -> skip
		fi;
		state = RUNS_MM
	:: ipi -> /* flush_ipi */
		if
		:: state == RUNS_MM -> LOAD(1, GEN, g); tlb = 0; seen = g
		:: else -> skip /* lazy, or no longer on mm */
		fi;
		ipi = false
	:: state != AWAY && tlb == 0 -> /* a page walk through mm's tables */
		LOAD(1, PTE, p);
		tlb = p
	od
}

init
{
	atomic {
		mem[PTE] = 1;
		/* CPU 1 either sits lazily on mm, with the translation cached and
		 * its slot current, or runs another mm, with a stale entry of
		 * mm kept in mm's slot (PCIDs keep it) and its mask bit clear. */
		if
		:: state = LAZY_ON_MM; mem[LAZY] = 1; mem[MASK] = 1
		:: state = AWAY; mem[LAZY] = 0; mem[MASK] = 0
		fi;
		tlb = 1;
		run drain(0);
		run drain(1);
		run initiator();
		run target()
	}
}
