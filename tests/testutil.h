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

/* testutil.c: the end-to-end suites' shared tools.  cli_setup() finds the
 * capsim under test ($CAPSIM, else ./capsim) and makes @tmpdir; use it and
 * cli_teardown() as the cmocka group's setup and teardown. */
extern const char *capsim;
extern char tmpdir[64];
int cli_setup(void **state);
int cli_teardown(void **state);
/* Run "[@env] capsim @args" in a shell (stdin /dev/null unless @args
 * redirects it); stdout and stderr captured up to 1 MiB each, owned by the
 * caller; returns the exit code, -1 if killed. */
int run_env(const char *env, const char *args, char **out, char **err);
int run(const char *args, char **out, char **err);
/* Fail unless capsim @args exits @code and its stdout / stderr contain
 * @in_out / @in_err (NULL: anything). */
void expect(const char *args, int code, const char *in_out, const char *in_err);

#endif
