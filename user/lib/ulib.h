/*
 * The user library: system-call wrappers, a small libc subset (strings,
 * printf to the console), threads, futex-based locks, atomics helpers.
 * Tests and benchmarks are written against this.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "include/uapi/syscalls.h"
#include "include/uapi/handle.h"
#include "lib/string.h"
#include "lib/fmt.h"

#define PAGE_SIZE 4096

/* Processes. */
__attribute__((noreturn)) void exit(int code);
int spawn(const char *name, const char *arg);
/* spawn with startup handles: the child finds the i-th at SPAWN_HANDLE(i). */
int spawn_h(const char *name, const char *arg, const struct spawn_handle *hs, int n);
int wait_pid(int pid, int *code);
int kill_pid(int pid);
int getpid(void);
int gettid(void);

/* Threads: a 64 KiB stack from map(); join returns the exit code. */
int thread_create(void (*fn)(void *), void *arg);
__attribute__((noreturn)) void thread_exit(int code);
int thread_join(int tid, int *code);
void yield(void);
int sleep_ns(uint64_t ns);
int set_affinity(int tid, int cpu); /* pin to one CPU (tid 0 = self) */
int set_affinity_all(int tid);
int get_cpu(void);
int nr_cpus(void);

/* Memory. */
void *map(void *addr, size_t len, int prot, int flags);
int unmap(void *addr, size_t len);
int protect(void *addr, size_t len, int prot);
#define MAP_FAILED(p) ((uintptr_t)(p) >= (uintptr_t)-4095)

/* Futex and locks. */
int futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
int futex_wake(uint32_t *addr, int n);
struct mutex {
	uint32_t state; /* 0 free, 1 locked, 2 locked with waiters */
};
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);

/* Handles (include/uapi/handle.h). */
int handle_close(int h);
int handle_dup(int h, uint32_t rights); /* rights 0: the same */
long handle_info(int h);		/* type << 16 | rights */

/* Memory objects (kernel/shm.c): shared pages, revocable everywhere. */
int mo_create(uint64_t pages);
void *mo_map(int h, void *hint, int prot); /* MAP_FAILED(p) on error */
long mo_revoke(int h, int flags);	   /* flags: MO_DECOMMIT */

/* Devices (kernel/irq_obj.c, kernel/ioport.c): res is a hardware-resource
 * handle (init's SPAWN_HANDLE(0), passed on by init). */
int irq_create(int res, int line);
long irq_wait(int h, uint64_t timeout_ns); /* interrupts since the last wait */
int irq_ack(int h);
int ioport_create(int res, int base, int count);
int ioport_enable(int h, int on);

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}

/* Print through the user-level serial driver (include/uapi/serial.h) whose
 * service endpoint svc is; returns the last reply's word 0 (bytes) or the
 * error, and its statistics in stats[3] (interrupts, polls, bytes out) if
 * not NULL. */
long serial_write(int svc, const char *s, size_t n);
long serial_write_stats(int svc, const char *s, size_t n, uint64_t stats[3]);

/* IPC. */
int ep_create(void); /* a handle with every endpoint right */
/* A new endpoint: returns the receive handle (every right) and sets
 * *send_h to a copy with R_SEND, R_GRANT, R_DUP and R_XFER only. Give the
 * receive handle away (moved) and the endpoint dies with its receiver. */
int ep_pair(int *send_h);
#define ep_close handle_close
long ipc_call(int h, uint64_t msg[4]);
long ipc_reply_recv(int h, uint64_t msg[4]);
long ipc_recv(int h, uint64_t msg[4]);
long ipc_reply(int h, uint64_t msg[4]);
/* The same carrying handles: xfer is IPC_XFER_COPY/MOVE(word, rights)
 * ORed together; the handle values go in the words they name. */
long ipc_call_h(int h, uint64_t msg[4], uint64_t xfer);
long ipc_reply_recv_h(int h, uint64_t msg[4], uint64_t xfer);
long ipc_reply_h(int h, uint64_t msg[4], uint64_t xfer);

/* Console and time. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int puts(const char *s);
long console_write(const char *s, size_t n);
uint64_t clock_ns(void);
uint64_t tsc_khz(void);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* Counters (kernel/counters.h names). */
int counters_read(uint64_t *out, int n, int cpu);
int counter_index(const char *name);
int kinfo(int what, char *buf, size_t len);
/* SYS_TEST, with our hardware-resource handle for the [hwres] hooks. */
long sys_test(long op, long a, long b, long c);
int hwres_handle(void); /* SPAWN_HANDLE(0) if it is the hardware resource, else -1 */

/* Per-mm hardware state (kernel/pasid.c, kernel/membarrier.c). */
long pasid_bind(void);
long pasid_unbind(void);
long membarrier(int cmd, unsigned int flags);

/* Trace rings (kernel/trace.c): cmd TRACE_* of include/uapi/trace_records.h; arg
 * is the event type for TRACE_COUNT, else 0. */
long trace_ctl(int cmd, long arg);

/* Arguments: "key=value key2=value2"; copies the value of key into buf. */
bool arg_get(const char *args, const char *key, char *buf, size_t len);
/* The next decimal number in *p (skipping spaces); advances *p. */
uint64_t arg_u64(const char **p);
