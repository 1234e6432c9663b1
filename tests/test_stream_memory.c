/*
 * test_stream_memory.c - huge traces stream: no command that reads a trace
 * holds it whole.
 *
 * Every trace-reading command runs on a generated trace of SMALL records
 * and again on one of BIG records (four times as many, about 54 MB); its
 * peak resident set (ru_maxrss of a child that runs only that command) may
 * not grow by more than SLACK_KB between the two.  Holding the records
 * would add tens of megabytes; streaming adds nothing.  Memory, unlike
 * time, is the same on a busy machine, so the bound is not a flaky one.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define SMALL 100000
#define BIG 400000
#define SLACK_KB (8 * 1024)

/* Run "capsim @args" (stdout and stderr discarded) in a child of its own;
 * return its exit code and, in *@kb, the peak RSS of what it ran. */
static int peak_rss(const char *args, long *kb)
{
	int fds[2];
	long out[2] = { -1, -1 };
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[1024];
		struct rusage ru;
		int st;

		close(fds[0]);
		snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1 </dev/null", capsim, args);
		st = system(cmd);
		getrusage(RUSAGE_CHILDREN, &ru);
		out[0] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		out[1] = ru.ru_maxrss;
		if (write(fds[1], out, sizeof(out)) != sizeof(out))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], out, sizeof(out)), sizeof(out));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	*kb = out[1];
	return (int)out[0];
}

static void make_trace(const char *name, unsigned n)
{
	char args[256];
	long kb;

	char path[256];
	FILE *f;

	snprintf(args, sizeof(args), "trace gen -n %u -w %s/%s", n, tmpdir, name);
	assert_int_equal(peak_rss(args, &kb), 0);
	snprintf(path, sizeof(path), "%s/%s.scn", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "host a\n"
		   "  iface eth0 mac 02:00:00:00:00:01 addr 198.18.0.1/24 rx-ring 4096\n"
		   "  tap cap dev eth0 filter \"tcp\" ring 4x1M\n"
		   "at 0 replay a.eth0 %s/%s speed 1000\n",
		tmpdir, name);
	assert_int_equal(fclose(f), 0);
}

static const struct {
	const char *args;	/* %s: the trace */
	int root;
} cmds[] = {
	{ "filter run --count -r %s tcp", 0 },
	{ "filter run --semantics libpcap --count -r %s tcp", 0 },
	{ "filter diff -q tcp udp -r %s", 0 },
	{ "filter dot -r %s --format-out dot -o /dev/null tcp", 0 },
	/* A scenario replaying the trace (%s is then a .scn that does). */
	{ "sim -c 5 %s.scn", 0 },
	/* These run every program on every packet, so they keep a sample
	 * of at most TRACE_SAMPLE_RECORDS records, never the trace. */
	{ "fuzz compiler -r %s -n 3 --seconds 0", 0 },
	{ "fuzz programs --no-live -n 3 --trace %s", 0 },
	/* Batches of a fixed size through the kernel. */
	{ "live filter -r %s tcp", 1 },
};

static void test_streaming(void **state)
{
	char small[128], big[128], args[512];

	(void)state;
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer keeps freed memory in a quarantine and pads every
	 * allocation: its resident set measures ASan.  The plain build of
	 * `make test` measures capsim. */
	print_message("built with AddressSanitizer: memory not measured here\n");
	skip();
#endif
	make_trace("small.pcap", SMALL);
	make_trace("big.pcap", BIG);
	snprintf(small, sizeof(small), "%s/small.pcap", tmpdir);
	snprintf(big, sizeof(big), "%s/big.pcap", tmpdir);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		long kb[2];

		if (cmds[i].root && geteuid() != 0) {
			print_message("needs root, not measured: %s\n", cmds[i].args);
			continue;
		}
		for (int k = 0; k < 2; k++) {
			int rc;

			snprintf(args, sizeof(args), cmds[i].args, k ? big : small);
			rc = peak_rss(args, &kb[k]);
			/* 1 is an answer too: diff's "they differ". */
			if (rc != 0 && rc != 1)
				fail_msg("capsim %s: exit %d", args, rc);
		}
		print_message("%-55s %u records: %6ld kB, %u: %6ld kB\n", cmds[i].args, SMALL, kb[0],
			      BIG, kb[1]);
		if (kb[1] - kb[0] > SLACK_KB)
			fail_msg("capsim %s: peak RSS grows with the trace: %ld kB for %u records, "
				 "%ld kB for %u", cmds[i].args, kb[0], SMALL, kb[1], BIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streaming),
	};

	return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
