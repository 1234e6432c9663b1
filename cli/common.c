/*
 * common.c - what several commands share: reading files, loading or
 * compiling a filter program, parsing numbers.
 */
#include "cli.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *cli_read_file(const char *path, size_t *len, char *err, size_t errsize)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;

	if (!f) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(cap)))
		snprintf(err, errsize, "%s: out of memory", path);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (n < cap - 1) {
			if (ferror(f)) {
				snprintf(err, errsize, "%s: read error: %s", path, strerror(errno));
				free(buf);
				buf = NULL;
			}
			break;
		}
		char *nb = realloc(buf, cap *= 2);

		if (!nb) {
			snprintf(err, errsize, "%s: out of memory after %zu bytes", path, n);
			free(buf);
		}
		buf = nb;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void cli_prog_src_init(struct cli_prog_src *s)
{
	memset(s, 0, sizeof(*s));
	s->format = BPFVM_FMT_AUTO;
	bpfvm_compile_opts_init(&s->copts);
}

int cli_take_expr(struct cli_prog_src *s, int argc, char **argv, int optind)
{
	size_t len = 1;

	if (optind >= argc)
		return 0;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!(s->expr = malloc(len)))
		return -1;
	s->expr[0] = '\0';
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			strcat(s->expr, " ");
		strcat(s->expr, argv[i]);
	}
	return 0;
}

const char *cli_prog_src_name(const struct cli_prog_src *s)
{
	if (!s->file)
		return "the expression";
	return strcmp(s->file, "-") == 0 ? "<stdin>" : s->file;
}

/* "capsim: [program A: ]<msg>": one line that says which program. */
static void prog_error(const struct cli_prog_src *s, const char *msg)
{
	if (s->label)
		cli_error("%s: %s", s->label, msg);
	else
		cli_error("%s", msg);
}

int cli_load_prog(struct cli_prog_src *s, enum bpfvm_semantics sem, int verbose,
		  struct bpfvm_prog *prog)
{
	char err[BPFVM_ERRBUF_SIZE];

	if (s->file && s->expr) {
		cli_error("give a program file (-F) or an expression, not both");
		return EXIT_USAGE;
	}
	if (s->file) {
		char *text = cli_read_file(s->file, NULL, err, sizeof(err));

		if (!text) {
			prog_error(s, err);
			return EXIT_INPUT;
		}
		int rc = bpfvm_parse(text, cli_prog_src_name(s), s->format, prog, err);

		free(text);
		if (rc != 0) {
			prog_error(s, err);
			return EXIT_INPUT;
		}
		if (verbose)
			fprintf(stderr, "capsim: read %u instructions from %s\n", prog->len, s->file);
		return EXIT_OK;
	}
	if (!s->expr) {
		cli_error("no filter: give -F FILE or an expression (an empty expression accepts "
			  "everything: use '' to say so)");
		return EXIT_USAGE;
	}
	if (!s->linux_ext_set)
		s->copts.linux_ext = sem == BPFVM_LINUX;
	if (bpfvm_compile(s->expr, &s->copts, prog, err) != 0) {
		prog_error(s, err);
		return strstr(err, "namespace") || strstr(err, "live handle") ? EXIT_ENV : EXIT_INPUT;
	}
	if (verbose)
		fprintf(stderr,
			"capsim: compiled '%s' with libpcap %s Linux extensions (as tcpdump does %s), "
			"optimizer %s, snaplen %d: %u instructions\n",
			s->expr, s->copts.linux_ext ? "with" : "without",
			s->copts.linux_ext ? "for a live capture" : "when reading a file",
			s->copts.optimize ? "on" : "off", s->copts.snaplen, prog->len);
	return EXIT_OK;
}

int cli_prog_vm(const struct cli_prog_src *s, const struct bpfvm_prog *prog,
		enum bpfvm_semantics sem, struct bpfvm **vm)
{
	char err[BPFVM_ERRBUF_SIZE], msg[BPFVM_ERRBUF_SIZE + 600];

	if (bpfvm_create(vm, prog, sem, err) == 0)
		return EXIT_OK;
	snprintf(msg, sizeof(msg), "%s: the %s would not accept this program, so it cannot run: %s",
		 cli_prog_src_name(s), sem == BPFVM_LINUX ? "kernel" : "libpcap validator", err);
	prog_error(s, msg);
	return EXIT_INPUT;
}

struct trace_reader *cli_open_trace(struct cli_prog_src *s, const char *trace,
				    enum bpfvm_semantics sem)
{
	char err[TRACE_ERRBUF_SIZE];
	struct trace_reader *r;

	if (trace_open(&r, trace, err) != 0) {
		cli_error("%s", err);
		return NULL;
	}
	if (sem == BPFVM_LIBPCAP && !s->linktype_set)
		s->copts.linktype = trace_linktype(r);
	return r;
}

void cli_prog_src_free(struct cli_prog_src *s)
{
	free(s->expr);
	s->expr = NULL;
}

int cli_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

const char cli_prog_help[] =
	"Program:\n"
	"  -F FILE             read the program from FILE (tcpdump -d/-dd/-ddd or bpf_asm,\n"
	"                      detected; '-' for stdin), instead of an EXPRESSION\n"
	"  --format FMT        read -F as ddd, dd, d or asm instead of detecting it\n"
	"  EXPRESSION          a pcap-filter expression, compiled by libpcap\n"
	"  -O0                 compile without libpcap's optimizer\n"
	"  -s SNAPLEN          the snapshot length the compiled program returns (262144)\n"
	"  -y LINKTYPE         the link type to compile for, by DLT name (EN10MB)\n"
	"  --linux-ext         compile as tcpdump does for a live Linux capture: VLAN tests\n"
	"                      use the kernel's ancillary data (needs root: a live libpcap\n"
	"                      handle is opened in a private network namespace)\n"
	"  --no-linux-ext      compile as tcpdump does when reading a file\n";

/* Handle an option shared by all program-taking subcommands; 1 if taken,
 * 0 if not ours, -1 on a bad value. */
int cli_prog_option(struct cli_prog_src *s, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case 'F':
		s->file = arg;
		return 1;
	case 'O':
		if (strcmp(arg, "0") != 0) {
			cli_error("-O takes only 0 (-O0: optimizer off)");
			return -1;
		}
		s->copts.optimize = 0;
		return 1;
	case 's':
		if (cli_parse_u32(arg, 262144, &v) != 0 || v == 0) {
			cli_error("-s: '%s' is not a snaplen from 1 to 262144", arg);
			return -1;
		}
		s->copts.snaplen = (int)v;
		return 1;
	case 'y':
		if ((s->copts.linktype = pcap_datalink_name_to_val(arg)) < 0) {
			cli_error("-y: no link type named '%s' (e.g. EN10MB, LINUX_SLL, RAW)", arg);
			return -1;
		}
		s->linktype_set = 1;
		return 1;
	case OPT_LINUX_EXT:
	case OPT_NO_LINUX_EXT:
		s->copts.linux_ext = c == OPT_LINUX_EXT;
		s->linux_ext_set = 1;
		return 1;
	case OPT_FORMAT:
		if (bpfvm_format_from_name(arg, &s->format) != 0) {
			cli_error("--format: '%s' is not one of ddd, dd, d, asm, auto", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_parse_semantics(const char *arg, enum bpfvm_semantics *sem)
{
	if (bpfvm_semantics_from_name(arg, sem) != 0) {
		cli_error("--semantics: '%s' is neither linux nor libpcap", arg);
		return -1;
	}
	return 0;
}


double cli_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_trace_progress(const struct trace_reader *r, uint64_t n, const char *what,
			double *last, int done)
{
	uint64_t pos, total;
	double now = cli_now_s();

	if (!done && now - *last < 0.25)
		return;
	*last = now;
	trace_progress(r, &pos, &total);
	if (done)
		fprintf(stderr, "\r\033[K");
	else if (total)
		fprintf(stderr, "\rcapsim: %llu %s, %u%%", (unsigned long long)n, what,
			(unsigned)(pos * 100 / total));
	else
		fprintf(stderr, "\rcapsim: %llu %s", (unsigned long long)n, what);
}

const char *cli_errno_name(int e)
{
	const char *n = e > 0 ? strerrorname_np(e) : NULL;

	return e == 0 ? "0" : n ? n : "unknown errno";
}
