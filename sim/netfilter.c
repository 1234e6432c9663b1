/*
 * netfilter.c - netfilter and tc rules: the per-device hooks (netdev
 * ingress/egress, tc ingress/egress) and the per-host ones (PREROUTING,
 * INPUT, FORWARD, OUTPUT, POSTROUTING), in a small syntax close to nft's.
 *
 * A hook's rules run in the order they were added; the first rule whose
 * matches all hold decides: its counter counts the packet and its verdict
 * (accept or drop) ends the hook, as a terminal verdict ends an nft base
 * chain (nft_do_chain) and a tc action ends tcf_classify.  With no rule
 * matching, the policy is accept.  A hook with no rules is not registered
 * at all, so nothing is reported for it (nf_hook() only reaches
 * nf_hook_slow() when a hook function is registered).
 */
#include "model.h"

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The L3/L4 fields a rule can match, read from the packet once. */
struct nf_keys {
	uint16_t proto;		/* ethertype */
	int family;		/* AF_INET, AF_INET6, 0 */
	uint8_t l4;		/* IPPROTO_*, 0 when not IP */
	const uint8_t *saddr, *daddr;
	int has_ports;
	uint16_t sport, dport;
};

/*
 * Where the network header starts.  At the ingress hooks skb->data is
 * already past the Ethernet header (eth_type_trans); at the egress hooks
 * it is at the MAC header.  Stages that know set skb->net; otherwise it
 * follows from skb->mac.
 */
static uint32_t net_offset(const struct sim_skb *skb)
{
	if (skb->net >= 0)
		return (uint32_t)skb->net;
	if (skb->mac >= 0 && (uint32_t)skb->mac == skb->data)
		return skb->data + ETH_HLEN;
	return skb->data;
}

static void nf_keys(const struct sim_skb *skb, struct nf_keys *k)
{
	uint32_t end = skb->data + skb->len;
	uint32_t nh = net_offset(skb), l4off = 0;
	const uint8_t *p = skb->head + nh;

	memset(k, 0, sizeof(*k));
	k->proto = skb->protocol;
	if (nh > end)
		return;
	uint32_t avail = end - nh;

	if (k->proto == ETH_P_IP && avail >= 20 && (p[0] >> 4) == 4) {
		uint32_t ihl = (uint32_t)(p[0] & 15) * 4;

		k->family = AF_INET;
		k->l4 = p[9];
		k->saddr = p + 12;
		k->daddr = p + 16;
		/* Ports only in the first fragment (nft's th expression). */
		if ((sim_get16(p + 6) & 0x1fff) == 0 && ihl >= 20)
			l4off = ihl;
	} else if (k->proto == ETH_P_IPV6 && avail >= 40 && (p[0] >> 4) == 6) {
		k->family = AF_INET6;
		k->l4 = p[6];
		k->saddr = p + 8;
		k->daddr = p + 24;
		l4off = 40;
	}
	if (l4off && (k->l4 == IPPROTO_UDP || k->l4 == IPPROTO_TCP) &&
	    !(l4off > avail || 4 > avail - l4off)) {
		k->has_ports = 1;
		k->sport = sim_get16(p + l4off);
		k->dport = sim_get16(p + l4off + 2);
	}
}

static int prefix_holds(const struct sim_addr *pfx, int family, const uint8_t *a)
{
	if (pfx->prefix == 0 && pfx->family == 0)
		return 1;
	if (!a || pfx->family != family)
		return 0;
	return sim_addr_in_prefix(family, a, pfx->addr, pfx->prefix);
}

static int range_holds(uint32_t lo, uint32_t hi, uint32_t v)
{
	return hi == 0 || (v >= lo && v <= hi);
}

static int rule_matches(const struct sim_rule *r, const struct sim_skb *skb,
			const struct nf_keys *k, const struct sim_dev *in,
			const struct sim_dev *out)
{
	if (r->ethertype && r->ethertype != k->proto)
		return 0;
	if (r->proto && (!k->family || r->proto != k->l4))
		return 0;
	if (!prefix_holds(&r->saddr, k->family, k->saddr) ||
	    !prefix_holds(&r->daddr, k->family, k->daddr))
		return 0;
	if (r->sport_hi && (!k->has_ports || !range_holds(r->sport_lo, r->sport_hi, k->sport)))
		return 0;
	if (r->dport_hi && (!k->has_ports || !range_holds(r->dport_lo, r->dport_hi, k->dport)))
		return 0;
	if (r->iif && r->iif != in)
		return 0;
	if (r->oif && r->oif != out)
		return 0;
	if (r->vlan >= 0 && (!skb->vlan_present || (skb->vlan_tci & 0xfff) != (uint16_t)r->vlan))
		return 0;
	/* nft's meta len is skb->len: from the network header at ingress,
	 * from the MAC header at egress. */
	if (!range_holds(r->len_lo, r->len_hi, skb->len))
		return 0;
	return 1;
}

static enum sim_drop_reason drop_reason(enum sim_stage st)
{
	/* tcf_classify's TC_ACT_SHOT: tcx/sch_handle_ingress and
	 * sch_handle_egress free the skb with their own reasons. */
	if (st == SIM_ST_TC_INGRESS)
		return SIM_DROP_TC_INGRESS;
	if (st == SIM_ST_TC_EGRESS)
		return SIM_DROP_TC_EGRESS;
	return SIM_DROP_NETFILTER_DROP;	/* nf_hook_slow on NF_DROP */
}

int sim_nf_hook(struct sim_ctx *c, struct sim_rule *rules, enum sim_stage st,
		struct sim_skb *skb, const struct sim_dev *in, const struct sim_dev *out)
{
	struct nf_keys k;
	const struct sim_dev *dev = in ? in : out;

	if (!rules)
		return 1;
	nf_keys(skb, &k);
	for (struct sim_rule *r = rules; r; r = r->next) {
		if (!rule_matches(r, skb, &k, in, out))
			continue;
		r->packets++;
		r->bytes += skb->len;
		if (r->drop) {
			sim_kfree_skb_reason(c, st, skb, drop_reason(st));
			return 0;
		}
		break;
	}
	sim_trace(c, st, skb, dev, SIM_DROP_NONE);
	return 1;
}

static struct sim_rule **hook_list(struct sim_host *h, enum sim_rule_hook hook,
				   struct sim_dev *dev)
{
	switch (hook) {
	case SIM_RULE_NETDEV_INGRESS:
		return dev ? &dev->nf_ingress : NULL;
	case SIM_RULE_TC_INGRESS:
		return dev ? &dev->tc_ingress : NULL;
	case SIM_RULE_TC_EGRESS:
		return dev ? &dev->tc_egress : NULL;
	case SIM_RULE_NETDEV_EGRESS:
		return dev ? &dev->nf_egress : NULL;
	case SIM_RULE_PREROUTING:
		return &h->hook[SIM_NF_INET_PRE_ROUTING];
	case SIM_RULE_INPUT:
		return &h->hook[SIM_NF_INET_LOCAL_IN];
	case SIM_RULE_FORWARD:
		return &h->hook[SIM_NF_INET_FORWARD];
	case SIM_RULE_OUTPUT:
		return &h->hook[SIM_NF_INET_LOCAL_OUT];
	case SIM_RULE_POSTROUTING:
		return &h->hook[SIM_NF_INET_POST_ROUTING];
	}
	return NULL;
}

struct sim_rule *sim_rule_add(struct sim_host *h, const struct sim_rule_cfg *cfg, char *errbuf)
{
	struct sim_rule **list = hook_list(h, cfg->hook, cfg->dev);
	struct sim_rule *r;

	if (!list) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "rule %s: hook %d needs a device of host %s",
			 cfg->rule.name, (int)cfg->hook, h->name);
		return NULL;
	}
	if (cfg->dev && cfg->dev->host != h) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "rule %s: device %s is not on host %s",
			 cfg->rule.name, cfg->dev->name, h->name);
		return NULL;
	}
	if ((cfg->rule.saddr.prefix && cfg->rule.saddr.family == 0) ||
	    (cfg->rule.daddr.prefix && cfg->rule.daddr.family == 0)) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "rule %s: an address prefix without a family",
			 cfg->rule.name);
		return NULL;
	}
	if (!(r = malloc(sizeof(*r)))) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "rule %s: out of memory", cfg->rule.name);
		return NULL;
	}
	*r = cfg->rule;
	r->next = NULL;
	r->packets = r->bytes = 0;
	while (*list)
		list = &(*list)->next;
	*list = r;
	return r;
}

static struct sim_rule *find_in(struct sim_rule *r, const char *name)
{
	for (; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

struct sim_rule *sim_rule_find(const struct sim_host *h, const char *name)
{
	struct sim_rule *r;

	for (unsigned i = 0; i < SIM_NF_INET_NUMHOOKS; i++)
		if ((r = find_in(h->hook[i], name)))
			return r;
	for (unsigned d = 0; d < h->ndevs; d++) {
		const struct sim_dev *dev = h->devs[d];

		if ((r = find_in(dev->nf_ingress, name)) || (r = find_in(dev->tc_ingress, name)) ||
		    (r = find_in(dev->tc_egress, name)) || (r = find_in(dev->nf_egress, name)))
			return r;
	}
	return NULL;
}
