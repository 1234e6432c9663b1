/*
 * af_packet.c - packet sockets, as net/packet/af_packet.c runs them, and
 * the protocol-handler lists of net/core/dev.c that reach them.
 *
 * A tap is a packet socket.  dev_add_pack() puts it at the head of one of
 * four lists (ptype_head(), Linux 6.15 and later): the namespace's
 * ptype_all (ETH_P_ALL, no device), a device's ptype_all (ETH_P_ALL,
 * bound), the namespace's ptype_specific (one protocol, no device) or a
 * device's ptype_specific (one protocol, bound); the model keeps the last
 * two in host->ptype_specific and tells them apart by tap->bound.  (The
 * global ptype_base holds only the protocols' handlers, ip_rcv and the
 * like; before 6.15 unbound protocol sockets were there too, ahead of
 * them.)
 *
 * Each delivery runs packet_rcv() (no ring: skbs queued against sk_rcvbuf)
 * or tpacket_rcv() (a TPACKET_V2 or TPACKET_V3 ring).  The ring is real
 * memory laid out exactly as the kernel lays it out (struct
 * tpacket_block_desc, tpacket3_hdr / tpacket2_hdr, sockaddr_ll, the packet
 * at tp_mac), so block filling, retiring and freezing happen for the same
 * packets as in the kernel, and the reader (pcap_reader.c) walks it the
 * way libpcap walks its mmap()ed copy.
 *
 * Kernel version: 6.18.  Its retire timer is an hrtimer that fires every
 * tp_retire_blk_tov from the ring's creation and is not restarted when a
 * block is opened (commit "net: af_packet: Use hrtimer to do the retire
 * operation"); before that a jiffies timer was restarted by every
 * prb_open_block().  Checked on the running kernel: with a 200 ms
 * timeout, a block opened 59 ms or 131 ms after the ring was made is
 * retired at about 195 ms either way.  The model fires it lazily: only when it has work to
 * do (a partly filled block, or a frozen queue whose block came back),
 * always on the same grid of times, so runs end when traffic ends.
 */
#include "model.h"
#include "kdefaults.h"
#include "sim_int.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define V3_ALIGNMENT 8u
#define ALIGN_V3(x) (((x) + V3_ALIGNMENT - 1) & ~(V3_ALIGNMENT - 1))
/* BLK_HDR_LEN, BLK_PLUS_PRIV(0): no private area (libpcap asks for none). */
#define BLK_HDR_LEN ((uint32_t)ALIGN_V3(sizeof(struct tpacket_block_desc)))
#define DEFAULT_PRB_RETIRE_TOV 8	/* ms, af_packet internal.h */
#define SIM_PAGE_SIZE 4096u
#define RING_MAX_BYTES (1ull << 30)	/* the model's own limit */
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

_Static_assert(TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) == 32,
	       "tpacket_rcv() BUILD_BUG_ON: tpacket2_hdr aligns to 32");
_Static_assert(TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) == 48,
	       "tpacket_rcv() BUILD_BUG_ON: tpacket3_hdr aligns to 48");
_Static_assert(sizeof(struct tpacket_block_desc) == 48, "the V3 block header");

/* Which packet a ring frame holds: the model's own record, kept beside
 * the ring in ring order, since the kernel's frame has no room for it. */
struct frame_shadow {
	uint64_t skb_id;
	uint32_t clone;
};

struct sim_tap_state {
	int sock_type;
	uint32_t reserve;		/* po->tp_reserve */
	uint8_t needs_poff, needs_random;
	/* packet_rcv(): sk_receive_queue and its charge. */
	struct sim_queue rcvq;
	uint32_t rcvbuf, rmem;		/* sk_rcvbuf, sk_rmem_alloc */
	/* tpacket_rcv(): the ring. */
	struct sim_tap_ring ring;
	uint32_t head;			/* V2: rx_ring.head */
	/* V3: struct tpacket_kbdq_core. */
	uint32_t kactive;		/* kactive_blk_num */
	uint32_t nxt_offset, prev_offset;	/* within the active block */
	uint32_t max_frame_len;
	uint8_t frozen;			/* reset_pending_on_curr_blk */
	uint64_t knxt_seq_num;
	sim_ns tov, anchor, timer_at;
	uint8_t timer_armed;
	/* The frames' owners, in ring order. */
	struct frame_shadow *shadow;
	uint32_t shadow_cap, shadow_head, shadow_len;
	/* po->stats and po->tp_drops since the last PACKET_STATISTICS read
	 * (tp_packets without the drops), and since the start. */
	struct sim_tap_stats since_read, total;
};

/* ------------------------------------------------------------------ */
/* Reporting. */

void sim_trace_tap(struct sim_ctx *c, enum sim_stage st, const struct sim_skb *skb,
		   const struct sim_dev *dev, enum sim_drop_reason drop,
		   const struct sim_tap_trace *tt)
{
	struct sim_event_rec ev;

	if (!c->w->obs)
		return;
	ev = (struct sim_event_rec){
		.t = c->t,
		.skb_id = skb ? skb->id : tt->skb_id,
		.clone = skb ? skb->clone : tt->clone,
		.host = c->host,
		.cpu = c->cpu ? c->cpu->id : -1,
		.dev = dev,
		.stage = st,
		.drop = drop,
		.skb = skb,
		.tap = tt->tap,
		.tap_result = (uint8_t)tt->result,
		.pkt_type = tt->pkt_type,
		.cap_bytes = tt->bytes,
		.caplen = tt->caplen,
		.wirelen = tt->wirelen,
		.cap_ts = tt->ts,
		.linktype = tt->linktype,
	};
	for (struct sim_observer *o = c->w->obs; o; o = o->next)
		o->event(o->ctx, &ev);
}

static void trace_result(struct sim_ctx *c, enum sim_stage st, struct sim_tap *tap,
			 const struct sim_skb *skb, const struct sim_dev *dev,
			 enum sim_tap_result result, const uint8_t *bytes, uint32_t caplen,
			 uint32_t wirelen)
{
	enum sim_drop_reason drop = SIM_DROP_NONE;

	/*
	 * A full receive buffer or ring is the model's FULL_RING.  The
	 * kernel frees the skb with kfree_skb_reason() on most of these
	 * paths, but the skb a tap gets is shared (deliver_skb() took a
	 * reference), so the drop tracepoint fires only for the last
	 * holder; tp_drops is the counter that always sees it.
	 */
	if (result == SIM_TAP_DROPPED) {
		drop = SIM_DROP_FULL_RING;
		c->host->drops[drop]++;
	}
	if (!c->w->obs)
		return;
	struct sim_tap_trace tt = {
		.tap = tap,
		.result = result,
		.pkt_type = skb->pkt_type,
		.bytes = bytes,
		.caplen = caplen,
		.wirelen = wirelen,
		.ts = c->t,
	};
	sim_trace_tap(c, st, skb, dev, drop, &tt);
}

/* ------------------------------------------------------------------ */
/* What the socket sees of the skb. */

struct pview {
	const uint8_t *mac;	/* skb_mac_header() (or skb->data if unset) */
	uint32_t data_off;	/* skb->data - mac, after the push or pull */
	uint32_t len;		/* skb->len, after */
	uint32_t maclen;	/* skb_network_offset(), after */
	uint32_t net_off;	/* the network header - mac */
	uint8_t has_mac;
};

/*
 * packet_rcv() / tpacket_rcv() on a device with a link-layer header
 * (dev_has_header(): Ethernet, loopback and VLAN devices all have one):
 * SOCK_RAW pushes the data back to the MAC header; SOCK_DGRAM keeps
 * incoming packets at the network header, and pulls outgoing ones (whose
 * data still starts at the MAC header, as dev_queue_xmit_nit() hands
 * them) to it.
 */
static void packet_view(const struct sim_tap_state *st, const struct sim_skb *skb,
			struct pview *v)
{
	uint32_t data = skb->data;
	uint32_t end = data + skb->len;
	uint32_t mac = skb->mac >= 0 ? (uint32_t)skb->mac : data;
	uint32_t net = skb->net >= 0 ? (uint32_t)skb->net : data;
	uint32_t d = data;

	/* dev_queue_xmit_nit() resets the clone's MAC header to its data,
	 * and a network header outside the data to the data ("protocol is
	 * buggy"). */
	if (mac > data || skb->pkt_type == PACKET_OUTGOING)
		mac = data;
	if (net < mac || net > end)
		net = data;
	if (st->sock_type != SOCK_DGRAM)
		d = mac;
	else if (skb->pkt_type == PACKET_OUTGOING && net >= data)
		d = net;
	v->mac = skb->head + mac;
	v->data_off = d - mac;
	v->len = end - d;
	v->maclen = net >= d ? net - d : 0;
	v->net_off = net - mac;
	v->has_mac = skb->mac >= 0 && end - mac >= ETH_HLEN;
}

/* run_filter(): the socket filter on the skb as the socket sees it; no
 * filter passes @res (the whole packet) through. */
static uint32_t run_filter(struct sim_ctx *c, struct sim_tap *tap, const struct sim_skb *skb,
			   const struct sim_dev *dev, const struct pview *v, uint32_t res)
{
	struct sim_tap_state *st = tap->st;
	struct bpfvm_packet pkt;
	struct bpfvm_meta meta;

	if (!tap->filter)
		return res;
	pkt = (struct bpfvm_packet){
		.bytes = v->mac,
		.caplen = v->data_off + v->len,
		.wirelen = v->data_off + v->len,
		.data_off = v->data_off,
		.net_off = v->net_off,
	};
	meta = (struct bpfvm_meta){
		.protocol = skb->protocol,
		.pkt_type = skb->pkt_type,
		.vlan_present = skb->vlan_present,
		.vlan_tci = skb->vlan_tci,
		.vlan_tpid = skb->vlan_tpid,
		.hatype = dev->type,
		.ifindex = dev->ifindex,
		.mark = skb->mark,
		.queue = skb->queue,
		.cpu = c->cpu ? (uint32_t)c->cpu->id : 0,
	};
	if (st->needs_poff)
		meta.pay_offset = sim_skb_get_poff(&pkt, &meta);
	if (st->needs_random)
		meta.random_seed = bpfvm_rand64(&c->w->rng);
	return bpfvm_run(tap->filter, &pkt, &meta);
}

/* ------------------------------------------------------------------ */
/* packet_rcv(): a socket without a ring. */

static void packet_rcv(struct sim_ctx *c, struct sim_tap *tap, const struct sim_skb *skb,
		       const struct sim_dev *dev, const struct pview *v)
{
	struct sim_tap_state *st = tap->st;
	uint32_t snaplen = v->len, res;
	struct sim_skb *n;

	res = run_filter(c, tap, skb, dev, v, snaplen);
	if (!res) {
		trace_result(c, SIM_ST_PACKET_RCV, tap, skb, dev, SIM_TAP_FILTERED, NULL, 0, v->len);
		return;
	}
	if (snaplen > res)
		snaplen = res;
	/*
	 * packet_rcv() compares what is already charged with sk_rcvbuf,
	 * before charging this skb: a socket may go over its buffer by one
	 * skb's truesize (unlike sock_queue_rcv_skb()'s check).
	 */
	if (st->rmem >= st->rcvbuf || !(n = sim_skb_clone(c->w, skb))) {
		st->since_read.tp_drops++;
		st->total.tp_drops++;
		trace_result(c, SIM_ST_PACKET_RCV, tap, skb, dev, SIM_TAP_DROPPED, NULL, 0, v->len);
		return;
	}
	/* The clone as the socket keeps it: from where the socket looks,
	 * PACKET_SKB_CB()->sa.origlen = skb->len, then pskb_trim(snaplen). */
	n->data = (uint32_t)(v->mac - skb->head) + v->data_off;
	n->origlen = v->len;
	n->len = snaplen;
	n->dev = (struct sim_dev *)dev;
	st->rmem += n->truesize;	/* skb_set_owner_r() */
	st->since_read.tp_packets++;
	st->total.tp_packets++;
	sim_queue_push(&st->rcvq, n);
	trace_result(c, SIM_ST_PACKET_RCV, tap, skb, dev, SIM_TAP_QUEUED, sim_skb_data(n), snaplen,
		     v->len);
	if (tap->pcap)
		sim_pcap_wakeup(c, tap);	/* sk_data_ready() */
}

struct sim_skb *sim_tap_recv(struct sim_tap *tap)
{
	struct sim_tap_state *st = tap->st;
	struct sim_skb *skb = sim_queue_pop(&st->rcvq);

	if (skb)
		st->rmem -= skb->truesize;
	return skb;
}

/* ------------------------------------------------------------------ */
/* The TPACKET_V3 block queue: prb_* in af_packet.c. */

static struct tpacket_block_desc *block(const struct sim_tap_state *st, uint32_t i)
{
	return (struct tpacket_block_desc *)(st->ring.mem + (size_t)i * st->ring.block_size);
}

static void set_ts(uint32_t *sec, uint32_t *nsec, sim_ns t)
{
	*sec = (uint32_t)(t / NS_PER_S);
	*nsec = (uint32_t)(t % NS_PER_S);
}

/* prb_open_block(): a fresh block, and the queue thawed.  (Before 6.18
 * it also restarted the retire timer.) */
static void prb_open_block(struct sim_tap_state *st, struct tpacket_block_desc *d, sim_ns t)
{
	struct tpacket_hdr_v1 *h1 = &d->hdr.bh1;

	h1->seq_num = st->knxt_seq_num++;
	h1->num_pkts = 0;
	h1->blk_len = BLK_HDR_LEN;
	set_ts(&h1->ts_first_pkt.ts_sec, &h1->ts_first_pkt.ts_nsec, t);
	h1->offset_to_first_pkt = BLK_HDR_LEN;
	d->offset_to_priv = BLK_HDR_LEN;
	d->version = TPACKET_V3;
	st->nxt_offset = BLK_HDR_LEN;
	st->prev_offset = BLK_HDR_LEN;
	st->frozen = 0;		/* prb_thaw_queue() */
}

/* prb_close_block(): hand the block to user space and wake it. */
static void prb_close_block(struct sim_ctx *c, struct sim_tap *tap, struct tpacket_block_desc *d,
			    uint32_t stat)
{
	struct sim_tap_state *st = tap->st;
	struct tpacket_hdr_v1 *h1 = &d->hdr.bh1;
	struct tpacket3_hdr *last = (struct tpacket3_hdr *)((uint8_t *)d + st->prev_offset);
	uint32_t status = TP_STATUS_USER | stat;

	if (st->since_read.tp_drops)
		status |= TP_STATUS_LOSING;
	if (h1->num_pkts) {
		last->tp_next_offset = 0;
		h1->ts_last_pkt.ts_sec = last->tp_sec;
		h1->ts_last_pkt.ts_nsec = last->tp_nsec;
	} else {
		set_ts(&h1->ts_last_pkt.ts_sec, &h1->ts_last_pkt.ts_nsec, c->t);
	}
	h1->block_status = status;
	st->kactive = st->kactive + 1 < st->ring.block_nr ? st->kactive + 1 : 0;
	if (tap->pcap)
		sim_pcap_wakeup(c, tap);	/* sk->sk_data_ready() */
}

/* prb_retire_current_block(): close the active block if the kernel still
 * owns it. */
static void prb_retire_current_block(struct sim_ctx *c, struct sim_tap *tap, uint32_t status)
{
	struct tpacket_block_desc *d = block(tap->st, tap->st->kactive);

	if (d->hdr.bh1.block_status == TP_STATUS_KERNEL)
		prb_close_block(c, tap, d, status);
}

/* prb_dispatch_next_block(): open the next block, or, when user space
 * still holds it, freeze the queue (prb_freeze_queue()).  1 if opened. */
static int prb_dispatch_next_block(struct sim_ctx *c, struct sim_tap *tap)
{
	struct sim_tap_state *st = tap->st;
	struct tpacket_block_desc *d = block(st, st->kactive);

	if (d->hdr.bh1.block_status & TP_STATUS_USER) {
		st->frozen = 1;
		st->since_read.tp_freeze_q_cnt++;
		st->total.tp_freeze_q_cnt++;
		return 0;
	}
	prb_open_block(st, d, c->t);
	return 1;
}

/* prb_fill_curr_block() and prb_run_all_ft_ops(): claim @len bytes at
 * the block's next offset. */
static uint8_t *prb_fill_curr_block(struct sim_tap_state *st, const struct sim_skb *skb,
				    uint32_t len)
{
	struct tpacket_block_desc *d = block(st, st->kactive);
	struct tpacket3_hdr *ppd = (struct tpacket3_hdr *)((uint8_t *)d + st->nxt_offset);
	uint32_t total = ALIGN_V3(len);

	ppd->tp_next_offset = total;
	st->prev_offset = st->nxt_offset;
	st->nxt_offset += total;
	d->hdr.bh1.blk_len += total;
	d->hdr.bh1.num_pkts++;
	ppd->hv1.tp_padding = 0;
	ppd->hv1.tp_rxhash = 0;	/* TP_FT_REQ_FILL_RXHASH not asked for */
	if (skb->vlan_present) {	/* prb_fill_vlan_info() */
		ppd->hv1.tp_vlan_tci = skb->vlan_tci;
		ppd->hv1.tp_vlan_tpid = skb->vlan_tpid;
		ppd->tp_status = TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	} else {
		ppd->hv1.tp_vlan_tci = 0;
		ppd->hv1.tp_vlan_tpid = 0;
		ppd->tp_status = TP_STATUS_AVAILABLE;
	}
	return (uint8_t *)ppd;
}

/*
 * __packet_lookup_frame_in_block(): room for a frame of @len bytes
 * (tp_mac + snaplen).  A frozen queue thaws only when the block that
 * froze it has come back; a frame fits only if it ends strictly before
 * the block does, else the block is retired and the next one opened (or
 * the queue frozen, and this packet lost).
 */
static uint8_t *lookup_frame_in_block(struct sim_ctx *c, struct sim_tap *tap,
				      const struct sim_skb *skb, uint32_t len)
{
	struct sim_tap_state *st = tap->st;
	struct tpacket_block_desc *d = block(st, st->kactive);

	if (st->frozen) {
		if (d->hdr.bh1.block_status & TP_STATUS_USER)
			return NULL;
		prb_open_block(st, d, c->t);
	}
	if ((uint64_t)st->nxt_offset + ALIGN_V3(len) < st->ring.block_size)
		return prb_fill_curr_block(st, skb, len);
	prb_retire_current_block(c, tap, 0);
	if (!prb_dispatch_next_block(c, tap))
		return NULL;
	return prb_fill_curr_block(st, skb, len);
}

/* ------------------------------------------------------------------ */
/* The retire timer (prb_retire_rx_blk_timer_expired), fired lazily. */

static int timer_has_work(const struct sim_tap_state *st)
{
	const struct tpacket_block_desc *d = block(st, st->kactive);

	if (!st->frozen)
		return d->hdr.bh1.num_pkts != 0 && d->hdr.bh1.block_status == TP_STATUS_KERNEL;
	return !(d->hdr.bh1.block_status & TP_STATUS_USER);
}

/* Make sure the timer fires at its next tick after @t when there is
 * something for it to do. */
static void arm_timer(struct sim_world *w, struct sim_tap *tap, sim_ns t)
{
	struct sim_tap_state *st = tap->st;
	sim_ns k;

	if (st->timer_armed || !st->tov || !timer_has_work(st))
		return;
	k = t >= st->anchor ? (t - st->anchor) / st->tov + 1 : 1;
	st->timer_at = st->anchor + k * st->tov;
	st->timer_armed = 1;
	sim_schedule(w, st->timer_at, SIM_EV_TAP_TIMER, tap, NULL);
}

void sim_ev_tap_timer(struct sim_world *w, struct sim_tap *tap)
{
	struct sim_tap_state *st = tap->st;
	struct sim_ctx c = { .w = w, .host = tap->host, .t = w->clock.now };
	struct tpacket_block_desc *d;

	if (!st->timer_armed || st->timer_at != w->clock.now)
		return;
	st->timer_armed = 0;
	d = block(st, st->kactive);
	if (!st->frozen) {
		/* A partly filled block: retire it, open the next. */
		if (d->hdr.bh1.num_pkts) {
			prb_retire_current_block(&c, tap, TP_STATUS_BLK_TMO);
			prb_dispatch_next_block(&c, tap);
		}
	} else if (!(d->hdr.bh1.block_status & TP_STATUS_USER)) {
		/* Frozen, user space caught up, the link is idle: reopen
		 * the block, which thaws the queue. */
		prb_open_block(st, d, c.t);
	}
	arm_timer(w, tap, c.t);
}

void sim_tap_ring_released(struct sim_ctx *c, struct sim_tap *tap)
{
	if (tap->st->ring.version == TPACKET_V3)
		arm_timer(c->w, tap, c->t);
}

/* ------------------------------------------------------------------ */
/* tpacket_rcv(): a socket with a ring. */

static uint8_t *v2_frame(const struct sim_tap_state *st, uint32_t i)
{
	return sim_tap_ring_v2_frame(&st->ring, i);
}

/* __packet_rcv_has_room() == ROOM_NONE: the frame (V2) or block (V3)
 * the kernel writes next is still user space's. */
static int ring_has_room(const struct sim_tap_state *st)
{
	if (st->ring.version == TPACKET_V3)
		return block(st, st->kactive)->hdr.bh1.block_status == TP_STATUS_KERNEL;
	return ((const struct tpacket2_hdr *)v2_frame(st, st->head))->tp_status == TP_STATUS_KERNEL;
}

static void shadow_push(struct sim_tap_state *st, const struct sim_skb *skb)
{
	if (st->shadow_len == st->shadow_cap)
		return;		/* cannot happen: the ring holds fewer frames */
	st->shadow[(st->shadow_head + st->shadow_len) % st->shadow_cap] =
		(struct frame_shadow){ skb->id, skb->clone };
	st->shadow_len++;
}

void sim_tap_ring_shadow_pop(struct sim_tap *tap, uint64_t *skb_id, uint32_t *clone)
{
	struct sim_tap_state *st = tap->st;

	*skb_id = 0;
	*clone = 0;
	if (!st->shadow_len)
		return;
	*skb_id = st->shadow[st->shadow_head].skb_id;
	*clone = st->shadow[st->shadow_head].clone;
	st->shadow_head = (st->shadow_head + 1) % st->shadow_cap;
	st->shadow_len--;
}

static void tpacket_rcv(struct sim_ctx *c, struct sim_tap *tap, const struct sim_skb *skb,
			const struct sim_dev *dev, const struct pview *v)
{
	struct sim_tap_state *st = tap->st;
	uint32_t snaplen = v->len, res, macoff, netoff, hdrlen;
	uint8_t *h;
	struct sockaddr_ll *sll;

	res = run_filter(c, tap, skb, dev, v, snaplen);
	if (!res) {
		trace_result(c, SIM_ST_TPACKET_RCV, tap, skb, dev, SIM_TAP_FILTERED, NULL, 0, v->len);
		return;
	}
	/* "If we are flooded, just give up": counted, but no freeze. */
	if (!ring_has_room(st))
		goto drop;
	if (snaplen > res)
		snaplen = res;
	/*
	 * Where the packet goes in its frame: after the header and the
	 * sockaddr_ll, with the network header aligned to 16 (plus
	 * PACKET_RESERVE, which libpcap uses to put a VLAN tag back).
	 */
	if (st->sock_type == SOCK_DGRAM) {
		macoff = netoff = TPACKET_ALIGN(st->ring.hdrlen) + 16 + st->reserve;
	} else {
		uint32_t maclen = v->maclen;

		netoff = TPACKET_ALIGN(st->ring.hdrlen + (maclen < 16 ? 16 : maclen)) + st->reserve;
		macoff = netoff - maclen;
	}
	if (netoff > 0xffff)
		goto drop;
	if (st->ring.version == TPACKET_V2) {
		/* A packet longer than the frame is cut (copy_thresh is 0). */
		if ((uint64_t)macoff + snaplen > st->ring.frame_size)
			snaplen = macoff < st->ring.frame_size ? st->ring.frame_size - macoff : 0;
		h = v2_frame(st, st->head);
		if (((struct tpacket2_hdr *)h)->tp_status != TP_STATUS_KERNEL)
			goto drop;
		st->head = st->head + 1 < st->ring.frame_nr ? st->head + 1 : 0;
	} else {
		/* "packet too big, clamped" to what one block can hold. */
		if ((uint64_t)macoff + snaplen > st->max_frame_len) {
			if (macoff <= st->max_frame_len) {
				snaplen = st->max_frame_len - macoff;
			} else {
				snaplen = 0;
				macoff = st->max_frame_len;
			}
		}
		h = lookup_frame_in_block(c, tap, skb, macoff + snaplen);
		if (!h)
			goto drop;
	}
	st->since_read.tp_packets++;
	st->total.tp_packets++;
	memcpy(h + macoff, v->mac + v->data_off, snaplen);	/* skb_copy_bits() */
	if (st->ring.version == TPACKET_V2) {
		struct tpacket2_hdr *h2 = (struct tpacket2_hdr *)h;
		uint32_t status = TP_STATUS_USER;

		if (st->since_read.tp_drops)
			status |= TP_STATUS_LOSING;
		h2->tp_len = v->len;
		h2->tp_snaplen = snaplen;
		h2->tp_mac = (uint16_t)macoff;
		h2->tp_net = (uint16_t)netoff;
		set_ts(&h2->tp_sec, &h2->tp_nsec, c->t);
		h2->tp_vlan_tci = skb->vlan_present ? skb->vlan_tci : 0;
		h2->tp_vlan_tpid = skb->vlan_present ? skb->vlan_tpid : 0;
		if (skb->vlan_present)
			status |= TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
		memset(h2->tp_padding, 0, sizeof(h2->tp_padding));
		h2->tp_status = status;	/* __packet_set_status(), last */
		hdrlen = sizeof(*h2);
	} else {
		struct tpacket3_hdr *h3 = (struct tpacket3_hdr *)h;

		h3->tp_status |= TP_STATUS_USER;
		h3->tp_len = v->len;
		h3->tp_snaplen = snaplen;
		h3->tp_mac = (uint16_t)macoff;
		h3->tp_net = (uint16_t)netoff;
		set_ts(&h3->tp_sec, &h3->tp_nsec, c->t);
		memset(h3->tp_padding, 0, sizeof(h3->tp_padding));
		hdrlen = sizeof(*h3);
	}
	sll = (struct sockaddr_ll *)(h + TPACKET_ALIGN(hdrlen));
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_hatype = dev->type;
	sll->sll_protocol = htons(skb->protocol);
	sll->sll_pkttype = skb->pkt_type;
	sll->sll_ifindex = (int)dev->ifindex;
	if (v->has_mac) {	/* dev_parse_header(): eth_header_parse(), the source */
		sll->sll_halen = ETH_ALEN;
		memcpy(sll->sll_addr, v->mac + ETH_ALEN, ETH_ALEN);
	}
	shadow_push(st, skb);
	trace_result(c, SIM_ST_TPACKET_RCV, tap, skb, dev, SIM_TAP_QUEUED, h + macoff, snaplen,
		     v->len);
	if (st->ring.version == TPACKET_V2) {
		if (tap->pcap)
			sim_pcap_wakeup(c, tap);	/* sk_data_ready() per frame */
	} else {
		arm_timer(c->w, tap, c->t);
	}
	return;
drop:
	st->since_read.tp_drops++;
	st->total.tp_drops++;
	trace_result(c, SIM_ST_TPACKET_RCV, tap, skb, dev, SIM_TAP_DROPPED, NULL, 0, v->len);
}

/* ------------------------------------------------------------------ */
/* deliver_skb() and the lists. */

static void deliver(struct sim_ctx *c, struct sim_tap *tap, struct sim_dev *dev,
		    const struct sim_skb *skb)
{
	struct pview v;

	c->t += c->host->costs.tap;
	/* Looped-back multicast (dev_loopback_xmit) is not for packet
	 * sockets; nor is a device of another network namespace. */
	if (skb->pkt_type == PACKET_LOOPBACK || dev->host != tap->host) {
		if (c->w->obs) {
			struct sim_tap_trace tt = { .tap = tap, .result = SIM_TAP_IGNORED,
						    .pkt_type = skb->pkt_type, .ts = c->t };

			sim_trace_tap(c, tap->st->ring.version ? SIM_ST_TPACKET_RCV : SIM_ST_PACKET_RCV,
				      skb, dev, SIM_DROP_NONE, &tt);
		}
		return;
	}
	packet_view(tap->st, skb, &v);
	if (tap->st->ring.version)
		tpacket_rcv(c, tap, skb, dev, &v);
	else
		packet_rcv(c, tap, skb, dev, &v);
}

/*
 * One ptype_all list.  On transmit (dev_queue_xmit_nit()), a tap that
 * set PACKET_IGNORE_OUTGOING is skipped, and so is the socket that sent
 * the packet (skb_loop_sk()); on receive neither check exists.
 */
static void walk_ptype_all(struct sim_ctx *c, struct sim_tap *list, struct sim_dev *dev,
			   const struct sim_skb *skb)
{
	int xmit = skb->pkt_type == PACKET_OUTGOING;

	for (struct sim_tap *t = list; t; t = t->next_list) {
		if (xmit && (t->ignore_outgoing || (skb->from_tap && skb->from_tap == t)))
			continue;
		deliver(c, t, dev, skb);
	}
}

/* __netif_receive_skb_core() and dev_queue_xmit_nit() walk the
 * namespace's ptype_all, then the device's. */
void sim_deliver_ptype_all(struct sim_ctx *c, struct sim_dev *dev, const struct sim_skb *skb)
{
	walk_ptype_all(c, c->host->ptype_all, dev, skb);
	walk_ptype_all(c, dev->ptype_all, dev, skb);
}

/* deliver_ptype_list_skb() over one list: the packet sockets bound to
 * skb->protocol and to @bound (NULL: to no device).  With @dev NULL only
 * says whether there is one. */
static int walk_ptype_specific(struct sim_ctx *c, const struct sim_dev *bound,
			       struct sim_dev *dev, const struct sim_skb *skb)
{
	int took = 0;

	for (struct sim_tap *t = c->host->ptype_specific; t; t = t->next_list) {
		if (t->proto != skb->protocol || t->bound != bound)
			continue;
		if (!dev)
			return 1;
		deliver(c, t, dev, skb);
		took = 1;
	}
	return took;
}

int sim_ptype_specific_wanted(struct sim_ctx *c, const struct sim_dev *orig_dev,
			      const struct sim_dev *dev, const struct sim_skb *skb)
{
	return walk_ptype_specific(c, NULL, NULL, skb) ||
	       walk_ptype_specific(c, orig_dev, NULL, skb) ||
	       (dev != orig_dev && walk_ptype_specific(c, dev, NULL, skb));
}

void sim_deliver_ptype_specific(struct sim_ctx *c, const struct sim_dev *orig_dev,
				struct sim_dev *dev, const struct sim_skb *skb)
{
	walk_ptype_specific(c, NULL, dev, skb);
	walk_ptype_specific(c, orig_dev, dev, skb);
	if (dev != orig_dev)
		walk_ptype_specific(c, dev, dev, skb);
}

/* ------------------------------------------------------------------ */
/* Statistics. */

/* packet_getsockopt(PACKET_STATISTICS): tp_drops is added to tp_packets
 * on the way out, and everything is cleared. */
void sim_tap_getsockopt_stats(struct sim_tap *tap, struct sim_tap_stats *out)
{
	struct sim_tap_state *st = tap->st;

	*out = st->since_read;
	out->tp_packets += out->tp_drops;
	memset(&st->since_read, 0, sizeof(st->since_read));
}

void sim_tap_stats(const struct sim_tap *tap, struct sim_tap_stats *out)
{
	*out = tap->st->total;
	out->tp_packets += out->tp_drops;
}

const struct sim_tap_ring *sim_tap_ring(const struct sim_tap *tap)
{
	return tap->st->ring.version ? &tap->st->ring : NULL;
}

/* ------------------------------------------------------------------ */
/* Opening and closing. */

/* prb_calc_retire_blk_tmo(): with no tp_retire_blk_tov, the time to fill
 * a block at line rate, for links of 1 Gb/s and more whose speed ethtool
 * reports (veth: 10 Gb/s); otherwise 8 ms.  lo reports no speed. */
static uint32_t prb_calc_retire_blk_tmo(const struct sim_dev *dev, uint32_t block_size)
{
	uint32_t speed = 0, mbits, div;

	if (dev && dev->kind != SIM_DEV_LOOPBACK)
		speed = 10000;
	if (speed < 1000)
		return DEFAULT_PRB_RETIRE_TOV;
	div = speed / 1000;
	mbits = (uint32_t)(((uint64_t)block_size * 8) / (1024 * 1024));
	mbits /= div;
	return mbits + 1;
}

/* packet_set_ring()'s checks, then init_prb_bdqc() for V3. */
static int setup_ring(struct sim_tap *tap, const struct sim_tap_cfg *cfg, char *errbuf)
{
	struct sim_tap_state *st = tap->st;
	struct sim_tap_ring *r = &st->ring;
	uint32_t min_frame, per_frame;

	r->version = cfg->ring_version;
	r->block_size = cfg->block_size;
	r->block_nr = cfg->block_nr;
	r->frame_size = cfg->frame_size ? cfg->frame_size : cfg->block_size;
	r->frame_nr = cfg->frame_nr ? cfg->frame_nr : cfg->block_nr;
	r->hdrlen = r->version == TPACKET_V3 ? TPACKET3_HDRLEN : TPACKET2_HDRLEN;
	min_frame = r->hdrlen + st->reserve;
	if (r->version != TPACKET_V2 && r->version != TPACKET_V3) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: ring version %u is not TPACKET_V2 or TPACKET_V3",
			 tap->name, r->version);
		return -1;
	}
	if (r->block_size == 0 || r->block_size % SIM_PAGE_SIZE || r->block_nr == 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "tap %s: packet_set_ring() wants a block size that is a non-zero multiple of the page size (4096) and at least one block, not %u x %u",
			 tap->name, r->block_nr, r->block_size);
		return -1;
	}
	if (r->version == TPACKET_V3 && r->block_size < BLK_HDR_LEN + min_frame) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: a block of %u bytes holds no frame",
			 tap->name, r->block_size);
		return -1;
	}
	if (r->frame_size < min_frame || r->frame_size % TPACKET_ALIGNMENT) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "tap %s: packet_set_ring() wants a frame size of at least %u and a multiple of %d, not %u",
			 tap->name, min_frame, TPACKET_ALIGNMENT, r->frame_size);
		return -1;
	}
	uint32_t per_block = r->block_size / r->frame_size;

	if (per_block == 0 || (uint64_t)per_block * r->block_nr != r->frame_nr) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "tap %s: packet_set_ring() wants frame_nr = blocks x frames per block (%u x %u), not %u",
			 tap->name, r->block_nr, per_block, r->frame_nr);
		return -1;
	}
	if ((uint64_t)r->block_size * r->block_nr > RING_MAX_BYTES) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: a ring of more than 1 GiB is beyond the model",
			 tap->name);
		return -1;
	}
	if (!(r->mem = calloc(r->block_nr, r->block_size)))
		goto oom;
	if (r->version == TPACKET_V3) {
		per_frame = ALIGN_V3(r->hdrlen + 1);
		st->shadow_cap = r->block_nr * ((r->block_size - BLK_HDR_LEN) / per_frame + 1);
		st->max_frame_len = r->block_size - BLK_HDR_LEN;
		st->knxt_seq_num = 1;
		st->tov = (sim_ns)(cfg->retire_tov_ms ? cfg->retire_tov_ms
				   : prb_calc_retire_blk_tmo(cfg->dev, r->block_size)) * NS_PER_MS;
		st->anchor = tap->host->w->clock.now;
		prb_open_block(st, block(st, 0), st->anchor);
	} else {
		st->shadow_cap = r->frame_nr;
	}
	if (!(st->shadow = calloc(st->shadow_cap, sizeof(*st->shadow))))
		goto oom;
	return 0;
oom:
	snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: out of memory for the ring", tap->name);
	return -1;
}

static int set_filter(struct sim_tap *tap, const struct bpfvm_prog *prog, char *errbuf)
{
	struct sim_tap_state *st = tap->st;
	char vmerr[BPFVM_ERRBUF_SIZE];

	if (!prog || !prog->len)
		return 0;
	tap->prog.insns = malloc(prog->len * sizeof(*prog->insns));
	if (!tap->prog.insns) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: out of memory for the filter", tap->name);
		return -1;
	}
	memcpy(tap->prog.insns, prog->insns, prog->len * sizeof(*prog->insns));
	tap->prog.len = prog->len;
	if (bpfvm_create(&tap->filter, &tap->prog, BPFVM_LINUX, vmerr) < 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %.31s: SO_ATTACH_FILTER refuses the filter: %.180s",
			 tap->name, vmerr);
		return -1;
	}
	/* The two ancillary loads that cost something to prepare. */
	for (uint32_t i = 0; i < prog->len; i++) {
		const struct bpfvm_insn *in = &prog->insns[i];

		if (BPF_CLASS(in->code) != BPF_LD || BPF_MODE(in->code) != BPF_ABS)
			continue;
		if (in->k == (uint32_t)(SKF_AD_OFF + SKF_AD_PAY_OFFSET))
			st->needs_poff = 1;
		if (in->k == (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM))
			st->needs_random = 1;
	}
	return 0;
}

struct sim_tap *sim_tap_new(struct sim_host *h, const struct sim_tap_cfg *cfg, char *errbuf)
{
	struct sim_tap *tap = calloc(1, sizeof(*tap));
	uint16_t proto = cfg->proto == ETH_P_ALL ? 0 : cfg->proto;

	if (!tap || !(tap->st = calloc(1, sizeof(*tap->st)))) {
		free(tap);
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory for a tap");
		return NULL;
	}
	snprintf(tap->name, sizeof(tap->name), "%s", cfg->name ? cfg->name : "tap");
	tap->host = h;
	tap->sock_type = cfg->sock_type;
	tap->proto = proto;
	tap->bound = cfg->dev;
	tap->ignore_outgoing = cfg->ignore_outgoing ? 1 : 0;
	tap->st->sock_type = cfg->sock_type;
	tap->st->reserve = cfg->reserve;
	tap->st->rcvbuf = cfg->rcvbuf ? cfg->rcvbuf : SIM_DEF_RMEM_DEFAULT;
	if (cfg->sock_type != SOCK_RAW && cfg->sock_type != SOCK_DGRAM) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: a packet socket is SOCK_RAW or SOCK_DGRAM",
			 tap->name);
		goto fail;
	}
	if (cfg->dev && cfg->dev->host != h) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: device %s is on another host", tap->name,
			 cfg->dev->name);
		goto fail;
	}
	if (set_filter(tap, cfg->filter, errbuf) < 0)
		goto fail;
	if (cfg->ring_version && setup_ring(tap, cfg, errbuf) < 0)
		goto fail;
	if (cfg->reader == SIM_READER_TCPDUMP) {
		if (!cfg->ring_version) {
			snprintf(errbuf, BPFVM_ERRBUF_SIZE,
				 "tap %s: libpcap 1.10 reads only through a ring (TPACKET_V2 or V3)",
				 tap->name);
			goto fail;
		}
		if (sim_pcap_open(tap, cfg, errbuf) < 0)
			goto fail;
	}
	/* dev_add_pack(): list_add_rcu() at the head of ptype_head(). */
	struct sim_tap **list = proto ? &h->ptype_specific : cfg->dev ? &cfg->dev->ptype_all : &h->ptype_all;

	tap->next_list = *list;
	*list = tap;
	struct sim_tap **p = &h->taps;

	while (*p)
		p = &(*p)->next_host;
	*p = tap;
	return tap;
fail:
	sim_tap_free(h->w, tap);
	return NULL;
}

void sim_tap_free(struct sim_world *w, struct sim_tap *tap)
{
	struct sim_skb *skb;

	if (!tap)
		return;
	sim_pcap_close(tap);
	if (tap->st) {
		while ((skb = sim_queue_pop(&tap->st->rcvq)))
			sim_skb_free(w, skb);
		free(tap->st->ring.mem);
		free(tap->st->shadow);
		free(tap->st);
	}
	bpfvm_destroy(tap->filter);
	free(tap->prog.insns);
	free(tap);
}
