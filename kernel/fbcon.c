/*
 * Framebuffer text console.
 *
 * Real servers may have no serial port, so everything printed also goes to
 * the screen GRUB set up (multiboot2 framebuffer tag): a linear RGB
 * framebuffer drawn with the built-in 8x16 font, or the legacy EGA text
 * buffer when GRUB left the machine in text mode.
 *
 * Scrolling moves the pixel rows up with one memmove of the framebuffer;
 * that is slow under emulation, so tests usually boot with fbcon=off. A
 * write scrolls at most once, by all its lines (fbcon_write; counter
 * fbcon_scroll).
 */
#include "kernel/fbcon.h"
#include "kernel/multiboot2.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "lib/cmdline.h"
#include "mm/kpaging.h"
#include "arch/pgtable.h"
#include "lib/percpu.h"

#define GLYPH_W 8
#define GLYPH_H 16

extern const unsigned char font8x16[128 * 16];

static bool fbcon_on = true;
KSWITCH_BOOL(fbcon_on, "fbcon", "framebuffer console");

static uint8_t *fb;
static struct boot_fb info;
static uint32_t cols, rows, cx, cy;
static uint32_t fg, bg;

static uint32_t rgb(uint8_t r, uint8_t g, uint8_t b)
{
	return ((uint32_t)r >> (8 - info.red_size)) << info.red_pos |
	       ((uint32_t)g >> (8 - info.green_size)) << info.green_pos |
	       ((uint32_t)b >> (8 - info.blue_size)) << info.blue_pos;
}

static void put_pixel(uint32_t x, uint32_t y, uint32_t c)
{
	uint8_t *p = fb + (uint64_t)y * info.pitch + (uint64_t)x * (info.bpp / 8);

	switch (info.bpp) {
	case 32:
		*(volatile uint32_t *)p = c;
		break;
	case 24:
		p[0] = (uint8_t)c;
		p[1] = (uint8_t)(c >> 8);
		p[2] = (uint8_t)(c >> 16);
		break;
	case 16:
		*(volatile uint16_t *)p = (uint16_t)c;
		break;
	}
}

static void draw_glyph(uint32_t col, uint32_t row, char ch)
{
	const unsigned char *g = &font8x16[((unsigned char)ch & 0x7f) * GLYPH_H];

	for (uint32_t y = 0; y < GLYPH_H; y++) {
		for (uint32_t x = 0; x < GLYPH_W; x++) {
			bool on = g[y] & (0x80 >> x);

			put_pixel(col * GLYPH_W + x, row * GLYPH_H + y, on ? fg : bg);
		}
	}
}

/* Move the screen up by k text lines (k < rows) and clear the k at the
 * bottom; k >= rows clears it all. One move however many lines. */
static void scroll_by(uint32_t k)
{
	this_cpu_inc(counters[CNT_FBCON_SCROLL]);
	if (info.type == 2) {
		volatile uint16_t *t = (volatile uint16_t *)fb;
		uint32_t keep = k < rows ? rows - k : 0;

		for (uint32_t i = 0; i < keep * cols; i++)
			t[i] = t[i + k * cols];
		for (uint32_t i = keep * cols; i < rows * cols; i++)
			t[i] = 0x0720;
		return;
	}
	uint64_t line = (uint64_t)info.pitch * GLYPH_H;

	if (k < rows)
		memmove(fb, fb + line * k, line * (rows - k));
	memset(fb + line * (k < rows ? rows - k : 0), 0, line * MIN(k, rows));
}

static void ega_put(uint32_t col, uint32_t row, char ch)
{
	((volatile uint16_t *)fb)[row * cols + col] = (uint16_t)(0x0700 | (uint8_t)ch);
}

static void put_char(uint32_t col, uint32_t row, char ch)
{
	if (info.type == 2)
		ega_put(col, row, ch);
	else
		draw_glyph(col, row, ch);
}

/*
 * One write scrolls at most once. The first pass follows the cursor
 * through the text (a newline, or the last column, ends a line) to count
 * the lines it runs past the bottom; the screen moves up by that many at
 * once; the second pass draws, skipping what would have scrolled off
 * again within this write. Scrolling at each line (one move of the whole
 * framebuffer each, with interrupts off in console_emit) let one
 * console_write of 256 newlines keep a CPU deaf for 9.7 s under QEMU, and
 * past the lock-up detector's limit when other CPUs were busy (found in
 * review; regression console_write_scrolls_once_a_chunk).
 */
static void fbcon_write(const char *s, size_t n)
{
	uint64_t lines = 0; /* lines the cursor moves down */
	uint32_t x;

	/* A writer that gave up waiting for console_lock may have raced
	 * another (lib/printk.c console_lock_bounded): never draw outside. */
	if (cx >= cols)
		cx = 0;
	if (cy >= rows)
		cy = rows - 1;
	x = cx;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || (s[i] != '\r' && ++x == cols)) {
			x = 0;
			lines++;
		}
	}
	uint64_t past = cy + lines > rows - 1 ? cy + lines - (rows - 1) : 0;

	if (past)
		scroll_by((uint32_t)MIN(past, (uint64_t)rows));
	/* The row the cursor is on, counted from the top of the screen as it
	 * is now: negative while on lines that this write scrolls off. */
	int64_t y = (int64_t)cy - (int64_t)past;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\r')
			continue;
		if (c != '\n') {
			if (y >= 0)
				put_char(cx, (uint32_t)y, c);
			if (++cx < cols)
				continue;
		}
		cx = 0;
		y++;
	}
	cy = (uint32_t)MIN(y, (int64_t)rows - 1);
}

static struct console fb_console = { .name = "fbcon", .write = fbcon_write };

void fbcon_init(const struct boot_info *bi)
{
	if (!fbcon_on || !bi->has_fb)
		return;
	info = bi->fb;
	if (info.type == 2) {
		cols = info.width;
		rows = info.height;
		fb = ioremap(info.addr, (uint64_t)cols * rows * 2, PTE_CACHE_UC);
	} else if (info.type == 1 && (info.bpp == 32 || info.bpp == 24 || info.bpp == 16)) {
		cols = info.width / GLYPH_W;
		rows = info.height / GLYPH_H;
		fb = ioremap(info.addr, (uint64_t)info.pitch * info.height, PTE_CACHE_WC);
		fg = rgb(0xcc, 0xcc, 0xcc);
		bg = rgb(0, 0, 0);
		memset(fb, 0, (uint64_t)info.pitch * info.height);
	} else {
		pr_warn("fbcon: unsupported framebuffer (type %u, %u bpp)", info.type, info.bpp);
		return;
	}
	if (!cols || !rows)
		return;
	console_replay(&fb_console);
	console_register(&fb_console);
	pr_info("fbcon: %ux%u %s framebuffer at %#lx, %ux%u text", info.width, info.height,
		info.type == 2 ? "EGA text" : "RGB", info.addr, cols, rows);
}
