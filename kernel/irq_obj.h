/*
 * IRQ objects and the hardware resource (kernel/irq_obj.c has the
 * protocol; the calls are in include/uapi/syscalls.h).
 */
#pragma once

#include "lib/compiler.h"

struct proc;

void irq_obj_init(void);
/* The first process's SPAWN_HANDLE(0): the hardware resource. */
void hwres_grant(struct proc *p);
/* 0 if h is a hardware-resource handle of the caller's, else the error. */
long hwres_check(uint64_t h);

long irq_create(uint64_t res, uint64_t line);
long irq_wait(uint64_t h, uint64_t timeout_ns);
long irq_ack(uint64_t h);
/* SYST_IRQ_RAISE: a self-IPI on h's vector. */
long irq_raise_test(uint64_t h);
