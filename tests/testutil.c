/*
 * testutil.c - what the end-to-end suites share: the capsim program under
 * test, a private temporary folder, and running capsim with its output
 * captured.  Linked into every suite.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *capsim;
char tmpdir[64];

int cli_setup(void **state)
{
	(void)state;
	capsim = getenv("CAPSIM");
	if (!capsim)
		capsim = "./capsim";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/capsim-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

int cli_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int run_env(const char *env, const char *args, char **out, char **err)
{
	char cmd[8192], path[128];
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s %s >%s/out 2>%s/err%s", env, capsim, args, tmpdir, tmpdir,
		 strchr(args, '<') ? "" : " </dev/null");
	status = system(cmd);
	for (int i = 0; i < 2; i++) {
		char **dst = i ? err : out;
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, i ? "err" : "out");
		f = fopen(path, "r");
		*dst = calloc(1, 1 << 20);
		n = f ? fread(*dst, 1, (1 << 20) - 1, f) : 0;
		(*dst)[n] = '\0';
		if (f)
			fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run(const char *args, char **out, char **err)
{
	return run_env("", args, out, err);
}

void expect(const char *args, int code, const char *in_out, const char *in_err)
{
	char *out, *err;
	int rc = run(args, &out, &err);

	if (rc != code || (in_out && !strstr(out, in_out)) || (in_err && !strstr(err, in_err)))
		fail_msg("capsim %s\nexit %d (expected %d)\nstdout: %.600s\nstderr: %.400s\n"
			 "(expected stdout to contain '%s', stderr '%s')",
			 args, rc, code, out, err, in_out ? in_out : "", in_err ? in_err : "");
	free(out);
	free(err);
}
