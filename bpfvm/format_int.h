/*
 * format_int.h - what format.c (tcpdump's -d/-dd/-ddd) and asm.c (bpf_asm)
 * share: a cursor over the text that turns a pointer into "name:line:col",
 * a growing instruction array with the BPF_MAXINSNS limit, and the reverse
 * lookup (mnemonic, operand kind) -> code over the one opcode table.
 * Only bpfvm/format.c and bpfvm/asm.c include this header.
 */
#ifndef CAPSIM_BPFVM_FORMAT_INT_H
#define CAPSIM_BPFVM_FORMAT_INT_H

#include "bpfvm.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The text being parsed.  @p moves forward; positions in messages are
 * computed from @text, so the cursor needs no line bookkeeping. */
struct fmt_cur {
	const char *text;	/* start of the NUL-terminated input */
	const char *name;	/* file name for messages */
	const char *p;		/* next unread byte */
	char *errbuf;		/* BPFVM_ERRBUF_SIZE bytes, or NULL */
};

/* Write "name:line:col: <message>" for the byte at @at into cur->errbuf;
 * returns -1 so callers can `return fmt_err(...)`. */
int fmt_err(const struct fmt_cur *cur, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short description of what sits at @at, for "..., found X": "end of
 * line", "end of input" or "'c'". @buf must hold 16 bytes. */
const char *fmt_found(const char *at, char *buf);

/* Skip spaces, tabs and carriage returns (never a newline). */
void fmt_skip_blanks(struct fmt_cur *cur);

/* True at a newline or the end of the text. */
int fmt_at_eol(const struct fmt_cur *cur);

/* Spellings fmt_number() accepts beyond plain decimal and C's 0x/0 forms. */
enum {
	FMT_NUM_SIGN = 1,	/* a leading '-' or '+' */
	FMT_NUM_BIN = 2,	/* 0b101 (bpf_asm) */
	FMT_NUM_DEC = 4,	/* decimal digits only (tcpdump -ddd) */
};

/*
 * Parse a number at cur->p: decimal, 0x/0X hex, 0 followed by octal
 * digits, plus what @flags allows.  The value must lie in [@min, @max].  On
 * success stores it, advances, returns 0; otherwise writes a message using
 * @what ("instruction count", "k", ...) and returns -1.
 */
int fmt_number(struct fmt_cur *cur, const char *what, int flags, int64_t min, int64_t max,
	       int64_t *val);

/* The instructions parsed so far. */
struct fmt_build {
	struct bpfvm_insn *insns;
	uint32_t len;
	uint32_t cap;
};

/* Append one instruction.  Fails (message at @at) past BPFVM_MAXINSNS
 * instructions or when memory runs out. */
int fmt_push(struct fmt_build *b, struct fmt_cur *cur, const char *at,
	     const struct bpfvm_insn *in);

/* Hand the array over to @prog (an empty program still gets an array). */
int fmt_finish(struct fmt_build *b, struct fmt_cur *cur, struct bpfvm_prog *prog);

/* The code whose table entry has this mnemonic (@len bytes, compared
 * without case) and operand kind, or -1 if the table has none. */
int fmt_find_code(const char *mnem, size_t len, enum bpfvm_operand opnd);

/* A k printed the way libpcap's "%d" prints an unsigned field. */
static inline long long fmt_s32(uint32_t v)
{
	return v > INT32_MAX ? (long long)v - 4294967296LL : (long long)v;
}

/* bpf_asm (asm.c). */
int fmt_asm_parse(struct fmt_cur *cur, struct bpfvm_prog *prog);
int fmt_asm_write(FILE *out, const struct bpfvm_prog *prog);

#endif
