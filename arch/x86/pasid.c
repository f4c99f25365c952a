/*
 * The IA32_PASID MSR and its per-CPU load (arch/pasid.h).
 */
#include "arch/pasid.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"

int pasid_mode;
bool pasid_per_thread;

static bool have_msr; /* ENQCMD: the MSR exists (set by arch_pasid_init) */

bool arch_pasid_init(void)
{
	have_msr = cpu_has(FEAT_ENQCMD);
	pasid_per_thread = pasid_mode == PASID_XSTATE;
	return have_msr;
}

__noinline void arch_pasid_load(uint64_t v)
{
	if (have_msr)
		wrmsr(MSR_PASID, v);
	this_cpu_write(pasid_msr, v);
	this_cpu_inc(counters[CNT_PASID_WRITE]);
}

uint64_t arch_pasid_read(void)
{
	return have_msr ? rdmsr(MSR_PASID) : this_cpu_read(pasid_msr);
}
