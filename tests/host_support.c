/*
 * Host-side support for unit tests of kernel code: the pure kernel modules
 * are compiled with -DHOST_TEST (string/fmt functions get a k_ prefix), so
 * tests link them beside the host libc. Nothing here fakes kernel
 * behaviour; the modules under test must not need anything more.
 */
#include <stdio.h>
