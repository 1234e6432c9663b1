/*
 * main.c - capsim's entry point.  It only dispatches to a command.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#define CAPSIM_VERSION "0.1"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("capsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "filter", cmd_filter, "check, compile and run classic BPF filters (kernel or libpcap semantics)" },
	{ "trace", cmd_trace, "generate sample traces" },
	{ "sim", cmd_sim, "run a scenario through the model of the capture path" },
	{ "live", cmd_live, "the same filters on the running kernel, in a private network namespace" },
	{ "fuzz", cmd_fuzz, "differential fuzzing: verifier/VM vs kernel, libpcap optimizer vs itself" },
	{ "bench", cmd_bench, "measure the VM against libpcap's bpf_filter()" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: capsim COMMAND [OPTIONS]...\n\n"
		   "An educational simulator and verifier of the Linux packet-capture path.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'capsim COMMAND --help' explains each.\n\n"
		   "Exit codes: 0 success (accepted, equal, agreed); 1 the answer is no (rejected,\n"
		   "differs, disagrees); 2 bad command line; 3 unreadable or malformed input;\n"
		   "4 this machine cannot do it (needs root or namespaces); 5 internal failure.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("capsim %s\n", CAPSIM_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("no command '%s' (try 'capsim --help')", argv[1]);
	return EXIT_USAGE;
}
