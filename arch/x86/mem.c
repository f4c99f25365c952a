/*
 * The arch's copy of the memory hooks mm gives it (arch/mem.h).
 */
#include "arch/mem.h"

struct arch_mem_ops arch_mem;

void arch_mem_init(const struct arch_mem_ops *ops)
{
	arch_mem = *ops;
}
