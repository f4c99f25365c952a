/*
 * Undefined-behaviour sanitizer runtime for the debug kernel (`make ubsan`:
 * -fsanitize=undefined; kernel/ubsan.c). In the normal build nothing calls
 * it and the count stays 0.
 */
#pragma once

#include "lib/compiler.h"

/* Reports printed so far ("UBSAN: ..."); any makes the boot fail. */
uint32_t ubsan_reports(void);
