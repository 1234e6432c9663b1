/*
 * rxview.c - the receive-side view at the ptype_all taps.
 *
 * A frame arriving on an Ethernet device passes, before any packet socket
 * sees it, through the driver's eth_type_trans() and the first lines of
 * __netif_receive_skb_core() (net/core/dev.c), which move an 802.1Q/802.1ad
 * tag out of the data into skb->vlan_tci with skb_vlan_untag().  This file
 * plays those steps in the kernel's order and fills the sk_buff fields a
 * classic BPF filter can read.
 *
 * The device is modelled as a veth peer, the device the live cross-check
 * uses: no runt padding, no FCS, no hardware VLAN stripping.
 */
#include "sim.h"
#include "sim_int.h"

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

static const char *const drop_names[SIM_DROP_REASON_COUNT][2] = {
	[SIM_DROP_NONE] = { "NOT_DROPPED_YET", "not dropped" },
#define SIM_DROP(name, what) [SIM_DROP_##name] = { #name, what },
#include "dropreasons.h"
#undef SIM_DROP
};

const char *sim_drop_reason_name(enum sim_drop_reason r)
{
	return (unsigned)r < SIM_DROP_REASON_COUNT ? drop_names[r][0] : "UNKNOWN";
}

const char *sim_drop_reason_text(enum sim_drop_reason r)
{
	return (unsigned)r < SIM_DROP_REASON_COUNT ? drop_names[r][1] : "unknown";
}

void sim_rx_dev_init(struct sim_rx_dev *dev)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(dev->mac, mac, sizeof(mac));
	dev->ifindex = 2;
	dev->type = ARPHRD_ETHER;
	dev->mtu = 1500;
	dev->want_poff = 1;
}

int sim_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int eth_type_vlan(uint16_t proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD;
}

/*
 * The protocol of a frame whose type field is a length (< 0x600): 802.3
 * "raw" (Novell) when the payload starts 0xffff, otherwise 802.2 LLC.
 * eth_type_trans() reads the two bytes with skb_header_pointer() and
 * chooses 802.2 when they are missing; vlan_set_encap_proto() always has
 * them, because skb_vlan_untag() pulled them first.
 */
static uint16_t llc_or_raw(const uint8_t *payload, uint32_t avail)
{
	if (avail >= 2 && payload[0] == 0xff && payload[1] == 0xff)
		return ETH_P_802_3;
	return ETH_P_802_2;
}

void sim_eth_type_trans(const uint8_t dev_mac[6], const uint8_t *f, uint32_t len,
			uint8_t *pkt_type, uint16_t *protocol)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint16_t proto = get16(f + 12);

	if (memcmp(f, dev_mac, 6) == 0)
		*pkt_type = PACKET_HOST;
	else if (f[0] & 1)
		*pkt_type = memcmp(f, bcast, 6) == 0 ? PACKET_BROADCAST : PACKET_MULTICAST;
	else
		*pkt_type = PACKET_OTHERHOST;
	*protocol = proto >= ETH_P_802_3_MIN ? proto : llc_or_raw(f + ETH_HLEN, len - ETH_HLEN);
}

int sim_eth_type_vlan(uint16_t proto)
{
	return eth_type_vlan(proto);
}

uint16_t sim_vlan_encap_proto(const uint8_t *vhdr, uint32_t avail)
{
	uint16_t encap = get16(vhdr + 2);

	return encap >= ETH_P_802_3_MIN ? encap : llc_or_raw(vhdr + 4, avail - 4);
}

int sim_rx_view(const struct sim_rx_dev *dev, const uint8_t *frame, uint32_t len,
		enum sim_sock_type type, uint8_t *buf, struct sim_rx_view *out)
{
	struct bpfvm_meta *m = &out->meta;
	uint32_t net_off = ETH_HLEN;

	memset(out, 0, sizeof(*out));
	out->pkt.bytes = frame;
	out->pkt.caplen = out->pkt.wirelen = len;
	m->ifindex = dev->ifindex;
	m->hatype = dev->type;

	/*
	 * No skb shorter than an Ethernet header reaches the stack: a NIC
	 * discards runts, and on veth packet_snd() refuses them already
	 * (dev_validate_header() against dev->min_header_len).
	 */
	if (len < ETH_HLEN) {
		out->drop = SIM_DROP_PKT_TOO_SMALL;
		out->drop_func = "dev_validate_header";
		return 0;
	}
	/*
	 * is_skb_forwardable() (__dev_forward_skb2, the veth receive) admits
	 * mtu + hard_header_len + VLAN_HLEN bytes, tagged or not.
	 */
	if (len > dev->mtu + ETH_HLEN + 4) {
		out->drop = SIM_DROP_PKT_TOO_BIG;
		out->drop_func = "is_skb_forwardable";
		return 0;
	}

	sim_eth_type_trans(dev->mac, frame, len, &m->pkt_type, &m->protocol);

	/*
	 * __netif_receive_skb_core(): a tagged frame is untagged before the
	 * taps.  skb_vlan_untag() pulls the 4-byte tag and the 2 bytes after it
	 * that vlan_set_encap_proto() reads (since kernel commit 55eff0eb7460;
	 * a shorter frame is freed here, unseen), records TCI and TPID, sets the protocol
	 * from the encapsulated type, and skb_reorder_vlan_header() slides the
	 * two MAC addresses forward over the tag.  Only the outer tag moves;
	 * an inner one (QinQ) stays in the data.
	 */
	if (eth_type_vlan(m->protocol)) {
		if (len < ETH_HLEN + 4 + 2) {
			out->drop = SIM_DROP_PKT_TOO_SMALL;
			out->drop_func = "skb_vlan_untag";
			return 0;
		}
		m->vlan_present = 1;
		m->vlan_tpid = m->protocol;
		m->vlan_tci = get16(frame + ETH_HLEN);
		m->protocol = sim_vlan_encap_proto(frame + ETH_HLEN, len - ETH_HLEN);
		memcpy(buf, frame, 2 * ETH_ALEN);
		memcpy(buf + 2 * ETH_ALEN, frame + ETH_HLEN + 2, len - ETH_HLEN - 2);
		len -= 4;
		out->pkt.bytes = buf;
		out->pkt.caplen = out->pkt.wirelen = len;
	}

	out->pkt.net_off = net_off;
	/* packet_rcv(): SOCK_RAW filters run from the MAC header (skb_push),
	 * SOCK_DGRAM filters from the network header. */
	out->pkt.data_off = type == SIM_SOCK_DGRAM ? net_off : 0;
	if (dev->want_poff)
		m->pay_offset = sim_skb_get_poff(&out->pkt, m);
	return 0;
}
