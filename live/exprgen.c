/*
 * exprgen.c - random pcap-filter expressions as trees, printed by the
 * nodes themselves, and shrunk by simplifying the tree.
 *
 * The grammar follows libpcap's filter language (pcap-filter(7), grammar.y):
 * a boolean layer of primitives joined by and/or/not, and a relational layer
 * "arith relop arith" over constants, len, packet accessors proto[expr:size]
 * and the binary operators + - * / % & | ^ << >> (and unary minus).  The
 * generator leans toward what compiles - mostly it avoids constant division
 * by zero and constant shifts of 32 or more, which gencode.c refuses - yet
 * still writes divisors and shift counts that only the optimizer sees as
 * constants, where libpcap's two paths can part.  Addresses stay in
 * 127.0.0.0/8, ::1 and fe80::/10.
 *
 * Every expression is written with full parentheses around compound
 * operands and with spaces around every operator: libpcap's scanner would
 * read "1-1" as one name.
 */
#include "live.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables ----------------------------------------------------------- */

static const char *const proto_words[] = {
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
	"igrp", "pim", "vrrp", "carp", "ah", "esp", "llc", "stp", "ipx", "atalk",
	"aarp", "netbeui", "iso", "decnet", "lat", "sca", "mopdl", "clnp", "esis",
	"isis", "l1", "pppoed", "pppoes", "mpls", "vlan",
};
#define N_PROTO_WORDS (sizeof(proto_words) / sizeof(proto_words[0]))

/* Protocols an accessor proto[...] may name. */
static const char *const load_protos[] = {
	"ether", "link", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6",
	"sctp", "igmp", "igrp", "pim", "vrrp", "carp",
};
#define N_LOAD_PROTOS (sizeof(load_protos) / sizeof(load_protos[0]))

static const char *const relops[] = { "=", "!=", "<", "<=", ">", ">=" };
static const char *const binops[] = { "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>" };
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_AND, OP_OR, OP_XOR, OP_LSH, OP_RSH, N_BINOPS };

static const char *const dirs[] = { "", "src ", "dst ", "src or dst ", "src and dst " };
#define N_DIRS 5

/* Named constants of the filter language and their values. */
static const struct {
	const char *name;
	uint32_t value;
} named[] = {
	{ NULL, 0 },
	{ "tcpflags", 13 }, { "icmptype", 0 }, { "icmpcode", 1 },
	{ "icmp6type", 0 }, { "icmp6code", 1 },
	{ "tcp-fin", 1 }, { "tcp-syn", 2 }, { "tcp-rst", 4 }, { "tcp-push", 8 },
	{ "tcp-ack", 16 }, { "tcp-urg", 32 },
	{ "icmp-echoreply", 0 }, { "icmp-unreach", 3 }, { "icmp-echo", 8 },
	{ "icmp6-echo", 128 }, { "icmp6-echoreply", 129 },
};
#define N_NAMED (sizeof(named) / sizeof(named[0]))
enum { NM_TCPFLAGS = 1, NM_ICMPTYPE, NM_ICMPCODE, NM_ICMP6TYPE, NM_ICMP6CODE, NM_TCP_FIN,
       NM_ICMP_ECHOREPLY = 12, NM_ICMP6_ECHO = 15 };

/* Boundary constants: where 8-, 16- and 32-bit arithmetic wraps. */
static const uint32_t boundary[] = {
	0, 1, 2, 3, 4, 7, 8, 12, 13, 14, 15, 16, 20, 23, 24, 31, 32, 40, 54, 63, 64,
	127, 128, 255, 256, 1023, 1024, 4095, 4096, 32767, 32768, 65535, 65536,
	0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
};
#define N_BOUNDARY (sizeof(boundary) / sizeof(boundary[0]))

static const uint16_t ports[] = { 0, 1, 22, 25, 53, 80, 123, 443, 1023, 1024, 5353, 8080, 65535 };
#define N_PORTS (sizeof(ports) / sizeof(ports[0]))

static const uint8_t macs[][6] = {
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x02, 0, 0, 0, 0, 0x01 },
	{ 0x02, 0, 0, 0, 0, 0x02 }, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
	{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, { 0, 0, 0, 0, 0, 0 },
};
#define N_MACS (sizeof(macs) / sizeof(macs[0]))

/* ---- random numbers --------------------------------------------------- */

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(s) % n) : 0;
}

static int chance(uint64_t *s, unsigned pct)
{
	return rnd(s, 100) < pct;
}

static uint32_t rand_const(uint64_t *s)
{
	switch (rnd(s, 10)) {
	case 0:
		return (uint32_t)bpfvm_rand64(s);
	case 1:
	case 2:
	case 3:
		return rnd(s, 64);
	default:
		return boundary[rnd(s, N_BOUNDARY)];
	}
}

/* ---- nodes ------------------------------------------------------------ */

static struct live_expr *node(uint8_t kind)
{
	struct live_expr *e = calloc(1, sizeof(*e));

	if (e)
		e->kind = kind;
	return e;
}

void live_expr_free(struct live_expr *e)
{
	if (!e)
		return;
	live_expr_free(e->kid[0]);
	live_expr_free(e->kid[1]);
	free(e);
}

struct live_expr *live_expr_copy(const struct live_expr *e)
{
	struct live_expr *c;

	if (!e)
		return NULL;
	if (!(c = malloc(sizeof(*c))))
		return NULL;
	*c = *e;
	c->kid[0] = c->kid[1] = NULL;
	for (int i = 0; i < 2; i++)
		if (e->kid[i] && !(c->kid[i] = live_expr_copy(e->kid[i]))) {
			live_expr_free(c);
			return NULL;
		}
	return c;
}

size_t live_expr_nodes(const struct live_expr *e)
{
	return e ? 1 + live_expr_nodes(e->kid[0]) + live_expr_nodes(e->kid[1]) : 0;
}

static int kids_of(uint8_t kind)
{
	switch (kind) {
	case LIVE_EX_AND:
	case LIVE_EX_OR:
	case LIVE_EX_REL:
	case LIVE_EX_BIN:
		return 2;
	case LIVE_EX_NOT:
	case LIVE_EX_NEG:
	case LIVE_EX_LOAD:
		return 1;
	default:
		return 0;
	}
}

static struct live_expr *node2(uint8_t kind, uint8_t op, struct live_expr *a, struct live_expr *b)
{
	struct live_expr *e;

	if (!a || (kids_of(kind) == 2 && !b) || !(e = node(kind))) {
		live_expr_free(a);
		live_expr_free(b);
		return NULL;
	}
	e->op = op;
	e->kid[0] = a;
	e->kid[1] = b;
	return e;
}

static struct live_expr *num(uint32_t v, uint8_t name)
{
	struct live_expr *e = node(LIVE_EX_NUM);

	if (e) {
		e->num[0] = v;
		e->op = name;
	}
	return e;
}

/* ---- printing --------------------------------------------------------- */

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_ip6(struct out *o, const uint32_t w[4])
{
	if (!w[0] && !w[1] && !w[2] && w[3] == 1) {
		put(o, "::1");
		return;
	}
	for (int i = 0; i < 4; i++)
		put(o, "%s%x:%x", i ? ":" : "", w[i] >> 16, w[i] & 0xffff);
}

static void put_ip4(struct out *o, uint32_t a)
{
	put(o, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void print_node(const struct live_expr *e, struct out *o);

/* A compound operand gets parentheses. */
static void print_kid(const struct live_expr *e, struct out *o)
{
	int paren = e->kind == LIVE_EX_AND || e->kind == LIVE_EX_OR || e->kind == LIVE_EX_BIN ||
		    e->kind == LIVE_EX_NEG;

	if (paren)
		put(o, "(");
	print_node(e, o);
	if (paren)
		put(o, ")");
}

static void print_prim(const struct live_expr *e, struct out *o)
{
	static const char *const hostproto[] = { "", "ip ", "ip6 ", "arp ", "rarp " };
	static const char *const portproto[] = { "", "tcp ", "udp ", "sctp " };
	static const char *const bcast[] = { "ether broadcast", "ether multicast", "broadcast",
					     "multicast", "ip multicast", "ip6 multicast" };
	static const char *const ipproto[] = { "ip proto", "ip6 proto", "proto", "ip protochain",
					       "ip6 protochain", "protochain" };
	static const char *const ipproto_names[] = { "tcp", "udp", "icmp" };
	static const char *const ethproto_names[] = { "ip", "ip6", "arp", "rarp" };

	switch (e->op) {
	case LIVE_PRIM_PROTO:
		put(o, "%s", proto_words[e->qual[0] % N_PROTO_WORDS]);
		break;
	case LIVE_PRIM_HOST:
	case LIVE_PRIM_NET:
		put(o, "%s%s%s ", hostproto[e->qual[0] % 5], dirs[e->qual[1] % N_DIRS],
		    e->op == LIVE_PRIM_HOST ? "host" : "net");
		if (e->qual[2] & 1)
			put_ip6(o, e->num);
		else
			put_ip4(o, e->num[0]);
		if (e->op == LIVE_PRIM_NET) {
			if (e->qual[2] & 2) {
				put(o, " mask ");
				put_ip4(o, e->size ? 0xffffffffu << (32 - e->size) : 0);
			} else {
				put(o, "/%u", e->size);
			}
		}
		break;
	case LIVE_PRIM_ETHER_HOST:
		put(o, "ether %s%s", dirs[e->qual[1] % N_DIRS], e->qual[1] == 1 || e->qual[1] == 2 ? "" : "host ");
		put(o, "%02x:%02x:%02x:%02x:%02x:%02x", e->num[0] >> 8, e->num[0] & 0xff,
		    e->num[1] >> 24, (e->num[1] >> 16) & 0xff, (e->num[1] >> 8) & 0xff,
		    e->num[1] & 0xff);
		break;
	case LIVE_PRIM_BCAST:
		put(o, "%s", bcast[e->qual[0] % 6]);
		break;
	case LIVE_PRIM_PORT:
		put(o, "%s%sport %u", portproto[e->qual[0] % 4], dirs[e->qual[1] % N_DIRS], e->num[0]);
		break;
	case LIVE_PRIM_PORTRANGE:
		put(o, "%s%sportrange %u-%u", portproto[e->qual[0] % 4], dirs[e->qual[1] % N_DIRS],
		    e->num[0], e->num[1]);
		break;
	case LIVE_PRIM_VLAN:
	case LIVE_PRIM_MPLS:
	case LIVE_PRIM_PPPOES:
		put(o, "%s", e->op == LIVE_PRIM_VLAN ? "vlan" : e->op == LIVE_PRIM_MPLS ? "mpls" : "pppoes");
		if (e->qual[0])
			put(o, " %u", e->num[0]);
		break;
	case LIVE_PRIM_LEN:
		put(o, "%s %u", e->qual[0] ? "less" : "greater", e->num[0]);
		break;
	case LIVE_PRIM_IPPROTO:
		put(o, "%s ", ipproto[e->qual[0] % 6]);
		if (e->qual[1] && e->num[0] == (uint32_t[]){ 6, 17, 1 }[(e->qual[1] - 1) % 3])
			put(o, "\\%s", ipproto_names[(e->qual[1] - 1) % 3]);
		else
			put(o, "%u", e->num[0]);
		break;
	case LIVE_PRIM_ETHERPROTO:
		if (e->qual[1] && e->num[0] == (uint32_t[]){ 0x800, 0x86dd, 0x806, 0x8035 }[(e->qual[1] - 1) % 4])
			put(o, "ether proto \\%s", ethproto_names[(e->qual[1] - 1) % 4]);
		else
			put(o, "ether proto 0x%x", e->num[0]);
		break;
	case LIVE_PRIM_INOUT:
		put(o, "%s", e->qual[0] ? "outbound" : "inbound");
		break;
	case LIVE_PRIM_IFINDEX:
		put(o, "ifindex %u", e->num[0]);
		break;
	default:
		put(o, "?");
	}
}

static void print_node(const struct live_expr *e, struct out *o)
{
	switch (e->kind) {
	case LIVE_EX_AND:
	case LIVE_EX_OR:
		print_kid(e->kid[0], o);
		put(o, e->kind == LIVE_EX_AND ? " and " : " or ");
		print_kid(e->kid[1], o);
		break;
	case LIVE_EX_NOT:
		put(o, "not ");
		print_kid(e->kid[0], o);
		break;
	case LIVE_EX_PRIM:
		print_prim(e, o);
		break;
	case LIVE_EX_REL:
		print_kid(e->kid[0], o);
		put(o, " %s ", relops[e->op % 6]);
		print_kid(e->kid[1], o);
		break;
	case LIVE_EX_BIN:
		print_kid(e->kid[0], o);
		put(o, " %s ", binops[e->op % N_BINOPS]);
		print_kid(e->kid[1], o);
		break;
	case LIVE_EX_NEG:
		put(o, "- ");
		print_kid(e->kid[0], o);
		break;
	case LIVE_EX_NUM:
		if (e->op && e->op < N_NAMED && named[e->op].value == e->num[0])
			put(o, "%s", named[e->op].name);
		else if (e->num[0] > 255 && (e->num[0] & 0xff) == 0xff)
			put(o, "0x%x", e->num[0]);
		else
			put(o, "%u", e->num[0]);
		break;
	case LIVE_EX_LEN:
		put(o, "len");
		break;
	case LIVE_EX_LOAD:
		put(o, "%s[", load_protos[e->op % N_LOAD_PROTOS]);
		print_node(e->kid[0], o);
		if (e->size)
			put(o, " : %u", e->size);
		put(o, "]");
		break;
	default:
		put(o, "?");
	}
}

size_t live_expr_print(const struct live_expr *e, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	print_node(e, &o);
	return o.len;
}

char *live_expr_string(const struct live_expr *e)
{
	size_t n = live_expr_print(e, NULL, 0);
	char *s = malloc(n + 1);

	if (s)
		live_expr_print(e, s, n + 1);
	return s;
}

/* ---- generation ------------------------------------------------------- */

static struct live_expr *gen_arith(uint64_t *s, const struct live_exprgen_opts *o, unsigned depth);

static struct live_expr *gen_load(uint64_t *s, const struct live_exprgen_opts *o, unsigned depth)
{
	static const uint8_t sizes[] = { 0, 0, 0, 1, 2, 2, 4 };
	struct live_expr *idx, *e;

	if (depth > 0 && chance(s, 12))
		idx = gen_arith(s, o, depth - 1);
	else if (chance(s, 80))
		idx = num(rnd(s, 60), 0);
	else
		idx = num(rand_const(s), 0);
	if (!(e = node2(LIVE_EX_LOAD, (uint8_t)rnd(s, N_LOAD_PROTOS), idx, NULL)))
		return NULL;
	e->size = sizes[rnd(s, sizeof(sizes))];
	return e;
}

static struct live_expr *gen_arith(uint64_t *s, const struct live_exprgen_opts *o, unsigned depth)
{
	unsigned r = rnd(s, 100);

	if (depth == 0 || r < 45) {
		r = rnd(s, 100);
		if (r < 45)
			return gen_load(s, o, depth ? depth - 1 : 0);
		if (r < 55)
			return node(LIVE_EX_LEN);
		return num(rand_const(s), 0);
	}
	if (r < 50)
		return node2(LIVE_EX_NEG, 0, gen_arith(s, o, depth - 1), NULL);
	uint8_t op = (uint8_t)rnd(s, N_BINOPS);
	struct live_expr *a = gen_arith(s, o, depth - 1), *b;

	if (op == OP_LSH || op == OP_RSH) {
		/* gencode.c refuses a constant count above 31; the optimizer
		 * refuses one it folds to that. */
		if (chance(s, 85))
			b = num(rnd(s, 32), 0);
		else
			b = gen_arith(s, o, depth - 1);
	} else if (op == OP_DIV || op == OP_MOD) {
		if (chance(s, 85)) {
			uint32_t v = rand_const(s);

			b = num(v ? v : 1, 0);
		} else {
			b = gen_arith(s, o, depth - 1);
		}
	} else {
		b = gen_arith(s, o, depth - 1);
	}
	return node2(LIVE_EX_BIN, op, a, b);
}

/* The idioms of pcap-filter(7): "tcp[tcpflags] & tcp-syn != 0" and friends. */
static struct live_expr *gen_idiom(uint64_t *s)
{
	struct live_expr *ld, *v;

	switch (rnd(s, 4)) {
	case 0:
		ld = node2(LIVE_EX_LOAD, 6 /* tcp */, num(13, NM_TCPFLAGS), NULL);
		v = num(1u << rnd(s, 6), (uint8_t)(NM_TCP_FIN + rnd(s, 6)));
		if (v)
			v->num[0] = named[v->op].value;
		return node2(LIVE_EX_REL, 1, node2(LIVE_EX_BIN, OP_AND, ld, v), num(0, 0));
	case 1:
		ld = node2(LIVE_EX_LOAD, 8 /* icmp */, num(0, NM_ICMPTYPE), NULL);
		v = num(0, (uint8_t)(NM_ICMP_ECHOREPLY + rnd(s, 3)));
		if (v)
			v->num[0] = named[v->op].value;
		return node2(LIVE_EX_REL, (uint8_t)rnd(s, 2), ld, v);
	case 2:
		ld = node2(LIVE_EX_LOAD, 9 /* icmp6 */, num(0, NM_ICMP6TYPE), NULL);
		v = num(0, (uint8_t)(NM_ICMP6_ECHO + rnd(s, 2)));
		if (v)
			v->num[0] = named[v->op].value;
		return node2(LIVE_EX_REL, (uint8_t)rnd(s, 2), ld, v);
	default:
		ld = node2(LIVE_EX_LOAD, 0 /* ether */, num(0, 0), NULL);
		return node2(LIVE_EX_REL, 0, node2(LIVE_EX_BIN, OP_AND, ld, num(1, 0)),
			     num(rnd(s, 2), 0));
	}
}

static void rand_mac(uint64_t *s, uint32_t w[2])
{
	uint8_t m[6];

	if (chance(s, 80)) {
		memcpy(m, macs[rnd(s, N_MACS)], 6);
	} else {
		for (int i = 0; i < 6; i++)
			m[i] = (uint8_t)rnd(s, 256);
	}
	w[0] = (uint32_t)m[0] << 8 | m[1];
	w[1] = (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
}

static void rand_addr(uint64_t *s, struct live_expr *e, int v6)
{
	if (!v6) {
		static const uint32_t common[] = { 0x7f000001, 0x7f000002, 0x7f000000, 0x7f010203 };

		e->num[0] = chance(s, 50) ? common[rnd(s, 4)] : 0x7f000000u | rnd(s, 1u << 24);
		return;
	}
	e->qual[2] |= 1;
	if (chance(s, 40)) {
		e->num[0] = e->num[1] = e->num[2] = 0;
		e->num[3] = 1;
	} else {
		e->num[0] = 0xfe800000u;
		e->num[1] = 0;
		e->num[2] = chance(s, 50) ? 0 : (uint32_t)bpfvm_rand64(s);
		e->num[3] = chance(s, 50) ? rnd(s, 4) : (uint32_t)bpfvm_rand64(s);
	}
}

/* Clear the host bits of an IPv4 network address (libpcap refuses them). */
static void net_mask_addr(struct live_expr *e)
{
	e->num[0] &= e->size ? 0xffffffffu << (32 - e->size) : 0;
}

static struct live_expr *gen_prim(uint64_t *s, const struct live_exprgen_opts *o)
{
	struct live_expr *e = node(LIVE_EX_PRIM);
	unsigned r = rnd(s, 100);

	if (!e)
		return NULL;
	if (r < 16) {
		e->op = LIVE_PRIM_PROTO;
		e->qual[0] = (uint8_t)(chance(s, 70) ? rnd(s, 10) : rnd(s, N_PROTO_WORDS));
	} else if (r < 26) {
		int v6 = chance(s, 30);

		e->op = LIVE_PRIM_HOST;
		e->qual[0] = (uint8_t)(chance(s, 60) ? 0 : v6 ? 2 : (uint8_t[]){ 1, 3, 4 }[rnd(s, 3)]);
		e->qual[1] = (uint8_t)rnd(s, N_DIRS);
		rand_addr(s, e, v6);
	} else if (r < 32) {
		int v6 = chance(s, 25);

		e->op = LIVE_PRIM_NET;
		e->qual[0] = (uint8_t)(chance(s, 75) ? 0 : v6 ? 2 : 1);
		e->qual[1] = (uint8_t)rnd(s, N_DIRS);
		if (v6) {
			/* ::1/128 or fe80::/10 */
			e->qual[2] = 1;
			if (chance(s, 50)) {
				e->num[3] = 1;
				e->size = 128;
			} else {
				e->num[0] = 0xfe800000u;
				e->size = 10;
			}
		} else {
			/* Within 127.0.0.0/8, so never shorter than /8. */
			e->size = (uint8_t[]){ 8, 8, 16, 24, 31, 32 }[rnd(s, 6)];
			e->num[0] = 0x7f000000u | rnd(s, 1u << 24);
			if (chance(s, 30))
				e->qual[2] = 2;
			net_mask_addr(e);
		}
	} else if (r < 36) {
		e->op = LIVE_PRIM_ETHER_HOST;
		e->qual[1] = (uint8_t)rnd(s, N_DIRS);
		rand_mac(s, e->num);
	} else if (r < 40) {
		e->op = LIVE_PRIM_BCAST;
		e->qual[0] = (uint8_t)rnd(s, 6);
	} else if (r < 52) {
		e->op = LIVE_PRIM_PORT;
		e->qual[0] = (uint8_t)rnd(s, 4);
		e->qual[1] = (uint8_t)rnd(s, N_DIRS);
		e->num[0] = chance(s, 85) ? ports[rnd(s, N_PORTS)] : rnd(s, 65536);
	} else if (r < 57) {
		e->op = LIVE_PRIM_PORTRANGE;
		e->qual[0] = (uint8_t)rnd(s, 4);
		e->qual[1] = (uint8_t)rnd(s, N_DIRS);
		e->num[0] = ports[rnd(s, N_PORTS)];
		e->num[1] = chance(s, 70) ? ports[rnd(s, N_PORTS)] : rnd(s, 65536);
	} else if (r < 64) {
		e->op = LIVE_PRIM_VLAN;
		e->qual[0] = (uint8_t)chance(s, 60);
		e->num[0] = chance(s, 70) ? rnd(s, 8) : rnd(s, 4096);
	} else if (r < 67) {
		e->op = LIVE_PRIM_MPLS;
		e->qual[0] = (uint8_t)chance(s, 60);
		e->num[0] = chance(s, 70) ? rnd(s, 20) : rnd(s, 1u << 20);
	} else if (r < 70) {
		e->op = LIVE_PRIM_PPPOES;
		e->qual[0] = (uint8_t)chance(s, 60);
		e->num[0] = chance(s, 70) ? rnd(s, 8) : rnd(s, 65536);
	} else if (r < 76) {
		e->op = LIVE_PRIM_LEN;
		e->qual[0] = (uint8_t)rnd(s, 2);
		e->num[0] = chance(s, 70) ? boundary[rnd(s, N_BOUNDARY)] % 2000 : rnd(s, 1600);
	} else if (r < 84) {
		e->op = LIVE_PRIM_IPPROTO;
		e->qual[0] = (uint8_t)rnd(s, 6);
		e->qual[1] = (uint8_t)rnd(s, 4);
		if (e->qual[1])
			e->num[0] = (uint32_t[]){ 6, 17, 1 }[e->qual[1] - 1];
		else
			e->num[0] = chance(s, 60) ? (uint32_t[]){ 0, 1, 2, 6, 17, 41, 43, 44, 58, 132, 255 }[rnd(s, 11)]
						  : rnd(s, 256);
	} else if (r < 88) {
		e->op = LIVE_PRIM_ETHERPROTO;
		e->qual[1] = (uint8_t)rnd(s, 5);
		e->num[0] = e->qual[1] ? (uint32_t[]){ 0x800, 0x86dd, 0x806, 0x8035 }[e->qual[1] - 1]
				       : (uint32_t[]){ 0, 0x5dc, 0x600, 0x8100, 0x88a8, 0x8847, 0x8864, 0xffff }[rnd(s, 8)];
	} else if (r < 91 && o->linux_ext) {
		e->op = LIVE_PRIM_INOUT;
		e->qual[0] = (uint8_t)rnd(s, 2);
	} else if (r < 93 && o->linux_ext) {
		e->op = LIVE_PRIM_IFINDEX;
		e->num[0] = rnd(s, 4);
	} else {
		live_expr_free(e);
		return gen_idiom(s);
	}
	return e;
}

static const uint8_t n_relops = 6;

/* Does the arithmetic read the packet (or its length)? */
static int has_var(const struct live_expr *e)
{
	if (!e)
		return 0;
	if (e->kind == LIVE_EX_LOAD || e->kind == LIVE_EX_LEN)
		return 1;
	return has_var(e->kid[0]) || has_var(e->kid[1]);
}

static struct live_expr *gen_bool(uint64_t *s, const struct live_exprgen_opts *o, unsigned depth)
{
	unsigned r = rnd(s, 100);

	if (depth == 0 || r < 35) {
		if (chance(s, 30)) {
			unsigned ad = o->max_arith_depth ? o->max_arith_depth : 3;

			struct live_expr *a = gen_arith(s, o, rnd(s, ad + 1)), *b = gen_arith(s, o, rnd(s, ad));

			/* A relation of constants only is decided at compile
			 * time; most of those make the whole filter constant. */
			if (a && b && !has_var(a) && !has_var(b)) {
				live_expr_free(a);
				a = gen_load(s, o, 1);
			}
			return node2(LIVE_EX_REL, (uint8_t)rnd(s, n_relops), a, b);
		}
		return gen_prim(s, o);
	}
	if (r < 47)
		return node2(LIVE_EX_NOT, 0, gen_bool(s, o, depth - 1), NULL);
	return node2(r < 75 ? LIVE_EX_AND : LIVE_EX_OR, 0, gen_bool(s, o, depth - 1),
		     gen_bool(s, o, depth - 1));
}

void live_exprgen_opts_init(struct live_exprgen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_depth = 4;
	o->max_arith_depth = 3;
}

struct live_expr *live_expr_gen(uint64_t *rng, const struct live_exprgen_opts *o)
{
	struct live_exprgen_opts def;

	if (!o) {
		live_exprgen_opts_init(&def);
		o = &def;
	}
	return gen_bool(rng, o, rnd(rng, o->max_depth + 1));
}

/* ---- reduction -------------------------------------------------------- */

static unsigned bitlen(uint32_t v)
{
	unsigned n = 0;

	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

static uint64_t num_cost(uint32_t v)
{
	return v == 0 ? 0 : v == 1 ? 1 : 2 + bitlen(v) * 33 + (uint64_t)__builtin_popcount(v);
}

/* What the reducer minimises: nodes first, then qualifiers, then how
 * complicated the constants are. */
static uint64_t cost(const struct live_expr *e)
{
	uint64_t c;

	if (!e)
		return 0;
	c = 1000000 + cost(e->kid[0]) + cost(e->kid[1]);
	if (e->kind == LIVE_EX_NUM)
		c += num_cost(e->num[0]) + (e->op ? 1 : 0);
	if (e->kind == LIVE_EX_LOAD)
		c += e->size ? 10 + e->size : 0;
	if (e->kind == LIVE_EX_PRIM) {
		c += 2000u * (e->qual[0] != 0) + 2000u * (e->qual[1] != 0);
		if (e->op == LIVE_PRIM_PORT || e->op == LIVE_PRIM_PORTRANGE || e->op == LIVE_PRIM_VLAN ||
		    e->op == LIVE_PRIM_MPLS || e->op == LIVE_PRIM_PPPOES || e->op == LIVE_PRIM_LEN ||
		    e->op == LIVE_PRIM_IFINDEX)
			c += num_cost(e->num[0]);
		if (e->op == LIVE_PRIM_PORTRANGE)
			c += num_cost(e->num[1]);
	}
	return c;
}

/* The simpler values a constant may take, nearest to 0, 1 and powers of 2. */
static unsigned num_variants(uint32_t v, uint32_t out[5])
{
	uint32_t cand[5] = { 0, 1, v >> 1, v ? 1u << (bitlen(v) - 1) : 0, v & (v - 1) };
	unsigned n = 0;

	for (unsigned i = 0; i < 5; i++) {
		int dup = cand[i] == v || num_cost(cand[i]) >= num_cost(v);

		for (unsigned j = 0; j < n && !dup; j++)
			dup = out[j] == cand[i];
		if (!dup)
			out[n++] = cand[i];
	}
	return n;
}

/* Is the primitive's first number a plain count that may shrink? */
static int prim_num_plain(const struct live_expr *e)
{
	switch (e->op) {
	case LIVE_PRIM_PORT:
	case LIVE_PRIM_PORTRANGE:
	case LIVE_PRIM_VLAN:
	case LIVE_PRIM_MPLS:
	case LIVE_PRIM_PPPOES:
	case LIVE_PRIM_LEN:
	case LIVE_PRIM_IFINDEX:
		return 1;
	default:
		return 0;
	}
}

/*
 * Apply local simplification @k (0-based) to node @e in place, reading
 * @e's own fields; returns 1 if done, 0 if @k is past the node's list.
 * Replacements by a child free the rest of the node.
 */
static int apply_local(struct live_expr *e, unsigned k)
{
	uint32_t v[5];
	unsigned n;

	switch (e->kind) {
	case LIVE_EX_AND:
	case LIVE_EX_OR:
	case LIVE_EX_BIN:
		if (k < 2) {
			struct live_expr *keep = e->kid[k], *drop = e->kid[!k];

			if (e->kind == LIVE_EX_BIN && keep->kind == LIVE_EX_REL)
				return 0;
			*e = *keep;
			free(keep);
			live_expr_free(drop);
			return 1;
		}
		return 0;
	case LIVE_EX_NOT:
	case LIVE_EX_NEG:
		if (k == 0) {
			struct live_expr *keep = e->kid[0];

			*e = *keep;
			free(keep);
			return 1;
		}
		return 0;
	case LIVE_EX_LOAD:
		if (k == 0 && e->size) {
			e->size = 0;
			return 1;
		}
		if (k == 0 || (k == 1 && e->size)) {
			struct live_expr *keep = e->kid[0];

			*e = *keep;
			free(keep);
			return 1;
		}
		return 0;
	case LIVE_EX_NUM:
		n = num_variants(e->num[0], v);
		if (k < n) {
			e->num[0] = v[k];
			e->op = 0;
			return 1;
		}
		if (k == n && e->op) {
			e->op = 0;
			return 1;
		}
		return 0;
	case LIVE_EX_PRIM: {
		unsigned nq = 0;

		/* Drop a qualifier. */
		for (int q = 0; q < 2; q++) {
			if (!e->qual[q])
				continue;
			if (e->op == LIVE_PRIM_PROTO || e->op == LIVE_PRIM_BCAST || e->op == LIVE_PRIM_INOUT ||
			    e->op == LIVE_PRIM_LEN || e->op == LIVE_PRIM_IPPROTO || e->op == LIVE_PRIM_ETHERPROTO)
				continue;
			if (nq++ == k) {
				e->qual[q] = 0;
				return 1;
			}
		}
		k -= nq;
		if (!prim_num_plain(e))
			return 0;
		for (int i = 0; i < (e->op == LIVE_PRIM_PORTRANGE ? 2 : 1); i++) {
			n = num_variants(e->num[i], v);
			if (k < n) {
				e->num[i] = v[k];
				return 1;
			}
			k -= n;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* The @k-th node in preorder, or NULL. */
static struct live_expr *nth_node(struct live_expr *e, size_t *k)
{
	struct live_expr *r;

	if (!e)
		return NULL;
	if (*k == 0)
		return e;
	(*k)--;
	if ((r = nth_node(e->kid[0], k)))
		return r;
	return nth_node(e->kid[1], k);
}

/* Is @c printed like @orig or like one of out[0..n)? */
static int prints_same(const struct live_expr *c, const char *orig, struct live_expr **out, size_t n)
{
	char *t = live_expr_string(c);
	int same = !t || strcmp(t, orig) == 0;

	for (size_t i = 0; i < n && !same; i++) {
		char *u = live_expr_string(out[i]);

		same = !u || strcmp(t, u) == 0;
		free(u);
	}
	free(t);
	return same;
}

struct live_expr **live_expr_variants(const struct live_expr *e, size_t *count)
{
	size_t nodes = live_expr_nodes(e), n = 0, cap = 16;
	struct live_expr **out = malloc(cap * sizeof(*out));
	uint64_t base = cost(e);
	char *orig = live_expr_string(e);

	if (!out || !orig) {
		free(out);
		free(orig);
		return NULL;
	}
	for (size_t i = 0; i < nodes; i++) {
		for (unsigned k = 0;; k++) {
			struct live_expr *c = live_expr_copy(e), *t;
			size_t idx = i;

			if (!c)
				goto oom;
			t = nth_node(c, &idx);
			if (!apply_local(t, k)) {
				live_expr_free(c);
				break;
			}
			/* Smaller, and a different text: a variant that
			 * prints the same tests nothing new. */
			if (cost(c) >= base || prints_same(c, orig, out, n)) {
				live_expr_free(c);
				continue;
			}
			if (n == cap) {
				struct live_expr **nb = realloc(out, (cap *= 2) * sizeof(*out));

				if (!nb) {
					live_expr_free(c);
					goto oom;
				}
				out = nb;
			}
			out[n++] = c;
		}
	}
	free(orig);
	*count = n;
	return out;
oom:
	for (size_t i = 0; i < n; i++)
		live_expr_free(out[i]);
	free(out);
	free(orig);
	return NULL;
}

struct live_expr *live_expr_reduce(const struct live_expr *e, live_expr_pred pred, void *ctx,
				   unsigned max_rounds, unsigned *rounds)
{
	struct live_expr *cur = live_expr_copy(e);
	unsigned r;

	for (r = 0; cur && r < max_rounds; r++) {
		size_t n = 0;
		struct live_expr **v = live_expr_variants(cur, &n);
		long pick;

		if (!v)
			break;
		pick = n ? pred((const struct live_expr *const *)v, n, ctx) : -1;
		if (pick >= 0 && (size_t)pick < n) {
			live_expr_free(cur);
			cur = v[pick];
			v[pick] = NULL;
		}
		for (size_t i = 0; i < n; i++)
			live_expr_free(v[i]);
		free(v);
		if (pick < 0 || (size_t)pick >= n)
			break;
	}
	if (rounds)
		*rounds = r;
	return cur;
}
