/*
 * Counter names and sums (see counters.h).
 */
#include "kernel/counters.h"
#include "kernel/percpu_area.h"
#include "lib/printk.h"
#include "lib/fmt.h"

const char *const counter_names[NR_COUNTERS] = {
#define COUNTER_NAME(id, name) name,
	COUNTER_LIST(COUNTER_NAME)
#undef COUNTER_NAME
};

uint64_t counter_sum(enum counter_id id)
{
	uint64_t n = 0;

	for (uint32_t c = 0; c < nr_cpus; c++) {
		struct percpu *pc = percpu_of(c);

		if (pc)
			n += READ_ONCE(pc->counters[id]);
	}
	return n;
}

void counters_print(void)
{
	char line[100];
	size_t used = 0;

	pr_info("counters (all CPUs):");
	for (int i = 0; i < NR_COUNTERS; i++) {
		uint64_t v = counter_sum((enum counter_id)i);

		if (!v)
			continue;
		if (used > 60) {
			pr_info("  %s", line);
			used = 0;
		}
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s=%lu",
					 used ? " " : "", counter_names[i], v);
	}
	if (used)
		pr_info("  %s", line);
}
