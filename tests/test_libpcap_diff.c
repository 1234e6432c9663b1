/*
 * test_libpcap_diff.c - bpfvm in libpcap semantics against the installed
 * libpcap's bpf_filter(), on well over 200,000 (program, packet) pairs.
 *
 * Programs: random ones from bpfvm_progen(BPFVM_DEFECT_NONE) with varied
 * options (ancillary and negative offsets included: libpcap must treat
 * them as plain out-of-bounds loads), and what libpcap itself compiles from
 * typical tcpdump expressions, optimised and not.
 * Packets: random bytes, and Ethernet frames carrying IPv4 (options,
 * fragments), IPv6 (extension headers), one or two VLAN tags, ARP; each cut
 * to a random captured length, with a wire length >= the captured one.
 *
 * Every pair must give the same value from bpfvm_run(), bpfvm_run_traced()
 * and bpf_filter(), and bpfvm_snaplen() must be min(value, caplen).  Runs
 * that bpf_filter() cannot survive are not handed to it (see
 * test_vectors.c and interp.c); they are counted and must stay rare.
 *
 * The seed is fixed (CAPSIM_SEED overrides it) and printed; the first
 * mismatch is printed as a tcpdump -ddd program and a hex packet.
 */
#include "testutil.h"

#include "bpfvm.h"
#include "pcap_probe.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SEED 0x63617073696d3031ULL	/* "capsim01" */
#define MAX_PKT	     1600

static uint64_t seed_from_env(void)
{
	const char *s = getenv("CAPSIM_SEED");

	return s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
}

/* ------------------------------------------------------------------ */
/* Packets. */

struct pkt {
	uint8_t bytes[MAX_PKT];
	uint32_t len;		/* the whole frame */
};

static uint32_t below(uint64_t *rng, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(rng) % n) : 0;
}

static void put(struct pkt *p, const void *b, uint32_t n)
{
	if (p->len + n > MAX_PKT)
		n = MAX_PKT - p->len;
	memcpy(p->bytes + p->len, b, n);
	p->len += n;
}

static void put8(struct pkt *p, uint32_t v)
{
	uint8_t b = (uint8_t)v;

	put(p, &b, 1);
}

static void put16(struct pkt *p, uint32_t v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v);
}

static void put_random(struct pkt *p, uint64_t *rng, uint32_t n)
{
	while (n--)
		put8(p, (uint32_t)bpfvm_rand64(rng));
}

/* Values filters look for, mixed with noise. */
static uint32_t port(uint64_t *rng)
{
	static const uint16_t common[] = { 80, 443, 53, 22, 25, 123, 1000, 1500, 2000, 8080, 0 };

	return below(rng, 4) ? common[below(rng, sizeof(common) / sizeof(common[0]))]
			     : (uint32_t)bpfvm_rand64(rng) & 0xffff;
}

static uint32_t ip4addr(uint64_t *rng)
{
	switch (below(rng, 4)) {
	case 0: return 0x0a000000u | below(rng, 0x1000000);		/* 10/8 */
	case 1: return 0xc0a80100u | below(rng, 4);			/* 192.168.1.0-3 */
	case 2: return 0x7f000001u;
	default: return (uint32_t)bpfvm_rand64(rng);
	}
}

static void put_l4(struct pkt *p, uint64_t *rng, uint32_t proto)
{
	switch (proto) {
	case 6:		/* TCP, flags of every kind */
		put16(p, port(rng));
		put16(p, port(rng));
		put32(p, (uint32_t)bpfvm_rand64(rng));
		put32(p, (uint32_t)bpfvm_rand64(rng));
		put8(p, (5 + below(rng, 3)) << 4);
		put8(p, below(rng, 4) ? 1u << below(rng, 8) : below(rng, 256));
		put16(p, 65535);
		put32(p, 0);
		break;
	case 17:	/* UDP */
		put16(p, port(rng));
		put16(p, port(rng));
		put16(p, 8 + below(rng, 100));
		put16(p, 0);
		break;
	case 1:		/* ICMP echo or anything */
		put8(p, below(rng, 2) ? 8 : below(rng, 256));
		put8(p, 0);
		put16(p, 0);
		put32(p, (uint32_t)bpfvm_rand64(rng));
		break;
	}
	put_random(p, rng, below(rng, 3) ? below(rng, 64) : below(rng, 1400));
}

static uint32_t l4proto(uint64_t *rng)
{
	static const uint8_t protos[] = { 6, 17, 1, 47, 50, 132, 2 };

	return protos[below(rng, sizeof(protos))];
}

static void put_ipv4(struct pkt *p, uint64_t *rng)
{
	uint32_t ihl = below(rng, 4) ? 5 : 5 + below(rng, 11);
	uint32_t proto = l4proto(rng);
	uint32_t frag = below(rng, 6) ? (below(rng, 2) ? 0x4000 : 0) : below(rng, 0x10000);

	put8(p, 0x40 | ihl);
	put8(p, 0);
	put16(p, 20 + below(rng, 1500));
	put16(p, (uint32_t)bpfvm_rand64(rng));
	put16(p, frag);
	put8(p, 1 + below(rng, 255));
	put8(p, proto);
	put16(p, 0);
	put32(p, ip4addr(rng));
	put32(p, ip4addr(rng));
	for (uint32_t i = 5; i < ihl; i++)
		put32(p, below(rng, 2) ? 0x01010101 : (uint32_t)bpfvm_rand64(rng));
	put_l4(p, rng, proto);
}

static void put_ipv6(struct pkt *p, uint64_t *rng)
{
	static const uint8_t ext[] = { 0, 43, 44, 60 };	/* hop-by-hop, routing, fragment, dst opts */
	uint32_t proto = l4proto(rng);
	int n_ext = below(rng, 3) ? 0 : 1 + (int)below(rng, 3);
	uint8_t chain[4];

	for (int i = 0; i < n_ext; i++)
		chain[i] = ext[below(rng, sizeof(ext))];
	put32(p, 0x60000000u | below(rng, 0x100000));
	put16(p, below(rng, 1500));
	put8(p, n_ext ? chain[0] : proto);
	put8(p, 64);
	for (int i = 0; i < 4; i++)
		put32(p, below(rng, 2) ? 0x20010db8u : (uint32_t)bpfvm_rand64(rng));
	for (int i = 0; i < 4; i++)
		put32(p, below(rng, 2) ? 0xfe800000u : (uint32_t)bpfvm_rand64(rng));
	for (int i = 0; i < n_ext; i++) {
		put8(p, i + 1 < n_ext ? chain[i + 1] : proto);
		put8(p, chain[i] == 44 ? 0 : below(rng, 2));
		put_random(p, rng, chain[i] == 44 || p->bytes[p->len - 1] == 0 ? 6 : 14);
	}
	put_l4(p, rng, proto);
}

static void put_arp(struct pkt *p, uint64_t *rng)
{
	put16(p, 1);
	put16(p, 0x0800);
	put8(p, 6);
	put8(p, 4);
	put16(p, 1 + below(rng, 2));
	put_random(p, rng, 6);
	put32(p, ip4addr(rng));
	put_random(p, rng, 6);
	put32(p, ip4addr(rng));
}

static void put_ether_payload(struct pkt *p, uint64_t *rng, int depth)
{
	switch (below(rng, depth < 2 ? 6 : 4)) {
	case 0:
	case 1:
		put16(p, 0x0800);
		put_ipv4(p, rng);
		break;
	case 2:
		put16(p, 0x86dd);
		put_ipv6(p, rng);
		break;
	case 3:
		if (below(rng, 2)) {
			put16(p, 0x0806);
			put_arp(p, rng);
		} else {
			put16(p, below(rng, 0x10000));
			put_random(p, rng, below(rng, 100));
		}
		break;
	default: {	/* a VLAN tag (802.1Q or QinQ), then more */
		static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };

		put16(p, tpids[below(rng, 3)]);
		put16(p, below(rng, 0x10000));
		put_ether_payload(p, rng, depth + 1);
		break;
	}
	}
}

static void make_packet(struct pkt *p, uint64_t *rng)
{
	p->len = 0;
	if (below(rng, 5) == 0) {		/* noise */
		put_random(p, rng, below(rng, 200));
		return;
	}
	for (int i = 0; i < 12; i++)		/* MACs: often broadcast */
		put8(p, i < 6 && below(rng, 4) == 0 ? 0xff : (uint32_t)bpfvm_rand64(rng));
	put_ether_payload(p, rng, 0);
}

/* ------------------------------------------------------------------ */
/* The comparison. */

struct stats {
	uint64_t pairs;		/* compared with bpf_filter() */
	uint64_t skipped;	/* not comparable */
	uint64_t mismatches;
	uint64_t accepted;	/* nonzero results: the packets exercise both ways */
	int printed;
};

static void print_mismatch(const char *what, const struct bpfvm_prog *prog, const uint8_t *bytes,
			   uint32_t caplen, uint32_t wirelen, uint32_t mine, uint32_t theirs)
{
	print_error("first mismatch (%s): bpfvm %u (0x%x), bpf_filter() %u (0x%x), caplen %u wirelen %u\n",
		    what, mine, mine, theirs, theirs, caplen, wirelen);
	print_error("program (tcpdump -ddd):\n%u\n", prog->len);
	for (uint32_t i = 0; i < prog->len; i++)
		print_error("%u %u %u %u\n", prog->insns[i].code, prog->insns[i].jt, prog->insns[i].jf,
			    prog->insns[i].k);
	print_error("packet:");
	for (uint32_t i = 0; i < caplen; i++)
		print_error("%s%02x", i % 16 ? " " : "\n  ", bytes[i]);
	print_error("\n");
}

/* One pair; @bytes must be exactly @caplen long (ASan sees over-reads). */
static void compare(struct stats *s, const char *what, const struct bpfvm *vm,
		    const struct bpfvm_prog *prog, const uint8_t *bytes, uint32_t caplen,
		    uint32_t wirelen)
{
	const struct bpfvm_packet pkt = { .bytes = bytes, .caplen = caplen, .wirelen = wirelen };
	struct pcap_probe pr = { .insns = prog->insns, .len = prog->len };
	uint32_t mine = bpfvm_run(vm, &pkt, NULL);
	uint32_t traced = bpfvm_run_traced(vm, &pkt, NULL, pcap_probe_step, &pr);
	uint32_t theirs, snap = bpfvm_snaplen(vm, &pkt, mine);

	if (traced != mine || snap != (mine < caplen ? mine : caplen)) {
		s->mismatches++;
		if (!s->printed++)
			print_mismatch(traced != mine ? "traced run" : "snaplen", prog, bytes, caplen,
				       wirelen, mine, traced != mine ? traced : snap);
	}
	if (pr.unsafe) {
		s->skipped++;
		return;
	}
	theirs = bpf_filter((const struct bpf_insn *)prog->insns, bytes, wirelen, caplen);
	s->pairs++;
	s->accepted += mine != 0;
	if (theirs != mine) {
		s->mismatches++;
		if (!s->printed++)
			print_mismatch(what, prog, bytes, caplen, wirelen, mine, theirs);
	}
}

/* Run @prog over @n random packets, each at a random captured length. */
static void run_program(struct stats *s, const char *what, const struct bpfvm_prog *prog,
			unsigned n, uint64_t *rng)
{
	char err[BPFVM_ERRBUF_SIZE];
	struct bpfvm *vm;
	struct pkt p;

	if (bpfvm_create(&vm, prog, BPFVM_LIBPCAP, err) != 0)
		fail_msg("%s: libpcap semantics rejects the program: %s", what, err);
	for (unsigned i = 0; i < n; i++) {
		uint32_t caplen, wirelen;
		uint8_t *copy;

		make_packet(&p, rng);
		switch (below(rng, 4)) {
		case 0: caplen = below(rng, p.len + 1); break;	/* any truncation */
		case 1: caplen = p.len < 68 ? p.len : 68; break;	/* tcpdump -s 68 */
		default: caplen = p.len; break;
		}
		wirelen = p.len + (below(rng, 4) ? 0 : below(rng, 3000));
		copy = malloc(caplen ? caplen : 1);
		assert_non_null(copy);
		memcpy(copy, p.bytes, caplen);
		compare(s, what, vm, prog, copy, caplen, wirelen);
		free(copy);
	}
	bpfvm_destroy(vm);
}

static void report(const char *name, uint64_t seed, const struct stats *s)
{
	print_message("%s: seed 0x%016llx: %llu pairs compared (%llu accepted), %llu skipped, %llu mismatches\n",
		      name, (unsigned long long)seed, (unsigned long long)s->pairs,
		      (unsigned long long)s->accepted, (unsigned long long)s->skipped,
		      (unsigned long long)s->mismatches);
}

/* ------------------------------------------------------------------ */
/* Tests. */

/* Random kernel-valid programs: ~150,000 pairs. */
static void test_progen(void **state)
{
	uint64_t seed = seed_from_env(), rng = seed, prng = seed ^ 0x70726f67656eULL;
	struct stats s = { 0 };

	(void)state;
	for (unsigned i = 0; i < 2500; i++) {
		struct bpfvm_progen_opts o = {
			.max_len = 4 + below(&prng, 60),
			.ancillary = below(&prng, 4) == 0,
			.negative_offsets = below(&prng, 4) == 0,
			.pkt_len_hint = below(&prng, 2) ? 64 : 128 + below(&prng, 1500),
		};
		struct bpfvm_prog prog;

		bpfvm_progen(&prog, BPFVM_DEFECT_NONE, &o, &prng);
		run_program(&s, "progen", &prog, 60, &rng);
		bpfvm_prog_free(&prog);
	}
	report("progen", seed, &s);
	assert_int_equal(s.mismatches, 0);
	assert_true(s.pairs >= 140000);
	assert_true(s.skipped * 100 <= s.pairs);
}

/* What libpcap compiles from typical expressions: ~80,000 pairs. */
static void test_compiled(void **state)
{
	static const char *const exprs[] = {
		"ip", "ip6", "arp", "tcp", "udp", "icmp", "tcp port 80", "udp port 53",
		"port 22 or port 443", "host 192.168.1.1", "src net 10.0.0.0/8",
		"dst host 127.0.0.1 and tcp", "not port 22", "portrange 1000-2000",
		"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "tcp[13] == 2", "ip[8] < 65",
		"ip[6:2] & 0x1fff != 0", "len > 1000", "less 100", "greater 500",
		"vlan", "vlan 100", "vlan and tcp port 80", "vlan and vlan and udp",
		"ip6 and tcp port 443", "ip6 proto 17", "ip6 protochain 6",
		"ip protochain 17", "ether broadcast", "ether multicast", "ip multicast",
		"icmp[icmptype] == icmp-echo", "tcp dst port 80 and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)",
		"udp and udp[8:2] = 0x1234", "(tcp or udp) and dst port 80 and src net 10.0.0.0/8",
		"ether proto 0x88cc", "ip and not ip proto 47", "ether[12:2] = 0x0800 and ip[9] = 6",
	};
	uint64_t seed = seed_from_env(), rng = seed ^ 0x636f6d70ULL;
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 262144);
	struct stats s = { 0 };
	unsigned n_expr = sizeof(exprs) / sizeof(exprs[0]);

	(void)state;
	assert_non_null(pd);
	assert_true(n_expr >= 30);
	for (unsigned i = 0; i < n_expr; i++) {
		for (int opt = 0; opt <= 1; opt++) {
			struct bpf_program bp;
			struct bpfvm_prog prog;
			char what[200];

			if (pcap_compile(pd, &bp, exprs[i], opt, PCAP_NETMASK_UNKNOWN) != 0)
				fail_msg("pcap_compile(\"%s\"): %s", exprs[i], pcap_geterr(pd));
			prog.insns = (struct bpfvm_insn *)bp.bf_insns;
			prog.len = bp.bf_len;
			snprintf(what, sizeof(what), "\"%s\" -O%d", exprs[i], opt);
			run_program(&s, what, &prog, 1000, &rng);
			pcap_freecode(&bp);
		}
	}
	pcap_close(pd);
	report("compiled", seed, &s);
	assert_int_equal(s.mismatches, 0);
	assert_true(s.pairs >= 70000);
	assert_int_equal(s.skipped, 0);
	assert_true(s.accepted > s.pairs / 20);	/* the packets match, too */
}

/*
 * The comparison can fail: the linux semantics differs from bpf_filter()
 * on purpose for shifts by X >= 32, and the harness must see that.
 */
static void test_harness_detects_difference(void **state)
{
	const struct bpfvm_insn insns[] = {
		{ BPF_LD | BPF_IMM, 0, 0, 0x12345679 },
		{ BPF_LDX | BPF_IMM, 0, 0, 33 },
		{ BPF_ALU | BPF_LSH | BPF_X, 0, 0, 0 },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	const struct bpfvm_prog prog = { (struct bpfvm_insn *)insns, 4 };
	const uint8_t byte = 0;
	const struct bpfvm_packet pkt = { .bytes = &byte, .caplen = 1, .wirelen = 1 };
	char err[BPFVM_ERRBUF_SIZE];
	struct bpfvm *lx, *lp;
	struct stats s = { 0 };

	(void)state;
	assert_int_equal(bpfvm_create(&lx, &prog, BPFVM_LINUX, err), 0);
	assert_int_equal(bpfvm_create(&lp, &prog, BPFVM_LIBPCAP, err), 0);
	assert_int_equal(bpf_filter((const struct bpf_insn *)insns, &byte, 1, 1), 0);
	assert_int_equal(bpfvm_run(lp, &pkt, NULL), 0);
	assert_int_not_equal(bpfvm_run(lx, &pkt, NULL), 0);
	/* compare() itself: silent on the libpcap machine, counts the
	 * linux one (and prints it, once). */
	compare(&s, "libpcap semantics", lp, &prog, &byte, 1, 1);
	assert_int_equal(s.pairs, 1);
	assert_int_equal(s.mismatches, 0);
	compare(&s, "linux semantics (expected to differ)", lx, &prog, &byte, 1, 1);
	assert_int_equal(s.pairs, 2);
	assert_int_equal(s.mismatches, 1);
	assert_int_equal(s.printed, 1);
	bpfvm_destroy(lx);
	bpfvm_destroy(lp);
}

/* Steps: one per executed instruction, loads and branches reported. */
struct steps {
	struct bpfvm_step st[16];
	unsigned n;
};

static void record(const struct bpfvm_step *st, void *ctx)
{
	struct steps *s = ctx;

	if (s->n < 16)
		s->st[s->n] = *st;
	s->n++;
}

static void test_trace_and_snaplen(void **state)
{
	/* ldh [12]; jeq #0x800 jt 0 jf 1; ret #100; st M[2]; ldb [x+200]; ret #1 */
	const struct bpfvm_insn insns[] = {
		{ BPF_LD | BPF_H | BPF_ABS, 0, 0, 12 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x0800 },
		{ BPF_RET | BPF_K, 0, 0, 100 },
		{ BPF_ST, 0, 0, 2 },
		{ BPF_LD | BPF_B | BPF_IND, 0, 0, 200 },
		{ BPF_RET | BPF_K, 0, 0, 1 },
	};
	const struct bpfvm_prog prog = { (struct bpfvm_insn *)insns, 6 };
	uint8_t frame[60] = { [12] = 0x08, [13] = 0x00 };
	struct bpfvm_packet pkt = { .bytes = frame, .caplen = 60, .wirelen = 60, .data_off = 0, .net_off = 14 };
	char err[BPFVM_ERRBUF_SIZE];
	struct steps s = { .n = 0 };
	struct bpfvm *vm;

	(void)state;
	for (int sem = 0; sem < 2; sem++) {
		assert_int_equal(bpfvm_create(&vm, &prog, sem ? BPFVM_LIBPCAP : BPFVM_LINUX, err), 0);
		frame[13] = 0x00;
		s.n = 0;
		assert_int_equal(bpfvm_run_traced(vm, &pkt, NULL, record, &s), 100);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.st[0].pc, 0);
		assert_int_equal(s.st[0].a, 0x0800);
		assert_int_equal(s.st[0].load_off, 12);
		assert_int_equal(s.st[0].load_size, 2);
		assert_int_equal(s.st[1].pc, 1);
		assert_int_equal(s.st[1].jumped, 1);
		assert_int_equal(s.st[2].pc, 2);
		assert_int_equal(s.st[2].done, 1);
		assert_int_equal(s.st[2].ret, 100);
		assert_int_equal(bpfvm_snaplen(vm, &pkt, 100), 60);
		assert_int_equal(bpfvm_snaplen(vm, &pkt, 40), 40);

		frame[13] = 0x01;	/* the false branch: st, then a failing load */
		s.n = 0;
		assert_int_equal(bpfvm_run_traced(vm, &pkt, NULL, record, &s), 0);
		assert_int_equal(s.n, 4);
		assert_int_equal(s.st[1].jumped, 0);
		assert_int_equal(s.st[2].pc, 3);
		assert_int_equal(s.st[2].mem_written, 2);
		assert_int_equal(s.st[3].pc, 4);
		assert_int_equal(s.st[3].load_off, 200);
		assert_int_equal(s.st[3].load_size, 1);
		assert_int_equal(s.st[3].load_failed, 1);
		assert_int_equal(s.st[3].done, 1);
		assert_int_equal(s.st[3].ret, 0);
		bpfvm_destroy(vm);
	}
	/* SOCK_DGRAM view: the kernel's snap length counts from skb->data. */
	pkt.data_off = 14;
	assert_int_equal(bpfvm_create(&vm, &prog, BPFVM_LINUX, err), 0);
	assert_int_equal(bpfvm_snaplen(vm, &pkt, 1000), 46);
	bpfvm_destroy(vm);
	assert_int_equal(bpfvm_create(&vm, &prog, BPFVM_LIBPCAP, err), 0);
	assert_int_equal(bpfvm_snaplen(vm, &pkt, 1000), 60);
	bpfvm_destroy(vm);
}

static void test_create_rejects(void **state)
{
	const struct bpfvm_insn insns[] = { { BPF_LD | BPF_IMM, 0, 0, 1 } };	/* no ret */
	const struct bpfvm_prog prog = { (struct bpfvm_insn *)insns, 1 };
	char err[BPFVM_ERRBUF_SIZE] = "";
	struct bpfvm *vm = (struct bpfvm *)&err;

	(void)state;
	assert_int_equal(bpfvm_create(&vm, &prog, BPFVM_LINUX, err), -1);
	assert_null(vm);
	assert_true(strlen(err) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_harness_detects_difference),
		cmocka_unit_test(test_trace_and_snaplen),
		cmocka_unit_test(test_create_rejects),
		cmocka_unit_test(test_compiled),
		cmocka_unit_test(test_progen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
