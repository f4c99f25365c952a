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
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "arch/static_branch.h"

struct spinlock {
	uint16_t head;	/* ticket being served */
	uint16_t tail;	/* next ticket to hand out */
	int32_t holder; /* CPU id of the holder, -1 when free */
	const char *name;
	uintptr_t holder_pc; /* where it was taken (an address in the taker) */
};

#define SPINLOCK_INIT(n)       \
	{                      \
		0, 0, -1, n, 0 \
	}

void spin_init(struct spinlock *l, const char *name);
bool spin_trylock(struct spinlock *l);
uint64_t spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags);
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

/* Spin until we hold l (lib/spinlock.c): the contended case, out of line. */
void spin_lock_wait(struct spinlock *l, uint32_t ticket);

/* The address of this instruction (holder_pc: where a lock was taken). */
#define SPIN_THIS_IP                   \
	({                             \
		__label__ __here;      \
	__here:                        \
		(uintptr_t) && __here; \
	})

/* Test-and-set: take l if it is free (tail == head, and head still the
 * value read with acquire by the caller). */
static __always_inline bool spin_tas_try(struct spinlock *l, uint16_t head)
{
	uint16_t expect = head;

	/* Read tail first, so that a taken lock costs no locked operation;
	 * the CAS is the full barrier that takes it. */
	return __atomic_load_n(&l->tail, __ATOMIC_RELAXED) == head &&
	       __atomic_compare_exchange_n(&l->tail, &expect, (uint16_t)(head + 1), false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Take l (preemption left alone); pc is recorded as where. Inline: an
 * uncontended lock is a locked XADD (or CMPXCHG) and a compare; the
 * spinning is spin_lock_wait's. */
static __always_inline void spin_lock_raw_at(struct spinlock *l, uintptr_t pc)
{
	if (unlikely(static_branch(&spin_tas))) {
		/* Acquire: pairs with the release in spin_unlock_raw(). */
		if (!spin_tas_try(l, __atomic_load_n(&l->head, __ATOMIC_ACQUIRE)))
			spin_lock_wait(l, SPIN_NO_TICKET);
	} else {
		/* Take a ticket: LOCK XADD, as __atomic_fetch_add(&l->tail, 1,
		 * ACQUIRE) emits it, but with the tail as a memory operand (GCC
		 * computed &l->tail once for both branches and kept it in a
		 * stack slot: three instructions a lock on the IPC path). A
		 * locked instruction is a full barrier, "memory" a compiler one. */
		uint16_t ticket = 1;

		__asm__ __volatile__("lock xaddw %0, %1"
				     : "+r"(ticket), "+m"(l->tail)
				     :
				     : "memory");
		/* Then wait for head to reach it. Acquire: pairs with the
		 * release in spin_unlock_raw(). */
		if (__atomic_load_n(&l->head, __ATOMIC_ACQUIRE) != ticket)
			spin_lock_wait(l, ticket);
	}
	l->holder = (int32_t)this_cpu_id();
	l->holder_pc = pc;
}

#define spin_lock_raw(l) spin_lock_raw_at((l), SPIN_THIS_IP)

static __always_inline void spin_unlock_raw(struct spinlock *l)
{
	l->holder = -1;
	/* Release: the critical section's stores become visible before the
	 * next ticket holder sees head move (pairs with the acquire load).
	 * One ADDW to memory, not LOCKed: only the holder writes head, and
	 * the add's store is a single 16-bit store, which (TSO, SDM Vol. 3A
	 * 9.2.2) no earlier load or store passes; "memory" keeps the compiler
	 * from sinking the critical section below it. The store of head + 1
	 * that __atomic_store_n(RELEASE) would compile to takes three
	 * instructions (a load, an add, a store). */
	__asm__ __volatile__("addw $1, %0" : "+m"(l->head) : : "memory");
}

static __always_inline void spin_lock_at(struct spinlock *l, uintptr_t pc)
{
	preempt_disable();
	spin_lock_raw_at(l, pc);
}

#define spin_lock(l) spin_lock_at((l), SPIN_THIS_IP)

static __always_inline void spin_unlock(struct spinlock *l)
{
	spin_unlock_raw(l);
	preempt_enable();
}

/* Does some CPU spin on l now (its lock_spinning_on)? A scan of every
 * CPU: for spin_needbreak() in test-and-set mode, where waiters take no
 * ticket. */
bool spin_has_waiters(const struct spinlock *l);

/* Should a long operation holding l let go of it for a moment (mm/vm.c
 * "Long operations")? When another CPU waits for it. */
static __always_inline bool spin_needbreak(const struct spinlock *l)
{
	if (likely(!static_branch(&spin_tas)))
		return (uint16_t)(READ_ONCE(l->tail) - READ_ONCE(l->head)) > 1;
	return spin_has_waiters(l);
}

/* Let go of l (taken with spin_lock()) and take it again, running a
 * reschedule that is due in between; a waiter gets it first (see
 * lib/spinlock.c). */
void spin_lock_break(struct spinlock *l);

/* Inline: assert_held() sits on hot paths (a thread switch, an unmap), where
 * a call would cost more than the check. */
static __always_inline bool spin_held_by_me(const struct spinlock *l)
{
	return READ_ONCE(l->holder) == (int32_t)this_cpu_id() &&
	       READ_ONCE(l->head) != READ_ONCE(l->tail);
}

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
