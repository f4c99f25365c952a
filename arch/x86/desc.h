#pragma once

#include "lib/compiler.h"

struct percpu;

/* Fill this CPU's GDT and TSS (in its entry page) and load GDTR, segment
 * registers and TR. IST stacks come from the CPU's per-CPU area. */
void gdt_tss_init(struct percpu *pc, bool ist_stacks);
/* Point TSS.RSP0 (the stack the CPU switches to on entry from user mode). */
void tss_set_rsp0(uint64_t rsp0);
/* Move the IDT to its read-only alias in the entry area and reload it. */
void idt_move_to_entry_area(void *alias);
void *idt_page(void);
