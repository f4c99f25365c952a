/*
 * Ticket spinlocks (see spinlock.h), with a test-and-set mode for virtual
 * machines.
 *
 * Ticket mode: take a ticket from tail (LOCK XADD), wait until head reaches
 * it; unlock stores head + 1. Waiters are served in order.
 *
 * Test-and-set mode (spinlock=tas; the default under a hypervisor): take
 * the lock only when it is free, by a compare-and-swap of tail from head to
 * head + 1, i.e. the ticket that would be served at once (spin_trylock()
 * in a loop). Unlock is the same store of head + 1, so the two modes share
 * the layout and the release path. Why: a fair lock hands the lock to one
 * particular waiter, and if the host is not running that waiter's vCPU the
 * lock sits idle while every other waiter spins (lock-waiter preemption;
 * Linux falls back to test-and-set under hypervisors without paravirtual
 * spinlocks for the same reason). With 224 vCPUs on a 2-core host, 448
 * threads leaving one process queue on its lock and a single hand-off
 * waited over 10 s (qemu-spr-2s-224). Test-and-set gives the lock to
 * whichever waiter runs; the price is fairness, which the lockup detector
 * does not judge (it reports a lock that stops changing hands). The mode
 * is fixed on the boot CPU before any other CPU starts.
 *
 * Memory ordering: the ticket XADD and the test-and-set CAS are LOCKed (full
 * barriers); acquiring completes with an acquire load of head that sees the
 * previous holder's release store of head + 1 (an ADDW to memory without
 * LOCK: only the holder writes head). On x86 (TSO) these compile to plain
 * loads/stores plus the one locked instruction, and they pair: every store
 * inside a critical section is visible to the next holder.
 *
 * While spinning, the CPU records what it waits for (lock_spinning_on, and
 * lock_spin_ticket, SPIN_NO_TICKET in test-and-set mode) and since when,
 * which the lockup detector (kernel/lockup.c) reads.
 */
#include "lib/spinlock.h"
#include "lib/percpu.h"
#include "lib/panic.h"
#include "lib/preempt.h"
#include "lib/cmdline.h"
#include "lib/printk.h"
#include "arch/cpu.h"

bool spin_tas;
static int spin_mode_switch; /* 0 auto, 1 ticket, 2 tas */
KSWITCH_ENUM(spin_mode_switch, "spinlock", "spinlock kind (auto: tas under a hypervisor)", "auto",
	     "ticket", "tas");

/* Called on every spin of a waiter (kernel/lockup.c registers it). */
static void (*spin_watchdog)(const struct spinlock *l);

void spin_set_watchdog(void (*check)(const struct spinlock *l))
{
	spin_watchdog = check;
}

void spin_mode_init(bool hypervisor)
{
	spin_tas = spin_mode_switch == 2 || (spin_mode_switch == 0 && hypervisor);
	pr_info("spinlock: %s%s", spin_tas ? "test-and-set" : "ticket",
		spin_mode_switch ? ""
		: spin_tas	 ? " (hypervisor)"
				 : " (no hypervisor)");
}

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

/* Spin until we hold l: until head reaches our ticket, or (ticket ==
 * SPIN_NO_TICKET) until spin_tas_try() takes it. Out of line and cold:
 * inlined, its registers made every uncontended lock save and restore six
 * callee-saved registers (29 instructions a lock where the fast path needs
 * 13; measured under Bochs). The fast path (spin_lock_raw_at) is inline in
 * spinlock.h. */
__noinline __attribute__((cold)) void spin_lock_wait(struct spinlock *l, uint32_t ticket)
{
	/* An interrupt handler may spin on another lock while we spin: save
	 * and restore what the lockup detector reads. */
	const void *outer = this_cpu_read(lock_spinning_on);
	uint32_t outer_ticket = this_cpu_read(lock_spin_ticket);
	uint64_t outer_start = this_cpu_read(lock_spin_start);

	this_cpu_write(lock_spinning_on, l);
	this_cpu_write(lock_spin_ticket, ticket);
	this_cpu_write(lock_spin_start, rdtsc());
	/* Each hand-off restarts the lockup clock: a queue that moves is
	 * contention, not a lockup (see kernel/lockup.c). Relaxed: only
	 * compared with later values of head. */
	uint16_t head, seen = __atomic_load_n(&l->head, __ATOMIC_RELAXED);

	for (;;) {
		/* Acquire: pairs with the release store in spin_unlock_raw(). */
		head = __atomic_load_n(&l->head, __ATOMIC_ACQUIRE);
		if (ticket == SPIN_NO_TICKET ? spin_tas_try(l, head) : head == ticket)
			break;
		if (head != seen) {
			seen = head;
			this_cpu_write(lock_spin_start, rdtsc());
		}
		cpu_relax();
		if (spin_watchdog)
			spin_watchdog(l);
	}
	this_cpu_write(lock_spin_start, outer_start);
	this_cpu_write(lock_spin_ticket, outer_ticket);
	this_cpu_write(lock_spinning_on, outer);
}

bool spin_has_waiters(const struct spinlock *l)
{
	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct percpu *pc = percpu_of(cpu);

		if (pc && READ_ONCE(pc->lock_spinning_on) == l)
			return true;
	}
	return false;
}

/*
 * A break in a long operation (mm/vm.c): its caller saw a waiter or a
 * reschedule due. In ticket mode the unlock hands the lock to the next
 * ticket, and our new ticket queues behind it. In test-and-set mode the
 * CPU that just let go is nearly always first to take it again (its CAS
 * comes a few instructions after its store; a waiter's comes once per
 * spin), so a waiter could lose every break of a long operation: we wait
 * for a waiter to take it, at most SPIN_BREAK_WAIT spins: about as long
 * as a few turns of a waiter's loop (a PAUSE is some 140 cycles on Sapphire
 * Rapids), and no longer, as its vCPU may not be running (that is why this
 * mode exists).
 */
#define SPIN_BREAK_WAIT 64

void spin_lock_break(struct spinlock *l)
{
	uint16_t head = (uint16_t)(l->head + 1); /* once we let go */

	spin_unlock(l);
	if (spin_tas && spin_has_waiters(l)) {
		/* Relaxed: only whether tail moved past head, i.e. someone
		 * took it; spin_lock_at() below orders what follows. */
		for (int i = 0; i < SPIN_BREAK_WAIT; i++) {
			if (__atomic_load_n(&l->tail, __ATOMIC_RELAXED) != head)
				break;
			cpu_relax();
		}
	}
	spin_lock_at(l, (uintptr_t)__builtin_return_address(0));
}

bool spin_trylock(struct spinlock *l)
{
	preempt_disable();
	/* Only take a ticket if it would be served at once; the acquire load
	 * pairs with the release in spin_unlock(). */
	if (!spin_tas_try(l, __atomic_load_n(&l->head, __ATOMIC_ACQUIRE))) {
		preempt_enable();
		return false;
	}
	note_acquired(l, (uintptr_t)__builtin_return_address(0));
	return true;
}

uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t f = irq_save();

	preempt_disable();
	spin_lock_raw_at(l, (uintptr_t)__builtin_return_address(0));
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
