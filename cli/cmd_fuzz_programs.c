/*
 * cmd_fuzz_programs.c - `capsim fuzz programs`: random classic programs,
 * valid and deliberately broken, through our verifier and VM and through
 * the running kernel (live/fuzzprog.c runs the campaign; this file reads
 * options, shows progress and prints the report).
 */
#include "cli.h"
#include "live.h"
#include "trace.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Long-option codes, clear of the shared ones in cli.h. */
enum {
	FP_SEED = 512, FP_SECONDS, FP_NO_LIVE, FP_TRACE, FP_PIN, FP_NO_PIN, FP_EXCLUDE,
	FP_FRAMES, FP_SOCK, FP_MAX_REPORTS, FP_JSON, FP_HELP, FP_WORKERS,
};

static const char help[] =
	"usage: capsim fuzz programs [OPTIONS]\n\n"
	"Random classic BPF programs - valid ones, and ones broken on purpose (bad\n"
	"opcodes, jumps out of range, no final return, constant division by zero,\n"
	"shifts by 32 or more, scratch cells out of range or read before written,\n"
	"unknown ancillary offsets, bad lengths, random bytes, mutants) - judged twice:\n"
	"  phase A: our verifier against setsockopt(SO_ATTACH_FILTER) on a plain socket;\n"
	"  phase B: every program both accept runs on frames through the model\n"
	"           (receive view, VM, snaplen) and through the kernel (a packet socket\n"
	"           on a veth pair in a private network namespace); delivery, tp_len,\n"
	"           tp_snaplen, the captured bytes and drops before the taps must agree.\n"
	"Every disagreement is minimised (delta debugging) and printed with the\n"
	"program and, for phase B, the frame.  The same seed gives the same programs.\n"
	"Exit 0 when nothing was found, 1 when something was.  Phase B needs root.\n\n"
	"  -n N                programs to generate (10000)\n"
	"  --seed S            the campaign's seed (1)\n"
	"  --seconds S         stop after S seconds; the report says how many programs ran,\n"
	"                      and -n with that count repeats exactly that campaign\n"
	"  --no-live           phase A, and the model alone on the frames (no root needed)\n"
	"  --trace FILE        also run accepted programs on FILE's records (Ethernet;\n"
	"                      up to 64 of them per program, drawn at random from at\n"
	"                      most " TRACE_SAMPLE_RECORDS_TEXT ": a random sample when it holds more)\n"
	"  --frames N          generated frames per program (64)\n"
	"  --sock raw|dgram    the filtered socket's type (raw)\n"
	"  --pin-ifindex       pin SKF_AD_IFINDEX in the model to the harness's receiving\n"
	"                      device (the default)\n"
	"  --no-pin-ifindex    exclude programs loading #ifidx from phase B instead\n"
	"  --exclude NAMES     ancillary loads whose programs stay out of phase B, as\n"
	"                      bpf_asm names, comma-separated, or 'none'\n"
	"                      (rxhash,cpu,rand: the kernel does not make them reproducible)\n"
	"  --max-reports N     disagreements minimised and shown per phase (20); more are\n"
	"                      counted\n"
	"  --workers N         live harnesses (private namespaces) running programs side by\n"
	"                      side (8); the programs and frames do not depend on it\n"
	"  -v                  also show each finding's original program and the harness's\n"
	"                      counters\n"
	"  --json              the report as JSON on stdout\n";

struct fp_cli {
	struct live_fuzz_opts o;
	const char *trace;
	int json, verbose;
	uint64_t requested;
};

/* ---- options ---------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_exclude(const char *arg, uint32_t *mask)
{
	char *copy, *tok, *save = NULL;

	*mask = 0;
	if (strcmp(arg, "none") == 0 || !*arg)
		return 0;
	copy = strdup(arg);
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int ad = bpfvm_ancillary_lookup(tok);

		if (ad < 0) {
			cli_error("--exclude: '%s' is not an ancillary load (e.g. rxhash, cpu, rand, "
				  "ifidx, queue, mark)", tok);
			free(copy);
			return -1;
		}
		*mask |= 1u << (ad / 4);
	}
	free(copy);
	return 0;
}

static int parse_args(struct fp_cli *cl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, FP_SEED },
		{ "seconds", required_argument, NULL, FP_SECONDS },
		{ "no-live", no_argument, NULL, FP_NO_LIVE },
		{ "trace", required_argument, NULL, FP_TRACE },
		{ "pin-ifindex", no_argument, NULL, FP_PIN },
		{ "no-pin-ifindex", no_argument, NULL, FP_NO_PIN },
		{ "exclude", required_argument, NULL, FP_EXCLUDE },
		{ "frames", required_argument, NULL, FP_FRAMES },
		{ "sock", required_argument, NULL, FP_SOCK },
		{ "max-reports", required_argument, NULL, FP_MAX_REPORTS },
		{ "workers", required_argument, NULL, FP_WORKERS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, FP_JSON },
		{ "help", no_argument, NULL, FP_HELP },
		{ 0 }
	};
	uint32_t v;
	int c;

	live_fuzz_opts_init(&cl->o);
	cl->requested = cl->o.programs;
	while ((c = getopt_long(argc, argv, "n:v", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &cl->requested) != 0) {
				cli_error("-n: '%s' is not a count of programs", optarg);
				return EXIT_USAGE;
			}
			cl->o.programs = cl->requested;
			break;
		case FP_SEED:
			if (parse_u64(optarg, &cl->o.seed) != 0) {
				cli_error("--seed: '%s' is not an unsigned number", optarg);
				return EXIT_USAGE;
			}
			break;
		case FP_SECONDS: {
			char *end;

			cl->o.seconds = strtod(optarg, &end);
			if (*end || !(cl->o.seconds > 0)) {
				cli_error("--seconds: '%s' is not a positive number of seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case FP_NO_LIVE:
			cl->o.live = 0;
			break;
		case FP_TRACE:
			cl->trace = optarg;
			break;
		case FP_PIN:
		case FP_NO_PIN:
			cl->o.pin_ifindex = c == FP_PIN;
			break;
		case FP_EXCLUDE:
			if (parse_exclude(optarg, &cl->o.exclude) != 0)
				return EXIT_USAGE;
			break;
		case FP_FRAMES:
			if (cli_parse_u32(optarg, 4096, &v) != 0) {
				cli_error("--frames: '%s' is not a number from 0 to 4096", optarg);
				return EXIT_USAGE;
			}
			cl->o.frames_per_prog = v;
			break;
		case FP_SOCK:
			if (strcmp(optarg, "raw") == 0) {
				cl->o.sock_type = SOCK_RAW;
			} else if (strcmp(optarg, "dgram") == 0) {
				cl->o.sock_type = SOCK_DGRAM;
			} else {
				cli_error("--sock: '%s' is neither raw nor dgram", optarg);
				return EXIT_USAGE;
			}
			break;
		case FP_MAX_REPORTS:
			if (cli_parse_u32(optarg, 100000, &v) != 0) {
				cli_error("--max-reports: '%s' is not a number", optarg);
				return EXIT_USAGE;
			}
			cl->o.max_findings = v;
			break;
		case FP_WORKERS:
			if (cli_parse_u32(optarg, 64, &v) != 0 || v == 0) {
				cli_error("--workers: '%s' is not a number from 1 to 64", optarg);
				return EXIT_USAGE;
			}
			cl->o.workers = v;
			break;
		case 'v':
			cl->verbose = 1;
			break;
		case FP_JSON:
			cl->json = 1;
			break;
		case FP_HELP:
			fputs(help, stdout);
			return -1;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("fuzz programs: unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* ---- progress --------------------------------------------------------- */

struct progress {
	uint64_t total;
	double last;
	int shown;
};

/* "\rcapsim: fuzz programs N/T, A disagreements" at most four times a second. */
static void show_progress(void *ctx, const struct live_fuzz_stats *st)
{
	struct progress *pr = ctx;
	double t = cli_now_s();

	if (t - pr->last < 0.25)
		return;
	pr->last = t;
	pr->shown = 1;
	fprintf(stderr, "\r\033[Kcapsim: fuzz programs %llu/%llu, %.0f s, %llu verifier and %llu "
		"execution disagreements",
		(unsigned long long)st->programs, (unsigned long long)pr->total, st->seconds_total,
		(unsigned long long)st->verify_disagreements,
		(unsigned long long)st->exec_disagreements);
}

/* ---- printing --------------------------------------------------------- */

/* @prog in @fmt as a string (the caller frees), or NULL. */
static char *prog_text(const struct bpfvm_prog *prog, enum bpfvm_format fmt)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (bpfvm_write(f, prog, fmt) != 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static void print_indented(const char *text, const char *indent)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		printf("%s%.*s\n", indent, n, p);
		p = nl ? nl + 1 : NULL;
	}
}

static void print_prog(const char *title, const struct bpfvm_prog *prog, int listing)
{
	char *t = prog_text(prog, BPFVM_FMT_DDD);

	printf("  %s (tcpdump -ddd):\n", title);
	print_indented(t, "    ");
	free(t);
	if (!listing)
		return;
	t = prog_text(prog, BPFVM_FMT_D);
	printf("  %s (tcpdump -d):\n", title);
	print_indented(t, "    ");
	free(t);
}

static void print_hex(const char *indent, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 16) {
		printf("%s%04x ", indent, i);
		for (uint32_t j = i; j < n && j < i + 16; j++)
			printf(" %02x", p[j]);
		printf("\n");
	}
}

/* One side's outcome; the bytes only where they differ from @other's
 * (which is NULL for the first side printed). */
static void print_outcome(const char *who, const struct live_fuzz_outcome *o,
			  const struct live_fuzz_outcome *other)
{
	printf("  %s reached the taps %s, delivered %s", who, o->reached ? "yes" : "no",
	       o->delivered ? "yes" : "no");
	if (o->delivered)
		printf(", tp_len %u, tp_snaplen %u", o->len, o->snaplen);
	printf("\n");
	if (!o->delivered || !o->bytes)
		return;
	if (other && other->delivered && other->bytes) {
		uint32_t n = o->snaplen < other->snaplen ? o->snaplen : other->snaplen;

		if (memcmp(o->bytes, other->bytes, n) == 0) {
			printf("      (the same bytes as far as both go)\n");
			return;
		}
	}
	print_hex("      ", o->bytes, o->snaplen);
}

static void print_finding(const struct fp_cli *cl, size_t n, const struct live_fuzz_finding *f)
{
	printf("\ndisagreement %zu, phase %s, program #%llu (%s): %s\n", n + 1,
	       f->phase == LIVE_FUZZ_PHASE_VERIFY ? "A" : "B", (unsigned long long)f->program,
	       live_fuzz_source_name(f->source), f->what);
	if (f->repeats)
		printf("  %llu later program(s) minimised to the same program\n",
		       (unsigned long long)f->repeats);
	if (f->reproduced)
		printf("  minimised from %u to %u instruction(s) in %u predicate calls%s\n",
		       f->min.from_len, f->minimized.len, f->min.tests,
		       f->min.exhausted ? " (budget used up: smaller may exist)" : "");
	else
		printf("  NOT reproduced when checked again%s: shown as found, not minimised\n",
		       f->phase == LIVE_FUZZ_PHASE_EXEC ? " on this frame alone" : "");
	if (f->verify_rc == 0)
		printf("  our verifier: accepts\n");
	else
		printf("  our verifier: refuses: %s\n", f->verify_msg);
	if (f->kernel_errno == 0)
		printf("  kernel:       accepts\n");
	else
		printf("  kernel:       refuses: %s (%s)\n", cli_errno_name(f->kernel_errno),
		       strerror(f->kernel_errno));
	print_prog("program", &f->minimized, 1);
	if (cl->verbose && f->reproduced)
		print_prog("original program", &f->original, 0);
	if (f->phase != LIVE_FUZZ_PHASE_EXEC)
		return;
	if (f->extra_index >= 0)
		printf("  frame: record %ld of %s, %u bytes:\n", f->extra_index, cl->trace,
		       f->frame_len);
	else
		printf("  frame: generated, %u bytes:\n", f->frame_len);
	print_hex("    ", f->frame, f->frame_len);
	print_outcome("kernel:", &f->kernel, NULL);
	print_outcome("model: ", &f->model, &f->kernel);
}

/* The ancillary loads whose programs stayed out of phase B (as the
 * engine decides it: only when the kernel takes part). */
static uint32_t excluded_mask(const struct fp_cli *cl)
{
	if (!cl->o.live)
		return 0;
	return cl->o.exclude | (cl->o.pin_ifindex ? 0 : 1u << (SKF_AD_IFINDEX / 4));
}

static double rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static void print_text(const struct fp_cli *cl, const struct live_fuzz_report *rep)
{
	const struct live_fuzz_stats *st = &rep->st;
	const char *sep = "";

	printf("fuzz programs: seed %llu, %llu of %llu programs in %.1f s%s\n",
	       (unsigned long long)cl->o.seed, (unsigned long long)st->programs,
	       (unsigned long long)cl->requested, st->seconds_total,
	       st->stopped_early ? " (time limit: -n with that count repeats this campaign)" : "");
	printf("phase A, verifier vs SO_ATTACH_FILTER: %llu programs, %llu accepted by the kernel, "
	       "%llu refused (%llu of them ENOMEM); %llu disagreements; %.0f programs/s\n",
	       (unsigned long long)st->programs, (unsigned long long)st->kernel_accepted,
	       (unsigned long long)(st->programs - st->kernel_accepted),
	       (unsigned long long)st->kernel_enomem, (unsigned long long)st->verify_disagreements,
	       rate(st->programs, st->seconds_verify));
	printf("  sources:");
	for (unsigned s = 0; s < LIVE_FUZZ_NSOURCES; s++) {
		printf("%s %s %llu", sep, live_fuzz_source_name(s),
		       (unsigned long long)st->by_source[s]);
		sep = ",";
	}
	printf("\n");
	if (cl->o.live)
		printf("phase B, model vs kernel (%s tap, %u harnesses): %llu programs on %llu frame "
		       "verdicts; %llu programs and %llu frames disagree; %.0f programs/s\n",
		       cl->o.sock_type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_RAW", cl->o.workers,
		       (unsigned long long)st->exec_programs, (unsigned long long)st->frames_compared,
		       (unsigned long long)st->exec_disagreements,
		       (unsigned long long)st->frame_disagreements,
		       rate(st->exec_programs, st->seconds_exec));
	else
		printf("phase B, model only (--no-live): %llu programs on %llu frames, nothing "
		       "compared with the kernel; %.0f programs/s\n",
		       (unsigned long long)st->exec_programs, (unsigned long long)st->frames_modelled,
		       rate(st->exec_programs, st->seconds_exec));
	printf("  frames: %u generated", st->pool_frames);
	if (cl->trace)
		printf(", %u records of %s", st->extra_frames, cl->trace);
	printf("; %u per program%s\n", cl->o.frames_per_prog,
	       cl->trace ? " plus up to 64 records" : "");
	if (st->ifindex)
		printf("  pinned: ifidx = %d (the harness's receiving device)\n", st->ifindex);
	if (excluded_mask(cl)) {
		printf("  excluded: %llu accepted programs that load", (unsigned long long)st->excluded);
		sep = "";
		for (unsigned i = 0; i < SKF_AD_MAX / 4; i++) {
			const char *name = bpfvm_ancillary_name(i * 4);

			if (!(excluded_mask(cl) & 1u << i))
				continue;
			printf("%s %s (%llu)", sep, name ? name : "?",
			       (unsigned long long)st->excluded_by[i]);
			sep = ",";
		}
		printf("\n");
	} else {
		printf("  excluded: none\n");
	}
	if (st->frames_unsent)
		printf("  not compared: %llu frames the kernel would not send\n",
		       (unsigned long long)st->frames_unsent);
	if (st->packet_socket_refused)
		printf("  not run: %llu programs the packet socket refused although a fresh socket "
		       "took them\n    (expected within a few bytes of optmem_max: the harness "
		       "replaces a filter, and\n    __sk_attach_prog() charges the new one before it "
		       "releases the old)\n",
		       (unsigned long long)st->packet_socket_refused);
	if (cl->verbose && cl->o.live)
		printf("  harness: %llu frames in %llu batches, %llu ring drops, %llu batches "
		       "resent, %llu frames resent to confirm a drop\n",
		       (unsigned long long)rep->harness.frames, (unsigned long long)rep->harness.batches,
		       (unsigned long long)rep->harness.ring_drops,
		       (unsigned long long)rep->harness.resent_batches,
		       (unsigned long long)rep->harness.confirm_resends);
	if (st->minimize_tests)
		printf("minimising: %llu predicate calls in %.1f s\n",
		       (unsigned long long)st->minimize_tests, st->seconds_minimize);
	for (size_t i = 0; i < rep->n_findings; i++)
		print_finding(cl, i, &rep->findings[i]);
	if (st->unminimised)
		printf("\n%llu more disagreements were counted but not minimised "
		       "(--max-reports %u per phase)\n",
		       (unsigned long long)st->unminimised, cl->o.max_findings);
	if (!st->verify_disagreements && !st->exec_disagreements)
		printf("result: no disagreement\n");
	else
		printf("\nresult: %llu verifier and %llu execution disagreements, %zu distinct "
		       "minimised findings\n",
		       (unsigned long long)st->verify_disagreements,
		       (unsigned long long)st->exec_disagreements, rep->n_findings);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *json_hex(const uint8_t *p, uint32_t n)
{
	char *s = malloc((size_t)n * 2 + 1);
	json_t *j;

	if (!s)
		return json_null();
	for (uint32_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *json_prog(const struct bpfvm_prog *p)
{
	char *ddd = prog_text(p, BPFVM_FMT_DDD), *d = prog_text(p, BPFVM_FMT_D);
	json_t *o = json_pack("{s:I, s:s?, s:s?}", "len", (json_int_t)p->len, "ddd", ddd, "listing", d);

	free(ddd);
	free(d);
	return o;
}

static json_t *json_outcome(const struct live_fuzz_outcome *o)
{
	json_t *j = json_pack("{s:b, s:b}", "reached", o->reached, "delivered", o->delivered);

	if (o->delivered) {
		json_object_set_new(j, "tp_len", json_integer(o->len));
		json_object_set_new(j, "tp_snaplen", json_integer(o->snaplen));
		if (o->bytes)
			json_object_set_new(j, "bytes", json_hex(o->bytes, o->snaplen));
	}
	return j;
}

static json_t *json_finding(const struct live_fuzz_finding *f)
{
	json_t *j = json_object();

	json_object_set_new(j, "phase", json_string(f->phase == LIVE_FUZZ_PHASE_VERIFY ? "verify" : "exec"));
	json_object_set_new(j, "what", json_string(f->what));
	json_object_set_new(j, "program_index", json_integer((json_int_t)f->program));
	json_object_set_new(j, "source", json_string(live_fuzz_source_name(f->source)));
	json_object_set_new(j, "repeats", json_integer((json_int_t)f->repeats));
	json_object_set_new(j, "reproduced", json_boolean(f->reproduced));
	json_object_set_new(j, "minimize_tests", json_integer(f->min.tests));
	json_object_set_new(j, "original", json_prog(&f->original));
	json_object_set_new(j, "minimized", json_prog(&f->minimized));
	json_object_set_new(j, "verifier", f->verify_rc == 0
					       ? json_pack("{s:b}", "accepts", 1)
					       : json_pack("{s:b, s:s}", "accepts", 0, "message", f->verify_msg));
	json_object_set_new(j, "kernel", f->kernel_errno == 0
					     ? json_pack("{s:b}", "accepts", 1)
					     : json_pack("{s:b, s:i, s:s}", "accepts", 0, "errno",
							 f->kernel_errno, "errno_name",
							 cli_errno_name(f->kernel_errno)));
	if (f->phase == LIVE_FUZZ_PHASE_EXEC) {
		json_t *fr = json_pack("{s:i, s:o}", "len", (json_int_t)f->frame_len, "bytes",
				       json_hex(f->frame, f->frame_len));

		json_object_set_new(fr, "trace_record", f->extra_index >= 0
								? json_integer(f->extra_index)
								: json_null());
		json_object_set_new(j, "frame", fr);
		json_object_set_new(j, "kernel_outcome", json_outcome(&f->kernel));
		json_object_set_new(j, "model_outcome", json_outcome(&f->model));
	}
	return j;
}

static int print_json(const struct fp_cli *cl, const struct live_fuzz_report *rep)
{
	const struct live_fuzz_stats *st = &rep->st;
	json_t *root = json_object(), *a = json_object(), *b = json_object(), *src = json_object();
	json_t *excl = json_object(), *fa = json_array();
	uint32_t mask = excluded_mask(cl);
	int ret;

	json_object_set_new(root, "seed", json_integer((json_int_t)cl->o.seed));
	json_object_set_new(root, "programs_requested", json_integer((json_int_t)cl->requested));
	json_object_set_new(root, "programs", json_integer((json_int_t)st->programs));
	json_object_set_new(root, "stopped_early", json_boolean(st->stopped_early));
	json_object_set_new(root, "seconds", json_real(st->seconds_total));
	for (unsigned s = 0; s < LIVE_FUZZ_NSOURCES; s++)
		json_object_set_new(src, live_fuzz_source_name(s),
				    json_integer((json_int_t)st->by_source[s]));
	json_object_set_new(a, "programs", json_integer((json_int_t)st->programs));
	json_object_set_new(a, "sources", src);
	json_object_set_new(a, "kernel_accepted", json_integer((json_int_t)st->kernel_accepted));
	json_object_set_new(a, "kernel_enomem", json_integer((json_int_t)st->kernel_enomem));
	json_object_set_new(a, "disagreements", json_integer((json_int_t)st->verify_disagreements));
	json_object_set_new(a, "seconds", json_real(st->seconds_verify));
	json_object_set_new(a, "programs_per_second", json_real(rate(st->programs, st->seconds_verify)));
	json_object_set_new(root, "phase_a", a);

	json_object_set_new(b, "live", json_boolean(cl->o.live));
	json_object_set_new(b, "sock", json_string(cl->o.sock_type == SOCK_DGRAM ? "dgram" : "raw"));
	json_object_set_new(b, "workers", json_integer(cl->o.live ? cl->o.workers : 0));
	json_object_set_new(b, "programs", json_integer((json_int_t)st->exec_programs));
	json_object_set_new(b, "frames_modelled", json_integer((json_int_t)st->frames_modelled));
	json_object_set_new(b, "frames_compared", json_integer((json_int_t)st->frames_compared));
	json_object_set_new(b, "frames_unsent", json_integer((json_int_t)st->frames_unsent));
	json_object_set_new(b, "program_disagreements", json_integer((json_int_t)st->exec_disagreements));
	json_object_set_new(b, "frame_disagreements", json_integer((json_int_t)st->frame_disagreements));
	json_object_set_new(b, "packet_socket_refused",
			    json_integer((json_int_t)st->packet_socket_refused));
	json_object_set_new(b, "seconds", json_real(st->seconds_exec));
	json_object_set_new(b, "programs_per_second", json_real(rate(st->exec_programs, st->seconds_exec)));
	json_object_set_new(b, "generated_frames", json_integer(st->pool_frames));
	json_object_set_new(b, "trace_records", json_integer(st->extra_frames));
	json_object_set_new(b, "pinned", st->ifindex ? json_pack("{s:i}", "ifidx", st->ifindex)
						     : json_object());
	for (unsigned i = 0; i < SKF_AD_MAX / 4; i++)
		if ((mask & 1u << i) && bpfvm_ancillary_name(i * 4))
			json_object_set_new(excl, bpfvm_ancillary_name(i * 4),
					    json_integer((json_int_t)st->excluded_by[i]));
	json_object_set_new(b, "excluded", json_pack("{s:I, s:o}", "programs",
						     (json_int_t)st->excluded, "by", excl));
	if (cl->o.live)
		json_object_set_new(b, "harness",
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "frames",
					      (json_int_t)rep->harness.frames, "batches",
					      (json_int_t)rep->harness.batches, "ring_drops",
					      (json_int_t)rep->harness.ring_drops, "resent_batches",
					      (json_int_t)rep->harness.resent_batches, "confirm_resends",
					      (json_int_t)rep->harness.confirm_resends));
	json_object_set_new(root, "phase_b", b);
	json_object_set_new(root, "minimize",
			    json_pack("{s:I, s:f}", "tests", (json_int_t)st->minimize_tests, "seconds",
				      st->seconds_minimize));
	json_object_set_new(root, "unminimised", json_integer((json_int_t)st->unminimised));
	for (size_t i = 0; i < rep->n_findings; i++)
		json_array_append_new(fa, json_finding(&rep->findings[i]));
	json_object_set_new(root, "findings", fa);
	ret = json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
	return ret;
}

/* ---- the command ------------------------------------------------------ */

int cmd_fuzz_programs(int argc, char **argv)
{
	struct fp_cli cl;
	struct live_fuzz_report rep;
	struct trace_set set;
	struct progress pr = { 0, 0, 0 };
	const uint8_t **extra = NULL;
	uint32_t *extra_lens = NULL;
	char err[TRACE_ERRBUF_SIZE];
	int rc, r;

	memset(&cl, 0, sizeof(cl));
	memset(&set, 0, sizeof(set));
	rc = parse_args(&cl, argc, argv);
	if (rc < 0)
		return EXIT_OK;	/* --help */
	if (rc != EXIT_OK)
		return rc;
	if (cl.trace) {
		uint64_t total;

		if (trace_sample(cl.trace, TRACE_SAMPLE_RECORDS, cl.o.seed, &set, &total, err) != 0) {
			cli_error("%s", err);
			return EXIT_INPUT;
		}
		if (total > set.count)
			fprintf(stderr, "capsim: --trace: %s holds %llu records; the programs draw from "
				"a random sample of %u of them (the seed picks it)\n", cl.trace,
				(unsigned long long)total, set.count);
		if (set.linktype != DLT_EN10MB) {
			cli_error("--trace: %s is not an Ethernet trace (link type %s); the harness "
				  "sends Ethernet frames", cl.trace,
				  pcap_datalink_val_to_name(set.linktype)
					  ? pcap_datalink_val_to_name(set.linktype) : "unknown");
			trace_set_free(&set);
			return EXIT_INPUT;
		}
		extra = calloc(set.count ? set.count : 1, sizeof(*extra));
		extra_lens = calloc(set.count ? set.count : 1, sizeof(*extra_lens));
		if (!extra || !extra_lens) {
			cli_error("out of memory");
			rc = EXIT_INTERNAL;
			goto out;
		}
		for (uint32_t i = 0; i < set.count; i++) {
			extra[i] = set.recs[i].bytes;
			extra_lens[i] = set.recs[i].caplen;
		}
		cl.o.extra = extra;
		cl.o.extra_lens = extra_lens;
		cl.o.n_extra = set.count;
	}
	if (isatty(STDERR_FILENO)) {
		pr.total = cl.requested;
		cl.o.progress = show_progress;
		cl.o.progress_ctx = &pr;
	}
	r = live_fuzz_programs(&cl.o, &rep, err);
	if (pr.shown)
		fprintf(stderr, "\r\033[K");
	if (r) {
		cli_error("fuzz programs: %s", err);
		if (r == LIVE_ERR_PERM || r == LIVE_ERR_NOSUPPORT) {
			cli_error("phase B needs root and network namespaces; --no-live runs phase A "
				  "and the model alone");
			rc = EXIT_ENV;
		} else {
			rc = EXIT_INTERNAL;
		}
		if (rep.st.programs == 0) {
			live_fuzz_report_free(&rep);
			goto out;
		}
	}
	if (cl.json ? print_json(&cl, &rep) != 0 : 0)
		rc = EXIT_INTERNAL;
	else if (!cl.json)
		print_text(&cl, &rep);
	if (fflush(stdout) != 0)
		rc = EXIT_INTERNAL;
	if (rc == EXIT_OK && (rep.st.verify_disagreements || rep.st.exec_disagreements))
		rc = EXIT_NEGATIVE;
	live_fuzz_report_free(&rep);
out:
	free(extra);
	free(extra_lens);
	trace_set_free(&set);
	return rc;
}
