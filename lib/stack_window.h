/*
 * The words a panic report prints from the top of an interrupted stack.
 *
 * A trap in kernel mode that panics (a #DF above all) was often caused by
 * something pushed on the stack it interrupted: the frame of an exception
 * whose delivery failed is the only record of that exception, since a #DF's
 * own saved RIP and RFLAGS are undefined (SDM Vol. 3A 6.15 "Interrupt 8").
 * The report reads those words only when RSP lies inside one of the CPU's
 * known stacks (its entry stack, its IST stacks, the current task's kernel
 * stack): below one of them is a guard page, and reading it would fault
 * again inside the panic.
 */
#pragma once
#include <stdint.h>

struct stack_range {
	uint64_t lo, hi; /* [lo, hi), hi the top */
	const char *name;
};

/* The stack of s[0..n) that holds rsp (lo <= rsp < hi), or -1. *words: how
 * many whole 8-byte words lie from rsp to its top, at most max_words. */
int stack_window(const struct stack_range *s, int n, uint64_t rsp, unsigned max_words,
		 unsigned *words);
