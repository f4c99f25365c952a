/*
 * Symbol lookup (see ksyms.h). The table is emitted by tools/ksyms.py as:
 *   uint64 count; struct ksym syms[count]; char names[];
 * sorted by address. A lookup is a binary search for the last symbol at or
 * below the address.
 */
#include "lib/ksyms.h"
#include "lib/string.h"

const char *ksym_lookup_in(const struct ksym_table *t, uint64_t addr, uint64_t *offset)
{
	uint64_t lo = 0, hi = t->count;

	if (!t->count || addr < t->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (offset)
		*offset = addr - t->syms[lo].addr;
	return t->names + t->syms[lo].name_off;
}

#ifndef HOST_TEST
extern const char __ksyms_start[];
extern const char __text_start[], __text_end[];

static struct ksym_table kernel_table(void)
{
	const uint64_t *hdr = (const uint64_t *)__ksyms_start;
	struct ksym_table t;

	t.count = hdr[0];
	t.syms = (const struct ksym *)(hdr + 1);
	t.names = (const char *)(t.syms + t.count);
	return t;
}

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	struct ksym_table t = kernel_table();

	if (addr < (uint64_t)__text_start || addr >= (uint64_t)__text_end)
		return NULL;
	return ksym_lookup_in(&t, addr, offset);
}

uint64_t ksym_address(const char *name)
{
	struct ksym_table t = kernel_table();

	for (uint64_t i = 0; i < t.count; i++) {
		if (!strcmp(t.names + t.syms[i].name_off, name))
			return t.syms[i].addr;
	}
	return 0;
}
#endif
