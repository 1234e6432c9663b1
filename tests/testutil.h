/*
 * testutil.h - what every cmocka suite includes: cmocka's own headers in the
 * order it needs, and a skip for tests that need root.
 */
#ifndef CAPSIM_TESTUTIL_H
#define CAPSIM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

/* Kernel differential tests need root (SO_ATTACH_FILTER works for anyone,
 * but namespaces and AF_PACKET do not).  CI runs as root; elsewhere they
 * are reported as skipped, never as passed. */
#define SKIP_UNLESS_ROOT()                                  \
	do {                                                \
		if (geteuid() != 0) {                       \
			print_message("needs root: skipped\n"); \
			skip();                             \
		}                                           \
	} while (0)

#endif
