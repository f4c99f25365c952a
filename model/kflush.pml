/*
 * The deferred kernel flush race (mm/kflush.c, DESIGN.md "TLB flush
 * protocol"), under x86-TSO (tso.pml).
 *
 * CPU 0 unmaps a vmalloc page: clears the PTE, publishes kernel flush
 * generation 1, fences, reads CPU 1's published context, interrupts it
 * only if it is in the kernel, then frees the frame and maps the address
 * again to a new frame. CPU 1 starts in the kernel with the old translation
 * cached; it may go to user mode or idle (publishing USER/IDLE), come back
 * (publish KERNEL, fence, read the generation, flush if behind), take the
 * IPI, touch the mapping (only in the kernel), and refill its TLB from the
 * page table whenever it likes.
 *
 * Property: CPU 1 never uses the old frame's translation after the frame
 * was freed.
 *
 * Broken variants (spin must find the violation):
 *   -DBROKEN_ENTRY_FENCE      no fence between storing KERNEL and reading
 *                             the generation on kernel entry
 *   -DBROKEN_INITIATOR_FENCE  no fence between publishing the generation
 *                             and reading the other CPU's context
 */
#define NVARS 3
#define PTE   0 /* the page's PTE: 0 none, 1 old frame, 2 new frame */
#define KGEN  1 /* kernel flush generation */
#define CTX   2 /* CPU 1's published context */

#define KERNEL 0
#define USER   1
#define IDLE   2

#include "tso.pml"

bool freed;    /* the old frame was freed (and may hold anything) */
bool ipi;      /* a flush IPI is pending at CPU 1 */
byte tlb = 1;  /* CPU 1's cached translation: 0 none, else the frame */
byte seen;     /* the generation CPU 1 flushed up to */
byte where;    /* CPU 1's actual mode */

proctype initiator()
{
	byte c;

	STORE(0, PTE, 0);
	STORE(0, KGEN, 1);
#ifndef BROKEN_INITIATOR_FENCE
	FENCE(0);
#endif
	LOAD(0, CTX, c);
	if
	:: c == KERNEL -> ipi = true; !ipi /* synchronous: wait for it */
	:: else -> skip                      /* deferred */
	fi;
	/* The flush returned: free the frame, reuse the address. */
	FENCE(0);
	freed = true;
	STORE(0, PTE, 2)
}

proctype target()
{
	byte g, p;

	do
	:: where == KERNEL -> /* touch the mapping */
		assert(!(freed && tlb == 1))
	:: where == KERNEL -> /* to user mode, or idle */
		if
		:: STORE(1, CTX, USER); where = USER
		:: STORE(1, CTX, IDLE); where = IDLE
		fi
	:: where != KERNEL -> /* kernel entry, or wake from idle */
		STORE(1, CTX, KERNEL);
#ifndef BROKEN_ENTRY_FENCE
		FENCE(1);
#endif
		LOAD(1, KGEN, g);
		if
		:: g > seen -> tlb = 0; seen = g
		:: else -> skip
		fi;
		where = KERNEL
	:: ipi -> /* the IPI, in whatever mode: catch up */
		LOAD(1, KGEN, g);
		tlb = 0;
		seen = g;
		ipi = false
	:: tlb == 0 -> /* a (speculative) page walk refills the TLB */
		LOAD(1, PTE, p);
		tlb = p
	od
}

init
{
	atomic {
		mem[PTE] = 1;
		mem[CTX] = KERNEL;
		run drain(0);
		run drain(1);
		run initiator();
		run target()
	}
}
