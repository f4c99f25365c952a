#pragma once

/* The boot report: what a user sends back from real hardware. Printed at
 * boot (between "BOOT REPORT" markers that tools can cut out) and kept in
 * the log ring, readable later from user space. */
void boot_report_print(void);
