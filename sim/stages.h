/*
 * stages.h - every stage of the model, in path order: an X-macro table
 * SIM_STAGE(id, kernel function, visible) expanded where it is needed (the
 * stage enum, the names, the docs' overview diagram), so the stage list
 * exists once.
 *
 * visible: 1 when a packet dropped at this stage has already passed the
 * ptype_all taps (tcpdump saw it), 0 when not yet, -1 for stages that are
 * not drop points.
 */

/* Receive, from the wire up. */
SIM_STAGE(WIRE_RX, "wire", -1)
SIM_STAGE(NIC_DMA, "nic_dma", 0)				/* RX ring full: rx_missed_errors */
SIM_STAGE(HARD_IRQ, "napi_schedule", -1)
SIM_STAGE(NAPI_POLL, "napi_poll", -1)
SIM_STAGE(ETH_TYPE_TRANS, "eth_type_trans", 0)
SIM_STAGE(NETIF_RX, "enqueue_to_backlog", 0)			/* netdev_max_backlog: CPU_BACKLOG */
SIM_STAGE(PROCESS_BACKLOG, "process_backlog", -1)
SIM_STAGE(VLAN_UNTAG, "skb_vlan_untag", 0)
SIM_STAGE(TAPS_RX, "__netif_receive_skb_core", -1)		/* ptype_all: where tcpdump sees ingress */
SIM_STAGE(TC_INGRESS, "tcf_classify", 1)			/* TC_INGRESS */
SIM_STAGE(NF_INGRESS, "nf_hook_ingress", 1)			/* NETFILTER_DROP */
SIM_STAGE(PTYPE_BASE, "deliver_ptype_list_skb", 1)		/* UNHANDLED_PROTO */
SIM_STAGE(IP_RCV, "ip_rcv", 1)					/* OTHERHOST, IP_INHDR */
SIM_STAGE(NF_PREROUTING, "nf_hook_slow", 1)
SIM_STAGE(IP_ROUTE_INPUT, "ip_route_input_noref", 1)		/* IP_NOROUTE */
SIM_STAGE(NF_LOCAL_IN, "nf_hook_slow", 1)
SIM_STAGE(IP_FORWARD, "ip_forward", 1)
SIM_STAGE(NF_FORWARD, "nf_hook_slow", 1)
SIM_STAGE(UDP_RCV, "udp_rcv", 1)				/* NO_SOCKET, SOCKET_RCVBUFF */
SIM_STAGE(TCP_RCV, "tcp_v4_rcv", 1)
SIM_STAGE(ICMP_RCV, "icmp_rcv", 1)
SIM_STAGE(ARP_RCV, "arp_rcv", 1)
SIM_STAGE(SOCK_QUEUE, "sock_queue_rcv_skb", 1)
SIM_STAGE(SOCK_READ, "recvmsg", -1)
/* Transmit, from a socket down. */
SIM_STAGE(SOCK_SEND, "sendmsg", -1)
SIM_STAGE(IP_LOCAL_OUT, "__ip_local_out", 0)
SIM_STAGE(NF_LOCAL_OUT, "nf_hook_slow", 0)			/* NETFILTER_DROP, invisible */
SIM_STAGE(IP_ROUTE_OUTPUT, "ip_route_output_key", 0)
SIM_STAGE(NF_POST_ROUTING, "nf_hook_slow", 0)
SIM_STAGE(NEIGH_OUTPUT, "neigh_output", 0)			/* NEIGH_FAILED, NEIGH_QUEUEFULL */
SIM_STAGE(DEV_QUEUE_XMIT, "__dev_queue_xmit", -1)
SIM_STAGE(NF_EGRESS, "nf_hook_egress", 0)			/* NETFILTER_DROP, invisible */
SIM_STAGE(TC_EGRESS, "sch_handle_egress", 0)			/* TC_EGRESS, invisible */
SIM_STAGE(QDISC_ENQUEUE, "qdisc_enqueue", 0)			/* QDISC_DROP, invisible */
SIM_STAGE(TAPS_TX, "dev_queue_xmit_nit", -1)			/* where tcpdump sees egress */
SIM_STAGE(DRIVER_XMIT, "ndo_start_xmit", 1)
SIM_STAGE(WIRE_TX, "wire", -1)
/* Packet sockets. */
SIM_STAGE(PACKET_RCV, "packet_rcv", -1)				/* the filter ran: not delivered, not a drop */
SIM_STAGE(TPACKET_RCV, "tpacket_rcv", -1)			/* ring full: tp_drops */
SIM_STAGE(PCAP_READ, "pcap_read_linux_mmap_v3", -1)
