#pragma once

#include "lib/compiler.h"
#include "lib/printk.h"

struct trap_frame;

/* Prints a report (message, registers if given, backtrace), stops the other
 * CPUs with an NMI, and ends the machine with the failure verdict. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;
void panic_with_frame(const struct trap_frame *tf, const char *fmt, ...) __printf(2, 3) __noreturn;

/* Symbolized backtrace from a frame pointer (RBP chain). */
void backtrace_print(uint64_t rip, uint64_t rbp);
/* A frame pointer worth following: kernel half, 8-byte aligned. */
bool backtrace_plausible_frame(uint64_t rbp);
/* ... and its two words mapped (panic_ops.readable), so that reading
 * them cannot fault inside a report. */
bool backtrace_frame_readable(uint64_t rbp);
extern volatile int panic_in_progress;

/* What a panic needs from the layers above (registered at boot). */
struct panic_ops {
	void (*print_frame)(const struct trap_frame *tf); /* registers, backtrace */
	void (*stop_other_cpus)(bool backtraces);
	__noreturn void (*exit_failure)(void);	     /* the failure verdict */
	bool (*readable)(uint64_t va, uint64_t len); /* mapped, so a read cannot fault */
};
void panic_set_ops(const struct panic_ops *ops);

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
