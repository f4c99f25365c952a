/*
 * Kernel glue for boot switches: the .switches section, the boot-time
 * print, and the config string that every benchmark line carries.
 */
#include "lib/cmdline.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "lib/fmt.h"

extern struct kswitch __switch_start[], __switch_end[];

static char cmdline_strings[1024];
static char config_buf[1024];

static size_t nr_switches(void)
{
	return (size_t)(__switch_end - __switch_start);
}

/* Sort by name once so that the boot print and config string are stable
 * whatever the link order. */
static void sort_switches(void)
{
	struct kswitch *s = __switch_start;
	size_t n = nr_switches();

	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && strcmp(s[j - 1].name, s[j].name) > 0; j--) {
			struct kswitch t = s[j];

			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	}
}

static void warn(const char *msg, const char *key, const char *value)
{
	pr_warn("command line: %s: '%s%s%s' (ignored)", msg, key, *value ? "=" : "", value);
}

void cmdline_apply(const char *cmdline)
{
	sort_switches();
	cmdline_parse(cmdline, __switch_start, nr_switches(), cmdline_strings,
		      sizeof(cmdline_strings), warn);
}

void cmdline_print(void)
{
	char line[100];
	size_t used = 0;

	pr_info("boot switches (* = given on the command line):");
	for (struct kswitch *s = __switch_start; s < __switch_end; s++) {
		char item[96];
		int n = kswitch_format(s, item, sizeof(item));

		if (used && used + (size_t)n + 3 > 76) {
			pr_info("  %s", line);
			used = 0;
		}
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s",
					 used ? " " : "", item, s->given ? "*" : "");
	}
	if (used)
		pr_info("  %s", line);
}

const char *config_string(void)
{
	size_t used = 0;

	for (struct kswitch *s = __switch_start; s < __switch_end; s++) {
		if (!s->show)
			continue;
		if (used)
			config_buf[used++] = ' ';
		used += (size_t)kswitch_format(s, config_buf + used, sizeof(config_buf) - used);
		if (used >= sizeof(config_buf) - 1)
			break;
	}
	config_buf[used < sizeof(config_buf) ? used : sizeof(config_buf) - 1] = '\0';
	return config_buf;
}

const struct kswitch *kswitch_find(const char *name)
{
	for (struct kswitch *s = __switch_start; s < __switch_end; s++) {
		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}
