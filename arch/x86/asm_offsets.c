/*
 * Compiles the checks of arch/x86/asm_offsets.h: the offsets entry.S and
 * usercopy.S use as numbers must match the C layouts they describe, or the
 * build fails. (Only .S files include the header for its numbers; without
 * this file its _Static_asserts would never be compiled.) tools/test.py
 * proves it: a field inserted into a copy of struct percpu_entry, and an
 * offset changed in a copy of the header, must each fail this compile.
 */
#include "arch/x86/asm_offsets.h"
