/*
 * minimize.c - delta debugging of classic BPF programs: the smallest
 * program that still shows what a caller's predicate looks for (a
 * disagreement between two engines, a crash, a verdict).
 *
 * Two passes, repeated while either makes progress:
 *  - ddmin over the instructions (Zeller and Hildebrandt, "Simplifying and
 *    Isolating Failure-Inducing Input", 2002), complements only: remove a
 *    chunk, keep the result if the predicate still holds, otherwise try
 *    the next chunk; halve the chunks when none can go.
 *  - field simplification: k to 0 (or else 1), and a conditional jump's jt
 *    and jf to 0, one at a time, so what is left reads as little as
 *    possible.
 *
 * Removing instructions must not change where the survivors jump.  A jump
 * whose target survives keeps it; one whose target was removed lands on
 * the first survivor after it; one that already pointed past the end (a
 * deliberately broken program) keeps its distance past the new end.  An
 * offset can only shrink that way, so jt and jf always still fit in 8 bits.
 *
 * The predicate decides everything else: a candidate the verifier rejects
 * is just a candidate for which the predicate says "no", unless rejection
 * is what is being kept.
 */
#include "bpfvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_TESTS 4096
#define MAX_ROUNDS 8	/* ddmin + simplify rounds; each must shrink something */

struct mini {
	bpfvm_minimize_fn keep;
	void *ctx;
	uint32_t max_tests;
	uint32_t tests;
	int aborted;		/* the predicate returned a negative value */
	struct bpfvm_prog cur;	/* the smallest program that still holds */
	struct bpfvm_prog cand;	/* scratch, as long as the original */
	uint8_t *drop;		/* per instruction of cur: 1 = leave out of cand */
	uint32_t *newpc;	/* per instruction of cur: its index in cand */
};

static int is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

/* The cand index a jump from old index @pc to old target @t lands on,
 * given m->drop.  @t may be past the end of cur. */
static uint64_t new_target(const struct mini *m, uint64_t t, uint32_t new_len)
{
	uint32_t old_len = m->cur.len;

	for (; t < old_len; t++)
		if (!m->drop[t])
			return m->newpc[t];
	return (uint64_t)new_len + (t - old_len);
}

/* Build cand from cur without the instructions m->drop marks, with every
 * surviving jump retargeted. */
static void build_candidate(struct mini *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->cur.len; i++) {
		m->newpc[i] = n;
		if (!m->drop[i])
			n++;
	}
	m->cand.len = n;
	for (uint32_t i = 0; i < m->cur.len; i++) {
		struct bpfvm_insn in = m->cur.insns[i];
		uint32_t ni = m->newpc[i];

		if (m->drop[i])
			continue;
		if (BPF_CLASS(in.code) == BPF_JMP) {
			if (BPF_OP(in.code) == BPF_JA) {
				uint64_t t = new_target(m, (uint64_t)i + 1 + in.k, n);

				in.k = (uint32_t)(t - ni - 1);
			} else {
				uint64_t tt = new_target(m, (uint64_t)i + 1 + in.jt, n);
				uint64_t tf = new_target(m, (uint64_t)i + 1 + in.jf, n);

				in.jt = (uint8_t)(tt - ni - 1);
				in.jf = (uint8_t)(tf - ni - 1);
			}
		}
		m->cand.insns[ni] = in;
	}
}

/* Ask the predicate about cand; on "yes" cand becomes cur.  Returns 1 if
 * it held, 0 if not or when out of budget. */
static int try_candidate(struct mini *m)
{
	int r;

	if (m->aborted || m->tests >= m->max_tests)
		return 0;
	m->tests++;
	r = m->keep(&m->cand, m->ctx);
	if (r < 0) {
		m->aborted = 1;
		return 0;
	}
	if (r == 0)
		return 0;
	memcpy(m->cur.insns, m->cand.insns, (size_t)m->cand.len * sizeof(*m->cand.insns));
	m->cur.len = m->cand.len;
	return 1;
}

/* ddmin, complements only.  Returns 1 if anything was removed. */
static int ddmin(struct mini *m)
{
	uint32_t parts = 2;
	int progress = 0;

	while (m->cur.len > 0 && !m->aborted && m->tests < m->max_tests) {
		uint32_t len = m->cur.len;
		uint32_t chunk, start;
		int removed = 0;

		if (parts > len)
			parts = len;
		chunk = (len + parts - 1) / parts;
		for (start = 0; start < len; start += chunk) {
			uint32_t end = start + chunk < len ? start + chunk : len;

			memset(m->drop, 0, len);
			memset(m->drop + start, 1, end - start);
			build_candidate(m);
			if (try_candidate(m)) {
				removed = 1;
				break;
			}
		}
		if (removed) {
			progress = 1;
			parts = parts > 2 ? parts - 1 : 2;
			continue;
		}
		if (chunk == 1)
			break;	/* every single instruction is needed */
		parts = parts * 2 < len ? parts * 2 : len;
	}
	return progress;
}

/* Try one field change on instruction @i of cur. */
static int try_field(struct mini *m, uint32_t i, struct bpfvm_insn in)
{
	if (memcmp(&in, &m->cur.insns[i], sizeof(in)) == 0)
		return 0;
	memcpy(m->cand.insns, m->cur.insns, (size_t)m->cur.len * sizeof(*m->cur.insns));
	m->cand.len = m->cur.len;
	m->cand.insns[i] = in;
	return try_candidate(m);
}

/* Zero (or else make 1) k, and zero jt and jf, where the predicate allows.
 * Returns 1 if anything changed. */
static int simplify(struct mini *m)
{
	int progress = 0;

	for (uint32_t i = 0; i < m->cur.len && !m->aborted; i++) {
		struct bpfvm_insn in = m->cur.insns[i];

		if (in.k > 1) {
			/* 0 where the value does not matter, else 1 where any
			 * non-zero value does (a return that must deliver). */
			in.k = 0;
			if (!try_field(m, i, in)) {
				in.k = 1;
				progress |= try_field(m, i, in);
			} else {
				progress = 1;
			}
			in = m->cur.insns[i];
		} else if (in.k == 1) {
			in.k = 0;
			progress |= try_field(m, i, in);
			in = m->cur.insns[i];
		}
		if (is_cond_jump(in.code) && in.jt != 0) {
			in.jt = 0;
			progress |= try_field(m, i, in);
			in = m->cur.insns[i];
		}
		if (is_cond_jump(in.code) && in.jf != 0) {
			in.jf = 0;
			progress |= try_field(m, i, in);
		}
	}
	return progress;
}

int bpfvm_minimize(struct bpfvm_prog *prog, bpfvm_minimize_fn keep, void *ctx,
		   uint32_t max_tests, struct bpfvm_minimize_result *res, char *errbuf)
{
	struct mini m;
	size_t n = prog->len ? prog->len : 1;
	int r, ret = 0;

	memset(&m, 0, sizeof(m));
	memset(res, 0, sizeof(*res));
	res->from_len = prog->len;
	m.keep = keep;
	m.ctx = ctx;
	m.max_tests = max_tests ? max_tests : DEFAULT_MAX_TESTS;
	m.cur.insns = malloc(n * sizeof(*m.cur.insns));
	m.cand.insns = malloc(n * sizeof(*m.cand.insns));
	m.drop = malloc(n);
	m.newpc = malloc(n * sizeof(*m.newpc));
	if (!m.cur.insns || !m.cand.insns || !m.drop || !m.newpc) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "minimize: out of memory for a %u-instruction program",
			 prog->len);
		ret = -1;
		goto out;
	}
	if (prog->len)
		memcpy(m.cur.insns, prog->insns, (size_t)prog->len * sizeof(*prog->insns));
	m.cur.len = prog->len;

	/* The property must hold for the program as given. */
	m.tests = 1;
	r = keep(&m.cur, ctx);
	if (r <= 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 r < 0 ? "minimize: the predicate gave up on the original program"
			       : "minimize: the property does not hold for the original %u-instruction program",
			 prog->len);
		ret = -1;
		goto out;
	}
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int shrunk = ddmin(&m);

		shrunk |= simplify(&m);
		if (!shrunk || m.aborted || m.tests >= m.max_tests)
			break;
	}
	res->exhausted = m.tests >= m.max_tests;
	res->aborted = m.aborted;
	/* Hand the smallest program back in prog's own buffer (it only
	 * shrank, so it fits). */
	if (m.cur.len)
		memcpy(prog->insns, m.cur.insns, (size_t)m.cur.len * sizeof(*prog->insns));
	prog->len = m.cur.len;
out:
	res->tests = m.tests;
	free(m.cur.insns);
	free(m.cand.insns);
	free(m.drop);
	free(m.newpc);
	return ret;
}
