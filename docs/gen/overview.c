/*
 * overview.c - print the overview of the model's capture path as DOT, for
 * `make docs` (scripts/docs.sh); not part of capsim.
 *
 * The nodes come from sim/stages.h (every stage, its kernel function and
 * whether a drop there is visible to tcpdump) and the drop notes from
 * sim/dropreasons.h, so a stage or a reason added to the model appears
 * here without anyone touching this file.  What the tables do not say -
 * how the stages connect and which reasons each stage can give - is
 * written below by enum name, so a renamed stage stops the build, and the
 * program refuses (exit 1) to draw a stage that has no edge or a reason
 * that has no drop point.  tests/test_docs.c checks the rest against the
 * code: every drop the sources make is drawn, and every path a shipped
 * scenario takes follows the edges.
 *
 * Output is a pure function of the two headers: no time, no paths.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "model.h"

/* The kernel function for each stage and whether a drop there has
 * passed the taps, straight from the X-macro. */
static const struct {
	const char *id, *func;
	int visible;
} stages[] = {
#define SIM_STAGE(id, func, visible) [SIM_ST_##id] = { #id, func, visible },
#include "stages.h"
#undef SIM_STAGE
};

static const struct {
	const char *name, *what;
} reasons[] = {
	[SIM_DROP_NONE] = { "NONE", "" },
#define SIM_DROP(name, what) [SIM_DROP_##name] = { #name, what },
#include "dropreasons.h"
#undef SIM_DROP
};

_Static_assert(sizeof(stages) / sizeof(stages[0]) == SIM_STAGE_COUNT, "one entry per stage");
_Static_assert(sizeof(reasons) / sizeof(reasons[0]) == SIM_DROP_REASON_COUNT, "one per reason");

/* Which column a stage is drawn in. */
enum column { RX, TX, PKT };

static enum column column_of(int st)
{
	if (st >= SIM_ST_PACKET_RCV)
		return PKT;
	return st >= SIM_ST_SOCK_SEND ? TX : RX;
}

/* The netfilter and tc hooks: the chain a user writes rules in, and the
 * kernel's name for the hook. */
static const char *hook_of(int st)
{
	switch (st) {
	case SIM_ST_TC_INGRESS: return "tc ingress (clsact)";
	case SIM_ST_NF_INGRESS: return "nft netdev ingress (NF_NETDEV_INGRESS)";
	case SIM_ST_NF_PREROUTING: return "PREROUTING (NF_INET_PRE_ROUTING)";
	case SIM_ST_NF_LOCAL_IN: return "INPUT (NF_INET_LOCAL_IN)";
	case SIM_ST_NF_FORWARD: return "FORWARD (NF_INET_FORWARD)";
	case SIM_ST_NF_LOCAL_OUT: return "OUTPUT (NF_INET_LOCAL_OUT)";
	case SIM_ST_NF_POST_ROUTING: return "POSTROUTING (NF_INET_POST_ROUTING)";
	case SIM_ST_NF_EGRESS: return "nft netdev egress (NF_NETDEV_EGRESS)";
	case SIM_ST_TC_EGRESS: return "tc egress (clsact)";
	default: return NULL;
	}
}

/*
 * How packets move between stages in the model (sim/rx.c, ip.c, xmit.c,
 * af_packet.c), in the kernel's order.  @side: 1 for an edge that leaves
 * its column (drawn without pulling the layout), 0 for the main flow.
 */
static const struct edge {
	int from, to;
	const char *label;
	int side;
} edges[] = {
	/* Receive: the NIC, the interrupt, NAPI. */
	{ SIM_ST_WIRE_RX, SIM_ST_NIC_DMA, "DMA into the RX ring", 0 },
	{ SIM_ST_NIC_DMA, SIM_ST_HARD_IRQ, "IRQ (coalesced)", 0 },
	{ SIM_ST_HARD_IRQ, SIM_ST_NAPI_POLL, "NET_RX softirq: net_rx_action", 0 },
	{ SIM_ST_NAPI_POLL, SIM_ST_ETH_TYPE_TRANS, "driver poll", 0 },
	{ SIM_ST_ETH_TYPE_TRANS, SIM_ST_VLAN_UNTAG, "802.1Q tag in the data", 0 },
	{ SIM_ST_ETH_TYPE_TRANS, SIM_ST_TAPS_RX, "netif_receive_skb", 0 },
	{ SIM_ST_NETIF_RX, SIM_ST_PROCESS_BACKLOG, "per-CPU backlog", 0 },
	{ SIM_ST_PROCESS_BACKLOG, SIM_ST_VLAN_UNTAG, "", 0 },
	{ SIM_ST_PROCESS_BACKLOG, SIM_ST_TAPS_RX, "", 0 },
	{ SIM_ST_VLAN_UNTAG, SIM_ST_TAPS_RX, "", 0 },
	/* __netif_receive_skb_core: taps, then the ingress hooks, then
	 * the protocol handlers. */
	{ SIM_ST_TAPS_RX, SIM_ST_TC_INGRESS, "", 0 },
	{ SIM_ST_TC_INGRESS, SIM_ST_NF_INGRESS, "", 0 },
	{ SIM_ST_NF_INGRESS, SIM_ST_PTYPE_BASE, "", 0 },
	{ SIM_ST_PTYPE_BASE, SIM_ST_IP_RCV, "ETH_P_IP", 0 },
	{ SIM_ST_PTYPE_BASE, SIM_ST_ARP_RCV, "ETH_P_ARP", 0 },
	/* IPv4 input. */
	{ SIM_ST_IP_RCV, SIM_ST_NF_PREROUTING, "", 0 },
	{ SIM_ST_NF_PREROUTING, SIM_ST_IP_ROUTE_INPUT, "", 0 },
	{ SIM_ST_IP_ROUTE_INPUT, SIM_ST_NF_LOCAL_IN, "for this host", 0 },
	{ SIM_ST_IP_ROUTE_INPUT, SIM_ST_IP_FORWARD, "for another", 0 },
	{ SIM_ST_IP_FORWARD, SIM_ST_NF_FORWARD, "", 0 },
	{ SIM_ST_NF_LOCAL_IN, SIM_ST_UDP_RCV, "", 0 },
	{ SIM_ST_NF_LOCAL_IN, SIM_ST_TCP_RCV, "", 0 },
	{ SIM_ST_NF_LOCAL_IN, SIM_ST_ICMP_RCV, "", 0 },
	{ SIM_ST_UDP_RCV, SIM_ST_SOCK_QUEUE, "", 0 },
	{ SIM_ST_TCP_RCV, SIM_ST_SOCK_QUEUE, "", 0 },
	{ SIM_ST_ICMP_RCV, SIM_ST_SOCK_QUEUE, "", 0 },
	{ SIM_ST_SOCK_QUEUE, SIM_ST_SOCK_READ, "the application", 0 },
	/* Transmit.  The model routes first (the kernel does, in sendmsg),
	 * so the OUTPUT hook knows the output device. */
	{ SIM_ST_SOCK_SEND, SIM_ST_IP_LOCAL_OUT, "", 0 },
	{ SIM_ST_IP_LOCAL_OUT, SIM_ST_IP_ROUTE_OUTPUT, "", 0 },
	{ SIM_ST_IP_ROUTE_OUTPUT, SIM_ST_NF_LOCAL_OUT, "", 0 },
	{ SIM_ST_NF_LOCAL_OUT, SIM_ST_NF_POST_ROUTING, "ip_output", 0 },
	{ SIM_ST_NF_POST_ROUTING, SIM_ST_NEIGH_OUTPUT, "", 0 },
	{ SIM_ST_NEIGH_OUTPUT, SIM_ST_DEV_QUEUE_XMIT, "", 0 },
	{ SIM_ST_DEV_QUEUE_XMIT, SIM_ST_NF_EGRESS, "", 0 },
	{ SIM_ST_NF_EGRESS, SIM_ST_TC_EGRESS, "", 0 },
	{ SIM_ST_TC_EGRESS, SIM_ST_QDISC_ENQUEUE, "a real NIC", 0 },
	{ SIM_ST_TC_EGRESS, SIM_ST_TAPS_TX, "noqueue: lo, VLAN", 0 },
	{ SIM_ST_QDISC_ENQUEUE, SIM_ST_TAPS_TX, "dequeue: xmit_one", 0 },
	{ SIM_ST_TAPS_TX, SIM_ST_DRIVER_XMIT, "", 0 },
	{ SIM_ST_DRIVER_XMIT, SIM_ST_WIRE_TX, "", 0 },
	/* Where one path joins another. */
	{ SIM_ST_NF_FORWARD, SIM_ST_NF_POST_ROUTING, "ip_forward_finish", 1 },
	{ SIM_ST_ICMP_RCV, SIM_ST_IP_LOCAL_OUT, "echo reply", 1 },
	{ SIM_ST_TCP_RCV, SIM_ST_IP_LOCAL_OUT, "RST", 1 },
	{ SIM_ST_UDP_RCV, SIM_ST_IP_LOCAL_OUT, "ICMP port unreachable", 1 },
	{ SIM_ST_ARP_RCV, SIM_ST_DEV_QUEUE_XMIT, "ARP reply", 1 },
	{ SIM_ST_DRIVER_XMIT, SIM_ST_NETIF_RX, "loopback_xmit: netif_rx", 1 },
	{ SIM_ST_DRIVER_XMIT, SIM_ST_DEV_QUEUE_XMIT, "VLAN device: again on the real one", 1 },
	{ SIM_ST_WIRE_TX, SIM_ST_WIRE_RX, "the wire, to the peer's NIC", 1 },
	/* The packet sockets: ptype_all sees both directions, a socket
	 * bound to one protocol (ptype_base) only what comes in. */
	{ SIM_ST_TAPS_RX, SIM_ST_TPACKET_RCV, "ptype_all: a copy (PACKET_HOST, ...)", 1 },
	{ SIM_ST_TAPS_TX, SIM_ST_TPACKET_RCV, "ptype_all: a copy (PACKET_OUTGOING)", 1 },
	{ SIM_ST_TAPS_RX, SIM_ST_PACKET_RCV, "", 1 },
	{ SIM_ST_TAPS_TX, SIM_ST_PACKET_RCV, "", 1 },
	{ SIM_ST_PTYPE_BASE, SIM_ST_PACKET_RCV, "bound to ETH_P_IP ...: incoming only", 1 },
	{ SIM_ST_TPACKET_RCV, SIM_ST_PCAP_READ, "TPACKET_V3 block retired", 0 },
};

/*
 * The drop points: each stage and the reasons it frees packets with, as
 * the model's sources call sim_kfree_skb_reason() (tests/test_docs.c holds
 * this against them).  The netfilter and tc stages drop through
 * sim_nf_hook(); the packet sockets count FULL_RING in tp_drops.
 */
static const struct drop {
	int stage;
	int reason;
} drops[] = {
	{ SIM_ST_NIC_DMA, SIM_DROP_RX_MISSED },
	{ SIM_ST_ETH_TYPE_TRANS, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_NETIF_RX, SIM_DROP_CPU_BACKLOG },
	{ SIM_ST_VLAN_UNTAG, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_TC_INGRESS, SIM_DROP_TC_INGRESS },
	{ SIM_ST_NF_INGRESS, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_PTYPE_BASE, SIM_DROP_UNHANDLED_PROTO },
	{ SIM_ST_IP_RCV, SIM_DROP_OTHERHOST },
	{ SIM_ST_IP_RCV, SIM_DROP_IP_INHDR },
	{ SIM_ST_IP_RCV, SIM_DROP_IP_CSUM },
	{ SIM_ST_IP_RCV, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_IP_RCV, SIM_DROP_IP_NOPROTO },
	{ SIM_ST_NF_PREROUTING, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_IP_ROUTE_INPUT, SIM_DROP_IP_INADDRERRORS },
	{ SIM_ST_IP_ROUTE_INPUT, SIM_DROP_IP_INNOROUTES },
	{ SIM_ST_IP_ROUTE_INPUT, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_NF_LOCAL_IN, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_IP_FORWARD, SIM_DROP_IP_INADDRERRORS },
	{ SIM_ST_IP_FORWARD, SIM_DROP_IP_INHDR },
	{ SIM_ST_IP_FORWARD, SIM_DROP_PKT_TOO_BIG },
	{ SIM_ST_IP_FORWARD, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_NF_FORWARD, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_UDP_RCV, SIM_DROP_NO_SOCKET },
	{ SIM_ST_UDP_RCV, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_TCP_RCV, SIM_DROP_NO_SOCKET },
	{ SIM_ST_TCP_RCV, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_TCP_RCV, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_ICMP_RCV, SIM_DROP_NO_SOCKET },
	{ SIM_ST_ICMP_RCV, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_ARP_RCV, SIM_DROP_PKT_TOO_SMALL },
	{ SIM_ST_ARP_RCV, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_SOCK_QUEUE, SIM_DROP_SOCKET_RCVBUFF },
	{ SIM_ST_NF_LOCAL_OUT, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_IP_ROUTE_OUTPUT, SIM_DROP_IP_OUTNOROUTES },
	{ SIM_ST_NF_POST_ROUTING, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_NEIGH_OUTPUT, SIM_DROP_NEIGH_FAILED },
	{ SIM_ST_NEIGH_OUTPUT, SIM_DROP_NEIGH_QUEUEFULL },
	{ SIM_ST_NF_EGRESS, SIM_DROP_NETFILTER_DROP },
	{ SIM_ST_TC_EGRESS, SIM_DROP_TC_EGRESS },
	{ SIM_ST_QDISC_ENQUEUE, SIM_DROP_QDISC_DROP },
	{ SIM_ST_DRIVER_XMIT, SIM_DROP_NOT_SPECIFIED },
	{ SIM_ST_PACKET_RCV, SIM_DROP_FULL_RING },
	{ SIM_ST_TPACKET_RCV, SIM_DROP_FULL_RING },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Refuse to draw a stage nothing connects, or a reason nothing gives. */
static int check(void)
{
	int bad = 0;

	for (int st = 0; st < SIM_STAGE_COUNT; st++) {
		int linked = 0;

		for (size_t i = 0; i < N(edges); i++)
			linked |= edges[i].from == st || edges[i].to == st;
		if (!linked) {
			fprintf(stderr, "overview: stage %s has no edge: add it to edges[]\n",
				stages[st].id);
			bad = 1;
		}
	}
	for (int r = 1; r < SIM_DROP_REASON_COUNT; r++) {
		int used = 0;

		for (size_t i = 0; i < N(drops); i++)
			used |= drops[i].reason == r;
		if (!used) {
			fprintf(stderr, "overview: drop reason %s has no drop point: add it to drops[]\n",
				reasons[r].name);
			bad = 1;
		}
	}
	for (size_t i = 0; i < N(drops); i++)
		if (stages[drops[i].stage].visible == -1 && drops[i].stage != SIM_ST_PACKET_RCV &&
		    drops[i].stage != SIM_ST_TPACKET_RCV) {
			fprintf(stderr, "overview: %s drops but stages.h says it is no drop point\n",
				stages[drops[i].stage].id);
			bad = 1;
		}
	return bad;
}

/* Colours: where tcpdump sees packets, and drops it cannot show. */
#define C_TAP "#1f5fbf"
#define C_TAP_FILL "#d6e6ff"
#define C_HOOK_FILL "#fff4cc"
#define C_UNSEEN "#b00000"
#define C_UNSEEN_FILL "#ffd6d6"
#define C_SEEN "#b06000"
#define C_SEEN_FILL "#ffe9c7"
#define C_TAPLOSS "#7a2a9a"
#define C_TAPLOSS_FILL "#efdcf7"

static void node(int st)
{
	const char *hook = hook_of(st);
	int tap = st == SIM_ST_TAPS_RX || st == SIM_ST_TAPS_TX;

	printf("\t\t%s [label=<<b>%s</b>", stages[st].id, stages[st].func);
	if (hook)
		printf("<br/><font point-size=\"9\">%s</font>", hook);
	if (st == SIM_ST_TAPS_RX)
		printf("<br/><font point-size=\"9\">ptype_all taps: tcpdump sees ingress</font>");
	if (st == SIM_ST_TAPS_TX)
		printf("<br/><font point-size=\"9\">ptype_all taps: tcpdump sees egress</font>");
	printf("<br/><font point-size=\"8\" color=\"grey35\">%s</font>>", stages[st].id);
	if (tap)
		printf(", style=\"filled,bold\", fillcolor=\"" C_TAP_FILL "\", color=\"" C_TAP
		       "\", penwidth=2");
	else if (hook)
		printf(", shape=hexagon, style=filled, fillcolor=\"" C_HOOK_FILL "\"");
	else if (st == SIM_ST_WIRE_RX || st == SIM_ST_WIRE_TX)
		printf(", shape=cds, style=filled, fillcolor=grey90");
	printf("];\n");
}

/* One drop note per stage, listing its reasons, beside the stage. */
static void drop_node(int st)
{
	const char *color, *fill, *says;
	int any = 0;

	for (size_t i = 0; i < N(drops); i++)
		any |= drops[i].stage == st;
	if (!any)
		return;
	if (st == SIM_ST_PACKET_RCV || st == SIM_ST_TPACKET_RCV) {
		color = C_TAPLOSS, fill = C_TAPLOSS_FILL;
		says = "the tap's own copy lost: tp_drops";
	} else if (stages[st].visible == 1) {
		color = C_SEEN, fill = C_SEEN_FILL;
		says = "after the taps: tcpdump saw it";
	} else {
		color = C_UNSEEN, fill = C_UNSEEN_FILL;
		says = "before the taps: tcpdump never sees it";
	}
	printf("\t\tdrop_%s [shape=box, style=\"filled,rounded\", fillcolor=\"%s\", "
	       "color=\"%s\", fontcolor=\"%s\", fontsize=9, margin=\"0.05,0.02\", tooltip=\"%s\", "
	       "label=<",
	       stages[st].id, fill, color, color, says);
	for (size_t i = 0, n = 0; i < N(drops); i++)
		if (drops[i].stage == st)
			printf("%s<b>%s</b>", n++ ? "<br/>" : "", reasons[drops[i].reason].name);
	printf(">];\n");
	printf("\t\t%s -> drop_%s [color=\"%s\", style=dashed, arrowhead=tee];\n", stages[st].id,
	       stages[st].id, color);
	printf("\t\t{ rank=same; %s; drop_%s; }\n", stages[st].id, stages[st].id);
}

static void legend(const char *id, const char *label, const char *color, const char *fill)
{
	printf("\t\tlegend_%s [label=\"%s\", style=\"filled,rounded\", fillcolor=\"%s\", "
	       "color=\"%s\", fontcolor=\"%s\", fontsize=9];\n",
	       id, label, fill, color, color);
}

static void column(enum column col, const char *name, const char *label)
{
	printf("\tsubgraph cluster_%s {\n\t\tlabel=\"%s\"; fontsize=14; color=grey50; "
	       "style=rounded;\n",
	       name, label);
	for (int st = 0; st < SIM_STAGE_COUNT; st++)
		if (column_of(st) == col)
			node(st);
	for (int st = 0; st < SIM_STAGE_COUNT; st++)
		if (column_of(st) == col)
			drop_node(st);
	printf("\t}\n");
}

int main(void)
{
	if (check())
		return 1;
	printf("// Generated by docs/gen/overview.c from sim/stages.h and sim/dropreasons.h.\n"
	       "// Do not edit: run `make docs`.\n"
	       "digraph capsim_overview {\n"
	       "\tgraph [fontname=\"Helvetica\", rankdir=TB, newrank=true, nodesep=0.25, "
	       "ranksep=0.3, labelloc=t, fontsize=18,\n"
	       "\t\tlabel=\"capsim: the capture path the model follows (kernel functions; "
	       "drop reasons as in include/net/dropreason-core.h)\"];\n"
	       "\tnode [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11, "
	       "margin=\"0.1,0.03\"];\n"
	       "\tedge [fontname=\"Helvetica\", fontsize=9, color=grey30];\n");
	column(TX, "tx", "transmit: from a socket to the wire");
	column(PKT, "pkt", "packet sockets: tcpdump, libpcap");
	column(RX, "rx", "receive: from the wire to a socket");
	/* The two tap points level, the packet sockets between them. */
	printf("\t{ rank=same; TAPS_TX; TPACKET_RCV; TAPS_RX; }\n"
	       "\t{ rank=same; PCAP_READ; PACKET_RCV; }\n"
	       "\tTPACKET_RCV -> PACKET_RCV [style=invis];\n");
	for (size_t i = 0; i < N(edges); i++) {
		const struct edge *e = &edges[i];
		int tap = e->from == SIM_ST_TAPS_RX || e->from == SIM_ST_TAPS_TX ||
			  e->from == SIM_ST_PTYPE_BASE;

		if (column_of(e->to) == PKT && column_of(e->from) != PKT) {
			/* The taps: the edges the picture is about. */
			printf("\t%s -> %s [%s%s%scolor=\"" C_TAP "\", fontcolor=\"" C_TAP
			       "\", penwidth=%s, constraint=false];\n",
			       stages[e->from].id, stages[e->to].id, *e->label ? "label=\"" : "",
			       e->label, *e->label ? "\", " : "", tap ? "1.6" : "1");
		} else if (e->side) {
			/* Where one path joins another far away: a signpost
			 * instead of a line across the picture. */
			printf("\tgoto_%zu [shape=plaintext, fontsize=9, fontcolor=grey25, "
			       "label=\"to %s (%s):\\n%s\"];\n"
			       "\t%s -> goto_%zu [style=dashed, color=grey45];\n",
			       i, stages[e->to].func, stages[e->to].id, e->label, stages[e->from].id, i);
		} else {
			printf("\t%s -> %s [%s%s%sweight=4];\n", stages[e->from].id,
			       stages[e->to].id, *e->label ? "label=\"" : "", e->label,
			       *e->label ? "\", " : "");
		}
	}
	/* A legend, under the packet sockets. */
	printf("\tsubgraph cluster_legend {\n\t\tlabel=\"legend\"; fontsize=12; color=grey70;\n"
	       "\t\tlegend_tap [label=\"tap point (ptype_all)\", style=\"filled,bold\", "
	       "fillcolor=\"" C_TAP_FILL "\", color=\"" C_TAP "\", penwidth=2];\n"
	       "\t\tlegend_hook [label=\"netfilter / tc hook\", shape=hexagon, style=filled, "
	       "fillcolor=\"" C_HOOK_FILL "\"];\n");
	legend("unseen", "drop before the taps:\\ntcpdump never sees it", C_UNSEEN, C_UNSEEN_FILL);
	legend("seen", "drop after the taps:\\ntcpdump saw it", C_SEEN, C_SEEN_FILL);
	legend("taploss", "a tap's own copy lost\\n(tp_drops)", C_TAPLOSS, C_TAPLOSS_FILL);
	printf("\t\tlegend_tap -> legend_hook -> legend_unseen -> legend_seen -> legend_taploss "
	       "[style=invis];\n\t}\n"
	       "\tPCAP_READ -> legend_tap [style=invis];\n"
	       "}\n");
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
