/*
 * Ticket spinlocks (see spinlock.h).
 *
 * Memory ordering: taking a ticket is a LOCK XADD (a full barrier), and the
 * acquire completes with an acquire load of head; the release is a release
 * store of head + 1. On x86 (TSO) these compile to plain loads/stores plus
 * the one locked instruction, and they pair with each other: everything
 * written inside the critical section is visible to the next holder.
 *
 * While spinning, the CPU records what it waits for (lock_spinning_on) and
 * since when, which the lockup detector (kernel/lockup.c) reads.
 */
#include "kernel/spinlock.h"
#include "kernel/percpu.h"
#include "kernel/panic.h"
#include "kernel/lockup.h"
#include "kernel/preempt.h"
#include "arch/x86/cpu.h"

void spin_init(struct spinlock *l, const char *name)
{
	l->head = 0;
	l->tail = 0;
	l->holder = -1;
	l->name = name;
	l->holder_pc = 0;
}

static inline void note_acquired(struct spinlock *l, uintptr_t pc)
{
	l->holder = (int32_t)this_cpu_id();
	l->holder_pc = pc;
}

static __always_inline void lock_slow(struct spinlock *l, uint16_t ticket)
{
	/* An interrupt handler may spin on another lock while we spin: save
	 * and restore what the lockup detector reads. */
	const void *outer = this_cpu_read(lock_spinning_on);
	uint32_t outer_ticket = this_cpu_read(lock_spin_ticket);
	uint64_t outer_start = this_cpu_read(lock_spin_start);

	this_cpu_write(lock_spinning_on, l);
	this_cpu_write(lock_spin_ticket, ticket);
	this_cpu_write(lock_spin_start, rdtsc());
	/* Acquire: pairs with the release store of head in spin_unlock(). */
	while (__atomic_load_n(&l->head, __ATOMIC_ACQUIRE) != ticket) {
		cpu_relax();
		lockup_check_spin(l);
	}
	this_cpu_write(lock_spin_start, outer_start);
	this_cpu_write(lock_spin_ticket, outer_ticket);
	this_cpu_write(lock_spinning_on, outer);
}

void spin_lock_raw(struct spinlock *l)
{
	/* Take a ticket (LOCK XADD), then wait for head to reach it; the
	 * acquire load pairs with the release in spin_unlock(). */
	uint16_t ticket = __atomic_fetch_add(&l->tail, 1, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&l->head, __ATOMIC_ACQUIRE) != ticket)
		lock_slow(l, ticket);
	note_acquired(l, (uintptr_t)__builtin_return_address(0));
}

bool spin_trylock(struct spinlock *l)
{
	uint16_t head = __atomic_load_n(&l->head, __ATOMIC_RELAXED);
	uint16_t expect = head;

	preempt_disable();
	/* Only take a ticket if it would be served at once. */
	if (!__atomic_compare_exchange_n(&l->tail, &expect, (uint16_t)(head + 1), false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		preempt_enable();
		return false;
	}
	note_acquired(l, (uintptr_t)__builtin_return_address(0));
	return true;
}

void spin_unlock_raw(struct spinlock *l)
{
	l->holder = -1;
	/* Release: the critical section's stores become visible before the
	 * next ticket holder sees head move (pairs with the acquire load). */
	__atomic_store_n(&l->head, (uint16_t)(l->head + 1), __ATOMIC_RELEASE);
}

void spin_lock(struct spinlock *l)
{
	preempt_disable();
	spin_lock_raw(l);
	l->holder_pc = (uintptr_t)__builtin_return_address(0);
}

void spin_unlock(struct spinlock *l)
{
	spin_unlock_raw(l);
	preempt_enable();
}

uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t f = irq_save();

	preempt_disable();
	spin_lock_raw(l);
	l->holder_pc = (uintptr_t)__builtin_return_address(0);
	return f;
}

void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	spin_unlock_raw(l);
	preempt_enable_no_resched();
	irq_restore(flags);
	if (flags & RFLAGS_IF)
		preempt_check_resched();
}

bool spin_held_by_me(const struct spinlock *l)
{
	return READ_ONCE(l->holder) == (int32_t)this_cpu_id() &&
	       READ_ONCE(l->head) != READ_ONCE(l->tail);
}

bool spin_is_locked(const struct spinlock *l)
{
	return READ_ONCE(l->head) != READ_ONCE(l->tail);
}

void assert_held_fail(const struct spinlock *l, const char *file, int line)
{
	panic("%s:%d: lock '%s' not held by cpu %u (holder %d)", file, line, l->name, this_cpu_id(),
	      l->holder);
}

void assert_irqs_off_fail(const char *file, int line)
{
	panic("%s:%d: interrupts are enabled", file, line);
}
