/*
 * Per-CPU areas: creating and entering them (kernel/percpu_area.c). The struct
 * and its accessors are lib/percpu.h.
 */
#pragma once

#include "lib/percpu.h"

/* Boot CPU: GS -> static struct, then -> its real area (after paging). */
void percpu_early_init(void);
void percpu_bsp_switch(void);
/* Allocate and map the area of a CPU (BSP or AP being started). */
struct percpu *percpu_area_create(uint32_t cpu);
