/*
 * expect.c - the counters of a run under the kernel's names, and the
 * scenario's `expect` lines checked against them and against what the
 * collector saw: PASS or FAIL, with the line, the comparison and what
 * happened.
 *
 * Counter names, per host:
 *   DEV.rx_packets rx_bytes rx_dropped rx_missed_errors tx_packets tx_bytes
 *       tx_dropped qdisc_drops (ip -s link, ethtool -S, tc -s qdisc);
 *       rx_errors tx_errors rx_length_errors exist in the kernel but the
 *       model makes no malformed frames at the driver: always 0
 *   softnet.processed dropped time_squeeze (/proc/net/softnet_stat, summed
 *       over the host's CPUs), cpuN.processed dropped time_squeeze
 *   TAP.tp_packets tp_drops tp_freeze_q_cnt (PACKET_STATISTICS, running
 *       totals), TAP.captured received dropped (tcpdump's closing lines)
 *   rule.NAME (packets the rule matched)
 *   SOCK.received read drops
 */
#include "session_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int ctr_add(struct sim_ctr_list *l, int modelled, uint64_t v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ctr_add(struct sim_ctr_list *l, int modelled, uint64_t v, const char *fmt, ...)
{
	va_list ap;

	if (l->n == l->cap) {
		unsigned ncap = l->cap ? l->cap * 2 : 32;
		struct sim_ctr *n = realloc(l->v, ncap * sizeof(*n));

		if (!n)
			return -1;
		l->v = n;
		l->cap = ncap;
	}
	struct sim_ctr *c = &l->v[l->n++];

	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->value = v;
	c->modelled = (uint8_t)modelled;
	return 0;
}

void sim_ctr_list_free(struct sim_ctr_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int rules_add(struct sim_ctr_list *l, const struct sim_rule *r)
{
	for (; r; r = r->next)
		if (ctr_add(l, 1, r->packets, "rule.%s", r->name) != 0)
			return -1;
	return 0;
}

int sim_counters(const struct sim_collect *c, unsigned hi, struct sim_ctr_list *l)
{
	const struct sim_host *h = c->hosts[hi];
	uint64_t sn[3] = { 0 };
	int rc = 0;

	l->n = 0;
	for (unsigned d = 0; d < h->ndevs; d++) {
		const struct sim_dev *dev = h->devs[d];
		const struct sim_dev_stats *s = &dev->stats;

		rc |= ctr_add(l, 1, s->rx_packets, "%s.rx_packets", dev->name);
		rc |= ctr_add(l, 1, s->rx_bytes, "%s.rx_bytes", dev->name);
		rc |= ctr_add(l, 1, s->rx_dropped, "%s.rx_dropped", dev->name);
		rc |= ctr_add(l, 1, s->rx_missed_errors, "%s.rx_missed_errors", dev->name);
		rc |= ctr_add(l, 1, s->tx_packets, "%s.tx_packets", dev->name);
		rc |= ctr_add(l, 1, s->tx_bytes, "%s.tx_bytes", dev->name);
		rc |= ctr_add(l, 1, s->tx_dropped, "%s.tx_dropped", dev->name);
		rc |= ctr_add(l, 1, dev->qdisc_drops, "%s.qdisc_drops", dev->name);
		rc |= ctr_add(l, 0, 0, "%s.rx_errors", dev->name);
		rc |= ctr_add(l, 0, 0, "%s.tx_errors", dev->name);
		rc |= ctr_add(l, 0, 0, "%s.rx_length_errors", dev->name);
	}
	for (unsigned i = 0; i < h->ncpus; i++) {
		sn[0] += h->cpu[i].processed;
		sn[1] += h->cpu[i].dropped;
		sn[2] += h->cpu[i].time_squeeze;
	}
	rc |= ctr_add(l, 1, sn[0], "softnet.processed");
	rc |= ctr_add(l, 1, sn[1], "softnet.dropped");
	rc |= ctr_add(l, 1, sn[2], "softnet.time_squeeze");
	for (unsigned i = 0; i < h->ncpus; i++) {
		rc |= ctr_add(l, 1, h->cpu[i].processed, "cpu%u.processed", i);
		rc |= ctr_add(l, 1, h->cpu[i].dropped, "cpu%u.dropped", i);
		rc |= ctr_add(l, 1, h->cpu[i].time_squeeze, "cpu%u.time_squeeze", i);
	}
	for (unsigned i = 0; i < c->ntaps; i++) {
		const struct sim_ses_tap *t = &c->taps[i];

		if (t->host != hi)
			continue;
		rc |= ctr_add(l, 1, t->k.tp_packets, "%s.tp_packets", t->tap->name);
		rc |= ctr_add(l, 1, t->k.tp_drops, "%s.tp_drops", t->tap->name);
		rc |= ctr_add(l, 1, t->k.tp_freeze_q_cnt, "%s.tp_freeze_q_cnt", t->tap->name);
		rc |= ctr_add(l, 1, t->captured, "%s.captured", t->tap->name);
		rc |= ctr_add(l, 1, t->received, "%s.received", t->tap->name);
		rc |= ctr_add(l, 1, t->dropped, "%s.dropped", t->tap->name);
	}
	for (unsigned k = 0; k < SIM_NF_INET_NUMHOOKS; k++)
		rc |= rules_add(l, h->hook[k]);
	for (unsigned d = 0; d < h->ndevs; d++) {
		rc |= rules_add(l, h->devs[d]->tc_ingress);
		rc |= rules_add(l, h->devs[d]->nf_ingress);
		rc |= rules_add(l, h->devs[d]->tc_egress);
		rc |= rules_add(l, h->devs[d]->nf_egress);
	}
	for (const struct sim_sock *sk = h->socks; sk; sk = sk->next) {
		rc |= ctr_add(l, 1, sk->received, "%s.received", sk->name);
		rc |= ctr_add(l, 1, sk->read, "%s.read", sk->name);
		rc |= ctr_add(l, 1, sk->drops, "%s.drops", sk->name);
	}
	return rc ? -1 : 0;
}

static const struct sim_ctr *ctr_find(const struct sim_ctr_list *l, const char *name)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static enum sim_drop_reason reason_by_name(const char *name)
{
	for (int r = 1; r < SIM_DROP_REASON_COUNT; r++)
		if (strcmp(sim_drop_reason_name((enum sim_drop_reason)r), name) == 0)
			return (enum sim_drop_reason)r;
	return SIM_DROP_NONE;
}

static int func_known(const char *func)
{
	for (int st = 0; st < SIM_STAGE_COUNT; st++)
		if (strcmp(sim_stages[st].func, func) == 0)
			return 1;
	return 0;
}

/* The counter names host @hi has, grouped: "DEV.X for DEV in lo, eth0;
 * ...", into @buf. */
static void valid_names(const struct sim_collect *c, unsigned hi, char *buf, size_t size)
{
	const struct sim_host *h = c->hosts[hi];
	size_t off = 0;
	int n = 0;

	buf[0] = '\0';
	sim_bufput(buf, size, &off, "DEV.X for DEV in");
	for (unsigned d = 0; d < h->ndevs; d++)
		sim_bufput(buf, size, &off, "%s %s", d ? "," : "", h->devs[d]->name);
	sim_bufput(buf, size, &off, " and X in rx_packets, rx_bytes, rx_dropped, rx_missed_errors, "
			     "tx_packets, tx_bytes, tx_dropped, qdisc_drops, rx_errors, tx_errors, "
			     "rx_length_errors; softnet.X");
	for (unsigned i = 0; i < h->ncpus; i++)
		sim_bufput(buf, size, &off, ", cpu%u.X", i);
	sim_bufput(buf, size, &off, " for X in processed, dropped, time_squeeze");
	for (unsigned t = 0; t < c->ntaps; t++)
		if (c->taps[t].host == hi)
			sim_bufput(buf, size, &off, "%s %s", n++ ? "," : "; TAP.X for TAP in", c->taps[t].tap->name);
	if (n)
		sim_bufput(buf, size, &off, " and X in tp_packets, tp_drops, tp_freeze_q_cnt, captured, "
				     "received, dropped");
	n = 0;
	for (const struct sim_sock *sk = h->socks; sk; sk = sk->next)
		sim_bufput(buf, size, &off, "%s %s", n++ ? "," : "; SOCK.X for SOCK in", sk->name);
	if (n)
		sim_bufput(buf, size, &off, " and X in received, read, drops");
	sim_bufput(buf, size, &off, "; rule.NAME for each rule of the host");
}

int sim_expect_check(const struct sim_session *s, char *errbuf, size_t errsize)
{
	const struct sim_scenario *sc = s->sc;

	for (uint32_t i = 0; i < sc->nexpects; i++) {
		const struct sim_scn_expect *e = &sc->expects[i];
		int hi;

		switch (e->kind) {
		case SIM_SCN_EXPECT_TAP_CAPTURED:
		case SIM_SCN_EXPECT_TAP_RECEIVED:
		case SIM_SCN_EXPECT_TAP_DROPPED:
		case SIM_SCN_EXPECT_TAP_SAW:
			if (sim_collect_tap(&s->col, e->tap.host_name, e->tap.name) < 0) {
				snprintf(errbuf, errsize, "%s:%u:%u: host '%s' has no tap '%s' in the model",
					 sc->name, e->tap.pos.line, e->tap.pos.col, e->tap.host_name,
					 e->tap.name);
				return -1;
			}
			continue;
		case SIM_SCN_EXPECT_DROP:
			if ((hi = sim_collect_host(&s->col, e->host_name)) < 0)
				break;
			if (reason_by_name(e->reason) == SIM_DROP_NONE) {
				snprintf(errbuf, errsize, "%s:%u:%u: the model never drops for reason '%s'",
					 sc->name, e->pos.line, e->pos.col, e->reason);
				return -1;
			}
			if (e->func[0] && !func_known(e->func)) {
				snprintf(errbuf, errsize,
					 "%s:%u:%u: no stage of the model plays '%s' (capsim sim --trace "
					 "shows the kernel functions a packet passes)",
					 sc->name, e->pos.line, e->pos.col, e->func);
				return -1;
			}
			continue;
		case SIM_SCN_EXPECT_COUNTER: {
			struct sim_ctr_list l = { 0 };
			char names[640];

			if ((hi = sim_collect_host(&s->col, e->host_name)) < 0)
				break;
			if (sim_counters(&s->col, (unsigned)hi, &l) != 0) {
				sim_ctr_list_free(&l);
				snprintf(errbuf, errsize, "out of memory");
				return -1;
			}
			if (!ctr_find(&l, e->counter)) {
				valid_names(&s->col, (unsigned)hi, names, sizeof(names));
				snprintf(errbuf, errsize, "%s:%u:%u: host %s has no counter '%s'; its counters are %s",
					 sc->name, e->counter_pos.line, e->counter_pos.col, e->host_name,
					 e->counter, names);
				sim_ctr_list_free(&l);
				return -1;
			}
			sim_ctr_list_free(&l);
			continue;
		}
		}
		snprintf(errbuf, errsize, "%s:%u:%u: the model has no host '%s'", sc->name,
			 e->host_pos.line, e->host_pos.col, e->host_name);
		return -1;
	}
	return 0;
}

/* "= 5" as the scenario wrote it ("5" means "= 5"). */
static void cmp_text(const struct sim_scn_expect *e, char *buf, size_t size)
{
	snprintf(buf, size, "%s %llu", sim_scn_cmp_name(e->cmp), (unsigned long long)e->value);
}

static void eval_one(struct sim_session *s, const struct sim_scn_expect *e, struct sim_ses_result *r)
{
	static const char *const tapkw[] = {
		[SIM_SCN_EXPECT_TAP_CAPTURED] = "captured",
		[SIM_SCN_EXPECT_TAP_RECEIVED] = "received",
		[SIM_SCN_EXPECT_TAP_DROPPED] = "dropped",
	};
	const struct sim_collect *c = &s->col;
	char cmp[48];
	int ti, hi;

	r->e = e;
	r->known = 1;
	cmp_text(e, cmp, sizeof(cmp));
	switch (e->kind) {
	case SIM_SCN_EXPECT_TAP_CAPTURED:
	case SIM_SCN_EXPECT_TAP_RECEIVED:
	case SIM_SCN_EXPECT_TAP_DROPPED:
		ti = sim_collect_tap(c, e->tap.host_name, e->tap.name);
		snprintf(r->what, sizeof(r->what), "expect tap %s.%s %s %s", e->tap.host_name,
			 e->tap.name, tapkw[e->kind], cmp);
		if (ti < 0)
			break;
		r->have = e->kind == SIM_SCN_EXPECT_TAP_CAPTURED ? c->taps[ti].captured :
			  e->kind == SIM_SCN_EXPECT_TAP_RECEIVED ? c->taps[ti].received :
								   c->taps[ti].dropped;
		goto compare;
	case SIM_SCN_EXPECT_TAP_SAW:
		snprintf(r->what, sizeof(r->what), "expect tap %s.%s saw %s \"%s\"", e->tap.host_name,
			 e->tap.name, cmp, e->filter);
		for (unsigned i = 0; i < c->nsaws; i++)
			if (c->saws[i].e == e) {
				r->have = c->saws[i].matched;
				goto compare;
			}
		break;
	case SIM_SCN_EXPECT_DROP: {
		enum sim_drop_reason why = reason_by_name(e->reason);

		snprintf(r->what, sizeof(r->what), "expect drop %s %s %s%s%s", e->host_name, e->reason,
			 cmp, e->func[0] ? " at " : "", e->func);
		if ((hi = sim_collect_host(c, e->host_name)) < 0 || why == SIM_DROP_NONE)
			break;
		/* Packets freed for @why, at any stage or at those that play
		 * @func; a tap's lost copy (FULL_RING) counts as well. */
		r->have = 0;
		for (unsigned i = 0; i < c->ndrops; i++) {
			const struct sim_ses_drop *d = &c->drops[i];

			if (d->host == (unsigned)hi && d->reason == why &&
			    (!e->func[0] || strcmp(sim_stages[d->stage].func, e->func) == 0))
				r->have += d->count;
		}
		goto compare;
	}
	case SIM_SCN_EXPECT_COUNTER: {
		const struct sim_ctr *ctr = NULL;

		snprintf(r->what, sizeof(r->what), "expect counter %s %s %s", e->host_name, e->counter,
			 cmp);
		if ((hi = sim_collect_host(c, e->host_name)) >= 0)
			ctr = ctr_find(&s->ctrs[hi], e->counter);
		if (!ctr)
			break;
		r->have = ctr->value;
		goto compare;
	}
	}
	r->known = 0;
	r->pass = 0;
	snprintf(r->text, sizeof(r->text), "the run has no such quantity");
	return;
compare:
	r->pass = sim_scn_cmp_holds(e->cmp, r->have, e->value);
	snprintf(r->text, sizeof(r->text), "was %llu", (unsigned long long)r->have);
}

int sim_expect_eval(struct sim_session *s)
{
	const struct sim_scenario *sc = s->sc;

	free(s->res);
	s->nres = s->nfailed = 0;
	if (!sc->nexpects) {
		s->res = NULL;
		return 0;
	}
	s->res = calloc(sc->nexpects, sizeof(*s->res));
	if (!s->res)
		return -1;
	for (uint32_t i = 0; i < sc->nexpects; i++) {
		eval_one(s, &sc->expects[i], &s->res[i]);
		if (!s->res[i].pass)
			s->nfailed++;
	}
	s->nres = sc->nexpects;
	return 0;
}
