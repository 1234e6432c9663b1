/*
 * rx.c - the receive path, from the NIC to the protocol handlers.
 *
 *   wire -> sim_nic_rx (DMA into the RX ring; full: rx_missed_errors)
 *        -> SIM_EV_HARD_IRQ (coalesced) -> napi_schedule -> NET_RX softirq
 *        -> SIM_EV_SOFTIRQ: net_rx_action, one packet a step, polling the
 *           CPU's NAPI list (device rings, and the backlog that netif_rx
 *           paths - loopback, veth - fill) with weight and budget
 *        -> the driver's eth_type_trans -> __netif_receive_skb_core:
 *           VLAN untag, ptype_all taps, tc ingress, netfilter ingress,
 *           VLAN devices, ip_rcv/ipv6_rcv/arp_rcv, then protocol-bound sockets.
 *
 * A softirq step handles exactly one packet, so frames arriving while the
 * CPU works interleave with it at the right times and the RX ring's fill
 * level is right at every arrival.
 */
#include "model.h"
#include "sim_int.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>

#define VLAN_HLEN 4

/* ---- NAPI lists (list_head, in the order the kernel keeps them) ---- */

static void napi_list_add_tail(struct sim_napi_list *l, struct sim_napi *n)
{
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static struct sim_napi *napi_list_pop(struct sim_napi_list *l)
{
	struct sim_napi *n = l->head;

	l->head = n->next;
	if (!l->head)
		l->tail = NULL;
	n->next = NULL;
	return n;
}

/* list_splice_tail_init(@from, @to). */
static void napi_list_splice_tail(struct sim_napi_list *to, struct sim_napi_list *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

/* ---- the NIC and its interrupt ------------------------------------- */

/*
 * Known divergence (docs/divergences.md): the model runs NET_RX as its
 * own event.  In the kernel a process-context sender's
 * __dev_queue_xmit() ends with rcu_read_unlock_bh(), and local_bh_enable()
 * runs the pending softirq at once, so one sender's loopback packets are
 * received one by one and never pile up in the backlog; in the model a
 * burst from one sender does pile up.  A real backlog overflow needs RPS
 * or netif_rx() from interrupt context, which the model does not have.
 */
static void raise_net_rx(struct sim_world *w, struct sim_cpu *cpu, sim_ns t)
{
	if (cpu->softirq_pending || cpu->in_run)
		return;
	cpu->softirq_pending = 1;
	sim_schedule(w, t > cpu->busy_until ? t : cpu->busy_until, SIM_EV_SOFTIRQ, cpu, NULL);
}

/* ____napi_schedule(): put @napi on its CPU's poll list and raise
 * NET_RX_SOFTIRQ, unless it is scheduled already (NAPI_STATE_SCHED). */
static void napi_schedule(struct sim_world *w, struct sim_napi *napi, sim_ns t)
{
	if (napi->scheduled)
		return;
	napi->scheduled = 1;
	napi_list_add_tail(&napi->cpu->poll, napi);
	raise_net_rx(w, napi->cpu, t);
}

/* The NIC raises its interrupt for waiting frames, at most once per
 * coalescing interval (rx-usecs), at once when rx-frames are waiting. */
static void nic_arm_irq(struct sim_world *w, struct sim_dev *dev, sim_ns now)
{
	sim_ns t;

	if (!dev->irq_enabled || dev->irq_scheduled || dev->rx_ring.len == 0)
		return;
	t = dev->last_irq + dev->coalesce > now ? dev->last_irq + dev->coalesce : now;
	if (dev->coalesce_frames && dev->rx_ring.len >= dev->coalesce_frames)
		t = now;
	dev->irq_scheduled = 1;
	sim_schedule(w, t, SIM_EV_HARD_IRQ, dev, NULL);
}

void sim_nic_rx(struct sim_ctx *c, struct sim_dev *dev, struct sim_skb *skb)
{
	skb->dev = dev;
	skb->tstamp = c->t;
	sim_trace(c, SIM_ST_WIRE_RX, skb, dev, SIM_DROP_NONE);
	/*
	 * The NIC has no free descriptor: the frame is lost in hardware and
	 * never becomes an skb, so no tap can ever see it; only the
	 * driver's rx_missed_errors counter (ethtool -S) tells.
	 */
	if (dev->rx_ring.len >= dev->rx_ring.limit) {
		dev->stats.rx_missed_errors++;
		sim_trace(c, SIM_ST_NIC_DMA, skb, dev, SIM_DROP_RX_MISSED);
		sim_skb_free(c->w, skb);
		return;
	}
	sim_queue_push(&dev->rx_ring, skb);
	sim_trace(c, SIM_ST_NIC_DMA, skb, dev, SIM_DROP_NONE);
	nic_arm_irq(c->w, dev, c->t);
}

void sim_ev_hard_irq(struct sim_world *w, struct sim_dev *dev)
{
	struct sim_cpu *cpu = dev->napi.cpu;
	sim_ns t = w->clock.now;
	struct sim_ctx c = { .w = w, .host = dev->host, .cpu = cpu, .t = t };

	dev->irq_scheduled = 0;
	if (!dev->irq_enabled)
		return;
	dev->last_irq = t;
	/* The handler masks the device's interrupt and schedules NAPI; it
	 * runs on the CPU, ahead of any softirq work. */
	dev->irq_enabled = 0;
	cpu->busy_until = (cpu->busy_until > t ? cpu->busy_until : t) + dev->host->costs.irq;
	sim_trace(&c, SIM_ST_HARD_IRQ, NULL, dev, SIM_DROP_NONE);
	napi_schedule(w, &dev->napi, cpu->busy_until);
}

/* ---- netif_rx and the backlog -------------------------------------- */

/*
 * enqueue_to_backlog(): netif_rx() paths (loopback_xmit, veth) queue to
 * the CPU's input_pkt_queue.  The test is qlen > netdev_max_backlog, so
 * the queue holds at most max + 1 packets; a drop counts softnet_stat's
 * dropped and the device's rx_dropped, and no tap sees the packet.
 */
int sim_netif_rx(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_cpu *cpu = c->cpu ? c->cpu : &c->host->cpu[0];

	if (cpu->backlog.len > c->host->sysctl.netdev_max_backlog) {
		cpu->dropped++;
		if (skb->dev)
			skb->dev->stats.rx_dropped++;
		sim_kfree_skb_reason(c, SIM_ST_NETIF_RX, skb, SIM_DROP_CPU_BACKLOG);
		return -1;
	}
	sim_queue_push(&cpu->backlog, skb);
	sim_trace(c, SIM_ST_NETIF_RX, skb, skb->dev, SIM_DROP_NONE);
	napi_schedule(c->w, &cpu->backlog_napi, c->t);
	return 0;
}

/* ---- net_rx_action ------------------------------------------------- */

/* The end of a net_rx_action() run: what it did not reach, then what was
 * scheduled meanwhile, then what used its whole weight go back on the
 * poll list, and NET_RX_SOFTIRQ is raised again if that is not empty
 * (__do_softirq's restart, or ksoftirqd). */
static void end_run(struct sim_world *w, struct sim_cpu *cpu, sim_ns t)
{
	struct sim_napi_list l = cpu->run;

	cpu->run.head = cpu->run.tail = NULL;
	napi_list_splice_tail(&l, &cpu->poll);
	napi_list_splice_tail(&l, &cpu->repoll);
	cpu->poll = l;
	cpu->in_run = 0;
	if (cpu->poll.head) {
		cpu->softirq_pending = 1;
		sim_schedule(w, t, SIM_EV_SOFTIRQ, cpu, NULL);
	}
}

/* The driver's receive: eth_type_trans() sets pkt_type and protocol and
 * pulls the Ethernet header; then napi_gro_receive -> netif_receive_skb. */
static void driver_receive(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_dev *dev = skb->dev;

	if (skb->len < ETH_HLEN) {
		sim_kfree_skb_reason(c, SIM_ST_ETH_TYPE_TRANS, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += skb->len;
	skb->mac = (int32_t)skb->data;
	sim_eth_type_trans(dev->mac, sim_skb_data(skb), skb->len, &skb->pkt_type, &skb->protocol);
	sim_skb_pull(skb, ETH_HLEN);
	sim_netif_receive_skb_core(c, skb);
}

/*
 * One step of net_rx_action(): one packet from the NAPI at the head of
 * the run's list.  A run takes the poll list as it finds it and polls
 * each NAPI on it once: a poll ends when the NAPI has done its weight
 * (set aside for the next run, even if its queue is now empty: the
 * driver - or process_backlog - returns the weight without
 * napi_complete_done(), and __napi_poll() repolls it) or when its queue
 * is empty (napi_complete_done: off the list, the device's IRQ
 * re-enabled).  NAPIs scheduled during the run are polled in it only once
 * nothing was set aside.  After each poll the kernel checks the budget
 * and the time limit; running out of either counts time_squeeze, even
 * when nothing was left to do.  So one NAPI alone never exhausts
 * netdev_budget (300) with its weight (64): the budget runs out only when
 * several NAPIs share the CPU.
 */
void sim_ev_softirq(struct sim_world *w, struct sim_cpu *cpu)
{
	struct sim_host *h = cpu->host;
	struct sim_ctx c = { .w = w, .host = h, .cpu = cpu, .t = w->clock.now };
	struct sim_napi *napi;
	struct sim_skb *skb;
	int poll_done = 0;

	if (c.t < cpu->busy_until) {	/* a hard IRQ got in first */
		sim_schedule(w, cpu->busy_until, SIM_EV_SOFTIRQ, cpu, NULL);
		return;
	}
	if (!cpu->in_run) {
		cpu->softirq_pending = 0;
		cpu->in_run = 1;
		cpu->budget = (int)h->sysctl.netdev_budget;
		cpu->time_limit = c.t + (sim_ns)h->sysctl.netdev_budget_usecs * 1000;
		napi_list_splice_tail(&cpu->run, &cpu->poll);
	}
	if (!cpu->run.head && !cpu->repoll.head)	/* "goto start" */
		napi_list_splice_tail(&cpu->run, &cpu->poll);
	if (!cpu->run.head) {
		end_run(w, cpu, c.t);
		return;
	}
	napi = cpu->run.head;
	skb = sim_queue_pop(napi->dev ? &napi->dev->rx_ring : &cpu->backlog);
	if (skb) {
		napi->work++;
		cpu->budget--;
		cpu->processed++;
		c.t += h->costs.rx;
		sim_trace(&c, napi->dev ? SIM_ST_NAPI_POLL : SIM_ST_PROCESS_BACKLOG, skb, skb->dev,
			  SIM_DROP_NONE);
		if (napi->dev)
			driver_receive(&c, skb);
		else
			sim_netif_receive_skb_core(&c, skb);
	}
	if (napi->work >= napi->weight) {
		napi_list_add_tail(&cpu->repoll, napi_list_pop(&cpu->run));
		napi->work = 0;
		poll_done = 1;
	} else if ((napi->dev ? napi->dev->rx_ring.len : cpu->backlog.len) == 0) {
		/* napi_complete_done(): the device may interrupt again. */
		napi_list_pop(&cpu->run);
		napi->scheduled = 0;
		napi->work = 0;
		if (napi->dev)
			napi->dev->irq_enabled = 1;
		poll_done = 1;
	}
	cpu->busy_until = c.t;
	if (poll_done && (cpu->budget <= 0 || c.t >= cpu->time_limit)) {
		cpu->time_squeeze++;
		end_run(w, cpu, c.t);
	} else {
		sim_schedule(w, c.t, SIM_EV_SOFTIRQ, cpu, NULL);
	}
	/* Frames that came while the IRQ was masked raise it now. */
	if (poll_done && napi->dev)
		nic_arm_irq(w, napi->dev, c.t);
}

/* ---- __netif_receive_skb_core -------------------------------------- */

/*
 * skb_vlan_untag(): pull the tag and the two bytes after it (or free the
 * skb unseen), record TCI and TPID, take the protocol from the
 * encapsulated type, and slide the MAC addresses over the tag
 * (skb_reorder_vlan_header), so the taps see an untagged frame.
 */
static struct sim_skb *vlan_untag(struct sim_ctx *c, struct sim_skb *skb)
{
	uint8_t *d = sim_skb_data(skb);

	if (skb->len < VLAN_HLEN + 2) {
		sim_kfree_skb_reason(c, SIM_ST_VLAN_UNTAG, skb, SIM_DROP_NOT_SPECIFIED);
		return NULL;
	}
	skb->vlan_present = 1;
	skb->vlan_tpid = skb->protocol;
	skb->vlan_tci = (uint16_t)(d[0] << 8 | d[1]);
	skb->protocol = sim_vlan_encap_proto(d, skb->len);
	sim_skb_pull(skb, VLAN_HLEN);
	memmove(skb->head + skb->mac + VLAN_HLEN, skb->head + skb->mac, 2 * ETH_ALEN);
	skb->mac += VLAN_HLEN;
	return skb;
}

static struct sim_dev *vlan_find_dev(struct sim_host *h, struct sim_dev *real, uint16_t vid)
{
	for (unsigned i = 0; i < h->ndevs; i++)
		if (h->devs[i]->kind == SIM_DEV_VLAN && h->devs[i]->vlan_parent == real &&
		    h->devs[i]->vlan_id == vid)
			return h->devs[i];
	return NULL;
}

void sim_netif_receive_skb_core(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_dev *orig_dev = skb->dev, *dev;

another_round:
	dev = skb->dev;
	skb->net = (int32_t)skb->data;	/* skb_reset_network_header */
	if (sim_eth_type_vlan(skb->protocol) && !skb->vlan_present) {
		if (!(skb = vlan_untag(c, skb)))
			return;
		skb->net = (int32_t)skb->data;
	}
	/* ptype_all: where tcpdump sees a packet coming in. */
	sim_trace(c, SIM_ST_TAPS_RX, skb, dev, SIM_DROP_NONE);
	sim_deliver_ptype_all(c, dev, skb);

	if (dev->tc_ingress && !sim_nf_hook(c, dev->tc_ingress, SIM_ST_TC_INGRESS, skb, dev, NULL))
		return;
	if (dev->nf_ingress && !sim_nf_hook(c, dev->nf_ingress, SIM_ST_NF_INGRESS, skb, dev, NULL))
		return;

	/*
	 * vlan_do_receive(): a tagged packet goes to the VLAN device of its
	 * id, untagged, and round again (that device's taps see it).  With no
	 * such device a non-zero id marks the packet OTHERHOST, so ip_rcv
	 * drops it; either way the tag is cleared.
	 */
	if (skb->vlan_present) {
		uint16_t vid = skb->vlan_tci & 0x0fff;
		struct sim_dev *vdev = vlan_find_dev(c->host, dev, vid);

		skb->vlan_present = 0;
		skb->vlan_tci = skb->vlan_tpid = 0;
		if (vdev) {
			skb->dev = vdev;
			if (skb->pkt_type == PACKET_OTHERHOST &&
			    memcmp(skb->head + skb->mac, vdev->mac, ETH_ALEN) == 0)
				skb->pkt_type = PACKET_HOST;
			vdev->stats.rx_packets++;
			vdev->stats.rx_bytes += skb->len;
			goto another_round;
		}
		if (vid)
			skb->pkt_type = PACKET_OTHERHOST;
	}

	/*
	 * The protocol's own handler (the global ptype_base), then the packet
	 * sockets bound to the protocol (sim_deliver_ptype_specific(): since
	 * Linux 6.15 even those on no device come after the handler).  While
	 * sockets wait behind it the skb is shared, so the handler's
	 * skb_share_check() clones it: the stack works on the clone and the
	 * sockets get the packet as it arrived, after the stack is done with
	 * it.  Nobody at all: UNHANDLED_PROTO.
	 */
	void (*handler)(struct sim_ctx *, struct sim_skb *) =
		skb->protocol == ETH_P_IP     ? sim_ip_rcv
		: skb->protocol == ETH_P_IPV6 ? sim_ipv6_rcv
		: skb->protocol == ETH_P_ARP  ? sim_arp_rcv
					      : NULL;
	int tapped = sim_ptype_specific_wanted(c, orig_dev, dev, skb);

	sim_trace(c, SIM_ST_PTYPE_BASE, skb, dev, SIM_DROP_NONE);
	if (handler && !tapped) {
		handler(c, skb);
		return;
	}
	if (!handler && !tapped) {
		dev->stats.rx_dropped++;
		sim_kfree_skb_reason(c, SIM_ST_PTYPE_BASE, skb, SIM_DROP_UNHANDLED_PROTO);
		return;
	}
	if (handler) {
		struct sim_skb *shared = sim_skb_clone(c->w, skb);

		if (shared)	/* else skb_share_check() failed: the stack never sees it */
			handler(c, shared);
	}
	sim_deliver_ptype_specific(c, orig_dev, dev, skb);
	sim_consume_skb(c, skb);
}
