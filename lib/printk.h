/*
 * Kernel log: printk with levels and a CPU-id prefix.
 *
 * Lines go to a ring buffer (kept for later retrieval) and to every
 * registered console (serial, framebuffer). printk is safe from any context:
 * thread, interrupt, NMI, and the panic path. If the console lock is held by
 * this CPU (printk re-entered from an NMI or a fault inside printk) or by a
 * CPU that stopped answering, the line is written without it; the output
 * may interleave but never deadlocks.
 */
#pragma once

#include <stdarg.h>
#include "lib/compiler.h"

enum {
	LOG_EMERG = 0,
	LOG_ERR = 3,
	LOG_WARN = 4,
	LOG_INFO = 6,
	LOG_DEBUG = 7,
};

void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);

#define pr_emerg(...) printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/* Raw output, no prefix: KTAP lines and machine-read reports. */
void kputs(const char *s);
void kprintf(const char *fmt, ...) __printf(1, 2);

struct console {
	const char *name;
	void (*write)(const char *s, size_t n);
	struct console *next;
};

void console_register(struct console *c);
/* Replays the log ring into one console (a console that comes up late,
 * like the framebuffer, shows the whole boot). */
void console_replay(struct console *c);
/* Panic: from now on only this CPU prints, without taking the lock. */
void console_enter_panic(void);
/* Panic path only: pass console ownership to the CPU that prints next. */
/* Bytes ever written to the log: grows while anyone prints. */
size_t printk_bytes_written(void);
void console_handover(int cpu);

/*
 * Capture: while buf is set, every line printed (by any CPU) is also
 * appended to buf (at most size - 1 bytes, NUL-terminated). Used for the
 * boot report, kept for SYS_KINFO after the log ring has moved on.
 * printk_capture_end() returns the length captured.
 */
void printk_capture_begin(char *buf, size_t size);
size_t printk_capture_end(void);

/* Copies the newest size bytes of the log ring (or all it holds), oldest
 * first; returns the count. */
size_t log_read(char *buf, size_t size);

extern int log_level;
