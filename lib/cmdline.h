/*
 * Boot switches: key=value settings on the kernel command line.
 *
 * A mechanism declares its switch beside its code:
 *
 *     static int pti_mode;
 *     KSWITCH_ENUM(pti_mode, "pti", "page-table isolation", 0, "on", "off");
 *
 * The switches land in a linker section; cmdline_apply() parses the command
 * line once, early, sets the variables and warns about unknown keys or bad
 * values (the default stays). Every switch and its active value is printed
 * at boot and appears in each benchmark's "config" field.
 */
#pragma once

#include "lib/compiler.h"

enum kswitch_type {
	SW_BOOL,   /* on/off, yes/no, true/false, 1/0; a bare key means on */
	SW_INT,	   /* decimal or 0x hex, within [min, max] */
	SW_ENUM,   /* one of choices[]; the variable holds the index */
	SW_STRING, /* the variable is a const char * into a private copy */
};

struct kswitch {
	const char *name;
	const char *help;
	enum kswitch_type type;
	void *var;		    /* bool * (bool), int * (int, enum) or const char ** */
	int64_t min, max;	    /* SW_INT bounds */
	const char *const *choices; /* SW_ENUM, NULL-terminated */
	bool given;		    /* set on the command line */
	bool show;		    /* printed in the config string */
};

#define KSWITCH_DEFINE(var_, name_, help_, type_, min_, max_, choices_, show_) \
	static struct kswitch __kswitch_##var_ __used __section(".switches")   \
		__aligned(8) = { .name = name_,                                \
				 .help = help_,                                \
				 .type = type_,                                \
				 .var = &(var_),                               \
				 .min = min_,                                  \
				 .max = max_,                                  \
				 .choices = choices_,                          \
				 .show = show_ }

/* A bool switch is a bool (one byte: a static branch may test it,
 * arch/static_branch.h). */
#define KSWITCH_BOOL(var, name, help)                                                          \
	_Static_assert(__builtin_types_compatible_p(__typeof__(var), bool), #var " not bool"); \
	KSWITCH_DEFINE(var, name, help, SW_BOOL, 0, 1, NULL, true)
#define KSWITCH_INT(var, name, help, min, max) \
	KSWITCH_DEFINE(var, name, help, SW_INT, min, max, NULL, true)
#define KSWITCH_ENUM(var, name, help, ...)                                          \
	static const char *const __kswitch_choices_##var[] = { __VA_ARGS__, NULL }; \
	KSWITCH_DEFINE(var, name, help, SW_ENUM, 0, 0, __kswitch_choices_##var, true)
#define KSWITCH_STRING(var, name, help) KSWITCH_DEFINE(var, name, help, SW_STRING, 0, 0, NULL, true)
/* Not part of the benchmark config string (test selection, debug output). */
#define KSWITCH_STRING_QUIET(var, name, help) \
	KSWITCH_DEFINE(var, name, help, SW_STRING, 0, 0, NULL, false)
#define KSWITCH_INT_QUIET(var, name, help, min, max) \
	KSWITCH_DEFINE(var, name, help, SW_INT, min, max, NULL, false)

typedef void (*cmdline_warn_fn)(const char *msg, const char *key, const char *value);

/*
 * Pure parser (host-tested): applies cmdline to the switch array. Values of
 * SW_STRING switches are copied into strbuf (NUL-separated). Returns the
 * number of warnings issued through warn.
 */
int cmdline_parse(const char *cmdline, struct kswitch *sw, size_t n, char *strbuf,
		  size_t strbuf_size, cmdline_warn_fn warn);

/* Formats "name=value" for one switch into buf. */
int kswitch_format(const struct kswitch *s, char *buf, size_t size);
/* The value of a bool, int or enum switch (a bool reads 0 or 1: its
 * variable is one byte, regression bool_switch_value_is_one_byte). */
int kswitch_value(const struct kswitch *s);

/* Kernel side: apply the boot command line, print every switch. */
void cmdline_apply(const char *cmdline);
void cmdline_print(void);
/* "pti=on pcid=model ..." for benchmark output. */
const char *config_string(void);
/* Find a switch by name (NULL if none); used by tests and the boot report. */
const struct kswitch *kswitch_find(const char *name);
