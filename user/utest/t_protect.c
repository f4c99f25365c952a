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

/*
 * Regression bool_switches_read_zero_or_one: SYST_SWITCH read every switch
 * as a 4-byte int, and a bool switch is one byte since KSWITCH_BOOL takes
 * a bool (static branches read it). smep, smap and umip sit side by side,
 * so umip read 0x10101 and smap 0x101: the CPU fuzzer, which asks whether
 * umip is 1, expected SMSW, STR, SIDT and SLDT to complete (bochs-spr-4cpu,
 * 10 of its sequences "an outcome the class does not allow"). Every bool
 * switch reads 0 or 1, and those the boot set read what the kernel
 * printed (the test boots take the defaults: all on here but trace and
 * stats).
 */
void t_bool_switches_read_zero_or_one(const char *arg)
{
	(void)arg;
	static const char *const names[] = { "smep",	 "smap",       "umip",	  "pti",
					     "tlbcheck", "framecache", "lazytlb", "ipcfast",
					     "trace",	 "fbcon",      "stats" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long v = sys_test(SYST_SWITCH, (long)names[i], (long)strlen(names[i]), 0);

		if (v != 0 && v != 1)
			ut_note("switch %s reads %ld", names[i], v);
		T_EXPECT(v == 0 || v == 1);
	}
	T_EQ(sys_test(SYST_SWITCH, (long)"smep", 4, 0), 1);
	T_EQ(sys_test(SYST_SWITCH, (long)"smap", 4, 0), 1);
	T_EQ(sys_test(SYST_SWITCH, (long)"umip", 4, 0), 1);
}

/*
 * Regression smap_holds_in_traps_with_user_ac: user code may set RFLAGS.AC
 * (POPF at CPL 3), and an exception or interrupt keeps it: unlike SYSCALL
 * (SFMASK), the CPU clears only TF, NT, RF and VM (and IF through an
 * interrupt gate) when it delivers one. The kernel's entry code ran its C
 * with the user's AC, so with SMAP "on" a kernel read of user memory in a
 * trap handler did not fault: hostile code switched SMAP off for the
 * kernel at will. The entry code must clear AC (CLAC) as it enters.
 *
 * For each of #UD, #BP and #PF, raised with AC set and diverted by
 * SYST_FAULT_CATCH: the kernel reads a word of ours without opening SMAP
 * first thing in the diversion (SYST_SMAP_PROBE mode 1), and must have
 * been stopped (-EFAULT). The record's RFLAGS shows that AC was set. With
 * two CPUs, the paranoid entry as well: NMIs that land on a thread in user
 * mode with AC set must find AC clear in their handler (SYST_SEND_NMI
 * mode 1).
 */
static struct syst_fault_rec sa_rec;
static uint8_t sa_stack[4096] __attribute__((aligned(16)));
static uint64_t sa_saved_rsp __attribute__((used)); /* (the assembly's) */
void sa_fault_with_ac(uint64_t kind);
void sa_catch(void);
void sa_spin_with_ac(void *arg);

__asm__(".text\n"
	"sa_fault_with_ac:\n" /* RDI: 0 ud2, 1 int3, 2 a read of address 0 */
	"	movq %rsp, sa_saved_rsp(%rip)\n"
	"	pushfq\n"
	"	orq $0x40000, (%rsp)\n" /* AC */
	"	popfq\n"
	"	cmpq $1, %rdi\n"
	"	je 1f\n"
	"	ja 2f\n"
	"	ud2\n"
	"1:	int3\n"
	"	ud2\n" /* (int3 is a trap: diverted after it, never here) */
	"2:	xorl %eax, %eax\n"
	"	movq (%rax), %rax\n"
	"	ud2\n"
	"sa_catch:\n" /* RDI = &sa_rec, RFLAGS = IF: back to our caller */
	"	movq sa_saved_rsp(%rip), %rsp\n"
	"	ret\n"
	"sa_spin_with_ac:\n" /* a thread: AC set, then user mode for ever */
	"	pushfq\n"
	"	orq $0x40000, (%rsp)\n"
	"	popfq\n"
	"1:	pause\n"
	"	jmp 1b\n");

/* The paranoid entry too: NMIs to a thread spinning in user mode with AC
 * set, until 3 have landed there; in none may the handler see AC. */
static void sa_nmi_part(void)
{
	set_affinity(0, 0);
	int tid = thread_create(sa_spin_with_ac, NULL);
	int landed = 0, with_ac = 0, sent = 0;
	uint64_t t0 = clock_ns();

	T_EXPECT(tid > 0);
	if (tid <= 0)
		return;
	set_affinity(tid, 1);
	while (landed < 3 && clock_ns() - t0 < 30000000000ull) {
		long seen = sys_test(SYST_SEND_NMI, 1, 1, 0);

		T_EXPECT(seen >= 0);
		if (seen < 0)
			break;
		sent++;
		if (seen & 1) {
			landed++;
			with_ac += (seen & 2) != 0;
		}
	}
	T_EQ(sys_test(SYST_KILL_THREAD, tid, 0, 0), 0);
	T_EXPECT(landed > 0);
	T_EQ(with_ac, 0);
	ut_note("NMIs: %d sent, %d landed in user mode (the thread sets AC first thing), %d found AC set in the handler",
		sent, landed, with_ac);
}

void t_smap_holds_in_traps_with_user_ac(const char *arg)
{
	(void)arg;
	static uint32_t word = 42;
	static const uint64_t vectors[3] = { 6, 3, 14 };
	bool smap = ut_cpu_has("smap");
	int stopped = 0;

	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)sa_catch,
		      (long)(uintptr_t)(sa_stack + sizeof(sa_stack)), (long)(uintptr_t)&sa_rec),
	     0);
	for (uint64_t kind = 0; kind < 3; kind++) {
		sa_rec.busy = 0;
		T_EQ(sys_test(SYST_SMAP_PROBE, (long)(uintptr_t)&word, 1, 0), 0);
		sa_fault_with_ac(kind);
		T_EQ(sa_rec.vector, vectors[kind]);
		T_EXPECT(sa_rec.rflags & 0x40000); /* the fault came with AC set */
		long probe = sys_test(SYST_SMAP_PROBE, 0, 2, 0);

		if (probe != (smap ? -14 : 0))
			ut_note("vector %lu: the kernel's read gave %ld", vectors[kind], probe);
		T_EQ(probe, smap ? -14 : 0);
		stopped += probe == -14;
	}
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
	ut_note("smap %s: %d of 3 kernel reads of user memory in a trap handler stopped",
		smap ? "on" : "absent", stopped);
	if (smap && nr_cpus() > 1)
		sa_nmi_part();
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
