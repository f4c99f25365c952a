/*
 * I/O port objects (KOBJ_IOPORT) and the per-process I/O permission
 * bitmap.
 *
 * Glossary
 *   range    an object: ports [base, base + count), created from the
 *            hardware resource (kernel/irq_obj.c), below IO_BITMAP_PORTS
 *   enabled  ranges the process turned on with ioport_enable(h, 1) (R_IO);
 *            each holds a reference to its object. They stay enabled
 *            until ioport_enable(h, 0) or the process's end, even if the
 *            handle is closed or moved meanwhile (as a mapping outlives
 *            the handle it was made through)
 *   iomap    the process's bitmap (a set bit denies the port), rebuilt
 *            from the enabled ranges at each change, and its key: a
 *            64-bit number never used twice (0: no ports)
 *   io_key   per CPU: the key of the bitmap its TSS holds (0: none; the
 *            TSS's I/O map base is then beyond its limit)
 *
 * Load (switch_mm, mm/tlb.c): one compare, this CPU's io_key against
 * next->io_key; equal (0 == 0 for every process without ports) costs
 * nothing more. Different: mm_load_io_bitmap() (mm/tlb.c) hands next's
 * key and bitmap to arch_io_bitmap_switch() (arch/ioperm.h), which copies
 * the bitmap into the TSS (counter ioport_bitmap_load) or moves the map
 * base beyond the limit. This file builds the bitmaps and changes them.
 *
 * Change (enable, disable; serialized by change_lock, taken with
 * interrupts on and held across the IPIs, as kernel/pasid.c does): store
 * the new bitmap and key in the mm, a full barrier, read mm->cpumask and
 * call every CPU in it, waiting; a CPU whose loaded mm is this one reloads.
 * Race with a CPU switching to the mm: it sets its mask bit (LOCK OR, a
 * full barrier) before switch_mm reads io_key; we store io_key before our
 * barrier and the mask read. Either we call it or it reads the new key.
 * Invariant: once enable or disable returns, no thread of the process runs
 * in user mode with the old bitmap. (A CPU may copy a bitmap being
 * rebuilt; it is then in the mask and our call reloads it.)
 *
 * End: proc_finish() (kernel/proc.c) drops the enabled ranges and the
 * bitmap after the last thread is gone; a CPU still holding the bitmap in
 * its TSS runs nothing of that process again, and the next switch_mm
 * replaces it.
 */
#include "kernel/ioport.h"
#include "kernel/irq_obj.h"
#include "kernel/handle.h"
#include "kernel/proc.h"
#include "kernel/smp.h"
#include "kernel/counters.h"
#include "kernel/percpu_area.h"
#include "arch/ioperm.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "lib/preempt.h"
#include "mm/kheap.h"
#include "mm/mm.h"
#include "mm/tlb.h"
#include "sched/task.h"

#define IOMAP_MAX_RANGES 8

struct ioport {
	struct kobj kobj; /* first: the typesafe header */
	uint16_t base, count;
};

struct iomap {
	uint8_t bits[IO_BITMAP_BYTES];
	struct ioport *ranges[IOMAP_MAX_RANGES];
};

static struct kmem_cache ioport_cache;
static struct spinlock change_lock = SPINLOCK_INIT("ioport_change");
static uint64_t next_key = 1; /* under change_lock */

static void ioport_destroy(struct kobj *k)
{
	kmem_cache_free(&ioport_cache, container_of(k, struct ioport, kobj));
}

static const struct kobj_ops ioport_ops = { .destroy = ioport_destroy };

void ioport_init(void)
{
	kmem_cache_init_typesafe(&ioport_cache, "ioport", sizeof(struct ioport), 16);
	kobj_register(KOBJ_IOPORT, &ioport_ops);
}

long ioport_create(uint64_t res, uint64_t base, uint64_t count)
{
	long err = hwres_check(res);

	if (err)
		return err;
	if (!count || base > 0xffff || count > 0x10000 - base)
		return -EINVAL; /* not a port range */
	if (base + count > IO_BITMAP_PORTS)
		return -ERANGE; /* beyond what the TSS bitmap covers */
	struct ioport *r = kmem_cache_alloc(&ioport_cache);

	if (!r)
		return -ENOMEM;
	r->base = (uint16_t)base;
	r->count = (uint16_t)count;
	kobj_init(&r->kobj, KOBJ_IOPORT);
	return handle_create(proc_current(), &r->kobj, R_IO | R_DUP | R_XFER);
}

static void reload_ipi(void *arg)
{
	const struct mm *mm = arg;

	if (this_cpu_read(shared.loaded_mm) == mm)
		mm_load_io_bitmap(mm);
}

static void rebuild(struct iomap *m)
{
	memset(m->bits, 0xff, sizeof(m->bits));
	for (int i = 0; i < IOMAP_MAX_RANGES; i++) {
		struct ioport *r = m->ranges[i];

		for (uint32_t p = r ? r->base : 0; r && p < (uint32_t)r->base + r->count; p++)
			m->bits[p / 8] &= (uint8_t) ~(1u << (p % 8));
	}
}

/* Publish m's bitmap under a new key and make every CPU running mm use it. */
static void publish(struct mm *mm, struct iomap *m, bool any)
{
	WRITE_ONCE(mm->io_bitmap, any ? m->bits : NULL);
	WRITE_ONCE(mm->io_key, any ? next_key++ : 0);
	smp_mb(); /* io_key before the mask read; pairs with load_mm's LOCK OR */
	uint64_t f = irq_save();

	if (this_cpu_read(shared.loaded_mm) == mm)
		mm_load_io_bitmap(mm);
	irq_restore(f);
	smp_call_mask(&mm->cpumask, reload_ipi, mm, true);
}

static long change(struct proc *p, struct ioport *r, bool on)
{
	struct iomap *m = p->iomap;
	int slot = -1, free_slot = -1;

	if (!m && on) {
		m = kmalloc(sizeof(*m));
		if (!m)
			return -ENOMEM;
		p->iomap = m;
	}
	for (int i = 0; m && i < IOMAP_MAX_RANGES; i++) {
		if (m->ranges[i] == r)
			slot = i;
		else if (!m->ranges[i] && free_slot < 0)
			free_slot = i;
	}
	if (on == (slot >= 0))
		return 0; /* already so */
	if (on) {
		if (free_slot < 0)
			return -ENOSPC;
		kobj_get(&r->kobj);
		m->ranges[free_slot] = r;
	} else {
		m->ranges[slot] = NULL;
		kobj_put(&r->kobj);
	}
	rebuild(m);
	bool any = false;

	for (int i = 0; i < IOMAP_MAX_RANGES; i++)
		any |= m->ranges[i] != NULL;
	publish(p->mm, m, any);
	return 0;
}

long ioport_enable(uint64_t h, uint64_t on)
{
	struct kobj *k;

	if (on > 1)
		return -EINVAL;
	long err = handle_get_current(h, KOBJ_IOPORT, R_IO, &k);

	if (err)
		return err;
	spin_lock(&change_lock);
	err = change(proc_current(), container_of(k, struct ioport, kobj), on);
	spin_unlock(&change_lock);
	kobj_put(k);
	return err;
}

void ioport_proc_exit(struct proc *p)
{
	struct iomap *m = p->iomap;

	if (!m)
		return;
	WRITE_ONCE(p->mm->io_key, 0);
	WRITE_ONCE(p->mm->io_bitmap, NULL);
	for (int i = 0; i < IOMAP_MAX_RANGES; i++) {
		if (m->ranges[i])
			kobj_put(&m->ranges[i]->kobj);
	}
	p->iomap = NULL;
	kfree(m);
}
