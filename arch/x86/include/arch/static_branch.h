/*
 * Static branches (interface): a boot-time switch tested in one instruction.
 *
 * A hot path that tests a flag fixed at boot (the spinlock kind, whether
 * the CPU has XSAVES or FSGSBASE, the PASID mode, ...) pays a load, a test
 * and a branch each time, on every lock and every switch, to learn what it
 * learned the first time. static_branch(&flag) compiles to one 5-byte
 * instruction instead, which the boot rewrites once the flag is known:
 *
 *   as compiled  JMP rel32 to a test of the flag (correct at any time: the
 *                flag is read, as a plain `if (flag)` would)
 *   patched      flag true:  JMP rel32 to the true branch
 *                flag false: a 5-byte NOP, falling through to the false one
 *
 * Each site is recorded in the section static_branch_sites (code address,
 * true-branch address, flag address). static_branches_apply()
 * (arch/x86/static_branch.c) patches every site once, on the boot CPU
 * before the other CPUs start and before interrupts are on, through the
 * direct map (kernel text itself stays read-only), and ends with a
 * serializing instruction. Until then every site runs its test, so a flag
 * may be set any time before that call and read through static_branch()
 * meanwhile.
 *
 * The rule (a flag used here): it is a bool, and it never changes after
 * static_branches_apply(); a site would go on taking the branch the flag
 * had then. The ktest static_branch_sites_match_their_flags checks every
 * site against its flag, and the static check check_static_branches.py
 * every site of the linked kernel against its record. A switch that may
 * change at run time (ipcfast=, trace recording) stays a plain test.
 *
 * Bochs counts the NOP or the JMP as one instruction, the test it replaces
 * as two or three (a CMPB and a Jcc; a MOV, a TEST and a Jcc).
 */
#pragma once

#include "lib/compiler.h"

struct static_branch_site {
	uint64_t code;	/* the 5-byte instruction */
	uint64_t taken; /* the true branch */
	const bool *flag;
};

/* True if *flag is; one instruction once patched. Use as any condition:
 * likely()/unlikely() around it place the blocks as for a plain test. */
static __always_inline bool static_branch(const bool *flag)
{
	__asm__ goto("1:\t.byte 0xe9\n\t"
		     ".long %l[test] - 2f\n"
		     "2:\n\t"
		     ".pushsection static_branch_sites, \"a\"\n\t"
		     ".balign 8\n\t"
		     ".quad 1b, %l[yes], %c0\n\t"
		     ".popsection"
		     :
		     : "i"(flag)
		     :
		     : test, yes);
	return false;
yes:
	return true;
test:
	__attribute__((cold));
	return READ_ONCE(*flag);
}

/* Patch every site to its flag's value; once, on the boot CPU, interrupts
 * off, before the other CPUs start. */
void static_branches_apply(void);

/* How many sites do not hold what the patch writes for their flag's
 * value now (0: all patched, and no flag changed since); the first one
 * is printed. */
int static_branches_check(void);

/* The sites (the linker's table) and how many are patched each way. */
extern const struct static_branch_site __static_branch_start[], __static_branch_end[];
extern unsigned int static_branches_taken, static_branches_not_taken;
