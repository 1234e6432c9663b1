/*
 * output.c - writing results the way every command must: to a temporary
 * name renamed into place only when complete (nothing half-written on
 * failure), or to standard output; and drawing DOT with Graphviz's dot.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *cli_path_extension(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	return dot && !strchr(dot, '/') ? dot + 1 : "";
}

int cli_write_atomic(const char *text, size_t len, const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
			cli_error("cannot write to standard output");
			return EXIT_INTERNAL;
		}
		return EXIT_OK;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	if (!(f = fopen(tmp, "w"))) {
		cli_error("%s: %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	if (fwrite(text, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		unlink(tmp);
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

int cli_render_dot(const char *dot, size_t len, const char *fmt, const char *path)
{
	char tmp[4096], targ[16], *args[] = { "dot", targ, NULL, NULL, NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], status, err;
	size_t off = 0;
	pid_t pid;

	snprintf(targ, sizeof(targ), "-T%s", fmt);
	if (path && strcmp(path, "-") != 0) {
		snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
		args[2] = "-o";
		args[3] = tmp;
	} else {
		path = NULL;
	}
	if (pipe(fds) != 0) {
		cli_error("pipe: %s", strerror(errno));
		return EXIT_INTERNAL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	err = posix_spawnp(&pid, "dot", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (err != 0) {
		close(fds[1]);
		if (err == ENOENT)
			cli_error("Graphviz's 'dot' program is not installed (Debian: apt-get install "
				  "graphviz, or make deps); a .dot file needs no Graphviz");
		else
			cli_error("cannot start dot: %s", strerror(err));
		return EXIT_ENV;
	}
	/* If dot dies early, writes fail with EPIPE rather than killing us. */
	signal(SIGPIPE, SIG_IGN);
	while (off < len) {
		ssize_t n = write(fds[1], dot + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (off < len || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_error("dot failed (%s)%s", off < len ? "it stopped reading" : "see its message above",
			  path ? "; nothing written" : "");
		if (path)
			unlink(tmp);
		return EXIT_INTERNAL;
	}
	if (path && rename(tmp, path) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		unlink(tmp);
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}
