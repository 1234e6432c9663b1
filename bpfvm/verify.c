/*
 * verify.c - would the kernel (SO_ATTACH_FILTER) or libpcap
 * (bpf_validate) accept this classic BPF program?
 *
 * Linux: sk_attach_filter() -> __get_filter() -> bpf_check_basics_ok(),
 * then bpf_prepare_filter() -> bpf_check_classic() (per-instruction rules,
 * then "last is a ret", then check_load_and_stores()), then
 * bpf_migrate_filter() -> bpf_convert_filter(), which translates to eBPF
 * and can still refuse, and finally __sk_attach_prog() charges the
 * translated program to the socket's option memory.  We check in that
 * order, so of several defects we name the one the kernel meets first.
 *
 * libpcap (1.10.3): bpf_validate() in bpf_filter.c, which checks the
 * class/mode/operation fields one instruction at a time and that the last
 * instruction is of class BPF_RET.
 *
 * Each check is a linear pass over the program; the scratch-memory data
 * flow and the eBPF layout need one small array each, on the stack
 * (programs are at most BPFVM_MAXINSNS long once the length is checked).
 */
#include "bpfvm.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

/* What __sk_filter_charge() compares the translated program against:
 * net.core.optmem_max (131072 by default on 6.18, as on this machine) and
 * bpf_prog_size(), i.e. offsetof(struct bpf_prog, insns) + 8 bytes per
 * eBPF instruction.  The 96-byte header was measured on the running
 * kernel (tests/test_kernel_verify.c finds the edge again).  We model a
 * socket with no filter yet: __sk_attach_prog() charges the new program
 * before it releases the old one, so replacing a filter (libpcap first
 * attaches a one-instruction "ret #0") leaves less room. */
#define KERNEL_OPTMEM_MAX 131072u
#define KERNEL_PROG_HDR   96u
#define EBPF_OFF_MIN      (-32768L)	/* eBPF insn->off is an s16 */
#define EBPF_OFF_MAX      32767L

static int fail(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (errbuf) {
		va_start(ap, fmt);
		vsnprintf(errbuf, BPFVM_ERRBUF_SIZE, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* The kernel's per-instruction rules (bpf_check_classic). */

enum linux_rule {
	LR_NONE,	/* whitelisted, nothing more to check */
	LR_DIVK,	/* DIV/MOD #k: k != 0 */
	LR_SHIFTK,	/* LSH/RSH #k: k < 32 */
	LR_MEM,		/* LD/LDX M[k], ST, STX: k < BPF_MEMWORDS */
	LR_JA,		/* ja: target inside the program */
	LR_JCOND,	/* jeq/jgt/jge/jset: both targets inside */
	LR_LDABS,	/* ld[bhw] [k]: k >= SKF_AD_OFF must be a known extension */
};

static const uint8_t linux_rule[256] = {
	[BPF_ALU | BPF_DIV | BPF_K] = LR_DIVK,
	[BPF_ALU | BPF_MOD | BPF_K] = LR_DIVK,
	[BPF_ALU | BPF_LSH | BPF_K] = LR_SHIFTK,
	[BPF_ALU | BPF_RSH | BPF_K] = LR_SHIFTK,
	[BPF_LD | BPF_MEM] = LR_MEM,
	[BPF_LDX | BPF_MEM] = LR_MEM,
	[BPF_ST] = LR_MEM,
	[BPF_STX] = LR_MEM,
	[BPF_JMP | BPF_JA] = LR_JA,
	[BPF_JMP | BPF_JEQ | BPF_K] = LR_JCOND,
	[BPF_JMP | BPF_JEQ | BPF_X] = LR_JCOND,
	[BPF_JMP | BPF_JGT | BPF_K] = LR_JCOND,
	[BPF_JMP | BPF_JGT | BPF_X] = LR_JCOND,
	[BPF_JMP | BPF_JGE | BPF_K] = LR_JCOND,
	[BPF_JMP | BPF_JGE | BPF_X] = LR_JCOND,
	[BPF_JMP | BPF_JSET | BPF_K] = LR_JCOND,
	[BPF_JMP | BPF_JSET | BPF_X] = LR_JCOND,
	[BPF_LD | BPF_W | BPF_ABS] = LR_LDABS,
	[BPF_LD | BPF_H | BPF_ABS] = LR_LDABS,
	[BPF_LD | BPF_B | BPF_ABS] = LR_LDABS,
};

/* Why a code is not in chk_code_allowed()'s whitelist, for the message. */
static const char *bad_code_hint(uint16_t code)
{
	if (code > 0xff)
		return "classic BPF opcodes are 8 bits; this one has higher bits set";
	switch (BPF_CLASS(code)) {
	case BPF_RET:
		return "the only returns are ret #k and ret a (no ret x)";
	case BPF_LDX:
		if (BPF_MODE(code) == BPF_ABS)
			return "ldx [k] exists only for seccomp filters";
		return "ldx takes #k, M[k], #len or 4*([k]&0xf) only";
	case BPF_LD:
		return "ld takes [k], [x+k], #k, M[k] or #len, with sizes b/h/w";
	case BPF_ST:
	case BPF_STX:
		return "stores take no size or mode bits";
	case BPF_ALU:
		return "not one of the ALU operations add..xor, neg";
	case BPF_JMP:
		return "not one of ja, jeq, jgt, jge, jset";
	default:
		return "only tax and txa exist in the misc class";
	}
}

static int linux_insn_rules(const struct bpfvm_insn *insns, uint32_t len, char *errbuf)
{
	for (uint32_t pc = 0; pc < len; pc++) {
		const struct bpfvm_insn *in = &insns[pc];
		uint32_t room = len - pc - 1;	/* instructions after this one */

		if (!bpfvm_opinfo(in->code)->linux_ok)
			return fail(errbuf,
				    "instruction %u: opcode 0x%02x is not one the kernel accepts (%s)",
				    pc, in->code, bad_code_hint(in->code));
		switch (linux_rule[in->code]) {
		case LR_DIVK:
			if (in->k == 0)
				return fail(errbuf,
					    "instruction %u: %s by constant 0 (the kernel rejects DIV/MOD #0)",
					    pc, BPF_OP(in->code) == BPF_DIV ? "division" : "modulo");
			break;
		case LR_SHIFTK:
			if (in->k >= 32)
				return fail(errbuf,
					    "instruction %u: shift by constant %u (the kernel rejects LSH/RSH #k with k >= 32)",
					    pc, in->k);
			break;
		case LR_MEM:
			if (in->k >= BPF_MEMWORDS)
				return fail(errbuf,
					    "instruction %u: scratch cell M[%u] does not exist (only M[0]..M[15])",
					    pc, in->k);
			break;
		case LR_JA:
			/* bpf_check_classic() compares k >= flen - pc - 1,
			 * unsigned: the target pc + 1 + k must be an
			 * instruction, and k never wraps backwards. */
			if (in->k >= room)
				return fail(errbuf,
					    "instruction %u: ja +%u lands on %llu, past the last instruction %u%s",
					    pc, in->k, (unsigned long long)pc + 1 + in->k, len - 1,
					    (int32_t)in->k < 0 ? " (the kernel never jumps backwards)" : "");
			break;
		case LR_JCOND:
			if (in->jt >= room || in->jf >= room)
				return fail(errbuf,
					    "instruction %u: conditional jump to %u, past the last instruction %u",
					    pc, pc + 1 + (in->jt >= room ? in->jt : in->jf), len - 1);
			break;
		case LR_LDABS:
			if (in->k >= (uint32_t)SKF_AD_OFF && !bpfvm_is_ancillary(in->k))
				return fail(errbuf,
					    "instruction %u: offset SKF_AD_OFF%+d is not an ancillary field the kernel knows (bpf_anc_helper)",
					    pc, (int)(in->k - (uint32_t)SKF_AD_OFF));
			break;
		default:
			break;
		}
	}
	return 0;
}

/*
 * check_load_and_stores(): the scratch cells are not cleared per packet,
 * so the kernel proves every read follows a write.  Its analysis is a
 * single forward walk, and we keep its exact shape rather than an ideal
 * data flow:
 *  - the valid set entering pc is the running set AND the set every jump
 *    to pc recorded (masks[pc], all ones if nothing jumps there);
 *  - after any jump the running set becomes all ones, so the instruction
 *    after a jump is judged only by the jumps that target it;
 *  - a ret does NOT reset the set: the instruction after a ret inherits
 *    the state before the ret, though no path goes from one to the other;
 *  - unreachable instructions are checked like any other.
 */
static int linux_scratch_flow(const struct bpfvm_insn *insns, uint32_t len, char *errbuf)
{
	uint16_t masks[BPFVM_MAXINSNS];
	uint16_t valid = 0;

	for (uint32_t pc = 0; pc < len; pc++)
		masks[pc] = 0xffff;
	for (uint32_t pc = 0; pc < len; pc++) {
		const struct bpfvm_insn *in = &insns[pc];

		valid &= masks[pc];
		switch (in->code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1u << in->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(valid & (1u << in->k)))
				return fail(errbuf,
					    "instruction %u reads M[%u], but on some path no instruction has written M[%u] yet",
					    pc, in->k, in->k);
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + in->k] &= valid;
			valid = 0xffff;
			break;
		default:
			if (linux_rule[in->code] == LR_JCOND) {
				masks[pc + 1 + in->jt] &= valid;
				masks[pc + 1 + in->jf] &= valid;
				valid = 0xffff;
			}
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* bpf_convert_filter(): the eBPF layout of an accepted classic program. */

/* eBPF instructions convert_bpf_ld_abs() emits for a packet load of
 * @size bytes at k (or x + k when @ind) on x86-64, where unaligned loads
 * are cheap: an inline fast path for ld [k] with k >= 0 (the offset
 * needs two more instructions when it does not fit the s16 insn->off),
 * then the helper call every load has, and the "return 0 if it failed". */
static uint32_t ld_abs_size(uint32_t k, int size, int ind)
{
	uint32_t n = 3 + 1 + 1 + 3;	/* 3 arg moves, arg4, call, jsge/xor/exit */

	if (ind && k)
		n++;			/* arg4 += k */
	if (!ind && (int32_t)k >= 0)
		n += 1 + (k != 0) + 1 + ((int32_t)k <= 32767 ? 1 : 3) + (size != BPF_B) + 1;
	return n;
}

/* convert_bpf_extensions(): how many eBPF instructions each ancillary load
 * becomes (6.18, x86-64). */
static uint32_t ancillary_size(uint32_t k)
{
	switch ((int32_t)(k - (uint32_t)SKF_AD_OFF)) {
	case SKF_AD_PROTOCOL:
	case SKF_AD_PKTTYPE:
	case SKF_AD_VLAN_TPID:
		return 2;
	case SKF_AD_VLAN_TAG_PRESENT:
		return 3;
	case SKF_AD_IFINDEX:
	case SKF_AD_HATYPE:
	case SKF_AD_PAY_OFFSET:
	case SKF_AD_NLATTR:
	case SKF_AD_NLATTR_NEST:
	case SKF_AD_CPU:
	case SKF_AD_RANDOM:
		return 4;
	default:		/* mark, queue, rxhash, vlan_tci, xor x */
		return 1;
	}
}

/* The eBPF size of one classic instruction; *@seen_ld_abs is set when it
 * needs the cached skb->data/headlen prologue. */
static uint32_t ebpf_size(const struct bpfvm_insn *in, int *seen_ld_abs)
{
	int size = BPF_SIZE(in->code);

	switch (in->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		if (bpfvm_is_ancillary(in->k))
			return ancillary_size(in->k);
		*seen_ld_abs = 1;
		return ld_abs_size(in->k, size, 0);
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		*seen_ld_abs = 1;
		return ld_abs_size(in->k, size, 1);
	case BPF_LDX | BPF_MSH | BPF_B:
		/* x = a; the byte load; and/lsh; three moves to swap back */
		*seen_ld_abs = 1;
		return 1 + ld_abs_size(in->k, BPF_B, 0) + 5;
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
		return 5;	/* "return 0 if x == 0" (4 insns) in front of the op */
	case BPF_RET | BPF_K:
		return 2;
	default:
		if (linux_rule[in->code] == LR_JCOND) {
			int neg = BPF_SRC(in->code) == BPF_K && (int32_t)in->k < 0;
			int one = in->jf == 0 || (in->jt == 0 && BPF_OP(in->code) != BPF_JSET);

			return (uint32_t)neg + (one ? 1 : 2);
		}
		return 1;
	}
}

/* One jump the translation emits: from eBPF slot addrs[pc] + idx to the
 * start of classic instruction @target.  bpf_convert_filter() runs twice
 * over the program with the real buffer; on the first run the addresses
 * of later instructions are still 0, so a forward jump computes the
 * offset -(addrs[pc] + 1 + idx), and that too must fit in an s16.  Jumps
 * sitting past eBPF slot 32767 are refused even if they skip nothing. */
static int ebpf_jump_ok(const uint32_t *addrs, uint32_t pc, uint32_t idx, uint32_t target,
			char *errbuf)
{
	long first = -(long)addrs[pc] - 1 - (long)idx;
	long second = (long)addrs[target] - (long)addrs[pc] - 1 - (long)idx;

	if (first < EBPF_OFF_MIN)
		return fail(errbuf,
			    "instruction %u: after translation to eBPF this jump sits at eBPF instruction %u, too far for the kernel's bpf_convert_filter (limit 32768)",
			    pc, addrs[pc] + idx);
	if (second > EBPF_OFF_MAX)
		return fail(errbuf,
			    "instruction %u: after translation to eBPF this jump spans %ld instructions, more than an eBPF jump offset holds (32767)",
			    pc, second);
	return 0;
}

static int linux_translation(const struct bpfvm_insn *insns, uint32_t len, char *errbuf)
{
	uint32_t addrs[BPFVM_MAXINSNS];
	uint32_t at = 0, base, total;
	int seen_ld_abs = 0;

	for (uint32_t pc = 0; pc < len; pc++) {
		addrs[pc] = at;
		at += ebpf_size(&insns[pc], &seen_ld_abs);
	}
	/* Prologue: clear A and X, keep the context pointer; with packet
	 * loads also cache skb->data and the linear length (4 more). */
	base = 3 + (seen_ld_abs ? 4 : 0);
	for (uint32_t pc = 0; pc < len; pc++)
		addrs[pc] += base;
	total = at + base;

	for (uint32_t pc = 0; pc < len; pc++) {
		const struct bpfvm_insn *in = &insns[pc];

		if (in->code == (BPF_JMP | BPF_JA)) {
			if (ebpf_jump_ok(addrs, pc, 0, pc + 1 + in->k, errbuf))
				return -1;
		} else if (linux_rule[in->code] == LR_JCOND) {
			uint32_t idx = BPF_SRC(in->code) == BPF_K && (int32_t)in->k < 0;

			if (in->jf == 0) {
				if (ebpf_jump_ok(addrs, pc, idx, pc + 1 + in->jt, errbuf))
					return -1;
			} else if (in->jt == 0 && BPF_OP(in->code) != BPF_JSET) {
				if (ebpf_jump_ok(addrs, pc, idx, pc + 1 + in->jf, errbuf))
					return -1;
			} else if (ebpf_jump_ok(addrs, pc, idx, pc + 1 + in->jt, errbuf) ||
				   ebpf_jump_ok(addrs, pc, idx + 1, pc + 1 + in->jf, errbuf)) {
				return -1;
			}
		}
	}

	/* __sk_filter_charge(): the socket pays for the translated program
	 * out of net.core.optmem_max, and setsockopt fails with ENOMEM. */
	if (KERNEL_PROG_HDR + 8ull * total >= KERNEL_OPTMEM_MAX)
		return fail(errbuf,
			    "the kernel translates this program into %u eBPF instructions (%u bytes), more than a socket may hold under net.core.optmem_max=%u: ENOMEM",
			    total, KERNEL_PROG_HDR + 8u * total, KERNEL_OPTMEM_MAX);
	return 0;
}

static int verify_linux(const struct bpfvm_insn *insns, uint32_t len, char *errbuf)
{
	uint16_t last;

	/* bpf_check_basics_ok() */
	if (len == 0 || !insns)
		return fail(errbuf, "the program is empty; the kernel needs 1 to %d instructions",
			    BPFVM_MAXINSNS);
	if (len > BPFVM_MAXINSNS)
		return fail(errbuf,
			    "the program has %u instructions; the kernel accepts at most %d (BPF_MAXINSNS)",
			    len, BPFVM_MAXINSNS);
	if (linux_insn_rules(insns, len, errbuf))
		return -1;
	last = insns[len - 1].code;
	if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A))
		return fail(errbuf,
			    "instruction %u: the last instruction must be ret #k or ret a, so no path runs off the end",
			    len - 1);
	if (linux_scratch_flow(insns, len, errbuf))
		return -1;
	return linux_translation(insns, len, errbuf);
}

/* ------------------------------------------------------------------ */
/* libpcap 1.10.3: bpf_validate() (bpf_filter.c). */

/*
 * bpf_validate() looks only at the class, mode and operation fields
 * (BPF_CLASS, BPF_MODE, BPF_OP masks), so it accepts codes whose other
 * bits are set - sizes on loads that take none, BPF_X on neg, the high
 * byte of the 16-bit code, ret x - which bpf_filter() has no case for
 * (1.10.3's bpf_filter() calls abort() on them).  It has no length limit
 * in user space, and it computes a ja's target in 32-bit unsigned
 * arithmetic, so k = 0xffffffff (a jump to itself) and other "negative"
 * k that wrap into the program are accepted: libpcap uses backward ja
 * for "protochain".  Shift amounts are not checked.
 */
static int verify_libpcap(const struct bpfvm_insn *insns, uint32_t len, char *errbuf)
{
	/* bpf_validate() takes an int length. */
	if (len == 0 || len > INT_MAX || !insns)
		return fail(errbuf, "the program is empty (libpcap's bpf_validate needs at least 1 instruction)");

	for (uint32_t pc = 0; pc < len; pc++) {
		const struct bpfvm_insn *in = &insns[pc];
		uint32_t from = pc + 1;

		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
		case BPF_LDX:
			switch (BPF_MODE(in->code)) {
			case BPF_IMM:
			case BPF_ABS:
			case BPF_IND:
			case BPF_MSH:
			case BPF_LEN:
				break;
			case BPF_MEM:
				if (in->k >= BPF_MEMWORDS)
					return fail(errbuf,
						    "instruction %u: scratch cell M[%u] does not exist (only M[0]..M[15])",
						    pc, in->k);
				break;
			default:
				return fail(errbuf,
					    "instruction %u: opcode 0x%02x has an addressing mode libpcap does not know",
					    pc, in->code);
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				return fail(errbuf,
					    "instruction %u: scratch cell M[%u] does not exist (only M[0]..M[15])",
					    pc, in->k);
			break;
		case BPF_ALU:
			switch (BPF_OP(in->code)) {
			case BPF_ADD:
			case BPF_SUB:
			case BPF_MUL:
			case BPF_OR:
			case BPF_AND:
			case BPF_XOR:
			case BPF_LSH:
			case BPF_RSH:
			case BPF_NEG:
				break;
			case BPF_DIV:
			case BPF_MOD:
				if (BPF_SRC(in->code) == BPF_K && in->k == 0)
					return fail(errbuf,
						    "instruction %u: %s by constant 0 (libpcap rejects DIV/MOD #0)",
						    pc, BPF_OP(in->code) == BPF_DIV ? "division" : "modulo");
				break;
			default:
				return fail(errbuf,
					    "instruction %u: opcode 0x%02x is not an ALU operation libpcap knows",
					    pc, in->code);
			}
			break;
		case BPF_JMP:
			switch (BPF_OP(in->code)) {
			case BPF_JA:
				/* from + k wraps modulo 2^32, as in libpcap */
				if ((uint32_t)(from + in->k) >= len)
					return fail(errbuf,
						    "instruction %u: ja +%u lands past the last instruction %u",
						    pc, in->k, len - 1);
				break;
			case BPF_JEQ:
			case BPF_JGT:
			case BPF_JGE:
			case BPF_JSET:
				if (from + in->jt >= len || from + in->jf >= len)
					return fail(errbuf,
						    "instruction %u: conditional jump to %u, past the last instruction %u",
						    pc, from + (from + in->jt >= len ? in->jt : in->jf), len - 1);
				break;
			default:
				return fail(errbuf,
					    "instruction %u: opcode 0x%02x is not a jump libpcap knows",
					    pc, in->code);
			}
			break;
		default:	/* BPF_RET, BPF_MISC: any code of the class */
			break;
		}
	}
	if (BPF_CLASS(insns[len - 1].code) != BPF_RET)
		return fail(errbuf,
			    "instruction %u: the last instruction must be a return (libpcap's bpf_validate)",
			    len - 1);
	return 0;
}

int bpfvm_verify(const struct bpfvm_prog *prog, enum bpfvm_semantics sem, char *errbuf)
{
	const struct bpfvm_insn *insns = prog ? prog->insns : NULL;
	uint32_t len = prog ? prog->len : 0;

	if (errbuf)
		errbuf[0] = '\0';
	if (sem == BPFVM_LIBPCAP)
		return verify_libpcap(insns, len, errbuf);
	return verify_linux(insns, len, errbuf);
}
