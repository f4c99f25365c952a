/*
 * Page faults: the arch entry calls arch_page_fault() first. Kernel-mode
 * faults on user addresses from user-copy routines are fixed up through the
 * exception table by the caller; everything else in kernel mode is a bug.
 * User-mode faults are resolved against the address space (mm/vm.c).
 */
#include "arch/x86/trap.h"
#include "kernel/percpu.h"

bool arch_page_fault(struct trap_frame *tf)
{
	this_cpu_inc(counters[CNT_PAGE_FAULT]);
	(void)tf;
	return false;
}
