/*
 * A kernel page remapped in place for the stale-read torture (mm/kstale.c).
 */
#pragma once

#include "lib/compiler.h"

#define KSTALE_SETUP	0
#define KSTALE_READ	1
#define KSTALE_REMAP	2
#define KSTALE_TEARDOWN 3

long kstale_op(uint64_t op);
