#pragma once

#include "lib/compiler.h"
#include "arch/percpu.h"

struct percpu;

/* Fill this CPU's GDT and TSS (in its entry page) and load GDTR, segment
 * registers and TR. IST stacks come from the CPU's per-CPU area. */
void gdt_tss_init(struct percpu *pc, bool ist_stacks);
/* Move the IDT to its read-only alias in the entry area and reload it. */
void idt_move_to_entry_area(void *alias);
/* Death test death_double_fault: this CPU loads a copy of the IDT without
 * vec's gate (not present). */
void idt_load_test_copy_without(int vec);
/* tss_set_rsp0() and idt_page(): arch/percpu.h. */
