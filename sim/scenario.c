/*
 * scenario.c - the scenario language (docs/scenario-language.md): a
 * line-oriented tokenizer, one table of statements, one table of options
 * per statement, then a resolution pass that turns HOST.NAME references
 * into indices and fills every default the later stages need.
 *
 * The first error stops everything; its message is one sentence after
 * "file:line:column: ", the column being the offending token's.
 * References are resolved after the whole file is read, so statements may
 * come in any order (a wire before its hosts, an expectation anywhere).
 */
#include "scenario.h"
#include "kdefaults.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Kernel and libpcap facts behind the defaults. */


/*
 * sock_setsockopt(SO_RCVBUF) -> __sock_set_rcvbuf(): the value is first cut
 * to rmem_max, then doubled "to allow for struct sk_buff overhead", and
 * never below SOCK_MIN_RCVBUF (2304 on this kernel: SO_RCVBUF 1 reads back
 * 2304).  Without the option sock_init_data() takes rmem_default.
 */
#define SOCK_MIN_RCVBUF		2304

/* tcpdump's default snapshot and libpcap's ceiling: MAXIMUM_SNAPLEN. */
#define MAXIMUM_SNAPLEN		262144
/* pcap-linux.c setup_mmapped(): a buffer size of 0 becomes 2 MiB. */
#define PCAP_DEFAULT_BUFFER	(2u * 1024 * 1024)
/*
 * tcpdump.c main(): timeout 1000 ms, or 100 ms when it prints to a terminal
 * (or -l).  A scenario's tcpdump writes to a file: 1000 ms.
 */
#define TCPDUMP_TIMEOUT_MS	1000
/* af_packet.c: DEFAULT_PRB_RETIRE_TOV, the block timeout without a speed. */
#define DEFAULT_PRB_RETIRE_TOV	8
/* veth_get_link_ksettings() reports 10000 Mb/s whatever the wire does. */
#define VETH_SPEED_MBPS		10000

#define TPACKET_ALIGN(x)	(((x) + 15u) & ~15u)
#define PAGE_SIZE_		4096u

void sim_libpcap_ring(uint32_t buffer, uint32_t snaplen, uint32_t timeout_ms, int immediate,
		      int cooked, uint32_t mtu, int offload, struct sim_scn_ring *out)
{
	uint32_t frames_per_block;

	memset(out, 0, sizeof(*out));
	if (buffer == 0)
		buffer = PCAP_DEFAULT_BUFFER;
	if (snaplen == 0 || snaplen > MAXIMUM_SNAPLEN)
		snaplen = MAXIMUM_SNAPLEN;
	/* pcap_activate_linux -> setup_socket: a cooked handle keeps room for
	 * an SLL2 header plus one byte. */
	if (cooked && snaplen < 20 + 1)
		snaplen = 20 + 1;
	out->snaplen = snaplen;
	/* create_ring(): room to put a VLAN tag back, and in cooked mode for
	 * the SLL2 header beyond the kernel's 16-byte sockaddr_ll. */
	out->reserve = cooked ? 4u + 4u : 4u;
	if (!immediate) {
		/*
		 * prepare_tpacket_socket() takes TPACKET_V3 unless immediate
		 * mode is asked (V3 always buffers).  create_ring(), V3: the
		 * "frame" is MAXIMUM_SNAPLEN whatever the snapshot, the frame
		 * count is the buffer rounded up to whole frames.
		 */
		out->version = 3;
		out->frame_size = MAXIMUM_SNAPLEN;
	} else {
		/*
		 * create_ring(), V2: a frame holds the tpacket2 header (32,
		 * aligned) and a sockaddr_ll (20), room for a 256-byte link
		 * header (MAX_LINKHEADER_SIZE; 16 for SOCK_DGRAM), the
		 * reserve (4 for a VLAN tag, +4 for an SLL2 header when
		 * cooked), then the packet: the snapshot, cut on Ethernet to
		 * the MTU + 18, or 65535 + 18 when iface_get_offload() finds
		 * segmentation offloads.
		 */
		uint32_t frame = snaplen, hdrlen = TPACKET_ALIGN(32u) + 20u;
		uint32_t maclen = cooked ? 0 : 256u;
		uint32_t netoff, macoff;

		if (!cooked) {
			uint32_t max = (offload ? (mtu > 65535 ? mtu : 65535) : mtu) + 18;

			if (frame > max)
				frame = max;
		}
		netoff = TPACKET_ALIGN(hdrlen + (maclen < 16 ? 16 : maclen)) + out->reserve;
		macoff = netoff - maclen;
		out->version = 2;
		out->frame_size = TPACKET_ALIGN(macoff + frame);
	}
	out->frame_nr = (uint32_t)(((uint64_t)buffer + out->frame_size - 1) / out->frame_size);
	/* The smallest power-of-two multiple of the page holding one frame. */
	out->block_size = PAGE_SIZE_;
	while (out->block_size < out->frame_size)
		out->block_size <<= 1;
	frames_per_block = out->block_size / out->frame_size;
	out->block_nr = out->frame_nr / frames_per_block;
	out->frame_nr = out->block_nr * frames_per_block;
	/* create_ring(): tp_retire_blk_tov is the pcap timeout; 0, pcap's
	 * "forever", becomes UINT_MAX ms. */
	if (out->version == 3)
		out->retire_ms = timeout_ms ? timeout_ms : UINT32_MAX;
}

uint32_t sim_kernel_retire_ms(uint32_t block_size, uint32_t speed_mbps)
{
	/* prb_calc_retire_blk_tmo(): no device, no ethtool speed or under
	 * 1 Gb/s -> 8 ms; otherwise the block's Mbit (2^20) over Gb/s, + 1. */
	uint32_t div, mbits;

	if (speed_mbps < 1000)
		return DEFAULT_PRB_RETIRE_TOV;
	div = speed_mbps / 1000;
	mbits = (uint32_t)(((uint64_t)block_size * 8) / (1024 * 1024));
	return mbits / div + 1;
}

/* ------------------------------------------------------------------ */
/* Names of enumerations, shared by the parser and the printer. */

struct kw {
	const char *name;
	int val;
};

static const struct kw cost_kw[] = {
	{ "dma", SIM_SCN_COST_DMA }, { "irq", SIM_SCN_COST_IRQ }, { "rx", SIM_SCN_COST_RX },
	{ "tap", SIM_SCN_COST_TAP }, { "ip", SIM_SCN_COST_IP },	  { "tx", SIM_SCN_COST_TX },
	{ NULL, 0 },
};
/* Default stage costs, in ns (docs/scenario-language.md). */
static const sim_ns cost_default[SIM_SCN_COST_COUNT] = {
	[SIM_SCN_COST_DMA] = 0,   [SIM_SCN_COST_IRQ] = 1000, [SIM_SCN_COST_RX] = 300,
	[SIM_SCN_COST_TAP] = 200, [SIM_SCN_COST_IP] = 500,   [SIM_SCN_COST_TX] = 800,
};

static const struct kw hook_kw[] = {
	{ "netdev-ingress", SIM_SCN_HOOK_NETDEV_INGRESS }, { "tc-ingress", SIM_SCN_HOOK_TC_INGRESS },
	{ "prerouting", SIM_SCN_HOOK_PREROUTING },	       { "input", SIM_SCN_HOOK_INPUT },
	{ "forward", SIM_SCN_HOOK_FORWARD },	       { "output", SIM_SCN_HOOK_OUTPUT },
	{ "postrouting", SIM_SCN_HOOK_POSTROUTING },       { "tc-egress", SIM_SCN_HOOK_TC_EGRESS },
	{ "netdev-egress", SIM_SCN_HOOK_NETDEV_EGRESS },   { NULL, 0 },
};

static const struct kw proto_kw[] = {
	{ "tcp", SIM_SCN_PROTO_TCP },     { "udp", SIM_SCN_PROTO_UDP }, { "icmp", SIM_SCN_PROTO_ICMP },
	{ "icmpv6", SIM_SCN_PROTO_ICMPV6 }, { "arp", SIM_SCN_PROTO_ARP }, { "ip", SIM_SCN_PROTO_IP },
	{ "ip6", SIM_SCN_PROTO_IP6 },     { NULL, 0 },
};

static const struct kw l4_kw[] = {
	{ "udp", SIM_SCN_L4_UDP }, { "tcp", SIM_SCN_L4_TCP }, { "icmp", SIM_SCN_L4_ICMP }, { NULL, 0 },
};

static const struct kw verdict_kw[] = {
	{ "accept", SIM_SCN_VERDICT_ACCEPT }, { "drop", SIM_SCN_VERDICT_DROP }, { NULL, 0 },
};

static const struct kw onoff_kw[] = { { "on", 1 }, { "off", 0 }, { NULL, 0 } };

static const struct kw tap_proto_kw[] = {
	{ "all", 0x0003 }, { "ip", 0x0800 }, { "ip6", 0x86dd }, { "arp", 0x0806 }, { NULL, 0 },
};

static const struct kw type_kw[] = { { "raw", 0 }, { "dgram", 1 }, { NULL, 0 } };

static const struct kw dir_kw[] = {
	{ "inout", SIM_SCN_DIR_INOUT }, { "in", SIM_SCN_DIR_IN }, { "out", SIM_SCN_DIR_OUT }, { NULL, 0 },
};

static const struct kw cmp_kw[] = {
	{ "=", SIM_SCN_CMP_EQ }, { "!=", SIM_SCN_CMP_NE }, { "<", SIM_SCN_CMP_LT },
	{ "<=", SIM_SCN_CMP_LE }, { ">", SIM_SCN_CMP_GT }, { ">=", SIM_SCN_CMP_GE }, { NULL, 0 },
};

static const struct kw tapstat_kw[] = {
	{ "captured", SIM_SCN_EXPECT_TAP_CAPTURED }, { "received", SIM_SCN_EXPECT_TAP_RECEIVED },
	{ "dropped", SIM_SCN_EXPECT_TAP_DROPPED },	 { "saw", SIM_SCN_EXPECT_TAP_SAW },
	{ NULL, 0 },
};

/* Kernel drop reasons (include/net/dropreason-core.h) a scenario may expect. */
static const char *const drop_reasons[] = {
	"NOT_SPECIFIED", "NO_SOCKET", "SOCKET_CLOSE", "PKT_TOO_SMALL", "TCP_CSUM",
	"SOCKET_FILTER", "UDP_CSUM", "NETFILTER_DROP", "OTHERHOST", "IP_CSUM", "IP_INHDR",
	"IP_RPFILTER", "UNICAST_IN_L2_MULTICAST", "IP_NOPROTO", "SOCKET_RCVBUFF",
	"PROTO_MEM", "SOCKET_BACKLOG", "TCP_INVALID_SEQUENCE", "TCP_RESET", "TCP_FLAGS",
	"TCP_OLD_DATA", "NEIGH_CREATEFAIL", "NEIGH_FAILED", "NEIGH_QUEUEFULL", "NEIGH_DEAD",
	"TC_EGRESS", "SECURITY_HOOK", "QDISC_DROP", "CPU_BACKLOG", "XDP", "TC_INGRESS",
	"UNHANDLED_PROTO", "SKB_CSUM", "SKB_GSO_SEG", "DEV_HDR", "DEV_READY", "FULL_RING",
	"NOMEM", "HDR_TRUNC", "TAP_FILTER", "TAP_TXFILTER", "ICMP_CSUM", "INVALID_PROTO",
	"IP_INADDRERRORS", "IP_INNOROUTES", "IP_LOCAL_SOURCE", "IP_INVALID_SOURCE",
	"IP_LOCALNET", "IP_INVALID_DEST", "PKT_TOO_BIG", "DUP_FRAG", "FRAG_REASM_TIMEOUT",
	"FRAG_TOO_FAR", "IPV6_BAD_EXTHDR", "QUEUE_PURGE", "PACKET_SOCK_ERROR",
	"TC_CHAIN_NOTFOUND", "TC_RECLASSIFY_LOOP", "MAC_INVALID_SOURCE", NULL,
};

/* Counters under the kernel's names, by what the first component names. */
static const char *const iface_counters[] = {
	"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped",
	"rx_errors", "tx_errors", "rx_missed_errors", "rx_length_errors", "qdisc_drops", NULL,
};
static const char *const softnet_counters[] = { "processed", "dropped", "time_squeeze", NULL };
static const char *const tap_counters[] = { "tp_packets", "tp_drops", "tp_freeze_q_cnt", NULL };
static const char *const socket_counters[] = { "received", "drops", NULL };

static const char *kw_name(const struct kw *t, int val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return "?";
}

static const struct kw *kw_find(const struct kw *t, const char *s)
{
	for (; t->name; t++)
		if (strcmp(t->name, s) == 0)
			return t;
	return NULL;
}

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

const char *sim_scn_cost_name(enum sim_scn_cost s)
{
	return kw_name(cost_kw, (int)s);
}

const char *sim_scn_hook_name(enum sim_scn_hook h)
{
	return kw_name(hook_kw, (int)h);
}

int sim_scn_hook_has_dev(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_NETDEV_INGRESS || h == SIM_SCN_HOOK_TC_INGRESS ||
	       h == SIM_SCN_HOOK_TC_EGRESS || h == SIM_SCN_HOOK_NETDEV_EGRESS;
}

/* Where an input (iif) or an output (oif) device is known to the hook. */
static int hook_has_iif(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_NETDEV_INGRESS || h == SIM_SCN_HOOK_TC_INGRESS ||
	       h == SIM_SCN_HOOK_PREROUTING || h == SIM_SCN_HOOK_INPUT || h == SIM_SCN_HOOK_FORWARD;
}

static int hook_has_oif(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_FORWARD || h == SIM_SCN_HOOK_OUTPUT || h == SIM_SCN_HOOK_POSTROUTING ||
	       h == SIM_SCN_HOOK_TC_EGRESS || h == SIM_SCN_HOOK_NETDEV_EGRESS;
}

const char *sim_scn_proto_name(enum sim_scn_proto p)
{
	return p == SIM_SCN_PROTO_ANY ? "any" : kw_name(proto_kw, (int)p);
}

const char *sim_scn_cmp_name(enum sim_scn_cmp c)
{
	return kw_name(cmp_kw, (int)c);
}

int sim_scn_cmp_holds(enum sim_scn_cmp c, uint64_t have, uint64_t want)
{
	switch (c) {
	case SIM_SCN_CMP_EQ: return have == want;
	case SIM_SCN_CMP_NE: return have != want;
	case SIM_SCN_CMP_LT: return have < want;
	case SIM_SCN_CMP_LE: return have <= want;
	case SIM_SCN_CMP_GT: return have > want;
	case SIM_SCN_CMP_GE: return have >= want;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The parser's state: the current statement's tokens. */

struct tok {
	char *s;		/* decoded, NUL-terminated, in parser.buf */
	uint32_t len;
	uint32_t raw;		/* columns it took in the source */
	int quoted;
	struct sim_scn_srcpos pos;
};

/* What the parser remembers per host beyond the scenario itself. */
struct hostx {
	uint32_t sysctl_line[8];
	uint32_t cost_line[SIM_SCN_COST_COUNT];
	uint32_t fwd_line, cpus_line;
};

struct parser {
	const char *name;
	char *errbuf;
	struct sim_scenario *s;
	struct tok toks[SIM_SCN_MAX_TOKENS];
	uint32_t ntok, i;
	struct sim_scn_srcpos eol;	/* just after the statement's last token */
	char buf[SIM_SCN_MAX_STMT + SIM_SCN_MAX_TOKENS + 1];
	uint32_t buflen;
	int32_t host;		/* the open host, or -1 */
	struct hostx hx[SIM_SCN_MAX_HOSTS];
	uint32_t title_line, seed_line, duration_line;
};

static int err_pos(struct parser *p, struct sim_scn_srcpos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_pos(struct parser *p, struct sim_scn_srcpos pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->errbuf)
		return -1;
	n = snprintf(p->errbuf, SIM_SCN_ERRBUF_SIZE, "%s:%u:%u: ", p->name ? p->name : "<input>",
		     pos.line, pos.col);
	if (n < 0 || n >= SIM_SCN_ERRBUF_SIZE)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->errbuf + n, (size_t)(SIM_SCN_ERRBUF_SIZE - n), fmt, ap);
	va_end(ap);
	return -1;
}

/* "'text'" for a token (shortened), or "the end of the line". */
static const char *shown(const struct tok *t, char *buf, size_t size)
{
	if (!t)
		return "the end of the line";
	if (t->len > 40)
		snprintf(buf, size, "%c%.37s...%c", t->quoted ? '"' : '\'', t->s,
			 t->quoted ? '"' : '\'');
	else
		snprintf(buf, size, "%c%s%c", t->quoted ? '"' : '\'', t->s, t->quoted ? '"' : '\'');
	return buf;
}

static struct sim_scn_srcpos tpos(const struct parser *p, const struct tok *t)
{
	return t ? t->pos : p->eol;
}

/* "expected WHAT after 'AFTER', got X" at token @t (NULL: end of line). */
static int expected(struct parser *p, const struct tok *t, const char *what, const char *after)
{
	char b[64];

	return err_pos(p, tpos(p, t), "expected %s after '%s', got %s", what, after,
		       shown(t, b, sizeof(b)));
}

static struct tok *peek(struct parser *p)
{
	return p->i < p->ntok ? &p->toks[p->i] : NULL;
}

/* The next token if it is the bare word @w. */
static int accept_word(struct parser *p, const char *w)
{
	struct tok *t = peek(p);

	if (t && !t->quoted && strcmp(t->s, w) == 0) {
		p->i++;
		return 1;
	}
	return 0;
}

static int need_word(struct parser *p, const char *w, const char *after)
{
	char what[64];

	if (accept_word(p, w))
		return 0;
	snprintf(what, sizeof(what), "'%s'", w);
	return expected(p, peek(p), what, after);
}

static int end_of_statement(struct parser *p, const char *stmt)
{
	char b[64];
	struct tok *t = peek(p);

	if (!t)
		return 0;
	return err_pos(p, t->pos, "unexpected %s at the end of '%s'", shown(t, b, sizeof(b)), stmt);
}

/* A list of the names in @t for messages: "a, b or c". */
static const char *kw_list(const struct kw *t, char *buf, size_t size)
{
	size_t n = 0, count = 0;

	for (const struct kw *k = t; k->name; k++)
		count++;
	buf[0] = '\0';
	for (size_t i = 0; i < count && n < size; i++) {
		int w = snprintf(buf + n, size - n, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ",
				 t[i].name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

static int p_kw(struct parser *p, const struct kw *table, const char *after, int *val)
{
	struct tok *t = peek(p);
	const struct kw *k = t && !t->quoted ? kw_find(table, t->s) : NULL;
	char list[256], what[300];

	if (k) {
		p->i++;
		*val = k->val;
		return 0;
	}
	snprintf(what, sizeof(what), "%s", kw_list(table, list, sizeof(list)));
	return expected(p, t, what, after);
}

/* ------------------------------------------------------------------ */
/* Values. */

static int num_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int base = 10, any = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, any = 1) {
		int d = isdigit((unsigned char)*s) ? *s - '0'
			: (base == 16 && isxdigit((unsigned char)*s)) ? (tolower((unsigned char)*s) - 'a' + 10)
			: -1;

		if (d < 0 || x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	if (!any)
		return -1;
	*v = x;
	return 0;
}

/* Decimal digits only (ports, prefix lengths, ranges). */
static int dec_u64(const char *s, uint64_t *v)
{
	return isdigit((unsigned char)s[0]) && strspn(s, "0123456789") == strlen(s) && num_u64(s, v) == 0
		       ? 0
		       : -1;
}

static int p_uint(struct parser *p, const char *after, uint64_t min, uint64_t max, uint64_t *v)
{
	struct tok *t = peek(p);
	char what[96];

	if (t && !t->quoted && num_u64(t->s, v) == 0 && *v >= min && *v <= max) {
		p->i++;
		return 0;
	}
	snprintf(what, sizeof(what), "a number from %llu to %llu", (unsigned long long)min,
		 (unsigned long long)max);
	return expected(p, t, what, after);
}

static int p_u32(struct parser *p, const char *after, uint32_t min, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (p_uint(p, after, min, max, &x) != 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

struct unit {
	const char *sfx;
	uint64_t mult;
};

/*
 * DIGITS[.DIGITS]SUFFIX with SUFFIX from @units ("" allowed when listed),
 * exact: the fraction times the unit must be whole.
 */
static int scaled(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t ip = 0, fp = 0, pow = 1;
	int nd = 0, nf = 0;

	for (; isdigit((unsigned char)*s); s++, nd++) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -1;
		ip = ip * 10 + (uint64_t)(*s - '0');
	}
	if (nd == 0)
		return -1;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, nf++) {
			if (nf == 9)
				return -1;
			fp = fp * 10 + (uint64_t)(*s - '0');
			pow *= 10;
		}
		if (nf == 0)
			return -1;
	}
	for (; units->sfx; units++) {
		if (strcmp(units->sfx, s) != 0)
			continue;
		if (units->mult && ip > UINT64_MAX / units->mult)
			return -1;
		if ((fp * units->mult) % pow != 0)
			return -1;
		if (ip * units->mult > UINT64_MAX - fp * units->mult / pow)
			return -1;
		*out = ip * units->mult + fp * units->mult / pow;
		return 0;
	}
	return -1;
}

static const struct unit time_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 }, { NULL, 0 },
};
static const struct unit size_units[] = {
	{ "", 1 }, { "K", 1024 }, { "M", 1024 * 1024 }, { "G", 1024 * 1024 * 1024 }, { NULL, 0 },
};
static const struct unit pps_units[] = {
	{ "/s", 1 }, { "k/s", 1000 }, { "K/s", 1000 }, { "M/s", 1000000 }, { NULL, 0 },
};
static const struct unit bps_units[] = {
	{ "", 1 }, { "K", 1000 }, { "M", 1000000 }, { "G", 1000000000 }, { NULL, 0 },
};
static const struct unit speed_units[] = { { "", 1000 }, { "x", 1000 }, { NULL, 0 } };

#define MAX_TIME ((sim_ns)3600 * 1000000000)	/* one hour */

/* A duration in its largest exact unit: "0s", "1500ms", "50us". */
static const char *ns_text(sim_ns v, char *buf, size_t size)
{
	static const struct unit u[] = { { "s", 1000000000 }, { "ms", 1000000 }, { "us", 1000 } };

	for (size_t i = 0; v && i < sizeof(u) / sizeof(u[0]); i++)
		if (v % u[i].mult == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(v / u[i].mult), u[i].sfx);
			return buf;
		}
	snprintf(buf, size, v ? "%lluns" : "%llus", (unsigned long long)v);
	return buf;
}

static int p_duration(struct parser *p, const char *after, sim_ns min, sim_ns max, sim_ns *v)
{
	struct tok *t = peek(p);

	if (t && !t->quoted && (strcmp(t->s, "0") == 0 ? (*v = 0, 1) : scaled(t->s, time_units, v) == 0)) {
		if (*v < min || *v > max) {
			char b[64], lo[32], hi[32];

			return err_pos(p, t->pos, "%s after '%s' is out of range: expected %s to %s",
				       shown(t, b, sizeof(b)), after, ns_text(min, lo, sizeof(lo)),
				       ns_text(max, hi, sizeof(hi)));
		}
		p->i++;
		return 0;
	}
	return expected(p, t, "a duration like 10us, 2ms or 1s", after);
}

static int p_size(struct parser *p, const char *after, uint64_t min, uint64_t max, uint64_t *v)
{
	struct tok *t = peek(p);
	char what[128];

	if (t && !t->quoted && scaled(t->s, size_units, v) == 0 && *v >= min && *v <= max) {
		p->i++;
		return 0;
	}
	snprintf(what, sizeof(what), "a size from %llu to %llu bytes (like 512, 64K or 2M)",
		 (unsigned long long)min, (unsigned long long)max);
	return expected(p, t, what, after);
}

static int p_pps(struct parser *p, const char *after, uint64_t *v)
{
	struct tok *t = peek(p);

	if (t && !t->quoted && scaled(t->s, pps_units, v) == 0 && *v >= 1 && *v <= 100000000) {
		p->i++;
		return 0;
	}
	return expected(p, t, "a rate from 1/s to 100M/s like 1000/s, 10k/s or 1M/s", after);
}

static int p_mac(struct parser *p, const char *after, uint8_t mac[6])
{
	struct tok *t = peek(p);
	unsigned v[6];
	char end;

	if (t && !t->quoted && t->len == 17 &&
	    sscanf(t->s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) == 6) {
		for (int i = 0; i < 17; i++)
			if (i % 3 == 2 ? t->s[i] != ':' : !isxdigit((unsigned char)t->s[i]))
				return expected(p, t, "a MAC address like 02:00:00:00:0a:01", after);
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)v[i];
		p->i++;
		return 0;
	}
	return expected(p, t, "a MAC address like 02:00:00:00:0a:01", after);
}

static int addr_from(const char *s, struct sim_scn_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}

static int p_addr(struct parser *p, const char *after, struct sim_scn_addr *a)
{
	struct tok *t = peek(p);

	if (t && !t->quoted && t->len < 64 && addr_from(t->s, a) == 0) {
		p->i++;
		return 0;
	}
	return expected(p, t, "an IPv4 or IPv6 address", after);
}

static int prefix_host_bits(const struct sim_scn_prefix *pf)
{
	uint32_t bits = pf->addr.family == 4 ? 32 : 128;

	for (uint32_t b = pf->len; b < bits; b++)
		if (pf->addr.bytes[b / 8] & (0x80 >> (b % 8)))
			return 1;
	return 0;
}

/* ADDR/LEN, or ADDR alone (a host: /32 or /128) when @bare_ok. */
static int p_prefix(struct parser *p, const char *after, int bare_ok, int host_bits_ok,
		    struct sim_scn_prefix *pf)
{
	struct tok *t = peek(p);
	const char *what = bare_ok ? "an address or a prefix like 198.18.0.0/24"
				   : "an address with a prefix length like 198.18.0.1/24";
	char a[64], *slash;
	uint64_t len;

	if (!t || t->quoted || t->len >= sizeof(a))
		return expected(p, t, what, after);
	memcpy(a, t->s, t->len + 1);
	slash = strchr(a, '/');
	if (slash)
		*slash = '\0';
	if (addr_from(a, &pf->addr) != 0 || (!slash && !bare_ok))
		return expected(p, t, what, after);
	if (!slash) {
		pf->len = pf->addr.family == 4 ? 32 : 128;
	} else if (dec_u64(slash + 1, &len) != 0 || len > (pf->addr.family == 4 ? 32u : 128u)) {
		return err_pos(p, t->pos, "expected a prefix length from 0 to %u in %s after '%s'",
			       pf->addr.family == 4 ? 32 : 128, shown(t, a, sizeof(a)), after);
	} else {
		pf->len = (uint8_t)len;
	}
	if (!host_bits_ok && prefix_host_bits(pf))
		return err_pos(p, t->pos, "prefix %s has bits set after its length %u",
			       shown(t, a, sizeof(a)), pf->len);
	p->i++;
	return 0;
}

/* ADDR[:PORT]; IPv6 with a port is [ADDR]:PORT.  *@has_port says which. */
static int p_addr_port(struct parser *p, const char *after, struct sim_scn_addr *a, uint16_t *port,
		       int *has_port)
{
	struct tok *t = peek(p);
	const char *what = "an address, optionally with a port: 198.18.0.2:53 or [fe80::2]:53";
	char buf[80], *colon = NULL;
	uint64_t v;

	if (!t || t->quoted || t->len >= sizeof(buf))
		return expected(p, t, what, after);
	memcpy(buf, t->s, t->len + 1);
	*has_port = 0;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return expected(p, t, what, after);
		*close = '\0';
		if (close[1] == ':')
			colon = close + 1;
		if (addr_from(buf + 1, a) != 0 || a->family != 6)
			return expected(p, t, what, after);
	} else {
		if (addr_from(buf, a) != 0) {
			colon = strrchr(buf, ':');
			if (!colon)
				return expected(p, t, what, after);
			*colon = '\0';
			if (addr_from(buf, a) != 0 || a->family != 4)
				return expected(p, t, what, after);
		}
	}
	if (colon) {
		if (dec_u64(colon + 1, &v) != 0 || v > 65535)
			return err_pos(p, t->pos, "expected a port from 0 to 65535 in %s after '%s'",
				       shown(t, buf, sizeof(buf)), after);
		*port = (uint16_t)v;
		*has_port = 1;
	}
	p->i++;
	return 0;
}

/* NAME: [A-Za-z_][A-Za-z0-9_-]*, shorter than @size. */
static int name_ok(const char *s, size_t size, int dots)
{
	size_t n = strlen(s);

	if (n == 0 || n >= size || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' ||
		      (dots && s[i] == '.' && s[i - 1] != '.' && i + 1 < n)))
			return 0;
	return 1;
}

static int p_name(struct parser *p, const char *after, const char *what, char *out, size_t size,
		  int dots)
{
	struct tok *t = peek(p);
	char w[160];

	if (t && !t->quoted && name_ok(t->s, size, dots)) {
		memcpy(out, t->s, t->len + 1);
		p->i++;
		return 0;
	}
	snprintf(w, sizeof(w), "%s (a letter or '_', then letters, digits, '_', '-'%s; at most %zu)",
		 what, dots ? " or '.'" : "", size - 1);
	return expected(p, t, w, after);
}

/* HOST.NAME */
static int p_ref(struct parser *p, const char *after, const char *what, struct sim_scn_ref *r)
{
	struct tok *t = peek(p);
	char *dot = t && !t->quoted ? strchr(t->s, '.') : NULL;
	char w[128];

	memset(r, 0, sizeof(*r));
	if (dot && (size_t)(dot - t->s) < SIM_SCN_NAME_MAX) {
		memcpy(r->host_name, t->s, (size_t)(dot - t->s));
		r->host_name[dot - t->s] = '\0';
		if (name_ok(r->host_name, SIM_SCN_NAME_MAX, 0) &&
		    name_ok(dot + 1, SIM_SCN_NAME_MAX, 1)) {
			strcpy(r->name, dot + 1);
			r->pos = t->pos;
			p->i++;
			return 0;
		}
	}
	snprintf(w, sizeof(w), "HOST.%s like a.%s", what,
		 strcmp(what, "TAP") == 0 ? "tap1" : "eth0");
	return expected(p, t, w, after);
}

/* A device name on the open host, resolved later. */
static int p_dev(struct parser *p, const char *after, struct sim_scn_ref *r)
{
	memset(r, 0, sizeof(*r));
	r->pos = tpos(p, peek(p));
	if (p_name(p, after, "an interface name", r->name, SIM_SCN_IFNAME_MAX, 1) != 0)
		return -1;
	strcpy(r->host_name, p->s->hosts[p->host].name);
	r->host = (uint32_t)p->host;
	return 0;
}

/* N, =N, !=N, <N, <=N, >N, >=N; the operator may stand alone. */
static int p_cmp(struct parser *p, const char *after, enum sim_scn_cmp *c, uint64_t *v)
{
	struct tok *t = peek(p);
	const char *what = "a count like 5, =5, >=1, <10 or !=0";
	const char *s;
	size_t n = 0;

	if (!t || t->quoted)
		return expected(p, t, what, after);
	s = t->s;
	*c = SIM_SCN_CMP_EQ;
	while (s[n] && strchr("=!<>", s[n]))
		n++;
	if (n) {
		char op[4];
		const struct kw *k;

		if (n > 2)
			return expected(p, t, what, after);
		memcpy(op, s, n);
		op[n] = '\0';
		k = kw_find(cmp_kw, op);
		if (!k)
			return expected(p, t, what, after);
		*c = (enum sim_scn_cmp)k->val;
		if (s[n] == '\0') {
			p->i++;
			t = peek(p);
			if (!t || t->quoted || num_u64(t->s, v) != 0 || *v > (UINT64_MAX >> 1))
				return expected(p, t, "a count", op);
			p->i++;
			return 0;
		}
	}
	if (num_u64(s + n, v) != 0 || *v > (UINT64_MAX >> 1))
		return expected(p, t, what, after);
	p->i++;
	return 0;
}

/* A string: quoted, or one bare token. */
static int p_string(struct parser *p, const char *after, const char *what, char **out)
{
	struct tok *t = peek(p);

	if (!t || t->len == 0 || t->len > SIM_SCN_MAX_STRING)
		return expected(p, t, what, after);
	free(*out);
	*out = strdup(t->s);
	if (!*out)
		return err_pos(p, t->pos, "out of memory");
	p->i++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Growing arrays. */

static void *push(struct parser *p, void *arrp, uint32_t *n, size_t size, uint32_t limit,
		  struct sim_scn_srcpos pos, const char *what)
{
	void **arr = arrp;
	char *grown;

	if (*n >= limit) {
		err_pos(p, pos, "more than %u %s (the limit)", limit, what);
		return NULL;
	}
	grown = realloc(*arr, ((size_t)*n + 1) * size);
	if (!grown) {
		err_pos(p, pos, "out of memory");
		return NULL;
	}
	*arr = grown;
	memset(grown + (size_t)*n * size, 0, size);
	return grown + (size_t)(*n)++ * size;
}

static struct sim_scn_host *cur(struct parser *p)
{
	return &p->s->hosts[p->host];
}

/* ------------------------------------------------------------------ */
/* Options: a table per statement; each entry consumes its arguments. */

struct opt {
	const char *name;
	int (*fn)(struct parser *p, void *obj, const struct tok *kw);
	int repeat;		/* may be given more than once */
};

static int p_options(struct parser *p, const struct opt *opts, void *obj, const char *stmt,
		     struct sim_scn_srcpos *seen_pos)
{
	uint64_t seen = 0;
	struct tok *t;

	while ((t = peek(p)) != NULL) {
		const struct opt *o = NULL;
		size_t idx = 0;
		char b[64];

		for (const struct opt *q = opts; q->name; q++, idx++)
			if (!t->quoted && strcmp(q->name, t->s) == 0) {
				o = q;
				break;
			}
		if (!o)
			return err_pos(p, t->pos, "unknown option %s for '%s'", shown(t, b, sizeof(b)),
				       stmt);
		if (!o->repeat && (seen & (1ull << idx)))
			return err_pos(p, t->pos, "'%s' given twice", o->name);
		seen |= 1ull << idx;
		if (seen_pos)
			seen_pos[idx] = t->pos;
		p->i++;
		if (o->fn(p, obj, t) != 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Top-level statements. */

static int st_scenario(struct parser *p)
{
	struct tok *kw = &p->toks[0];
	struct tok *t = peek(p);

	if (p->title_line)
		return err_pos(p, kw->pos, "'scenario' given twice (first on line %u)", p->title_line);
	if (!t || !t->quoted)
		return expected(p, t, "a title in double quotes", "scenario");
	if (p_string(p, "scenario", "a title", &p->s->title) != 0)
		return -1;
	p->title_line = kw->pos.line;
	return end_of_statement(p, "scenario");
}

static int st_seed(struct parser *p)
{
	struct tok *kw = &p->toks[0];

	if (p->seed_line)
		return err_pos(p, kw->pos, "'seed' given twice (first on line %u)", p->seed_line);
	if (p_uint(p, "seed", 0, UINT64_MAX, &p->s->seed) != 0)
		return -1;
	p->seed_line = kw->pos.line;
	return end_of_statement(p, "seed");
}

static int st_duration(struct parser *p)
{
	struct tok *kw = &p->toks[0];

	if (p->duration_line)
		return err_pos(p, kw->pos, "'duration' given twice (first on line %u)",
			       p->duration_line);
	if (p_duration(p, "duration", 1, MAX_TIME, &p->s->duration) != 0)
		return -1;
	p->s->has_duration = 1;
	p->duration_line = kw->pos.line;
	return end_of_statement(p, "duration");
}

static void iface_defaults(struct sim_scn_iface *ifc)
{
	ifc->mtu = 1500;
	ifc->vlan_offload = 1;
	ifc->rx_ring = 256;
	ifc->tx_ring = 256;
	ifc->txqueuelen = 1000;
	ifc->coalesce = 0;
	ifc->coalesce_frames = 1;
	ifc->wire = -1;
}

static int st_host(struct parser *p)
{
	struct sim_scenario *s = p->s;
	struct tok *nt = peek(p);
	struct sim_scn_host *h;
	struct sim_scn_iface *lo;
	char name[SIM_SCN_NAME_MAX];

	if (p_name(p, "host", "a host name", name, sizeof(name), 0) != 0)
		return -1;
	for (uint32_t i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return err_pos(p, nt->pos, "host '%s' is already declared on line %u", name,
				       s->hosts[i].pos.line);
	h = push(p, &s->hosts, &s->nhosts, sizeof(*h), SIM_SCN_MAX_HOSTS, nt->pos, "hosts");
	if (!h)
		return -1;
	strcpy(h->name, name);
	h->pos = p->toks[0].pos;
	h->cpus = 1;
	h->sysctl = (struct sim_scn_sysctls){
		.netdev_budget = SIM_DEF_NETDEV_BUDGET, .netdev_budget_usecs = SIM_DEF_NETDEV_BUDGET_USECS,
		.netdev_max_backlog = SIM_DEF_MAX_BACKLOG, .dev_weight = SIM_DEF_DEV_WEIGHT,
		.rmem_default = SIM_DEF_RMEM_DEFAULT, .rmem_max = SIM_DEF_RMEM_MAX, .ip_forward = 0,
	};
	memcpy(h->cost, cost_default, sizeof(h->cost));
	p->host = (int32_t)(s->nhosts - 1);
	memset(&p->hx[p->host], 0, sizeof(p->hx[0]));
	/* Every host has lo: ifindex 1, 127.0.0.1/8 and ::1/128, MTU 65536. */
	lo = push(p, &h->ifaces, &h->nifaces, sizeof(*lo), SIM_SCN_MAX_IFACES, nt->pos,
		  "interfaces on a host");
	if (!lo)
		return -1;
	iface_defaults(lo);
	strcpy(lo->name, "lo");
	lo->kind = SIM_SCN_IFACE_LOOPBACK;
	lo->ifindex = 1;
	lo->mtu = 65536;
	lo->vlan_offload = 0;
	lo->pos = h->pos;
	addr_from("127.0.0.1", &lo->addrs[0].addr);
	lo->addrs[0].len = 8;
	addr_from("::1", &lo->addrs[1].addr);
	lo->addrs[1].len = 128;
	lo->naddrs = 2;
	if (accept_word(p, "cpus")) {
		if (p_u32(p, "cpus", 1, 2, &h->cpus) != 0)
			return -1;
	}
	return end_of_statement(p, "host");
}

static int st_wire(struct parser *p)
{
	struct sim_scn_wire *w = push(p, &p->s->wires, &p->s->nwires, sizeof(*w), SIM_SCN_MAX_WIRES,
				  p->toks[0].pos, "wires");
	uint64_t rate = 10000000000ull;

	if (!w)
		return -1;
	w->pos = p->toks[0].pos;
	w->delay = 1000;
	if (p_ref(p, "wire", "IFACE", &w->a) != 0 || p_ref(p, w->a.host_name, "IFACE", &w->b) != 0)
		return -1;
	for (;;) {
		if (accept_word(p, "delay")) {
			if (p_duration(p, "delay", 0, 1000000000, &w->delay) != 0)
				return -1;
		} else if (accept_word(p, "rate")) {
			struct tok *t = peek(p);

			if (!t || t->quoted || scaled(t->s, bps_units, &rate) != 0 ||
			    rate < 1000000 || rate > 400000000000ull)
				return expected(p, t, "a link rate from 1M to 400G like 100M, 1G or 10G",
						"rate");
			p->i++;
		} else {
			break;
		}
	}
	w->rate_bps = rate;
	return end_of_statement(p, "wire");
}

/* ------------------------------------------------------------------ */
/* Host statements. */

static int o_if_mac(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_iface *ifc = o;

	ifc->mac_given = 1;
	return p_mac(p, kw->s, ifc->mac);
}

/* Interface addresses stay inside the test networks so a live run cannot
 * reach a real one: 198.18.0.0/15 (RFC 2544), fe80::/10, 2001:db8::/32. */
static int test_network(const struct sim_scn_addr *a)
{
	if (a->family == 4)
		return a->bytes[0] == 198 && (a->bytes[1] & 0xfe) == 18;
	return (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80) ||
	       (a->bytes[0] == 0x20 && a->bytes[1] == 0x01 && a->bytes[2] == 0x0d &&
		a->bytes[3] == 0xb8);
}

static int o_if_addr(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_iface *ifc = o;
	struct tok *t = peek(p);
	struct sim_scn_prefix pf;
	char b[64];

	if (p_prefix(p, kw->s, 0, 1, &pf) != 0)
		return -1;
	if (!test_network(&pf.addr))
		return err_pos(p, t->pos,
			       "address %s is outside the test networks 198.18.0.0/15, fe80::/10 and 2001:db8::/32",
			       shown(t, b, sizeof(b)));
	for (uint32_t i = 0; i < ifc->naddrs; i++)
		if (memcmp(&ifc->addrs[i].addr, &pf.addr, sizeof(pf.addr)) == 0)
			return err_pos(p, t->pos, "address %s is given twice", shown(t, b, sizeof(b)));
	if (ifc->naddrs == SIM_SCN_MAX_ADDRS)
		return err_pos(p, t->pos, "more than %u addresses on one interface (the limit)",
			       SIM_SCN_MAX_ADDRS);
	ifc->addrs[ifc->naddrs++] = pf;
	return 0;
}

static int o_if_mtu(struct parser *p, void *o, const struct tok *kw)
{
	return p_u32(p, kw->s, 68, 65535, &((struct sim_scn_iface *)o)->mtu);
}

static int o_if_promisc(struct parser *p, void *o, const struct tok *kw)
{
	(void)p;
	(void)kw;
	((struct sim_scn_iface *)o)->promisc = 1;
	return 0;
}

static int o_if_vlan_offload(struct parser *p, void *o, const struct tok *kw)
{
	return p_kw(p, onoff_kw, kw->s, &((struct sim_scn_iface *)o)->vlan_offload);
}

/* ethtool -G: rings are powers of two; 64..4096 like common drivers. */
static int p_ring_size(struct parser *p, const char *after, uint32_t *v)
{
	struct tok *t = peek(p);
	uint64_t x;

	if (t && !t->quoted && num_u64(t->s, &x) == 0 && x >= 64 && x <= 4096 && !(x & (x - 1))) {
		*v = (uint32_t)x;
		p->i++;
		return 0;
	}
	return expected(p, t, "a power of two from 64 to 4096", after);
}

static int o_if_rx_ring(struct parser *p, void *o, const struct tok *kw)
{
	return p_ring_size(p, kw->s, &((struct sim_scn_iface *)o)->rx_ring);
}

static int o_if_tx_ring(struct parser *p, void *o, const struct tok *kw)
{
	return p_ring_size(p, kw->s, &((struct sim_scn_iface *)o)->tx_ring);
}

static int o_if_txqlen(struct parser *p, void *o, const struct tok *kw)
{
	return p_u32(p, kw->s, 0, 100000, &((struct sim_scn_iface *)o)->txqueuelen);
}

static int o_if_coalesce(struct parser *p, void *o, const struct tok *kw)
{
	return p_duration(p, kw->s, 0, 1000000000, &((struct sim_scn_iface *)o)->coalesce);
}

static int o_if_coalesce_frames(struct parser *p, void *o, const struct tok *kw)
{
	return p_u32(p, kw->s, 1, 4096, &((struct sim_scn_iface *)o)->coalesce_frames);
}

/* Options an Ethernet device has and a VLAN device does not. */
#define IFOPT_ETHER_ONLY_FROM 5
static const struct opt iface_opts[] = {
	{ "mac", o_if_mac, 0 },
	{ "addr", o_if_addr, 1 },
	{ "mtu", o_if_mtu, 0 },
	{ "promisc", o_if_promisc, 0 },
	{ "txqueuelen", o_if_txqlen, 0 },
	/* IFOPT_ETHER_ONLY_FROM */
	{ "vlan-offload", o_if_vlan_offload, 0 },
	{ "rx-ring", o_if_rx_ring, 0 },
	{ "tx-ring", o_if_tx_ring, 0 },
	{ "coalesce", o_if_coalesce, 0 },
	{ "coalesce-frames", o_if_coalesce_frames, 0 },
	{ NULL, NULL, 0 },
};

static int st_iface(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct tok *nt = peek(p);
	struct sim_scn_iface *ifc;
	char name[SIM_SCN_IFNAME_MAX];
	struct sim_scn_srcpos cols[16] = { { 0, 0 } };

	if (p_name(p, "iface", "an interface name", name, sizeof(name), 1) != 0)
		return -1;
	for (uint32_t i = 0; i < h->nifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return err_pos(p, nt->pos, "host '%s' already has an interface '%s'%s", h->name,
				       name, i == 0 ? " (every host has lo)" : "");
	ifc = push(p, &h->ifaces, &h->nifaces, sizeof(*ifc), SIM_SCN_MAX_IFACES, nt->pos,
		   "interfaces on a host");
	if (!ifc)
		return -1;
	iface_defaults(ifc);
	strcpy(ifc->name, name);
	ifc->kind = SIM_SCN_IFACE_ETHER;
	ifc->ifindex = h->nifaces;
	ifc->pos = p->toks[0].pos;
	if (accept_word(p, "vlan")) {
		uint32_t id;

		ifc->kind = SIM_SCN_IFACE_VLAN;
		if (p_u32(p, "vlan", 0, 4095, &id) != 0 || need_word(p, "on", "the VLAN id") != 0 ||
		    p_dev(p, "on", &ifc->parent) != 0)
			return -1;
		ifc->vlan_id = (uint16_t)id;
	}
	if (p_options(p, iface_opts, ifc, "iface", cols) != 0)
		return -1;
	if (ifc->kind == SIM_SCN_IFACE_VLAN) {
		for (int i = IFOPT_ETHER_ONLY_FROM; iface_opts[i].name; i++)
			if (cols[i].line)
				return err_pos(p, cols[i],
					       "'%s' belongs to the Ethernet device, not to the VLAN device '%s'",
					       iface_opts[i].name, name);
	}
	if (ifc->coalesce_frames > ifc->rx_ring)
		return err_pos(p, nt->pos, "coalesce-frames %u is more than rx-ring %u",
			       ifc->coalesce_frames, ifc->rx_ring);
	return 0;
}

static int st_route(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct tok *dt = peek(p);
	struct sim_scn_route *r = push(p, &h->routes, &h->nroutes, sizeof(*r), SIM_SCN_MAX_ROUTES,
				   p->toks[0].pos, "routes on a host");

	if (!r)
		return -1;
	r->pos = p->toks[0].pos;
	if (accept_word(p, "default")) {
		r->is_default = 1;
	} else if (p_prefix(p, "route", 1, 0, &r->dst) != 0) {
		return -1;
	}
	for (;;) {
		struct tok *t = peek(p);

		if (accept_word(p, "via")) {
			if (r->has_via)
				return err_pos(p, t->pos, "'via' given twice");
			t = peek(p);
			if (p_addr(p, "via", &r->via) != 0)
				return -1;
			r->has_via = 1;
			if (!r->is_default && r->via.family != r->dst.addr.family)
				return err_pos(p, t->pos, "gateway is IPv%u but the route is IPv%u",
					       r->via.family, r->dst.addr.family);
		} else if (accept_word(p, "dev")) {
			if (r->has_dev)
				return err_pos(p, t->pos, "'dev' given twice");
			if (p_dev(p, "dev", &r->dev) != 0)
				return -1;
			r->has_dev = 1;
		} else if (accept_word(p, "metric")) {
			if (p_u32(p, "metric", 0, 65535, &r->metric) != 0)
				return -1;
		} else {
			break;
		}
	}
	if (end_of_statement(p, "route") != 0)
		return -1;
	if (!r->has_via && !r->has_dev)
		return err_pos(p, p->eol, "a route needs 'via ADDRESS' or 'dev DEVICE'");
	if (r->is_default) {
		r->dst.addr.family = r->has_via ? r->via.family : 4;
		r->dst.len = 0;
	}
	if (r->has_via && !r->has_dev && r->via.family == 6 && r->via.bytes[0] == 0xfe &&
	    (r->via.bytes[1] & 0xc0) == 0x80)
		return err_pos(p, dt->pos, "a link-local gateway needs 'dev DEVICE'");
	return 0;
}

static int st_neigh(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct sim_scn_neigh *n = push(p, &h->neighs, &h->nneighs, sizeof(*n), SIM_SCN_MAX_NEIGHS,
				   p->toks[0].pos, "neighbours on a host");

	if (!n)
		return -1;
	n->pos = p->toks[0].pos;
	if (p_addr(p, "neigh", &n->addr) != 0 || need_word(p, "lladdr", "the address") != 0 ||
	    p_mac(p, "lladdr", n->lladdr) != 0 || need_word(p, "dev", "the MAC address") != 0 ||
	    p_dev(p, "dev", &n->dev) != 0)
		return -1;
	return end_of_statement(p, "neigh");
}

static int st_forwarding(struct parser *p)
{
	struct hostx *x = &p->hx[p->host];

	if (x->fwd_line)
		return err_pos(p, p->toks[0].pos, "'forwarding' given twice for host '%s' (first on line %u)",
			       cur(p)->name, x->fwd_line);
	x->fwd_line = p->toks[0].pos.line;
	if (p_kw(p, onoff_kw, "forwarding", &cur(p)->sysctl.ip_forward) != 0)
		return -1;
	return end_of_statement(p, "forwarding");
}

static const struct {
	const char *name;
	size_t off;
	uint32_t min, max;
} sysctl_table[] = {
	{ "netdev_budget", offsetof(struct sim_scn_sysctls, netdev_budget), 1, 100000 },
	{ "netdev_budget_usecs", offsetof(struct sim_scn_sysctls, netdev_budget_usecs), 1, 1000000 },
	{ "netdev_max_backlog", offsetof(struct sim_scn_sysctls, netdev_max_backlog), 1, 1000000 },
	{ "dev_weight", offsetof(struct sim_scn_sysctls, dev_weight), 1, 100000 },
	{ "rmem_default", offsetof(struct sim_scn_sysctls, rmem_default), 2304, 1u << 30 },
	{ "rmem_max", offsetof(struct sim_scn_sysctls, rmem_max), 2304, 1u << 30 },
};
#define NSYSCTL (sizeof(sysctl_table) / sizeof(sysctl_table[0]))

static int st_sysctl(struct parser *p)
{
	struct tok *t = peek(p);
	struct hostx *x = &p->hx[p->host];

	for (size_t i = 0; t && !t->quoted && i < NSYSCTL; i++) {
		uint64_t v;

		if (strcmp(sysctl_table[i].name, t->s) != 0)
			continue;
		if (x->sysctl_line[i])
			return err_pos(p, t->pos, "sysctl '%s' set twice for host '%s' (first on line %u)",
				       t->s, cur(p)->name, x->sysctl_line[i]);
		x->sysctl_line[i] = t->pos.line;
		p->i++;
		if (strncmp(t->s, "rmem", 4) == 0 ? p_size(p, t->s, sysctl_table[i].min,
							   sysctl_table[i].max, &v)
						  : p_uint(p, t->s, sysctl_table[i].min,
							   sysctl_table[i].max, &v))
			return -1;
		*(uint32_t *)((char *)&cur(p)->sysctl + sysctl_table[i].off) = (uint32_t)v;
		return end_of_statement(p, "sysctl");
	}
	return expected(p, t,
			"netdev_budget, netdev_budget_usecs, netdev_max_backlog, dev_weight, rmem_default or rmem_max",
			"sysctl");
}

static int st_cost(struct parser *p)
{
	struct tok *t = peek(p);
	struct hostx *x = &p->hx[p->host];
	int stage;

	if (t && !t->quoted && strcmp(t->s, "read") == 0)
		return err_pos(p, t->pos, "the 'read' cost is set by 'read-rate' on a socket or a tap");
	if (p_kw(p, cost_kw, "cost", &stage) != 0)
		return -1;
	if (x->cost_line[stage])
		return err_pos(p, t->pos, "cost '%s' set twice for host '%s' (first on line %u)", t->s,
			       cur(p)->name, x->cost_line[stage]);
	x->cost_line[stage] = t->pos.line;
	if (p_duration(p, t->s, 0, 1000000000, &cur(p)->cost[stage]) != 0)
		return -1;
	return end_of_statement(p, "cost");
}

/* Tap, socket and interface names share a namespace on a host: a counter
 * path "NAME.counter" must say which one it means. */
static int name_taken(struct parser *p, const struct tok *t, const char *name)
{
	struct sim_scn_host *h = cur(p);

	if (strcmp(name, "softnet") == 0 || strcmp(name, "rule") == 0)
		return err_pos(p, t->pos, "'%s' is reserved for counters; choose another name", name);
	for (uint32_t i = 0; i < h->nifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return err_pos(p, t->pos, "host '%s' already has an interface '%s'", h->name, name);
	for (uint32_t i = 0; i < h->ntaps; i++)
		if (strcmp(h->taps[i].name, name) == 0)
			return err_pos(p, t->pos, "host '%s' already has a tap '%s' (line %u)", h->name,
				       name, h->taps[i].pos.line);
	for (uint32_t i = 0; i < h->nsockets; i++)
		if (strcmp(h->sockets[i].name, name) == 0)
			return err_pos(p, t->pos, "host '%s' already has a socket '%s' (line %u)",
				       h->name, name, h->sockets[i].pos.line);
	return 0;
}

static int p_range(struct parser *p, const char *after, uint32_t max, struct sim_scn_range *r)
{
	struct tok *t = peek(p);
	char what[64], buf[32], *dash;
	uint64_t lo, hi;

	snprintf(what, sizeof(what), "a number or a range N-M from 0 to %u", max);
	if (!t || t->quoted || t->len >= sizeof(buf))
		return expected(p, t, what, after);
	memcpy(buf, t->s, t->len + 1);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (dec_u64(buf, &lo) != 0 || lo > max)
		return expected(p, t, what, after);
	hi = lo;
	if (dash && (dec_u64(dash + 1, &hi) != 0 || hi > max || hi < lo))
		return expected(p, t, what, after);
	r->set = 1;
	r->lo = (uint32_t)lo;
	r->hi = (uint32_t)hi;
	p->i++;
	return 0;
}

static int o_r_proto(struct parser *p, void *o, const struct tok *kw)
{
	int v;

	if (p_kw(p, proto_kw, kw->s, &v) != 0)
		return -1;
	((struct sim_scn_rule *)o)->proto = (enum sim_scn_proto)v;
	return 0;
}

static int o_r_saddr(struct parser *p, void *o, const struct tok *kw)
{
	((struct sim_scn_rule *)o)->has_saddr = 1;
	return p_prefix(p, kw->s, 1, 0, &((struct sim_scn_rule *)o)->saddr);
}

static int o_r_daddr(struct parser *p, void *o, const struct tok *kw)
{
	((struct sim_scn_rule *)o)->has_daddr = 1;
	return p_prefix(p, kw->s, 1, 0, &((struct sim_scn_rule *)o)->daddr);
}

static int o_r_sport(struct parser *p, void *o, const struct tok *kw)
{
	return p_range(p, kw->s, 65535, &((struct sim_scn_rule *)o)->sport);
}

static int o_r_dport(struct parser *p, void *o, const struct tok *kw)
{
	return p_range(p, kw->s, 65535, &((struct sim_scn_rule *)o)->dport);
}

static int o_r_len(struct parser *p, void *o, const struct tok *kw)
{
	return p_range(p, kw->s, 65535, &((struct sim_scn_rule *)o)->len);
}

static int o_r_vlan(struct parser *p, void *o, const struct tok *kw)
{
	uint32_t v;

	if (p_u32(p, kw->s, 0, 4095, &v) != 0)
		return -1;
	((struct sim_scn_rule *)o)->has_vlan = 1;
	((struct sim_scn_rule *)o)->vlan = (uint16_t)v;
	return 0;
}

static int o_r_iif(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_rule *r = o;

	if (!hook_has_iif(r->hook))
		return err_pos(p, kw->pos, "'iif' is not known at the %s hook", sim_scn_hook_name(r->hook));
	r->has_iif = 1;
	return p_dev(p, kw->s, &r->iif);
}

static int o_r_oif(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_rule *r = o;

	if (!hook_has_oif(r->hook))
		return err_pos(p, kw->pos, "'oif' is not known at the %s hook", sim_scn_hook_name(r->hook));
	r->has_oif = 1;
	return p_dev(p, kw->s, &r->oif);
}

static const struct opt rule_opts[] = {
	{ "proto", o_r_proto, 0 }, { "saddr", o_r_saddr, 0 }, { "daddr", o_r_daddr, 0 },
	{ "sport", o_r_sport, 0 }, { "dport", o_r_dport, 0 }, { "iif", o_r_iif, 0 },
	{ "oif", o_r_oif, 0 },	   { "vlan", o_r_vlan, 0 },   { "len", o_r_len, 0 },
	{ NULL, NULL, 0 },
};

static int proto_family(enum sim_scn_proto pr)
{
	return pr == SIM_SCN_PROTO_ICMP || pr == SIM_SCN_PROTO_IP ? 4
	       : pr == SIM_SCN_PROTO_ICMPV6 || pr == SIM_SCN_PROTO_IP6 ? 6 : 0;
}

static int st_rule(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct tok *nt = peek(p), *vt;
	struct sim_scn_rule *r;
	char name[SIM_SCN_NAME_MAX];
	struct sim_scn_srcpos cols[16] = { { 0, 0 } };
	int hook, fam;

	if (p_name(p, "rule", "a rule name", name, sizeof(name), 0) != 0)
		return -1;
	for (uint32_t i = 0; i < h->nrules; i++)
		if (strcmp(h->rules[i].name, name) == 0)
			return err_pos(p, nt->pos, "host '%s' already has a rule '%s' (line %u)", h->name,
				       name, h->rules[i].pos.line);
	r = push(p, &h->rules, &h->nrules, sizeof(*r), SIM_SCN_MAX_RULES, nt->pos, "rules on a host");
	if (!r)
		return -1;
	strcpy(r->name, name);
	r->pos = p->toks[0].pos;
	if (p_kw(p, hook_kw, name, &hook) != 0)
		return -1;
	r->hook = (enum sim_scn_hook)hook;
	if (sim_scn_hook_has_dev(r->hook) && p_dev(p, sim_scn_hook_name(r->hook), &r->dev) != 0)
		return -1;
	/* The verdict is the last word; the matches come before it. */
	vt = p->ntok > p->i ? &p->toks[p->ntok - 1] : NULL;
	if (!vt || vt->quoted || !kw_find(verdict_kw, vt->s)) {
		char b[64];

		return err_pos(p, tpos(p, vt), "expected 'accept' or 'drop' at the end of rule '%s', got %s",
			       name, shown(vt, b, sizeof(b)));
	}
	r->verdict = (enum sim_scn_verdict)kw_find(verdict_kw, vt->s)->val;
	p->ntok--;
	if (p_options(p, rule_opts, r, "rule", cols) != 0)
		return -1;
	fam = proto_family(r->proto);
	if (r->has_saddr && r->has_daddr && r->saddr.addr.family != r->daddr.addr.family)
		return err_pos(p, cols[2],
			       "'daddr' is IPv%u but 'saddr' is IPv%u", r->daddr.addr.family,
			       r->saddr.addr.family);
	for (int k = 1; k <= 2; k++) {
		const struct sim_scn_prefix *pf = k == 1 ? &r->saddr : &r->daddr;

		if (!(k == 1 ? r->has_saddr : r->has_daddr))
			continue;
		if (r->proto == SIM_SCN_PROTO_ARP || (fam && fam != pf->addr.family))
			return err_pos(p, cols[k],
				       "'%s' is an IPv%u prefix but the rule matches proto %s",
				       k == 1 ? "saddr" : "daddr", pf->addr.family,
				       sim_scn_proto_name(r->proto));
	}
	for (int k = 3; k <= 4; k++)
		if ((k == 3 ? r->sport.set : r->dport.set) && r->proto != SIM_SCN_PROTO_TCP &&
		    r->proto != SIM_SCN_PROTO_UDP)
			return err_pos(p, cols[k],
				       "'%s' needs 'proto tcp' or 'proto udp' in the same rule",
				       k == 3 ? "sport" : "dport");
	return 0;
}

static int p_l4(struct parser *p, const char *after, enum sim_scn_l4 *l4)
{
	int v;

	if (p_kw(p, l4_kw, after, &v) != 0)
		return -1;
	*l4 = (enum sim_scn_l4)v;
	return 0;
}

static int st_socket(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct tok *nt = peek(p), *at;
	struct sim_scn_socket *so;
	char name[SIM_SCN_NAME_MAX];
	int has_port;

	if (p_name(p, "socket", "a socket name", name, sizeof(name), 0) != 0 ||
	    name_taken(p, nt, name) != 0)
		return -1;
	so = push(p, &h->sockets, &h->nsockets, sizeof(*so), SIM_SCN_MAX_SOCKETS, nt->pos,
		  "sockets on a host");
	if (!so)
		return -1;
	strcpy(so->name, name);
	so->pos = p->toks[0].pos;
	if (p_l4(p, name, &so->proto) != 0 || need_word(p, "bind", kw_name(l4_kw, (int)so->proto)) != 0)
		return -1;
	at = peek(p);
	so->bind_pos = tpos(p, at);
	if (p_addr_port(p, "bind", &so->bind, &so->port, &has_port) != 0)
		return -1;
	if (has_port && so->proto == SIM_SCN_L4_ICMP)
		return err_pos(p, at->pos, "an icmp socket has no port");
	for (;;) {
		struct tok *t = peek(p);
		uint64_t v;

		if (accept_word(p, "rcvbuf")) {
			if (so->rcvbuf)
				return err_pos(p, t->pos, "'rcvbuf' given twice");
			if (p_size(p, "rcvbuf", 1, 1u << 30, &v) != 0)
				return -1;
			so->rcvbuf = (uint32_t)v;
		} else if (accept_word(p, "read-rate")) {
			if (so->read_rate)
				return err_pos(p, t->pos, "'read-rate' given twice");
			if (p_pps(p, "read-rate", &so->read_rate) != 0)
				return -1;
		} else {
			break;
		}
	}
	return end_of_statement(p, "socket");
}

static int o_t_dev(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_tap *tp = o;

	if (accept_word(p, "any")) {
		tp->any_dev = 1;
		return 0;
	}
	tp->any_dev = 0;
	return p_dev(p, kw->s, &tp->dev);
}

static int o_t_proto(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_tap *tp = o;
	struct tok *t = peek(p);
	const struct kw *k = t && !t->quoted ? kw_find(tap_proto_kw, t->s) : NULL;
	uint64_t v;

	if (k) {
		tp->proto = (uint16_t)k->val;
	} else if (t && !t->quoted && t->len >= 3 && t->len <= 6 && t->s[0] == '0' &&
		   t->s[1] == 'x' && num_u64(t->s, &v) == 0 && v >= 1 && v <= 0xffff) {
		tp->proto = (uint16_t)v;
	} else {
		return expected(p, t, "all, ip, ip6, arp or an EtherType like 0x88cc", kw->s);
	}
	p->i++;
	return 0;
}

static int o_t_type(struct parser *p, void *o, const struct tok *kw)
{
	return p_kw(p, type_kw, kw->s, &((struct sim_scn_tap *)o)->dgram);
}

static int o_t_filter(struct parser *p, void *o, const struct tok *kw)
{
	struct tok *t = peek(p);

	if (!t || !t->quoted)
		return expected(p, t, "a pcap-filter expression in double quotes", kw->s);
	return p_string(p, kw->s, "an expression", &((struct sim_scn_tap *)o)->filter);
}

static int o_t_filter_file(struct parser *p, void *o, const struct tok *kw)
{
	return p_string(p, kw->s, "a file name", &((struct sim_scn_tap *)o)->filter_file);
}

static int o_t_snaplen(struct parser *p, void *o, const struct tok *kw)
{
	return p_u32(p, kw->s, 1, MAXIMUM_SNAPLEN, &((struct sim_scn_tap *)o)->snaplen);
}

/* ring BLOCKS x SIZE, or BLOCKSxSIZE in one word. */
static int o_t_ring(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_tap *tp = o;
	struct tok *t = peek(p);
	const char *what = "BLOCKS x BLOCK_SIZE like 8 x 64K (1 to 1024 blocks of 4K to 4M, a multiple of 4K)";
	char buf[48], *x;
	uint64_t n, size;

	if (!t || t->quoted || t->len >= sizeof(buf))
		return expected(p, t, what, kw->s);
	memcpy(buf, t->s, t->len + 1);
	x = strchr(buf, 'x');
	if (x && x != buf && x[1]) {
		*x = '\0';
		if (num_u64(buf, &n) != 0 || scaled(x + 1, size_units, &size) != 0)
			return expected(p, t, what, kw->s);
		p->i++;
	} else {
		if (num_u64(buf, &n) != 0)
			return expected(p, t, what, kw->s);
		p->i++;
		if (need_word(p, "x", buf) != 0)
			return -1;
		t = peek(p);
		if (!t || t->quoted || scaled(t->s, size_units, &size) != 0)
			return expected(p, t, "a block size like 64K", "x");
		p->i++;
	}
	if (n < 1 || n > 1024 || size < 4096 || size > 4u << 20 || size % 4096)
		return err_pos(p, kw->pos, "%s", "a ring needs 1 to 1024 blocks of 4K to 4M, each a multiple of 4K");
	if (n * size > 256u << 20)
		return err_pos(p, kw->pos, "a ring of more than 256M");
	tp->ring_given = 1;
	tp->ring.version = 3;
	tp->ring.block_nr = (uint32_t)n;
	tp->ring.block_size = (uint32_t)size;
	/* One frame a block, as libpcap asks for V3. */
	tp->ring.frame_size = (uint32_t)size;
	tp->ring.frame_nr = (uint32_t)n;
	return 0;
}

static int o_t_retire(struct parser *p, void *o, const struct tok *kw)
{
	struct sim_scn_tap *tp = o;
	struct tok *t = peek(p);
	sim_ns v;

	if (p_duration(p, kw->s, 1000000, 60000000000ull, &v) != 0)
		return -1;
	if (v % 1000000)
		return err_pos(p, t->pos, "'retire' is a whole number of milliseconds (tp_retire_blk_tov)");
	tp->ring.retire_ms = (uint32_t)(v / 1000000);
	return 0;
}

static int o_t_rcvbuf(struct parser *p, void *o, const struct tok *kw)
{
	uint64_t v;

	if (p_size(p, kw->s, 1, 1u << 30, &v) != 0)
		return -1;
	((struct sim_scn_tap *)o)->rcvbuf = (uint32_t)v;
	return 0;
}

static int o_t_ignore(struct parser *p, void *o, const struct tok *kw)
{
	(void)p;
	(void)kw;
	((struct sim_scn_tap *)o)->ignore_outgoing = 1;
	return 0;
}

static int o_t_tcpdump(struct parser *p, void *o, const struct tok *kw)
{
	(void)p;
	(void)kw;
	((struct sim_scn_tap *)o)->tcpdump = 1;
	return 0;
}

static int o_t_read_rate(struct parser *p, void *o, const struct tok *kw)
{
	return p_pps(p, kw->s, &((struct sim_scn_tap *)o)->read_rate);
}

static int o_t_immediate(struct parser *p, void *o, const struct tok *kw)
{
	(void)p;
	(void)kw;
	((struct sim_scn_tap *)o)->immediate = 1;
	return 0;
}

static int o_t_timeout(struct parser *p, void *o, const struct tok *kw)
{
	struct tok *t = peek(p);
	sim_ns v;

	if (p_duration(p, kw->s, 1000000, 60000000000ull, &v) != 0)
		return -1;
	if (v % 1000000)
		return err_pos(p, t->pos, "'timeout' is a whole number of milliseconds (pcap_set_timeout)");
	((struct sim_scn_tap *)o)->timeout = v;
	return 0;
}

static int o_t_buffer(struct parser *p, void *o, const struct tok *kw)
{
	uint64_t v;

	if (p_size(p, kw->s, 4096, 256u << 20, &v) != 0)
		return -1;
	((struct sim_scn_tap *)o)->buffer = (uint32_t)v;
	return 0;
}

static int o_t_direction(struct parser *p, void *o, const struct tok *kw)
{
	int v;

	if (p_kw(p, dir_kw, kw->s, &v) != 0)
		return -1;
	((struct sim_scn_tap *)o)->direction = (enum sim_scn_dir)v;
	return 0;
}

enum {
	TO_DEV, TO_PROTO, TO_TYPE, TO_FILTER, TO_FILTER_FILE, TO_SNAPLEN, TO_RING, TO_RETIRE,
	TO_RCVBUF, TO_IGNORE, TO_TCPDUMP, TO_READ_RATE, TO_IMMEDIATE, TO_TIMEOUT, TO_BUFFER,
	TO_DIRECTION, TO_COUNT
};
static const struct opt tap_opts[] = {
	[TO_DEV] = { "dev", o_t_dev, 0 },
	[TO_PROTO] = { "proto", o_t_proto, 0 },
	[TO_TYPE] = { "type", o_t_type, 0 },
	[TO_FILTER] = { "filter", o_t_filter, 0 },
	[TO_FILTER_FILE] = { "filter-file", o_t_filter_file, 0 },
	[TO_SNAPLEN] = { "snaplen", o_t_snaplen, 0 },
	[TO_RING] = { "ring", o_t_ring, 0 },
	[TO_RETIRE] = { "retire", o_t_retire, 0 },
	[TO_RCVBUF] = { "rcvbuf", o_t_rcvbuf, 0 },
	[TO_IGNORE] = { "ignore-outgoing", o_t_ignore, 0 },
	[TO_TCPDUMP] = { "tcpdump", o_t_tcpdump, 0 },
	[TO_READ_RATE] = { "read-rate", o_t_read_rate, 0 },
	[TO_IMMEDIATE] = { "immediate", o_t_immediate, 0 },
	[TO_TIMEOUT] = { "timeout", o_t_timeout, 0 },
	[TO_BUFFER] = { "buffer", o_t_buffer, 0 },
	[TO_DIRECTION] = { "direction", o_t_direction, 0 },
	[TO_COUNT] = { NULL, NULL, 0 },
};

static int st_tap(struct parser *p)
{
	struct sim_scn_host *h = cur(p);
	struct tok *nt = peek(p);
	struct sim_scn_tap *tp;
	char name[SIM_SCN_NAME_MAX];
	struct sim_scn_srcpos cols[TO_COUNT] = { { 0, 0 } };

	if (p_name(p, "tap", "a tap name", name, sizeof(name), 0) != 0 || name_taken(p, nt, name) != 0)
		return -1;
	tp = push(p, &h->taps, &h->ntaps, sizeof(*tp), SIM_SCN_MAX_TAPS, nt->pos, "taps on a host");
	if (!tp)
		return -1;
	strcpy(tp->name, name);
	tp->pos = p->toks[0].pos;
	tp->any_dev = 1;
	tp->proto = 0x0003;
	tp->snaplen = MAXIMUM_SNAPLEN;
	tp->timeout = (sim_ns)TCPDUMP_TIMEOUT_MS * 1000000;
	tp->buffer = PCAP_DEFAULT_BUFFER;
	if (p_options(p, tap_opts, tp, "tap", cols) != 0)
		return -1;
#define AT(o) (cols[o])
	if (cols[TO_FILTER].line && cols[TO_FILTER_FILE].line)
		return err_pos(p, AT(TO_FILTER_FILE), "a tap takes 'filter' or 'filter-file', not both");
	if (tp->tcpdump) {
		static const int not_with_tcpdump[] = { TO_PROTO, TO_TYPE, TO_RING, TO_RETIRE, TO_RCVBUF,
							TO_IGNORE };

		for (size_t i = 0; i < sizeof(not_with_tcpdump) / sizeof(int); i++)
			if (cols[not_with_tcpdump[i]].line)
				return err_pos(p, AT(not_with_tcpdump[i]),
					       "'%s' is chosen by libpcap on a 'tcpdump' tap",
					       tap_opts[not_with_tcpdump[i]].name);
		/* libpcap opens "any" as SOCK_DGRAM (cooked), a device as SOCK_RAW. */
		tp->dgram = tp->any_dev;
	} else {
		static const int only_tcpdump[] = { TO_IMMEDIATE, TO_TIMEOUT, TO_BUFFER, TO_DIRECTION };

		for (size_t i = 0; i < sizeof(only_tcpdump) / sizeof(int); i++)
			if (cols[only_tcpdump[i]].line)
				return err_pos(p, AT(only_tcpdump[i]), "'%s' needs 'tcpdump' on this tap",
					       tap_opts[only_tcpdump[i]].name);
		if (cols[TO_RETIRE].line && !tp->ring_given)
			return err_pos(p, AT(TO_RETIRE), "'retire' needs a 'ring' on this tap");
		if (cols[TO_RCVBUF].line && tp->ring_given)
			return err_pos(p, AT(TO_RCVBUF),
				       "'rcvbuf' does nothing on a tap with a 'ring' (frames go to the ring)");
	}
#undef AT
	return 0;
}

/* ------------------------------------------------------------------ */
/* Traffic. */

static int o_x_count(struct parser *p, struct sim_scn_traffic *x)
{
	return p_uint(p, "count", 1, 1000000, &x->count);
}

static int o_x_rate(struct parser *p, struct sim_scn_traffic *x, const struct tok *t)
{
	if (x->pace != SIM_SCN_PACE_BACK_TO_BACK)
		return err_pos(p, t->pos, "a traffic line takes one 'rate' or one 'burst ... every'");
	x->pace = SIM_SCN_PACE_RATE;
	return p_pps(p, "rate", &x->rate);
}

static int at_send(struct parser *p, struct sim_scn_traffic *x)
{
	struct tok *t, *tot;
	int has_port = 0, seen_size = 0, seen_ttl = 0, seen_count = 0, seen_sport = 0;
	uint32_t max;

	x->kind = SIM_SCN_TRAFFIC_SEND;
	x->size = 64;
	x->ttl = 64;
	if (p_l4(p, "send", &x->proto) != 0)
		return -1;
	if (accept_word(p, "from")) {
		x->from_pos = tpos(p, peek(p));
		if (p_addr(p, "from", &x->from) != 0)
			return -1;
		x->has_from = 1;
	}
	if (need_word(p, "to", x->has_from ? "the source address" : kw_name(l4_kw, (int)x->proto)) != 0)
		return -1;
	tot = peek(p);
	if (p_addr_port(p, "to", &x->to, &x->dport, &has_port) != 0)
		return -1;
	if (x->proto == SIM_SCN_L4_ICMP && has_port)
		return err_pos(p, tot->pos, "icmp has no port");
	if (x->proto != SIM_SCN_L4_ICMP && !has_port)
		return err_pos(p, tot->pos, "a %s send needs a port: ADDRESS:PORT or [IPV6]:PORT",
			       kw_name(l4_kw, (int)x->proto));
	if (x->has_from && x->from.family != x->to.family)
		return err_pos(p, tot->pos, "'to' is IPv%u but 'from' is IPv%u", x->to.family,
			       x->from.family);
	while ((t = peek(p)) != NULL) {
		int *seen = NULL;

		if (t->quoted)
			break;
		if (strcmp(t->s, "sport") == 0)
			seen = &seen_sport;
		else if (strcmp(t->s, "size") == 0)
			seen = &seen_size;
		else if (strcmp(t->s, "count") == 0)
			seen = &seen_count;
		else if (strcmp(t->s, "ttl") == 0)
			seen = &seen_ttl;
		else if (strcmp(t->s, "vlan") == 0)
			seen = &x->has_vlan;
		if (seen && *seen)
			return err_pos(p, t->pos, "'%s' given twice", t->s);
		if (seen)
			*seen = 1;
		p->i++;
		if (strcmp(t->s, "sport") == 0) {
			uint32_t v;

			if (x->proto == SIM_SCN_L4_ICMP)
				return err_pos(p, t->pos, "icmp has no port");
			if (p_u32(p, "sport", 1, 65535, &v) != 0)
				return -1;
			x->sport = (uint16_t)v;
		} else if (strcmp(t->s, "size") == 0) {
			/* What fits in one IP packet: 65535 minus the IPv4 header
			 * (IPv6 counts its payload only) and the transport header. */
			max = 65535 - (x->to.family == 4 ? 20 : 0) - (x->proto == SIM_SCN_L4_TCP ? 20 : 8);
			if (p_u32(p, "size", 0, max, &x->size) != 0)
				return -1;
		} else if (strcmp(t->s, "count") == 0) {
			if (o_x_count(p, x) != 0)
				return -1;
		} else if (strcmp(t->s, "ttl") == 0) {
			if (p_u32(p, "ttl", 1, 255, &x->ttl) != 0)
				return -1;
		} else if (strcmp(t->s, "vlan") == 0) {
			uint32_t v;

			if (p_u32(p, "vlan", 0, 4095, &v) != 0)
				return -1;
			x->vlan = (uint16_t)v;
		} else if (strcmp(t->s, "rate") == 0) {
			if (o_x_rate(p, x, t) != 0)
				return -1;
		} else if (strcmp(t->s, "burst") == 0) {
			if (x->pace != SIM_SCN_PACE_BACK_TO_BACK)
				return err_pos(p, t->pos,
					       "a traffic line takes one 'rate' or one 'burst ... every'");
			x->pace = SIM_SCN_PACE_BURST;
			if (p_uint(p, "burst", 1, 1000000, &x->burst) != 0 ||
			    need_word(p, "every", "the burst size") != 0 ||
			    p_duration(p, "every", 1, MAX_TIME, &x->every) != 0)
				return -1;
		} else {
			p->i--;
			break;
		}
	}
	if (x->pace == SIM_SCN_PACE_BURST && x->burst > x->count)
		return err_pos(p, p->eol, "a burst of %llu is more than the count %llu",
			       (unsigned long long)x->burst, (unsigned long long)x->count);
	return end_of_statement(p, "send");
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static int all_hex(const struct tok *t)
{
	if (t->quoted || t->len == 0)
		return 0;
	for (uint32_t i = 0; i < t->len; i++)
		if (!isxdigit((unsigned char)t->s[i]))
			return 0;
	return 1;
}

static int at_inject(struct parser *p, struct sim_scn_traffic *x)
{
	struct tok *t, *first;
	size_t nhex = 0, n = 0;
	int seen_count = 0;

	x->kind = SIM_SCN_TRAFFIC_INJECT;
	if (p_ref(p, "inject", "IFACE", &x->dev) != 0 || need_word(p, "frame", "the device") != 0)
		return -1;
	first = peek(p);
	if (!first || !all_hex(first))
		return expected(p, first, "the frame in hex digits like 0200000000010200...", "frame");
	/* The frame may spread over several words (and continued lines). */
	for (uint32_t i = p->i; i < p->ntok && all_hex(&p->toks[i]); i++)
		nhex += p->toks[i].len;
	if (nhex % 2)
		return err_pos(p, first->pos, "the frame has an odd number of hex digits (%zu)", nhex);
	if (nhex / 2 < 14 || nhex / 2 > SIM_SCN_MAX_FRAME)
		return err_pos(p, first->pos, "a frame is 14 to %u bytes; this one is %zu",
			       SIM_SCN_MAX_FRAME, nhex / 2);
	x->frame = malloc(nhex / 2);
	if (!x->frame)
		return err_pos(p, first->pos, "out of memory");
	x->frame_len = (uint32_t)(nhex / 2);
	for (int hi = 1; (t = peek(p)) != NULL && all_hex(t); p->i++)
		for (uint32_t i = 0; i < t->len; i++, hi = !hi) {
			if (hi)
				x->frame[n] = (uint8_t)(hexval(t->s[i]) << 4);
			else
				x->frame[n++] |= (uint8_t)hexval(t->s[i]);
		}
	while ((t = peek(p)) != NULL) {
		if (accept_word(p, "count")) {
			if (seen_count++)
				return err_pos(p, t->pos, "'count' given twice");
			if (o_x_count(p, x) != 0)
				return -1;
		} else if (accept_word(p, "rate")) {
			if (o_x_rate(p, x, t) != 0)
				return -1;
		} else {
			break;
		}
	}
	return end_of_statement(p, "inject");
}

static int at_replay(struct parser *p, struct sim_scn_traffic *x)
{
	struct tok *t;
	uint64_t v;

	x->kind = SIM_SCN_TRAFFIC_REPLAY;
	x->speed_milli = 1000;
	if (p_ref(p, "replay", "IFACE", &x->dev) != 0 ||
	    p_string(p, x->dev.name, "a pcap file name", &x->pcap) != 0)
		return -1;
	if (accept_word(p, "speed")) {
		t = peek(p);
		if (!t || t->quoted || scaled(t->s, speed_units, &v) != 0 || v < 1 || v > 1000000)
			return expected(p, t, "a speed factor from 0.001 to 1000 like 0.5, 1 or 10",
					"speed");
		x->speed_milli = (uint32_t)v;
		p->i++;
	}
	return end_of_statement(p, "replay");
}

static int st_at(struct parser *p)
{
	struct tok *t;
	struct sim_scn_traffic *x = push(p, &p->s->traffic, &p->s->ntraffic, sizeof(*x),
				     SIM_SCN_MAX_TRAFFIC, p->toks[0].pos, "traffic lines");

	if (!x)
		return -1;
	x->pos = p->toks[0].pos;
	x->count = 1;
	if (p_duration(p, "at", 0, MAX_TIME, &x->at) != 0)
		return -1;
	t = peek(p);
	if (accept_word(p, "inject"))
		return at_inject(p, x);
	if (accept_word(p, "replay"))
		return at_replay(p, x);
	x->host_pos = tpos(p, t);
	if (p_name(p, "the time", "a host name, 'inject' or 'replay'", x->host_name,
		   sizeof(x->host_name), 0) != 0)
		return -1;
	if (need_word(p, "send", x->host_name) != 0)
		return -1;
	return at_send(p, x);
}

/* ------------------------------------------------------------------ */
/* Expectations. */

static int ex_tap(struct parser *p, struct sim_scn_expect *e)
{
	int k;

	if (p_ref(p, "tap", "TAP", &e->tap) != 0 || p_kw(p, tapstat_kw, e->tap.name, &k) != 0)
		return -1;
	e->kind = (enum sim_scn_expect_kind)k;
	if (p_cmp(p, kw_name(tapstat_kw, k), &e->cmp, &e->value) != 0)
		return -1;
	if (e->kind == SIM_SCN_EXPECT_TAP_SAW) {
		struct tok *t = peek(p);

		if (!t || !t->quoted)
			return expected(p, t, "a pcap-filter expression in double quotes", "saw N");
		if (p_string(p, "saw", "an expression", &e->filter) != 0)
			return -1;
	}
	return end_of_statement(p, "expect tap");
}

static int ex_drop(struct parser *p, struct sim_scn_expect *e)
{
	struct tok *t;

	e->kind = SIM_SCN_EXPECT_DROP;
	e->host_pos = tpos(p, peek(p));
	if (p_name(p, "drop", "a host name", e->host_name, sizeof(e->host_name), 0) != 0)
		return -1;
	t = peek(p);
	if (!t || t->quoted || !in_list(drop_reasons, t->s))
		return expected(p, t, "a kernel drop reason like NETFILTER_DROP, NO_SOCKET or FULL_RING",
				e->host_name);
	strcpy(e->reason, t->s);
	p->i++;
	if (p_cmp(p, e->reason, &e->cmp, &e->value) != 0)
		return -1;
	if (accept_word(p, "at")) {
		if (p_name(p, "at", "a kernel function name", e->func, sizeof(e->func), 0) != 0)
			return -1;
		if (strchr(e->func, '-'))
			return expected(p, &p->toks[p->i - 1], "a kernel function name", "at");
	}
	return end_of_statement(p, "expect drop");
}

static int ex_counter(struct parser *p, struct sim_scn_expect *e)
{
	struct tok *t;

	e->kind = SIM_SCN_EXPECT_COUNTER;
	e->host_pos = tpos(p, peek(p));
	if (p_name(p, "counter", "a host name", e->host_name, sizeof(e->host_name), 0) != 0)
		return -1;
	t = peek(p);
	e->counter_pos = tpos(p, t);
	if (!t || t->quoted || t->len >= sizeof(e->counter) || !strchr(t->s, '.') ||
	    !name_ok(t->s, sizeof(e->counter), 1))
		return expected(p, t, "a counter like eth0.rx_missed_errors, softnet.dropped or rule.NAME",
				e->host_name);
	strcpy(e->counter, t->s);
	p->i++;
	if (p_cmp(p, e->counter, &e->cmp, &e->value) != 0)
		return -1;
	return end_of_statement(p, "expect counter");
}

static int st_expect(struct parser *p)
{
	struct sim_scn_expect *e = push(p, &p->s->expects, &p->s->nexpects, sizeof(*e),
				    SIM_SCN_MAX_EXPECTS, p->toks[0].pos, "expectations");

	if (!e)
		return -1;
	e->pos = p->toks[0].pos;
	if (accept_word(p, "tap"))
		return ex_tap(p, e);
	if (accept_word(p, "drop"))
		return ex_drop(p, e);
	if (accept_word(p, "counter"))
		return ex_counter(p, e);
	return expected(p, peek(p), "tap, drop or counter", "expect");
}

/* ------------------------------------------------------------------ */
/* The statement table. */

enum scope { TOP, HOST };

static const struct stmt {
	const char *kw;
	enum scope scope;
	int (*fn)(struct parser *p);
} statements[] = {
	{ "scenario", TOP, st_scenario },
	{ "seed", TOP, st_seed },
	{ "duration", TOP, st_duration },
	{ "host", TOP, st_host },
	{ "wire", TOP, st_wire },
	{ "at", TOP, st_at },
	{ "expect", TOP, st_expect },
	{ "iface", HOST, st_iface },
	{ "route", HOST, st_route },
	{ "neigh", HOST, st_neigh },
	{ "forwarding", HOST, st_forwarding },
	{ "sysctl", HOST, st_sysctl },
	{ "cost", HOST, st_cost },
	{ "rule", HOST, st_rule },
	{ "socket", HOST, st_socket },
	{ "tap", HOST, st_tap },
};

static int statement(struct parser *p)
{
	struct tok *kw = &p->toks[0];
	char b[64];

	p->i = 1;
	for (size_t i = 0; !kw->quoted && i < sizeof(statements) / sizeof(statements[0]); i++) {
		const struct stmt *st = &statements[i];

		if (strcmp(st->kw, kw->s) != 0)
			continue;
		if (st->scope == HOST && p->host < 0)
			return err_pos(p, kw->pos, "'%s' belongs to a host: put it after a 'host' line",
				       st->kw);
		if (st->scope == TOP && st->fn != st_host)
			p->host = -1;
		return st->fn(p);
	}
	return err_pos(p, kw->pos, "unknown statement %s", shown(kw, b, sizeof(b)));
}

/* ------------------------------------------------------------------ */
/* The tokenizer: physical lines into statements. */

static int add_token(struct parser *p, const char *src, size_t len, int quoted, uint32_t raw,
		     struct sim_scn_srcpos pos)
{
	struct tok *t;

	if (p->ntok == SIM_SCN_MAX_TOKENS)
		return err_pos(p, pos, "more than %u words in one statement", SIM_SCN_MAX_TOKENS);
	if (p->buflen + len + 1 > sizeof(p->buf))
		return err_pos(p, pos, "a statement longer than %u bytes", SIM_SCN_MAX_STMT);
	t = &p->toks[p->ntok++];
	t->s = p->buf + p->buflen;
	t->len = (uint32_t)len;
	t->quoted = quoted;
	t->raw = raw;
	t->pos = pos;
	memcpy(t->s, src, len);
	t->s[len] = '\0';
	p->buflen += (uint32_t)len + 1;
	return 0;
}

/* Split one physical line; *@cont is set when it ends with a lone '\'. */
static int tokenize_line(struct parser *p, const char *line, size_t len, uint32_t lineno,
			 int *cont)
{
	size_t i = 0;

	*cont = 0;
	while (i < len) {
		unsigned char c = (unsigned char)line[i];
		struct sim_scn_srcpos pos = { lineno, (uint32_t)i + 1 };

		if (c == ' ' || c == '\t' || (c == '\r' && i + 1 == len)) {
			i++;
		} else if (c == '#') {
			break;
		} else if (c == '"') {
			char str[SIM_SCN_MAX_LINE];
			size_t n = 0, start = i++;

			for (;; i++) {
				if (i >= len)
					return err_pos(p, pos, "a string that never ends: add a closing '\"'");
				if (line[i] == '"')
					break;
				if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
					return err_pos(p, (struct sim_scn_srcpos){ lineno, (uint32_t)i + 1 },
						       "control byte 0x%02x in a string",
						       (unsigned char)line[i]);
				if (line[i] == '\\') {
					if (i + 1 < len && (line[i + 1] == '"' || line[i + 1] == '\\'))
						i++;
					else
						return err_pos(p, (struct sim_scn_srcpos){ lineno, (uint32_t)i + 1 },
							       "a '\\' in a string escapes only '\"' and '\\'");
				}
				str[n++] = line[i];
			}
			i++;
			if (i < len && !strchr(" \t#\r", line[i]))
				return err_pos(p, (struct sim_scn_srcpos){ lineno, (uint32_t)i + 1 },
					       "expected a blank after the closing '\"'");
			if (add_token(p, str, n, 1, (uint32_t)(i - start), pos) != 0)
				return -1;
		} else if (c == '\\' && (i + 1 == len || strspn(line + i + 1, " \t\r") == len - i - 1) &&
			   (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
			*cont = 1;
			p->eol = pos;
			return 0;
		} else if (c < 0x21 || c > 0x7e) {
			return err_pos(p, pos, "unexpected byte 0x%02x (words are printable ASCII)", c);
		} else {
			size_t start = i;

			while (i < len && (unsigned char)line[i] > 0x20 && (unsigned char)line[i] < 0x7f &&
			       line[i] != '"' && line[i] != '#')
				i++;
			if (i < len && line[i] == '"')
				return err_pos(p, (struct sim_scn_srcpos){ lineno, (uint32_t)i + 1 },
					       "expected a blank before the '\"'");
			if (add_token(p, line + start, i - start, 0, (uint32_t)(i - start), pos) != 0)
				return -1;
		}
	}
	return 0;
}

static int resolve(struct parser *p);

static struct sim_scenario *parse(struct parser *p, const char *text)
{
	const char *line = text;
	uint32_t lineno = 0;
	int cont = 0;
	size_t total = strlen(text);

	if (total > SIM_SCN_MAX_INPUT) {
		err_pos(p, (struct sim_scn_srcpos){ 1, 1 }, "the file is larger than %u bytes",
			SIM_SCN_MAX_INPUT);
		return NULL;
	}
	p->host = -1;
	p->s->seed = 1;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (++lineno > SIM_SCN_MAX_LINES) {
			err_pos(p, (struct sim_scn_srcpos){ lineno, 1 }, "more than %u lines",
				SIM_SCN_MAX_LINES);
			return NULL;
		}
		if (len > SIM_SCN_MAX_LINE) {
			err_pos(p, (struct sim_scn_srcpos){ lineno, SIM_SCN_MAX_LINE + 1 },
				"a line longer than %u bytes", SIM_SCN_MAX_LINE);
			return NULL;
		}
		if (!cont) {
			p->ntok = 0;
			p->buflen = 0;
		}
		if (tokenize_line(p, line, len, lineno, &cont) != 0)
			return NULL;
		if (!cont && p->ntok) {
			struct tok *last = &p->toks[p->ntok - 1];

			p->eol = (struct sim_scn_srcpos){ last->pos.line, last->pos.col + last->raw };
			if (statement(p) != 0)
				return NULL;
		}
		line += len + (nl ? 1 : 0);
	}
	if (cont) {
		err_pos(p, p->eol, "the file ends after a '\\' that continues the line");
		return NULL;
	}
	if (resolve(p) != 0)
		return NULL;
	return p->s;
}

/* ------------------------------------------------------------------ */
/* Resolution: references to indices, then the defaults that depend on
 * other statements. */

static int find_host(const struct sim_scenario *s, const char *name)
{
	for (uint32_t i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int find_iface(const struct sim_scn_host *h, const char *name)
{
	for (uint32_t i = 0; i < h->nifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int ref_host(struct parser *p, struct sim_scn_ref *r)
{
	int h = find_host(p->s, r->host_name);

	if (h < 0)
		return err_pos(p, r->pos, "undefined host '%s'", r->host_name);
	r->host = (uint32_t)h;
	return 0;
}

/* @kinds: a bit per enum sim_scn_iface_kind that is acceptable. */
static int ref_iface(struct parser *p, struct sim_scn_ref *r, unsigned kinds, const char *why)
{
	const struct sim_scn_host *h;
	int i;

	if (ref_host(p, r) != 0)
		return -1;
	h = &p->s->hosts[r->host];
	i = find_iface(h, r->name);
	if (i < 0)
		return err_pos(p, r->pos, "host '%s' has no interface '%s'", h->name, r->name);
	if (!(kinds & (1u << h->ifaces[i].kind)))
		return err_pos(p, r->pos, "'%s' on host '%s' is %s; %s", r->name, h->name,
			       h->ifaces[i].kind == SIM_SCN_IFACE_LOOPBACK ? "the loopback device"
			       : h->ifaces[i].kind == SIM_SCN_IFACE_VLAN ? "a VLAN device"
								     : "an Ethernet device",
			       why);
	r->idx = (uint32_t)i;
	return 0;
}

#define ANY_IFACE ((1u << SIM_SCN_IFACE_LOOPBACK) | (1u << SIM_SCN_IFACE_ETHER) | (1u << SIM_SCN_IFACE_VLAN))
#define ETHER_ONLY (1u << SIM_SCN_IFACE_ETHER)

static int host_has_addr(const struct sim_scn_host *h, const struct sim_scn_addr *a)
{
	for (uint32_t i = 0; i < h->nifaces; i++)
		for (uint32_t j = 0; j < h->ifaces[i].naddrs; j++)
			if (memcmp(&h->ifaces[i].addrs[j].addr, a, sizeof(*a)) == 0)
				return 1;
	return 0;
}

static int addr_is_any(const struct sim_scn_addr *a)
{
	for (int i = 0; i < 16; i++)
		if (a->bytes[i])
			return 0;
	return 1;
}

static uint32_t sk_rcvbuf(const struct sim_scn_sysctls *sc, uint32_t asked)
{
	uint64_t v;

	if (!asked)
		return sc->rmem_default;
	v = asked < sc->rmem_max ? asked : sc->rmem_max;
	v *= 2;
	return v < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : (uint32_t)v;
}

static int resolve_host(struct parser *p, struct sim_scn_host *h, uint32_t hi)
{
	char b[INET6_ADDRSTRLEN];

	for (uint32_t i = 1; i < h->nifaces; i++) {
		struct sim_scn_iface *ifc = &h->ifaces[i];

		if (!ifc->mac_given) {
			uint8_t mac[6] = { 0x02, 0, 0, 0, (uint8_t)(hi + 1), (uint8_t)ifc->ifindex };

			memcpy(ifc->mac, mac, 6);
		}
		if (ifc->kind != SIM_SCN_IFACE_VLAN)
			continue;
		if (ref_iface(p, &ifc->parent, ETHER_ONLY, "a VLAN device sits on an Ethernet device") != 0)
			return -1;
		for (uint32_t j = 1; j < i; j++)
			if (h->ifaces[j].kind == SIM_SCN_IFACE_VLAN && h->ifaces[j].vlan_id == ifc->vlan_id &&
			    strcmp(h->ifaces[j].parent.name, ifc->parent.name) == 0)
				return err_pos(p, ifc->parent.pos, "host '%s' already has VLAN %u on '%s' ('%s')",
					       h->name, ifc->vlan_id, ifc->parent.name, h->ifaces[j].name);
	}
	/* A VLAN device takes its parent's address unless given one
	 * (vlan_dev_init copies the real device's dev_addr). */
	for (uint32_t i = 1; i < h->nifaces; i++)
		if (h->ifaces[i].kind == SIM_SCN_IFACE_VLAN && !h->ifaces[i].mac_given)
			memcpy(h->ifaces[i].mac, h->ifaces[h->ifaces[i].parent.idx].mac, 6);
	for (uint32_t i = 0; i < h->nroutes; i++)
		if (h->routes[i].has_dev &&
		    ref_iface(p, &h->routes[i].dev, ANY_IFACE, "") != 0)
			return -1;
	for (uint32_t i = 0; i < h->nneighs; i++)
		if (ref_iface(p, &h->neighs[i].dev, ANY_IFACE, "") != 0)
			return -1;
	for (uint32_t i = 0; i < h->nrules; i++) {
		struct sim_scn_rule *r = &h->rules[i];

		if ((sim_scn_hook_has_dev(r->hook) && ref_iface(p, &r->dev, ANY_IFACE, "") != 0) ||
		    (r->has_iif && ref_iface(p, &r->iif, ANY_IFACE, "") != 0) ||
		    (r->has_oif && ref_iface(p, &r->oif, ANY_IFACE, "") != 0))
			return -1;
	}
	for (uint32_t i = 0; i < h->nsockets; i++) {
		struct sim_scn_socket *so = &h->sockets[i];

		if (!addr_is_any(&so->bind) && !host_has_addr(h, &so->bind))
			return err_pos(p, so->bind_pos, "host '%s' has no address %s for socket '%s' to bind",
				       h->name, inet_ntop(so->bind.family == 4 ? AF_INET : AF_INET6,
							  so->bind.bytes, b, sizeof(b)),
				       so->name);
		so->sk_rcvbuf = sk_rcvbuf(&h->sysctl, so->rcvbuf);
	}
	for (uint32_t i = 0; i < h->ntaps; i++) {
		struct sim_scn_tap *tp = &h->taps[i];

		if (!tp->any_dev && ref_iface(p, &tp->dev, ANY_IFACE, "") != 0)
			return -1;
		tp->sk_rcvbuf = sk_rcvbuf(&h->sysctl, tp->rcvbuf);
	}
	return 0;
}

/* What ethtool says of a device's speed: veths say 10000 Mb/s, lo has no
 * link settings, "any" is no device. */
static uint32_t dev_speed(const struct sim_scn_host *h, const struct sim_scn_tap *tp)
{
	if (tp->any_dev || h->ifaces[tp->dev.idx].kind == SIM_SCN_IFACE_LOOPBACK)
		return 0;
	return VETH_SPEED_MBPS;
}

static int resolve(struct parser *p)
{
	struct sim_scenario *s = p->s;

	for (uint32_t i = 0; i < s->nhosts; i++)
		if (resolve_host(p, &s->hosts[i], i) != 0)
			return -1;
	for (uint32_t i = 0; i < s->nwires; i++) {
		struct sim_scn_wire *w = &s->wires[i];
		struct sim_scn_ref *r[2] = { &w->a, &w->b };

		for (int k = 0; k < 2; k++) {
			struct sim_scn_iface *ifc;

			if (ref_iface(p, r[k], ETHER_ONLY, "a wire joins Ethernet devices") != 0)
				return -1;
			ifc = &s->hosts[r[k]->host].ifaces[r[k]->idx];
			if (ifc->wire >= 0)
				return err_pos(p, r[k]->pos, "%s.%s is already on the wire of line %u",
					       r[k]->host_name, r[k]->name, s->wires[ifc->wire].pos.line);
			ifc->wire = (int32_t)i;
		}
		if (w->a.host == w->b.host)
			return err_pos(p, w->b.pos, "a wire joins two different hosts; both ends are on '%s'",
				       w->a.host_name);
	}
	for (uint32_t i = 0; i < s->nhosts; i++) {
		struct sim_scn_host *h = &s->hosts[i];

		for (uint32_t j = 0; j < h->ntaps; j++) {
			struct sim_scn_tap *tp = &h->taps[j];

			if (tp->tcpdump)
				sim_libpcap_ring(tp->buffer, tp->snaplen, (uint32_t)(tp->timeout / 1000000),
						 tp->immediate, tp->any_dev,
						 tp->any_dev ? 0 : h->ifaces[tp->dev.idx].mtu, 1, &tp->ring);
			else if (tp->ring_given && tp->ring.retire_ms == 0)
				tp->ring.retire_ms = sim_kernel_retire_ms(tp->ring.block_size, dev_speed(h, tp));
		}
	}
	for (uint32_t i = 0; i < s->ntraffic; i++) {
		struct sim_scn_traffic *x = &s->traffic[i];
		char b[INET6_ADDRSTRLEN];

		if (x->kind != SIM_SCN_TRAFFIC_SEND) {
			if (ref_iface(p, &x->dev, ETHER_ONLY, "frames arrive on an Ethernet device") != 0)
				return -1;
			continue;
		}
		if (find_host(s, x->host_name) < 0)
			return err_pos(p, x->host_pos, "undefined host '%s'", x->host_name);
		x->host = (uint32_t)find_host(s, x->host_name);
		if (x->has_from && !host_has_addr(&s->hosts[x->host], &x->from))
			return err_pos(p, x->from_pos, "host '%s' has no address %s to send from",
				       x->host_name, inet_ntop(x->from.family == 4 ? AF_INET : AF_INET6,
							       x->from.bytes, b, sizeof(b)));
	}
	for (uint32_t i = 0; i < s->nexpects; i++) {
		struct sim_scn_expect *e = &s->expects[i];
		const struct sim_scn_host *h;
		char first[SIM_SCN_NAME_MAX * 2], *rest;
		int hi;

		if (e->kind != SIM_SCN_EXPECT_DROP && e->kind != SIM_SCN_EXPECT_COUNTER) {
			const struct sim_scn_host *th;
			uint32_t j;

			if (ref_host(p, &e->tap) != 0)
				return -1;
			th = &s->hosts[e->tap.host];
			for (j = 0; j < th->ntaps && strcmp(th->taps[j].name, e->tap.name) != 0; j++)
				;
			if (j == th->ntaps)
				return err_pos(p, e->tap.pos, "host '%s' has no tap '%s'", th->name, e->tap.name);
			e->tap.idx = j;
			continue;
		}
		hi = find_host(s, e->host_name);
		if (hi < 0)
			return err_pos(p, e->host_pos, "undefined host '%s'", e->host_name);
		e->host = (uint32_t)hi;
		if (e->kind != SIM_SCN_EXPECT_COUNTER)
			continue;
		h = &s->hosts[hi];
		strcpy(first, e->counter);
		rest = strchr(first, '.');
		*rest++ = '\0';
		if (strcmp(first, "softnet") == 0) {
			if (!in_list(softnet_counters, rest))
				return err_pos(p, e->counter_pos, "softnet has no counter '%s' (processed, dropped, time_squeeze)", rest);
		} else if (strcmp(first, "rule") == 0) {
			uint32_t j;

			for (j = 0; j < h->nrules && strcmp(h->rules[j].name, rest) != 0; j++)
				;
			if (j == h->nrules)
				return err_pos(p, e->counter_pos, "host '%s' has no rule '%s'", h->name, rest);
		} else {
			char *dot = strrchr(e->counter, '.');
			char dev[SIM_SCN_NAME_MAX * 2];
			uint32_t j;

			/* The last component is the counter; an interface
			 * name may itself hold dots (eth0.100.rx_packets). */
			memcpy(dev, e->counter, (size_t)(dot - e->counter));
			dev[dot - e->counter] = '\0';
			rest = dot + 1;
			if (find_iface(h, dev) >= 0) {
				if (!in_list(iface_counters, rest))
					return err_pos(p, e->counter_pos, "an interface has no counter '%s'", rest);
				continue;
			}
			for (j = 0; j < h->ntaps && strcmp(h->taps[j].name, dev) != 0; j++)
				;
			if (j < h->ntaps) {
				if (!in_list(tap_counters, rest))
					return err_pos(p, e->counter_pos, "a tap has no counter '%s' (tp_packets, tp_drops, tp_freeze_q_cnt)", rest);
				continue;
			}
			for (j = 0; j < h->nsockets && strcmp(h->sockets[j].name, dev) != 0; j++)
				;
			if (j < h->nsockets) {
				if (!in_list(socket_counters, rest))
					return err_pos(p, e->counter_pos, "a socket has no counter '%s' (received, drops)", rest);
				continue;
			}
			return err_pos(p, e->counter_pos, "host '%s' has no interface, tap or socket '%s'", h->name, dev);
		}
	}
	/* Last, so a reference to a missing host is named first.  An empty
	 * file (or one of comments) would otherwise run and report nothing,
	 * which reads like a capture path that lost everything. */
	if (s->nhosts == 0)
		return err_pos(p, (struct sim_scn_srcpos){ 1, 1 },
			       "the scenario defines no host: it needs at least one 'host' line");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public entry points. */

void sim_scenario_free(struct sim_scenario *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nhosts; i++) {
		struct sim_scn_host *h = &s->hosts[i];

		for (uint32_t j = 0; j < h->ntaps; j++) {
			free(h->taps[j].filter);
			free(h->taps[j].filter_file);
		}
		free(h->ifaces);
		free(h->routes);
		free(h->neighs);
		free(h->rules);
		free(h->sockets);
		free(h->taps);
	}
	for (uint32_t i = 0; i < s->ntraffic; i++) {
		free(s->traffic[i].frame);
		free(s->traffic[i].pcap);
	}
	for (uint32_t i = 0; i < s->nexpects; i++)
		free(s->expects[i].filter);
	free(s->hosts);
	free(s->wires);
	free(s->traffic);
	free(s->expects);
	free(s->title);
	free(s->name);
	free(s);
}

int sim_scenario_parse(const char *text, const char *name, struct sim_scenario **out,
		       char *errbuf)
{
	struct parser *p = calloc(1, sizeof(*p));
	struct sim_scenario *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (errbuf)
		errbuf[0] = '\0';
	if (!p || !s || (name && !(s->name = strdup(name)))) {
		if (errbuf)
			snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: out of memory", name ? name : "<input>");
		free(p);
		sim_scenario_free(s);
		return -1;
	}
	p->name = name;
	p->errbuf = errbuf;
	p->s = s;
	if (!parse(p, text)) {
		free(p);
		sim_scenario_free(s);
		return -1;
	}
	free(p);
	*out = s;
	return 0;
}

int sim_scenario_load(const char *path, struct sim_scenario **out, char *errbuf)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (!f) {
		snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(SIM_SCN_MAX_INPUT + 2);
	if (!text) {
		fclose(f);
		snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, SIM_SCN_MAX_INPUT + 1, f);
	if (ferror(f)) {
		snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	} else if (n > SIM_SCN_MAX_INPUT) {
		snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: larger than %u bytes", path,
			 SIM_SCN_MAX_INPUT);
		rc = -1;
	} else if (memchr(text, '\0', n)) {
		snprintf(errbuf, SIM_SCN_ERRBUF_SIZE, "%s: a NUL byte at offset %zu", path,
			 (size_t)((char *)memchr(text, '\0', n) - text));
		rc = -1;
	} else {
		text[n] = '\0';
		rc = sim_scenario_parse(text, path, out, errbuf);
	}
	fclose(f);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The canonical printer. */

static void w_ns(FILE *f, sim_ns v)
{
	char b[32];

	fputs(ns_text(v, b, sizeof(b)), f);
}

static void w_size(FILE *f, uint64_t v)
{
	if (v && v % (1024 * 1024) == 0)
		fprintf(f, "%lluM", (unsigned long long)(v >> 20));
	else if (v && v % 1024 == 0)
		fprintf(f, "%lluK", (unsigned long long)(v >> 10));
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void w_pps(FILE *f, uint64_t v)
{
	if (v % 1000000 == 0)
		fprintf(f, "%lluM/s", (unsigned long long)(v / 1000000));
	else if (v % 1000 == 0)
		fprintf(f, "%lluk/s", (unsigned long long)(v / 1000));
	else
		fprintf(f, "%llu/s", (unsigned long long)v);
}

static void w_addr(FILE *f, const struct sim_scn_addr *a)
{
	char b[INET6_ADDRSTRLEN];

	fputs(inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, b, sizeof(b)), f);
}

static void w_addr_port(FILE *f, const struct sim_scn_addr *a, int has_port, uint16_t port)
{
	if (has_port && a->family == 6) {
		fputc('[', f);
		w_addr(f, a);
		fprintf(f, "]:%u", port);
	} else {
		w_addr(f, a);
		if (has_port)
			fprintf(f, ":%u", port);
	}
}

static void w_prefix(FILE *f, const struct sim_scn_prefix *p)
{
	w_addr(f, &p->addr);
	fprintf(f, "/%u", p->len);
}

static void w_mac(FILE *f, const uint8_t m[6])
{
	fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void w_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A file name: bare when it is one plain word, quoted otherwise. */
static void w_word(FILE *f, const char *s)
{
	int plain = *s != '\0' && *s != '\\';

	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '#')
			plain = 0;
	if (plain)
		fputs(s, f);
	else
		w_string(f, s);
}

static void w_range(FILE *f, const char *kw, const struct sim_scn_range *r)
{
	if (!r->set)
		return;
	fprintf(f, " %s %u", kw, r->lo);
	if (r->hi != r->lo)
		fprintf(f, "-%u", r->hi);
}

static void w_cmp(FILE *f, enum sim_scn_cmp c, uint64_t v)
{
	fprintf(f, "%s%llu", c == SIM_SCN_CMP_EQ ? "" : sim_scn_cmp_name(c), (unsigned long long)v);
}

static void w_host(FILE *f, const struct sim_scn_host *h)
{
	fprintf(f, "\nhost %s cpus %u\n", h->name, h->cpus);
	for (uint32_t i = 1; i < h->nifaces; i++) {
		const struct sim_scn_iface *ifc = &h->ifaces[i];

		fprintf(f, "  iface %s", ifc->name);
		if (ifc->kind == SIM_SCN_IFACE_VLAN)
			fprintf(f, " vlan %u on %s", ifc->vlan_id, ifc->parent.name);
		fputs(" mac ", f);
		w_mac(f, ifc->mac);
		for (uint32_t j = 0; j < ifc->naddrs; j++) {
			fputs(" addr ", f);
			w_prefix(f, &ifc->addrs[j]);
		}
		fprintf(f, " mtu %u%s txqueuelen %u", ifc->mtu, ifc->promisc ? " promisc" : "",
			ifc->txqueuelen);
		if (ifc->kind == SIM_SCN_IFACE_ETHER) {
			fprintf(f, " vlan-offload %s rx-ring %u tx-ring %u coalesce ",
				ifc->vlan_offload ? "on" : "off", ifc->rx_ring, ifc->tx_ring);
			w_ns(f, ifc->coalesce);
			fprintf(f, " coalesce-frames %u", ifc->coalesce_frames);
		}
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < h->nroutes; i++) {
		const struct sim_scn_route *r = &h->routes[i];

		fputs("  route ", f);
		if (r->is_default)
			fputs("default", f);
		else
			w_prefix(f, &r->dst);
		if (r->has_via) {
			fputs(" via ", f);
			w_addr(f, &r->via);
		}
		if (r->has_dev)
			fprintf(f, " dev %s", r->dev.name);
		fprintf(f, " metric %u\n", r->metric);
	}
	for (uint32_t i = 0; i < h->nneighs; i++) {
		fputs("  neigh ", f);
		w_addr(f, &h->neighs[i].addr);
		fputs(" lladdr ", f);
		w_mac(f, h->neighs[i].lladdr);
		fprintf(f, " dev %s\n", h->neighs[i].dev.name);
	}
	fprintf(f, "  forwarding %s\n", h->sysctl.ip_forward ? "on" : "off");
	for (size_t i = 0; i < NSYSCTL; i++) {
		uint32_t v = *(const uint32_t *)((const char *)&h->sysctl + sysctl_table[i].off);

		fprintf(f, "  sysctl %s %u\n", sysctl_table[i].name, v);
	}
	for (int i = 0; i < SIM_SCN_COST_COUNT; i++) {
		fprintf(f, "  cost %s ", sim_scn_cost_name((enum sim_scn_cost)i));
		w_ns(f, h->cost[i]);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < h->nrules; i++) {
		const struct sim_scn_rule *r = &h->rules[i];

		fprintf(f, "  rule %s %s", r->name, sim_scn_hook_name(r->hook));
		if (sim_scn_hook_has_dev(r->hook))
			fprintf(f, " %s", r->dev.name);
		if (r->proto != SIM_SCN_PROTO_ANY)
			fprintf(f, " proto %s", sim_scn_proto_name(r->proto));
		if (r->has_saddr) {
			fputs(" saddr ", f);
			w_prefix(f, &r->saddr);
		}
		if (r->has_daddr) {
			fputs(" daddr ", f);
			w_prefix(f, &r->daddr);
		}
		w_range(f, "sport", &r->sport);
		w_range(f, "dport", &r->dport);
		if (r->has_iif)
			fprintf(f, " iif %s", r->iif.name);
		if (r->has_oif)
			fprintf(f, " oif %s", r->oif.name);
		if (r->has_vlan)
			fprintf(f, " vlan %u", r->vlan);
		w_range(f, "len", &r->len);
		fprintf(f, " %s\n", kw_name(verdict_kw, (int)r->verdict));
	}
	for (uint32_t i = 0; i < h->nsockets; i++) {
		const struct sim_scn_socket *so = &h->sockets[i];

		fprintf(f, "  socket %s %s bind ", so->name, kw_name(l4_kw, (int)so->proto));
		w_addr_port(f, &so->bind, so->proto != SIM_SCN_L4_ICMP, so->port);
		/* rcvbuf only when asked: SO_RCVBUF doubles what it is given,
		 * so spelling out the default would change it. */
		if (so->rcvbuf) {
			fputs(" rcvbuf ", f);
			w_size(f, so->rcvbuf);
		}
		if (so->read_rate) {
			fputs(" read-rate ", f);
			w_pps(f, so->read_rate);
		}
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < h->ntaps; i++) {
		const struct sim_scn_tap *tp = &h->taps[i];

		fprintf(f, "  tap %s dev %s", tp->name, tp->any_dev ? "any" : tp->dev.name);
		if (!tp->tcpdump) {
			const char *pn = kw_name(tap_proto_kw, tp->proto);

			if (strcmp(pn, "?") == 0)
				fprintf(f, " proto 0x%04x", tp->proto);
			else
				fprintf(f, " proto %s", pn);
			fprintf(f, " type %s", tp->dgram ? "dgram" : "raw");
		}
		if (tp->filter) {
			fputs(" filter ", f);
			w_string(f, tp->filter);
		}
		if (tp->filter_file) {
			fputs(" filter-file ", f);
			w_word(f, tp->filter_file);
		}
		fprintf(f, " snaplen %u", tp->snaplen);
		if (tp->ring_given) {
			fprintf(f, " ring %ux", tp->ring.block_nr);
			w_size(f, tp->ring.block_size);
			fprintf(f, " retire %ums", tp->ring.retire_ms);
		}
		if (tp->rcvbuf) {
			fputs(" rcvbuf ", f);
			w_size(f, tp->rcvbuf);
		}
		if (tp->ignore_outgoing)
			fputs(" ignore-outgoing", f);
		if (tp->read_rate) {
			fputs(" read-rate ", f);
			w_pps(f, tp->read_rate);
		}
		if (tp->tcpdump) {
			fputs(" tcpdump", f);
			if (tp->immediate)
				fputs(" immediate", f);
			fputs(" timeout ", f);
			w_ns(f, tp->timeout);
			fputs(" buffer ", f);
			w_size(f, tp->buffer);
			fprintf(f, " direction %s", kw_name(dir_kw, (int)tp->direction));
		}
		fputc('\n', f);
	}
}

static void w_traffic(FILE *f, const struct sim_scn_traffic *x)
{
	fputs("at ", f);
	w_ns(f, x->at);
	if (x->kind == SIM_SCN_TRAFFIC_SEND) {
		fprintf(f, " %s send %s", x->host_name, kw_name(l4_kw, (int)x->proto));
		if (x->has_from) {
			fputs(" from ", f);
			w_addr(f, &x->from);
		}
		fputs(" to ", f);
		w_addr_port(f, &x->to, x->proto != SIM_SCN_L4_ICMP, x->dport);
		if (x->sport)
			fprintf(f, " sport %u", x->sport);
		fprintf(f, " size %u ttl %u", x->size, x->ttl);
		if (x->has_vlan)
			fprintf(f, " vlan %u", x->vlan);
	} else if (x->kind == SIM_SCN_TRAFFIC_INJECT) {
		fprintf(f, " inject %s.%s frame", x->dev.host_name, x->dev.name);
		for (uint32_t i = 0; i < x->frame_len; i++) {
			/* 32 bytes a word, continued every 4 words. */
			if (i % 128 == 0 && i)
				fputs(" \\\n   ", f);
			if (i % 32 == 0)
				fputc(' ', f);
			fprintf(f, "%02x", x->frame[i]);
		}
	} else {
		fprintf(f, " replay %s.%s ", x->dev.host_name, x->dev.name);
		w_word(f, x->pcap);
		fprintf(f, " speed %u", x->speed_milli / 1000);
		if (x->speed_milli % 1000) {
			char frac[8];
			int n = snprintf(frac, sizeof(frac), "%03u", x->speed_milli % 1000);

			while (n > 0 && frac[n - 1] == '0')
				frac[--n] = '\0';
			fprintf(f, ".%s", frac);
		}
		fputc('\n', f);
		return;
	}
	fprintf(f, " count %llu", (unsigned long long)x->count);
	if (x->pace == SIM_SCN_PACE_RATE) {
		fputs(" rate ", f);
		w_pps(f, x->rate);
	} else if (x->pace == SIM_SCN_PACE_BURST) {
		fprintf(f, " burst %llu every ", (unsigned long long)x->burst);
		w_ns(f, x->every);
	}
	fputc('\n', f);
}

int sim_scenario_write(FILE *f, const struct sim_scenario *s)
{
	if (s->title) {
		fputs("scenario ", f);
		w_string(f, s->title);
		fputc('\n', f);
	}
	fprintf(f, "seed %llu\n", (unsigned long long)s->seed);
	if (s->has_duration) {
		fputs("duration ", f);
		w_ns(f, s->duration);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < s->nhosts; i++)
		w_host(f, &s->hosts[i]);
	if (s->nwires)
		fputc('\n', f);
	for (uint32_t i = 0; i < s->nwires; i++) {
		const struct sim_scn_wire *w = &s->wires[i];
		uint64_t r = w->rate_bps;

		fprintf(f, "wire %s.%s %s.%s delay ", w->a.host_name, w->a.name, w->b.host_name,
			w->b.name);
		w_ns(f, w->delay);
		if (r % 1000000000 == 0)
			fprintf(f, " rate %lluG\n", (unsigned long long)(r / 1000000000));
		else if (r % 1000000 == 0)
			fprintf(f, " rate %lluM\n", (unsigned long long)(r / 1000000));
		else if (r % 1000 == 0)
			fprintf(f, " rate %lluK\n", (unsigned long long)(r / 1000));
		else
			fprintf(f, " rate %llu\n", (unsigned long long)r);
	}
	if (s->ntraffic)
		fputc('\n', f);
	for (uint32_t i = 0; i < s->ntraffic; i++)
		w_traffic(f, &s->traffic[i]);
	if (s->nexpects)
		fputc('\n', f);
	for (uint32_t i = 0; i < s->nexpects; i++) {
		const struct sim_scn_expect *e = &s->expects[i];

		switch (e->kind) {
		case SIM_SCN_EXPECT_DROP:
			fprintf(f, "expect drop %s %s ", e->host_name, e->reason);
			w_cmp(f, e->cmp, e->value);
			if (e->func[0])
				fprintf(f, " at %s", e->func);
			break;
		case SIM_SCN_EXPECT_COUNTER:
			fprintf(f, "expect counter %s %s ", e->host_name, e->counter);
			w_cmp(f, e->cmp, e->value);
			break;
		default:
			fprintf(f, "expect tap %s.%s %s ", e->tap.host_name, e->tap.name,
				kw_name(tapstat_kw, (int)e->kind));
			w_cmp(f, e->cmp, e->value);
			if (e->filter) {
				fputc(' ', f);
				w_string(f, e->filter);
			}
			break;
		}
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}
