/*
 * Per-CPU data: one struct per CPU, reached through the GS base (the arch
 * primitive ARCH_PERCPU_PTR, arch/percpu.h).
 *
 * Layout rule (DESIGN.md "Per-CPU data"): fields are grouped by who writes
 * them.
 *   - page 0, "entry page" (struct percpu_entry, arch/percpu.h): read and
 *     written by this CPU's entry and exit code. With PTI it is the only
 *     per-CPU page mapped in the user root, so it holds what the entry
 *     trampoline needs before CR3 is switched and nothing else.
 *   - "shared" line(s): written by the owner, read by other CPUs (lazy flag,
 *     current mm). Each sits on its own cache line so a remote reader never
 *     shares a line with a hot private write.
 *   - "remote" line(s): written by other CPUs (IPI queue heads).
 *   - private fields: only this CPU reads or writes them.
 *
 * The per-CPU areas live in the entry-area region at a fixed stride so that
 * GS-relative offsets are the same on every CPU and page 0 can be mapped
 * into the PTI user root at the same address. Offsets used by assembly are
 * checked in arch/x86/asm_offsets.c.
 */
#pragma once

#include "lib/compiler.h"
#include "include/uapi/counter_ids.h"
#include "arch/percpu.h"

#define NR_CPUS	  1024 /* build constant: the most CPUs the kernel can drive */
#define CACHELINE 64

struct task;
struct arch_task;
struct mm;

/* Written by the owner, read by other CPUs: one line, apart from hot
 * private writes (DESIGN.md "Per-CPU data"). */
struct percpu_shared {
	uint32_t is_lazy;     /* lazy TLB: running a kernel thread on loaded_mm */
	struct mm *loaded_mm; /* mm whose tables are in CR3 */
	uint64_t online;      /* set once the CPU has finished start-up */
	uint64_t kflush_gen;  /* kernel flush generation this CPU reached */
	struct task *curr;    /* running task, read by remote wake-up */
} __aligned(CACHELINE);

struct percpu {
	struct percpu_entry entry;

	struct percpu_shared shared;

	/* Written by other CPUs (IPI senders), read by the owner. */
	struct {
		void *call_queue_head; /* lock-free LIFO of call-function work */
		uint64_t pending;      /* reserved */
	} remote __aligned(CACHELINE);

	/* ---- private: only this CPU touches what follows ---- */
	struct task *current __aligned(CACHELINE);
	struct task *idle;
	uint64_t irq_depth;	/* nesting of hardware interrupt handlers */
	uint64_t preempt_count; /* >0: no involuntary switch */
	uint64_t need_resched;
	uint64_t nmi_depth;
	uint32_t nmi_test_pending;     /* kernel/nmi.c: a test NMI is on its way
				    * (written by the sender before the NMI) */
	uint32_t lockup_probe_pending; /* kernel/lockup.c: the same for the
					* interrupts-off probe */
	uint32_t nmi_test_hold_ms;     /* kernel/nmi.c: the test NMI spins this long */
	uint32_t nmi_test_seen;	       /* kernel/nmi.c: what the last test NMI found
					* (NMI_SEEN_*), read by its sender */
	uint32_t kflush_irq_caught_up; /* mm/kflush.c: this interrupt's entry
					* flushed something */
	uint64_t pagefault_disabled;   /* >0: user faults are not resolved */
	uint32_t lapic_timer_mode;
	uint32_t panicking;	  /* this CPU is printing a panic report */
	uint64_t lock_spin_start; /* lockup detector: TSC when spinning began */
	const void *lock_spinning_on;
	uint32_t lock_spin_ticket; /* lockup detector: the ticket waited for */
	uint64_t pasid_msr;	   /* arch/pasid.h: IA32_PASID (or its shadow) */
	uint64_t io_key;	   /* arch/ioperm.h: whose I/O bitmap the TSS holds */
	uint64_t irq_off_since;	   /* lockup detector: TSC of last irq-off */
	void *rq;		   /* sched/: this CPU's run queue */
	void *arch;		   /* arch/: per-CPU arch state (APIC, xstate) */
	void *tlb;		   /* mm/: PCID slots, flush state */
	/* mm/kflush.c: the kernel-flush generation the loaded PCID reached
	 * (the current slot's kgen). Here rather than in the cpu_tlb, so
	 * that the entry from user compares it without that pointer. This
	 * CPU only. */
	uint64_t kgen_seen;
	void *trace;		    /* kernel/trace.c ring */
	uint64_t fpu_tag;	    /* arch/x86/xstate.c: the tag of the last restore here */
	struct arch_task *cur_arch; /* arch/x86/switch.c: the running task's
				     * arch part, NULL for a kernel thread */
	uint64_t xcr0_cached;	    /* arch/x86/xstate.c: XCR0 and IA32_XFD now */
	uint64_t xfd_cached;
	/* ...and the tile bit (XFEAT_TILEDATA or 0) that a task's xfeatures
	 * must have for the inline XRSTORS exit: whether those controls are a
	 * tile user's. ~0 (no task matches) unless the save instruction is
	 * XSAVES: then every restore takes the slow path. */
	uint64_t xctl_tiles;
	/* kernel/where.c: the last timer tick's sample (read by reports). */
	uint64_t tick_rip;
	uint64_t tick_tsc;
	uint32_t tick_tid; /* 0: the idle task */
	bool tick_user;

	uint64_t counters[NR_COUNTERS] __aligned(CACHELINE);
} __aligned(4096);

_Static_assert(sizeof(struct percpu) <= PERCPU_STRUCT_MAX, "struct percpu too big");

extern struct percpu *percpu_ptrs[NR_CPUS];
extern uint32_t nr_cpus; /* CPUs found (present), including any that failed */
extern uint32_t nr_cpus_online;

static inline struct percpu *percpu_of(uint32_t cpu)
{
	return percpu_ptrs[cpu];
}

#define PERCPU_GS ARCH_PERCPU_PTR

static __always_inline struct percpu *this_cpu(void)
{
	return PERCPU_GS->entry.self;
}

static __always_inline uint32_t this_cpu_id(void)
{
	return PERCPU_GS->entry.cpu_id;
}

/*
 * Plain accesses through a null __seg_gs pointer. The kernel is built with
 * -fno-delete-null-pointer-checks (Makefile): without it GCC's pure-const
 * analysis takes such a read for one of readonly memory and declares a
 * helper that does nothing else (this_tlb(), this_rq()) const, so that two
 * calls of it become one across switch_to(), after which the task may run
 * on another CPU (the PTI exit used this_tlb() from before the system
 * call; finish_switch() released the run queue of the CPU it had left).
 * With the flag a call reloads them like any memory
 * (tools/check_percpu_reload.py, a make test row).
 */
#define this_cpu_read(field)	 (PERCPU_GS->field)
#define this_cpu_write(field, v) (PERCPU_GS->field = (v))
#define this_cpu_inc(field)	 (PERCPU_GS->field++)
#define this_cpu_add(field, v)	 (PERCPU_GS->field += (v))
