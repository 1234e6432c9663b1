/*
 * dot.c - the control-flow graph of a filter as Graphviz DOT.  A printer
 * only: the blocks and edges come from bpfvm_cfg_build(), the counts from
 * bpfvm_cfg_count_step() in the command's run loop.
 *
 * Names in the output are stable so tools and tests can read it: block
 * "nI" starts at instruction I (return nodes too), "xI" is where runs ended
 * early inside block nI.  Edge labels are "T", "F" or empty, followed by
 * the count when there is one ("T 57").
 */
#include "cli.h"

/* @s inside a double-quoted DOT string. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')	/* the listing's tabs: Graphviz draws none */
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static double share(const struct cli_dot *d, uint64_t n)
{
	return d->count && d->count->runs ? (double)n / (double)d->count->runs : 0.0;
}

/* A heat colour, blue (few runs) to red (all runs), as Graphviz "H S V". */
static void put_heat(FILE *out, double s)
{
	fprintf(out, ", color=\"%.3f 0.900 0.850\", fontcolor=\"%.3f 0.900 0.700\", penwidth=%.2f",
		0.66 * (1.0 - s), 0.66 * (1.0 - s), 1.0 + 5.0 * s);
}

static void put_block(FILE *out, const struct cli_dot *d, uint32_t b)
{
	const struct bpfvm_cfg_block *blk = &d->cfg->blocks[b];
	const struct bpfvm_cfg_count *c = d->count;
	int on_path = d->path && c->in[b];
	char line[128];

	fprintf(out, "\tn%u [", blk->first);
	if (blk->is_ret) {
		fputs("shape=oval, label=\"return ", out);
		if (blk->ret_src == BPF_K)
			fprintf(out, "%u%s", blk->ret_k, blk->ret_k ? "" : " (reject)");
		else
			fputs(blk->ret_src == BPF_A ? "A" : "X", out);
		if (d->path && c->end[b])
			fprintf(out, "\\npacket %llu: %u, %u bytes captured",
				(unsigned long long)d->path_index, d->path_ret, d->path_snap);
		else if (c && !d->path)
			fprintf(out, "\\n%llu (%.1f%%)", (unsigned long long)c->end[b],
				100.0 * share(d, c->end[b]));
		fputc('"', out);
	} else {
		fputs("label=\"", out);
		if (!blk->reachable)
			fputs("unreachable (the kernel still checks it)\\l", out);
		for (uint32_t i = blk->first; i <= blk->last; i++) {
			fprintf(out, "(%03u) ", i);
			put_escaped(out, bpfvm_disasm_insn(&d->prog->insns[i], i, line, sizeof(line)));
			fputs("\\l", out);
		}
		if (c && !d->path && blk->reachable)
			fprintf(out, "[%llu in]\\l", (unsigned long long)c->in[b]);
		fputc('"', out);
	}
	if (!blk->reachable)
		fputs(", style=\"filled,dashed\", fillcolor=grey92, color=grey60, fontcolor=grey50",
		      out);
	else if (on_path && blk->is_ret)
		fputs(", style=\"filled,bold\", fillcolor=mistyrose, color=red, penwidth=3", out);
	else if (on_path)
		fputs(", style=bold, color=red, penwidth=2", out);
	else if (d->path)
		fputs(", color=grey60", out);
	else if (c && blk->is_ret && c->end[b])
		put_heat(out, share(d, c->end[b]));
	fputs("];\n", out);

	/* Runs that ended inside a block that is no return node. */
	if (c && !blk->is_ret && c->end[b]) {
		fprintf(out, "\tx%u [shape=octagon, label=\"ended early\\n(failed load or X = 0)",
			blk->first);
		if (d->path)
			fprintf(out, "\\npacket %llu: %u\", style=\"filled,bold\", fillcolor=mistyrose, "
				"color=red, penwidth=3];\n",
				(unsigned long long)d->path_index, d->path_ret);
		else
			fprintf(out, "\\n%llu (%.1f%%)\"];\n", (unsigned long long)c->end[b],
				100.0 * share(d, c->end[b]));
		fprintf(out, "\tn%u -> x%u [style=dotted", blk->first, blk->first);
		if (d->path)
			fputs(", color=red, penwidth=3", out);
		else
			fprintf(out, ", label=\"%llu\"", (unsigned long long)c->end[b]);
		fputs("];\n", out);
	}
}

static void put_edge(FILE *out, const struct cli_dot *d, uint32_t e)
{
	static const char *const kind_label[] = { "T", "F", "" };
	const struct bpfvm_cfg_edge *edge = &d->cfg->edges[e];
	const struct bpfvm_cfg_count *c = d->count;
	const char *kl = kind_label[edge->kind];

	fprintf(out, "\tn%u -> n%u [label=\"%s", d->cfg->blocks[edge->from].first,
		d->cfg->blocks[edge->to].first, kl);
	if (c && !d->path)
		fprintf(out, "%s%llu", *kl ? " " : "", (unsigned long long)c->edge[e]);
	fputs("\"", out);
	if (!d->cfg->blocks[edge->from].reachable)
		fputs(", color=grey70, fontcolor=grey60", out);
	else if (d->path && c->edge[e])
		fputs(", color=red, fontcolor=red, penwidth=3, style=bold", out);
	else if (d->path)
		fputs(", color=grey60, fontcolor=grey60", out);
	else if (c && c->edge[e])
		put_heat(out, share(d, c->edge[e]));
	else if (c)
		fputs(", color=grey75, fontcolor=grey60, style=dashed", out);
	else if (edge->kind == BPFVM_EDGE_TRUE)
		fputs(", color=forestgreen, fontcolor=forestgreen", out);
	else if (edge->kind == BPFVM_EDGE_FALSE)
		fputs(", color=royalblue, fontcolor=royalblue, style=dashed", out);
	fputs("];\n", out);
}

int cli_dot_write(FILE *out, const struct cli_dot *d)
{
	fputs("digraph bpf {\n"
	      "\tgraph [fontname=\"Helvetica\", labelloc=t, nodesep=0.4, ranksep=0.4];\n"
	      "\tnode [shape=box, fontname=\"Courier\", fontsize=10];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=9];\n", out);
	if (d->title) {
		fputs("\tlabel=\"", out);
		put_escaped(out, d->title);
		fputs("\";\n", out);
	}
	for (uint32_t b = 0; b < d->cfg->nblocks; b++)
		put_block(out, d, b);
	for (uint32_t e = 0; e < d->cfg->nedges; e++)
		put_edge(out, d, e);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
