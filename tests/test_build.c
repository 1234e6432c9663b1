/*
 * test_build.c - a scenario becomes the world it describes: devices with
 * their declared indexes, MACs, rings and addresses; rules on their hooks;
 * taps and sockets; and every example scenario builds, runs and frees
 * without leaking an skb.
 */
#include "testutil.h"
#include "model.h"
#include "scenario.h"
#include "sim_build.h"

#include <dirent.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

static const char text[] =
	"scenario \"build\"\n"
	"host a cpus 2\n"
	"  iface eth0 mac 02:00:00:00:0a:01 addr 198.18.0.1/24 mtu 9000 rx-ring 64 txqueuelen 10\n"
	"  iface eth0.7 vlan 7 on eth0 addr 198.18.7.1/24\n"
	"  sysctl netdev_budget 100\n"
	"  rule out1 output proto udp dport 9999 drop\n"
	"  rule in1 netdev-ingress eth0 proto arp accept\n"
	"  socket s1 udp bind 198.18.0.1:5000\n"
	"  tap t1 dev eth0 proto 0x0800 type dgram snaplen 100\n"
	"host b\n"
	"  iface eth0 mac 02:00:00:00:0b:01 addr 198.18.0.2/24\n"
	"  tap t2 dev eth0 proto ip ring 4x64K retire 5ms\n"
	"wire a.eth0 b.eth0 delay 2us\n"
	"at 1ms a send udp to 198.18.0.2:9 count 3\n";

static void test_mapping(void **state)
{
	struct sim_scenario *sc;
	struct sim_world *w;
	char err[1024];

	(void)state;
	assert_int_equal(sim_scenario_parse(text, "build.scn", &sc, err), 0);
	if (sim_build(sc, &w, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(w->nhosts, 2);
	struct sim_host *a = w->hosts[0];
	struct sim_dev *eth0 = sim_host_dev(a, "eth0"), *v = sim_host_dev(a, "eth0.7");

	assert_int_equal(a->ncpus, 2);
	assert_int_equal(a->sysctl.netdev_budget, 100);
	assert_non_null(eth0);
	assert_int_equal(eth0->ifindex, 2);
	assert_int_equal(eth0->mtu, 9000);
	assert_int_equal(eth0->rx_ring.limit, 64);
	assert_int_equal(eth0->qdisc.limit, 10);
	assert_int_equal(eth0->mac[5], 0x01);
	assert_int_equal(eth0->naddrs, 1);
	assert_int_equal(eth0->addrs[0].prefix, 24);
	assert_non_null(v);
	assert_ptr_equal(v->vlan_parent, eth0);
	assert_int_equal(v->vlan_id, 7);
	assert_non_null(eth0->wire);
	assert_non_null(sim_rule_find(a, "out1"));
	assert_non_null(eth0->nf_ingress);
	assert_non_null(a->socks);
	assert_non_null(a->taps);
	assert_int_equal(a->taps->proto, ETH_P_IP);
	/* a plain tap's `ring` is a TPACKET_V3 ring of the blocks asked */
	const struct sim_tap_ring *r = sim_tap_ring(w->hosts[1]->taps);

	assert_non_null(r);
	assert_int_equal(r->version, TPACKET_V3);
	assert_int_equal(r->block_nr, 4);
	assert_int_equal(r->block_size, 65536);
	sim_world_run(w, 0);
	/* the three datagrams left a: the wire took them to b, where the
	 * ring tap saw them */
	assert_int_equal(eth0->stats.tx_packets >= 3, 1);
	struct sim_tap_stats st;

	sim_tap_stats(w->hosts[1]->taps, &st);
	assert_int_equal(st.tp_packets, 3);
	sim_world_free(w);
	sim_scenario_free(sc);
}

static void test_errors_name_the_line(void **state)
{
	struct sim_scenario *sc;
	struct sim_world *w;
	char err[1024];
	static const char bad[] = "host a\n"
				  "  iface eth0 addr 198.18.0.1/24\n"
				  "  tap t1 dev eth0 filter \"tcp port\"\n";

	(void)state;
	assert_int_equal(sim_scenario_parse(bad, "bad.scn", &sc, err), 0);
	assert_int_equal(sim_build(sc, &w, err), -1);
	assert_null(w);
	assert_non_null(strstr(err, "bad.scn:3:"));
	assert_non_null(strstr(err, "t1"));
	sim_scenario_free(sc);
}

/* Every example scenario builds, runs to its end and frees everything. */
static void test_examples(void **state)
{
	DIR *d = opendir("tests/scenarios");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512], err[1024];
		struct sim_scenario *sc;
		struct sim_world *w;

		if (!strstr(e->d_name, ".scn"))
			continue;
		snprintf(path, sizeof(path), "tests/scenarios/%s", e->d_name);
		if (sim_scenario_load(path, &sc, err) != 0)
			fail_msg("%s", err);
		if (sim_build(sc, &w, err) != 0) {
			if (strstr(err, "needs a live libpcap handle") && geteuid() != 0) {
				sim_scenario_free(sc);
				continue;	/* tcpdump filters compile as root only */
			}
			fail_msg("%s", err);
		}
		sim_world_run(w, w->duration);
		sim_world_free(w);
		sim_scenario_free(sc);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests_name("build", tests, NULL, NULL);
}
