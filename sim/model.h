/*
 * model.h - the simulated world: hosts with their model kernels, devices,
 * queues, sockets and taps, and the event clock that drives them.  Private
 * to sim/ (other modules use sim.h).
 *
 * Data flows one way: a parsed scenario (scenario.h) is built into this
 * world (build.c); the engine (engine.c) runs it; every stage reports what
 * happens to a packet through the observer (sim_obs_*) and keeps counters
 * under the kernel's names; printers read both afterwards.  The model never
 * prints.
 *
 * Time is in nanoseconds.  Each host has one or two CPUs; a CPU is a server
 * that runs one softirq step at a time, and each stage a packet passes
 * costs it the stage's configured time, so overload shows up where the
 * kernel shows it: NIC rings fill (rx_missed_errors), the backlog overflows
 * (softnet dropped), NAPI runs out of budget (time_squeeze), packet-socket
 * rings fill (tp_drops).
 *
 * Stage functions carry the name of the kernel function they play, with a
 * "sim_" prefix, and take their steps in the kernel's order.
 */
#ifndef CAPSIM_SIM_MODEL_H
#define CAPSIM_SIM_MODEL_H

#include <stdint.h>
#include "bpfvm.h"
#include "engine.h"
#include "sim.h"

struct sim_world;
struct sim_host;
struct sim_dev;
struct sim_cpu;
struct sim_tap;
struct sim_sock;

/* ------------------------------------------------------------------ */
/* Packets. */

/*
 * struct sk_buff, as far as the model needs it.  Each skb owns its buffer
 * (@head, @cap bytes); @data is an offset into it so headers can be
 * pushed and pulled as the kernel does.  Clones made for taps are full
 * copies (the model has no shared data), carrying the same @id.
 */
struct sim_skb {
	struct sim_skb *next;	/* queue link (rings, backlog, qdisc, socket) */
	uint64_t id;		/* the packet: the same for every clone of it */
	uint32_t clone;		/* 0: the original; n: the n-th clone */
	uint8_t *head;
	uint32_t cap;		/* bytes at @head */
	uint32_t data;		/* skb->data - skb->head */
	uint32_t len;		/* skb->len: bytes from @data */
	int32_t mac, net, transport;	/* header offsets from @head, -1 unset */
	uint16_t protocol;	/* host byte order */
	uint8_t pkt_type;	/* PACKET_HOST ... PACKET_OUTGOING */
	uint8_t vlan_present;
	uint16_t vlan_tci, vlan_tpid;
	uint32_t mark;
	uint32_t queue;
	struct sim_dev *dev;	/* skb->dev */
	struct sim_sock *sk;	/* the sending socket, if any (a tap skips its own) */
	struct sim_tap *from_tap;	/* injected by this packet socket */
	sim_ns tstamp;		/* when it entered the host (DMA or send) */
	uint32_t truesize;	/* what it charges a receive buffer */
	/* --- added by af_packet.c's author: packet_rcv() keeps the length
	 * before pskb_trim() in PACKET_SKB_CB(skb)->sa.origlen --- */
	uint32_t origlen;
};

static inline uint8_t *sim_skb_data(const struct sim_skb *skb)
{
	return skb->head + skb->data;
}

/* skb.c: a pool, so the steady state allocates nothing. */
struct sim_skb *sim_skb_alloc(struct sim_world *w, uint32_t len);
struct sim_skb *sim_skb_clone(struct sim_world *w, const struct sim_skb *skb);
void sim_skb_free(struct sim_world *w, struct sim_skb *skb);
void sim_skb_pool_free(struct sim_world *w);
/* skb_push / skb_pull: move skb->data by @n bytes (no bounds beyond the headroom). */
static inline void sim_skb_push(struct sim_skb *skb, uint32_t n)
{
	skb->data -= n;
	skb->len += n;
}

static inline void sim_skb_pull(struct sim_skb *skb, uint32_t n)
{
	skb->data += n;
	skb->len -= n;
}

/* A FIFO of skbs with a limit (0: none). */
struct sim_queue {
	struct sim_skb *head, *tail;
	uint32_t len, limit;
	uint64_t bytes;
};
void sim_queue_push(struct sim_queue *q, struct sim_skb *skb);
struct sim_skb *sim_queue_pop(struct sim_queue *q);

/* ------------------------------------------------------------------ */
/* Where packets go: the observer.  Every stage reports each packet that
 * passes it; a drop ends the packet's path with a reason.  The observer is
 * how the trace printer, the expect checker and the dot printer learn what
 * happened, without the model keeping any per-packet history. */

enum sim_stage {
#define SIM_STAGE(id, func, visible) SIM_ST_##id,
#include "stages.h"
#undef SIM_STAGE
	SIM_STAGE_COUNT
};

/* The table stages.h generates: the kernel function each stage plays and
 * whether a drop there happens where the taps (tcpdump) can see the
 * packet: 1 after dev_queue_xmit_nit / __netif_receive_skb_core's taps,
 * 0 before, -1 for stages that are not on a packet path. */
struct sim_stage_info {
	const char *func;
	int visible;
};
extern const struct sim_stage_info sim_stages[SIM_STAGE_COUNT];

struct sim_event_rec {
	sim_ns t;
	uint64_t skb_id;
	uint32_t clone;
	const struct sim_host *host;
	int cpu;			/* -1: not on a CPU (wire, NIC) */
	const struct sim_dev *dev;
	enum sim_stage stage;
	enum sim_drop_reason drop;	/* SIM_DROP_NONE unless the packet ends here */
	const struct sim_skb *skb;	/* valid only during the callback */
	const struct sim_tap *tap;	/* for SIM_ST_TAP_* */
	/* --- added by af_packet.c's author: packet sockets and tcpdump.
	 * SIM_ST_PACKET_RCV / SIM_ST_TPACKET_RCV: @tap, what became of the
	 * packet there (@tap_result) and, when it was queued, the bytes the
	 * kernel copied.  SIM_ST_PCAP_READ: what tcpdump was handed (the pcap
	 * record: @cap_bytes, @caplen, @wirelen, @cap_ts, @linktype) when
	 * @tap_result is SIM_TAP_READ, or SIM_TAP_FILTERED when libpcap's
	 * linux_check_direction() kept it from tcpdump; @skb is NULL then,
	 * @skb_id/@clone name the packet the frame came from. --- */
	uint8_t tap_result;		/* enum sim_tap_result */
	uint8_t pkt_type;		/* sll_pkttype: PACKET_HOST ... PACKET_OUTGOING */
	const uint8_t *cap_bytes;	/* valid only during the callback */
	uint32_t caplen, wirelen;
	sim_ns cap_ts;			/* the frame's time stamp (tp_sec, tp_nsec) */
	int linktype;			/* DLT_EN10MB, DLT_LINUX_SLL2 (PCAP_READ) */
};

struct sim_observer {
	void (*event)(void *ctx, const struct sim_event_rec *ev);
	void *ctx;
	struct sim_observer *next;
};

/* The stage's enum name without the prefix ("TAPS_RX"). */
const char *sim_stage_id_name(enum sim_stage st);


/* ------------------------------------------------------------------ */
/* Hosts, CPUs, devices. */

/* Per-stage CPU costs (scenario `cost STAGE D`). */
struct sim_costs {
	sim_ns irq;	/* hard IRQ handler and napi_schedule */
	sim_ns rx;	/* per packet: driver poll, eth_type_trans, __netif_receive_skb_core */
	sim_ns tap;	/* per packet socket: filter and copy */
	sim_ns ip;	/* ip_rcv to the socket, or to the forward path */
	sim_ns tx;	/* per packet: socket to the driver */
};

/* net.core sysctls the receive path reads. */
struct sim_sysctl {
	uint32_t netdev_budget;		/* 300 (kdefaults.h) */
	uint32_t netdev_budget_usecs;	/* 8000 at HZ=250 */
	uint32_t netdev_max_backlog;	/* 1000 */
	uint32_t dev_weight;		/* 64: the backlog's NAPI weight */
};

/* struct napi_struct: a device's RX ring, or a CPU's backlog. */
struct sim_napi {
	struct sim_napi *next;		/* on the CPU's poll list */
	struct sim_dev *dev;		/* NULL: the CPU's backlog (process_backlog) */
	struct sim_cpu *cpu;
	uint32_t weight;		/* NAPI_POLL_WEIGHT 64 */
	uint32_t work;			/* packets done in the current poll */
	uint8_t scheduled;		/* NAPI_STATE_SCHED */
};

struct sim_napi_list {
	struct sim_napi *head, *tail;
};

/* struct softnet_data, one per CPU. */
struct sim_cpu {
	struct sim_host *host;
	int id;
	struct sim_napi_list poll;	/* sd->poll_list */
	struct sim_napi_list run;	/* the running net_rx_action()'s own list */
	struct sim_napi_list repoll;	/* ...and the NAPIs it polls again next run */
	struct sim_queue backlog;	/* input_pkt_queue, limit netdev_max_backlog */
	struct sim_napi backlog_napi;
	uint8_t softirq_pending;	/* NET_RX_SOFTIRQ raised */
	uint8_t in_run;			/* inside net_rx_action */
	int budget;			/* what is left of netdev_budget in this run */
	sim_ns time_limit;		/* this run's end (netdev_budget_usecs) */
	sim_ns busy_until;		/* the CPU is busy until then */
	/* /proc/net/softnet_stat */
	uint64_t processed, dropped, time_squeeze;
};

struct sim_addr {
	int family;			/* AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/* What `ethtool -S` / ip -s link show for a device. */
struct sim_dev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_missed_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped;
};

enum sim_dev_kind { SIM_DEV_ETHER, SIM_DEV_LOOPBACK, SIM_DEV_VLAN };

struct sim_rule;
struct sim_wire;

struct sim_dev {
	struct sim_host *host;
	char name[16];
	uint32_t ifindex;
	enum sim_dev_kind kind;
	uint16_t type;			/* dev->type: ARPHRD_ETHER, ARPHRD_LOOPBACK */
	uint8_t mac[6];
	uint32_t mtu;
	uint8_t promisc, vlan_offload;
	struct sim_addr addrs[8];
	unsigned naddrs;
	struct sim_dev *vlan_parent;	/* SIM_DEV_VLAN: the real device */
	uint16_t vlan_id;
	/* Receive: the NIC's descriptor ring and its interrupt. */
	struct sim_queue rx_ring;	/* limit: ring size; full -> rx_missed_errors */
	struct sim_napi napi;
	uint8_t irq_enabled;		/* off from the IRQ until napi_complete */
	sim_ns coalesce;		/* rx-usecs: at most one IRQ per this interval */
	uint32_t coalesce_frames;	/* rx-frames: an IRQ as soon as this many wait */
	sim_ns last_irq;
	uint8_t irq_scheduled;
	/* Transmit. */
	struct sim_queue qdisc;		/* pfifo_fast, limit txqueuelen */
	struct sim_queue tx_ring;	/* the driver's TX descriptors */
	uint8_t tx_stopped;		/* netif_stop_queue */
	sim_ns tx_busy_until;		/* the line is busy sending until then */
	struct sim_wire *wire;
	/* Hooks on this device (rules in scenario order). */
	struct sim_rule *tc_ingress, *nf_ingress, *tc_egress, *nf_egress;
	/* Packet sockets bound to this device with ETH_P_ALL (dev->ptype_all). */
	struct sim_tap *ptype_all;
	struct sim_dev_stats stats;
	/* --- added by xmit.c's author --- */
	uint64_t qdisc_drops;		/* tc -s qdisc: dropped */
	uint64_t tx_stops;		/* times the driver stopped the queue (ring full) */
};

struct sim_wire {
	struct sim_dev *end[2];
	sim_ns delay;
	uint64_t bps;			/* 0: infinitely fast */
};

struct sim_route {
	int family;
	uint8_t dst[16];
	uint8_t prefix;
	uint8_t via[16];
	uint8_t has_via;
	struct sim_dev *dev;
};

struct sim_neigh {
	int family;
	uint8_t addr[16];
	uint8_t mac[6];
	struct sim_dev *dev;
	uint8_t resolved;
	struct sim_queue pending;	/* arp_queue: packets waiting for resolution */
	/* --- added by ip.c's author: the resolution state machine --- */
	uint8_t permanent;		/* configured (NUD_PERMANENT): never changed by ARP */
	uint8_t probes;			/* neigh->probes */
	uint8_t probe_src[4];		/* the source address the probes use */
	sim_ns next_probe;		/* NUD_INCOMPLETE: the timer's next run; 0: idle */
	uint32_t pending_truesize;	/* arp_queue_len_bytes */
};

/* The per-host netfilter hooks, under the kernel's names (enum
 * nf_inet_hooks); the netdev and tc hooks are per device (struct sim_dev). */
enum sim_nf_inet_hooks {
	SIM_NF_INET_PRE_ROUTING, SIM_NF_INET_LOCAL_IN, SIM_NF_INET_FORWARD,
	SIM_NF_INET_LOCAL_OUT, SIM_NF_INET_POST_ROUTING, SIM_NF_INET_NUMHOOKS
};

struct sim_rule {
	struct sim_rule *next;
	char name[32];
	/* Matches (a zero/unset field matches anything). */
	uint8_t proto;			/* IPPROTO_*, or 0 */
	uint16_t ethertype;		/* ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, or 0 */
	struct sim_addr saddr, daddr;	/* prefix 0: any */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;	/* hi 0: any */
	struct sim_dev *iif, *oif;
	int vlan;			/* -1: any */
	uint32_t len_lo, len_hi;
	uint8_t drop;			/* the verdict: drop, else accept */
	uint64_t packets, bytes;	/* its counter */
};

struct sim_host {
	struct sim_world *w;
	char name[32];
	struct sim_cpu cpu[2];
	unsigned ncpus;
	struct sim_dev *devs[32];	/* devs[0] is lo */
	unsigned ndevs;
	struct sim_route routes[64];
	unsigned nroutes;
	struct sim_neigh neigh[64];
	unsigned nneigh;
	uint8_t forwarding;
	struct sim_sysctl sysctl;
	struct sim_costs costs;
	struct sim_rule *hook[SIM_NF_INET_NUMHOOKS];
	struct sim_tap *ptype_all;	/* ETH_P_ALL taps on no device (ptype_all list) */
	struct sim_tap *ptype_specific;	/* taps bound to one protocol: the namespace's
					 * ptype_specific list and, told apart by
					 * tap->bound, the devices' */
	struct sim_tap *taps;		/* every packet socket, for reports */
	struct sim_sock *socks;
	uint64_t drops[SIM_DROP_REASON_COUNT];	/* kfree_skb_reason() by reason */
	uint64_t ip_id;
	/* --- added by ip.c's author: ICMP error rate limits and the
	 * neighbour timer --- */
	struct sim_icmp_peer {
		uint8_t addr[4];
		sim_ns last, tokens;	/* inet_peer rate_last, rate_tokens */
	} icmp_peers[16];
	unsigned nicmp_peers, icmp_peer_next;
	struct sim_traffic *neigh_timer;	/* sock.c's event object for sim_neigh_timer() */
};

/* ------------------------------------------------------------------ */
/* Packet sockets (af_packet.c) and ordinary sockets (sock.c). */

struct sim_tap_state;		/* af_packet.c: receive queue or TPACKET_V3 ring, reader */
struct sim_pcap;		/* pcap_reader.c: libpcap's pcap_t and tcpdump's counters */

/* A packet socket: socket(AF_PACKET, type, proto) bound to a device or to
 * all, optionally with tcpdump (libpcap) reading it. */
struct sim_tap {
	struct sim_tap *next_list;	/* on the ptype_all or ptype_specific list it is on */
	struct sim_tap *next_host;	/* on host->taps, in scenario order */
	struct sim_host *host;
	char name[32];
	int sock_type;			/* SOCK_RAW, SOCK_DGRAM */
	uint16_t proto;			/* 0: ETH_P_ALL; else one ethertype (ptype_specific) */
	struct sim_dev *bound;		/* NULL: every device */
	struct bpfvm *filter;		/* NULL: no filter */
	struct bpfvm_prog prog;
	uint8_t ignore_outgoing;	/* PACKET_IGNORE_OUTGOING */
	struct sim_tap_state *st;
	/* --- added by af_packet.c's author --- */
	struct sim_pcap *pcap;		/* pcap_reader.c: libpcap + tcpdump reading it, or NULL */
};

struct sim_sock_state;

/* A UDP, TCP or ICMP socket an application reads at some rate. */
struct sim_sock {
	struct sim_sock *next;
	struct sim_host *host;
	char name[32];
	uint8_t proto;			/* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP */
	struct sim_addr addr;
	uint16_t port;
	uint32_t rcvbuf;		/* sk_rcvbuf */
	uint32_t rmem;			/* sk_rmem_alloc */
	struct sim_queue rcvq;
	sim_ns read_interval;		/* 0: reads at once */
	uint64_t received, read;
	/* --- added by sock.c's author --- */
	uint64_t drops;			/* refused: SOCKET_RCVBUFF */
	sim_ns last_read;
	uint8_t read_pending;		/* a SIM_EV_SOCK_READ is scheduled */
};

/* ------------------------------------------------------------------ */
/* The world and its events. */

enum sim_ev_kind {
	SIM_EV_TRAFFIC,		/* a = struct sim_traffic: emit the next packet(s) */
	SIM_EV_WIRE_ARRIVE,	/* a = dev, b = skb: the frame's last bit arrived */
	SIM_EV_HARD_IRQ,	/* a = dev */
	SIM_EV_SOFTIRQ,		/* a = cpu: one step of net_rx_action */
	SIM_EV_TX_DONE,		/* a = dev: the line is free again */
	SIM_EV_TAP_TIMER,	/* a = tap: the ring's block retire timer */
	SIM_EV_TAP_READ,	/* a = tap: the reader takes the next packet */
	SIM_EV_SOCK_READ,	/* a = sock */
};

struct sim_traffic;

struct sim_world {
	struct sim_clock clock;
	uint64_t rng;
	struct sim_host *hosts[16];
	unsigned nhosts;
	struct sim_wire wires[32];
	unsigned nwires;
	struct sim_traffic *traffic;
	struct sim_observer *obs;
	struct sim_skb *skb_pool;	/* freed skbs, reused */
	uint64_t next_skb_id;
	uint64_t skbs_live, skbs_peak;
	sim_ns duration;		/* 0: run until no event is left */
};

/*
 * Where a stage runs: the host, the CPU (NULL outside a CPU: the wire, the
 * NIC), and the time on that CPU's clock as the stage runs.  A stage adds
 * its cost to @t; events it causes are scheduled at @t.
 */
struct sim_ctx {
	struct sim_world *w;
	struct sim_host *host;
	struct sim_cpu *cpu;
	sim_ns t;
};

/* world.c: a world with no hosts yet; its observers, in the order added;
 * hosts (with lo, ifindex 1) and devices (ifindex in creation order) with
 * the kernel's defaults; the event loop; freeing everything. */
struct sim_world *sim_world_new(uint64_t seed);
void sim_world_add_observer(struct sim_world *w, struct sim_observer *o);
struct sim_host *sim_host_new(struct sim_world *w, const char *name, unsigned ncpus);
struct sim_dev *sim_dev_new(struct sim_host *h, const char *name, enum sim_dev_kind kind);
struct sim_dev *sim_host_dev(const struct sim_host *h, const char *name);
/* Dispatch events until @until (0: until none is left). */
int sim_world_run(struct sim_world *w, sim_ns until);
void sim_world_free(struct sim_world *w);

/* Report a packet at a stage (drop: the reason it ends there, or
 * SIM_DROP_NONE); for a drop the skb is then freed by the caller. */
void sim_trace(struct sim_ctx *c, enum sim_stage st, const struct sim_skb *skb,
	       const struct sim_dev *dev, enum sim_drop_reason drop);
/* kfree_skb_reason(): count the drop on the host, report it, free. */
void sim_kfree_skb_reason(struct sim_ctx *c, enum sim_stage st, struct sim_skb *skb,
			  enum sim_drop_reason reason);
/* consume_skb(): a packet that ended well (delivered), freed. */
void sim_consume_skb(struct sim_ctx *c, struct sim_skb *skb);
int sim_schedule(struct sim_world *w, sim_ns t, enum sim_ev_kind kind, void *a, void *b);

/* ------------------------------------------------------------------ */
/* The stages, by file.  Each takes the skb's ownership. */

/* rx.c: the receive path up to the protocol handlers. */
void sim_nic_rx(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb);	/* DMA into the RX ring */
/* enqueue_to_backlog (veth, lo): 0 queued (NET_RX_SUCCESS), -1 dropped. */
int sim_netif_rx(struct sim_ctx *c, struct sim_skb *skb);
void sim_ev_hard_irq(struct sim_world *w, struct sim_dev *dev);
void sim_ev_softirq(struct sim_world *w, struct sim_cpu *cpu);
void sim_netif_receive_skb_core(struct sim_ctx *c, struct sim_skb *skb);

/* af_packet.c: packet sockets and their readers. */
/* Both ptype_all lists (the host's, then @dev's), as __netif_receive_skb_core
 * and dev_queue_xmit_nit walk them. */
void sim_deliver_ptype_all(struct sim_ctx *c, struct sim_dev *dev, const struct sim_skb *skb);
void sim_ev_tap_timer(struct sim_world *w, struct sim_tap *tap);
void sim_ev_tap_read(struct sim_world *w, struct sim_tap *tap);
/* Release a tap and everything it holds (queued skbs, ring, filter). */
void sim_tap_free(struct sim_world *w, struct sim_tap *tap);

/* ip.c: IPv4/IPv6/ARP receive and local delivery, routing, forwarding. */
void sim_ip_rcv(struct sim_ctx *c, struct sim_skb *skb);
void sim_ipv6_rcv(struct sim_ctx *c, struct sim_skb *skb);
void sim_arp_rcv(struct sim_ctx *c, struct sim_skb *skb);
/* The send side: a socket's packet to ip_local_out. */
void sim_ip_local_out(struct sim_ctx *c, struct sim_skb *skb);

/* netfilter.c: run a hook's rules; 1 accept, 0 drop (counted there). */
int sim_nf_hook(struct sim_ctx *c, struct sim_rule *rules, enum sim_stage st,
		struct sim_skb *skb, const struct sim_dev *in, const struct sim_dev *out);

/* sock.c: ordinary sockets and the traffic that scenarios send. */
void sim_ev_sock_read(struct sim_world *w, struct sim_sock *sk);
void sim_ev_traffic(struct sim_world *w, struct sim_traffic *t);
void sim_traffic_free(struct sim_world *w);

/* xmit.c: dev_queue_xmit and below. */
void sim_dev_queue_xmit(struct sim_ctx *c, struct sim_skb *skb);
void sim_ev_tx_done(struct sim_world *w, struct sim_dev *dev);

/* ------------------------------------------------------------------ */
/* Packet sockets and their readers: construction and read-outs
 * (af_packet.c, pcap_reader.c).  Added by af_packet.c's author. */

/* What a packet socket did with one packet (sim_event_rec.tap_result). */
enum sim_tap_result {
	SIM_TAP_NONE,		/* not a packet-socket event */
	SIM_TAP_IGNORED,	/* PACKET_LOOPBACK, or another host's device: not looked at */
	SIM_TAP_FILTERED,	/* run_filter() returned 0: not delivered, not a drop;
				 * PCAP_READ: linux_check_direction() rejected it */
	SIM_TAP_QUEUED,		/* on the receive queue, or copied into the ring */
	SIM_TAP_DROPPED,	/* receive buffer or ring full: tp_drops */
	SIM_TAP_READ,		/* handed to tcpdump (SIM_ST_PCAP_READ) */
};

enum sim_tap_reader { SIM_READER_NONE, SIM_READER_TCPDUMP };

/* pcap_setdirection() (tcpdump -Q): pcap_direction_t. */
enum sim_pcap_dir { SIM_PCAP_D_INOUT, SIM_PCAP_D_IN, SIM_PCAP_D_OUT };

/*
 * A packet socket as a program would open it: socket(AF_PACKET,
 * @sock_type, htons(@proto)), bind() to @dev or to none, SO_ATTACH_FILTER
 * @filter, PACKET_VERSION / PACKET_RESERVE / PACKET_RX_RING, SO_RCVBUF,
 * PACKET_IGNORE_OUTGOING; then, with @reader, libpcap and tcpdump on top.
 * sim_tap_cfg_tcpdump_defaults() fills what tcpdump would ask for.
 */
struct sim_tap_cfg {
	const char *name;
	int sock_type;			/* SOCK_RAW or SOCK_DGRAM */
	uint16_t proto;			/* 0 or ETH_P_ALL: every protocol (ptype_all);
					 * else one ethertype, host order (ptype_specific) */
	struct sim_dev *dev;		/* bound to this device; NULL: to none ("any") */
	const struct bpfvm_prog *filter;	/* NULL: none; copied, verified (linux) */
	/* The ring (PACKET_RX_RING); version 0: none, packet_rcv() queues skbs. */
	uint32_t ring_version;		/* 0, TPACKET_V2 or TPACKET_V3 */
	uint32_t block_size, block_nr;	/* tp_block_size, tp_block_nr */
	uint32_t frame_size, frame_nr;	/* tp_frame_size, tp_frame_nr (V3: 0 = block's) */
	uint32_t retire_tov_ms;		/* V3 tp_retire_blk_tov; 0: prb_calc_retire_blk_tmo() */
	uint32_t reserve;		/* PACKET_RESERVE */
	uint32_t rcvbuf;		/* sk_rcvbuf without a ring; 0: rmem_default 212992 */
	int ignore_outgoing;		/* PACKET_IGNORE_OUTGOING */
	/* libpcap and tcpdump on top (SIM_READER_TCPDUMP needs a ring, as
	 * libpcap 1.10 does). */
	enum sim_tap_reader reader;
	sim_ns read_ns;			/* user-space time per packet handed to tcpdump */
	uint32_t snapshot;		/* the pcap_t's snapshot length (262144) */
	uint32_t buffer_size;		/* pcap_set_buffer_size(): 2 MiB */
	uint32_t timeout_ms;		/* pcap_set_timeout(): tcpdump 1000 (100 to a terminal) */
	int immediate;			/* pcap_set_immediate_mode(): TPACKET_V2 */
	enum sim_pcap_dir direction;	/* pcap_setdirection() */
};

/*
 * Fill @cfg as tcpdump 4.99 on libpcap 1.10 opens a device: @dev (NULL:
 * "any", a SOCK_DGRAM socket), every protocol, snapshot 262144, buffer
 * 2 MiB, timeout 1000 ms, not immediate, both directions; then the ring
 * create_ring() asks for (sim_tap_cfg_libpcap_ring()).  The caller sets
 * name, filter, read_ns and may change buffer/timeout/immediate/snapshot
 * and call sim_tap_cfg_libpcap_ring() again.
 */
void sim_tap_cfg_tcpdump_defaults(struct sim_tap_cfg *cfg, struct sim_dev *dev);
/* The ring libpcap's create_ring() derives from the buffer size, snapshot,
 * timeout and immediate mode (pcap-linux.c, libpcap 1.10). */
void sim_tap_cfg_libpcap_ring(struct sim_tap_cfg *cfg);

/*
 * Open a packet socket on host @h as @cfg says and register it where
 * dev_add_pack() would (at the head of its list: the newest tap is
 * delivered first).  Returns the tap (owned by the host, freed with the
 * world), or NULL with a sentence in @errbuf (BPFVM_ERRBUF_SIZE bytes)
 * naming what the kernel or libpcap would refuse.
 */
struct sim_tap *sim_tap_new(struct sim_host *h, const struct sim_tap_cfg *cfg, char *errbuf);

/* PACKET_STATISTICS: tp_packets counts delivered and dropped packets
 * (the filter's rejects are in neither). */
struct sim_tap_stats {
	uint64_t tp_packets;
	uint64_t tp_drops;
	uint64_t tp_freeze_q_cnt;	/* TPACKET_V3 only */
};
/* The counters since the tap was opened, as if PACKET_STATISTICS had been
 * read once now and never before (reports; clears nothing). */
void sim_tap_stats(const struct sim_tap *tap, struct sim_tap_stats *st);
/* getsockopt(PACKET_STATISTICS): the counters since the last read, which
 * the read clears. */
void sim_tap_getsockopt_stats(struct sim_tap *tap, struct sim_tap_stats *st);

/* tcpdump's closing lines, as pcap_stats() and tcpdump compute them. */
struct sim_pcap_stats {
	uint64_t captured;		/* "packets captured": handed to tcpdump */
	uint64_t ps_recv;		/* "packets received by filter": sum of tp_packets */
	uint64_t ps_drop;		/* "packets dropped by kernel": sum of tp_drops */
	uint64_t ps_ifdrop;		/* "dropped by interface": rx_missed_errors since open */
	uint64_t dir_rejected;		/* the model's count of linux_check_direction() rejects */
};
/* pcap_stats() at the end of the run: one PACKET_STATISTICS read added to
 * libpcap's running totals.  -1 if no tcpdump reads @tap. */
int sim_tap_pcap_stats(struct sim_tap *tap, struct sim_pcap_stats *ps);

/* The ring as user space maps it (NULL without a ring). */
struct sim_tap_ring {
	uint8_t *mem;			/* block_nr * block_size bytes */
	uint32_t version;		/* TPACKET_V2 or TPACKET_V3 */
	uint32_t block_size, block_nr, frame_size, frame_nr;
	uint32_t hdrlen;		/* po->tp_hdrlen: TPACKET2_HDRLEN or TPACKET3_HDRLEN */
};
const struct sim_tap_ring *sim_tap_ring(const struct sim_tap *tap);
/* TPACKET_V2 frame @i of @r (packet_lookup_frame(): frames never cross a
 * block). */
static inline uint8_t *sim_tap_ring_v2_frame(const struct sim_tap_ring *r, uint32_t i)
{
	uint32_t per_block = r->block_size / r->frame_size;

	return r->mem + (size_t)(i / per_block) * r->block_size +
	       (size_t)(i % per_block) * r->frame_size;
}
/* The model's record of which packet each ring frame holds, in ring
 * order; user space takes one per frame it walks. */
void sim_tap_ring_shadow_pop(struct sim_tap *tap, uint64_t *skb_id, uint32_t *clone);
/* User space handed a block (V3) or frame (V2) back at @c->t; only the
 * lazily scheduled retire timer needs to know. */
void sim_tap_ring_released(struct sim_ctx *c, struct sim_tap *tap);
/* recvmsg() on a tap without a ring: the next queued skb (caller frees
 * it with sim_skb_free), or NULL; uncharges the receive buffer. */
struct sim_skb *sim_tap_recv(struct sim_tap *tap);

/* Packet sockets bound to skb->protocol, in __netif_receive_skb_core()'s
 * order since Linux 6.15: those on no device (the namespace's
 * ptype_specific list), then those bound to @orig_dev (the device the
 * packet arrived on), then, when the packet moved to a VLAN device, those
 * bound to @dev (skb->dev).  All of these come after the protocol's own
 * handler (ip_rcv, on the global ptype_base).  _wanted() says whether
 * any would take the packet. */
int sim_ptype_specific_wanted(struct sim_ctx *c, const struct sim_dev *orig_dev,
			      const struct sim_dev *dev, const struct sim_skb *skb);
void sim_deliver_ptype_specific(struct sim_ctx *c, const struct sim_dev *orig_dev,
				struct sim_dev *dev, const struct sim_skb *skb);

/* sim_deliver_ptype_all() takes an skb whose pkt_type is PACKET_OUTGOING
 * for dev_queue_xmit_nit()'s clone: the caller sets pkt_type and the
 * headers (mac = data = the link-layer header, net = the network header);
 * then PACKET_IGNORE_OUTGOING and skb_loop_sk() (a tap never gets back
 * what it sent: skb->from_tap) apply, which they do not on receive. */

/* What a tap event carries besides the skb (sim_trace_tap()). */
struct sim_tap_trace {
	const struct sim_tap *tap;
	enum sim_tap_result result;
	uint8_t pkt_type;
	const uint8_t *bytes;
	uint32_t caplen, wirelen;
	sim_ns ts;
	int linktype;
	uint64_t skb_id;		/* when @skb is NULL */
	uint32_t clone;
};
void sim_trace_tap(struct sim_ctx *c, enum sim_stage st, const struct sim_skb *skb,
		   const struct sim_dev *dev, enum sim_drop_reason drop,
		   const struct sim_tap_trace *tt);

/* pcap_reader.c: libpcap and tcpdump on a tap. */
int sim_pcap_open(struct sim_tap *tap, const struct sim_tap_cfg *cfg, char *errbuf);
void sim_pcap_close(struct sim_tap *tap);
/* sk_data_ready(): a block was retired (V3) or a frame filled (V2). */
void sim_pcap_wakeup(struct sim_ctx *c, struct sim_tap *tap);

/* ------------------------------------------------------------------ */
/* Layer 3, netfilter, sockets, traffic and the transmit path: the
 * constructors build.c calls with plain config structs, and what ip.c,
 * netfilter.c, sock.c and xmit.c call of each other.  Added by the author
 * of those files. */

#define SIM_ERRBUF_SIZE 256	/* the errbuf the constructors below write to */

/* Big-endian fields, byte by byte. */
static inline uint16_t sim_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t sim_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void sim_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void sim_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* netfilter.c.  Where a rule hangs: a device's hook or a host's. */
enum sim_rule_hook {
	SIM_RULE_NETDEV_INGRESS, SIM_RULE_TC_INGRESS, SIM_RULE_PREROUTING, SIM_RULE_INPUT,
	SIM_RULE_FORWARD, SIM_RULE_OUTPUT, SIM_RULE_POSTROUTING, SIM_RULE_TC_EGRESS,
	SIM_RULE_NETDEV_EGRESS
};

/* A rule: @rule holds the name, matches and verdict (its next and
 * counters are ignored).  Start from sim_rule_init() (vlan -1: any). */
struct sim_rule_cfg {
	enum sim_rule_hook hook;
	struct sim_dev *dev;		/* the device of the four per-device hooks */
	struct sim_rule rule;
};

static inline void sim_rule_init(struct sim_rule_cfg *cfg)
{
	*cfg = (struct sim_rule_cfg){ .rule = { .vlan = -1 } };
}

/* Append a rule to its hook on @h (after the ones already there).  Returns
 * the rule (owned by the host) or NULL with a sentence in @errbuf
 * (SIM_ERRBUF_SIZE). */
struct sim_rule *sim_rule_add(struct sim_host *h, const struct sim_rule_cfg *cfg, char *errbuf);
/* The rule called @name on any hook of @h (its counters), or NULL. */
struct sim_rule *sim_rule_find(const struct sim_host *h, const char *name);

/* ip.c.  What a route lookup found. */
enum sim_rtn { SIM_RTN_UNICAST, SIM_RTN_LOCAL, SIM_RTN_BROADCAST, SIM_RTN_MULTICAST };
struct sim_rtable {
	int family;
	enum sim_rtn type;
	struct sim_dev *dev;		/* the output device (lo for local) */
	uint8_t nexthop[16];		/* the gateway, or the destination */
	uint8_t prefsrc[16];		/* inet_select_addr(): the source to use */
};

/* Add a route (copied; @r->dev may be NULL when @r->has_via: the device
 * then follows from the gateway).  0, or -1 with a sentence in @errbuf. */
int sim_route_add(struct sim_host *h, const struct sim_route *r, char *errbuf);
/* A permanent neighbour entry (ip neigh add ... lladdr ... nud permanent).
 * @addr has 4 (AF_INET) or 16 bytes.  0, or -1 with a sentence in @errbuf. */
int sim_neigh_add(struct sim_host *h, int family, const uint8_t *addr, const uint8_t mac[6],
		  struct sim_dev *dev, char *errbuf);
/* ip_route_output_key(): the route to @dst; 0, or -1 when there is none. */
int sim_route_output(const struct sim_host *h, int family, const uint8_t *dst,
		     struct sim_rtable *rt);
/* 1 if @a is one of @h's addresses (or in 127.0.0.0/8). */
int sim_addr_is_local(const struct sim_host *h, int family, const uint8_t *a);
/* 1 if the first @bits bits of @a and @pfx agree. */
int sim_addr_in_prefix(int family, const uint8_t *a, const uint8_t *pfx, unsigned bits);
/* The Internet checksum: add @len bytes to a running sum; fold and invert. */
uint32_t sim_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t sim_csum_fold(uint32_t sum);
/* Push an IPv4 (DF as asked) or IPv6 header in front of the transport
 * header at skb->data and fill the transport checksum; sets protocol, net
 * and transport. */
void sim_ip_push_header(struct sim_host *h, struct sim_skb *skb, int family, uint8_t proto,
			const uint8_t *src, const uint8_t *dst, uint8_t ttl, int df);
/* The neighbour timer (neigh_timer_handler) of every entry of @h that is due. */
void sim_neigh_timer(struct sim_world *w, struct sim_host *h);

/* sock.c.  A socket: UDP, TCP or ICMP (a ping socket: it receives the echo
 * replies sent to its address); @addr all zero binds the wildcard. */
struct sim_sock_cfg {
	const char *name;
	uint8_t proto;			/* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP */
	struct sim_addr addr;		/* family required; prefix ignored */
	uint16_t port;
	uint32_t rcvbuf;		/* sk_rcvbuf; 0: rmem_default 212992 */
	sim_ns read_interval;		/* the application reads one packet per this; 0: at once */
};
/* Open a socket on @h (owned by the host).  NULL with a sentence in @errbuf. */
struct sim_sock *sim_sock_new(struct sim_host *h, const struct sim_sock_cfg *cfg, char *errbuf);
/* 0: @sk does not take (proto, family, daddr, dport); 1: as a wildcard; 2: exactly. */
int sim_sock_match(const struct sim_sock *sk, uint8_t proto, int family, const uint8_t *daddr,
		   uint16_t dport);
/* The best-matching socket, or NULL. */
struct sim_sock *sim_sock_lookup(struct sim_host *h, uint8_t proto, int family,
				 const uint8_t *daddr, uint16_t dport);
/* Queue on the receive buffer (@udp: __udp_enqueue_schedule_skb's rule,
 * else sock_queue_rcv_skb's); takes the skb. */
void sim_sock_queue_rcv(struct sim_ctx *c, struct sim_sock *sk, struct sim_skb *skb, int udp);

/* `at T HOST send ...`: @count packets, back to back (each when the
 * sending CPU is free), at @rate a second, or in bursts of @burst every
 * @every.  Addresses have 4 (AF_INET) or 16 bytes. */
struct sim_send_cfg {
	struct sim_host *host;
	sim_ns at;
	uint8_t proto;			/* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP */
	int family;			/* AF_INET, AF_INET6 */
	uint8_t has_from;
	uint8_t from[16], to[16];
	uint16_t sport;			/* 0: an ephemeral port */
	uint16_t dport;
	uint32_t size;			/* payload bytes */
	uint8_t ttl;			/* 0: 64 */
	int vlan;			/* -1: none; else sent with this 802.1Q tag */
	uint64_t count, rate, burst;
	sim_ns every;
};
int sim_traffic_add_send(struct sim_world *w, const struct sim_send_cfg *cfg, char *errbuf);
/* `at T inject HOST.DEV frame HEX`: the frame arrives from the wire at
 * @dev (sim_nic_rx), @count times, at @rate or back to back (one line
 * time apart when @dev has a wire).  @frame is copied. */
struct sim_inject_cfg {
	struct sim_dev *dev;
	sim_ns at;
	const uint8_t *frame;
	uint32_t len;
	uint64_t count, rate;
};
int sim_traffic_add_inject(struct sim_world *w, const struct sim_inject_cfg *cfg, char *errbuf);
/* `at T replay HOST.DEV PCAP [speed X]`: an Ethernet pcap's records arrive
 * at @dev on their timestamps (relative to the first, divided by the
 * speed), read one at a time.  The file is opened now. */
struct sim_replay_cfg {
	struct sim_dev *dev;
	sim_ns at;
	const char *path;
	uint32_t speed_milli;		/* speed x 1000; 0: 1000 */
};
int sim_traffic_add_replay(struct sim_world *w, const struct sim_replay_cfg *cfg, char *errbuf);
/* Run sim_neigh_timer(@h) at @t (through a SIM_EV_TRAFFIC event). */
void sim_neigh_timer_arm(struct sim_world *w, struct sim_host *h, sim_ns t);

/* xmit.c.  Join two Ethernet devices (of any hosts) with a wire of
 * @delay and @bps bits a second (0: no serialisation time).  0, or -1 with
 * a sentence in @errbuf. */
int sim_wire_connect(struct sim_world *w, struct sim_dev *a, struct sim_dev *b, sim_ns delay,
		     uint64_t bps, char *errbuf);
/* The time a frame of @len bytes (no FCS) takes on @wire: to its last bit
 * (preamble and FCS included, padded to 60), and with the inter-frame gap. */
sim_ns sim_wire_frame_time(const struct sim_wire *wire, uint32_t len);
sim_ns sim_wire_line_time(const struct sim_wire *wire, uint32_t len);
/* qdisc_run(): send what the qdisc holds while the driver's queue is awake. */
void sim_qdisc_run(struct sim_ctx *c, struct sim_dev *dev);

#endif
