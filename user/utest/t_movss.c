/*
 * Regression mov_ss_shadow_while_another_cpu_faults: an emulator bug, not
 * a kernel one. A MOV SS holds interrupts and the single-step trap back
 * until the instruction after it has completed (SDM Vol. 3A 6.8.3): with
 * TF set, the #DB of "mov %eax,%ss; nop" comes after the NOP. Bochs 3.0
 * ends that hold by an instruction count (inhibit_icount); its SMP loop
 * (main.cc) keeps the number of the CPU it runs in a local that it
 * changes after setjmp(), and after a guest exception on another CPU
 * longjmp()s back there: GCC had folded that number to CPU 0 on the way
 * back, so every exception of another CPU added one to CPU 0's count. A
 * MOV SS on CPU 0 lost its hold whenever another CPU's turn between it
 * and the next instruction ended in an exception, and the #DB came
 * before the NOP. The kernel
 * must get MOV SS right (the #DB of a shadowed SYSCALL or INT is the
 * classic entry bug), so the emulator its tests run on must too. Fixed by
 * a Bochs patch (the loop's locals volatile). QEMU passes.
 *
 * CPU 1 takes #UD after #UD (diverted each by SYST_FAULT_CATCH, straight
 * back into the loop) while CPU 0 steps "mov %eax,%ss; nop" with TF and
 * checks where each #DB lands: after the NOP, never before it. A spin of
 * varying length before each step keeps the two loops from falling into
 * step (without it, Bochs 3.0 lost the hold only in the first few dozen
 * steps, or never, depending on the layout).
 * movss_steps=N (default 4000).
 */
#include "user/utest/utest.h"

static struct syst_fault_rec ms_rec, ms_frec;
static uint8_t ms_stack[4096] __attribute__((aligned(16)));
static uint8_t ms_fstack[256] __attribute__((aligned(16)));
static uint64_t ms_fsaved_rsp __attribute__((used));
static volatile uint8_t ms_stop __attribute__((used));
static volatile uint64_t ms_faults;
uint64_t ms_step(void);
void ms_fault_loop(void);
void ms_fcatch(void);
extern const uint8_t ms_before_nop[], ms_after_nop[];

__asm__(".text\n"
	"ms_step:\n" /* run by fc_run(): 0 if no #DB ended the step */
	"	movl %ss, %eax\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"	 /* TF: the next instruction traps, */
	"	mov %eax, %ss\n" /* after the NOP: the shadow */
	"ms_before_nop:\n"
	"	nop\n"
	"ms_after_nop:\n"
	"	nop\n"
	"	pushfq\n" /* not reached: the #DB diverts */
	"	andq $~0x100, (%rsp)\n"
	"	popfq\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	"ms_fault_loop:\n" /* #UD until ms_stop */
	"	movq %rsp, ms_fsaved_rsp(%rip)\n"
	"ms_fcatch:\n" /* the diversion lands here: RSP = ms_fstack's top */
	"	lock incq ms_faults(%rip)\n"
	"	movq $0, ms_frec(%rip)\n" /* rec->busy: divert the next one too */
	"	cmpb $0, ms_stop(%rip)\n"
	"	jne 1f\n"
	"	ud2\n"
	"1:	movq ms_fsaved_rsp(%rip), %rsp\n"
	"	ret\n");

/* The diversion's answer: the RIP of the #DB that ended the step. */
static uint64_t ms_db_rip(const struct syst_fault_rec *rec)
{
	return rec->rip;
}

static void faulter(void *arg)
{
	(void)arg;
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)ms_fcatch,
		      (long)(uintptr_t)(ms_fstack + sizeof(ms_fstack)), (long)(uintptr_t)&ms_frec),
	     0);
	ms_fault_loop();
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
}

void t_mov_ss_shadow_while_another_cpu_faults(const char *arg)
{
	uint64_t steps = ut_param(arg, "movss_steps", 4000), early = 0, late = 0, other = 0;

	if (nr_cpus() < 2) {
		ut_note("SKIP: one CPU (the bug needs another CPU's exceptions)");
		exit(3);
	}
	T_EQ(set_affinity(0, 0), 0);
	ms_stop = 0;
	int tid = thread_create(faulter, NULL);

	if (!T_EXPECT(tid > 0))
		return;
	T_EQ(set_affinity(tid, 1), 0);
	while (ms_faults < 100) /* the faulter is running */
		yield();
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)fc_catch,
		      (long)(uintptr_t)(ms_stack + sizeof(ms_stack)), (long)(uintptr_t)&ms_rec),
	     0);
	for (uint64_t i = 0; i < steps; i++) {
		/* The spin (the comment at the top). */
		for (uint64_t j = i * 2654435761u >> 26 & 63; j; j--)
			__asm__ __volatile__("");
		ms_rec.busy = 0;
		uint64_t rip = fc_run(ms_step, ms_db_rip);

		if (rip == (uint64_t)(uintptr_t)ms_after_nop && ms_rec.vector == 1)
			late++;
		else if (rip == (uint64_t)(uintptr_t)ms_before_nop && ms_rec.vector == 1) {
			if (early++ < 4)
				ut_note("step %lu: #DB before the shadowed NOP (%lu #UD on CPU 1 so far)",
					i, (uint64_t)ms_faults);
		} else if (other++ == 0)
			ut_note("step %lu: vector %lu at %#lx (MOV SS's NOP at %p)", i,
				ms_rec.vector, rip, (void *)ms_before_nop);
	}
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
	ms_stop = 1;
	T_EQ(thread_join(tid, NULL), 0);
	ut_note("%lu steps: #DB after the shadowed NOP %lu, before it %lu, other %lu; "
		"%lu #UD on CPU 1 meanwhile",
		steps, late, early, other, (uint64_t)ms_faults);
	T_EQ(early, 0);
	T_EQ(other, 0);
	T_EQ(late, steps);
}
