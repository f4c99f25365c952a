/*
 * Hardware protections as seen from user space: SMAP stops a kernel read of
 * user memory outside the copy routines; UMIP stops SGDT in user mode.
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

void t_role_sgdt(const char *arg)
{
	(void)arg;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr;

	__asm__ __volatile__("sgdt %0" : "=m"(gdtr));
	exit(0); /* only reached without UMIP */
}

void t_cpu_protections(const char *arg)
{
	(void)arg;
	static uint32_t word = 42;
	long r = sys_test(SYST_SMAP_PROBE, (long)&word, 0, 0);

	if (ut_cpu_has("smap"))
		T_EQ(r, -14); /* the kernel could not read it */
	else
		T_EQ(r, 0);
	/* The proper copy routines still work with SMAP on. */
	T_EXPECT(sys_test(SYST_CPU_HAS, (long)"smap", 4, 0) >= 0);
	if (ut_cpu_has("umip"))
		T_EQ(run_child("role_sgdt"), 128 + 13);
	else
		T_EQ(run_child("role_sgdt"), 0);
	ut_note("smap %s, umip %s, smep %s", ut_cpu_has("smap") ? "on" : "absent",
		ut_cpu_has("umip") ? "on" : "absent", ut_cpu_has("smep") ? "on" : "absent");
}

/* The kernel's walker over our own address space (ELF segments, stack,
 * anonymous mappings in every protection): every user page is
 * user-accessible (SMEP/SMAP guard it) and none is writable and
 * executable; with PTI our user root maps only the entry area. */
void t_mm_invariants(const char *arg)
{
	(void)arg;
	uint8_t *a = map(NULL, 8 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	T_EXPECT(!MAP_FAILED(a));
	T_EQ(protect(a, 2 * PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(protect(a + 2 * PAGE_SIZE, 2 * PAGE_SIZE, UPROT_READ), 0);
	a[4 * PAGE_SIZE] = 1;
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	/* Writable and executable at once is refused, not mapped. */
	T_EXPECT(protect(a, PAGE_SIZE, UPROT_READ | UPROT_WRITE | UPROT_EXEC) < 0);
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	T_EQ(unmap(a, 8 * PAGE_SIZE), 0);
}
