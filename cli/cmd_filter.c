/*
 * cmd_filter.c - `capsim filter ...`: check, compile and run classic BPF
 * programs with the kernel's or libpcap's semantics.
 */
#include "cli.h"
#include "sim.h"
#include "trace.h"

#include <getopt.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- filter check ---------------------------------------------------- */

static int filter_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "semantics", required_argument, NULL, OPT_SEMANTICS },
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	enum bpfvm_semantics sem = BPFVM_LINUX;
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	char err[BPFVM_ERRBUF_SIZE];
	int c, verbose = 0, rc;

	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:v", opts, NULL)) != -1) {
		int r = cli_prog_option(&src, c, optarg);

		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_SEMANTICS:
			if (cli_parse_semantics(optarg, &sem) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter check [OPTIONS] (-F FILE | EXPRESSION)\n\n"
			       "Would the kernel's SO_ATTACH_FILTER (linux, the default) or libpcap's\n"
			       "bpf_validate() (--semantics libpcap) accept the program?  Prints 'ok'\n"
			       "and exits 0, or prints the rule broken and the instruction, exit 1.\n\n"
			       "  --semantics S       linux (default) or libpcap\n"
			       "  -v                  say how the program was obtained\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	rc = cli_load_prog(&src, sem, verbose, &prog);
	if (rc == EXIT_OK) {
		if (bpfvm_verify(&prog, sem, err) == 0) {
			printf("ok\n");
		} else {
			printf("rejected: %s\n", err);
			rc = EXIT_NEGATIVE;
		}
	}
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	return rc;
}

/* ---- filter compile -------------------------------------------------- */

static int filter_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	enum bpfvm_format out_fmt = BPFVM_FMT_D;
	int c, verbose = 0, rc;

	cli_prog_src_init(&src);
	src.linux_ext_set = 1;	/* compile defaults to "as for a file" */
	while ((c = getopt_long(argc, argv, "O:s:y:v", opts, NULL)) != -1) {
		int r = c == OPT_FORMAT ? 0 : cli_prog_option(&src, c, optarg);

		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_FORMAT:
			if (bpfvm_format_from_name(optarg, &out_fmt) != 0 || out_fmt == BPFVM_FMT_AUTO) {
				cli_error("--format: '%s' is not one of ddd, dd, d, asm", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter compile [OPTIONS] EXPRESSION\n\n"
			       "Compile a pcap-filter expression with libpcap and print the program.\n"
			       "By default as tcpdump would when reading a file; --linux-ext as for a\n"
			       "live Linux capture.\n\n"
			       "  --format FMT        d (tcpdump -d, default), dd, ddd, or asm (bpf_asm)\n"
			       "  -O0, -s SNAPLEN, -y LINKTYPE, --linux-ext, --no-linux-ext  as below\n"
			       "  -v                  say how it was compiled\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	if (!src.expr) {
		cli_error("filter compile: no expression given");
		return EXIT_USAGE;
	}
	rc = cli_load_prog(&src, BPFVM_LIBPCAP, verbose, &prog);
	if (rc == EXIT_OK && (bpfvm_write(stdout, &prog, out_fmt) != 0 || fflush(stdout) != 0)) {
		cli_error("cannot write the program to standard output");
		rc = EXIT_INTERNAL;
	}
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	return rc;
}

/* ---- filter run ------------------------------------------------------ */

struct run_opts {
	struct cli_view view;	/* semantics and the receiving device */
	int verdicts, verbose, only_count;
	const char *write;	/* -w: save what tcpdump would have saved */
	uint32_t snapshot;	/* the capture handle's snapshot length */
	uint64_t count;		/* -c: stop after this many records (0: all) */
};

struct run_totals {
	uint64_t records, accepted, rejected, dropped;
};

/* One record through the model: 1 and *@snap, 0 when the kernel discards
 * the frame before any packet socket sees it, -1 out of memory. */
static int run_record(const struct bpfvm *vm, struct run_opts *o, const struct trace_record *rec,
		      uint32_t *snap, struct sim_rx_view *view)
{
	int reached = cli_record_view(&o->view, o->view.sem, rec, view);

	if (reached == 1)
		*snap = bpfvm_snaplen(vm, &view->pkt,
				      bpfvm_run(vm, &view->pkt,
						o->view.sem == BPFVM_LINUX ? &view->meta : NULL));
	return reached;
}

/* One record in the default listing: index, time since the first record,
 * wire length, verdict, and what the frame is.  @snap is UINT32_MAX for a
 * frame the kernel discarded before the taps. */
static void print_listing_line(const struct trace_record *rec, uint32_t snap,
			       const struct sim_rx_view *view, int linktype, uint64_t *first_ts)
{
	char what[160], verdict[48];
	uint64_t dt;

	if (rec->index == 0 || *first_ts == UINT64_MAX)
		*first_ts = rec->ts_ns;
	dt = rec->ts_ns >= *first_ts ? rec->ts_ns - *first_ts : 0;
	if (snap == UINT32_MAX)
		snprintf(verdict, sizeof(verdict), "dropped:%s", sim_drop_reason_name(view->drop));
	else if (snap)
		snprintf(verdict, sizeof(verdict), "captured %u", snap);
	else
		snprintf(verdict, sizeof(verdict), "rejected");
	printf("%6llu %4llu.%06llu %5u  %-22s %s\n", (unsigned long long)rec->index,
	       (unsigned long long)(dt / 1000000000ull), (unsigned long long)(dt % 1000000000ull / 1000),
	       rec->wirelen, verdict, trace_describe(rec->bytes, rec->caplen, linktype, what, sizeof(what)));
}

/* Save an accepted record as tcpdump would have: on a live capture
 * (linux) the kernel cut it to the verdict and libpcap put the VLAN tag
 * back; reading a file (libpcap), pcap_offline_read() hands the record on
 * whole - libpcap never cuts a record to the filter's return value. */
static void save_record(struct trace_writer *w, const struct run_opts *o,
			const struct trace_record *rec, const struct sim_rx_view *view,
			uint32_t snap, uint8_t *scratch)
{
	uint32_t caplen, len;

	if (o->view.sem == BPFVM_LIBPCAP) {
		trace_write(w, rec->ts_ns, rec->bytes, rec->caplen, rec->wirelen);
		return;
	}
	sim_libpcap_deliver(view, snap, o->snapshot, scratch, &caplen, &len);
	trace_write(w, rec->ts_ns, scratch, caplen, len);
}

/* Run every record of @r (opened from @path; closed here). */
static int run_trace(const struct bpfvm *vm, struct run_opts *o, const char *path,
		     struct trace_reader *r, struct run_totals *t)
{
	char err[TRACE_ERRBUF_SIZE];
	struct trace_writer *w = NULL;
	struct trace_record rec;
	struct sim_rx_view view;
	uint8_t *scratch = NULL;
	size_t scratchsize = 0;
	uint64_t first_ts = UINT64_MAX, pos, total;
	double last_progress = 0;
	int rc = 0, status = EXIT_OK, progress;

	if (cli_view_check_trace(o->view.sem, path, trace_linktype(r)) != EXIT_OK) {
		trace_close(r);
		return EXIT_INPUT;
	}
	if (o->write && trace_writer_open(&w, o->write, trace_linktype(r), o->snapshot, err) != 0) {
		cli_error("%s", err);
		trace_close(r);
		return EXIT_INPUT;
	}
	/* A progress line only where someone watches, and only for big traces. */
	trace_progress(r, &pos, &total);
	progress = isatty(STDERR_FILENO) && (!total || total > (16u << 20));
	while ((!o->count || t->records < o->count) && (rc = trace_next(r, &rec, err)) == 1) {
		uint32_t snap = 0;
		int reached;

		/* libpcap's delivery (-w) puts a VLAN tag back into @scratch. */
		if (w && rec.caplen + 4 > scratchsize) {
			uint8_t *ns = realloc(scratch, rec.caplen + 4);

			if (!ns) {
				cli_error("out of memory at record %llu", (unsigned long long)rec.index);
				status = EXIT_INTERNAL;
				break;
			}
			scratch = ns;
			scratchsize = rec.caplen + 4;
		}
		if ((reached = run_record(vm, o, &rec, &snap, &view)) < 0) {
			status = EXIT_INTERNAL;
			break;
		}

		t->records++;
		if (!reached)
			t->dropped++;
		else if (snap)
			t->accepted++;
		else
			t->rejected++;
		if (w && reached && snap)
			save_record(w, o, &rec, &view, snap, scratch);
		if (progress)
			cli_trace_progress(r, t->records, "records", &last_progress, 0);
		if (o->only_count)
			continue;
		if (o->verdicts) {
			if (reached)
				printf("%llu %u\n", (unsigned long long)rec.index, snap);
			else
				printf("%llu dropped\n", (unsigned long long)rec.index);
			continue;
		}
		print_listing_line(&rec, reached ? snap : UINT32_MAX, &view, trace_linktype(r),
				   &first_ts);
	}
	if (progress)
		cli_trace_progress(r, t->records, "records", &last_progress, 1);
	if (rc < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
	}
	if (w) {
		if (status != EXIT_OK) {
			trace_writer_abort(w);
		} else if (trace_writer_commit(w, err) != 0) {
			cli_error("%s", err);
			status = EXIT_INTERNAL;
		}
	}
	free(scratch);
	trace_close(r);
	return status;
}

static int filter_run(int argc, char **argv)
{
	static const struct option opts[] = {
		VIEW_OPTIONS,
		{ "verdicts", no_argument, NULL, OPT_VERDICTS },
		{ "count", no_argument, NULL, OPT_COUNT },
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	struct run_opts o = { 0 };
	struct run_totals t = { 0 };
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	struct bpfvm *vm = NULL;
	struct trace_reader *r = NULL;
	const char *trace = NULL;
	uint32_t v;
	int c, rc;

	cli_view_init(&o.view);
	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:r:c:w:v", opts, NULL)) != -1) {
		int r = cli_prog_option(&src, c, optarg);

		if (r == 0)
			r = cli_view_option(&o.view, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'r':
			trace = optarg;
			break;
		case 'w':
			o.write = optarg;
			break;
		case OPT_COUNT:
			o.only_count = 1;
			break;
		case 'c':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0 || v == 0) {
				cli_error("-c: '%s' is not a positive count", optarg);
				return EXIT_USAGE;
			}
			o.count = v;
			break;
		case OPT_VERDICTS:
			o.verdicts = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter run [OPTIONS] (-F FILE | EXPRESSION) -r TRACE\n\n"
			       "Run a filter over every record of a trace, as the kernel would on a live\n"
			       "capture (linux, the default) or as libpcap does reading a file.\n\n"
			       "  -r TRACE            pcap or pcapng file, '-' for stdin\n"
			       "  --verdicts          one line per record: 'INDEX CAPLEN' (0 = rejected),\n"
			       "                      or 'INDEX dropped' when the kernel discards the frame\n"
			       "                      before any packet socket sees it\n"
			       "  -c COUNT            stop after COUNT records\n"
			       "  -w FILE             save the accepted records as tcpdump would have: cut\n"
			       "                      to the verdict with the VLAN tag put back (linux), or\n"
			       "                      whole (libpcap: offline filtering never cuts a record);\n"
			       "                      '-w - --count': the pcap on stdout, the summary on stderr\n"
			       "  --count             print only the closing summary\n"
			       "  -v                  say how the program was obtained, and totals\n%s\n%s",
			       cli_view_help, cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!trace) {
		cli_error("filter run: no trace given (-r TRACE)");
		return EXIT_USAGE;
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	if (!(r = cli_open_trace(&src, trace, o.view.sem))) {
		rc = EXIT_INPUT;
		goto out;
	}
	rc = cli_load_prog(&src, o.view.sem, o.verbose, &prog);
	if (rc != EXIT_OK)
		goto out;
	rc = cli_prog_vm(&src, &prog, o.view.sem, &vm);
	if (rc != EXIT_OK)
		goto out;
	if (o.verbose)
		fprintf(stderr, "capsim: %s semantics%s\n", bpfvm_semantics_name(o.view.sem),
			o.view.sem == BPFVM_LINUX ? (o.view.sock == SIM_SOCK_RAW ? ", SOCK_RAW tap"
								     : ", SOCK_DGRAM tap")
					     : "");
	o.snapshot = (uint32_t)src.copts.snaplen;
	/* The payload offset costs a flow dissection per frame: only when read. */
	o.view.dev.want_poff = (uint8_t)bpfvm_prog_uses_ancillary(&prog, SKF_AD_PAY_OFFSET);
	int pcap_to_stdout = o.write && strcmp(o.write, "-") == 0;

	if (pcap_to_stdout && !o.only_count) {
		cli_error("-w -: the %s would go to standard output too; add --count",
			  o.verdicts ? "verdicts" : "listing");
		rc = EXIT_USAGE;
		goto out;
	}
	rc = run_trace(vm, &o, trace, r, &t);
	r = NULL;
	if (fflush(stdout) != 0) {
		cli_error("cannot write to standard output");
		rc = EXIT_INTERNAL;
	}
	if (!o.verdicts || o.verbose)
		fprintf(o.verdicts || pcap_to_stdout ? stderr : stdout,
			"%llu records: %llu accepted, %llu rejected, %llu dropped before the taps\n",
			(unsigned long long)t.records, (unsigned long long)t.accepted,
			(unsigned long long)t.rejected, (unsigned long long)t.dropped);
out:
	trace_close(r);
	bpfvm_destroy(vm);
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	cli_view_free(&o.view);
	return rc;
}

/* The filter subcommands.  Others live in their own files (cli.h). */
static const struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} filter_subs[] = {
	{ "check", filter_check, "would the kernel (or libpcap) accept this program?" },
	{ "compile", filter_compile, "compile an expression with libpcap and print it" },
	{ "run", filter_run, "run a filter over a trace" },
	{ "disasm", cmd_filter_disasm, "print a program in another format (d, dd, ddd, asm)" },
	{ "asm", cmd_filter_asm, "assemble bpf_asm (or any format) to tcpdump -ddd" },
	{ "dot", cmd_filter_dot, "draw the control-flow graph, with a trace's coverage" },
	{ "step", cmd_filter_step, "run one record, printing every instruction executed" },
	{ "diff", cmd_filter_diff, "where two filters' verdicts differ on a trace, and why" },
};

int cmd_filter(int argc, char **argv)
{
	const size_t n = sizeof(filter_subs) / sizeof(filter_subs[0]);
	int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	FILE *f = help ? stdout : stderr;

	for (size_t i = 0; argc >= 2 && i < n; i++)
		if (strcmp(argv[1], filter_subs[i].name) == 0)
			return filter_subs[i].fn(argc - 1, argv + 1);
	if (argc >= 2 && !help)
		cli_error("filter: no subcommand '%s'", argv[1]);
	fprintf(f, "usage: capsim filter SUBCOMMAND [OPTIONS]...\n\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-8s %s\n", filter_subs[i].name, filter_subs[i].summary);
	fprintf(f, "\n'capsim filter SUBCOMMAND --help' explains each.\n");
	return help ? EXIT_OK : EXIT_USAGE;
}
