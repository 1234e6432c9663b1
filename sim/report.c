/*
 * report.c - the printers of a `capsim sim` run: text for people, JSON
 * for scripts and autograders, DOT for Graphviz.  They read what the
 * session collected and counted; they compute nothing about the model.
 *
 * The text teaches: each tap's listing as tcpdump would print it, with
 * tcpdump's closing lines; then where the packets went - every drop
 * point with its kernel reason and function, and a sentence saying, from
 * the stage table's `visible` flag and the taps that had copied the
 * packets, whether tcpdump could have seen them; then the counters
 * under the kernel's names; then the expectations.
 */
#include "session_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static const char *tap_dev(const struct sim_ses_tap *t)
{
	return t->tap->bound ? t->tap->bound->name : "any";
}

/* "tcpdump on eth0 (tap a.cap)" or "packet socket a.raw on lo". */
static void tap_who(const struct sim_session *s, const struct sim_ses_tap *t, char *buf, size_t size)
{
	const char *host = s->col.hosts[t->host]->name;

	if (t->tcpdump)
		snprintf(buf, size, "tcpdump on %s (tap %s.%s)", tap_dev(t), host, t->tap->name);
	else
		snprintf(buf, size, "packet socket %s.%s on %s", host, t->tap->name, tap_dev(t));
}

/* Append to @buf at *@off. */
void sim_bufput(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < size ? *off + (size_t)n : size;
}

/*
 * Whether tcpdump could see the packets of drop @d, as one paragraph: a
 * packet reaches the taps in __netif_receive_skb_core() on the way in
 * and in dev_queue_xmit_nit() on the way out; a drop before those points
 * is invisible to every tap, a drop after them is not.
 */
static void explain(const struct sim_session *s, const struct sim_ses_drop *d, char *buf, size_t size)
{
	const struct sim_collect *c = &s->col;
	const char *host = c->hosts[d->host]->name;
	int rx = d->stage < SIM_ST_SOCK_SEND;
	const char *taps_fn = rx ? "__netif_receive_skb_core" : "dev_queue_xmit_nit";
	char who[128];
	size_t off = 0;
	int any = 0;

	buf[0] = '\0';
	if (d->stage == SIM_ST_TPACKET_RCV || d->stage == SIM_ST_PACKET_RCV) {
		for (unsigned t = 0; t < c->ntaps; t++) {
			if (!d->ringfull[t])
				continue;
			tap_who(s, &c->taps[t], who, sizeof(who));
			sim_bufput(buf, size, &off, "%s lost its copy of %llu packet%s: its %s had no room. ",
			    who, (unsigned long long)d->ringfull[t],
			    plural(d->ringfull[t]),
			    sim_tap_ring(c->taps[t].tap) ? "ring" : "receive buffer");
		}
		sim_bufput(buf, size, &off,
		    "Only the tap's copy is gone - the packet itself went on. tp_drops counts them, and "
		    "tcpdump reports them as \"packets dropped by kernel\".");
		return;
	}
	if (d->reason == SIM_DROP_RX_MISSED) {
		sim_bufput(buf, size, &off,
		    "The NIC had no free receive descriptor, so these frames never became an skb: no "
		    "tap can see them. Only the driver's rx_missed_errors (ethtool -S) counts them; "
		    "tcpdump shows them only as \"dropped by interface\", and only in promiscuous mode.");
		return;
	}
	if (sim_stages[d->stage].visible == 0) {
		sim_bufput(buf, size, &off,
		    "Before %s hands packets to the taps, so no tap on %s saw them here - tcpdump "
		    "cannot show a packet the kernel dropped before handing it to the taps.",
		    taps_fn, host);
	} else if (sim_stages[d->stage].visible == 1) {
		sim_bufput(buf, size, &off, "After the ptype_all taps in %s:", taps_fn);
	} else {
		sim_bufput(buf, size, &off, "At a stage that is no tap point.");
	}
	for (unsigned t = 0; t < c->ntaps; t++) {
		if (!d->copied[t])
			continue;
		tap_who(s, &c->taps[t], who, sizeof(who));
		if (sim_stages[d->stage].visible == 1 && c->taps[t].host == d->host)
			sim_bufput(buf, size, &off, " %s saw %llu of them although they were dropped.", who,
			    (unsigned long long)d->copied[t]);
		else
			sim_bufput(buf, size, &off, " %s had captured %llu of them earlier on their way.", who,
			    (unsigned long long)d->copied[t]);
		any = 1;
	}
	for (unsigned t = 0; t < c->ntaps; t++) {
		if (!d->filtered[t])
			continue;
		tap_who(s, &c->taps[t], who, sizeof(who));
		sim_bufput(buf, size, &off, " The filter of %s rejected %llu of them.", who,
		    (unsigned long long)d->filtered[t]);
		any = 1;
	}
	if (!any && sim_stages[d->stage].visible == 1)
		sim_bufput(buf, size, &off, " no tap on %s took a copy (none was open where they passed).",
		    host);
}

static void drop_where(const struct sim_ses_drop *d, char *buf, size_t size)
{
	const char *hook = sim_stage_hook_name(d->stage);

	snprintf(buf, size, "%s%s%s%s", sim_stages[d->stage].func, *hook ? " (" : "", hook,
		 *hook ? ")" : "");
}

/* ------------------------------------------------------------------ */
/* Text. */

static void text_tap(FILE *f, const struct sim_session *s, const struct sim_ses_tap *t,
		     uint32_t max_lines)
{
	const char *host = s->col.hosts[t->host]->name;
	uint32_t n = t->nlines;

	if (n > max_lines)
		n = max_lines;
	if (t->tcpdump)
		fprintf(f, "== tcpdump -i %s on host %s (tap %s)\n", tap_dev(t), host, t->tap->name);
	else
		fprintf(f, "== packet socket %s on host %s, bound to %s (no tcpdump: its copies)\n",
			t->tap->name, host, tap_dev(t));
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%s\n", t->lines[i]);
	if (t->listed > n)
		fprintf(f, "... %llu more\n", (unsigned long long)(t->listed - n));
	if (t->tcpdump) {
		/* tcpdump's info(): the closing lines, on stderr in tcpdump. */
		fprintf(f, "%llu packet%s captured\n", (unsigned long long)t->captured,
			plural(t->captured));
		fprintf(f, "%llu packet%s received by filter\n", (unsigned long long)t->received,
			plural(t->received));
		fprintf(f, "%llu packet%s dropped by kernel\n", (unsigned long long)t->dropped,
			plural(t->dropped));
		if (t->ifdrop)
			fprintf(f, "%llu packet%s dropped by interface\n",
				(unsigned long long)t->ifdrop, plural(t->ifdrop));
		if (t->dir_rejected)
			fprintf(f, "(libpcap threw away %llu outgoing cop%s on lo or against -Q: "
				   "linux_check_direction())\n",
				(unsigned long long)t->dir_rejected, t->dir_rejected == 1 ? "y" : "ies");
		/* Copied into the ring, never handed to tcpdump. */
		if (t->received > t->dropped + t->captured + t->dir_rejected) {
			uint64_t left = t->received - t->dropped - t->captured - t->dir_rejected;

			fprintf(f, "(%llu packet%s still in the ring when the run ended: libpcap hands "
				   "tcpdump a TPACKET_V3 block only once the kernel retires it - full, or "
				   "after the timeout, 1000 ms unless the tap says otherwise)\n",
				(unsigned long long)left, left == 1 ? " was" : "s were");
		}
	} else {
		fprintf(f, "%llu packet%s delivered (tp_packets %llu, tp_drops %llu)\n",
			(unsigned long long)t->copied, plural(t->copied),
			(unsigned long long)t->k.tp_packets, (unsigned long long)t->k.tp_drops);
	}
	fputc('\n', f);
}

static void text_drops(FILE *f, const struct sim_session *s)
{
	const struct sim_collect *c = &s->col;
	char where[96], why[1024];

	fputs("Where packets went\n", f);
	for (unsigned h = 0; h < c->nhosts; h++) {
		unsigned n = 0;

		for (int st = 0; st < SIM_STAGE_COUNT; st++)
			for (unsigned i = 0; i < c->ndrops; i++) {
				const struct sim_ses_drop *d = &c->drops[i];

				if (d->host != h || d->stage != (enum sim_stage)st)
					continue;
				if (!n++)
					fprintf(f, "  host %s:\n", c->hosts[h]->name);
				drop_where(d, where, sizeof(where));
				explain(s, d, why, sizeof(why));
				fprintf(f, "    %llu packet%s dropped by %s (%s) in %s.\n      %s\n",
					(unsigned long long)d->count, plural(d->count),
					sim_drop_reason_name(d->reason), sim_drop_reason_text(d->reason),
					where, why);
			}
		if (!n)
			fprintf(f, "  host %s: nothing dropped.\n", c->hosts[h]->name);
	}
	fputc('\n', f);
}

static void text_counters(FILE *f, const struct sim_session *s)
{
	const struct sim_collect *c = &s->col;

	fputs("Counters (under the kernel's names)\n", f);
	for (unsigned h = 0; h < c->nhosts; h++) {
		const struct sim_host *host = c->hosts[h];
		const struct sim_ctr_list *l = &s->ctrs[h];
		int notzero = 0;

		fprintf(f, "  host %s\n", host->name);
		for (unsigned d = 0; d < host->ndevs; d++) {
			const struct sim_dev *dev = host->devs[d];
			const struct sim_dev_stats *st = &dev->stats;

			fprintf(f, "    %-8s rx_packets %llu rx_bytes %llu rx_dropped %llu rx_missed_errors %llu\n"
				   "    %-8s tx_packets %llu tx_bytes %llu tx_dropped %llu qdisc_drops %llu\n",
				dev->name, (unsigned long long)st->rx_packets,
				(unsigned long long)st->rx_bytes, (unsigned long long)st->rx_dropped,
				(unsigned long long)st->rx_missed_errors, "",
				(unsigned long long)st->tx_packets, (unsigned long long)st->tx_bytes,
				(unsigned long long)st->tx_dropped, (unsigned long long)dev->qdisc_drops);
		}
		fputs("    /proc/net/softnet_stat: processed dropped time_squeeze\n", f);
		for (unsigned i = 0; i < host->ncpus; i++)
			fprintf(f, "      cpu%u %llu %llu %llu\n", i,
				(unsigned long long)host->cpu[i].processed,
				(unsigned long long)host->cpu[i].dropped,
				(unsigned long long)host->cpu[i].time_squeeze);
		for (unsigned t = 0; t < c->ntaps; t++)
			if (c->taps[t].host == h)
				fprintf(f, "    tap %s PACKET_STATISTICS: tp_packets %llu tp_drops %llu "
					   "tp_freeze_q_cnt %llu\n",
					c->taps[t].tap->name, (unsigned long long)c->taps[t].k.tp_packets,
					(unsigned long long)c->taps[t].k.tp_drops,
					(unsigned long long)c->taps[t].k.tp_freeze_q_cnt);
		for (unsigned i = 0; i < l->n; i++)
			if (strncmp(l->v[i].name, "rule.", 5) == 0)
				fprintf(f, "    %s: %llu packet%s\n", l->v[i].name,
					(unsigned long long)l->v[i].value, plural(l->v[i].value));
		for (const struct sim_sock *sk = host->socks; sk; sk = sk->next)
			fprintf(f, "    socket %s: received %llu read %llu drops %llu\n", sk->name,
				(unsigned long long)sk->received, (unsigned long long)sk->read,
				(unsigned long long)sk->drops);
		for (int r = 1; r < SIM_DROP_REASON_COUNT; r++)
			if (host->drops[r]) {
				if (!notzero++)
					fputs("    kfree_skb_reason():", f);
				fprintf(f, " %s %llu", sim_drop_reason_name((enum sim_drop_reason)r),
					(unsigned long long)host->drops[r]);
			}
		if (notzero)
			fputc('\n', f);
	}
	fputc('\n', f);
}

static void text_expects(FILE *f, const struct sim_session *s)
{
	if (!s->nres)
		return;
	fputs("Expectations\n", f);
	for (unsigned i = 0; i < s->nres; i++) {
		const struct sim_ses_result *r = &s->res[i];

		fprintf(f, "%s %s:%u %s", r->pass ? "PASS" : "FAIL", s->sc->name, r->e->pos.line,
			r->what);
		if (!r->pass)
			fprintf(f, ": %s", r->text);
		fputc('\n', f);
	}
	fprintf(f, "%u expectation%s: %u passed, %u failed.\n", s->nres, s->nres == 1 ? "" : "s",
		s->nres - s->nfailed, s->nfailed);
}

int sim_report_text(FILE *f, const struct sim_session *s, uint32_t max_lines)
{
	const struct sim_scenario *sc = s->sc;

	fprintf(f, "capsim sim %s%s%s%s: seed %llu, %llu.%06llu ms simulated, %llu events\n\n",
		sc->name, sc->title ? " (\"" : "", sc->title ? sc->title : "", sc->title ? "\")" : "",
		(unsigned long long)sc->seed, (unsigned long long)(s->end / 1000000u),
		(unsigned long long)(s->end % 1000000u), (unsigned long long)s->col.events);
	for (unsigned t = 0; t < s->col.ntaps; t++)
		text_tap(f, s, &s->col.taps[t], max_lines);
	text_drops(f, s);
	text_counters(f, s);
	text_expects(f, s);
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* JSON. */

static int set(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *json_tap(const struct sim_session *s, const struct sim_ses_tap *t)
{
	json_t *o = json_object(), *lines = json_array();
	int rc = 0;

	if (!o || !lines) {
		json_decref(o);
		json_decref(lines);
		return NULL;
	}
	for (uint32_t i = 0; i < t->nlines; i++)
		rc |= json_array_append_new(lines, json_string(t->lines[i]));
	rc |= set(o, "host", json_string(s->col.hosts[t->host]->name));
	rc |= set(o, "name", json_string(t->tap->name));
	rc |= set(o, "device", json_string(tap_dev(t)));
	rc |= set(o, "tcpdump", json_boolean(t->tcpdump));
	rc |= set(o, "linktype", json_string(pcap_datalink_val_to_name(t->linktype) ?
					     pcap_datalink_val_to_name(t->linktype) : "?"));
	rc |= set(o, "captured", u64(t->captured));
	rc |= set(o, "received", u64(t->received));
	rc |= set(o, "dropped", u64(t->dropped));
	rc |= set(o, "dropped_by_interface", u64(t->ifdrop));
	rc |= set(o, "copied", u64(t->copied));
	rc |= set(o, "filtered", u64(t->filtered));
	rc |= set(o, "ring_full", u64(t->ringfull));
	rc |= set(o, "read_by_tcpdump", u64(t->read));
	rc |= set(o, "direction_rejected", u64(t->dir_rejected));
	rc |= set(o, "tp_packets", u64(t->k.tp_packets));
	rc |= set(o, "tp_drops", u64(t->k.tp_drops));
	rc |= set(o, "tp_freeze_q_cnt", u64(t->k.tp_freeze_q_cnt));
	rc |= set(o, "lines", lines);
	rc |= set(o, "lines_more", u64(t->listed - t->nlines));
	rc |= set(o, "pcap", t->path ? json_string(t->path) : json_null());
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *json_drop(const struct sim_session *s, const struct sim_ses_drop *d)
{
	const struct sim_collect *c = &s->col;
	json_t *o = json_object(), *taps = json_array();
	char why[1024];
	int rc = 0;

	if (!o || !taps) {
		json_decref(o);
		json_decref(taps);
		return NULL;
	}
	explain(s, d, why, sizeof(why));
	for (unsigned t = 0; t < c->ntaps; t++) {
		json_t *x;

		if (!d->copied[t] && !d->filtered[t] && !d->ringfull[t])
			continue;
		x = json_object();
		rc |= set(x, "host", json_string(c->hosts[c->taps[t].host]->name));
		rc |= set(x, "tap", json_string(c->taps[t].tap->name));
		rc |= set(x, "copied", u64(d->copied[t]));
		rc |= set(x, "filtered", u64(d->filtered[t]));
		rc |= set(x, "ring_full", u64(d->ringfull[t]));
		rc |= json_array_append_new(taps, x);
	}
	rc |= set(o, "stage", json_string(sim_stage_id_name(d->stage)));
	rc |= set(o, "func", json_string(sim_stages[d->stage].func));
	rc |= set(o, "hook", *sim_stage_hook_name(d->stage) ? json_string(sim_stage_hook_name(d->stage))
							     : json_null());
	rc |= set(o, "reason", json_string(sim_drop_reason_name(d->reason)));
	rc |= set(o, "reason_text", json_string(sim_drop_reason_text(d->reason)));
	rc |= set(o, "count", u64(d->count));
	rc |= set(o, "visible", json_integer(sim_stages[d->stage].visible));
	rc |= set(o, "seen_by_a_tap", u64(d->seen_any));
	rc |= set(o, "taps", taps);
	rc |= set(o, "explanation", json_string(why));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *json_host(const struct sim_session *s, unsigned h)
{
	const struct sim_collect *c = &s->col;
	json_t *o = json_object(), *drops = json_array(), *ctrs = json_object(), *reasons = json_object();
	int rc = 0;

	if (!o || !drops || !ctrs || !reasons) {
		json_decref(o);
		json_decref(drops);
		json_decref(ctrs);
		json_decref(reasons);
		return NULL;
	}
	for (int st = 0; st < SIM_STAGE_COUNT; st++)
		for (unsigned i = 0; i < c->ndrops; i++)
			if (c->drops[i].host == h && c->drops[i].stage == (enum sim_stage)st)
				rc |= json_array_append_new(drops, json_drop(s, &c->drops[i]));
	for (unsigned i = 0; i < s->ctrs[h].n; i++)
		rc |= set(ctrs, s->ctrs[h].v[i].name, u64(s->ctrs[h].v[i].value));
	for (int r = 1; r < SIM_DROP_REASON_COUNT; r++)
		if (c->hosts[h]->drops[r])
			rc |= set(reasons, sim_drop_reason_name((enum sim_drop_reason)r),
				  u64(c->hosts[h]->drops[r]));
	rc |= set(o, "name", json_string(c->hosts[h]->name));
	rc |= set(o, "drops", drops);
	rc |= set(o, "kfree_skb_reason", reasons);
	rc |= set(o, "counters", ctrs);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A node of the path graph by name: {"host", "stage", "func"} or a tap or a drop. */
static json_t *json_node(const struct sim_session *s, uint32_t from, uint32_t n)
{
	const struct sim_collect *c = &s->col;
	uint32_t v = SIM_NODE_VAL(n);

	switch (SIM_NODE_KIND(n)) {
	case SIM_NODE_STAGE:
		return json_pack("{s:s, s:s, s:s}", "host", c->hosts[v / SIM_STAGE_COUNT]->name, "stage",
				 sim_stage_id_name((enum sim_stage)(v % SIM_STAGE_COUNT)), "func",
				 sim_stages[v % SIM_STAGE_COUNT].func);
	case SIM_NODE_TAP:
		return json_pack("{s:s, s:s}", "host", c->hosts[c->taps[v].host]->name, "tap",
				 c->taps[v].tap->name);
	default:
		return json_pack("{s:s, s:s, s:s}", "host",
				 c->hosts[SIM_NODE_VAL(from) / SIM_STAGE_COUNT]->name, "stage",
				 sim_stage_id_name((enum sim_stage)(SIM_NODE_VAL(from) % SIM_STAGE_COUNT)),
				 "drop", sim_drop_reason_name((enum sim_drop_reason)v));
	}
}

static int edge_cmp(const void *a, const void *b)
{
	const struct sim_ses_edge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* The edges in a stable order (by node), for output; NULL if none or no memory. */
static struct sim_ses_edge *sorted_edges(const struct sim_collect *c, size_t *n)
{
	struct sim_ses_edge *v = malloc((c->nedges ? c->nedges : 1) * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < c->edges_cap; i++)
		if (c->edges[i].count)
			v[(*n)++] = c->edges[i];
	qsort(v, *n, sizeof(*v), edge_cmp);
	return v;
}

int sim_report_json(FILE *f, const struct sim_session *s)
{
	const struct sim_scenario *sc = s->sc;
	json_t *root = json_object(), *taps = json_array(), *hosts = json_array(),
	       *edges = json_array(), *exps = json_array();
	struct sim_ses_edge *ev;
	size_t ne = 0;
	int rc = 0;

	if (!root || !taps || !hosts || !edges || !exps) {
		json_decref(root);
		json_decref(taps);
		json_decref(hosts);
		json_decref(edges);
		json_decref(exps);
		return -1;
	}
	rc |= set(root, "scenario", json_pack("{s:s, s:s?, s:I, s:I}", "file", sc->name, "title",
					      sc->title, "seed", (json_int_t)sc->seed, "duration_ns",
					      (json_int_t)(sc->has_duration ? sc->duration : 0)));
	rc |= set(root, "end_ns", u64(s->end));
	rc |= set(root, "events", u64(s->col.events));
	for (unsigned t = 0; t < s->col.ntaps; t++)
		rc |= json_array_append_new(taps, json_tap(s, &s->col.taps[t]));
	for (unsigned h = 0; h < s->col.nhosts; h++)
		rc |= json_array_append_new(hosts, json_host(s, h));
	ev = sorted_edges(&s->col, &ne);
	for (size_t i = 0; i < ne; i++)
		rc |= json_array_append_new(edges, json_pack("{s:o, s:o, s:I}", "from",
							     json_node(s, 0, ev[i].from), "to",
							     json_node(s, ev[i].from, ev[i].to), "count",
							     (json_int_t)ev[i].count));
	free(ev);
	for (unsigned i = 0; i < s->nres; i++) {
		const struct sim_ses_result *r = &s->res[i];

		rc |= json_array_append_new(exps, json_pack("{s:s, s:i, s:s, s:b, s:I, s:s, s:I}", "file",
							    sc->name, "line", (int)r->e->pos.line, "text",
							    r->what, "pass", r->pass, "was",
							    (json_int_t)r->have, "cmp",
							    sim_scn_cmp_name(r->e->cmp), "value",
							    (json_int_t)r->e->value));
	}
	rc |= set(root, "taps", taps);
	rc |= set(root, "hosts", hosts);
	rc |= set(root, "edges", edges);
	rc |= set(root, "expectations", exps);
	rc |= set(root, "summary", json_pack("{s:i, s:i, s:i}", "expectations", (int)s->nres, "passed",
					     (int)(s->nres - s->nfailed), "failed", (int)s->nfailed));
	if (rc == 0)
		rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc == 0)
		fputc('\n', f);
	return rc || fflush(f) != 0 || ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* DOT. */

static void dot_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static int tap_point(enum sim_stage st)
{
	return st == SIM_ST_TAPS_RX || st == SIM_ST_TAPS_TX;
}

int sim_report_dot(FILE *f, const struct sim_session *s)
{
	const struct sim_collect *c = &s->col;
	struct sim_ses_edge *ev;
	size_t ne = 0;

	ev = sorted_edges(c, &ne);
	if (!ev)
		return -1;
	fputs("digraph capsim {\n"
	      "\tgraph [fontname=\"Helvetica\", labelloc=t, rankdir=TB, nodesep=0.3, ranksep=0.35];\n"
	      "\tnode [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=9];\n\tlabel=\"", f);
	dot_escape(f, s->sc->title ? s->sc->title : s->sc->name);
	fputs(": the stages packets passed (kernel functions), counts on the edges\";\n", f);
	for (unsigned h = 0; h < c->nhosts; h++) {
		fprintf(f, "\tsubgraph cluster_%u {\n\t\tlabel=\"host ", h);
		dot_escape(f, c->hosts[h]->name);
		fputs("\"; color=grey60;\n", f);
		for (int st = 0; st < SIM_STAGE_COUNT; st++) {
			const char *hook = sim_stage_hook_name((enum sim_stage)st);

			if (!c->passed[h][st] || st == SIM_ST_PACKET_RCV || st == SIM_ST_TPACKET_RCV ||
			    st == SIM_ST_PCAP_READ)
				continue;
			fprintf(f, "\t\tn%u [label=\"%s%s%s%s\\n%llu\"", SIM_STAGE_NODE(h, st),
				sim_stages[st].func, *hook ? "\\n(" : "", hook, *hook ? ")" : "",
				(unsigned long long)c->passed[h][st]);
			if (tap_point((enum sim_stage)st))
				fputs(", style=\"filled,bold\", fillcolor=lightblue, color=blue, "
				      "penwidth=2",
				      f);
			fputs("];\n", f);
		}
		for (unsigned t = 0; t < c->ntaps; t++) {
			const struct sim_ses_tap *tp = &c->taps[t];

			if (tp->host != h)
				continue;
			fprintf(f, "\t\tt%u [shape=ellipse, style=filled, fillcolor=lightblue, "
				   "label=\"%s %s on %s\\ncopied %llu, filtered out %llu, no room %llu\"];\n",
				t, tp->tcpdump ? "tcpdump tap" : "packet socket", tp->tap->name,
				tap_dev(tp), (unsigned long long)tp->copied,
				(unsigned long long)tp->filtered, (unsigned long long)tp->ringfull);
			if (tp->tcpdump)
				fprintf(f, "\t\tr%u [shape=note, style=filled, fillcolor=honeydew, "
					   "label=\"tcpdump printed %llu\"];\n"
					   "\t\tt%u -> r%u [label=\"%llu\", color=blue];\n",
					t, (unsigned long long)tp->read, t, t,
					(unsigned long long)tp->read);
		}
		fputs("\t}\n", f);
	}
	for (unsigned i = 0; i < c->ndrops; i++) {
		const struct sim_ses_drop *d = &c->drops[i];

		fprintf(f, "\td%u_%u_%u [shape=octagon, style=filled, fillcolor=mistyrose, color=red, "
			   "fontcolor=red, label=\"%s\\n%llu dropped\\n%s\"];\n",
			d->host, (unsigned)d->stage, (unsigned)d->reason, sim_drop_reason_name(d->reason),
			(unsigned long long)d->count,
			sim_stages[d->stage].visible == 0 ? "before the taps: tcpdump never saw them" :
			sim_stages[d->stage].visible == 1 ? "after the taps" : "a tap's copy");
	}
	for (size_t i = 0; i < ne; i++) {
		uint32_t to = ev[i].to;

		switch (SIM_NODE_KIND(to)) {
		case SIM_NODE_STAGE:
			fprintf(f, "\tn%u -> n%u [label=\"%llu\"];\n", ev[i].from, to,
				(unsigned long long)ev[i].count);
			break;
		case SIM_NODE_TAP:
			fprintf(f, "\tn%u -> t%u [label=\"%llu\", color=blue, style=dashed];\n",
				ev[i].from, SIM_NODE_VAL(to), (unsigned long long)ev[i].count);
			break;
		default: {
			uint32_t v = SIM_NODE_VAL(ev[i].from);

			fprintf(f, "\tn%u -> d%u_%u_%u [label=\"%llu\", color=red, fontcolor=red];\n",
				ev[i].from, v / SIM_STAGE_COUNT, v % SIM_STAGE_COUNT, SIM_NODE_VAL(to),
				(unsigned long long)ev[i].count);
		}
		}
	}
	/* A tap's lost copies (FULL_RING) hang off the tap. */
	for (unsigned i = 0; i < c->ndrops; i++) {
		const struct sim_ses_drop *d = &c->drops[i];

		if (d->stage != SIM_ST_TPACKET_RCV && d->stage != SIM_ST_PACKET_RCV)
			continue;
		for (unsigned t = 0; t < c->ntaps; t++)
			if (d->ringfull[t])
				fprintf(f, "\tt%u -> d%u_%u_%u [label=\"%llu\", color=red, fontcolor=red];\n",
					t, d->host, (unsigned)d->stage, (unsigned)d->reason,
					(unsigned long long)d->ringfull[t]);
	}
	fputs("}\n", f);
	free(ev);
	return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
