/*
 * I/O port objects and the per-process I/O permission bitmap
 * (kernel/ioport.c has the protocol).
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"
#include "mm/mm.h"

struct proc;

void ioport_init(void);
long ioport_create(uint64_t res, uint64_t base, uint64_t count);
long ioport_enable(uint64_t h, uint64_t on);
/* The process has no threads left: its ranges and bitmap go. */
void ioport_proc_exit(struct proc *p);
