/*
 * Physical frame allocator (see frame.h).
 *
 * Locking: each zone has a spinlock, taken with interrupts off (frames are
 * freed from IPI-free contexts only, but interrupt handlers may allocate).
 * Lock order: leaf (nothing else is taken inside).
 *
 * NUMA: zones are per node (mm/numa.c fills node ranges from SRAT); an
 * allocation tries the requested node first (frame_alloc: the calling CPU's
 * node), then the others in order. Each allocation counts as local (the
 * block is on the calling CPU's node) or remote (CNT_FRAME_LOCAL/REMOTE).
 *
 * Zones are aligned to the largest buddy block (4 MiB); where two nodes'
 * aligned ranges would overlap, the later zone starts where the earlier one
 * ends, so the pages at an unaligned node boundary belong to one zone only.
 *
 * Per-CPU page caches (framecache=on, the default): a page freed on a CPU
 * goes to that CPU's cache if it is of the CPU's node, and the CPU's page
 * allocations take from its cache first; an empty cache takes FRAME_CACHE_BATCH
 * pages from the zone under one zone lock, a cache above FRAME_CACHE_HIGH gives
 * FRAME_CACHE_BATCH back. A page freed and allocated again on one CPU then costs
 * the same whatever the layout of free memory: through the buddy alone its
 * merges and splits followed that layout, and the path lengths of the
 * unmap benchmarks moved by up to 8% when the kernel image grew by a few
 * pages (results/pathlen-baseline.json's history). Frames in a cache carry
 * FRAME_CACHED: free to frame_in_free_block() and the double-free check,
 * allocated to the buddy (never merged). frames_free() counts them.
 *
 * Each cache has a lock, taken with interrupts off, by its CPU and by
 * frame_drain_caches(), which gives every cache back to the zones: when
 * every zone is out of memory (a CPU's last pages may sit in another CPU's
 * cache), and for tests that take all of memory (kernel/ktests/squeeze.c).
 * Lock order: cache, then zone.
 */
#include "mm/frame.h"
#include "mm/memmap.h"
#include "mm/numa.h"
#include "lib/spinlock.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "lib/percpu.h"
#include "include/uapi/counter_ids.h"
#include "lib/cmdline.h"

struct zone {
	struct buddy_zone bz;
	struct spinlock lock;
	int node;
};

static struct zone zones[MAX_NUMA_NODES];
static uint32_t nr_zones;
static struct frame *frame_table;
static uint64_t frame_table_pfns;
static uint64_t total_frames;

struct frame_cache {
	struct spinlock lock;
	struct list_node pages; /* FRAME_CACHED, order 0, of this CPU's node */
	uint32_t count;
} __aligned(CACHELINE);

static struct frame_cache caches[NR_CPUS];
static bool frame_cache_on = true;
KSWITCH_BOOL(frame_cache_on, "framecache", "per-CPU caches of free pages");

struct frame *pa_to_frame(paddr_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	return pfn < frame_table_pfns ? &frame_table[pfn] : NULL;
}

bool frame_is_ram(paddr_t pa)
{
	struct frame *f = pa_to_frame(pa);

	return f && !(f->flags & FRAME_RESERVED);
}

bool frame_in_free_block(paddr_t pa)
{
	struct frame *c = pa_to_frame(pa);

	if (c && (c->flags & FRAME_CACHED))
		return true;
	/* Blocks are naturally aligned (zone bases are aligned to the
	 * largest order), so the only candidate head at order k is pa
	 * rounded down to 2^k pages. */
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		struct frame *f = pa_to_frame(pa & ~((PAGE_SIZE << k) - 1));

		if (f && (f->flags & FRAME_FREE) && f->order == k)
			return true;
	}
	return false;
}

static void release_usable(struct zone *z, paddr_t s, paddr_t e)
{
	/* Subtract every reserved range from [s, e). */
	while (s < e) {
		paddr_t next = e;
		bool skipped = false;

		for (uint32_t i = 0; i < memmap.nr_reserved; i++) {
			const struct phys_range *r = &memmap.reserved[i];

			if (r->start <= s && s < r->end) {
				s = r->end;
				skipped = true;
				break;
			}
			if (r->start > s && r->start < next)
				next = r->start;
		}
		if (skipped)
			continue;
		buddy_release_range(&z->bz, s >> PAGE_SHIFT, (next - s) >> PAGE_SHIFT);
		total_frames += (next - s) >> PAGE_SHIFT;
		s = next;
	}
}

void frame_init(void)
{
	uint64_t align = 1ull << (BUDDY_ORDERS - 1);

	frame_table_pfns = ALIGN_UP(memmap.ram_top >> PAGE_SHIFT, align);
	/* The frame table itself comes from the early allocator (any RAM, the
	 * direct map covers all of it by now). */
	paddr_t ft = early_alloc(frame_table_pfns * sizeof(struct frame), ~0ull);

	frame_table = phys_to_virt(ft);

	nr_zones = numa_nr_nodes();
	for (uint32_t n = 0; n < nr_zones; n++) {
		struct zone *z = &zones[n];
		uint64_t lo = ALIGN_DOWN(numa_node_start(n) >> PAGE_SHIFT, align);
		uint64_t hi = ALIGN_UP(numa_node_end(n) >> PAGE_SHIFT, align);

		if (hi > frame_table_pfns)
			hi = frame_table_pfns;
		for (uint32_t m = 0; m < n; m++) {
			uint64_t mlo = zones[m].bz.base_pfn, mhi = mlo + zones[m].bz.nr_pfns;

			if (mlo == mhi)
				continue;
			if (lo >= mlo && lo < mhi)
				lo = mhi;
			if (hi > mlo && hi <= mhi)
				hi = mlo;
			if (lo < mlo && hi > mhi)
				panic("frame: NUMA node %u's memory surrounds node %u's", n, m);
		}
		if (lo >= hi)
			lo = hi;
		spin_init(&z->lock, "frame zone");
		z->node = (int)n;
		buddy_init(&z->bz, frame_table + lo, lo, hi - lo);
		for (uint64_t i = 0; i < hi - lo; i++)
			frame_table[lo + i].node = (uint8_t)n;
	}
	for (uint32_t cpu = 0; cpu < NR_CPUS; cpu++) {
		spin_init(&caches[cpu].lock, "frame cache");
		list_init(&caches[cpu].pages);
	}
	for (uint32_t i = 0; i < memmap.nr_ram; i++) {
		paddr_t s = memmap.ram[i].start, e = memmap.ram[i].end;

		/* A RAM range may span nodes: split at node boundaries. */
		for (uint32_t n = 0; n < nr_zones; n++) {
			struct zone *z = &zones[n];
			paddr_t zs = z->bz.base_pfn << PAGE_SHIFT;
			paddr_t ze = (z->bz.base_pfn + z->bz.nr_pfns) << PAGE_SHIFT;
			paddr_t a = MAX(s, zs), b = MIN(e, ze);

			if (a < b)
				release_usable(z, a, b);
		}
	}
	pr_info("frames: %lu free of %lu MiB RAM (%lu KiB of frame descriptors, %u zone%s)",
		frames_free(), memmap.ram_bytes >> 20,
		(frame_table_pfns * sizeof(struct frame)) >> 10, nr_zones,
		nr_zones == 1 ? "" : "s");
}

static paddr_t zone_alloc(struct zone *z, unsigned order)
{
	uint64_t f = spin_lock_irqsave(&z->lock);
	int64_t idx = buddy_alloc(&z->bz, order);

	spin_unlock_irqrestore(&z->lock, f);
	if (idx < 0)
		return 0;
	return (z->bz.base_pfn + (uint64_t)idx) << PAGE_SHIFT;
}

/* ---- per-CPU page caches ---- */

static paddr_t frame_pa(const struct frame *f)
{
	return (paddr_t)(f - frame_table) << PAGE_SHIFT;
}

/* Up to FRAME_CACHE_BATCH pages of z onto c (c locked). */
static void cache_refill(struct frame_cache *c, struct zone *z)
{
	uint64_t f = spin_lock_irqsave(&z->lock);

	for (uint32_t i = 0; i < FRAME_CACHE_BATCH; i++) {
		int64_t idx = buddy_alloc(&z->bz, 0);

		if (idx < 0)
			break;
		struct frame *fr = &z->bz.frames[idx];

		fr->flags = FRAME_CACHED;
		list_add_tail(&c->pages, &fr->link);
		c->count++;
	}
	spin_unlock_irqrestore(&z->lock, f);
	this_cpu_inc(counters[CNT_FRAME_CACHE_REFILL]);
}

/* The zone a frame belongs to, and the frame's index in its buddy. */
static struct zone *zone_of(const struct frame *fr)
{
	return &zones[fr->node < nr_zones ? fr->node : 0];
}

static uint64_t zone_index(const struct zone *z, const struct frame *fr)
{
	return (uint64_t)(fr - z->bz.frames);
}

static void zone_free(struct frame *fr, unsigned order)
{
	struct zone *z = zone_of(fr);
	uint64_t f = spin_lock_irqsave(&z->lock);

	buddy_free(&z->bz, zone_index(z, fr), order);
	spin_unlock_irqrestore(&z->lock, f);
}

/* The n pages c has held longest back to their zone (c locked), under one
 * zone lock: a cache holds pages of its CPU's node only (frame_free()
 * caches a page only on a CPU of its node, cache_refill() takes from that
 * node's zone), so one zone takes them all. */
static void cache_give_back(struct frame_cache *c, uint32_t n)
{
	if (!n || !c->count)
		return;
	struct zone *z = zone_of(list_entry(c->pages.prev, struct frame, link));
	uint64_t f = spin_lock_irqsave(&z->lock);

	for (; n && c->count; n--, c->count--) {
		struct frame *fr = list_entry(c->pages.prev, struct frame, link);

		BUG_ON(zone_of(fr) != z);
		list_del(&fr->link);
		fr->flags = 0;
		buddy_free(&z->bz, zone_index(z, fr), 0);
	}
	spin_unlock_irqrestore(&z->lock, f);
}

/* A page from this CPU's cache, which holds pages of node node; 0 if it
 * has none and its zone none to refill it with. */
static paddr_t cache_alloc(uint32_t cpu, int node)
{
	struct frame_cache *c = &caches[cpu];
	uint64_t f = spin_lock_irqsave(&c->lock);
	paddr_t pa = 0;

	if (!c->count)
		cache_refill(c, &zones[node]);
	if (c->count) {
		struct frame *fr = list_entry(list_pop_head(&c->pages), struct frame, link);

		c->count--;
		fr->flags = 0;
		pa = frame_pa(fr);
	}
	spin_unlock_irqrestore(&c->lock, f);
	return pa;
}

bool frame_cache_enabled(void)
{
	return frame_cache_on;
}

uint32_t frame_cache_pages(uint32_t cpu)
{
	return cpu < NR_CPUS ? READ_ONCE(caches[cpu].count) : 0;
}

uint64_t frame_drain_caches(void)
{
	uint64_t n = 0;

	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct frame_cache *c = &caches[cpu];

		/* An empty cache is passed over without its lock: on a large
		 * machine out of memory, most are empty, and every failed
		 * allocation drains. A page its CPU frees after this read is
		 * as if freed after the drain (as it could be with the lock:
		 * the caches are taken one at a time, never all at once). */
		if (!READ_ONCE(c->count))
			continue;
		uint64_t f = spin_lock_irqsave(&c->lock);

		n += c->count;
		cache_give_back(c, c->count);
		spin_unlock_irqrestore(&c->lock, f);
		this_cpu_inc(counters[CNT_FRAME_CACHE_DRAINED]);
	}
	this_cpu_inc(counters[CNT_FRAME_CACHE_DRAIN_ALL]);
	return n;
}

/* ---- allocation ---- */

static paddr_t zones_alloc(unsigned order, int node)
{
	for (uint32_t i = 0; i < nr_zones; i++) {
		uint32_t z = ((uint32_t)node + i) % nr_zones;
		paddr_t pa = zone_alloc(&zones[z], order);

		if (pa) {
			/* Plain per-CPU increment: a migration in between only
			 * charges the other CPU's count. */
			if ((int)z == numa_cpu_node(this_cpu_id()))
				this_cpu_inc(counters[CNT_FRAME_LOCAL]);
			else
				this_cpu_inc(counters[CNT_FRAME_REMOTE]);
			return pa;
		}
	}
	return 0;
}

/* node: asked for (a valid node); cpu: the caller's, numa_cpu_node(cpu) its
 * node. A migration since cpu was read only makes us use another CPU's
 * cache, under its lock. */
static paddr_t alloc(unsigned order, unsigned flags, int node, uint32_t cpu, int cpu_node)
{
	paddr_t pa = 0;

	if (order == 0 && static_branch(&frame_cache_on) && node == cpu_node) {
		pa = cache_alloc(cpu, node);
		if (pa)
			this_cpu_inc(counters[CNT_FRAME_LOCAL]);
	}
	if (!pa)
		pa = zones_alloc(order, node);
	/* Every zone is out: the pages may sit in other CPUs' caches. */
	if (!pa && frame_cache_on && frame_drain_caches())
		pa = zones_alloc(order, node);
	if (!pa) {
		if (!(flags & FA_NOWARN))
			pr_warn("frame_alloc: out of memory (order %u, %lu pages free)", order,
				frames_free());
		return 0;
	}
	if (flags & FA_ZERO)
		clear_pages(phys_to_virt(pa), PAGE_SIZE << order);
	return pa;
}

paddr_t frame_alloc_node(unsigned order, unsigned flags, int node)
{
	uint32_t cpu = this_cpu_id();

	if (order >= BUDDY_ORDERS)
		return 0;
	if (node < 0 || (uint32_t)node >= nr_zones)
		node = 0;
	return alloc(order, flags, node, cpu, numa_cpu_node(cpu));
}

paddr_t frame_alloc(unsigned order, unsigned flags)
{
	uint32_t cpu = this_cpu_id();
	int node = numa_cpu_node(cpu);

	if (order >= BUDDY_ORDERS)
		return 0;
	return alloc(order, flags, (uint32_t)node < nr_zones ? node : 0, cpu, node);
}

void frame_free(paddr_t pa, unsigned order)
{
	struct frame *fr = pa_to_frame(pa);

	BUG_ON(!fr || !IS_ALIGNED(pa, PAGE_SIZE << order));
	if (fr->flags & (FRAME_FREE | FRAME_CACHED | FRAME_RESERVED | FRAME_TAIL))
		panic("frame_free: %#lx is %s", pa,
		      fr->flags & (FRAME_FREE | FRAME_CACHED) ? "already free (double free)"
		      : fr->flags & FRAME_RESERVED	      ? "reserved"
							      : "inside another block");
	BUG_ON(fr->order != order);
	BUG_ON(fr->mapcount != 0);
	fr->owner = 0;
	fr->pt_used = 0;
	uint32_t cpu = this_cpu_id();

	if (order == 0 && static_branch(&frame_cache_on) && fr->node == numa_cpu_node(cpu)) {
		struct frame_cache *c = &caches[cpu];
		uint64_t f = spin_lock_irqsave(&c->lock);

		fr->flags = FRAME_CACHED;
		list_add_head(&c->pages, &fr->link);
		if (++c->count > FRAME_CACHE_HIGH) {
			cache_give_back(c, FRAME_CACHE_BATCH);
			this_cpu_inc(counters[CNT_FRAME_CACHE_SPILL]);
		}
		spin_unlock_irqrestore(&c->lock, f);
		return;
	}
	zone_free(fr, order);
}

uint64_t frames_free(void)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < nr_zones; i++)
		n += READ_ONCE(zones[i].bz.free_pages);
	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++)
		n += READ_ONCE(caches[cpu].count);
	return n;
}

uint64_t frames_total(void)
{
	return total_frames;
}

const char *frame_check(void)
{
	for (uint32_t i = 0; i < nr_zones; i++) {
		uint64_t f = spin_lock_irqsave(&zones[i].lock);
		const char *err = buddy_check(&zones[i].bz);

		spin_unlock_irqrestore(&zones[i].lock, f);
		if (err)
			return err;
	}
	return NULL;
}
