/*
 * xmit.c - dev_queue_xmit and below: the egress hooks, the queueing
 * discipline, the taps' view of outgoing packets, the drivers (loopback,
 * 802.1Q, an Ethernet NIC with a TX ring) and the wire between two NICs.
 *
 * On entry skb->data is at the Ethernet header and skb->dev is the device
 * to send on.  Ethernet NICs have pfifo_fast with txqueuelen packets; lo
 * and VLAN devices are IFF_NO_QUEUE (noqueue), so nothing queues on them
 * and they never drop QDISC_DROP.
 */
#include "model.h"
#include "sim_int.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

#define NSEC_PER_SEC 1000000000ull

/* Bytes a frame occupies on an Ethernet line besides its own: FCS (4),
 * preamble and start delimiter (8); the inter-frame gap (12) follows it.
 * A frame is padded to the 60-byte minimum before the FCS. */
#define ETH_FCS 4
#define ETH_PREAMBLE 8
#define ETH_IFG 12
#define ETH_ZLEN 60

static sim_ns bits_time(uint64_t bytes, uint64_t bps)
{
	if (!bps)
		return 0;
	return (bytes * 8 * NSEC_PER_SEC + bps - 1) / bps;
}

static uint32_t frame_len(uint32_t len)
{
	return (len < ETH_ZLEN ? ETH_ZLEN : len) + ETH_FCS + ETH_PREAMBLE;
}

sim_ns sim_wire_frame_time(const struct sim_wire *wire, uint32_t len)
{
	return bits_time(frame_len(len), wire->bps);
}

sim_ns sim_wire_line_time(const struct sim_wire *wire, uint32_t len)
{
	return bits_time(frame_len(len) + ETH_IFG, wire->bps);
}

int sim_wire_connect(struct sim_world *w, struct sim_dev *a, struct sim_dev *b, sim_ns delay,
		     uint64_t bps, char *errbuf)
{
	struct sim_wire *wire;

	if (w->nwires == sizeof(w->wires) / sizeof(w->wires[0])) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "too many wires (%u)", w->nwires);
		return -1;
	}
	if (a == b || a->kind != SIM_DEV_ETHER || b->kind != SIM_DEV_ETHER) {
		snprintf(errbuf, SIM_ERRBUF_SIZE,
			 "wire %s.%s %s.%s: a wire joins two different Ethernet devices",
			 a->host->name, a->name, b->host->name, b->name);
		return -1;
	}
	if (a->wire || b->wire) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "wire %s.%s %s.%s: %s.%s already has a wire",
			 a->host->name, a->name, b->host->name, b->name,
			 a->wire ? a->host->name : b->host->name, a->wire ? a->name : b->name);
		return -1;
	}
	wire = &w->wires[w->nwires++];
	wire->end[0] = a;
	wire->end[1] = b;
	wire->delay = delay;
	wire->bps = bps;
	a->wire = b->wire = wire;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The NIC's transmit side. */

static void start_line(struct sim_world *w, struct sim_dev *dev, sim_ns t)
{
	struct sim_skb *skb = dev->tx_ring.head;

	dev->tx_busy_until = t + sim_wire_line_time(dev->wire, skb->len);
	sim_schedule(w, dev->tx_busy_until, SIM_EV_TX_DONE, dev, NULL);
}

/*
 * The frame as the peer's NIC receives it: the bytes only (a hardware
 * VLAN tag is written into them, as the NIC does), none of this host's
 * state.
 */
static int to_wire(struct sim_skb *skb)
{
	if (skb->vlan_present) {
		uint8_t *e;

		if (skb->data < 4 || skb->len < 12)
			return -1;
		sim_skb_push(skb, 4);
		e = sim_skb_data(skb);
		memmove(e, e + 4, 12);
		sim_put16(e + 12, skb->vlan_tpid ? skb->vlan_tpid : ETH_P_8021Q);
		sim_put16(e + 14, skb->vlan_tci);
	}
	skb->clone = 0;
	skb->mac = skb->net = skb->transport = -1;
	skb->protocol = 0;
	skb->pkt_type = 0;
	skb->vlan_present = 0;
	skb->vlan_tci = skb->vlan_tpid = 0;
	skb->mark = 0;
	skb->queue = 0;
	skb->sk = NULL;
	skb->from_tap = NULL;
	return 0;
}

/*
 * The line has sent the frame at the head of the TX ring (and its
 * inter-frame gap): the frame's last bit reaches the peer after the
 * wire's delay; the descriptor is cleaned (the driver's TX completion),
 * and a stopped queue is woken once enough descriptors are free
 * (netif_wake_queue, as drivers do past a wake threshold, e.g. e1000's
 * TX_WAKE_THRESHOLD of 32), which runs the qdisc again.
 */
void sim_ev_tx_done(struct sim_world *w, struct sim_dev *dev)
{
	struct sim_ctx c = { .w = w, .host = dev->host, .cpu = dev->napi.cpu, .t = w->clock.now };
	struct sim_wire *wire = dev->wire;
	struct sim_skb *skb = sim_queue_pop(&dev->tx_ring);
	uint32_t wake;

	if (!skb)
		return;
	sim_trace(&c, SIM_ST_WIRE_TX, skb, dev, SIM_DROP_NONE);
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += skb->len;
	if (wire) {
		struct sim_dev *peer = wire->end[0] == dev ? wire->end[1] : wire->end[0];
		sim_ns arrive = c.t - bits_time(ETH_IFG, wire->bps) + wire->delay;

		if (to_wire(skb) < 0) {
			sim_skb_free(w, skb);
		} else {
			skb->dev = peer;
			skb->tstamp = arrive;
			if (sim_schedule(w, arrive, SIM_EV_WIRE_ARRIVE, peer, skb) < 0)
				sim_skb_free(w, skb);
		}
	} else {
		sim_skb_free(w, skb);
	}
	wake = dev->tx_ring.limit / 2 < 32 ? dev->tx_ring.limit / 2 : 32;
	if (dev->tx_stopped && dev->tx_ring.len + wake <= dev->tx_ring.limit) {
		dev->tx_stopped = 0;
		sim_qdisc_run(&c, dev);
	}
	if (dev->tx_ring.head && dev->tx_busy_until <= c.t)
		start_line(w, dev, c.t);
}

/*
 * ndo_start_xmit of an Ethernet NIC: the frame takes a TX descriptor; the
 * line sends one frame at a time at the wire's rate.  When the ring is
 * full the driver stops the queue (netif_stop_queue) and the qdisc keeps
 * the rest until TX completion wakes it.  A NIC with no wire sends into
 * nothing, at once.
 */
static void nic_xmit(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	if (!dev->wire) {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skb->len;
		sim_consume_skb(c, skb);
		return;
	}
	sim_queue_push(&dev->tx_ring, skb);
	if (dev->tx_ring.limit && dev->tx_ring.len >= dev->tx_ring.limit) {
		dev->tx_stopped = 1;
		dev->tx_stops++;
	}
	if (dev->tx_ring.len == 1 && dev->tx_busy_until <= c->t)
		start_line(c->w, dev, c->t);
}

/*
 * loopback_xmit(): eth_type_trans() (a frame the stack sent is PACKET_HOST:
 * its destination is lo's all-zero address) and __netif_rx(), so the taps see
 * it a second time, on the way in.  The socket that sent it no longer owns
 * it (skb_orphan).  lo counts a packet - as sent and as received at once
 * (dev_lstats_add, read by loopback_get_stats64) - only when the backlog
 * took it, and counts its length after the Ethernet header was pulled.
 */
static void loopback_xmit(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	uint32_t len;

	skb->sk = NULL;
	skb->from_tap = NULL;
	skb->mac = (int32_t)skb->data;
	skb->protocol = 0;
	skb->pkt_type = PACKET_HOST;
	if (skb->len >= ETH_HLEN) {
		sim_eth_type_trans(dev->mac, sim_skb_data(skb), skb->len, &skb->pkt_type,
				   &skb->protocol);
		sim_skb_pull(skb, ETH_HLEN);
	}
	skb->net = (int32_t)skb->data;
	skb->tstamp = c->t;
	len = skb->len;
	if (sim_netif_rx(c, skb) == 0) {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += len;
		dev->stats.rx_packets++;
		dev->stats.rx_bytes += len;
	}
}

/*
 * vlan_dev_hard_start_xmit(): the tag goes into the skb's metadata
 * (__vlan_hwaccel_put_tag) and the packet is queued again on the real
 * device, whose taps see it with the tag.
 */
static void vlan_xmit(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += skb->len;
	if (!dev->vlan_parent) {
		sim_kfree_skb_reason(c, SIM_ST_DRIVER_XMIT, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	skb->vlan_present = 1;
	skb->vlan_tpid = ETH_P_8021Q;
	skb->vlan_tci = dev->vlan_id;
	skb->dev = dev->vlan_parent;
	sim_dev_queue_xmit(c, skb);
}

/*
 * dev_queue_xmit_nit(): the taps see a copy marked PACKET_OUTGOING with the
 * MAC header at skb->data.  The walk itself (af_packet.c) skips a tap with
 * PACKET_IGNORE_OUTGOING and the tap the packet came from (skb_loop_sk:
 * skb->from_tap).
 */
static void dev_queue_xmit_nit(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	uint8_t pkt_type = skb->pkt_type;

	skb->pkt_type = PACKET_OUTGOING;
	sim_trace(c, SIM_ST_TAPS_TX, skb, dev, SIM_DROP_NONE);
	if (c->host->ptype_all || dev->ptype_all)	/* dev_nit_active() */
		sim_deliver_ptype_all(c, dev, skb);
	skb->pkt_type = pkt_type;
}

/* dev_hard_start_xmit() -> xmit_one(): the taps, then the driver. */
static void xmit_one(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	dev_queue_xmit_nit(c, dev, skb);
	sim_trace(c, SIM_ST_DRIVER_XMIT, skb, dev, SIM_DROP_NONE);
	switch (dev->kind) {
	case SIM_DEV_LOOPBACK:
		loopback_xmit(c, dev, skb);
		break;
	case SIM_DEV_VLAN:
		vlan_xmit(c, dev, skb);
		break;
	case SIM_DEV_ETHER:
		nic_xmit(c, dev, skb);
		break;
	}
}

/*
 * qdisc_run() -> qdisc_restart() -> sch_direct_xmit(): dequeue while the
 * driver's queue is awake.  (The kernel stops after dev_tx_weight packets
 * and reschedules itself in NET_TX; the model sends on until the queue is
 * empty or stopped, which only changes when the CPU does the work.)
 */
void sim_qdisc_run(struct sim_ctx *c, struct sim_dev *dev)
{
	struct sim_skb *skb;

	while (!dev->tx_stopped && (skb = sim_queue_pop(&dev->qdisc)))
		xmit_one(c, dev, skb);
}

/*
 * __dev_queue_xmit(): the netfilter egress hook (nf_hook_egress), then tc
 * egress (sch_handle_egress), then the qdisc: pfifo_fast holds txqueuelen
 * packets (all in one band: the model has no TOS priorities) and drops the
 * newcomer when full (QDISC_DROP).  A noqueue device goes straight to the
 * driver.  Nothing dropped here reaches the taps.
 */
void sim_dev_queue_xmit(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_dev *dev = skb->dev;

	skb->mac = (int32_t)skb->data;	/* skb_reset_mac_header */
	if (dev->kind != SIM_DEV_VLAN)
		c->t += c->host->costs.tx;
	sim_trace(c, SIM_ST_DEV_QUEUE_XMIT, skb, dev, SIM_DROP_NONE);
	if (!sim_nf_hook(c, dev->nf_egress, SIM_ST_NF_EGRESS, skb, NULL, dev))
		return;
	if (!sim_nf_hook(c, dev->tc_egress, SIM_ST_TC_EGRESS, skb, NULL, dev))
		return;
	if (dev->kind != SIM_DEV_ETHER) {
		xmit_one(c, dev, skb);
		return;
	}
	if (dev->qdisc.limit && dev->qdisc.len >= dev->qdisc.limit) {
		dev->qdisc_drops++;
		sim_kfree_skb_reason(c, SIM_ST_QDISC_ENQUEUE, skb, SIM_DROP_QDISC_DROP);
		return;
	}
	sim_queue_push(&dev->qdisc, skb);
	sim_trace(c, SIM_ST_QDISC_ENQUEUE, skb, dev, SIM_DROP_NONE);
	sim_qdisc_run(c, dev);
}
