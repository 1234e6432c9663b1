/*
 * world.c - the world's life and its event loop: tracing packets through
 * stages, counting drops under their reasons, scheduling, dispatching.
 */
#include "model.h"
#include "kdefaults.h"

#include <stdlib.h>
#include <linux/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const struct sim_stage_info sim_stages[SIM_STAGE_COUNT] = {
#define SIM_STAGE(id, func, visible) [SIM_ST_##id] = { func, visible },
#include "stages.h"
#undef SIM_STAGE
};

const char *sim_stage_id_name(enum sim_stage st)
{
	static const char *const names[SIM_STAGE_COUNT] = {
#define SIM_STAGE(id, func, visible) [SIM_ST_##id] = #id,
#include "stages.h"
#undef SIM_STAGE
	};

	return (unsigned)st < SIM_STAGE_COUNT ? names[st] : "?";
}

struct sim_world *sim_world_new(uint64_t seed)
{
	struct sim_world *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	sim_clock_init(&w->clock);
	w->rng = seed;
	return w;
}

void sim_world_add_observer(struct sim_world *w, struct sim_observer *o)
{
	struct sim_observer **p = &w->obs;

	while (*p)
		p = &(*p)->next;
	o->next = NULL;
	*p = o;
}

void sim_trace(struct sim_ctx *c, enum sim_stage st, const struct sim_skb *skb,
	       const struct sim_dev *dev, enum sim_drop_reason drop)
{
	struct sim_event_rec ev;

	if (!c->w->obs)
		return;
	ev = (struct sim_event_rec){
		.t = c->t,
		.skb_id = skb ? skb->id : 0,
		.clone = skb ? skb->clone : 0,
		.host = c->host,
		.cpu = c->cpu ? c->cpu->id : -1,
		.dev = dev,
		.stage = st,
		.drop = drop,
		.skb = skb,
	};
	for (struct sim_observer *o = c->w->obs; o; o = o->next)
		o->event(o->ctx, &ev);
}

void sim_kfree_skb_reason(struct sim_ctx *c, enum sim_stage st, struct sim_skb *skb,
			  enum sim_drop_reason reason)
{
	if (c->host)
		c->host->drops[reason]++;
	sim_trace(c, st, skb, skb->dev, reason);
	sim_skb_free(c->w, skb);
}

void sim_consume_skb(struct sim_ctx *c, struct sim_skb *skb)
{
	(void)c;
	sim_skb_free(c->w, skb);
}

int sim_schedule(struct sim_world *w, sim_ns t, enum sim_ev_kind kind, void *a, void *b)
{
	return sim_clock_at(&w->clock, t, (int)kind, a, b, 0);
}

/* The running kernel's defaults (kdefaults.h). */
static void host_defaults(struct sim_host *h)
{
	h->sysctl = (struct sim_sysctl){
		.netdev_budget = SIM_DEF_NETDEV_BUDGET,
		.netdev_budget_usecs = SIM_DEF_NETDEV_BUDGET_USECS,
		.netdev_max_backlog = SIM_DEF_MAX_BACKLOG,
		.dev_weight = SIM_DEF_DEV_WEIGHT,
	};
	h->costs = (struct sim_costs){ .irq = 1000, .rx = 300, .tap = 200, .ip = 500, .tx = 800 };
}

struct sim_host *sim_host_new(struct sim_world *w, const char *name, unsigned ncpus)
{
	struct sim_host *h;

	if (w->nhosts == sizeof(w->hosts) / sizeof(w->hosts[0]) || !(h = calloc(1, sizeof(*h))))
		return NULL;
	h->w = w;
	snprintf(h->name, sizeof(h->name), "%s", name);
	host_defaults(h);
	h->ncpus = ncpus ? (ncpus > 2 ? 2 : ncpus) : 1;
	for (unsigned i = 0; i < h->ncpus; i++) {
		struct sim_cpu *cpu = &h->cpu[i];

		cpu->host = h;
		cpu->id = (int)i;
		cpu->backlog_napi.cpu = cpu;
		cpu->backlog_napi.weight = h->sysctl.dev_weight;
	}
	w->hosts[w->nhosts++] = h;
	/* Every host has lo, ifindex 1, as the kernel creates it first. */
	struct sim_dev *lo = sim_dev_new(h, "lo", SIM_DEV_LOOPBACK);

	if (!lo)
		return NULL;
	lo->mtu = 65536;
	lo->addrs[0] = (struct sim_addr){ .family = AF_INET, .addr = { 127, 0, 0, 1 }, .prefix = 8 };
	lo->addrs[1] = (struct sim_addr){ .family = AF_INET6, .addr = { [15] = 1 }, .prefix = 128 };
	lo->naddrs = 2;
	return h;
}

struct sim_dev *sim_dev_new(struct sim_host *h, const char *name, enum sim_dev_kind kind)
{
	struct sim_dev *d;

	if (h->ndevs == sizeof(h->devs) / sizeof(h->devs[0]) || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->host = h;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->kind = kind;
	d->type = kind == SIM_DEV_LOOPBACK ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
	d->ifindex = h->ndevs + 1;
	d->mtu = 1500;
	d->rx_ring.limit = 256;
	d->tx_ring.limit = 256;
	d->qdisc.limit = 1000;	/* txqueuelen */
	d->napi.dev = d;
	d->napi.cpu = &h->cpu[0];
	d->napi.weight = 64;	/* NAPI_POLL_WEIGHT */
	d->irq_enabled = 1;
	h->devs[h->ndevs++] = d;
	return d;
}

struct sim_dev *sim_host_dev(const struct sim_host *h, const char *name)
{
	for (unsigned i = 0; i < h->ndevs; i++)
		if (strcmp(h->devs[i]->name, name) == 0)
			return h->devs[i];
	return NULL;
}

