#pragma once

#include "lib/compiler.h"

/* Parse the multiboot2 information at info_pa and keep a private copy of it
 * (the parsed pointers then refer to the copy, which stays mapped). */
void bootinfo_init(uint32_t info_pa);
