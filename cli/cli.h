/*
 * cli.h - the command layer: the only code that prints results, reads
 * options and decides exit codes.
 */
#ifndef CAPSIM_CLI_H
#define CAPSIM_CLI_H

#include <getopt.h>
#include <stdio.h>
#include "bpfvm.h"
#include "sim.h"
#include "trace.h"

/* Exit codes, the same for every command (documented in `capsim --help`). */
enum {
	EXIT_OK = 0,		/* success; for check/diff/live: accepted, equal, agreed */
	EXIT_NEGATIVE = 1,	/* the answer is "no": rejected, differs, disagrees */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_INPUT = 3,		/* an input file is missing, unreadable or malformed */
	EXIT_ENV = 4,		/* the machine cannot do it (root, namespaces) */
	EXIT_INTERNAL = 5,	/* out of memory, a write failed */
};

int cmd_filter(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_fuzz_programs(int argc, char **argv);
int cmd_fuzz_compiler(int argc, char **argv);

/* Print "capsim: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* errno's symbolic name ("EPERM"), "0", or "unknown errno". */
const char *cli_errno_name(int e);

/* Read a whole file ("-" is standard input), NUL-terminated.  NULL and a
 * message naming @path in @err on failure; the caller frees. */
char *cli_read_file(const char *path, size_t *len, char *err, size_t errsize);

/* Where a filter program comes from: -F FILE, or an expression compiled the
 * way tcpdump would for the situation. */
struct cli_prog_src {
	const char *file;		/* -F */
	enum bpfvm_format format;	/* --format for -F (default auto) */
	char *expr;			/* the rest of the command line, joined */
	struct bpfvm_compile_opts copts;
	int linux_ext_set;		/* --linux-ext / --no-linux-ext given */
	int linktype_set;		/* -y given */
	const char *label;		/* "program A": leads its messages, or NULL */
};

void cli_prog_src_init(struct cli_prog_src *s);
/* Join argv[optind..argc) into s->expr (or leave it NULL). */
int cli_take_expr(struct cli_prog_src *s, int argc, char **argv, int optind);
/* Load or compile.  Without --linux-ext/--no-linux-ext an expression is
 * compiled with Linux extensions for linux semantics (a live capture) and
 * without them for libpcap semantics (reading a file).  With @verbose,
 * says on stderr which it did.  Returns an exit code (EXIT_OK on success). */
int cli_load_prog(struct cli_prog_src *s, enum bpfvm_semantics sem, int verbose,
		  struct bpfvm_prog *prog);
void cli_prog_src_free(struct cli_prog_src *s);
/* What a message calls the program: its file ("<stdin>") or "the
 * expression". */
const char *cli_prog_src_name(const struct cli_prog_src *s);
/* Make the machine that runs @prog in @sem.  When @sem's loader (the
 * kernel, or libpcap's validator) refuses it: one line naming the source
 * and the instruction, and EXIT_INPUT. */
int cli_prog_vm(const struct cli_prog_src *s, const struct bpfvm_prog *prog,
		enum bpfvm_semantics sem, struct bpfvm **vm);
/* Open @trace ("-": standard input) for a command that runs a program
 * on it, before the program is loaded: in libpcap semantics and without -y
 * the program is compiled for the trace's own link type, as tcpdump -r
 * does.  (Linux semantics always hands the filter the frame of a
 * receiving Ethernet device.)  NULL with a message if it cannot be read. */
struct trace_reader *cli_open_trace(struct cli_prog_src *s, const char *trace,
				    enum bpfvm_semantics sem);

/* Long-option codes shared by the commands (getopt_long values). */
enum cli_opt {
	OPT_SEMANTICS = 256, OPT_VERDICTS, OPT_LINUX_EXT, OPT_NO_LINUX_EXT, OPT_FORMAT,
	OPT_MAC, OPT_IFINDEX, OPT_SOCK, OPT_SEED, OPT_COUNT, OPT_HELP,
};

/* Options every filter subcommand that takes a program shares. */
#define PROG_OPTIONS                                                    \
	{ "linux-ext", no_argument, NULL, OPT_LINUX_EXT },              \
	{ "no-linux-ext", no_argument, NULL, OPT_NO_LINUX_EXT },        \
	{ "format", required_argument, NULL, OPT_FORMAT },              \
	{ "help", no_argument, NULL, OPT_HELP }

/* The "Program:" part of --help for commands that take a program. */
extern const char cli_prog_help[];
/* Handle an option of PROG_OPTIONS or -F/-O/-s/-y; 1 if taken, 0 if not
 * one of those, -1 on a bad value (message printed). */
int cli_prog_option(struct cli_prog_src *s, int c, const char *arg);
/* --semantics linux|libpcap; -1 with a message if neither. */
int cli_parse_semantics(const char *arg, enum bpfvm_semantics *sem);

/* view.c.  How a trace record becomes the packet a filter sees: the
 * semantics and the receiving device (filter run, step, diff, dot). */
struct cli_view {
	enum bpfvm_semantics sem;
	enum sim_sock_type sock;
	struct sim_rx_dev dev;
	uint64_t seed;			/* SKF_AD_RANDOM: seed + record index */
	uint8_t *buf;			/* the rewritten frame, grown as needed */
	size_t bufsize;
};

/* The options cli_view_option() takes, for a getopt_long table. */
#define VIEW_OPTIONS                                                   \
	{ "semantics", required_argument, NULL, OPT_SEMANTICS },       \
	{ "mac", required_argument, NULL, OPT_MAC },                   \
	{ "ifindex", required_argument, NULL, OPT_IFINDEX },           \
	{ "sock", required_argument, NULL, OPT_SOCK },                 \
	{ "seed", required_argument, NULL, OPT_SEED }
extern const char cli_view_help[];

/* Linux semantics, SOCK_RAW, the default device, seed 1. */
void cli_view_init(struct cli_view *v);
void cli_view_free(struct cli_view *v);
/* One of VIEW_OPTIONS: 1 taken, 0 not one of them, -1 bad (message printed). */
int cli_view_option(struct cli_view *v, int c, const char *arg);
/* EXIT_INPUT with a message when linux semantics meets a trace that is not
 * Ethernet; EXIT_OK otherwise. */
int cli_view_check_trace(enum bpfvm_semantics sem, const char *path, int linktype);
/* @rec as a filter sees it in @sem: 1 and *@out; 0 when the kernel discards
 * the frame before any packet socket sees it (@out->drop says why); -1 out
 * of memory (message printed).  @out may point into @v's buffer. */
int cli_record_view(struct cli_view *v, enum bpfvm_semantics sem, const struct trace_record *rec,
		    struct sim_rx_view *out);

/* output.c.  Write @len bytes of @text to @path through a temporary name
 * renamed when complete, or to standard output when @path is NULL or "-".
 * Returns an exit code, with the message printed. */
int cli_write_atomic(const char *text, size_t len, const char *path);
/* Pipe @len bytes of DOT through Graphviz's dot -T@fmt ("svg", "png") into
 * @path (temporary name, renamed when dot succeeded) or standard output.
 * An exit code: EXIT_ENV when dot is not installed. */
int cli_render_dot(const char *dot, size_t len, const char *fmt, const char *path);
/* "svg" for "a/b.svg"; "" when there is none. */
const char *cli_path_extension(const char *path);

/* Parse a whole unsigned number (decimal or 0x-hex) with a bound. */
int cli_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* ------------------------------------------------------------------ */
/* The filter toolkit (cli/cmd_filter_tools.c): format conversion and the
 * control-flow graph, and its DOT printer (cli/dot.c). */

int cmd_filter_disasm(int argc, char **argv);
int cmd_filter_asm(int argc, char **argv);
int cmd_filter_dot(int argc, char **argv);

/* What the DOT printer draws: the graph; with @count, a heat map of the
 * runs counted; with @path as well, the one run @count holds, highlighted. */
struct cli_dot {
	const struct bpfvm_prog *prog;
	const struct bpfvm_cfg *cfg;
	const struct bpfvm_cfg_count *count;	/* NULL: the bare graph */
	int path;				/* @count holds the one run below */
	uint64_t path_index;			/* its record index, */
	uint32_t path_ret, path_snap;		/* return value and bytes captured */
	const char *title;			/* caption, or NULL */
};

/* Write @d as a DOT digraph to @out; 0, or -1 on a write error. */
int cli_dot_write(FILE *out, const struct cli_dot *d);

/* ------------------------------------------------------------------ */
/* Following runs (cli/cmd_filter_debug.c): one record instruction by
 * instruction, and where two programs' verdicts and reads part. */

int cmd_filter_step(int argc, char **argv);
int cmd_filter_diff(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* `capsim sim SCENARIO` (cli/cmd_sim.c): run a scenario in the model.
 * Added by the session's author. */
int cmd_sim(int argc, char **argv);

/* Seconds on the monotonic clock. */
double cli_now_s(void);
/* "\rcapsim: N WHAT, P%" on stderr while @r is read, at most four times a
 * second; with @done, clear the line.  Callers show it on a terminal only. */
void cli_trace_progress(const struct trace_reader *r, uint64_t n, const char *what,
			double *last, int done);

#endif
