/*
 * test_steprec.c - step recordings against the interpreter: the same
 * return value as bpfvm_run(), and every load's resolved position holds
 * exactly the bytes the program saw (the value it left in A, or in X for
 * LDX MSH) - on every record of the shipped traces, in libpcap semantics,
 * and in linux semantics through the SOCK_RAW and SOCK_DGRAM views; then
 * where two runs part, on hand-made program pairs with a known answer.
 */
#include "testutil.h"
#include "sim.h"
#include "trace.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const traces[] = {
	"traces/samples/mixed.pcap",
	"traces/samples/vlan.pcap",
	"traces/samples/mixed.pcapng",
};

/* Expressions as tcpdump compiles them for a file: the loads real filters
 * make (IND with the IP header length, MSH, len, arithmetic). */
static const char *const exprs[] = {
	"ip",
	"tcp port 80",
	"udp or (vlan and icmp)",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"ether[len - 4:4] != 0",
	"ip6 and tcp",
	"portrange 1000-2000",
	"ip[2:2] > 100 and not arp",
	"ip6 protochain 6",
	"greater 100",
};

static uint32_t be(const uint8_t *p, uint32_t size)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

struct stats {
	uint64_t runs, loads, failed, anc;
};

/* The checks on one recording of @prog on @pkt. */
static void check_rec(const struct bpfvm *vm, const struct bpfvm_prog *prog,
		      const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta,
		      struct bpfvm_rec *rec, struct stats *stt, const char *what, uint64_t index)
{
	char err[BPFVM_ERRBUF_SIZE];
	enum bpfvm_semantics sem = bpfvm_get_semantics(vm);
	uint32_t ret = bpfvm_run(vm, pkt, meta);

	if (bpfvm_record(vm, prog, pkt, meta, 0, rec, err) != 0)
		fail_msg("%s record %llu: %s", what, (unsigned long long)index, err);
	stt->runs++;
	if (rec->ret != ret)
		fail_msg("%s record %llu: recorded run returned %u, bpfvm_run %u", what,
			 (unsigned long long)index, rec->ret, ret);
	assert_false(rec->truncated);
	assert_true(rec->n > 0);
	assert_int_equal(rec->executed, rec->n);
	assert_true(rec->steps[rec->n - 1].done);
	assert_int_equal(rec->end_pc, rec->steps[rec->n - 1].pc);
	for (uint32_t i = 0; i < rec->n; i++) {
		const struct bpfvm_rec_step *s = &rec->steps[i];
		const struct bpfvm_insn *in = &prog->insns[s->pc];

		if (i + 1 < rec->n) {
			assert_false(s->done);
			assert_int_equal(s->next, rec->steps[i + 1].pc);
		} else {
			assert_int_equal(s->next, UINT32_MAX);
		}
		if (s->is_cond && !s->done)
			assert_int_equal(s->next, s->pc + 1 + (s->jumped ? in->jt : in->jf));
		if (s->anc >= 0) {
			assert_int_equal(sem, BPFVM_LINUX);
			stt->anc++;
		}
		if (!s->load_size)
			continue;
		stt->loads++;
		if (s->load_failed) {
			stt->failed++;
			assert_true(s->done);
			assert_int_equal(rec->end, BPFVM_END_LOAD);
			if (s->load_base != BPFVM_BASE_NONE && s->load_pos >= 0 &&
			    s->load_pos + s->load_size <= (int64_t)pkt->caplen)
				fail_msg("%s record %llu pc %u: a load at %lld:%u failed inside %u "
					 "bytes", what, (unsigned long long)index, s->pc,
					 (long long)s->load_pos, s->load_size, pkt->caplen);
			continue;
		}
		if (s->load_base == BPFVM_BASE_NONE || s->load_pos < 0 ||
		    s->load_pos + s->load_size > (int64_t)pkt->caplen)
			fail_msg("%s record %llu pc %u: a load at %lld:%u succeeded outside %u bytes",
				 what, (unsigned long long)index, s->pc, (long long)s->load_pos,
				 s->load_size, pkt->caplen);
		{
			uint32_t v = be(pkt->bytes + s->load_pos, s->load_size);
			int msh = BPF_CLASS(in->code) == BPF_LDX;
			uint32_t saw = msh ? s->x : s->a;

			if (msh)
				v = (v & 0xf) << 2;
			if (saw != v)
				fail_msg("%s record %llu pc %u: position %lld holds 0x%x but the "
					 "program saw 0x%x", what, (unsigned long long)index, s->pc,
					 (long long)s->load_pos, v, saw);
		}
	}
	if (rec->end == BPFVM_END_RET)
		assert_int_equal(BPF_CLASS(prog->insns[rec->end_pc].code), BPF_RET);
}

/* Every record of @path through @progs (n of them) in three ways. */
static void check_trace(const char *path, struct bpfvm_prog *progs, size_t n,
			struct stats *stt)
{
	char terr[TRACE_ERRBUF_SIZE], err[BPFVM_ERRBUF_SIZE];
	struct trace_set set;
	struct sim_rx_dev dev;
	struct bpfvm_rec rec = { 0 };
	uint8_t buf[TRACE_GEN_MAXFRAME + 4];

	if (trace_load(path, &set, terr) != 0)
		fail_msg("%s", terr);
	assert_int_equal(set.linktype, DLT_EN10MB);
	sim_rx_dev_init(&dev);
	for (size_t p = 0; p < n; p++) {
		struct bpfvm *vm[2];
		int ok[2];

		for (int s = 0; s < 2; s++)
			ok[s] = bpfvm_create(&vm[s], &progs[p], s ? BPFVM_LIBPCAP : BPFVM_LINUX,
					     err) == 0;
		for (uint32_t i = 0; i < set.count; i++) {
			const struct trace_record *r = &set.recs[i];
			struct bpfvm_packet pkt = {
				.bytes = r->bytes, .caplen = r->caplen, .wirelen = r->wirelen,
			};

			assert_true(r->caplen <= TRACE_GEN_MAXFRAME);
			if (ok[1])
				check_rec(vm[1], &progs[p], &pkt, NULL, &rec, stt, "libpcap", i);
			for (int t = 0; ok[0] && t < 2; t++) {
				struct sim_rx_view v;

				sim_rx_view(&dev, r->bytes, r->caplen, t ? SIM_SOCK_DGRAM : SIM_SOCK_RAW,
					    buf, &v);
				if (v.drop != SIM_DROP_NONE)
					continue;
				v.meta.random_seed = i;
				check_rec(vm[0], &progs[p], &v.pkt, &v.meta, &rec, stt,
					  t ? "linux dgram" : "linux raw", i);
			}
		}
		for (int s = 0; s < 2; s++)
			if (ok[s])
				bpfvm_destroy(vm[s]);
	}
	bpfvm_rec_free(&rec);
	trace_set_free(&set);
}

static void test_against_interpreter(void **state)
{
	enum { NRANDOM = 48 };
	struct bpfvm_prog progs[sizeof(exprs) / sizeof(exprs[0]) + NRANDOM];
	struct bpfvm_compile_opts co;
	struct bpfvm_progen_opts go = { .max_len = 48, .negative_offsets = 1, .pkt_len_hint = 80 };
	char err[BPFVM_ERRBUF_SIZE];
	struct stats stt = { 0 };
	uint64_t rng = 0x5eb5eb;
	size_t n = 0;

	(void)state;
	bpfvm_compile_opts_init(&co);
	co.linux_ext = 0;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		if (bpfvm_compile(exprs[i], &co, &progs[n++], err) != 0)
			fail_msg("%s: %s", exprs[i], err);
	/* Random programs: negative offsets (SKF_NET_OFF, SKF_LL_OFF) and,
	 * for half of them, ancillary loads (linux only: libpcap rejects). */
	for (int i = 0; i < NRANDOM; i++) {
		go.ancillary = i & 1;
		bpfvm_progen(&progs[n++], BPFVM_DEFECT_NONE, &go, &rng);
	}
	for (size_t t = 0; t < sizeof(traces) / sizeof(traces[0]); t++)
		check_trace(traces[t], progs, n, &stt);
	print_message("%llu runs, %llu loads (%llu failed), %llu ancillary loads\n",
		      (unsigned long long)stt.runs, (unsigned long long)stt.loads,
		      (unsigned long long)stt.failed, (unsigned long long)stt.anc);
	/* The programs must exercise what is checked. */
	assert_true(stt.loads > 100000);
	assert_true(stt.failed > 1000);
	assert_true(stt.anc > 1000);
	for (size_t i = 0; i < n; i++)
		bpfvm_prog_free(&progs[i]);
}

/* ---- where two runs part ------------------------------------------- */

#define S(c, k) { (c), 0, 0, (k) }
#define J(c, k, t, f) { (c), (t), (f), (k) }
#define NET(k) ((uint32_t)SKF_NET_OFF + (k))
#define LL(k) ((uint32_t)SKF_LL_OFF + (k))
#define AD(k) ((uint32_t)SKF_AD_OFF + (k))

/* An Ethernet + IPv4 (20-byte header) + TCP frame to port 80. */
static void make_frame(uint8_t f[64])
{
	memset(f, 0, 64);
	f[0] = 0x02, f[5] = 0x01;
	f[6] = 0x02, f[11] = 0x02;
	f[12] = 0x08, f[13] = 0x00;
	f[14] = 0x45;
	f[16] = 0x00, f[17] = 50;	/* total length */
	f[23] = 6;			/* TCP */
	f[36] = 0x00, f[37] = 80;	/* destination port */
}

struct pair_case {
	const char *name;
	enum bpfvm_semantics sem;
	int dgram;			/* linux: skb->data at the network header */
	struct bpfvm_insn a[8], b[8];
	uint32_t alen, blen;
	int parts;			/* bpfvm_rec_part()'s answer */
	uint32_t reads;			/* reads alike before parting */
	uint32_t pc[2];			/* the instructions at the parting */
	uint8_t read[2];
};

static const struct pair_case pairs[] = {
	{ "same reads, different returns", BPFVM_LIBPCAP, 0,
	  { S(0x28, 12), J(0x15, 0x800, 0, 1), S(0x06, 262144), S(0x06, 0) },
	  { S(0x28, 12), J(0x15, 0x86dd, 0, 1), S(0x06, 262144), S(0x06, 0) }, 4, 4,
	  0, 1, { 2, 3 }, { 0, 0 } },
	{ "ldb [23] against ldh [x + 14]", BPFVM_LIBPCAP, 0,
	  { S(0x28, 12), S(0x30, 23), S(0x16, 0) },
	  { S(0x28, 12), S(0xb1, 14), S(0x48, 14), S(0x16, 0) }, 3, 4,
	  1, 1, { 1, 1 }, { 1, 1 } },
	{ "msh then x+16 against an equal ldh [36]: the same bytes", BPFVM_LIBPCAP, 0,
	  { S(0xb1, 14), S(0x48, 16), S(0x16, 0) },
	  { S(0x30, 14), S(0x28, 36), S(0x16, 0) }, 3, 3,
	  0, 2, { 2, 2 }, { 0, 0 } },
	{ "one run ends, the other reads on", BPFVM_LIBPCAP, 0,
	  { S(0x28, 12), S(0x06, 0) },
	  { S(0x28, 12), S(0x30, 23), S(0x06, 0) }, 2, 3,
	  1, 1, { 1, 1 }, { 0, 1 } },
	{ "linux: [net + 9] and [23] are the same byte", BPFVM_LINUX, 0,
	  { S(0x30, NET(9)), S(0x16, 0) },
	  { S(0x30, 23), S(0x16, 0) }, 2, 2,
	  0, 1, { 1, 1 }, { 0, 0 } },
	{ "linux dgram: [9] and [ll + 23] are the same byte, [23] is not", BPFVM_LINUX, 1,
	  { S(0x30, 9), S(0x30, LL(23)), S(0x16, 0) },
	  { S(0x30, LL(23)), S(0x30, 23), S(0x16, 0) }, 3, 3,
	  1, 1, { 1, 1 }, { 1, 1 } },
	{ "linux: an ancillary field against the packet", BPFVM_LINUX, 0,
	  { S(0x20, AD(SKF_AD_PROTOCOL)), S(0x16, 0) },
	  { S(0x28, 12), S(0x16, 0) }, 2, 2,
	  1, 0, { 0, 0 }, { 1, 1 } },
	{ "linux: A ^= X is not a read", BPFVM_LINUX, 0,
	  { S(0x20, AD(SKF_AD_ALU_XOR_X)), S(0x28, 12), S(0x16, 0) },
	  { S(0x28, 12), S(0x16, 0) }, 3, 2,
	  0, 1, { 2, 1 }, { 0, 0 } },
	{ "a failed load against a good one", BPFVM_LIBPCAP, 0,
	  { S(0x20, 62), S(0x16, 0) },
	  { S(0x20, 60), S(0x16, 0) }, 2, 2,
	  1, 0, { 0, 0 }, { 1, 1 } },
};

static void test_parting(void **state)
{
	char err[BPFVM_ERRBUF_SIZE];
	uint8_t f[64];

	(void)state;
	make_frame(f);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct pair_case *c = &pairs[i];
		struct bpfvm_prog p[2] = {
			{ (struct bpfvm_insn *)c->a, c->alen },
			{ (struct bpfvm_insn *)c->b, c->blen },
		};
		struct bpfvm_packet pkt = {
			.bytes = f, .caplen = 64, .wirelen = 64,
			.data_off = c->dgram ? 14 : 0, .net_off = 14,
		};
		struct bpfvm_meta meta = { .protocol = 0x0800 };
		struct bpfvm_rec rec[2] = { { 0 }, { 0 } };
		struct bpfvm_rec_parting part;
		struct bpfvm *vm[2];

		for (int k = 0; k < 2; k++) {
			if (bpfvm_create(&vm[k], &p[k], c->sem, err) != 0)
				fail_msg("%s: %s", c->name, err);
			if (bpfvm_record(vm[k], &p[k], &pkt, &meta, 0, &rec[k], err) != 0)
				fail_msg("%s: %s", c->name, err);
		}
		if (bpfvm_rec_part(&rec[0], &rec[1], &part) != c->parts ||
		    part.reads != c->reads ||
		    rec[0].steps[part.step[0]].pc != c->pc[0] ||
		    rec[1].steps[part.step[1]].pc != c->pc[1] ||
		    part.read[0] != c->read[0] || part.read[1] != c->read[1])
			fail_msg("%s: parts %d after %u reads at pc %u/%u (read %d/%d); expected "
				 "%d after %u at pc %u/%u (read %d/%d)", c->name,
				 bpfvm_rec_part(&rec[0], &rec[1], &part), part.reads,
				 rec[0].steps[part.step[0]].pc, rec[1].steps[part.step[1]].pc,
				 part.read[0], part.read[1], c->parts, c->reads, c->pc[0], c->pc[1],
				 c->read[0], c->read[1]);
		/* Symmetric. */
		{
			struct bpfvm_rec_parting q;

			assert_int_equal(bpfvm_rec_part(&rec[1], &rec[0], &q), c->parts);
			assert_int_equal(q.reads, part.reads);
			assert_int_equal(q.step[0], part.step[1]);
			assert_int_equal(q.step[1], part.step[0]);
		}
		for (int k = 0; k < 2; k++) {
			bpfvm_rec_free(&rec[k]);
			bpfvm_destroy(vm[k]);
		}
	}
}

/* What the recording says beyond the interpreter: the end reasons, the
 * ancillary field, the jump's target, and the step limit. */
static void test_end_reasons(void **state)
{
	static const struct bpfvm_insn div0[] = {
		S(0x28, 12), S(0x3c, 0), S(0x16, 0),		/* ldh [12]; div x; ret a */
	};
	static const struct bpfvm_insn anc[] = {
		S(0x20, AD(SKF_AD_VLAN_TAG_PRESENT)), J(0x15, 1, 0, 1), S(0x06, 1), S(0x06, 2),
	};
	static const struct bpfvm_insn spin[] = {
		S(0x28, 12), J(0x05, 0xffffffff, 0, 0), S(0x06, 1),	/* ja -1: libpcap */
	};
	static const struct bpfvm_insn scratch[] = {
		S(0x28, 12), S(0x02, 3), S(0x61, 3), S(0x16, 0),	/* st M[3]; ldx M[3] */
	};
	char err[BPFVM_ERRBUF_SIZE];
	uint8_t f[64];
	struct bpfvm_packet pkt = { .bytes = f, .caplen = 64, .wirelen = 64, .net_off = 14 };
	struct bpfvm_meta meta = { .vlan_present = 1 };
	struct bpfvm_rec rec = { 0 };
	struct bpfvm *vm;
	struct bpfvm_prog p;

	(void)state;
	make_frame(f);
	for (int s = 0; s < 2; s++) {
		p = (struct bpfvm_prog){ (struct bpfvm_insn *)div0, 3 };
		assert_int_equal(bpfvm_create(&vm, &p, s ? BPFVM_LIBPCAP : BPFVM_LINUX, err), 0);
		assert_int_equal(bpfvm_record(vm, &p, &pkt, &meta, 0, &rec, err), 0);
		assert_int_equal(rec.end, BPFVM_END_DIV0);
		assert_int_equal(rec.end_pc, 1);
		assert_int_equal(rec.ret, 0);
		bpfvm_destroy(vm);
	}
	p = (struct bpfvm_prog){ (struct bpfvm_insn *)anc, 4 };
	assert_int_equal(bpfvm_create(&vm, &p, BPFVM_LINUX, err), 0);
	assert_int_equal(bpfvm_record(vm, &p, &pkt, &meta, 0, &rec, err), 0);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.steps[0].anc, SKF_AD_VLAN_TAG_PRESENT);
	assert_int_equal(rec.steps[0].a, 1);
	assert_true(rec.steps[1].is_cond && rec.steps[1].jumped);
	assert_int_equal(rec.steps[1].next, 2);
	assert_int_equal(rec.ret, 1);
	assert_int_equal(rec.end, BPFVM_END_RET);
	bpfvm_destroy(vm);

	p = (struct bpfvm_prog){ (struct bpfvm_insn *)scratch, 4 };
	assert_int_equal(bpfvm_create(&vm, &p, BPFVM_LIBPCAP, err), 0);
	assert_int_equal(bpfvm_record(vm, &p, &pkt, NULL, 0, &rec, err), 0);
	assert_int_equal(rec.steps[0].mem, -1);
	assert_int_equal(rec.steps[1].mem, 3);
	assert_int_equal(rec.steps[2].x, 0x0800);
	assert_int_equal(rec.ret, 0x0800);
	bpfvm_destroy(vm);

	/* A backward jump forever (libpcap only): the guard ends it, and
	 * the recording stops at its limit but still knows how it ended. */
	p = (struct bpfvm_prog){ (struct bpfvm_insn *)spin, 3 };
	assert_int_equal(bpfvm_create(&vm, &p, BPFVM_LIBPCAP, err), 0);
	assert_int_equal(bpfvm_record(vm, &p, &pkt, NULL, 1000, &rec, err), 0);
	assert_int_equal(rec.n, 1000);
	assert_true(rec.truncated);
	assert_true(rec.executed > 1000000);
	assert_int_equal(rec.end, BPFVM_END_BACKJUMPS);
	assert_int_equal(rec.end_pc, 1);
	assert_int_equal(rec.ret, 0);
	assert_int_equal(rec.steps[999].next, 1);
	bpfvm_destroy(vm);

	/* Not the program of the VM: said, not crashed on. */
	p = (struct bpfvm_prog){ (struct bpfvm_insn *)div0, 3 };
	assert_int_equal(bpfvm_create(&vm, &p, BPFVM_LIBPCAP, err), 0);
	p.len = 1;
	assert_int_equal(bpfvm_record(vm, &p, &pkt, NULL, 0, &rec, err), -1);
	assert_non_null(strstr(err, "not the program"));
	bpfvm_destroy(vm);
	bpfvm_rec_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_interpreter),
		cmocka_unit_test(test_parting),
		cmocka_unit_test(test_end_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
