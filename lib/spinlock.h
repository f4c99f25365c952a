/*
 * Ticket spinlocks with owner tracking.
 *
 * A lock records the CPU that holds it and where it was taken, so that
 * assert_held() can check the rule written on the data, and the lockup
 * detector can say which CPU holds what. Holding a lock disables preemption
 * (a task spinning on a lock held by a preempted task on the same CPU
 * would wait forever). Taking a lock never enables or disables interrupts
 * by itself; the _irqsave variants do. The _raw variants leave preemption
 * alone: only the scheduler uses them, for the run-queue lock that one
 * task takes and the next task releases across a context switch.
 *
 * Lock order (outer first); a lock may only be taken while holding locks
 * that appear above it:
 *   1. procs_lock              (kernel/proc.c, the process list)
 *   2. proc->lock              (kernel/proc.c)
 *   3. mm->lock                (mm/vm.c)
 *   4. ipc keys, endpoint->lock (kernel/ipc.c)
 *   5. futex bucket lock       (kernel/futex.c)
 *   6. run-queue lock          (sched/sched.c; two at once in CPU-id order)
 *   7. frame zone, heap cache, vmalloc, kpt locks (mm/)
 *   8. console lock            (lib/printk.c; leaf, may be broken by panic)
 */
#pragma once

#include "lib/compiler.h"

struct spinlock {
	uint16_t head;	/* ticket being served */
	uint16_t tail;	/* next ticket to hand out */
	int32_t holder; /* CPU id of the holder, -1 when free */
	const char *name;
	uintptr_t holder_pc; /* return address of the acquiring call */
};

#define SPINLOCK_INIT(n)       \
	{                      \
		0, 0, -1, n, 0 \
	}

void spin_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
void spin_lock_raw(struct spinlock *l);
void spin_unlock_raw(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
uint64_t spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags);
bool spin_held_by_me(const struct spinlock *l);
/* Choose ticket or test-and-set locks (switch spinlock=), on the boot CPU
 * before any other starts; see lib/spinlock.c. */
void spin_mode_init(bool hypervisor);
/* check(l) runs on every spin of a waiter on l (the lockup detector). */
void spin_set_watchdog(void (*check)(const struct spinlock *l));
extern bool spin_tas;
/* lock_spin_ticket of a CPU spinning in test-and-set mode. */
#define SPIN_NO_TICKET 0xffffffffu
bool spin_is_locked(const struct spinlock *l);

void assert_held_fail(const struct spinlock *l, const char *file, int line) __noreturn;
void assert_irqs_off_fail(const char *file, int line) __noreturn;

#define assert_held(l)                                           \
	do {                                                     \
		if (unlikely(!spin_held_by_me(l)))               \
			assert_held_fail(l, __FILE__, __LINE__); \
	} while (0)

#define assert_irqs_off()                                         \
	do {                                                      \
		if (unlikely(irqs_enabled()))                     \
			assert_irqs_off_fail(__FILE__, __LINE__); \
	} while (0)
