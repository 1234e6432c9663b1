/*
 * dropreasons.h - the drop reasons the model uses, under the kernel's names
 * (include/net/dropreason-core.h, enum skb_drop_reason without the
 * SKB_DROP_REASON_ prefix).  An X-macro list: SIM_DROP(name, what it means).
 */
SIM_DROP(NOT_SPECIFIED, "dropped without a specific reason")
SIM_DROP(PKT_TOO_SMALL, "shorter than the headers the stage needs")
SIM_DROP(PKT_TOO_BIG, "longer than the device accepts")
SIM_DROP(NETFILTER_DROP, "a netfilter rule dropped it")
SIM_DROP(OTHERHOST, "addressed to another host's MAC (seen in promiscuous mode)")
SIM_DROP(IP_INHDR, "a bad IP header")
SIM_DROP(IP_CSUM, "a bad IP header checksum")
SIM_DROP(IP_INNOROUTES, "no route for a packet to forward")
SIM_DROP(IP_NOPROTO, "no handler for the IP protocol")
SIM_DROP(IP_INADDRERRORS, "not for this host, and forwarding is off")
SIM_DROP(IP_OUTNOROUTES, "no route to the destination")
SIM_DROP(NO_SOCKET, "no socket listens on the destination port")
SIM_DROP(SOCKET_RCVBUFF, "the socket's receive buffer is full")
SIM_DROP(CPU_BACKLOG, "the CPU's backlog queue is full (netdev_max_backlog)")
SIM_DROP(QDISC_DROP, "the device's queue discipline is full (txqueuelen)")
SIM_DROP(TC_INGRESS, "a tc ingress filter dropped it")
SIM_DROP(TC_EGRESS, "a tc egress filter dropped it")
SIM_DROP(UNHANDLED_PROTO, "no protocol handler took it")
SIM_DROP(NEIGH_FAILED, "the neighbour's address could not be resolved")
SIM_DROP(NEIGH_QUEUEFULL, "too many packets wait for address resolution")
SIM_DROP(FULL_RING, "the packet socket's ring is full")
SIM_DROP(RX_MISSED, "the NIC's receive ring is full (rx_missed_errors; never an skb)")
