/*
 * run.c - the event loop and the end of a world: every event kind goes to
 * the stage that plays it; freeing walks every module's state.
 */
#include "model.h"

#include <stdlib.h>

static void free_rules(struct sim_rule *r)
{
	while (r) {
		struct sim_rule *n = r->next;

		free(r);
		r = n;
	}
}

static void free_queue(struct sim_world *w, struct sim_queue *q)
{
	struct sim_skb *skb;

	while ((skb = sim_queue_pop(q)))
		sim_skb_free(w, skb);
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->nhosts; i++) {
		struct sim_host *h = w->hosts[i];

		for (unsigned c = 0; c < h->ncpus; c++)
			free_queue(w, &h->cpu[c].backlog);
		for (unsigned d = 0; d < h->ndevs; d++) {
			struct sim_dev *dev = h->devs[d];

			free_queue(w, &dev->rx_ring);
			free_queue(w, &dev->tx_ring);
			free_queue(w, &dev->qdisc);
			free_rules(dev->tc_ingress);
			free_rules(dev->nf_ingress);
			free_rules(dev->tc_egress);
			free_rules(dev->nf_egress);
			free(dev);
		}
		for (unsigned k = 0; k < SIM_NF_INET_NUMHOOKS; k++)
			free_rules(h->hook[k]);
		for (unsigned n = 0; n < h->nneigh; n++)
			free_queue(w, &h->neigh[n].pending);
		while (h->taps) {
			struct sim_tap *t = h->taps->next_host;

			sim_tap_free(w, h->taps);
			h->taps = t;
		}
		while (h->socks) {
			struct sim_sock *s = h->socks, *next = s->next;

			free_queue(w, &s->rcvq);
			free(s);
			h->socks = next;
		}
		free(h);
	}
	/* Events still scheduled may hold skbs in flight on a wire. */
	struct sim_event ev;

	while (sim_clock_next(&w->clock, &ev))
		if (ev.kind == SIM_EV_WIRE_ARRIVE)
			sim_skb_free(w, ev.b);
	sim_traffic_free(w);
	sim_clock_free(&w->clock);
	sim_skb_pool_free(w);
	free(w);
}

/* Run until @until (or until nothing is left to do when 0). */
int sim_world_run(struct sim_world *w, sim_ns until)
{
	struct sim_event ev;

	while (sim_clock_peek(&w->clock) != UINT64_MAX) {
		if (until && sim_clock_peek(&w->clock) > until)
			break;
		sim_clock_next(&w->clock, &ev);
		switch ((enum sim_ev_kind)ev.kind) {
		case SIM_EV_TRAFFIC:
			sim_ev_traffic(w, ev.a);
			break;
		case SIM_EV_WIRE_ARRIVE: {
			struct sim_dev *dev = ev.a;
			struct sim_ctx c = { .w = w, .host = dev->host, .t = w->clock.now };

			sim_nic_rx(&c, dev, ev.b);
			break;
		}
		case SIM_EV_HARD_IRQ:
			sim_ev_hard_irq(w, ev.a);
			break;
		case SIM_EV_SOFTIRQ:
			sim_ev_softirq(w, ev.a);
			break;
		case SIM_EV_TX_DONE:
			sim_ev_tx_done(w, ev.a);
			break;
		case SIM_EV_TAP_TIMER:
			sim_ev_tap_timer(w, ev.a);
			break;
		case SIM_EV_TAP_READ:
			sim_ev_tap_read(w, ev.a);
			break;
		case SIM_EV_SOCK_READ:
			sim_ev_sock_read(w, ev.a);
			break;
		}
	}
	if (until && w->clock.now < until)
		w->clock.now = until;
	return 0;
}
