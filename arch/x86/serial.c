/*
 * 16550 UART console, polled output at 115200 8N1.
 *
 * The UART is probed through its scratch register first: real servers may
 * have no legacy COM1, and writing to an absent port must not stall boot
 * waiting for a transmit-empty bit that never comes.
 */
#include "arch/x86/serial.h"
#include "arch/x86/cpu.h"
#include "lib/printk.h"

#define UART_THR 0 /* transmit holding */
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_THRE 0x20

static uint16_t base;
static bool present;

static void serial_console_write(const char *s, size_t n)
{
	serial_write(s, n);
}

static struct console serial_console = { .name = "serial", .write = serial_console_write };

void serial_init(uint16_t port)
{
	bool first = !present;

	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return;
	outb(port + UART_SCR, 0xa5);
	if (inb(port + UART_SCR) != 0xa5)
		return;
	base = port;
	outb(base + UART_IER, 0x00); /* no interrupts: we poll */
	outb(base + UART_LCR, 0x80); /* DLAB */
	outb(base + UART_DLL, 0x01); /* 115200 baud */
	outb(base + UART_DLM, 0x00);
	outb(base + UART_LCR, 0x03); /* 8N1 */
	outb(base + UART_FCR, 0xc7); /* FIFO on, cleared, 14-byte threshold */
	outb(base + UART_MCR, 0x03); /* DTR, RTS */
	present = true;
	if (first)
		console_register(&serial_console);
}

bool serial_present(void)
{
	return present;
}

uint16_t serial_port(void)
{
	return base;
}

static void putc_raw(char c)
{
	/* Bounded wait: a wedged UART must not hang the kernel. */
	for (int i = 0; i < 100000 && !(inb(base + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(base + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	if (!present)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
}
