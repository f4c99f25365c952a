/*
 * Helpers for the in-kernel tests that run the machine out of memory
 * (kernel/ktests/squeeze.c): take the free frames away, and give them back.
 */
#pragma once
#include "kernel/ktest.h"
#include "arch/layout.h"

/* Wait (bounded, as the other waits: lockup_ms) until the reaper has freed
 * the tasks earlier tests left; false, and a failed check, if it has not. A
 * count of frames or vmalloc pages taken while it works is off by its frees
 * (on a 288-CPU machine it was still freeing the stacks of one test's
 * threads when the next test started). */
bool ktest_reaper_quiet(struct ktest *t);
/* Take frames, or give back ones taken, until exactly left are free (fewer
 * if the machine has fewer); *chain holds what is taken: 0 before the first
 * call, which takes everything first. Other CPUs' allocations fail
 * meanwhile: keep the squeeze short. */
void ktest_squeeze(paddr_t *chain, uint64_t left);
/* Give back everything the squeeze took; *chain is 0 after. */
void ktest_unsqueeze(paddr_t *chain);
/* The frames a squeeze's chain holds. */
uint64_t ktest_squeezed(paddr_t chain);
