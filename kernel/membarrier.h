/*
 * membarrier (kernel/membarrier.c). Command values as Linux's.
 */
#pragma once

#include "lib/compiler.h"

#include "include/uapi/membarrier_cmds.h"

/* mm->membarrier_flags */
#define MEMBARRIER_REG_EXPEDITED 1u
#define MEMBARRIER_REG_SYNC_CORE 2u

struct task;

long membarrier_cmd(uint64_t cmd, uint64_t flags);
/* Return to user: if a sync-core membarrier marked t (TF_SYNC_CORE),
 * clear the mark and serialize unless t already did since. */
void membarrier_return_to_user(struct task *t);
/* Tests: the sync-core generation the current thread has serialized to. */
long membarrier_sync_core_gen(void);
