/*
 * The user-level serial driver's protocol (user/serial/serial.c): what a
 * client puts in an IPC message to its service endpoint.
 *
 *   call(svc, { SERIAL_WRITE | len << 8, bytes 0..7, 8..15, 16..23 })
 *     -> { len, interrupts the driver has handled, polled fallbacks,
 *          bytes it has written to the UART }, once the bytes are out
 *   call(ctl, { SERIAL_QUIT }) -> { 0 }, then the driver exits
 *
 * Every line written goes out with SERIAL_PREFIX in front of it.
 */
#pragma once

#define SERIAL_WRITE	 1
#define SERIAL_QUIT	 2
#define SERIAL_MAX_WRITE 24
#define SERIAL_PREFIX	 "[userial] "
