/*
 * fuzzprog.c - the program campaign behind `capsim fuzz programs`: random
 * classic BPF programs, valid and deliberately broken, judged by our
 * verifier and VM and by the running kernel.
 *
 * Phase A, every program: the verifier under test (bpfvm_verify with
 * BPFVM_LINUX by default) against setsockopt(SO_ATTACH_FILTER) on a plain
 * UDP socket with no filter yet, the situation verify.c models.  Both must
 * accept or both refuse; when both refuse, the kernel's errno must be
 * EINVAL, or ENOMEM exactly when our message blames the option-memory
 * charge.
 *
 * Phase B, every program both accept: the frames run through the model
 * (sim_rx_view, bpfvm_run, bpfvm_snaplen) and through the kernel
 * (live_filter_run on a veth pair in a private namespace); for each frame
 * the two must agree on reaching the taps, delivery, tp_len, tp_snaplen
 * and the captured bytes.  Ancillary values the kernel does not make
 * reproducible (skb->hash, the CPU, prandom) cannot be compared: programs
 * loading them are counted and left out.  The ifindex is pinned to the
 * harness's receiving device instead.
 *
 * Every disagreement is minimised with bpfvm_minimize() against a
 * predicate that asks both sides again and insists on the same kind of
 * disagreement (in phase B, on that one frame alone), then kept once per
 * distinct minimised program.
 *
 * Determinism: program i is a function of (seed, i) alone, and so are the
 * frames it runs on, so a report's program index names a program that can
 * be made again; a time limit only decides how many programs run.
 */
#include "live.h"
#include "sim.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_ether.h>

#define DEFAULT_PROGRAMS	10000
#define DEFAULT_FRAMES		64	/* per program: one batch costs about as much as one frame */
#define DEFAULT_POOL		512
#define DEFAULT_FINDINGS	20
#define DEFAULT_MIN_TESTS	2000
#define POOL_CUT_LEN		160	/* cut frames end somewhere below this */
#define DEFAULT_WORKERS		8	/* live harnesses run side by side */
#define MAX_WORKERS		64
#define RING_BLOCKS		8	/* 2 MiB rings: a batch of 128 frames needs far less */

/* ------------------------------------------------------------------ */
/* Names and defaults. */

const char *live_fuzz_source_name(unsigned src)
{
	switch (src) {
	case LIVE_FUZZ_SRC_RAW:
		return "raw";
	case LIVE_FUZZ_SRC_SOUP:
		return "soup";
	case LIVE_FUZZ_SRC_MUTANT:
		return "mutant";
	case LIVE_FUZZ_SRC_BULK:
		return "bulk";
	}
	if (src == BPFVM_DEFECT_NONE)
		return "valid";
	return src < BPFVM_DEFECT_COUNT ? bpfvm_defect_name((enum bpfvm_defect)src) : "unknown";
}

void live_fuzz_opts_init(struct live_fuzz_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->programs = DEFAULT_PROGRAMS;
	o->live = 1;
	o->sock_type = SOCK_RAW;
	o->pin_ifindex = 1;
	o->exclude = 1u << (SKF_AD_RXHASH / 4) | 1u << (SKF_AD_CPU / 4) |
		     1u << (SKF_AD_RANDOM / 4);
	o->frames_per_prog = DEFAULT_FRAMES;
	o->pool = DEFAULT_POOL;
	o->extra_per_prog = DEFAULT_FRAMES;
	o->max_findings = DEFAULT_FINDINGS;
	o->minimize_tests = DEFAULT_MIN_TESTS;
	o->workers = DEFAULT_WORKERS;
}

/* ------------------------------------------------------------------ */
/* The default engines. */

int live_fuzz_verify_default(void *ctx, const struct bpfvm_prog *prog, char *errbuf)
{
	(void)ctx;
	return bpfvm_verify(prog, BPFVM_LINUX, errbuf);
}

int live_fuzz_model_default(void *ctx, const struct bpfvm_prog *prog,
			    const struct sim_rx_dev *dev, int sock_type,
			    const uint8_t *const *frames, const uint32_t *lens, size_t n,
			    uint8_t *buf, struct live_fuzz_outcome *out, char *errbuf)
{
	enum sim_sock_type type = sock_type == SOCK_DGRAM ? SIM_SOCK_DGRAM : SIM_SOCK_RAW;
	struct bpfvm *vm;
	size_t off = 0;

	(void)ctx;
	if (bpfvm_create(&vm, prog, BPFVM_LINUX, errbuf) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sim_rx_view view;
		uint32_t ret;

		memset(&out[i], 0, sizeof(out[i]));
		sim_rx_view(dev, frames[i], lens[i], type, buf + off, &view);
		off += lens[i];
		if (view.drop != SIM_DROP_NONE)
			continue;
		out[i].reached = 1;
		out[i].len = view.pkt.caplen - view.pkt.data_off;
		out[i].bytes = view.pkt.bytes + view.pkt.data_off;
		ret = bpfvm_run(vm, &view.pkt, &view.meta);
		out[i].delivered = ret != 0;
		out[i].snaplen = ret ? bpfvm_snaplen(vm, &view.pkt, ret) : 0;
	}
	bpfvm_destroy(vm);
	return 0;
}

void live_fuzz_engines_default(struct live_fuzz_engines *e)
{
	e->verify = live_fuzz_verify_default;
	e->model = live_fuzz_model_default;
	e->ctx = NULL;
}

/* ------------------------------------------------------------------ */
/* Programs. */

static uint32_t below(uint64_t *rng, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(rng) % n) : 0;
}

static uint32_t interesting_k(uint64_t *rng)
{
	static const uint32_t v[] = {
		0, 1, 2, 4, 12, 14, 16, 23, 31, 32, 33, 0x800, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xffffffff, (uint32_t)SKF_NET_OFF, (uint32_t)SKF_LL_OFF,
		(uint32_t)SKF_AD_OFF, (uint32_t)SKF_AD_OFF + SKF_AD_MAX,
	};
	uint32_t r = below(rng, 100);

	if (r < 40)
		return v[below(rng, sizeof(v) / sizeof(v[0]))];
	if (r < 60)
		return (uint32_t)SKF_AD_OFF + 4 * below(rng, SKF_AD_MAX / 4 + 2);
	if (r < 85)
		return below(rng, 128);
	return (uint32_t)bpfvm_rand64(rng);
}

/* Whitelisted codes with random operands and jump offsets that land
 * anywhere near the end: verify.c's data-flow and range rules. */
static void soup(struct bpfvm_prog *p, uint64_t *rng)
{
	const uint16_t *codes;
	size_t ncodes = bpfvm_linux_codes(&codes);
	uint32_t n = 1 + below(rng, 24);

	p->insns = calloc(n, sizeof(*p->insns));
	if (!p->insns)
		return;
	p->len = n;
	for (uint32_t i = 0; i < n; i++) {
		struct bpfvm_insn *in = &p->insns[i];
		uint32_t room = n - i;

		in->code = codes[below(rng, (uint32_t)ncodes)];
		in->k = interesting_k(rng);
		if (BPF_CLASS(in->code) == BPF_LD || BPF_CLASS(in->code) == BPF_LDX ||
		    BPF_CLASS(in->code) == BPF_ST || BPF_CLASS(in->code) == BPF_STX)
			if (below(rng, 2))
				in->k = below(rng, 20);	/* scratch cells, near the 16 edge */
		if (BPF_CLASS(in->code) == BPF_JMP) {
			in->jt = (uint8_t)below(rng, room + 1);
			in->jf = (uint8_t)below(rng, room + 1);
			if (BPF_OP(in->code) == BPF_JA)
				in->k = below(rng, room + 1);
		}
	}
	if (below(rng, 100) < 80)
		p->insns[n - 1] = (struct bpfvm_insn){ BPF_RET | (below(rng, 2) ? BPF_A : BPF_K), 0,
						       0, interesting_k(rng) };
}

/* A valid program with one to three fields changed. */
static void mutate(struct bpfvm_prog *p, uint64_t *rng)
{
	const uint16_t *codes;
	size_t ncodes = bpfvm_linux_codes(&codes);
	uint32_t changes = 1 + below(rng, 3);

	for (uint32_t c = 0; c < changes && p->len; c++) {
		struct bpfvm_insn *in = &p->insns[below(rng, p->len)];

		switch (below(rng, 6)) {
		case 0:
			in->code = codes[below(rng, (uint32_t)ncodes)];
			break;
		case 1:
			in->code = (uint16_t)bpfvm_rand64(rng);
			break;
		case 2:
			in->k = interesting_k(rng);
			break;
		case 3:
			in->jt = (uint8_t)below(rng, 256);
			break;
		case 4:
			in->jf = (uint8_t)(p->len - (uint32_t)(in - p->insns) - 1 + below(rng, 3));
			break;
		default:
			p->len -= below(rng, p->len) / 4;	/* cut the tail */
			break;
		}
	}
}

/*
 * A long straight program with a few forward jumps, a random share of its
 * instructions the translation makes long (indirect loads, MSH, DIV/MOD by
 * X): the edges verify.c models for bpf_convert_filter() - the socket's
 * option-memory charge (ENOMEM) and eBPF jump offsets that must fit in 16
 * bits - are crossed at random, not only where a test put them.
 */
static void bulk(struct bpfvm_prog *p, uint64_t *rng)
{
	static const uint16_t light[] = {
		BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_W | BPF_LEN, BPF_MISC | BPF_TAX,
		BPF_MISC | BPF_TXA, BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_AND | BPF_X,
		BPF_ALU | BPF_NEG, BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_XOR | BPF_X,
	};
	static const uint16_t heavy[] = {
		BPF_LD | BPF_B | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_W | BPF_IND,
		BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LDX | BPF_MSH | BPF_B,
		BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_MOD | BPF_X,
	};
	uint32_t n = 1000 + below(rng, BPFVM_MAXINSNS - 1000 + 1);
	uint32_t heavy_pct = below(rng, 101);

	p->insns = calloc(n, sizeof(*p->insns));
	if (!p->insns)
		return;
	p->len = n;
	for (uint32_t i = 0; i + 1 < n; i++) {
		struct bpfvm_insn *in = &p->insns[i];
		uint32_t room = n - i - 1, r = below(rng, 100);

		if (r < 2) {
			uint32_t top = room < 256 ? room : 256;

			in->code = BPF_JMP | BPF_JEQ | BPF_K;
			in->jt = (uint8_t)below(rng, top);
			in->jf = (uint8_t)below(rng, top);
			in->k = below(rng, 4);
		} else if (r < 3) {
			in->code = BPF_JMP | BPF_JA;
			in->k = below(rng, room);
		} else if (below(rng, 100) < heavy_pct) {
			in->code = heavy[below(rng, sizeof(heavy) / sizeof(heavy[0]))];
			in->k = below(rng, 100);
			if (in->code == (BPF_LD | BPF_W | BPF_ABS) && below(rng, 4) == 0)
				in->k = (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL;
		} else {
			in->code = light[below(rng, sizeof(light) / sizeof(light[0]))];
			in->k = below(rng, 1000);
		}
	}
	p->insns[n - 1] = (struct bpfvm_insn){ BPF_RET | BPF_A, 0, 0, 0 };
}

static void progen_opts(struct bpfvm_progen_opts *go, uint64_t *rng)
{
	static const uint32_t lens[] = { 4, 12, 32, 64, 64, 128 };
	static const uint32_t hints[] = { 20, 64, 96, 128, 256 };

	memset(go, 0, sizeof(*go));
	go->max_len = below(rng, 100) < 2 ? BPFVM_MAXINSNS : lens[below(rng, 6)];
	go->ancillary = below(rng, 100) < 70;
	go->negative_offsets = below(rng, 100) < 40;
	go->pkt_len_hint = hints[below(rng, 5)];
}

/* Program @index of the campaign @seed: a function of the two alone.
 * Returns its source; @p is empty on allocation failure. */
static unsigned make_program(uint64_t seed, uint64_t index, struct bpfvm_prog *p)
{
	uint64_t mix = seed ^ 0x70726f6772616d73ULL, rng;
	struct bpfvm_progen_opts go;
	uint32_t r;

	mix += index * 0xd1342543de82ef95ULL;
	rng = bpfvm_rand64(&mix);
	p->insns = NULL;
	p->len = 0;
	r = below(&rng, 100);
	if (r < 50) {
		progen_opts(&go, &rng);
		bpfvm_progen(p, BPFVM_DEFECT_NONE, &go, &rng);
		return BPFVM_DEFECT_NONE;
	}
	if (r < 75) {
		enum bpfvm_defect d = (enum bpfvm_defect)(1 + below(&rng, BPFVM_DEFECT_COUNT - 1));

		progen_opts(&go, &rng);
		bpfvm_progen(p, d, &go, &rng);
		return d;
	}
	if (r < 83) {
		uint32_t n = below(&rng, 40);

		p->insns = calloc(n ? n : 1, sizeof(*p->insns));
		if (!p->insns)
			return LIVE_FUZZ_SRC_RAW;
		p->len = n;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t v = bpfvm_rand64(&rng);

			memcpy(&p->insns[i], &v, sizeof(v));
		}
		return LIVE_FUZZ_SRC_RAW;
	}
	if (r < 91) {
		soup(p, &rng);
		return LIVE_FUZZ_SRC_SOUP;
	}
	if (r < 98) {
		progen_opts(&go, &rng);
		bpfvm_progen(p, BPFVM_DEFECT_NONE, &go, &rng);
		mutate(p, &rng);
		return LIVE_FUZZ_SRC_MUTANT;
	}
	bulk(p, &rng);
	return LIVE_FUZZ_SRC_BULK;
}

static int prog_copy(struct bpfvm_prog *dst, const struct bpfvm_prog *src)
{
	dst->len = src->len;
	dst->insns = malloc((src->len ? src->len : 1) * sizeof(*src->insns));
	if (!dst->insns)
		return -1;
	if (src->len)
		memcpy(dst->insns, src->insns, (size_t)src->len * sizeof(*src->insns));
	return 0;
}

static int prog_equal(const struct bpfvm_prog *a, const struct bpfvm_prog *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->insns, b->insns, (size_t)a->len * sizeof(*a->insns)) == 0);
}

/* The SKF_AD_* number (/ 4) of the first ancillary load in @p whose bit is
 * in @mask, or -1.  Ancillary loads are LD ABS of any size with k in
 * [SKF_AD_OFF, SKF_AD_OFF + SKF_AD_MAX) (bpf_anc_helper()). */
static int loads_ancillary(const struct bpfvm_prog *p, uint32_t mask, uint32_t *all)
{
	int first = -1;

	if (all)
		*all = 0;
	for (uint32_t i = 0; i < p->len; i++) {
		const struct bpfvm_insn *in = &p->insns[i];
		uint32_t ad;

		if (BPF_CLASS(in->code) != BPF_LD || BPF_MODE(in->code) != BPF_ABS)
			continue;
		if (in->k < (uint32_t)SKF_AD_OFF || in->k - (uint32_t)SKF_AD_OFF >= SKF_AD_MAX)
			continue;
		ad = (in->k - (uint32_t)SKF_AD_OFF) / 4;
		if (!(mask & 1u << ad))
			continue;
		if (all)
			*all |= 1u << ad;
		if (first < 0)
			first = (int)ad;
	}
	return first;
}

/* ------------------------------------------------------------------ */
/* The campaign's state. */

struct campaign;

/* One accepted program on its way through phase B.  With several workers,
 * each slot's kernel run happens on a thread of its own, on a harness of
 * its own; everything else happens on the calling thread, slot by slot in
 * program order. */
struct slot {
	struct campaign *c;
	struct live_filter *lf;		/* NULL without the kernel */
	struct bpfvm_prog prog;
	uint64_t index;
	unsigned source;
	const uint8_t **frames;		/* this program's frames ... */
	uint32_t *lens;
	long *origin;			/* ... and where in the pool they are */
	size_t nframes;
	struct live_verdict *kv;	/* the kernel's verdicts */
	int rc;				/* the kernel run's result */
	char err[LIVE_ERRBUF_SIZE];
	pthread_t thread;
};

struct campaign {
	const struct live_fuzz_opts *o;
	struct live_fuzz_engines eng;
	struct live_fuzz_report *rep;
	uint32_t exclude;		/* o->exclude, plus ifidx when not pinned */
	int sock;			/* the plain socket phase A attaches to */
	struct slot *slots;		/* one per worker */
	uint32_t nslots;
	struct sim_rx_dev dev;
	/* The frame pool: generated frames, then the caller's. */
	uint8_t *pool_data;
	const uint8_t **pool;
	uint32_t *pool_len;
	size_t npool;
	uint32_t kept[2];		/* findings kept, per enum live_fuzz_phase */
	size_t maxframes;		/* frames one program runs on, at most */
	struct live_fuzz_outcome *mo;	/* the model's outcomes for one slot */
	uint8_t *scratch;
	size_t scratch_size;
	char err[LIVE_ERRBUF_SIZE];
	double t0;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* SO_ATTACH_FILTER on the plain socket: 0 if attached (and detached
 * again, so every program meets a socket with no filter), else errno. */
static int kernel_verdict(struct campaign *c, const struct bpfvm_prog *p)
{
	struct sock_fprog fp = {
		.len = (unsigned short)p->len,
		.filter = (struct sock_filter *)p->insns,
	};
	int zero = 0;

	if (p->len > 0xffff)
		return EINVAL;	/* sock_fprog cannot even say so; bpf_check_basics_ok() would refuse */
	if (setsockopt(c->sock, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) != 0)
		return errno;
	setsockopt(c->sock, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Findings. */

static struct live_fuzz_finding *new_finding(struct campaign *c, enum live_fuzz_phase phase,
					     uint64_t index, unsigned source,
					     const struct bpfvm_prog *p)
{
	struct live_fuzz_report *rep = c->rep;
	struct live_fuzz_finding *f, *grown;

	grown = realloc(rep->findings, (rep->n_findings + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	rep->findings = grown;
	f = &grown[rep->n_findings];
	memset(f, 0, sizeof(*f));
	f->phase = phase;
	f->program = index;
	f->source = source;
	f->extra_index = -1;
	if (prog_copy(&f->original, p) != 0 || prog_copy(&f->minimized, p) != 0) {
		bpfvm_prog_free(&f->original);
		bpfvm_prog_free(&f->minimized);
		return NULL;
	}
	return f;
}

static void drop_finding(struct live_fuzz_finding *f)
{
	bpfvm_prog_free(&f->original);
	bpfvm_prog_free(&f->minimized);
	free(f->frame);
	free((void *)f->model.bytes);
	free((void *)f->kernel.bytes);
}

/* Keep the newest finding unless an earlier one minimised to the same
 * program for the same reason; then count it there. */
static void keep_or_merge(struct campaign *c)
{
	struct live_fuzz_report *rep = c->rep;
	struct live_fuzz_finding *f = &rep->findings[rep->n_findings];

	for (size_t i = 0; i < rep->n_findings; i++) {
		struct live_fuzz_finding *g = &rep->findings[i];

		if (g->phase == f->phase && g->what == f->what && g->reproduced && f->reproduced &&
		    prog_equal(&g->minimized, &f->minimized)) {
			g->repeats++;
			drop_finding(f);
			return;
		}
	}
	c->kept[f->phase]++;
	rep->n_findings++;
}

/* ------------------------------------------------------------------ */
/* Phase A: the verifier against SO_ATTACH_FILTER. */

static const char V_KERNEL_REFUSES[] = "the verifier accepts, the kernel refuses";
static const char V_KERNEL_ACCEPTS[] = "the verifier refuses, the kernel accepts";
static const char V_ODD_ERRNO[] = "the kernel refuses with an errno other than EINVAL or ENOMEM";
static const char V_ENOMEM[] = "both refuse, but only one blames the option-memory charge (ENOMEM)";

/* What the pair of verdicts says, or NULL if they agree. */
static const char *verify_compare(int mine, const char *msg, int kern)
{
	if (mine == 0 && kern == 0)
		return NULL;
	if (mine == 0)
		return V_KERNEL_REFUSES;
	if (kern == 0)
		return V_KERNEL_ACCEPTS;
	if (kern != EINVAL && kern != ENOMEM)
		return V_ODD_ERRNO;
	if ((kern == ENOMEM) != (strstr(msg, "ENOMEM") != NULL))
		return V_ENOMEM;
	return NULL;
}

struct verify_pred {
	struct campaign *c;
	const char *what;
};

static int verify_keep(const struct bpfvm_prog *cand, void *ctx)
{
	struct verify_pred *vp = ctx;
	char msg[BPFVM_ERRBUF_SIZE] = "";
	int mine = vp->c->eng.verify(vp->c->eng.ctx, cand, msg);

	return verify_compare(mine, msg, kernel_verdict(vp->c, cand)) == vp->what;
}

static void report_verify(struct campaign *c, uint64_t index, unsigned source,
			  const struct bpfvm_prog *p, const char *what)
{
	struct live_fuzz_stats *st = &c->rep->st;
	struct verify_pred vp = { c, what };
	struct live_fuzz_finding *f;
	char err[BPFVM_ERRBUF_SIZE];
	double t = now_s();

	st->verify_disagreements++;
	if (c->kept[LIVE_FUZZ_PHASE_VERIFY] >= c->o->max_findings ||
	    !(f = new_finding(c, LIVE_FUZZ_PHASE_VERIFY, index, source, p))) {
		st->unminimised++;
		return;
	}
	f->what = what;
	f->reproduced = bpfvm_minimize(&f->minimized, verify_keep, &vp, c->o->minimize_tests,
				       &f->min, err) == 0;
	st->minimize_tests += f->min.tests;
	f->verify_rc = c->eng.verify(c->eng.ctx, &f->minimized, f->verify_msg);
	if (f->verify_rc == 0)
		f->verify_msg[0] = '\0';
	f->kernel_errno = kernel_verdict(c, &f->minimized);
	st->seconds_minimize += now_s() - t;
	keep_or_merge(c);
}

/* Phase A for one program.  Returns 1 if both accept it. */
static int phase_verify(struct campaign *c, uint64_t index, unsigned source,
			const struct bpfvm_prog *p)
{
	struct live_fuzz_stats *st = &c->rep->st;
	char msg[BPFVM_ERRBUF_SIZE] = "";
	const char *what;
	double t = now_s();
	int mine, kern;

	mine = c->eng.verify(c->eng.ctx, p, msg);
	kern = kernel_verdict(c, p);
	st->seconds_verify += now_s() - t;
	if (kern == 0)
		st->kernel_accepted++;
	else if (kern == ENOMEM)
		st->kernel_enomem++;
	what = verify_compare(mine, msg, kern);
	if (what)
		report_verify(c, index, source, p, what);
	return mine == 0 && kern == 0;
}

/* ------------------------------------------------------------------ */
/* Phase B: the model against the kernel, frame by frame. */

static const char E_REACH[] = "one side drops the frame before the taps, the other does not";
static const char E_DELIVER[] = "one side delivers the frame, the other does not";
static const char E_LENGTH[] = "the captured length differs";
static const char E_BYTES[] = "the captured bytes differ";

static void kernel_outcome(const struct live_verdict *v, struct live_fuzz_outcome *k)
{
	memset(k, 0, sizeof(*k));
	k->reached = v->reached;
	k->delivered = v->delivered;
	k->len = v->delivered ? v->tp_len : 0;
	k->snaplen = v->tp_snaplen;
	k->bytes = v->bytes;
}

/* NULL if the two outcomes agree, else what differs. */
static const char *exec_compare(const struct live_fuzz_outcome *m, const struct live_fuzz_outcome *k)
{
	if (m->reached != k->reached)
		return E_REACH;
	if (!m->reached)
		return NULL;
	if (m->delivered != k->delivered)
		return E_DELIVER;
	if (!m->delivered)
		return NULL;
	if (m->len != k->len || m->snaplen != k->snaplen)
		return E_LENGTH;
	if (m->snaplen && memcmp(m->bytes, k->bytes, m->snaplen) != 0)
		return E_BYTES;
	return NULL;
}

static int grow_scratch(struct campaign *c, size_t need)
{
	if (need <= c->scratch_size)
		return 0;
	free(c->scratch);
	c->scratch = malloc(need);
	c->scratch_size = c->scratch ? need : 0;
	return c->scratch ? 0 : -1;
}

/* The kernel's run of @p on the batch.  LIVE_ERR_PROG is retried once
 * with the socket's filter first swapped for a one-instruction program:
 * __sk_attach_prog() charges the new filter before it releases the old,
 * so two large programs in a row can exceed optmem_max together although
 * each fits alone. */
static int kernel_run(struct live_filter *lf, const struct bpfvm_prog *p,
		      const uint8_t *const *frames, const uint32_t *lens, size_t n,
		      struct live_verdict *out, char *errbuf)
{
	static const struct bpfvm_insn reject = { BPF_RET | BPF_K, 0, 0, 0 };
	const struct bpfvm_prog small = { (struct bpfvm_insn *)&reject, 1 };
	int r = live_filter_run(lf, p, frames, lens, n, out, errbuf);

	if (r == LIVE_ERR_PROG || r == LIVE_ERR_LOST) {
		r = live_filter_run(lf, &small, frames, lens, 0, out, errbuf);
		if (r == 0)
			r = live_filter_run(lf, p, frames, lens, n, out, errbuf);
	}
	return r;
}

struct exec_pred {
	struct campaign *c;
	const char *what;
	const uint8_t *frame;
	uint32_t len;
	struct live_fuzz_outcome m, k;	/* the last run's outcomes */
	const char *last;		/* the last run's verdict */
	int error;			/* a harness error ended the minimisation */
};

/* Run @p on the predicate's one frame through both sides. */
static int exec_one(struct exec_pred *ep, const struct bpfvm_prog *p)
{
	struct campaign *c = ep->c;
	struct live_verdict v;
	char msg[BPFVM_ERRBUF_SIZE];
	int r;

	ep->last = NULL;
	if (p->len == 0 || loads_ancillary(p, c->exclude, NULL) >= 0)
		return 0;
	if (kernel_verdict(c, p) != 0 || c->eng.verify(c->eng.ctx, p, msg) != 0)
		return 0;
	if (grow_scratch(c, ep->len + 1) != 0)
		return -1;
	if (c->eng.model(c->eng.ctx, p, &c->dev, c->o->sock_type, &ep->frame, &ep->len, 1,
			 c->scratch, &ep->m, msg) != 0)
		return 0;
	/* Minimising runs one program at a time, on the first harness. */
	r = kernel_run(c->slots[0].lf, p, &ep->frame, &ep->len, 1, &v, c->err);
	if (r == LIVE_ERR_PROG)
		return 0;
	if (r) {
		ep->error = r;
		return -1;
	}
	if (v.send_errno != 0)
		return 0;
	kernel_outcome(&v, &ep->k);
	ep->last = exec_compare(&ep->m, &ep->k);
	return 1;
}

static int exec_keep(const struct bpfvm_prog *cand, void *ctx)
{
	struct exec_pred *ep = ctx;
	int r = exec_one(ep, cand);

	if (r <= 0)
		return r;
	return ep->last == ep->what;
}

static uint8_t *dup_bytes(const uint8_t *p, uint32_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void keep_outcome(struct live_fuzz_outcome *dst, const struct live_fuzz_outcome *src)
{
	*dst = *src;
	dst->bytes = src->delivered ? dup_bytes(src->bytes, src->snaplen) : NULL;
}

/* Returns 0, or a negative enum live_error when the harness failed. */
static int report_exec(struct campaign *c, const struct slot *s, size_t fi, const char *what)
{
	struct live_fuzz_stats *st = &c->rep->st;
	struct exec_pred ep;
	struct live_fuzz_finding *f;
	char err[BPFVM_ERRBUF_SIZE];
	double t = now_s();
	long origin = s->origin[fi];

	st->exec_disagreements++;
	if (c->kept[LIVE_FUZZ_PHASE_EXEC] >= c->o->max_findings ||
	    !(f = new_finding(c, LIVE_FUZZ_PHASE_EXEC, s->index, s->source, &s->prog))) {
		st->unminimised++;
		return 0;
	}
	f->what = what;
	f->frame = dup_bytes(s->frames[fi], s->lens[fi]);
	f->frame_len = s->lens[fi];
	f->extra_index = origin >= (long)st->pool_frames ? origin - (long)st->pool_frames : -1;
	/* The batch's outcomes, copied now: the predicate's runs reuse the
	 * buffers they point into. */
	{
		struct live_fuzz_outcome k;

		kernel_outcome(&s->kv[fi], &k);
		keep_outcome(&f->model, &c->mo[fi]);
		keep_outcome(&f->kernel, &k);
	}
	memset(&ep, 0, sizeof(ep));
	ep.c = c;
	ep.what = what;
	ep.frame = f->frame;
	ep.len = f->frame_len;
	f->reproduced = f->frame && bpfvm_minimize(&f->minimized, exec_keep, &ep,
						   c->o->minimize_tests, &f->min, err) == 0;
	st->minimize_tests += f->min.tests;
	if (ep.error) {
		drop_finding(f);
		return ep.error;
	}
	/* Both sides once more on what is left, for the report. */
	if (f->reproduced && exec_one(&ep, &f->minimized) == 1) {
		free((void *)f->model.bytes);
		free((void *)f->kernel.bytes);
		keep_outcome(&f->model, &ep.m);
		keep_outcome(&f->kernel, &ep.k);
	}
	if (ep.error) {
		drop_finding(f);
		return ep.error;
	}
	f->verify_rc = c->eng.verify(c->eng.ctx, &f->minimized, f->verify_msg);
	if (f->verify_rc == 0)
		f->verify_msg[0] = '\0';
	f->kernel_errno = kernel_verdict(c, &f->minimized);
	st->seconds_minimize += now_s() - t;
	keep_or_merge(c);
	return 0;
}

/* Pick this program's frames: a function of (seed, index) alone. */
static void pick_frames(struct campaign *c, struct slot *s)
{
	const struct live_fuzz_opts *o = c->o;
	uint64_t mix = o->seed ^ 0x6672616d6573ULL, rng;
	size_t gen = c->rep->st.pool_frames, extra = c->rep->st.extra_frames;

	mix += s->index * 0x9e3779b97f4a7c15ULL;
	rng = bpfvm_rand64(&mix);
	s->nframes = 0;
	for (uint32_t i = 0; i < o->frames_per_prog && gen; i++)
		s->origin[s->nframes++] = (long)below(&rng, (uint32_t)gen);
	if (extra <= o->extra_per_prog) {
		for (size_t i = 0; i < extra; i++)
			s->origin[s->nframes++] = (long)(gen + i);
	} else {
		for (uint32_t i = 0; i < o->extra_per_prog; i++)
			s->origin[s->nframes++] = (long)(gen + below(&rng, (uint32_t)extra));
	}
	for (size_t i = 0; i < s->nframes; i++) {
		s->frames[i] = c->pool[s->origin[i]];
		s->lens[i] = c->pool_len[s->origin[i]];
	}
}

/* Phase B, first step, for a program both sides accept: leave it out if
 * it loads an excluded ancillary value, else pick its frames.  Returns 1
 * if it goes on to the kernel and the model. */
static int exec_wanted(struct campaign *c, struct slot *s)
{
	struct live_fuzz_stats *st = &c->rep->st;
	uint32_t all;

	if (loads_ancillary(&s->prog, c->exclude, &all) >= 0) {
		st->excluded++;
		for (unsigned i = 0; i < SKF_AD_MAX / 4; i++)
			if (all & 1u << i)
				st->excluded_by[i]++;
		return 0;
	}
	pick_frames(c, s);
	return s->nframes > 0;
}

/* Phase B, second step: the kernel's run (on a worker thread). */
static void *slot_kernel(void *arg)
{
	struct slot *s = arg;

	s->rc = kernel_run(s->lf, &s->prog, s->frames, s->lens, s->nframes, s->kv, s->err);
	return NULL;
}

/* Phase B, last step: the model's run and the comparison.  Returns 0 or a
 * negative enum live_error. */
static int exec_finish(struct campaign *c, struct slot *s)
{
	struct live_fuzz_stats *st = &c->rep->st;
	const char *first = NULL;
	size_t first_i = 0, need = 1;

	for (size_t i = 0; i < s->nframes; i++)
		need += s->lens[i];
	if (grow_scratch(c, need) != 0) {
		snprintf(c->err, LIVE_ERRBUF_SIZE, "fuzz programs: out of memory for a batch");
		return LIVE_ERR_SYS;
	}
	st->exec_programs++;
	if (c->eng.model(c->eng.ctx, &s->prog, &c->dev, c->o->sock_type, s->frames, s->lens,
			 s->nframes, c->scratch, c->mo, s->err) != 0) {
		/* The verifier accepted it, so the model must run it. */
		snprintf(c->err, LIVE_ERRBUF_SIZE, "the model refused to run a program the "
			 "verifier accepted: %.150s", s->err);
		return LIVE_ERR_ARG;
	}
	st->frames_modelled += s->nframes;
	if (!s->lf)
		return 0;
	if (s->rc == LIVE_ERR_PROG) {
		/* Even with a one-instruction filter swapped in first, the
		 * packet socket holds one while the new filter is charged
		 * (__sk_attach_prog(): charge, then release the old), so a
		 * program within that filter's size of optmem_max attaches to
		 * phase A's fresh socket but not here.  Counted, not compared. */
		st->packet_socket_refused++;
		return 0;
	}
	if (s->rc) {
		memcpy(c->err, s->err, sizeof(c->err));
		return s->rc;
	}
	for (size_t i = 0; i < s->nframes; i++) {
		struct live_fuzz_outcome k;
		const char *what;

		if (s->kv[i].send_errno != 0) {
			st->frames_unsent++;
			continue;
		}
		st->frames_compared++;
		kernel_outcome(&s->kv[i], &k);
		what = exec_compare(&c->mo[i], &k);
		if (what) {
			st->frame_disagreements++;
			if (!first) {
				first = what;
				first_i = i;
			}
		}
	}
	return first ? report_exec(c, s, first_i, first) : 0;
}

/* Phase B for the first @n slots: the kernel runs side by side (the
 * harness waits on its rings' block timers far more than it computes),
 * then model and comparison in program order.  Returns 0 or a negative
 * enum live_error; @failed receives the slot that failed. */
static int run_slots(struct campaign *c, uint32_t n, uint32_t *failed)
{
	struct live_fuzz_stats *st = &c->rep->st;
	double t = now_s(), m0 = st->seconds_minimize;
	int started[MAX_WORKERS] = { 0 };

	if (n && c->slots[0].lf) {
		for (uint32_t k = 1; k < n; k++)
			started[k] = pthread_create(&c->slots[k].thread, NULL, slot_kernel,
						    &c->slots[k]) == 0;
		slot_kernel(&c->slots[0]);
		for (uint32_t k = 1; k < n; k++) {
			if (started[k])
				pthread_join(c->slots[k].thread, NULL);
			else
				slot_kernel(&c->slots[k]);
		}
	}
	for (uint32_t k = 0; k < n; k++) {
		int r = exec_finish(c, &c->slots[k]);

		if (r) {
			*failed = k;
			st->seconds_exec += now_s() - t - (st->seconds_minimize - m0);
			return r;
		}
	}
	st->seconds_exec += now_s() - t - (st->seconds_minimize - m0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Setting up. */

/* Generated frames: trace_gen_frame()'s mix, a fifth of them cut short
 * (offsets near the end are where loads fail), and only lengths packet_snd()
 * sends on an Ethernet device (a header, at most MTU + header). */
static int build_pool(struct campaign *c)
{
	const struct live_fuzz_opts *o = c->o;
	struct trace_gen_opts go;
	size_t total = (size_t)o->pool + o->n_extra, off = 0;
	uint64_t rng;
	uint32_t gen = 0;

	c->pool = calloc(total ? total : 1, sizeof(*c->pool));
	c->pool_len = calloc(total ? total : 1, sizeof(*c->pool_len));
	c->pool_data = malloc((size_t)o->pool * TRACE_GEN_MAXFRAME + 1);
	if (!c->pool || !c->pool_len || !c->pool_data)
		return -1;
	trace_gen_opts_init(&go);
	go.seed = o->seed ^ 0x706f6f6cULL;
	memcpy(go.host_mac, c->dev.mac, 6);
	rng = go.seed;
	for (uint32_t tries = 0; gen < o->pool && tries < 8 * o->pool + 64; tries++) {
		uint8_t *f = c->pool_data + off;
		uint32_t caplen, len = trace_gen_frame(&rng, &go, f, &caplen);

		if (caplen < len)
			len = caplen;
		if (len > ETH_HLEN && below(&rng, 100) < 20) {
			uint32_t top = len < POOL_CUT_LEN ? len : POOL_CUT_LEN;

			len = ETH_HLEN + below(&rng, top - ETH_HLEN + 1);
		}
		if (len < ETH_HLEN || len > c->dev.mtu + ETH_HLEN)
			continue;
		c->pool[gen] = f;
		c->pool_len[gen] = len;
		off += len;
		gen++;
	}
	for (size_t i = 0; i < o->n_extra; i++) {
		c->pool[gen + i] = o->extra[i];
		c->pool_len[gen + i] = o->extra_lens[i];
	}
	c->npool = gen + o->n_extra;
	c->rep->st.pool_frames = gen;
	c->rep->st.extra_frames = (uint32_t)o->n_extra;
	c->maxframes = (size_t)o->frames_per_prog +
		       (o->n_extra < o->extra_per_prog ? o->n_extra : o->extra_per_prog);
	c->mo = calloc(c->maxframes + 1, sizeof(*c->mo));
	if (!c->mo)
		return -1;
	for (uint32_t k = 0; k < c->nslots; k++) {
		struct slot *s = &c->slots[k];

		s->frames = calloc(c->maxframes + 1, sizeof(*s->frames));
		s->lens = calloc(c->maxframes + 1, sizeof(*s->lens));
		s->origin = calloc(c->maxframes + 1, sizeof(*s->origin));
		s->kv = calloc(c->maxframes + 1, sizeof(*s->kv));
		if (!s->frames || !s->lens || !s->origin || !s->kv)
			return -1;
	}
	return 0;
}

static void campaign_free(struct campaign *c)
{
	if (c->sock >= 0)
		close(c->sock);
	for (uint32_t k = 0; c->slots && k < c->nslots; k++) {
		struct slot *s = &c->slots[k];
		struct live_filter_counters n;
		struct live_filter_counters *h = &c->rep->harness;

		if (s->lf) {
			live_filter_counters(s->lf, &n);
			h->frames += n.frames;
			h->batches += n.batches;
			h->ring_drops += n.ring_drops;
			h->resent_batches += n.resent_batches;
			h->confirm_resends += n.confirm_resends;
			live_filter_close(s->lf);
		}
		bpfvm_prog_free(&s->prog);
		free(s->frames);
		free(s->lens);
		free(s->origin);
		free(s->kv);
	}
	free(c->slots);
	free(c->pool_data);
	free(c->pool);
	free(c->pool_len);
	free(c->mo);
	free(c->scratch);
}

/* One harness per slot, all alike: the model pins SKF_AD_IFINDEX to the
 * first one's device, so they must agree on it. */
static int open_harnesses(struct campaign *c, char *errbuf)
{
	const struct live_fuzz_opts *o = c->o;
	struct live_filter_opts lo;
	int r;

	live_filter_opts_init(&lo);
	lo.sock_type = o->sock_type;
	lo.ring.block_nr = RING_BLOCKS;
	for (uint32_t k = 0; k < c->nslots; k++) {
		r = live_filter_open(&c->slots[k].lf, &lo, errbuf);
		if (r)
			return r;
		if (live_filter_ifindex(c->slots[k].lf) != live_filter_ifindex(c->slots[0].lf)) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "fuzz programs: harness %u receives on ifindex %d, harness 0 on %d; "
				 "SKF_AD_IFINDEX cannot be pinned for both (use --workers 1)",
				 k, live_filter_ifindex(c->slots[k].lf),
				 live_filter_ifindex(c->slots[0].lf));
			return LIVE_ERR_NOSUPPORT;
		}
	}
	memcpy(c->dev.mac, live_filter_mac(c->slots[0].lf), 6);
	c->dev.mtu = live_filter_mtu(c->slots[0].lf);
	if (o->pin_ifindex) {
		c->dev.ifindex = (uint32_t)live_filter_ifindex(c->slots[0].lf);
		c->rep->st.ifindex = (int)c->dev.ifindex;
	}
	return 0;
}

int live_fuzz_programs(const struct live_fuzz_opts *o, struct live_fuzz_report *rep, char *errbuf)
{
	struct live_fuzz_stats *st = &rep->st;
	struct campaign c;
	uint64_t i = 0;
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rep = rep;
	c.sock = -1;
	c.t0 = now_s();
	if (o->engines)
		c.eng = *o->engines;
	else
		live_fuzz_engines_default(&c.eng);
	/* Without the kernel nothing needs to be reproducible: the model runs
	 * every accepted program. */
	c.exclude = o->live ? o->exclude : 0;
	if (o->live && !o->pin_ifindex)
		c.exclude |= 1u << (SKF_AD_IFINDEX / 4);
	if (o->n_extra && (!o->extra || !o->extra_lens)) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "fuzz programs: %zu extra frames without bytes",
			 o->n_extra);
		return LIVE_ERR_ARG;
	}
	sim_rx_dev_init(&c.dev);
	c.nslots = o->live ? o->workers : 1;
	if (c.nslots == 0)
		c.nslots = 1;
	if (c.nslots > MAX_WORKERS)
		c.nslots = MAX_WORKERS;
	c.slots = calloc(c.nslots, sizeof(*c.slots));
	if (!c.slots) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "fuzz programs: out of memory");
		return LIVE_ERR_SYS;
	}
	for (uint32_t k = 0; k < c.nslots; k++)
		c.slots[k].c = &c;

	c.sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (c.sock < 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "fuzz programs: a UDP socket to attach programs to: %s", strerror(errno));
		ret = LIVE_ERR_SYS;
		goto out;
	}
	if (o->live) {
		ret = open_harnesses(&c, errbuf);
		if (ret)
			goto out;
	}
	if (build_pool(&c) != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "fuzz programs: out of memory for the frames");
		ret = LIVE_ERR_SYS;
		goto out;
	}

	/*
	 * Phase A program by program until every slot holds a program for
	 * phase B (or the programs run out), then phase B for the slots.  The
	 * time limit is looked at between rounds only, so the programs that
	 * ran are exactly programs 0 .. stats.programs - 1.
	 */
	while (i < o->programs && !ret) {
		uint32_t pending = 0, failed = 0;

		if (o->seconds > 0 && now_s() - c.t0 >= o->seconds) {
			st->stopped_early = 1;
			break;
		}
		while (i < o->programs && pending < c.nslots) {
			struct slot *s = &c.slots[pending];

			s->index = i++;
			s->source = make_program(o->seed, s->index, &s->prog);
			if (!s->prog.insns) {
				snprintf(errbuf, LIVE_ERRBUF_SIZE,
					 "fuzz programs: out of memory for program %llu",
					 (unsigned long long)s->index);
				ret = LIVE_ERR_SYS;
				break;
			}
			st->programs++;
			st->by_source[s->source]++;
			if (phase_verify(&c, s->index, s->source, &s->prog) && exec_wanted(&c, s))
				pending++;
			else
				bpfvm_prog_free(&s->prog);
		}
		if (!ret) {
			ret = run_slots(&c, pending, &failed);
			if (ret)
				snprintf(errbuf, LIVE_ERRBUF_SIZE, "program %llu: %.200s",
					 (unsigned long long)c.slots[failed].index, c.err);
		}
		for (uint32_t k = 0; k < pending; k++)
			bpfvm_prog_free(&c.slots[k].prog);
		st->seconds_total = now_s() - c.t0;
		if (o->progress)
			o->progress(o->progress_ctx, st);
	}
out:
	campaign_free(&c);
	st->seconds_total = now_s() - c.t0;
	return ret;
}

void live_fuzz_report_free(struct live_fuzz_report *rep)
{
	for (size_t i = 0; i < rep->n_findings; i++)
		drop_finding(&rep->findings[i]);
	free(rep->findings);
	memset(rep, 0, sizeof(*rep));
}
