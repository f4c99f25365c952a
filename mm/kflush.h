/*
 * Flushing kernel (vmalloc-class) mappings on every CPU: see kflush.c.
 */
#pragma once

#include "kernel/compiler.h"

/* Returns when no CPU can use a translation in [start, end) any more. */
void kflush_kernel_range(uint64_t start, uint64_t end);
