/*
 * libpcap.c - what libpcap does in user space with what the kernel's
 * packet socket delivered, before tcpdump sees it.
 */
#include "sim.h"

#include <string.h>

#define VLAN_TAG_LEN 4
#define VLAN_OFFSET 12	/* handlep->vlan_offset on DLT_EN10MB: after the MACs */

/*
 * pcap_handle_packet_mmap() re-inserts the tag when the frame header says
 * it had one (TP_STATUS_VLAN_VALID or a non-zero tp_vlan_tci) and
 * tp_snaplen reaches the tag's place; both lengths grow by 4.  Only then
 * is caplen trimmed to the handle's snapshot: without a filter the kernel
 * would not cut the packet.
 */
void sim_libpcap_deliver(const struct sim_rx_view *v, uint32_t snap, uint32_t snapshot,
			 uint8_t *out, uint32_t *caplen, uint32_t *len)
{
	uint32_t skb_len = v->pkt.caplen - v->pkt.data_off;
	const uint8_t *data = v->pkt.bytes + v->pkt.data_off;

	if (snap > skb_len)
		snap = skb_len;
	*caplen = snap;
	*len = skb_len;
	if ((v->meta.vlan_present || v->meta.vlan_tci) && v->pkt.data_off == 0 && snap >= VLAN_OFFSET) {
		memcpy(out, data, VLAN_OFFSET);
		out[VLAN_OFFSET] = (uint8_t)(v->meta.vlan_tpid >> 8);
		out[VLAN_OFFSET + 1] = (uint8_t)v->meta.vlan_tpid;
		out[VLAN_OFFSET + 2] = (uint8_t)(v->meta.vlan_tci >> 8);
		out[VLAN_OFFSET + 3] = (uint8_t)v->meta.vlan_tci;
		memcpy(out + VLAN_OFFSET + VLAN_TAG_LEN, data + VLAN_OFFSET, snap - VLAN_OFFSET);
		*caplen += VLAN_TAG_LEN;
		*len += VLAN_TAG_LEN;
	} else {
		memcpy(out, data, snap);
	}
	if (*caplen > snapshot)
		*caplen = snapshot;
}
