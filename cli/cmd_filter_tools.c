/*
 * cmd_filter_tools.c - `capsim filter disasm`, `filter asm` and
 * `filter dot`: convert a program between formats, and draw its
 * control-flow graph, bare, as a coverage heat map over a trace, or with
 * one packet's path through it.
 */
#include "cli.h"
#include "sim.h"
#include "trace.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Option codes of these commands only, clear of enum cli_opt. */
enum { OPT_TO = 512, OPT_FORMAT_OUT };

/* --to FMT: a format to write (anything but auto). */
static int parse_out_format(const char *arg, enum bpfvm_format *fmt)
{
	if (bpfvm_format_from_name(arg, fmt) != 0 || *fmt == BPFVM_FMT_AUTO) {
		cli_error("--to: '%s' is not one of d, dd, ddd, asm", arg);
		return -1;
	}
	return 0;
}

static int write_prog(const struct bpfvm_prog *prog, enum bpfvm_format fmt)
{
	if (bpfvm_write(stdout, prog, fmt) != 0 || fflush(stdout) != 0) {
		cli_error("cannot write the program to standard output");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

/* ---- filter disasm --------------------------------------------------- */

int cmd_filter_disasm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	enum bpfvm_format to = BPFVM_FMT_D;
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	int c, verbose = 0, rc;

	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:v", opts, NULL)) != -1) {
		int r = cli_prog_option(&src, c, optarg);

		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_TO:
			if (parse_out_format(optarg, &to) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter disasm [OPTIONS] (-F FILE | EXPRESSION)\n\n"
			       "Print a program in any format: a file in one of tcpdump's formats or\n"
			       "bpf_asm, or an expression compiled as tcpdump would when reading a file.\n\n"
			       "  --to FMT            d (tcpdump -d listing, default), dd, ddd, or asm\n"
			       "                      (the kernel's bpf_asm, with labels)\n"
			       "  -v                  say how the program was obtained\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	/* Expressions compile as for a file unless --linux-ext says otherwise. */
	rc = cli_load_prog(&src, BPFVM_LIBPCAP, verbose, &prog);
	if (rc == EXIT_OK)
		rc = write_prog(&prog, to);
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	return rc;
}

/* ---- filter asm ------------------------------------------------------ */

int cmd_filter_asm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	enum bpfvm_format to = BPFVM_FMT_DDD, from = BPFVM_FMT_AUTO;
	struct bpfvm_prog prog = { 0 };
	char err[BPFVM_ERRBUF_SIZE], *text;
	const char *path;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TO:
			if (parse_out_format(optarg, &to) != 0)
				return EXIT_USAGE;
			break;
		case OPT_FORMAT:
			if (bpfvm_format_from_name(optarg, &from) != 0) {
				cli_error("--format: '%s' is not one of asm, ddd, dd, d, auto", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HELP:
			printf("usage: capsim filter asm [OPTIONS] FILE\n\n"
			       "Assemble a program written in the kernel's bpf_asm language (or any of\n"
			       "tcpdump's formats) and print it, by default as tcpdump -ddd does: the\n"
			       "form -F reads everywhere.  FILE '-' is standard input.  Errors name the\n"
			       "place as FILE:LINE:COLUMN.  The program is not verified: use\n"
			       "`capsim filter check` for that.\n\n"
			       "  --to FMT            ddd (default), dd, d, or asm\n"
			       "  --format FMT        read FILE as asm, ddd, dd or d instead of detecting it\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error("filter asm: give exactly one FILE ('-' for standard input)");
		return EXIT_USAGE;
	}
	path = argv[optind];
	if (!(text = cli_read_file(path, NULL, err, sizeof(err)))) {
		cli_error("%s", err);
		return EXIT_INPUT;
	}
	if (bpfvm_parse(text, strcmp(path, "-") == 0 ? "<stdin>" : path, from, &prog, err) != 0) {
		/* Bare "file:line:col: message", as compilers print, for editors. */
		fprintf(stderr, "%s\n", err);
		rc = EXIT_INPUT;
	} else {
		rc = write_prog(&prog, to);
	}
	free(text);
	bpfvm_prog_free(&prog);
	return rc;
}

/* ---- filter dot ------------------------------------------------------ */

enum out_format { OUT_DOT, OUT_SVG, OUT_PNG };

struct dot_run {
	struct cli_view view;	/* semantics and the receiving device, as filter run */
	const char *trace;
	int64_t only;		/* -p: the one record to run, or -1 for all */
	uint64_t records;	/* read from the trace */
	uint64_t reached;	/* of which the filter saw */
	uint64_t accepted;	/* of which it returned nonzero */
	int found;		/* -p: the record was there and reached the filter */
	uint32_t ret, snap;	/* -p: its return value and capture length */
};

/* Run @vm over the trace, counting into @cnt; -p runs only its record.
 * Linux semantics as `filter run` models it: each record is a frame
 * arriving on the default device at a SOCK_RAW tap. */
static int count_trace(const struct bpfvm *vm, struct dot_run *dr, struct trace_reader *r,
		       struct bpfvm_cfg_count *cnt)
{
	char err[TRACE_ERRBUF_SIZE];
	struct trace_record rec;
	struct sim_rx_view view;
	int rc, status = EXIT_OK;

	if (cli_view_check_trace(dr->view.sem, dr->trace, trace_linktype(r)) != EXIT_OK)
		return EXIT_INPUT;
	while ((rc = trace_next(r, &rec, err)) == 1) {
		const struct bpfvm_packet *pkt = &view.pkt;
		uint32_t ret;
		int got;

		dr->records++;
		if (dr->only >= 0 && rec.index != (uint64_t)dr->only)
			continue;
		if ((got = cli_record_view(&dr->view, dr->view.sem, &rec, &view)) < 0) {
			status = EXIT_INTERNAL;
			break;
		}
		if (got == 0) {
			if (dr->only >= 0)
				cli_error("%s: record %llu never reached the filter: %s() dropped it (%s)",
					  dr->trace, (unsigned long long)rec.index, view.drop_func,
					  sim_drop_reason_name(view.drop));
			continue;
		}
		ret = bpfvm_run_traced(vm, pkt, dr->view.sem == BPFVM_LINUX ? &view.meta : NULL,
				       bpfvm_cfg_count_step, cnt);
		dr->reached++;
		dr->accepted += ret != 0;
		if (dr->only >= 0) {
			dr->found = 1;
			dr->ret = ret;
			dr->snap = bpfvm_snaplen(vm, pkt, ret);
		}
	}
	if (rc < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
	} else if (status == EXIT_OK && dr->only >= 0 && !dr->found) {
		if ((uint64_t)dr->only >= dr->records)
			cli_error("%s has %llu records: there is no record %lld", dr->trace,
				  (unsigned long long)dr->records, (long long)dr->only);
		status = EXIT_INPUT;
	}
	return status;
}

static int format_from_name(const char *s, enum out_format *fmt)
{
	if (strcmp(s, "dot") == 0 || strcmp(s, "gv") == 0)
		*fmt = OUT_DOT;
	else if (strcmp(s, "svg") == 0)
		*fmt = OUT_SVG;
	else if (strcmp(s, "png") == 0)
		*fmt = OUT_PNG;
	else
		return -1;
	return 0;
}

/* The caption: what program, and over what. */
static void make_title(char *buf, size_t size, const struct cli_prog_src *src,
		       const struct dot_run *dr)
{
	int n = src->file ? snprintf(buf, size, "%s", src->file)
			  : snprintf(buf, size, "'%s'", src->expr);

	if (n < 0 || (size_t)n >= size || !dr->trace)
		return;
	if (dr->only >= 0)
		snprintf(buf + n, size - n, "\nrecord %lld of %s (%s semantics): returned %u, "
			 "%u bytes captured", (long long)dr->only, dr->trace,
			 bpfvm_semantics_name(dr->view.sem), dr->ret, dr->snap);
	else
		snprintf(buf + n, size - n, "\nover %s (%s semantics): %llu of %llu records reached "
			 "the filter, %llu accepted", dr->trace, bpfvm_semantics_name(dr->view.sem),
			 (unsigned long long)dr->reached, (unsigned long long)dr->records,
			 (unsigned long long)dr->accepted);
}

int cmd_filter_dot(int argc, char **argv)
{
	static const struct option opts[] = {
		VIEW_OPTIONS,
		{ "format-out", required_argument, NULL, OPT_FORMAT_OUT },
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	struct dot_run dr = { .only = -1 };
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	struct bpfvm_cfg cfg = { 0 };
	struct bpfvm_cfg_count cnt = { 0 };
	struct bpfvm *vm = NULL;
	struct trace_reader *r = NULL;
	struct cli_dot d = { 0 };
	enum out_format fmt = OUT_DOT;
	const char *out = NULL;
	char err[BPFVM_ERRBUF_SIZE], title[1024], *text = NULL;
	size_t textlen = 0;
	FILE *mem;
	int c, rc, verbose = 0, fmt_set = 0;
	uint32_t v;

	cli_view_init(&dr.view);
	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:r:p:o:v", opts, NULL)) != -1) {
		int r = cli_prog_option(&src, c, optarg);

		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'r':
			dr.trace = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0) {
				cli_error("-p: '%s' is not a record index", optarg);
				return EXIT_USAGE;
			}
			dr.only = v;
			break;
		case 'o':
			out = strcmp(optarg, "-") == 0 ? NULL : optarg;
			break;
		case OPT_FORMAT_OUT:
			if (format_from_name(optarg, &fmt) != 0) {
				cli_error("--format-out: '%s' is not one of dot, svg, png", optarg);
				return EXIT_USAGE;
			}
			fmt_set = 1;
			break;
		case OPT_SEMANTICS:
		case OPT_MAC:
		case OPT_IFINDEX:
		case OPT_SOCK:
		case OPT_SEED:
			if (cli_view_option(&dr.view, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter dot [OPTIONS] (-F FILE | EXPRESSION)\n\n"
			       "Draw the program's control-flow graph with Graphviz: basic blocks with\n"
			       "their instructions, T(rue)/F(alse) edges of conditional jumps, return\n"
			       "nodes with their values; unreachable blocks greyed (the kernel still\n"
			       "checks them).  With -r, every edge carries how many records of the\n"
			       "trace took it, coloured and thickened by share (a coverage heat map);\n"
			       "with -p as well, only that record's path is drawn, in bold red.\n\n"
			       "  -r TRACE            run every record of TRACE (pcap, pcapng, '-')\n"
			       "  -p INDEX            only record INDEX (0-based): highlight its path\n"
			       "  --semantics S       linux (default) or libpcap, as `filter run`; also its\n"
			       "                      --mac, --ifindex, --sock and --seed\n"
			       "  -o FILE             write to FILE instead of standard output; the\n"
			       "                      format follows its extension (.dot, .gv, .svg, .png)\n"
			       "  --format-out F      dot (default), svg or png; svg and png are drawn by\n"
			       "                      Graphviz's dot program\n"
			       "  -v                  say how the program was obtained\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (out && !fmt_set) {
		const char *ext = strrchr(out, '.');

		if (!ext || strchr(ext, '/') || format_from_name(ext + 1, &fmt) != 0) {
			cli_error("-o %s: say which format with --format-out dot|svg|png, or name "
				  "the file .dot, .svg or .png", out);
			return EXIT_USAGE;
		}
	}
	if (dr.only >= 0 && !dr.trace) {
		cli_error("-p INDEX picks a record of a trace: give -r TRACE too");
		return EXIT_USAGE;
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	if (dr.trace && !(r = cli_open_trace(&src, dr.trace, dr.view.sem))) {
		rc = EXIT_INPUT;
		goto out;
	}
	rc = cli_load_prog(&src, dr.view.sem, verbose, &prog);
	if (rc != EXIT_OK)
		goto out;
	if (bpfvm_cfg_build(&cfg, &prog, err) != 0) {
		cli_error("%s: cannot follow the program's control flow: %s",
			  cli_prog_src_name(&src), err);
		rc = EXIT_INPUT;
		goto out;
	}
	if (dr.trace) {
		rc = cli_prog_vm(&src, &prog, dr.view.sem, &vm);
		if (rc != EXIT_OK)
			goto out;
		if (bpfvm_cfg_count_init(&cnt, &cfg) != 0) {
			cli_error("out of memory");
			rc = EXIT_INTERNAL;
			goto out;
		}
		rc = count_trace(vm, &dr, r, &cnt);
		if (rc != EXIT_OK)
			goto out;
		d.count = &cnt;
		d.path = dr.only >= 0;
		d.path_index = (uint64_t)dr.only;
		d.path_ret = dr.ret;
		d.path_snap = dr.snap;
	}
	make_title(title, sizeof(title), &src, &dr);
	d.prog = &prog;
	d.cfg = &cfg;
	d.title = title;
	if (!(mem = open_memstream(&text, &textlen))) {
		cli_error("out of memory writing the graph");
		rc = EXIT_INTERNAL;
		goto out;
	}
	rc = cli_dot_write(mem, &d);
	if (fclose(mem) != 0 || rc != 0) {
		cli_error("out of memory writing the graph");
		rc = EXIT_INTERNAL;
		goto out;
	}
	rc = fmt == OUT_DOT ? cli_write_atomic(text, textlen, out)
			    : cli_render_dot(text, textlen, fmt == OUT_PNG ? "png" : "svg", out);
out:
	free(text);
	bpfvm_cfg_count_free(&cnt);
	bpfvm_cfg_free(&cfg);
	bpfvm_destroy(vm);
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	cli_view_free(&dr.view);
	trace_close(r);
	return rc;
}
