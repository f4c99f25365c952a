/*
 * The per-CPU entry page and area layout (interface): what x86's entry and
 * exit code need in each CPU's struct percpu (lib/percpu.h embeds struct
 * percpu_entry as its first page), the hardware TSS and GDT, and where the
 * entry and IST stacks sit in the CPU's area. Also the per-CPU access
 * primitive: GCC's named address space __seg_gs, so this_cpu()->x is one
 * %gs-relative access.
 */
#pragma once

#include "lib/compiler.h"

struct percpu;

#define ARCH_PERCPU_PTR ((struct percpu __seg_gs *)0)

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

/* Ports a TSS I/O bitmap covers: 0 .. IO_BITMAP_PORTS - 1 (every legacy
 * ISA port; a port above it is never granted, arch/ioperm.h). */
#define IO_BITMAP_PORTS 0x2000
#define IO_BITMAP_BYTES (IO_BITMAP_PORTS / 8)
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_UDATA	0x18 /* SYSRET: SS = STAR[63:48] + 8  */
#define SEL_UCODE	0x20 /* SYSRET: CS = STAR[63:48] + 16 */
#define SEL_TSS		0x28 /* two slots */

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
	/* 136: mm/: hardware value of the loaded mm's user CR3 in the current
	 * slot with the no-flush bit, which the fast exits load (mm/pti.h:
	 * the system call's exit code, pti_prepare_exit() for the others);
	 * 0 when they may not: pti=off, pcid=off, tlbcheck=on, no user root
	 * (the slot's ucr3_keep is 0 then), or the current slot's user PCID
	 * is stale or has precise flushes queued (so while it is not 0,
	 * flush_count is 0). Set with the current slot (pcid_load_cr3,
	 * load_mm_fast) and after a slow exit; cleared by pti_user_flush_all
	 * and pti_user_flush_page on the current slot (mm/pti.c), the only
	 * writers of user_stale = true and of the queue. This CPU only. */
	uint64_t user_cr3_keep;
	/* 144: the system call's fast exits (CR3 writes, no-flush ones),
	 * counted by the exit code; kernel/counters.c adds them to cr3_write,
	 * cr3_write_noflush and pti_cr3. */
	uint64_t sysret_cr3_fast;
	/* 152: the paranoid entries' (NMI, #MC, #DB, #DF) switches to the
	 * kernel root, counted by their entry code; each has one restore of
	 * the user root on the way out (a flushing write: the CR3 read back
	 * has no no-flush bit). kernel/counters.c adds the first to pti_cr3
	 * and both to cr3_write. */
	uint64_t paranoid_cr3;
	uint64_t entry_pad[4]; /* 160..191: reserved for entry code */
	/* 192: where this CPU is (enum cpu_context), for the deferred kernel
	 * flush (mm/kflush.c). Written by the owner (also by the entry code,
	 * before the PTI CR3 switch, hence in this page), read by other CPUs:
	 * its own cache line. */
	uint32_t context __aligned(64);
	uint32_t context_pad[15];
	struct tss tss __aligned(64);		 /* 256 */
	uint64_t gdt[GDT_ENTRIES] __aligned(64); /* 384 */
	/* 448: the TSS's I/O permission bitmap (arch/ioperm.h), inside the TSS
	 * limit, with the 0xff byte the CPU may read past its end (SDM Vol. 1
	 * 19.5.2). In this page because the CPU reads it in user mode, with
	 * PTI's user root loaded. */
	uint8_t io_bitmap[IO_BITMAP_BYTES + 1] __aligned(64);
} __aligned(4096);

/* Virtual layout of one CPU's area in the entry region (ENTRY_AREA_BASE,
 * arch/layout.h): at PERCPU_AREA_OFFSET, one PERCPU_STRIDE-aligned slot per
 * CPU, struct percpu at its start, then the entry and IST stacks (the
 * paranoid entry finds struct percpu from its IST stack: arch/x86/entry.S). */
#define PERCPU_AREA_OFFSET 0x200000
#define PERCPU_STRIDE	   0x40000 /* 256 KiB per CPU */
#define PERCPU_STRUCT_MAX  0x10000 /* struct percpu fits in 64 KiB */
#define PERCPU_ENTRY_STACK 0x11000 /* 8 KiB, guard page below */
#define PERCPU_NMI_STACK   0x14000 /* 8 KiB each, guard pages between */
#define PERCPU_DF_STACK	   0x17000
#define PERCPU_MC_STACK	   0x1a000
#define PERCPU_DB_STACK	   0x1d000
#define PERCPU_STACK_SIZE  0x2000
#define PERCPU_AREA_END	   0x1f000

/* The CPU's own stacks in its area, PERCPU_STACK_SIZE each: what
 * kernel/percpu_area.c backs, what the PTI user root maps (the CPU switches
 * to them from user mode: mm/pti.c) and what a panic report can name
 * (arch/x86/traps.c). Which vector uses which is arch/x86/desc.c's. */
static const struct percpu_stack {
	uint32_t off;
	const char *name;
} percpu_stacks[] = {
	{ PERCPU_ENTRY_STACK, "entry" }, { PERCPU_NMI_STACK, "NMI" }, { PERCPU_DF_STACK, "#DF" },
	{ PERCPU_MC_STACK, "#MC" },	 { PERCPU_DB_STACK, "#DB" },
};
#define PERCPU_NR_STACKS (sizeof(percpu_stacks) / sizeof(percpu_stacks[0]))

/* What the PTI user root maps of the entry area (mm/pti.c): the IDT's page,
 * and TSS.RSP0, the stack the CPU switches to on entry from user mode (the
 * entry stack with PTI, else the task's kernel stack). arch/x86/desc.c. */
void *idt_page(void);
void tss_set_rsp0(uint64_t rsp0);
/* This CPU enters and leaves with PTI (pti) or without: the entry page's
 * flag, and the SYSCALL entry built for that setting (IA32_LSTAR,
 * arch/x86/entry.S). Every CPU gets the same setting (mm/pti.c
 * pti_init_cpu), the boot CPU's before static_branches_apply(). */
void arch_entry_set_pti(bool pti);
/* That setting, for the C above mm (a static branch's flag: arch/switch.h).
 * The entry code reads the entry page's copy (entry.pti_on), which is
 * mapped under the user root; this one is not. */
extern bool arch_pti;

_Static_assert(sizeof(struct percpu_entry) == 4096, "entry page is one page");
_Static_assert(PERCPU_ENTRY_STACK >= PERCPU_STRUCT_MAX + 0x1000, "guard below stacks");
_Static_assert(PERCPU_AREA_OFFSET % PERCPU_STRIDE == 0, "areas PERCPU_STRIDE-aligned");
