/*
 * build.c - a parsed scenario becomes a world: hosts with their devices,
 * addresses, routes, neighbours, rules, sockets and packet sockets, the
 * wires between them, and the traffic.  Only here do the scenario's
 * description (scenario.h) and the model (model.h) meet; every error
 * names the scenario line.
 */
#include "model.h"
#include "scenario.h"
#include "sim_build.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int fail(char *errbuf, const struct sim_scenario *sc, struct sim_scn_srcpos pos,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *errbuf, const struct sim_scenario *sc, struct sim_scn_srcpos pos,
		const char *fmt, ...)
{
	char msg[SIM_BUILD_ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(errbuf, SIM_BUILD_ERRBUF_SIZE, "%.160s:%u:%u: %.320s",
		 sc->name ? sc->name : "<scenario>", pos.line, pos.col, msg);
	return -1;
}

static int family_of(const struct sim_scn_addr *a)
{
	return a->family == 6 ? AF_INET6 : AF_INET;
}

static void to_model_addr(const struct sim_scn_prefix *p, struct sim_addr *m)
{
	memset(m, 0, sizeof(*m));
	m->family = family_of(&p->addr);
	memcpy(m->addr, p->addr.bytes, 16);
	m->prefix = p->len;
}

static struct sim_dev *dev_of(struct sim_world *w, const struct sim_scn_ref *r)
{
	return w->hosts[r->host]->devs[r->idx];
}

static int build_iface(const struct sim_scenario *sc, struct sim_host *h,
		       const struct sim_scn_iface *ifc, char *errbuf)
{
	struct sim_dev *d;

	if (ifc->kind == SIM_SCN_IFACE_LOOPBACK) {
		d = h->devs[0];
	} else if (!(d = sim_dev_new(h, ifc->name, ifc->kind == SIM_SCN_IFACE_VLAN ? SIM_DEV_VLAN
									       : SIM_DEV_ETHER))) {
		return fail(errbuf, sc, ifc->pos, "too many devices on host '%s'", h->name);
	}
	if (d->ifindex != ifc->ifindex)
		return fail(errbuf, sc, ifc->pos, "internal: ifindex %u for '%s', expected %u",
			    d->ifindex, ifc->name, ifc->ifindex);
	memcpy(d->mac, ifc->mac, 6);
	d->mtu = ifc->mtu;
	d->promisc = (uint8_t)ifc->promisc;
	d->vlan_offload = (uint8_t)ifc->vlan_offload;
	d->rx_ring.limit = ifc->rx_ring;
	d->tx_ring.limit = ifc->tx_ring;
	d->qdisc.limit = ifc->txqueuelen;
	d->coalesce = ifc->coalesce;
	d->coalesce_frames = ifc->coalesce_frames;
	if (ifc->kind != SIM_SCN_IFACE_LOOPBACK) {
		if (ifc->naddrs > sizeof(d->addrs) / sizeof(d->addrs[0]))
			return fail(errbuf, sc, ifc->pos, "at most %zu addresses on a device",
				    sizeof(d->addrs) / sizeof(d->addrs[0]));
		for (uint32_t i = 0; i < ifc->naddrs; i++)
			to_model_addr(&ifc->addrs[i], &d->addrs[i]);
		d->naddrs = ifc->naddrs;
	}
	if (ifc->kind == SIM_SCN_IFACE_VLAN) {
		d->vlan_parent = h->devs[ifc->parent.idx];
		d->vlan_id = ifc->vlan_id;
	}
	return 0;
}

/* The scenario's hooks, in its order, onto the model's. */
static const enum sim_rule_hook rule_hooks[SIM_SCN_HOOK_COUNT] = {
	[SIM_SCN_HOOK_NETDEV_INGRESS] = SIM_RULE_NETDEV_INGRESS,
	[SIM_SCN_HOOK_TC_INGRESS] = SIM_RULE_TC_INGRESS,
	[SIM_SCN_HOOK_PREROUTING] = SIM_RULE_PREROUTING,
	[SIM_SCN_HOOK_INPUT] = SIM_RULE_INPUT,
	[SIM_SCN_HOOK_FORWARD] = SIM_RULE_FORWARD,
	[SIM_SCN_HOOK_OUTPUT] = SIM_RULE_OUTPUT,
	[SIM_SCN_HOOK_POSTROUTING] = SIM_RULE_POSTROUTING,
	[SIM_SCN_HOOK_TC_EGRESS] = SIM_RULE_TC_EGRESS,
	[SIM_SCN_HOOK_NETDEV_EGRESS] = SIM_RULE_NETDEV_EGRESS,
};

static int build_rule(struct sim_world *w, const struct sim_scenario *sc, struct sim_host *h,
		      const struct sim_scn_rule *r, char *errbuf)
{
	struct sim_rule_cfg cfg;
	struct sim_rule *m = &cfg.rule;
	char err[SIM_ERRBUF_SIZE];

	sim_rule_init(&cfg);
	cfg.hook = rule_hooks[r->hook];
	if (sim_scn_hook_has_dev(r->hook))
		cfg.dev = dev_of(w, &r->dev);
	snprintf(m->name, sizeof(m->name), "%s", r->name);
	switch (r->proto) {
	case SIM_SCN_PROTO_ANY: break;
	case SIM_SCN_PROTO_TCP: m->proto = IPPROTO_TCP; break;
	case SIM_SCN_PROTO_UDP: m->proto = IPPROTO_UDP; break;
	case SIM_SCN_PROTO_ICMP: m->proto = IPPROTO_ICMP; m->ethertype = ETH_P_IP; break;
	case SIM_SCN_PROTO_ICMPV6: m->proto = IPPROTO_ICMPV6; m->ethertype = ETH_P_IPV6; break;
	case SIM_SCN_PROTO_ARP: m->ethertype = ETH_P_ARP; break;
	case SIM_SCN_PROTO_IP: m->ethertype = ETH_P_IP; break;
	case SIM_SCN_PROTO_IP6: m->ethertype = ETH_P_IPV6; break;
	case SIM_SCN_PROTO_COUNT: break;
	}
	if (r->has_saddr)
		to_model_addr(&r->saddr, &m->saddr);
	if (r->has_daddr)
		to_model_addr(&r->daddr, &m->daddr);
	if (r->sport.set)
		m->sport_lo = (uint16_t)r->sport.lo, m->sport_hi = (uint16_t)r->sport.hi;
	if (r->dport.set)
		m->dport_lo = (uint16_t)r->dport.lo, m->dport_hi = (uint16_t)r->dport.hi;
	if (r->len.set)
		m->len_lo = r->len.lo, m->len_hi = r->len.hi;
	if (r->has_vlan)
		m->vlan = r->vlan;
	if (r->has_iif)
		m->iif = dev_of(w, &r->iif);
	if (r->has_oif)
		m->oif = dev_of(w, &r->oif);
	m->drop = r->verdict == SIM_SCN_VERDICT_DROP;
	if (!sim_rule_add(h, &cfg, err))
		return fail(errbuf, sc, r->pos, "%s", err);
	return 0;
}

static sim_ns per_packet(uint64_t rate)
{
	return rate == SIM_SCN_RATE_UNLIMITED ? 0 : 1000000000ull / rate;
}

/*
 * A tap's filter: an expression is compiled as the program that opens the
 * socket would compile it - tcpdump on a live Ethernet device, with
 * libpcap's Linux extensions - or read from a program file.
 */
int sim_scn_tap_program(const struct sim_scenario *sc, const struct sim_scn_tap *t,
			struct bpfvm_prog *prog, char *errbuf)
{
	char err[BPFVM_ERRBUF_SIZE];

	if (t->filter) {
		struct bpfvm_compile_opts co;

		bpfvm_compile_opts_init(&co);
		co.snaplen = (int)t->snaplen;
		co.linux_ext = 1;
		if (t->any_dev)
			return fail(errbuf, sc, t->pos,
				    "tap '%s': a filter on the 'any' device (a cooked socket, where "
				    "libpcap rewrites the program) is not modelled yet",
				    t->name);
		if (bpfvm_compile(t->filter, &co, prog, err) != 0)
			return fail(errbuf, sc, t->pos, "tap '%s': filter \"%s\": %s", t->name,
				    t->filter, err);
		return 1;
	}
	if (t->filter_file) {
		FILE *f = fopen(t->filter_file, "r");
		char *text = NULL;
		size_t cap = 0;
		ssize_t n;

		if (!f)
			return fail(errbuf, sc, t->pos, "tap '%s': cannot open %s", t->name,
				    t->filter_file);
		n = getdelim(&text, &cap, '\0', f);
		fclose(f);
		if (n < 0) {
			free(text);
			return fail(errbuf, sc, t->pos, "tap '%s': cannot read %s", t->name,
				    t->filter_file);
		}
		int rc = bpfvm_parse(text, t->filter_file, BPFVM_FMT_AUTO, prog, err);

		free(text);
		if (rc != 0)
			return fail(errbuf, sc, t->pos, "tap '%s': %s", t->name, err);
		return 1;
	}
	return 0;
}

static int build_tap(struct sim_world *w, const struct sim_scenario *sc, struct sim_host *h,
		     const struct sim_scn_tap *t, char *errbuf)
{
	struct sim_tap_cfg cfg;
	struct bpfvm_prog prog = { 0 };
	struct sim_dev *dev = t->any_dev ? NULL : dev_of(w, &t->dev);
	char err[BPFVM_ERRBUF_SIZE];
	int has;

	if ((has = sim_scn_tap_program(sc, t, &prog, errbuf)) < 0)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	if (t->tcpdump) {
		sim_tap_cfg_tcpdump_defaults(&cfg, dev);
		cfg.snapshot = t->snaplen;
		cfg.buffer_size = t->buffer;
		cfg.timeout_ms = (uint32_t)(t->timeout / 1000000);
		cfg.immediate = t->immediate;
		cfg.direction = (enum sim_pcap_dir)t->direction;
		sim_tap_cfg_libpcap_ring(&cfg);
	} else {
		cfg.sock_type = t->dgram ? SOCK_DGRAM : SOCK_RAW;
		cfg.proto = t->proto == ETH_P_ALL ? 0 : t->proto;
		cfg.dev = dev;
		/* The scenario says 2 or 3; the socket option takes the
		 * enum tpacket_versions value. */
		cfg.ring_version = t->ring.version == 3 ? TPACKET_V3
				 : t->ring.version == 2 ? TPACKET_V2 : 0;
		cfg.block_size = t->ring.block_size;
		cfg.block_nr = t->ring.block_nr;
		cfg.frame_size = t->ring.frame_size;
		cfg.frame_nr = t->ring.frame_nr;
		cfg.retire_tov_ms = t->ring.retire_ms;
		cfg.rcvbuf = t->sk_rcvbuf;
		cfg.ignore_outgoing = t->ignore_outgoing;
	}
	cfg.name = t->name;
	cfg.read_ns = per_packet(t->read_rate);
	cfg.filter = has ? &prog : NULL;
	struct sim_tap *tap = sim_tap_new(h, &cfg, err);

	bpfvm_prog_free(&prog);
	if (!tap)
		return fail(errbuf, sc, t->pos, "%s", err);	/* it names the tap */
	return 0;
}

static int build_host(struct sim_world *w, const struct sim_scenario *sc,
		      const struct sim_scn_host *sh, char *errbuf)
{
	struct sim_host *h = sim_host_new(w, sh->name, sh->cpus);

	if (!h)
		return fail(errbuf, sc, sh->pos, "too many hosts, or out of memory");
	h->sysctl.netdev_budget = sh->sysctl.netdev_budget;
	h->sysctl.netdev_budget_usecs = sh->sysctl.netdev_budget_usecs;
	h->sysctl.netdev_max_backlog = sh->sysctl.netdev_max_backlog;
	h->sysctl.dev_weight = sh->sysctl.dev_weight;
	for (unsigned c = 0; c < h->ncpus; c++)
		h->cpu[c].backlog_napi.weight = sh->sysctl.dev_weight;
	h->forwarding = (uint8_t)sh->sysctl.ip_forward;
	h->costs.irq = sh->cost[SIM_SCN_COST_IRQ];
	h->costs.rx = sh->cost[SIM_SCN_COST_RX];
	h->costs.tap = sh->cost[SIM_SCN_COST_TAP];
	h->costs.ip = sh->cost[SIM_SCN_COST_IP];
	h->costs.tx = sh->cost[SIM_SCN_COST_TX];
	for (uint32_t i = 0; i < sh->nifaces; i++)
		if (build_iface(sc, h, &sh->ifaces[i], errbuf) != 0)
			return -1;
	return 0;
}

/* The parts of a host that name other devices, once all exist. */
static int build_host_config(struct sim_world *w, const struct sim_scenario *sc, uint32_t hi,
			     char *errbuf)
{
	const struct sim_scn_host *sh = &sc->hosts[hi];
	struct sim_host *h = w->hosts[hi];
	char err[SIM_ERRBUF_SIZE];

	for (uint32_t i = 0; i < sh->nroutes; i++) {
		const struct sim_scn_route *r = &sh->routes[i];
		struct sim_route m = { 0 };

		m.family = family_of(&r->dst.addr);
		memcpy(m.dst, r->dst.addr.bytes, 16);
		m.prefix = r->dst.len;
		if (r->has_via) {
			m.has_via = 1;
			memcpy(m.via, r->via.bytes, 16);
		}
		if (r->has_dev)
			m.dev = dev_of(w, &r->dev);
		if (sim_route_add(h, &m, err) != 0)
			return fail(errbuf, sc, r->pos, "%s", err);
	}
	for (uint32_t i = 0; i < sh->nneighs; i++) {
		const struct sim_scn_neigh *n = &sh->neighs[i];

		if (sim_neigh_add(h, family_of(&n->addr), n->addr.bytes, n->lladdr, dev_of(w, &n->dev),
				  err) != 0)
			return fail(errbuf, sc, n->pos, "%s", err);
	}
	for (uint32_t i = 0; i < sh->nrules; i++)
		if (build_rule(w, sc, h, &sh->rules[i], errbuf) != 0)
			return -1;
	for (uint32_t i = 0; i < sh->nsockets; i++) {
		const struct sim_scn_socket *s = &sh->sockets[i];
		struct sim_sock_cfg cfg = {
			.name = s->name,
			.proto = s->proto == SIM_SCN_L4_UDP ? IPPROTO_UDP
				 : s->proto == SIM_SCN_L4_TCP ? IPPROTO_TCP : IPPROTO_ICMP,
			.port = s->port,
			.rcvbuf = s->sk_rcvbuf,
			.read_interval = per_packet(s->read_rate),
		};

		cfg.addr.family = family_of(&s->bind);
		memcpy(cfg.addr.addr, s->bind.bytes, 16);
		if (!sim_sock_new(h, &cfg, err))
			return fail(errbuf, sc, s->pos, "socket '%s': %s", s->name, err);
	}
	for (uint32_t i = 0; i < sh->ntaps; i++)
		if (build_tap(w, sc, h, &sh->taps[i], errbuf) != 0)
			return -1;
	return 0;
}

static int build_traffic(struct sim_world *w, const struct sim_scenario *sc,
			 const struct sim_scn_traffic *t, char *errbuf)
{
	char err[SIM_ERRBUF_SIZE];
	int rc = 0;

	switch (t->kind) {
	case SIM_SCN_TRAFFIC_SEND: {
		struct sim_send_cfg cfg = {
			.host = w->hosts[t->host],
			.at = t->at,
			.proto = t->proto == SIM_SCN_L4_UDP ? IPPROTO_UDP
				 : t->proto == SIM_SCN_L4_TCP ? IPPROTO_TCP
				 : family_of(&t->to) == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			.family = family_of(&t->to),
			.has_from = (uint8_t)t->has_from,
			.sport = t->sport,
			.dport = t->dport,
			.size = t->size,
			.ttl = (uint8_t)t->ttl,
			.vlan = t->has_vlan ? t->vlan : -1,
			.count = t->count,
			.rate = t->pace == SIM_SCN_PACE_RATE ? t->rate : 0,
			.burst = t->pace == SIM_SCN_PACE_BURST ? t->burst : 0,
			.every = t->pace == SIM_SCN_PACE_BURST ? t->every : 0,
		};

		memcpy(cfg.from, t->from.bytes, 16);
		memcpy(cfg.to, t->to.bytes, 16);
		rc = sim_traffic_add_send(w, &cfg, err);
		break;
	}
	case SIM_SCN_TRAFFIC_INJECT: {
		struct sim_inject_cfg cfg = {
			.dev = dev_of(w, &t->dev),
			.at = t->at,
			.frame = t->frame,
			.len = t->frame_len,
			.count = t->count,
			.rate = t->pace == SIM_SCN_PACE_RATE ? t->rate : 0,
		};

		rc = sim_traffic_add_inject(w, &cfg, err);
		break;
	}
	case SIM_SCN_TRAFFIC_REPLAY: {
		struct sim_replay_cfg cfg = {
			.dev = dev_of(w, &t->dev),
			.at = t->at,
			.path = t->pcap,
			.speed_milli = t->speed_milli,
		};

		rc = sim_traffic_add_replay(w, &cfg, err);
		break;
	}
	}
	return rc == 0 ? 0 : fail(errbuf, sc, t->pos, "%s", err);
}

int sim_build(const struct sim_scenario *sc, struct sim_world **out, char *errbuf)
{
	struct sim_world *w = sim_world_new(sc->seed);
	char err[SIM_ERRBUF_SIZE];

	*out = NULL;
	if (!w) {
		snprintf(errbuf, SIM_BUILD_ERRBUF_SIZE, "out of memory");
		return -1;
	}
	w->duration = sc->has_duration ? sc->duration : 0;
	for (uint32_t i = 0; i < sc->nhosts; i++)
		if (build_host(w, sc, &sc->hosts[i], errbuf) != 0)
			goto fail;
	for (uint32_t i = 0; i < sc->nhosts; i++)
		if (build_host_config(w, sc, i, errbuf) != 0)
			goto fail;
	for (uint32_t i = 0; i < sc->nwires; i++) {
		const struct sim_scn_wire *wi = &sc->wires[i];

		if (sim_wire_connect(w, dev_of(w, &wi->a), dev_of(w, &wi->b), wi->delay,
				     wi->rate_bps, err) != 0) {
			fail(errbuf, sc, wi->pos, "%s", err);
			goto fail;
		}
	}
	for (uint32_t i = 0; i < sc->ntraffic; i++)
		if (build_traffic(w, sc, &sc->traffic[i], errbuf) != 0)
			goto fail;
	*out = w;
	return 0;
fail:
	sim_world_free(w);
	return -1;
}
