/*
 * compare.c - the model's linux semantics against what the running kernel
 * did, frame by frame and aspect by aspect.
 *
 * The model side plays, for one frame, what the kernel's receive path and
 * a packet socket's filter do: sim_rx_view() (eth_type_trans(),
 * skb_vlan_untag() and the drops before the ptype_all taps), then the
 * program in BPFVM_LINUX semantics, then bpfvm_snaplen() (packet_rcv() /
 * tpacket_rcv() cutting the frame to the program's return value).  The
 * kernel side is a struct live_verdict from live_filter_run().  Each
 * aspect a frame can disagree on is counted on its own, so a report can
 * say "caplen: 390/390 agree" and still name the one frame whose bytes
 * differ.
 *
 * Which aspects are compared depends on what the kernel did: a frame it
 * refused to send (packet_snd()) is counted by errno and compared on
 * nothing; a frame that reached the taps on one side only is a "reached"
 * disagreement and nothing more (the rest would only repeat it); the
 * filter's aspects need the frame delivered on both sides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

struct live_compare {
	struct bpfvm *vm;
	struct sim_rx_dev dev;
	enum sim_sock_type sock;
	int unreproducible;	/* SKF_AD_* offset the program reads, or -1 */
	uint32_t skip;		/* aspects never compared (bit per enum live_aspect) */
	uint8_t *scratch;	/* sim_rx_view()'s buffer for untagged frames */
	size_t scratch_size;
	struct live_compare_totals t;
};

static const char *const aspect_names[LIVE_ASPECT_COUNT] = {
	[LIVE_ASPECT_REACHED] = "reached taps",
	[LIVE_ASPECT_DELIVERED] = "delivered",
	[LIVE_ASPECT_CAPLEN] = "caplen",
	[LIVE_ASPECT_BYTES] = "bytes",
	[LIVE_ASPECT_PKTTYPE] = "pkt_type",
	[LIVE_ASPECT_VLAN] = "vlan",
	[LIVE_ASPECT_PROTOCOL] = "protocol",
};

const char *live_aspect_name(enum live_aspect a)
{
	return (unsigned)a < LIVE_ASPECT_COUNT ? aspect_names[a] : "unknown";
}

int live_prog_unreproducible(const struct bpfvm_prog *prog)
{
	for (uint32_t i = 0; i < prog->len; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];
		uint32_t ad;

		/* bpf_convert_filter() turns only "ld/ldh/ldb [k]" with k at or
		 * above SKF_AD_OFF into ancillary reads; indirect loads never are. */
		if (BPF_CLASS(in->code) != BPF_LD || BPF_MODE(in->code) != BPF_ABS ||
		    in->k < (uint32_t)SKF_AD_OFF)
			continue;
		ad = in->k - (uint32_t)SKF_AD_OFF;
		if (ad == SKF_AD_RXHASH || ad == SKF_AD_CPU || ad == SKF_AD_RANDOM)
			return (int)ad;
	}
	return -1;
}

int live_compare_create(struct live_compare **out, const struct bpfvm_prog *prog,
			const struct sim_rx_dev *dev, enum sim_sock_type sock, char *errbuf)
{
	char err[BPFVM_ERRBUF_SIZE];
	struct live_compare *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live compare: out of memory");
		return LIVE_ERR_SYS;
	}
	if (bpfvm_create(&c->vm, prog, BPFVM_LINUX, err) != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "the model's verifier rejects the program: %.200s", err);
		free(c);
		return LIVE_ERR_PROG;
	}
	c->dev = *dev;
	c->sock = sock;
	c->unreproducible = live_prog_unreproducible(prog);
	/* With a value no two runs share, the filter's verdict is the kernel's
	 * roll of the dice: only what the taps saw before it is comparable. */
	if (c->unreproducible >= 0)
		c->skip = 1u << LIVE_ASPECT_DELIVERED | 1u << LIVE_ASPECT_CAPLEN |
			  1u << LIVE_ASPECT_BYTES;
	*out = c;
	return LIVE_OK;
}

void live_compare_destroy(struct live_compare *c)
{
	if (!c)
		return;
	bpfvm_destroy(c->vm);
	free(c->scratch);
	free(c);
}

int live_compare_unreproducible(const struct live_compare *c)
{
	return c->unreproducible;
}

uint32_t live_compare_skipped(const struct live_compare *c)
{
	return c->skip;
}

int live_model_frame(struct live_compare *c, const uint8_t *frame, uint32_t len,
		     struct live_model_verdict *m, char *errbuf)
{
	struct sim_rx_view view;

	if (len > c->scratch_size) {
		uint8_t *nb = realloc(c->scratch, len);

		if (!nb) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "live compare: out of memory for a %u-byte frame", len);
			return LIVE_ERR_SYS;
		}
		c->scratch = nb;
		c->scratch_size = len;
	}
	memset(m, 0, sizeof(*m));
	sim_rx_view(&c->dev, frame, len, c->sock, c->scratch, &view);
	m->drop = view.drop;
	m->drop_func = view.drop_func;
	if (view.drop != SIM_DROP_NONE)
		return LIVE_OK;
	m->reached = 1;
	m->pkttype = view.meta.pkt_type;
	m->vlan_valid = view.meta.vlan_present;
	m->vlan_tci = view.meta.vlan_tci;
	m->vlan_tpid = view.meta.vlan_tpid;
	m->protocol = view.meta.protocol;
	m->len = view.pkt.caplen - view.pkt.data_off;
	m->ret = bpfvm_run(c->vm, &view.pkt, &view.meta);
	if (m->ret) {
		m->delivered = 1;
		m->snaplen = bpfvm_snaplen(c->vm, &view.pkt, m->ret);
		m->bytes = view.pkt.bytes + view.pkt.data_off;
	}
	return LIVE_OK;
}

/* Count a frame packet_snd() refused under its errno. */
static void count_send_error(struct live_compare_totals *t, int e)
{
	size_t i;

	t->not_sendable++;
	for (i = 0; i < t->n_send_errors; i++)
		if (t->send_errors[i].err == e)
			break;
	if (i == t->n_send_errors) {
		if (i == LIVE_SEND_ERRORS_MAX) {
			t->other_send_errors++;
			return;
		}
		t->send_errors[i].err = e;
		t->n_send_errors++;
	}
	t->send_errors[i].count++;
}

static void judge(struct live_frame_result *r, uint32_t skip, enum live_aspect a, int agree)
{
	if (skip & 1u << a)
		return;
	r->compared |= 1u << a;
	if (!agree)
		r->mismatched |= 1u << a;
}

uint32_t live_compare_verdicts(struct live_compare *c, uint64_t index, const struct live_verdict *k,
			       const struct live_model_verdict *m, struct live_frame_result *r)
{
	struct live_compare_totals *t = &c->t;
	uint32_t skip = c->skip;

	memset(r, 0, sizeof(*r));
	r->index = index;
	r->kernel = k;
	r->model = *m;
	t->frames++;
	if (k->send_errno != 0) {
		/* Not a mismatch: the kernel never got as far as receiving it. */
		r->not_sendable = 1;
		count_send_error(t, k->send_errno);
		t->not_sendable_model_drops += !m->reached;
		return 0;
	}
	t->sent++;
	t->kernel_reached += k->reached;
	t->kernel_delivered += k->delivered;
	judge(r, skip, LIVE_ASPECT_REACHED, k->reached == m->reached);
	if (k->reached && m->reached) {
		judge(r, skip, LIVE_ASPECT_PKTTYPE, k->pkttype == m->pkttype);
		judge(r, skip, LIVE_ASPECT_VLAN,
		      k->vlan_valid == m->vlan_valid && k->vlan_tpid_valid == m->vlan_valid &&
			  k->vlan_tci == m->vlan_tci && k->vlan_tpid == m->vlan_tpid);
		judge(r, skip, LIVE_ASPECT_PROTOCOL, k->protocol == m->protocol);
		judge(r, skip, LIVE_ASPECT_DELIVERED, k->delivered == m->delivered);
	}
	if (k->delivered && m->delivered) {
		int same_len = k->tp_len == m->len && k->tp_snaplen == m->snaplen;

		judge(r, skip, LIVE_ASPECT_CAPLEN, same_len);
		/* Bytes compare over the shorter capture; a length mismatch is
		 * already reported, and the bytes may still say why. */
		judge(r, skip, LIVE_ASPECT_BYTES,
		      memcmp(k->bytes, m->bytes,
			     k->tp_snaplen < m->snaplen ? k->tp_snaplen : m->snaplen) == 0);
	}
	for (int a = 0; a < LIVE_ASPECT_COUNT; a++) {
		t->compared[a] += (r->compared >> a) & 1;
		t->agreed[a] += ((r->compared & ~r->mismatched) >> a) & 1;
	}
	t->mismatched_frames += r->mismatched != 0;
	return r->mismatched;
}

int live_compare_frame(struct live_compare *c, uint64_t index, const uint8_t *frame, uint32_t len,
		       const struct live_verdict *k, struct live_frame_result *r, char *errbuf)
{
	struct live_model_verdict m;
	int ret = live_model_frame(c, frame, len, &m, errbuf);

	if (ret)
		return ret;
	live_compare_verdicts(c, index, k, &m, r);
	return LIVE_OK;
}

void live_compare_totals(const struct live_compare *c, struct live_compare_totals *t)
{
	*t = c->t;
}
