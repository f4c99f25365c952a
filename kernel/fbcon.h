#pragma once

struct boot_info;

/* Framebuffer text console (8x16 glyphs from the built-in font). Registers
 * itself and replays the log so far. fbcon=off disables it. */
void fbcon_init(const struct boot_info *bi);
