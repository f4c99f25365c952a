#pragma once

/* Control-register and MSR set-up shared by the boot CPU and the APs:
 * CR0, CR4 (OSFXSR, SMEP, SMAP, UMIP, FSGSBASE, PCIDE, ...), EFER, PAT. */
void cpu_setup_bsp(void);
void cpu_setup_ap(void);
/* Map the IDT read-only in the entry area and load it there. */
void cpu_map_idt(void);
/* "smep smap umip nx wp": the protections this CPU has on. */
const char *cpu_protections(void);
