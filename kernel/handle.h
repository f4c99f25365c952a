/*
 * Kernel objects and per-process handle tables (kernel/handle.c has the
 * protocol; the user ABI is include/uapi/handle.h).
 */
#pragma once

#include "lib/compiler.h"
#include "include/uapi/handle.h"
#include "include/uapi/errno.h"
#include "mm/kheap.h"

struct proc;
struct kobj;

/* What a type does when its objects lose their last reference, and when a
 * handle to one is created or destroyed (a slot, an in-flight message word,
 * a spawn list entry), with that handle's rights. */
struct kobj_ops {
	void (*destroy)(struct kobj *o);
	void (*handle_add)(struct kobj *o, uint32_t rights);  /* optional */
	void (*handle_drop)(struct kobj *o, uint32_t rights); /* optional */
};

/*
 * The header of every object a handle can name. Objects come from
 * type-stable caches (kmem_cache_init_typesafe): refs sits in the bytes a
 * free leaves alone, so it reads 0 whenever the memory is free, which is
 * what lets a lookup take a reference without any lock.
 */
struct kobj {
	void *kheap_link; /* the cache's free-list word while free */
	uint32_t refs;	  /* 0 only while free; atomic */
	uint8_t type;	  /* KOBJ_* */
	uint8_t pad[3];
};
_Static_assert(sizeof(struct kobj) == sizeof(void *) + KMEM_TYPESAFE_HDR,
	       "kobj header must be exactly the typesafe bytes");

/* One slot of a process's table: 16 bytes. */
struct hslot {
	/* The handle that names the slot (generation << HANDLE_SLOT_BITS |
	 * index), HSLOT_LIVE set while it is live; written under proc->lock.
	 * A slot never used reads 0: generation 0, dead. */
	uint32_t seq;
	union {
		struct {
			uint16_t rights;
			uint8_t type;
			uint8_t pad;
		};
		uint32_t kind; /* the three read as one word: handle_fits() */
	};
	struct kobj *obj;
};
#define HSLOT_KIND(type, rights) ((uint32_t)(type) << 16 | (rights))
_Static_assert(offsetof(struct hslot, kind) == offsetof(struct hslot, rights) &&
		       offsetof(struct hslot, type) == offsetof(struct hslot, rights) + 2,
	       "kind: rights in bits 0-15, type in 16-23 (little-endian)");
_Static_assert(R_ALL <= 0xffff, "every right fits the kind word's low half");

#define PROC_MAX_HANDLES 64
_Static_assert(PROC_MAX_HANDLES <= HANDLE_SLOT_MASK + 1, "slot index bits");
_Static_assert((PROC_MAX_HANDLES & (PROC_MAX_HANDLES - 1)) == 0, "handle_in_range: a power of two");

/*
 * Can h name a slot: no bit above bit 30 (handles are positive ints), and
 * a slot index (its low HANDLE_SLOT_BITS) below PROC_MAX_HANDLES. One
 * TEST: the mask has bits 63..31 and the index bits at and above
 * PROC_MAX_HANDLES, and as an immediate it is a sign-extended 32-bit value
 * (0x800000c0). Written as the two compares, GCC emits four instructions.
 */
#define HANDLE_BAD_BITS (~0x7fffffffull | (HANDLE_SLOT_MASK & ~(uint64_t)(PROC_MAX_HANDLES - 1)))
_Static_assert((int64_t)HANDLE_BAD_BITS == (int64_t)(int32_t)HANDLE_BAD_BITS,
	       "HANDLE_BAD_BITS fits a sign-extended 32-bit immediate");

static __always_inline bool handle_in_range(uint64_t h)
{
	return !(h & HANDLE_BAD_BITS);
}

/* A slot's live bit: an index bit that no handle in range has, so that a
 * lookup of h compares the slot's seq with h | HSLOT_LIVE, one OR and one
 * compare to memory (the generation shifted and the live bit added cost
 * three more). */
#define HSLOT_LIVE 0x80u
_Static_assert((HSLOT_LIVE & HANDLE_BAD_BITS) && HSLOT_LIVE <= HANDLE_SLOT_MASK,
	       "HSLOT_LIVE: a slot-index bit handle_in_range() refuses");

void kobj_register(unsigned type, const struct kobj_ops *ops);
/* A new object: one reference, the caller's. */
void kobj_init(struct kobj *o, unsigned type);
void kobj_get(struct kobj *o);	   /* caller already holds a reference */
void kobj_destroy(struct kobj *o); /* the last reference went */

static __always_inline void kobj_put(struct kobj *o)
{
	/* Release-acquire on the last reference: every holder's writes to the
	 * object happen before its destruction. Pairs with itself (the
	 * classic refcount pair): the same decrement in every other holder's
	 * kobj_put(). */
	if (unlikely(__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0))
		kobj_destroy(o);
}

/* Take a reference unless the object is free (refs 0). */
static inline bool kobj_tryget(struct kobj *o)
{
	uint32_t r = __atomic_load_n(&o->refs, __ATOMIC_RELAXED);

	do {
		if (unlikely(!r))
			return false;
		/* Locked CMPXCHG: a full barrier (SDM Vol. 3A 9.2.3.1 "locked
		 * instructions have a total order"): the reference is taken
		 * before handle_get()'s re-read of the slot's seq. Pairs with
		 * the store of seq in slot_clear() before that side's
		 * kobj_put(). */
	} while (!__atomic_compare_exchange_n(&o->refs, &r, r + 1, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return true;
}

long handle_race(struct kobj *o);

/*
 * The first half of every lookup (handle_get, handle_check_current): the
 * slot h names, if h is live there (else NULL), and in *seq the value its
 * seq had, h | HSLOT_LIVE (the caller's re-read compares with that: a
 * value computed from h, which the compiler cannot take from memory
 * again).
 */
static __always_inline struct hslot *handle_slot_live(struct hslot *table, uint64_t h,
						      uint32_t *seq)
{
	uint32_t idx = (uint32_t)h & HANDLE_SLOT_MASK;

	if (unlikely(!handle_in_range(h)))
		return NULL;
	struct hslot *s = &table[idx];

	/* h | HSLOT_LIVE, as an add (h in range has no such bit), which one
	 * LEA computes into another register (the OR needs a MOV first). */
	*seq = (uint32_t)h + HSLOT_LIVE;
	/* A plain read, which the compiler compares in memory (a CMP; an
	 * atomic load costs a MOV more). Acquire, by the fence: the caller
	 * reads the slot's fields after seq (x86 keeps loads in order; the
	 * fence keeps the compiler from reading them first). Pairs with the
	 * release store of seq in slot_fill(). */
	if (unlikely(s->seq != *seq))
		return NULL;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return s;
}

/* A live handle's type and rights against what the caller asks for. */
static __always_inline long handle_fits(uint32_t t, uint32_t rights, unsigned type, uint32_t need)
{
	if (unlikely(t != type))
		return -EPROTOTYPE;
	if (unlikely((rights & need) != need))
		return -EACCES;
	return 0;
}

/* The same from the slot's kind word, for a constant type and need (the
 * IPC lookups): one AND and one compare test both. With a variable type
 * or need (handle_get_current(), out of line) building the two constants
 * costs more than the two compares of handle_fits(). */
static __always_inline long handle_fits_kind(uint32_t kind, unsigned type, uint32_t need)
{
	uint32_t m = kind & HSLOT_KIND(0xff, need); /* the type and the needed rights */

	if (likely(m == HSLOT_KIND(type, need)))
		return 0;
	return (m >> 16) != type ? -EPROTOTYPE : -EACCES;
}

/*
 * The object behind handle h in a table (p->handles), with a reference the caller drops with
 * kobj_put(), if h is live, names an object of this type and has every
 * right in need. Lock-free: reads the slot, takes the reference, re-reads
 * the slot's seq (a seqlock read whose write side is proc->lock).
 */
static inline long handle_get(struct hslot *table, uint64_t h, unsigned type, uint32_t need,
			      struct kobj **out)
{
	uint32_t seq;
	struct hslot *s = handle_slot_live(table, h, &seq);

	if (!s)
		return -EBADF;
	struct kobj *o = READ_ONCE(s->obj);
	long err = __builtin_constant_p(type) && __builtin_constant_p(need)
			   ? handle_fits_kind(READ_ONCE(s->kind), type, need)
			   : handle_fits(READ_ONCE(s->type), READ_ONCE(s->rights), type, need);

	if (err)
		return err;
	if (unlikely(!kobj_tryget(o)))
		return -EBADF; /* closed and freed under us */
	if (unlikely(READ_ONCE(s->seq) != seq))
		return handle_race(o); /* closed under us: drop the reference */
	*out = o;
	return 0;
}

/* The same with the calling process's table. */
long handle_get_current(uint64_t h, unsigned type, uint32_t need, struct kobj **out);

/*
 * Does the calling process hold a handle h to an object of this type with
 * every right in need? handle_get()'s answer without the reference, for a
 * caller that only checks authority and never touches the object (the
 * hardware resource): the slot's fields are read between two reads of its
 * seq, so they are one handle's, as handle_get() reads them. That the
 * handle may be closed right after is no different from handle_get()'s
 * caller dropping its reference.
 */
long handle_check_current(uint64_t h, unsigned type, uint32_t need);

/* Put a new handle to o (whose reference the table takes over) into p's
 * table; returns the handle, or -EMFILE (the reference stays the
 * caller's). handle_add is the caller's business: see kobj_ops. */
long handle_install(struct proc *p, struct kobj *o, uint32_t rights);
/* The same at slot idx (a fresh table at spawn). */
long handle_install_at(struct proc *p, uint32_t idx, struct kobj *o, uint32_t rights);

/*
 * A handle leaving the process (message word, spawn list): checks R_XFER,
 * and for a copy R_DUP, narrows the rights to `rights` (0: the same; more
 * than the handle has: -EACCES), and returns the object with a reference:
 * a move empties the slot, a copy counts a new handle (handle_add), and a
 * move that narrows counts the change (handle_add of the new rights, then
 * handle_drop of the old).
 */
long handle_take(struct proc *p, uint64_t h, bool move, uint32_t rights, struct kobj **out,
		 uint32_t *out_rights);
/* Put a taken handle back into p at its old slot (a spawn that failed). */
void handle_untake(struct proc *p, uint64_t h, struct kobj *o, uint32_t rights);
/* Destroy a handle that lives in no table (taken, in flight). */
void handle_release(struct kobj *o, uint32_t rights);

/* A new object's first handle in p: counts it and installs it; on
 * failure (-EMFILE) the handle and the caller's reference are gone. */
long handle_create(struct proc *p, struct kobj *o, uint32_t rights);
/* A counted handle arriving in p (message): installs it or releases it. */
long handle_deliver(struct proc *p, struct kobj *o, uint32_t rights);

long handle_close(struct proc *p, uint64_t h);
long handle_dup(struct proc *p, uint64_t h, uint32_t rights);
long handle_info(struct proc *p, uint64_t h);
/* At process teardown: close every handle. */
void handle_close_all(struct proc *p);

/* Live handles (in tables and in flight) and live objects, for leak checks. */
uint64_t handles_live(void);
uint64_t kobjs_live(void);
