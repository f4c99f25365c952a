#pragma once

#include "lib/compiler.h"

/* The boot report: what a user sends back from real hardware. Printed at
 * boot (between "BOOT REPORT" markers that tools can cut out), and captured
 * whole into a buffer of its own that SYS_KINFO(KINFO_BOOT_REPORT) returns
 * later, however much the log ring has moved on since. */
void boot_report_print(void);
/* The captured report ("" before boot_report_print). */
const char *boot_report_text(void);
