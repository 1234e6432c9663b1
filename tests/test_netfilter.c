/*
 * test_netfilter.c - the rule engine (sim/netfilter.c): every match field,
 * the order of rules (the first match decides), counters, the drop reasons
 * of nft and tc hooks, and the constructor's refusals.  Packets are built
 * by hand and handed to sim_nf_hook() directly.
 */
#include "testutil.h"

#include "model.h"

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct obs {
	unsigned events[SIM_STAGE_COUNT];
	unsigned drops[SIM_STAGE_COUNT];
	enum sim_drop_reason last_drop;
};

static void on_event(void *ctx, const struct sim_event_rec *ev)
{
	struct obs *o = ctx;

	o->events[ev->stage]++;
	if (ev->drop != SIM_DROP_NONE) {
		o->drops[ev->stage]++;
		o->last_drop = ev->drop;
	}
}

struct fx {
	struct sim_world *w;
	struct sim_host *h;
	struct sim_dev *eth0, *eth1;
	struct obs obs;
	struct sim_observer ob;
	struct sim_ctx c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->w = sim_world_new(1);
	f->h = sim_host_new(f->w, "a", 1);
	f->eth0 = sim_dev_new(f->h, "eth0", SIM_DEV_ETHER);
	f->eth1 = sim_dev_new(f->h, "eth1", SIM_DEV_ETHER);
	f->ob = (struct sim_observer){ .event = on_event, .ctx = &f->obs };
	sim_world_add_observer(f->w, &f->ob);
	f->c = (struct sim_ctx){ .w = f->w, .host = f->h, .cpu = &f->h->cpu[0] };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sim_world_free(f->w);
	free(f);
	return 0;
}

static void v4(uint8_t *a, unsigned x, unsigned y, unsigned z, unsigned k)
{
	a[0] = (uint8_t)x, a[1] = (uint8_t)y, a[2] = (uint8_t)z, a[3] = (uint8_t)k;
}

/*
 * An IPv4 packet 198.18.0.1:sport -> 198.18.1.2:dport of @proto with @pay
 * bytes of payload; @egress puts an Ethernet header in front (as at the
 * egress hooks), else skb->data is the IP header (as at ingress).
 */
static struct sim_skb *pkt(struct fx *f, uint8_t proto, uint16_t sport, uint16_t dport,
			   uint32_t pay, int egress)
{
	uint32_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	struct sim_skb *skb = sim_skb_alloc(f->w, l4 + pay);
	uint8_t src[4], dst[4];

	memset(sim_skb_data(skb), 0, l4 + pay);
	sim_put16(sim_skb_data(skb), sport);
	sim_put16(sim_skb_data(skb) + 2, dport);
	v4(src, 198, 18, 0, 1);
	v4(dst, 198, 18, 1, 2);
	sim_ip_push_header(f->h, skb, AF_INET, proto, src, dst, 64, 1);
	if (egress) {
		sim_skb_push(skb, ETH_HLEN);
		memset(sim_skb_data(skb), 0, 12);
		sim_put16(sim_skb_data(skb) + 12, ETH_P_IP);
		skb->mac = (int32_t)skb->data;
	}
	skb->dev = f->eth0;
	return skb;
}

static struct sim_rule *add(struct fx *f, enum sim_rule_hook hook, struct sim_dev *dev,
			    const char *name, int drop, void (*set)(struct sim_rule *r, struct fx *f))
{
	struct sim_rule_cfg cfg;
	char err[SIM_ERRBUF_SIZE];
	struct sim_rule *r;

	sim_rule_init(&cfg);
	cfg.hook = hook;
	cfg.dev = dev;
	snprintf(cfg.rule.name, sizeof(cfg.rule.name), "%s", name);
	cfg.rule.drop = (uint8_t)drop;
	if (set)
		set(&cfg.rule, f);
	r = sim_rule_add(f->h, &cfg, err);
	assert_non_null(r);
	return r;
}

/* Run @skb through @hook's list; 1 if it passed. */
static int hook_run(struct fx *f, struct sim_rule *list, enum sim_stage st, struct sim_skb *skb)
{
	int ok = sim_nf_hook(&f->c, list, st, skb, f->eth0, f->eth1);

	if (ok)
		sim_skb_free(f->w, skb);
	return ok;
}

/* One drop rule with one match; a packet that matches and one that does not. */
static void check_match(struct fx *f, void (*set)(struct sim_rule *, struct fx *),
			struct sim_skb *hit, struct sim_skb *miss)
{
	struct sim_rule *r = add(f, SIM_RULE_INPUT, NULL, "r", 1, set);
	uint32_t hitlen = hit->len;

	assert_int_equal(hook_run(f, f->h->hook[SIM_NF_INET_LOCAL_IN], SIM_ST_NF_LOCAL_IN, hit), 0);
	assert_int_equal(hook_run(f, f->h->hook[SIM_NF_INET_LOCAL_IN], SIM_ST_NF_LOCAL_IN, miss), 1);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->bytes, hitlen);
	/* Reset for the next field. */
	free(f->h->hook[SIM_NF_INET_LOCAL_IN]);
	f->h->hook[SIM_NF_INET_LOCAL_IN] = NULL;
}

static void set_proto_udp(struct sim_rule *r, struct fx *f) { (void)f; r->proto = IPPROTO_UDP; }
static void set_ethertype_ip(struct sim_rule *r, struct fx *f) { (void)f; r->ethertype = ETH_P_IP; }
static void set_saddr(struct sim_rule *r, struct fx *f)
{
	(void)f;
	r->saddr.family = AF_INET;
	v4(r->saddr.addr, 198, 18, 0, 0);
	r->saddr.prefix = 24;
}
static void set_daddr(struct sim_rule *r, struct fx *f)
{
	(void)f;
	r->daddr.family = AF_INET;
	v4(r->daddr.addr, 198, 18, 1, 2);
	r->daddr.prefix = 32;
}
static void set_sport(struct sim_rule *r, struct fx *f) { (void)f; r->sport_lo = 1000, r->sport_hi = 2000; }
static void set_dport(struct sim_rule *r, struct fx *f) { (void)f; r->dport_lo = r->dport_hi = 53; }
static void set_iif(struct sim_rule *r, struct fx *f) { r->iif = f->eth0; }
static void set_oif_eth0(struct sim_rule *r, struct fx *f) { r->oif = f->eth0; }
static void set_vlan(struct sim_rule *r, struct fx *f) { (void)f; r->vlan = 100; }
static void set_len(struct sim_rule *r, struct fx *f) { (void)f; r->len_lo = 100, r->len_hi = 200; }

static void test_match_fields(void **state)
{
	struct fx *f = *state;
	struct sim_skb *a, *b;

	check_match(f, set_proto_udp, pkt(f, IPPROTO_UDP, 1, 2, 0, 0), pkt(f, IPPROTO_TCP, 1, 2, 0, 0));
	a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	b = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	b->protocol = ETH_P_ARP;
	check_match(f, set_ethertype_ip, a, b);
	/* saddr 198.18.0.0/24 vs a packet from 198.18.2.1 */
	a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	b = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	sim_skb_data(b)[14] = 2;
	check_match(f, set_saddr, a, b);
	a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	b = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	sim_skb_data(b)[19] = 3;
	check_match(f, set_daddr, a, b);
	/* Ports: ranges inclusive at both ends; TCP as well as UDP. */
	check_match(f, set_sport, pkt(f, IPPROTO_TCP, 2000, 9, 0, 0), pkt(f, IPPROTO_TCP, 2001, 9, 0, 0));
	check_match(f, set_sport, pkt(f, IPPROTO_UDP, 1000, 9, 0, 0), pkt(f, IPPROTO_UDP, 999, 9, 0, 0));
	check_match(f, set_dport, pkt(f, IPPROTO_UDP, 9, 53, 0, 0), pkt(f, IPPROTO_UDP, 9, 54, 0, 0));
	/* A port match never matches ICMP, which has no ports. */
	check_match(f, set_dport, pkt(f, IPPROTO_UDP, 9, 53, 0, 0), pkt(f, IPPROTO_ICMP, 9, 53, 0, 0));
	/* iif is eth0 in hook_run(); oif is eth1: a rule on oif eth0 never matches there. */
	{
		struct sim_rule *r = add(f, SIM_RULE_INPUT, NULL, "r", 1, set_iif);

		assert_int_equal(hook_run(f, r, SIM_ST_NF_LOCAL_IN, pkt(f, IPPROTO_UDP, 1, 2, 0, 0)), 0);
		assert_int_equal(sim_nf_hook(&f->c, r, SIM_ST_NF_LOCAL_IN,
					     a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0), f->eth1, NULL), 1);
		sim_skb_free(f->w, a);
		free(r);
		f->h->hook[SIM_NF_INET_LOCAL_IN] = NULL;
		r = add(f, SIM_RULE_INPUT, NULL, "r", 1, set_oif_eth0);
		assert_int_equal(hook_run(f, r, SIM_ST_NF_LOCAL_IN, pkt(f, IPPROTO_UDP, 1, 2, 0, 0)), 1);
		assert_int_equal(r->packets, 0);
		free(r);
		f->h->hook[SIM_NF_INET_LOCAL_IN] = NULL;
	}
	/* VLAN: the tag in the skb's metadata (after untagging/hwaccel). */
	a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	a->vlan_present = 1;
	a->vlan_tci = 0x2000 | 100;	/* priority bits do not matter */
	b = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	b->vlan_present = 1;
	b->vlan_tci = 101;
	check_match(f, set_vlan, a, b);
	/* An untagged packet never matches a vlan rule. */
	a = pkt(f, IPPROTO_UDP, 1, 2, 0, 0);
	a->vlan_present = 1;
	a->vlan_tci = 100;
	check_match(f, set_vlan, a, pkt(f, IPPROTO_UDP, 1, 2, 0, 0));
	/* len: skb->len, 28 + payload at ingress. */
	check_match(f, set_len, pkt(f, IPPROTO_UDP, 1, 2, 200 - 28, 0), pkt(f, IPPROTO_UDP, 1, 2, 201 - 28, 0));
	check_match(f, set_len, pkt(f, IPPROTO_UDP, 1, 2, 100 - 28, 0), pkt(f, IPPROTO_UDP, 1, 2, 99 - 28, 0));
}

/* At the egress hooks skb->data is the MAC header: the same rule matches
 * the same packet there, and len counts the 14 header bytes. */
static void test_egress_offsets(void **state)
{
	struct fx *f = *state;
	struct sim_rule *r = add(f, SIM_RULE_NETDEV_EGRESS, f->eth0, "eg", 1, set_dport);
	struct sim_skb *skb = pkt(f, IPPROTO_UDP, 9, 53, 10, 1);

	skb->net = -1;	/* found from the MAC header */
	assert_int_equal(sim_nf_hook(&f->c, f->eth0->nf_egress, SIM_ST_NF_EGRESS, skb, NULL, f->eth0), 0);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->bytes, 14 + 28 + 10);
	assert_int_equal(f->obs.last_drop, SIM_DROP_NETFILTER_DROP);
	assert_int_equal(f->h->drops[SIM_DROP_NETFILTER_DROP], 1);
}

/* The first matching rule decides; an accept ends the hook (nft's
 * terminal verdict), so a later drop never sees the packet. */
static void test_order_and_counters(void **state)
{
	struct fx *f = *state;
	struct sim_rule *acc = add(f, SIM_RULE_FORWARD, NULL, "acc", 0, set_dport);
	struct sim_rule *all = add(f, SIM_RULE_FORWARD, NULL, "all", 1, NULL);
	struct sim_rule *never = add(f, SIM_RULE_FORWARD, NULL, "never", 1, NULL);
	struct sim_rule *list = f->h->hook[SIM_NF_INET_FORWARD];

	assert_ptr_equal(list, acc);
	assert_ptr_equal(acc->next, all);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hook_run(f, list, SIM_ST_NF_FORWARD, pkt(f, IPPROTO_UDP, 9, 53, 0, 0)), 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(hook_run(f, list, SIM_ST_NF_FORWARD, pkt(f, IPPROTO_UDP, 9, 80, 4, 0)), 0);
	assert_int_equal(acc->packets, 3);
	assert_int_equal(acc->bytes, 3 * 28);
	assert_int_equal(all->packets, 2);
	assert_int_equal(all->bytes, 2 * 32);
	assert_int_equal(never->packets, 0);
	assert_int_equal(f->obs.events[SIM_ST_NF_FORWARD], 5);
	assert_int_equal(f->obs.drops[SIM_ST_NF_FORWARD], 2);
	assert_ptr_equal(sim_rule_find(f->h, "all"), all);
	assert_null(sim_rule_find(f->h, "nope"));
}

static void test_drop_reasons(void **state)
{
	struct fx *f = *state;
	struct sim_rule *ti = add(f, SIM_RULE_TC_INGRESS, f->eth0, "ti", 1, NULL);
	struct sim_rule *te = add(f, SIM_RULE_TC_EGRESS, f->eth1, "te", 1, NULL);
	struct sim_rule *ni = add(f, SIM_RULE_NETDEV_INGRESS, f->eth0, "ni", 1, NULL);
	struct sim_rule *pre = add(f, SIM_RULE_PREROUTING, NULL, "pre", 1, NULL);

	assert_ptr_equal(f->eth0->tc_ingress, ti);
	assert_ptr_equal(f->eth1->tc_egress, te);
	assert_int_equal(hook_run(f, ti, SIM_ST_TC_INGRESS, pkt(f, 17, 1, 2, 0, 0)), 0);
	assert_int_equal(f->obs.last_drop, SIM_DROP_TC_INGRESS);
	assert_int_equal(hook_run(f, te, SIM_ST_TC_EGRESS, pkt(f, 17, 1, 2, 0, 1)), 0);
	assert_int_equal(f->obs.last_drop, SIM_DROP_TC_EGRESS);
	assert_int_equal(hook_run(f, ni, SIM_ST_NF_INGRESS, pkt(f, 17, 1, 2, 0, 0)), 0);
	assert_int_equal(f->obs.last_drop, SIM_DROP_NETFILTER_DROP);
	assert_int_equal(hook_run(f, pre, SIM_ST_NF_PREROUTING, pkt(f, 17, 1, 2, 0, 0)), 0);
	assert_int_equal(f->h->drops[SIM_DROP_TC_INGRESS], 1);
	assert_int_equal(f->h->drops[SIM_DROP_TC_EGRESS], 1);
	assert_int_equal(f->h->drops[SIM_DROP_NETFILTER_DROP], 2);
	/* An empty hook is not registered: nothing reported, the packet passes. */
	memset(&f->obs, 0, sizeof(f->obs));
	assert_int_equal(hook_run(f, NULL, SIM_ST_NF_LOCAL_IN, pkt(f, 17, 1, 2, 0, 0)), 1);
	assert_int_equal(f->obs.events[SIM_ST_NF_LOCAL_IN], 0);
}

/* An address match is per family: 0.0.0.0/0 matches IPv4 only; an IPv6
 * prefix matches an IPv6 packet. */
static void test_families(void **state)
{
	struct fx *f = *state;
	struct sim_rule_cfg cfg;
	char err[SIM_ERRBUF_SIZE];
	struct sim_rule *r;
	struct sim_skb *skb;
	uint8_t s6[16] = { 0xfe, 0x80, [15] = 1 }, d6[16] = { 0xfe, 0x80, [15] = 2 };

	sim_rule_init(&cfg);
	cfg.hook = SIM_RULE_OUTPUT;
	snprintf(cfg.rule.name, sizeof(cfg.rule.name), "any4");
	cfg.rule.saddr.family = AF_INET;	/* 0.0.0.0/0 */
	cfg.rule.drop = 1;
	r = sim_rule_add(f->h, &cfg, err);
	assert_non_null(r);
	skb = sim_skb_alloc(f->w, 8);
	memset(sim_skb_data(skb), 0, 8);
	sim_ip_push_header(f->h, skb, AF_INET6, IPPROTO_UDP, s6, d6, 64, 0);
	assert_int_equal(hook_run(f, r, SIM_ST_NF_LOCAL_OUT, skb), 1);
	assert_int_equal(hook_run(f, r, SIM_ST_NF_LOCAL_OUT, pkt(f, 17, 1, 2, 0, 0)), 0);

	sim_rule_init(&cfg);
	cfg.hook = SIM_RULE_POSTROUTING;
	snprintf(cfg.rule.name, sizeof(cfg.rule.name), "ll");
	cfg.rule.daddr.family = AF_INET6;
	cfg.rule.daddr.addr[0] = 0xfe;
	cfg.rule.daddr.addr[1] = 0x80;
	cfg.rule.daddr.prefix = 10;
	cfg.rule.drop = 1;
	r = sim_rule_add(f->h, &cfg, err);
	assert_non_null(r);
	skb = sim_skb_alloc(f->w, 8);
	memset(sim_skb_data(skb), 0, 8);
	sim_ip_push_header(f->h, skb, AF_INET6, IPPROTO_UDP, s6, d6, 64, 0);
	assert_int_equal(hook_run(f, r, SIM_ST_NF_POST_ROUTING, skb), 0);
	assert_int_equal(hook_run(f, r, SIM_ST_NF_POST_ROUTING, pkt(f, 17, 1, 2, 0, 0)), 1);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct sim_host *other = sim_host_new(f->w, "b", 1);
	struct sim_rule_cfg cfg;
	char err[SIM_ERRBUF_SIZE] = "";

	sim_rule_init(&cfg);
	snprintf(cfg.rule.name, sizeof(cfg.rule.name), "x");
	cfg.hook = SIM_RULE_TC_INGRESS;	/* needs a device */
	assert_null(sim_rule_add(f->h, &cfg, err));
	assert_non_null(strstr(err, "needs a device"));
	cfg.dev = other->devs[0];
	assert_null(sim_rule_add(f->h, &cfg, err));
	assert_non_null(strstr(err, "not on host a"));
	cfg.dev = f->eth0;
	cfg.rule.saddr.prefix = 8;	/* a prefix with no family */
	assert_null(sim_rule_add(f->h, &cfg, err));
	assert_non_null(strstr(err, "family"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_match_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_egress_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
