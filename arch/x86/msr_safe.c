/*
 * MSR access that survives unimplemented MSRs: the #GP from RDMSR/WRMSR is
 * fixed up through the exception table (arch/x86/traps.c), which resumes at
 * the fixup label; the fixup clears the "ok" register.
 */
#include "arch/x86/cpu.h"
#include "arch/trap.h"

bool rdmsr_safe(uint32_t msr, uint64_t *v)
{
	uint32_t lo, hi, ok;

	__asm__ __volatile__("movl $1, %2\n"
			     "1: rdmsr\n"
			     "jmp 3f\n"
			     "2: xorl %2, %2\n"
			     "3:\n" EXTABLE_ENTRY(1b, 2b)
			     : "=a"(lo), "=d"(hi), "=D"(ok)
			     : "c"(msr)
			     : "memory");
	if (!ok)
		return false;
	*v = ((uint64_t)hi << 32) | lo;
	return true;
}

bool wrmsr_safe(uint32_t msr, uint64_t v)
{
	uint32_t ok;
	uint64_t clobber;

	__asm__ __volatile__("movl $1, %1\n"
			     "1: wrmsr\n"
			     "jmp 3f\n"
			     "2: xorl %1, %1\n"
			     "3:\n" EXTABLE_ENTRY(1b, 2b)
			     : "=a"(clobber), "=D"(ok)
			     : "c"(msr), "0"((uint64_t)(uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
	return ok;
}
