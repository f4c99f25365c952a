/*
 * Monotonic clock (see time.h).
 *
 * ns = ((tsc - tsc_base) * mult) >> 32, mult = 10^6 * 2^32 / tsc_khz. The
 * 128-bit product keeps full precision for centuries of uptime.
 */
#include "lib/time.h"
#include "lib/panic.h"
#include "arch/cpu.h"

uint64_t tsc_khz;
const char *tsc_source = "uncalibrated";
static uint64_t tsc_base;
static uint64_t ns_mult;  /* ns per cycle, 32.32 fixed point */
static uint64_t tsc_mult; /* cycles per ns, 32.32 fixed point */

void time_set_tsc_khz(uint64_t khz, const char *source)
{
	tsc_base = rdtsc();
	ns_mult = (1000000ull << 32) / khz;
	tsc_mult = (khz << 32) / 1000000ull;
	tsc_source = source;
	/* Publish the frequency last: time_ns() reads it first. Pairs with
	 * the acquire load of tsc_khz in time_ns(). */
	__atomic_store_n(&tsc_khz, khz, __ATOMIC_RELEASE);
}

uint64_t tsc_to_ns(uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * ns_mult) >> 32);
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * tsc_mult) >> 32);
}

uint64_t time_ns(void)
{
	/* Pairs with the release store in time_set_tsc_khz(). */
	if (!__atomic_load_n(&tsc_khz, __ATOMIC_ACQUIRE))
		return 0;
	uint64_t now = rdtsc();

	return now > tsc_base ? tsc_to_ns(now - tsc_base) : 0;
}

int lockup_ms = 10000;

uint64_t lockup_limit_tsc(void)
{
	return (uint64_t)lockup_ms * (tsc_khz ? tsc_khz : 3000000);
}

bool lockup_expired(uint64_t start)
{
	return lockup_ms && !panic_in_progress && rdtsc() - start >= lockup_limit_tsc();
}

void udelay(uint64_t us)
{
	uint64_t khz = tsc_khz ? tsc_khz : 3000000; /* assume 3 GHz until calibrated */
	uint64_t end = rdtsc() + us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

void udelay_once(uint32_t *us)
{
	uint32_t v = *us;

	*us = 0;
	udelay(v);
}
