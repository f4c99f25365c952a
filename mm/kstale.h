/*
 * A kernel page remapped in place for the stale-read torture (mm/kstale.c).
 */
#pragma once

#include "lib/compiler.h"
#include "include/uapi/test.h" /* KSTALE_* */

long kstale_op(uint64_t op);
