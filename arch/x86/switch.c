/*
 * Context switch, the x86 half: see arch/switch.h (the per-switch work is
 * inline there) and arch/x86/switch_to.S.
 */
#include "arch/switch.h"
#include "arch/x86/cpufeature.h"

bool arch_fsgsbase;

void arch_switch_init(void)
{
	arch_fsgsbase = cpu_has(FEAT_FSGSBASE);
}
