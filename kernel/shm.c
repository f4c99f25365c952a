/*
 * Memory-object handles (KOBJ_MEMOBJ): the capability side of mm/memobj.c.
 *
 *   mo_create(pages)        a new object, every memory right
 *   mo_map(h, hint, prot)   map it whole here: R_MAP_READ, and R_MAP_WRITE
 *                           for PROT_WRITE (later protect() cannot exceed
 *                           what the handle allowed)
 *   unmap(addr, len)        the ordinary call, for the whole mapping: flushes
 *                           that address space only
 *   mo_revoke(h, flags)     R_REVOKE: every mapping in every address space
 *                           gone, the pages freed, on return unreadable on
 *                           every CPU (MO_DECOMMIT: the mappings stay and
 *                           fault in fresh pages)
 * When the object's last handle (or in-flight reference) goes, it is
 * revoked: no mapping outlives every handle to its object.
 */
#include "kernel/handle.h"
#include "lib/panic.h"
#include "kernel/proc.h"
#include "kernel/shm.h"
#include "mm/memobj.h"
#include "mm/mm.h"
#include "mm/kheap.h"
#include "sched/task.h"
#include "include/uapi/syscalls.h"

struct shm {
	struct kobj kobj; /* first: the typesafe header */
	struct memobj *mo;
};

static struct kmem_cache shm_cache;

static void shm_destroy(struct kobj *o)
{
	struct shm *s = container_of(o, struct shm, kobj);

	/* No other revocation can run (one holds a reference to the handle's
	 * object, and this is the last going), so the object's own list of
	 * taken frames is free and the revocation cannot fail (mm/memobj.c). */
	int err = memobj_revoke(s->mo, false, NULL);

	BUG_ON(err < 0);
	memobj_put(s->mo);
	kmem_cache_free(&shm_cache, s);
}

static const struct kobj_ops shm_ops = { .destroy = shm_destroy };

void shm_init(void)
{
	kmem_cache_init_typesafe(&shm_cache, "memobj handle", sizeof(struct shm), 16);
	kobj_register(KOBJ_MEMOBJ, &shm_ops);
}

long shm_create(uint64_t pages)
{
	if (!pages || pages > MEMOBJ_MAX_PAGES)
		return -EINVAL;
	struct shm *s = kmem_cache_alloc(&shm_cache);

	if (!s)
		return -ENOMEM;
	s->mo = memobj_create(pages);
	if (!s->mo) {
		kmem_cache_free(&shm_cache, s);
		return -ENOMEM;
	}
	kobj_init(&s->kobj, KOBJ_MEMOBJ);
	return handle_create(proc_current(), &s->kobj,
			     R_MAP_READ | R_MAP_WRITE | R_REVOKE | R_DUP | R_XFER);
}

long shm_map(uint64_t h, uint64_t hint, uint64_t prot)
{
	struct kobj *o = NULL;
	uint32_t need = R_MAP_READ | (prot & UPROT_WRITE ? R_MAP_WRITE : 0);

	if (prot & ~(uint64_t)(UPROT_READ | UPROT_WRITE))
		return -EINVAL;
	long err = handle_get_current(h, KOBJ_MEMOBJ, need, &o);

	if (err)
		return err;
	struct shm *s = container_of(o, struct shm, kobj);
	uint64_t addr = hint;

	err = mm_map_memobj(current_task()->mm, s->mo, memobj_pages(s->mo), &addr, (uint32_t)prot);
	kobj_put(o);
	return err ? err : (long)addr;
}

long shm_revoke(uint64_t h, uint64_t flags)
{
	struct kobj *o = NULL;

	if (flags & ~(uint64_t)MO_DECOMMIT)
		return -EINVAL;
	long err = handle_get_current(h, KOBJ_MEMOBJ, R_REVOKE, &o);

	if (err)
		return err;
	struct shm *s = container_of(o, struct shm, kobj);

	err = memobj_revoke(s->mo, flags & MO_DECOMMIT, NULL);
	kobj_put(o);
	return err;
}
