/* syscall_fuzz: hostile argument values (see fuzz.h, t_fuzz.c). */
#include "user/utest/fuzz.h"

void fuzz_fail(struct worker *w, const char *what, uint64_t nr, uint64_t v)
{
	w->failures++;
	if (w->failures <= 5)
		printf("        # fuzz: worker %d call %lu: %s (nr %lu, value %#lx)\n", w->index,
		       w->calls, what, nr, v);
}

/* ---- argument generators ---- */

static const uint64_t kernel_ptrs[] = {
	0xffff800000000000ull,			      /* direct map */
	0xffff800000100000ull, 0xffffc00000000000ull, /* vmalloc */
	0xffffd00000000000ull,			      /* ioremap */
	0xfffffe0000000000ull,			      /* entry area: per-CPU */
	0xfffffe0000001000ull, 0xffffffff80000000ull, /* kernel image */
	0xffffffff80200000ull,			      /* kernel text */
	0xffffffff80201003ull, 0xfffffffffffff000ull, ~0ull,
};
#define NR_KPTRS (sizeof(kernel_ptrs) / sizeof(kernel_ptrs[0]))

/* A pointer every call must refuse: at or beyond USER_TOP, or a range that
 * crosses it. */
uint64_t bad_ptr(struct rng *r)
{
	switch (below(r, 5)) {
	case 0:
		return kernel_ptrs[below(r, NR_KPTRS)];
	case 1: {
		/* Near one: above it, or below it where above would wrap around
		 * to user space (regression fuzz_bad_ptr_wraps_to_user). */
		uint64_t p = kernel_ptrs[below(r, NR_KPTRS)], off = below(r, 1 << 20);

		return p + off >= p ? p + off : p - off;
	}
	case 2: /* non-canonical */
		return USER_TOP_ + (rnd(r) % (KADDR_MIN - USER_TOP_));
	case 3: /* straddles the end of user space */
		return USER_TOP_ - 1 - below(r, 64);
	default:
		return rnd(r) | (1ull << 63);
	}
}

uint64_t any_ptr(struct worker *w)
{
	struct rng *r = &w->r;

	switch (below(r, 10)) {
	case 0:
		return below(r, 2) ? 0 : 1 + below(r, 4096); /* NULL page */
	case 1:
		return (uint64_t)w->arena + ARENA_SIZE - 1 - below(r, 16); /* into the hole */
	case 2:
		return 0x1000 + below(r, 0x100000); /* unmapped low memory */
	case 3:
	case 4:
		return bad_ptr(r);
	default:
		return (uint64_t)w->arena + below(r, ARENA_SIZE); /* valid, maybe unaligned */
	}
}

uint64_t any_len(struct rng *r)
{
	static const uint64_t lens[] = {
		0,     1,	7,	    8,		4095,	    4096,	4097,  65536,
		65537, 1 << 20, 1ull << 32, 1ull << 40, 1ull << 47, 1ull << 63, ~0ull, -4095ull,
	};

	switch (below(r, 3)) {
	case 0:
		return lens[below(r, sizeof(lens) / sizeof(lens[0]))];
	case 1:
		return below(r, 256);
	default:
		return rnd(r) >> below(r, 64);
	}
}

uint64_t any_int(struct rng *r)
{
	switch (below(r, 4)) {
	case 0:
		return below(r, 72) - 2;
	case 1:
		return (uint32_t)rnd(r);
	case 2:
		return (uint64_t)(int64_t)(int32_t)(0x80000000u + below(r, 4)) - 2;
	default:
		return rnd(r);
	}
}

/* map/unmap/protect addresses: never the fuzzer's own memory. */
uint64_t vm_addr(struct worker *w, uint64_t *len)
{
	struct rng *r = &w->r;
	uint64_t k = below(r, MAX_KEPT);

	switch (below(r, 6)) {
	case 0:
		if (w->maps[k][0]) {
			*len = w->maps[k][1];
			return w->maps[k][0];
		}
		return WINDOW;
	case 1: { /* straddles USER_TOP */
		uint64_t a = USER_TOP_ - PAGE_SIZE * (1 + below(r, 4));

		*len = USER_TOP_ - a + PAGE_SIZE * below(r, 4) + 1;
		return a;
	}
	case 2:
		return bad_ptr(r);
	default: {
		uint64_t a = WINDOW + (below(r, WINDOW_SIZE) & ~(below(r, 8) ? 4095ull : 0));

		if (*len > WINDOW_SIZE && *len < USER_TOP_)
			*len = below(r, WINDOW_SIZE + PAGE_SIZE);
		if (a + *len > WINDOW + WINDOW_SIZE && *len < USER_TOP_)
			*len = WINDOW + WINDOW_SIZE - a;
		return a;
	}
	}
}

/* A handle no IPC call may block on: no handle of ours, whatever its
 * generation (slots 64..255 do not exist: include/uapi/handle.h). */
uint64_t bad_handle(struct rng *r)
{
	switch (below(r, 3)) {
	case 0:
		return (uint64_t)-1 - below(r, 4);
	case 1:
		return (64 + below(r, 192)) | below(r, 1u << 23) << 8;
	default: /* IPC_HANDLES with a value that is no handle either */
		return rnd(r) | (1ull << 62) | (1ull << 40);
	}
}

/* IPC message words never look like kernel addresses: what comes back in
 * the registers can then be checked. */
uint64_t clean_word(struct rng *r)
{
	return rnd(r) & 0x7fffffffffffffffull;
}
