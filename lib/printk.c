/*
 * Kernel log and console fan-out (see printk.h).
 *
 * Locking: console_lock serialises whole lines across CPUs. It is a leaf
 * lock taken with interrupts off. The acquire path gives up after a bounded
 * spin (the holder may have been stopped by an NMI during a panic) and
 * prints unlocked; the same happens when this CPU already holds it.
 */
#include "lib/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/spinlock.h"
#include "lib/percpu.h"
#include "lib/time.h"
#include "arch/cpu.h"

#define LOG_RING_SIZE (64 * 1024)

int log_level = LOG_INFO;

static struct console *consoles;
static struct spinlock console_lock = SPINLOCK_INIT("console");
static int panic_cpu = -1;

static char log_ring[LOG_RING_SIZE];
static size_t log_head; /* total bytes ever written; ring index = head % size */

/* Capture buffer: set and cleared by the boot CPU; appended to under
 * console_lock (or by the panic CPU alone), like the ring. */
static char *capture_buf;
static size_t capture_size, capture_len;

void printk_capture_begin(char *buf, size_t size)
{
	uint64_t f = spin_lock_irqsave(&console_lock);

	capture_buf = size ? buf : NULL;
	capture_size = size;
	capture_len = 0;
	if (capture_buf)
		capture_buf[0] = '\0';
	spin_unlock_irqrestore(&console_lock, f);
}

size_t printk_capture_end(void)
{
	uint64_t f = spin_lock_irqsave(&console_lock);
	size_t n = capture_len;

	capture_buf = NULL;
	spin_unlock_irqrestore(&console_lock, f);
	return n;
}

static void capture_write(const char *s, size_t n)
{
	size_t room = capture_size - 1 - capture_len;

	if (n > room)
		n = room;
	memcpy(capture_buf + capture_len, s, n);
	capture_len += n;
	capture_buf[capture_len] = '\0';
}

static void ring_write(const char *s, size_t n)
{
	if (capture_buf)
		capture_write(s, n);
	for (size_t i = 0; i < n; i++)
		log_ring[(log_head + i) % LOG_RING_SIZE] = s[i];
	log_head += n;
}

size_t log_read(char *buf, size_t size)
{
	size_t avail = log_head < LOG_RING_SIZE ? log_head : LOG_RING_SIZE;
	size_t n = avail < size ? avail : size;
	size_t start = log_head - n; /* the newest n bytes */

	for (size_t i = 0; i < n; i++)
		buf[i] = log_ring[(start + i) % LOG_RING_SIZE];
	return n;
}

void console_register(struct console *c)
{
	uint64_t f = spin_lock_irqsave(&console_lock);

	c->next = consoles;
	consoles = c;
	spin_unlock_irqrestore(&console_lock, f);
}

void console_replay(struct console *c)
{
	static char buf[1024];
	uint64_t f = spin_lock_irqsave(&console_lock);
	size_t avail = log_head < LOG_RING_SIZE ? log_head : LOG_RING_SIZE;

	for (size_t off = log_head - avail; off < log_head;) {
		size_t n = 0;

		while (n < sizeof(buf) && off < log_head)
			buf[n++] = log_ring[off++ % LOG_RING_SIZE];
		c->write(buf, n);
	}
	spin_unlock_irqrestore(&console_lock, f);
}

static void emit(const char *s, size_t n)
{
	ring_write(s, n);
	for (struct console *c = consoles; c; c = c->next)
		c->write(s, n);
}

/* Returns true if the lock was taken (and must be released). */
static bool console_lock_bounded(void)
{
	if (panic_cpu >= 0)
		return false;
	if (spin_held_by_me(&console_lock))
		return false;
	for (uint32_t i = 0; i < (1u << 24); i++) {
		if (spin_trylock(&console_lock))
			return true;
		cpu_relax();
	}
	return false;
}

/* Write s to the consoles, taking console_lock here (bounded: a lock that
 * stays busy is written through; see console_lock_bounded). */
static void console_emit(const char *s, size_t n)
{
	if (panic_cpu >= 0 && panic_cpu != (int)this_cpu_id())
		return; /* another CPU owns the console for its panic report */
	uint64_t f = irq_save();
	bool locked = console_lock_bounded();

	/* Again: a panic may have begun since the test above, and then the
	 * lock was not to be had (console_lock_bounded gives up at once, or
	 * after its spins on the lock the report holds): writing anyway put
	 * our line inside the report (found in review). */
	if (READ_ONCE(panic_cpu) >= 0 && READ_ONCE(panic_cpu) != (int)this_cpu_id()) {
		if (locked)
			spin_unlock(&console_lock);
		irq_restore(f);
		return;
	}
	emit(s, n);
	if (locked)
		spin_unlock(&console_lock);
	irq_restore(f);
}

static const char level_tag[8] = { 'M', 'A', 'C', 'E', 'W', 'N', 'I', 'D' };

void vprintk(int level, const char *fmt, va_list ap)
{
	char buf[512];
	uint64_t ns = time_ns();
	int n;

	if (level > log_level)
		return;
	n = snprintf(buf, sizeof(buf), "[%5lu.%06lu] %u %c ", ns / 1000000000ul,
		     (ns / 1000) % 1000000ul, this_cpu_id(), level_tag[level & 7]);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	buf[n] = '\0';
	console_emit(buf, (size_t)n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void kputs(const char *s)
{
	console_emit(s, strlen(s));
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	console_emit(buf, (size_t)n);
}

void console_enter_panic(void)
{
	int me = (int)this_cpu_id();
	int expected = -1;

	/* First panicking CPU wins the console; the others print nothing.
	 * Pairs with the plain loads of panic_cpu in emit_locked() and
	 * console_lock_bounded() on the other CPUs (x86 orders loads with
	 * loads, SDM Vol. 3A 9.2.2). */
	if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;
	/* A CPU that took console_lock before we won is still writing its
	 * message, and our report would go out between its bytes (seen once:
	 * death/tlbinject-skip_many_rest's "PANIC on cpu 0: tlbcheck: flush
	 * request returned" cut by another CPU's "killed: page fault" line,
	 * and the row's pattern missed it). Let it finish: take the lock,
	 * bounded as console_lock_bounded() is, and keep it (every later
	 * writer is us, or a CPU we hand the console to, and neither takes
	 * it). */
	if (!spin_held_by_me(&console_lock))
		for (uint32_t i = 0; i < (1u << 24) && !spin_trylock(&console_lock); i++)
			cpu_relax();
}

size_t printk_bytes_written(void)
{
	/* Relaxed: a progress indicator (the panic path polls it). */
	return __atomic_load_n(&log_head, __ATOMIC_RELAXED);
}

/* Panic path only: pass console ownership to the CPU that should print next
 * (kernel/nmi.c prints every CPU's backtrace in turn). SEQ_CST (XCHG, a full
 * barrier): the new owner is stored before the NMI nmi_stop_other_cpus()
 * sends next; pairs with the plain load of panic_cpu in emit_locked() on
 * that CPU, after the NMI arrives. */
void console_handover(int cpu)
{
	__atomic_store_n(&panic_cpu, cpu, __ATOMIC_SEQ_CST);
}
