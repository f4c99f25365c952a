/* The words a panic report prints from an interrupted stack: lib/stack_window.h. */
#include "lib/stack_window.h"

int stack_window(const struct stack_range *s, int n, uint64_t rsp, unsigned max_words,
		 unsigned *words)
{
	*words = 0;
	for (int i = 0; i < n; i++) {
		if (s[i].lo >= s[i].hi || rsp < s[i].lo || rsp >= s[i].hi)
			continue;
		uint64_t w = (s[i].hi - rsp) / 8;

		*words = w < max_words ? (unsigned)w : max_words;
		return i;
	}
	return -1;
}
