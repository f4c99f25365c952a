/*
 * The handlers GCC's -fsanitize=undefined calls (`make ubsan`). Each
 * prints one line, "UBSAN: <what> at <file>:<line>:<column>" with the
 * types involved where GCC passes them, and the caller's symbol; then the
 * kernel carries on (GCC's default for these checks is to recover) and
 * the boot's verdict becomes a failure (kmain asks ubsan_reports()).
 *
 * Each source location reports once: its column's top bit marks it done
 * (the location data is writable, as in Linux's lib/ubsan.c). A report
 * that happens inside a report (printk itself) is dropped, not nested.
 *
 * The layouts are GCC's (libsanitizer ubsan_handlers.h): only the fields
 * read here are declared.
 */
#include "kernel/ubsan.h"
#include "lib/printk.h"
#include "lib/ksyms.h"
#include "lib/percpu.h"
#include "lib/panic.h"
#include "lib/preempt.h"

#define NO_UBSAN __attribute__((no_sanitize_undefined))
#define RET	 ((uint64_t)__builtin_return_address(0))
#define UNUSED	 __attribute__((unused))

struct ubsan_loc {
	const char *file;
	uint32_t line, column;
};

struct ubsan_type {
	uint16_t kind, info;
	char name[];
};

struct ubsan_data {
	struct ubsan_loc loc;
	const struct ubsan_type *type, *type2;
};

struct ubsan_mismatch {
	struct ubsan_loc loc;
	const struct ubsan_type *type;
	uint8_t log_align, kind;
};

static uint32_t reports;
static bool reporting[NR_CPUS]; /* per CPU: a report prints */

uint32_t ubsan_reports(void)
{
	/* Relaxed: a count for the verdict, read after the tests ended. */
	return __atomic_load_n(&reports, __ATOMIC_RELAXED);
}

__noinline NO_UBSAN static void report(struct ubsan_loc *loc, const char *what,
				       const struct ubsan_type *a, const struct ubsan_type *b,
				       uint64_t ret)
{
	uint64_t off; /* ret: where the instrumented code called the handler */
	const char *fn = ksym_lookup(ret, &off);

	/* Relaxed: the mark and the count only decide whether to print; the
	 * exchange keeps two CPUs from printing the same location. */
	uint32_t col = __atomic_fetch_or(&loc->column, 0x80000000u, __ATOMIC_RELAXED);

	if (col & 0x80000000u)
		return;
	__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED);
	/* Per CPU: a report inside our own report (the printing code is
	 * instrumented too) is dropped. A global flag dropped another CPU's
	 * report of another location at the same moment, already marked and
	 * never printed (found in review). This CPU only: no pair. */
	preempt_disable(); /* the flag is this CPU's while the report prints */
	uint32_t me = this_cpu_id();

	if (me >= NR_CPUS || reporting[me]) {
		preempt_enable();
		return;
	}
	reporting[me] = true;
	pr_err("UBSAN: %s at %s:%u:%u in %s%s%s%s%s%s", what, loc->file, loc->line,
	       col & 0x7fffffffu, fn ? fn : "?", a ? " (type " : "", a ? a->name : "",
	       b ? ", " : "", b ? b->name : "", a ? ")" : "");
	reporting[me] = false;
	preempt_enable();
}

#define HANDLER(name, what, ...)                                                  \
	NO_UBSAN void __ubsan_handle_##name(struct ubsan_data *d, ##__VA_ARGS__); \
	NO_UBSAN void __ubsan_handle_##name(struct ubsan_data *d, ##__VA_ARGS__)  \
	{                                                                         \
		report(&d->loc, what, d->type, NULL, RET);                        \
	}

HANDLER(add_overflow, "signed addition overflow", void *a UNUSED, void *b UNUSED)
HANDLER(sub_overflow, "signed subtraction overflow", void *a UNUSED, void *b UNUSED)
HANDLER(mul_overflow, "signed multiplication overflow", void *a UNUSED, void *b UNUSED)
HANDLER(negate_overflow, "signed negation overflow", void *a UNUSED)
HANDLER(divrem_overflow, "division overflow or by zero", void *a UNUSED, void *b UNUSED)
HANDLER(load_invalid_value, "load of an invalid value (bool or enum)", void *v UNUSED)
HANDLER(vla_bound_not_positive, "variable-length array bound not positive", void *v UNUSED)

NO_UBSAN void __ubsan_handle_shift_out_of_bounds(struct ubsan_data *d, void *a, void *b);
NO_UBSAN void __ubsan_handle_shift_out_of_bounds(struct ubsan_data *d, void *a, void *b)
{
	(void)a;
	(void)b;
	report(&d->loc, "shift out of bounds", d->type, d->type2, RET);
}

NO_UBSAN void __ubsan_handle_out_of_bounds(struct ubsan_data *d, void *index);
NO_UBSAN void __ubsan_handle_out_of_bounds(struct ubsan_data *d, void *index)
{
	(void)index;
	report(&d->loc, "array index out of bounds", d->type, d->type2, RET);
}

NO_UBSAN void __ubsan_handle_type_mismatch_v1(struct ubsan_mismatch *d, void *ptr);
NO_UBSAN void __ubsan_handle_type_mismatch_v1(struct ubsan_mismatch *d, void *ptr)
{
	const char *what = !ptr ? "null pointer use"
			   : ((uint64_t)ptr & ((1ull << d->log_align) - 1))
				   ? "misaligned access"
				   : "access outside the object";

	report(&d->loc, what, d->type, NULL, RET);
}

NO_UBSAN void __ubsan_handle_pointer_overflow(struct ubsan_data *d, void *base, void *result);
NO_UBSAN void __ubsan_handle_pointer_overflow(struct ubsan_data *d, void *base, void *result)
{
	(void)base;
	(void)result;
	report(&d->loc, "pointer arithmetic overflow", NULL, NULL, RET);
}

NO_UBSAN void __ubsan_handle_nonnull_arg(struct ubsan_data *d);
NO_UBSAN void __ubsan_handle_nonnull_arg(struct ubsan_data *d)
{
	report(&d->loc, "null passed as a nonnull argument", NULL, NULL, RET);
}

NO_UBSAN void __ubsan_handle_nonnull_return_v1(struct ubsan_data *d, struct ubsan_loc *loc);
NO_UBSAN void __ubsan_handle_nonnull_return_v1(struct ubsan_data *d, struct ubsan_loc *loc)
{
	(void)d;
	report(loc, "null returned from a returns_nonnull function", NULL, NULL, RET);
}

NO_UBSAN void __ubsan_handle_invalid_builtin(struct ubsan_data *d);
NO_UBSAN void __ubsan_handle_invalid_builtin(struct ubsan_data *d)
{
	report(&d->loc, "invalid argument to a builtin (ctz/clz of 0)", NULL, NULL, RET);
}

/* These two cannot return: GCC emits nothing after their call (it is
 * the last instruction of the code that reaches it), so a return ran on
 * into whatever function came next (found in review). The report, then a
 * panic, as Linux does. */
NO_UBSAN __noreturn void __ubsan_handle_builtin_unreachable(struct ubsan_data *d);
NO_UBSAN __noreturn void __ubsan_handle_builtin_unreachable(struct ubsan_data *d)
{
	report(&d->loc, "__builtin_unreachable reached", NULL, NULL, RET);
	panic("UBSAN: __builtin_unreachable reached at %s:%u", d->loc.file, d->loc.line);
}

NO_UBSAN __noreturn void __ubsan_handle_missing_return(struct ubsan_data *d);
NO_UBSAN __noreturn void __ubsan_handle_missing_return(struct ubsan_data *d)
{
	report(&d->loc, "end of a value-returning function reached", NULL, NULL, RET);
	panic("UBSAN: end of a value-returning function reached at %s:%u", d->loc.file,
	      d->loc.line);
}
