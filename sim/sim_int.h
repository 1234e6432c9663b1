/* sim_int.h - helpers private to sim/; other modules never include it. */
#ifndef CAPSIM_SIM_INT_H
#define CAPSIM_SIM_INT_H

#include "sim.h"

/* skb_get_poff() (net/core/flow_dissector.c): the payload offset, counted
 * from skb->data, as far as the flow dissector gets; 0 when it fails. */
uint32_t sim_skb_get_poff(const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta);

/* eth_type_trans(): pkt_type from the destination address against
 * @dev_mac, skb->protocol from the type field (@f is a whole frame of
 * @len >= 14 bytes). */
void sim_eth_type_trans(const uint8_t dev_mac[6], const uint8_t *f, uint32_t len,
			uint8_t *pkt_type, uint16_t *protocol);
/* eth_type_vlan(): 802.1Q or 802.1ad. */
int sim_eth_type_vlan(uint16_t proto);
/* vlan_set_encap_proto(): skb->protocol after untagging, from the 4-byte
 * tag at @vhdr with @avail bytes from there on (at least 6). */
uint16_t sim_vlan_encap_proto(const uint8_t *vhdr, uint32_t avail);

#endif
