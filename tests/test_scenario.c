/*
 * test_scenario.c - the scenario language: every statement into the right
 * fields, every error with its exact sentence and column, the defaults, the
 * ring libpcap asks for (checked against the running kernel with `ss -0 -e`
 * on Linux 6.18 + libpcap 1.10.3; the figures are recorded below), the
 * canonical printer's round trip, and the example scenarios.
 */
#include "testutil.h"

#include "scenario.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sim_scenario *ok(const char *text)
{
	char err[SIM_SCN_ERRBUF_SIZE] = "";
	struct sim_scenario *s = NULL;

	if (sim_scenario_parse(text, "t", &s, err) != 0)
		fail_msg("unexpected error: %s\n--- input:\n%s", err, text);
	return s;
}

static char *written(const struct sim_scenario *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(sim_scenario_write(f, s), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* The written form parses back to the same written form. */
static void round_trip(const struct sim_scenario *s)
{
	char *once = written(s), *twice;
	struct sim_scenario *t = ok(once);

	twice = written(t);
	assert_string_equal(once, twice);
	free(once);
	free(twice);
	sim_scenario_free(t);
}

static void addr_is(const struct sim_scn_addr *a, const char *text)
{
	char b[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, b, sizeof(b)));
	assert_string_equal(b, text);
}

/* ------------------------------------------------------------------ */
/* Statements: text -> fields. */

#define HOSTS "host a\n  iface eth0 addr 198.18.0.1/24 addr fe80::1/64\n" \
	      "host b\n  iface eth0 addr 198.18.0.2/24\n"

static void c_top(const struct sim_scenario *s)
{
	assert_string_equal(s->title, "say \"hi\" \\ there");
	assert_int_equal(s->seed, 0x2a);
	assert_true(s->has_duration);
	assert_int_equal(s->duration, 1500000000ull);
	assert_int_equal(s->nhosts, 1);
}

static void c_host(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[1];

	assert_int_equal(s->nhosts, 2);
	assert_string_equal(h->name, "b_2-x");
	assert_int_equal(h->cpus, 2);
	assert_int_equal(s->hosts[0].cpus, 1);
	assert_int_equal(h->nifaces, 1);
	assert_string_equal(h->ifaces[0].name, "lo");
	assert_int_equal(h->ifaces[0].kind, SIM_SCN_IFACE_LOOPBACK);
	assert_int_equal(h->ifaces[0].ifindex, 1);
	assert_int_equal(h->ifaces[0].mtu, 65536);
	assert_int_equal(h->ifaces[0].naddrs, 2);
	addr_is(&h->ifaces[0].addrs[0].addr, "127.0.0.1");
	assert_int_equal(h->ifaces[0].addrs[0].len, 8);
	addr_is(&h->ifaces[0].addrs[1].addr, "::1");
	assert_int_equal(h->pos.line, 2);
}

static void c_iface(const struct sim_scenario *s)
{
	const struct sim_scn_iface *e = &s->hosts[0].ifaces[1];
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x0a, 0xff };

	assert_string_equal(e->name, "eth0");
	assert_int_equal(e->kind, SIM_SCN_IFACE_ETHER);
	assert_int_equal(e->ifindex, 2);
	assert_memory_equal(e->mac, mac, 6);
	assert_true(e->mac_given);
	assert_int_equal(e->naddrs, 2);
	addr_is(&e->addrs[0].addr, "198.18.0.1");
	assert_int_equal(e->addrs[0].len, 24);
	addr_is(&e->addrs[1].addr, "2001:db8::1");
	assert_int_equal(e->addrs[1].len, 64);
	assert_int_equal(e->mtu, 9000);
	assert_true(e->promisc);
	assert_false(e->vlan_offload);
	assert_int_equal(e->rx_ring, 4096);
	assert_int_equal(e->tx_ring, 64);
	assert_int_equal(e->txqueuelen, 0);
	assert_int_equal(e->coalesce, 50000);
	assert_int_equal(e->coalesce_frames, 8);
	assert_int_equal(e->wire, -1);
}

static void c_vlan(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[0];
	const struct sim_scn_iface *v = &h->ifaces[1];

	/* Declared before its parent: references resolve after the file. */
	assert_string_equal(v->name, "eth0.100");
	assert_int_equal(v->kind, SIM_SCN_IFACE_VLAN);
	assert_int_equal(v->vlan_id, 100);
	assert_string_equal(v->parent.name, "eth0");
	assert_int_equal(v->parent.idx, 2);
	assert_int_equal(v->mtu, 1496);
	/* vlan_dev_init: the parent's address. */
	assert_memory_equal(v->mac, h->ifaces[2].mac, 6);
	assert_false(v->mac_given);
}

static void c_route(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[0];

	assert_int_equal(h->nroutes, 3);
	addr_is(&h->routes[0].dst.addr, "198.18.1.0");
	assert_int_equal(h->routes[0].dst.len, 24);
	assert_true(h->routes[0].has_via);
	addr_is(&h->routes[0].via, "198.18.0.2");
	assert_true(h->routes[0].has_dev);
	assert_int_equal(h->routes[0].dev.idx, 1);
	assert_int_equal(h->routes[0].metric, 5);
	assert_true(h->routes[1].is_default);
	assert_int_equal(h->routes[1].dst.addr.family, 4);
	assert_int_equal(h->routes[1].dst.len, 0);
	assert_false(h->routes[1].has_dev);
	assert_true(h->routes[2].is_default);
	assert_int_equal(h->routes[2].dst.addr.family, 6);
	addr_is(&h->routes[2].via, "fe80::2");
}

static void c_neigh(const struct sim_scenario *s)
{
	const struct sim_scn_neigh *n = &s->hosts[0].neighs[0];
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x0b, 0x01 };

	addr_is(&n->addr, "198.18.0.2");
	assert_memory_equal(n->lladdr, mac, 6);
	assert_string_equal(n->dev.name, "eth0");
	assert_int_equal(n->dev.idx, 1);
}

static void c_sysctl(const struct sim_scenario *s)
{
	const struct sim_scn_sysctls *c = &s->hosts[0].sysctl;

	assert_int_equal(c->ip_forward, 1);
	assert_int_equal(c->netdev_budget, 600);
	assert_int_equal(c->netdev_budget_usecs, 2000);
	assert_int_equal(c->netdev_max_backlog, 10);
	assert_int_equal(c->dev_weight, 16);
	assert_int_equal(c->rmem_default, 65536);
	assert_int_equal(c->rmem_max, 1048576);
}

static void c_cost(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[0];

	assert_int_equal(h->cost[SIM_SCN_COST_IRQ], 2000);
	assert_int_equal(h->cost[SIM_SCN_COST_TX], 1500);
	assert_int_equal(h->cost[SIM_SCN_COST_DMA], 10);
	assert_int_equal(h->cost[SIM_SCN_COST_RX], 300);
}

static void c_rule(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[0];
	const struct sim_scn_rule *r = &h->rules[0], *f = &h->rules[1];

	assert_int_equal(h->nrules, 3);
	assert_string_equal(r->name, "in1");
	assert_int_equal(r->hook, SIM_SCN_HOOK_NETDEV_INGRESS);
	assert_int_equal(r->dev.idx, 1);
	assert_int_equal(r->proto, SIM_SCN_PROTO_TCP);
	assert_true(r->has_saddr);
	addr_is(&r->saddr.addr, "198.18.0.0");
	assert_int_equal(r->saddr.len, 16);
	assert_true(r->dport.set);
	assert_int_equal(r->dport.lo, 80);
	assert_int_equal(r->dport.hi, 90);
	assert_true(r->has_vlan);
	assert_int_equal(r->vlan, 100);
	assert_true(r->len.set);
	assert_int_equal(r->len.lo, 60);
	assert_int_equal(r->len.hi, 1500);
	assert_int_equal(r->verdict, SIM_SCN_VERDICT_ACCEPT);
	assert_int_equal(f->hook, SIM_SCN_HOOK_FORWARD);
	assert_true(f->has_iif && f->has_oif);
	assert_int_equal(f->iif.idx, 1);
	assert_int_equal(f->oif.idx, 2);
	assert_true(f->has_daddr);
	addr_is(&f->daddr.addr, "198.19.0.5");
	assert_int_equal(f->daddr.len, 32);
	assert_int_equal(f->sport.lo, 53);
	assert_int_equal(f->sport.hi, 53);
	assert_int_equal(f->verdict, SIM_SCN_VERDICT_DROP);
	assert_int_equal(h->rules[2].proto, SIM_SCN_PROTO_ANY);
	assert_int_equal(h->rules[2].hook, SIM_SCN_HOOK_POSTROUTING);
}

static void c_socket(const struct sim_scenario *s)
{
	const struct sim_scn_host *h = &s->hosts[0];

	assert_int_equal(h->nsockets, 3);
	assert_int_equal(h->sockets[0].proto, SIM_SCN_L4_UDP);
	addr_is(&h->sockets[0].bind, "0.0.0.0");
	assert_int_equal(h->sockets[0].port, 53);
	assert_int_equal(h->sockets[0].rcvbuf, 4096);
	/* __sock_set_rcvbuf: doubled. */
	assert_int_equal(h->sockets[0].sk_rcvbuf, 8192);
	assert_int_equal(h->sockets[0].read_rate, 10000);
	assert_int_equal(h->sockets[1].proto, SIM_SCN_L4_ICMP);
	addr_is(&h->sockets[1].bind, "fe80::1");
	assert_int_equal(h->sockets[1].sk_rcvbuf, 212992);
	assert_int_equal(h->sockets[1].read_rate, SIM_SCN_RATE_UNLIMITED);
	assert_int_equal(h->sockets[2].proto, SIM_SCN_L4_TCP);
	assert_int_equal(h->sockets[2].port, 80);
	/* Cut to rmem_max (4 MiB) before doubling. */
	assert_int_equal(h->sockets[2].rcvbuf, 64u << 20);
	assert_int_equal(h->sockets[2].sk_rcvbuf, 8u << 20);
}

static void c_tap_raw(const struct sim_scenario *s)
{
	const struct sim_scn_tap *t = &s->hosts[0].taps[0], *u = &s->hosts[0].taps[1];

	assert_string_equal(t->name, "t1");
	assert_false(t->any_dev);
	assert_int_equal(t->dev.idx, 1);
	assert_int_equal(t->proto, 0x88cc);
	assert_true(t->dgram);
	assert_string_equal(t->filter, "vlan and tcp port 80");
	assert_null(t->filter_file);
	assert_int_equal(t->snaplen, 96);
	assert_true(t->ring_given);
	assert_int_equal(t->ring.version, 3);
	assert_int_equal(t->ring.block_nr, 4);
	assert_int_equal(t->ring.block_size, 65536);
	assert_int_equal(t->ring.retire_ms, 10);
	assert_true(t->ignore_outgoing);
	assert_int_equal(t->read_rate, 500);
	assert_false(t->tcpdump);
	assert_true(u->any_dev);
	assert_int_equal(u->proto, 0x0800);
	assert_false(u->dgram);
	assert_string_equal(u->filter_file, "my filter.bpf");
	assert_int_equal(u->ring.version, 0);
	assert_int_equal(u->rcvbuf, 1 << 20);
	assert_int_equal(u->sk_rcvbuf, 2 << 20);
	/* prb_calc_retire_blk_tmo on a veth (10000 Mb/s), 1M blocks: 1 ms. */
	assert_int_equal(s->hosts[0].taps[2].ring.retire_ms, 1);
	/* ... and with no device: DEFAULT_PRB_RETIRE_TOV. */
	assert_int_equal(s->hosts[0].taps[3].ring.retire_ms, 8);
}

static void c_tap_tcpdump(const struct sim_scenario *s)
{
	const struct sim_scn_tap *t = &s->hosts[0].taps[0], *d = &s->hosts[0].taps[1];

	assert_true(t->tcpdump);
	assert_true(t->immediate);
	assert_false(t->dgram);
	assert_int_equal(t->timeout, 100000000);
	assert_int_equal(t->buffer, 4u << 20);
	assert_int_equal(t->direction, SIM_SCN_DIR_IN);
	assert_int_equal(t->snaplen, 100);
	/* Immediate: TPACKET_V2, frames of TPACKET_ALIGN(68 + 100). */
	assert_int_equal(t->ring.version, 2);
	assert_int_equal(t->ring.frame_size, 176);
	/* The defaults on "any": cooked (SOCK_DGRAM), TPACKET_V3, 8 x 256K. */
	assert_true(d->any_dev);
	assert_true(d->dgram);
	assert_int_equal(d->ring.version, 3);
	assert_int_equal(d->ring.block_nr, 8);
	assert_int_equal(d->ring.block_size, 262144);
	assert_int_equal(d->ring.retire_ms, 1000);
	assert_int_equal(d->direction, SIM_SCN_DIR_INOUT);
	assert_int_equal(d->snaplen, 262144);
}

static void c_wire(const struct sim_scenario *s)
{
	const struct sim_scn_wire *w = &s->wires[0];

	assert_int_equal(s->nwires, 1);
	assert_int_equal(w->a.host, 1);
	assert_int_equal(w->a.idx, 1);
	assert_int_equal(w->b.host, 0);
	assert_int_equal(w->delay, 20000);
	assert_int_equal(w->rate_bps, 2500000000ull);
	assert_int_equal(s->hosts[0].ifaces[1].wire, 0);
	assert_int_equal(s->hosts[1].ifaces[1].wire, 0);
}

static void c_send(const struct sim_scenario *s)
{
	const struct sim_scn_traffic *x = &s->traffic[0], *y = &s->traffic[1],
				     *z = &s->traffic[2];

	assert_int_equal(s->ntraffic, 3);
	assert_int_equal(x->kind, SIM_SCN_TRAFFIC_SEND);
	assert_int_equal(x->at, 0);
	assert_int_equal(x->host, 0);
	assert_int_equal(x->proto, SIM_SCN_L4_UDP);
	assert_true(x->has_from);
	addr_is(&x->from, "198.18.0.1");
	addr_is(&x->to, "198.18.0.2");
	assert_int_equal(x->dport, 53);
	assert_int_equal(x->sport, 4000);
	assert_int_equal(x->size, 0);
	assert_int_equal(x->count, 100);
	assert_int_equal(x->pace, SIM_SCN_PACE_BURST);
	assert_int_equal(x->burst, 10);
	assert_int_equal(x->every, 1000000);
	assert_true(x->has_vlan);
	assert_int_equal(x->vlan, 5);
	assert_int_equal(x->ttl, 1);
	/* In any order: the engine sorts by time. */
	assert_int_equal(y->at, 5000000000ull);
	assert_int_equal(y->host, 1);
	assert_int_equal(y->proto, SIM_SCN_L4_TCP);
	addr_is(&y->to, "fe80::1");
	assert_int_equal(y->dport, 80);
	assert_int_equal(y->pace, SIM_SCN_PACE_RATE);
	assert_int_equal(y->rate, 1000000);
	assert_int_equal(z->proto, SIM_SCN_L4_ICMP);
	assert_int_equal(z->at, 1500);
	assert_int_equal(z->size, 64);
	assert_int_equal(z->ttl, 64);
	assert_int_equal(z->count, 1);
	assert_int_equal(z->pace, SIM_SCN_PACE_BACK_TO_BACK);
}

static void c_inject(const struct sim_scenario *s)
{
	const struct sim_scn_traffic *x = &s->traffic[0], *r = &s->traffic[1];
	static const uint8_t frame[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0x0b,
					 0x01, 0x08, 0x06, 0xAB };

	assert_int_equal(x->kind, SIM_SCN_TRAFFIC_INJECT);
	assert_int_equal(x->dev.host, 0);
	assert_int_equal(x->dev.idx, 1);
	assert_int_equal(x->frame_len, sizeof(frame));
	assert_memory_equal(x->frame, frame, sizeof(frame));
	assert_int_equal(x->count, 3);
	assert_int_equal(x->rate, 1);
	assert_int_equal(r->kind, SIM_SCN_TRAFFIC_REPLAY);
	assert_string_equal(r->pcap, "traces/samples/mixed.pcap");
	assert_int_equal(r->speed_milli, 250);
}

static void c_expect(const struct sim_scenario *s)
{
	const struct sim_scn_expect *e = s->expects;

	assert_int_equal(s->nexpects, 8);
	assert_int_equal(e[0].kind, SIM_SCN_EXPECT_TAP_CAPTURED);
	assert_int_equal(e[0].cmp, SIM_SCN_CMP_GE);
	assert_int_equal(e[0].value, 1);
	assert_int_equal(e[0].tap.host, 0);
	assert_int_equal(e[0].tap.idx, 0);
	assert_int_equal(e[0].pos.line, 5);
	assert_int_equal(e[1].kind, SIM_SCN_EXPECT_TAP_RECEIVED);
	assert_int_equal(e[1].cmp, SIM_SCN_CMP_NE);
	assert_int_equal(e[1].value, 0);
	assert_int_equal(e[2].kind, SIM_SCN_EXPECT_TAP_DROPPED);
	assert_int_equal(e[2].cmp, SIM_SCN_CMP_LT);
	assert_int_equal(e[3].kind, SIM_SCN_EXPECT_TAP_SAW);
	assert_int_equal(e[3].cmp, SIM_SCN_CMP_LE);
	assert_string_equal(e[3].filter, "tcp[tcpflags] & tcp-syn != 0");
	assert_int_equal(e[4].kind, SIM_SCN_EXPECT_DROP);
	assert_string_equal(e[4].reason, "QDISC_DROP");
	assert_int_equal(e[4].cmp, SIM_SCN_CMP_GT);
	assert_string_equal(e[4].func, "__dev_queue_xmit");
	assert_int_equal(e[5].kind, SIM_SCN_EXPECT_COUNTER);
	assert_string_equal(e[5].counter, "eth0.100.rx_packets");
	assert_int_equal(e[5].cmp, SIM_SCN_CMP_EQ);
	assert_int_equal(e[5].value, 7);
	assert_string_equal(e[6].counter, "softnet.time_squeeze");
	assert_string_equal(e[7].counter, "t1.tp_drops");
}

static void c_continue(const struct sim_scenario *s)
{
	const struct sim_scn_iface *e = &s->hosts[0].ifaces[1];

	assert_int_equal(e->mtu, 1400);
	assert_int_equal(e->rx_ring, 512);
	assert_int_equal(e->naddrs, 1);
}

static void c_comment(const struct sim_scenario *s)
{
	assert_int_equal(s->nhosts, 1);
	assert_int_equal(s->hosts[0].ifaces[1].mtu, 1400);
}

static const struct {
	const char *text;
	void (*check)(const struct sim_scenario *s);
} stmt_cases[] = {
	{ "scenario \"say \\\"hi\\\" \\\\ there\"\nseed 0x2a\nduration 1.5s\nhost a\n", c_top },
	{ "host a\nhost b_2-x cpus 2\n", c_host },
	{ "host a\n  iface eth0 mac 02:00:00:00:0A:ff addr 198.18.0.1/24 addr 2001:db8::1/64 mtu 9000 promisc"
	  " vlan-offload off rx-ring 4096 tx-ring 64 txqueuelen 0 coalesce 50us coalesce-frames 8\n",
	  c_iface },
	{ "host a\n  iface eth0.100 vlan 100 on eth0 mtu 1496\n  iface eth0\n", c_vlan },
	{ "host a\n  iface eth0\n  route 198.18.1.0/24 via 198.18.0.2 dev eth0 metric 5\n"
	  "  route default via 198.18.0.2\n  route default via fe80::2 dev eth0\n",
	  c_route },
	{ "host a\n  iface eth0\n  neigh 198.18.0.2 lladdr 02:00:00:00:0b:01 dev eth0\n", c_neigh },
	{ "host a\n  forwarding on\n  sysctl netdev_budget 600\n  sysctl netdev_budget_usecs 2000\n"
	  "  sysctl netdev_max_backlog 10\n  sysctl dev_weight 16\n  sysctl rmem_default 64K\n"
	  "  sysctl rmem_max 1M\n",
	  c_sysctl },
	{ "host a\n  cost irq 2us\n  cost tx 1.5us\n  cost dma 10ns\n", c_cost },
	{ "host a\n  iface eth0\n  iface eth1\n"
	  "  rule in1 netdev-ingress eth0 proto tcp saddr 198.18.0.0/16 dport 80-90 vlan 100 len 60-1500 accept\n"
	  "  rule f1 forward iif eth0 oif eth1 proto udp sport 53 daddr 198.19.0.5 drop\n"
	  "  rule p1 postrouting drop\n",
	  c_rule },
	{ "host a\n  iface eth0 addr fe80::1/64\n  socket s1 udp bind 0.0.0.0:53 rcvbuf 4K read-rate 10k/s\n"
	  "  socket s2 icmp bind fe80::1\n  socket s3 tcp bind [::]:80 rcvbuf 64M\n",
	  c_socket },
	{ "host a\n  iface eth0\n"
	  "  tap t1 dev eth0 proto 0x88cc type dgram filter \"vlan and tcp port 80\" snaplen 96 ring 4 x 64K"
	  " retire 10ms ignore-outgoing read-rate 500/s\n"
	  "  tap t2 dev any proto ip rcvbuf 1M filter-file \"my filter.bpf\"\n"
	  "  tap t3 dev eth0 ring 2x1M\n  tap t4 ring 1x4K\n",
	  c_tap_raw },
	{ "host a\n  iface eth0\n  tap t1 dev eth0 tcpdump immediate timeout 100ms buffer 4M direction in snaplen 100\n"
	  "  tap t2 tcpdump\n",
	  c_tap_tcpdump },
	{ "wire b.eth0 a.eth0 delay 20us rate 2.5G\nhost a\n  iface eth0\nhost b\n  iface eth0\n", c_wire },
	{ HOSTS "at 0 a send udp from 198.18.0.1 to 198.18.0.2:53 sport 4000 size 0 count 100 burst 10 every 1ms"
		" vlan 5 ttl 1\nat 5s b send tcp to [fe80::1]:80 rate 1M/s count 9\nat 1.5us a send icmp to 198.18.0.2\n",
	  c_send },
	{ "host a\n  iface eth0\nat 2ms inject a.eth0 frame ffffffffffff 020000000b01 \\\n   0806 ab count 3 rate 1/s\n"
	  "at 3ms replay a.eth0 traces/samples/mixed.pcap speed 0.25\n",
	  c_inject },
	{ "host a\n  tap t1\n  iface eth0.100 vlan 100 on eth0\n  iface eth0\n"
	  "expect tap a.t1 captured >=1\nexpect tap a.t1 received != 0\nexpect tap a.t1 dropped <5\n"
	  "expect tap a.t1 saw <= 3 \"tcp[tcpflags] & tcp-syn != 0\"\n"
	  "expect drop a QDISC_DROP >0 at __dev_queue_xmit\nexpect counter a eth0.100.rx_packets =7\n"
	  "expect counter a softnet.time_squeeze 0\nexpect counter a t1.tp_drops 0\n",
	  c_expect },
	{ "host a   # a comment\n\n  iface eth0 \\\n\tmtu 1400 \\\n  # a comment line ends the continued statement\n",
	  c_comment },
	{ "host a\n  iface eth0 \\\n    mtu 1400 \\\n    rx-ring 512 addr 198.18.0.1/24\r\n", c_continue },
};

static void test_statements(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(stmt_cases) / sizeof(stmt_cases[0]); i++) {
		char err[SIM_SCN_ERRBUF_SIZE] = "";
		struct sim_scenario *s = NULL;
		int rc = sim_scenario_parse(stmt_cases[i].text, "t", &s, err);

		if (rc != 0)
			fail_msg("case %zu: %s", i, err);
		stmt_cases[i].check(s);
		round_trip(s);
		sim_scenario_free(s);
	}
}

/* ------------------------------------------------------------------ */
/* Errors: the exact sentence, with line and column. */

static const struct {
	const char *text;
	const char *err;
} err_cases[] = {
	{ "host a\n  iface eth0 coalesce 50\n",
	  "t:2:23: expected a duration like 10us, 2ms or 1s after 'coalesce', got '50'" },
	{ "bogus 1\n",
	  "t:1:1: unknown statement 'bogus'" },
	{ "iface eth0\n",
	  "t:1:1: 'iface' belongs to a host: put it after a 'host' line" },
	{ "seed 1\nseed 2\n",
	  "t:2:1: 'seed' given twice (first on line 1)" },
	{ "seed -1\n",
	  "t:1:6: expected a number from 0 to 18446744073709551615 after 'seed', got '-1'" },
	{ "scenario untitled\n",
	  "t:1:10: expected a title in double quotes after 'scenario', got 'untitled'" },
	{ "duration 10\n",
	  "t:1:10: expected a duration like 10us, 2ms or 1s after 'duration', got '10'" },
	{ "duration 2h\n",
	  "t:1:10: expected a duration like 10us, 2ms or 1s after 'duration', got '2h'" },
	{ "host a\nhost a\n",
	  "t:2:6: host 'a' is already declared on line 1" },
	{ "host 1a\n",
	  "t:1:6: expected a host name (a letter or '_', then letters, digits, '_', '-'; at most 31) after 'host', got '1a'" },
	{ "host a cpus 3\n",
	  "t:1:13: expected a number from 1 to 2 after 'cpus', got '3'" },
	{ "host a\n  iface eth0 mtu 67\n",
	  "t:2:18: expected a number from 68 to 65535 after 'mtu', got '67'" },
	{ "host a\n  iface eth0 mtu 65536\n",
	  "t:2:18: expected a number from 68 to 65535 after 'mtu', got '65536'" },
	{ "host a\n  iface eth0 rx-ring 300\n",
	  "t:2:22: expected a power of two from 64 to 4096 after 'rx-ring', got '300'" },
	{ "host a\n  iface eth0 rx-ring 8192\n",
	  "t:2:22: expected a power of two from 64 to 4096 after 'rx-ring', got '8192'" },
	{ "host a\n  iface eth0\n  iface eth0\n",
	  "t:3:9: host 'a' already has an interface 'eth0'" },
	{ "host a\n  iface lo\n",
	  "t:2:9: host 'a' already has an interface 'lo' (every host has lo)" },
	{ "host a\n  iface eth0 mac 02:00:00:00:0a\n",
	  "t:2:18: expected a MAC address like 02:00:00:00:0a:01 after 'mac', got '02:00:00:00:0a'" },
	{ "host a\n  iface eth0 addr 10.0.0.1/24\n",
	  "t:2:19: address '10.0.0.1/24' is outside the test networks 198.18.0.0/15, fe80::/10 and 2001:db8::/32" },
	{ "host a\n  iface eth0 addr 198.18.0.1\n",
	  "t:2:19: expected an address with a prefix length like 198.18.0.1/24 after 'addr', got '198.18.0.1'" },
	{ "host a\n  iface eth0 addr 198.18.0.1/33\n",
	  "t:2:19: expected a prefix length from 0 to 32 in '198.18.0.1/33' after 'addr'" },
	{ "host a\n  iface eth0 mtu 1500 mtu 1400\n",
	  "t:2:23: 'mtu' given twice" },
	{ "host a\n  iface eth0 speed 10G\n",
	  "t:2:14: unknown option 'speed' for 'iface'" },
	{ "host a\n  iface eth0.5 vlan 5 on eth9\n",
	  "t:2:26: host 'a' has no interface 'eth9'" },
	{ "host a\n  iface eth0\n  iface v vlan 4096 on eth0\n",
	  "t:3:16: expected a number from 0 to 4095 after 'vlan', got '4096'" },
	{ "host a\n  iface eth0\n  iface v vlan 5 on eth0 rx-ring 64\n",
	  "t:3:26: 'rx-ring' belongs to the Ethernet device, not to the VLAN device 'v'" },
	{ "host a\n  iface averyveryverylongname\n",
	  "t:2:9: expected an interface name (a letter or '_', then letters, digits, '_', '-' or '.'; at most 15) after 'iface', got 'averyveryverylongname'" },
	{ "host a\n  route 198.18.1.5/24 via 198.18.0.2\n",
	  "t:2:9: prefix '198.18.1.5/24' has bits set after its length 24" },
	{ "host a\n  route 198.18.1.0/24\n",
	  "t:2:22: a route needs 'via ADDRESS' or 'dev DEVICE'" },
	{ "host a\n  route 198.18.1.0/24 via fe80::1\n",
	  "t:2:27: gateway is IPv6 but the route is IPv4" },
	{ "host a\n  route default via 198.18.0.2 dev eth3\n",
	  "t:2:36: host 'a' has no interface 'eth3'" },
	{ "host a\n  neigh 198.18.0.2 lladdr 02:00:00:00:0b:01\n",
	  "t:2:44: expected 'dev' after 'the MAC address', got the end of the line" },
	{ "host a\n  forwarding maybe\n",
	  "t:2:14: expected on or off after 'forwarding', got 'maybe'" },
	{ "host a\n  sysctl netdev_budget 0\n",
	  "t:2:24: expected a number from 1 to 100000 after 'netdev_budget', got '0'" },
	{ "host a\n  sysctl somaxconn 5\n",
	  "t:2:10: expected netdev_budget, netdev_budget_usecs, netdev_max_backlog, dev_weight, rmem_default or rmem_max after 'sysctl', got 'somaxconn'" },
	{ "host a\n  sysctl dev_weight 10\n  sysctl dev_weight 20\n",
	  "t:3:10: sysctl 'dev_weight' set twice for host 'a' (first on line 2)" },
	{ "host a\n  cost read 1us\n",
	  "t:2:8: the 'read' cost is set by 'read-rate' on a socket or a tap" },
	{ "host a\n  cost rx 2\n",
	  "t:2:11: expected a duration like 10us, 2ms or 1s after 'rx', got '2'" },
	{ "host a\n  rule r1 input proto tcp\n",
	  "t:2:23: expected 'accept' or 'drop' at the end of rule 'r1', got 'tcp'" },
	{ "host a\n  rule r1 sideways drop\n",
	  "t:2:11: expected netdev-ingress, tc-ingress, prerouting, input, forward, output, postrouting, tc-egress or netdev-egress after 'r1', got 'sideways'" },
	{ "host a\n  rule r1 input dport 53 drop\n",
	  "t:2:17: 'dport' needs 'proto tcp' or 'proto udp' in the same rule" },
	{ "host a\n  rule r1 input proto icmp saddr fe80::/10 drop\n",
	  "t:2:28: 'saddr' is an IPv6 prefix but the rule matches proto icmp" },
	{ "host a\n  rule r1 output iif eth0 drop\n",
	  "t:2:18: 'iif' is not known at the output hook" },
	{ "host a\n  rule r1 input drop\n  rule r1 output drop\n",
	  "t:3:8: host 'a' already has a rule 'r1' (line 2)" },
	{ "host a\n  rule r1 input proto tcp dport 90-80 drop\n",
	  "t:2:33: expected a number or a range N-M from 0 to 65535 after 'dport', got '90-80'" },
	{ "host a\n  socket s1 sctp bind 0.0.0.0:1\n",
	  "t:2:13: expected udp, tcp or icmp after 's1', got 'sctp'" },
	{ "host a\n  socket s1 udp bind 198.18.0.9:53\n",
	  "t:2:22: host 'a' has no address 198.18.0.9 for socket 's1' to bind" },
	{ "host a\n  socket s1 icmp bind 0.0.0.0:5\n",
	  "t:2:23: an icmp socket has no port" },
	{ "host a\n  socket s1 udp bind 0.0.0.0:70000\n",
	  "t:2:22: expected a port from 0 to 65535 in '0.0.0.0:70000' after 'bind'" },
	{ "host a\n  tap t1\n  socket t1 udp bind 0.0.0.0:1\n",
	  "t:3:10: host 'a' already has a tap 't1' (line 2)" },
	{ "host a\n  tap t1 filter tcp\n",
	  "t:2:17: expected a pcap-filter expression in double quotes after 'filter', got 'tcp'" },
	{ "host a\n  tap t1 filter \"tcp\" filter-file f\n",
	  "t:2:23: a tap takes 'filter' or 'filter-file', not both" },
	{ "host a\n  tap t1 tcpdump ring 8x64K\n",
	  "t:2:18: 'ring' is chosen by libpcap on a 'tcpdump' tap" },
	{ "host a\n  tap t1 immediate\n",
	  "t:2:10: 'immediate' needs 'tcpdump' on this tap" },
	{ "host a\n  tap t1 ring 8x1000\n",
	  "t:2:10: a ring needs 1 to 1024 blocks of 4K to 4M, each a multiple of 4K" },
	{ "host a\n  tap t1 retire 10ms\n",
	  "t:2:10: 'retire' needs a 'ring' on this tap" },
	{ "host a\n  tap t1 snaplen 0\n",
	  "t:2:18: expected a number from 1 to 262144 after 'snaplen', got '0'" },
	{ "host a\n  tap t1 proto 0x12345\n",
	  "t:2:16: expected all, ip, ip6, arp or an EtherType like 0x88cc after 'proto', got '0x12345'" },
	{ "host a\n  tap t1 dev eth7\n",
	  "t:2:14: host 'a' has no interface 'eth7'" },
	{ "host a\n  tap softnet\n",
	  "t:2:7: 'softnet' is reserved for counters; choose another name" },
	{ "host a\n  tap t1 read-rate 5\n",
	  "t:2:20: expected a rate from 1/s to 100M/s like 1000/s, 10k/s or 1M/s after 'read-rate', got '5'" },
	{ "host a\n  tap t1 filter \"tcp\n",
	  "t:2:17: a string that never ends: add a closing '\"'" },
	{ "host a\n  tap t1 filter \"a\\nb\"\n",
	  "t:2:19: a '\\' in a string escapes only '\"' and '\\'" },
	{ "host a\n  tap t1 filter\"tcp\"\n",
	  "t:2:16: expected a blank before the '\"'" },
	{ "host a\n  tap t1 \\\n",
	  "t:2:10: the file ends after a '\\' that continues the line" },
	{ "wire a.eth0 b.eth0\n",
	  "t:1:6: undefined host 'a'" },
	{ "",
	  "t:1:1: the scenario defines no host: it needs at least one 'host' line" },
	{ "# nothing but a comment\nseed 3\n",
	  "t:1:1: the scenario defines no host: it needs at least one 'host' line" },
	{ "host a\n  iface eth0\nhost b\n  iface eth0\nwire a.eth0 b.eth9\n",
	  "t:5:13: host 'b' has no interface 'eth9'" },
	{ "host a\n  iface eth0\n  iface eth1\nwire a.eth0 a.eth1\n",
	  "t:4:13: a wire joins two different hosts; both ends are on 'a'" },
	{ "host a\n  iface eth0\nhost b\n  iface eth0\n  iface eth1\nwire a.eth0 b.eth0\nwire a.eth0 b.eth1\n",
	  "t:7:6: a.eth0 is already on the wire of line 6" },
	{ "host a\n  iface eth0\nhost b\nwire a.eth0 b.lo\n",
	  "t:4:13: 'lo' on host 'b' is the loopback device; a wire joins Ethernet devices" },
	{ "host a\n  iface eth0\nhost b\n  iface eth0\nwire a.eth0 b.eth0 rate 10T\n",
	  "t:5:25: expected a link rate from 1M to 400G like 100M, 1G or 10G after 'rate', got '10T'" },
	{ "wire aeth0 b.eth0\n",
	  "t:1:6: expected HOST.IFACE like a.eth0 after 'wire', got 'aeth0'" },
	{ "at 1ms c send udp to 198.18.0.2:53\n",
	  "t:1:8: undefined host 'c'" },
	{ "host a\nat 1ms a send udp to 198.18.0.2\n",
	  "t:2:22: a udp send needs a port: ADDRESS:PORT or [IPV6]:PORT" },
	{ "host a\nat 1ms a send icmp to 198.18.0.2:5\n",
	  "t:2:23: icmp has no port" },
	{ "host a\nat 1ms a send udp from fe80::1 to 198.18.0.2:5\n",
	  "t:2:35: 'to' is IPv4 but 'from' is IPv6" },
	{ "host a\nat 1ms a send udp to 198.18.0.2:5 rate 10/s burst 2 every 1ms\n",
	  "t:2:45: a traffic line takes one 'rate' or one 'burst ... every'" },
	{ "host a\nat 1ms a send udp to 198.18.0.2:5 count 5 burst 10 every 1ms\n",
	  "t:2:61: a burst of 10 is more than the count 5" },
	{ "host a\nat 1ms a send udp from 198.18.0.1 to 198.18.0.2:5\n",
	  "t:2:24: host 'a' has no address 198.18.0.1 to send from" },
	{ "host a\nat 1ms a send udp to 198.18.0.2:5 size 65508\n",
	  "t:2:40: expected a number from 0 to 65507 after 'size', got '65508'" },
	{ "host a\nat 1ms a send udp to 198.18.0.2:5 ttl 0\n",
	  "t:2:39: expected a number from 1 to 255 after 'ttl', got '0'" },
	{ "host a\nat 1ms a send udp to 198.18.0.2:5 count 0\n",
	  "t:2:41: expected a number from 1 to 1000000 after 'count', got '0'" },
	{ "at 1ms inject a.eth0 frame 0011\n",
	  "t:1:28: a frame is 14 to 65535 bytes; this one is 2" },
	{ "at 1ms inject a.eth0 frame 00112233445566778899aabbccd\n",
	  "t:1:28: the frame has an odd number of hex digits (27)" },
	{ "at 1ms inject a.eth0 frame zz\n",
	  "t:1:28: expected the frame in hex digits like 0200000000010200... after 'frame', got 'zz'" },
	{ "host a\nat 1ms inject a.lo frame 0011223344556677889900112233\n",
	  "t:2:15: 'lo' on host 'a' is the loopback device; frames arrive on an Ethernet device" },
	{ "host a\n  iface eth0\nat 1ms replay a.eth0 x.pcap speed 0\n",
	  "t:3:35: expected a speed factor from 0.001 to 1000 like 0.5, 1 or 10 after 'speed', got '0'" },
	{ "at soon a send udp to 198.18.0.2:5\n",
	  "t:1:4: expected a duration like 10us, 2ms or 1s after 'at', got 'soon'" },
	{ "host a\n  tap t1\nexpect tap a.t1 caught 5\n",
	  "t:3:17: expected captured, received, dropped or saw after 't1', got 'caught'" },
	{ "host a\n  tap t1\nexpect tap a.t1 captured =>5\n",
	  "t:3:26: expected a count like 5, =5, >=1, <10 or !=0 after 'captured', got '=>5'" },
	{ "host a\n  tap t1\nexpect tap a.t2 captured 5\n",
	  "t:3:12: host 'a' has no tap 't2'" },
	{ "host a\n  tap t1\nexpect tap a.t1 saw 5 tcp\n",
	  "t:3:23: expected a pcap-filter expression in double quotes after 'saw N', got 'tcp'" },
	{ "host a\nexpect drop a EVERYTHING 5\n",
	  "t:2:15: expected a kernel drop reason like NETFILTER_DROP, NO_SOCKET or FULL_RING after 'a', got 'EVERYTHING'" },
	{ "host a\nexpect drop b NO_SOCKET 5\n",
	  "t:2:13: undefined host 'b'" },
	{ "host a\nexpect counter a eth0.rx_missed_errors 0\n",
	  "t:2:18: host 'a' has no interface, tap or socket 'eth0'" },
	{ "host a\nexpect counter a lo.rx_wombats 0\n",
	  "t:2:18: an interface has no counter 'rx_wombats'" },
	{ "host a\nexpect counter a softnet.squeezed 0\n",
	  "t:2:18: softnet has no counter 'squeezed' (processed, dropped, time_squeeze)" },
	{ "host a\nexpect counter a rule.r9 0\n",
	  "t:2:18: host 'a' has no rule 'r9'" },
	{ "host a\nexpect nothing\n",
	  "t:2:8: expected tap, drop or counter after 'expect', got 'nothing'" },
	{ "host a\n  iface eth0 mtu 1500 # comment\n  iface eth1 \x01\n",
	  "t:3:14: unexpected byte 0x01 (words are printable ASCII)" },	{ "host a\n  iface eth0 coalesce 2s\n",
	  "t:2:23: '2s' after 'coalesce' is out of range: expected 0s to 1s" },
	{ "host a\n  tap t ring 1x4K retire 500us\n",
	  "t:2:26: '500us' after 'retire' is out of range: expected 1ms to 60s" },
	{ "host a\n  tap t ring 1x4K retire 1500us\n",
	  "t:2:26: 'retire' is a whole number of milliseconds (tp_retire_blk_tov)" },
	{ "duration 0\n",
	  "t:1:10: '0' after 'duration' is out of range: expected 1ns to 3600s" },
	{ "host a\n  tap t tcpdump timeout 2m\n",
	  "t:2:25: expected a duration like 10us, 2ms or 1s after 'timeout', got '2m'" },
	{ "host a\n  iface eth0\n  socket s udp bind 198.18.0.1:5 rcvbuf 1K rcvbuf 2K\n",
	  "t:3:44: 'rcvbuf' given twice" },
	{ "host a\n  tap t \\\n    dev eth0 \\\n    snaplen 999999\n",
	  "t:4:13: expected a number from 1 to 262144 after 'snaplen', got '999999'" },
	{ "host a\n  tap t tcpdump \\\n    ring 2x4K\n",
	  "t:3:5: 'ring' is chosen by libpcap on a 'tcpdump' tap" },
	{ "host a\n  rule r input \\\n  \\\n    dport 53 drop\n",
	  "t:4:5: 'dport' needs 'proto tcp' or 'proto udp' in the same rule" },
	{ "host a\n  tap t\nexpect counter a t.tp_dropz 0\n",
	  "t:3:18: a tap has no counter 'tp_dropz' (tp_packets, tp_drops, tp_freeze_q_cnt)" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		char err[SIM_SCN_ERRBUF_SIZE] = "";
		struct sim_scenario *s = (void *)1;

		if (sim_scenario_parse(err_cases[i].text, "t", &s, err) == 0)
			fail_msg("case %zu parsed:\n%s", i, err_cases[i].text);
		assert_null(s);
		if (strcmp(err, err_cases[i].err) != 0)
			fail_msg("case %zu:\n  got  %s\n  want %s", i, err, err_cases[i].err);
	}
}

/* ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct sim_scenario *s = ok("host a\n  iface eth0\n  iface eth1\n  tap t\n  socket u udp bind 0.0.0.0:9\n"
				    "host b\n  iface eth0\nwire a.eth0 b.eth0\n"
				    "at 1s a send udp to 198.18.0.2:9\n");
	const struct sim_scn_host *h = &s->hosts[0];
	const struct sim_scn_iface *e = &h->ifaces[2];
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };
	const struct sim_scn_tap *t = &h->taps[0];
	const struct sim_scn_traffic *x = &s->traffic[0];

	(void)state;
	assert_null(s->title);
	assert_int_equal(s->seed, 1);
	assert_false(s->has_duration);
	assert_int_equal(h->cpus, 1);
	assert_int_equal(e->ifindex, 3);
	assert_memory_equal(e->mac, mac, 6);
	assert_int_equal(e->naddrs, 0);
	assert_int_equal(e->mtu, 1500);
	assert_false(e->promisc);
	assert_true(e->vlan_offload);
	assert_int_equal(e->rx_ring, 256);
	assert_int_equal(e->tx_ring, 256);
	assert_int_equal(e->txqueuelen, 1000);
	assert_int_equal(e->coalesce, 0);
	assert_int_equal(e->coalesce_frames, 1);
	assert_int_equal(h->sysctl.netdev_budget, 300);
	assert_int_equal(h->sysctl.netdev_budget_usecs, 8000);
	assert_int_equal(h->sysctl.netdev_max_backlog, 1000);
	assert_int_equal(h->sysctl.dev_weight, 64);
	assert_int_equal(h->sysctl.rmem_default, 212992);
	assert_int_equal(h->sysctl.rmem_max, 4194304);
	assert_int_equal(h->sysctl.ip_forward, 0);
	assert_int_equal(h->cost[SIM_SCN_COST_DMA], 0);
	assert_int_equal(h->cost[SIM_SCN_COST_IRQ], 1000);
	assert_int_equal(h->cost[SIM_SCN_COST_RX], 300);
	assert_int_equal(h->cost[SIM_SCN_COST_TAP], 200);
	assert_int_equal(h->cost[SIM_SCN_COST_IP], 500);
	assert_int_equal(h->cost[SIM_SCN_COST_TX], 800);
	assert_true(t->any_dev);
	assert_int_equal(t->proto, 0x0003);
	assert_false(t->dgram);
	assert_null(t->filter);
	assert_int_equal(t->snaplen, 262144);
	assert_int_equal(t->ring.version, 0);
	assert_int_equal(t->rcvbuf, 0);
	assert_int_equal(t->sk_rcvbuf, 212992);
	assert_int_equal(t->read_rate, SIM_SCN_RATE_UNLIMITED);
	assert_false(t->tcpdump);
	assert_int_equal(t->timeout, 1000000000);
	assert_int_equal(t->buffer, 2u << 20);
	assert_int_equal(h->sockets[0].sk_rcvbuf, 212992);
	assert_int_equal(s->wires[0].delay, 1000);
	assert_int_equal(s->wires[0].rate_bps, 10000000000ull);
	assert_int_equal(x->sport, 0);
	assert_int_equal(x->size, 64);
	assert_int_equal(x->ttl, 64);
	assert_int_equal(x->count, 1);
	assert_false(x->has_vlan);
	assert_false(x->has_from);
	sim_scenario_free(s);
}

/*
 * The rings the kernel reported (`ss -0 -e`, ring_rx(...)) for tcpdump
 * 4.99.3 / libpcap 1.10.3 on Linux 6.18, x86-64:
 *   tcpdump -i lo -w F                         V3 8 x 262144, frame 262144 x 8, tmo 1000
 *   tcpdump --immediate-mode -i lo -w F        V2 32 x 131072, frame 65632 x 32
 *   tcpdump --immediate-mode -i any -w F       V2 8 x 524288, frame 262240 x 8
 *   tcpdump -i any -B 1000 -w F                V3 4 x 262144, tmo 1000
 *   tcpdump --immediate-mode -i veth(mtu 9000) -s 100 -w F
 *                                              V2 518 x 4096, frame 176 x 11914
 * (ss shows no reserve; the 4 or 8 bytes are create_ring()'s, from
 * pcap-linux.c, as is the snapshot libpcap settles on.)
 */
static void test_libpcap_ring(void **state)
{
	static const struct {
		uint32_t buffer, snaplen, timeout;
		int immediate, cooked;
		uint32_t mtu;
		struct sim_scn_ring want;
	} c[] = {
		{ 0, 262144, 1000, 0, 0, 65536, { 3, 262144, 8, 262144, 8, 1000, 4, 262144 } },
		{ 0, 262144, 1000, 1, 0, 65536, { 2, 131072, 32, 65632, 32, 0, 4, 262144 } },
		{ 0, 262144, 1000, 1, 1, 0, { 2, 524288, 8, 262240, 8, 0, 8, 262144 } },
		{ 1024000, 262144, 1000, 0, 1, 0, { 3, 262144, 4, 262144, 4, 1000, 8, 262144 } },
		{ 0, 100, 1000, 1, 0, 9000, { 2, 4096, 518, 176, 11914, 0, 4, 100 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sim_scn_ring r;

		sim_libpcap_ring(c[i].buffer, c[i].snaplen, c[i].timeout, c[i].immediate, c[i].cooked,
				 c[i].mtu, 1, &r);
		if (memcmp(&r, &c[i].want, sizeof(r)) != 0)
			fail_msg("case %zu: V%u %u x %u frame %u x %u tmo %u", i, r.version, r.block_nr,
				 r.block_size, r.frame_size, r.frame_nr, r.retire_ms);
	}
}

static void test_retire(void **state)
{
	(void)state;
	assert_int_equal(sim_kernel_retire_ms(65536, 0), 8);
	assert_int_equal(sim_kernel_retire_ms(65536, 100), 8);
	assert_int_equal(sim_kernel_retire_ms(4096, 10000), 1);
	assert_int_equal(sim_kernel_retire_ms(4u << 20, 1000), 33);
	assert_int_equal(sim_kernel_retire_ms(4u << 20, 10000), 4);
}

static void test_cmp(void **state)
{
	(void)state;
	assert_true(sim_scn_cmp_holds(SIM_SCN_CMP_EQ, 3, 3));
	assert_false(sim_scn_cmp_holds(SIM_SCN_CMP_NE, 3, 3));
	assert_true(sim_scn_cmp_holds(SIM_SCN_CMP_LT, 2, 3));
	assert_false(sim_scn_cmp_holds(SIM_SCN_CMP_LT, 3, 3));
	assert_true(sim_scn_cmp_holds(SIM_SCN_CMP_LE, 3, 3));
	assert_true(sim_scn_cmp_holds(SIM_SCN_CMP_GT, 4, 3));
	assert_true(sim_scn_cmp_holds(SIM_SCN_CMP_GE, 3, 3));
	assert_false(sim_scn_cmp_holds(SIM_SCN_CMP_GE, 2, 3));
	assert_string_equal(sim_scn_cmp_name(SIM_SCN_CMP_NE), "!=");
	assert_string_equal(sim_scn_hook_name(SIM_SCN_HOOK_TC_EGRESS), "tc-egress");
	assert_true(sim_scn_hook_has_dev(SIM_SCN_HOOK_NETDEV_EGRESS));
	assert_false(sim_scn_hook_has_dev(SIM_SCN_HOOK_FORWARD));
	assert_string_equal(sim_scn_cost_name(SIM_SCN_COST_TAP), "tap");
	assert_string_equal(sim_scn_proto_name(SIM_SCN_PROTO_ICMPV6), "icmpv6");
}

/* Limits: each refused with a place, none exhausting memory. */
static char *repeat(const char *head, const char *unit, size_t n)
{
	size_t hl = strlen(head), ul = strlen(unit);
	char *s = malloc(hl + ul * n + 1), *p = s;

	assert_non_null(s);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	*p = '\0';
	return s;
}

static void limit_is(char *text, const char *want)
{
	char err[SIM_SCN_ERRBUF_SIZE] = "";
	struct sim_scenario *s = NULL;

	assert_int_not_equal(sim_scenario_parse(text, "t", &s, err), 0);
	if (!strstr(err, want))
		fail_msg("got '%s', want '%s'", err, want);
	free(text);
}

static void test_limits(void **state)
{
	char *hosts = malloc(65 * 16), *p = hosts;

	(void)state;
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "host h%d\n", i);
	limit_is(hosts, "t:65:6: more than 64 hosts (the limit)");
	limit_is(repeat("", "#", 4097), "t:1:4097: a line longer than 4096 bytes");
	limit_is(repeat("", "\n", 20001), "t:20001:1: more than 20000 lines");
	limit_is(repeat("host a", " x", 600), "t:1:1028: more than 512 words in one statement");
	limit_is(repeat("host a\n", "  iface e \\\n", 2), "t:3:11: the file ends after a '\\' that continues the line");
	limit_is(repeat("host a\n  tap t filter \"", "aaaaaaaaaaaaaaaa", 300), "t:2:4097: a line longer than 4096 bytes");
	p = hosts = malloc(8 + 129 * 24);
	p += sprintf(p, "host a\n");
	for (int i = 0; i < 129; i++)
		p += sprintf(p, "  rule r%d input drop\n", i);
	limit_is(hosts, "t:130:8: more than 128 rules on a host (the limit)");
	limit_is(repeat("", "#comment\n", 120000), "t:1:1: the file is larger than 1048576 bytes");
}

/* Every example scenario and every corpus file that parses goes through
 * the printer and back unchanged. */
static int round_trip_dir(const char *dir, int must_parse)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[1024], err[SIM_SCN_ERRBUF_SIZE];
		struct sim_scenario *s;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (sim_scenario_load(path, &s, err) != 0) {
			if (must_parse)
				fail_msg("%s", err);
			assert_non_null(strstr(err, path));
			continue;
		}
		round_trip(s);
		sim_scenario_free(s);
		n++;
	}
	closedir(d);
	return n;
}

static void test_examples(void **state)
{
	struct sim_scenario *s;
	char err[SIM_SCN_ERRBUF_SIZE];

	(void)state;
	assert_true(round_trip_dir("tests/scenarios", 1) >= 3);
	assert_true(round_trip_dir("tests/fuzz/corpus/scenario", 0) >= 4);
	assert_int_equal(sim_scenario_load("tests/scenarios/loopback-twice.scn", &s, err), 0);
	assert_string_equal(s->title, "Loopback is seen twice");
	assert_int_equal(s->hosts[0].taps[0].dev.idx, 0);
	assert_int_equal(s->nexpects, 4);
	sim_scenario_free(s);
	assert_int_equal(sim_scenario_load("tests/scenarios/no-such.scn", &s, err), -1);
	assert_null(s);
	assert_string_equal(err, "tests/scenarios/no-such.scn: cannot open: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_defaults),   cmocka_unit_test(test_libpcap_ring),
		cmocka_unit_test(test_retire),	   cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_limits),	   cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
