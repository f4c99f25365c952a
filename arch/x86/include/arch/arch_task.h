/*
 * The x86 part of a task (interface): what the arch keeps per thread and
 * saves or loads at a context switch. struct task (sched/task.h) embeds
 * one as task->arch; arch code sees only this, never struct task.
 */
#pragma once

#include "lib/compiler.h"

struct arch_task {
	uint64_t fs_base, gs_base; /* user FS/GS base, saved at switch */
	/* Extended state (arch/x86/xstate.c). */
	void *xstate;
	uint32_t xstate_size;
	union {
		uint64_t xfeatures; /* components its buffer holds (the RFBM) */
		struct {
			uint32_t xfeatures_lo, xfeatures_hi; /* EAX and EDX of XSAVES/XRSTORS */
		};
	};
	uint64_t fpu_tag;      /* the restore that loaded its state (0: none) */
	bool *tiles_permitted; /* the process's AMX permission (NULL: kernel thread) */
	uint32_t tid;	       /* for trace records */
};
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xfeatures_lo is xfeatures' low half");
