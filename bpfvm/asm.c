/*
 * asm.c - the kernel's bpf_asm language (tools/bpf/bpf_exp.l, bpf_exp.y):
 * reading it into a program and printing a program in it.
 *
 * What is read, as bpf_asm reads it:
 *  - mnemonics, without case: ld ldi ldh ldb ldx ldxi ldxb st stx jmp/ja
 *    jeq jneq/jne jlt jle jgt jge jset add sub mul div mod neg and or xor
 *    lsh rsh tax txa ret;
 *  - operands: #k, #len (or len), M[k], [k], [x + k] and [%x + k], x, %x,
 *    a, %a, 4*([k]&0xf), and the ancillary loads #proto #type #ifidx #nla
 *    #nlan #mark #queue #hatype #rxhash #cpu #vlan_tci #vlan_avail (also
 *    #vlan_pr) #vlan_tpid #poff #rand, with or without '#'.  "ld #5" loads
 *    the constant; "ld #proto" is an absolute load at SKF_AD_OFF + 0;
 *  - labels "name:" and jump targets by label only: "jmp l", "jeq #k, lt"
 *    (false falls through), "jeq #k, lt, lf"; jneq/jne, jlt and jle take
 *    one label, which becomes the jf of jeq, jge and jgt (jt 0);
 *  - numbers: decimal (signed), 0x hex, 0 octal, 0b binary;
 *  - comments: ';' to the end of the line, C comments, and lines that start
 *    with '#' (bpf_asm skips them so cpp output can be fed in).
 * Where this reader differs:
 *  - one instruction per line (bpf_asm's grammar does not look at line ends;
 *    every bpf_asm program in the kernel's documentation has one per line).
 *    A label may stand alone on its line and names the next instruction;
 *  - a duplicate label, a label that is a keyword, or a number that does
 *    not fit in 32 bits is an error (bpf_asm takes the first label, cannot
 *    lex the keyword, and truncates the number);
 *  - "#pktlen" (tcpdump's spelling) is read as #len;
 *  - ".insn code, jt, jf, k" writes any 8 bytes as they are.  The printer
 *    needs it for what bpf_asm cannot say: codes outside the table (RET X
 *    included), fields an instruction does not use that are not zero, and
 *    jumps whose target is outside the program.
 * Like bpf_asm, "jmp" to a label behind it is taken (k wraps), while a
 * jt/jf label behind the jump or more than 255 instructions ahead is an
 * error.
 */
#include "format_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Operand shapes beyond enum bpfvm_operand that only the reader sees. */
enum {
	OPND_LABEL = 100,	/* a label: jmp target */
	OPND_BARE_IMM,		/* a number without '#': ldi, ldxi */
};

/* bpf_asm's spellings -> the opcode table's mnemonics. */
enum spell_kind {
	SP_PLAIN,	/* operand decides the code through the table */
	SP_IMM_ONLY,	/* ldi, ldxi: a constant, '#' optional */
	SP_NEGATED,	/* jneq, jlt, jle: one target, given to jf */
};

static const struct spelling {
	const char *word;
	const char *mnem;
	enum spell_kind kind;
} spellings[] = {
	{ "ld", "ld", SP_PLAIN },     { "ldi", "ld", SP_IMM_ONLY },  { "ldh", "ldh", SP_PLAIN },
	{ "ldb", "ldb", SP_PLAIN },   { "ldx", "ldx", SP_PLAIN },    { "ldxi", "ldx", SP_IMM_ONLY },
	{ "ldxb", "ldxb", SP_PLAIN }, { "st", "st", SP_PLAIN },      { "stx", "stx", SP_PLAIN },
	{ "jmp", "ja", SP_PLAIN },    { "ja", "ja", SP_PLAIN },      { "jeq", "jeq", SP_PLAIN },
	{ "jneq", "jeq", SP_NEGATED }, { "jne", "jeq", SP_NEGATED }, { "jlt", "jge", SP_NEGATED },
	{ "jle", "jgt", SP_NEGATED }, { "jgt", "jgt", SP_PLAIN },    { "jge", "jge", SP_PLAIN },
	{ "jset", "jset", SP_PLAIN }, { "add", "add", SP_PLAIN },    { "sub", "sub", SP_PLAIN },
	{ "mul", "mul", SP_PLAIN },   { "div", "div", SP_PLAIN },    { "mod", "mod", SP_PLAIN },
	{ "neg", "neg", SP_PLAIN },   { "and", "and", SP_PLAIN },    { "or", "or", SP_PLAIN },
	{ "xor", "xor", SP_PLAIN },   { "lsh", "lsh", SP_PLAIN },    { "rsh", "rsh", SP_PLAIN },
	{ "ret", "ret", SP_PLAIN },   { "tax", "tax", SP_PLAIN },    { "txa", "txa", SP_PLAIN },
};

#define NSPELL (sizeof(spellings) / sizeof(spellings[0]))

static int word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

static const struct spelling *find_spelling(const char *s, size_t len)
{
	for (size_t i = 0; i < NSPELL; i++)
		if (word_is(s, len, spellings[i].word))
			return &spellings[i];
	return NULL;
}

/* bpf_asm's extension names: the table's, plus the older "vlan_pr". */
static int ancillary_lookup(const char *s, size_t len)
{
	char buf[32];

	if (len >= sizeof(buf))
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[len] = '\0';
	if (strcmp(buf, "vlan_pr") == 0)
		return SKF_AD_VLAN_TAG_PRESENT;
	return bpfvm_ancillary_lookup(buf);
}

static int is_reserved(const char *s, size_t len)
{
	return find_spelling(s, len) || ancillary_lookup(s, len) >= 0 || word_is(s, len, "len") ||
	       word_is(s, len, "x") || word_is(s, len, "a") || word_is(s, len, "m");
}

struct label {
	const char *name;
	size_t len;
	uint32_t insn;
	const char *at;
};

enum ref_field { REF_K, REF_JT, REF_JF };

struct ref {
	const char *name;
	size_t len;
	uint32_t insn;
	enum ref_field field;
	const char *at;
};

struct asm_state {
	struct fmt_cur *cur;
	struct fmt_build b;
	struct label *labels;
	size_t nlabels, caplabels;
	struct ref *refs;
	size_t nrefs, caprefs;
};

static int grow(struct asm_state *st, void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 32;
	p = realloc(*arr, c * elem);
	if (!p)
		return fmt_err(st->cur, st->cur->p, "out of memory");
	*arr = p;
	*cap = c;
	return 0;
}

/* Blanks and comments, never a newline (a C comment may span lines). */
static int skip_ws(struct fmt_cur *cur)
{
	for (;;) {
		fmt_skip_blanks(cur);
		if (*cur->p == ';') {
			while (*cur->p && *cur->p != '\n')
				cur->p++;
		} else if (cur->p[0] == '/' && cur->p[1] == '*') {
			const char *end = strstr(cur->p + 2, "*/");

			if (!end)
				return fmt_err(cur, cur->p, "unterminated comment");
			cur->p = end + 2;
		} else {
			return 0;
		}
	}
}

static int is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static size_t ident_len(const char *s)
{
	size_t n = 0;

	if (!is_ident_start(*s))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

#define K_MIN (-2147483648LL)
#define K_MAX 4294967295LL

static int number(struct fmt_cur *cur, const char *what, int64_t min, int64_t max, int64_t *v)
{
	return fmt_number(cur, what, FMT_NUM_SIGN | FMT_NUM_BIN, min, max, v);
}

static int expect(struct fmt_cur *cur, char c, const char *where)
{
	char fb[16];

	if (skip_ws(cur))
		return -1;
	if (*cur->p != c)
		return fmt_err(cur, cur->p, "expected '%c' %s, found %s", c, where,
			       fmt_found(cur->p, fb));
	cur->p++;
	return skip_ws(cur);
}

/* After '4' in 4*([k]&0xf). */
static int msh_rest(struct fmt_cur *cur, int64_t *k)
{
	int64_t mask;
	const char *at;

	if (expect(cur, '*', "in 4*([k]&0xf)") || expect(cur, '(', "in 4*([k]&0xf)") ||
	    expect(cur, '[', "in 4*([k]&0xf)") || number(cur, "an offset", K_MIN, K_MAX, k) ||
	    expect(cur, ']', "in 4*([k]&0xf)") || expect(cur, '&', "in 4*([k]&0xf)"))
		return -1;
	at = cur->p;
	if (number(cur, "the mask 0xf", K_MIN, K_MAX, &mask))
		return -1;
	if (mask != 0xf)
		return fmt_err(cur, at, "only 4*([k]&0xf) exists: the mask must be 0xf");
	return expect(cur, ')', "closing 4*([k]&0xf)");
}

/* One operand by its shape; labels are returned as OPND_LABEL with the name. */
static int operand(struct fmt_cur *cur, int *kind, int64_t *k, const char **lab, size_t *llen)
{
	const char *s = cur->p;
	size_t n;
	char fb[16];

	*k = 0;
	if (fmt_at_eol(cur)) {
		*kind = BPFVM_OPND_NONE;
		return 0;
	}
	if (*s == '#') {
		cur->p++;
		if (skip_ws(cur))
			return -1;
		n = ident_len(cur->p);
		if (n) {
			int off;

			if (word_is(cur->p, n, "len") || word_is(cur->p, n, "pktlen")) {
				*kind = BPFVM_OPND_LEN;
			} else if ((off = ancillary_lookup(cur->p, n)) >= 0) {
				*kind = BPFVM_OPND_ABS;
				*k = (uint32_t)(SKF_AD_OFF + off);
			} else {
				return fmt_err(cur, cur->p, "unknown extension '#%.*s'", (int)n,
					       cur->p);
			}
			cur->p += n;
			return 0;
		}
		*kind = BPFVM_OPND_IMM;
		return number(cur, "a constant after '#'", K_MIN, K_MAX, k);
	}
	if (*s == '%') {
		cur->p++;
		if (skip_ws(cur))
			return -1;
		n = ident_len(cur->p);
		if (word_is(cur->p, n, "x") || word_is(cur->p, n, "a")) {
			*kind = tolower((unsigned char)*cur->p) == 'x' ? BPFVM_OPND_X : BPFVM_OPND_A;
			cur->p += n;
			return 0;
		}
		return fmt_err(cur, cur->p, "expected 'x' or 'a' after '%%', found %s",
			       fmt_found(cur->p, fb));
	}
	if (*s == '[') {
		cur->p++;
		if (skip_ws(cur))
			return -1;
		if (*cur->p == '%') {
			cur->p++;
			if (skip_ws(cur))
				return -1;
		}
		n = ident_len(cur->p);
		if (word_is(cur->p, n, "x")) {
			cur->p += n;
			*kind = BPFVM_OPND_IND;
			if (expect(cur, '+', "after '[x'") ||
			    number(cur, "an offset", K_MIN, K_MAX, k))
				return -1;
			return expect(cur, ']', "after the offset");
		}
		*kind = BPFVM_OPND_ABS;
		if (number(cur, "an offset or 'x +'", K_MIN, K_MAX, k))
			return -1;
		return expect(cur, ']', "after the offset");
	}
	if (isdigit((unsigned char)*s) || *s == '-' || *s == '+') {
		if (number(cur, "a number", K_MIN, K_MAX, k))
			return -1;
		if (skip_ws(cur))
			return -1;
		if (*cur->p == '*') {
			if (*k != 4)
				return fmt_err(cur, s, "only 4*([k]&0xf) exists: the factor must be 4");
			*kind = BPFVM_OPND_MSH;
			return msh_rest(cur, k);
		}
		*kind = OPND_BARE_IMM;
		return 0;
	}
	n = ident_len(s);
	if (n) {
		int off;

		cur->p += n;
		if (word_is(s, n, "x")) {
			*kind = BPFVM_OPND_X;
		} else if (word_is(s, n, "a")) {
			*kind = BPFVM_OPND_A;
		} else if (word_is(s, n, "m")) {
			*kind = BPFVM_OPND_MEM;
			if (expect(cur, '[', "after 'M'") ||
			    number(cur, "a scratch index", K_MIN, K_MAX, k))
				return -1;
			return expect(cur, ']', "after the scratch index");
		} else if (word_is(s, n, "len")) {
			*kind = BPFVM_OPND_LEN;
		} else if ((off = ancillary_lookup(s, n)) >= 0) {
			*kind = BPFVM_OPND_ABS;
			*k = (uint32_t)(SKF_AD_OFF + off);
		} else {
			*kind = OPND_LABEL;
			*lab = s;
			*llen = n;
		}
		return 0;
	}
	return fmt_err(cur, s, "expected an operand, found %s", fmt_found(s, fb));
}

static int add_ref(struct asm_state *st, const char *name, size_t len, enum ref_field f,
		   const char *at)
{
	if (grow(st, (void **)&st->refs, &st->caprefs, st->nrefs, sizeof(*st->refs)))
		return -1;
	st->refs[st->nrefs++] = (struct ref){ name, len, st->b.len, f, at };
	return 0;
}

/* ", label": a jump target. */
static int target(struct asm_state *st, enum ref_field f, const char *after)
{
	struct fmt_cur *cur = st->cur;
	size_t n;
	char fb[16];

	if (expect(cur, ',', after))
		return -1;
	n = ident_len(cur->p);
	if (!n)
		return fmt_err(cur, cur->p, "expected a label as jump target, found %s",
			       fmt_found(cur->p, fb));
	if (is_reserved(cur->p, n))
		return fmt_err(cur, cur->p, "expected a label as jump target, found keyword '%.*s'",
			       (int)n, cur->p);
	if (add_ref(st, cur->p, n, f, cur->p))
		return -1;
	cur->p += n;
	return skip_ws(cur);
}

/* ".insn code, jt, jf, k" (this reader's own; see the top of the file). */
static int raw_insn(struct asm_state *st, struct bpfvm_insn *in)
{
	struct fmt_cur *cur = st->cur;
	int64_t code, jt, jf, k;

	if (skip_ws(cur) || number(cur, "a code", 0, 0xffff, &code) ||
	    expect(cur, ',', "after the code") || number(cur, "jt", 0, 255, &jt) ||
	    expect(cur, ',', "after jt") || number(cur, "jf", 0, 255, &jf) ||
	    expect(cur, ',', "after jf") || number(cur, "k", K_MIN, K_MAX, &k))
		return -1;
	in->code = (uint16_t)code;
	in->jt = (uint8_t)jt;
	in->jf = (uint8_t)jf;
	in->k = (uint32_t)k;
	return skip_ws(cur);
}

static int instruction(struct asm_state *st, struct bpfvm_insn *in)
{
	struct fmt_cur *cur = st->cur;
	const char *mn = cur->p, *opat, *lab = NULL;
	size_t mlen = ident_len(mn), llen = 0;
	const struct spelling *sp;
	int kind = BPFVM_OPND_NONE, code;
	int64_t k;
	char fb[16];

	memset(in, 0, sizeof(*in));
	if (mn[0] == '.' && word_is(mn + 1, ident_len(mn + 1), "insn")) {
		cur->p += 5;
		return raw_insn(st, in);
	}
	if (!mlen)
		return fmt_err(cur, mn, "expected an instruction or a label, found %s",
			       fmt_found(mn, fb));
	sp = find_spelling(mn, mlen);
	if (!sp)
		return fmt_err(cur, mn, "unknown mnemonic '%.*s'", (int)mlen, mn);
	cur->p += mlen;
	if (skip_ws(cur))
		return -1;
	opat = cur->p;
	if (operand(cur, &kind, &k, &lab, &llen))
		return -1;
	if (sp->kind == SP_IMM_ONLY) {
		if (kind != BPFVM_OPND_IMM && kind != OPND_BARE_IMM)
			return fmt_err(cur, opat, "'%s' takes only a constant", sp->word);
		kind = BPFVM_OPND_IMM;
	} else if (kind == OPND_BARE_IMM) {
		return fmt_err(cur, opat, "a constant needs '#' here: '%s #%.*s'", sp->word,
			       (int)(cur->p - opat), opat);
	}
	if (kind == OPND_LABEL) {
		if (strcmp(sp->mnem, "ja") != 0)
			return fmt_err(cur, opat, "'%s' does not take a label here", sp->word);
		kind = BPFVM_OPND_JA;
		if (add_ref(st, lab, llen, REF_K, lab))
			return -1;
	}
	/* bpf_exp.y also reads "ldx 4*([k]&0xf)" as ldxb. */
	if (kind == BPFVM_OPND_MSH && strcmp(sp->mnem, "ldx") == 0)
		code = fmt_find_code("ldxb", 4, BPFVM_OPND_MSH);
	else
		code = fmt_find_code(sp->mnem, strlen(sp->mnem), (enum bpfvm_operand)kind);
	if (code < 0) {
		if (fmt_at_eol(cur) && opat == cur->p)
			return fmt_err(cur, opat, "'%s' needs an operand", sp->word);
		return fmt_err(cur, opat, "'%s' does not take the operand '%.*s'%s", sp->word,
			       (int)(cur->p - opat), opat,
			       strcmp(sp->mnem, "ret") == 0 && kind == BPFVM_OPND_X
				       ? " (BPF_RET|BPF_X is not in the opcode table; write .insn 0x0e, 0, 0, 0)"
				       : "");
	}
	in->code = (uint16_t)code;
	in->k = (uint32_t)k;
	if (BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != BPF_JA) {
		if (sp->kind == SP_NEGATED) {
			if (target(st, REF_JF, "after the jump condition"))
				return -1;
			if (*cur->p == ',')
				return fmt_err(cur, cur->p,
					       "'%s' takes one target (it becomes jf); expected end of line",
					       sp->word);
			return 0;
		}
		if (target(st, REF_JT, "after the jump condition"))
			return -1;
		if (*cur->p == ',')
			return target(st, REF_JF, "after the true target");
	}
	return 0;
}

static struct label *find_label(struct asm_state *st, const char *name, size_t len)
{
	for (size_t i = 0; i < st->nlabels; i++)
		if (st->labels[i].len == len && memcmp(st->labels[i].name, name, len) == 0)
			return &st->labels[i];
	return NULL;
}

static int define_label(struct asm_state *st, const char *name, size_t len)
{
	struct label *old = find_label(st, name, len);

	if (is_reserved(name, len))
		return fmt_err(st->cur, name, "'%.*s' is a bpf_asm keyword and cannot be a label",
			       (int)len, name);
	if (old)
		return fmt_err(st->cur, name, "label '%.*s' is already defined (instruction %u)",
			       (int)len, name, old->insn);
	if (grow(st, (void **)&st->labels, &st->caplabels, st->nlabels, sizeof(*st->labels)))
		return -1;
	st->labels[st->nlabels++] = (struct label){ name, len, st->b.len, name };
	return 0;
}

static int resolve(struct asm_state *st)
{
	for (size_t i = 0; i < st->nlabels; i++)
		if (st->labels[i].insn >= st->b.len)
			return fmt_err(st->cur, st->labels[i].at,
				       "label '%.*s' is not followed by an instruction",
				       (int)st->labels[i].len, st->labels[i].name);
	for (size_t i = 0; i < st->nrefs; i++) {
		const struct ref *r = &st->refs[i];
		const struct label *l = find_label(st, r->name, r->len);
		struct bpfvm_insn *in = &st->b.insns[r->insn];
		int64_t delta;

		if (!l)
			return fmt_err(st->cur, r->at, "no such label '%.*s'", (int)r->len, r->name);
		delta = (int64_t)l->insn - r->insn - 1;
		if (r->field == REF_K) {
			/* bpf_asm's bpf_reduce_k_jumps() lets k wrap for a label behind. */
			in->k = (uint32_t)(uint64_t)delta;
			continue;
		}
		if (delta < 0)
			return fmt_err(st->cur, r->at,
				       "jump from instruction %u to '%.*s' (instruction %u) goes "
				       "backward; jt/jf only go forward",
				       r->insn, (int)r->len, r->name, l->insn);
		if (delta > 255)
			return fmt_err(st->cur, r->at,
				       "jump from instruction %u to '%.*s' (instruction %u) is %lld "
				       "ahead; jt/jf reach at most 255",
				       r->insn, (int)r->len, r->name, l->insn, (long long)delta);
		if (r->field == REF_JT)
			in->jt = (uint8_t)delta;
		else
			in->jf = (uint8_t)delta;
	}
	return 0;
}

int fmt_asm_parse(struct fmt_cur *cur, struct bpfvm_prog *prog)
{
	struct asm_state st = { .cur = cur };
	char fb[16];
	int rc = -1;

	for (;;) {
		struct bpfvm_insn in;
		const char *at;

		/* bpf_exp.l's "^#.*": whole-line comments, as cpp leaves them. */
		if (*cur->p == '#') {
			while (*cur->p && *cur->p != '\n')
				cur->p++;
		}
		if (skip_ws(cur))
			goto out;
		if (*cur->p == '\0')
			break;
		if (*cur->p == '\n') {
			cur->p++;
			continue;
		}
		for (;;) {	/* labels: "name:" */
			const char *s = cur->p;
			size_t n = ident_len(s);

			if (!n)
				break;
			cur->p += n;
			if (skip_ws(cur))
				goto out;
			if (*cur->p != ':') {
				cur->p = s;
				break;
			}
			cur->p++;
			if (define_label(&st, s, n) || skip_ws(cur))
				goto out;
		}
		if (fmt_at_eol(cur))
			continue;
		at = cur->p;
		if (instruction(&st, &in) || skip_ws(cur))
			goto out;
		if (!fmt_at_eol(cur)) {
			/* After "jeq #k, lt" a second target may follow. */
			int one_target = st.nrefs && st.refs[st.nrefs - 1].insn == st.b.len &&
					 st.refs[st.nrefs - 1].field == REF_JT;

			fmt_err(cur, cur->p, "expected %send of line after the %s, found %s",
				one_target ? "',' or " : "",
				one_target ? "jump target" : "instruction", fmt_found(cur->p, fb));
			goto out;
		}
		if (fmt_push(&st.b, cur, at, &in))
			goto out;
	}
	if (st.b.len == 0) {
		fmt_err(cur, cur->p, "expected an instruction, found end of input");
		goto out;
	}
	if (resolve(&st))
		goto out;
	rc = fmt_finish(&st.b, cur, prog);
out:
	free(st.b.insns);
	free(st.labels);
	free(st.refs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Printing. */

static long long s32(uint32_t v)
{
	return fmt_s32(v);
}

/* Is the instruction i + 1 + off inside the program?  Sets @t. */
static int in_prog(const struct bpfvm_prog *p, uint32_t i, uint32_t off, uint32_t *t)
{
	*t = i + 1 + off;	/* wraps as bpf_asm's k does */
	return *t < p->len;
}

/*
 * The text of instruction @i, or a .insn line when bpf_asm cannot say it
 * exactly.  Marks the labels it uses in @targets.
 */
static void insn_text(const struct bpfvm_prog *p, uint32_t i, char *buf, size_t size,
		      uint8_t *targets)
{
	const struct bpfvm_insn *in = &p->insns[i];
	const struct bpfvm_opinfo *oi = bpfvm_opinfo(in->code);
	int cond = BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != BPF_JA;
	int hex = BPF_CLASS(in->code) != BPF_RET &&
		  !(BPF_CLASS(in->code) == BPF_ALU && BPF_OP(in->code) != BPF_AND &&
		    BPF_OP(in->code) != BPF_OR && BPF_OP(in->code) != BPF_XOR);
	char opnd[48];
	uint32_t t, tt, tf;

	if (!oi->mnemonic || (!cond && (in->jt || in->jf)))
		goto raw;
	switch (oi->operand) {
	case BPFVM_OPND_NONE:
	case BPFVM_OPND_A:
	case BPFVM_OPND_X:
	case BPFVM_OPND_LEN:
		if (in->k)
			goto raw;
		snprintf(opnd, sizeof(opnd), "%s",
			 oi->operand == BPFVM_OPND_A   ? "a"
			 : oi->operand == BPFVM_OPND_X ? "x"
			 : oi->operand == BPFVM_OPND_LEN ? "#len"
						       : "");
		break;
	case BPFVM_OPND_IMM:
		if (hex)
			snprintf(opnd, sizeof(opnd), "#0x%x", in->k);
		else
			snprintf(opnd, sizeof(opnd), "#%u", in->k);
		break;
	case BPFVM_OPND_ABS: {
		const char *anc = NULL;

		if (in->k >= (uint32_t)SKF_AD_OFF && in->k - (uint32_t)SKF_AD_OFF < SKF_AD_MAX)
			anc = bpfvm_ancillary_name(in->k - (uint32_t)SKF_AD_OFF);
		if (anc)
			snprintf(opnd, sizeof(opnd), "#%s", anc);
		else
			snprintf(opnd, sizeof(opnd), "[%lld]", s32(in->k));
		break;
	}
	case BPFVM_OPND_IND:
		snprintf(opnd, sizeof(opnd), "[x + %lld]", s32(in->k));
		break;
	case BPFVM_OPND_MEM:
		snprintf(opnd, sizeof(opnd), "M[%u]", in->k);
		break;
	case BPFVM_OPND_MSH:
		snprintf(opnd, sizeof(opnd), "4*([%lld]&0xf)", s32(in->k));
		break;
	case BPFVM_OPND_JA:
		if (!in_prog(p, i, in->k, &t))
			goto raw;
		if (targets)
			targets[t] = 1;
		snprintf(buf, size, "%s L%u", oi->mnemonic, t);
		return;
	default:
		goto raw;
	}
	if (!cond) {
		snprintf(buf, size, "%s%s%s", oi->mnemonic, opnd[0] ? " " : "", opnd);
		return;
	}
	if (!in_prog(p, i, in->jt, &tt) || !in_prog(p, i, in->jf, &tf)) {
		/* One-target forms leave the other branch at 0: only the named
		 * target must exist. */
		if (in->jf == 0 && in_prog(p, i, in->jt, &tt))
			goto one_jt;
		if (in->jt == 0 && BPF_OP(in->code) != BPF_JSET && in_prog(p, i, in->jf, &tf))
			goto one_jf;
		goto raw;
	}
	if (in->jf == 0)
		goto one_jt;
	if (in->jt == 0 && BPF_OP(in->code) != BPF_JSET)
		goto one_jf;
	if (targets)
		targets[tt] = targets[tf] = 1;
	snprintf(buf, size, "%s %s, L%u, L%u", oi->mnemonic, opnd, tt, tf);
	return;
one_jt:
	if (targets)
		targets[tt] = 1;
	snprintf(buf, size, "%s %s, L%u", oi->mnemonic, opnd, tt);
	return;
one_jf:
	if (targets)
		targets[tf] = 1;
	snprintf(buf, size, "%s %s, L%u",
		 BPF_OP(in->code) == BPF_JEQ   ? "jneq"
		 : BPF_OP(in->code) == BPF_JGE ? "jlt"
					       : "jle",
		 opnd, tf);
	return;
raw: {
	/* Say in a comment what tcpdump -d would show, for the reader. */
	char d[96];
	size_t n;

	bpfvm_disasm_insn(in, i, d, sizeof(d));
	for (char *c = d; *c; c++)
		if (*c == '\t')
			*c = ' ';
	n = strlen(d);
	while (n && d[n - 1] == ' ')
		d[--n] = '\0';
	snprintf(buf, size, ".insn 0x%x, %u, %u, 0x%x\t; %s", in->code, in->jt, in->jf, in->k, d);
}
}

int fmt_asm_write(FILE *out, const struct bpfvm_prog *prog)
{
	uint8_t *targets = calloc(prog->len ? prog->len : 1, 1);
	char buf[192];

	if (!targets)
		return -1;
	for (uint32_t i = 0; i < prog->len; i++)
		insn_text(prog, i, buf, sizeof(buf), targets);
	for (uint32_t i = 0; i < prog->len; i++) {
		insn_text(prog, i, buf, sizeof(buf), NULL);
		if (targets[i])
			fprintf(out, "L%u:\t%s\n", i, buf);
		else
			fprintf(out, "\t%s\n", buf);
	}
	free(targets);
	return ferror(out) ? -1 : 0;
}
