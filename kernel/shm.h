/*
 * Memory-object handles (kernel/shm.c).
 */
#pragma once

#include "lib/compiler.h"

void shm_init(void);
long shm_create(uint64_t pages);
long shm_map(uint64_t h, uint64_t hint, uint64_t prot);
long shm_revoke(uint64_t h, uint64_t flags);
