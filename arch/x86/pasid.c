/*
 * The IA32_PASID MSR (arch/pasid.h).
 */
#include "arch/pasid.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"

bool arch_pasid_msr_present(void)
{
	return cpu_has(FEAT_ENQCMD);
}

void arch_pasid_msr_write(uint64_t v)
{
	wrmsr(MSR_PASID, v);
}

uint64_t arch_pasid_msr_read(void)
{
	return rdmsr(MSR_PASID);
}
