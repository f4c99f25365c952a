/* Test and benchmark selectors: lib/select.h says what one is. */
#include "lib/select.h"
#include "lib/string.h"

/* Does the element of n bytes at e name `name`, and how: 0 not at all, 1
 * by its full name, 2 by "all" or a prefix. */
static int element_names(const char *e, size_t n, const char *name)
{
	if (n == 3 && !strncmp(e, "all", 3))
		return 2;
	if (n && e[n - 1] == '*')
		return strncmp(name, e, n - 1) ? 0 : 2;
	return strlen(name) == n && !strncmp(name, e, n) ? 1 : 0;
}

bool select_wanted(const char *sel, const char *name, bool by_name_only)
{
	bool in = false;

	if (!sel)
		return false;
	for (const char *e = sel; *e;) {
		const char *comma = strchr(e, ',');
		size_t n = comma ? (size_t)(comma - e) : strlen(e);

		if (n && *e == '-') {
			if (element_names(e + 1, n - 1, name))
				return false;
		} else {
			int how = element_names(e, n, name);

			in |= how == 1 || (how == 2 && !by_name_only);
		}
		e += n + (comma ? 1 : 0);
	}
	return in;
}
