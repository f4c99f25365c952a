#pragma once

#include "lib/compiler.h"

/* 16550-compatible UART console. The port comes from ACPI SPCR when the
 * firmware describes one (arch/x86/acpi.c calls serial_use_port), else COM1. */
void serial_init(uint16_t port);
bool serial_present(void);
uint16_t serial_port(void);
void serial_write(const char *s, size_t n);
