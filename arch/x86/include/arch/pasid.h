/*
 * The IA32_PASID MSR (interface): bit 31 valid, bits 19:0 the PASID (SDM
 * Vol. 4, MSR 0xd93; it exists where the CPU has ENQCMD). The policy, one
 * PASID per mm and when to load it, is kernel/pasid.c's.
 */
#pragma once

#include "lib/compiler.h"

/* The CPU has the MSR (CPUID.(EAX=7,ECX=0):ECX[29], ENQCMD). */
bool arch_pasid_msr_present(void);
void arch_pasid_msr_write(uint64_t v);
uint64_t arch_pasid_msr_read(void);
