/*
 * gen.c - generated traffic: a deterministic mix of the frames a capture
 * course meets (Ethernet II, 802.3/LLC, 802.1Q and QinQ tags, ARP, IPv4 with
 * options and fragments, IPv6 with extension headers, TCP, UDP, ICMP,
 * ICMPv6, broadcast and multicast, runts, truncated records).
 *
 * Every address is safe to replay anywhere: IPv4 from 127.0.0.0/8, IPv6
 * ::1 or fe80::/10.
 */
#include "trace.h"
#include "bpfvm.h"	/* bpfvm_rand64: the project's one seeded random source */

#include <string.h>

void trace_gen_opts_init(struct trace_gen_opts *o)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	memcpy(o->host_mac, mac, 6);
	o->truncate_pct = 5;
	o->vlan_pct = 15;
	o->runt_pct = 3;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(bpfvm_rand64(s) % n) : 0;
}

static int chance(uint64_t *s, unsigned pct)
{
	return rnd(s, 100) < pct;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	return put16(p + 2, (uint16_t)v);
}

static void fill(uint64_t *s, uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(s, 256);
}

static uint16_t ip_csum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t loopback4(uint64_t *s)
{
	return 0x7f000000u | rnd(s, 1u << 24);
}

static const uint16_t ports[] = { 80, 443, 22, 53, 123, 8080, 5353, 25, 1024, 65535 };

static uint16_t port(uint64_t *s)
{
	return chance(s, 70) ? ports[rnd(s, sizeof(ports) / sizeof(ports[0]))]
			     : (uint16_t)rnd(s, 65536);
}

/* A transport header and payload; returns the bytes written. */
static uint32_t l4(uint64_t *s, uint8_t proto, uint8_t *p, uint32_t room)
{
	uint32_t pay = chance(s, 10) ? rnd(s, room > 1200 ? 1200 : room) : rnd(s, 64);
	uint32_t h;

	switch (proto) {
	case 6: {	/* TCP, sometimes with options */
		uint32_t opt = chance(s, 30) ? 4 * (1 + rnd(s, 10)) : 0;

		h = 20 + opt;
		put16(p, port(s));
		put16(p + 2, port(s));
		put32(p + 4, (uint32_t)bpfvm_rand64(s));
		put32(p + 8, (uint32_t)bpfvm_rand64(s));
		p[12] = (uint8_t)((h / 4) << 4);
		p[13] = (uint8_t)(chance(s, 50) ? 0x02 : rnd(s, 64));	/* SYN, or any flags */
		put16(p + 14, 65535);
		put16(p + 16, 0);
		put16(p + 18, 0);
		memset(p + 20, 1, opt);	/* NOPs */
		break;
	}
	case 17:	/* UDP; checksum 0: "none" (IPv6 forbids it; no stage checks it) */
		h = 8;
		put16(p, port(s));
		put16(p + 2, port(s));
		put16(p + 6, 0);
		break;
	default:	/* ICMP / ICMPv6 echo */
		h = 8;
		p[0] = proto == 1 ? (chance(s, 50) ? 8 : 0) : (chance(s, 50) ? 128 : 129);
		p[1] = 0;
		put16(p + 2, 0);
		put32(p + 4, (uint32_t)bpfvm_rand64(s));
		break;
	}
	if (pay > room - h)
		pay = room - h;
	fill(s, p + h, pay);
	if (proto == 17)
		put16(p + 4, (uint16_t)(h + pay));
	return h + pay;
}

static const uint8_t l4_protos[] = { 6, 6, 6, 17, 17, 1 };

static uint32_t ipv4(uint64_t *s, uint8_t *p, uint32_t room)
{
	uint32_t ihl = chance(s, 10) ? 5 + 1 + rnd(s, 10) : 5;
	uint8_t proto = l4_protos[rnd(s, sizeof(l4_protos))];
	uint32_t len, frag = 0;

	if (chance(s, 5))	/* a fragment: first (MF) or a later one */
		frag = chance(s, 50) ? 0x2000 : (uint32_t)(0x2000 * rnd(s, 2) | (1 + rnd(s, 100)));
	memset(p, 0, ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	p[8] = 64;
	p[9] = proto == 1 ? 1 : proto;
	put16(p + 4, (uint16_t)rnd(s, 65536));
	put16(p + 6, (uint16_t)frag);
	put32(p + 12, loopback4(s));
	put32(p + 16, loopback4(s));
	memset(p + 20, 1, ihl * 4 - 20);	/* NOP options */
	len = ihl * 4 + l4(s, p[9], p + ihl * 4, room - ihl * 4);
	put16(p + 2, (uint16_t)len);
	put16(p + 10, ip_csum(p, ihl * 4));
	return len;
}

static uint8_t *ipv6_addr(uint64_t *s, uint8_t *p)
{
	memset(p, 0, 16);
	if (chance(s, 30)) {
		p[15] = 1;	/* ::1 */
	} else {
		p[0] = 0xfe;
		p[1] = 0x80;
		fill(s, p + 8, 8);
	}
	return p + 16;
}

static uint32_t ipv6(uint64_t *s, uint8_t *p, uint32_t room)
{
	uint8_t proto = l4_protos[rnd(s, sizeof(l4_protos))];
	uint32_t ext = 0;

	if (proto == 1)
		proto = 58;
	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	ipv6_addr(s, p + 8);
	ipv6_addr(s, p + 24);
	if (chance(s, 10)) {	/* hop-by-hop options, 8 bytes of PadN */
		p[6] = 0;
		p[40] = proto;
		p[41] = 0;
		p[42] = 1;
		p[43] = 4;
		memset(p + 44, 0, 4);
		ext = 8;
	} else if (chance(s, 5)) {	/* a fragment header */
		p[6] = 44;
		p[40] = proto;
		p[41] = 0;
		put16(p + 42, (uint16_t)(chance(s, 50) ? 1 : (8 * (1 + rnd(s, 100))) | 1));
		put32(p + 44, (uint32_t)bpfvm_rand64(s));
		ext = 8;
	} else {
		p[6] = proto;
	}
	uint32_t len = ext + l4(s, proto, p + 40 + ext, room - 40 - ext);
	put16(p + 4, (uint16_t)len);
	return 40 + len;
}

static uint32_t arp(uint64_t *s, uint8_t *p, const uint8_t *src_mac)
{
	put16(p, 1);
	put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, (uint16_t)(1 + rnd(s, 2)));
	memcpy(p + 8, src_mac, 6);
	put32(p + 14, loopback4(s));
	memset(p + 18, 0, 6);
	put32(p + 24, loopback4(s));
	return 28;
}

uint32_t trace_gen_frame(uint64_t *s, const struct trace_gen_opts *o, uint8_t *buf,
			 uint32_t *caplen)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *p = buf, *type;
	uint32_t len, kind = rnd(s, 100);
	unsigned tags = chance(s, o->vlan_pct) ? 1 + chance(s, 25) : 0;

	/* Destination: mostly this host, then broadcast, multicast, others. */
	if (kind < 60)
		memcpy(p, o->host_mac, 6);
	else if (kind < 75)
		memcpy(p, bcast, 6);
	else if (kind < 85) {
		static const uint8_t mc4[3] = { 0x01, 0x00, 0x5e }, mc6[2] = { 0x33, 0x33 };

		if (chance(s, 50))
			memcpy(p, mc4, 3), fill(s, p + 3, 3), p[3] &= 0x7f;
		else
			memcpy(p, mc6, 2), fill(s, p + 2, 4);
	} else {
		fill(s, p, 6);
		p[0] = (uint8_t)((p[0] & 0xfc) | 0x02);	/* local, unicast: another host */
	}
	fill(s, p + 6, 6);
	p[6] = (uint8_t)((p[6] & 0xfc) | 0x02);
	p += 12;
	for (unsigned t = 0; t < tags; t++) {
		/* QinQ: 802.1ad outside, 802.1Q inside */
		p = put16(p, tags == 2 && t == 0 ? 0x88a8 : 0x8100);
		p = put16(p, (uint16_t)rnd(s, 65536));
	}
	type = p;
	p += 2;

	uint32_t room = 1500 - 4 * (tags > 1);
	uint32_t what = rnd(s, 100);

	if (what < 50)
		put16(type, 0x0800), p += ipv4(s, p, room);
	else if (what < 75)
		put16(type, 0x86dd), p += ipv6(s, p, room);
	else if (what < 90)
		put16(type, 0x0806), p += arp(s, p, buf + 6);
	else if (what < 95) {	/* 802.3 length + LLC (or raw 802.3's 0xffff) */
		uint32_t n = 3 + rnd(s, 100);

		fill(s, p, n);
		if (chance(s, 20))
			p[0] = p[1] = 0xff;
		put16(type, (uint16_t)n);
		p += n;
	} else {	/* an unassigned EtherType */
		uint32_t n = rnd(s, 80);

		put16(type, (uint16_t)(0x0600 + rnd(s, 0xf9ff)));
		fill(s, p, n);
		p += n;
	}
	len = (uint32_t)(p - buf);
	if (chance(s, o->runt_pct)) {
		uint32_t runt = rnd(s, 60);

		/* A runt may be longer than what was built (a bare ARP is 42
		 * bytes): the rest is zero padding, never stale memory. */
		if (runt > len)
			memset(buf + len, 0, runt - len);
		len = runt;
	}
	*caplen = len;
	if (len > 14 && chance(s, o->truncate_pct))
		*caplen = 14 + rnd(s, len - 14);
	return len;
}
