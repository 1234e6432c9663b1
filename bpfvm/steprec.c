/*
 * steprec.c - a traced run kept as a plain array, and where two runs part.
 *
 * bpfvm_run_traced() hands each executed instruction to a callback; this
 * file keeps them (struct bpfvm_rec_step) and adds what a reader of the run
 * wants and the interpreter does not say: which byte of the frame each
 * load read, which sk_buff field an ancillary load read, where a jump
 * went, and why the run ended.  Printers (`capsim filter step`, `filter
 * diff`) only format these fields; they never work a position out.
 *
 * Positions count from pkt->bytes, the start of the frame, and follow the
 * interpreter's own rules (interp.c, its top comment and linux_load()):
 *
 *  - libpcap (bpf_filter()): offsets count from the record's first byte;
 *    LD IND reads at X + k in exact arithmetic, so a position can exceed
 *    2^32 (a failed load).
 *  - linux (bpf_skb_load_helper_8/16/32() after
 *    bpf_skb_load_helper_convert_offset(), net/core/filter.c): the offset
 *    is k, or X + k cut to an int32 for LD IND; a non-negative one counts
 *    from skb->data (@data_off into the frame, or the frame's end if it is
 *    shorter), one in [SKF_NET_OFF, 0) from the network header (@net_off),
 *    one in [SKF_LL_OFF, SKF_NET_OFF) from the MAC header (byte 0), and
 *    anything lower reads nothing at all.
 *
 * tests/test_steprec.c checks every successful load's position against the
 * value the interpreter put in A (or X, for LDX MSH), on every record of
 * the shipped traces in both semantics and in the SOCK_DGRAM view.
 */
#include "bpfvm.h"

#include <stdlib.h>
#include <string.h>

#define STEPREC_DEFAULT_MAX 65536u
/* steps[].next of the newest step until the run says where it went. */
#define STEPREC_PENDING UINT32_MAX

struct recorder {
	struct bpfvm_rec *rec;
	const struct bpfvm_prog *prog;
	const struct bpfvm_packet *pkt;
	enum bpfvm_semantics sem;
	uint32_t max_steps;
	int oom;		/* the array could not grow */
	int bad_pc;		/* a pc outside @prog: not the program of the vm */
};

/* skb->data as a frame position: a frame shorter than data_off is an empty
 * skb at its end (interp.c skb_data_off()). */
/* Fill the load fields of @s, which the interpreter marked as a packet
 * load of @s->load_size bytes by @in.  X after a load equals X before it,
 * except for LDX MSH, whose offset is k alone. */
static void resolve_load(struct bpfvm_rec_step *s, const struct bpfvm_insn *in,
			 const struct bpfvm_packet *pkt, enum bpfvm_semantics sem)
{
	int ind = BPF_CLASS(in->code) == BPF_LD && BPF_MODE(in->code) == BPF_IND;

	if (sem == BPFVM_LIBPCAP) {
		s->load_off = ind ? (int64_t)s->x + in->k : (int64_t)in->k;
		s->load_base = BPFVM_BASE_DATA;
		s->load_pos = s->load_off;
		return;
	}
	{
		int32_t off = (int32_t)(ind ? s->x + in->k : in->k);

		s->load_off = off;
		s->load_base = bpfvm_linux_load_pos(pkt, off, &s->load_pos);
	}
}

static int grow(struct bpfvm_rec *rec)
{
	uint32_t cap = rec->cap ? rec->cap * 2 : 64;
	struct bpfvm_rec_step *ns = realloc(rec->steps, (size_t)cap * sizeof(*ns));

	if (!ns)
		return -1;
	rec->steps = ns;
	rec->cap = cap;
	return 0;
}

static void record_step(const struct bpfvm_step *st, void *ctx)
{
	struct recorder *r = ctx;
	struct bpfvm_rec *rec = r->rec;
	struct bpfvm_rec_step *s;
	const struct bpfvm_insn *in;

	rec->executed++;
	if (rec->n && rec->steps[rec->n - 1].next == STEPREC_PENDING)
		rec->steps[rec->n - 1].next = st->pc;
	if (st->done)
		rec->end_pc = st->pc;
	if (st->pc >= r->prog->len) {
		r->bad_pc = 1;
		return;
	}
	in = &r->prog->insns[st->pc];
	if (st->done) {
		uint16_t op = BPF_OP(in->code);

		if (st->load_failed)
			rec->end = BPFVM_END_LOAD;
		else if (BPF_CLASS(in->code) == BPF_RET)
			rec->end = BPFVM_END_RET;
		else if (BPF_CLASS(in->code) == BPF_ALU && BPF_SRC(in->code) == BPF_X &&
			 (op == BPF_DIV || op == BPF_MOD))
			rec->end = BPFVM_END_DIV0;
		else if (in->code == (BPF_JMP | BPF_JA))
			rec->end = BPFVM_END_BACKJUMPS;
		else
			rec->end = BPFVM_END_ABORT;
	}
	if (rec->n >= r->max_steps) {
		rec->truncated = 1;
		return;
	}
	if (rec->n == rec->cap && grow(rec) != 0) {
		r->oom = 1;
		rec->truncated = 1;
		return;
	}
	s = &rec->steps[rec->n++];
	memset(s, 0, sizeof(*s));
	s->pc = st->pc;
	s->a = st->a;
	s->x = st->x;
	s->next = st->done ? UINT32_MAX : STEPREC_PENDING;
	s->mem = (int8_t)st->mem_written;
	s->anc = -1;
	s->done = st->done;
	if (BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != BPF_JA) {
		s->is_cond = 1;
		s->jumped = st->jumped;
	}
	if (st->load_size) {
		s->load_size = st->load_size;
		s->load_failed = st->load_failed;
		resolve_load(s, in, r->pkt, r->sem);
	} else if (r->sem == BPFVM_LINUX && BPF_CLASS(in->code) == BPF_LD &&
		   BPF_MODE(in->code) == BPF_ABS && bpfvm_is_ancillary(in->k)) {
		/* An ancillary load: the interpreter decoded it as one. */
		s->anc = (int8_t)(in->k - (uint32_t)SKF_AD_OFF);
	}
}

int bpfvm_record(const struct bpfvm *vm, const struct bpfvm_prog *prog,
		 const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta,
		 uint32_t max_steps, struct bpfvm_rec *rec, char *errbuf)
{
	struct recorder r = {
		.rec = rec, .prog = prog, .pkt = pkt, .sem = bpfvm_get_semantics(vm),
		.max_steps = max_steps ? max_steps : STEPREC_DEFAULT_MAX,
	};

	rec->n = 0;
	rec->executed = 0;
	rec->end = BPFVM_END_RET;
	rec->end_pc = 0;
	rec->truncated = 0;
	rec->ret = bpfvm_run_traced(vm, pkt, meta, record_step, &r);
	if (rec->n && rec->steps[rec->n - 1].next == STEPREC_PENDING)
		rec->steps[rec->n - 1].next = UINT32_MAX;
	if (r.bad_pc) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "bpfvm_record: the run stepped past instruction %u, the end of the "
			 "program given: it is not the program the VM was created from",
			 prog->len ? prog->len - 1 : 0);
		return -1;
	}
	if (r.oom) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "bpfvm_record: out of memory keeping step %u of the run", rec->n);
		return -1;
	}
	return 0;
}

void bpfvm_rec_free(struct bpfvm_rec *rec)
{
	if (!rec)
		return;
	free(rec->steps);
	memset(rec, 0, sizeof(*rec));
}

int bpfvm_rec_step_reads(const struct bpfvm_rec_step *s)
{
	return s->load_size != 0 || (s->anc >= 0 && s->anc != SKF_AD_ALU_XOR_X);
}

/* The next read at or after step @i of @r, or the last step; 1 if a read. */
static int next_read(const struct bpfvm_rec *r, uint32_t *i)
{
	while (*i < r->n && !bpfvm_rec_step_reads(&r->steps[*i]))
		(*i)++;
	if (*i < r->n)
		return 1;
	*i = r->n ? r->n - 1 : 0;
	return 0;
}

/* Do two reads read the same thing?  Packet loads by base-resolved
 * position and size (an unmappable one by its raw offset), ancillary
 * loads by field. */
static int same_read(const struct bpfvm_rec_step *a, const struct bpfvm_rec_step *b)
{
	if (a->load_size != b->load_size || a->anc != b->anc)
		return 0;
	if (!a->load_size)
		return 1;
	if ((a->load_base == BPFVM_BASE_NONE) != (b->load_base == BPFVM_BASE_NONE))
		return 0;
	if (a->load_base == BPFVM_BASE_NONE)
		return a->load_off == b->load_off;
	return a->load_pos == b->load_pos;
}

int bpfvm_rec_part(const struct bpfvm_rec *r0, const struct bpfvm_rec *r1,
		   struct bpfvm_rec_parting *p)
{
	uint32_t i = 0, j = 0;

	memset(p, 0, sizeof(*p));
	for (;;) {
		int ri = next_read(r0, &i), rj = next_read(r1, &j);

		p->step[0] = i;
		p->step[1] = j;
		p->read[0] = (uint8_t)ri;
		p->read[1] = (uint8_t)rj;
		if (!ri && !rj)
			return 0;
		if (!ri || !rj || !same_read(&r0->steps[i], &r1->steps[j]))
			return 1;
		p->reads++;
		i++;
		j++;
	}
}
