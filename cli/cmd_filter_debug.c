/*
 * cmd_filter_debug.c - `capsim filter step` and `filter diff`: follow one
 * packet through a program instruction by instruction, and find the
 * records on which two programs disagree and the first read where their
 * runs part.  The runs are recorded by bpfvm_record() (bpfvm/steprec.c),
 * which resolves every load to the bytes it read; this file only formats.
 */
#include "cli.h"
#include "sim.h"
#include "trace.h"

#include <jansson.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Option codes of these commands only, clear of enum cli_opt and of
 * cmd_filter_tools.c's. */
enum { OPT_JSON = 600, OPT_OPT_VS_NOOPT, OPT_EXT_VS_OFFLINE };

/* One sentence saying where a program came from, as `filter run -v`. */
static void describe_prog(char *buf, size_t size, const struct cli_prog_src *s,
			  const struct bpfvm_prog *prog)
{
	if (s->file)
		snprintf(buf, size, "read from %s: %u instructions", s->file, prog->len);
	else
		snprintf(buf, size,
			 "'%s' compiled by libpcap %s Linux extensions (as tcpdump does %s), "
			 "optimizer %s, snaplen %d: %u instructions", s->expr,
			 s->copts.linux_ext ? "with" : "without",
			 s->copts.linux_ext ? "for a live capture" : "when reading a file",
			 s->copts.optimize ? "on" : "off", s->copts.snaplen, prog->len);
}

static const char *pkt_type_name(unsigned t)
{
	static const char *const names[] = {
		[PACKET_HOST] = "PACKET_HOST", [PACKET_BROADCAST] = "PACKET_BROADCAST",
		[PACKET_MULTICAST] = "PACKET_MULTICAST", [PACKET_OTHERHOST] = "PACKET_OTHERHOST",
		[PACKET_OUTGOING] = "PACKET_OUTGOING",
	};

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "?";
}

/* What the kernel calls the field an ancillary load reads. */
static const char *anc_field(int anc)
{
	switch (anc) {
	case SKF_AD_PROTOCOL: return "skb->protocol";
	case SKF_AD_PKTTYPE: return "skb->pkt_type";
	case SKF_AD_IFINDEX: return "skb->dev->ifindex";
	case SKF_AD_NLATTR: return "nla_find(skb->data + A, X)";
	case SKF_AD_NLATTR_NEST: return "nla_find_nested(skb->data + A, X)";
	case SKF_AD_MARK: return "skb->mark";
	case SKF_AD_QUEUE: return "skb->queue_mapping";
	case SKF_AD_HATYPE: return "skb->dev->type";
	case SKF_AD_RXHASH: return "skb->hash";
	case SKF_AD_CPU: return "raw_smp_processor_id()";
	case SKF_AD_ALU_XOR_X: return "A ^ X";
	case SKF_AD_VLAN_TAG: return "skb->vlan_tci";
	case SKF_AD_VLAN_TAG_PRESENT: return "skb_vlan_tag_present(skb)";
	case SKF_AD_PAY_OFFSET: return "skb_get_poff(skb)";
	case SKF_AD_RANDOM: return "bpf_user_rnd_u32()";
	case SKF_AD_VLAN_TPID: return "skb->vlan_proto";
	}
	return "?";
}

/* "08 00": the bytes a successful load read. */
static void hex_bytes(char *buf, size_t size, const struct bpfvm_packet *pkt,
		      const struct bpfvm_rec_step *s)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < s->load_size && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%02x", i ? " " : "",
				      pkt->bytes[s->load_pos + i]);
}

/* The operand of a packet load as the program wrote it: [k], [x+k], with
 * the kernel's negative bases named. */
static void load_operand(char *buf, size_t size, const struct bpfvm_rec_step *s,
			 const struct bpfvm_insn *in)
{
	int ind = BPF_CLASS(in->code) == BPF_LD && BPF_MODE(in->code) == BPF_IND;
	int32_t k = (int32_t)in->k;

	if (ind)
		snprintf(buf, size, "[x+%u]", in->k);
	else if (s->load_base == BPFVM_BASE_NET)
		snprintf(buf, size, "[SKF_NET_OFF+%d]", k - SKF_NET_OFF);
	else if (s->load_base == BPFVM_BASE_LL)
		snprintf(buf, size, "[SKF_LL_OFF+%d]", k - SKF_LL_OFF);
	else
		snprintf(buf, size, "[%u]", in->k);
}

/* Positions "12..13" or "23". */
static void span(char *buf, size_t size, const struct bpfvm_rec_step *s)
{
	if (s->load_size == 1)
		snprintf(buf, size, "%lld", (long long)s->load_pos);
	else
		snprintf(buf, size, "%lld..%lld", (long long)s->load_pos,
			 (long long)(s->load_pos + s->load_size - 1));
}

/* Why a load failed: "past the end (1500 bytes)". */
static void load_failure(char *buf, size_t size, const struct bpfvm_rec_step *s,
			 const struct bpfvm_packet *pkt, enum bpfvm_semantics sem)
{
	if (s->load_base == BPFVM_BASE_NONE)
		snprintf(buf, size, "below SKF_LL_OFF: no such byte");
	else if (s->load_pos < 0)
		snprintf(buf, size, "before the frame");
	else if (sem == BPFVM_LIBPCAP && pkt->caplen < pkt->wirelen)
		snprintf(buf, size, "past the %u captured bytes (of %u)", pkt->caplen, pkt->wirelen);
	else
		snprintf(buf, size, "past the end (%u bytes)", pkt->caplen);
}

/* The "effect" column of a step. */
static void step_effect(char *buf, size_t size, const struct bpfvm_rec_step *s,
			const struct bpfvm_insn *in, const struct bpfvm_packet *pkt,
			enum bpfvm_semantics sem)
{
	const char *who = sem == BPFVM_LINUX ? "kernel" : "bpf_filter()";
	char t1[64], t2[64], t3[160];

	buf[0] = '\0';
	if (s->load_size) {
		load_operand(t1, sizeof(t1), s, in);
		if (s->load_failed) {
			load_failure(t3, sizeof(t3), s, pkt, sem);
			if (s->load_base == BPFVM_BASE_NONE)
				snprintf(t2, sizeof(t2), "offset %lld", (long long)s->load_off);
			else
				span(t2, sizeof(t2), s);
			snprintf(buf, size, "load %s at %s is %s: the program ends, returning 0", t1,
				 t2, t3);
			return;
		}
		span(t1, sizeof(t1), s);
		hex_bytes(t2, sizeof(t2), pkt, s);
		if (BPF_CLASS(in->code) == BPF_LDX)
			snprintf(buf, size, "read [%s] = %s: X = 4*(0x%s & 0xf) = %u", t1, t2, t2, s->x);
		else
			snprintf(buf, size, "read [%s] = %s", t1, t2);
		return;
	}
	if (s->anc >= 0) {
		if (s->anc == SKF_AD_ALU_XOR_X)
			snprintf(buf, size, "A ^= X (an ancillary operation)");
		else if (s->anc == SKF_AD_PKTTYPE)
			snprintf(buf, size, "%s = %u (%s)", anc_field(s->anc), s->a,
				 pkt_type_name(s->a));
		else if (s->anc == SKF_AD_PROTOCOL || s->anc == SKF_AD_VLAN_TAG ||
			 s->anc == SKF_AD_VLAN_TPID)
			snprintf(buf, size, "%s = 0x%04x", anc_field(s->anc), s->a);
		else
			snprintf(buf, size, "%s = %u", anc_field(s->anc), s->a);
		return;
	}
	if (s->mem >= 0) {
		snprintf(buf, size, "M[%d] = 0x%x", s->mem, BPF_CLASS(in->code) == BPF_ST ? s->a : s->x);
		return;
	}
	switch (BPF_CLASS(in->code)) {
	case BPF_RET:
		snprintf(buf, size, "returns %u", BPF_RVAL(in->code) == BPF_K ? in->k : s->a);
		return;
	case BPF_LD:
	case BPF_LDX:
		if (BPF_MODE(in->code) == BPF_LEN)
			snprintf(buf, size, "%s = %u", sem == BPFVM_LINUX ? "skb->len" : "wire length",
				 BPF_CLASS(in->code) == BPF_LD ? s->a : s->x);
		else if (BPF_MODE(in->code) == BPF_MEM)
			snprintf(buf, size, "%c = M[%u]", BPF_CLASS(in->code) == BPF_LD ? 'A' : 'X',
				 in->k);
		return;
	case BPF_ALU:
		if (s->done)
			snprintf(buf, size, "division by X = 0: returns 0 (%s)", who);
		return;
	case BPF_JMP:
		if (BPF_OP(in->code) == BPF_JA) {
			if (s->done)
				snprintf(buf, size, "the %u-th backward jump: capsim stops the run, "
					 "returning 0 (libpcap 1.10.3 has no limit)", 1u << 20);
			else
				snprintf(buf, size, "to %u", s->next);
			return;
		}
		{
			static const char *const ops[] = { "", "==", ">", ">=", "&" };
			uint32_t rhs = BPF_SRC(in->code) == BPF_X ? s->x : in->k;

			snprintf(buf, size, "0x%x %s 0x%x -> %s, to %u", s->a,
				 ops[BPF_OP(in->code) >> 4], rhs, s->jumped ? "true" : "false",
				 s->next);
		}
		return;
	}
	if (s->done)
		snprintf(buf, size, "bpf_filter() has no case for code 0x%02x and would abort(); "
			 "the run ends, returning 0", in->code);
}

/* An instruction as tcpdump -d prints it, its runs of blanks and tabs
 * squeezed to one space so it lines up in a column: "jeq #0x800 jt 2 jf 3". */
static char *disasm(const struct bpfvm_insn *in, uint32_t pc, char *buf, size_t size)
{
	char raw[128];
	size_t n = 0;

	bpfvm_disasm_insn(in, pc, raw, sizeof(raw));
	for (const char *p = raw; *p && n + 1 < size; p++)
		if (!(*p == ' ' || *p == '\t') || (n && buf[n - 1] != ' '))
			buf[n++] = *p == '\t' ? ' ' : *p;
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

/* The widest disassembled instruction, for the listing's alignment. */
static int disasm_width(const struct bpfvm_prog *prog)
{
	char d[128];
	int w = 11;

	for (uint32_t pc = 0; pc < prog->len; pc++) {
		int n = (int)strlen(disasm(&prog->insns[pc], pc, d, sizeof(d)));

		if (n > w)
			w = n;
	}
	return w > 40 ? 40 : w;
}

/* Read @r (opened from @path) up to record @index.  1 with *@rec (valid
 * until the reader is closed), 0 with a message if there is no such
 * record, -1 on errors. */
static int find_record(struct trace_reader *r, const char *path, uint64_t index,
		       struct trace_record *rec)
{
	char err[TRACE_ERRBUF_SIZE];
	uint64_t n = 0;
	int rc;

	while ((rc = trace_next(r, rec, err)) == 1) {
		if (rec->index == index)
			return 1;
		n++;
	}
	if (rc < 0) {
		cli_error("%s", err);
		return -1;
	}
	cli_error("%s has %llu records: there is no record %llu", path, (unsigned long long)n,
		  (unsigned long long)index);
	return 0;
}

/* Linux semantics models a receiving Ethernet device. */
/* ---- filter step ----------------------------------------------------- */

struct step_out {
	const char *trace;
	const struct trace_record *rec;
	int linktype;
	const struct cli_view *o;
	const struct sim_rx_view *view;		/* the packet, or why it was dropped */
	int dropped;				/* linux: never reached the taps */
	const struct cli_prog_src *src;
	const struct bpfvm_prog *prog;
	const struct bpfvm_rec *run;
	uint32_t snap;
};

static uint32_t skb_len(const struct bpfvm_packet *pkt)
{
	return pkt->caplen - (pkt->data_off < pkt->caplen ? pkt->data_off : pkt->caplen);
}

static void print_step_header(const struct step_out *so)
{
	char what[200], how[600];
	const struct trace_record *rec = so->rec;
	const struct sim_rx_view *v = so->view;
	const uint8_t *mac = so->o->dev.mac;

	printf("record %llu of %s: %u bytes captured of %u on the wire\n",
	       (unsigned long long)rec->index, so->trace, rec->caplen, rec->wirelen);
	printf("  %s\n", trace_describe(rec->bytes, rec->caplen, so->linktype, what, sizeof(what)));
	describe_prog(how, sizeof(how), so->src, so->prog);
	printf("program: %s\n", how);
	if (so->o->sem == BPFVM_LIBPCAP) {
		printf("semantics: libpcap, bpf_filter() on the record as read from the file: loads "
		       "count from its first byte and fail past its %u captured bytes; len is %u\n",
		       rec->caplen, rec->wirelen);
		return;
	}
	printf("semantics: linux, a %s tap on a receiving Ethernet device "
	       "(%02x:%02x:%02x:%02x:%02x:%02x, ifindex %u)\n",
	       so->o->sock == SIM_SOCK_RAW ? "SOCK_RAW" : "SOCK_DGRAM",
	       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], so->o->dev.ifindex);
	if (so->dropped) {
		printf("dropped before the taps: %s in %s() (%s)\n", sim_drop_reason_name(v->drop),
		       v->drop_func ? v->drop_func : "?", sim_drop_reason_text(v->drop));
		return;
	}
	if (v->meta.vlan_present)
		printf("receive view: skb_vlan_untag() moved the VLAN tag into metadata (TCI 0x%04x: "
		       "VID %u, PCP %u; TPID 0x%04x): the filter sees the frame without it\n",
		       v->meta.vlan_tci, v->meta.vlan_tci & 0xfff, v->meta.vlan_tci >> 13,
		       v->meta.vlan_tpid);
	else
		printf("receive view: no VLAN tag to move\n");
	printf("  pkt_type %s, skb->protocol 0x%04x, skb->len %u", pkt_type_name(v->meta.pkt_type),
	       v->meta.protocol, skb_len(&v->pkt));
	if (v->pkt.data_off)
		printf("; skb->data is at byte %u (the network header), and positions below count "
		       "from the MAC header", v->pkt.data_off);
	printf("\n");
}

static void print_step_text(const struct step_out *so)
{
	const struct bpfvm_rec *run = so->run;
	char d[128], eff[400], a[16], x[16];
	int w = disasm_width(so->prog);

	print_step_header(so);
	if (so->dropped)
		return;
	printf("\n%4s  %-*s  %-12s %-12s %s\n", "pc", w, "instruction", "A", "X", "effect");
	for (uint32_t i = 0; i < run->n; i++) {
		const struct bpfvm_rec_step *s = &run->steps[i];
		const struct bpfvm_insn *in = &so->prog->insns[s->pc];

		step_effect(eff, sizeof(eff), s, in, &so->view->pkt, so->o->sem);
		snprintf(a, sizeof(a), "0x%x", s->a);
		snprintf(x, sizeof(x), "0x%x", s->x);
		if (eff[0])
			printf("%4u  %-*s  A=%-10s X=%-10s %s\n", s->pc, w,
			       disasm(in, s->pc, d, sizeof(d)), a, x, eff);
		else	/* no trailing blanks */
			printf("%4u  %-*s  A=%-10s X=%s\n", s->pc, w,
			       disasm(in, s->pc, d, sizeof(d)), a, x);
	}
	if (run->truncated)
		printf("%4s  ... %llu more steps not shown\n", "",
		       (unsigned long long)(run->executed - run->n));
	if (so->snap)
		printf("accepted, %u bytes captured\n", so->snap);
	else
		printf("rejected\n");
}

static const char *end_name(enum bpfvm_run_end e)
{
	switch (e) {
	case BPFVM_END_RET: return "ret";
	case BPFVM_END_LOAD: return "load-failed";
	case BPFVM_END_DIV0: return "division-by-zero";
	case BPFVM_END_BACKJUMPS: return "backward-jump-limit";
	case BPFVM_END_ABORT: return "abort";
	}
	return "?";
}

static const char *base_name(enum bpfvm_load_base b)
{
	switch (b) {
	case BPFVM_BASE_DATA: return "data";
	case BPFVM_BASE_NET: return "SKF_NET_OFF";
	case BPFVM_BASE_LL: return "SKF_LL_OFF";
	case BPFVM_BASE_NONE: return "none";
	}
	return "?";
}

/* jansson's setters steal the reference; a NULL value (out of memory)
 * makes json_object_set_new() fail, which the final dump notices. */
static json_t *step_json(const struct step_out *so, const struct bpfvm_rec_step *s)
{
	const struct bpfvm_insn *in = &so->prog->insns[s->pc];
	char d[128], eff[400], hex[16];
	json_t *j = json_object();

	step_effect(eff, sizeof(eff), s, in, &so->view->pkt, so->o->sem);
	json_object_set_new(j, "pc", json_integer(s->pc));
	json_object_set_new(j, "insn", json_string(disasm(in, s->pc, d, sizeof(d))));
	json_object_set_new(j, "a", json_integer(s->a));
	json_object_set_new(j, "x", json_integer(s->x));
	json_object_set_new(j, "effect", json_string(eff));
	if (s->load_size) {
		json_t *l = json_object();

		json_object_set_new(l, "offset", json_integer(s->load_off));
		json_object_set_new(l, "base", json_string(base_name(s->load_base)));
		json_object_set_new(l, "pos", json_integer(s->load_pos));
		json_object_set_new(l, "size", json_integer(s->load_size));
		json_object_set_new(l, "failed", json_boolean(s->load_failed));
		if (!s->load_failed) {
			hex_bytes(hex, sizeof(hex), &so->view->pkt, s);
			json_object_set_new(l, "bytes", json_string(hex));
		}
		json_object_set_new(j, "load", l);
	}
	if (s->anc >= 0) {
		json_t *a = json_object();

		json_object_set_new(a, "field", json_string(anc_field(s->anc)));
		json_object_set_new(a, "value", json_integer(s->a));
		json_object_set_new(j, "ancillary", a);
	}
	if (s->mem >= 0) {
		json_t *m = json_object();

		json_object_set_new(m, "cell", json_integer(s->mem));
		json_object_set_new(m, "value",
				    json_integer(BPF_CLASS(in->code) == BPF_ST ? s->a : s->x));
		json_object_set_new(j, "mem", m);
	}
	if (s->is_cond)
		json_object_set_new(j, "taken", json_boolean(s->jumped));
	if (s->next != UINT32_MAX)
		json_object_set_new(j, "next", json_integer(s->next));
	if (s->done)
		json_object_set_new(j, "done", json_true());
	return j;
}

static int print_step_json(const struct step_out *so)
{
	char what[200], how[600];
	const struct sim_rx_view *v = so->view;
	json_t *root = json_object(), *prog = json_object();
	int rc;

	json_object_set_new(root, "trace", json_string(so->trace));
	json_object_set_new(root, "record", json_integer((json_int_t)so->rec->index));
	json_object_set_new(root, "caplen", json_integer(so->rec->caplen));
	json_object_set_new(root, "wirelen", json_integer(so->rec->wirelen));
	json_object_set_new(root, "description",
			    json_string(trace_describe(so->rec->bytes, so->rec->caplen, so->linktype,
						       what, sizeof(what))));
	json_object_set_new(root, "semantics", json_string(bpfvm_semantics_name(so->o->sem)));
	describe_prog(how, sizeof(how), so->src, so->prog);
	json_object_set_new(prog, "description", json_string(how));
	if (so->src->file) {
		json_object_set_new(prog, "file", json_string(so->src->file));
	} else {
		json_object_set_new(prog, "expression", json_string(so->src->expr));
		json_object_set_new(prog, "linux_ext", json_boolean(so->src->copts.linux_ext));
		json_object_set_new(prog, "optimize", json_boolean(so->src->copts.optimize));
		json_object_set_new(prog, "snaplen", json_integer(so->src->copts.snaplen));
	}
	json_object_set_new(prog, "instructions", json_integer(so->prog->len));
	json_object_set_new(root, "program", prog);
	if (so->o->sem == BPFVM_LINUX) {
		json_t *jv = json_object();

		json_object_set_new(jv, "sock",
				    json_string(so->o->sock == SIM_SOCK_RAW ? "raw" : "dgram"));
		if (so->dropped) {
			json_object_set_new(jv, "dropped", json_string(sim_drop_reason_name(v->drop)));
			json_object_set_new(jv, "drop_function",
					    json_string(v->drop_func ? v->drop_func : "?"));
		} else {
			json_object_set_new(jv, "vlan_present", json_boolean(v->meta.vlan_present));
			if (v->meta.vlan_present) {
				json_object_set_new(jv, "vlan_tci", json_integer(v->meta.vlan_tci));
				json_object_set_new(jv, "vlan_tpid", json_integer(v->meta.vlan_tpid));
			}
			json_object_set_new(jv, "pkt_type",
					    json_string(pkt_type_name(v->meta.pkt_type)));
			json_object_set_new(jv, "protocol", json_integer(v->meta.protocol));
			json_object_set_new(jv, "skb_len", json_integer(skb_len(&v->pkt)));
			json_object_set_new(jv, "data_off", json_integer(v->pkt.data_off));
			json_object_set_new(jv, "net_off", json_integer(v->pkt.net_off));
		}
		json_object_set_new(root, "view", jv);
	}
	if (so->dropped) {
		json_object_set_new(root, "verdict", json_string("dropped"));
	} else {
		json_t *steps = json_array();

		for (uint32_t i = 0; i < so->run->n; i++)
			json_array_append_new(steps, step_json(so, &so->run->steps[i]));
		json_object_set_new(root, "steps", steps);
		json_object_set_new(root, "steps_executed", json_integer((json_int_t)so->run->executed));
		json_object_set_new(root, "end", json_string(end_name(so->run->end)));
		json_object_set_new(root, "ret", json_integer(so->run->ret));
		json_object_set_new(root, "captured", json_integer(so->snap));
		json_object_set_new(root, "verdict", json_string(so->snap ? "accepted" : "rejected"));
	}
	rc = json_dumpf(root, stdout, JSON_INDENT(2)) == 0 && printf("\n") > 0 ? EXIT_OK
									  : EXIT_INTERNAL;
	json_decref(root);
	return rc;
}

int cmd_filter_step(int argc, char **argv)
{
	static const struct option opts[] = {
		VIEW_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		PROG_OPTIONS,
		{ 0 }
	};
	struct cli_view o;
	struct step_out so = { 0 };
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	struct bpfvm_rec run = { 0 };
	struct bpfvm *vm = NULL;
	struct trace_reader *r = NULL;
	struct trace_record rec;
	struct sim_rx_view view;
	char err[BPFVM_ERRBUF_SIZE];
	int64_t index = -1;
	int c, rc, json = 0;
	uint32_t v;

	cli_view_init(&o);
	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:r:p:", opts, NULL)) != -1) {
		int pr = cli_prog_option(&src, c, optarg);

		if (pr == 0)
			pr = cli_view_option(&o, c, optarg);
		if (pr < 0)
			return EXIT_USAGE;
		if (pr > 0)
			continue;
		switch (c) {
		case 'r':
			so.trace = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0) {
				cli_error("-p: '%s' is not a record index", optarg);
				return EXIT_USAGE;
			}
			index = v;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_HELP:
			printf("usage: capsim filter step [OPTIONS] (-F FILE | EXPRESSION) -r TRACE -p INDEX\n\n"
			       "Run one record of a trace through the filter and print every executed\n"
			       "instruction: its index, the instruction, A and X after it, and what it\n"
			       "did - the bytes a load read (positions count from the start of the\n"
			       "frame), the sk_buff field an ancillary load read, the scratch cell a\n"
			       "store wrote, a jump's comparison and where it went, or why the program\n"
			       "ended - then the verdict as `filter run` gives it.  In linux semantics\n"
			       "the header says what the receive path did to the frame first; a frame\n"
			       "the kernel drops before the taps is reported, not run (exit 0).\n\n"
			       "  -r TRACE            pcap or pcapng file, '-' for stdin\n"
			       "  -p INDEX            the record (0-based, as `filter run` lists them)\n"
			       "  --semantics S       linux (default): the record is a frame arriving at a\n"
			       "                      packet socket; libpcap: bpf_filter() on the record\n"
			       "  --json              the same as one JSON object, a 'steps' array entry\n"
			       "                      per executed instruction\n"
			       "  --sock raw|dgram    the tap's socket type (raw)\n"
			       "  --mac MAC           the receiving device's MAC (02:00:00:00:00:01)\n"
			       "  --ifindex N         its interface index (2)\n"
			       "  --seed N            seed for SKF_AD_RANDOM (1), as `filter run`\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!so.trace || index < 0) {
		cli_error("filter step: give the trace and the record: -r TRACE -p INDEX");
		return EXIT_USAGE;
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	if (!(r = cli_open_trace(&src, so.trace, o.sem))) {
		rc = EXIT_INPUT;
		goto out;
	}
	rc = cli_load_prog(&src, o.sem, 0, &prog);
	if (rc != EXIT_OK)
		goto out;
	rc = cli_prog_vm(&src, &prog, o.sem, &vm);
	if (rc != EXIT_OK)
		goto out;
	rc = find_record(r, so.trace, (uint64_t)index, &rec);
	if (rc <= 0) {
		rc = EXIT_INPUT;
		goto out;
	}
	if (cli_view_check_trace(o.sem, so.trace, trace_linktype(r)) != EXIT_OK) {
		rc = EXIT_INPUT;
		goto out;
	}
	so.rec = &rec;
	so.linktype = trace_linktype(r);
	so.o = &o;
	so.view = &view;
	so.src = &src;
	so.prog = &prog;
	so.run = &run;
	switch (cli_record_view(&o, o.sem, &rec, &view)) {
	case -1:
		rc = EXIT_INTERNAL;
		goto out;
	case 0:
		so.dropped = 1;
		break;
	}
	if (!so.dropped) {
		if (bpfvm_record(vm, &prog, &view.pkt, &view.meta, 0, &run, err) != 0) {
			cli_error("%s", err);
			rc = EXIT_INTERNAL;
			goto out;
		}
		so.snap = bpfvm_snaplen(vm, &view.pkt, run.ret);
	}
	if (json) {
		rc = print_step_json(&so);
	} else {
		print_step_text(&so);
		rc = EXIT_OK;
	}
	if (fflush(stdout) != 0) {
		cli_error("cannot write to standard output");
		rc = EXIT_INTERNAL;
	}
out:
	cli_view_free(&o);
	if (r)
		trace_close(r);
	bpfvm_rec_free(&run);
	bpfvm_destroy(vm);
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	return rc;
}

/* ---- filter diff ----------------------------------------------------- */

/* One of the two programs. */
struct side {
	char name;			/* 'A' or 'B' */
	struct cli_prog_src src;
	enum bpfvm_semantics sem;
	struct bpfvm_prog prog;
	struct bpfvm *vm;
	struct bpfvm_rec run;
	struct sim_rx_view view;	/* the packet it ran on */
	int dropped;
	uint32_t ret, snap;
};

/* What one read was: "[23:1] = 06", "skb->vlan_tci = 0x0064",
 * "[1498:4], past the end". */
static void read_text(char *buf, size_t size, const struct side *sd,
		      const struct bpfvm_rec_step *s)
{
	char hex[16], why[160];

	if (s->anc >= 0) {
		snprintf(buf, size, "%s = 0x%x", anc_field(s->anc), s->a);
	} else if (s->load_failed) {
		load_failure(why, sizeof(why), s, &sd->view.pkt, sd->sem);
		snprintf(buf, size, "[%lld:%u], %s", (long long)s->load_pos, s->load_size, why);
	} else {
		hex_bytes(hex, sizeof(hex), &sd->view.pkt, s);
		snprintf(buf, size, "[%lld:%u] = %s", (long long)s->load_pos, s->load_size, hex);
	}
}

/* How a run ended: "returned 0 at pc 12 (ret #0)". */
static void end_text(char *buf, size_t size, const struct side *sd)
{
	char d[128];
	const struct bpfvm_rec *r = &sd->run;

	disasm(&sd->prog.insns[r->end_pc], r->end_pc, d, sizeof(d));
	switch (r->end) {
	case BPFVM_END_DIV0:
		snprintf(buf, size, "returned 0 at pc %u (%s: X is 0)", r->end_pc, d);
		break;
	case BPFVM_END_BACKJUMPS:
		snprintf(buf, size, "was stopped at pc %u (%s: too many backward jumps)", r->end_pc, d);
		break;
	case BPFVM_END_ABORT:
		snprintf(buf, size, "ended at pc %u (%s: bpf_filter() would abort())", r->end_pc, d);
		break;
	default:
		snprintf(buf, size, "returned %u at pc %u (%s)", r->ret, r->end_pc, d);
	}
}

static void verdict_text(char *buf, size_t size, const struct side *sd)
{
	if (sd->dropped)
		snprintf(buf, size, "dropped before the taps: %s in %s()",
			 sim_drop_reason_name(sd->view.drop),
			 sd->view.drop_func ? sd->view.drop_func : "?");
	else if (sd->snap)
		snprintf(buf, size, "accepted, %u bytes captured (returned %u)", sd->snap, sd->ret);
	else
		snprintf(buf, size, "rejected");
}

/* The @k-th read of a run (bpfvm_rec_step_reads()), or NULL. */
static const struct bpfvm_rec_step *nth_read(const struct bpfvm_rec *r, uint32_t k)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (bpfvm_rec_step_reads(&r->steps[i]) && k-- == 0)
			return &r->steps[i];
	return NULL;
}

/* The first of the first @reads reads, alike in place, that saw different
 * values: only possible when the two ran on different frames (a live
 * capture's view against the file's record).  Writes " (at [12:2] A saw
 * 08 00 where B saw 81 00)" or nothing. */
static void value_difference(char *buf, size_t size, const struct side *sd, uint32_t reads)
{
	buf[0] = '\0';
	for (uint32_t k = 0; k < reads; k++) {
		const struct bpfvm_rec_step *s[2] = { nth_read(&sd[0].run, k), nth_read(&sd[1].run, k) };
		char v[2][16];

		if (!s[0] || !s[1])
			return;
		if (s[0]->load_failed || s[1]->load_failed)
			continue;
		if (s[0]->anc >= 0) {
			if (s[0]->a != s[1]->a)
				snprintf(buf, size, " (%s: A saw 0x%x where B saw 0x%x)", anc_field(s[0]->anc),
					 s[0]->a, s[1]->a);
			if (buf[0])
				return;
			continue;
		}
		for (int i = 0; i < 2; i++)
			hex_bytes(v[i], sizeof(v[i]), &sd[i].view.pkt, s[i]);
		if (strcmp(v[0], v[1]) != 0) {
			snprintf(buf, size, " (at [%lld:%u] A saw %s where B saw %s)",
				 (long long)s[0]->load_pos, s[0]->load_size, v[0], v[1]);
			return;
		}
	}
}

/* The line saying where two runs part. */
static void print_parting(struct side *sd)
{
	struct bpfvm_rec_parting p;
	char what[2][200], end[2][200], d[2][128], vals[200];
	int parts = bpfvm_rec_part(&sd[0].run, &sd[1].run, &p);

	for (int i = 0; i < 2; i++) {
		const struct bpfvm_rec_step *s = &sd[i].run.steps[p.step[i]];

		disasm(&sd[i].prog.insns[s->pc], s->pc, d[i], sizeof(d[i]));
		read_text(what[i], sizeof(what[i]), &sd[i], s);
		end_text(end[i], sizeof(end[i]), &sd[i]);
	}
	value_difference(vals, sizeof(vals), sd, p.reads);
	printf("  ");
	if (!parts) {
		printf("both made the same %u read%s%s, then A %s and B %s\n", p.reads,
		       p.reads == 1 ? "" : "s", vals, end[0], end[1]);
		return;
	}
	if (p.reads)
		printf("after %u read%s alike%s, ", p.reads, p.reads == 1 ? "" : "s", vals);
	for (int i = 0; i < 2; i++) {
		const struct bpfvm_rec_step *s = &sd[i].run.steps[p.step[i]];

		if (i)
			printf(" where ");
		if (p.read[i])
			printf("%c read %s at pc %u (%s)", sd[i].name, what[i], s->pc, d[i]);
		else
			printf("%c %s", sd[i].name, end[i]);
	}
	printf("\n");
}

/* Load "@FILE", an existing file, or an expression into @sd's source. */
static int side_source(struct side *sd, const char *arg, const struct cli_prog_src *tmpl)
{
	struct stat st;

	sd->src = *tmpl;
	sd->src.expr = NULL;
	sd->src.label = sd->name == 'A' ? "program A" : "program B";
	if (arg[0] == '@') {
		sd->src.file = arg + 1;
	} else if (strcmp(arg, "-") == 0 || (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
		sd->src.file = arg;
	} else if (!(sd->src.expr = strdup(arg))) {
		cli_error("out of memory");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

static int side_load(struct side *sd)
{
	char how[600];
	int rc = cli_load_prog(&sd->src, sd->sem, 0, &sd->prog);

	if (rc == EXIT_OK)
		rc = cli_prog_vm(&sd->src, &sd->prog, sd->sem, &sd->vm);
	if (rc != EXIT_OK)
		return rc;
	describe_prog(how, sizeof(how), &sd->src, &sd->prog);
	printf("%c: %s; %s semantics\n", sd->name, how, bpfvm_semantics_name(sd->sem));
	return EXIT_OK;
}

struct diff_totals {
	uint64_t records, differ, agree, dropped;
};

/* Run both over the trace @r (opened from @path), printing each record
 * they disagree on. */
static int diff_trace(struct side *sd, const struct cli_view *o, const char *path,
		      struct trace_reader *r, int quiet, struct diff_totals *t)
{
	char err[TRACE_ERRBUF_SIZE], berr[BPFVM_ERRBUF_SIZE], what[200];
	struct trace_record rec;
	struct cli_view view[2] = { *o, *o };	/* each side rewrites frames into its own */
	int rc, status = EXIT_OK;
	const int mixed = sd[0].sem != sd[1].sem;

	if (cli_view_check_trace(sd[0].sem, path, trace_linktype(r)) != EXIT_OK ||
	    cli_view_check_trace(sd[1].sem, path, trace_linktype(r)) != EXIT_OK)
		return EXIT_INPUT;
	while ((rc = trace_next(r, &rec, err)) == 1) {
		int differ, got;

		t->records++;
		for (int i = 0; i < 2; i++) {
			struct side *s = &sd[i];

			if ((got = cli_record_view(&view[i], s->sem, &rec, &s->view)) < 0) {
				status = EXIT_INTERNAL;
				goto out;
			}
			s->dropped = got == 0;
			s->ret = s->snap = 0;
			if (!s->dropped) {
				s->ret = bpfvm_run(s->vm, &s->view.pkt, &s->view.meta);
				s->snap = bpfvm_snaplen(s->vm, &s->view.pkt, s->ret);
			}
		}
		if (sd[0].dropped && sd[1].dropped) {
			t->dropped++;
			continue;
		}
		/* Same semantics: the bytes captured must match.  Mixed (a live
		 * capture against reading a file): only accept or reject can,
		 * since the two count their lengths in different frames. */
		differ = mixed ? (sd[0].snap != 0) != (sd[1].snap != 0) : sd[0].snap != sd[1].snap;
		if (!differ) {
			t->agree++;
			continue;
		}
		t->differ++;
		if (quiet)
			continue;
		printf("\nrecord %llu: %s\n", (unsigned long long)rec.index,
		       trace_describe(rec.bytes, rec.caplen, trace_linktype(r), what, sizeof(what)));
		for (int i = 0; i < 2; i++) {
			verdict_text(what, sizeof(what), &sd[i]);
			printf("  %c: %s\n", sd[i].name, what);
		}
		if (sd[0].dropped || sd[1].dropped)
			continue;
		for (int i = 0; i < 2; i++)
			if (bpfvm_record(sd[i].vm, &sd[i].prog, &sd[i].view.pkt, &sd[i].view.meta, 0,
					 &sd[i].run, berr) != 0) {
				cli_error("%s", berr);
				status = EXIT_INTERNAL;
				goto out;
			}
		print_parting(sd);
	}
	if (rc < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
	}
out:
	cli_view_free(&view[0]);
	cli_view_free(&view[1]);
	return status;
}

int cmd_filter_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "semantics", required_argument, NULL, OPT_SEMANTICS },
		{ "opt-vs-noopt", no_argument, NULL, OPT_OPT_VS_NOOPT },
		{ "linux-ext-vs-offline", no_argument, NULL, OPT_EXT_VS_OFFLINE },
		{ "sock", required_argument, NULL, OPT_SOCK },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "ifindex", required_argument, NULL, OPT_IFINDEX },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "quiet", no_argument, NULL, 'q' },
		PROG_OPTIONS,
		{ 0 }
	};
	struct cli_view o;
	struct side sd[2];
	struct cli_prog_src tmpl;
	struct diff_totals t = { 0 };
	struct trace_reader *r = NULL;
	const char *trace = NULL;
	int c, rc = EXIT_OK, quiet = 0, sem_set = 0, mode = 0, o0 = 0;

	memset(sd, 0, sizeof(sd));
	sd[0].name = 'A';
	sd[1].name = 'B';
	cli_view_init(&o);
	cli_prog_src_init(&tmpl);
	while ((c = getopt_long(argc, argv, "F:O:s:y:r:q", opts, NULL)) != -1) {
		int pr = c == OPT_FORMAT ? 0 : cli_prog_option(&tmpl, c, optarg);

		if (pr < 0)
			return EXIT_USAGE;
		if (pr > 0) {
			o0 |= c == 'O';
			continue;
		}
		switch (c) {
		case 'r':
			trace = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_FORMAT:
			if (bpfvm_format_from_name(optarg, &tmpl.format) != 0) {
				cli_error("--format: '%s' is not one of ddd, dd, d, asm, auto", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_SEMANTICS:
			if (cli_view_option(&o, c, optarg) < 0)
				return EXIT_USAGE;
			sem_set = 1;
			break;
		case OPT_OPT_VS_NOOPT:
		case OPT_EXT_VS_OFFLINE:
			if (mode && mode != c) {
				cli_error("--opt-vs-noopt and --linux-ext-vs-offline: one at a time");
				return EXIT_USAGE;
			}
			mode = c;
			break;
		case OPT_SOCK:
		case OPT_MAC:
		case OPT_IFINDEX:
		case OPT_SEED:
			if (cli_view_option(&o, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case OPT_HELP:
			printf("usage: capsim filter diff [OPTIONS] A B -r TRACE\n"
			       "       capsim filter diff [OPTIONS] --opt-vs-noopt EXPRESSION -r TRACE\n"
			       "       capsim filter diff [OPTIONS] --linux-ext-vs-offline EXPRESSION -r TRACE\n\n"
			       "Run two filters over every record of a trace and print each record on\n"
			       "which their verdicts differ: both verdicts, and the first read where the\n"
			       "two runs part (a different byte range or sk_buff field, or one run ending\n"
			       "while the other reads on), or, when they read the same, how each ended.\n"
			       "Then a summary.  Exit 0 if they agree on every record, 1 if not.\n\n"
			       "A and B are each a program file (tcpdump -d/-dd/-ddd or bpf_asm) when\n"
			       "they name an existing file or start with '@' (@FILE), else an expression\n"
			       "(quote it: one argument each).  Verdicts differ when the bytes captured\n"
			       "differ (0: rejected).\n\n"
			       "  -r TRACE            pcap or pcapng file, '-' for stdin\n"
			       "  --opt-vs-noopt      A and B are the one EXPRESSION (the rest of the\n"
			       "                      command line) compiled with and without libpcap's\n"
			       "                      optimizer\n"
			       "  --linux-ext-vs-offline\n"
			       "                      A is EXPRESSION compiled as tcpdump does for a live\n"
			       "                      capture, run by the kernel (linux semantics), B as\n"
			       "                      tcpdump does reading a file, run by bpf_filter()\n"
			       "                      (libpcap): what a live capture keeps against what\n"
			       "                      the same filter keeps from the saved file.  Here only\n"
			       "                      accept/reject is compared, and each side counts read\n"
			       "                      positions in its own frame.  Needs root.\n"
			       "  --semantics S       linux (default, both run as `filter run` does) or\n"
			       "                      libpcap; with --linux-ext-vs-offline, both run so\n"
			       "  --sock raw|dgram    linux: the tap's socket type (raw)\n"
			       "  --mac MAC           linux: the receiving device's MAC (02:00:00:00:00:01)\n"
			       "  --ifindex N         linux: its interface index (2)\n"
			       "  --seed N            linux: seed for SKF_AD_RANDOM (1)\n"
			       "  -q                  print only the summary\n"
			       "  -O0, -s SNAPLEN, -y LINKTYPE, --linux-ext, --no-linux-ext, --format FMT\n"
			       "                      how expressions are compiled and files read, for\n"
			       "                      both (see below; -F is not taken: use A and B)\n\n%s",
			       cli_prog_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (tmpl.file) {
		cli_error("filter diff: give the two programs as A and B (@FILE for a file), not -F");
		return EXIT_USAGE;
	}
	if (!trace) {
		cli_error("filter diff: no trace given (-r TRACE)");
		return EXIT_USAGE;
	}
	if (!(r = cli_open_trace(&tmpl, trace, o.sem)))
		return EXIT_INPUT;
	sd[0].sem = sd[1].sem = o.sem;
	if (mode) {
		if (optind >= argc) {
			cli_error("filter diff: %s needs an EXPRESSION",
				  mode == OPT_OPT_VS_NOOPT ? "--opt-vs-noopt" : "--linux-ext-vs-offline");
			rc = EXIT_USAGE;
			goto out;
		}
		if ((mode == OPT_OPT_VS_NOOPT && o0) || (mode == OPT_EXT_VS_OFFLINE && tmpl.linux_ext_set)) {
			cli_error("filter diff: %s sets that itself",
				  mode == OPT_OPT_VS_NOOPT ? "--opt-vs-noopt" : "--linux-ext-vs-offline");
			rc = EXIT_USAGE;
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			sd[i].src = tmpl;
			if (cli_take_expr(&sd[i].src, argc, argv, optind) != 0) {
				rc = EXIT_INTERNAL;
				goto out;
			}
		}
		if (mode == OPT_OPT_VS_NOOPT) {
			sd[0].src.copts.optimize = 1;
			sd[1].src.copts.optimize = 0;
		} else {
			sd[0].src.copts.linux_ext = 1;
			sd[1].src.copts.linux_ext = 0;
			sd[0].src.linux_ext_set = sd[1].src.linux_ext_set = 1;
			if (!sem_set)
				sd[1].sem = BPFVM_LIBPCAP;
		}
	} else {
		if (argc - optind != 2) {
			cli_error("filter diff: give two programs, A and B (each a file, @FILE, or one "
				  "quoted expression), or --opt-vs-noopt EXPRESSION");
			rc = EXIT_USAGE;
			goto out;
		}
		for (int i = 0; i < 2; i++)
			if ((rc = side_source(&sd[i], argv[optind + i], &tmpl)) != EXIT_OK)
				goto out;
	}
	for (int i = 0; i < 2; i++)
		if ((rc = side_load(&sd[i])) != EXIT_OK)
			goto out;
	if (o.sock == SIM_SOCK_DGRAM && (sd[0].sem == BPFVM_LINUX || sd[1].sem == BPFVM_LINUX))
		printf("(linux: a SOCK_DGRAM tap)\n");
	fflush(stdout);
	rc = diff_trace(sd, &o, trace, r, quiet, &t);
	if (rc == EXIT_OK) {
		printf("%s%llu records: %llu differ, %llu agree", quiet ? "" : "\n",
		       (unsigned long long)t.records, (unsigned long long)t.differ,
		       (unsigned long long)t.agree);
		if (t.dropped)
			printf(", %llu dropped before the taps (not compared)",
			       (unsigned long long)t.dropped);
		printf("\n");
		rc = t.differ ? EXIT_NEGATIVE : EXIT_OK;
	}
	if (fflush(stdout) != 0) {
		cli_error("cannot write to standard output");
		rc = EXIT_INTERNAL;
	}
out:
	trace_close(r);
	for (int i = 0; i < 2; i++) {
		bpfvm_rec_free(&sd[i].run);
		bpfvm_destroy(sd[i].vm);
		bpfvm_prog_free(&sd[i].prog);
		cli_prog_src_free(&sd[i].src);
	}
	return rc;
}
