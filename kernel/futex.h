#pragma once

#include "lib/compiler.h"

void futex_init(void);
/* Block while *uaddr == expected (0 = no timeout). 0, -EAGAIN (value
 * differed), -ETIMEDOUT, -EINTR (killed), -EFAULT, -EINVAL. */
long futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns);
/* Wake up to count waiters; returns how many. */
long futex_wake(uint64_t uaddr, uint32_t count);
