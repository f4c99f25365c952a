/*
 * Test and benchmark selectors (ktest=, utest=, bench=): one parser for
 * all three, shared by the kernel, the user programs and the host tests.
 *
 * A selector is a comma-separated list of elements:
 *   all       every name
 *   NAME      that name
 *   PREFIX*   every name that starts with PREFIX
 *   -ELEMENT  any of the above, excluded: "all,-long_mm_ops_race"
 * A name is selected when an element names it and no exclusion does,
 * whatever the order. Elements that name nothing (bench=all,batches=5's
 * "batches=5") are ignored. With by_name_only, "all" and prefixes select
 * nothing (they still exclude): the death tests, which only their full
 * name runs.
 */
#pragma once

#include "lib/compiler.h"

bool select_wanted(const char *sel, const char *name, bool by_name_only);
