/*
 * test_kernel_verify.c - bpfvm_verify(BPFVM_LINUX) against the running
 * kernel: every program is also handed to setsockopt(SO_ATTACH_FILTER) on
 * a plain UDP socket, and the two verdicts must agree.
 *
 *  (a) every 16-bit code in one- and two-instruction probes, with several
 *      k and jump-offset variants;
 *  (b) progen programs of every defect class over several seeds, whose
 *      kernel verdict must also be the one the class promises;
 *  (c) boundaries: 4096/4097 instructions, jumps to the last instruction
 *      and one past it, shifts by 31/32, M[15]/M[16], every SKF_AD_*
 *      offset, the corner cases of check_load_and_stores(), and the size
 *      of each instruction after bpf_convert_filter() (the socket is
 *      charged for the translated program: ENOMEM past optmem_max).
 *
 * The kernel only ever says EINVAL (or ENOMEM for the charge); any other
 * errno is a failure.  A mismatch prints the program in tcpdump -ddd form
 * with both verdicts.
 */
#include "testutil.h"
#include "bpfvm.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define I(c, t, f, kk) ((struct bpfvm_insn){ (uint16_t)(c), (t), (f), (uint32_t)(kk) })
#define RETK(kk) I(BPF_RET | BPF_K, 0, 0, kk)
#define RETA I(BPF_RET | BPF_A, 0, 0, 0)

static int sock_fd = -1;
static unsigned long n_compared, n_mismatch, n_odd_errno;

static int setup(void **state)
{
	(void)state;
	sock_fd = socket(AF_INET, SOCK_DGRAM, 0);
	return sock_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (sock_fd >= 0)
		close(sock_fd);
	print_message("kernel verify: %lu programs compared, %lu mismatches, %lu unexpected errno\n",
		      n_compared, n_mismatch, n_odd_errno);
	return 0;
}

/* 0 if the kernel attaches @prog, else the errno. */
static int kernel_verdict(const struct bpfvm_prog *prog)
{
	struct sock_fprog fp = {
		.len = (unsigned short)prog->len,
		.filter = (struct sock_filter *)prog->insns,
	};
	int zero = 0;

	if (setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) != 0)
		return errno;
	if (setsockopt(sock_fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) != 0)
		return -1;
	return 0;
}

static void print_ddd(const struct bpfvm_prog *prog)
{
	print_message("%u\n", prog->len);
	for (uint32_t i = 0; i < prog->len && i < 64; i++)
		print_message("%u %u %u %u\n", prog->insns[i].code, prog->insns[i].jt,
			      prog->insns[i].jf, prog->insns[i].k);
	if (prog->len > 64)
		print_message("... (%u more)\n", prog->len - 64);
}

/*
 * Compare one program; returns 1 if the verdicts agree.  @what names the
 * case in messages.  The errno must be EINVAL, or ENOMEM exactly when
 * our message blames the optmem charge.
 */
static int compare(const struct bpfvm_prog *prog, const char *what)
{
	char err[BPFVM_ERRBUF_SIZE];
	int mine, kern;
	int ok;

	assert_true(prog->len <= 0xffff);
	mine = bpfvm_verify(prog, BPFVM_LINUX, err);
	kern = kernel_verdict(prog);
	if (kern == EPERM)
		SKIP_UNLESS_ROOT();
	n_compared++;
	ok = (mine == 0) == (kern == 0);
	if (ok && kern != 0) {
		int says_nomem = strstr(err, "ENOMEM") != NULL;

		if (kern != EINVAL && kern != ENOMEM) {
			print_message("%s: kernel errno %d (%s), expected EINVAL\n", what, kern,
				      strerror(kern));
			n_odd_errno++;
			ok = 0;
		} else if ((kern == ENOMEM) != says_nomem) {
			print_message("%s: kernel says %s, we say \"%s\"\n", what,
				      kern == ENOMEM ? "ENOMEM" : "EINVAL", err);
			ok = 0;
		}
	}
	if (!ok) {
		n_mismatch++;
		print_message("MISMATCH %s: kernel %s (%s), bpfvm %s%s%s\n", what,
			      kern ? "rejects" : "accepts", kern ? strerror(kern) : "ok",
			      mine ? "rejects: " : "accepts", mine ? err : "", "");
		print_ddd(prog);
	}
	return ok;
}

/* ------------------------------------------------------------------ */
/* (a) every code */

static void test_all_codes(void **state)
{
	struct bpfvm_insn insns[2];
	struct bpfvm_prog prog = { insns, 2 };
	static const uint32_t low_k[] = {
		2, 15, 16, 31, 32, 0x7fffffff, 0x80000000, (uint32_t)SKF_NET_OFF,
		(uint32_t)SKF_AD_OFF, (uint32_t)SKF_AD_OFF + SKF_AD_MAX, 0xffffffff,
	};
	unsigned bad = 0, accepted2 = 0;

	(void)state;
	for (uint32_t c = 0; c <= 0xffff; c++) {
		char what[64];

		/* {code, k}, {ret #0}, with k = 0 and 1 */
		for (uint32_t k = 0; k <= 1; k++) {
			insns[0] = (struct bpfvm_insn){ (uint16_t)c, 0, 0, k };
			insns[1] = (struct bpfvm_insn){ BPF_RET | BPF_K, 0, 0, 0 };
			prog.len = 2;
			snprintf(what, sizeof(what), "code 0x%04x k=%u then ret", c, k);
			bad += !compare(&prog, what);
			if (k == 0 && bpfvm_verify(&prog, BPFVM_LINUX, NULL) == 0)
				accepted2++;
		}
		/* {code} alone: both the per-instruction and the last-ret rule */
		insns[0] = (struct bpfvm_insn){ (uint16_t)c, 0, 0, 0 };
		prog.len = 1;
		snprintf(what, sizeof(what), "code 0x%04x alone", c);
		bad += !compare(&prog, what);
	}
	/* The 256 low codes with interesting k and jump offsets. */
	for (uint32_t c = 0; c < 256; c++) {
		char what[64];

		for (size_t i = 0; i < sizeof(low_k) / sizeof(low_k[0]); i++) {
			insns[0] = (struct bpfvm_insn){ (uint16_t)c, 0, 0, low_k[i] };
			insns[1] = (struct bpfvm_insn){ BPF_RET | BPF_A, 0, 0, 0 };
			prog.len = 2;
			snprintf(what, sizeof(what), "code 0x%02x k=0x%x", c, low_k[i]);
			bad += !compare(&prog, what);
		}
		for (int j = 0; j < 2; j++) {
			insns[0] = (struct bpfvm_insn){ (uint16_t)c, (uint8_t)(j == 0), (uint8_t)(j == 1), 5 };
			snprintf(what, sizeof(what), "code 0x%02x jt=%d jf=%d", c, j == 0, j == 1);
			bad += !compare(&prog, what);
		}
	}
	print_message("all codes: 0x%x two-instruction programs accepted with k=0\n", accepted2);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* (b) progen */

static void test_progen(void **state)
{
	static const uint64_t seeds[] = { 1, 2, 0x5eed, 0xc0ffee, 20240601 };
	static const struct bpfvm_progen_opts opts[] = {
		{ .max_len = 8 },
		{ .max_len = 64, .ancillary = 1, .negative_offsets = 1 },
		{ .max_len = 64, .pkt_len_hint = 60 },
		{ .max_len = 300, .ancillary = 1, .negative_offsets = 1, .pkt_len_hint = 1514 },
		{ .max_len = 4096, .ancillary = 1, .negative_offsets = 1 },
	};
	unsigned per_class[BPFVM_DEFECT_COUNT] = { 0 };
	unsigned bad = 0, wrong_class = 0, total = 0;

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		uint64_t rng = seeds[s];

		for (int round = 0; round < 450; round++) {
			for (int d = 0; d < BPFVM_DEFECT_COUNT; d++) {
				const struct bpfvm_progen_opts *o = &opts[(round + d) % 5];
				struct bpfvm_prog prog;
				char what[96];
				int kern;

				/* long programs are slow to attach: fewer of them */
				if (o->max_len == 4096 && round % 8)
					o = &opts[1];
				bpfvm_progen(&prog, (enum bpfvm_defect)d, o, &rng);
				assert_non_null(prog.insns);
				snprintf(what, sizeof(what), "progen seed %llu round %d defect %s",
					 (unsigned long long)seeds[s], round,
					 bpfvm_defect_name((enum bpfvm_defect)d));
				bad += !compare(&prog, what);
				kern = kernel_verdict(&prog);
				if ((kern == 0) != (d == BPFVM_DEFECT_NONE)) {
					wrong_class++;
					print_message("%s: the kernel %s it\n", what,
						      kern ? "rejects" : "accepts");
					print_ddd(&prog);
				}
				per_class[d]++;
				total++;
				bpfvm_prog_free(&prog);
			}
		}
	}
	print_message("progen: %u programs (%u per defect class)\n", total, per_class[0]);
	assert_int_equal(bad, 0);
	assert_int_equal(wrong_class, 0);
	assert_true(total >= 20000);
}

/* Random short programs biased toward what the rules look at: mostly
 * whitelisted codes, many scratch stores and reads, jumps with small
 * offsets, k near the edges.  These stress check_load_and_stores(). */
static void test_mutants(void **state)
{
	static const uint32_t ks[] = { 0, 1, 2, 3, 15, 16, 31, 32, 0x80000000, 0xffffffff,
				       (uint32_t)SKF_AD_OFF, (uint32_t)SKF_AD_OFF + SKF_AD_MAX };
	static const uint16_t mem_codes[] = { BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM,
					      BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_K,
					      BPF_RET | BPF_K };
	const uint16_t *codes;
	size_t ncodes = bpfvm_linux_codes(&codes);
	struct bpfvm_insn insns[12];
	struct bpfvm_prog prog = { insns, 0 };
	uint64_t rng = 0xfeed;
	unsigned bad = 0, accepted = 0;

	(void)state;
	for (int round = 0; round < 40000 && bad < 20; round++) {
		uint32_t len = 2 + (uint32_t)(bpfvm_rand64(&rng) % 11);

		for (uint32_t i = 0; i < len; i++) {
			uint64_t r = bpfvm_rand64(&rng);
			uint32_t pick = (uint32_t)(r % 100);
			uint16_t code;

			if (pick < 55)
				code = mem_codes[(r >> 8) % 7];
			else if (pick < 95)
				code = codes[(r >> 8) % ncodes];
			else
				code = (uint16_t)(r >> 8);
			insns[i].code = code;
			insns[i].jt = (uint8_t)((r >> 24) % 4);
			insns[i].jf = (uint8_t)((r >> 28) % 4);
			insns[i].k = code == BPF_ST || code == BPF_STX || (code & 0xe0) == BPF_MEM ||
					     code == (BPF_JMP | BPF_JA) ?
				     (uint32_t)((r >> 32) % (pick % 10 ? 4 : 17)) :
				     ks[(r >> 32) % (sizeof(ks) / sizeof(ks[0]))];
		}
		if (bpfvm_rand64(&rng) % 10)
			insns[len - 1] = RETA;
		prog.len = len;
		bad += !compare(&prog, "mutant");
		accepted += bpfvm_verify(&prog, BPFVM_LINUX, NULL) == 0;
	}
	print_message("mutants: 40000 programs, %u accepted\n", accepted);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* (c) boundaries */

struct small_case {
	const char *name;
	int kernel_accepts;	/* what we established; the kernel decides */
	uint32_t len;
	struct bpfvm_insn insns[8];
};

static const struct small_case small_cases[] = {
	{ "lsh #31", 1, 2, { I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 31), RETA } },
	{ "lsh #32", 0, 2, { I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), RETA } },
	{ "rsh #31", 1, 2, { I(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 31), RETA } },
	{ "rsh #32", 0, 2, { I(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 32), RETA } },
	{ "div #0", 0, 2, { I(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), RETA } },
	{ "mod #0", 0, 2, { I(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 0), RETA } },
	{ "div x", 1, 2, { I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0), RETA } },
	{ "st M[15]", 1, 2, { I(BPF_ST, 0, 0, 15), RETA } },
	{ "st M[16]", 0, 2, { I(BPF_ST, 0, 0, 16), RETA } },
	{ "stx M[16]", 0, 2, { I(BPF_STX, 0, 0, 16), RETA } },
	{ "st/ld M[15]", 1, 3, { I(BPF_ST, 0, 0, 15), I(BPF_LD | BPF_MEM, 0, 0, 15), RETA } },
	{ "ld M[16]", 0, 3, { I(BPF_ST, 0, 0, 15), I(BPF_LD | BPF_MEM, 0, 0, 16), RETA } },
	{ "ldx M[16]", 0, 3, { I(BPF_ST, 0, 0, 15), I(BPF_LDX | BPF_MEM, 0, 0, 16), RETA } },
	{ "ja to last", 1, 3, { I(BPF_JMP | BPF_JA, 0, 0, 1), RETK(1), RETK(2) } },
	{ "ja one past", 0, 3, { I(BPF_JMP | BPF_JA, 0, 0, 2), RETK(1), RETK(2) } },
	{ "ja -1", 0, 3, { I(BPF_JMP | BPF_JA, 0, 0, 0xffffffff), RETK(1), RETK(2) } },
	{ "ja 0", 1, 2, { I(BPF_JMP | BPF_JA, 0, 0, 0), RETK(1) } },
	{ "jeq jt to last", 1, 3, { I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0), RETK(1), RETK(2) } },
	{ "jeq jt one past", 0, 3, { I(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 0), RETK(1), RETK(2) } },
	{ "jeq jf one past", 0, 3, { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0), RETK(1), RETK(2) } },
	{ "jset jt 255 short", 0, 3, { I(BPF_JMP | BPF_JSET | BPF_X, 255, 0, 0), RETK(1), RETK(2) } },
	{ "last not ret", 0, 2, { RETK(1), I(BPF_LD | BPF_IMM, 0, 0, 0) } },
	{ "last ret x (0x0e)", 0, 2, { RETK(1), I(BPF_RET | BPF_X, 0, 0, 0) } },
	{ "ldx [k] seccomp", 0, 2, { I(BPF_LDX | BPF_W | BPF_ABS, 0, 0, 0), RETA } },
	{ "empty-ish: ret only", 1, 1, { RETK(0) } },
	/* check_load_and_stores() corners */
	{ "mem: read with no write", 0, 2, { I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "mem: ret does not reset", 1, 4,
	  { I(BPF_ST, 0, 0, 0), RETK(0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "mem: unreachable read after ret", 0, 3,
	  { RETK(0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "mem: unreachable read after ja", 1, 3,
	  { I(BPF_JMP | BPF_JA, 0, 0, 1), I(BPF_LD | BPF_MEM, 0, 0, 5), RETA } },
	{ "mem: unreachable read after jeq", 1, 4,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0), I(BPF_LDX | BPF_MEM, 0, 0, 3), RETA, RETA } },
	{ "mem: ja over the store", 0, 4,
	  { I(BPF_JMP | BPF_JA, 0, 0, 1), I(BPF_ST, 0, 0, 0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "mem: store on one branch", 0, 4,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1), I(BPF_ST, 0, 0, 0), I(BPF_LD | BPF_MEM, 0, 0, 0), RETA } },
	{ "mem: store on both branches", 1, 6,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 1), I(BPF_ST, 0, 0, 7), I(BPF_JMP | BPF_JA, 0, 0, 1),
	    I(BPF_STX, 0, 0, 7), I(BPF_LDX | BPF_MEM, 0, 0, 7), RETA } },
	{ "mem: store before the jump", 1, 5,
	  { I(BPF_ST, 0, 0, 15), I(BPF_JMP | BPF_JGT | BPF_X, 1, 0, 0), I(BPF_LD | BPF_IMM, 0, 0, 1),
	    I(BPF_LD | BPF_MEM, 0, 0, 15), RETA } },
	{ "mem: ja 0 keeps the set", 1, 4,
	  { I(BPF_STX, 0, 0, 2), I(BPF_JMP | BPF_JA, 0, 0, 0), I(BPF_LD | BPF_MEM, 0, 0, 2), RETA } },
	{ "mem: store between two jumps", 1, 5,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), I(BPF_ST, 0, 0, 4), I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
	    I(BPF_LD | BPF_MEM, 0, 0, 4), RETA } },
	{ "mem: jump past a store and its ret", 0, 5,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1), I(BPF_ST, 0, 0, 9), RETK(0),
	    I(BPF_LD | BPF_MEM, 0, 0, 9), RETA } },
	{ "mem: two jumps into one target, one without the store", 0, 6,
	  { I(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 1), I(BPF_ST, 0, 0, 1), I(BPF_JMP | BPF_JA, 0, 0, 1),
	    I(BPF_LD | BPF_IMM, 0, 0, 0), I(BPF_LD | BPF_MEM, 0, 0, 1), RETA } },
};

static void test_small_cases(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(small_cases) / sizeof(small_cases[0]); i++) {
		const struct small_case *c = &small_cases[i];
		struct bpfvm_prog prog = { (struct bpfvm_insn *)c->insns, c->len };
		int kern = kernel_verdict(&prog);

		bad += !compare(&prog, c->name);
		if ((kern == 0) != c->kernel_accepts) {
			print_message("%s: we expected the kernel to %s it\n", c->name,
				      c->kernel_accepts ? "accept" : "reject");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_lengths(void **state)
{
	static struct bpfvm_insn insns[BPFVM_MAXINSNS + 2];
	struct bpfvm_prog prog = { insns, 0 };
	unsigned bad = 0;

	(void)state;
	for (uint32_t i = 0; i < BPFVM_MAXINSNS + 2; i++)
		insns[i] = I(BPF_LD | BPF_IMM, 0, 0, i);
	bad += !compare(&prog, "0 instructions");
	for (uint32_t n = BPFVM_MAXINSNS - 1; n <= BPFVM_MAXINSNS + 1; n++) {
		char what[64];

		insns[n - 1] = RETA;
		prog.len = n;
		snprintf(what, sizeof(what), "%u instructions", n);
		bad += !compare(&prog, what);
		insns[n - 1] = I(BPF_LD | BPF_IMM, 0, 0, 0);
	}
	/* ja from 0 to the last of 4096, and one further */
	insns[BPFVM_MAXINSNS - 1] = RETA;
	prog.len = BPFVM_MAXINSNS;
	insns[0] = I(BPF_JMP | BPF_JA, 0, 0, BPFVM_MAXINSNS - 2);
	bad += !compare(&prog, "ja over 4094 to the last of 4096");
	insns[0] = I(BPF_JMP | BPF_JA, 0, 0, BPFVM_MAXINSNS - 1);
	bad += !compare(&prog, "ja one past the last of 4096");
	assert_int_equal(bad, 0);
}

static void test_ancillary(void **state)
{
	static const uint16_t codes[] = {
		BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
		BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_B | BPF_IND, BPF_LDX | BPF_MSH | BPF_B,
	};
	struct bpfvm_insn insns[2] = { I(0, 0, 0, 0), RETA };
	struct bpfvm_prog prog = { insns, 2 };
	unsigned bad = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		for (uint32_t off = 0; off < 0x1000; off++) {
			char what[64];

			/* every SKF_AD_* and SKF_AD_MAX exactly, a sample of the rest */
			if (off > SKF_AD_MAX + 4 && off % 61 && off < 0xff8)
				continue;
			insns[0] = I(codes[c], 0, 0, (uint32_t)SKF_AD_OFF + off);
			snprintf(what, sizeof(what), "code 0x%02x k=SKF_AD_OFF+%u", codes[c], off);
			bad += !compare(&prog, what);
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * The socket is charged for the eBPF translation, so whether a long
 * program attaches depends on how many eBPF instructions each classic
 * one becomes.  For each kind of instruction, fill a program with @a of
 * it plus filler, find on the kernel the most single-instruction fillers
 * that still attach, and check bpfvm agrees one below and at the edge.
 */
struct kind {
	const char *name;
	struct bpfvm_insn insn;
	uint32_t est;	/* a rough size, only to place the search */
};

static const struct kind kinds[] = {
	{ "ld [0]", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0), 13 },
	{ "ld [1]", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 1), 14 },
	{ "ldh [32767]", I(BPF_LD | BPF_H | BPF_ABS, 0, 0, 32767), 14 },
	{ "ldh [32768]", I(BPF_LD | BPF_H | BPF_ABS, 0, 0, 32768), 16 },
	{ "ldb [0x10000]", I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0x10000), 15 },
	{ "ld [0x80000000]", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x80000000), 8 },
	{ "ld [net+0]", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_NET_OFF), 8 },
	{ "ld [x+0]", I(BPF_LD | BPF_W | BPF_IND, 0, 0, 0), 8 },
	{ "ldb [x+5]", I(BPF_LD | BPF_B | BPF_IND, 0, 0, 5), 9 },
	{ "ldxb msh [14]", I(BPF_LDX | BPF_MSH | BPF_B, 0, 0, 14), 19 },
	{ "ldxb msh [0]", I(BPF_LDX | BPF_MSH | BPF_B, 0, 0, 0), 18 },
	{ "ldxb msh [40000]", I(BPF_LDX | BPF_MSH | BPF_B, 0, 0, 40000), 21 },
	{ "ldxb msh [net]", I(BPF_LDX | BPF_MSH | BPF_B, 0, 0, SKF_NET_OFF), 14 },
	{ "ld proto", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PROTOCOL), 2 },
	{ "ld type", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE), 2 },
	{ "ld ifidx", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_IFINDEX), 4 },
	{ "ld nla", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_NLATTR), 4 },
	{ "ld nlan", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_NLATTR_NEST), 4 },
	{ "ld mark", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_MARK), 1 },
	{ "ld queue", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_QUEUE), 1 },
	{ "ld hatype", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_HATYPE), 4 },
	{ "ld rxhash", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_RXHASH), 1 },
	{ "ld cpu", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_CPU), 4 },
	{ "xor x (ancillary)", I(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_ALU_XOR_X), 1 },
	{ "ld vlan_tci", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG), 1 },
	{ "ld vlan_avail", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT), 3 },
	{ "ld poff", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PAY_OFFSET), 4 },
	{ "ld rand", I(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_RANDOM), 4 },
	{ "ld vlan_tpid", I(BPF_LD | BPF_H | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TPID), 2 },
	{ "div x", I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0), 5 },
	{ "mod x", I(BPF_ALU | BPF_MOD | BPF_X, 0, 0, 0), 5 },
	{ "ret #1", RETK(1), 2 },
	{ "ret a", RETA, 1 },
	{ "jeq #1 jt=1 jf=0", I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), 1 },
	{ "jeq #1 jt=0 jf=1", I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1), 1 },
	{ "jset #1 jt=0 jf=1", I(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 1), 2 },
	{ "jgt #1 jt=1 jf=1", I(BPF_JMP | BPF_JGT | BPF_K, 1, 1, 1), 2 },
	{ "jge #-1 jt=1 jf=0", I(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 0xffffffff), 2 },
	{ "jeq #-1 jt=1 jf=1", I(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0x80000000), 3 },
	{ "jeq x jt=1 jf=1 (k<0 ignored)", I(BPF_JMP | BPF_JEQ | BPF_X, 1, 1, 0x80000000), 2 },
	{ "ja 1", I(BPF_JMP | BPF_JA, 0, 0, 1), 1 },
};

/* @a copies of @k, @m big loads (16 each), @c adds, ret a. */
static uint32_t fill(struct bpfvm_insn *insns, const struct kind *k, uint32_t a, uint32_t m, uint32_t c)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < a; i++)
		insns[n++] = k->insn;
	for (uint32_t i = 0; i < m; i++)
		insns[n++] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
	for (uint32_t i = 0; i < c; i++)
		insns[n++] = I(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1);
	insns[n++] = RETA;
	return n;
}

static void test_translation_size(void **state)
{
	static struct bpfvm_insn insns[BPFVM_MAXINSNS];
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct kind *k = &kinds[i];
		uint32_t a = k->est > 14 ? 14000 / k->est : 1000, m, lo, hi;
		struct bpfvm_prog prog = { insns, 0 };
		char what[96];

		/* aim the total near 16371 eBPF instructions, leave ~300 to search */
		m = k->est * a + 300 < 16300 ? (16300 - 300 - k->est * a) / 16 : 0;
		if (a + m + 2 >= BPFVM_MAXINSNS)
			m = BPFVM_MAXINSNS - a - 400;
		lo = 0;
		hi = BPFVM_MAXINSNS - 1 - a - m;
		prog.len = fill(insns, k, a, m, lo);
		while (m > 0 && kernel_verdict(&prog) != 0) {
			m -= m < 25 ? m : 25;	/* our estimate was low: back off */
			prog.len = fill(insns, k, a, m, lo);
		}
		hi = BPFVM_MAXINSNS - 1 - a - m;
		if (kernel_verdict(&prog) != 0) {
			print_message("%s: even %u fillers are too many\n", k->name, lo);
			bad += !compare(&prog, k->name);
			continue;
		}
		prog.len = fill(insns, k, a, m, hi);
		if (kernel_verdict(&prog) == 0) {
			print_message("%s: %u fillers still attach, no edge found\n", k->name, hi);
			bad += !compare(&prog, k->name);
			continue;
		}
		while (hi - lo > 1) {
			uint32_t mid = lo + (hi - lo) / 2;

			prog.len = fill(insns, k, a, m, mid);
			if (kernel_verdict(&prog) == 0)
				lo = mid;
			else
				hi = mid;
		}
		for (uint32_t c = lo ? lo - 1 : 0; c <= hi; c++) {
			snprintf(what, sizeof(what), "%u x %s + %u x ld [0x10000] + %u x add", a, k->name,
				 m, c);
			prog.len = fill(insns, k, a, m, c);
			bad += !compare(&prog, what);
		}
	}
	assert_int_equal(bad, 0);
}

/* Jumps in the translated program: its offsets are s16, and
 * bpf_convert_filter()'s first pass refuses any jump placed beyond eBPF
 * slot 32768.  These programs are also far over the optmem charge, so
 * the errno (EINVAL, not ENOMEM) is what tells the two apart. */
static void test_translation_jumps(void **state)
{
	static struct bpfvm_insn insns[BPFVM_MAXINSNS];
	struct bpfvm_prog prog = { insns, 0 };
	unsigned bad = 0;

	(void)state;
	for (uint32_t n = 1000; n <= BPFVM_MAXINSNS; n += 61) {
		char what[64];

		for (uint32_t i = 0; i < n; i++)
			insns[i] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
		insns[n - 1] = RETK(0);
		insns[0] = I(BPF_JMP | BPF_JA, 0, 0, n - 2);
		prog.len = n;
		snprintf(what, sizeof(what), "ja over %u big loads", n - 2);
		bad += !compare(&prog, what);

		insns[0] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0x10000);
		insns[n - 3] = I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
		insns[n - 2] = RETK(1);
		snprintf(what, sizeof(what), "jeq after %u big loads", n - 3);
		bad += !compare(&prog, what);
		insns[n - 3] = I(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x80000000);
		snprintf(what, sizeof(what), "jset #neg after %u big loads", n - 3);
		bad += !compare(&prog, what);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_cases),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_ancillary),
		cmocka_unit_test(test_translation_size),
		cmocka_unit_test(test_translation_jumps),
		cmocka_unit_test(test_all_codes),
		cmocka_unit_test(test_progen),
		cmocka_unit_test(test_mutants),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
