/*
 * progen.c - random classic BPF programs for differential tests and
 * fuzzing: programs the kernel accepts, and programs with exactly one
 * kind of defect that are otherwise valid, so a test knows the verdict
 * to expect before it asks the kernel.
 *
 * All randomness comes from bpfvm_rand64(), so a seed gives the same
 * program on every machine.
 *
 * A valid program is built front to back.  Every jump goes forward, so
 * while generating we can run the kernel's own scratch-memory analysis
 * (check_load_and_stores(), see verify.c) alongside and only emit a read
 * of M[i] where that analysis already holds M[i] as written.
 */
#include "bpfvm.h"

#include <stdlib.h>
#include <string.h>

/* The kernel charges the translated eBPF program to the socket (see
 * verify.c: at most 16371 eBPF instructions under optmem_max=131072).
 * We keep a conservative worst-case count per classic instruction and
 * stay well under it, so DEFECT_NONE programs of any length attach. */
#define EBPF_BUDGET 16000u

struct gen {
	uint64_t *rng;
	uint32_t hint;		/* packet length the offsets cluster under */
	int ancillary;
	int negative;
	struct bpfvm_insn *insns;
	uint32_t n;
	uint16_t *masks;	/* check_load_and_stores()'s per-target sets */
	uint16_t valid;		/* ... and its running set */
	uint16_t stored;	/* cells stored anywhere so far */
	uint32_t cost;		/* worst-case eBPF instructions so far */
};

static uint32_t rnd32(struct gen *g)
{
	return (uint32_t)bpfvm_rand64(g->rng);
}

static uint32_t below(struct gen *g, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(g->rng) % n) : 0;
}

static int chance(struct gen *g, uint32_t percent)
{
	return below(g, 100) < percent;
}

static struct bpfvm_insn mk(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	struct bpfvm_insn in = { .code = code, .jt = jt, .jf = jf, .k = k };

	return in;
}

static const uint16_t sizes[3] = { BPF_B, BPF_H, BPF_W };
static const uint8_t size_bytes[3] = { 1, 2, 4 };

/* A packet offset: mostly inside the first hint bytes, some straddling
 * the end, some past it, a few large or "negative" (k >= 0x80000000,
 * still below SKF_AD_OFF), and SKF_NET_OFF / SKF_LL_OFF bases if asked. */
static uint32_t packet_offset(struct gen *g, uint32_t size)
{
	static const uint32_t big[] = {
		0xffff, 0x10000, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffefffff,
	};
	uint32_t r = below(g, 100);

	if (g->negative && chance(g, 15)) {
		uint32_t base = chance(g, 60) ? (uint32_t)SKF_NET_OFF : (uint32_t)SKF_LL_OFF;

		if (chance(g, 5))
			return (uint32_t)SKF_NET_OFF - 1 - below(g, 4);	/* between the two bases */
		return base + below(g, g->hint + 8);
	}
	if (r < 65)
		return below(g, g->hint);
	if (r < 82)
		return g->hint + below(g, 2 * size + 1) - (g->hint >= size ? size : g->hint);
	if (r < 94)
		return g->hint + below(g, g->hint + 64);
	if (r < 98)
		return big[below(g, sizeof(big) / sizeof(big[0]))];
	return 0;
}

/* Values for X that make shifts and divisions interesting. */
static uint32_t x_value(struct gen *g)
{
	static const uint32_t v[] = { 0, 1, 2, 14, 31, 32, 33, 63, 64, 0x80000000, 0xffffffff };

	if (chance(g, 60))
		return v[below(g, sizeof(v) / sizeof(v[0]))];
	return chance(g, 50) ? below(g, 256) : rnd32(g);
}

static uint32_t imm_value(struct gen *g)
{
	static const uint32_t v[] = { 0, 1, 6, 17, 0x800, 0x86dd, 0x8100, 0xff, 0xffff, 0x80000000, 0xffffffff };

	if (chance(g, 50))
		return v[below(g, sizeof(v) / sizeof(v[0]))];
	return chance(g, 50) ? below(g, 4096) : rnd32(g);
}

static struct bpfvm_insn ret_insn(struct gen *g)
{
	static const uint32_t v[] = { 0, 0, 1, 64, 96, 1514, 0xffff, 0x40000, 0xffffffff };

	if (chance(g, 25))
		return mk(BPF_RET | BPF_A, 0, 0, 0);
	if (chance(g, 15))
		return mk(BPF_RET | BPF_K, 0, 0, 1 + below(g, 200));
	return mk(BPF_RET | BPF_K, 0, 0, v[below(g, sizeof(v) / sizeof(v[0]))]);
}

static const uint16_t alu_ops[] = {
	BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
};
#define N_ALU_OPS (sizeof(alu_ops) / sizeof(alu_ops[0]))

static struct bpfvm_insn alu_k(struct gen *g)
{
	uint16_t op = alu_ops[below(g, N_ALU_OPS)];
	uint32_t k = imm_value(g);

	if (op == BPF_LSH || op == BPF_RSH)
		k = below(g, 32);
	else if ((op == BPF_DIV || op == BPF_MOD) && k == 0)
		k = 1 + below(g, 16);
	return mk(BPF_ALU | op | BPF_K, 0, 0, k);
}

/* An instruction that neither jumps nor touches scratch memory: a slot a
 * defect can later overwrite without changing any control or data flow. */
static struct bpfvm_insn plain_insn(struct gen *g)
{
	switch (below(g, 6)) {
	case 0:
		return mk(BPF_LD | BPF_IMM, 0, 0, imm_value(g));
	case 1:
		return mk(BPF_LDX | BPF_IMM, 0, 0, x_value(g));
	case 2:
		return mk(BPF_MISC | (chance(g, 50) ? BPF_TAX : BPF_TXA), 0, 0, 0);
	case 3:
		return mk(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	default:
		return alu_k(g);
	}
}

enum kind {
	K_LDABS, K_LDIND, K_MSH, K_LEN, K_IMM, K_STORE, K_LOADMEM, K_ALUK, K_ALUX,
	K_NEG, K_MOVE, K_JCOND, K_JA, K_RET, K_ANC, K_COUNT
};

static const uint8_t weight[K_COUNT] = {
	[K_LDABS] = 16, [K_LDIND] = 7, [K_MSH] = 5, [K_LEN] = 3, [K_IMM] = 7,
	[K_STORE] = 7, [K_LOADMEM] = 7, [K_ALUK] = 9, [K_ALUX] = 7, [K_NEG] = 1,
	[K_MOVE] = 4, [K_JCOND] = 14, [K_JA] = 3, [K_RET] = 4, [K_ANC] = 5,
};

/* Worst-case eBPF instructions per kind (verify.c's ebpf_size()). */
static const uint8_t worst[K_COUNT] = {
	[K_LDABS] = 16, [K_LDIND] = 9, [K_MSH] = 22, [K_LEN] = 1, [K_IMM] = 1,
	[K_STORE] = 1, [K_LOADMEM] = 1, [K_ALUK] = 1, [K_ALUX] = 5, [K_NEG] = 1,
	[K_MOVE] = 1, [K_JCOND] = 3, [K_JA] = 1, [K_RET] = 2, [K_ANC] = 4,
};

static enum kind pick_kind(struct gen *g)
{
	uint32_t total = 0, r;

	for (int i = 0; i < K_COUNT; i++)
		total += weight[i];
	for (;;) {
		enum kind k = K_COUNT;

		r = below(g, total);
		for (int i = 0; i < K_COUNT; i++) {
			if (r < weight[i]) {
				k = (enum kind)i;
				break;
			}
			r -= weight[i];
		}
		if (k == K_ANC && !g->ancillary)
			continue;
		if (k == K_LOADMEM && g->valid == 0)
			continue;
		if (g->cost + worst[k] > EBPF_BUDGET)
			k = K_ALUK;
		return k;
	}
}

/* A jump offset in [0, room): short hops mostly, sometimes to the end. */
static uint32_t jump_offset(struct gen *g, uint32_t room)
{
	if (room <= 1)
		return 0;
	if (chance(g, 10))
		return room - 1;
	if (chance(g, 70))
		return below(g, room < 8 ? room : 8);
	return below(g, room);
}

/* One random valid instruction at pc with @room instructions after it. */
static struct bpfvm_insn random_insn(struct gen *g, uint32_t room)
{
	enum kind kd = pick_kind(g);
	uint32_t s = below(g, 3);

	g->cost += worst[kd];
	switch (kd) {
	case K_LDABS:
		s = chance(g, 50) ? 1 : s;
		return mk(BPF_LD | sizes[s] | BPF_ABS, 0, 0, packet_offset(g, size_bytes[s]));
	case K_LDIND: {
		uint32_t k = below(g, g->hint);

		if (g->negative && chance(g, 10))
			k = (uint32_t)SKF_NET_OFF + below(g, 64);
		else if (chance(g, 10))
			k = packet_offset(g, size_bytes[s]);
		return mk(BPF_LD | sizes[s] | BPF_IND, 0, 0, k);
	}
	case K_MSH:
		return mk(BPF_LDX | BPF_MSH | BPF_B, 0, 0,
			  chance(g, 70) ? 14 + below(g, 8) : packet_offset(g, 1));
	case K_LEN:
		return mk((chance(g, 50) ? BPF_LD : BPF_LDX) | BPF_W | BPF_LEN, 0, 0, 0);
	case K_IMM:
		if (chance(g, 50))
			return mk(BPF_LD | BPF_IMM, 0, 0, imm_value(g));
		return mk(BPF_LDX | BPF_IMM, 0, 0, x_value(g));
	case K_STORE:
		return mk(chance(g, 60) ? BPF_ST : BPF_STX, 0, 0, below(g, BPF_MEMWORDS));
	case K_LOADMEM: {
		uint32_t cell;

		do
			cell = below(g, BPF_MEMWORDS);
		while (!(g->valid & (1u << cell)));
		return mk(chance(g, 50) ? (BPF_LD | BPF_MEM) : (BPF_LDX | BPF_MEM), 0, 0, cell);
	}
	case K_ALUK:
		return alu_k(g);
	case K_ALUX:
		return mk(BPF_ALU | alu_ops[below(g, N_ALU_OPS)] | BPF_X, 0, 0,
			  chance(g, 90) ? 0 : rnd32(g));
	case K_NEG:
		return mk(BPF_ALU | BPF_NEG, 0, 0, 0);
	case K_MOVE:
		return mk(BPF_MISC | (chance(g, 50) ? BPF_TAX : BPF_TXA), 0, 0, 0);
	case K_JCOND: {
		static const uint16_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
		uint32_t r = room > 256 ? 256 : room;
		uint8_t jt = (uint8_t)jump_offset(g, r), jf = (uint8_t)jump_offset(g, r);

		if (chance(g, 30))
			jf = 0;
		else if (chance(g, 20))
			jt = 0;
		return mk(BPF_JMP | ops[below(g, 4)] | (chance(g, 70) ? BPF_K : BPF_X), jt, jf,
			  imm_value(g));
	}
	case K_JA:
		return mk(BPF_JMP | BPF_JA, 0, 0, jump_offset(g, room));
	case K_RET:
		return ret_insn(g);
	case K_ANC:
		s = chance(g, 80) ? 2 : s;
		return mk(BPF_LD | sizes[s] | BPF_ABS, 0, 0,
			  (uint32_t)SKF_AD_OFF + 4 * below(g, SKF_AD_MAX / 4));
	default:
		return alu_k(g);
	}
}

/* Follow check_load_and_stores() over the instruction just placed at pc. */
static void track(struct gen *g, uint32_t pc, const struct bpfvm_insn *in)
{
	switch (in->code) {
	case BPF_ST:
	case BPF_STX:
		if (in->k < BPF_MEMWORDS) {
			g->valid |= (uint16_t)(1u << in->k);
			g->stored |= (uint16_t)(1u << in->k);
		}
		break;
	case BPF_JMP | BPF_JA:
		g->masks[pc + 1 + in->k] &= g->valid;
		g->valid = 0xffff;
		break;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		g->masks[pc + 1 + in->jt] &= g->valid;
		g->masks[pc + 1 + in->jf] &= g->valid;
		g->valid = 0xffff;
		break;
	default:
		break;
	}
}

/*
 * Fill g->insns[0..n-1] with a valid program.  Instruction @slot (if
 * < n - 1) is a plain instruction a defect may replace; the scratch state
 * entering it is returned in *@slot_valid / *@slot_stored.
 */
static void generate(struct gen *g, uint32_t slot, uint16_t *slot_valid, uint16_t *slot_stored)
{
	uint32_t n = g->n;

	for (uint32_t pc = 0; pc < n; pc++)
		g->masks[pc] = 0xffff;
	g->valid = 0;
	g->stored = 0;
	g->cost = 7;	/* the translation's prologue */
	for (uint32_t pc = 0; pc + 1 < n; pc++) {
		struct bpfvm_insn in;

		g->valid &= g->masks[pc];
		if (pc == slot) {
			*slot_valid = g->valid;
			*slot_stored = g->stored;
			in = plain_insn(g);
			g->cost += 1;
		} else {
			in = random_insn(g, n - 1 - pc);
		}
		track(g, pc, &in);
		g->insns[pc] = in;
	}
	g->insns[n - 1] = ret_insn(g);
}

static uint16_t bad_code(struct gen *g)
{
	for (;;) {
		uint16_t c = (uint16_t)(chance(g, 75) ? below(g, 256) : rnd32(g));

		if (!bpfvm_opinfo(c)->linux_ok)
			return c;
	}
}

/* An ancillary offset bpf_anc_helper() does not know. */
static uint32_t bad_ancillary(struct gen *g)
{
	uint32_t base = (uint32_t)SKF_AD_OFF;

	switch (below(g, 5)) {
	case 0:
		return base + SKF_AD_MAX;
	case 1:
		return base + 4 * below(g, SKF_AD_MAX / 4) + 1 + below(g, 3);
	case 2:
		return 0xffffffff;
	case 3:
		return base + SKF_AD_MAX + 4 + below(g, 0x1000 - SKF_AD_MAX - 4);
	default:
		return base + SKF_AD_MAX + 4 * below(g, 16);
	}
}

/* The defect replacing the plain instruction at @pc (room = n - 1 - pc). */
static struct bpfvm_insn defect_insn(struct gen *g, enum bpfvm_defect d, uint32_t room,
				     uint16_t valid, uint16_t stored)
{
	switch (d) {
	case BPFVM_DEFECT_BAD_OPCODE:
		return mk(bad_code(g), (uint8_t)below(g, 3), (uint8_t)below(g, 3), imm_value(g));
	case BPFVM_DEFECT_JUMP_RANGE:
		if (room <= 255 && chance(g, 50)) {
			static const uint16_t ops[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
			uint8_t out = (uint8_t)(room + below(g, 256 - room));
			uint8_t in = (uint8_t)below(g, room);
			int t = chance(g, 50);

			return mk(BPF_JMP | ops[below(g, 4)] | (chance(g, 50) ? BPF_K : BPF_X),
				  t ? out : in, t ? in : out, imm_value(g));
		}
		switch (below(g, 4)) {
		case 0:
			return mk(BPF_JMP | BPF_JA, 0, 0, room);	/* one past the end */
		case 1:
			return mk(BPF_JMP | BPF_JA, 0, 0, 0xffffffff);	/* "ja -1" */
		case 2:
			return mk(BPF_JMP | BPF_JA, 0, 0, room + below(g, 64));
		default:
			return mk(BPF_JMP | BPF_JA, 0, 0, room + (rnd32(g) % (0xffffffffu - room)));
		}
	case BPFVM_DEFECT_DIV_ZERO:
		return mk(BPF_ALU | (chance(g, 50) ? BPF_DIV : BPF_MOD) | BPF_K, 0, 0, 0);
	case BPFVM_DEFECT_SHIFT: {
		static const uint32_t v[] = { 32, 33, 63, 64, 0x80000000, 0xffffffff };
		uint32_t k = chance(g, 60) ? v[below(g, 6)] : 32 + below(g, 0xffffffe0u);

		return mk(BPF_ALU | (chance(g, 50) ? BPF_LSH : BPF_RSH) | BPF_K, 0, 0, k);
	}
	case BPFVM_DEFECT_MEM_INDEX: {
		static const uint16_t codes[] = { BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX };
		static const uint32_t v[] = { 16, 17, 31, 32, 0xffff, 0xffffffff };
		uint32_t k = chance(g, 60) ? v[below(g, 6)] : 16 + below(g, 0xffffffefu);

		return mk(codes[below(g, 4)], 0, 0, k);
	}
	case BPFVM_DEFECT_MEM_UNINIT: {
		/* Prefer a cell written on some path but not on all. */
		uint16_t missing = (uint16_t)~valid;
		uint16_t some = (uint16_t)(missing & stored);
		uint16_t from = (some && chance(g, 70)) ? some : missing;
		uint32_t cell;

		do
			cell = below(g, BPF_MEMWORDS);
		while (!(from & (1u << cell)));
		return mk(chance(g, 50) ? (BPF_LD | BPF_MEM) : (BPF_LDX | BPF_MEM), 0, 0, cell);
	}
	case BPFVM_DEFECT_ANCILLARY:
		return mk(BPF_LD | sizes[below(g, 3)] | BPF_ABS, 0, 0, bad_ancillary(g));
	default:
		break;
	}
	return plain_insn(g);
}

void bpfvm_progen(struct bpfvm_prog *prog, enum bpfvm_defect defect,
		  const struct bpfvm_progen_opts *opts, uint64_t *rng)
{
	struct gen g = { .rng = rng };
	uint32_t max_len = opts && opts->max_len ? opts->max_len : 64;
	uint32_t n, slot;
	uint16_t slot_valid = 0, slot_stored = 0;

	g.hint = opts && opts->pkt_len_hint ? opts->pkt_len_hint : 128;
	g.ancillary = opts ? opts->ancillary : 0;
	g.negative = opts ? opts->negative_offsets : 0;
	prog->insns = NULL;
	prog->len = 0;

	if (max_len > BPFVM_MAXINSNS)
		max_len = BPFVM_MAXINSNS;
	if (defect == BPFVM_DEFECT_NONE || defect >= BPFVM_DEFECT_COUNT) {
		n = 1 + below(&g, max_len);
	} else if (defect == BPFVM_DEFECT_LENGTH) {
		if (chance(&g, 30)) {	/* no instructions at all */
			prog->insns = calloc(1, sizeof(*prog->insns));
			return;
		}
		n = BPFVM_MAXINSNS + 1 + below(&g, 64);
	} else {
		n = 2 + below(&g, max_len > 2 ? max_len - 1 : 1);
	}

	g.n = n;
	g.insns = calloc(n, sizeof(*g.insns));
	g.masks = calloc(n, sizeof(*g.masks));
	if (!g.insns || !g.masks) {
		free(g.insns);
		free(g.masks);
		return;
	}

	slot = n;	/* none */
	if (defect != BPFVM_DEFECT_NONE && defect != BPFVM_DEFECT_LENGTH &&
	    defect != BPFVM_DEFECT_NO_RET && defect < BPFVM_DEFECT_COUNT)
		slot = below(&g, n - 1);
	generate(&g, slot, &slot_valid, &slot_stored);

	if (defect == BPFVM_DEFECT_NO_RET) {
		struct bpfvm_insn in;

		/* Anything but a return or a jump (a jump there would also
		 * leave the program). */
		do
			in = chance(&g, 20) ? mk(BPF_ST, 0, 0, below(&g, BPF_MEMWORDS)) : plain_insn(&g);
		while (BPF_CLASS(in.code) == BPF_RET);
		g.insns[n - 1] = in;
	} else if (slot < n) {
		if (defect == BPFVM_DEFECT_MEM_UNINIT && slot_valid == 0xffff) {
			/* Every cell is valid here; instruction 0 never has
			 * anything written before it. */
			slot = 0;
			slot_valid = 0;
			slot_stored = 0;
		}
		g.insns[slot] = defect_insn(&g, defect, n - 1 - slot, slot_valid, slot_stored);
	}
	free(g.masks);
	prog->insns = g.insns;
	prog->len = n;
}

const char *bpfvm_defect_name(enum bpfvm_defect d)
{
	static const char *const names[BPFVM_DEFECT_COUNT] = {
		[BPFVM_DEFECT_NONE] = "none",
		[BPFVM_DEFECT_BAD_OPCODE] = "bad-opcode",
		[BPFVM_DEFECT_JUMP_RANGE] = "jump-range",
		[BPFVM_DEFECT_NO_RET] = "no-ret",
		[BPFVM_DEFECT_DIV_ZERO] = "div-zero",
		[BPFVM_DEFECT_SHIFT] = "shift",
		[BPFVM_DEFECT_MEM_INDEX] = "mem-index",
		[BPFVM_DEFECT_MEM_UNINIT] = "mem-uninit",
		[BPFVM_DEFECT_ANCILLARY] = "ancillary",
		[BPFVM_DEFECT_LENGTH] = "length",
	};

	if ((unsigned)d >= BPFVM_DEFECT_COUNT)
		return "unknown";
	return names[d];
}
