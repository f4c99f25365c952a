/*
 * Physical address ranges (see ranges.h).
 */
#include "mm/ranges.h"

uint32_t ranges_normalize(struct phys_range *r, uint32_t n)
{
	/* Insertion sort by start: n is small (a few dozen). */
	for (uint32_t i = 1; i < n; i++) {
		for (uint32_t j = i; j > 0 && r[j - 1].start > r[j].start; j--) {
			struct phys_range t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	}
	uint32_t out = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (r[i].end <= r[i].start)
			continue;
		if (out && r[i].start <= r[out - 1].end) {
			if (r[i].end > r[out - 1].end)
				r[out - 1].end = r[i].end;
		} else {
			r[out++] = r[i];
		}
	}
	return out;
}
