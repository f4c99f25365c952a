/*
 * User memory access (see uaccess.h).
 */
#include "kernel/uaccess.h"
#include "include/uapi/errno.h"
#include "kernel/percpu_area.h"

int get_user_u32(uint32_t *out, uint64_t uaddr, bool nofault)
{
	if (!user_range_valid(uaddr, 4) || (uaddr & 3))
		return -EFAULT;
	if (nofault)
		this_cpu_inc(pagefault_disabled);
	long r = get_user_u32_raw(out, (const void *)uaddr);

	if (nofault)
		PERCPU_GS->pagefault_disabled--;
	return r ? -EFAULT : 0;
}

int strncpy_from_user(char *dst, uint64_t usrc, uint64_t max)
{
	if (!max)
		return -ENAMETOOLONG; /* no room even for the NUL: dst untouched */
	for (uint64_t i = 0; i < max; i++) {
		if (copy_from_user(&dst[i], usrc + i, 1))
			return -EFAULT;
		if (!dst[i])
			return 0;
	}
	dst[max - 1] = '\0';
	return -ENAMETOOLONG;
}
