/*
 * Capabilities: kernel objects named through per-process handle tables.
 *
 * Glossary
 *   object   a kernel object a handle can name (struct kobj header, then
 *            the type's fields): endpoint, memory object, IRQ, I/O ports
 *   handle   an int naming a slot of the calling process's table and the
 *            slot's generation (include/uapi/handle.h); with the rights
 *            kept in the slot, it is the only way to reach an object
 *   rights   what the holder may do (R_SEND, R_MAP_WRITE, ...); a copy or
 *            a transfer keeps or narrows them, never widens
 *   in flight  a handle taken out of a table by a message or a spawn list
 *            and not yet installed in the receiver's: it still counts as a
 *            handle (handles_live, the type's handle_add/handle_drop)
 *
 * Lookup without locks. A slot is {seq, rights, type, obj}; seq is the
 * handle that names the slot (generation and index), with HSLOT_LIVE (an
 * index bit no handle has) set while the slot is live. The writers
 * (install, close, move out) hold proc->lock; handle_get() holds nothing:
 *
 *   reader (handle_get)                   writer (slot_clear + release)
 *   slot.seq == h | LIVE? (acquire)       slot.seq = h (store: dead)
 *                                         ...
 *   o = slot.obj, type, rights            kobj_put(o): locked dec, may free
 *   kobj_tryget(o): locked cmpxchg
 *   re-read slot.seq: changed -> put, -EBADF
 *
 * The reader may follow a pointer to an object already freed: objects come
 * from type-stable caches (mm/kheap.h kmem_cache_init_typesafe), whose
 * memory stays an object of that cache with refs == 0 while free, so
 * kobj_tryget() fails on a free object and never touches anything else.
 * If the memory was freed and reallocated, the reader takes a reference to
 * the new object, sees the slot's seq changed and drops it again (no
 * harm: a reference held for a few instructions). Both locked
 * instructions are full barriers, so if the writer's put came first the
 * reader's re-read sees the new seq; if the reader's get came first, the
 * object was live when the handle was, and the operation proceeds with its
 * reference (it linearises before the close). A handle whose generation
 * wraps (2^23 reuses of one slot inside one lookup) is the one ABA left.
 *
 * Cost on the IPC path: three compares to memory, one locked CMPXCHG and
 * a re-load to get, one locked decrement to put; no lock, no store to a
 * line another process writes. A message without handles (R9 = 0) runs
 * none of the transfer code (kernel/ipc.c).
 *
 * Lock order: proc->lock is a leaf here; kobj_ops callbacks run without it.
 */
#include "kernel/handle.h"
#include "kernel/proc.h"
#include "kernel/counters.h"
#include "kernel/percpu_area.h"
#include "lib/panic.h"
#include "lib/spinlock.h"
#include "lib/time.h"

static const struct kobj_ops *kobj_types[8];
static uint64_t nr_handles; /* atomic */
static uint64_t nr_kobjs;   /* atomic */

void kobj_register(unsigned type, const struct kobj_ops *ops)
{
	BUG_ON(type >= ARRAY_SIZE(kobj_types) || kobj_types[type]);
	kobj_types[type] = ops;
}

void kobj_init(struct kobj *o, unsigned type)
{
	o->type = (uint8_t)type;
	__atomic_fetch_add(&nr_kobjs, 1, __ATOMIC_RELAXED);
	/* Release: the type (and the caller's fields written before) are
	 * visible before refs becomes non-zero, which is what a lock-free
	 * kobj_tryget() on a stale pointer tests. Pairs with its CMPXCHG. */
	__atomic_store_n(&o->refs, 1, __ATOMIC_RELEASE);
}

void kobj_get(struct kobj *o)
{
	__atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
}

/* kobj_put is inline (kernel/handle.h); this is the last reference's part. */
__noinline void kobj_destroy(struct kobj *o)
{
	__atomic_fetch_sub(&nr_kobjs, 1, __ATOMIC_RELAXED);
	kobj_types[o->type]->destroy(o);
}

long handle_race(struct kobj *o)
{
	this_cpu_inc(counters[CNT_HANDLE_RACE]);
	kobj_put(o);
	return -EBADF;
}

long handle_get_current(uint64_t h, unsigned type, uint32_t need, struct kobj **out)
{
	return handle_get(proc_current()->handles, h, type, need, out);
}

long handle_check_current(uint64_t h, unsigned type, uint32_t need)
{
	uint32_t seq;
	const struct hslot *s = handle_slot_live(proc_current()->handles, h, &seq);

	if (!s)
		return -EBADF;
	uint32_t t = READ_ONCE(s->type), rights = READ_ONCE(s->rights);

	/* Acquire fence: the fields are read before seq is read again (a
	 * seqlock read; the write side is proc->lock). Pairs with the release
	 * store of seq in slot_fill() (a refill's fields, then its new seq)
	 * and the store in slot_clear(): fields of another handle than h
	 * come with another seq, which this re-read refuses. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (READ_ONCE(s->seq) != seq)
		return -EBADF; /* closed (or reused) under us */
	return handle_fits(t, rights, type, need);
}

/*
 * A handle moved with fewer rights than its slot had: for its type it is
 * a new handle with the new rights and the old one gone (the new counted
 * first, so that a right both keep never reads as gone). Without this, an
 * endpoint's last R_RECV handle moved as R_SEND only left recv_handles at
 * 1 for ever: the endpoint never died, and its callers blocked for ever
 * instead of failing with -ESHUTDOWN (regression
 * narrowed_move_drops_the_recv_right). Caller holds no lock (the type's
 * hooks take their own).
 */
static void handle_narrowed(struct kobj *o, uint32_t had, uint32_t rights)
{
	const struct kobj_ops *ops = kobj_types[o->type];

	if (ops->handle_add)
		ops->handle_add(o, rights);
	if (ops->handle_drop)
		ops->handle_drop(o, had);
}

static void handle_new(struct kobj *o, uint32_t rights)
{
	const struct kobj_ops *ops = kobj_types[o->type];

	__atomic_fetch_add(&nr_handles, 1, __ATOMIC_RELAXED);
	if (ops->handle_add)
		ops->handle_add(o, rights);
}

void handle_release(struct kobj *o, uint32_t rights)
{
	const struct kobj_ops *ops = kobj_types[o->type];

	__atomic_fetch_sub(&nr_handles, 1, __ATOMIC_RELAXED);
	if (ops->handle_drop)
		ops->handle_drop(o, rights);
	kobj_put(o);
}

static uint32_t slot_gen(const struct hslot *s)
{
	return s->seq >> HANDLE_SLOT_BITS;
}

/* Make s live as handle h, naming o with these rights. */
static long slot_set(struct hslot *s, uint32_t h, struct kobj *o, uint32_t rights)
{
	s->obj = o;
	s->type = o->type;
	s->rights = (uint16_t)rights;
	/* Release: obj, type and rights are visible before the slot is live.
	 * Pairs with the acquire of seq in handle_slot_live(). */
	__atomic_store_n(&s->seq, h | HSLOT_LIVE, __ATOMIC_RELEASE);
	return (long)h;
}

static long slot_fill(struct hslot *s, uint32_t idx, struct kobj *o, uint32_t rights)
{
	/* The next generation, 1..GEN_MASK (0 is a slot never used). */
	uint32_t old = slot_gen(s), gen = old < HANDLE_GEN_MASK ? old + 1 : 1;

	return slot_set(s, (gen << HANDLE_SLOT_BITS) | idx, o, rights);
}

static void slot_clear(struct hslot *s)
{
	/* Dead first; handle_get() re-reads seq after taking its reference,
	 * so a reader that raced with us drops it (see the protocol above).
	 * The fields stay as they were: a reader that loaded seq before this
	 * store reads the old object, which its re-check then refuses. */
	WRITE_ONCE(s->seq, s->seq & ~HSLOT_LIVE);
}

/* The live slot h names in p, or NULL. Caller holds p->lock. */
static inline struct hslot *slot_of(struct proc *p, uint64_t h)
{
	uint32_t idx = (uint32_t)h & HANDLE_SLOT_MASK;

	assert_held(&p->lock);
	if (!handle_in_range(h))
		return NULL;
	struct hslot *s = &p->handles[idx];

	return s->seq == ((uint32_t)h | HSLOT_LIVE) ? s : NULL;
}

long handle_install(struct proc *p, struct kobj *o, uint32_t rights)
{
	long h = -EMFILE;

	spin_lock(&p->lock);
	for (uint32_t i = 0; i < PROC_MAX_HANDLES; i++) {
		if (!(p->handles[i].seq & HSLOT_LIVE)) {
			h = slot_fill(&p->handles[i], i, o, rights);
			break;
		}
	}
	spin_unlock(&p->lock);
	return h;
}

long handle_install_at(struct proc *p, uint32_t idx, struct kobj *o, uint32_t rights)
{
	long h = -EBUSY;

	spin_lock(&p->lock);
	if (idx < PROC_MAX_HANDLES && !(p->handles[idx].seq & HSLOT_LIVE))
		h = slot_fill(&p->handles[idx], idx, o, rights);
	spin_unlock(&p->lock);
	return h;
}

long handle_take(struct proc *p, uint64_t h, bool move, uint32_t rights, struct kobj **out,
		 uint32_t *out_rights)
{
	spin_lock(&p->lock);
	struct hslot *s = slot_of(p, h);
	long err = 0;

	if (!s)
		err = -EBADF;
	else if (!(s->rights & R_XFER) || (!move && !(s->rights & R_DUP)) || (rights & ~s->rights))
		err = -EACCES;
	if (err) {
		spin_unlock(&p->lock);
		return err;
	}
	struct kobj *o = s->obj;
	uint32_t had = s->rights;

	*out = o;
	*out_rights = rights ? rights : had;
	if (move)
		slot_clear(s); /* the slot's reference goes with the handle */
	else
		kobj_get(o); /* the slot keeps its own */
	spin_unlock(&p->lock);
	if (!move)
		handle_new(o, *out_rights);
	else if (*out_rights != had)
		handle_narrowed(o, had, *out_rights);
	return 0;
}

/* Put o back into the slot h named, as h (its generation unchanged), if
 * the slot is still as handle_take(move) left it: dead, seq h. */
static long slot_refill(struct proc *p, uint64_t h, struct kobj *o, uint32_t rights)
{
	struct hslot *s = &p->handles[(uint32_t)h & HANDLE_SLOT_MASK];
	long r = -EBUSY;

	spin_lock(&p->lock);
	if (s->seq == (uint32_t)h)
		r = slot_set(s, (uint32_t)h, o, rights);
	spin_unlock(&p->lock);
	return r;
}

void handle_untake(struct proc *p, uint64_t h, struct kobj *o, uint32_t rights)
{
	uint32_t idx = (uint32_t)h & HANDLE_SLOT_MASK;

	/* The slot was ours and emptied by handle_take(move); only our own
	 * threads install, and only spawn (the caller) could have raced. With
	 * the rights it was taken with: a narrowed move stays narrowed, as
	 * its type has counted it (handle_narrowed(); an endpoint may have
	 * died of it, as a move is final). As the same handle h, so that the
	 * caller's value works again (a refill with the next generation gave
	 * it back under a value the caller was never told: regression
	 * failed_spawn_gives_moved_handle_back; found in review); elsewhere
	 * only if a sibling thread took the slot meanwhile. */
	if (slot_refill(p, h, o, rights) < 0 && handle_install_at(p, idx, o, rights) < 0 &&
	    handle_install(p, o, rights) < 0)
		handle_release(o, rights);
}

long handle_close(struct proc *p, uint64_t h)
{
	spin_lock(&p->lock);
	struct hslot *s = slot_of(p, h);

	if (!s) {
		spin_unlock(&p->lock);
		return -EBADF;
	}
	struct kobj *o = s->obj;
	uint32_t rights = s->rights;

	slot_clear(s);
	spin_unlock(&p->lock);
	handle_release(o, rights);
	return 0;
}

long handle_dup(struct proc *p, uint64_t h, uint32_t rights)
{
	spin_lock(&p->lock);
	struct hslot *s = slot_of(p, h);

	if (!s || !(s->rights & R_DUP) || (rights & ~s->rights)) {
		long e = s ? -EACCES : -EBADF;

		spin_unlock(&p->lock);
		return e;
	}
	struct kobj *o = s->obj;

	if (!rights)
		rights = s->rights;
	kobj_get(o);
	spin_unlock(&p->lock);
	/* Here a close of h may kill the object before we count our new
	 * handle: the type must not revive it (kernel/irq_obj.c). Test hook
	 * SYST_DUP_DELAY (one dup) holds this window open. */
	if (unlikely(current_task()->test_dup_delay_us))
		udelay_once(&current_task()->test_dup_delay_us);
	handle_new(o, rights);
	long nh = handle_install(p, o, rights);

	if (nh < 0)
		handle_release(o, rights);
	return nh;
}

long handle_info(struct proc *p, uint64_t h)
{
	spin_lock(&p->lock);
	struct hslot *s = slot_of(p, h);
	long v = s ? ((long)s->type << 16 | s->rights) : -EBADF;

	spin_unlock(&p->lock);
	return v;
}

void handle_close_all(struct proc *p)
{
	for (uint32_t i = 0; i < PROC_MAX_HANDLES; i++) {
		struct hslot *s = &p->handles[i];

		spin_lock(&p->lock);
		bool live = s->seq & HSLOT_LIVE;
		struct kobj *o = s->obj;
		uint32_t rights = s->rights;

		if (live)
			slot_clear(s);
		spin_unlock(&p->lock);
		if (live)
			handle_release(o, rights);
	}
}

/* A new object's first handle (create calls). */
long handle_create(struct proc *p, struct kobj *o, uint32_t rights)
{
	handle_new(o, rights);
	long h = handle_install(p, o, rights);

	if (h < 0)
		handle_release(o, rights);
	return h;
}

/* A handle arriving in p (message, spawn): counted already; installs it or
 * destroys it. */
long handle_deliver(struct proc *p, struct kobj *o, uint32_t rights)
{
	long h = handle_install(p, o, rights);

	if (h < 0)
		handle_release(o, rights);
	return h;
}

uint64_t handles_live(void)
{
	return __atomic_load_n(&nr_handles, __ATOMIC_RELAXED);
}

uint64_t kobjs_live(void)
{
	return __atomic_load_n(&nr_kobjs, __ATOMIC_RELAXED);
}
