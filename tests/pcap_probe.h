/*
 * pcap_probe.h - whether libpcap's bpf_filter() may be asked what our VM
 * (libpcap semantics) just ran, decided while the VM runs traced: never if
 * the run executes a code bpf_filter() aborts on (bpf_validate() refuses
 * it), reads a scratch cell before writing it (bpf_filter()'s are
 * uninitialised stack), or was stopped by the VM's backward-jump limit.
 * Header-only, for the suites and the fuzz targets alike.
 */
#ifndef CAPSIM_PCAP_PROBE_H
#define CAPSIM_PCAP_PROBE_H

#include "bpfvm.h"

struct pcap_probe {
	const struct bpfvm_insn *insns;
	uint32_t len;
	uint16_t written;	/* scratch cells written so far this run */
	int unsafe;		/* bpf_filter() must not be asked */
	unsigned steps, done;	/* steps traced; steps that ended the run */
	uint32_t last_ret;	/* the value the last step returned */
};

/* A bpfvm_step_fn; @ctx is a struct pcap_probe set to the program and
 * otherwise zero. */
static inline void pcap_probe_step(const struct bpfvm_step *st, void *ctx)
{
	struct pcap_probe *p = ctx;
	const struct bpfvm_insn *in;

	p->steps++;
	p->done += st->done;
	p->last_ret = st->ret;
	if (st->pc >= p->len) {		/* the VM's end sentinel: not reachable */
		p->unsafe = 1;
		return;
	}
	in = &p->insns[st->pc];
	if (!bpfvm_opinfo(in->code)->linux_ok)
		p->unsafe = 1;	/* bpf_filter() aborts on a code outside the set */
	if ((in->code == (BPF_LD | BPF_MEM) || in->code == (BPF_LDX | BPF_MEM)) &&
	    (in->k >= 16 || !(p->written & (1u << in->k))))
		p->unsafe = 1;	/* reads an uninitialised cell */
	if (st->mem_written >= 0)
		p->written |= (uint16_t)(1u << st->mem_written);
	if (st->done && BPF_CLASS(in->code) == BPF_JMP)
		p->unsafe = 1;	/* stopped by the backward-jump limit */
}

#endif
