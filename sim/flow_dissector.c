/*
 * flow_dissector.c - skb_get_poff(), the value of SKF_AD_PAY_OFFSET.
 *
 * The kernel runs __skb_flow_dissect() (net/core/flow_dissector.c) with
 * the basic keys only, then __skb_get_poff() adds the size of a known
 * transport header.  Offsets count from skb->data, as the filter's own
 * loads do.  Modelled: outer VLAN from metadata and in-data VLAN tags,
 * IPv4 (fragments), IPv6 and its hop-by-hop, routing, destination-options
 * and fragment headers, IP-in-IP and IPv6-in-IP, ARP/RARP and MPLS (both
 * end the dissection "good" at their header with the basic keys).
 * Not modelled: GRE and L2TP (the dissector would follow them), PPPoE,
 * and the rarer link types; for those the model stops at their header.
 */
#include "sim_int.h"

#include <linux/if_ether.h>
#include <netinet/in.h>

#define MAX_HDRS 15	/* MAX_FLOW_DISSECT_HDRS */

enum fdret { OUT_GOOD, OUT_BAD, PROTO_AGAIN, IPPROTO_AGAIN };

struct dissect {
	const uint8_t *data;	/* skb->data */
	uint32_t len;		/* skb->len */
	uint32_t nhoff;
	uint16_t proto;
	uint8_t ip_proto;
	uint8_t is_fragment, first_frag;
};

/* __skb_header_pointer(): @n bytes at @off, or NULL. */
static const uint8_t *hdr(const struct dissect *d, uint32_t off, uint32_t n)
{
	if (off > d->len || n > d->len - off)
		return NULL;
	return d->data + off;
}

static enum fdret dissect_proto(struct dissect *d, int *vlan_seen, const struct bpfvm_meta *m)
{
	const uint8_t *p;

	switch (d->proto) {
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		/* The first VLAN "header" is the offloaded tag when present. */
		if (!*vlan_seen && m->vlan_present) {
			d->proto = m->protocol;
		} else {
			if (!(p = hdr(d, d->nhoff, 4)))
				return OUT_BAD;
			d->proto = (uint16_t)(p[2] << 8 | p[3]);
			d->nhoff += 4;
		}
		*vlan_seen = 1;
		return PROTO_AGAIN;
	case ETH_P_IP:
		if (!(p = hdr(d, d->nhoff, 20)) || (p[0] & 0x0f) < 5)
			return OUT_BAD;
		d->nhoff += (p[0] & 0x0f) * 4u;
		d->ip_proto = p[9];
		if ((p[6] & 0x3f) | p[7]) {	/* ip_is_fragment(): MF or offset */
			d->is_fragment = 1;
			if ((p[6] & 0x1f) | p[7])
				return OUT_GOOD;	/* not the first: no L4 */
			d->first_frag = 1;
			return OUT_GOOD;	/* no FLOW_DISSECTOR_F_PARSE_1ST_FRAG */
		}
		return IPPROTO_AGAIN;
	case ETH_P_IPV6:
		if (!(p = hdr(d, d->nhoff, 40)))
			return OUT_BAD;
		d->ip_proto = p[6];
		d->nhoff += 40;
		return IPPROTO_AGAIN;
	case ETH_P_ARP:
	case ETH_P_RARP:
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC:
		return OUT_GOOD;
	default:
		return OUT_BAD;
	}
}

static enum fdret dissect_ipproto(struct dissect *d)
{
	const uint8_t *p;

	switch (d->ip_proto) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
		if (d->proto != ETH_P_IPV6)
			return OUT_GOOD;
		if (!(p = hdr(d, d->nhoff, 2)))
			return OUT_BAD;
		d->ip_proto = p[0];
		d->nhoff += (p[1] + 1u) << 3;
		return IPPROTO_AGAIN;
	case IPPROTO_FRAGMENT:
		if (d->proto != ETH_P_IPV6)
			return OUT_GOOD;
		if (!(p = hdr(d, d->nhoff, 8)))
			return OUT_BAD;
		d->is_fragment = 1;
		d->nhoff += 8;
		d->ip_proto = p[0];
		if (((p[2] << 8 | p[3]) & 0xfff8) == 0)
			d->first_frag = 1;
		return OUT_GOOD;
	case IPPROTO_IPIP:
		d->proto = ETH_P_IP;
		return PROTO_AGAIN;
	case IPPROTO_IPV6:
		d->proto = ETH_P_IPV6;
		return PROTO_AGAIN;
	default:
		return OUT_GOOD;
	}
}

/* __skb_flow_dissect() with the basic keys; 0 on success with d->nhoff the
 * transport offset, -1 when the kernel's dissection fails. */
static int dissect(struct dissect *d, const struct bpfvm_meta *m)
{
	int vlan_seen = 0, hdrs = 0;
	enum fdret r;

	d->proto = m->vlan_present ? m->vlan_tpid : m->protocol;
proto_again:
	r = dissect_proto(d, &vlan_seen, m);
	while (r == PROTO_AGAIN || r == IPPROTO_AGAIN) {
		if (++hdrs >= MAX_HDRS)	/* skb_flow_dissect_allowed() */
			return 0;
		if (r == PROTO_AGAIN)
			goto proto_again;
		r = dissect_ipproto(d);
	}
	return r == OUT_BAD ? -1 : 0;
}

uint32_t sim_skb_get_poff(const struct bpfvm_packet *pkt, const struct bpfvm_meta *m)
{
	struct dissect d = {
		.data = pkt->bytes + pkt->data_off,
		.len = pkt->caplen - pkt->data_off,
		.nhoff = pkt->net_off - pkt->data_off,
	};
	uint32_t poff;
	const uint8_t *p;

	if (dissect(&d, m) != 0)
		return 0;
	/* key_control->thoff = min(nhoff, skb->len), a u16 */
	poff = d.nhoff < d.len ? d.nhoff : d.len;
	poff &= 0xffff;
	if (d.is_fragment && !d.first_frag)
		return poff;
	switch (d.ip_proto) {
	case IPPROTO_TCP:
		if (!(p = hdr(&d, poff + 12, 1)))
			return poff;
		return poff + ((p[0] >> 4) * 4u > 20 ? (p[0] >> 4) * 4u : 20);
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
	case IPPROTO_IGMP:
		return poff + 8;
	case IPPROTO_DCCP:
		return poff + 16;
	case IPPROTO_SCTP:
		return poff + 12;
	default:
		return poff;
	}
}
