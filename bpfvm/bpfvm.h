/*
 * bpfvm.h - the classic BPF machine: one opcode table, program formats,
 * the kernel's verifier rules, and an interpreter with two semantics.
 *
 * Data flows one way: text -> bpfvm_prog -> bpfvm_verify -> bpfvm_create
 * (decoded once) -> bpfvm_run per packet.  Nothing here prints or exits;
 * failures return a negative value and write one sentence into a caller's
 * char errbuf[BPFVM_ERRBUF_SIZE] that names the place (instruction index,
 * line:column).
 */
#ifndef CAPSIM_BPFVM_H
#define CAPSIM_BPFVM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/filter.h>	/* BPF_* opcode fields, SKF_* offsets, struct sock_filter */

#define BPFVM_MAXINSNS    4096	/* BPF_MAXINSNS: bpf_check_basics_ok() */
#define BPFVM_MEMWORDS    16	/* BPF_MEMWORDS: scratch cells M[0..15] */
#define BPFVM_ERRBUF_SIZE 256

/* One instruction, laid out exactly as the kernel's struct sock_filter and
 * libpcap's struct bpf_insn, so arrays of it can be handed to either. */
struct bpfvm_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};
_Static_assert(sizeof(struct bpfvm_insn) == sizeof(struct sock_filter),
	       "bpfvm_insn must match the kernel's sock_filter");
_Static_assert(sizeof(struct bpfvm_insn) == 8, "classic BPF insns are 8 bytes");

/* A program: a plain array the caller may build by hand.  Memory from the
 * parsers and the compiler is released with bpfvm_prog_free(). */
struct bpfvm_prog {
	struct bpfvm_insn *insns;
	uint32_t len;
};

void bpfvm_prog_free(struct bpfvm_prog *prog);

/* ------------------------------------------------------------------ */
/* The opcode table (bpfvm/opcodes.c): the one source of truth for the
 * verifier, the assembler, the disassembler and the fuzzers. */

enum bpfvm_operand {
	BPFVM_OPND_NONE,	/* tax, txa, neg, ret a */
	BPFVM_OPND_IMM,		/* #k */
	BPFVM_OPND_ABS,		/* [k] (ancillary when k >= SKF_AD_OFF) */
	BPFVM_OPND_IND,		/* [x + k] */
	BPFVM_OPND_MEM,		/* M[k] */
	BPFVM_OPND_LEN,		/* #len: the packet length */
	BPFVM_OPND_MSH,		/* 4*([k]&0xf) */
	BPFVM_OPND_X,		/* register x */
	BPFVM_OPND_A,		/* register a (ret a) */
	BPFVM_OPND_JA,		/* unconditional jump by k */
};

struct bpfvm_opinfo {
	const char *mnemonic;	/* bpf_asm/tcpdump -d spelling, NULL if no such opcode */
	uint8_t operand;	/* enum bpfvm_operand */
	uint8_t size;		/* bytes a packet load reads (1, 2, 4), else 0 */
	uint8_t linux_ok;	/* the kernel's chk_code_allowed() accepts it, and
				 * libpcap's bpf_filter() executes it (the same
				 * set; bpf_validate() accepts far more: verify.c) */
};

/* Entry for any 16-bit code; never NULL (an all-zero entry for unknown codes). */
const struct bpfvm_opinfo *bpfvm_opinfo(uint16_t code);

/* Every code accepted by the kernel, ascending; returns how many. */
size_t bpfvm_linux_codes(const uint16_t **codes);

/* 1 if @prog loads the ancillary field @skf_ad (an SKF_AD_* offset) with
 * ld/ldh/ldb [SKF_AD_OFF + @skf_ad], the only way classic BPF reads it. */
int bpfvm_prog_uses_ancillary(const struct bpfvm_prog *prog, uint32_t skf_ad);

/* 1 if the load offset @k is one of the ancillary fields the kernel's
 * bpf_anc_helper() (include/linux/filter.h) knows: SKF_AD_OFF plus a
 * multiple of 4 below SKF_AD_MAX.  Any other k at or above SKF_AD_OFF is
 * refused by the verifier. */
int bpfvm_is_ancillary(uint32_t k);

/* Ancillary loads: the name after '#' in bpf_asm (e.g. "proto" for
 * SKF_AD_PROTOCOL) for an offset in [0, SKF_AD_MAX), or NULL. */
const char *bpfvm_ancillary_name(uint32_t skf_ad);
/* Inverse of bpfvm_ancillary_name(); returns the SKF_AD_* offset or -1. */
int bpfvm_ancillary_lookup(const char *name);

/* ------------------------------------------------------------------ */
/* Program formats (bpfvm/format.c, bpfvm/asm.c). */

enum bpfvm_format {
	BPFVM_FMT_AUTO,	/* input only: detected from the text */
	BPFVM_FMT_DDD,	/* tcpdump -ddd: count line, then "code jt jf k" lines */
	BPFVM_FMT_DD,	/* tcpdump -dd: "{ 0x28, 0, 0, 0x0000000c }," lines */
	BPFVM_FMT_D,	/* tcpdump -d listing: "(000) ldh [12]" */
	BPFVM_FMT_ASM,	/* the kernel's bpf_asm language (labels, #len, #proto, ...) */
};

/* Parse @text (NUL-terminated, @name used in messages as "name:line:col").
 * On success fills @prog (owned by the caller) and returns 0; on error
 * returns -1 with the place in @errbuf.  Does not verify. */
int bpfvm_parse(const char *text, const char *name, enum bpfvm_format fmt,
		struct bpfvm_prog *prog, char *errbuf);

/* Write @prog in @fmt to @out.  Returns 0, or -1 on a write error. */
int bpfvm_write(FILE *out, const struct bpfvm_prog *prog, enum bpfvm_format fmt);

/* One instruction as tcpdump -d would print it, without the "(nnn) " index,
 * into @buf.  Returns @buf. */
char *bpfvm_disasm_insn(const struct bpfvm_insn *insn, uint32_t pc, char *buf, size_t size);

/* Name <-> enum for command-line options ("ddd", "dd", "d", "asm", "auto"). */
int bpfvm_format_from_name(const char *name, enum bpfvm_format *fmt);

/* ------------------------------------------------------------------ */
/* Semantics and the verifier (bpfvm/verify.c). */

enum bpfvm_semantics {
	BPFVM_LINUX,	/* the running kernel, after bpf_convert_filter() */
	BPFVM_LIBPCAP,	/* the installed libpcap's bpf_filter() */
};

const char *bpfvm_semantics_name(enum bpfvm_semantics sem);
int bpfvm_semantics_from_name(const char *name, enum bpfvm_semantics *sem);

/* Would SO_ATTACH_FILTER on a socket without a filter (BPFVM_LINUX:
 * bpf_check_classic(), then the eBPF translation and the socket's
 * option-memory charge) or libpcap's bpf_validate() (BPFVM_LIBPCAP) accept
 * @prog?  Returns 0 if so; otherwise -1 and a sentence naming the rule and
 * the instruction index. */
int bpfvm_verify(const struct bpfvm_prog *prog, enum bpfvm_semantics sem, char *errbuf);

/* ------------------------------------------------------------------ */
/* The interpreter (bpfvm/interp.c). */

/*
 * The packet as the filter sees it.  Wire length and captured length are
 * kept apart.  @bytes starts at the link-layer header.
 *  - libpcap: offsets count from @bytes; loads past @caplen end the program
 *    with 0; BPF_LEN is @wirelen.
 *  - linux: skb->data is @bytes + @data_off (0 for a SOCK_RAW tap, the
 *    network offset for SOCK_DGRAM); skb->len = @caplen - @data_off (the
 *    kernel holds the whole frame, so @wirelen is ignored); SKF_NET_OFF
 *    loads are relative to @net_off, SKF_LL_OFF loads to offset 0.
 */
struct bpfvm_packet {
	const uint8_t *bytes;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t data_off;
	uint32_t net_off;
};

/*
 * The sk_buff fields the kernel's ancillary loads (SKF_AD_*) read; the
 * caller fills them (sim/ builds them the way the receive path does).
 * Ignored by libpcap semantics, which has no ancillary data.
 */
struct bpfvm_meta {
	uint16_t protocol;	/* skb->protocol, host byte order (0x0800) */
	uint8_t pkt_type;	/* PACKET_HOST, PACKET_BROADCAST, ... */
	uint8_t vlan_present;	/* skb_vlan_tag_present() */
	uint16_t vlan_tci;	/* skb_vlan_tag_get(): the whole TCI */
	uint16_t vlan_tpid;	/* skb->vlan_proto, host byte order */
	uint16_t hatype;	/* dev->type, ARPHRD_ETHER = 1 */
	uint32_t ifindex;	/* skb->dev->ifindex */
	uint32_t mark;		/* skb->mark */
	uint32_t queue;		/* skb->queue_mapping */
	uint32_t rxhash;	/* skb->hash (not reproducible on a real kernel) */
	uint32_t cpu;		/* raw_smp_processor_id() (not reproducible) */
	uint32_t pay_offset;	/* skb_get_poff(): where the payload starts, from skb->data */
	uint64_t random_seed;	/* seeds SKF_AD_RANDOM (the kernel's is not reproducible) */
};

/* A program decoded for one semantics; opaque, immutable after creation. */
struct bpfvm;

/* Decode @prog for @sem.  The program must pass bpfvm_verify() for @sem;
 * if not, returns -1 with the verifier's message.  On success *@vm is owned
 * by the caller and released with bpfvm_destroy(). */
int bpfvm_create(struct bpfvm **vm, const struct bpfvm_prog *prog,
		 enum bpfvm_semantics sem, char *errbuf);
void bpfvm_destroy(struct bpfvm *vm);
enum bpfvm_semantics bpfvm_get_semantics(const struct bpfvm *vm);

/* Run once.  Returns the program's return value (0 when the program ends
 * abnormally: an out-of-bounds load, DIV/MOD by X == 0 in linux semantics).
 * @meta may be NULL in libpcap semantics. */
uint32_t bpfvm_run(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
		   const struct bpfvm_meta *meta);

/* The capture length a return value gives: min(@ret, packet length), where
 * the packet length is skb->len (linux) or @caplen (libpcap). */
uint32_t bpfvm_snaplen(const struct bpfvm *vm, const struct bpfvm_packet *pkt, uint32_t ret);

/*
 * Stepping: the same interpreter, calling @fn after every executed
 * instruction with the state it left.  Slower than bpfvm_run(); for
 * `capsim filter step`, graphs and diffs.
 */
struct bpfvm_step {
	uint32_t pc;		/* the instruction just executed */
	uint32_t a, x;		/* registers after it */
	int mem_written;	/* scratch index it wrote, or -1 */
	int32_t load_off;	/* for packet loads: the offset read (may be negative), */
	uint8_t load_size;	/*   how many bytes (0 if not a packet load), */
	uint8_t load_failed;	/*   and 1 if the load ended the program */
	uint8_t jumped;		/* conditional jumps: 1 if the jt branch was taken */
	uint8_t done;		/* 1 if this instruction ended the program */
	uint32_t ret;		/* the return value when done */
};
typedef void (*bpfvm_step_fn)(const struct bpfvm_step *st, void *ctx);
uint32_t bpfvm_run_traced(const struct bpfvm *vm, const struct bpfvm_packet *pkt,
			  const struct bpfvm_meta *meta, bpfvm_step_fn fn, void *ctx);

/* ------------------------------------------------------------------ */
/* Random programs (bpfvm/progen.c) for differential tests and fuzzing.
 * Deterministic for a seed. */

enum bpfvm_defect {
	BPFVM_DEFECT_NONE,		/* a program the kernel accepts */
	BPFVM_DEFECT_BAD_OPCODE,	/* a code not in the whitelist */
	BPFVM_DEFECT_JUMP_RANGE,	/* a jump past the end */
	BPFVM_DEFECT_NO_RET,		/* last instruction not a return */
	BPFVM_DEFECT_DIV_ZERO,		/* DIV/MOD by constant 0 */
	BPFVM_DEFECT_SHIFT,		/* shift by constant >= 32 */
	BPFVM_DEFECT_MEM_INDEX,		/* scratch index >= 16 */
	BPFVM_DEFECT_MEM_UNINIT,	/* scratch read before any write on some path */
	BPFVM_DEFECT_ANCILLARY,		/* unknown ancillary offset */
	BPFVM_DEFECT_LENGTH,		/* 0 or more than 4096 instructions */
	BPFVM_DEFECT_COUNT
};

struct bpfvm_progen_opts {
	uint32_t max_len;		/* longest program (default 64 when 0) */
	int ancillary;			/* allow SKF_AD_* loads (linux only) */
	int negative_offsets;		/* allow SKF_NET_OFF / SKF_LL_OFF loads */
	uint32_t pkt_len_hint;		/* offsets cluster below this (default 128) */
};

/* Fill @prog (caller frees) with a random program of the given defect
 * class; @rng is the generator's state, advanced. */
void bpfvm_progen(struct bpfvm_prog *prog, enum bpfvm_defect defect,
		  const struct bpfvm_progen_opts *opts, uint64_t *rng);
const char *bpfvm_defect_name(enum bpfvm_defect d);

/* splitmix64: the project's one seeded random source. */
uint64_t bpfvm_rand64(uint64_t *state);

/* All @n bytes to or from a pipe or socket, through EINTR and short
 * transfers: 0, or -1 on an error or end of file.  For the compiling
 * children (compile.c, live/fuzzcomp.c). */
int bpfvm_write_full(int fd, const void *buf, size_t n);
int bpfvm_read_full(int fd, void *buf, size_t n);

/* ------------------------------------------------------------------ */
/* Expressions compiled by libpcap (bpfvm/compile.c). */

struct bpfvm_compile_opts {
	int linktype;		/* DLT_*, default DLT_EN10MB */
	int snaplen;		/* default 262144 */
	int optimize;		/* pcap_compile's optimize flag (default 1) */
	int linux_ext;		/* compile as for a live Linux capture (libpcap's
				 * BPF_SPECIAL_VLAN_HANDLING); needs a live
				 * handle, made in a private network namespace,
				 * unless the expression cannot tell (see
				 * compile.c) */
	int always_live;	/* with linux_ext: open the live handle even when
				 * the expression cannot tell (tests) */
};

void bpfvm_compile_opts_init(struct bpfvm_compile_opts *o);
int bpfvm_compile(const char *expr, const struct bpfvm_compile_opts *o,
		  struct bpfvm_prog *prog, char *errbuf);

/* A live libpcap handle (a pcap_t) of @linktype for pcap_compile() with
 * libpcap's Linux extensions, on the loopback of a new private network
 * namespace - into which it moves the calling process, so call it only in
 * a child made for the purpose (bpfvm_compile() forks one; a campaign may
 * keep one for many compiles).  NULL and a sentence in @errbuf. */
struct pcap;
struct pcap *bpfvm_live_compile_handle(int linktype, int snaplen, char *errbuf);

/* ------------------------------------------------------------------ */
/* Delta debugging (bpfvm/minimize.c): shrink a program while a caller's
 * predicate keeps holding, for reports of fuzzing campaigns. */

/* Does @cand still show the property being kept?  1 yes, 0 no, negative
 * to stop minimising (an error in the caller's engines). */
typedef int (*bpfvm_minimize_fn)(const struct bpfvm_prog *cand, void *ctx);

struct bpfvm_minimize_result {
	uint32_t tests;		/* predicate calls made, the first on the original */
	uint32_t from_len;	/* the original's length */
	int exhausted;		/* stopped by @max_tests: smaller may exist */
	int aborted;		/* the predicate returned a negative value */
};

/*
 * Shrink @prog in place (its buffer is reused; the caller still owns it):
 * remove instructions (retargeting the jumps over them), then set k to 0
 * (or 1) and jt, jf to 0 while @keep holds.  At most @max_tests predicate
 * calls (0: 4096).
 * Returns 0 with the smallest program found in @prog, or -1 with a
 * sentence in @errbuf when @keep does not hold for @prog as given (which
 * is then left alone) or memory runs out.
 */
int bpfvm_minimize(struct bpfvm_prog *prog, bpfvm_minimize_fn keep, void *ctx,
		   uint32_t max_tests, struct bpfvm_minimize_result *res, char *errbuf);

/* ------------------------------------------------------------------ */
/* The control-flow graph (bpfvm/cfg.c): basic blocks and edges, for
 * `capsim filter dot` and coverage counts from stepped runs. */

enum bpfvm_cfg_edge_kind {
	BPFVM_EDGE_TRUE,	/* a conditional jump's jt branch */
	BPFVM_EDGE_FALSE,	/* its jf branch */
	BPFVM_EDGE_ALWAYS,	/* ja, or falling through to the next block */
};

struct bpfvm_cfg_edge {
	uint32_t from, to;	/* block indices; to < from only for libpcap's backward ja */
	uint8_t kind;		/* enum bpfvm_cfg_edge_kind */
};

/*
 * A basic block: instructions first..last.  Leaders are instruction 0,
 * jump targets, the instructions after jumps and returns, and every return
 * itself, so a return is always a one-instruction block: a "return node".
 */
struct bpfvm_cfg_block {
	uint32_t first, last;
	uint32_t out[2];	/* edge indices: true then false, or one "always" */
	uint8_t nout;		/* 0 for a return node */
	uint8_t reachable;	/* on some path from instruction 0 */
	uint8_t is_ret;		/* a return node, returning: */
	uint8_t ret_src;	/*   BPF_K (ret_k), BPF_A or BPF_X */
	uint32_t ret_k;
};

struct bpfvm_cfg {
	uint32_t ninsns, nblocks, nedges;
	struct bpfvm_cfg_block *blocks;	/* in program order */
	struct bpfvm_cfg_edge *edges;	/* grouped by source block, in order */
	uint32_t *block_of;		/* instruction index -> block index */
};

/* Build the graph of @prog in linear time.  It need not pass the verifier,
 * but must be followable: every jump lands inside the program and the last
 * instruction is a return or a jump.  0, or -1 with the instruction named
 * in @errbuf.  Release with bpfvm_cfg_free(). */
int bpfvm_cfg_build(struct bpfvm_cfg *cfg, const struct bpfvm_prog *prog, char *errbuf);
void bpfvm_cfg_free(struct bpfvm_cfg *cfg);

/* How many runs took each edge, entered each block and ended in each block
 * (at a return node, or anywhere when a load fails or X is 0 for a
 * division).  For every block in == sum(out edges) + end. */
struct bpfvm_cfg_count {
	const struct bpfvm_cfg *cfg;
	uint64_t runs;		/* runs started (entries of block 0) */
	uint64_t *edge;		/* [nedges] */
	uint64_t *in;		/* [nblocks] */
	uint64_t *end;		/* [nblocks] */
};

/* Zeroed counts for @cfg (which must outlive them); 0 or -1 (memory). */
int bpfvm_cfg_count_init(struct bpfvm_cfg_count *c, const struct bpfvm_cfg *cfg);
void bpfvm_cfg_count_free(struct bpfvm_cfg_count *c);
/* A bpfvm_step_fn: pass it to bpfvm_run_traced() with the counts as @ctx. */
void bpfvm_cfg_count_step(const struct bpfvm_step *st, void *ctx);

/* ------------------------------------------------------------------ */
/* BEGIN step recordings (bpfvm/steprec.c): a traced run kept as a plain
 * array, with every load resolved to the bytes it read, for
 * `capsim filter step` and `filter diff`, and where two runs part. */

/* Where a packet load's offset counts from (the kernel's bases). */
enum bpfvm_load_base {
	BPFVM_BASE_DATA,	/* from the data start: skb->data (linux), the record (libpcap) */
	BPFVM_BASE_NET,		/* SKF_NET_OFF + n: from the network header (linux) */
	BPFVM_BASE_LL,		/* SKF_LL_OFF + n: from the MAC header (linux) */
	BPFVM_BASE_NONE,	/* below SKF_LL_OFF: no byte at all; the load fails (linux) */
};

/*
 * Where a linux-semantics packet load at offset @off reads, as
 * bpf_skb_load_helper_convert_offset() (net/core/filter.c) maps it on a
 * linear skb: the base, and in *@pos the frame position (skb->data is
 * data_off, or the frame's end for a frame shorter than that; the network
 * header net_off; the MAC header the frame start).  The load succeeds if
 * the base is not NONE and 0 <= pos, pos + size <= caplen.  The
 * interpreter and the step recorder both use this one mapping.
 */
static inline enum bpfvm_load_base bpfvm_linux_load_pos(const struct bpfvm_packet *pkt,
							int32_t off, int64_t *pos)
{
	if (off >= 0) {
		*pos = (int64_t)(pkt->data_off < pkt->caplen ? pkt->data_off : pkt->caplen) + off;
		return BPFVM_BASE_DATA;
	}
	if (off >= SKF_NET_OFF) {
		*pos = (int64_t)off - SKF_NET_OFF + pkt->net_off;
		return BPFVM_BASE_NET;
	}
	if (off >= SKF_LL_OFF) {
		*pos = (int64_t)off - SKF_LL_OFF;
		return BPFVM_BASE_LL;
	}
	*pos = 0;
	return BPFVM_BASE_NONE;
}

/* Why a run ended. */
enum bpfvm_run_end {
	BPFVM_END_RET,		/* a return instruction */
	BPFVM_END_LOAD,		/* a packet load past the bytes there are: returns 0 */
	BPFVM_END_DIV0,		/* DIV or MOD by X == 0: returns 0 */
	BPFVM_END_BACKJUMPS,	/* libpcap: the backward-jump guard (interp.c) stopped it */
	BPFVM_END_ABORT,	/* libpcap: a code bpf_filter() has no case for (it abort()s) */
};

/* One executed instruction, with the state it left. */
struct bpfvm_rec_step {
	uint32_t pc;
	uint32_t a, x;		/* registers after it */
	uint32_t next;		/* the pc executed next; UINT32_MAX after the last step */
	int8_t mem;		/* scratch cell written (ST, STX), or -1 */
	int8_t anc;		/* linux: SKF_AD_* of an ancillary load, or -1 */
	uint8_t load_size;	/* packet loads (LD ABS/IND, LDX MSH): bytes read, else 0 */
	uint8_t load_failed;	/* 1 if the load ended the program */
	uint8_t load_base;	/* enum bpfvm_load_base */
	uint8_t is_cond;	/* a conditional jump, */
	uint8_t jumped;		/*   and 1 if it took its jt branch */
	uint8_t done;		/* this instruction ended the program */
	int64_t load_off;	/* the offset the program asked for, before mapping:
				 * k, or X + k (libpcap: exact; linux: as int32) */
	int64_t load_pos;	/* where the first byte is, counted from pkt->bytes
				 * (the start of the frame): the interpreter's own
				 * mapping of data_off, net_off and the bases.  A
				 * failed load may point outside [0, caplen); 0 for
				 * BPFVM_BASE_NONE. */
};

/* A whole run.  Zero it before the first bpfvm_record(); it is reused
 * (its array grows as needed) and released with bpfvm_rec_free(). */
struct bpfvm_rec {
	struct bpfvm_rec_step *steps;
	uint32_t n;		/* steps recorded */
	uint32_t cap;		/* room in @steps */
	uint64_t executed;	/* steps executed (more than @n when cut at @max_steps) */
	uint32_t ret;		/* what bpfvm_run() returns for the same input */
	uint32_t end_pc;	/* the instruction that ended the run */
	uint8_t end;		/* enum bpfvm_run_end */
	uint8_t truncated;	/* @n stopped at the limit; @ret, @end still hold */
};

/*
 * Run @vm (created from @prog, which must be the same program) once on
 * @pkt, @meta as bpfvm_run() would, keeping at most @max_steps steps
 * (0: 65536; a linux run never takes more than prog->len).  Returns 0, or
 * -1 with a sentence in @errbuf when memory runs out or @prog does not
 * match @vm.
 */
int bpfvm_record(const struct bpfvm *vm, const struct bpfvm_prog *prog,
		 const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta,
		 uint32_t max_steps, struct bpfvm_rec *rec, char *errbuf);
void bpfvm_rec_free(struct bpfvm_rec *rec);

/* Is step @s a read of the packet or of the sk_buff (an ancillary load
 * other than SKF_AD_ALU_XOR_X)?  Those are what two runs are compared on. */
int bpfvm_rec_step_reads(const struct bpfvm_rec_step *s);

/* Where two runs part: the first read (bpfvm_rec_step_reads()) at which
 * their sequences of (base-resolved position, size) or ancillary fields
 * differ, or where one run ends while the other reads on. */
struct bpfvm_rec_parting {
	uint32_t reads;		/* reads the two made alike before parting */
	uint32_t step[2];	/* in each run: the step of its next read, or
				 * its last step when it made no more */
	uint8_t read[2];	/* 1 if step[i] is a read, 0 if the run ended there */
};

/* Compare two recordings.  Returns 1 if their reads part (see above),
 * 0 if both made the same reads (then step[i] is each one's last step and
 * they may still return different values).  Two runs cut at their step
 * limit compare only the steps kept. */
int bpfvm_rec_part(const struct bpfvm_rec *r0, const struct bpfvm_rec *r1,
		   struct bpfvm_rec_parting *p);
/* END step recordings */

#endif
