/*
 * cfg.c - the control-flow graph of a classic BPF program: basic blocks,
 * their true/false/always edges, which blocks can be reached from the
 * first instruction, and per-edge counts gathered from stepped runs.
 *
 * The kernel's classic BPF only jumps forward (jt, jf and ja's k are
 * unsigned offsets from the next instruction).  libpcap's bpf_filter()
 * computes ja's target in 32-bit arithmetic, so a k near 2^32 jumps back
 * (libpcap compiles `protochain` into such a loop); the graph takes such
 * edges too, and finds what is reachable with an explicit worklist, so no
 * walk recurses whatever the depth of a jump chain.
 *
 * Every return instruction is a block of its own, a "return node", so the
 * packets that ended at each return can be counted on the node itself.
 */
#include "bpfvm.h"

#include <stdlib.h>
#include <string.h>

enum insn_flow { FLOW_NEXT, FLOW_JA, FLOW_COND, FLOW_RET };

/* How @in passes control on; -1 for a jump class code that is no jump. */
static int insn_flow(const struct bpfvm_insn *in)
{
	if (BPF_CLASS(in->code) == BPF_RET)
		return FLOW_RET;
	if (BPF_CLASS(in->code) != BPF_JMP)
		return FLOW_NEXT;
	switch (BPF_OP(in->code)) {
	case BPF_JA:
		return FLOW_JA;
	case BPF_JEQ:
	case BPF_JGT:
	case BPF_JGE:
	case BPF_JSET:
		return FLOW_COND;
	}
	return -1;
}

/* ja's target: @k after @pc + 1, in 32-bit arithmetic as bpf_filter()
 * computes it (a k near 2^32 goes back). */
static uint32_t ja_target(uint32_t pc, uint32_t k)
{
	return pc + 1 + k;
}

/* Check that the target @off instructions after @pc + 1 exists (@wrap: in
 * 32-bit arithmetic, as ja's). */
static int check_target(uint32_t pc, uint64_t off, uint32_t len, int wrap, char *errbuf)
{
	uint64_t to = wrap ? ja_target(pc, (uint32_t)off) : (uint64_t)pc + 1 + off;

	if (to < len)
		return 0;
	snprintf(errbuf, BPFVM_ERRBUF_SIZE,
		 "instruction %u: jumps to %llu, past the last instruction (%u)", pc,
		 (unsigned long long)to, len - 1);
	return -1;
}

static uint32_t add_edge(struct bpfvm_cfg *cfg, uint32_t from, uint32_t to_pc,
			 enum bpfvm_cfg_edge_kind kind)
{
	struct bpfvm_cfg_edge *e = &cfg->edges[cfg->nedges];
	struct bpfvm_cfg_block *b = &cfg->blocks[from];

	e->from = from;
	e->to = cfg->block_of[to_pc];
	e->kind = kind;
	b->out[b->nout++] = cfg->nedges;
	return cfg->nedges++;
}

int bpfvm_cfg_build(struct bpfvm_cfg *cfg, const struct bpfvm_prog *prog, char *errbuf)
{
	const uint32_t n = prog->len;
	uint8_t *leader;

	memset(cfg, 0, sizeof(*cfg));
	if (n == 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "the program has no instructions");
		return -1;
	}
	/* Pass 1: leaders - the first instruction, every jump target, every
	 * instruction after a jump or a return, and every return. */
	leader = calloc(n, 1);
	if (!leader) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory for %u instructions", n);
		return -1;
	}
	leader[0] = 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];
		int flow = insn_flow(in);

		if (flow < 0) {
			snprintf(errbuf, BPFVM_ERRBUF_SIZE,
				 "instruction %u: code 0x%02x is in the jump class but is no "
				 "classic BPF jump", i, in->code);
			goto fail;
		}
		if (flow == FLOW_JA) {
			if (check_target(i, in->k, n, 1, errbuf) != 0)
				goto fail;
			leader[ja_target(i, in->k)] = 1;
		} else if (flow == FLOW_COND) {
			if (check_target(i, in->jt, n, 0, errbuf) != 0 ||
			    check_target(i, in->jf, n, 0, errbuf) != 0)
				goto fail;
			leader[i + 1 + in->jt] = 1;
			leader[i + 1 + in->jf] = 1;
		} else if (flow == FLOW_RET) {
			leader[i] = 1;
		} else if (i == n - 1) {
			snprintf(errbuf, BPFVM_ERRBUF_SIZE,
				 "instruction %u, the last, is no return: the program would run "
				 "off its end", i);
			goto fail;
		}
		if (flow != FLOW_NEXT && i + 1 < n)
			leader[i + 1] = 1;
	}

	/* Pass 2: blocks.  At most one block and two edges per instruction. */
	cfg->ninsns = n;
	cfg->block_of = calloc(n, sizeof(*cfg->block_of));
	cfg->blocks = calloc(n, sizeof(*cfg->blocks));
	cfg->edges = calloc(2 * (size_t)n, sizeof(*cfg->edges));
	if (!cfg->block_of || !cfg->blocks || !cfg->edges) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory for %u instructions", n);
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (leader[i]) {
			cfg->blocks[cfg->nblocks].first = i;
			cfg->nblocks++;
		}
		cfg->blocks[cfg->nblocks - 1].last = i;
		cfg->block_of[i] = cfg->nblocks - 1;
	}

	/* Pass 3: edges. */
	for (uint32_t b = 0; b < cfg->nblocks; b++) {
		struct bpfvm_cfg_block *blk = &cfg->blocks[b];
		const struct bpfvm_insn *in = &prog->insns[blk->last];
		uint32_t pc = blk->last;

		switch (insn_flow(in)) {
		case FLOW_RET:
			blk->is_ret = 1;
			blk->ret_src = BPF_RVAL(in->code);
			blk->ret_k = in->k;
			break;
		case FLOW_JA:
			add_edge(cfg, b, ja_target(pc, in->k), BPFVM_EDGE_ALWAYS);
			break;
		case FLOW_COND:
			add_edge(cfg, b, pc + 1 + in->jt, BPFVM_EDGE_TRUE);
			add_edge(cfg, b, pc + 1 + in->jf, BPFVM_EDGE_FALSE);
			break;
		default:
			add_edge(cfg, b, pc + 1, BPFVM_EDGE_ALWAYS);
			break;
		}
	}
	/* Pass 4: reachability from block 0, with an explicit stack (each
	 * block is pushed at most once). */
	{
		uint32_t *stack = malloc((size_t)cfg->nblocks * sizeof(*stack)), top = 0;

		if (!stack) {
			snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory for %u blocks", cfg->nblocks);
			goto fail;
		}
		cfg->blocks[0].reachable = 1;
		stack[top++] = 0;
		while (top) {
			const struct bpfvm_cfg_block *blk = &cfg->blocks[stack[--top]];

			for (uint8_t j = 0; j < blk->nout; j++) {
				struct bpfvm_cfg_block *to = &cfg->blocks[cfg->edges[blk->out[j]].to];

				if (!to->reachable) {
					to->reachable = 1;
					stack[top++] = cfg->edges[blk->out[j]].to;
				}
			}
		}
		free(stack);
	}
	free(leader);
	return 0;
fail:
	free(leader);
	bpfvm_cfg_free(cfg);
	return -1;
}

void bpfvm_cfg_free(struct bpfvm_cfg *cfg)
{
	free(cfg->blocks);
	free(cfg->edges);
	free(cfg->block_of);
	memset(cfg, 0, sizeof(*cfg));
}

int bpfvm_cfg_count_init(struct bpfvm_cfg_count *c, const struct bpfvm_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->edge = calloc(cfg->nedges ? cfg->nedges : 1, sizeof(*c->edge));
	c->in = calloc(cfg->nblocks ? cfg->nblocks : 1, sizeof(*c->in));
	c->end = calloc(cfg->nblocks ? cfg->nblocks : 1, sizeof(*c->end));
	if (!c->edge || !c->in || !c->end) {
		bpfvm_cfg_count_free(c);
		return -1;
	}
	return 0;
}

void bpfvm_cfg_count_free(struct bpfvm_cfg_count *c)
{
	free(c->edge);
	free(c->in);
	free(c->end);
	c->edge = c->in = c->end = NULL;
}

/*
 * A bpfvm_step_fn.  A run starts at instruction 0, which no jump can reach
 * again; it leaves a block at the block's last instruction, by the edge the
 * step's jumped flag picks; it ends where the step says done - at a return
 * node, or inside any block when a load fails or X is 0 for a division.
 */
void bpfvm_cfg_count_step(const struct bpfvm_step *st, void *ctx)
{
	struct bpfvm_cfg_count *c = ctx;
	const struct bpfvm_cfg_block *blk;
	uint32_t b, e;

	if (st->pc >= c->cfg->ninsns)
		return;
	b = c->cfg->block_of[st->pc];
	blk = &c->cfg->blocks[b];
	if (st->pc == 0) {
		c->runs++;
		c->in[0]++;
	}
	if (st->done) {
		c->end[b]++;
		return;
	}
	if (st->pc != blk->last || blk->nout == 0)
		return;
	e = blk->out[blk->nout == 2 && !st->jumped ? 1 : 0];
	c->edge[e]++;
	c->in[c->cfg->edges[e].to]++;
}
