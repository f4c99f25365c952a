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

uint32_t ranges_subtract(struct phys_range *r, uint32_t n, uint32_t max, paddr_t s, paddr_t e,
			 uint64_t *removed)
{
	if (e <= s)
		return n;
	for (uint32_t i = 0; i < n; i++) {
		paddr_t rs = r[i].start, re = r[i].end;

		if (re <= s || e <= rs)
			continue; /* apart */
		*removed += MIN(re, e) - MAX(rs, s);
		if (s <= rs && re <= e) {
			/* Covered: remove it, and look at the same index again. */
			for (uint32_t j = i + 1; j < n; j++)
				r[j - 1] = r[j];
			n--;
			i--;
		} else if (rs < s && e < re) {
			/* Held on both sides: [rs, s) stays here, [e, re) after. */
			r[i].end = s;
			if (n == max) {
				*removed += re - e;
				continue;
			}
			for (uint32_t j = n; j > i + 1; j--)
				r[j] = r[j - 1];
			r[i + 1] = (struct phys_range){ e, re };
			n++;
			i++;
		} else if (rs < s) {
			r[i].end = s;
		} else {
			r[i].start = e;
		}
	}
	return n;
}
