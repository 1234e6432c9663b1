/*
 * test_verify.c - the verifier's rules one by one (Linux and libpcap,
 * the same programs as tests/vectors/verify/ *.vec, which the shared
 * runner test_vectors.c reads), the program generator, and the libpcap
 * differential: bpfvm_verify(BPFVM_LIBPCAP) must give the same
 * verdict as the installed libpcap's bpf_validate() on every 16-bit code
 * in several probe shapes, on progen programs, and on random mutants.
 * (The kernel differential is tests/test_kernel_verify.c.)
 */
#include "testutil.h"
#include "bpfvm.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct bpf_insn) == sizeof(struct bpfvm_insn),
	       "libpcap's bpf_insn and bpfvm_insn must share a layout");

#define I(c, t, f, kk) ((struct bpfvm_insn){ (uint16_t)(c), (t), (f), (uint32_t)(kk) })
#define RETK(kk) I(BPF_RET | BPF_K, 0, 0, kk)
#define RETA I(BPF_RET | BPF_A, 0, 0, 0)
#define AD(off) ((uint32_t)SKF_AD_OFF + (off))

static unsigned long n_pcap_compared;

static int verdict(const struct bpfvm_insn *insns, uint32_t len, enum bpfvm_semantics sem,
		   char *err)
{
	struct bpfvm_prog prog = { (struct bpfvm_insn *)insns, len };

	return bpfvm_verify(&prog, sem, err);
}

/* ------------------------------------------------------------------ */
/* Each rule, with the sentence it must produce. */

struct rule_case {
	const char *name;
	const char *linux_err;	/* NULL: accepted */
	const char *pcap_err;	/* NULL: accepted */
	uint32_t len;
	struct bpfvm_insn insns[8];
};

static const struct rule_case rule_cases[] = {
	{ "ret only", NULL, NULL, 1, { RETK(0) } },
	{ "div #0", "instruction 1: division by constant 0", "instruction 1: division by constant 0",
	  3, { I(BPF_LD | BPF_IMM, 0, 0, 1), I(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), RETA } },
	{ "mod #0", "instruction 0: modulo by constant 0", "instruction 0: modulo by constant 0",
	  2, { I(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 0), RETA } },
	{ "div x", NULL, NULL, 2, { I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0), RETA } },
	{ "lsh #32", "instruction 0: shift by constant 32", NULL,
	  2, { I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), RETA } },
	{ "rsh #0xffffffff", "shift by constant 4294967295", NULL,
	  2, { I(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 0xffffffff), RETA } },
	{ "lsh #31", NULL, NULL, 2, { I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 31), RETA } },
	{ "st M[16]", "instruction 0: scratch cell M[16] does not exist",
	  "instruction 0: scratch cell M[16] does not exist", 2, { I(BPF_ST, 0, 0, 16), RETA } },
	{ "ldx M[99]", "instruction 1: scratch cell M[99]", "instruction 1: scratch cell M[99]",
	  3, { I(BPF_STX, 0, 0, 1), I(BPF_LDX | BPF_MEM, 0, 0, 99), RETA } },
	{ "ld M[3] unwritten", "instruction 0 reads M[3], but on some path no instruction has written M[3] yet",
	  NULL, 2, { I(BPF_LD | BPF_MEM, 0, 0, 3), RETA } },
	{ "M[15] written then read", NULL, NULL,
	  3, { I(BPF_STX, 0, 0, 15), I(BPF_LD | BPF_MEM, 0, 0, 15), RETA } },
	{ "store on one branch only", "instruction 2 reads M[0]", NULL,
	  4, { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1), I(BPF_ST, 0, 0, 0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "ret does not reset the valid set", NULL, NULL,
	  4, { I(BPF_ST, 0, 0, 0), RETK(0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "unreachable read after ret", "instruction 1 reads M[0]", NULL,
	  3, { RETK(0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "unreachable read after ja", NULL, NULL,
	  3, { I(BPF_JMP | BPF_JA, 0, 0, 1), I(BPF_LD | BPF_MEM, 0, 0, 5), RETA } },
	{ "ja to the last", NULL, NULL, 3, { I(BPF_JMP | BPF_JA, 0, 0, 1), RETK(1), RETK(2) } },
	{ "ja one past", "instruction 0: ja +2 lands on 3, past the last instruction 2",
	  "instruction 0: ja +2 lands past the last instruction 2",
	  3, { I(BPF_JMP | BPF_JA, 0, 0, 2), RETK(1), RETK(2) } },
	/* libpcap adds from + k in 32 bits: k = -1 is a jump to itself */
	{ "ja -1", "ja +4294967295 lands on 4294967296", NULL,
	  2, { I(BPF_JMP | BPF_JA, 0, 0, 0xffffffff), RETK(1) } },
	{ "ja -3 (backward into the program)", "instruction 2: ja +4294967293", NULL,
	  4, { I(BPF_LD | BPF_IMM, 0, 0, 0), RETK(1), I(BPF_JMP | BPF_JA, 0, 0, 0xfffffffd), RETK(2) } },
	{ "ja -4 (wraps before 0)", "instruction 2: ja", "instruction 2: ja +4294967292 lands past",
	  4, { I(BPF_LD | BPF_IMM, 0, 0, 0), RETK(1), I(BPF_JMP | BPF_JA, 0, 0, 0xfffffffc), RETK(2) } },
	{ "jeq jt one past", "instruction 0: conditional jump to 3, past the last instruction 2",
	  "instruction 0: conditional jump to 3, past the last instruction 2",
	  3, { I(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 0), RETK(1), RETK(2) } },
	{ "jset jf one past", "conditional jump to 3", "conditional jump to 3",
	  3, { I(BPF_JMP | BPF_JSET | BPF_X, 0, 2, 0), RETK(1), RETK(2) } },
	{ "last not a return", "instruction 1: the last instruction must be ret",
	  "instruction 1: the last instruction must be a return",
	  2, { RETK(1), I(BPF_LD | BPF_IMM, 0, 0, 0) } },
	{ "ret x", "instruction 1: opcode 0x0e is not one the kernel accepts (the only returns", NULL,
	  2, { RETK(1), I(BPF_RET | BPF_X, 0, 0, 0) } },
	{ "16-bit code", "opcode 0x106 is not one the kernel accepts (classic BPF opcodes are 8 bits", NULL,
	  2, { I(0x0106, 0, 0, 0), RETA } },
	{ "ldx [k] is seccomp's", "seccomp", NULL, 2, { I(BPF_LDX | BPF_W | BPF_ABS, 0, 0, 0), RETA } },
	{ "neg x", "opcode 0x8c is not one the kernel accepts", NULL,
	  2, { I(BPF_ALU | BPF_NEG | BPF_X, 0, 0, 0), RETA } },
	{ "alu op 0xb0", "opcode 0xb4", "opcode 0xb4 is not an ALU operation libpcap knows",
	  2, { I(BPF_ALU | 0xb0, 0, 0, 0), RETA } },
	{ "jmp op 0x50", "opcode 0x55", "opcode 0x55 is not a jump libpcap knows",
	  2, { I(BPF_JMP | 0x50, 0, 0, 0), RETA } },
	{ "ld mode 0xc0", "opcode 0xc0", "opcode 0xc0 has an addressing mode libpcap does not know",
	  2, { I(BPF_LD | 0xc0, 0, 0, 0), RETA } },
	{ "ld #proto", NULL, NULL, 2, { I(BPF_LD | BPF_H | BPF_ABS, 0, 0, AD(SKF_AD_PROTOCOL)), RETA } },
	{ "ldb vlan_tpid", NULL, NULL, 2, { I(BPF_LD | BPF_B | BPF_ABS, 0, 0, AD(SKF_AD_VLAN_TPID)), RETA } },
	{ "SKF_AD_MAX", "instruction 0: offset SKF_AD_OFF+64 is not an ancillary field the kernel knows",
	  NULL, 2, { I(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_MAX)), RETA } },
	{ "misaligned ancillary", "offset SKF_AD_OFF+2 is not an ancillary field", NULL,
	  2, { I(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(2)), RETA } },
	{ "k = 0xffffffff", "offset SKF_AD_OFF+4095", NULL,
	  2, { I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0xffffffff), RETA } },
	{ "ind at an ancillary offset", NULL, NULL,
	  2, { I(BPF_LD | BPF_W | BPF_IND, 0, 0, AD(SKF_AD_MAX)), RETA } },
	{ "SKF_NET_OFF", NULL, NULL, 2, { I(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_NET_OFF), RETA } },
	/* the kernel checks every instruction before the data flow, so the
	 * division is named although the bad read comes first */
	{ "first defect in the kernel's order", "instruction 1: division by constant 0",
	  "instruction 1: division by constant 0",
	  3, { I(BPF_LD | BPF_MEM, 0, 0, 0), I(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), RETA } },
	{ "jump range before missing ret", "instruction 0: ja", "instruction 0: ja",
	  2, { I(BPF_JMP | BPF_JA, 0, 0, 7), I(BPF_LD | BPF_IMM, 0, 0, 0) } },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];

		for (int s = 0; s < 2; s++) {
			enum bpfvm_semantics sem = s ? BPFVM_LIBPCAP : BPFVM_LINUX;
			const char *want = s ? c->pcap_err : c->linux_err;
			char err[BPFVM_ERRBUF_SIZE] = "unset";
			int r = verdict(c->insns, c->len, sem, err);

			if ((r == 0) != (want == NULL) || (want && !strstr(err, want))) {
				print_message("%s (%s): got %s \"%s\", want %s \"%s\"\n", c->name,
					      bpfvm_semantics_name(sem), r ? "reject" : "accept", err,
					      want ? "reject" : "accept", want ? want : "");
				fail();
			}
			if (r == 0)
				assert_string_equal(err, "");
			if (s == 1)
				assert_int_equal(r == 0,
						 bpf_validate((const struct bpf_insn *)c->insns, (int)c->len) != 0);
		}
	}
}

static void test_lengths(void **state)
{
	static struct bpfvm_insn insns[BPFVM_MAXINSNS + 1];
	struct bpfvm_prog prog = { insns, 0 };
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LIBPCAP, err), -1);
	assert_int_equal(bpfvm_verify(NULL, BPFVM_LINUX, NULL), -1);

	for (uint32_t i = 0; i < BPFVM_MAXINSNS + 1; i++)
		insns[i] = I(BPF_LD | BPF_IMM, 0, 0, i);
	insns[BPFVM_MAXINSNS - 1] = RETA;
	prog.len = BPFVM_MAXINSNS;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), 0);
	insns[BPFVM_MAXINSNS - 1] = I(BPF_LD | BPF_IMM, 0, 0, 0);
	insns[BPFVM_MAXINSNS] = RETA;
	prog.len = BPFVM_MAXINSNS + 1;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), -1);
	assert_non_null(strstr(err, "the program has 4097 instructions; the kernel accepts at most 4096"));
	/* user-space libpcap sets no limit */
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LIBPCAP, err), 0);
	assert_int_not_equal(bpf_validate((const struct bpf_insn *)insns, (int)prog.len), 0);
}

/* The translated program's size and jump offsets (bpf_convert_filter and
 * the optmem charge); test_kernel_verify.c finds each edge on the kernel. */
static void test_translation(void **state)
{
	static struct bpfvm_insn insns[BPFVM_MAXINSNS];
	struct bpfvm_prog prog = { insns, 0 };
	char err[BPFVM_ERRBUF_SIZE];
	uint32_t n;

	(void)state;
	/* ld [0x10000] becomes 16 eBPF instructions; prologue 7, ret a 1:
	 * 1022 of them make 16360, plus 11 adds = 16371, the largest. */
	for (n = 0; n < 1022; n++)
		insns[n] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
	for (; n < 1022 + 11; n++)
		insns[n] = I(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1);
	insns[n++] = RETA;
	prog.len = n;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), 0);
	insns[n - 1] = I(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1);
	insns[n++] = RETA;
	prog.len = n;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), -1);
	assert_non_null(strstr(err, "16372 eBPF instructions"));
	assert_non_null(strstr(err, "ENOMEM"));
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LIBPCAP, err), 0);

	/* a jump over 2100 of them spans more than 32767 */
	for (n = 0; n < 2102; n++)
		insns[n] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
	insns[0] = I(BPF_JMP | BPF_JA, 0, 0, 2100);
	insns[n - 1] = RETK(0);
	prog.len = n;
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), -1);
	assert_non_null(strstr(err, "instruction 0: after translation to eBPF this jump spans 33600"));
	/* a short jump placed after 2100 of them */
	insns[0] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
	insns[2100] = I(BPF_JMP | BPF_JA, 0, 0, 0);
	assert_int_equal(bpfvm_verify(&prog, BPFVM_LINUX, err), -1);
	assert_non_null(strstr(err, "instruction 2100: after translation to eBPF this jump sits at eBPF instruction 33607"));
}

/* ------------------------------------------------------------------ */
/* The generator. */

static void test_progen_deterministic(void **state)
{
	struct bpfvm_progen_opts o = { .max_len = 200, .ancillary = 1, .negative_offsets = 1 };

	(void)state;
	for (int d = 0; d < BPFVM_DEFECT_COUNT; d++) {
		uint64_t r1 = 42 + (uint64_t)d, r2 = 42 + (uint64_t)d, r3 = 4242 + (uint64_t)d;
		struct bpfvm_prog a, b, c;

		bpfvm_progen(&a, (enum bpfvm_defect)d, &o, &r1);
		bpfvm_progen(&b, (enum bpfvm_defect)d, &o, &r2);
		bpfvm_progen(&c, (enum bpfvm_defect)d, &o, &r3);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.insns, b.insns, a.len * sizeof(*a.insns));
		assert_true(r1 == r2);
		assert_true(a.len != c.len || a.len == 0 ||
			    memcmp(a.insns, c.insns, a.len * sizeof(*a.insns)) != 0);
		bpfvm_prog_free(&a);
		bpfvm_prog_free(&b);
		bpfvm_prog_free(&c);
	}
	assert_string_equal(bpfvm_defect_name(BPFVM_DEFECT_MEM_UNINIT), "mem-uninit");
	assert_string_equal(bpfvm_defect_name(BPFVM_DEFECT_COUNT), "unknown");
}

/* Each defect class is caught by the rule named for it; valid programs
 * use what the generator promises (loads, stores, jumps, div by x, ...). */
static void test_progen_classes(void **state)
{
	static const char *const rule_text[BPFVM_DEFECT_COUNT] = {
		[BPFVM_DEFECT_BAD_OPCODE] = "is not one the kernel accepts",
		[BPFVM_DEFECT_JUMP_RANGE] = "past the last instruction",
		[BPFVM_DEFECT_NO_RET] = "the last instruction must be",
		[BPFVM_DEFECT_DIV_ZERO] = "by constant 0",
		[BPFVM_DEFECT_SHIFT] = "shift by constant",
		[BPFVM_DEFECT_MEM_INDEX] = "does not exist",
		[BPFVM_DEFECT_MEM_UNINIT] = "but on some path no instruction has written",
		[BPFVM_DEFECT_ANCILLARY] = "is not an ancillary field",
		[BPFVM_DEFECT_LENGTH] = "the kernel",
	};
	struct bpfvm_progen_opts o = { .max_len = 64, .ancillary = 1, .negative_offsets = 1 };
	uint64_t rng = 7;
	unsigned seen[256] = { 0 };
	unsigned shift_x_big = 0, neg_off = 0, past_hint = 0, ret_kinds[4] = { 0 };

	(void)state;
	for (int round = 0; round < 2000; round++) {
		for (int d = 0; d < BPFVM_DEFECT_COUNT; d++) {
			struct bpfvm_prog p;
			char err[BPFVM_ERRBUF_SIZE];
			int r;

			bpfvm_progen(&p, (enum bpfvm_defect)d, &o, &rng);
			r = bpfvm_verify(&p, BPFVM_LINUX, err);
			if (d == BPFVM_DEFECT_NONE) {
				if (r != 0)
					print_message("progen none rejected: %s\n", err);
				assert_int_equal(r, 0);
				for (uint32_t i = 0; i < p.len; i++) {
					const struct bpfvm_insn *in = &p.insns[i];

					seen[in->code & 0xff]++;
					if (in->code == (BPF_LDX | BPF_IMM) && in->k >= 32)
						shift_x_big++;
					if (BPF_CLASS(in->code) == BPF_LD && BPF_MODE(in->code) == BPF_ABS &&
					    in->k >= (uint32_t)SKF_LL_OFF && in->k < (uint32_t)SKF_AD_OFF)
						neg_off++;
					if (BPF_CLASS(in->code) == BPF_LD && BPF_MODE(in->code) == BPF_ABS &&
					    in->k >= 128 && in->k < 0x10000)
						past_hint++;
					if (in->code == (BPF_RET | BPF_K))
						ret_kinds[in->k == 0 ? 0 : in->k == 0xffff ? 1 : in->k == 0xffffffff ? 2 : 3]++;
				}
			} else {
				if (r == 0 || !strstr(err, rule_text[d]))
					print_message("progen %s: %s\n", bpfvm_defect_name((enum bpfvm_defect)d),
						      r ? err : "accepted");
				assert_int_equal(r, -1);
				assert_non_null(strstr(err, rule_text[d]));
			}
			bpfvm_prog_free(&p);
		}
	}
	/* every whitelisted code shows up in valid programs */
	{
		const uint16_t *codes;
		size_t n = bpfvm_linux_codes(&codes);

		for (size_t i = 0; i < n; i++) {
			if (!seen[codes[i]])
				print_message("progen never emits code 0x%02x\n", codes[i]);
			assert_true(seen[codes[i]] > 0);
		}
	}
	assert_true(shift_x_big > 0 && neg_off > 0 && past_hint > 0);
	for (int i = 0; i < 4; i++)
		assert_true(ret_kinds[i] > 0);
}

/* ------------------------------------------------------------------ */
/* The libpcap differential. */

static unsigned pcap_compare(const struct bpfvm_insn *insns, uint32_t len, const char *what)
{
	char err[BPFVM_ERRBUF_SIZE];
	int mine = verdict(insns, len, BPFVM_LIBPCAP, err);
	int theirs = bpf_validate((const struct bpf_insn *)insns, (int)len);

	n_pcap_compared++;
	if ((mine == 0) == (theirs != 0))
		return 0;
	print_message("MISMATCH %s: bpf_validate %s, bpfvm %s %s\n%u\n", what,
		      theirs ? "accepts" : "rejects", mine ? "rejects:" : "accepts", mine ? err : "",
		      len);
	for (uint32_t i = 0; i < len && i < 32; i++)
		print_message("%u %u %u %u\n", insns[i].code, insns[i].jt, insns[i].jf, insns[i].k);
	return 1;
}

static void test_pcap_codes(void **state)
{
	static const uint32_t ks[] = { 0, 1, 2, 15, 16, 32, 0x80000000, 0xfffffffe, 0xffffffff };
	struct bpfvm_insn p[3];
	unsigned bad = 0, accepted = 0;

	(void)state;
	for (uint32_t c = 0; c <= 0xffff; c++) {
		uint16_t code = (uint16_t)c;
		char what[64];

		snprintf(what, sizeof(what), "code 0x%04x", c);
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			p[0] = I(code, 0, 0, ks[i]);
			p[1] = RETK(0);
			bad += pcap_compare(p, 2, what);
		}
		p[0] = I(code, 1, 0, 3);
		bad += pcap_compare(p, 2, what);	/* jt one past */
		p[0] = I(code, 0, 1, 3);
		bad += pcap_compare(p, 2, what);
		p[0] = I(code, 0, 0, 0);
		bad += pcap_compare(p, 1, what);	/* alone: also "last is a return" */
		p[0] = RETK(0);
		p[1] = I(code, 0, 0, 0);
		bad += pcap_compare(p, 2, what);	/* in the last place */
		p[0] = I(BPF_LD | BPF_IMM, 0, 0, 0);
		p[1] = I(code, 0, 0, 0xfffffffe);	/* ja -2 from 1 lands on 0 */
		p[2] = RETA;
		bad += pcap_compare(p, 3, what);
		if (bpf_validate((const struct bpf_insn *)p, 1))
			accepted++;
	}
	print_message("libpcap probes: %lu compared\n", n_pcap_compared);
	assert_int_equal(bad, 0);
}

static void test_pcap_progen(void **state)
{
	static const struct bpfvm_progen_opts opts[] = {
		{ .max_len = 8 },
		{ .max_len = 64, .ancillary = 1, .negative_offsets = 1 },
		{ .max_len = 512, .ancillary = 1, .negative_offsets = 1, .pkt_len_hint = 1514 },
	};
	unsigned bad = 0, total = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		uint64_t rng = seed * 1000003;

		for (int round = 0; round < 500; round++) {
			for (int d = 0; d < BPFVM_DEFECT_COUNT; d++) {
				struct bpfvm_prog p;

				bpfvm_progen(&p, (enum bpfvm_defect)d, &opts[(round + d) % 3], &rng);
				bad += pcap_compare(p.insns, p.len, bpfvm_defect_name((enum bpfvm_defect)d));
				total++;
				bpfvm_prog_free(&p);
			}
		}
	}
	print_message("libpcap progen: %u programs\n", total);
	assert_true(total >= 20000);
	assert_int_equal(bad, 0);
}

/* Random mutants: short programs of random fields, biased toward the
 * values the rules look at. */
static void test_pcap_mutants(void **state)
{
	static const uint32_t ks[] = { 0, 1, 2, 3, 15, 16, 31, 32, 0x7fffffff, 0x80000000,
				       0xfffffffd, 0xfffffffe, 0xffffffff, (uint32_t)SKF_AD_OFF };
	struct bpfvm_insn p[8];
	uint64_t rng = 99;
	unsigned bad = 0;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		uint32_t len = 1 + (uint32_t)(bpfvm_rand64(&rng) % 8);

		for (uint32_t i = 0; i < len; i++) {
			uint64_t r = bpfvm_rand64(&rng);

			p[i].code = (uint16_t)((r & 3) ? (r >> 8) & 0xff : (r >> 8) & 0xffff);
			p[i].jt = (uint8_t)((r >> 24) % 8);
			p[i].jf = (uint8_t)((r >> 32) % 8);
			p[i].k = ks[(r >> 40) % (sizeof(ks) / sizeof(ks[0]))];
		}
		bad += pcap_compare(p, len, "mutant");
		if (bad > 20)
			break;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_translation),
		cmocka_unit_test(test_progen_deterministic),
		cmocka_unit_test(test_progen_classes),
		cmocka_unit_test(test_pcap_codes),
		cmocka_unit_test(test_pcap_progen),
		cmocka_unit_test(test_pcap_mutants),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	print_message("libpcap differential: %lu programs compared\n", n_pcap_compared);
	return r;
}
