/*
 * Checked copies to and from user memory (arch/uaccess.h).
 */
#include "arch/uaccess.h"
#include "include/uapi/errno.h"

int copy_from_user(void *dst, uint64_t usrc, uint64_t n)
{
	if (!user_range_valid(usrc, n))
		return -EFAULT;
	return copy_user_raw(dst, (const void *)usrc, n) ? -EFAULT : 0;
}

int copy_to_user(uint64_t udst, const void *src, uint64_t n)
{
	if (!user_range_valid(udst, n))
		return -EFAULT;
	return copy_user_raw((void *)udst, src, n) ? -EFAULT : 0;
}
