/*
 * test_cli_tools.c - `capsim filter disasm`, `filter asm` and `filter dot`
 * end to end: help, formats converted round trip, assembler errors at
 * file:line:col, DOT counts that add up on the shipped traces and agree
 * with `filter run`, the -p path equal to the one bpfvm_run_traced()
 * steps, and SVG/PNG drawn by Graphviz with nothing left behind on failure.
 */
#include "testutil.h"

#include "bpfvm.h"
#include "sim.h"
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void write_file(const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_back(const char *name, size_t *len)
{
	char path[160];
	FILE *f;
	char *buf = calloc(1, 4 << 20);
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	if (!f) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, (4 << 20) - 1, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* Nothing named "*.tmp-*" in the temporary folder. */
static void assert_no_leftovers(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -q 'tmp-'", tmpdir);
	assert_int_not_equal(system(cmd), 0);
}

static void test_help_and_usage(void **state)
{
	(void)state;
	expect("filter disasm --help", 0, "usage: capsim filter disasm", NULL);
	expect("filter asm --help", 0, "usage: capsim filter asm", NULL);
	expect("filter dot --help", 0, "usage: capsim filter dot", NULL);
	expect("filter --help", 0, "dot", NULL);
	expect("filter disasm --to auto tcp", 2, NULL, "--to");
	expect("filter asm", 2, NULL, "FILE");
	expect("filter dot -p 3 tcp", 2, NULL, "-r TRACE");
	expect("filter dot -o x.jpeg tcp", 2, NULL, "--format-out");
	expect("filter dot --format-out gif tcp", 2, NULL, "gif");
	expect("filter dot -F /nonexistent.bpf", 3, NULL, "/nonexistent.bpf");
	expect("filter dot --no-linux-ext -r /nonexistent.pcap tcp", 3, NULL, "/nonexistent.pcap");
	expect("filter dot --no-linux-ext -r traces/samples/mixed.pcap -p 400 tcp", 3, NULL,
	       "400 records");
}

/* Every format to every format and back through `filter asm`: the same
 * instructions as the compiler's -ddd. */
static void test_round_trip(void **state)
{
	static const char *const fmts[] = { "d", "dd", "ddd", "asm" };
	static const char *const exprs[] = {
		"tcp port 80 or udp", "vlan 5 and ip6", "ip[2:2] > 100 and not arp", "",
	};
	char args[512], *want, *out, *err;

	(void)state;
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		snprintf(args, sizeof(args), "filter compile --format ddd '%s'", exprs[e]);
		assert_int_equal(run(args, &want, &err), 0);
		free(err);
		for (size_t i = 0; i < 4; i++) {
			snprintf(args, sizeof(args),
				 "filter disasm --no-linux-ext --to %s '%s' >%s/prog && %s filter asm "
				 "%s/prog", fmts[i], exprs[e], tmpdir, capsim, tmpdir);
			assert_int_equal(run(args, &out, &err), 0);
			assert_string_equal(out, want);
			free(out);
			free(err);
			/* and from standard input, converted by disasm -F - */
			snprintf(args, sizeof(args), "filter disasm --to ddd -F - <%s/prog", tmpdir);
			assert_int_equal(run(args, &out, &err), 0);
			assert_string_equal(out, want);
			free(out);
			free(err);
		}
		free(want);
	}
}

static void test_asm_errors(void **state)
{
	char args[256];

	(void)state;
	write_file("bad.asm", "\tldh [12]\n\tjeq #0x800, ok, nowhere\nok:\tret #1\n");
	snprintf(args, sizeof(args), "filter asm %s/bad.asm", tmpdir);
	expect(args, 3, NULL, "bad.asm:2:");
	expect(args, 3, NULL, "nowhere");
	snprintf(args, sizeof(args), "filter asm - < %s/bad.asm", tmpdir);
	expect(args, 3, NULL, "<stdin>:2:");
	write_file("bad2.asm", "ldh [12]\n  jqq #1\nret #1\n");
	snprintf(args, sizeof(args), "filter asm %s/bad2.asm", tmpdir);
	expect(args, 3, NULL, "bad2.asm:2:3: ");
	expect("filter asm /nonexistent.asm", 3, NULL, "/nonexistent.asm");
	write_file("good.asm", "ldh [12]\njeq #0x800, ok, drop\nok: ret #-1\ndrop: ret #0\n");
	snprintf(args, sizeof(args), "filter asm %s/good.asm", tmpdir);
	expect(args, 0, "4\n40 0 0 12\n21 0 1 2048\n6 0 0 4294967295\n6 0 0 0\n", NULL);
}

/* ---- dot output, read back -------------------------------------------- */

#define MAXN 4200

struct parsed {
	uint64_t in[MAXN];		/* "[N in]" of a block starting at I */
	int is_ret[MAXN];
	uint64_t ret[MAXN];		/* return node count */
	uint64_t out[MAXN];		/* sum of edge counts leaving nI */
	uint64_t into[MAXN];		/* sum of edge counts entering nI */
	uint64_t ended;			/* runs ended early, over all blocks */
	int red[MAXN][2], nred;		/* highlighted edges (from, to), in order */
	int red_end;			/* block of a highlighted "ended early", or -1 */
	uint64_t reached, records, accepted;
};

static void parse_dot(const char *dot, struct parsed *p)
{
	const char *line = dot;

	memset(p, 0, sizeof(*p));
	p->red_end = -1;
	assert_non_null(strstr(dot, "digraph bpf {"));
	if ((line = strstr(dot, " semantics): ")) && strstr(line, "records reached"))
		assert_int_equal(sscanf(line + 13,
					"%lu of %lu records reached the filter, %lu accepted",
					&p->reached, &p->records, &p->accepted), 3);
	for (line = dot; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned a, b;
		unsigned long n;
		char kind;
		const char *lab = strstr(line, "label=\"");
		const char *eol = strchr(line, '\n');

		if (lab && eol && lab > eol)
			lab = NULL;
		if (sscanf(line, "\tn%u -> %c%u", &a, &kind, &b) == 3) {
			const char *c = lab ? lab + 7 : "";

			assert_true(a < MAXN && b < MAXN);
			if (*c == 'T' || *c == 'F')
				c++;
			if (sscanf(c, "%lu", &n) == 1) {
				p->out[a] += n;
				if (kind == 'n')
					p->into[b] += n;
				else
					p->ended += n;
			}
			if (strstr(line, "color=red") && strstr(line, "color=red") < eol) {
				assert_true(p->nred < MAXN);
				if (kind == 'x') {
					p->red_end = (int)a;
				} else {
					p->red[p->nred][0] = (int)a;
					p->red[p->nred][1] = (int)b;
					p->nred++;
				}
			}
		} else if (sscanf(line, "\tn%u [", &a) == 1) {
			const char *s;

			assert_true(a < MAXN);
			if (strstr(line, "shape=oval") && strstr(line, "shape=oval") < eol) {
				p->is_ret[a] = 1;
				s = strstr(lab, "\\n");
				if (s && s < eol && sscanf(s + 2, "%lu (", &n) == 1)
					p->ret[a] = n;
			} else if ((s = strstr(line, "\\l[")) && s < eol) {
				assert_int_equal(sscanf(s + 3, "%lu in]", &n), 1);
				p->in[a] = n;
			}
		}
	}
}

/* Coverage over a whole trace: blocks conserve, the returns add up to the
 * records that reached the filter, and those and the accepted ones equal
 * what `filter run --verdicts` says. */
static void check_coverage(const char *trace, const char *sem, const char *expr)
{
	static struct parsed p;
	char args[512], *out, *err, *line, *save = NULL;
	uint64_t rets = 0, reached = 0, accepted = 0, records = 0;

	snprintf(args, sizeof(args), "filter dot --no-linux-ext --semantics %s -r %s '%s'", sem,
		 trace, expr);
	assert_int_equal(run(args, &out, &err), 0);
	parse_dot(out, &p);
	free(out);
	free(err);
	for (unsigned i = 0; i < MAXN; i++) {
		if (p.is_ret[i]) {
			assert_int_equal(p.into[i] + (i == 0 ? p.reached : 0), p.ret[i]);
			rets += p.ret[i];
		} else if (p.in[i] || p.out[i]) {
			assert_int_equal(p.in[i], p.out[i]);
			assert_int_equal(p.in[i], p.into[i] + (i == 0 ? p.reached : 0));
		}
	}
	assert_int_equal(rets + p.ended, p.reached);

	snprintf(args, sizeof(args), "filter run --no-linux-ext --semantics %s --verdicts -r %s '%s'",
		 sem, trace, expr);
	assert_int_equal(run(args, &out, &err), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long idx, snap;

		records++;
		if (sscanf(line, "%lu %lu", &idx, &snap) == 2) {
			reached++;
			accepted += snap != 0;
		}
	}
	assert_int_equal(p.records, records);
	assert_int_equal(p.reached, reached);
	assert_int_equal(p.accepted, accepted);
	assert_true(reached > 100);
	free(out);
	free(err);
}

static void test_dot_coverage(void **state)
{
	static const char *const exprs[] = {
		"tcp port 80 or udp", "ip and tcp[13] & 2 != 0", "vlan and (arp or icmp6)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		check_coverage("traces/samples/mixed.pcap", "linux", exprs[i]);
		check_coverage("traces/samples/vlan.pcap", "linux", exprs[i]);
		check_coverage("traces/samples/mixed.pcapng", "libpcap", exprs[i]);
	}
}

/* The bare graph: unreachable code greyed, return values shown. */
static void test_dot_bare(void **state)
{
	char args[256];

	(void)state;
	write_file("unreach.asm", "ld #1\njmp skip\nld #2\nret a\nskip: ret #7\n");
	snprintf(args, sizeof(args), "filter dot -F %s/unreach.asm", tmpdir);
	expect(args, 0, "unreachable (the kernel still checks it)", NULL);
	expect(args, 0, "n3 [shape=oval, label=\"return A\", style=\"filled,dashed\"", NULL);
	expect(args, 0, "n4 [shape=oval, label=\"return 7\"]", NULL);
	expect(args, 0, "n0 -> n4 [label=\"\"]", NULL);
	write_file("off.ddd", "2\n6 0 0 0\n0 0 0 0\n");
	snprintf(args, sizeof(args), "filter dot -F %s/off.ddd", tmpdir);
	expect(args, 3, NULL, "instruction 1, the last, is no return");
}

struct pcs {
	uint32_t pc[BPFVM_MAXINSNS + 1];
	uint32_t n;
};

static void record_pc(const struct bpfvm_step *st, void *ctx)
{
	struct pcs *p = ctx;

	if (p->n <= BPFVM_MAXINSNS)
		p->pc[p->n++] = st->pc;
}

/* -p INDEX: the red edges are exactly the block changes in the sequence of
 * instructions bpfvm_run_traced() steps for that record (linux semantics,
 * the record seen through sim_rx_view() as `filter dot` sees it). */
static void test_dot_path(void **state)
{
	static const char expr[] = "tcp port 80 or udp or (vlan and icmp)";
	static struct parsed p;
	static struct pcs pcs;
	struct bpfvm_compile_opts co;
	struct bpfvm_prog prog = { 0 };
	struct bpfvm_cfg cfg;
	struct bpfvm *vm;
	struct trace_set set;
	struct sim_rx_dev dev;
	char err[TRACE_ERRBUF_SIZE], args[512], *out, *errs;
	uint8_t buf[TRACE_GEN_MAXFRAME + 8];
	int checked = 0;

	(void)state;
	bpfvm_compile_opts_init(&co);
	co.linux_ext = 0;
	assert_int_equal(bpfvm_compile(expr, &co, &prog, err), 0);
	assert_int_equal(bpfvm_create(&vm, &prog, BPFVM_LINUX, err), 0);
	assert_int_equal(bpfvm_cfg_build(&cfg, &prog, err), 0);
	assert_int_equal(trace_load("traces/samples/vlan.pcap", &set, err), 0);
	sim_rx_dev_init(&dev);
	for (uint32_t r = 0; r < set.count; r += 5) {
		const struct trace_record *rec = &set.recs[r];
		struct sim_rx_view view;
		uint32_t ret;
		int k = 0;

		snprintf(args, sizeof(args), "filter dot --no-linux-ext -r traces/samples/vlan.pcap "
			 "-p %u '%s'", r, expr);
		sim_rx_view(&dev, rec->bytes, rec->caplen, SIM_SOCK_RAW, buf, &view);
		if (view.drop != SIM_DROP_NONE) {
			expect(args, 3, NULL, "never reached the filter");
			continue;
		}
		view.meta.random_seed = 1 + rec->index;
		pcs.n = 0;
		ret = bpfvm_run_traced(vm, &view.pkt, &view.meta, record_pc, &pcs);
		assert_int_equal(run(args, &out, &errs), 0);
		parse_dot(out, &p);
		for (uint32_t i = 0; i + 1 < pcs.n; i++) {
			uint32_t a = cfg.block_of[pcs.pc[i]], b = cfg.block_of[pcs.pc[i + 1]];

			if (a == b)
				continue;
			assert_true(k < p.nred);
			assert_int_equal(p.red[k][0], cfg.blocks[a].first);
			assert_int_equal(p.red[k][1], cfg.blocks[b].first);
			k++;
		}
		/* and the dotted edge to "ended early" when the run ended inside a block */
		uint32_t last = cfg.block_of[pcs.pc[pcs.n - 1]];

		assert_int_equal(p.red_end, cfg.blocks[last].is_ret ? -1 : (int)cfg.blocks[last].first);
		assert_int_equal(p.nred, k);
		snprintf(args, sizeof(args), "semantics): returned %u, ", ret);
		assert_non_null(strstr(out, args));
		snprintf(args, sizeof(args), "packet %u: %u", r, ret);	/* at the end reached */
		assert_non_null(strstr(out, args));
		free(out);
		free(errs);
		checked++;
	}
	assert_true(checked > 20);
	trace_set_free(&set);
	bpfvm_cfg_free(&cfg);
	bpfvm_destroy(vm);
	bpfvm_prog_free(&prog);
}

/* SVG and PNG through Graphviz's dot; a missing dot is exit 4 and leaves
 * no file behind; DOT to a file. */
static void test_render(void **state)
{
	char args[512], *buf, *out, *err;
	size_t len;

	(void)state;
	snprintf(args, sizeof(args), "filter dot --no-linux-ext -r traces/samples/mixed.pcap "
		 "-o %s/g.svg 'tcp port 80 or udp'", tmpdir);
	expect(args, 0, NULL, NULL);
	buf = read_back("g.svg", &len);
	assert_non_null(buf);
	assert_true(strncmp(buf, "<?xml", 5) == 0 || strncmp(buf, "<svg", 4) == 0);
	assert_non_null(strstr(buf, "</svg>"));
	assert_non_null(strstr(buf, "return 262144"));
	free(buf);

	snprintf(args, sizeof(args), "filter dot --no-linux-ext -r traces/samples/mixed.pcap -p 3 "
		 "-o %s/g.png 'tcp port 80 or udp'", tmpdir);
	expect(args, 0, NULL, NULL);
	buf = read_back("g.png", &len);
	assert_non_null(buf);
	assert_true(len > 1000);
	assert_memory_equal(buf, "\x89PNG\r\n\x1a\n", 8);
	free(buf);

	snprintf(args, sizeof(args), "filter dot --no-linux-ext --format-out svg 'tcp'");
	expect(args, 0, "</svg>", NULL);

	snprintf(args, sizeof(args), "filter dot --no-linux-ext -o %s/g.gv 'tcp'", tmpdir);
	expect(args, 0, NULL, NULL);
	buf = read_back("g.gv", NULL);
	assert_non_null(buf);
	assert_true(strncmp(buf, "digraph bpf {", 13) == 0);
	free(buf);

	snprintf(args, sizeof(args), "filter dot --no-linux-ext -o %s/nodot.svg 'tcp'", tmpdir);
	assert_int_equal(run_env("env PATH=/nonexistent", args, &out, &err), 4);
	assert_non_null(strstr(err, "'dot' program is not installed"));
	assert_null(read_back("nodot.svg", NULL));
	free(out);
	free(err);
	assert_no_leftovers();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_usage), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_asm_errors),     cmocka_unit_test(test_dot_bare),
		cmocka_unit_test(test_dot_coverage),   cmocka_unit_test(test_dot_path),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests_name("cli_tools", tests, cli_setup, cli_teardown);
}
