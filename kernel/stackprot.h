/*
 * Stack protector: the kernel is built with -fstack-protector-strong and
 * -mstack-protector-guard=global (kernel/stackprot.c).
 */
#pragma once

#include "lib/compiler.h"

/* Picks this boot's canary. Called once, by kernel_main only (see
 * stackprot.c: no function with a canary may be live below the caller
 * except kernel_main itself, which never returns). */
void stackprot_init(void);
/* Where the canary came from: "rdrand" or "tsc". */
const char *stackprot_source(void);
