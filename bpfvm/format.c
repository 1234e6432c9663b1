/*
 * format.c - classic BPF programs as text: tcpdump's three dumps (-d, -dd,
 * -ddd, all printed by libpcap's bpf_dump()), detection of the format from
 * the text, and the dispatch to the bpf_asm language in asm.c.
 *
 * Writing reproduces the installed libpcap byte for byte (bpf_dump.c and
 * bpf_image.c; tests/test_format.c compares against them).  Mnemonics and
 * operand kinds come from the opcode table in opcodes.c; this file only
 * knows how libpcap spells each operand kind.
 *
 * What the -d listing cannot carry (so a program holding any of these does
 * not survive write(-d) -> parse(-d) unchanged):
 *  - codes bpf_image() cannot name, printed "unimp 0x<code>": every code
 *    missing from the opcode table, every code >= 256, and 0x81
 *    (BPF_LDX|BPF_W|BPF_LEN, which bpf_filter() runs but bpf_image() does
 *    not name).  Their k (and jt/jf, outside the jump class) are lost, so
 *    the parser rejects an "unimp" line instead of guessing;
 *  - fields an instruction does not print: jt and jf outside the
 *    conditional jumps, k of ret a, tax, txa, neg, ld #pktlen and the
 *    register forms ("add x", "jeq x").  The parser reads them as 0.
 * Everything printed is exact: "%d" operands are read back modulo 2^32,
 * ancillary names map back to SKF_AD_OFF + offset, "ja N" and "jt N jf M"
 * are absolute and turned back into offsets.
 */
#include "format_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Shared with asm.c: places, numbers, the growing program. */

int fmt_err(const struct fmt_cur *cur, const char *at, const char *fmt, ...)
{
	unsigned line = 1;
	const char *bol = cur->text;
	va_list ap;
	int n;

	if (!cur->errbuf)
		return -1;
	for (const char *s = cur->text; s < at && *s; s++)
		if (*s == '\n') {
			line++;
			bol = s + 1;
		}
	n = snprintf(cur->errbuf, BPFVM_ERRBUF_SIZE, "%s:%u:%u: ",
		     cur->name ? cur->name : "<input>", line, (unsigned)(at - bol) + 1);
	if (n < 0 || n >= BPFVM_ERRBUF_SIZE)
		return -1;
	va_start(ap, fmt);
	vsnprintf(cur->errbuf + n, (size_t)(BPFVM_ERRBUF_SIZE - n), fmt, ap);
	va_end(ap);
	return -1;
}

const char *fmt_found(const char *at, char *buf)
{
	unsigned char c = (unsigned char)*at;

	if (c == '\0')
		return "end of input";
	if (c == '\n' || (c == '\r' && at[1] == '\n'))
		return "end of line";
	if (isprint(c))
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", c);
	return buf;
}

void fmt_skip_blanks(struct fmt_cur *cur)
{
	while (*cur->p == ' ' || *cur->p == '\t' || *cur->p == '\r')
		cur->p++;
}

int fmt_at_eol(const struct fmt_cur *cur)
{
	return *cur->p == '\n' || *cur->p == '\0';
}

static int digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

int fmt_number(struct fmt_cur *cur, const char *what, int flags, int64_t min, int64_t max,
	       int64_t *val)
{
	const char *start = cur->p, *s = cur->p;
	uint64_t v = 0;
	int base = 10, neg = 0, big = 0;
	char fb[16];

	if ((flags & FMT_NUM_SIGN) && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return fmt_err(cur, start, "expected %s, found %s", what, fmt_found(start, fb));
	if (!(flags & FMT_NUM_DEC) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if ((flags & FMT_NUM_BIN) && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (!(flags & FMT_NUM_DEC) && s[0] == '0' && isalnum((unsigned char)s[1])) {
		base = 8;
		s += 1;
	}
	if (digit_value((unsigned char)*s) >= base)
		return fmt_err(cur, start, "malformed number for %s", what);
	while (isalnum((unsigned char)*s) || *s == '_') {
		int d = digit_value((unsigned char)*s);

		if (d >= base)
			return fmt_err(cur, s, "malformed number for %s: unexpected %s", what,
				       fmt_found(s, fb));
		if (v > 0xffffffffffULL)
			big = 1;
		else
			v = v * (uint64_t)base + (uint64_t)d;
		s++;
	}
	if (big || (neg ? -(int64_t)v < min : (int64_t)v > max))
		return fmt_err(cur, start, "%s %.*s is out of range [%lld, %lld]", what,
			       (int)(s - start > 40 ? 40 : s - start), start, (long long)min,
			       (long long)max);
	*val = neg ? -(int64_t)v : (int64_t)v;
	cur->p = s;
	return 0;
}

int fmt_push(struct fmt_build *b, struct fmt_cur *cur, const char *at,
	     const struct bpfvm_insn *in)
{
	if (b->len >= BPFVM_MAXINSNS)
		return fmt_err(cur, at, "more than %d instructions (BPF_MAXINSNS)",
			       BPFVM_MAXINSNS);
	if (b->len == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 64;
		struct bpfvm_insn *n = realloc(b->insns, cap * sizeof(*n));

		if (!n)
			return fmt_err(cur, at, "out of memory");
		b->insns = n;
		b->cap = cap;
	}
	b->insns[b->len++] = *in;
	return 0;
}

int fmt_finish(struct fmt_build *b, struct fmt_cur *cur, struct bpfvm_prog *prog)
{
	if (!b->insns) {
		b->insns = calloc(1, sizeof(*b->insns));
		if (!b->insns)
			return fmt_err(cur, cur->p, "out of memory");
	}
	prog->insns = b->insns;
	prog->len = b->len;
	b->insns = NULL;
	return 0;
}

int fmt_find_code(const char *mnem, size_t len, enum bpfvm_operand opnd)
{
	for (unsigned c = 0; c < 256; c++) {
		const struct bpfvm_opinfo *oi = bpfvm_opinfo((uint16_t)c);

		if (oi->mnemonic && oi->operand == opnd && strlen(oi->mnemonic) == len &&
		    strncasecmp(oi->mnemonic, mnem, len) == 0)
			return (int)c;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Names. */

int bpfvm_format_from_name(const char *name, enum bpfvm_format *fmt)
{
	static const struct {
		const char *name;
		enum bpfvm_format fmt;
	} names[] = {
		{ "auto", BPFVM_FMT_AUTO }, { "ddd", BPFVM_FMT_DDD }, { "dd", BPFVM_FMT_DD },
		{ "d", BPFVM_FMT_D },	    { "asm", BPFVM_FMT_ASM },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0) {
			*fmt = names[i].fmt;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* The -d listing: libpcap's bpf_image(). */

/*
 * bpf_image() names the Linux ancillary offsets itself, and three of its
 * names differ from bpf_asm's (the table's): "vlanp", "random", and
 * "xor_x" for SKF_AD_ALU_XOR_X, which bpf_asm does not name at all.
 */
static const char *listing_ancillary(uint32_t off)
{
	switch (off) {
	case SKF_AD_ALU_XOR_X:
		return "xor_x";
	case SKF_AD_VLAN_TAG_PRESENT:
		return "vlanp";
	case SKF_AD_RANDOM:
		return "random";
	default:
		return bpfvm_ancillary_name(off);
	}
}

static int listing_ancillary_lookup(const char *name, size_t len)
{
	char buf[32];

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (uint32_t off = 0; off < SKF_AD_MAX; off += 4) {
		const char *n = listing_ancillary(off);

		if (n && strcmp(n, buf) == 0)
			return (int)off;
	}
	return bpfvm_ancillary_lookup(buf);
}

/* Does bpf_image() print a mnemonic for @code (rather than "unimp")?  It
 * knows every code of the table except BPF_LDX|BPF_W|BPF_LEN. */
static int listing_knows(uint16_t code)
{
	return bpfvm_opinfo(code)->mnemonic && code != (BPF_LDX | BPF_W | BPF_LEN);
}

static int is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

/* Immediates libpcap prints in hex: loads, jump constants, and/or/xor. */
static int imm_in_hex(uint16_t code)
{
	if (BPF_CLASS(code) == BPF_LD || BPF_CLASS(code) == BPF_LDX || BPF_CLASS(code) == BPF_JMP)
		return 1;
	return BPF_CLASS(code) == BPF_ALU &&
	       (BPF_OP(code) == BPF_AND || BPF_OP(code) == BPF_OR || BPF_OP(code) == BPF_XOR);
}

char *bpfvm_disasm_insn(const struct bpfvm_insn *insn, uint32_t pc, char *buf, size_t size)
{
	const struct bpfvm_opinfo *oi = bpfvm_opinfo(insn->code);
	const char *op = oi->mnemonic;
	char opnd[64];
	uint32_t k = insn->k;

	opnd[0] = '\0';
	if (!listing_knows(insn->code)) {
		op = "unimp";
		snprintf(opnd, sizeof(opnd), "0x%x", insn->code);
	} else {
		switch (oi->operand) {
		case BPFVM_OPND_IMM:
			if (imm_in_hex(insn->code))
				snprintf(opnd, sizeof(opnd), "#0x%x", k);
			else
				snprintf(opnd, sizeof(opnd), "#%lld", fmt_s32(k));
			break;
		case BPFVM_OPND_ABS: {
			const char *anc = NULL;

			if (k >= (uint32_t)SKF_AD_OFF && k - (uint32_t)SKF_AD_OFF < SKF_AD_MAX)
				anc = listing_ancillary(k - (uint32_t)SKF_AD_OFF);
			if (anc)
				snprintf(opnd, sizeof(opnd), "[%s]", anc);
			else
				snprintf(opnd, sizeof(opnd), "[%lld]", fmt_s32(k));
			break;
		}
		case BPFVM_OPND_IND:
			snprintf(opnd, sizeof(opnd), "[x + %lld]", fmt_s32(k));
			break;
		case BPFVM_OPND_MEM:
			snprintf(opnd, sizeof(opnd), "M[%lld]", fmt_s32(k));
			break;
		case BPFVM_OPND_LEN:
			snprintf(opnd, sizeof(opnd), "#pktlen");
			break;
		case BPFVM_OPND_MSH:
			snprintf(opnd, sizeof(opnd), "4*([%lld]&0xf)", fmt_s32(k));
			break;
		case BPFVM_OPND_X:
			snprintf(opnd, sizeof(opnd), "x");
			break;
		case BPFVM_OPND_JA:
			snprintf(opnd, sizeof(opnd), "%lld", fmt_s32(pc + 1 + k));
			break;
		default:	/* NONE, A: nothing printed */
			break;
		}
	}
	if (is_cond_jump(insn->code))
		snprintf(buf, size, "%-8s %-16s jt %lld\tjf %lld", op, opnd,
			 fmt_s32(pc + 1 + insn->jt), fmt_s32(pc + 1 + insn->jf));
	else
		snprintf(buf, size, "%-8s %s", op, opnd);
	return buf;
}

static int is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Consume @lit at cur->p (exactly); 1 if it was there. */
static int eat(struct fmt_cur *cur, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(cur->p, lit, n) != 0)
		return 0;
	cur->p += n;
	return 1;
}

/* Consume blanks, then @c; 1 if it was there. */
static int eat_char(struct fmt_cur *cur, char c)
{
	fmt_skip_blanks(cur);
	if (*cur->p != c)
		return 0;
	cur->p++;
	fmt_skip_blanks(cur);
	return 1;
}

#define K_MIN (-2147483648LL)
#define K_MAX 4294967295LL

static int expect_char(struct fmt_cur *cur, char c, const char *where)
{
	char fb[16];

	if (eat_char(cur, c))
		return 0;
	return fmt_err(cur, cur->p, "expected '%c' %s, found %s", c, where, fmt_found(cur->p, fb));
}

/* The operand of one listing line, by its spelling.  For "ja" it is the
 * absolute target; the caller turns it into k. */
static int d_operand(struct fmt_cur *cur, enum bpfvm_operand *kind, int64_t *k)
{
	char fb[16];

	*k = 0;
	if (fmt_at_eol(cur) || (cur->p[0] == 'j' && cur->p[1] == 't' && !is_word(cur->p[2]))) {
		*kind = BPFVM_OPND_NONE;
		return 0;
	}
	if (cur->p[0] == 'x' && !is_word(cur->p[1])) {
		cur->p++;
		*kind = BPFVM_OPND_X;
		return 0;
	}
	if (eat(cur, "#pktlen") || eat(cur, "#len")) {
		*kind = BPFVM_OPND_LEN;
		return 0;
	}
	if (*cur->p == '#') {
		cur->p++;
		*kind = BPFVM_OPND_IMM;
		return fmt_number(cur, "a constant after '#'", FMT_NUM_SIGN, K_MIN, K_MAX, k);
	}
	if (eat(cur, "M[")) {
		*kind = BPFVM_OPND_MEM;
		fmt_skip_blanks(cur);
		if (fmt_number(cur, "a scratch index", FMT_NUM_SIGN, K_MIN, K_MAX, k))
			return -1;
		return expect_char(cur, ']', "after the scratch index");
	}
	if (eat(cur, "4*(")) {
		*kind = BPFVM_OPND_MSH;
		if (expect_char(cur, '[', "in 4*([k]&0xf)") ||
		    fmt_number(cur, "an offset", FMT_NUM_SIGN, K_MIN, K_MAX, k) ||
		    expect_char(cur, ']', "in 4*([k]&0xf)") ||
		    expect_char(cur, '&', "in 4*([k]&0xf)"))
			return -1;
		if (!eat(cur, "0xf"))
			return fmt_err(cur, cur->p, "expected '0xf' in 4*([k]&0xf), found %s",
				       fmt_found(cur->p, fb));
		return expect_char(cur, ')', "closing 4*([k]&0xf)");
	}
	if (*cur->p == '[') {
		cur->p++;
		fmt_skip_blanks(cur);
		if (cur->p[0] == 'x' && !is_word(cur->p[1])) {
			cur->p++;
			*kind = BPFVM_OPND_IND;
			if (expect_char(cur, '+', "after '[x'") ||
			    fmt_number(cur, "an offset", FMT_NUM_SIGN, K_MIN, K_MAX, k))
				return -1;
			return expect_char(cur, ']', "after the offset");
		}
		*kind = BPFVM_OPND_ABS;
		if (isalpha((unsigned char)*cur->p)) {
			const char *s = cur->p;
			int off;

			while (is_word(*cur->p))
				cur->p++;
			off = listing_ancillary_lookup(s, (size_t)(cur->p - s));
			if (off < 0)
				return fmt_err(cur, s, "unknown ancillary load '%.*s'",
					       (int)(cur->p - s), s);
			*k = (int64_t)(uint32_t)(SKF_AD_OFF + off);
		} else if (fmt_number(cur, "an offset", FMT_NUM_SIGN, K_MIN, K_MAX, k)) {
			return -1;
		}
		return expect_char(cur, ']', "after the offset");
	}
	if (*cur->p == '-' || *cur->p == '+' || isdigit((unsigned char)*cur->p)) {
		*kind = BPFVM_OPND_JA;
		return fmt_number(cur, "a jump target", FMT_NUM_SIGN, K_MIN, K_MAX, k);
	}
	return fmt_err(cur, cur->p, "expected an operand, found %s", fmt_found(cur->p, fb));
}

/* "jt N" or "jf N": an absolute target after instruction @n, returned as the
 * 8-bit offset. */
static int d_target(struct fmt_cur *cur, const char *word, uint32_t n, uint8_t *off)
{
	const char *at;
	int64_t t;
	char fb[16];

	fmt_skip_blanks(cur);
	if (!eat(cur, word) || is_word(*cur->p))
		return fmt_err(cur, cur->p, "expected '%s' and a target, found %s", word,
			       fmt_found(cur->p, fb));
	fmt_skip_blanks(cur);
	at = cur->p;
	if (fmt_number(cur, "a jump target", FMT_NUM_SIGN, K_MIN, K_MAX, &t))
		return -1;
	if (t <= (int64_t)n)
		return fmt_err(cur, at, "%s target %lld is not after instruction %u", word,
			       (long long)t, n);
	if (t - (int64_t)n - 1 > 255)
		return fmt_err(cur, at,
			       "%s target %lld is %lld instructions after %u; jt/jf reach at most 255",
			       word, (long long)t, (long long)(t - n - 1), n);
	*off = (uint8_t)(t - n - 1);
	return 0;
}

static void skip_blank_lines(struct fmt_cur *cur)
{
	for (;;) {
		fmt_skip_blanks(cur);
		if (*cur->p != '\n')
			return;
		cur->p++;
	}
}

static int parse_d(struct fmt_cur *cur, struct bpfvm_prog *prog)
{
	struct fmt_build b = { 0 };
	char fb[16];

	for (;;) {
		struct bpfvm_insn in = { 0 };
		const char *line, *mn, *opat;
		size_t mlen;
		enum bpfvm_operand kind = BPFVM_OPND_NONE;
		int64_t idx, k;
		int code;

		skip_blank_lines(cur);
		if (*cur->p == '\0')
			break;
		line = cur->p;
		if (*cur->p != '(') {
			fmt_err(cur, cur->p, "expected '(%03u)' starting a listing line, found %s",
				b.len, fmt_found(cur->p, fb));
			goto fail;
		}
		cur->p++;
		if (fmt_number(cur, "an instruction index", FMT_NUM_DEC, 0, K_MAX, &idx))
			goto fail;
		if (idx != b.len) {
			fmt_err(cur, line + 1, "instruction index %lld out of sequence, expected %u",
				(long long)idx, b.len);
			goto fail;
		}
		if (*cur->p != ')') {
			fmt_err(cur, cur->p, "expected ')' after the index, found %s",
				fmt_found(cur->p, fb));
			goto fail;
		}
		cur->p++;
		fmt_skip_blanks(cur);
		mn = cur->p;
		while (isalpha((unsigned char)*cur->p))
			cur->p++;
		mlen = (size_t)(cur->p - mn);
		if (mlen == 0) {
			fmt_err(cur, mn, "expected a mnemonic, found %s", fmt_found(mn, fb));
			goto fail;
		}
		if (mlen == 5 && strncmp(mn, "unimp", 5) == 0) {
			fmt_err(cur, mn,
				"'unimp' cannot be read back: the listing drops k (and jt/jf) of codes "
				"bpf_image cannot name; use -dd or -ddd");
			goto fail;
		}
		fmt_skip_blanks(cur);
		opat = cur->p;
		if (d_operand(cur, &kind, &k))
			goto fail;
		code = fmt_find_code(mn, mlen, kind);
		if (code < 0 && kind == BPFVM_OPND_NONE)
			code = fmt_find_code(mn, mlen, kind = BPFVM_OPND_A);
		if (code < 0) {
			if (fmt_find_code(mn, mlen, BPFVM_OPND_NONE) < 0 &&
			    fmt_find_code(mn, mlen, BPFVM_OPND_A) < 0 &&
			    fmt_find_code(mn, mlen, BPFVM_OPND_IMM) < 0 &&
			    fmt_find_code(mn, mlen, BPFVM_OPND_ABS) < 0 &&
			    fmt_find_code(mn, mlen, BPFVM_OPND_MEM) < 0 &&
			    fmt_find_code(mn, mlen, BPFVM_OPND_JA) < 0)
				fmt_err(cur, mn, "unknown mnemonic '%.*s'", (int)mlen, mn);
			else
				fmt_err(cur, opat, "'%.*s' does not take the operand '%.*s'",
					(int)mlen, mn, (int)(cur->p - opat), opat);
			goto fail;
		}
		in.code = (uint16_t)code;
		in.k = kind == BPFVM_OPND_JA ? (uint32_t)((uint64_t)k - b.len - 1) : (uint32_t)k;
		if (is_cond_jump(in.code)) {
			if (d_target(cur, "jt", b.len, &in.jt) || d_target(cur, "jf", b.len, &in.jf))
				goto fail;
		}
		fmt_skip_blanks(cur);
		if (!fmt_at_eol(cur)) {
			fmt_err(cur, cur->p, "expected end of line after the %s, found %s",
				is_cond_jump(in.code) ? "jump targets" : "operand",
				fmt_found(cur->p, fb));
			goto fail;
		}
		if (fmt_push(&b, cur, line, &in))
			goto fail;
	}
	if (b.len == 0) {
		fmt_err(cur, cur->p, "expected a listing line '(000) ...', found end of input");
		goto fail;
	}
	return fmt_finish(&b, cur, prog);
fail:
	free(b.insns);
	return -1;
}

/* ------------------------------------------------------------------ */
/* -dd: "{ 0x28, 0, 0, 0x0000000c }," (also bpf_asm -c's "{ 0x28,  0,  0, 0x0000000c },"). */

static void skip_space(struct fmt_cur *cur)
{
	while (isspace((unsigned char)*cur->p))
		cur->p++;
}

static int parse_dd(struct fmt_cur *cur, struct bpfvm_prog *prog)
{
	struct fmt_build b = { 0 };
	char fb[16];

	for (;;) {
		struct bpfvm_insn in;
		const char *at;
		int64_t code, jt, jf, k;

		skip_space(cur);
		if (*cur->p == '\0')
			break;
		at = cur->p;
		if (*cur->p != '{') {
			fmt_err(cur, cur->p, "expected '{' starting instruction %u, found %s", b.len,
				fmt_found(cur->p, fb));
			goto fail;
		}
		cur->p++;
		fmt_skip_blanks(cur);
		if (fmt_number(cur, "a code", 0, 0, 0xffff, &code) ||
		    expect_char(cur, ',', "after the code") ||
		    fmt_number(cur, "jt", 0, 0, 255, &jt) ||
		    expect_char(cur, ',', "after jt") ||
		    fmt_number(cur, "jf", 0, 0, 255, &jf) ||
		    expect_char(cur, ',', "after jf") ||
		    fmt_number(cur, "k", FMT_NUM_SIGN, K_MIN, K_MAX, &k) ||
		    expect_char(cur, '}', "after k"))
			goto fail;
		in.code = (uint16_t)code;
		in.jt = (uint8_t)jt;
		in.jf = (uint8_t)jf;
		in.k = (uint32_t)k;
		if (*cur->p == ',')
			cur->p++;
		fmt_skip_blanks(cur);
		if (!fmt_at_eol(cur) && *cur->p != '{') {
			fmt_err(cur, cur->p, "expected ',' or end of line after '}', found %s",
				fmt_found(cur->p, fb));
			goto fail;
		}
		if (fmt_push(&b, cur, at, &in))
			goto fail;
	}
	if (b.len == 0) {
		fmt_err(cur, cur->p, "expected '{ code, jt, jf, k },', found end of input");
		goto fail;
	}
	return fmt_finish(&b, cur, prog);
fail:
	free(b.insns);
	return -1;
}

/* ------------------------------------------------------------------ */
/* -ddd: the count, then "code jt jf k" per line.  Instructions may also be
 * separated by ',' (bpf_asm's and xt_bpf's one-line form "4,40 0 0 12,..."). */

static int ddd_separator(struct fmt_cur *cur, const char *after)
{
	char fb[16];

	fmt_skip_blanks(cur);
	if (*cur->p == ',' || *cur->p == '\n') {
		cur->p++;
		return 0;
	}
	if (*cur->p == '\0')
		return 0;
	return fmt_err(cur, cur->p, "expected end of line or ',' after %s, found %s", after,
		       fmt_found(cur->p, fb));
}

static int parse_ddd(struct fmt_cur *cur, struct bpfvm_prog *prog)
{
	struct fmt_build b = { 0 };
	const char *count_at;
	int64_t count;
	char fb[16];

	skip_space(cur);
	count_at = cur->p;
	if (fmt_number(cur, "the instruction count", FMT_NUM_DEC, 0, K_MAX, &count))
		return -1;
	if (count > BPFVM_MAXINSNS)
		return fmt_err(cur, count_at, "count %lld is more than %d instructions (BPF_MAXINSNS)",
			       (long long)count, BPFVM_MAXINSNS);
	if (ddd_separator(cur, "the instruction count"))
		return -1;
	while (b.len < count) {
		struct bpfvm_insn in;
		const char *at;
		int64_t code, jt, jf, k;

		skip_space(cur);
		at = cur->p;
		if (*cur->p == '\0') {
			fmt_err(cur, cur->p, "expected instruction %u of %lld, found end of input",
				b.len, (long long)count);
			goto fail;
		}
		if (fmt_number(cur, "a code", FMT_NUM_DEC, 0, 0xffff, &code))
			goto fail;
		fmt_skip_blanks(cur);
		if (fmt_number(cur, "jt", FMT_NUM_DEC, 0, 255, &jt))
			goto fail;
		fmt_skip_blanks(cur);
		if (fmt_number(cur, "jf", FMT_NUM_DEC, 0, 255, &jf))
			goto fail;
		fmt_skip_blanks(cur);
		if (fmt_number(cur, "k", FMT_NUM_DEC, 0, K_MAX, &k))
			goto fail;
		if (ddd_separator(cur, "k"))
			goto fail;
		in.code = (uint16_t)code;
		in.jt = (uint8_t)jt;
		in.jf = (uint8_t)jf;
		in.k = (uint32_t)k;
		if (fmt_push(&b, cur, at, &in))
			goto fail;
	}
	while (isspace((unsigned char)*cur->p) || *cur->p == ',')
		cur->p++;
	if (*cur->p != '\0') {
		fmt_err(cur, cur->p,
			"expected end of input after %lld instructions (the count), found %s",
			(long long)count, fmt_found(cur->p, fb));
		goto fail;
	}
	return fmt_finish(&b, cur, prog);
fail:
	free(b.insns);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Detection and dispatch. */

/*
 * BPFVM_FMT_AUTO looks at the first character that is not white space:
 *   '{'    -> -dd (C initialisers);
 *   '('    -> -d  (every listing line starts "(nnn)");
 *   digit  -> -ddd (the count comes first; bpf_asm's one-line output too);
 *   else   -> bpf_asm (a mnemonic, a label, or a ';', '/ *' or '#' comment).
 * A bpf_asm line never starts with '{', '(' or a digit, so every format's
 * own output is detected as itself.
 */
static enum bpfvm_format detect(const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '{')
		return BPFVM_FMT_DD;
	if (*text == '(')
		return BPFVM_FMT_D;
	if (isdigit((unsigned char)*text))
		return BPFVM_FMT_DDD;
	return BPFVM_FMT_ASM;
}

int bpfvm_parse(const char *text, const char *name, enum bpfvm_format fmt,
		struct bpfvm_prog *prog, char *errbuf)
{
	struct fmt_cur cur = { .text = text, .name = name, .p = text, .errbuf = errbuf };

	prog->insns = NULL;
	prog->len = 0;
	if (fmt == BPFVM_FMT_AUTO)
		fmt = detect(text);
	switch (fmt) {
	case BPFVM_FMT_DDD:
		return parse_ddd(&cur, prog);
	case BPFVM_FMT_DD:
		return parse_dd(&cur, prog);
	case BPFVM_FMT_D:
		return parse_d(&cur, prog);
	case BPFVM_FMT_ASM:
		return fmt_asm_parse(&cur, prog);
	default:
		return fmt_err(&cur, text, "unknown program format %d", (int)fmt);
	}
}

int bpfvm_write(FILE *out, const struct bpfvm_prog *prog, enum bpfvm_format fmt)
{
	char line[128];

	switch (fmt) {
	case BPFVM_FMT_DDD:
		fprintf(out, "%u\n", prog->len);
		for (uint32_t i = 0; i < prog->len; i++) {
			const struct bpfvm_insn *in = &prog->insns[i];

			fprintf(out, "%u %u %u %u\n", in->code, in->jt, in->jf, in->k);
		}
		break;
	case BPFVM_FMT_DD:
		for (uint32_t i = 0; i < prog->len; i++) {
			const struct bpfvm_insn *in = &prog->insns[i];

			fprintf(out, "{ 0x%x, %u, %u, 0x%08x },\n", in->code, in->jt, in->jf,
				in->k);
		}
		break;
	case BPFVM_FMT_D:
		for (uint32_t i = 0; i < prog->len; i++)
			fprintf(out, "(%03u) %s\n", i,
				bpfvm_disasm_insn(&prog->insns[i], i, line, sizeof(line)));
		break;
	case BPFVM_FMT_ASM:
		if (fmt_asm_write(out, prog))
			return -1;
		break;
	default:
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
