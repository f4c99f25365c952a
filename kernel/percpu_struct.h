/*
 * struct percpu: see kernel/percpu.h for the layout rules. This header holds
 * only the type so that assembly offsets (arch/x86/asm_offsets.c) and C code
 * agree on it.
 */
#pragma once

#include "kernel/compiler.h"
#include "kernel/counters.h"
#include "mm/layout.h"

#define NR_CPUS	  1024 /* build constant: the most CPUs the kernel can drive */
#define CACHELINE 64

struct task;
struct mm;

/* Hardware task-state segment (SDM Vol. 3A 8.7, 64-bit TSS). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;
_Static_assert(sizeof(struct tss) == 104, "64-bit TSS is 104 bytes");

#define GDT_ENTRIES 8
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UDATA   0x18 /* SYSRET: SS = STAR[63:48] + 8  */
#define SEL_UCODE   0x20 /* SYSRET: CS = STAR[63:48] + 16 */
#define SEL_TSS	    0x28 /* two slots */

/* Per-CPU publication of where the CPU is, for the deferred kernel flush
 * (mm/kflush.c). */
enum cpu_context {
	CTX_KERNEL = 0,
	CTX_USER = 1,
	CTX_IDLE = 2,
};

#define PTI_FLUSH_QUEUE 8 /* ptiflush=precise queue length */

/*
 * Page 0: the entry page. Read and written by this CPU only; with PTI it is
 * mapped in the user root, so it holds nothing secret.
 */
struct percpu_entry {
	struct percpu *self;		      /* 0: the struct's own address (GS base) */
	uint32_t cpu_id;		      /* 8 */
	uint32_t apic_id;		      /* 12 */
	uint64_t scratch_rsp;		      /* 16: user RSP across SYSCALL entry */
	uint64_t kstack_top;		      /* 24: current task's kernel stack top */
	uint64_t kernel_cr3;		      /* 32: CR3 the entry code loads (PTI) */
	uint64_t user_cr3;		      /* 40: CR3 the exit code loads (PTI) */
	uint64_t pti_on;		      /* 48: nonzero when entry must switch CR3 */
	uint64_t flush_count;		      /* 56: ptiflush=precise: queued addresses */
	uint64_t flush_addr[PTI_FLUSH_QUEUE]; /* 64..127 */
	uint64_t entry_stack_ptr;	      /* 128: top of this CPU's entry stack */
	uint64_t entry_pad[7];		      /* 136..191: reserved for entry code */
	/* 192: where this CPU is (enum cpu_context), for the deferred kernel
	 * flush (mm/kflush.c). Written by the owner (also by the entry code,
	 * before the PTI CR3 switch, hence in this page), read by other CPUs:
	 * its own cache line. */
	uint32_t context __aligned(64);
	uint32_t context_pad[15];
	struct tss tss __aligned(64);		 /* 256 */
	uint64_t gdt[GDT_ENTRIES] __aligned(64); /* 384 */
} __aligned(4096);

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
	uint32_t kflush_irq_caught_up; /* mm/kflush.c: this interrupt's entry
					* flushed something */
	uint64_t pagefault_disabled;   /* >0: user faults are not resolved */
	uint32_t lapic_timer_mode;
	uint32_t panicking;	  /* this CPU is printing a panic report */
	uint64_t lock_spin_start; /* lockup detector: TSC when spinning began */
	const void *lock_spinning_on;
	uint32_t lock_spin_ticket; /* lockup detector: the ticket waited for */
	uint64_t pasid_msr;	   /* kernel/pasid.c: IA32_PASID (or its shadow) */
	uint64_t irq_off_since;	   /* lockup detector: TSC of last irq-off */
	void *rq;		   /* sched/: this CPU's run queue */
	void *arch;		   /* arch/: per-CPU arch state (APIC, xstate) */
	void *tlb;		   /* mm/: PCID slots, flush state */
	void *trace;		   /* kernel/trace.c ring */
	struct task *fpu_owner;	   /* arch/x86/xstate.c: whose user state the
				 * extended registers hold */
	uint64_t xcr0_cached;	   /* arch/x86/xstate.c: XCR0 and IA32_XFD now */
	uint64_t xfd_cached;
	/* kernel/where.c: the last timer tick's sample (read by reports). */
	uint64_t tick_rip;
	uint64_t tick_tsc;
	uint32_t tick_tid; /* 0: the idle task */
	bool tick_user;

	uint64_t counters[NR_COUNTERS] __aligned(CACHELINE);
} __aligned(4096);

/* Virtual layout of one CPU's area in the entry region (mm/layout.h). */
#define PERCPU_AREA_BASE   (ENTRY_AREA_BASE + 0x200000)
#define PERCPU_STRIDE	   0x40000 /* 256 KiB per CPU */
#define PERCPU_STRUCT_MAX  0x10000 /* struct percpu fits in 64 KiB */
#define PERCPU_ENTRY_STACK 0x11000 /* 8 KiB, guard page below */
#define PERCPU_NMI_STACK   0x14000 /* 8 KiB each, guard pages between */
#define PERCPU_DF_STACK	   0x17000
#define PERCPU_MC_STACK	   0x1a000
#define PERCPU_DB_STACK	   0x1d000
#define PERCPU_STACK_SIZE  0x2000
#define PERCPU_AREA_END	   0x1f000

_Static_assert(sizeof(struct percpu_entry) == 4096, "entry page is one page");
_Static_assert(PERCPU_ENTRY_STACK >= PERCPU_STRUCT_MAX + 0x1000, "guard below stacks");
_Static_assert(sizeof(struct percpu) <= PERCPU_STRUCT_MAX, "struct percpu too big");

extern struct percpu *percpu_ptrs[NR_CPUS];
extern uint32_t nr_cpus; /* CPUs found (present), including any that failed */
extern uint32_t nr_cpus_online;

static inline struct percpu *percpu_of(uint32_t cpu)
{
	return percpu_ptrs[cpu];
}
