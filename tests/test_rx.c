/*
 * test_rx.c - the receive path's rules: the NIC ring overflows into
 * rx_missed_errors, NAPI polls by weight within netdev_budget and counts
 * time_squeeze, netif_rx's backlog holds netdev_max_backlog + 1, VLAN tags
 * are taken out before the taps and steer packets to VLAN devices.
 */
#include "testutil.h"
#include "model.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>

struct counts {
	uint64_t stage[SIM_STAGE_COUNT];
	uint64_t drop[SIM_DROP_REASON_COUNT];
	uint8_t last_pkt_type;
	uint16_t last_proto;
	const struct sim_dev *last_dev;
};

static void count(void *ctx, const struct sim_event_rec *ev)
{
	struct counts *k = ctx;

	k->stage[ev->stage]++;
	k->drop[ev->drop]++;
	if (ev->stage == SIM_ST_TAPS_RX) {
		k->last_pkt_type = ev->skb->pkt_type;
		k->last_proto = ev->skb->protocol;
		k->last_dev = ev->dev;
	}
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static struct sim_world *world(struct counts *k, struct sim_observer *o, struct sim_dev **eth)
{
	struct sim_world *w = sim_world_new(1);
	struct sim_host *h = sim_host_new(w, "a", 1);

	*eth = sim_dev_new(h, "eth0", SIM_DEV_ETHER);
	memcpy((*eth)->mac, mac_a, 6);
	memset(k, 0, sizeof(*k));
	o->event = count;
	o->ctx = k;
	sim_world_add_observer(w, o);
	return w;
}

/* A frame to this host (ethertype 0x88b5, local experimental: nobody
 * handles it, so it ends UNHANDLED_PROTO after the taps). */
static struct sim_skb *frame(struct sim_world *w, uint16_t type, const uint8_t *extra, uint32_t n)
{
	struct sim_skb *skb = sim_skb_alloc(w, 60);
	uint8_t *d = sim_skb_data(skb);

	memset(d, 0, 60);
	memcpy(d, mac_a, 6);
	d[6] = 0x02;
	d[12] = (uint8_t)(type >> 8);
	d[13] = (uint8_t)type;
	if (n)
		memcpy(d + 14, extra, n);
	return skb;
}

static void arrive(struct sim_world *w, struct sim_dev *dev, sim_ns t, struct sim_skb *skb)
{
	sim_schedule(w, t, SIM_EV_WIRE_ARRIVE, dev, skb);
}

static void test_ring_overflow(void **state)
{
	struct counts k;
	struct sim_observer o;
	struct sim_dev *eth;
	struct sim_world *w = world(&k, &o, &eth);

	(void)state;
	eth->rx_ring.limit = 64;
	/* 1000 frames 10 ns apart; each costs the CPU 300 ns. */
	for (int i = 0; i < 1000; i++)
		arrive(w, eth, 1000 + 10 * (sim_ns)i, frame(w, 0x88b5, NULL, 0));
	sim_world_run(w, 0);
	assert_true(eth->stats.rx_missed_errors > 800);
	assert_int_equal(eth->stats.rx_missed_errors + eth->stats.rx_packets, 1000);
	assert_int_equal(k.drop[SIM_DROP_RX_MISSED], eth->stats.rx_missed_errors);
	/* Missed frames never reach the taps. */
	assert_int_equal(k.stage[SIM_ST_TAPS_RX], eth->stats.rx_packets);
	assert_int_equal(w->hosts[0]->cpu[0].processed, eth->stats.rx_packets);
	assert_int_equal(w->skbs_live, 0);
	sim_world_free(w);
}

static void test_budget_and_squeeze(void **state)
{
	struct counts k;
	struct sim_observer o;
	struct sim_dev *eth;
	struct sim_world *w = world(&k, &o, &eth);
	struct sim_cpu *cpu;

	(void)state;
	eth->rx_ring.limit = 4096;
	/* A burst of 1000 frames at once on one device: each net_rx_action
	 * run polls its NAPI once, 64 packets, and sets it aside for the
	 * next run; one NAPI never spends netdev_budget (300). */
	for (int i = 0; i < 1000; i++)
		arrive(w, eth, 1000, frame(w, 0x88b5, NULL, 0));
	sim_world_run(w, 0);
	cpu = &w->hosts[0]->cpu[0];
	assert_int_equal(cpu->processed, 1000);
	assert_int_equal(cpu->time_squeeze, 0);
	assert_int_equal(k.stage[SIM_ST_HARD_IRQ], 1);	/* masked until NAPI completes */
	sim_world_free(w);

	/* Five devices, 200 frames each, all on the poll list: a run polls
	 * each once, 64 apiece, and the fifth poll takes the budget below
	 * zero (320 > 300): time_squeeze.  Runs 1-3 end so (200 = 3 x 64 +
	 * 8); run 4 takes the last 8 of each and completes them all. */
	w = world(&k, &o, &eth);
	struct sim_dev *more[4];

	eth->rx_ring.limit = 4096;
	for (int d = 0; d < 4; d++) {
		char name[16];

		snprintf(name, sizeof(name), "eth%d", d + 1);
		more[d] = sim_dev_new(w->hosts[0], name, SIM_DEV_ETHER);
		more[d]->rx_ring.limit = 4096;
		memcpy(more[d]->mac, mac_a, 6);
	}
	for (int i = 0; i < 200; i++) {
		arrive(w, eth, 1000, frame(w, 0x88b5, NULL, 0));
		for (int d = 0; d < 4; d++)
			arrive(w, more[d], 1000, frame(w, 0x88b5, NULL, 0));
	}
	sim_world_run(w, 0);
	cpu = &w->hosts[0]->cpu[0];
	assert_int_equal(cpu->processed, 1000);
	assert_int_equal(cpu->time_squeeze, 3);
	sim_world_free(w);

	/* netdev_budget_usecs (here 2000, as at HZ=1000): 100 frames costing
	 * 50 us each exceed it. */
	w = world(&k, &o, &eth);
	w->hosts[0]->costs.rx = 50000;
	w->hosts[0]->sysctl.netdev_budget_usecs = 2000;
	for (int i = 0; i < 100; i++)
		arrive(w, eth, 1000, frame(w, 0x88b5, NULL, 0));
	sim_world_run(w, 0);
	cpu = &w->hosts[0]->cpu[0];
	assert_int_equal(cpu->processed, 100);
	/* the first poll (64 packets, 3.2 ms) outlasts the 2 ms limit: one
	 * squeeze; the next run's 36 packets (1.8 ms) fit */
	assert_int_equal(cpu->time_squeeze, 1);
	sim_world_free(w);
}

static void test_backlog(void **state)
{
	struct counts k;
	struct sim_observer o;
	struct sim_dev *eth;
	struct sim_world *w = world(&k, &o, &eth);
	struct sim_host *h = w->hosts[0];
	struct sim_ctx c = { .w = w, .host = h, .cpu = &h->cpu[0], .t = 0 };

	(void)state;
	/* netif_rx from process context, 2000 at once: max_backlog + 1 fit. */
	for (int i = 0; i < 2000; i++) {
		struct sim_skb *skb = frame(w, 0x88b5, NULL, 0);

		skb->dev = eth;
		skb->protocol = 0x88b5;
		sim_skb_pull(skb, ETH_HLEN);
		skb->mac = (int32_t)skb->data - ETH_HLEN;
		sim_netif_rx(&c, skb);
	}
	assert_int_equal(h->cpu[0].dropped, 2000 - 1001);
	assert_int_equal(h->drops[SIM_DROP_CPU_BACKLOG], 2000 - 1001);
	assert_int_equal(eth->stats.rx_dropped, 2000 - 1001);
	sim_world_run(w, 0);
	assert_int_equal(k.stage[SIM_ST_PROCESS_BACKLOG], 1001);
	assert_int_equal(k.stage[SIM_ST_TAPS_RX], 1001);
	assert_int_equal(w->skbs_live, 0);
	sim_world_free(w);
}

static void test_vlan(void **state)
{
	struct counts k;
	struct sim_observer o;
	struct sim_dev *eth;
	struct sim_world *w = world(&k, &o, &eth);
	static const uint8_t tag5[4] = { 0x00, 0x05, 0x88, 0xb5 };

	(void)state;
	/* No VLAN device: the taps see it untagged on eth0; then a non-zero
	 * id makes it OTHERHOST (vlan_do_receive found no device). */
	arrive(w, eth, 10, frame(w, 0x8100, tag5, 4));
	sim_world_run(w, 0);
	assert_int_equal(k.stage[SIM_ST_TAPS_RX], 1);
	assert_ptr_equal(k.last_dev, eth);
	assert_int_equal(k.last_proto, 0x88b5);
	assert_int_equal(k.drop[SIM_DROP_UNHANDLED_PROTO], 1);
	sim_world_free(w);

	/* With eth0.5: the taps see it twice, on eth0 then on eth0.5. */
	w = world(&k, &o, &eth);
	struct sim_dev *v = sim_dev_new(w->hosts[0], "eth0.5", SIM_DEV_VLAN);

	v->vlan_parent = eth;
	v->vlan_id = 5;
	memcpy(v->mac, mac_a, 6);
	arrive(w, eth, 10, frame(w, 0x8100, tag5, 4));
	sim_world_run(w, 0);
	assert_int_equal(k.stage[SIM_ST_TAPS_RX], 2);
	assert_ptr_equal(k.last_dev, v);
	assert_int_equal(k.last_pkt_type, PACKET_HOST);
	sim_world_free(w);

	/* Too short to untag: freed in skb_vlan_untag, before the taps. */
	w = world(&k, &o, &eth);
	struct sim_skb *skb = frame(w, 0x8100, tag5, 4);

	skb->len = 14 + 5;
	arrive(w, eth, 10, skb);
	sim_world_run(w, 0);
	assert_int_equal(k.stage[SIM_ST_TAPS_RX], 0);
	assert_int_equal(w->hosts[0]->drops[SIM_DROP_NOT_SPECIFIED], 1);
	sim_world_free(w);
}

/* The order of events, and which taps got the packet. */
struct seq {
	enum sim_stage st[64];
	const struct sim_tap *tap[64];
	unsigned n;
};

static void record(void *ctx, const struct sim_event_rec *ev)
{
	struct seq *q = ctx;

	if (q->n < 64) {
		q->tap[q->n] = ev->tap;
		q->st[q->n++] = ev->stage;
	}
}

static struct sim_tap *proto_tap(struct sim_host *h, const char *name, uint16_t proto,
				 struct sim_dev *dev)
{
	struct sim_tap_cfg c = { .name = name, .sock_type = SOCK_RAW, .proto = proto, .dev = dev };
	char err[BPFVM_ERRBUF_SIZE];
	struct sim_tap *t = sim_tap_new(h, &c, err);

	assert_non_null(t);
	return t;
}

static unsigned tap_index(const struct seq *q, const struct sim_tap *t)
{
	for (unsigned i = 0; i < q->n; i++)
		if (q->tap[i] == t)
			return i;
	fail_msg("tap %s never got the packet", t->name);
	return 0;
}

/*
 * Packet sockets bound to a protocol come after the protocol's handler
 * (Linux 6.15 and later: the namespace's ptype_specific, then the
 * device's, both behind ptype_base's ip_rcv), and one bound to the device
 * a packet arrived on gets it even after a VLAN device took it
 * (orig_dev's list, then skb->dev's).
 */
static void test_protocol_sockets_after_handler(void **state)
{
	struct seq q;
	struct sim_observer o = { .event = record, .ctx = &q };
	struct sim_world *w = sim_world_new(1);
	struct sim_host *h = sim_host_new(w, "a", 1);
	struct sim_dev *eth = sim_dev_new(h, "eth0", SIM_DEV_ETHER);
	static const uint8_t ip[20] = { 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0,
					198, 18, 0, 2, 198, 18, 0, 1 };
	unsigned ip_rcv = 0;

	(void)state;
	memcpy(eth->mac, mac_a, 6);
	memset(&q, 0, sizeof(q));
	sim_world_add_observer(w, &o);
	struct sim_tap *any = proto_tap(h, "any", ETH_P_IP, NULL);
	struct sim_tap *bound = proto_tap(h, "bound", ETH_P_IP, eth);

	arrive(w, eth, 10, frame(w, ETH_P_IP, ip, sizeof(ip)));
	sim_world_run(w, 0);
	while (ip_rcv < q.n && q.st[ip_rcv] != SIM_ST_IP_RCV)
		ip_rcv++;
	assert_true(ip_rcv < q.n);
	assert_true(tap_index(&q, any) > ip_rcv);
	assert_true(tap_index(&q, bound) > tap_index(&q, any));
	sim_world_free(w);

	/* eth0.5 takes a tagged frame; sockets bound to eth0 and to eth0.5
	 * and to no device each get it once, and nobody calls it unhandled. */
	static const uint8_t tag5[4] = { 0x00, 0x05, 0x88, 0xb5 };
	struct counts k;
	struct sim_observer ok;
	struct sim_tap_stats st;

	w = world(&k, &ok, &eth);
	h = w->hosts[0];
	struct sim_dev *v = sim_dev_new(h, "eth0.5", SIM_DEV_VLAN);

	v->vlan_parent = eth;
	v->vlan_id = 5;
	memcpy(v->mac, mac_a, 6);
	struct sim_tap *t[3] = { proto_tap(h, "phys", 0x88b5, eth), proto_tap(h, "vlan", 0x88b5, v),
				 proto_tap(h, "none", 0x88b5, NULL) };

	arrive(w, eth, 10, frame(w, 0x8100, tag5, 4));
	sim_world_run(w, 0);
	for (int i = 0; i < 3; i++) {
		sim_tap_stats(t[i], &st);
		assert_int_equal(st.tp_packets, 1);
	}
	assert_int_equal(k.drop[SIM_DROP_UNHANDLED_PROTO], 0);
	sim_world_free(w);
}

static void test_coalescing(void **state)
{
	struct counts k;
	struct sim_observer o;
	struct sim_dev *eth;
	struct sim_world *w = world(&k, &o, &eth);

	(void)state;
	/* A frame every 10 us for 1 ms, rx-usecs 50: at most one interrupt
	 * per 50 us, so about 20 (each poll drains the ring in 300 ns and
	 * re-enables the IRQ). */
	eth->coalesce = 50000;
	for (int i = 0; i < 100; i++)
		arrive(w, eth, 10000 * (sim_ns)i, frame(w, 0x88b5, NULL, 0));
	sim_world_run(w, 0);
	assert_true(k.stage[SIM_ST_HARD_IRQ] >= 19 && k.stage[SIM_ST_HARD_IRQ] <= 21);
	assert_int_equal(w->hosts[0]->cpu[0].processed, 100);
	sim_world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_overflow), cmocka_unit_test(test_budget_and_squeeze),
		cmocka_unit_test(test_backlog),       cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_protocol_sockets_after_handler),
	};

	return cmocka_run_group_tests_name("rx", tests, NULL, NULL);
}
