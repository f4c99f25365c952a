/*
 * Regression icache_boundary_fetch_fault: an emulator bug, not a kernel
 * one, that hung cpu_fuzz in CI (a kernel trace stopped executing
 * anything). Bochs 3.0 caches decoded instructions in a per-CPU trace
 * cache (cpu/icache.cc), one entry per physical start address, each
 * pointing into a pool that a trace keeps only once it is built whole.
 * When a trace's first instruction straddles a page, Bochs fetches the
 * second page with the entry marked by its complemented address, not
 * invalid; if that fetch faults, the entry is left so, pointing at pool
 * space the next trace built takes. A page-split trace is also
 * registered by its second page, and a store to that page's first 128
 * bytes replaces the first instruction of the registered entry with an
 * end-of-trace marker: now the first instruction of whatever trace was
 * built next. That trace stays valid and executes nothing; the CPU spins
 * at its start for ever. Fixed by a Bochs patch (the entry invalid during
 * the fetch); QEMU has no such cache, and passes.
 *
 * Each round, on one CPU, with pages A and B adjacent and code page C:
 *
 *   1. a 10-byte MOVABS at the end of A, 1-9 bytes of it in A, then RET
 *      in B: run once, it registers a page-split trace by B's frame
 *   2. A rewritten in place: a store to its last 128 bytes invalidates
 *      that trace (the registration stays)
 *   3. B made non-executable, the MOVABS run again: a miss, a boundary
 *      fetch, #PF (error 0x15 at B, RIP at the MOVABS), diverted by
 *      SYST_FAULT_CATCH to a handler whose first act is to call
 *   4. code D in C, never run before: the next trace built, unless one
 *      of the kernel's on the way there is
 *   5. a store to B's first byte (B now writable)
 *   6. D called again: it must return its value
 *
 * Fresh pages every round (an entry's slot is its frame's low 16 bits),
 * and the split moves through 1-9 bytes. What Bochs 3.0 did here: D
 * always returned; the trace hit was the kernel's, trap_entry+0x5, whose
 * JE straddles a page in this build (a page-split trace itself, which
 * the table's rotation through eight slots evicts, so the fault path
 * rebuilds it: our reading, not traced). CPU 0 then spun there with
 * interrupts off within the first six rounds: with two CPUs the lockup
 * detector panicked ("its NMI found it at trap_entry+0x5"), with one the
 * boot hung without a verdict. Where no kernel trace is rebuilt on the
 * way, D should take the space and hang in step 6. The rounds:
 * icache_rounds=N (default 128, a few ms of emulated time).
 */
#include "user/utest/utest.h"

#define IC_PAGES    3 /* per round: A, B and C */
#define MOVABS_LEN  10
#define PF_FETCH_NX 0x15 /* present, user, instruction fetch */

static struct syst_fault_rec ic_rec;
static uint8_t ic_stack[4096] __attribute__((aligned(16)));
uint64_t ic_warm(void);

__asm__(".text\n"
	"ic_warm:\n" /* D's stand-in for the warm-up fault */
	"	movl $1, %eax\n"
	"	ret\n");

/* Code as a function (the pages hold RET-terminated code). */
static uint64_t (*as_code(const uint8_t *code))(void)
{
	return (uint64_t(*)(void))(uintptr_t)code;
}

/* Call rip, code whose fetch faults, through fc_run(): the diversion calls
 * then first thing (with the record in RDI, which D ignores) and returns
 * what it returned; 0 when nothing faulted. */
static uint64_t ic_fetch_fault(const uint8_t *rip, const uint8_t *then)
{
	return fc_run(as_code(rip), (uint64_t(*)(const struct syst_fault_rec *))(uintptr_t)then);
}

static uint64_t call_code(const uint8_t *code)
{
	return as_code(code)();
}

/* Round r's pages, where the MOVABS starts in A (1-9 bytes of it there),
 * where D starts in C, and the value both load. */
static uint8_t *round_pages(uint8_t *all, uint64_t r)
{
	return all + r * IC_PAGES * PAGE_SIZE;
}

static uint8_t *round_movabs(uint8_t *all, uint64_t r)
{
	return round_pages(all, r) + PAGE_SIZE - 1 - r % (MOVABS_LEN - 1);
}

static uint8_t *round_d(uint8_t *all, uint64_t r)
{
	return round_pages(all, r) + 2 * PAGE_SIZE + r * 64 % (PAGE_SIZE - 64);
}

static uint32_t round_value(uint64_t r)
{
	return 0x1cac0000u + (uint32_t)r;
}

/* MOVABS $value, %RAX; RET (straddling into B) and D: MOV $value, %EAX;
 * RET. INT3 everywhere else. */
static void write_round(uint8_t *all, uint64_t r)
{
	uint8_t *m = round_movabs(all, r), *d = round_d(all, r);
	uint32_t value = round_value(r);

	memset(round_pages(all, r), 0xcc, IC_PAGES * PAGE_SIZE);
	m[0] = 0x48;
	m[1] = 0xb8;
	memcpy(m + 2, &value, 4);
	memset(m + 6, 0, 4);
	m[MOVABS_LEN] = 0xc3;
	d[0] = 0xb8;
	memcpy(d + 1, &value, 4);
	d[5] = 0xc3;
}

/* Steps 1-6 of round r; true if the fetch fault was diverted as
 * expected. */
static bool one_round(uint8_t *all, uint64_t r)
{
	uint8_t *a = round_pages(all, r), *b = a + PAGE_SIZE, *d = round_d(all, r);
	volatile uint8_t *m = round_movabs(all, r);
	uint32_t value = round_value(r);

	T_EQ(call_code((const uint8_t *)m), value);
	T_EQ(protect(a, PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
	m[0] = m[0];
	T_EQ(protect(a, PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(protect(b, PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
	ic_rec.busy = 0;
	uint64_t got = ic_fetch_fault((const uint8_t *)m, d);

	*(volatile uint8_t *)b = 0xcc; /* over the MOVABS's tail: B runs no more */
	T_EQ(call_code(d), value);
	T_EQ(got, value);
	bool caught = ic_rec.vector == 14 && ic_rec.error == PF_FETCH_NX &&
		      ic_rec.cr2 == (uint64_t)(uintptr_t)b && ic_rec.rip == (uint64_t)(uintptr_t)m;

	if (!T_EXPECT(caught))
		ut_note("round %lu: vector %lu error %#lx cr2 %#lx rip %#lx, the MOVABS at %p", r,
			ic_rec.vector, ic_rec.error, ic_rec.cr2, ic_rec.rip, (void *)m);
	return caught;
}

void t_icache_boundary_fetch_fault(const char *arg)
{
	uint64_t rounds = ut_param(arg, "icache_rounds", 128), caught = 0, r = 0;

	if (!ut_cpu_has("nx")) {
		ut_note("SKIP: no NX (a fetch from a mapped page cannot fault)");
		exit(3);
	}
	set_affinity(0, 0);
	uint8_t *all =
		map(NULL, rounds * IC_PAGES * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	if (!T_EXPECT(!MAP_FAILED(all)))
		return;
	for (r = 0; r < rounds; r++)
		write_round(all, r);
	T_EQ(protect(all, rounds * IC_PAGES * PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)fc_catch,
		      (long)(uintptr_t)(ic_stack + sizeof(ic_stack)), (long)(uintptr_t)&ic_rec),
	     0);
	/* The diversion path into the trace cache first: a plain fetch fault
	 * at the start of a non-executable page. */
	T_EQ(protect(all + PAGE_SIZE, PAGE_SIZE, UPROT_READ), 0);
	for (int i = 0; i < 2; i++) {
		ic_rec.busy = 0;
		T_EQ(ic_fetch_fault(all + PAGE_SIZE, (const uint8_t *)(uintptr_t)ic_warm), 1);
	}
	T_EQ(protect(all + PAGE_SIZE, PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	for (r = 0; r < rounds; r++) {
		if (!one_round(all, r))
			break;
		caught++;
	}
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
	T_EQ(unmap(all, rounds * IC_PAGES * PAGE_SIZE), 0);
	ut_note("%lu rounds, %lu boundary-fetch faults caught", r, caught);
}
