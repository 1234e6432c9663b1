/*
 * test_af_packet.c - packet sockets and the tcpdump reader in the model,
 * each case named for the kernel or libpcap rule it checks
 * (net/packet/af_packet.c, net/core/dev.c, libpcap's pcap-linux.c,
 * tcpdump.c).  Worlds are built by hand and packets handed straight to
 * the delivery functions, without the receive path.
 */
#include "testutil.h"
#include "model.h"

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MS 1000000ull
#define US 1000ull

/* ------------------------------------------------------------------ */
/* Fixtures. */

struct rec {
	unsigned n[SIM_STAGE_COUNT][8];	/* by stage and tap_result */
	const struct sim_tap *order[16];	/* taps in delivery order */
	unsigned norder;
	uint32_t caplen, wirelen;	/* of the last event with bytes */
	uint8_t bytes[2048];
	uint8_t pkt_type;
	int linktype;
	/* ring-full check: at every drop, no block the kernel could use */
	const struct sim_tap *watch;
	unsigned drops_with_room;
	unsigned drops_seen;
};

static void on_event(void *ctx, const struct sim_event_rec *ev)
{
	struct rec *r = ctx;

	if (ev->tap_result < 8)
		r->n[ev->stage][ev->tap_result]++;
	if ((ev->stage == SIM_ST_PACKET_RCV || ev->stage == SIM_ST_TPACKET_RCV) &&
	    r->norder < 16)
		r->order[r->norder++] = ev->tap;
	if (ev->cap_bytes && ev->caplen <= sizeof(r->bytes)) {
		memcpy(r->bytes, ev->cap_bytes, ev->caplen);
		r->caplen = ev->caplen;
		r->wirelen = ev->wirelen;
		r->pkt_type = ev->pkt_type;
		r->linktype = ev->linktype;
	}
	if (r->watch && ev->tap == r->watch && ev->tap_result == SIM_TAP_DROPPED) {
		const struct sim_tap_ring *ring = sim_tap_ring(r->watch);

		r->drops_seen++;
		for (uint32_t b = 0; b < ring->block_nr; b++) {
			const struct tpacket_block_desc *d =
				(const void *)(ring->mem + (size_t)b * ring->block_size);

			if (!(d->hdr.bh1.block_status & TP_STATUS_USER)) {
				r->drops_with_room++;
				break;
			}
		}
	}
}

struct fx {
	struct sim_world *w;
	struct sim_host *h;
	struct sim_dev *eth0, *lo;
	struct rec rec;
	struct sim_observer obs;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->w = sim_world_new(1);
	assert_non_null(f->w);
	f->h = sim_host_new(f->w, "a", 1);
	assert_non_null(f->h);
	f->eth0 = sim_dev_new(f->h, "eth0", SIM_DEV_ETHER);
	assert_non_null(f->eth0);
	f->lo = sim_host_dev(f->h, "lo");
	f->obs = (struct sim_observer){ .event = on_event, .ctx = &f->rec };
	sim_world_add_observer(f->w, &f->obs);
	return f;
}

static void fx_free(struct fx *f)
{
	sim_world_free(f->w);
	free(f);
}

static struct sim_ctx ctx_at(struct fx *f, sim_ns t)
{
	return (struct sim_ctx){ .w = f->w, .host = f->h, .cpu = &f->h->cpu[0], .t = t };
}

/*
 * A frame of @len bytes (Ethernet header included) with ethertype
 * @proto, as the taps get it: incoming after eth_type_trans() (data at
 * the network header), or outgoing as dev_queue_xmit_nit() hands it
 * (pkt_type PACKET_OUTGOING, data at the MAC header).
 */
static struct sim_skb *mkskb(struct fx *f, struct sim_dev *dev, uint32_t len, uint16_t proto,
			     uint8_t pkt_type)
{
	struct sim_skb *skb = sim_skb_alloc(f->w, len);
	uint8_t *p;

	assert_non_null(skb);
	p = sim_skb_data(skb);
	memset(p, 0, len);
	memcpy(p, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x02", 6);
	p[12] = (uint8_t)(proto >> 8);
	p[13] = (uint8_t)proto;
	p[14] = 0x45;
	for (uint32_t i = 15; i < len; i++)
		p[i] = (uint8_t)i;
	skb->mac = (int32_t)skb->data;
	skb->net = (int32_t)skb->data + ETH_HLEN;
	skb->protocol = proto;
	skb->pkt_type = pkt_type;
	skb->dev = dev;
	if (pkt_type != PACKET_OUTGOING)
		sim_skb_pull(skb, ETH_HLEN);	/* eth_type_trans() */
	return skb;
}

/* Hand one packet to every ptype_all tap at time @t and free it. */
static void send_all(struct fx *f, struct sim_dev *dev, sim_ns t, uint32_t len, uint16_t proto,
		     uint8_t pkt_type)
{
	struct sim_ctx c = ctx_at(f, t);
	struct sim_skb *skb = mkskb(f, dev, len, proto, pkt_type);

	sim_deliver_ptype_all(&c, dev, skb);
	sim_skb_free(f->w, skb);
}

static struct sim_tap *open_tap(struct fx *f, const struct sim_tap_cfg *cfg)
{
	char err[BPFVM_ERRBUF_SIZE] = "";
	struct sim_tap *t = sim_tap_new(f->h, cfg, err);

	if (!t)
		print_message("sim_tap_new: %s\n", err);
	assert_non_null(t);
	return t;
}

static struct sim_tap_cfg raw_cfg(struct sim_dev *dev)
{
	return (struct sim_tap_cfg){ .name = "t", .sock_type = SOCK_RAW, .proto = ETH_P_ALL, .dev = dev };
}

static struct sim_tap_cfg ring_cfg(struct sim_dev *dev, uint32_t bsize, uint32_t bnr, uint32_t tov_ms)
{
	struct sim_tap_cfg c = raw_cfg(dev);

	c.ring_version = TPACKET_V3;
	c.block_size = bsize;
	c.block_nr = bnr;
	c.retire_tov_ms = tov_ms;
	return c;
}

static const struct tpacket_block_desc *blk(const struct sim_tap *t, uint32_t i)
{
	const struct sim_tap_ring *r = sim_tap_ring(t);

	return (const struct tpacket_block_desc *)(r->mem + (size_t)i * r->block_size);
}

static struct bpfvm_prog prog1(struct bpfvm_insn *insns, uint32_t n)
{
	return (struct bpfvm_prog){ .insns = insns, .len = n };
}

/* ------------------------------------------------------------------ */
/* run_filter(), snaplen and the socket's view. */

/* run_filter() returning 0: not delivered, and not counted anywhere. */
static void test_filter_zero_is_not_a_drop(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct bpfvm_insn ret0[] = { { BPF_RET | BPF_K, 0, 0, 0 } };
	struct bpfvm_prog p = prog1(ret0, 1);
	struct sim_tap_cfg q = raw_cfg(NULL), r = ring_cfg(NULL, 4096, 4, 10);
	struct sim_tap_stats st;

	q.filter = &p;
	r.filter = &p;
	struct sim_tap *tq = open_tap(f, &q), *tr = open_tap(f, &r);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	assert_int_equal(f->rec.n[SIM_ST_PACKET_RCV][SIM_TAP_FILTERED], 1);
	assert_int_equal(f->rec.n[SIM_ST_TPACKET_RCV][SIM_TAP_FILTERED], 1);
	sim_tap_stats(tq, &st);
	assert_int_equal(st.tp_packets, 0);
	assert_int_equal(st.tp_drops, 0);
	sim_tap_stats(tr, &st);
	assert_int_equal(st.tp_packets + st.tp_drops, 0);
	assert_int_equal(f->h->drops[SIM_DROP_FULL_RING], 0);
	assert_int_equal(blk(tr, 0)->hdr.bh1.num_pkts, 0);
	fx_free(f);
}

/* snaplen = min(skb->len, run_filter()); tp_len keeps the whole length. */
static void test_snaplen_is_min_of_len_and_filter_result(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct bpfvm_insn ret20[] = { { BPF_RET | BPF_K, 0, 0, 20 } };
	struct bpfvm_insn ret1k[] = { { BPF_RET | BPF_K, 0, 0, 1000 } };
	struct bpfvm_prog p20 = prog1(ret20, 1), p1k = prog1(ret1k, 1);
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 2, 10);

	c.filter = &p20;
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	const struct tpacket3_hdr *h =
		(const void *)((const uint8_t *)blk(t, 0) + blk(t, 0)->hdr.bh1.offset_to_first_pkt);
	assert_int_equal(h->tp_snaplen, 20);
	assert_int_equal(h->tp_len, 60);
	assert_int_equal(f->rec.caplen, 20);
	assert_int_equal(f->rec.wirelen, 60);

	/* a bigger result than the packet: the packet */
	c.filter = &p1k;
	c.name = "u";
	struct sim_tap *u = open_tap(f, &c);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	h = (const void *)((const uint8_t *)blk(u, 0) + blk(u, 0)->hdr.bh1.offset_to_first_pkt);
	assert_int_equal(h->tp_snaplen, 60);

	/* without a ring, pskb_trim() to the same length */
	struct sim_tap_cfg q = raw_cfg(NULL);
	q.filter = &p20;
	struct sim_tap *tq = open_tap(f, &q);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	struct sim_skb *skb = sim_tap_recv(tq);
	assert_non_null(skb);
	assert_int_equal(skb->len, 20);
	assert_int_equal(skb->origlen, 60);
	sim_skb_free(f->w, skb);
	fx_free(f);
}

/* SOCK_RAW sees the frame from the MAC header (skb_push); SOCK_DGRAM from
 * the network header, incoming as it is, outgoing after skb_pull(). */
static void test_sock_dgram_sees_the_network_header(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	/* accept 1000 bytes if the first byte is 0x45 (an IPv4 header) */
	struct bpfvm_insn is_ip[] = {
		{ BPF_LD | BPF_B | BPF_ABS, 0, 0, 0 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x45 },
		{ BPF_RET | BPF_K, 0, 0, 1000 },
		{ BPF_RET | BPF_K, 0, 0, 0 },
	};
	struct bpfvm_prog p = prog1(is_ip, 4);
	struct sim_tap_cfg d = raw_cfg(NULL), r = raw_cfg(NULL);

	d.sock_type = SOCK_DGRAM;
	d.filter = &p;
	r.filter = &p;
	struct sim_tap *td = open_tap(f, &d), *tr = open_tap(f, &r);

	send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_HOST);
	send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_OUTGOING);
	struct sim_tap_stats st;

	sim_tap_stats(td, &st);
	assert_int_equal(st.tp_packets, 2);	/* both directions at the IP header */
	sim_tap_stats(tr, &st);
	assert_int_equal(st.tp_packets, 0);	/* raw: byte 0 is a MAC address */
	for (int i = 0; i < 2; i++) {
		struct sim_skb *skb = sim_tap_recv(td);

		assert_non_null(skb);
		assert_int_equal(skb->len, 86);
		assert_int_equal(sim_skb_data(skb)[0], 0x45);
		sim_skb_free(f->w, skb);
	}
	fx_free(f);
}

/* The filter runs with linux semantics: ancillary loads see the skb. */
static void test_filter_runs_with_linux_semantics(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct bpfvm_insn outgoing[] = {
		{ BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE) },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, PACKET_OUTGOING },
		{ BPF_RET | BPF_K, 0, 0, 0xffff },
		{ BPF_RET | BPF_K, 0, 0, 0 },
	};
	struct bpfvm_prog p = prog1(outgoing, 4);
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;

	c.filter = &p;
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_OUTGOING);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets, 1);

	/* a program the kernel refuses is refused at open */
	struct bpfvm_insn bad[] = { { BPF_LD | BPF_W | BPF_ABS, 0, 0, 0 } };
	struct bpfvm_prog pb = prog1(bad, 1);
	char err[BPFVM_ERRBUF_SIZE] = "";

	c.filter = &pb;
	assert_null(sim_tap_new(f->h, &c, err));
	assert_non_null(strstr(err, "SO_ATTACH_FILTER"));
	fx_free(f);
}

/* ------------------------------------------------------------------ */
/* The lists. */

/* dev_add_pack() adds at the head: the newest tap first; the namespace's
 * ptype_all before the device's. */
static void test_ptype_all_newest_first_global_before_device(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(f->eth0);

	c.name = "dev";
	struct sim_tap *td = open_tap(f, &c);
	c = raw_cfg(NULL);
	c.name = "old";
	struct sim_tap *ta = open_tap(f, &c);
	c.name = "new";
	struct sim_tap *tb = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	assert_int_equal(f->rec.norder, 3);
	assert_ptr_equal(f->rec.order[0], tb);
	assert_ptr_equal(f->rec.order[1], ta);
	assert_ptr_equal(f->rec.order[2], td);
	/* a tap bound to eth0 does not see lo */
	f->rec.norder = 0;
	send_all(f, f->lo, 0, 60, ETH_P_IP, PACKET_HOST);
	assert_int_equal(f->rec.norder, 2);
	/* and taps are listed on the host in the order opened */
	assert_ptr_equal(f->h->taps, td);
	fx_free(f);
}

/* A socket bound to one protocol is on a ptype_specific list: it gets
 * only that protocol, and never transmitted packets (dev_queue_xmit_nit()
 * walks ptype_all only).  One bound to a device too gets what arrived on
 * that device even once a VLAN device took it (orig_dev). */
static void test_proto_bound_tap_only_its_protocol_never_outgoing(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;

	c.proto = ETH_P_ARP;
	struct sim_tap *t = open_tap(f, &c);
	c.dev = f->eth0;
	c.name = "bound";
	struct sim_tap *tb = open_tap(f, &c);
	struct sim_ctx cx = ctx_at(f, 0);
	struct sim_skb *ip = mkskb(f, f->eth0, 60, ETH_P_IP, PACKET_HOST);
	struct sim_skb *arp = mkskb(f, f->eth0, 60, ETH_P_ARP, PACKET_HOST);
	struct sim_skb *arp_lo = mkskb(f, f->lo, 60, ETH_P_ARP, PACKET_HOST);

	assert_int_equal(sim_ptype_specific_wanted(&cx, f->eth0, f->eth0, ip), 0);
	assert_int_equal(sim_ptype_specific_wanted(&cx, f->eth0, f->eth0, arp), 1);
	assert_int_equal(sim_ptype_specific_wanted(&cx, f->lo, f->lo, arp_lo), 1);
	sim_deliver_ptype_specific(&cx, f->eth0, f->eth0, ip);
	sim_deliver_ptype_specific(&cx, f->eth0, f->eth0, arp);
	sim_deliver_ptype_specific(&cx, f->lo, f->lo, arp_lo);
	/* the namespace's list first, then the device's */
	assert_ptr_equal(f->rec.order[0], t);
	assert_ptr_equal(f->rec.order[1], tb);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets, 2);
	sim_tap_stats(tb, &st);
	assert_int_equal(st.tp_packets, 1);
	/* arrived on eth0, now on another device (a VLAN device's place):
	 * the eth0-bound socket still gets it, through orig_dev */
	sim_deliver_ptype_specific(&cx, f->eth0, f->lo, arp);
	sim_tap_stats(tb, &st);
	assert_int_equal(st.tp_packets, 2);
	/* the ptype_all walks never reach them */
	send_all(f, f->eth0, 0, 60, ETH_P_ARP, PACKET_OUTGOING);
	send_all(f, f->eth0, 0, 60, ETH_P_ARP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets, 3);
	sim_skb_free(f->w, ip);
	sim_skb_free(f->w, arp);
	sim_skb_free(f->w, arp_lo);
	fx_free(f);
}

/* PACKET_IGNORE_OUTGOING: skipped by dev_queue_xmit_nit(), not on receive. */
static void test_ignore_outgoing_skips_transmit_only(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;

	c.ignore_outgoing = 1;
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_OUTGOING);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets, 1);
	assert_int_equal(f->rec.norder, 1);
	fx_free(f);
}

/* skb_loop_sk(): a socket never gets back what it sent itself. */
static void test_own_injected_frames_skipped(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;
	struct sim_tap *a = open_tap(f, &c), *b = open_tap(f, &c);
	struct sim_ctx cx = ctx_at(f, 0);
	struct sim_skb *skb = mkskb(f, f->eth0, 60, ETH_P_IP, PACKET_OUTGOING);

	skb->from_tap = a;
	sim_deliver_ptype_all(&cx, f->eth0, skb);
	sim_tap_stats(a, &st);
	assert_int_equal(st.tp_packets, 0);
	sim_tap_stats(b, &st);
	assert_int_equal(st.tp_packets, 1);
	sim_skb_free(f->w, skb);
	fx_free(f);
}

/* packet_rcv()/tpacket_rcv() drop PACKET_LOOPBACK without a count. */
static void test_packet_loopback_ignored(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_LOOPBACK);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets + st.tp_drops, 0);
	assert_int_equal(f->rec.n[SIM_ST_PACKET_RCV][SIM_TAP_IGNORED], 1);
	fx_free(f);
}

/* Each delivery costs the CPU host->costs.tap, filter or not. */
static void test_each_delivery_costs_tap_time(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_ctx cx = ctx_at(f, 1000);
	struct sim_skb *skb = mkskb(f, f->eth0, 60, ETH_P_IP, PACKET_HOST);

	open_tap(f, &c);
	open_tap(f, &c);
	sim_deliver_ptype_all(&cx, f->eth0, skb);
	assert_int_equal(cx.t, 1000 + 2 * f->h->costs.tap);
	sim_skb_free(f->w, skb);
	fx_free(f);
}

/* ------------------------------------------------------------------ */
/* The receive buffer. */

/* packet_rcv(): drop when sk_rmem_alloc >= sk_rcvbuf, before charging;
 * recvmsg() uncharges. */
static void test_rcvbuf_full_when_rmem_reaches_rcvbuf(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = raw_cfg(NULL);
	struct sim_tap_stats st;

	c.rcvbuf = 1;		/* one skb always fits: the check is before the charge */
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_packets, 2);	/* PACKET_STATISTICS: drops included */
	assert_int_equal(st.tp_drops, 1);
	assert_int_equal(f->rec.n[SIM_ST_PACKET_RCV][SIM_TAP_DROPPED], 1);
	assert_int_equal(f->h->drops[SIM_DROP_FULL_RING], 1);
	struct sim_skb *skb = sim_tap_recv(t);

	assert_non_null(skb);
	sim_skb_free(f->w, skb);
	send_all(f, f->eth0, 0, 60, ETH_P_IP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_drops, 1);
	assert_int_equal(st.tp_packets, 3);
	fx_free(f);
}

/* ------------------------------------------------------------------ */
/* The TPACKET_V3 ring. */

/*
 * __packet_lookup_frame_in_block(): a frame takes ALIGN(tp_mac + snaplen,
 * 8) bytes after the 48-byte block header, and fits only if it ends
 * strictly before the block's end.  SOCK_RAW, no reserve: tp_mac =
 * TPACKET_ALIGN(68 + 16) - 14 = 82.  A 286-byte frame takes 368 bytes:
 * 48 + 11 x 368 = 4096 exactly, so a 4 KiB block holds 10, not 11.
 */
static void test_ring_block_holds_frames_ending_strictly_before_its_end(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 4, 1000);
	struct sim_tap *t = open_tap(f, &c);

	for (int i = 0; i < 10; i++)
		send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	assert_int_equal(blk(t, 0)->hdr.bh1.num_pkts, 10);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	assert_int_equal(blk(t, 0)->hdr.bh1.blk_len, 48 + 10 * 368);
	const struct tpacket3_hdr *h =
		(const void *)((const uint8_t *)blk(t, 0) + blk(t, 0)->hdr.bh1.offset_to_first_pkt);
	assert_int_equal(h->tp_mac, 82);
	assert_int_equal(h->tp_net, 96);
	assert_int_equal(h->tp_next_offset, 368);
	/* the 11th retires block 0 (full, not by timeout) and opens block 1 */
	send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_USER);
	assert_int_equal(blk(t, 1)->hdr.bh1.num_pkts, 1);
	assert_int_equal(blk(t, 1)->hdr.bh1.seq_num, 2);
	fx_free(f);
}

/* prb_retire_rx_blk_timer_expired(): a partly filled block is retired
 * with TP_STATUS_BLK_TMO when the timer fires; an empty one is not. */
static void test_ring_retire_by_timeout(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 4, 10);
	struct sim_tap *t = open_tap(f, &c);

	sim_world_run(f->w, 3 * MS);
	send_all(f, f->eth0, 3 * MS, 60, ETH_P_IP, PACKET_HOST);
	sim_world_run(f->w, 10 * MS - 1);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	sim_world_run(f->w, 10 * MS);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status,
			 TP_STATUS_USER | TP_STATUS_BLK_TMO);
	/* stamped when tpacket_rcv() ran: after the tap's CPU cost */
	assert_int_equal(blk(t, 0)->hdr.bh1.ts_last_pkt.ts_nsec, 3 * MS + f->h->costs.tap);
	/* nothing more arrives: block 1 stays open and empty, and the
	 * world runs out of events */
	sim_world_run(f->w, 0);
	assert_int_equal(blk(t, 1)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	assert_int_equal(blk(t, 1)->hdr.bh1.num_pkts, 0);
	fx_free(f);
}

/*
 * Kernel 6.18: the retire timer is an hrtimer running every tov from the
 * ring's creation, not restarted when tpacket_rcv() opens a block, so a
 * block opened at 5 ms is retired at the 10 ms tick (before 6.18: 15 ms).
 */
static void test_ring_retire_timer_ticks_from_ring_creation(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 4, 10);
	struct sim_tap *t = open_tap(f, &c);

	sim_world_run(f->w, 5 * MS);
	for (int i = 0; i < 11; i++)	/* fills block 0, opens block 1 */
		send_all(f, f->eth0, 5 * MS, 286, ETH_P_IP, PACKET_HOST);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_USER);
	sim_world_run(f->w, 10 * MS);
	assert_int_equal(blk(t, 1)->hdr.bh1.block_status,
			 TP_STATUS_USER | TP_STATUS_BLK_TMO);
	fx_free(f);
}

/*
 * prb_dispatch_next_block() freezes the queue when the next block is
 * still user space's (tp_freeze_q_cnt once); every packet meanwhile is
 * dropped (tp_drops); the packet after user space hands the block back
 * thaws it.
 */
static void test_ring_frozen_until_a_block_comes_back(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 2, 1000);
	struct sim_tap *t = open_tap(f, &c);
	struct sim_tap_stats st;

	for (int i = 0; i < 20; i++)	/* both blocks full */
		send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_drops, 0);
	send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);	/* retires 1, freezes */
	send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);	/* no room */
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_drops, 2);
	assert_int_equal(st.tp_freeze_q_cnt, 1);
	assert_int_equal(st.tp_packets, 22);
	/* closed before the first drop: no TP_STATUS_LOSING on it */
	assert_int_equal(blk(t, 1)->hdr.bh1.block_status, TP_STATUS_USER);
	/* user space returns block 0 */
	((struct tpacket_block_desc *)blk(t, 0))->hdr.bh1.block_status = TP_STATUS_KERNEL;
	send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	sim_tap_stats(t, &st);
	assert_int_equal(st.tp_drops, 2);
	assert_int_equal(st.tp_freeze_q_cnt, 1);
	assert_int_equal(blk(t, 0)->hdr.bh1.num_pkts, 1);
	assert_int_equal(blk(t, 0)->hdr.bh1.seq_num, 3);
	/* a block closed while drops are unread says TP_STATUS_LOSING */
	for (int i = 0; i < 10; i++)
		send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_USER | TP_STATUS_LOSING);
	fx_free(f);
}

/* The timer thaws a frozen queue on an idle link once the block is back. */
static void test_ring_timer_thaws_idle_frozen_queue(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 2, 10);
	struct sim_tap *t = open_tap(f, &c);
	struct sim_ctx cx = ctx_at(f, 2 * MS);

	for (int i = 0; i < 21; i++)
		send_all(f, f->eth0, 1 * MS, 286, ETH_P_IP, PACKET_HOST);
	((struct tpacket_block_desc *)blk(t, 0))->hdr.bh1.block_status = TP_STATUS_KERNEL;
	sim_tap_ring_released(&cx, t);
	sim_world_run(f->w, 0);
	assert_int_equal(f->w->clock.now, 10 * MS);
	assert_int_equal(blk(t, 0)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	assert_int_equal(blk(t, 0)->hdr.bh1.num_pkts, 0);
	assert_int_equal(blk(t, 0)->hdr.bh1.seq_num, 3);	/* reopened */
	fx_free(f);
}

/* PACKET_STATISTICS: cleared by each read; tp_packets includes drops. */
static void test_packet_statistics_clear_on_read(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c = ring_cfg(NULL, 4096, 2, 1000);
	struct sim_tap *t = open_tap(f, &c);
	struct sim_tap_stats a, b, total;

	for (int i = 0; i < 25; i++)
		send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	sim_tap_getsockopt_stats(t, &a);
	assert_int_equal(a.tp_packets, 25);
	assert_int_equal(a.tp_drops, 5);
	assert_int_equal(a.tp_freeze_q_cnt, 1);
	sim_tap_getsockopt_stats(t, &b);
	assert_int_equal(b.tp_packets + b.tp_drops + b.tp_freeze_q_cnt, 0);
	send_all(f, f->eth0, 0, 286, ETH_P_IP, PACKET_HOST);
	sim_tap_getsockopt_stats(t, &b);
	assert_int_equal(b.tp_packets, 1);
	assert_int_equal(b.tp_drops, 1);
	sim_tap_stats(t, &total);	/* the report's view never clears */
	assert_int_equal(total.tp_packets, 26);
	assert_int_equal(total.tp_drops, 6);
	fx_free(f);
}

/* packet_set_ring()'s checks. */
static void test_ring_geometry_checked_as_packet_set_ring(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	char err[BPFVM_ERRBUF_SIZE];
	struct sim_tap_cfg c = ring_cfg(NULL, 5000, 2, 10);

	assert_null(sim_tap_new(f->h, &c, err));
	assert_non_null(strstr(err, "page size"));
	c = ring_cfg(NULL, 4096, 2, 10);
	c.frame_size = 2048;
	c.frame_nr = 3;
	assert_null(sim_tap_new(f->h, &c, err));
	assert_non_null(strstr(err, "frame_nr"));
	c = raw_cfg(NULL);
	c.reader = SIM_READER_TCPDUMP;
	assert_null(sim_tap_new(f->h, &c, err));
	assert_non_null(strstr(err, "ring"));
	assert_null(f->h->taps);
	fx_free(f);
}

/* ------------------------------------------------------------------ */
/* libpcap and tcpdump. */

/* create_ring() in libpcap 1.10 with tcpdump's defaults. */
static void test_tcpdump_defaults_are_libpcap_create_ring(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c;

	sim_tap_cfg_tcpdump_defaults(&c, f->eth0);
	assert_int_equal(c.sock_type, SOCK_RAW);
	assert_int_equal(c.ring_version, TPACKET_V3);
	assert_int_equal(c.block_size, 256 * 1024);	/* MAXIMUM_SNAPLEN "frames" */
	assert_int_equal(c.block_nr, 8);		/* 2 MiB */
	assert_int_equal(c.frame_size, 262144);
	assert_int_equal(c.frame_nr, 8);
	assert_int_equal(c.retire_tov_ms, 1000);
	assert_int_equal(c.reserve, 4);			/* VLAN_TAG_LEN */
	assert_int_equal(c.snapshot, 262144);
	/* "any": cooked, room for the SLL2 header */
	sim_tap_cfg_tcpdump_defaults(&c, NULL);
	assert_int_equal(c.sock_type, SOCK_DGRAM);
	assert_int_equal(c.reserve, 8);
	/* immediate mode: TPACKET_V2, frames for 65535 + 18 bytes */
	sim_tap_cfg_tcpdump_defaults(&c, f->eth0);
	c.immediate = 1;
	sim_tap_cfg_libpcap_ring(&c);
	assert_int_equal(c.ring_version, TPACKET_V2);
	assert_int_equal(c.frame_size, 65632);
	assert_int_equal(c.block_size, 131072);
	assert_int_equal(c.frame_nr, 32);
	assert_int_equal(c.block_nr, 32);
	/* -B 4096 (KiB) with a 100 ms timeout */
	sim_tap_cfg_tcpdump_defaults(&c, f->eth0);
	c.buffer_size = 4096 * 1024;
	c.timeout_ms = 100;
	sim_tap_cfg_libpcap_ring(&c);
	assert_int_equal(c.block_nr, 16);
	assert_int_equal(c.retire_tov_ms, 100);
	/* and the kernel takes what libpcap asks for */
	open_tap(f, &c);
	fx_free(f);
}

static struct sim_tap *open_tcpdump(struct fx *f, struct sim_dev *dev, sim_ns read_ns)
{
	struct sim_tap_cfg c;

	sim_tap_cfg_tcpdump_defaults(&c, dev);
	c.name = "tcpdump";
	c.read_ns = read_ns;
	return open_tap(f, &c);
}

/*
 * tcpdump's closing lines with a reader slower than the traffic: 10,000
 * frames of 1000 bytes at 1 M/s, tcpdump at 100 k/s, libpcap's 2 MiB
 * ring (8 blocks of 240 such frames).  "received by filter" is every
 * tp_packets (drops included); drops happen only while the ring is full
 * (every block user space's); nothing is counted twice.
 */
static void test_tcpdump_closing_lines_slow_reader(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap *t = open_tcpdump(f, f->eth0, 10 * US);
	struct sim_pcap_stats mid, end;
	struct sim_tap_stats k;

	f->rec.watch = t;
	for (int i = 0; i < 10000; i++) {
		sim_world_run(f->w, (sim_ns)i * US);
		send_all(f, f->eth0, (sim_ns)i * US, 1000, ETH_P_IP, PACKET_HOST);
	}
	sim_world_run(f->w, 20 * MS);
	sim_tap_stats(t, &k);
	assert_int_equal(sim_tap_pcap_stats(t, &mid), 0);
	print_message("at 20 ms: %lu captured, %lu received by filter, %lu dropped by kernel, freeze %lu\n",
		      (unsigned long)mid.captured, (unsigned long)mid.ps_recv,
		      (unsigned long)mid.ps_drop, (unsigned long)k.tp_freeze_q_cnt);
	assert_int_equal(mid.ps_recv, 10000);
	assert_int_equal(mid.ps_recv, k.tp_packets);
	assert_int_equal(mid.ps_drop, k.tp_drops);
	assert_true(mid.ps_drop > 0);
	assert_true(mid.captured + mid.ps_drop <= mid.ps_recv);
	assert_true(mid.captured < mid.ps_recv - mid.ps_drop);	/* some still in the ring */
	assert_int_equal(f->rec.drops_seen, mid.ps_drop);
	assert_int_equal(f->rec.drops_with_room, 0);
	assert_int_equal(f->rec.n[SIM_ST_PCAP_READ][SIM_TAP_READ], mid.captured);
	/* the reader drains the rest, the last block after its timeout */
	sim_world_run(f->w, 0);
	assert_int_equal(sim_tap_pcap_stats(t, &end), 0);
	assert_int_equal(end.ps_recv, 10000);	/* the second read added nothing */
	assert_int_equal(end.captured + end.ps_drop, end.ps_recv);
	assert_int_equal(end.ps_ifdrop, 0);
	fx_free(f);
}

/* A reader faster than the traffic loses nothing and sees blocks only as
 * they retire: the last, partly filled, at the 1000 ms tick. */
static void test_tcpdump_fast_reader_loses_nothing(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap *t = open_tcpdump(f, f->eth0, 100);
	struct sim_pcap_stats ps;

	for (int i = 0; i < 1000; i++) {
		sim_world_run(f->w, (sim_ns)i * 10 * US);
		send_all(f, f->eth0, (sim_ns)i * 10 * US, 100, ETH_P_IP, PACKET_HOST);
	}
	sim_world_run(f->w, 999 * MS);
	sim_tap_pcap_stats(t, &ps);
	assert_int_equal(ps.captured, 0);	/* one open block, not yet retired */
	sim_world_run(f->w, 0);
	assert_int_equal(f->w->clock.now, 1000 * MS + 100 * 1000);
	sim_tap_pcap_stats(t, &ps);
	assert_int_equal(ps.captured, 1000);
	assert_int_equal(ps.ps_recv, 1000);
	assert_int_equal(ps.ps_drop, 0);
	assert_int_equal(f->rec.caplen, 100);
	assert_int_equal(f->rec.linktype, DLT_EN10MB);
	fx_free(f);
}

/* linux_check_direction(): on lo the OUTGOING copy is thrown away in
 * user space; the kernel copied both. */
static void test_tcpdump_drops_outgoing_copy_on_lo(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap *t = open_tcpdump(f, f->lo, 0);
	struct sim_pcap_stats ps;

	send_all(f, f->lo, 0, 100, ETH_P_IP, PACKET_OUTGOING);	/* xmit_one */
	send_all(f, f->lo, 0, 100, ETH_P_IP, PACKET_HOST);	/* and back in */
	sim_world_run(f->w, 0);
	sim_tap_pcap_stats(t, &ps);
	assert_int_equal(ps.ps_recv, 2);
	assert_int_equal(ps.captured, 1);
	assert_int_equal(ps.dir_rejected, 1);
	assert_int_equal(f->rec.pkt_type, PACKET_HOST);
	assert_int_equal(f->rec.n[SIM_ST_PCAP_READ][SIM_TAP_FILTERED], 1);
	fx_free(f);
}

/* pcap_setdirection() (tcpdump -Q): in keeps only incoming, out only
 * outgoing, on any device. */
static void test_tcpdump_direction_filter(void **state)
{
	(void)state;
	static const enum sim_pcap_dir dirs[] = { SIM_PCAP_D_INOUT, SIM_PCAP_D_IN, SIM_PCAP_D_OUT };
	static const unsigned want[] = { 2, 1, 1 };

	for (unsigned i = 0; i < 3; i++) {
		struct fx *f = fx_new();
		struct sim_tap_cfg c;
		struct sim_pcap_stats ps;

		sim_tap_cfg_tcpdump_defaults(&c, f->eth0);
		c.direction = dirs[i];
		struct sim_tap *t = open_tap(f, &c);

		send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_OUTGOING);
		send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_HOST);
		sim_world_run(f->w, 0);
		sim_tap_pcap_stats(t, &ps);
		assert_int_equal(ps.captured, want[i]);
		assert_int_equal(ps.ps_recv, 2);
		if (dirs[i] == SIM_PCAP_D_OUT)
			assert_int_equal(f->rec.pkt_type, PACKET_OUTGOING);
		fx_free(f);
	}
}

/* pcap_handle_packet_mmap(): the tag the kernel moved into metadata goes
 * back after the MAC addresses, both lengths + 4. */
static void test_tcpdump_reinserts_vlan_tag(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_ctx cx = ctx_at(f, 0);
	struct sim_skb *skb = mkskb(f, f->eth0, 100, ETH_P_IP, PACKET_HOST);

	open_tcpdump(f, f->eth0, 0);
	skb->vlan_present = 1;
	skb->vlan_tci = 0x2064;
	skb->vlan_tpid = ETH_P_8021Q;
	sim_deliver_ptype_all(&cx, f->eth0, skb);
	sim_skb_free(f->w, skb);
	sim_world_run(f->w, 0);
	assert_int_equal(f->rec.caplen, 104);
	assert_int_equal(f->rec.wirelen, 104);
	assert_memory_equal(f->rec.bytes + 12, "\x81\x00\x20\x64\x08\x00\x45", 7);
	fx_free(f);
}

/* The "any" device: SOCK_DGRAM, DLT_LINUX_SLL2 records. */
static void test_tcpdump_any_is_cooked_sll2(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_pcap_stats ps;
	struct sim_tap *t = open_tcpdump(f, NULL, 0);

	send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_HOST);
	sim_world_run(f->w, 0);
	sim_tap_pcap_stats(t, &ps);
	assert_int_equal(ps.captured, 1);
	assert_int_equal(f->rec.linktype, DLT_LINUX_SLL2);
	assert_int_equal(f->rec.caplen, 20 + 86);
	assert_int_equal(f->rec.wirelen, 20 + 86);
	/* protocol, reserved, ifindex 2, ARPHRD_ETHER, PACKET_HOST, halen 6, source */
	assert_memory_equal(f->rec.bytes,
			    "\x08\x00\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06\x02\x00\x00\x00\x00\x02",
			    18);
	assert_int_equal(f->rec.bytes[20], 0x45);
	fx_free(f);
}

/* Immediate mode: TPACKET_V2, every frame readable at once, and a full
 * ring drops (tp_drops) without any freeze. */
static void test_tcpdump_immediate_mode_v2_ring(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct sim_tap_cfg c;
	struct sim_pcap_stats ps;
	struct sim_tap_stats k;

	sim_tap_cfg_tcpdump_defaults(&c, f->eth0);
	c.immediate = 1;
	c.buffer_size = 4 * 65632;	/* 4 frames */
	c.read_ns = 1 * MS;
	sim_tap_cfg_libpcap_ring(&c);
	assert_int_equal(c.frame_nr, 4);
	struct sim_tap *t = open_tap(f, &c);

	send_all(f, f->eth0, 0, 100, ETH_P_IP, PACKET_HOST);
	sim_world_run(f->w, 0);
	sim_tap_pcap_stats(t, &ps);
	assert_int_equal(ps.captured, 1);	/* no block timeout to wait for */
	assert_int_equal(f->w->clock.now, f->h->costs.tap + 1 * MS);
	for (int i = 0; i < 6; i++)
		send_all(f, f->eth0, 1 * MS, 100, ETH_P_IP, PACKET_HOST);
	sim_world_run(f->w, 0);
	sim_tap_pcap_stats(t, &ps);
	sim_tap_stats(t, &k);
	assert_int_equal(ps.captured, 5);
	assert_int_equal(ps.ps_drop, 2);
	assert_int_equal(ps.ps_recv, 7);
	assert_int_equal(k.tp_freeze_q_cnt, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_zero_is_not_a_drop),
		cmocka_unit_test(test_snaplen_is_min_of_len_and_filter_result),
		cmocka_unit_test(test_sock_dgram_sees_the_network_header),
		cmocka_unit_test(test_filter_runs_with_linux_semantics),
		cmocka_unit_test(test_ptype_all_newest_first_global_before_device),
		cmocka_unit_test(test_proto_bound_tap_only_its_protocol_never_outgoing),
		cmocka_unit_test(test_ignore_outgoing_skips_transmit_only),
		cmocka_unit_test(test_own_injected_frames_skipped),
		cmocka_unit_test(test_packet_loopback_ignored),
		cmocka_unit_test(test_each_delivery_costs_tap_time),
		cmocka_unit_test(test_rcvbuf_full_when_rmem_reaches_rcvbuf),
		cmocka_unit_test(test_ring_block_holds_frames_ending_strictly_before_its_end),
		cmocka_unit_test(test_ring_retire_by_timeout),
		cmocka_unit_test(test_ring_retire_timer_ticks_from_ring_creation),
		cmocka_unit_test(test_ring_frozen_until_a_block_comes_back),
		cmocka_unit_test(test_ring_timer_thaws_idle_frozen_queue),
		cmocka_unit_test(test_packet_statistics_clear_on_read),
		cmocka_unit_test(test_ring_geometry_checked_as_packet_set_ring),
		cmocka_unit_test(test_tcpdump_defaults_are_libpcap_create_ring),
		cmocka_unit_test(test_tcpdump_closing_lines_slow_reader),
		cmocka_unit_test(test_tcpdump_fast_reader_loses_nothing),
		cmocka_unit_test(test_tcpdump_drops_outgoing_copy_on_lo),
		cmocka_unit_test(test_tcpdump_direction_filter),
		cmocka_unit_test(test_tcpdump_reinserts_vlan_tag),
		cmocka_unit_test(test_tcpdump_any_is_cooked_sll2),
		cmocka_unit_test(test_tcpdump_immediate_mode_v2_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
