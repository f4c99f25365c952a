/*
 * The stack protector's runtime (lib/stackprot.c): the canary GCC checks
 * and the function it calls when a check fails.
 */
#pragma once

#include "lib/compiler.h"

/* The canary until kernel/stackprot.c picks this boot's. */
#define STACKPROT_BOOT_CANARY 0x595e9fbd94fda700ull

extern uint64_t __stack_chk_guard;
