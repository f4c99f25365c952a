/*
 * serial: the user-level 16550 driver for COM1 (issue 20). A process of its
 * own; init starts it with
 *   SPAWN_HANDLE(0)  I/O ports 0x3f8-0x3ff (R_IO)
 *   SPAWN_HANDLE(1)  ISA IRQ 4 (R_ACK)
 *   SPAWN_HANDLE(2)  the service endpoint (R_RECV; init keeps a copy, so
 *                    the endpoint and its clients' handles outlive a driver
 *                    and a restarted one serves them)
 *   SPAWN_HANDLE(3)  the control endpoint (R_RECV): SERIAL_QUIT ends it
 * The kernel keeps its own polled console on the same UART for its log,
 * panics and early boot; the two share the transmitter byte by byte.
 *
 * Protocol (include/uapi/serial.h): a client calls the service endpoint
 * with SERIAL_WRITE, up to 24 bytes in words 1..3; the reply comes once
 * those bytes are in the UART, with the driver's statistics. Every line
 * a client writes goes out prefixed "[userial] ", so a log reader can tell
 * the driver's output from the kernel's.
 *
 * Transmission is interrupt-driven: the serving thread queues the bytes,
 * fills the FIFO if the transmitter is empty, and sets IER.THRI; the IRQ
 * thread, woken by irq_wait, reads IIR, refills up to 16 bytes per
 * transmitter-empty interrupt, clears THRI when the queue is empty, and
 * acknowledges (the kernel unmasks the line). A client whose bytes are not
 * out within 20 ms (a lost or missing interrupt: some emulators' UARTs
 * gate INTR differently) gets them sent by polling; the statistics count
 * both, and the tests require interrupts under QEMU.
 */
#include "user/lib/ulib.h"
#include "include/uapi/serial.h"
#include "include/uapi/errno.h"

#define COM1	 0x3f8
#define THR	 0
#define RBR	 0
#define IER	 1
#define IIR	 2
#define LCR	 3
#define MCR	 4
#define LSR	 5
#define MSR	 6
#define IER_THRI 0x02
#define LSR_THRE 0x20
#define MCR_OUT2 0x08 /* gates INTR onto the ISA line on a PC */
#define FIFO	 16

#define H_PORTS SPAWN_HANDLE(0)
#define H_IRQ	SPAWN_HANDLE(1)
#define H_SVC	SPAWN_HANDLE(2)
#define H_CTL	SPAWN_HANDLE(3)

#define RING 4096

static struct {
	struct mutex lock; /* everything below, and the UART's IER */
	char ring[RING];
	uint64_t head, tail; /* bytes queued, bytes written to THR */
	bool thri;
	bool line_start;
	uint32_t sent_seq; /* futex: bumped when bytes go out */
	uint64_t irqs, polls, acks;
} tx = { .line_start = true };

/* Write what the FIFO takes. Caller holds tx.lock. */
static void fill_locked(void)
{
	if (!(inb(COM1 + LSR) & LSR_THRE))
		return;
	int n = 0;

	for (; n < FIFO && tx.tail != tx.head; n++)
		outb(COM1 + THR, (uint8_t)tx.ring[tx.tail++ % RING]);
	if (n) {
		/* Release: tx.tail before the futex word a waiter re-reads
		 * (under tx.lock anyway; the futex check itself is lock-free).
		 * No acquire pair: write_out() reads sent_seq and tx.tail under
		 * tx.lock (mutex_unlock/mutex_lock order them), and the futex
		 * compare in the kernel needs only the new value. */
		__atomic_fetch_add(&tx.sent_seq, 1, __ATOMIC_RELEASE);
		futex_wake(&tx.sent_seq, 1 << 30);
	}
	bool want = tx.tail != tx.head;

	if (want != tx.thri) {
		tx.thri = want;
		/* Setting THRI with the transmitter empty raises the
		 * interrupt at once (16550 datasheet, IIR priority 3). */
		outb(COM1 + IER, want ? IER_THRI : 0);
	}
}

static void put_locked(char c)
{
	if (tx.line_start) {
		for (const char *p = SERIAL_PREFIX; *p; p++)
			tx.ring[tx.head++ % RING] = *p;
		tx.line_start = false;
	}
	if (c == '\n') {
		tx.ring[tx.head++ % RING] = '\r';
		tx.line_start = true;
	}
	tx.ring[tx.head++ % RING] = c;
}

/* Queue s and return once it is in the UART. */
static void write_out(const char *s, size_t n)
{
	mutex_lock(&tx.lock);
	/* Room for the worst case: every byte a newline after a prefix. */
	while (tx.head - tx.tail + n * (sizeof(SERIAL_PREFIX) + 2) > RING) {
		fill_locked();
		uint32_t seq = tx.sent_seq;

		mutex_unlock(&tx.lock);
		futex_wait(&tx.sent_seq, seq, 20000000);
		mutex_lock(&tx.lock);
	}
	for (size_t i = 0; i < n; i++)
		put_locked(s[i]);
	uint64_t end = tx.head;

	fill_locked();
	while (tx.tail < end) {
		uint32_t seq = tx.sent_seq;

		mutex_unlock(&tx.lock);
		int r = futex_wait(&tx.sent_seq, seq, 20000000);

		mutex_lock(&tx.lock);
		if (r == -ETIMEDOUT && tx.tail < end) {
			tx.polls++;
			fill_locked();
		}
	}
	mutex_unlock(&tx.lock);
}

static void say(const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	va_end(ap);
	write_out(buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
}

/* Everything the UART says it wants. Caller holds tx.lock. */
static void service_locked(void)
{
	for (int guard = 0; guard < 64; guard++) {
		uint8_t iir = inb(COM1 + IIR);

		if (iir & 1)
			break; /* nothing pending */
		switch ((iir >> 1) & 7) {
		case 1: /* transmitter empty (reading IIR cleared it) */
			fill_locked();
			if (!tx.thri)
				return;
			break;
		case 2: /* received data: nobody reads input; drop it */
		case 6: /* character timeout */
			(void)inb(COM1 + RBR);
			break;
		case 3:
			(void)inb(COM1 + LSR);
			break;
		default:
			(void)inb(COM1 + MSR);
			break;
		}
	}
}

static void irq_thread(void *arg)
{
	(void)arg;
	for (;;) {
		long r = irq_wait(H_IRQ, 0);

		if (r < 0) {
			printf("serial: irq_wait: %ld; driver ends\n", r);
			exit(4);
		}
		mutex_lock(&tx.lock);
		tx.irqs += (uint64_t)r;
		service_locked();
		tx.acks++;
		mutex_unlock(&tx.lock);
		irq_ack(H_IRQ);
	}
}

static void ctl_thread(void *arg)
{
	(void)arg;
	uint64_t m[4];

	for (long r = ipc_recv(H_CTL, m);; r = ipc_reply_recv(H_CTL, m)) {
		if (r < 0)
			exit(5);
		if (m[0] == SERIAL_QUIT) {
			m[0] = 0;
			ipc_reply(H_CTL, m);
			exit(0);
		}
		m[0] = (uint64_t)-EINVAL;
	}
}

/* No UART to drive (ports refused, or nothing at COM1: an absent port
 * reads 0xff): answer every call with -ENODEV rather than leave callers
 * blocked on an endpoint that init keeps alive. */
static void serve_nothing(const char *why)
{
	uint64_t m[4];

	printf("serial: %s; every write will fail with -ENODEV\n", why);
	for (long r = ipc_recv(H_SVC, m);; r = ipc_reply_recv(H_SVC, m)) {
		if (r < 0)
			exit(2);
		m[0] = (uint64_t)-ENODEV;
	}
}

int main(const char *arg)
{
	(void)arg;
	if (ioport_enable(H_PORTS, 1))
		serve_nothing("cannot enable COM1's ports");
	if (inb(COM1 + LSR) == 0xff)
		serve_nothing("no UART at COM1");
	/* Keep the kernel's line settings (115200 8N1, FIFO on); route INTR
	 * to the ISA line (OUT2) and start with interrupts off. */
	outb(COM1 + IER, 0);
	outb(COM1 + MCR, inb(COM1 + MCR) | MCR_OUT2);
	(void)inb(COM1 + IIR);
	thread_create(irq_thread, NULL);
	thread_create(ctl_thread, NULL);
	say("driver up: pid %d, COM1 ports 0x3f8-0x3ff and IRQ 4 by handle\n", getpid());

	uint64_t m[4];

	for (long r = ipc_recv(H_SVC, m);; r = ipc_reply_recv(H_SVC, m)) {
		if (r < 0) {
			printf("serial: service endpoint: %ld; driver ends\n", r);
			return 3;
		}
		uint64_t len = m[0] >> 8;

		if ((m[0] & 0xff) != SERIAL_WRITE || len > SERIAL_MAX_WRITE) {
			m[0] = (uint64_t)-EINVAL;
			continue;
		}
		char buf[SERIAL_MAX_WRITE];

		memcpy(buf, &m[1], len);
		write_out(buf, len);
		mutex_lock(&tx.lock);
		m[0] = len;
		m[1] = tx.irqs;
		m[2] = tx.polls;
		m[3] = tx.tail;
		mutex_unlock(&tx.lock);
	}
}
