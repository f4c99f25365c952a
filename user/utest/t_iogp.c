/*
 * outs_gp_pushes_the_flags_it_found: what the CPU fuzzer's random code
 * under QEMU may not hold (user/utest/cpufuzz_mem.c qemu_aborts), shown.
 *
 * "xor %eax,%eax; sbb $0x45,%al; rep outsb" in user mode, with IOPL 0 and
 * no I/O bitmap: the OUTSB raises #GP(0), and the RFLAGS image the CPU
 * pushes holds the flags the SBB left (SDM Vol. 3A 6.12: the saved EFLAGS
 * are the state at the faulting instruction). The kernel diverts the
 * fault (SYST_FAULT_CATCH) and reports the image it was given; the test
 * compares its arithmetic and reserved bits with the flags the same two
 * instructions leave for a PUSHF. On a CPU model (Bochs) the two agree
 * every time. QEMU TCG (10.0) raises this #GP, the first time the code
 * runs (a fresh translation; later rounds agree), with the flags
 * operation of an earlier instruction, so the image holds the SBB's
 * operand as flags (0x45: CF, PF, ZF, where the SBB leaves CF, PF, AF,
 * SF) and is counted stale. The operand is chosen so that the garbage has arithmetic bits
 * only: QEMU folds such garbage into its EFLAGS when the vCPU leaves its
 * execution loop and clears only the arithmetic bits on the way back in,
 * so an operand with another bit (a soak boot's random code had 0x67: bit
 * 5) would stay set on that vCPU for the rest of the boot. The rows'
 * expect lines hold both answers (tools/matrix.py). iogp_rounds=N
 * (default 100).
 */
#include "user/utest/utest.h"

#define FLAGS_ARITH    0x8d5ull		     /* OF, SF, ZF, AF, PF, CF */
#define FLAGS_RESERVED 0xffffffffffc08028ull /* 3, 5, 15, 22-63: 0 on a CPU */

/* Its own catch, not fc_run() (user/utest/faultcatch.S): QEMU's stale
 * image shows when ig_run is called directly from C, as here. Run through
 * fc_run's indirect call, the same instructions gave 0 stale images of 100
 * under QEMU 10.0 (and the row expects at least one). */
static struct syst_fault_rec ig_rec;
static uint8_t ig_stack[1024] __attribute__((aligned(16)));
static uint8_t ig_buf[16] __attribute__((used));
static uint64_t ig_saved_rsp __attribute__((used));
uint64_t ig_run(void);
uint64_t ig_expect(void);
void ig_catch(void);
extern const uint8_t ig_outs[];

_Static_assert(__builtin_offsetof(struct syst_fault_rec, rflags) == 48, "ig_catch reads it");

__asm__(".text\n"
	"ig_run:\n" /* -> the RFLAGS image of the #GP */
	"	pushq %rbx\n"
	"	movq %rsp, ig_saved_rsp(%rip)\n"
	"	leaq ig_buf(%rip), %rsi\n"
	"	movl $0x80, %edx\n"
	"	movl $1, %ecx\n"
	"	xorl %eax, %eax\n"
	"	sbbb $0x45, %al\n"
	"ig_outs:\n"
	"	rep outsb\n" /* #GP(0): diverted to ig_catch */
	"	xorl %eax, %eax\n"
	"	popq %rbx\n"
	"	ret\n"
	"ig_catch:\n" /* RDI = &ig_rec, RSP = the top of ig_stack */
	"	movq ig_saved_rsp(%rip), %rsp\n"
	"	movq 48(%rdi), %rax\n"
	"	popq %rbx\n"
	"	ret\n"
	"ig_expect:\n" /* the flags the same two instructions leave */
	"	xorl %eax, %eax\n"
	"	sbbb $0x45, %al\n"
	"	pushfq\n"
	"	popq %rax\n"
	"	ret\n");

void t_outs_gp_pushes_the_flags_it_found(const char *arg)
{
	uint64_t rounds = ut_param(arg, "iogp_rounds", 100), stale = 0, wrong = 0;
	uint64_t want = ig_expect() & (FLAGS_ARITH | FLAGS_RESERVED);

	T_EQ(want, 0x95); /* CF, PF, AF, SF: 0 - 0x45 = 0xbb */
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)ig_catch,
		      (long)(uintptr_t)(ig_stack + sizeof(ig_stack)), (long)(uintptr_t)&ig_rec),
	     0);
	for (uint64_t i = 0; i < rounds; i++) {
		ig_rec.busy = 0;
		uint64_t f = ig_run() & (FLAGS_ARITH | FLAGS_RESERVED);

		if (ig_rec.vector != 13 || ig_rec.error != 0 ||
		    ig_rec.rip != (uint64_t)(uintptr_t)ig_outs) {
			if (wrong++ == 0)
				ut_note("round %lu: vector %lu error %#lx at %#lx (OUTSB at %p)", i,
					ig_rec.vector, ig_rec.error, ig_rec.rip, (void *)ig_outs);
		} else if (f != want && stale++ == 0) {
			ut_note("round %lu: the #GP image's flags %#lx, the SBB's %#lx", i, f,
				want);
		}
	}
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
	ut_note("%lu rounds: %lu #GP images of OUTSB with stale flags", rounds, stale);
	T_EQ(wrong, 0);
}
