/*
 * fuzz_format.c - every program reader (-ddd, -dd, -d, bpf_asm, and the
 * detection of AUTO) on arbitrary text.  Whatever parses must write out in
 * every format and read back the same, except where the -d listing cannot
 * carry a program (bpfvm/format.c lists what it drops): there the parser
 * must either refuse an "unimp" line or give the program with the unprinted
 * fields zeroed.  Any other difference aborts.
 */
#include "bpfvm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const enum bpfvm_format formats[] = {
	BPFVM_FMT_AUTO, BPFVM_FMT_DDD, BPFVM_FMT_DD, BPFVM_FMT_D, BPFVM_FMT_ASM,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_format: %s\n%s\n", what, detail ? detail : "");
	abort();
}

/* What the -d listing keeps of @in; 1 if bpf_image() cannot name it. */
static int d_view(const struct bpfvm_insn *in, struct bpfvm_insn *out)
{
	const struct bpfvm_opinfo *oi = bpfvm_opinfo(in->code);
	char buf[128];

	*out = *in;
	if (BPF_CLASS(in->code) != BPF_JMP || BPF_OP(in->code) == BPF_JA)
		out->jt = out->jf = 0;
	if (oi->operand == BPFVM_OPND_NONE || oi->operand == BPFVM_OPND_A ||
	    oi->operand == BPFVM_OPND_X || oi->operand == BPFVM_OPND_LEN)
		out->k = 0;
	bpfvm_disasm_insn(in, 0, buf, sizeof(buf));
	return strncmp(buf, "unimp", 5) == 0;
}

static void check_written(const struct bpfvm_prog *p, enum bpfvm_format fmt)
{
	char *text = NULL, err[BPFVM_ERRBUF_SIZE] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct bpfvm_prog q;
	int unimp = 0;

	if (!f)
		abort();
	if (bpfvm_write(f, p, fmt) != 0)
		die("write failed", NULL);
	if (fclose(f) != 0)
		abort();
	for (int pass = 0; pass < 2; pass++) {
		int rc = bpfvm_parse(text, "rt", pass ? BPFVM_FMT_AUTO : fmt, &q, err);

		if (fmt == BPFVM_FMT_D) {
			for (uint32_t i = 0; i < p->len; i++) {
				struct bpfvm_insn want;

				unimp |= d_view(&p->insns[i], &want);
				if (!unimp && rc == 0 && memcmp(&want, &q.insns[i], sizeof(want)) != 0)
					die("-d round trip differs", text);
			}
			if (unimp != (rc != 0) || (unimp && !strstr(err, "'unimp'")))
				die(rc ? err : "-d with unimp parsed", text);
			if (rc == 0 && q.len != p->len)
				die("-d round trip length differs", text);
		} else {
			if (rc != 0)
				die(err, text);
			if (q.len != p->len ||
			    (p->len && memcmp(q.insns, p->insns, p->len * sizeof(*p->insns)) != 0))
				die("round trip differs", text);
		}
		if (rc == 0)
			bpfvm_prog_free(&q);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < NFORMATS; i++) {
		struct bpfvm_prog p;
		char err[BPFVM_ERRBUF_SIZE] = "";

		if (bpfvm_parse(text, "fuzz", formats[i], &p, err) != 0) {
			/* A refusal always names the place. */
			if (strncmp(err, "fuzz:", 5) != 0 || p.insns || p.len)
				die("error without a place", err);
			continue;
		}
		if (p.len > BPFVM_MAXINSNS)
			die("more than 4096 instructions accepted", NULL);
		for (size_t j = 1; j < NFORMATS; j++) {
			/* An empty program exists only in -ddd ("0"). */
			if (p.len == 0 && formats[j] != BPFVM_FMT_DDD)
				continue;
			check_written(&p, formats[j]);
		}
		bpfvm_prog_free(&p);
	}
	free(text);
	return 0;
}
