#pragma once

#include "kernel/compiler.h"
#include "kernel/printk.h"

struct trap_frame;

/* Prints a report (message, registers if given, backtrace), stops the other
 * CPUs with an NMI, and ends the machine with the failure verdict. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
void panic_with_frame(const struct trap_frame *tf, const char *fmt, ...) __printf(2, 3) __noreturn;

/* Symbolized backtrace from a frame pointer (RBP chain). */
void backtrace_print(uint64_t rip, uint64_t rbp);
void backtrace_print_trap(const struct trap_frame *tf);

/* Called on each CPU that receives the panic NMI: print its own backtrace
 * (if the panicking CPU asked for it) and halt. */
void panic_nmi_stop(const struct trap_frame *tf) __noreturn;
extern volatile int panic_in_progress;

#define BUG_ON(cond)                                                          \
	do {                                                                  \
		if (unlikely(cond))                                           \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#define WARN_ON(cond)                                                               \
	({                                                                          \
		bool __w = !!(cond);                                                \
		if (unlikely(__w))                                                  \
			pr_warn("WARNING at %s:%d: %s", __FILE__, __LINE__, #cond); \
		__w;                                                                \
	})
