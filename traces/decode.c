/*
 * decode.c - one-line descriptions of frames, in tcpdump's manner but far
 * shorter: enough for a student to tell packets apart in a listing.  Every
 * read is bounded by the captured length; where the bytes run out the
 * description ends with "[|proto]" as tcpdump's does.
 */
#include "trace.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void l4(struct out *o, uint8_t proto, const uint8_t *p, uint32_t n, const char *src,
	       const char *dst, int later_fragment)
{
	static const char flagch[] = "FSRPAUEW";

	if (later_fragment) {
		put(o, "%s > %s: fragment", src, dst);
		return;
	}
	switch (proto) {
	case 6:
	case 17:
		if (n < 4) {
			put(o, "%s > %s: [|%s]", src, dst, proto == 6 ? "tcp" : "udp");
			return;
		}
		put(o, "%s.%u > %s.%u: %s", src, g16(p), dst, g16(p + 2), proto == 6 ? "TCP" : "UDP");
		if (proto == 6 && n >= 14) {
			put(o, " [");
			for (int i = 0; i < 8; i++)
				if (p[13] & (1 << i))
					put(o, "%c", flagch[i]);
			put(o, "]");
		}
		return;
	case 1:
	case 58:
		put(o, "%s > %s: ICMP%s", src, dst, proto == 58 ? "6" : "");
		if (n >= 1)
			put(o, " type %u", p[0]);
		return;
	default:
		put(o, "%s > %s: proto %u", src, dst, proto);
	}
}

static void ipv4(struct out *o, const uint8_t *p, uint32_t n)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	uint32_t ihl;

	if (n < 20) {
		put(o, "IP [|ip]");
		return;
	}
	ihl = (p[0] & 0xf) * 4u;
	inet_ntop(AF_INET, p + 12, s, sizeof(s));
	inet_ntop(AF_INET, p + 16, d, sizeof(d));
	put(o, "IP ");
	if (ihl < 20 || ihl > n) {
		put(o, "%s > %s: [|ip]", s, d);
		return;
	}
	l4(o, p[9], p + ihl, n - ihl, s, d, (g16(p + 6) & 0x1fff) != 0);
}

static void ipv6(struct out *o, const uint8_t *p, uint32_t n)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint32_t off = 40;
	uint8_t nh;

	if (n < 40) {
		put(o, "IP6 [|ip6]");
		return;
	}
	inet_ntop(AF_INET6, p + 8, s, sizeof(s));
	inet_ntop(AF_INET6, p + 24, d, sizeof(d));
	nh = p[6];
	/* hop-by-hop, routing, destination options, fragment */
	while ((nh == 0 || nh == 43 || nh == 60 || nh == 44) && off + 8 <= n) {
		int frag = nh == 44, later = frag && (g16(p + off + 2) & 0xfff8);

		nh = p[off];
		off += frag ? 8 : (p[off + 1] + 1u) * 8;
		if (later) {
			put(o, "IP6 ");
			l4(o, nh, NULL, 0, s, d, 1);
			return;
		}
	}
	put(o, "IP6 ");
	if (off > n) {
		put(o, "%s > %s: [|ip6]", s, d);
		return;
	}
	l4(o, nh, p + off, n - off, s, d, 0);
}

static void arp(struct out *o, const uint8_t *p, uint32_t n)
{
	char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];

	if (n < 28 || g16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4) {
		put(o, "ARP [|arp]");
		return;
	}
	inet_ntop(AF_INET, p + 14, s, sizeof(s));
	inet_ntop(AF_INET, p + 24, t, sizeof(t));
	if (g16(p + 6) == 1)
		put(o, "ARP, Request who-has %s tell %s", t, s);
	else if (g16(p + 6) == 2)
		put(o, "ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x", s, p[8], p[9], p[10], p[11],
		    p[12], p[13]);
	else
		put(o, "ARP, op %u", g16(p + 6));
}

/* What follows a link-layer header whose type field said @type: @n bytes
 * at @p, VLAN tags first. */
static void payload(struct out *o, uint16_t type, const uint8_t *p, uint32_t n)
{
	while (type == 0x8100 || type == 0x88a8) {
		if (n < 4) {
			put(o, "802.1%s [|vlan]", type == 0x8100 ? "Q" : "ad");
			return;
		}
		put(o, "vlan %u, ", g16(p) & 0xfff);
		type = g16(p + 2);
		p += 4;
		n -= 4;
	}
	switch (type) {
	case 0x0800:
		ipv4(o, p, n);
		break;
	case 0x86dd:
		ipv6(o, p, n);
		break;
	case 0x0806:
		arp(o, p, n);
		break;
	default:
		if (type < 0x0600)
			put(o, "802.3, length %u", type);
		else
			put(o, "ethertype 0x%04x, length %u", type, n);
	}
}

/* The link-layer header: where its type field is and how long it is. */
static void link_header(struct out *o, const char *name, const uint8_t *p, uint32_t n,
			uint32_t type_off, uint32_t hdr_len)
{
	if (n < hdr_len) {
		put(o, "[|%s]", name);
		return;
	}
	payload(o, g16(p + type_off), p + hdr_len, n - hdr_len);
}

char *trace_describe(const uint8_t *bytes, uint32_t caplen, int linktype, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	buf[0] = '\0';
	switch (linktype) {
	case DLT_EN10MB:
		link_header(&o, "ether", bytes, caplen, 12, 14);
		break;
	case DLT_LINUX_SLL:	/* packet type, ARPHRD, address length and 8 bytes, protocol */
		link_header(&o, "sll", bytes, caplen, 14, 16);
		break;
	case DLT_LINUX_SLL2:	/* protocol first, then ifindex, ARPHRD, type, address */
		link_header(&o, "sll2", bytes, caplen, 0, 20);
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen >= 1 && (bytes[0] >> 4) == 6)
			ipv6(&o, bytes, caplen);
		else
			ipv4(&o, bytes, caplen);
		break;
	default:
		put(&o, "%s, %u bytes", pcap_datalink_val_to_name(linktype) ?
		    pcap_datalink_val_to_name(linktype) : "unknown link type", caplen);
	}
	return buf;
}
