/*
 * test_live_filter.c - the live harness against the running kernel, and the
 * model's linux semantics against the live harness.
 *
 * Part one asks the kernel and checks that what the harness reports is
 * self-consistent and matches the kernel rules the project relies on
 * (pkt_type by destination, skb_vlan_untag() moving the outer tag into
 * tp_vlan_tci, packet_snd()'s length limits, SOCK_DGRAM offsets).  Ancillary
 * values are learned by programs that return them bit by bit ("ld #proto;
 * rsh #b; and #1; add #1; ret a" is delivered with 1 or 2 bytes), so the
 * test reads what the kernel computes instead of assuming it.
 *
 * Part two is the differential: for a few hundred frames and thousands of
 * random programs from bpfvm_progen() (valid, ancillary loads on, negative
 * offsets on), the model - sim_rx_view() then bpfvm_run() in BPFVM_LINUX
 * semantics then bpfvm_snaplen() - must equal the kernel on delivered or
 * not, captured length, captured bytes, pkt_type and VLAN metadata, and on
 * which frames never reach the taps.  Metadata the kernel does not make
 * reproducible is pinned or excluded: the ifindex is the real one; programs
 * that read SKF_AD_RXHASH, SKF_AD_CPU or SKF_AD_RANDOM are skipped.
 *
 * Everything needs root (SKIP_UNLESS_ROOT).  With LIVE_BENCH=<frames> in the
 * environment the binary runs the hand-run throughput check instead.
 */
#include "bpfvm.h"
#include "live.h"
#include "sim.h"
#include "testutil.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXF		      512 /* frames in the generated set */
#define FRAME_MAX	      1600
#define RANDOM_PROGRAMS	      2000 /* differential, SOCK_RAW */
#define RANDOM_PROGRAMS_DGRAM 300

static const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/* ------------------------------------------------------------------ */
/* The frames. */

struct frameset {
	size_t n;
	uint8_t *buf[MAXF];
	uint32_t len[MAXF];
	const char *kind[MAXF];
};

static struct frameset g_frames;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(s) % n) : 0;
}

/* An L3 payload of @kind at @p (room for FRAME_MAX); returns its length and
 * the EtherType (or 802.3 length marker) in *@type. */
static uint32_t l3(uint8_t *p, int kind, uint64_t *s, uint16_t *type)
{
	uint32_t pay = rnd(s, 80), n;

	switch (kind) {
	case 0: /* IPv4: UDP, TCP or ICMP between 127.0.0.0/8 addresses */
	case 1: {
		static const uint8_t protos[3] = {17, 6, 1};
		uint32_t ihl = rnd(s, 4) == 0 ? 6 : 5;

		*type = ETH_P_IP;
		memset(p, 0, 20 + 4 + 20 + pay);
		p[0] = (uint8_t)(0x40 | ihl);
		put16(p + 2, (uint16_t)(ihl * 4 + 20 + pay));
		if (rnd(s, 5) == 0)
			put16(p + 6, (uint16_t)rnd(s, 0x4000)); /* flags, fragment offset */
		p[8] = 64;
		p[9] = protos[rnd(s, 3)];
		p[12] = 127;
		p[15] = (uint8_t)(1 + rnd(s, 254));
		p[16] = 127;
		p[17] = (uint8_t)rnd(s, 3);
		p[19] = (uint8_t)(1 + rnd(s, 254));
		n = ihl * 4;
		put16(p + n, (uint16_t)(1024 + rnd(s, 60000)));
		put16(p + n + 2, (uint16_t)(rnd(s, 2) ? 80 : 53));
		for (uint32_t i = 4; i < 20 + pay; i++)
			p[n + i] = (uint8_t)bpfvm_rand64(s);
		return n + 20 + pay;
	}
	case 2: { /* IPv6 between ::1 and fe80::/10 */
		static const uint8_t nh[3] = {17, 6, 58};

		*type = ETH_P_IPV6;
		memset(p, 0, 40 + 8 + pay);
		p[0] = 0x60;
		put16(p + 4, (uint16_t)(8 + pay));
		p[6] = nh[rnd(s, 3)];
		p[7] = 64;
		if (rnd(s, 2)) {
			p[23] = 1; /* ::1 */
			p[39] = 1;
		} else {
			p[8] = 0xfe;
			p[9] = 0x80;
			p[23] = (uint8_t)rnd(s, 256);
			p[24] = 0xfe;
			p[25] = 0x80;
			p[39] = (uint8_t)rnd(s, 256);
		}
		for (uint32_t i = 40; i < 48 + pay; i++)
			p[i] = (uint8_t)bpfvm_rand64(s);
		return 48 + pay;
	}
	case 3: /* ARP request between 127.0.0.0/8 addresses */
		*type = ETH_P_ARP;
		memset(p, 0, 28);
		put16(p, 1);
		put16(p + 2, ETH_P_IP);
		p[4] = 6;
		p[5] = 4;
		put16(p + 6, 1);
		memcpy(p + 8, "\x02\x00\x00\x00\x00\x02", 6);
		memcpy(p + 14, "\x7f\x00\x00\x02", 4);
		memcpy(p + 24, "\x7f\x00\x00\x01", 4);
		return 28;
	case 4: /* 802.3 length + LLC */
		*type = (uint16_t)(3 + pay);
		p[0] = 0x42;
		p[1] = 0x42;
		p[2] = 0x03;
		for (uint32_t i = 3; i < 3 + pay; i++)
			p[i] = (uint8_t)bpfvm_rand64(s);
		return 3 + pay;
	case 5: /* 802.3 "raw" (Novell): payload starts 0xffff */
		*type = (uint16_t)(2 + pay);
		p[0] = 0xff;
		p[1] = 0xff;
		for (uint32_t i = 2; i < 2 + pay; i++)
			p[i] = (uint8_t)bpfvm_rand64(s);
		return 2 + pay;
	default: /* an EtherType nobody handles */
		*type = 0x88b6;
		for (uint32_t i = 0; i < pay; i++)
			p[i] = (uint8_t)bpfvm_rand64(s);
		return pay;
	}
}

static void pick_dst(uint8_t *d, uint64_t *s)
{
	static const uint8_t dsts[6][6] = {
	    {0x02, 0, 0, 0, 0, 0x01},		  /* cs1: HOST */
	    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, /* BROADCAST */
	    {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, /* IPv4 multicast */
	    {0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, /* IPv6 multicast */
	    {0x02, 0, 0, 0, 0, 0x99},		  /* OTHERHOST */
	    {0x03, 0, 0, 0, 0, 0x01},		  /* group bit only */
	};
	uint32_t r = rnd(s, 10);

	memcpy(d, dsts[r < 5 ? 0 : r - 4 < 6 ? r - 4 : 0], 6);
}

static void add(struct frameset *fs, const uint8_t *f, uint32_t len, const char *kind)
{
	if (fs->n >= MAXF)
		return;
	fs->buf[fs->n] = malloc(len ? len : 1);
	assert_non_null(fs->buf[fs->n]);
	memcpy(fs->buf[fs->n], f, len);
	fs->len[fs->n] = len;
	fs->kind[fs->n] = kind;
	fs->n++;
}

/* Ethernet frame: dst, src, zero to two tags (@tpids), type, payload. */
static uint32_t eth(uint8_t *f, uint64_t *s, const uint16_t *tpids, int ntags, int kind)
{
	uint8_t pay[FRAME_MAX];
	uint16_t type;
	uint32_t n = l3(pay, kind, s, &type), off = 12;

	pick_dst(f, s);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
	for (int t = 0; t < ntags; t++) {
		put16(f + off, tpids[t]);
		put16(f + off + 2, (uint16_t)bpfvm_rand64(s)); /* PCP, DEI, VID: anything */
		off += 4;
	}
	put16(f + off, type);
	memcpy(f + off + 2, pay, n);
	return off + 2 + n;
}

static void build_frames(struct frameset *fs)
{
	static const uint16_t q[1] = {ETH_P_8021Q}, ad[1] = {ETH_P_8021AD},
			      qinq[2] = {ETH_P_8021AD, ETH_P_8021Q},
			      qq[2] = {ETH_P_8021Q, ETH_P_8021Q};
	uint64_t s = 0x11feb0a7c0ffee;
	uint8_t f[FRAME_MAX + 64];

	if (fs->n)
		return;
	for (int i = 0; i < 140; i++)
		add(fs, f, eth(f, &s, NULL, 0, rnd(&s, 7)), "plain");
	for (int i = 0; i < 50; i++)
		add(fs, f, eth(f, &s, q, 1, rnd(&s, 7)), "802.1Q");
	for (int i = 0; i < 30; i++)
		add(fs, f, eth(f, &s, ad, 1, rnd(&s, 7)), "802.1ad");
	for (int i = 0; i < 30; i++)
		add(fs, f, eth(f, &s, qinq, 2, rnd(&s, 7)), "QinQ");
	for (int i = 0; i < 10; i++)
		add(fs, f, eth(f, &s, qq, 2, rnd(&s, 7)), "802.1Q in 802.1Q");
	/* Short frames, 0..21 bytes, under several types. */
	for (uint32_t len = 0; len <= 21; len++) {
		static const uint16_t types[5] = {ETH_P_IP, ETH_P_8021Q, ETH_P_8021AD, 0x0010,
						  ETH_P_IPV6};

		for (int t = 0; t < 5; t++) {
			memset(f, 0, 32);
			pick_dst(f, &s);
			memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
			put16(f + 12, types[t]);
			for (int i = 14; i < 32; i++)
				f[i] = (uint8_t)bpfvm_rand64(&s);
			if (t == 3 && rnd(&s, 2))
				f[14] = f[15] = 0xff; /* 802.3 raw, if long enough */
			if ((t == 1 || t == 2) && rnd(&s, 2))
				put16(f + 16, (uint16_t)rnd(&s, 0x700)); /* inner length field */
			add(fs, f, len, "short");
		}
	}
	/* Around the size limits (MTU 1500). */
	{
		static const uint32_t sizes[] = {1513, 1514, 1515, 1517, 1518, 1519, 1522};
		static const uint16_t types[3] = {ETH_P_IP, ETH_P_8021Q, ETH_P_8021AD};

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (int t = 0; t < 3; t++) {
				memset(f, 0, sizeof(f));
				memcpy(f, host_mac, 6);
				memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
				put16(f + 12, types[t]);
				put16(f + 16, ETH_P_IP);
				for (uint32_t k = 18; k < sizes[i]; k++)
					f[k] = (uint8_t)k;
				add(fs, f, sizes[i], "oversized");
			}
	}
}

/* ------------------------------------------------------------------ */
/* Helpers. */

static struct live_filter *open_or_fail(int sock_type)
{
	struct live_filter_opts o;
	struct live_filter *lf = NULL;
	char err[LIVE_ERRBUF_SIZE];
	int r;

	live_filter_opts_init(&o);
	o.sock_type = sock_type;
	r = live_filter_open(&lf, &o, err);
	if (r)
		fail_msg("live_filter_open: %s (%s)", err, live_error_name(r));
	return lf;
}

static void run_or_fail(struct live_filter *lf, const struct bpfvm_insn *insns, uint32_t n,
			const struct frameset *fs, struct live_verdict *v)
{
	struct bpfvm_prog p = {(struct bpfvm_insn *)insns, n};
	char err[LIVE_ERRBUF_SIZE];
	int r;

	r = live_filter_run(lf, &p, (const uint8_t *const *)fs->buf, fs->len, fs->n, v, err);
	if (r)
		fail_msg("live_filter_run: %s (%s)", err, live_error_name(r));
}

static void hex(const char *label, const uint8_t *p, uint32_t n)
{
	printf("  %s (%u bytes):", label, n);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? " " : "\n    ", p[i]);
	printf("\n");
}

/* The outer type field and whether the frame carries a tag there. */
static uint16_t outer_type(const uint8_t *f, uint32_t len)
{
	return len >= 14 ? get16(f + 12) : 0;
}

static int is_vlan(uint16_t t)
{
	return t == ETH_P_8021Q || t == ETH_P_8021AD;
}

/* ------------------------------------------------------------------ */
/* Part one: the kernel, through the harness. */

static void test_open_leaves_caller_alone(void **state)
{
	char before[64] = "", after[64] = "";
	struct live_filter *lf;
	ssize_t r;

	(void)state;
	SKIP_UNLESS_ROOT();
	r = readlink("/proc/thread-self/ns/net", before, sizeof(before) - 1);
	assert_true(r > 0);
	lf = open_or_fail(SOCK_RAW);
	assert_true(live_filter_ifindex(lf) > 0);
	assert_memory_equal(live_filter_mac(lf), host_mac, 6);
	r = readlink("/proc/thread-self/ns/net", after, sizeof(after) - 1);
	assert_true(r > 0);
	/* Still in our own namespace, where no cs0/cs1 appeared. */
	assert_string_equal(before, after);
	assert_int_equal(if_nametoindex(LIVE_TX_IFNAME), 0);
	assert_int_equal(if_nametoindex(LIVE_RX_IFNAME), 0);
	live_filter_close(lf);
}

static const struct bpfvm_insn accept_all[] = {{BPF_RET | BPF_K, 0, 0, 262144}};
static const struct bpfvm_insn reject_all[] = {{BPF_RET | BPF_K, 0, 0, 0}};
static const struct bpfvm_insn trunc20[] = {{BPF_RET | BPF_K, 0, 0, 20}};
static const struct bpfvm_insn only_ipv4[] = {
    {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},
    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, ETH_P_IP},
    {BPF_RET | BPF_K, 0, 0, 0xffffffff},
    {BPF_RET | BPF_K, 0, 0, 0},
};

/* What the kernel must do with frame @i, by the rules this project takes
 * from its sources, checked against the harness's report. */
static void check_kernel_rules(const struct frameset *fs, size_t i, const struct live_verdict *v,
			       int ifindex)
{
	const uint8_t *f = fs->buf[i];
	uint32_t len = fs->len[i];
	uint16_t t = outer_type(f, len);
	int sent, reached;

	/* packet_snd(): dev_validate_header() refuses less than an Ethernet
	 * header; the length limit is MTU + 14, plus 4 for 802.1Q only
	 * (packet_extra_vlan_len_allowed() looks for ETH_P_8021Q alone). */
	if (len < ETH_HLEN)
		assert_int_equal(v->send_errno, EINVAL);
	else if (len > 1514 + (t == ETH_P_8021Q ? 4u : 0u))
		assert_int_equal(v->send_errno, EMSGSIZE);
	else
		assert_int_equal(v->send_errno, 0);
	sent = v->send_errno == 0;
	/* skb_vlan_untag() pulls VLAN_HLEN + 2 bytes past the Ethernet header
	 * before the taps; a tagged frame shorter than 20 bytes is freed. */
	reached = sent && !(is_vlan(t) && len < ETH_HLEN + 6);
	if (v->reached != reached)
		fail_msg("frame %zu (%s, %u bytes, type %#06x): reached %d, expected %d", i,
			 fs->kind[i], len, t, v->reached, reached);
	if (!reached) {
		assert_false(v->delivered);
		return;
	}
	assert_int_equal(v->ifindex, ifindex);
	/* eth_type_trans(): pkt_type from the destination address. */
	if (memcmp(f, host_mac, 6) == 0)
		assert_int_equal(v->pkttype, PACKET_HOST);
	else if (memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		assert_int_equal(v->pkttype, PACKET_BROADCAST);
	else if (f[0] & 1)
		assert_int_equal(v->pkttype, PACKET_MULTICAST);
	else
		assert_int_equal(v->pkttype, PACKET_OTHERHOST);
	if (is_vlan(t)) {
		/* One tag, the outer, moves into the metadata; the addresses
		 * slide over it (skb_reorder_vlan_header). */
		assert_true(v->vlan_valid);
		assert_true(v->vlan_tpid_valid);
		assert_int_equal(v->vlan_tpid, t);
		assert_int_equal(v->vlan_tci, get16(f + 14));
		assert_int_equal(v->tap_len, len - 4);
		assert_memory_equal(v->tap_bytes, f, 12);
		assert_memory_equal(v->tap_bytes + 12, f + 16, len - 16);
	} else {
		assert_false(v->vlan_valid);
		assert_false(v->vlan_tpid_valid);
		assert_int_equal(v->vlan_tci, 0);
		assert_int_equal(v->vlan_tpid, 0);
		assert_int_equal(v->tap_len, len);
		assert_memory_equal(v->tap_bytes, f, len);
	}
	/* skb->protocol: the (inner) type if >= 0x600, else 802.3 raw when
	 * the payload starts 0xffff, else 802.2.  For QinQ the inner tag's
	 * TPID is the protocol: only one tag is untagged before the taps. */
	{
		const uint8_t *b = v->tap_bytes;
		uint16_t p = get16(b + 12);
		uint16_t want = p >= ETH_P_802_3_MIN ? p
				: (v->tap_len >= 16 && b[14] == 0xff && b[15] == 0xff)
				    ? ETH_P_802_3
				    : ETH_P_802_2;

		if (v->protocol != want)
			fail_msg("frame %zu (%s, %u bytes): protocol %#06x, expected %#06x", i,
				 fs->kind[i], len, v->protocol, want);
	}
}

static void test_accept_all(void **state)
{
	struct live_verdict v[MAXF];
	struct live_filter *lf;
	size_t reached = 0;

	(void)state;
	SKIP_UNLESS_ROOT();
	build_frames(&g_frames);
	lf = open_or_fail(SOCK_RAW);
	run_or_fail(lf, accept_all, 1, &g_frames, v);
	for (size_t i = 0; i < g_frames.n; i++) {
		check_kernel_rules(&g_frames, i, &v[i], live_filter_ifindex(lf));
		if (!v[i].reached)
			continue;
		reached++;
		assert_true(v[i].delivered);
		assert_int_equal(v[i].tp_len, v[i].tap_len);
		assert_int_equal(v[i].tp_snaplen, v[i].tap_len);
		assert_memory_equal(v[i].bytes, v[i].tap_bytes, v[i].tap_len);
	}
	print_message(
	    "%zu frames, %zu reached the taps; SOCK_RAW ring offsets tp_mac %u tp_net %u\n",
	    g_frames.n, reached, v[0].tp_mac, v[0].tp_net);
	assert_true(reached > g_frames.n / 2);
	/* The same program twice gives the same answers. */
	{
		struct live_verdict w[MAXF];

		run_or_fail(lf, accept_all, 1, &g_frames, w);
		for (size_t i = 0; i < g_frames.n; i++) {
			assert_int_equal(w[i].reached, v[i].reached);
			assert_int_equal(w[i].tp_snaplen, v[i].tp_snaplen);
		}
	}
	live_filter_close(lf);
}

static void test_reject_trunc_ethertype(void **state)
{
	struct live_verdict all[MAXF], v[MAXF];
	struct live_filter *lf;

	(void)state;
	SKIP_UNLESS_ROOT();
	build_frames(&g_frames);
	lf = open_or_fail(SOCK_RAW);
	run_or_fail(lf, accept_all, 1, &g_frames, all);

	run_or_fail(lf, reject_all, 1, &g_frames, v);
	for (size_t i = 0; i < g_frames.n; i++) {
		assert_int_equal(v[i].reached, all[i].reached);
		assert_false(v[i].delivered); /* run_filter() == 0: not delivered, not a drop */
	}

	run_or_fail(lf, trunc20, 1, &g_frames, v);
	for (size_t i = 0; i < g_frames.n; i++) {
		assert_int_equal(v[i].delivered, all[i].reached);
		if (!v[i].delivered)
			continue;
		/* tp_len keeps the whole length; snaplen = min(len, 20). */
		assert_int_equal(v[i].tp_len, all[i].tap_len);
		assert_int_equal(v[i].tp_snaplen, all[i].tap_len < 20 ? all[i].tap_len : 20);
		assert_memory_equal(v[i].bytes, all[i].tap_bytes, v[i].tp_snaplen);
	}

	/* ldh [12] reads the type after untagging: the encapsulated one. */
	run_or_fail(lf, only_ipv4, 4, &g_frames, v);
	for (size_t i = 0; i < g_frames.n; i++) {
		int want = all[i].reached && get16(all[i].tap_bytes + 12) == ETH_P_IP;

		if (v[i].delivered != want)
			fail_msg("frame %zu (%s): ethertype filter delivered %d, expected %d", i,
				 g_frames.kind[i], v[i].delivered, want);
	}
	live_filter_close(lf);
}

/*
 * Learn an ancillary value per frame, @bits bits of it: program b is
 * "ld [SKF_AD_OFF + ad]; rsh #b; and #1; add #1; ret a", delivered with 1
 * or 2 bytes.  @val[i] is only meaningful where the frame reached the taps.
 */
static void learn(struct live_filter *lf, uint32_t ad, int bits, uint32_t *val)
{
	static struct live_verdict v[MAXF];

	memset(val, 0, g_frames.n * sizeof(*val));
	for (int b = 0; b < bits; b++) {
		const struct bpfvm_insn prog[] = {
		    {BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + ad},
		    {BPF_ALU | BPF_RSH | BPF_K, 0, 0, (uint32_t)b},
		    {BPF_ALU | BPF_AND | BPF_K, 0, 0, 1},
		    {BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1},
		    {BPF_RET | BPF_A, 0, 0, 0},
		};

		run_or_fail(lf, prog, 5, &g_frames, v);
		for (size_t i = 0; i < g_frames.n; i++) {
			if (!v[i].reached)
				continue;
			assert_true(v[i].delivered);
			assert_true(v[i].tp_snaplen == 1 || v[i].tp_snaplen == 2);
			val[i] |= (uint32_t)(v[i].tp_snaplen - 1) << b;
		}
	}
}

static void test_ancillary_values(void **state)
{
	struct live_verdict all[MAXF];
	uint32_t val[MAXF];
	struct live_filter *lf;
	int ifindex;

	(void)state;
	SKIP_UNLESS_ROOT();
	build_frames(&g_frames);
	lf = open_or_fail(SOCK_RAW);
	ifindex = live_filter_ifindex(lf);
	run_or_fail(lf, accept_all, 1, &g_frames, all);

	learn(lf, SKF_AD_PKTTYPE, 3, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], all[i].pkttype);
	learn(lf, SKF_AD_PROTOCOL, 16, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], all[i].protocol);
	learn(lf, SKF_AD_VLAN_TAG_PRESENT, 1, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], all[i].vlan_valid);
	/* SKF_AD_VLAN_TAG: the whole TCI (PCP, DEI and VID). */
	learn(lf, SKF_AD_VLAN_TAG, 16, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], all[i].vlan_tci);
	learn(lf, SKF_AD_VLAN_TPID, 16, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], all[i].vlan_tpid);
	learn(lf, SKF_AD_IFINDEX, 16, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], (uint32_t)ifindex);
	learn(lf, SKF_AD_HATYPE, 16, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], 1); /* ARPHRD_ETHER */
	learn(lf, SKF_AD_MARK, 8, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], 0);
	learn(lf, SKF_AD_QUEUE, 8, val);
	for (size_t i = 0; i < g_frames.n; i++)
		if (all[i].reached)
			assert_int_equal(val[i], 0);
	live_filter_close(lf);
}

static void test_dgram(void **state)
{
	struct live_verdict v[MAXF];
	struct live_filter *lf;

	(void)state;
	SKIP_UNLESS_ROOT();
	build_frames(&g_frames);
	lf = open_or_fail(SOCK_DGRAM);
	run_or_fail(lf, accept_all, 1, &g_frames, v);
	for (size_t i = 0; i < g_frames.n; i++) {
		check_kernel_rules(&g_frames, i, &v[i], live_filter_ifindex(lf));
		if (!v[i].reached)
			continue;
		/* packet_rcv() for SOCK_DGRAM: the data from the network header. */
		assert_true(v[i].delivered);
		assert_int_equal(v[i].tp_len, v[i].tap_len - ETH_HLEN);
		assert_int_equal(v[i].tp_snaplen, v[i].tp_len);
		assert_memory_equal(v[i].bytes, v[i].tap_bytes + ETH_HLEN, v[i].tp_len);
	}
	print_message("SOCK_DGRAM ring offsets tp_mac %u tp_net %u\n", v[0].tp_mac, v[0].tp_net);
	live_filter_close(lf);
}

/* Two harnesses at once, one in a child process: separate namespaces with
 * the same device names, no interference. */
static void test_two_at_once(void **state)
{
	struct live_verdict v[MAXF];
	struct live_filter *lf;
	pid_t pid;
	int status;

	(void)state;
	SKIP_UNLESS_ROOT();
	build_frames(&g_frames);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct live_filter *c = NULL;
		char err[LIVE_ERRBUF_SIZE];
		int bad = 0;

		if (live_filter_open(&c, NULL, err))
			_exit(2);
		for (int round = 0; round < 20 && !bad; round++) {
			struct bpfvm_prog p = {(struct bpfvm_insn *)accept_all, 1};

			if (live_filter_run(c, &p, (const uint8_t *const *)g_frames.buf,
					    g_frames.len, g_frames.n, v, err))
				bad = 3;
			for (size_t i = 0; i < g_frames.n && !bad; i++)
				if (v[i].reached && v[i].tp_snaplen != v[i].tap_len)
					bad = 4;
		}
		live_filter_close(c);
		_exit(bad);
	}
	lf = open_or_fail(SOCK_RAW);
	for (int round = 0; round < 20; round++) {
		run_or_fail(lf, trunc20, 1, &g_frames, v);
		for (size_t i = 0; i < g_frames.n; i++)
			if (v[i].reached)
				assert_true(v[i].tp_snaplen <= 20);
	}
	live_filter_close(lf);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------------ */
/* Part two: the model against the kernel. */

struct diff {
	size_t compared, mismatches, printed;
	size_t delivered, truncated, dropped; /* how the kernel's verdicts spread */
};

static void report(struct diff *d, const struct bpfvm_prog *p, size_t i, const char *what,
		   const struct live_verdict *v, const struct sim_rx_view *view, int m_delivered,
		   uint32_t m_snap)
{
	d->mismatches++;
	if (d->printed >= 8)
		return;
	d->printed++;
	printf("MISMATCH on frame %zu (%s, %u bytes): %s\n", i, g_frames.kind[i], g_frames.len[i],
	       what);
	printf("  program (ddd):\n");
	bpfvm_write(stdout, p, BPFVM_FMT_DDD);
	hex("frame", g_frames.buf[i], g_frames.len[i]);
	printf("  kernel: reached %d delivered %d tp_len %u snaplen %u pkttype %u vlan %d "
	       "tci %#06x tpid %#06x protocol %#06x\n",
	       v->reached, v->delivered, v->tp_len, v->tp_snaplen, v->pkttype, v->vlan_valid,
	       v->vlan_tci, v->vlan_tpid, v->protocol);
	if (v->delivered)
		hex("kernel captured", v->bytes, v->tp_snaplen);
	printf("  model:  drop %s delivered %d len %u snaplen %u pkttype %u vlan %d tci %#06x "
	       "tpid %#06x protocol %#06x\n",
	       view->drop ? sim_drop_reason_name(view->drop) : "-", m_delivered,
	       view->pkt.caplen - view->pkt.data_off, m_snap, view->meta.pkt_type,
	       view->meta.vlan_present, view->meta.vlan_tci, view->meta.vlan_tpid,
	       view->meta.protocol);
	if (m_delivered)
		hex("model captured", view->pkt.bytes + view->pkt.data_off, m_snap);
}

/* Compare one program's kernel verdicts with the model's. */
static void compare(struct diff *d, const struct bpfvm_prog *p, const struct bpfvm *vm,
		    const struct sim_rx_dev *dev, enum sim_sock_type type,
		    const struct live_verdict *v)
{
	static uint8_t buf[FRAME_MAX + 64];

	for (size_t i = 0; i < g_frames.n; i++) {
		struct sim_rx_view view;
		uint32_t ret = 0, snap = 0;
		int delivered = 0;

		if (v[i].send_errno != 0)
			continue; /* never sent: nothing to compare on the receive side */
		assert_int_equal(
		    sim_rx_view(dev, g_frames.buf[i], g_frames.len[i], type, buf, &view), 0);
		d->compared++;
		d->delivered += v[i].delivered;
		d->truncated += v[i].delivered && v[i].tp_snaplen < v[i].tp_len;
		d->dropped += !v[i].reached;
		if (view.drop != SIM_DROP_NONE || !v[i].reached) {
			if ((view.drop != SIM_DROP_NONE) == v[i].reached)
				report(d, p, i,
				       v[i].reached
					   ? "model drops, kernel delivers to the taps"
					   : "kernel drops before the taps, model does not",
				       &v[i], &view, 0, 0);
			continue;
		}
		ret = bpfvm_run(vm, &view.pkt, &view.meta);
		delivered = ret != 0;
		snap = delivered ? bpfvm_snaplen(vm, &view.pkt, ret) : 0;
		if (view.meta.pkt_type != v[i].pkttype ||
		    view.meta.vlan_present != v[i].vlan_valid ||
		    view.meta.vlan_tci != v[i].vlan_tci || view.meta.vlan_tpid != v[i].vlan_tpid ||
		    view.meta.protocol != v[i].protocol) {
			report(d, p, i, "metadata differs", &v[i], &view, delivered, snap);
			continue;
		}
		if (delivered != v[i].delivered) {
			report(d, p, i, "delivered differs", &v[i], &view, delivered, snap);
			continue;
		}
		if (!delivered)
			continue;
		if (view.pkt.caplen - view.pkt.data_off != v[i].tp_len || snap != v[i].tp_snaplen) {
			report(d, p, i, "length differs", &v[i], &view, delivered, snap);
			continue;
		}
		if (memcmp(view.pkt.bytes + view.pkt.data_off, v[i].bytes, snap) != 0)
			report(d, p, i, "captured bytes differ", &v[i], &view, delivered, snap);
	}
}

static void differential(enum sim_sock_type type, int sock_type, int programs, uint64_t seed)
{
	static struct live_verdict v[MAXF];
	struct bpfvm_progen_opts go;
	struct live_filter *lf;
	struct sim_rx_dev dev;
	struct diff d = {0, 0, 0, 0, 0, 0};
	uint64_t rng = seed;
	int ran = 0, skipped = 0;

	build_frames(&g_frames);
	lf = open_or_fail(sock_type);
	sim_rx_dev_init(&dev);
	memcpy(dev.mac, live_filter_mac(lf), 6);
	dev.ifindex = (uint32_t)live_filter_ifindex(lf); /* pinned to the real one */
	dev.mtu = live_filter_mtu(lf);

	memset(&go, 0, sizeof(go));
	go.ancillary = 1;
	go.negative_offsets = 1;
	go.pkt_len_hint = 96;
	while (ran < programs) {
		struct bpfvm_prog p = {NULL, 0};
		char err[LIVE_ERRBUF_SIZE > BPFVM_ERRBUF_SIZE ? LIVE_ERRBUF_SIZE
							      : BPFVM_ERRBUF_SIZE];
		struct bpfvm *vm = NULL;
		int r;

		bpfvm_progen(&p, BPFVM_DEFECT_NONE, &go, &rng);
		if (live_prog_unreproducible(&p) >= 0) {
			skipped++;
			bpfvm_prog_free(&p);
			continue;
		}
		if (bpfvm_create(&vm, &p, BPFVM_LINUX, err)) {
			bpfvm_write(stdout, &p, BPFVM_FMT_DDD);
			fail_msg("program %d from bpfvm_progen does not verify: %s", ran, err);
		}
		r = live_filter_run(lf, &p, (const uint8_t *const *)g_frames.buf, g_frames.len,
				    g_frames.n, v, err);
		if (r) {
			bpfvm_write(stdout, &p, BPFVM_FMT_DDD);
			fail_msg("program %d: live_filter_run: %s (%s)", ran, err,
				 live_error_name(r));
		}
		compare(&d, &p, vm, &dev, type, v);
		bpfvm_destroy(vm);
		bpfvm_prog_free(&p);
		ran++;
	}
	live_filter_close(lf);
	print_message("%d programs (%d skipped: rxhash/cpu/random), %zu frame verdicts compared "
		      "(kernel: %zu delivered, %zu of them cut short, %zu dropped before the "
		      "taps), %zu mismatches\n",
		      ran, skipped, d.compared, d.delivered, d.truncated, d.dropped, d.mismatches);
	if (d.mismatches)
		fail_msg("the model and the kernel disagree on %zu of %zu frame verdicts",
			 d.mismatches, d.compared);
}

static void test_model_vs_kernel_raw(void **state)
{
	(void)state;
	SKIP_UNLESS_ROOT();
	differential(SIM_SOCK_RAW, SOCK_RAW, RANDOM_PROGRAMS, 0x6b65726e656c01);
}

static void test_model_vs_kernel_dgram(void **state)
{
	(void)state;
	SKIP_UNLESS_ROOT();
	differential(SIM_SOCK_DGRAM, SOCK_DGRAM, RANDOM_PROGRAMS_DGRAM, 0x6b65726e656c02);
}

/* ------------------------------------------------------------------ */
/* The throughput check, run by hand: LIVE_BENCH=1000000 test_live_filter */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench(size_t total)
{
	const size_t chunk = 65536;
	struct live_verdict *v = calloc(chunk, sizeof(*v));
	const uint8_t **fr = calloc(chunk, sizeof(*fr));
	uint32_t *ln = calloc(chunk, sizeof(*ln));
	struct bpfvm_prog p = {(struct bpfvm_insn *)only_ipv4, 4};
	struct live_filter_counters c;
	char err[LIVE_ERRBUF_SIZE];
	struct live_filter *lf;
	struct sim_rx_dev dev;
	struct bpfvm *vm;
	struct diff d = {0, 0, 0, 0, 0, 0};
	double t0, t_kernel = 0;
	size_t done = 0;
	int r;

	if (!v || !fr || !ln)
		return 1;
	build_frames(&g_frames);
	r = live_filter_open(&lf, NULL, err);
	if (r) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (bpfvm_create(&vm, &p, BPFVM_LINUX, err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sim_rx_dev_init(&dev);
	dev.ifindex = (uint32_t)live_filter_ifindex(lf);
	t0 = seconds();
	while (done < total) {
		size_t n = total - done < chunk ? total - done : chunk;
		double k0;

		/* Cycle through the frames that the kernel sends. */
		for (size_t i = 0; i < n; i++) {
			size_t j = (done + i) % 260; /* the generated, full-size ones */

			fr[i] = g_frames.buf[j];
			ln[i] = g_frames.len[j];
		}
		k0 = seconds();
		r = live_filter_run(lf, &p, fr, ln, n, v, err);
		t_kernel += seconds() - k0;
		if (r) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		/* Cross-check with the model, as the differential does. */
		{
			static uint8_t buf[FRAME_MAX + 64];

			for (size_t i = 0; i < n; i++) {
				struct sim_rx_view view;
				uint32_t ret, snap;

				if (v[i].send_errno)
					continue;
				sim_rx_view(&dev, fr[i], ln[i], SIM_SOCK_RAW, buf, &view);
				d.compared++;
				if (view.drop != SIM_DROP_NONE) {
					d.mismatches += v[i].reached;
					continue;
				}
				ret = bpfvm_run(vm, &view.pkt, &view.meta);
				snap = ret ? bpfvm_snaplen(vm, &view.pkt, ret) : 0;
				if ((ret != 0) != v[i].delivered || snap != v[i].tp_snaplen ||
				    (snap && memcmp(view.pkt.bytes, v[i].bytes, snap)))
					d.mismatches++;
			}
		}
		done += n;
	}
	{
		double t = seconds() - t0;

		live_filter_counters(lf, &c);
		printf("live bench: %zu frames cross-checked in %.2f s: %.0f frames/s "
		       "(kernel side alone %.0f frames/s); %zu compared, %zu mismatches; "
		       "%llu batches, %llu ring drops, %llu batches resent, %llu frames resent "
		       "to confirm\n",
		       total, t, (double)total / t, (double)total / t_kernel, d.compared,
		       d.mismatches, (unsigned long long)c.batches,
		       (unsigned long long)c.ring_drops, (unsigned long long)c.resent_batches,
		       (unsigned long long)c.confirm_resends);
	}
	bpfvm_destroy(vm);
	live_filter_close(lf);
	free(v);
	free(fr);
	free(ln);
	return d.mismatches != 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_leaves_caller_alone),
	    cmocka_unit_test(test_accept_all),
	    cmocka_unit_test(test_reject_trunc_ethertype),
	    cmocka_unit_test(test_ancillary_values),
	    cmocka_unit_test(test_dgram),
	    cmocka_unit_test(test_two_at_once),
	    cmocka_unit_test(test_model_vs_kernel_raw),
	    cmocka_unit_test(test_model_vs_kernel_dgram),
	};
	const char *b = getenv("LIVE_BENCH");

	if (b && *b)
		return bench((size_t)strtoull(b, NULL, 10));
	return cmocka_run_group_tests_name("live_filter", tests, NULL, NULL);
}
