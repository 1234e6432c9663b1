/*
 * interp.c - the classic BPF interpreter, with the running kernel's and the
 * installed libpcap's semantics.
 *
 * bpfvm_create() verifies a program once and decodes it into an array of
 * struct bpfvm_dinsn: a dense internal opcode, absolute jump targets, and
 * operands prepared for the semantics (a packet load with a constant offset
 * carries its end offset, so it costs one compare per packet).  The
 * per-packet loop never re-validates anything: every decision that depends
 * only on the program was taken at decode time.
 *
 * bpfvm_run() and bpfvm_run_traced() share one loop body, interp_int.h,
 * included with BPFVM_TRACED defined to 0 or 1: the stepping code vanishes
 * from bpfvm_run(), and the two can never disagree.  bpfvm_run() goes
 * through the loop decode chose: a lean loop per semantics for what
 * tcpdump compiles (no calls, no saved registers but one, no scratch
 * clearing), the full loop for the rest (see choose_loop()).  (An inline
 * function with compile-time flags would be the obvious way, but the loop
 * dispatches with GNU C computed goto through a static table of label
 * addresses, and gcc cannot copy such a function into several callers.)
 *
 * Superinstructions: a packet load followed by a conditional jump on a
 * constant (tcpdump's "ldh [12]; jeq #0x800", "ldh [x + 14]; jeq #80") is
 * decoded a second time into the load's slot as one fused instruction.
 * The jump's own slot keeps its plain form, so jumps that land on it still
 * work, and the traced run executes a fused slot as its plain load, so
 * every instruction is stepped.  A conditional jump to "ret #k" returns
 * at once (bpfvm_run() only).  With the lean loops, bpfvm_run() is more
 * than twice as fast as bpf_filter() on typical tcpdump filters (numbers
 * in interp_int.h).
 *
 * ------------------------------------------------------------------------
 * Linux semantics (what a classic filter attached with SO_ATTACH_FILTER
 * computes after net/core/filter.c bpf_convert_filter() turned it into eBPF)
 *
 *  - bpf_convert_filter() emits "A ^= A; X ^= X" as the prologue: A and X
 *    start at 0.  Scratch cells live on the eBPF stack; check_load_and_stores()
 *    guarantees no cell is read before it is written, so their start value
 *    never shows.  All ALU operations map to eBPF ALU32: 32-bit, unsigned
 *    DIV and MOD.
 *  - DIV/MOD by X: bpf_convert_filter() inserts "if X == 0 { A = 0; exit }"
 *    in front of the division: the program ends and returns 0.
 *  - LSH/RSH by X: ALU32 shifts; kernel/bpf/core.c ___bpf_prog_run() masks
 *    the count with 31 (the SHT() macro), and the x86-64 JIT uses shl/shr
 *    with cl, which masks the same way: A << (X & 31).  By K, the count is
 *    below 32 (bpf_check_classic() rejects larger ones).
 *  - Packet loads (LD ABS/IND, LDX MSH): convert_bpf_ld_abs() calls
 *    bpf_skb_load_helper_8/16/32() with skb->data and the offset, which is
 *    k for ABS and MSH, and the low 32 bits of the 64-bit sum X + k for IND
 *    (BPF_ALU64_IMM ADD of the sign-extended k, passed on as an int): in
 *    short, (int32_t)(X + k).  Since Linux 6.15 (commit "bpf: support
 *    SKF_NET_OFF and SKF_LL_OFF on skb frags", replacing
 *    bpf_internal_load_pointer_neg_helper()) the helper first maps the
 *    offset with bpf_skb_load_helper_convert_offset():
 *        offset >= 0            -> offset (from skb->data)
 *        offset >= SKF_NET_OFF  -> offset - SKF_NET_OFF + skb_network_offset()
 *        offset >= SKF_LL_OFF   -> offset - SKF_LL_OFF + skb_mac_offset()
 *        below                  -> fail
 *    and then reads if headlen - offset >= size (so a negative result, the
 *    MAC header of a SOCK_DGRAM skb, reads the bytes before skb->data), else
 *    tries skb_copy_bits(), which fails past skb->len.  A failure returns
 *    -EFAULT; the converted code tests the result's sign and ends the
 *    program with A = 0, return 0.
 *    In our model the frame starts at the MAC header (@bytes), skb->data is
 *    @bytes + @data_off and skb->len = @caplen - @data_off, so every mapped
 *    offset is a position p in the frame, and the load succeeds iff
 *    0 <= p and p + size <= @caplen.  Known divergence: the helper has no
 *    lower bound, so on a real skb whose MAC header is not at the start of
 *    the linear data a negative p reads headroom bytes we do not have; here
 *    p >= 0 always holds for SKF_LL_OFF (the MAC header is byte 0) and for
 *    SKF_NET_OFF (net_off >= 0), and a p < 0 would fail - unreproducible,
 *    not modelled.  A frame shorter than @data_off is treated as an empty
 *    skb at its end.
 *  - LD ABS with k in [SKF_AD_OFF, SKF_AD_OFF + SKF_AD_MAX): an ancillary
 *    load, converted by convert_bpf_extensions(), which switches on k only:
 *    the size field (B, H or W) is ignored, exactly as bpf_anc_helper()
 *    ignores it in the verifier.  Values (struct bpfvm_meta):
 *      PROTOCOL          skb->protocol, ntohs()            (16 bits)
 *      PKTTYPE           skb->pkt_type & PKT_TYPE_MAX (7)  (convert_skb_access)
 *      IFINDEX, HATYPE   skb->dev->ifindex, dev->type (16 bits); with no
 *                        device the converted code exits returning A, which
 *                        cannot happen on a packet socket and is not modelled
 *      MARK, RXHASH      skb->mark, skb->hash (32 bits)
 *      QUEUE             skb->queue_mapping, a 16-bit field: meta->queue & 0xffff
 *      VLAN_TAG          skb->vlan_tci, the whole 16-bit TCI (PCP, DEI, VID)
 *      VLAN_TAG_PRESENT  1 if skb->vlan_all != 0 else 0 (since "net: remove
 *                        skb->vlan_present"): meta->vlan_present != 0
 *      VLAN_TPID         skb->vlan_proto, ntohs()
 *      PAY_OFFSET        bpf_skb_get_pay_offset() = skb_get_poff():
 *                        meta->pay_offset, computed by the caller
 *      CPU               raw_smp_processor_id(): meta->cpu
 *      RANDOM            bpf_user_rnd_u32(), a per-cpu prandom state: here
 *                        the high half of splitmix64 seeded with
 *                        meta->random_seed, restarted at every run (not
 *                        reproducible on a real kernel)
 *      ALU_XOR_X         not a load: A ^= X
 *      NLATTR, NLATTR_NEST  bpf_skb_get_nlattr(_nest)(skb, A, X), computed
 *                        from the packet, see anc_nlattr()
 *  - LD/LDX LEN: skb->len.  RET K/A: the u32 value; 0 means "drop".
 *
 * libpcap semantics (bpf_filter() = pcap_filter_with_aux_data(..., NULL)
 * of libpcap 1.10.3 as Debian 12 ships it for amd64)
 *
 *  - Offsets count from @bytes; loads check against @caplen (buflen) with
 *    overflow-free tests and return 0 past it; LEN is @wirelen.  There are no
 *    ancillary loads: with no aux data, k = SKF_AD_OFF + SKF_AD_VLAN_TAG(_PRESENT)
 *    returns 0, the same as any other out-of-bounds offset.  LD IND reads at
 *    X + k when X + k + size <= buflen in exact arithmetic (its three-part
 *    test is equivalent); nothing wraps.
 *  - A and X start at 0.  Scratch cells are NOT initialised: a program that
 *    reads a cell before writing it sees stack garbage (checked on the
 *    installed library).  Here cells start at 0; differential tests must
 *    skip runs that read an unwritten cell.
 *  - DIV/MOD by X == 0 return 0.  LSH/RSH by X >= 32 give A = 0 (an explicit
 *    test).  LSH/RSH by K do a plain C shift, undefined for K >= 32, which
 *    bpf_validate() accepts; gcc emits shl/shr, which mask the count to
 *    5 bits: A << (K & 31) (checked: 0x12345678 << 33 = 0x2468acf0).
 *  - DIV/MOD by K == 0: bpf_validate() rejects them; bpf_filter() would trap
 *    with SIGFPE.  Decoded here as "return 0".
 *  - bpf_validate() checks classes and modes, not whole codes, so it accepts
 *    codes bpf_filter() has no case for (e.g. 0x0e RET X, 0x09 LDX|H|IMM,
 *    0x8c NEG|X, MISC other than TAX/TXA); reaching one, bpf_filter() calls
 *    abort().  Here such an instruction ends the program with 0
 *    (BPFVM_I_ABORT); differential tests must not hand such runs to
 *    bpf_filter().
 *  - JA adds the sign-extended k: bpf_validate()'s unsigned range test lets
 *    wrapped (backward) jumps through, and libpcap's "ip6 protochain" code
 *    uses them.  libpcap 1.10.3 has no guard, so "ja -1" spins forever
 *    (libpcap's development branch now stops after 64 backward jumps,
 *    MAX_BACKWARD_JUMPS).  Here a run ends with 0
 *    after BPFVM_BACKJUMP_LIMIT backward jumps; runs that hit the limit
 *    must not be handed to bpf_filter().
 */
#include "bpfvm.h"

#include <stdlib.h>
#include <string.h>

/* Backward jumps one run may take before it is stopped (libpcap only; the
 * kernel accepts no backward jumps at all). */
#define BPFVM_BACKJUMP_LIMIT (1u << 20)

/*
 * The decoded opcodes, as an X-macro list so the enum and the dispatch
 * table in interp_int.h come from one place (a missing handler is a
 * compile error: "label used but not defined").
 *
 * Loads: _ABS has a constant offset k >= 0 from the data start and its end
 * kend = k + size precomputed; _ABSNEG (linux) a constant negative offset,
 * mapped at run time; _IND (libpcap) reads at X + k; _INDL (linux) at
 * (int32_t)(X + k).  Fused ops: load kind x jump x size, in that order.
 */
#define BPFVM_FUSED_KIND(X, K)                                         \
	X(LDW_##K##_JEQ) X(LDH_##K##_JEQ) X(LDB_##K##_JEQ)            \
	X(LDW_##K##_JGT) X(LDH_##K##_JGT) X(LDB_##K##_JGT)            \
	X(LDW_##K##_JGE) X(LDH_##K##_JGE) X(LDB_##K##_JGE)            \
	X(LDW_##K##_JSET) X(LDH_##K##_JSET) X(LDB_##K##_JSET)
#define BPFVM_IOPS(X)                                                   \
	X(RET_K) X(RET_A)                                               \
	X(LD_IMM) X(LDX_IMM) X(LD_MEM) X(LDX_MEM) X(ST) X(STX)          \
	X(LD_LEN) X(LDX_LEN) X(TAX) X(TXA)                              \
	X(ADD_K) X(SUB_K) X(MUL_K) X(DIV_K) X(MOD_K)                    \
	X(AND_K) X(OR_K) X(XOR_K) X(LSH_K) X(RSH_K) X(NEG)              \
	X(ADD_X) X(SUB_X) X(MUL_X) X(DIV_X) X(MOD_X)                    \
	X(AND_X) X(OR_X) X(XOR_X)                                       \
	X(LSH_XMASK) X(RSH_XMASK) X(LSH_XZERO) X(RSH_XZERO)             \
	X(JA) X(JA_BACK)                                                \
	X(JEQ_K) X(JGT_K) X(JGE_K) X(JSET_K)                            \
	X(JEQ_X) X(JGT_X) X(JGE_X) X(JSET_X)                            \
	X(LDW_ABS) X(LDH_ABS) X(LDB_ABS) X(MSH)                         \
	X(LDW_ABSNEG) X(LDH_ABSNEG) X(LDB_ABSNEG) X(MSH_NEG)            \
	X(LDW_IND) X(LDH_IND) X(LDB_IND)                                \
	X(LDW_INDL) X(LDH_INDL) X(LDB_INDL)                             \
	X(ANC) X(FAIL) X(ABORT) X(EXPORT)                               \
	BPFVM_FUSED_KIND(X, ABS)                                        \
	BPFVM_FUSED_KIND(X, IND)                                        \
	BPFVM_FUSED_KIND(X, INDL)

#define BPFVM_IOP_ENUM(name) BPFVM_I_##name,
enum bpfvm_iop { BPFVM_IOPS(BPFVM_IOP_ENUM) BPFVM_I_COUNT };
#undef BPFVM_IOP_ENUM

/*
 * One decoded instruction.  Meaning of the fields by op:
 *  - RET_K, LD_IMM, ALU _K: k is the operand (shift counts masked to 0..31);
 *  - LD/LDX MEM, ST, STX: k is the cell, < 16;
 *  - loads: k the offset, size the width, kend = k + size for _ABS and MSH;
 *  - ANC: k is the SKF_AD_* number;
 *  - jumps: next[1] is the jt target, next[0] the jf one (JA: both);
 *  - fused: the load's fields, cmp = the jump's k, next[] the jump's.
 */
struct bpfvm_dinsn {
	const void *h;		/* the op's handler in the lean loop (direct threading) */
	uint16_t op;		/* enum bpfvm_iop */
	uint8_t size;
	uint8_t pad;
	uint32_t k;
	uint32_t kend;
	uint32_t cmp;
	const struct bpfvm_dinsn *next[2];
};

struct bpfvm;
typedef uint32_t (*bpfvm_loop_fn)(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
				  const struct bpfvm_meta *meta);

struct bpfvm {
	bpfvm_loop_fn loop;		/* the loop bpfvm_run() hands a packet to */
	enum bpfvm_semantics sem;
	uint32_t len;			/* instructions, without the sentinel */
	int uses_mem;			/* some LD/LDX MEM: zero the cells per run */
	struct bpfvm_dinsn code[];	/* len + 1: a "ret #0" sentinel at the end */
};

/* ------------------------------------------------------------------ */
/* Decoding. */

/* Index of a load width in the fused-op order (W, H, B). */
static int size_index(uint8_t size)
{
	return size == 4 ? 0 : size == 2 ? 1 : 2;
}

/* LD ABS of @size bytes at k. */
static void decode_abs(struct bpfvm_dinsn *d, uint8_t size, enum bpfvm_semantics sem)
{
	static const uint16_t pos_op[3] = { BPFVM_I_LDW_ABS, BPFVM_I_LDH_ABS, BPFVM_I_LDB_ABS };
	static const uint16_t neg_op[3] = { BPFVM_I_LDW_ABSNEG, BPFVM_I_LDH_ABSNEG, BPFVM_I_LDB_ABSNEG };

	d->size = size;
	if (sem == BPFVM_LINUX) {
		if (bpfvm_is_ancillary(d->k)) {
			/* convert_bpf_extensions(): k picks the field, the
			 * size is ignored. */
			d->op = BPFVM_I_ANC;
			d->k -= (uint32_t)SKF_AD_OFF;
			d->size = 0;
		} else if ((int32_t)d->k < 0) {
			d->op = neg_op[size_index(size)];
		} else {
			d->op = pos_op[size_index(size)];
			d->kend = d->k + size;	/* k < 2^31: no overflow */
		}
		return;
	}
	if (d->k > UINT32_MAX - size) {
		d->op = BPFVM_I_FAIL;	/* past any buflen */
	} else {
		d->op = pos_op[size_index(size)];
		d->kend = d->k + size;
	}
}

/* A jump target as an index; past the end means the sentinel (only an
 * unverified program can have one). */
static uint32_t target(uint32_t pc, uint32_t off, uint32_t n)
{
	uint32_t t = pc + 1 + off;

	return t < n ? t : n;
}

/* Decode one instruction; jump targets are left as indices in @tgt
 * ([0] if false, [1] if true). */
static void decode_insn(struct bpfvm *vm, uint32_t pc, const struct bpfvm_insn *in, uint32_t tgt[2])
{
	struct bpfvm_dinsn *d = &vm->code[pc];
	const int lx = vm->sem == BPFVM_LINUX;
	const uint32_t n = vm->len;

	memset(d, 0, sizeof(*d));
	d->k = in->k;
	tgt[0] = tgt[1] = pc + 1;
	switch (in->code) {
	case BPF_RET | BPF_K: d->op = BPFVM_I_RET_K; break;
	case BPF_RET | BPF_A: d->op = BPFVM_I_RET_A; break;
	case BPF_LD | BPF_W | BPF_ABS: decode_abs(d, 4, vm->sem); break;
	case BPF_LD | BPF_H | BPF_ABS: decode_abs(d, 2, vm->sem); break;
	case BPF_LD | BPF_B | BPF_ABS: decode_abs(d, 1, vm->sem); break;
	case BPF_LD | BPF_W | BPF_IND:
		d->op = lx ? BPFVM_I_LDW_INDL : BPFVM_I_LDW_IND;
		d->size = 4;
		break;
	case BPF_LD | BPF_H | BPF_IND:
		d->op = lx ? BPFVM_I_LDH_INDL : BPFVM_I_LDH_IND;
		d->size = 2;
		break;
	case BPF_LD | BPF_B | BPF_IND:
		d->op = lx ? BPFVM_I_LDB_INDL : BPFVM_I_LDB_IND;
		d->size = 1;
		break;
	case BPF_LDX | BPF_B | BPF_MSH:
		/*
		 * bpf_convert_filter() turns MSH into convert_bpf_ld_abs() of
		 * one byte at k (never an ancillary: k >= SKF_AD_OFF is just a
		 * negative offset), then X = (A & 0xf) << 2 with A restored.
		 */
		d->size = 1;
		if (lx && (int32_t)d->k < 0) {
			d->op = BPFVM_I_MSH_NEG;
		} else if (d->k == UINT32_MAX) {
			d->op = BPFVM_I_FAIL;
		} else {
			d->op = BPFVM_I_MSH;
			d->kend = d->k + 1;
		}
		break;
	case BPF_LD | BPF_W | BPF_LEN: d->op = BPFVM_I_LD_LEN; break;
	case BPF_LDX | BPF_W | BPF_LEN: d->op = BPFVM_I_LDX_LEN; break;
	case BPF_LD | BPF_IMM: d->op = BPFVM_I_LD_IMM; break;
	case BPF_LDX | BPF_IMM: d->op = BPFVM_I_LDX_IMM; break;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		/* Both verifiers reject k >= 16; never index out of the cells. */
		if (d->k >= BPFVM_MEMWORDS) {
			d->op = BPFVM_I_FAIL;
			break;
		}
		if (in->code == (BPF_LD | BPF_MEM))
			d->op = BPFVM_I_LD_MEM;
		else if (in->code == (BPF_LDX | BPF_MEM))
			d->op = BPFVM_I_LDX_MEM;
		else
			d->op = in->code == BPF_ST ? BPFVM_I_ST : BPFVM_I_STX;
		if (d->op == BPFVM_I_LD_MEM || d->op == BPFVM_I_LDX_MEM)
			vm->uses_mem = 1;
		break;
	case BPF_MISC | BPF_TAX: d->op = BPFVM_I_TAX; break;
	case BPF_MISC | BPF_TXA: d->op = BPFVM_I_TXA; break;
	case BPF_ALU | BPF_ADD | BPF_K: d->op = BPFVM_I_ADD_K; break;
	case BPF_ALU | BPF_SUB | BPF_K: d->op = BPFVM_I_SUB_K; break;
	case BPF_ALU | BPF_MUL | BPF_K: d->op = BPFVM_I_MUL_K; break;
	/* k == 0: both verifiers reject it; bpf_filter() would trap. */
	case BPF_ALU | BPF_DIV | BPF_K: d->op = d->k ? BPFVM_I_DIV_K : BPFVM_I_FAIL; break;
	case BPF_ALU | BPF_MOD | BPF_K: d->op = d->k ? BPFVM_I_MOD_K : BPFVM_I_FAIL; break;
	case BPF_ALU | BPF_AND | BPF_K: d->op = BPFVM_I_AND_K; break;
	case BPF_ALU | BPF_OR | BPF_K: d->op = BPFVM_I_OR_K; break;
	case BPF_ALU | BPF_XOR | BPF_K: d->op = BPFVM_I_XOR_K; break;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		/* libpcap: the hardware's 5-bit mask (see the top); linux:
		 * bpf_check_classic() keeps k below 32 anyway. */
		d->op = BPF_OP(in->code) == BPF_LSH ? BPFVM_I_LSH_K : BPFVM_I_RSH_K;
		d->k &= 31;
		break;
	case BPF_ALU | BPF_NEG: d->op = BPFVM_I_NEG; break;
	case BPF_ALU | BPF_ADD | BPF_X: d->op = BPFVM_I_ADD_X; break;
	case BPF_ALU | BPF_SUB | BPF_X: d->op = BPFVM_I_SUB_X; break;
	case BPF_ALU | BPF_MUL | BPF_X: d->op = BPFVM_I_MUL_X; break;
	case BPF_ALU | BPF_DIV | BPF_X: d->op = BPFVM_I_DIV_X; break;
	case BPF_ALU | BPF_MOD | BPF_X: d->op = BPFVM_I_MOD_X; break;
	case BPF_ALU | BPF_AND | BPF_X: d->op = BPFVM_I_AND_X; break;
	case BPF_ALU | BPF_OR | BPF_X: d->op = BPFVM_I_OR_X; break;
	case BPF_ALU | BPF_XOR | BPF_X: d->op = BPFVM_I_XOR_X; break;
	case BPF_ALU | BPF_LSH | BPF_X: d->op = lx ? BPFVM_I_LSH_XMASK : BPFVM_I_LSH_XZERO; break;
	case BPF_ALU | BPF_RSH | BPF_X: d->op = lx ? BPFVM_I_RSH_XMASK : BPFVM_I_RSH_XZERO; break;
	case BPF_JMP | BPF_JA:
		/* pc + 1 + k modulo 2^32: libpcap adds the sign-extended k. */
		tgt[0] = tgt[1] = target(pc, in->k, n);
		d->op = tgt[0] <= pc ? BPFVM_I_JA_BACK : BPFVM_I_JA;
		break;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_X: {
		static const uint16_t ops[2][4] = {
			{ BPFVM_I_JEQ_K, BPFVM_I_JGT_K, BPFVM_I_JGE_K, BPFVM_I_JSET_K },
			{ BPFVM_I_JEQ_X, BPFVM_I_JGT_X, BPFVM_I_JGE_X, BPFVM_I_JSET_X },
		};
		/* BPF_JEQ 0x10, JGT 0x20, JGE 0x30, JSET 0x40 */
		d->op = ops[BPF_SRC(in->code) == BPF_X][(BPF_OP(in->code) >> 4) - 1];
		tgt[0] = target(pc, in->jf, n);
		tgt[1] = target(pc, in->jt, n);
		break;
	}
	default:
		/* Both engines whitelist the same 49 codes; anything else is
		 * rejected by bpf_check_classic() or aborts bpf_filter(). */
		d->op = BPFVM_I_ABORT;
		break;
	}
}

/* Fold "load; jxx #c" pairs into the load's slot (see the top). */
static void fuse(struct bpfvm *vm)
{
	for (uint32_t pc = 0; pc + 1 < vm->len; pc++) {
		struct bpfvm_dinsn *ld = &vm->code[pc];
		const struct bpfvm_dinsn *j = &vm->code[pc + 1];
		int kind, jmp;

		switch (ld->op) {
		case BPFVM_I_LDW_ABS:
		case BPFVM_I_LDH_ABS:
		case BPFVM_I_LDB_ABS: kind = 0; break;
		case BPFVM_I_LDW_IND:
		case BPFVM_I_LDH_IND:
		case BPFVM_I_LDB_IND: kind = 1; break;
		case BPFVM_I_LDW_INDL:
		case BPFVM_I_LDH_INDL:
		case BPFVM_I_LDB_INDL: kind = 2; break;
		default: continue;
		}
		switch (j->op) {
		case BPFVM_I_JEQ_K: jmp = 0; break;
		case BPFVM_I_JGT_K: jmp = 1; break;
		case BPFVM_I_JGE_K: jmp = 2; break;
		case BPFVM_I_JSET_K: jmp = 3; break;
		default: continue;
		}
		ld->op = (uint16_t)(BPFVM_I_LDW_ABS_JEQ + kind * 12 + jmp * 3 + size_index(ld->size));
		ld->cmp = j->k;
		ld->next[0] = j->next[0];
		ld->next[1] = j->next[1];
	}
}

static bpfvm_loop_fn choose_loop(struct bpfvm *vm);

int bpfvm_create(struct bpfvm **vmp, const struct bpfvm_prog *prog,
		 enum bpfvm_semantics sem, char *errbuf)
{
	char localbuf[BPFVM_ERRBUF_SIZE];
	struct bpfvm *vm;

	*vmp = NULL;
	if (!errbuf)
		errbuf = localbuf;
	if (bpfvm_verify(prog, sem, errbuf) != 0)
		return -1;
	vm = calloc(1, sizeof(*vm) + ((size_t)prog->len + 1) * sizeof(vm->code[0]));
	if (!vm) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "bpfvm_create: out of memory decoding %u instructions", prog->len);
		return -1;
	}
	vm->sem = sem;
	vm->len = prog->len;
	for (uint32_t pc = 0; pc < prog->len; pc++) {
		uint32_t tgt[2];

		decode_insn(vm, pc, &prog->insns[pc], tgt);
		vm->code[pc].next[0] = &vm->code[tgt[0]];
		vm->code[pc].next[1] = &vm->code[tgt[1]];
	}
	vm->code[prog->len].op = BPFVM_I_RET_K;	/* the sentinel: ret #0 */
	fuse(vm);
	vm->loop = choose_loop(vm);
	*vmp = vm;
	return 0;
}

void bpfvm_destroy(struct bpfvm *vm)
{
	free(vm);
}

enum bpfvm_semantics bpfvm_get_semantics(const struct bpfvm *vm)
{
	return vm->sem;
}

/* ------------------------------------------------------------------ */
/* Helpers of the loop. */

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Netlink attribute headers are in host byte order: little-endian on the
 * x86-64 machines this models. */
static inline uint32_t rd16le(const uint8_t *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

/* skb->data and skb->len of a linux run: a frame shorter than data_off is
 * an empty skb at its end. */
static inline uint32_t skb_data_off(const struct bpfvm_packet *pkt)
{
	return pkt->data_off < pkt->caplen ? pkt->data_off : pkt->caplen;
}

/* linux_load()'s "the helper returned -EFAULT". */
#define BPFVM_LOAD_FAILED UINT64_MAX

/*
 * bpf_skb_load_helper_8/16/32() after bpf_skb_load_helper_convert_offset()
 * (net/core/filter.c), on a linear skb: map @off to a frame position, then
 * require position + size <= caplen (that is offset + size <= skb->len).
 * Returns the big-endian value, or BPFVM_LOAD_FAILED (the helper's
 * -EFAULT).  The loop inlines the common case, off >= 0; the result comes
 * back by value so A never has its address taken (and stays in a register).
 */
static inline __attribute__((always_inline)) uint64_t
linux_load_inline(const struct bpfvm_packet *pkt, int32_t off, uint32_t size)
{
	int64_t pos;

	if (bpfvm_linux_load_pos(pkt, off, &pos) == BPFVM_BASE_NONE)
		return BPFVM_LOAD_FAILED;
	/* pos < 0 would be headroom before the MAC header: unreproducible. */
	if (pos < 0 || pos + size > pkt->caplen)
		return BPFVM_LOAD_FAILED;
	switch (size) {
	case 4: return rd32(pkt->bytes + pos);
	case 2: return rd16(pkt->bytes + pos);
	default: return pkt->bytes[pos];
	}
}

/*
 * @pkt, hidden from the optimiser: a lean loop reads packet fields through
 * it in rare handlers only, and gcc would otherwise load them all once at
 * the start and hold them in registers the loop needs.
 */
static inline const struct bpfvm_packet *opaque_pkt(const struct bpfvm_packet *pkt)
{
	__asm__("" : "+r"(pkt));
	return pkt;
}

/* The same as a call, for the full loop, which spends its registers on
 * more than the lean loops do. */
static __attribute__((noinline)) uint64_t linux_load(const struct bpfvm_packet *pkt, int32_t off,
						     uint32_t size)
{
	return linux_load_inline(pkt, off, size);
}

/*
 * bpf_skb_get_nlattr() / bpf_skb_get_nlattr_nest() (net/core/filter.c) with
 * nla_find() / nla_find_nested() (lib/nlattr.c) on a linear skb of @len bytes
 * at @data.  A is the offset of the attribute stream (_nest: of the parent
 * attribute), X the type wanted.  Returns the offset of the first attribute
 * of that type, or 0.
 *  - skb->len < 4, or A > skb->len - 4: 0.
 *  - _nest: the parent's nla_len must not exceed skb->len - A; the search
 *    covers its payload, nla_len - 4 bytes (negative: nothing).
 *  - The walk (nla_for_each_attr / nla_ok): while remaining >= 4, the
 *    attribute's nla_len must be >= 4 and <= remaining; a match compares
 *    nla_type & NLA_TYPE_MASK (0x3fff) with X; the next attribute is
 *    NLA_ALIGN(nla_len) further (4-byte alignment), remaining shrinks by
 *    the same.
 */
static uint32_t anc_nlattr(const uint8_t *data, uint32_t len, uint32_t a, uint32_t x, int nest)
{
	uint64_t pos = a;
	int64_t rem;

	if (len < 4 || a > len - 4)
		return 0;
	if (nest) {
		uint32_t nla_len = rd16le(data + a);

		if (nla_len > len - a)
			return 0;
		pos = (uint64_t)a + 4;
		rem = (int64_t)nla_len - 4;
	} else {
		rem = (int64_t)len - a;
	}
	/* pos + rem never exceeds len, so every header read is in bounds. */
	while (rem >= 4) {
		uint32_t nla_len = rd16le(data + pos);
		uint32_t nla_type = rd16le(data + pos + 2);
		uint32_t totlen;

		if (nla_len < 4 || nla_len > rem)
			break;
		if ((nla_type & 0x3fff) == x)
			return (uint32_t)pos;
		totlen = (nla_len + 3) & ~3u;
		rem -= totlen;
		pos += totlen;
	}
	return 0;
}

static const struct bpfvm_meta no_meta;

/* convert_bpf_extensions() (see the top): the value an ancillary load
 * @which (SKF_AD_*) that reads only sk_buff fields leaves in A; the lean
 * loops inline it.  RANDOM and NLATTR(_NEST) go to anc_load(). */
static inline __attribute__((always_inline)) uint32_t
anc_field(uint32_t which, uint32_t A, uint32_t X, const struct bpfvm_meta *meta)
{
	if (!meta)
		meta = &no_meta;
	switch (which) {
	case SKF_AD_PROTOCOL: return meta->protocol;
	case SKF_AD_PKTTYPE: return meta->pkt_type & 7u;
	case SKF_AD_IFINDEX: return meta->ifindex;
	case SKF_AD_MARK: return meta->mark;
	case SKF_AD_QUEUE: return meta->queue & 0xffffu;
	case SKF_AD_HATYPE: return meta->hatype;
	case SKF_AD_RXHASH: return meta->rxhash;
	case SKF_AD_CPU: return meta->cpu;
	case SKF_AD_ALU_XOR_X: return A ^ X;
	case SKF_AD_VLAN_TAG: return meta->vlan_tci;
	case SKF_AD_VLAN_TAG_PRESENT: return meta->vlan_present != 0;
	case SKF_AD_VLAN_TPID: return meta->vlan_tpid;
	case SKF_AD_PAY_OFFSET: return meta->pay_offset;
	}
	return A;	/* not reached: the callers admit only the list above */
}

/* Is @which one anc_field() computes? */
static int anc_is_field(uint32_t which)
{
	return which != SKF_AD_RANDOM && which != SKF_AD_NLATTR && which != SKF_AD_NLATTR_NEST;
}

/* Any ancillary load (see the top): the value it leaves in A. */
static uint32_t anc_load(uint32_t which, uint32_t A, uint32_t X, const struct bpfvm_packet *pkt,
			 const struct bpfvm_meta *meta, uint32_t *draws)
{
	uint32_t off = skb_data_off(pkt);

	if (!meta)
		meta = &no_meta;
	switch (which) {
	case SKF_AD_RANDOM: {
		/* The n-th draw of the run: splitmix64 seeded with
		 * random_seed, advanced n times (its state is a counter). */
		uint64_t state = meta->random_seed + (uint64_t)(*draws)++ * 0x9e3779b97f4a7c15ULL;

		return (uint32_t)(bpfvm_rand64(&state) >> 32);
	}
	case SKF_AD_NLATTR:
		return anc_nlattr(pkt->bytes + off, pkt->caplen - off, A, X, 0);
	case SKF_AD_NLATTR_NEST:
		return anc_nlattr(pkt->bytes + off, pkt->caplen - off, A, X, 1);
	}
	return anc_field(which, A, X, meta);
}

/* ------------------------------------------------------------------ */
/* The loops: one body, see interp_int.h. */

/*
 * The lean loops' dispatch tables, [0] libpcap, [1] linux.  A label's
 * address exists only inside its function, so each lean loop hands its
 * table out when run on the one-instruction program "EXPORT"; decode then
 * stores each instruction's handler in it (direct threading: one load
 * less per instruction, and one register less, than indexing the table).
 */
static const void *const *lean_tables[2];

/* The full loop: any program, either semantics. */
static __attribute__((noinline)) uint32_t run_full(const struct bpfvm *vm,
						   const struct bpfvm_packet *pkt,
						   const struct bpfvm_meta *meta)
{
	const bpfvm_step_fn fn = NULL;
	void *const ctx = NULL;

#define BPFVM_TRACED 0
#define BPFVM_LEAN 0
#include "interp_int.h"
#undef BPFVM_LEAN
#undef BPFVM_TRACED
}

/* The lean loops, one per semantics, for programs without RANDOM or
 * NLATTR ancillary loads, negative constant loads or backward jumps that
 * write every scratch cell before reading it (all that tcpdump compiles
 * but "ip6 protochain"). */
static __attribute__((aligned(64))) uint32_t
run_lean_libpcap(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
		 const struct bpfvm_meta *meta)
{
	const bpfvm_step_fn fn = NULL;
	void *const ctx = NULL;

#define BPFVM_TRACED 0
#define BPFVM_LEAN 1
#define BPFVM_LEAN_SEM BPFVM_LIBPCAP
#include "interp_int.h"
#undef BPFVM_LEAN_SEM
#undef BPFVM_LEAN
#undef BPFVM_TRACED
}

static __attribute__((aligned(64))) uint32_t
run_lean_linux(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
	       const struct bpfvm_meta *meta)
{
	const bpfvm_step_fn fn = NULL;
	void *const ctx = NULL;

#define BPFVM_TRACED 0
#define BPFVM_LEAN 1
#define BPFVM_LEAN_SEM BPFVM_LINUX
#include "interp_int.h"
#undef BPFVM_LEAN_SEM
#undef BPFVM_LEAN
#undef BPFVM_TRACED
}

/* Asks a lean loop for its dispatch table (see lean_tables). */
static const void *const *lean_dispatch(enum bpfvm_semantics sem)
{
	/* A packet with bytes, if none of them: the loop computes skb->data
	 * before EXPORT hands out its table, and an offset on a null
	 * pointer is undefined even when it is 0. */
	static const uint8_t nothing[1];
	static const struct bpfvm_packet none = { .bytes = nothing };
	const void *const *t = __atomic_load_n(&lean_tables[sem == BPFVM_LINUX], __ATOMIC_RELAXED);
	struct bpfvm *ask;

	if (t)
		return t;
	ask = calloc(1, sizeof(*ask) + sizeof(ask->code[0]));
	if (!ask)
		return NULL;
	ask->sem = sem;
	ask->code[0].op = BPFVM_I_EXPORT;
	(sem == BPFVM_LINUX ? run_lean_linux : run_lean_libpcap)(ask, &none, NULL);
	free(ask);
	return __atomic_load_n(&lean_tables[sem == BPFVM_LINUX], __ATOMIC_RELAXED);
}

/*
 * Does every run write a scratch cell before reading it?  Then the cells'
 * start value never shows and a lean loop need not clear them.  A forward
 * walk over the decoded code, which suffices because a program without
 * JA_BACK jumps only forward: the cells written on entry to an
 * instruction are those written on every path to it.  The kernel's
 * check_load_and_stores() proves the same for every linux program;
 * libpcap's compiler writes each cell before use, so only hand-made
 * libpcap programs can fail and run in the full loop.  -1: out of memory.
 */
static int writes_before_reads(const struct bpfvm *vm)
{
	uint16_t *in = malloc(((size_t)vm->len + 1) * sizeof(*in));
	int ok = 1;

	if (!in)
		return -1;
	in[0] = 0;
	for (uint32_t pc = 1; pc <= vm->len; pc++)
		in[pc] = 0xffff;	/* no path seen yet */
	for (uint32_t pc = 0; pc < vm->len && ok; pc++) {
		const struct bpfvm_dinsn *d = &vm->code[pc];
		uint16_t w = in[pc];

		switch (d->op) {
		case BPFVM_I_LD_MEM:
		case BPFVM_I_LDX_MEM:
			ok = (w >> d->k) & 1;
			break;
		case BPFVM_I_ST:
		case BPFVM_I_STX:
			w |= (uint16_t)(1u << d->k);
			break;
		case BPFVM_I_RET_K:
		case BPFVM_I_RET_A:
		case BPFVM_I_FAIL:
		case BPFVM_I_ABORT:
			continue;	/* no successor */
		}
		/* Every other op goes on to next[0] or next[1] (both pc + 1
		 * when it is not a jump). */
		in[d->next[0] - vm->code] &= w;
		in[d->next[1] - vm->code] &= w;
	}
	free(in);
	return ok;
}

/* Which loop runs @vm, chosen once at decode; a lean loop's handlers go
 * into the instructions. */
static bpfvm_loop_fn choose_loop(struct bpfvm *vm)
{
	const void *const *table;

	for (uint32_t pc = 0; pc < vm->len; pc++) {
		switch (vm->code[pc].op) {
		case BPFVM_I_ANC:
			if (!anc_is_field(vm->code[pc].k))
				return run_full;
			break;
		case BPFVM_I_LDW_ABSNEG:
		case BPFVM_I_LDH_ABSNEG:
		case BPFVM_I_LDB_ABSNEG:
		case BPFVM_I_MSH_NEG:
		case BPFVM_I_JA_BACK:
			return run_full;
		}
	}
	if (vm->uses_mem && writes_before_reads(vm) != 1)
		return run_full;	/* it clears the cells */
	table = lean_dispatch(vm->sem);
	if (!table)
		return run_full;	/* out of memory: slower, still right */
	for (uint32_t pc = 0; pc <= vm->len; pc++)
		vm->code[pc].h = table[vm->code[pc].op];
	return vm->sem == BPFVM_LINUX ? run_lean_linux : run_lean_libpcap;
}

/* ------------------------------------------------------------------ */
/* The entry points. */

uint32_t bpfvm_run(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
		   const struct bpfvm_meta *meta)
{
	return vm->loop(vm, pkt, meta);
}

uint32_t bpfvm_run_traced(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
			  const struct bpfvm_meta *meta, bpfvm_step_fn fn, void *ctx)
{
#define BPFVM_TRACED 1
#define BPFVM_LEAN 0
#include "interp_int.h"
#undef BPFVM_LEAN
#undef BPFVM_TRACED
}

/*
 * packet_rcv()/tpacket_rcv() keep min(skb->len, result) bytes
 * (af_packet.c: "if (snaplen > res) snaplen = res"); users of
 * pcap_offline_filter() keep min(caplen, result).
 */
uint32_t bpfvm_snaplen(const struct bpfvm *vm, const struct bpfvm_packet *pkt, uint32_t ret)
{
	uint32_t len = pkt->caplen;

	if (vm->sem == BPFVM_LINUX)
		len -= skb_data_off(pkt);
	return ret < len ? ret : len;
}
