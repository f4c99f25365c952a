/*
 * Framebuffer text console.
 *
 * Real servers may have no serial port, so everything printed also goes to
 * the screen GRUB set up (multiboot2 framebuffer tag): a linear RGB
 * framebuffer drawn with the built-in 8x16 font, or the legacy EGA text
 * buffer when GRUB left the machine in text mode.
 *
 * Scrolling moves the pixel rows up with one memmove of the framebuffer;
 * that is slow under emulation, so tests usually boot with fbcon=off.
 */
#include "kernel/fbcon.h"
#include "kernel/multiboot2.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "lib/cmdline.h"
#include "mm/kpaging.h"
#include "arch/pgtable.h"

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

static void scroll(void)
{
	uint64_t line = (uint64_t)info.pitch * GLYPH_H;

	memmove(fb, fb + line, line * (rows - 1));
	memset(fb + line * (rows - 1), 0, line);
}

static void ega_put(uint32_t col, uint32_t row, char ch)
{
	((volatile uint16_t *)fb)[row * cols + col] = (uint16_t)(0x0700 | (uint8_t)ch);
}

static void ega_scroll(void)
{
	volatile uint16_t *t = (volatile uint16_t *)fb;

	for (uint32_t i = 0; i < (rows - 1) * cols; i++)
		t[i] = t[i + cols];
	for (uint32_t i = (rows - 1) * cols; i < rows * cols; i++)
		t[i] = 0x0720;
}

static void newline(void)
{
	cx = 0;
	if (++cy < rows)
		return;
	cy = rows - 1;
	if (info.type == 2)
		ega_scroll();
	else
		scroll();
}

static void fbcon_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n') {
			newline();
			continue;
		}
		if (c == '\r')
			continue;
		if (info.type == 2)
			ega_put(cx, cy, c);
		else
			draw_glyph(cx, cy, c);
		if (++cx == cols)
			newline();
	}
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
