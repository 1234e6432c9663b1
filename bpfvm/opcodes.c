/*
 * opcodes.c - the one opcode table.
 *
 * The kernel whitelists classic opcodes in chk_code_allowed()
 * (net/core/filter.c); this table carries the same set, plus what the
 * disassembler, the assembler and the fuzzers need to know about each.
 * libpcap's bpf_filter() (bpf_filter.c) switches on the same exact codes
 * and aborts on any other, so the one set serves both; its bpf_validate()
 * checks class and mode fields only and accepts far more (see verify.c).
 */
#include "bpfvm.h"

#include <stdlib.h>
#include <string.h>

#define BOTH(c, m, opnd, sz) [c] = { .mnemonic = (m), .operand = (opnd), .size = (sz), .linux_ok = 1 }

static const struct bpfvm_opinfo optab[256] = {
	/* Loads into A. */
	BOTH(BPF_LD | BPF_W | BPF_ABS, "ld", BPFVM_OPND_ABS, 4),
	BOTH(BPF_LD | BPF_H | BPF_ABS, "ldh", BPFVM_OPND_ABS, 2),
	BOTH(BPF_LD | BPF_B | BPF_ABS, "ldb", BPFVM_OPND_ABS, 1),
	BOTH(BPF_LD | BPF_W | BPF_IND, "ld", BPFVM_OPND_IND, 4),
	BOTH(BPF_LD | BPF_H | BPF_IND, "ldh", BPFVM_OPND_IND, 2),
	BOTH(BPF_LD | BPF_B | BPF_IND, "ldb", BPFVM_OPND_IND, 1),
	BOTH(BPF_LD | BPF_W | BPF_LEN, "ld", BPFVM_OPND_LEN, 0),
	BOTH(BPF_LD | BPF_IMM, "ld", BPFVM_OPND_IMM, 0),
	BOTH(BPF_LD | BPF_MEM, "ld", BPFVM_OPND_MEM, 0),
	/* Loads into X. */
	BOTH(BPF_LDX | BPF_W | BPF_IMM, "ldx", BPFVM_OPND_IMM, 0),
	BOTH(BPF_LDX | BPF_W | BPF_MEM, "ldx", BPFVM_OPND_MEM, 0),
	BOTH(BPF_LDX | BPF_W | BPF_LEN, "ldx", BPFVM_OPND_LEN, 0),
	BOTH(BPF_LDX | BPF_B | BPF_MSH, "ldxb", BPFVM_OPND_MSH, 1),
	/* Stores. */
	BOTH(BPF_ST, "st", BPFVM_OPND_MEM, 0),
	BOTH(BPF_STX, "stx", BPFVM_OPND_MEM, 0),
	/* 32-bit ALU on A. */
	BOTH(BPF_ALU | BPF_ADD | BPF_K, "add", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_ADD | BPF_X, "add", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_SUB | BPF_K, "sub", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_SUB | BPF_X, "sub", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_MUL | BPF_K, "mul", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_MUL | BPF_X, "mul", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_DIV | BPF_K, "div", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_DIV | BPF_X, "div", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_MOD | BPF_K, "mod", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_MOD | BPF_X, "mod", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_AND | BPF_K, "and", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_AND | BPF_X, "and", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_OR | BPF_K, "or", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_OR | BPF_X, "or", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_XOR | BPF_K, "xor", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_XOR | BPF_X, "xor", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_LSH | BPF_K, "lsh", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_LSH | BPF_X, "lsh", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_RSH | BPF_K, "rsh", BPFVM_OPND_IMM, 0),
	BOTH(BPF_ALU | BPF_RSH | BPF_X, "rsh", BPFVM_OPND_X, 0),
	BOTH(BPF_ALU | BPF_NEG, "neg", BPFVM_OPND_NONE, 0),
	/* Jumps. */
	BOTH(BPF_JMP | BPF_JA, "ja", BPFVM_OPND_JA, 0),
	BOTH(BPF_JMP | BPF_JEQ | BPF_K, "jeq", BPFVM_OPND_IMM, 0),
	BOTH(BPF_JMP | BPF_JEQ | BPF_X, "jeq", BPFVM_OPND_X, 0),
	BOTH(BPF_JMP | BPF_JGT | BPF_K, "jgt", BPFVM_OPND_IMM, 0),
	BOTH(BPF_JMP | BPF_JGT | BPF_X, "jgt", BPFVM_OPND_X, 0),
	BOTH(BPF_JMP | BPF_JGE | BPF_K, "jge", BPFVM_OPND_IMM, 0),
	BOTH(BPF_JMP | BPF_JGE | BPF_X, "jge", BPFVM_OPND_X, 0),
	BOTH(BPF_JMP | BPF_JSET | BPF_K, "jset", BPFVM_OPND_IMM, 0),
	BOTH(BPF_JMP | BPF_JSET | BPF_X, "jset", BPFVM_OPND_X, 0),
	/* Returns: the kernel has no RET X (libpcap's bpf_filter has none either). */
	BOTH(BPF_RET | BPF_K, "ret", BPFVM_OPND_IMM, 0),
	BOTH(BPF_RET | BPF_A, "ret", BPFVM_OPND_A, 0),
	/* Register moves. */
	BOTH(BPF_MISC | BPF_TAX, "tax", BPFVM_OPND_NONE, 0),
	BOTH(BPF_MISC | BPF_TXA, "txa", BPFVM_OPND_NONE, 0),
};

static const struct bpfvm_opinfo no_such_op;

const struct bpfvm_opinfo *bpfvm_opinfo(uint16_t code)
{
	return code < 256 ? &optab[code] : &no_such_op;
}

size_t bpfvm_linux_codes(const uint16_t **codes)
{
	static uint16_t list[256];
	static size_t n;

	if (n == 0)
		for (unsigned c = 0; c < 256; c++)
			if (optab[c].linux_ok)
				list[n++] = (uint16_t)c;
	*codes = list;
	return n;
}

/* bpf_asm's names for the SKF_AD_* offsets (tools/bpf/bpf_exp.l). */
static const char *const ancillary[SKF_AD_MAX / 4] = {
	[SKF_AD_PROTOCOL / 4] = "proto",
	[SKF_AD_PKTTYPE / 4] = "type",
	[SKF_AD_IFINDEX / 4] = "ifidx",
	[SKF_AD_NLATTR / 4] = "nla",
	[SKF_AD_NLATTR_NEST / 4] = "nlan",
	[SKF_AD_MARK / 4] = "mark",
	[SKF_AD_QUEUE / 4] = "queue",
	[SKF_AD_HATYPE / 4] = "hatype",
	[SKF_AD_RXHASH / 4] = "rxhash",
	[SKF_AD_CPU / 4] = "cpu",
	[SKF_AD_ALU_XOR_X / 4] = NULL,	/* an operation, not a load: no name */
	[SKF_AD_VLAN_TAG / 4] = "vlan_tci",
	[SKF_AD_VLAN_TAG_PRESENT / 4] = "vlan_avail",
	[SKF_AD_PAY_OFFSET / 4] = "poff",
	[SKF_AD_RANDOM / 4] = "rand",
	[SKF_AD_VLAN_TPID / 4] = "vlan_tpid",
};

int bpfvm_is_ancillary(uint32_t k)
{
	uint32_t off = k - (uint32_t)SKF_AD_OFF;

	return k >= (uint32_t)SKF_AD_OFF && off < SKF_AD_MAX && off % 4 == 0;
}

const char *bpfvm_ancillary_name(uint32_t skf_ad)
{
	if (skf_ad >= SKF_AD_MAX || skf_ad % 4)
		return NULL;
	return ancillary[skf_ad / 4];
}

int bpfvm_ancillary_lookup(const char *name)
{
	for (unsigned i = 0; i < SKF_AD_MAX / 4; i++)
		if (ancillary[i] && strcmp(ancillary[i], name) == 0)
			return (int)(i * 4);
	return -1;
}

int bpfvm_prog_uses_ancillary(const struct bpfvm_prog *prog, uint32_t skf_ad)
{
	for (uint32_t i = 0; i < prog->len; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];

		if (bpfvm_opinfo(in->code)->operand == BPFVM_OPND_ABS &&
		    BPF_CLASS(in->code) == BPF_LD && in->k == (uint32_t)SKF_AD_OFF + skf_ad)
			return 1;
	}
	return 0;
}

void bpfvm_prog_free(struct bpfvm_prog *prog)
{
	if (!prog)
		return;
	free(prog->insns);
	prog->insns = NULL;
	prog->len = 0;
}
