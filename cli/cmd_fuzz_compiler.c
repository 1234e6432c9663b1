/*
 * cmd_fuzz_compiler.c - `capsim fuzz compiler`: random pcap-filter
 * expressions, compiled by libpcap with the optimizer on and off, both
 * programs run over a trace; every disagreement is a compiler defect (the
 * engine is live/fuzzcomp.c).
 */
#include "cli.h"
#include "live.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	FC_OPT_GEN = 1000, FC_OPT_SECONDS, FC_OPT_SEED, FC_OPT_KERNEL, FC_OPT_LINUX_EXT, FC_OPT_NO_LINUX_EXT,
	FC_OPT_ISOLATE, FC_OPT_NO_ISOLATE, FC_OPT_BATCH, FC_OPT_TIMEOUT, FC_OPT_MAX_FINDINGS, FC_OPT_KFRAMES,
	FC_OPT_JSON, FC_OPT_HELP,
};

static const char help[] =
	"usage: capsim fuzz compiler -r TRACE [OPTIONS]\n\n"
	"Random pcap-filter expressions (protocols, hosts, nets, ports, portranges,\n"
	"vlan/mpls/pppoes, len, packet accessors with arithmetic, and/or/not) are\n"
	"compiled by libpcap with the optimizer on and off - as for a file, and with\n"
	"Linux extensions as for a live capture - and both programs of each pair run\n"
	"over every packet.  Whatever makes them disagree is reported with the\n"
	"expression reduced, both listings, the packet and where the runs part; so\n"
	"are compile errors only one side gives, programs the VM refuses, and\n"
	"crashes and hangs of the compiler.  The same seed and -n give the same\n"
	"expressions; --seconds only cuts a campaign short.\n\n"
	"  -r TRACE            the packets (pcap or pcapng; at most " TRACE_SAMPLE_RECORDS_TEXT " records, a\n"
	"                      random sample when it holds more)\n"
	"  --gen N             add N generated frames (or use only them, without -r)\n"
	"  --seconds S         stop after S seconds (default 60; 0: only -n)\n"
	"  -n N                at most N expressions\n"
	"  --seed N            the campaign's seed (default 1)\n"
	"  --no-linux-ext      only the offline pair (default when not root)\n"
	"  --linux-ext         also the Linux-extension pair (needs root; default as root)\n"
	"  --kernel            also attach the Linux-extension programs to a packet socket\n"
	"                      in a private namespace and compare the kernel with the VM\n"
	"  --kernel-frames N   packets sent to the kernel per program (default 256)\n"
	"  --no-isolate        compile in this process (a libpcap crash ends capsim)\n"
	"  --batch N           expressions per compiling process (default 128)\n"
	"  --timeout MS        a compile taking longer is a hang (default 5000)\n"
	"  --max-findings N    findings kept and reduced per kind (default 20)\n"
	"  --json              the summary and findings as JSON\n"
	"  -v                  more detail\n\n"
	"Exit: 0 nothing found, 1 findings, 2 usage, 3 bad trace, 4 needs root.\n";

struct progress_ctx {
	int on;
};

static void progress(const struct live_fc_stats *st, void *ctx)
{
	struct progress_ctx *p = ctx;
	uint64_t f = 0;

	if (!p->on)
		return;
	for (int k = 0; k < LIVE_FC_KIND_COUNT; k++)
		f += st->findings[k];
	fprintf(stderr, "\r%llu expressions, %.0f/s, %.1f%% compile, %llu findings   ",
		(unsigned long long)st->exprs, st->seconds > 0 ? (double)st->exprs / st->seconds : 0.0,
		st->compiles[LIVE_FC_OFF_O1] ? 100.0 * (double)st->compiled[LIVE_FC_OFF_O1] /
						       (double)st->compiles[LIVE_FC_OFF_O1]
					     : 0.0,
		(unsigned long long)f);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static const char *const cfg_names[] = { "offline -O1", "offline -O0", "linux-ext -O1",
					 "linux-ext -O0" };
static const char *const out_names[] = { "identical", "compared", "both-error", "one-error",
					  "rejected", "too-long", "died" };

static void print_summary(const struct live_fc_result *r, int linux_ext)
{
	const struct live_fc_stats *s = &r->stats;

	printf("%llu expressions in %.1f s (%.1f/s), %u packets, %llu compiling processes\n",
	       (unsigned long long)s->exprs, s->seconds,
	       s->seconds > 0 ? (double)s->exprs / s->seconds : 0.0, s->packets,
	       (unsigned long long)s->children);
	if (s->trace_records > TRACE_SAMPLE_RECORDS)
		printf("  the trace's %llu records are more than the %u kept: a random sample of "
		       "them (the seed picks it)\n",
		       (unsigned long long)s->trace_records, TRACE_SAMPLE_RECORDS);
	for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
		if (!s->compiles[c])
			continue;
		printf("  %-14s %llu compiled of %llu (%.1f%%)", cfg_names[c],
		       (unsigned long long)s->compiled[c], (unsigned long long)s->compiles[c],
		       pct(s->compiled[c], s->compiles[c]));
		if (s->rejects_all[c])
			printf(", %llu \"rejects all packets\" (%.1f%%; compared as ret #0)",
			       (unsigned long long)s->rejects_all[c], pct(s->rejects_all[c], s->compiles[c]));
		printf(", %.1f%% other errors\n",
		       100.0 - pct(s->compiled[c] + s->rejects_all[c], s->compiles[c]));
	}
	for (int p = 0; p < (linux_ext ? 2 : 1); p++) {
		printf("  %s pair:", p ? "linux-ext" : "offline");
		for (int o = 0; o < LIVE_FC_OUT_COUNT; o++)
			printf(" %s %llu%s", out_names[o], (unsigned long long)s->outcome[p][o],
			       o + 1 < LIVE_FC_OUT_COUNT ? "," : "\n");
	}
	printf("  %llu program runs; %llu compared pairs disagreed (offline %llu, linux-ext %llu)\n",
	       (unsigned long long)s->runs,
	       (unsigned long long)(s->pairs_differing[0] + s->pairs_differing[1]),
	       (unsigned long long)s->pairs_differing[0], (unsigned long long)s->pairs_differing[1]);
	if (s->kernel_programs)
		printf("  kernel: %llu programs over %u packets each (%llu frames)\n",
		       (unsigned long long)s->kernel_programs, s->kernel_packets,
		       (unsigned long long)s->kernel_frames);
	printf("findings:");
	for (int k = 0; k < LIVE_FC_KIND_COUNT; k++)
		printf(" %s %llu (%llu expressions)%s", live_fc_kind_name(k),
		       (unsigned long long)s->findings[k], (unsigned long long)s->occurrences[k],
		       k + 1 < LIVE_FC_KIND_COUNT ? "," : "\n");
}

static void print_hex(FILE *out, const uint8_t *p, uint32_t n, const char *indent)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "%s%02x%s", i % 16 == 0 ? indent : "", p[i],
			i % 16 == 15 || i + 1 == n ? "\n" : " ");
}

/* The bpf_asm name of an ancillary field, or NULL (none, or unnamed). */
static const char *anc_name(int anc)
{
	return anc >= 0 ? bpfvm_ancillary_name((uint32_t)anc) : NULL;
}

static void print_part(FILE *out, const struct live_fc_finding *f)
{
	static const char *const side[] = { "-O1", "-O0" };

	fprintf(out, "  the runs part at read #%u:", f->part_load);
	for (int i = 0; i < 2; i++) {
		if (f->part_end[i])
			fprintf(out, " %s returns at (%03u)%s", side[i], f->part_pc[i], i ? "\n" : ";");
		else if (f->part_anc[i] >= 0)
			fprintf(out, " %s (%03u) reads #%s%s", side[i], f->part_pc[i],
				anc_name(f->part_anc[i]) ? anc_name(f->part_anc[i]) : "?",
				i ? "\n" : ";");
		else
			fprintf(out, " %s (%03u) loads %u byte%s at %d%s", side[i], f->part_pc[i],
				f->part_size[i], f->part_size[i] == 1 ? "" : "s", f->part_off[i],
				i ? "\n" : ";");
	}
}

static void print_finding(const struct live_fc_finding *f, size_t n)
{
	static const char *const side[] = { "-O1", "-O0" };

	printf("\n#%zu %s (%s pair), expression %llu%s\n", n, live_fc_kind_name(f->kind),
	       f->pair ? "linux-ext" : "offline", (unsigned long long)f->expr_index,
	       f->dups ? "" : "");
	printf("  generated: %s\n", f->expr);
	printf("  reduced:   %s  (%u steps)\n", f->reduced, f->reduce_rounds);
	if (f->dups)
		printf("  %llu more expressions reduced to the same\n", (unsigned long long)f->dups);
	if (f->note[0])
		printf("  %s\n", f->note);
	if (f->kind == LIVE_FC_CRASH)
		printf("  signal %d (%s)\n", f->sig, strsignal(f->sig));
	for (int i = 0; i < 2; i++) {
		if (f->kind == LIVE_FC_CRASH || f->kind == LIVE_FC_HANG)
			break;
		if (f->ok[i]) {
			if (f->rejects_all[i])
				printf("  %s: %s (compared as:)\n", side[i], f->err[i]);
			printf("  %s listing (%u instructions):\n", side[i], f->prog[i].len);
			bpfvm_write(stdout, &f->prog[i], BPFVM_FMT_D);
		} else {
			printf("  %s: %s\n", side[i], f->err[i] ? f->err[i] : "(no message)");
		}
	}
	if (f->has_packet) {
		printf("  packet %u (%s %llu), %u of %u bytes:\n", f->pkt_index,
		       f->pkt_generated ? "generated frame" : "trace record",
		       (unsigned long long)f->pkt_origin, f->pkt_caplen, f->pkt_wirelen);
		print_hex(stdout, f->pkt, f->pkt_caplen, "    ");
	}
	if (f->kind == LIVE_FC_VERDICT || f->kind == LIVE_FC_VERDICT_OOB) {
		printf("  -O1 returns %u%s, -O0 returns %u%s", f->ret[0],
		       f->oob[0] ? " (ended abnormally: a load past the captured bytes or X == 0 divisor)" : "",
		       f->ret[1],
		       f->oob[1] ? " (ended abnormally: a load past the captured bytes or X == 0 divisor)" : "");
		if (f->pkts_differing)
			printf(" (the generated expression split %u packets)", f->pkts_differing);
		printf("\n");
		if (f->pcap_checked)
			printf("  libpcap's bpf_filter(): -O1 %u, -O0 %u (%s)\n", f->pcap_ret[0],
			       f->pcap_ret[1],
			       f->pcap_ret[0] == f->ret[0] && f->pcap_ret[1] == f->ret[1]
				       ? "the VM agrees"
				       : "THE VM DISAGREES: a fault of ours");
		print_part(stdout, f);
	}
	if (f->kind == LIVE_FC_KERNEL)
		printf("  %s program: kernel %s (snaplen %u), VM snaplen %u\n", side[f->kernel_prog],
		       f->kernel_delivered ? "delivered" : "did not deliver", f->kernel_snap,
		       f->vm_snap);
}

static json_t *listing_json(const struct bpfvm_prog *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	json_t *j;

	if (!m)
		return json_null();
	bpfvm_write(m, p, BPFVM_FMT_D);
	fclose(m);
	j = json_string(buf ? buf : "");
	free(buf);
	return j;
}

static int print_json(const struct live_fc_result *r)
{
	const struct live_fc_stats *s = &r->stats;
	json_t *root = json_object(), *sum = json_object(), *cfgs = json_object(),
	       *pairs = json_object(), *kinds = json_object(), *arr = json_array();
	int rc;

	json_object_set_new(sum, "expressions", json_integer((json_int_t)s->exprs));
	json_object_set_new(sum, "seconds", json_real(s->seconds));
	json_object_set_new(sum, "packets", json_integer(s->packets));
	json_object_set_new(sum, "trace_records", json_integer((json_int_t)s->trace_records));
	json_object_set_new(sum, "runs", json_integer((json_int_t)s->runs));
	json_object_set_new(sum, "children", json_integer((json_int_t)s->children));
	for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
		if (!s->compiles[c])
			continue;
		json_object_set_new(cfgs, cfg_names[c],
				    json_pack("{sI sI sI}", "compiles", (json_int_t)s->compiles[c],
					      "compiled", (json_int_t)s->compiled[c], "rejects_all",
					      (json_int_t)s->rejects_all[c]));
	}
	json_object_set_new(sum, "compiles", cfgs);
	for (int p = 0; p < 2; p++) {
		json_t *o = json_object();

		for (int k = 0; k < LIVE_FC_OUT_COUNT; k++)
			json_object_set_new(o, out_names[k], json_integer((json_int_t)s->outcome[p][k]));
		json_object_set_new(o, "differing", json_integer((json_int_t)s->pairs_differing[p]));
		json_object_set_new(pairs, p ? "linux-ext" : "offline", o);
	}
	json_object_set_new(sum, "pairs", pairs);
	for (int k = 0; k < LIVE_FC_KIND_COUNT; k++)
		json_object_set_new(kinds, live_fc_kind_name(k),
				    json_pack("{sI sI}", "distinct", (json_int_t)s->findings[k],
					      "expressions", (json_int_t)s->occurrences[k]));
	json_object_set_new(sum, "findings", kinds);
	json_object_set_new(sum, "kernel_programs", json_integer((json_int_t)s->kernel_programs));
	json_object_set_new(root, "summary", sum);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct live_fc_finding *f = &r->findings[i];
		json_t *o = json_object();

		json_object_set_new(o, "kind", json_string(live_fc_kind_name(f->kind)));
		json_object_set_new(o, "pair", json_string(f->pair ? "linux-ext" : "offline"));
		json_object_set_new(o, "index", json_integer((json_int_t)f->expr_index));
		json_object_set_new(o, "expression", json_string(f->expr));
		json_object_set_new(o, "reduced", json_string(f->reduced));
		json_object_set_new(o, "duplicates", json_integer((json_int_t)f->dups));
		if (f->note[0])
			json_object_set_new(o, "note", json_string(f->note));
		if (f->kind == LIVE_FC_CRASH)
			json_object_set_new(o, "signal", json_integer(f->sig));
		for (int j = 0; j < 2; j++) {
			const char *key = j ? "O0" : "O1";

			if (f->ok[j])
				json_object_set_new(o, key, listing_json(&f->prog[j]));
			else if (f->err[j])
				json_object_set_new(o, key, json_pack("{ss}", "error", f->err[j]));
		}
		if (f->has_packet) {
			char *hex = malloc(2 * (size_t)f->pkt_caplen + 1);

			for (uint32_t b = 0; hex && b < f->pkt_caplen; b++)
				sprintf(hex + 2 * b, "%02x", f->pkt[b]);
			if (hex)
				hex[2 * (size_t)f->pkt_caplen] = '\0';
			json_object_set_new(o, "packet",
					    json_pack("{sI ss sI sI ss}", "index", (json_int_t)f->pkt_index,
						      "from", f->pkt_generated ? "generated" : "trace",
						      "origin", (json_int_t)f->pkt_origin, "wirelen",
						      (json_int_t)f->pkt_wirelen, "hex", hex ? hex : ""));
			free(hex);
		}
		if (f->kind == LIVE_FC_VERDICT || f->kind == LIVE_FC_VERDICT_OOB) {
			json_object_set_new(o, "ended_out_of_bounds",
					    json_pack("[bb]", f->oob[0], f->oob[1]));
			json_object_set_new(o, "returns", json_pack("[II]", (json_int_t)f->ret[0],
								    (json_int_t)f->ret[1]));
			if (f->pcap_checked)
				json_object_set_new(o, "bpf_filter",
						    json_pack("[II]", (json_int_t)f->pcap_ret[0],
							      (json_int_t)f->pcap_ret[1]));
			json_object_set_new(
				o, "part",
				json_pack("{sI s[{sI sb si sI ss?}{sI sb si sI ss?}]}", "load",
					  (json_int_t)f->part_load, "runs", "pc",
					  (json_int_t)f->part_pc[0], "ends", f->part_end[0], "offset",
					  f->part_off[0], "size", (json_int_t)f->part_size[0],
					  "ancillary", anc_name(f->part_anc[0]), "pc",
					  (json_int_t)f->part_pc[1], "ends", f->part_end[1], "offset",
					  f->part_off[1], "size", (json_int_t)f->part_size[1],
					  "ancillary", anc_name(f->part_anc[1])));
		}
		if (f->kind == LIVE_FC_KERNEL)
			json_object_set_new(o, "kernel",
					    json_pack("{ss sb sI sI}", "program", f->kernel_prog ? "O0" : "O1",
						      "delivered", f->kernel_delivered, "snaplen",
						      (json_int_t)f->kernel_snap, "vm_snaplen",
						      (json_int_t)f->vm_snap));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "findings", arr);
	rc = json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
	return rc;
}

int cmd_fuzz_compiler(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gen", required_argument, NULL, FC_OPT_GEN },
		{ "seconds", required_argument, NULL, FC_OPT_SECONDS },
		{ "seed", required_argument, NULL, FC_OPT_SEED },
		{ "kernel", no_argument, NULL, FC_OPT_KERNEL },
		{ "kernel-frames", required_argument, NULL, FC_OPT_KFRAMES },
		{ "linux-ext", no_argument, NULL, FC_OPT_LINUX_EXT },
		{ "no-linux-ext", no_argument, NULL, FC_OPT_NO_LINUX_EXT },
		{ "isolate", no_argument, NULL, FC_OPT_ISOLATE },
		{ "no-isolate", no_argument, NULL, FC_OPT_NO_ISOLATE },
		{ "batch", required_argument, NULL, FC_OPT_BATCH },
		{ "timeout", required_argument, NULL, FC_OPT_TIMEOUT },
		{ "max-findings", required_argument, NULL, FC_OPT_MAX_FINDINGS },
		{ "json", no_argument, NULL, FC_OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, FC_OPT_HELP },
		{ 0 }
	};
	struct live_fc_opts o;
	struct live_fc_result res;
	struct progress_ctx pc = { 0 };
	char err[LIVE_ERRBUF_SIZE] = "";
	int c, json = 0, verbose = 0, ext_set = 0, rc;
	uint64_t total = 0;
	uint32_t v;

	live_fc_opts_init(&o);
	o.linux_ext = geteuid() == 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:n:v", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.trace = optarg;
			break;
		case 'n':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0 || v == 0) {
				cli_error("-n: '%s' is not a positive count", optarg);
				return EXIT_USAGE;
			}
			o.max_exprs = v;
			break;
		case FC_OPT_GEN:
			if (cli_parse_u32(optarg, 1000000, &v) != 0) {
				cli_error("--gen: '%s' is not a count up to 1000000", optarg);
				return EXIT_USAGE;
			}
			o.gen_frames = v;
			break;
		case FC_OPT_SECONDS:
			if (cli_parse_u32(optarg, 7 * 86400, &v) != 0) {
				cli_error("--seconds: '%s' is not a number of seconds", optarg);
				return EXIT_USAGE;
			}
			o.seconds = v;
			break;
		case FC_OPT_SEED:
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0) {
				cli_error("--seed: '%s' is not a number", optarg);
				return EXIT_USAGE;
			}
			o.seed = v;
			break;
		case FC_OPT_KERNEL:
			o.kernel = 1;
			break;
		case FC_OPT_KFRAMES:
			if (cli_parse_u32(optarg, 1000000, &o.kernel_frames) != 0 || !o.kernel_frames) {
				cli_error("--kernel-frames: '%s' is not a positive count", optarg);
				return EXIT_USAGE;
			}
			break;
		case FC_OPT_LINUX_EXT:
		case FC_OPT_NO_LINUX_EXT:
			o.linux_ext = c == FC_OPT_LINUX_EXT;
			ext_set = 1;
			break;
		case FC_OPT_ISOLATE:
		case FC_OPT_NO_ISOLATE:
			o.isolate = c == FC_OPT_ISOLATE;
			break;
		case FC_OPT_BATCH:
			if (cli_parse_u32(optarg, 100000, &o.batch) != 0 || !o.batch) {
				cli_error("--batch: '%s' is not a positive count", optarg);
				return EXIT_USAGE;
			}
			break;
		case FC_OPT_TIMEOUT:
			if (cli_parse_u32(optarg, 3600000, &o.timeout_ms) != 0 || o.timeout_ms < 10) {
				cli_error("--timeout: '%s' is not a number of milliseconds (>= 10)", optarg);
				return EXIT_USAGE;
			}
			break;
		case FC_OPT_MAX_FINDINGS:
			if (cli_parse_u32(optarg, 100000, &o.max_findings) != 0) {
				cli_error("--max-findings: '%s' is not a count", optarg);
				return EXIT_USAGE;
			}
			break;
		case FC_OPT_JSON:
			json = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case FC_OPT_HELP:
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("fuzz compiler: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o.trace && !o.gen_frames) {
		cli_error("fuzz compiler: no packets (-r TRACE and/or --gen N)");
		return EXIT_USAGE;
	}
	if (!o.max_exprs && o.seconds <= 0) {
		cli_error("fuzz compiler: --seconds 0 needs -n");
		return EXIT_USAGE;
	}
	if (o.kernel && !ext_set)
		o.linux_ext = 1;
	if (o.kernel && !o.linux_ext) {
		cli_error("--kernel runs the Linux-extension programs; it cannot go with --no-linux-ext");
		return EXIT_USAGE;
	}
	if (!ext_set && !o.linux_ext && verbose)
		fprintf(stderr, "capsim: not root: only the offline pair (Linux extensions need a "
				"live handle in a private namespace)\n");
	pc.on = isatty(STDERR_FILENO);
	o.progress = progress;
	o.progress_ctx = &pc;
	rc = live_fc_run(&o, &res, err);
	if (pc.on)
		fprintf(stderr, "\n");
	if (rc != 0) {
		cli_error("fuzz compiler: %s", err);
		live_fc_result_free(&res);
		return rc == LIVE_ERR_ARG ? EXIT_INPUT
		       : rc == LIVE_ERR_PERM || rc == LIVE_ERR_NOSUPPORT ? EXIT_ENV
									   : EXIT_INTERNAL;
	}
	if (json) {
		print_json(&res);
	} else {
		print_summary(&res, o.linux_ext);
		for (size_t i = 0; i < res.n_findings; i++)
			print_finding(&res.findings[i], i + 1);
	}
	for (int k = 0; k < LIVE_FC_KIND_COUNT; k++)
		total += res.stats.occurrences[k];
	live_fc_result_free(&res);
	if (fflush(stdout) != 0) {
		cli_error("cannot write to standard output");
		return EXIT_INTERNAL;
	}
	return total ? EXIT_NEGATIVE : EXIT_OK;
}
