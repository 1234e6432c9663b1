/*
 * test_fuzzprog.c - the program campaign (live/fuzzprog.c) and the delta
 * debugger under it (bpfvm/minimize.c).
 *
 *  - the minimiser really minimises: a planted instruction in a 200-insn
 *    program is all that is left (with the return it needs), jumps over
 *    removed instructions still land where they should, a budget is kept,
 *    and a predicate that does not hold leaves the program alone;
 *  - short deterministic campaigns: 2,000 programs verifier-vs-kernel
 *    (any user may attach filters) and, as root, 2,000 more with phase B
 *    through the live harness; none may disagree, and the same seed must
 *    give the same campaign;
 *  - the campaign catches planted bugs: a verifier that accepts division
 *    by constant zero, a model whose snaplen is one short after a NEG -
 *    each must be reported, minimised to the few instructions that matter.
 */
#include "testutil.h"
#include "bpfvm.h"
#include "live.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define I(c, t, f, kk) ((struct bpfvm_insn){ (uint16_t)(c), (t), (f), (uint32_t)(kk) })

static int has_insn(const struct bpfvm_prog *p, struct bpfvm_insn want)
{
	for (uint32_t i = 0; i < p->len; i++)
		if (memcmp(&p->insns[i], &want, sizeof(want)) == 0)
			return 1;
	return 0;
}

static void print_prog(const struct bpfvm_prog *p)
{
	bpfvm_write(stdout, p, BPFVM_FMT_D);
}

/* ------------------------------------------------------------------ */
/* The minimiser. */

static const struct bpfvm_insn planted = { BPF_ALU | BPF_XOR | BPF_K, 0, 0, 0xdeadbeef };

/* A valid 200-instruction program (branches, scratch, loads) with the
 * planted instruction at @at. */
static void program_with_plant(struct bpfvm_prog *p, uint32_t at, uint64_t seed)
{
	struct bpfvm_progen_opts go;
	uint64_t rng = seed;

	memset(&go, 0, sizeof(go));
	go.max_len = 200;
	do {
		bpfvm_prog_free(p);
		bpfvm_progen(p, BPFVM_DEFECT_NONE, &go, &rng);
	} while (p->len < 200);
	/* Overwrite a non-jump, non-return instruction so the structure stays
	 * valid; ALU ops never touch scratch or the packet. */
	while (BPF_CLASS(p->insns[at].code) == BPF_JMP || BPF_CLASS(p->insns[at].code) == BPF_RET)
		at++;
	p->insns[at] = planted;
	assert_int_equal(bpfvm_verify(p, BPFVM_LINUX, NULL), 0);
}

static int keeps_plant(const struct bpfvm_prog *cand, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	return has_insn(cand, planted) && bpfvm_verify(cand, BPFVM_LINUX, NULL) == 0;
}

static void test_minimize_plant(void **state)
{
	struct bpfvm_prog p = { NULL, 0 };
	struct bpfvm_minimize_result res;
	char err[BPFVM_ERRBUF_SIZE];
	int calls = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		program_with_plant(&p, 37 * (uint32_t)seed, seed);
		calls = 0;
		assert_int_equal(bpfvm_minimize(&p, keeps_plant, &calls, 0, &res, err), 0);
		if (p.len > 2) {
			print_prog(&p);
			fail_msg("seed %llu: %u instructions left, expected the plant and a return",
				 (unsigned long long)seed, p.len);
		}
		assert_true(has_insn(&p, planted));
		assert_int_equal(bpfvm_verify(&p, BPFVM_LINUX, NULL), 0);
		assert_int_equal(res.from_len, 200);
		assert_int_equal(res.tests, (uint32_t)calls);
		assert_false(res.exhausted);
		print_message("seed %llu: 200 -> %u instructions in %u predicate calls\n",
			      (unsigned long long)seed, p.len, res.tests);
	}
	bpfvm_prog_free(&p);
}

/* A semantic property: the program still returns 0x1234 on this packet.
 * The return sits behind a chain of jumps, so removing the instructions in
 * front of it only works if the jumps are retargeted correctly. */
static const uint8_t pkt_bytes[64] = { [12] = 0x08, [13] = 0x00, [23] = 17 };

static int returns_1234(const struct bpfvm_prog *cand, void *ctx)
{
	struct bpfvm_packet pkt = { pkt_bytes, sizeof(pkt_bytes), sizeof(pkt_bytes), 0, 14 };
	struct bpfvm_meta meta;
	struct bpfvm *vm;
	uint32_t r;

	(void)ctx;
	memset(&meta, 0, sizeof(meta));
	if (bpfvm_create(&vm, cand, BPFVM_LINUX, NULL) != 0)
		return 0;
	r = bpfvm_run(vm, &pkt, &meta);
	bpfvm_destroy(vm);
	return r == 0x1234;
}

static void test_minimize_semantic(void **state)
{
	struct bpfvm_insn insns[] = {
		I(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12),		/* 0 */
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 0x0800),	/* 1: -> 2 / 11 */
		I(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23),		/* 2 */
		I(BPF_ST, 0, 0, 3),				/* 3 */
		I(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 5),		/* 4 */
		I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 22),		/* 5: -> 7 / 6 */
		I(BPF_RET | BPF_K, 0, 0, 1),			/* 6 */
		I(BPF_LDX | BPF_MEM, 0, 0, 3),			/* 7 */
		I(BPF_JMP | BPF_JA, 0, 0, 1),			/* 8: -> 10 */
		I(BPF_RET | BPF_K, 0, 0, 2),			/* 9 */
		I(BPF_RET | BPF_K, 0, 0, 0x1234),		/* 10 */
		I(BPF_RET | BPF_K, 0, 0, 0),			/* 11 */
	};
	struct bpfvm_prog p = { NULL, 0 };
	struct bpfvm_minimize_result res;
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	p.len = sizeof(insns) / sizeof(insns[0]);
	p.insns = malloc(sizeof(insns));
	assert_non_null(p.insns);
	memcpy(p.insns, insns, sizeof(insns));
	assert_true(returns_1234(&p, NULL));
	assert_int_equal(bpfvm_minimize(&p, returns_1234, NULL, 0, &res, err), 0);
	if (p.len != 1) {
		print_prog(&p);
		fail_msg("%u instructions left, expected 'ret #0x1234' alone", p.len);
	}
	assert_int_equal(p.insns[0].code, BPF_RET | BPF_K);
	assert_int_equal(p.insns[0].k, 0x1234);
	bpfvm_prog_free(&p);
}

/* Retargeting, checked directly: no candidate that keeps a valid program's
 * final return may hold a jump past the end, and a predicate that says yes
 * to any valid program ending in that return leaves only the return. */
struct jump_ctx {
	unsigned candidates, out_of_range;
	struct bpfvm_insn last;
};

static int jumps_in_range(const struct bpfvm_prog *cand, void *ctx)
{
	struct jump_ctx *jc = ctx;

	jc->candidates++;
	/* With the final return gone, jumps to it have nowhere to land; the
	 * claim is about candidates that keep it. */
	if (cand->len == 0 || memcmp(&cand->insns[cand->len - 1], &jc->last, sizeof(jc->last)) != 0)
		return 0;
	for (uint32_t i = 0; i < cand->len; i++) {
		const struct bpfvm_insn *in = &cand->insns[i];
		uint64_t room = cand->len - i - 1;

		if (BPF_CLASS(in->code) != BPF_JMP)
			continue;
		if (BPF_OP(in->code) == BPF_JA ? in->k >= room : in->jt >= room || in->jf >= room)
			jc->out_of_range++;
	}
	return bpfvm_verify(cand, BPFVM_LINUX, NULL) == 0;
}

static void test_minimize_retargets(void **state)
{
	struct bpfvm_progen_opts go;
	struct bpfvm_prog p = { NULL, 0 };
	struct bpfvm_minimize_result res;
	char err[BPFVM_ERRBUF_SIZE];
	uint64_t rng = 4242;
	unsigned total = 0;

	(void)state;
	memset(&go, 0, sizeof(go));
	go.max_len = 120;
	for (int n = 0; n < 40; n++) {
		struct jump_ctx jc = { 0, 0, { 0, 0, 0, 0 } };

		bpfvm_prog_free(&p);
		bpfvm_progen(&p, BPFVM_DEFECT_NONE, &go, &rng);
		/* Make the last return unique so the predicate can follow it. */
		p.insns[p.len - 1] = I(BPF_RET | BPF_K, 0, 0, 0xabcd0000u + (uint32_t)n);
		jc.last = p.insns[p.len - 1];
		assert_int_equal(bpfvm_minimize(&p, jumps_in_range, &jc, 0, &res, err), 0);
		/* Removal never makes a forward jump leave the program. */
		assert_int_equal(jc.out_of_range, 0);
		assert_int_equal(p.len, 1);
		total += jc.candidates;
	}
	print_message("40 programs, %u candidates, no jump out of range\n", total);
	bpfvm_prog_free(&p);
}

/* A jump out of range stays out of range by the same distance: the
 * property "the kernel's verifier names a jump past the end" survives. */
static int jump_out(const struct bpfvm_prog *cand, void *ctx)
{
	char err[BPFVM_ERRBUF_SIZE];

	(void)ctx;
	return bpfvm_verify(cand, BPFVM_LINUX, err) != 0 && strstr(err, "past the last instruction") != NULL;
}

static void test_minimize_keeps_broken_jump(void **state)
{
	struct bpfvm_prog p = { NULL, 0 };
	struct bpfvm_minimize_result res;
	char err[BPFVM_ERRBUF_SIZE];
	uint64_t rng = 7;
	struct bpfvm_progen_opts go;

	(void)state;
	memset(&go, 0, sizeof(go));
	go.max_len = 100;
	for (int n = 0; n < 10; n++) {
		bpfvm_prog_free(&p);
		bpfvm_progen(&p, BPFVM_DEFECT_JUMP_RANGE, &go, &rng);
		assert_true(jump_out(&p, NULL));
		assert_int_equal(bpfvm_minimize(&p, jump_out, NULL, 0, &res, err), 0);
		if (p.len > 2) {
			print_prog(&p);
			fail_msg("a jump out of range minimised to %u instructions", p.len);
		}
		assert_true(jump_out(&p, NULL));
	}
	bpfvm_prog_free(&p);
}

static int never(const struct bpfvm_prog *cand, void *ctx)
{
	(void)cand;
	(void)ctx;
	return 0;
}

static int always_count(const struct bpfvm_prog *cand, void *ctx)
{
	int *calls = ctx;

	(void)cand;
	(*calls)++;
	return cand->len >= 3;	/* holds until fewer than 3 are left */
}

static void test_minimize_edges(void **state)
{
	struct bpfvm_insn insns[40];
	struct bpfvm_prog p;
	struct bpfvm_minimize_result res;
	char err[BPFVM_ERRBUF_SIZE];
	int calls = 0;

	(void)state;
	for (int i = 0; i < 40; i++)
		insns[i] = I(BPF_LD | BPF_IMM, 0, 0, i + 1);
	/* A predicate that does not hold: an error, the program untouched. */
	p.insns = insns;
	p.len = 40;
	assert_int_equal(bpfvm_minimize(&p, never, NULL, 0, &res, err), -1);
	assert_non_null(strstr(err, "does not hold"));
	assert_int_equal(p.len, 40);
	assert_int_equal(insns[39].k, 40);
	/* A budget is a budget. */
	assert_int_equal(bpfvm_minimize(&p, always_count, &calls, 5, &res, err), 0);
	assert_int_equal(res.tests, 5);
	assert_int_equal(calls, 5);
	assert_true(res.exhausted);
	assert_true(p.len >= 3 && p.len < 40);
	/* Without a budget: exactly 3 left, k zeroed where allowed. */
	assert_int_equal(bpfvm_minimize(&p, always_count, &calls, 0, &res, err), 0);
	assert_int_equal(p.len, 3);
	for (uint32_t i = 0; i < p.len; i++)
		assert_int_equal(p.insns[i].k, 0);
}

/* ------------------------------------------------------------------ */
/* Campaigns. */

static void print_findings(const struct live_fuzz_report *rep)
{
	for (size_t i = 0; i < rep->n_findings && i < 5; i++) {
		const struct live_fuzz_finding *f = &rep->findings[i];

		print_message("finding %zu: program %llu (%s): %s; kernel errno %d, ours: %s\n", i,
			      (unsigned long long)f->program, live_fuzz_source_name(f->source),
			      f->what, f->kernel_errno, f->verify_rc ? f->verify_msg : "accepts");
		print_prog(&f->minimized);
		if (f->phase == LIVE_FUZZ_PHASE_EXEC)
			print_message("  frame of %u bytes; kernel delivered %d snaplen %u, model "
				      "delivered %d snaplen %u\n",
				      f->frame_len, f->kernel.delivered, f->kernel.snaplen,
				      f->model.delivered, f->model.snaplen);
	}
}

static void test_campaign_verify(void **state)
{
	struct live_fuzz_opts o;
	struct live_fuzz_report a, b;
	char err[LIVE_ERRBUF_SIZE];

	(void)state;
	live_fuzz_opts_init(&o);
	o.programs = 2000;
	o.seed = 0x66757a7a;
	o.live = 0;
	assert_int_equal(live_fuzz_programs(&o, &a, err), 0);
	print_message("%llu programs, %llu accepted by the kernel, %llu run by the model on "
		      "%llu frames, %llu disagreements\n",
		      (unsigned long long)a.st.programs, (unsigned long long)a.st.kernel_accepted,
		      (unsigned long long)a.st.exec_programs, (unsigned long long)a.st.frames_modelled,
		      (unsigned long long)a.st.verify_disagreements);
	print_findings(&a);
	assert_int_equal(a.st.programs, 2000);
	assert_int_equal(a.st.verify_disagreements, 0);
	/* Both kinds of verdict, and every source, are exercised. */
	assert_true(a.st.kernel_accepted > 500 && a.st.kernel_accepted < 1800);
	for (unsigned s = 0; s < LIVE_FUZZ_NSOURCES; s++)
		assert_true(a.st.by_source[s] > 0);
	assert_true(a.st.exec_programs > 300);
	/* The same seed is the same campaign. */
	assert_int_equal(live_fuzz_programs(&o, &b, err), 0);
	assert_memory_equal(a.st.by_source, b.st.by_source, sizeof(a.st.by_source));
	assert_int_equal(a.st.kernel_accepted, b.st.kernel_accepted);
	assert_int_equal(a.st.excluded, b.st.excluded);
	assert_int_equal(a.st.frames_modelled, b.st.frames_modelled);
	live_fuzz_report_free(&a);
	live_fuzz_report_free(&b);
}

static void test_campaign_live(void **state)
{
	struct live_fuzz_opts o;
	struct live_fuzz_report rep;
	char err[LIVE_ERRBUF_SIZE];
	int r;

	(void)state;
	SKIP_UNLESS_ROOT();
	live_fuzz_opts_init(&o);
	o.programs = 2000;
	o.seed = 0x6c697665;
	r = live_fuzz_programs(&o, &rep, err);
	if (r)
		fail_msg("campaign: %s (%s)", err, live_error_name(r));
	print_message("%llu programs, %llu through the kernel on %llu frame verdicts "
		      "(%llu excluded, ifidx pinned to %d), %llu + %llu disagreements, "
		      "%.0f programs/s in phase B\n",
		      (unsigned long long)rep.st.programs, (unsigned long long)rep.st.exec_programs,
		      (unsigned long long)rep.st.frames_compared, (unsigned long long)rep.st.excluded,
		      rep.st.ifindex, (unsigned long long)rep.st.verify_disagreements,
		      (unsigned long long)rep.st.exec_disagreements,
		      rep.st.seconds_exec > 0 ? (double)rep.st.exec_programs / rep.st.seconds_exec : 0);
	print_findings(&rep);
	assert_int_equal(rep.st.verify_disagreements, 0);
	assert_int_equal(rep.st.exec_disagreements, 0);
	assert_true(rep.st.exec_programs > 300);
	assert_true(rep.st.frames_compared >= rep.st.exec_programs * 60);
	assert_true(rep.st.ifindex > 0);
	assert_true(rep.st.excluded > 0);
	live_fuzz_report_free(&rep);
}

/* ---- planted bugs ---- */

static int has_div_zero(const struct bpfvm_prog *p)
{
	for (uint32_t i = 0; i < p->len; i++)
		if ((p->insns[i].code == (BPF_ALU | BPF_DIV | BPF_K) ||
		     p->insns[i].code == (BPF_ALU | BPF_MOD | BPF_K)) &&
		    p->insns[i].k == 0)
			return 1;
	return 0;
}

/* A verifier that forgot the kernel's "DIV/MOD by constant 0" rule. */
static int lax_verify(void *ctx, const struct bpfvm_prog *prog, char *errbuf)
{
	(void)ctx;
	if (has_div_zero(prog))
		return 0;
	return bpfvm_verify(prog, BPFVM_LINUX, errbuf);
}

static void test_catches_verifier_bug(void **state)
{
	struct live_fuzz_engines eng;
	struct live_fuzz_opts o;
	struct live_fuzz_report rep;
	char err[LIVE_ERRBUF_SIZE];
	size_t caught = 0;

	(void)state;
	live_fuzz_engines_default(&eng);
	eng.verify = lax_verify;
	live_fuzz_opts_init(&o);
	o.programs = 1000;
	o.seed = 3;
	o.live = 0;
	o.engines = &eng;
	assert_int_equal(live_fuzz_programs(&o, &rep, err), 0);
	print_message("%llu verifier disagreements, %zu distinct findings\n",
		      (unsigned long long)rep.st.verify_disagreements, rep.n_findings);
	print_findings(&rep);
	assert_true(rep.st.verify_disagreements > 0);
	assert_true(rep.n_findings > 0);
	for (size_t i = 0; i < rep.n_findings; i++) {
		const struct live_fuzz_finding *f = &rep.findings[i];

		assert_int_equal(f->phase, LIVE_FUZZ_PHASE_VERIFY);
		assert_non_null(strstr(f->what, "verifier accepts, the kernel refuses"));
		assert_true(f->reproduced);
		/* All that matters: the division (a lone "div #0" is already
		 * refused for it; the kernel checks it before the last return). */
		assert_true(f->minimized.len <= 2);
		assert_true(has_div_zero(&f->minimized));
		assert_int_equal(f->verify_rc, 0);
		assert_int_equal(f->kernel_errno, EINVAL);
		caught++;
	}
	/* Every such program minimises to the same few: they are merged. */
	assert_true(caught <= 4);
	live_fuzz_report_free(&rep);
}

static int has_neg(const struct bpfvm_prog *p)
{
	for (uint32_t i = 0; i < p->len; i++)
		if (p->insns[i].code == (BPF_ALU | BPF_NEG))
			return 1;
	return 0;
}

/* A model whose snaplen comes out one short when the program has a NEG. */
static int short_model(void *ctx, const struct bpfvm_prog *prog, const struct sim_rx_dev *dev,
		       int sock_type, const uint8_t *const *frames, const uint32_t *lens, size_t n,
		       uint8_t *buf, struct live_fuzz_outcome *out, char *errbuf)
{
	int r = live_fuzz_model_default(ctx, prog, dev, sock_type, frames, lens, n, buf, out, errbuf);

	if (r == 0 && has_neg(prog))
		for (size_t i = 0; i < n; i++)
			if (out[i].delivered && out[i].snaplen > 1)
				out[i].snaplen--;
	return r;
}

static void test_catches_model_bug(void **state)
{
	struct live_fuzz_engines eng;
	struct live_fuzz_opts o;
	struct live_fuzz_report rep;
	char err[LIVE_ERRBUF_SIZE];
	int r;

	(void)state;
	SKIP_UNLESS_ROOT();
	live_fuzz_engines_default(&eng);
	eng.model = short_model;
	live_fuzz_opts_init(&o);
	o.programs = 400;
	o.seed = 5;
	o.engines = &eng;
	o.max_findings = 3;
	r = live_fuzz_programs(&o, &rep, err);
	if (r)
		fail_msg("campaign: %s (%s)", err, live_error_name(r));
	print_message("%llu programs through the kernel, %llu disagree; %zu findings\n",
		      (unsigned long long)rep.st.exec_programs,
		      (unsigned long long)rep.st.exec_disagreements, rep.n_findings);
	print_findings(&rep);
	assert_int_equal(rep.st.verify_disagreements, 0);
	assert_true(rep.st.exec_disagreements > 0);
	assert_true(rep.n_findings > 0);
	for (size_t i = 0; i < rep.n_findings; i++) {
		const struct live_fuzz_finding *f = &rep.findings[i];

		assert_int_equal(f->phase, LIVE_FUZZ_PHASE_EXEC);
		assert_non_null(strstr(f->what, "captured length"));
		assert_true(f->reproduced);
		/* "neg; ret #k" or "neg; ret a"-like: the NEG and a return
		 * (and perhaps what makes A non-zero). */
		assert_true(f->minimized.len >= 2 && f->minimized.len <= 3);
		assert_true(has_neg(&f->minimized));
		assert_true(f->kernel.delivered && f->model.delivered);
		assert_int_equal(f->model.snaplen + 1, f->kernel.snaplen);
		assert_non_null(f->frame);
	}
	live_fuzz_report_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimize_plant),
		cmocka_unit_test(test_minimize_semantic),
		cmocka_unit_test(test_minimize_retargets),
		cmocka_unit_test(test_minimize_keeps_broken_jump),
		cmocka_unit_test(test_minimize_edges),
		cmocka_unit_test(test_campaign_verify),
		cmocka_unit_test(test_campaign_live),
		cmocka_unit_test(test_catches_verifier_bug),
		cmocka_unit_test(test_catches_model_bug),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
