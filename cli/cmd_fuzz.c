/*
 * cmd_fuzz.c - `capsim fuzz programs|compiler`: differential campaigns
 * (the engines live in live/; see cmd_fuzz_programs.c and
 * cmd_fuzz_compiler.c for their command lines).
 */
#include "cli.h"

#include <string.h>

int cmd_fuzz(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "programs") == 0)
		return cmd_fuzz_programs(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "compiler") == 0)
		return cmd_fuzz_compiler(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: capsim fuzz programs [OPTIONS]   verifier and VM against the kernel\n"
		       "       capsim fuzz compiler [OPTIONS]   libpcap's optimizer against itself\n"
		       "'capsim fuzz SUBCOMMAND --help' explains each.\n");
		return EXIT_OK;
	}
	cli_error("fuzz: expected 'programs' or 'compiler' (see 'capsim fuzz --help')");
	return EXIT_USAGE;
}
