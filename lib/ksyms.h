/*
 * The kernel's own symbol table, for symbolized backtraces.
 *
 * tools/ksyms.py turns `nm -n` of a first link into .ksyms (sorted address
 * array + names); the final link places .ksyms last so that no other symbol
 * moves (the Makefile checks that both links agree).
 */
#pragma once

#include "lib/compiler.h"

struct ksym {
	uint64_t addr;
	uint32_t name_off;
	uint32_t reserved;
};

struct ksym_table {
	uint64_t count;
	const struct ksym *syms;
	const char *names;
};

/* Pure lookup (host-tested): the symbol containing addr, and the offset. */
const char *ksym_lookup_in(const struct ksym_table *t, uint64_t addr, uint64_t *offset);
/* Lookup in the running kernel's table; NULL if unknown. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/* Address of a symbol by exact name, 0 if absent. */
uint64_t ksym_address(const char *name);
