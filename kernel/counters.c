/*
 * Counter names and sums (see counters.h).
 */
#include "kernel/counters.h"
#include "kernel/percpu.h"

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
