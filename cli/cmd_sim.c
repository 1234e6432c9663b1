/*
 * cmd_sim.c - `capsim sim SCENARIO`: run a scenario in the model and say
 * what every tap saw, where packets were dropped and why tcpdump did or
 * did not see them, the counters under the kernel's names and whether
 * the scenario's expectations hold.  Options pick the other outputs:
 * --trace (per-packet path lines), -w DIR (a pcap per tap), --json, --dot.
 */
#include "cli.h"
#include "sim.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_LINES 50

enum { OPT_TRACE = 300, OPT_TRACE_LIMIT, OPT_JSON, OPT_DOT, OPT_PRINT };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: capsim sim [OPTIONS] SCENARIO.scn\n\n"
		"Run a scenario (docs/scenario-language.md) through the model of the Linux\n"
		"capture path and report, for each tap, what tcpdump would print and its closing\n"
		"lines; where packets were dropped, under the kernel's drop reason and function,\n"
		"and why tcpdump did or did not see them; the counters under the kernel's names\n"
		"(ip -s link, ethtool -S, /proc/net/softnet_stat, PACKET_STATISTICS); and each\n"
		"`expect` line as PASS or FAIL.\n\n"
		"Options:\n"
		"  -c N                print at most N packets per tap (default %d; the rest are\n"
		"                      counted)\n"
		"  --trace             one line per packet event as it happens: time, skb id,\n"
		"                      host, cpu, device, kernel function, drop reason\n"
		"  --trace-limit N     stop the --trace lines after N (default 10000)\n"
		"  -w DIR              write DIR/HOST.TAP.pcap for every tap: exactly what it\n"
		"                      captured (files appear only when all are complete)\n"
		"  --json[=FILE]       everything above as JSON, to FILE or standard output\n"
		"  --dot FILE          the stages packets passed as a Graphviz graph, drops in\n"
		"                      red, tap points in blue; FILE.svg or FILE.png is drawn by\n"
		"                      Graphviz's dot program, anything else is DOT text\n"
		"  --print             print the scenario in canonical form and stop\n"
		"  --help              this text\n\n"
		"Exit codes: 0 every expectation passed; 1 one failed; 2 bad command line;\n"
		"3 the scenario is wrong (file:line:col); 4 this machine cannot do it (a tap's\n"
		"filter is compiled as tcpdump does, on a live handle in a private network\n"
		"namespace: run as root); 5 internal failure.\n",
		DEFAULT_LINES);
}

/* The JSON or DOT report into memory, then to @path (or standard output). */
static int emit(const struct sim_session *s, int json, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	if (!path || strcmp(path, "-") == 0) {
		rc = json ? sim_report_json(stdout, s) : sim_report_dot(stdout, s);
		if (rc != 0)
			cli_error("cannot write to standard output");
		return rc ? EXIT_INTERNAL : EXIT_OK;
	}
	if (!(mem = open_memstream(&text, &len))) {
		cli_error("out of memory");
		return EXIT_INTERNAL;
	}
	rc = json ? sim_report_json(mem, s) : sim_report_dot(mem, s);
	if (fclose(mem) != 0 || rc != 0) {
		free(text);
		cli_error("out of memory");
		return EXIT_INTERNAL;
	}
	if (!json && (strcmp(cli_path_extension(path), "svg") == 0 ||
		      strcmp(cli_path_extension(path), "png") == 0))
		rc = cli_render_dot(text, len, cli_path_extension(path), path);
	else
		rc = cli_write_atomic(text, len, path);
	free(text);
	return rc;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-' || (*out = strtoull(s, &end, 10), errno) || *end) {
		cli_error("%s: '%s' is not a whole number", opt, s);
		return -1;
	}
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trace", no_argument, NULL, OPT_TRACE },
		{ "trace-limit", required_argument, NULL, OPT_TRACE_LIMIT },
		{ "json", optional_argument, NULL, OPT_JSON },
		{ "dot", required_argument, NULL, OPT_DOT },
		{ "print", no_argument, NULL, OPT_PRINT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_session_opts so = { 0 };
	const char *json_path = NULL, *dot_path = NULL, *scn = NULL;
	int json = 0, print = 0, trace = 0, c, rc;
	uint64_t lines = DEFAULT_LINES, n;
	char err[SIM_SESSION_ERRBUF_SIZE];
	struct sim_session *s = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_u64("-c", optarg, &lines) != 0)
				return EXIT_USAGE;
			break;
		case 'w':
			so.pcap_dir = optarg;
			break;
		case OPT_TRACE:
			trace = 1;
			break;
		case OPT_TRACE_LIMIT:
			if (parse_u64("--trace-limit", optarg, &n) != 0)
				return EXIT_USAGE;
			so.trace_limit = n ? n : 1;
			break;
		case OPT_JSON:
			json = 1;
			json_path = optarg;
			break;
		case OPT_DOT:
			dot_path = optarg;
			break;
		case OPT_PRINT:
			print = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* `--json FILE` as well as `--json=FILE`: of two operands, the
	 * scenario is the one that names a .scn file. */
	if (json && !json_path && argc - optind == 2) {
		int first = strcmp(cli_path_extension(argv[optind]), "scn") == 0;
		int second = strcmp(cli_path_extension(argv[optind + 1]), "scn") == 0;

		if (first == second) {
			cli_error("--json FILE: say which is the scenario (write --json=FILE)");
			return EXIT_USAGE;
		}
		scn = argv[optind + !first];
		json_path = argv[optind + first];
	} else if (argc - optind == 1) {
		scn = argv[optind];
	} else {
		cli_error(argc - optind ? "one scenario at a time" : "no scenario: capsim sim FILE.scn");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (so.pcap_dir) {
		struct stat st;

		if (stat(so.pcap_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_error("-w %s: not a directory", so.pcap_dir);
			return EXIT_USAGE;
		}
	}
	so.list_limit = lines ? (lines > UINT32_MAX ? UINT32_MAX : (uint32_t)lines) : 1;
	/* JSON on standard output replaces the text; the trace then goes to
	 * standard error so the JSON stays whole. */
	if (trace)
		so.trace = json && (!json_path || strcmp(json_path, "-") == 0) ? stderr : stdout;

	if (sim_session_load(&s, scn, err) != 0) {
		cli_error("%s", err);
		return EXIT_INPUT;
	}
	if (print) {
		rc = sim_session_write_scenario(s, stdout) == 0 && fflush(stdout) == 0 ? EXIT_OK
											: EXIT_INTERNAL;
		sim_session_free(s);
		return rc;
	}
	rc = sim_session_run(s, &so, err);
	if (rc != 0) {
		if (rc == SIM_SESSION_EENV)
			cli_error("%s\n(a tcpdump tap's filter is compiled as tcpdump compiles it for a "
				  "live capture, on a libpcap handle in a private network namespace, "
				  "which needs root)", err);
		else
			cli_error("%s", err);
		sim_session_free(s);
		return rc == SIM_SESSION_EINPUT ? EXIT_INPUT :
		       rc == SIM_SESSION_EENV	? EXIT_ENV :
						  EXIT_INTERNAL;
	}
	rc = EXIT_OK;
	if (!(json && (!json_path || strcmp(json_path, "-") == 0))) {
		if (trace)
			fputc('\n', stdout);
		if (sim_report_text(stdout, s, (uint32_t)(lines > UINT32_MAX ? UINT32_MAX : lines)) != 0) {
			cli_error("cannot write to standard output");
			rc = EXIT_INTERNAL;
		}
	}
	if (rc == EXIT_OK && json)
		rc = emit(s, 1, json_path);
	if (rc == EXIT_OK && dot_path)
		rc = emit(s, 0, dot_path);
	if (rc == EXIT_OK && sim_session_failed(s))
		rc = EXIT_NEGATIVE;
	sim_session_free(s);
	return rc;
}
