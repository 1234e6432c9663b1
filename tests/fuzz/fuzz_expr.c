/*
 * fuzz_expr.c - the expression path: arbitrary text compiled by libpcap
 * (bpfvm_compile, offline, for a few link types, optimizer on and off),
 * verified in both semantics and run on a few fixed packets.
 *
 * Input: the expression (up to the first NUL, at most MAX_EXPR bytes;
 * longer inputs are skipped).  For every link type and optimizer setting
 * that compiles:
 *  - bpfvm_verify(libpcap) must accept exactly when libpcap's own
 *    bpf_validate() does, and libpcap must accept its own program (its
 *    pcap_setfilter() on a file runs bpf_validate() before installing);
 *  - a program over 4096 instructions must be refused in linux semantics
 *    with a message that names the limit;
 *  - bpfvm_create() must succeed exactly when bpfvm_verify() does;
 *  - on every packet, in libpcap semantics, bpfvm_run() must equal the
 *    installed libpcap's bpf_filter(), and bpfvm_run_traced() must equal
 *    bpfvm_run(); in linux semantics run and run_traced must agree.
 * A refused compile must say why (a non-empty message).  Anything else
 * aborts.  Packets sit in buffers of exactly their length.
 *
 * Host names: "host foo" makes libpcap ask the resolver (getaddrinfo(),
 * gethostbyname()), which on a machine without a reachable DNS server
 * waits seconds per name and makes results depend on the machine.  This
 * program defines both itself (the dynamic linker binds libpcap's calls to
 * the executable's definitions): numeric addresses resolve as usual, every
 * name is unknown.
 */
#include "bpfvm.h"

#include <dlfcn.h>
#include <netdb.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longer text only makes libpcap's parser and optimizer slower, not
 * different; libFuzzer's inputs are capped here so one input stays fast. */
#define MAX_EXPR 512

static const int linktypes[] = { DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_NULL };

/* Fixed packets: Ethernet IPv4/TCP to port 80, 802.1Q-tagged IPv4/UDP
 * (DNS), IPv6/UDP, ARP, and a 10-byte runt.  Under other link types the
 * same bytes read differently, which is as good a packet as any. */
static const uint8_t pkt_tcp[] = {
	0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	127, 0, 0, 1, 127, 0, 0, 2,
	0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x72, 0x10,
	0, 0, 0, 0,
};
static const uint8_t pkt_vlan_udp[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x03, 0x81, 0x00,
	0x00, 0x0a, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x24, 0, 0, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00,
	127, 0, 0, 3, 127, 255, 255, 255,
	0x04, 0x00, 0x00, 0x35, 0x00, 0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
};
static const uint8_t pkt_ip6_udp[] = {
	0x33, 0x33, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x04, 0x86, 0xdd,
	0x60, 0, 0, 0, 0x00, 0x0c, 0x11, 0x40,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x02, 0x22, 0x02, 0x23, 0x00, 0x0c, 0, 0, 0xde, 0xad, 0xbe, 0xef,
};
static const uint8_t pkt_arp[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x05, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0, 0, 0, 0, 0x05, 127, 0, 0, 5, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1,
};
static const uint8_t pkt_runt[] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0 };

static const struct {
	const uint8_t *bytes;
	uint32_t len;
	uint32_t wire_extra;	/* wirelen - caplen: a record cut short */
} packets[] = {
	{ pkt_tcp, sizeof(pkt_tcp), 0 },
	{ pkt_tcp, 30, sizeof(pkt_tcp) - 30 },
	{ pkt_vlan_udp, sizeof(pkt_vlan_udp), 0 },
	{ pkt_ip6_udp, sizeof(pkt_ip6_udp), 0 },
	{ pkt_arp, sizeof(pkt_arp), 0 },
	{ pkt_runt, sizeof(pkt_runt), 1000 },
};
#define NPACKETS (sizeof(packets) / sizeof(packets[0]))

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
			     struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static getaddrinfo_fn real;
	struct addrinfo h = { .ai_family = AF_UNSPEC };

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	if (!real)
		return EAI_FAIL;
	if (hints)
		h = *hints;
	/* Service names ("port http") come from /etc/services: kept. */
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

struct hostent *gethostbyname(const char *name)
{
	(void)name;
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

static void die(const char *what, const char *expr, int linktype, uint32_t a, uint32_t b)
{
	fprintf(stderr, "fuzz_expr: %s: %u vs %u\nlink type %d, expression: %s\n", what, a, b,
		linktype, expr);
	abort();
}

static void no_step(const struct bpfvm_step *st, void *ctx)
{
	(void)st;
	(void)ctx;
}

static void run_all(const struct bpfvm_prog *prog, enum bpfvm_semantics sem, const char *expr,
		    int linktype)
{
	char err[BPFVM_ERRBUF_SIZE];
	struct bpfvm *vm = NULL;
	int verified = bpfvm_verify(prog, sem, err) == 0;
	int created = bpfvm_create(&vm, prog, sem, err) == 0;

	if (verified != created)
		die("bpfvm_verify and bpfvm_create disagree", expr, linktype, (uint32_t)verified,
		    (uint32_t)created);
	if (sem == BPFVM_LIBPCAP) {
		int theirs = bpf_validate((const struct bpf_insn *)prog->insns, (int)prog->len) != 0;

		if (verified != theirs)
			die("bpfvm_verify (libpcap) vs bpf_validate()", expr, linktype,
			    (uint32_t)verified, (uint32_t)theirs);
		if (!theirs)
			die("libpcap compiled a program its own bpf_validate() refuses", expr, linktype,
			    prog->len, 0);
	} else if (prog->len > BPFVM_MAXINSNS && (verified || !strstr(err, "4096"))) {
		die("more than 4096 instructions not refused by name", expr, linktype, prog->len,
		    (uint32_t)verified);
	}
	if (!created)
		return;
	for (size_t i = 0; i < NPACKETS; i++) {
		struct bpfvm_meta meta = { .protocol = 0x0800, .hatype = 1, .ifindex = 2 };
		uint8_t *bytes = malloc(packets[i].len);
		struct bpfvm_packet pkt = {
			.caplen = packets[i].len,
			.wirelen = packets[i].len + packets[i].wire_extra,
			.net_off = 14,
		};
		uint32_t r, rt;

		if (!bytes)
			break;
		memcpy(bytes, packets[i].bytes, packets[i].len);
		pkt.bytes = bytes;
		r = bpfvm_run(vm, &pkt, sem == BPFVM_LINUX ? &meta : NULL);
		rt = bpfvm_run_traced(vm, &pkt, sem == BPFVM_LINUX ? &meta : NULL, no_step, NULL);
		if (r != rt)
			die("bpfvm_run vs bpfvm_run_traced", expr, linktype, r, rt);
		if (sem == BPFVM_LIBPCAP) {
			uint32_t theirs = bpf_filter((const struct bpf_insn *)prog->insns, bytes,
						     pkt.wirelen, pkt.caplen);

			if (r != theirs)
				die("bpfvm (libpcap semantics) vs bpf_filter()", expr, linktype, r, theirs);
		}
		free(bytes);
	}
	bpfvm_destroy(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char expr[MAX_EXPR + 1];
	size_t len = 0;

	while (len < size && data[len] != 0)
		len++;
	if (len > MAX_EXPR)
		return 0;
	memcpy(expr, data, len);
	expr[len] = '\0';
	for (size_t t = 0; t < sizeof(linktypes) / sizeof(linktypes[0]); t++) {
		for (int opt = 1; opt >= 0; opt--) {
			struct bpfvm_compile_opts o;
			struct bpfvm_prog prog;
			char err[BPFVM_ERRBUF_SIZE] = "";

			bpfvm_compile_opts_init(&o);
			o.linktype = linktypes[t];
			o.optimize = opt;
			if (bpfvm_compile(expr, &o, &prog, err) != 0) {
				if (!err[0])
					die("a refused compile without a message", expr, linktypes[t], 0, 0);
				continue;
			}
			run_all(&prog, BPFVM_LIBPCAP, expr, linktypes[t]);
			run_all(&prog, BPFVM_LINUX, expr, linktypes[t]);
			bpfvm_prog_free(&prog);
		}
	}
	return 0;
}
