/*
 * fuzz_interp.c - the interpreter on arbitrary programs, packets and
 * metadata, in both semantics.
 *
 * Input: byte 0 = the number of instructions n, then n instructions of 8
 * bytes (code as 16-bit little-endian, jt, jf, k as 32-bit little-endian;
 * fewer if the input ends), then 16 bytes of metadata (zeros if missing,
 * see take_meta()), then the packet (the rest).
 *
 * For each semantics: bpfvm_create() must succeed exactly when
 * bpfvm_verify() does; an accepted program must give the same value from
 * bpfvm_run() and bpfvm_run_traced() (whose last step must say done), and
 * a snap length no larger than the value.  In libpcap semantics the value
 * must equal the installed libpcap's bpf_filter(), unless the run executes
 * something bpf_filter() cannot survive (see interp.c): any difference
 * aborts.  The packet sits in a buffer of exactly its length, so a read
 * outside it is an ASan report.
 */
#include "bpfvm.h"
#include "../pcap_probe.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_BYTES 16

static void die(const char *what, uint32_t mine, uint32_t other)
{
	fprintf(stderr, "fuzz_interp: %s: %u (0x%x) vs %u (0x%x)\n", what, mine, mine, other, other);
	abort();
}

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* 16 bytes to packet offsets and sk_buff fields. */
static void take_meta(const uint8_t m[META_BYTES], uint32_t caplen, struct bpfvm_packet *pkt,
		      struct bpfvm_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	pkt->data_off = m[0] & 0x80 ? m[0] & 0x7f : 0;	/* half SOCK_RAW */
	pkt->net_off = m[1];
	pkt->wirelen = caplen + (m[2] & 1 ? le16(m + 2) >> 1 : 0);
	meta->pkt_type = m[4];
	meta->vlan_present = m[5] & 1;
	meta->vlan_tci = (uint16_t)le16(m + 6);
	meta->protocol = (uint16_t)le16(m + 8);
	meta->mark = le32(m + 10);
	meta->queue = le16(m + 12) * 0x10001u;
	meta->hatype = (uint16_t)(m[14] | 1);
	meta->ifindex = m[15];
	meta->rxhash = le32(m + 10) ^ 0x9e3779b9u;
	meta->cpu = m[15] & 1;
	meta->vlan_tpid = meta->vlan_present ? 0x8100 : 0;
	meta->pay_offset = m[3];
	meta->random_seed = le32(m + 8) | (uint64_t)le32(m + 12) << 32;
}

static void check(const struct bpfvm_prog *prog, enum bpfvm_semantics sem,
		  const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta)
{
	char err[BPFVM_ERRBUF_SIZE];
	struct bpfvm *vm = NULL;
	struct pcap_probe pr = { .insns = prog->insns, .len = prog->len };
	int verified = bpfvm_verify(prog, sem, err) == 0;
	int created = bpfvm_create(&vm, prog, sem, err) == 0;
	uint32_t r, rt;

	if (verified != created)
		die("bpfvm_verify and bpfvm_create disagree", (uint32_t)verified, (uint32_t)created);
	if (!created)
		return;
	r = bpfvm_run(vm, pkt, meta);
	rt = bpfvm_run_traced(vm, pkt, meta, pcap_probe_step, &pr);
	if (r != rt)
		die("bpfvm_run vs bpfvm_run_traced", r, rt);
	if (pr.done != 1 || pr.last_ret != r)
		die("the trace does not end once with the value", pr.done, pr.last_ret);
	if (bpfvm_snaplen(vm, pkt, r) > r)
		die("snap length above the value", bpfvm_snaplen(vm, pkt, r), r);
	if (sem == BPFVM_LIBPCAP && !pr.unsafe) {
		uint32_t theirs = bpf_filter((const struct bpf_insn *)prog->insns, pkt->bytes,
					     pkt->wirelen, pkt->caplen);

		if (theirs != r)
			die("bpfvm (libpcap semantics) vs bpf_filter()", r, theirs);
	}
	bpfvm_destroy(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfvm_insn insns[255];
	uint8_t m[META_BYTES] = { 0 };
	struct bpfvm_prog prog = { .insns = insns };
	struct bpfvm_packet pkt;
	struct bpfvm_meta meta;
	size_t pos = 1, plen;
	uint8_t *bytes;

	if (size < 1)
		return 0;
	for (uint32_t i = 0; i < data[0] && pos + 8 <= size; i++, pos += 8) {
		insns[i].code = (uint16_t)le16(data + pos);
		insns[i].jt = data[pos + 2];
		insns[i].jf = data[pos + 3];
		insns[i].k = le32(data + pos + 4);
		prog.len++;
	}
	if (pos < size) {
		size_t n = size - pos < META_BYTES ? size - pos : META_BYTES;

		memcpy(m, data + pos, n);
		pos += n;
	}
	plen = size - pos;
	bytes = malloc(plen ? plen : 1);
	if (!bytes)
		return 0;
	memcpy(bytes, data + pos, plen);
	pkt.bytes = bytes;
	pkt.caplen = (uint32_t)plen;
	take_meta(m, pkt.caplen, &pkt, &meta);

	check(&prog, BPFVM_LINUX, &pkt, &meta);
	check(&prog, BPFVM_LIBPCAP, &pkt, NULL);
	free(bytes);
	return 0;
}
