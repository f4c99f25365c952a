/*
 * CPUID register dumps (host only): parse a text dump into a table and
 * answer CPUID queries from it, so that code taking a cpuid_fn
 * (arch/x86/xstate_layout.h) can run on another machine's CPUID.
 *
 * Two formats, told apart line by line (one file holds one of them):
 *
 * libcpuid's cpuid_tool (see /work/shared/data/cpuid/README.md):
 *   CPUID <leaf>: <EAX>-<EBX>-<ECX>-<EDX> [SL <subleaf>] [annotation]...
 * leaf and registers are 8 hex digits, subleaf 1..8 hex digits; a record
 * without "[SL xx]" is subleaf 0. All-zero subleaves are omitted by the
 * dumper, so a query that finds no record answers zeros, as the CPU would.
 * "------[ CPUID Registers / Logical CPU #n ]------" heads a CPU's records;
 * a line of dashes alone ends the raw data (libcpuid's .test files put
 * expected results after it); a line of space-separated hex bytes is a list
 * the curators appended (x2APIC IDs) and is skipped.
 *
 * hwloc-gather-cpuid (hwloc's utils/hwloc/hwloc-gather-cpuid.c), one file
 * pu<N> per logical CPU in a directory, or its standard output with -c N -:
 *   # mask e[abcd]x => e[abcd]x
 *   <mask> <EAX> <EBX> <ECX> <EDX> => <EAX> <EBX> <ECX> <EDX>
 * all hex without 0x, 1..8 digits; the first four are the inputs and mask
 * says which of them matter (bit 0 EAX, the leaf, always; bit 2 ECX, the
 * subleaf; EBX and EDX are not CPUID inputs and are ignored). A record whose
 * mask lacks ECX is subleaf 0, as a libcpuid record without "[SL xx]". The
 * "# mask" line heads each CPU's records; the tool's progress lines
 * ("Gathering CPUID of PU P#n ..." also heads a CPU), "Gathering ...",
 * "Summary written to ..." and "WARNING: ..." are skipped, so that the
 * standard output of several runs can be read as it is.
 *
 * Both: blank lines and other lines starting with '#' are comments; only
 * the first CPU is read (the next CPU's header ends the dump: a file may
 * hold several). Anything else must be a well-formed record of the file's
 * format whose (leaf, subleaf) has not been seen; otherwise the load fails
 * naming file:line. A file with no record at all fails too.
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
