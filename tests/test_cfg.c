/*
 * test_cfg.c - the control-flow graph: block boundaries and edges of small
 * hand-made programs, unreachable code, errors that name the instruction,
 * random programs against a naive (quadratic) oracle, 4096-instruction
 * jump chains, and per-edge counts over the shipped traces checked for
 * conservation and against the instruction sequence the stepped
 * interpreter reports.
 */
#include "testutil.h"

#include "bpfvm.h"
#include "sim.h"
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#define S(code, k) ((struct bpfvm_insn){ (code), 0, 0, (k) })
#define J(code, k, jt, jf) ((struct bpfvm_insn){ (code), (jt), (jf), (k) })

static void build(struct bpfvm_cfg *cfg, struct bpfvm_insn *insns, uint32_t n)
{
	struct bpfvm_prog prog = { insns, n };
	char err[BPFVM_ERRBUF_SIZE];

	if (bpfvm_cfg_build(cfg, &prog, err) != 0)
		fail_msg("bpfvm_cfg_build: %s", err);
}

static void assert_block(const struct bpfvm_cfg *cfg, uint32_t b, uint32_t first, uint32_t last,
			 int reachable)
{
	assert_true(b < cfg->nblocks);
	assert_int_equal(cfg->blocks[b].first, first);
	assert_int_equal(cfg->blocks[b].last, last);
	assert_int_equal(cfg->blocks[b].reachable, reachable);
}

static void assert_edge(const struct bpfvm_cfg *cfg, uint32_t b, int j, uint32_t to, int kind)
{
	const struct bpfvm_cfg_edge *e;

	assert_true(j < cfg->blocks[b].nout);
	e = &cfg->edges[cfg->blocks[b].out[j]];
	assert_int_equal(e->from, b);
	assert_int_equal(e->to, to);
	assert_int_equal(e->kind, kind);
}

/* "ip and tcp": ldh [12]; jeq #0x800 jt 0 jf 3; ldb [23]; jeq #6 jt 0 jf 1;
 * ret #65535; ret #0. */
static void test_blocks_and_edges(void **state)
{
	struct bpfvm_insn p[] = {
		S(BPF_LD | BPF_H | BPF_ABS, 12), J(BPF_JMP | BPF_JEQ | BPF_K, 0x800, 0, 3),
		S(BPF_LD | BPF_B | BPF_ABS, 23), J(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 1),
		S(BPF_RET | BPF_K, 65535),        S(BPF_RET | BPF_K, 0),
	};
	struct bpfvm_cfg cfg;

	(void)state;
	build(&cfg, p, 6);
	assert_int_equal(cfg.nblocks, 4);
	assert_int_equal(cfg.nedges, 4);
	assert_block(&cfg, 0, 0, 1, 1);
	assert_block(&cfg, 1, 2, 3, 1);
	assert_block(&cfg, 2, 4, 4, 1);
	assert_block(&cfg, 3, 5, 5, 1);
	assert_edge(&cfg, 0, 0, 1, BPFVM_EDGE_TRUE);
	assert_edge(&cfg, 0, 1, 3, BPFVM_EDGE_FALSE);
	assert_edge(&cfg, 1, 0, 2, BPFVM_EDGE_TRUE);
	assert_edge(&cfg, 1, 1, 3, BPFVM_EDGE_FALSE);
	assert_true(cfg.blocks[2].is_ret && cfg.blocks[2].ret_src == BPF_K);
	assert_int_equal(cfg.blocks[2].ret_k, 65535);
	assert_int_equal(cfg.blocks[2].nout, 0);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(cfg.block_of[i], i < 2 ? 0 : i < 4 ? 1 : i - 2);
	bpfvm_cfg_free(&cfg);
}

/* A ja skips code no path reaches; a return preceded by a load is split
 * into a block and a return node; jt == jf gives two edges to one block. */
static void test_unreachable_and_shapes(void **state)
{
	struct bpfvm_insn p[] = {
		S(BPF_LD | BPF_IMM, 1),			/* 0 */
		J(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0),	/* 1: both ways to 2 */
		S(BPF_JMP | BPF_JA, 3),			/* 2: to 6 */
		S(BPF_LD | BPF_IMM, 2),			/* 3: unreachable */
		S(BPF_MISC | BPF_TAX, 0),		/* 4: unreachable */
		S(BPF_RET | BPF_A, 0),			/* 5: unreachable return */
		S(BPF_LD | BPF_W | BPF_LEN, 0),		/* 6 */
		S(BPF_RET | BPF_X, 0),			/* 7 */
	};
	struct bpfvm_cfg cfg;

	(void)state;
	build(&cfg, p, 8);
	assert_int_equal(cfg.nblocks, 6);
	assert_block(&cfg, 0, 0, 1, 1);
	assert_block(&cfg, 1, 2, 2, 1);
	assert_block(&cfg, 2, 3, 4, 0);
	assert_block(&cfg, 3, 5, 5, 0);
	assert_block(&cfg, 4, 6, 6, 1);
	assert_block(&cfg, 5, 7, 7, 1);
	assert_edge(&cfg, 0, 0, 1, BPFVM_EDGE_TRUE);
	assert_edge(&cfg, 0, 1, 1, BPFVM_EDGE_FALSE);
	assert_edge(&cfg, 1, 0, 4, BPFVM_EDGE_ALWAYS);
	assert_edge(&cfg, 2, 0, 3, BPFVM_EDGE_ALWAYS);	/* falls into the return */
	assert_edge(&cfg, 4, 0, 5, BPFVM_EDGE_ALWAYS);
	assert_int_equal(cfg.blocks[3].ret_src, BPF_A);
	assert_int_equal(cfg.blocks[5].ret_src, BPF_X);
	assert_int_equal(cfg.nedges, 5);
	bpfvm_cfg_free(&cfg);
}

static void expect_error(struct bpfvm_insn *insns, uint32_t n, const char *msg)
{
	struct bpfvm_prog prog = { insns, n };
	struct bpfvm_cfg cfg;
	char err[BPFVM_ERRBUF_SIZE] = "";

	assert_int_equal(bpfvm_cfg_build(&cfg, &prog, err), -1);
	if (!strstr(err, msg))
		fail_msg("expected '%s' in '%s'", msg, err);
	assert_null(cfg.blocks);
}

static void test_errors(void **state)
{
	struct bpfvm_insn past[] = { J(BPF_JMP | BPF_JGT | BPF_K, 0, 0, 5), S(BPF_RET | BPF_K, 0) };
	/* ja's target wraps in 32 bits (libpcap's bpf_filter): 0xfffffffd
	 * from instruction 0 lands at 4294967294, far past the end. */
	struct bpfvm_insn ja[] = { S(BPF_JMP | BPF_JA, 0xfffffffd), S(BPF_RET | BPF_K, 0) };
	struct bpfvm_insn off[] = { S(BPF_RET | BPF_K, 0), S(BPF_LD | BPF_IMM, 0) };
	struct bpfvm_insn bad[] = { S(BPF_JMP | 0x50, 0), S(BPF_RET | BPF_K, 0) };

	(void)state;
	expect_error(past, 2, "instruction 0: jumps to 6");
	expect_error(ja, 2, "instruction 0: jumps to 4294967294");
	expect_error(off, 2, "instruction 1, the last, is no return");
	expect_error(bad, 2, "instruction 0: code 0x55");
	expect_error(past, 0, "no instructions");
}

/* libpcap's backward ja (protochain's loop): k = 2^32 - 2 from
 * instruction 2 goes back to 1; the loop and what follows it are drawn. */
static void test_backward_ja(void **state)
{
	struct bpfvm_insn loop[] = {
		S(BPF_LD | BPF_IMM, 0),
		J(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1),		/* 1: to 2 or 3 */
		S(BPF_JMP | BPF_JA, 0xfffffffe),		/* 2: back to 1 */
		S(BPF_RET | BPF_K, 0),				/* 3 */
	};
	struct bpfvm_prog prog = { loop, 4 };
	struct bpfvm_cfg cfg;
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	assert_int_equal(bpfvm_cfg_build(&cfg, &prog, err), 0);
	assert_int_equal(cfg.nblocks, 4);
	assert_int_equal(cfg.block_of[2], 2);
	assert_int_equal(cfg.edges[cfg.blocks[2].out[0]].to, 1);	/* the backward edge */
	for (uint32_t b = 0; b < cfg.nblocks; b++)
		assert_true(cfg.blocks[b].reachable);
	bpfvm_cfg_free(&cfg);
}

/* The oracle: leaders and reachability by the textbook definitions, in the
 * slowest obvious way (reachability iterated to a fixed point). */
static void check_against_oracle(const struct bpfvm_prog *prog)
{
	const uint32_t n = prog->len;
	uint8_t *leader = calloc(n + 1, 1), *reach = calloc(n, 1);
	struct bpfvm_cfg cfg;
	char err[BPFVM_ERRBUF_SIZE];
	int changed = 1;

	assert_int_equal(bpfvm_cfg_build(&cfg, prog, err), 0);
	leader[0] = 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];

		if (BPF_CLASS(in->code) == BPF_RET)
			leader[i] = leader[i + 1] = 1;
		if (BPF_CLASS(in->code) == BPF_JMP) {
			leader[i + 1] = 1;
			if (BPF_OP(in->code) == BPF_JA) {
				leader[i + 1 + in->k] = 1;
			} else {
				leader[i + 1 + in->jt] = 1;
				leader[i + 1 + in->jf] = 1;
			}
		}
	}
	reach[0] = 1;
	while (changed) {
		changed = 0;
		for (uint32_t i = 0; i < n; i++) {
			const struct bpfvm_insn *in = &prog->insns[i];
			uint32_t to[2];
			int nto = 0;

			if (!reach[i] || BPF_CLASS(in->code) == BPF_RET)
				continue;
			if (BPF_CLASS(in->code) != BPF_JMP) {
				to[nto++] = i + 1;
			} else if (BPF_OP(in->code) == BPF_JA) {
				to[nto++] = i + 1 + in->k;
			} else {
				to[nto++] = i + 1 + in->jt;
				to[nto++] = i + 1 + in->jf;
			}
			for (int j = 0; j < nto; j++)
				if (!reach[to[j]])
					reach[to[j]] = changed = 1;
		}
	}
	uint32_t nb = 0;

	for (uint32_t i = 0; i < n; i++) {
		nb += leader[i];
		assert_int_equal(cfg.block_of[i], nb - 1);
		assert_int_equal(cfg.blocks[nb - 1].reachable, reach[i]);
		if (leader[i])
			assert_int_equal(cfg.blocks[nb - 1].first, i);
		if (leader[i + 1] || i == n - 1)
			assert_int_equal(cfg.blocks[nb - 1].last, i);
	}
	assert_int_equal(cfg.nblocks, nb);
	/* Every edge joins a block's last instruction to a block's first. */
	for (uint32_t e = 0; e < cfg.nedges; e++) {
		const struct bpfvm_cfg_edge *ed = &cfg.edges[e];
		const struct bpfvm_insn *in = &prog->insns[cfg.blocks[ed->from].last];
		uint32_t pc = cfg.blocks[ed->from].last, want;

		if (ed->kind == BPFVM_EDGE_TRUE)
			want = pc + 1 + in->jt;
		else if (ed->kind == BPFVM_EDGE_FALSE)
			want = pc + 1 + in->jf;
		else if (BPF_CLASS(in->code) == BPF_JMP)
			want = pc + 1 + in->k;
		else
			want = pc + 1;
		assert_int_equal(cfg.blocks[ed->to].first, want);
	}
	bpfvm_cfg_free(&cfg);
	free(leader);
	free(reach);
}

static void test_random_programs(void **state)
{
	struct bpfvm_progen_opts o = { .max_len = 64 };
	uint64_t rng = 7;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		struct bpfvm_prog prog = { 0 };

		o.max_len = i % 100 == 0 ? BPFVM_MAXINSNS : 64;
		bpfvm_progen(&prog, BPFVM_DEFECT_NONE, &o, &rng);
		check_against_oracle(&prog);
		bpfvm_prog_free(&prog);
	}
}

/* 4096 instructions: a chain of 4095 jumps (each one block, each jumping
 * over nothing), and a ladder of conditionals whose false branches all
 * skip to the end. */
static void test_long_programs(void **state)
{
	struct bpfvm_insn *p = calloc(BPFVM_MAXINSNS, sizeof(*p));
	struct bpfvm_prog prog = { p, BPFVM_MAXINSNS };
	struct bpfvm_cfg cfg;

	(void)state;
	for (uint32_t i = 0; i + 1 < BPFVM_MAXINSNS; i++)
		p[i] = S(BPF_JMP | BPF_JA, 0);
	p[BPFVM_MAXINSNS - 1] = S(BPF_RET | BPF_K, 1);
	build(&cfg, p, BPFVM_MAXINSNS);
	assert_int_equal(cfg.nblocks, BPFVM_MAXINSNS);
	assert_int_equal(cfg.nedges, BPFVM_MAXINSNS - 1);
	assert_true(cfg.blocks[BPFVM_MAXINSNS - 1].reachable);
	bpfvm_cfg_free(&cfg);
	check_against_oracle(&prog);

	/* jgt #i, jt 0, jf to the last return if within 255, else to i+256. */
	for (uint32_t i = 0; i + 2 < BPFVM_MAXINSNS; i++) {
		uint32_t far = BPFVM_MAXINSNS - 1 - (i + 1);

		p[i] = J(BPF_JMP | BPF_JGT | BPF_K, i, 0, far > 255 ? 255 : far);
	}
	p[BPFVM_MAXINSNS - 2] = S(BPF_RET | BPF_K, 0);
	build(&cfg, p, BPFVM_MAXINSNS);
	assert_int_equal(cfg.nblocks, BPFVM_MAXINSNS);
	assert_int_equal(cfg.nedges, 2 * (BPFVM_MAXINSNS - 2));
	bpfvm_cfg_free(&cfg);
	check_against_oracle(&prog);
	free(p);
}

/* ---- counts ----------------------------------------------------------- */

/* The pcs of one stepped run, and the counts fed the same steps. */
struct both {
	struct bpfvm_cfg_count *cnt;
	uint32_t pcs[BPFVM_MAXINSNS + 1];
	uint32_t n;
	uint8_t jumped[BPFVM_MAXINSNS + 1];
};

static void both_step(const struct bpfvm_step *st, void *ctx)
{
	struct both *b = ctx;

	assert_true(b->n <= BPFVM_MAXINSNS);
	b->jumped[b->n] = st->jumped;
	b->pcs[b->n++] = st->pc;
	bpfvm_cfg_count_step(st, b->cnt);
}

/*
 * Run @expr over every record of @trace and check: the runs are the
 * records that reached the filter, every run ends exactly once, every
 * reachable block conserves (in == out edges + ended), unreachable blocks
 * see nothing, each edge count equals the block transitions read off the
 * stepped pcs, and the return node a run ended at returned bpfvm_run()'s
 * value.
 */
static void check_counts(const char *trace, const char *expr, enum bpfvm_semantics sem)
{
	static struct both b;
	struct bpfvm_compile_opts co;
	struct bpfvm_prog prog = { 0 };
	struct bpfvm_cfg cfg;
	struct bpfvm_cfg_count cnt;
	struct trace_set set;
	struct sim_rx_dev dev;
	struct bpfvm *vm;
	char err[TRACE_ERRBUF_SIZE];
	uint64_t reached = 0, ended = 0, *edges;
	uint8_t buf[TRACE_GEN_MAXFRAME + 8];

	bpfvm_compile_opts_init(&co);
	co.linux_ext = 0;
	if (bpfvm_compile(expr, &co, &prog, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(bpfvm_create(&vm, &prog, sem, err), 0);
	build(&cfg, prog.insns, prog.len);
	assert_int_equal(bpfvm_cfg_count_init(&cnt, &cfg), 0);
	edges = calloc(cfg.nedges, sizeof(*edges));
	if (trace_load(trace, &set, err) != 0)
		fail_msg("%s", err);
	sim_rx_dev_init(&dev);
	b.cnt = &cnt;
	for (uint32_t r = 0; r < set.count; r++) {
		const struct trace_record *rec = &set.recs[r];
		struct bpfvm_packet pkt = { rec->bytes, rec->caplen, rec->wirelen, 0, 0 };
		const struct bpfvm_meta *meta = NULL;
		struct sim_rx_view view;
		uint32_t ret, last;

		if (sem == BPFVM_LINUX) {
			assert_true(rec->caplen <= sizeof(buf));
			sim_rx_view(&dev, rec->bytes, rec->caplen, SIM_SOCK_RAW, buf, &view);
			if (view.drop != SIM_DROP_NONE)
				continue;
			pkt = view.pkt;
			meta = &view.meta;
		}
		reached++;
		b.n = 0;
		ret = bpfvm_run_traced(vm, &pkt, meta, both_step, &b);
		assert_int_equal(ret, bpfvm_run(vm, &pkt, meta));
		assert_true(b.n > 0 && b.pcs[0] == 0);
		/* Transitions: wherever the next pc starts another block. */
		for (uint32_t i = 0; i + 1 < b.n; i++) {
			uint32_t from = cfg.block_of[b.pcs[i]], to = cfg.block_of[b.pcs[i + 1]];

			if (from == to) {
				assert_int_equal(b.pcs[i + 1], b.pcs[i] + 1);
				continue;
			}
			const struct bpfvm_cfg_block *fb = &cfg.blocks[from];
			int j = fb->nout == 2 && !b.jumped[i] ? 1 : 0;

			assert_int_equal(b.pcs[i], fb->last);
			assert_int_equal(b.pcs[i + 1], cfg.blocks[to].first);
			assert_int_equal(cfg.edges[fb->out[j]].to, to);
			edges[fb->out[j]]++;
		}
		last = cfg.block_of[b.pcs[b.n - 1]];
		if (cfg.blocks[last].is_ret && cfg.blocks[last].ret_src == BPF_K)
			assert_int_equal(ret, cfg.blocks[last].ret_k);
		else if (!cfg.blocks[last].is_ret)
			assert_int_equal(ret, 0);	/* a failed load */
	}
	assert_int_equal(cnt.runs, reached);
	assert_true(reached > 100);
	for (uint32_t e = 0; e < cfg.nedges; e++)
		assert_int_equal(cnt.edge[e], edges[e]);
	for (uint32_t bl = 0; bl < cfg.nblocks; bl++) {
		uint64_t out = cnt.end[bl];

		for (int j = 0; j < cfg.blocks[bl].nout; j++)
			out += cnt.edge[cfg.blocks[bl].out[j]];
		assert_int_equal(cnt.in[bl], out);
		if (!cfg.blocks[bl].reachable)
			assert_int_equal(cnt.in[bl], 0);
		ended += cnt.end[bl];
	}
	assert_int_equal(ended, reached);
	free(edges);
	trace_set_free(&set);
	bpfvm_cfg_count_free(&cnt);
	bpfvm_cfg_free(&cfg);
	bpfvm_destroy(vm);
	bpfvm_prog_free(&prog);
}

static void test_counts_on_traces(void **state)
{
	static const char *const exprs[] = {
		"tcp port 80 or udp", "ip and tcp[13] & 2 != 0", "vlan and (arp or icmp6)",
		"ip[6:2] & 0x1fff = 0 and udp[8:2] > 1000", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		check_counts("traces/samples/mixed.pcap", exprs[i], BPFVM_LINUX);
		check_counts("traces/samples/vlan.pcap", exprs[i], BPFVM_LINUX);
		check_counts("traces/samples/mixed.pcap", exprs[i], BPFVM_LIBPCAP);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_and_edges),
		cmocka_unit_test(test_unreachable_and_shapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_backward_ja),
		cmocka_unit_test(test_random_programs),
		cmocka_unit_test(test_long_programs),
		cmocka_unit_test(test_counts_on_traces),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
