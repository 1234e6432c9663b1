/*
 * test_xmit.c - the transmit path (sim/xmit.c): egress netfilter and tc
 * drops happen before dev_queue_xmit_nit, so no tap sees those packets;
 * pfifo_fast overflows with QDISC_DROP; a full TX ring stops the queue and
 * TX completion wakes it; frames take their serialisation time on a
 * 1 Gb/s wire; lo taps a packet going out and again coming in; a VLAN
 * device tags for its real device.
 *
 * Where the receive side of another host is involved (the peer of a
 * wire, lo's way back in) the test looks only at the call boundary: the
 * WIRE_RX report sim_nic_rx() makes on arrival, and what reaches a socket.
 */
#include "testutil.h"

#include "model.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOGN 256

struct rec {
	enum sim_stage stage;
	enum sim_drop_reason drop;
	const struct sim_dev *dev;
	const struct sim_host *host;
	sim_ns t;
	uint8_t pkt_type, vlan_present;
	uint16_t vlan_tci;
	uint32_t len;
	uint8_t bytes[20];
};

struct obs {
	struct rec log[LOGN];
	unsigned n;
	unsigned stages[SIM_STAGE_COUNT];
	unsigned drops[SIM_DROP_REASON_COUNT];
};

static void on_event(void *ctx, const struct sim_event_rec *ev)
{
	struct obs *o = ctx;
	struct rec *r;

	o->stages[ev->stage]++;
	if (ev->drop)
		o->drops[ev->drop]++;
	if (o->n == LOGN)
		return;
	r = &o->log[o->n++];
	*r = (struct rec){ .stage = ev->stage, .drop = ev->drop, .dev = ev->dev,
			   .host = ev->host, .t = ev->t };
	if (ev->skb) {
		r->pkt_type = ev->skb->pkt_type;
		r->vlan_present = ev->skb->vlan_present;
		r->vlan_tci = ev->skb->vlan_tci;
		r->len = ev->skb->len;
		memcpy(r->bytes, sim_skb_data(ev->skb), ev->skb->len < 20 ? ev->skb->len : 20);
	}
}

static const struct rec *find(const struct obs *o, enum sim_stage st, const struct sim_dev *dev,
			      unsigned k)
{
	for (unsigned i = 0; i < o->n; i++)
		if (o->log[i].stage == st && (!dev || o->log[i].dev == dev) && k-- == 0)
			return &o->log[i];
	return NULL;
}

struct fx {
	struct sim_world *w;
	struct sim_host *a, *b;
	struct sim_dev *eth0, *peer;
	struct obs *obs;
	struct sim_observer ob;
	struct sim_ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->obs = calloc(1, sizeof(*f->obs));
	f->w = sim_world_new(3);
	f->a = sim_host_new(f->w, "a", 1);
	f->b = sim_host_new(f->w, "b", 1);
	f->eth0 = sim_dev_new(f->a, "eth0", SIM_DEV_ETHER);
	f->peer = sim_dev_new(f->b, "eth0", SIM_DEV_ETHER);
	f->a->costs = (struct sim_costs){ 0 };
	f->b->costs = (struct sim_costs){ 0 };
	f->ob = (struct sim_observer){ .event = on_event, .ctx = f->obs };
	sim_world_add_observer(f->w, &f->ob);
	f->c = (struct sim_ctx){ .w = f->w, .host = f->a, .cpu = &f->a->cpu[0] };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sim_world_free(f->w);
	free(f->obs);
	free(f);
	return 0;
}

/* An Ethernet frame of @len bytes (UDP/IPv4 inside, dport @dport) on @dev. */
static struct sim_skb *frame(struct fx *f, struct sim_dev *dev, uint32_t len, uint16_t dport)
{
	struct sim_skb *skb = sim_skb_alloc(f->w, len);
	uint8_t *e = sim_skb_data(skb);

	memset(e, 0, len);
	memcpy(e, "\x02\x00\x00\x00\x0b\x01", 6);
	memcpy(e + 6, dev->mac, 6);
	sim_put16(e + 12, ETH_P_IP);
	e[14] = 0x45;
	e[14 + 9] = IPPROTO_UDP;
	sim_put16(e + 14 + 20 + 2, dport);
	skb->protocol = ETH_P_IP;
	skb->net = (int32_t)skb->data + ETH_HLEN;
	skb->dev = dev;
	return skb;
}

static struct sim_rule *rule(struct fx *f, enum sim_rule_hook hook, const char *name,
			     uint16_t dport)
{
	struct sim_rule_cfg cfg;
	char err[SIM_ERRBUF_SIZE];

	sim_rule_init(&cfg);
	cfg.hook = hook;
	cfg.dev = f->eth0;
	snprintf(cfg.rule.name, sizeof(cfg.rule.name), "%s", name);
	cfg.rule.dport_lo = cfg.rule.dport_hi = dport;
	cfg.rule.drop = 1;
	return sim_rule_add(f->a, &cfg, err);
}

/* Drops at netdev egress and tc egress come before dev_queue_xmit_nit:
 * no TAPS_TX for them; the packet that passes both is tapped once. */
static void test_egress_drops_invisible(void **state)
{
	struct fx *f = *state;
	struct sim_rule *nf = rule(f, SIM_RULE_NETDEV_EGRESS, "nf", 53);
	struct sim_rule *tc = rule(f, SIM_RULE_TC_EGRESS, "tc", 80);

	assert_non_null(nf);
	assert_non_null(tc);
	sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 60, 53));
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 0);
	assert_int_equal(f->a->drops[SIM_DROP_NETFILTER_DROP], 1);
	assert_int_equal(find(f->obs, SIM_ST_NF_EGRESS, NULL, 0)->drop, SIM_DROP_NETFILTER_DROP);
	assert_null(find(f->obs, SIM_ST_TC_EGRESS, NULL, 0));	/* nf egress runs first */
	sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 60, 80));
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 0);
	assert_int_equal(f->a->drops[SIM_DROP_TC_EGRESS], 1);
	sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 60, 443));
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 1);
	assert_int_equal(nf->packets, 1);
	assert_int_equal(tc->packets, 1);
	/* The tap's view: PACKET_OUTGOING, the MAC header first. */
	{
		const struct rec *r = find(f->obs, SIM_ST_TAPS_TX, f->eth0, 0);

		assert_int_equal(r->pkt_type, PACKET_OUTGOING);
		assert_int_equal(sim_get16(r->bytes + 12), ETH_P_IP);
	}
	assert_int_equal(f->eth0->stats.tx_packets, 1);	/* no wire: sent into nothing */
	assert_int_equal(f->w->skbs_live, 0);
}

/*
 * A ring of 4, a qdisc of 10, 20 frames at once on a 1 Gb/s wire: 4 go
 * into the ring (the 4th stops the queue), 10 wait in the qdisc, 6 are
 * QDISC_DROP and never tapped.  TX completion wakes the queue once 2
 * descriptors are free (half the ring, at most 32), the qdisc refills the
 * ring, and all 14 leave in line-time steps.
 */
static void test_qdisc_and_ring(void **state)
{
	struct fx *f = *state;
	char err[SIM_ERRBUF_SIZE];
	const sim_ns line = 672;	/* (60 + 4 + 8 + 12) * 8 ns at 1 Gb/s */

	f->eth0->tx_ring.limit = 4;
	f->eth0->qdisc.limit = 10;
	assert_int_equal(sim_wire_connect(f->w, f->eth0, f->peer, 0, 1000000000ull, err), 0);
	for (int i = 0; i < 20; i++)
		sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 60, 9));
	assert_int_equal(f->obs->drops[SIM_DROP_QDISC_DROP], 6);
	assert_int_equal(f->eth0->qdisc_drops, 6);
	assert_int_equal(f->eth0->qdisc.len, 10);
	assert_int_equal(f->eth0->tx_ring.len, 4);
	assert_true(f->eth0->tx_stopped);
	assert_int_equal(f->eth0->tx_stops, 1);
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 4);

	sim_world_run(f->w, line);	/* one frame sent: 3 in the ring, still stopped */
	assert_true(f->eth0->tx_stopped);
	assert_int_equal(f->eth0->qdisc.len, 10);
	sim_world_run(f->w, 2 * line);	/* two: woken, refilled to 4, stopped again */
	assert_int_equal(f->eth0->qdisc.len, 8);
	assert_int_equal(f->eth0->tx_ring.len, 4);
	assert_int_equal(f->eth0->tx_stops, 2);
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 6);

	sim_world_run(f->w, 0);
	assert_false(f->eth0->tx_stopped);
	assert_int_equal(f->eth0->qdisc.len, 0);
	assert_int_equal(f->eth0->tx_ring.len, 0);
	assert_int_equal(f->eth0->stats.tx_packets, 14);
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 14);
	assert_int_equal(f->obs->stages[SIM_ST_WIRE_TX], 14);
	assert_int_equal(find(f->obs, SIM_ST_WIRE_TX, NULL, 13)->t, 14 * line);
}

/* Serialisation on 1 Gb/s with a 1 us wire: 60-byte frames every 672 ns,
 * each arriving 576 ns (its bits without the gap) + 1 us after it
 * started; a 1500-byte frame takes 12192 ns of line. */
static void test_serialisation(void **state)
{
	struct fx *f = *state;
	char err[SIM_ERRBUF_SIZE];

	assert_int_equal(sim_wire_connect(f->w, f->eth0, f->peer, 1000, 1000000000ull, err), 0);
	assert_int_equal(sim_wire_line_time(f->eth0->wire, 60), 672);
	assert_int_equal(sim_wire_frame_time(f->eth0->wire, 42), 576);	/* padded to 60 */
	assert_int_equal(sim_wire_line_time(f->eth0->wire, 1500), 12192);
	for (int i = 0; i < 3; i++)
		sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 60, 9));
	sim_dev_queue_xmit(&f->c, frame(f, f->eth0, 1500, 9));
	sim_world_run(f->w, 0);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(find(f->obs, SIM_ST_WIRE_TX, f->eth0, k)->t, (k + 1) * 672);
		assert_int_equal(find(f->obs, SIM_ST_WIRE_RX, f->peer, k)->t, k * 672 + 576 + 1000);
	}
	assert_int_equal(find(f->obs, SIM_ST_WIRE_TX, f->eth0, 3)->t, 3 * 672 + 12192);
	assert_int_equal(find(f->obs, SIM_ST_WIRE_RX, f->peer, 3)->t, 3 * 672 + 12096 + 1000);
	assert_ptr_equal(find(f->obs, SIM_ST_WIRE_RX, f->peer, 0)->host, f->b);
	/* Refusals: a second wire on a device, a wire to lo. */
	assert_int_equal(sim_wire_connect(f->w, f->eth0, f->peer, 0, 0, err), -1);
	assert_non_null(strstr(err, "already has a wire"));
	assert_int_equal(sim_wire_connect(f->w, f->a->devs[0], f->peer, 0, 0, err), -1);
}

/* lo: tapped going out (PACKET_OUTGOING, in xmit_one) and again coming in
 * through netif_rx; no qdisc, so nothing is QDISC_DROP however many. */
static void test_loopback(void **state)
{
	struct fx *f = *state;
	struct sim_sock_cfg sc = { .name = "u", .proto = IPPROTO_UDP, .port = 9 };
	struct sim_dev *lo = f->a->devs[0];
	char err[SIM_ERRBUF_SIZE];
	struct sim_sock *sk;
	uint8_t me[4] = { 127, 0, 0, 1 };

	sc.addr.family = AF_INET;
	assert_non_null(sk = sim_sock_new(f->a, &sc, err));
	for (int i = 0; i < 3; i++) {
		struct sim_skb *skb = sim_skb_alloc(f->w, 8 + 10);

		memset(sim_skb_data(skb), 0, 18);
		sim_put16(sim_skb_data(skb) + 2, 9);
		sim_put16(sim_skb_data(skb) + 4, 18);
		sim_ip_push_header(f->a, skb, AF_INET, IPPROTO_UDP, me, me, 64, 1);
		sim_ip_local_out(&f->c, skb);
	}
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_TX], 3);
	assert_ptr_equal(find(f->obs, SIM_ST_TAPS_TX, NULL, 0)->dev, lo);
	assert_int_equal(find(f->obs, SIM_ST_TAPS_TX, NULL, 0)->pkt_type, PACKET_OUTGOING);
	assert_int_equal(f->obs->stages[SIM_ST_NETIF_RX], 3);
	assert_null(find(f->obs, SIM_ST_QDISC_ENQUEUE, NULL, 0));
	sim_world_run(f->w, 0);
	assert_int_equal(f->obs->stages[SIM_ST_TAPS_RX], 3);
	assert_int_equal(find(f->obs, SIM_ST_TAPS_RX, lo, 0)->pkt_type, PACKET_HOST);
	assert_int_equal(sk->received, 3);
	assert_int_equal(lo->stats.tx_packets, 3);
	assert_int_equal(lo->stats.rx_packets, 3);
}

/* A VLAN device: its taps see the frame untagged, the real device's taps
 * see it with the tag in metadata, the wire carries it in the bytes. */
static void test_vlan_xmit(void **state)
{
	struct fx *f = *state;
	struct sim_dev *v = sim_dev_new(f->a, "eth0.100", SIM_DEV_VLAN);
	char err[SIM_ERRBUF_SIZE];
	const struct rec *r;

	v->vlan_parent = f->eth0;
	v->vlan_id = 100;
	assert_int_equal(sim_wire_connect(f->w, f->eth0, f->peer, 0, 0, err), 0);
	sim_dev_queue_xmit(&f->c, frame(f, v, 60, 9));
	r = find(f->obs, SIM_ST_TAPS_TX, v, 0);
	assert_non_null(r);
	assert_false(r->vlan_present);
	r = find(f->obs, SIM_ST_TAPS_TX, f->eth0, 0);
	assert_non_null(r);
	assert_true(r->vlan_present);
	assert_int_equal(r->vlan_tci, 100);
	assert_int_equal(sim_get16(r->bytes + 12), ETH_P_IP);
	sim_world_run(f->w, 0);
	r = find(f->obs, SIM_ST_WIRE_RX, f->peer, 0);
	assert_non_null(r);
	assert_int_equal(r->len, 64);
	assert_int_equal(sim_get16(r->bytes + 12), ETH_P_8021Q);
	assert_int_equal(sim_get16(r->bytes + 14), 100);
	assert_int_equal(sim_get16(r->bytes + 16), ETH_P_IP);
}

/* Traffic sources: a UDP send at a rate leaves at its times; an injected
 * frame arrives at the device (sim_nic_rx) back to back on its wire. */
static void test_traffic(void **state)
{
	struct fx *f = *state;
	struct sim_send_cfg s = { .host = f->a, .at = 1000, .proto = IPPROTO_UDP,
				  .family = AF_INET, .dport = 9, .size = 18, .vlan = -1,
				  .count = 3, .rate = 1000 };
	struct sim_inject_cfg in = { .dev = f->peer, .at = 0, .count = 2 };
	uint8_t fr[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0x06 };
	char err[SIM_ERRBUF_SIZE];
	const struct rec *r;

	/* a: 198.18.0.1/24, neighbour 198.18.0.2 known. */
	f->eth0->addrs[0] = (struct sim_addr){ .family = AF_INET, .addr = { 198, 18, 0, 1 }, .prefix = 24 };
	f->eth0->naddrs = 1;
	memcpy(s.to, (uint8_t[4]){ 198, 18, 0, 2 }, 4);
	assert_int_equal(sim_neigh_add(f->a, AF_INET, s.to, (uint8_t[6]){ 2, 0, 0, 0, 0xb, 1 },
				       f->eth0, err), 0);
	assert_int_equal(sim_traffic_add_send(f->w, &s, err), 0);
	in.frame = fr;
	in.len = sizeof(fr);
	assert_int_equal(sim_wire_connect(f->w, f->eth0, f->peer, 0, 1000000000ull, err), 0);
	assert_int_equal(sim_traffic_add_inject(f->w, &in, err), 0);
	s.count = 0;
	assert_int_equal(sim_traffic_add_send(f->w, &s, err), -1);
	sim_world_run(f->w, 0);
	for (unsigned k = 0; k < 3; k++) {
		r = find(f->obs, SIM_ST_SOCK_SEND, NULL, k);
		assert_non_null(r);
		assert_int_equal(r->t, 1000 + k * 1000000);
		assert_int_equal(r->len, 20 + 8 + 18);
		assert_int_equal(r->bytes[9], IPPROTO_UDP);
	}
	assert_int_equal(f->eth0->stats.tx_packets, 3);
	/* The two injected frames at the peer: at 0 and one line time later,
	 * then the three sent ones. */
	assert_int_equal(find(f->obs, SIM_ST_WIRE_RX, f->peer, 0)->t, 0);
	assert_int_equal(find(f->obs, SIM_ST_WIRE_RX, f->peer, 1)->t, 672);
	assert_int_equal(f->obs->stages[SIM_ST_WIRE_RX], 2 + 3);
}

/* A pcap replayed at speed 2: records 0, 10 us and 30 us apart arrive at
 * 0, 5 and 15 us after the start, each record's captured bytes. */
static void test_replay(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/capsim-replay-XXXXXX", err[SIM_ERRBUF_SIZE];
	struct sim_replay_cfg rc = { .dev = f->peer, .at = 5000, .speed_milli = 2000 };
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							    PCAP_TSTAMP_PRECISION_NANO);
	uint8_t pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	static const long ns[3] = { 100, 10100, 30100 };
	pcap_dumper_t *d;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_non_null(d = pcap_dump_open(dead, path));
	for (int i = 0; i < 3; i++) {
		struct pcap_pkthdr h = { .ts = { .tv_sec = 7, .tv_usec = ns[i] },
					 .caplen = 60 - (uint32_t)i, .len = 60 };

		pcap_dump((u_char *)d, &h, pkt);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	rc.path = path;
	assert_int_equal(sim_traffic_add_replay(f->w, &rc, err), 0);
	rc.path = "/nonexistent/x.pcap";
	assert_int_equal(sim_traffic_add_replay(f->w, &rc, err), -1);
	assert_non_null(strstr(err, "replay"));
	sim_world_run(f->w, 0);
	unlink(path);
	for (unsigned k = 0; k < 3; k++) {
		const struct rec *r = find(f->obs, SIM_ST_WIRE_RX, f->peer, k);

		assert_non_null(r);
		assert_int_equal(r->t, 5000 + (ns[k] - ns[0]) / 2);
		assert_int_equal(r->len, 60 - k);
	}
	assert_null(find(f->obs, SIM_ST_WIRE_RX, f->peer, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_egress_drops_invisible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qdisc_and_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serialisation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_xmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
