/*
 * Kernel heap (see kheap.h).
 *
 * A slab is one 4 KiB frame: a struct slab header, then objects. Free
 * objects form a singly linked list through their first word. A freed object
 * is poisoned (0x6b) after that word, and kmem_cache_alloc checks the poison,
 * so a write after free is reported the next time the object is handed out
 * (death test kheap-write-after-free). The header's bitmap has a bit per
 * object, set while it is free: a second free of it is reported at once
 * (death test kheap-double-free). Poisoning, its check and the zeroing go a
 * word at a time (object sizes and the unpoisoned head are multiples of 8).
 * (Until 2026-12-03 they went a byte at a time, and the double-free check
 * walked the slab's free list: up to 250 steps per free.)
 *
 * Locking: one spinlock per cache, interrupts off; leaf except for the
 * frame allocator call when a cache grows (cache lock -> zone lock).
 */
#include "mm/kheap.h"
#include "mm/frame.h"
#include "arch/layout.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/string.h"

#define POISON 0x6b

#define SLAB_MAX_OBJS (PAGE_SIZE / 16) /* more than fit: kmem_cache_init checks */

struct slab {
	struct list_node link;
	struct kmem_cache *cache;
	void *free;
	uint32_t in_use;
	uint32_t magic;
	uint64_t free_map[SLAB_MAX_OBJS / 64]; /* bit i: object i is free */
};
#define SLAB_MAGIC  0x51ab51ab
#define POISON_WORD 0x6b6b6b6b6b6b6b6bull

static const uint32_t kmalloc_sizes[] = { 16, 32, 64, 128, 256, 512, 1024, 2048 };
static struct kmem_cache kmalloc_caches[ARRAY_SIZE(kmalloc_sizes)];
static const char *const kmalloc_names[] = { "kmalloc-16",   "kmalloc-32",  "kmalloc-64",
					     "kmalloc-128",  "kmalloc-256", "kmalloc-512",
					     "kmalloc-1024", "kmalloc-2048" };
static struct kmem_cache *caches;
static struct spinlock registry_lock = SPINLOCK_INIT("kmem registry");
static uint64_t large_bytes;
static uint64_t large_allocs;

#define SLAB_HDR ALIGN_UP(sizeof(struct slab), 16)

void kmem_cache_init(struct kmem_cache *c, const char *name, uint32_t size, uint32_t align)
{
	if (align < 8)
		align = 8;
	if (size < 8)
		size = 8;
	c->name = name;
	c->obj_size = ALIGN_UP(size, align);
	/* Objects start at an aligned offset after the slab header. */
	c->first_off = ALIGN_UP((uint32_t)SLAB_HDR, align);
	c->per_slab = (uint32_t)((PAGE_SIZE - c->first_off) / c->obj_size);
	BUG_ON(c->per_slab == 0 || c->per_slab > SLAB_MAX_OBJS);
	spin_init(&c->lock, name);
	list_init(&c->partial);
	list_init(&c->full);
	c->objs_in_use = 0;
	c->slabs = 0;
	c->unpoisoned = sizeof(void *);
	c->typesafe = false;
	uint64_t f = spin_lock_irqsave(&registry_lock);

	c->next = caches;
	caches = c;
	spin_unlock_irqrestore(&registry_lock, f);
}

void kmem_cache_init_typesafe(struct kmem_cache *c, const char *name, uint32_t size, uint32_t align)
{
	kmem_cache_init(c, name, size, align);
	BUG_ON(c->obj_size < sizeof(void *) + KMEM_TYPESAFE_HDR);
	c->unpoisoned = sizeof(void *) + KMEM_TYPESAFE_HDR;
	c->typesafe = true;
}

_Static_assert(POISON_WORD == 0x0101010101010101ull * POISON, "the poison, a word at a time");

static void poison(struct kmem_cache *c, void *o)
{
	fill_words((char *)o + c->unpoisoned, POISON_WORD, (c->obj_size - c->unpoisoned) / 8);
}

static uint32_t obj_index(const struct kmem_cache *c, const struct slab *s, const void *o)
{
	return (uint32_t)(((uintptr_t)o - (uintptr_t)s - c->first_off) / c->obj_size);
}

static struct slab *slab_new(struct kmem_cache *c)
{
	paddr_t pa = frame_alloc(0, FA_NOWARN);

	if (!pa)
		return NULL;
	pa_to_frame(pa)->flags |= FRAME_SLAB;
	struct slab *s = phys_to_virt(pa);
	char *obj = (char *)s + c->first_off;

	s->cache = c;
	s->in_use = 0;
	s->magic = SLAB_MAGIC;
	s->free = NULL;
	memset(s->free_map, 0, sizeof(s->free_map));
	for (uint32_t i = c->per_slab; i-- > 0;) {
		void **o = (void **)(obj + (size_t)i * c->obj_size);

		memset(o, 0, c->unpoisoned);
		poison(c, o);
		*o = s->free;
		s->free = o;
		s->free_map[i / 64] |= 1ull << (i % 64);
	}
	c->slabs++;
	return s;
}

/* A word of an object of any type (the poison check reads whatever its
 * last owner wrote). */
typedef uint64_t __attribute__((may_alias)) any_word;

static void check_poison(struct kmem_cache *c, const uint8_t *o)
{
	for (uint32_t w = c->unpoisoned; w < c->obj_size; w += 8) {
		if (*(const any_word *)(o + w) == POISON_WORD)
			continue;
		for (uint32_t i = w;; i++) { /* the first byte that differs */
			if (o[i] != POISON)
				panic("kheap: %s object %p was written after free (byte %u = %#x)",
				      c->name, o, i, o[i]);
		}
	}
}

/* The caches the arch asks for (arch/mem.h cache_create: the extended-state
 * buffers). Static, as the arch's own struct was: creating one allocates
 * nothing. */
static struct kmem_cache arch_caches[1];
static uint32_t nr_arch_caches;

void *kmem_cache_create_for_arch(const char *name, uint32_t size, uint32_t align)
{
	if (nr_arch_caches == ARRAY_SIZE(arch_caches))
		return NULL;
	struct kmem_cache *c = &arch_caches[nr_arch_caches++];

	kmem_cache_init(c, name, size, align);
	return c;
}

void *kmem_cache_alloc_for_arch(void *cache)
{
	return kmem_cache_alloc(cache);
}

void *kmem_cache_alloc(struct kmem_cache *c)
{
	uint64_t f = spin_lock_irqsave(&c->lock);
	struct slab *s;

	if (list_empty(&c->partial)) {
		s = slab_new(c);
		if (!s) {
			spin_unlock_irqrestore(&c->lock, f);
			return NULL;
		}
		list_add_head(&c->partial, &s->link);
	} else {
		s = list_entry(c->partial.next, struct slab, link);
	}
	void **o = s->free;
	uint32_t i = obj_index(c, s, o);

	s->free = *o;
	s->free_map[i / 64] &= ~(1ull << (i % 64));
	if (++s->in_use == c->per_slab) {
		list_del(&s->link);
		list_add_head(&c->full, &s->link);
	}
	c->objs_in_use++;
	spin_unlock_irqrestore(&c->lock, f);
	check_poison(c, (const uint8_t *)o);
	/* Typesafe: the header is already 0 (a free leaves it so) and a
	 * lock-free reader may be reading it; write only the rest. */
	if (c->typesafe)
		fill_words((char *)o + c->unpoisoned, 0, (c->obj_size - c->unpoisoned) / 8);
	else
		fill_words(o, 0, c->obj_size / 8);
	*o = NULL;
	return o;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)obj, PAGE_SIZE);

	if (s->magic != SLAB_MAGIC || s->cache != c)
		panic("kheap: %p freed to %s but is not one of its objects", obj, c->name);
	/* One division: the index, and the object's start from it (the
	 * slack after the last object may hold a boundary too). */
	uintptr_t off = (uintptr_t)obj - (uintptr_t)s - c->first_off;
	uintptr_t i = off / c->obj_size;

	if ((uintptr_t)obj < (uintptr_t)s + c->first_off || i * c->obj_size != off ||
	    i >= c->per_slab)
		panic("kheap: %p is not the start of a %s object", obj, c->name);
	poison(c, obj);

	uint64_t bit = 1ull << (i % 64);
	uint64_t f = spin_lock_irqsave(&c->lock);

	if (s->free_map[i / 64] & bit)
		panic("kheap: double free of %s object %p", c->name, obj);
	s->free_map[i / 64] |= bit;
	*(void **)obj = s->free;
	s->free = obj;
	if (s->in_use-- == c->per_slab) {
		list_del(&s->link);
		list_add_head(&c->partial, &s->link);
	}
	c->objs_in_use--;
	if (s->in_use == 0 && c->partial.next != &s->link && !c->typesafe) {
		/* Keep one empty slab per cache; give the others back. */
		list_del(&s->link);
		c->slabs--;
		s->magic = 0;
		spin_unlock_irqrestore(&c->lock, f);
		paddr_t pa = virt_to_phys(s);

		pa_to_frame(pa)->flags &= ~FRAME_SLAB;
		frame_free(pa, 0);
		return;
	}
	spin_unlock_irqrestore(&c->lock, f);
}

void kheap_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kmalloc_sizes); i++)
		kmem_cache_init(&kmalloc_caches[i], kmalloc_names[i], kmalloc_sizes[i], 16);
}

static unsigned order_for(size_t size)
{
	unsigned order = 0;

	while (((size_t)PAGE_SIZE << order) < size)
		order++;
	return order;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kmalloc_sizes); i++) {
		if (size <= kmalloc_sizes[i])
			return kmem_cache_alloc(&kmalloc_caches[i]);
	}
	/* Above the largest block first: order_for()'s shift would wrap for
	 * a size near 2^64 and loop for ever (found in review; no caller
	 * passes such a size today). */
	if (size > ((size_t)PAGE_SIZE << (BUDDY_ORDERS - 1)))
		return NULL;
	unsigned order = order_for(size);

	if (order >= BUDDY_ORDERS)
		return NULL;
	paddr_t pa = frame_alloc(order, FA_ZERO | FA_NOWARN);

	if (!pa)
		return NULL;
	__atomic_fetch_add(&large_bytes, PAGE_SIZE << order, __ATOMIC_RELAXED);
	__atomic_fetch_add(&large_allocs, 1, __ATOMIC_RELAXED);
	return phys_to_virt(pa);
}

void kfree(void *p)
{
	if (!p)
		return;
	paddr_t pa = virt_to_phys(p);
	struct frame *fr = pa_to_frame(pa);

	if (!fr)
		panic("kfree: %p is not heap memory", p);
	if (fr->flags & FRAME_SLAB) {
		struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);

		kmem_cache_free(s->cache, p);
		return;
	}
	if (!IS_ALIGNED(pa, PAGE_SIZE) || (fr->flags & (FRAME_FREE | FRAME_TAIL | FRAME_RESERVED)))
		panic("kfree: %p is not the start of a heap block", p);
	__atomic_fetch_sub(&large_bytes, PAGE_SIZE << fr->order, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&large_allocs, 1, __ATOMIC_RELAXED);
	frame_free(pa, fr->order);
}

uint64_t kheap_bytes_in_use(void)
{
	uint64_t n = __atomic_load_n(&large_bytes, __ATOMIC_RELAXED);

	for (struct kmem_cache *c = caches; c; c = c->next)
		n += READ_ONCE(c->objs_in_use) * c->obj_size;
	return n;
}

uint64_t kheap_allocs_in_use(void)
{
	uint64_t n = __atomic_load_n(&large_allocs, __ATOMIC_RELAXED);

	for (struct kmem_cache *c = caches; c; c = c->next)
		n += READ_ONCE(c->objs_in_use);
	return n;
}

uint64_t kheap_slab_pages(void)
{
	uint64_t n = 0;

	for (struct kmem_cache *c = caches; c; c = c->next)
		n += READ_ONCE(c->slabs);
	return n;
}

void kheap_print(void)
{
	pr_info("heap: %lu bytes in %lu allocations", kheap_bytes_in_use(), kheap_allocs_in_use());
	for (struct kmem_cache *c = caches; c; c = c->next) {
		if (c->slabs)
			pr_info("  %-16s %5u B x %6lu in use, %lu slabs", c->name, c->obj_size,
				c->objs_in_use, c->slabs);
	}
}
