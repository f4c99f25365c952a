/*
 * CPUID register dumps (host only): parse a text dump into a table and
 * answer CPUID queries from it, so that code taking a cpuid_fn
 * (arch/x86/xstate_layout.h) can run on another machine's CPUID.
 *
 * Format (libcpuid's cpuid_tool, see /work/shared/data/cpuid/README.md):
 *   CPUID <leaf>: <EAX>-<EBX>-<ECX>-<EDX> [SL <subleaf>] [annotation]...
 * leaf and registers are 8 hex digits, subleaf 1..8 hex digits; a record
 * without "[SL xx]" is subleaf 0. All-zero subleaves are omitted by the
 * dumper, so a query that finds no record answers zeros, as the CPU would.
 *
 * Line kinds: blank lines and lines starting with '#' are comments;
 * "------[ CPUID Registers / Logical CPU #n ]------" heads a CPU's records
 * (only the first CPU is read: a second header ends the dump); a line of
 * dashes alone ends the raw data (libcpuid's .test files put expected
 * results after it); a line of space-separated hex bytes is a list the
 * curators appended (x2APIC IDs) and is skipped. Anything else must be a
 * well-formed record whose (leaf, subleaf) has not been seen; otherwise the
 * load fails naming file:line. A file with no record at all fails too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpuid_rec {
	uint32_t leaf, subleaf;
	bool has_subleaf; /* "[SL xx]" was given (else subleaf is 0) */
	uint32_t regs[4]; /* EAX, EBX, ECX, EDX */
};

struct cpuid_dump {
	struct cpuid_rec *recs;
	size_t n, cap;
};

/*
 * Read path into d (which the caller frees with cpuid_dump_free, even on
 * failure). Returns 0, or -1 with "path:line: what" (or "path: what") in
 * err[errlen].
 */
int cpuid_dump_load(struct cpuid_dump *d, const char *path, char *err, size_t errlen);
void cpuid_dump_free(struct cpuid_dump *d);

/* The record for (leaf, subleaf): true and regs filled, or false and zeros. */
bool cpuid_dump_find(const struct cpuid_dump *d, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/* cpuid_fn-compatible: ctx is the struct cpuid_dump; missing -> zeros. */
void cpuid_dump_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4], void *ctx);
