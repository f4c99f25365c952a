#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"

struct trap_frame;

/* An NMI: stop requests, the lock-up probe, test NMIs (from the arch's
 * trap dispatch: arch/entry.h entry_ops.do_nmi). */
void nmi_handle(struct trap_frame *tf);
/* Panic path: NMI every other online CPU, one at a time when backtraces
 * are wanted, so that each prints its own report and halts. */
void nmi_stop_other_cpus(bool backtraces);
/* Tests: an NMI to another online CPU, handled quietly there (counter
 * nmi_test); returns once it was handled (-ETIMEDOUT after 10 s).
 * -EINVAL for this CPU or one that is not online. */
int nmi_send_test(uint32_t cpu);
/* What the handler of the last test NMI sent to cpu found (read after
 * nmi_send_test() returned 0): it interrupted user mode; RFLAGS.AC was set
 * in the handler, which the entry code must clear (regression
 * smap_holds_in_traps_with_user_ac). */
#define NMI_SEEN_USER 1
#define NMI_SEEN_AC   2
uint32_t nmi_test_seen(uint32_t cpu);
/* The same, and that CPU's handler then spins hold_ms with NMIs blocked:
 * it looks like a virtual CPU the host does not run (lockup tests). */
int nmi_send_test_hold(uint32_t cpu, uint32_t hold_ms);
