/* sim_int.h - helpers private to sim/; other modules never include it. */
#ifndef CAPSIM_SIM_INT_H
#define CAPSIM_SIM_INT_H

#include "sim.h"

/* skb_get_poff() (net/core/flow_dissector.c): the payload offset, counted
 * from skb->data, as far as the flow dissector gets; 0 when it fails. */
uint32_t sim_skb_get_poff(const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta);

#endif
