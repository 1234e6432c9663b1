/*
 * test_vectors.c - the generic runner for tests/vectors/ ** / *.vec (the
 * format is in tests/vectors/README.md).  One cmocka test per file.
 *
 * For every vector and every `expect` line:
 *  - `reject SUBSTR`: bpfvm_verify() and bpfvm_create() refuse the program
 *    and the message contains SUBSTR;  `accept`: they take it;
 *  - a value: the program runs on the packet (bpfvm_run() and
 *    bpfvm_run_traced(), which must agree, the trace ending in a step with
 *    done = 1 and the same ret); in libpcap semantics the installed
 *    libpcap's bpf_filter() must return the same, so a wrong expectation
 *    cannot pass.
 * Every vector with a packet also runs at each captured length 0 .. n-1 in
 * every semantics whose verifier accepts the program: no engine may crash
 * or read outside the packet (the packet is copied to a buffer of exactly
 * that length, so ASan sees over-reads), traced and plain runs agree, and
 * in libpcap semantics the result equals bpf_filter()'s.
 *
 * bpf_filter() is not called on runs it cannot survive or would answer
 * from uninitialised memory: a code it aborts on, a scratch cell read before
 * any write (1.10.3 leaves its cells uninitialised), or a run our VM cut
 * short after too many backward jumps (1.10.3 would loop forever).  The
 * trace tells us which runs those are; see interp.c for the reasons.
 */
#include "testutil.h"

#include "bpfvm.h"
#include "pcap_probe.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_ROOT	"tests/vectors"
#define MAX_EXPECT	8
#define MAX_LINE	4096

struct expect {
	enum bpfvm_semantics sem;
	enum { EXP_VALUE, EXP_ACCEPT, EXP_REJECT } kind;
	uint32_t value;
	char substr[200];
	unsigned line;
};

struct vector {
	char name[128];
	unsigned line;
	struct bpfvm_insn *insns;
	uint32_t len, cap;
	uint8_t *pkt;
	uint32_t pkt_len, pkt_cap;
	int has_packet;
	int has_wirelen;
	uint32_t wirelen;
	struct bpfvm_meta meta;
	uint32_t data_off, net_off;
	struct expect exp[MAX_EXPECT];
	unsigned n_exp;
};

/* ------------------------------------------------------------------ */
/* Whether bpf_filter() can run what our VM just ran (see the top). */

/* Run @vm (libpcap semantics) traced; returns its value, *@safe = 1 if
 * bpf_filter() may be asked the same. */
static uint32_t run_probed(const struct bpfvm *vm, const struct bpfvm_insn *insns, uint32_t len,
			   const struct bpfvm_packet *pkt, int *safe)
{
	struct pcap_probe p = { .insns = insns, .len = len };
	uint32_t r = bpfvm_run_traced(vm, pkt, NULL, pcap_probe_step, &p);

	*safe = !p.unsafe;
	return r;
}

/* The trace's last step must be the end, with the run's value. */
struct last_step {
	unsigned steps;
	struct bpfvm_step last;
	unsigned done_count;
};

static void last_step_fn(const struct bpfvm_step *st, void *ctx)
{
	struct last_step *l = ctx;

	l->steps++;
	l->last = *st;
	l->done_count += st->done;
}

/* ------------------------------------------------------------------ */
/* Parsing. */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Decimal or 0x-hex, the whole token, fitting 32 bits. */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s + 2, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void vector_reset(struct vector *v)
{
	free(v->insns);
	free(v->pkt);
	memset(v, 0, sizeof(*v));
	v->net_off = 14;
	v->meta.hatype = 1;
}

static int push_insn(struct vector *v, struct bpfvm_insn in)
{
	if (v->len == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 16;
		struct bpfvm_insn *n = realloc(v->insns, cap * sizeof(*n));

		if (!n)
			return -1;
		v->insns = n;
		v->cap = cap;
	}
	v->insns[v->len++] = in;
	return 0;
}

static int push_byte(struct vector *v, uint8_t b)
{
	if (v->pkt_len == v->pkt_cap) {
		uint32_t cap = v->pkt_cap ? v->pkt_cap * 2 : 64;
		uint8_t *n = realloc(v->pkt, cap);

		if (!n)
			return -1;
		v->pkt = n;
		v->pkt_cap = cap;
	}
	v->pkt[v->pkt_len++] = b;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_packet(struct vector *v, const char *s)
{
	int hi = -1;

	v->has_packet = 1;
	for (; *s; s++) {
		int h;

		if (*s == ' ' || *s == '\t' || *s == ':')
			continue;
		h = hexval((unsigned char)*s);
		if (h < 0)
			return -1;
		if (hi < 0) {
			hi = h;
		} else {
			if (push_byte(v, (uint8_t)(hi << 4 | h)))
				return -1;
			hi = -1;
		}
	}
	return hi < 0 ? 0 : -1;
}

static int parse_meta(struct vector *v, char *s)
{
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		char *eq = strchr(tok, '=');
		uint32_t val;

		if (!eq)
			return -1;
		*eq = '\0';
		if (strcmp(tok, "random_seed") == 0) {
			char *end;

			errno = 0;
			v->meta.random_seed = strtoull(eq + 1, &end, 0);
			if (errno || *end)
				return -1;
			continue;
		}
		if (parse_u32(eq + 1, &val))
			return -1;
#define KEY(name, field, max)                   \
	if (strcmp(tok, name) == 0) {           \
		if (val > (max))                \
			return -1;              \
		field = val;                    \
		continue;                       \
	}
		KEY("protocol", v->meta.protocol, 0xffff)
		KEY("pkttype", v->meta.pkt_type, 0xff)
		KEY("ifindex", v->meta.ifindex, UINT32_MAX)
		KEY("mark", v->meta.mark, UINT32_MAX)
		KEY("queue", v->meta.queue, UINT32_MAX)
		KEY("hatype", v->meta.hatype, 0xffff)
		KEY("rxhash", v->meta.rxhash, UINT32_MAX)
		KEY("cpu", v->meta.cpu, UINT32_MAX)
		KEY("vlan_tci", v->meta.vlan_tci, 0xffff)
		KEY("vlan_present", v->meta.vlan_present, 0xff)
		KEY("vlan_tpid", v->meta.vlan_tpid, 0xffff)
		KEY("pay_offset", v->meta.pay_offset, UINT32_MAX)
		KEY("data_off", v->data_off, UINT32_MAX)
		KEY("net_off", v->net_off, UINT32_MAX)
#undef KEY
		return -1;
	}
	return 0;
}

static int parse_expect(struct vector *v, char *s, unsigned line)
{
	struct expect *e;
	char *sem, *what, *rest;

	if (v->n_exp == MAX_EXPECT)
		return -1;
	e = &v->exp[v->n_exp];
	memset(e, 0, sizeof(*e));
	e->line = line;
	sem = strtok(s, " \t");
	what = strtok(NULL, " \t");
	rest = strtok(NULL, "");
	if (!sem || !what || bpfvm_semantics_from_name(sem, &e->sem))
		return -1;
	if (strcmp(what, "reject") == 0) {
		e->kind = EXP_REJECT;
		snprintf(e->substr, sizeof(e->substr), "%s", rest ? trim(rest) : "");
	} else if (strcmp(what, "accept") == 0) {
		e->kind = EXP_ACCEPT;
	} else {
		if (rest)	/* a trailing comment only */
			rest[strcspn(rest, "#")] = '\0';
		if ((rest && *trim(rest)) || parse_u32(what, &e->value))
			return -1;
		e->kind = EXP_VALUE;
	}
	v->n_exp++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checking one vector. */

struct ctx {
	const char *file;
	unsigned bad;		/* failures in this file */
	unsigned vectors;
	unsigned runs;		/* engine runs */
	unsigned pcap_calls;	/* bpf_filter() comparisons */
};

#define FAIL(c, v, line, ...)                                                    \
	do {                                                                     \
		print_error("%s:%u: vector %s: ", (c)->file, (line), (v)->name); \
		print_error(__VA_ARGS__);                                        \
		print_error("\n");                                               \
		(c)->bad++;                                                      \
	} while (0)

/* Run @vm on @v's packet cut to @caplen; check plain == traced and, in
 * libpcap semantics, == bpf_filter().  Returns the value. */
static uint32_t run_once(struct ctx *c, const struct vector *v, const struct bpfvm *vm,
			 uint32_t caplen, unsigned line)
{
	enum bpfvm_semantics sem = bpfvm_get_semantics(vm);
	uint8_t *copy = malloc(caplen ? caplen : 1);
	struct bpfvm_packet pkt;
	struct last_step ls = { 0 };
	uint32_t r, rt;

	assert_non_null(copy);
	memcpy(copy, v->pkt, caplen);
	pkt.bytes = copy;
	pkt.caplen = caplen;
	pkt.wirelen = v->has_wirelen ? v->wirelen : v->pkt_len;
	if (pkt.wirelen < caplen)
		pkt.wirelen = caplen;
	pkt.data_off = v->data_off;
	pkt.net_off = v->net_off;

	r = bpfvm_run(vm, &pkt, &v->meta);
	rt = bpfvm_run_traced(vm, &pkt, &v->meta, last_step_fn, &ls);
	c->runs += 2;
	if (r != rt)
		FAIL(c, v, line, "%s caplen %u: bpfvm_run %u but bpfvm_run_traced %u",
		     bpfvm_semantics_name(sem), caplen, r, rt);
	if (ls.steps == 0 || !ls.last.done || ls.done_count != 1 || ls.last.ret != rt)
		FAIL(c, v, line, "%s caplen %u: the trace does not end once with ret %u",
		     bpfvm_semantics_name(sem), caplen, rt);
	if (bpfvm_snaplen(vm, &pkt, r) > r)
		FAIL(c, v, line, "snaplen above the return value");
	if (sem == BPFVM_LIBPCAP) {
		int safe;
		uint32_t rp = run_probed(vm, v->insns, v->len, &pkt, &safe);

		if (rp != r)
			FAIL(c, v, line, "libpcap caplen %u: probe run %u != %u", caplen, rp, r);
		if (safe) {
			uint32_t theirs = bpf_filter((const struct bpf_insn *)v->insns, copy,
						     pkt.wirelen, caplen);

			c->pcap_calls++;
			if (theirs != r)
				FAIL(c, v, line,
				     "libpcap caplen %u wirelen %u: bpfvm %u (0x%x), bpf_filter() %u (0x%x)",
				     caplen, pkt.wirelen, r, r, theirs, theirs);
		}
	}
	free(copy);
	return r;
}

static void check_vector(struct ctx *c, const struct vector *v)
{
	int checked[2] = { 0, 0 };

	c->vectors++;
	if (v->n_exp == 0)
		FAIL(c, v, v->line, "expects nothing");
	if (v->len == 0)
		FAIL(c, v, v->line, "has no program");
	for (unsigned i = 0; i < v->n_exp; i++) {
		const struct expect *e = &v->exp[i];
		const struct bpfvm_prog prog = { .insns = v->insns, .len = v->len };
		char err[BPFVM_ERRBUF_SIZE] = "";
		struct bpfvm *vm = NULL;
		int rv = bpfvm_verify(&prog, e->sem, err);
		int rc = bpfvm_create(&vm, &prog, e->sem, err);

		if ((rv == 0) != (rc == 0))
			FAIL(c, v, e->line, "bpfvm_verify and bpfvm_create disagree");
		if (e->kind == EXP_REJECT) {
			if (rc == 0)
				FAIL(c, v, e->line, "%s accepts, want reject \"%s\"",
				     bpfvm_semantics_name(e->sem), e->substr);
			else if (!strstr(err, e->substr))
				FAIL(c, v, e->line, "%s rejects with \"%s\", want \"%s\"",
				     bpfvm_semantics_name(e->sem), err, e->substr);
		} else if (rc != 0) {
			FAIL(c, v, e->line, "%s rejects: %s", bpfvm_semantics_name(e->sem), err);
		} else if (e->kind == EXP_VALUE) {
			uint32_t r;

			if (!v->has_packet) {
				FAIL(c, v, e->line, "a value needs a packet");
			} else {
				r = run_once(c, v, vm, v->pkt_len, e->line);
				if (r != e->value)
					FAIL(c, v, e->line, "%s returns %u (0x%x), want %u (0x%x)",
					     bpfvm_semantics_name(e->sem), r, r, e->value, e->value);
				checked[e->sem] = 1;
			}
		}
		bpfvm_destroy(vm);
	}

	/* Every semantics that accepts the program, at every shorter length
	 * (and the full length when no expectation ran it). */
	if (!v->has_packet)
		return;
	for (int s = 0; s < 2; s++) {
		const struct bpfvm_prog prog = { .insns = v->insns, .len = v->len };
		enum bpfvm_semantics sem = s ? BPFVM_LIBPCAP : BPFVM_LINUX;
		char err[BPFVM_ERRBUF_SIZE];
		struct bpfvm *vm;

		if (bpfvm_create(&vm, &prog, sem, err) != 0)
			continue;
		for (uint32_t cap = 0; cap < v->pkt_len + !checked[sem]; cap++)
			(void)run_once(c, v, vm, cap, v->line);
		bpfvm_destroy(vm);
	}
}

/* ------------------------------------------------------------------ */
/* Files. */

static int parse_error(struct ctx *c, unsigned line, const char *what)
{
	print_error("%s:%u: %s\n", c->file, line, what);
	c->bad++;
	return -1;
}

static void run_file(void **state)
{
	const char *path = *state;
	struct ctx c = { .file = path };
	struct vector v = { 0 };
	FILE *f = fopen(path, "r");
	char buf[MAX_LINE];
	unsigned line = 0;
	int have = 0, in_prog = 0;

	assert_non_null(f);
	vector_reset(&v);
	while (fgets(buf, sizeof(buf), f)) {
		char *s = trim(buf), *word, *rest;

		line++;
		if (*s == '\0' || *s == '#')
			continue;
		word = s;
		rest = s + strcspn(s, " \t");
		if (*rest)
			*rest++ = '\0';
		rest = trim(rest);
		if (strcmp(word, "expect") != 0) {
			rest[strcspn(rest, "#")] = '\0';	/* trailing comment */
			rest = trim(rest);
		}
		if (strcmp(word, "vector") == 0) {
			if (have)
				check_vector(&c, &v);
			vector_reset(&v);
			snprintf(v.name, sizeof(v.name), "%s", rest);
			v.line = line;
			have = 1;
			in_prog = 0;
			continue;
		}
		if (!have) {
			parse_error(&c, line, "a directive before the first `vector`");
			continue;
		}
		if (strcmp(word, "prog") == 0) {
			in_prog = 1;
			if (*rest)
				parse_error(&c, line, "`prog` takes no argument");
			continue;
		}
		if (strcmp(word, "packet") == 0) {
			in_prog = 0;
			if (parse_packet(&v, rest))
				parse_error(&c, line, "bad hex in `packet`");
		} else if (strcmp(word, "wirelen") == 0) {
			in_prog = 0;
			v.has_wirelen = 1;
			if (parse_u32(rest, &v.wirelen))
				parse_error(&c, line, "bad `wirelen`");
		} else if (strcmp(word, "meta") == 0) {
			in_prog = 0;
			if (parse_meta(&v, rest))
				parse_error(&c, line, "bad `meta` (unknown key or value out of range)");
		} else if (strcmp(word, "expect") == 0) {
			in_prog = 0;
			if (parse_expect(&v, rest, line))
				parse_error(&c, line, "bad `expect` line");
		} else if (in_prog) {
			/* "code jt jf k": word is the code, rest the others */
			struct bpfvm_insn in;
			uint32_t f4[4];
			char *tok[4] = { word, strtok(rest, " \t"), strtok(NULL, " \t"),
					 strtok(NULL, " \t") };
			int ok = tok[1] && tok[2] && tok[3] && !strtok(NULL, " \t");

			for (int i = 0; ok && i < 4; i++)
				ok = parse_u32(tok[i], &f4[i]) == 0;
			if (!ok || f4[0] > 0xffff || f4[1] > 0xff || f4[2] > 0xff) {
				parse_error(&c, line, "bad instruction line (want: code jt jf k)");
				continue;
			}
			in.code = (uint16_t)f4[0];
			in.jt = (uint8_t)f4[1];
			in.jf = (uint8_t)f4[2];
			in.k = f4[3];
			assert_int_equal(push_insn(&v, in), 0);
		} else {
			parse_error(&c, line, "unknown directive");
		}
	}
	fclose(f);
	if (have)
		check_vector(&c, &v);
	vector_reset(&v);
	print_message("%s: %u vectors, %u engine runs, %u bpf_filter() comparisons, %u failures\n",
		      path, c.vectors, c.runs, c.pcap_calls, c.bad);
	if (c.vectors == 0)
		fail_msg("%s: no vectors", path);
	if (c.bad)
		fail_msg("%s: %u failures", path, c.bad);
}

/* Every *.vec below @dir, appended to *@list (sorted later). */
static void find_vec(const char *dir, char ***list, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		size_t l = strlen(e->d_name);
		DIR *sub;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		sub = opendir(path);
		if (sub) {
			closedir(sub);
			find_vec(path, list, n);
		} else if (l > 4 && strcmp(e->d_name + l - 4, ".vec") == 0) {
			char **nl = realloc(*list, (*n + 1) * sizeof(*nl));

			assert_non_null(nl);
			*list = nl;
			(*list)[(*n)++] = strdup(path);
		}
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char **files = NULL;
	size_t n = 0;
	struct CMUnitTest *tests;
	int rc;

	find_vec(VEC_ROOT, &files, &n);
	if (n == 0) {
		fprintf(stderr, "test_vectors: no *.vec below %s (run from the top of the repository)\n",
			VEC_ROOT);
		return 1;
	}
	qsort(files, n, sizeof(*files), cmp_str);
	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++) {
		tests[i].name = files[i];
		tests[i].test_func = run_file;
		tests[i].initial_state = files[i];
	}
	rc = _cmocka_run_group_tests("vectors", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(tests);
	return rc;
}
