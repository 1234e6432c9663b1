/*
 * collect.c - the observer a `capsim sim` run attaches to the world: it
 * aggregates what the stages report (drops per host, stage and reason;
 * each tap's copies and what tcpdump read; the stage-to-stage edges of
 * the path graph; the "saw" matchers) and streams what must not be kept
 * (the --trace lines, the -w pcap records) as it happens.
 *
 * Memory: the counts are bounded by the scenario (hosts, stages, taps);
 * the one piece of per-packet state is an entry per sk_buff address,
 * reused when the pool reuses the skb, so it is bounded by the pool's
 * peak, i.e. by the model's queues, never by the number of packets.
 */
#include "session_int.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXIMUM_SNAPLEN 262144	/* pcap-int.h */
#define SLL2_HDR_LEN 20		/* pcap/sll.h */
#define HASH_K 0x9E3779B97F4A7C15ull

static void fail(struct sim_collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct sim_collect *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *sim_stage_hook_name(enum sim_stage st)
{
	switch (st) {
	case SIM_ST_NF_INGRESS: return "netdev ingress";
	case SIM_ST_NF_PREROUTING: return "PREROUTING";
	case SIM_ST_NF_LOCAL_IN: return "INPUT";
	case SIM_ST_NF_FORWARD: return "FORWARD";
	case SIM_ST_NF_LOCAL_OUT: return "OUTPUT";
	case SIM_ST_NF_POST_ROUTING: return "POSTROUTING";
	case SIM_ST_NF_EGRESS: return "netdev egress";
	case SIM_ST_TC_INGRESS: return "tc ingress";
	case SIM_ST_TC_EGRESS: return "tc egress";
	default: return "";
	}
}

static int host_index(struct sim_collect *c, const struct sim_host *h)
{
	for (unsigned i = 0; i < c->nhosts; i++)
		if (c->hosts[i] == h)
			return (int)i;
	return -1;
}

int sim_collect_host(const struct sim_collect *c, const char *name)
{
	for (unsigned i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i]->name, name) == 0)
			return (int)i;
	return -1;
}

int sim_collect_tap(const struct sim_collect *c, const char *host, const char *name)
{
	for (unsigned i = 0; i < c->ntaps; i++)
		if (strcmp(c->hosts[c->taps[i].host]->name, host) == 0 &&
		    strcmp(c->taps[i].tap->name, name) == 0)
			return (int)i;
	return -1;
}

static int tap_index(const struct sim_collect *c, const struct sim_tap *t)
{
	for (unsigned i = 0; i < c->ntaps; i++)
		if (c->taps[i].tap == t)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Live skbs by address, and the graph's edges: open addressing. */

static size_t hash_ptr(const void *p, size_t cap)
{
	return (size_t)((((uint64_t)(uintptr_t)p >> 4) * HASH_K) >> 32) & (cap - 1);
}

static int skbs_grow(struct sim_collect *c)
{
	size_t ncap = c->skbs_cap ? c->skbs_cap * 2 : 1024;
	struct sim_ses_skb *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < c->skbs_cap; i++) {
		struct sim_ses_skb *o = &c->skbs[i];

		if (!o->p)
			continue;
		size_t j = hash_ptr(o->p, ncap);

		while (n[j].p)
			j = (j + 1) & (ncap - 1);
		n[j] = *o;
	}
	free(c->skbs);
	c->skbs = n;
	c->skbs_cap = ncap;
	c->last_skb = NULL;
	return 0;
}

/* The entry of the skb at @p, reset when the pool handed the address to
 * another packet (or another clone) since its last event.  A clone's path
 * goes on from where the packet was when it was cloned: the stage of the
 * event just before, if that was the same packet. */
static struct sim_ses_skb *skb_entry(struct sim_collect *c, const void *p, uint64_t id,
				     uint32_t clone)
{
	struct sim_ses_skb *s = c->last_skb;
	uint32_t from = s && s->p != p && s->id == id && s->clone != clone ? s->last
									   : SIM_NODE_NONE;

	if (!s || s->p != p) {
		if (c->nskbs * 2 >= c->skbs_cap && skbs_grow(c) != 0) {
			fail(c, "out of memory following %zu live packets", c->nskbs);
			return NULL;
		}
		size_t j = hash_ptr(p, c->skbs_cap);

		while (c->skbs[j].p && c->skbs[j].p != p)
			j = (j + 1) & (c->skbs_cap - 1);
		s = &c->skbs[j];
		if (!s->p) {
			s->p = p;
			s->id = id + 1;	/* forces the reset below */
			c->nskbs++;
		}
		c->last_skb = s;
	}
	if (s->id != id || s->clone != clone) {
		s->id = id;
		s->clone = clone;
		s->last = from;
		s->copied = s->filtered = s->ringfull = 0;
	}
	return s;
}

static size_t hash_edge(uint32_t from, uint32_t to, size_t cap)
{
	return (size_t)((((uint64_t)from << 32 | to) * HASH_K) >> 32) & (cap - 1);
}

static void edge_add(struct sim_collect *c, uint32_t from, uint32_t to)
{
	if (c->nedges * 2 >= c->edges_cap) {
		size_t ncap = c->edges_cap ? c->edges_cap * 2 : 256;
		struct sim_ses_edge *n = calloc(ncap, sizeof(*n));

		if (!n) {
			fail(c, "out of memory counting the path graph's edges");
			return;
		}
		for (size_t i = 0; i < c->edges_cap; i++) {
			if (!c->edges[i].count)
				continue;
			size_t j = hash_edge(c->edges[i].from, c->edges[i].to, ncap);

			while (n[j].count)
				j = (j + 1) & (ncap - 1);
			n[j] = c->edges[i];
		}
		free(c->edges);
		c->edges = n;
		c->edges_cap = ncap;
	}
	size_t j = hash_edge(from, to, c->edges_cap);

	while (c->edges[j].count && (c->edges[j].from != from || c->edges[j].to != to))
		j = (j + 1) & (c->edges_cap - 1);
	if (!c->edges[j].count) {
		c->edges[j].from = from;
		c->edges[j].to = to;
		c->nedges++;
	}
	c->edges[j].count++;
}

/* ------------------------------------------------------------------ */
/* Drops. */

static struct sim_ses_drop *drop_rec(struct sim_collect *c, unsigned h, enum sim_stage st,
				     enum sim_drop_reason r)
{
	uint16_t i = c->drop_idx[h][st][r];

	if (i)
		return &c->drops[i - 1];
	if (c->ndrops == c->drops_cap) {
		unsigned ncap = c->drops_cap ? c->drops_cap * 2 : 8;
		struct sim_ses_drop *n = realloc(c->drops, ncap * sizeof(*n));

		if (!n) {
			fail(c, "out of memory counting drops");
			return NULL;
		}
		c->drops = n;
		c->drops_cap = ncap;
	}
	struct sim_ses_drop *d = &c->drops[c->ndrops++];

	memset(d, 0, sizeof(*d));
	d->host = h;
	d->stage = st;
	d->reason = r;
	c->drop_idx[h][st][r] = (uint16_t)c->ndrops;
	return d;
}

static void drop_count(struct sim_collect *c, unsigned h, const struct sim_event_rec *ev,
		       const struct sim_ses_skb *s)
{
	struct sim_ses_drop *d = drop_rec(c, h, ev->stage, ev->drop);

	if (!d)
		return;
	d->count++;
	if (!s)
		return;
	if (s->copied)
		d->seen_any++;
	for (uint64_t m = s->copied | s->filtered | s->ringfull; m; m &= m - 1) {
		unsigned t = (unsigned)__builtin_ctzll(m);

		d->copied[t] += s->copied >> t & 1;
		d->filtered[t] += s->filtered >> t & 1;
		d->ringfull[t] += s->ringfull >> t & 1;
	}
}

/* ------------------------------------------------------------------ */
/* What a tap captured: the listing, the pcap file, the matchers. */

static const char *dev_name(const struct sim_dev *d)
{
	return d ? d->name : "?";
}

/* tcpdump's one-liner: time of day (the run starts at midnight), the
 * interface and direction as tcpdump -i any prints them, the packet. */
static void list_line(struct sim_collect *c, struct sim_ses_tap *t, const struct sim_event_rec *ev,
		      const uint8_t *bytes, uint32_t caplen, int linktype)
{
	char desc[160];
	uint64_t s = ev->cap_ts / 1000000000u;

	t->listed++;
	if (t->nlines >= c->list_limit)
		return;
	if (!t->lines && !(t->lines = calloc(c->list_limit, sizeof(*t->lines)))) {
		fail(c, "out of memory keeping tap %s's listing", t->tap->name);
		return;
	}
	if (linktype == DLT_LINUX_SLL2 && caplen >= SLL2_HDR_LEN) {
		uint16_t proto = sim_get16(bytes);

		if (proto == ETH_P_IP || proto == ETH_P_IPV6)
			trace_describe(bytes + SLL2_HDR_LEN, caplen - SLL2_HDR_LEN, DLT_RAW, desc,
				       sizeof(desc));
		else if (proto == ETH_P_ARP)
			snprintf(desc, sizeof(desc), "ARP, length %u", caplen - SLL2_HDR_LEN);
		else
			snprintf(desc, sizeof(desc), "ethertype 0x%04x, length %u", proto,
				 caplen - SLL2_HDR_LEN);
	} else {
		trace_describe(bytes, caplen, linktype, desc, sizeof(desc));
	}
	snprintf(t->lines[t->nlines++], SIM_SES_LINE, "%02llu:%02llu:%02llu.%06llu %s %-3s %s",
		 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
		 (unsigned long long)(s % 60), (unsigned long long)(ev->cap_ts % 1000000000u / 1000),
		 dev_name(ev->dev), ev->pkt_type == PACKET_OUTGOING ? "Out" : "In", desc);
}

static void capture(struct sim_collect *c, unsigned ti, const struct sim_event_rec *ev,
		    const uint8_t *bytes, uint32_t caplen, uint32_t wirelen, int linktype)
{
	struct sim_ses_tap *t = &c->taps[ti];

	list_line(c, t, ev, bytes, caplen, linktype);
	if (c->capture) {
		struct sim_session_capture rec = {
			.host = c->hosts[t->host]->name,
			.tap = t->tap->name,
			.dev = dev_name(ev->dev),
			.ts = ev->cap_ts,
			.pkt_type = ev->pkt_type,
			.tcpdump = t->tcpdump,
			.linktype = linktype,
			.bytes = bytes,
			.caplen = caplen,
			.wirelen = wirelen,
		};

		c->capture(c->capture_ctx, &rec);
	}
	if (t->wr)
		trace_write(t->wr, ev->cap_ts, bytes, caplen, wirelen);
	for (unsigned i = 0; i < c->nsaws; i++) {
		struct sim_ses_saw *m = &c->saws[i];

		if (m->tap != ti)
			continue;
		struct bpfvm_packet pkt = { .bytes = bytes, .caplen = caplen, .wirelen = wirelen };

		if (bpfvm_run(m->vm, &pkt, NULL))
			m->matched++;
	}
}

/*
 * A plain packet socket's copy, as a pcap record: SOCK_RAW copies start
 * at the link-layer header (Ethernet, or lo's all-zero one); SOCK_DGRAM
 * copies at the network header, so they get the DLT_LINUX_SLL2 header
 * libpcap would build from the sockaddr_ll (address left out).
 */
static void plain_copy(struct sim_collect *c, unsigned ti, const struct sim_event_rec *ev)
{
	struct sim_ses_tap *t = &c->taps[ti];
	uint8_t buf[SLL2_HDR_LEN + 2048];
	uint32_t caplen = ev->caplen;

	if (!ev->cap_bytes)
		return;
	if (t->linktype != DLT_LINUX_SLL2) {
		capture(c, ti, ev, ev->cap_bytes, caplen, ev->wirelen, t->linktype);
		return;
	}
	if (caplen > sizeof(buf) - SLL2_HDR_LEN)
		caplen = sizeof(buf) - SLL2_HDR_LEN;
	memset(buf, 0, SLL2_HDR_LEN);
	sim_put16(buf, ev->skb ? ev->skb->protocol : 0);
	sim_put32(buf + 4, ev->dev ? ev->dev->ifindex : 0);
	sim_put16(buf + 8, ev->dev ? ev->dev->type : 0);
	buf[10] = ev->pkt_type;
	memcpy(buf + SLL2_HDR_LEN, ev->cap_bytes, caplen);
	capture(c, ti, ev, buf, caplen + SLL2_HDR_LEN, ev->wirelen + SLL2_HDR_LEN, DLT_LINUX_SLL2);
}

/* ------------------------------------------------------------------ */
/* --trace: one line per event, as it happens. */

static const char *tap_result_text(uint8_t r)
{
	switch (r) {
	case SIM_TAP_IGNORED: return "not for this socket";
	case SIM_TAP_FILTERED: return "filter rejected it";
	case SIM_TAP_QUEUED: return "copied";
	case SIM_TAP_DROPPED: return "no room: tp_drops";
	case SIM_TAP_READ: return "handed to tcpdump";
	default: return "";
	}
}

static void trace_line(struct sim_collect *c, const struct sim_event_rec *ev)
{
	char skb[32], cpu[16], what[160];
	const char *func = sim_stages[ev->stage].func;

	if (c->trace_lines >= c->trace_limit) {
		if (c->trace_lines++ == c->trace_limit)
			fprintf(c->trace, "(--trace stops after %llu lines: --trace-limit N shows more; "
					  "the run goes on)\n",
				(unsigned long long)c->trace_limit);
		return;
	}
	c->trace_lines++;
	if (ev->skb || ev->skb_id) {
		if (ev->clone)
			snprintf(skb, sizeof(skb), "skb %llu/%u", (unsigned long long)ev->skb_id,
				 ev->clone);
		else
			snprintf(skb, sizeof(skb), "skb %llu", (unsigned long long)ev->skb_id);
	} else {
		snprintf(skb, sizeof(skb), "-");
	}
	if (ev->cpu >= 0)
		snprintf(cpu, sizeof(cpu), "cpu%d", ev->cpu);
	else
		snprintf(cpu, sizeof(cpu), "-");
	if (ev->stage == SIM_ST_PCAP_READ && ev->tap) {
		const struct sim_tap_ring *r = sim_tap_ring(ev->tap);

		if (r && r->version == TPACKET_V2)
			func = "pcap_read_linux_mmap_v2";
	}
	what[0] = '\0';
	if (ev->tap) {
		if (ev->stage == SIM_ST_PCAP_READ && ev->tap_result == SIM_TAP_FILTERED)
			snprintf(what, sizeof(what), "  tap %s: linux_check_direction() dropped it",
				 ev->tap->name);
		else if (ev->stage == SIM_ST_PCAP_READ)
			snprintf(what, sizeof(what), "  tap %s: handed to tcpdump (%u of %u bytes)",
				 ev->tap->name, ev->caplen, ev->wirelen);
		else
			snprintf(what, sizeof(what), "  tap %s: %s", ev->tap->name,
				 tap_result_text(ev->tap_result));
	} else if (*sim_stage_hook_name(ev->stage)) {
		snprintf(what, sizeof(what), " (%s)", sim_stage_hook_name(ev->stage));
	}
	if (ev->drop == SIM_DROP_RX_MISSED)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 "  RX_MISSED: the ring is full, no skb (rx_missed_errors)");
	else if (ev->drop != SIM_DROP_NONE && ev->stage != SIM_ST_TPACKET_RCV &&
		 ev->stage != SIM_ST_PACKET_RCV)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "  kfree_skb_reason(%s)",
			 sim_drop_reason_name(ev->drop));
	fprintf(c->trace, "%4llu.%09llu  %-10s %-8s %-5s %-9s %s%s\n",
		(unsigned long long)(ev->t / 1000000000u), (unsigned long long)(ev->t % 1000000000u),
		skb, ev->host ? ev->host->name : "-", cpu, ev->dev ? ev->dev->name : "-", func, what);
}

/* ------------------------------------------------------------------ */
/* The observer. */

static void tap_event(struct sim_collect *c, unsigned h, const struct sim_event_rec *ev)
{
	int ti = tap_index(c, ev->tap);
	struct sim_ses_tap *t;
	struct sim_ses_skb *s = NULL;

	if (ti < 0)
		return;
	t = &c->taps[ti];
	if (ev->stage == SIM_ST_PCAP_READ) {
		if (ev->tap_result == SIM_TAP_READ) {
			t->read++;
			if (ev->cap_bytes)
				capture(c, (unsigned)ti, ev, ev->cap_bytes, ev->caplen, ev->wirelen,
					ev->linktype);
		} else {
			t->dir_rejected++;
		}
		return;
	}
	if (ev->tap_result == SIM_TAP_IGNORED) {
		t->ignored++;
		return;
	}
	if (ev->skb && !(s = skb_entry(c, ev->skb, ev->skb_id, ev->clone)))
		return;
	uint64_t bit = 1ull << ti;

	switch (ev->tap_result) {
	case SIM_TAP_FILTERED:
		t->filtered++;
		if (s)
			s->filtered |= bit;
		break;
	case SIM_TAP_QUEUED:
		t->copied++;
		if (s)
			s->copied |= bit;
		if (!t->tcpdump)
			plain_copy(c, (unsigned)ti, ev);
		break;
	case SIM_TAP_DROPPED:
		t->ringfull++;
		if (s)
			s->ringfull |= bit;
		break;
	default:
		break;
	}
	if (s && s->last != SIM_NODE_NONE)
		edge_add(c, s->last, SIM_NODE(SIM_NODE_TAP, ti));
	/* The tap lost its copy: a drop of the copy, not of the packet,
	 * whose path goes on. */
	if (ev->drop != SIM_DROP_NONE) {
		struct sim_ses_drop *d = drop_rec(c, h, ev->stage, ev->drop);

		if (d) {
			d->count++;
			d->ringfull[ti]++;
		}
	}
}

static void on_event(void *ctx, const struct sim_event_rec *ev)
{
	struct sim_collect *c = ctx;
	int hi;

	c->events++;
	if (c->trace)
		trace_line(c, ev);
	if (!ev->host || (hi = host_index(c, ev->host)) < 0)
		return;
	if (ev->tap) {
		tap_event(c, (unsigned)hi, ev);
		return;
	}
	if (!ev->skb) {
		if (ev->drop != SIM_DROP_NONE)
			drop_count(c, (unsigned)hi, ev, NULL);
		return;
	}
	struct sim_ses_skb *s = skb_entry(c, ev->skb, ev->skb_id, ev->clone);
	uint32_t node = SIM_STAGE_NODE((unsigned)hi, ev->stage);

	if (!s)
		return;
	if (s->last != node) {
		c->passed[hi][ev->stage]++;
		if (s->last != SIM_NODE_NONE)
			edge_add(c, s->last, node);
		s->last = node;
	}
	if (ev->drop != SIM_DROP_NONE) {
		edge_add(c, node, SIM_NODE(SIM_NODE_DROP, ev->drop));
		drop_count(c, (unsigned)hi, ev, s);
		s->id = UINT64_MAX;	/* its path ended here */
		s->last = SIM_NODE_NONE;
		s->copied = s->filtered = s->ringfull = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Set-up and read-out. */

static const struct sim_scn_tap *scn_tap(const struct sim_scenario *sc, const char *host,
					 const char *name)
{
	for (uint32_t i = 0; i < sc->nhosts; i++) {
		if (strcmp(sc->hosts[i].name, host) != 0)
			continue;
		for (uint32_t j = 0; j < sc->hosts[i].ntaps; j++)
			if (strcmp(sc->hosts[i].taps[j].name, name) == 0)
				return &sc->hosts[i].taps[j];
	}
	return NULL;
}

static int open_writer(struct sim_ses_tap *t, const char *dir, const char *host, char *errbuf,
		       size_t errsize)
{
	char err[TRACE_ERRBUF_SIZE];

	if (asprintf(&t->path, "%s/%s.%s.pcap", dir, host, t->tap->name) < 0) {
		t->path = NULL;
		snprintf(errbuf, errsize, "out of memory");
		return -1;
	}
	if (trace_writer_open(&t->wr, t->path, t->linktype, t->snaplen, err) != 0) {
		t->wr = NULL;
		snprintf(errbuf, errsize, "-w: %s", err);
		return -1;
	}
	return 0;
}

static int add_saw(struct sim_collect *c, const struct sim_scenario *sc,
		   const struct sim_scn_expect *e, char *errbuf, size_t errsize)
{
	char err[BPFVM_ERRBUF_SIZE];
	struct bpfvm_compile_opts o;
	struct bpfvm_prog prog = { 0 };
	struct sim_ses_saw *m;
	int ti = sim_collect_tap(c, e->tap.host_name, e->tap.name);

	if (ti < 0) {
		snprintf(errbuf, errsize, "%s:%u:%u: the model has no tap %s.%s", sc->name,
			 e->pos.line, e->pos.col, e->tap.host_name, e->tap.name);
		return -1;
	}
	m = realloc(c->saws, (c->nsaws + 1) * sizeof(*m));
	if (!m) {
		snprintf(errbuf, errsize, "out of memory");
		return -1;
	}
	c->saws = m;
	m = &c->saws[c->nsaws];
	memset(m, 0, sizeof(*m));
	m->e = e;
	m->tap = (unsigned)ti;
	/* What tcpdump -r would do with the tap's file: libpcap compiles
	 * for the file's link type, without Linux extensions. */
	bpfvm_compile_opts_init(&o);
	o.linktype = c->taps[ti].linktype;
	o.linux_ext = 0;
	if (bpfvm_compile(e->filter, &o, &prog, err) != 0 ||
	    bpfvm_create(&m->vm, &prog, BPFVM_LIBPCAP, err) != 0) {
		bpfvm_prog_free(&prog);
		snprintf(errbuf, errsize, "%s:%u:%u: expect tap %s.%s saw \"%s\": %s", sc->name,
			 e->pos.line, e->pos.col, e->tap.host_name, e->tap.name, e->filter, err);
		return -1;
	}
	bpfvm_prog_free(&prog);
	c->nsaws++;
	return 0;
}

int sim_collect_init(struct sim_collect *c, struct sim_world *w, const struct sim_scenario *sc,
		     const char *pcap_dir, FILE *trace, uint64_t trace_limit, uint32_t list_limit,
		     char *errbuf, size_t errsize)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->trace = trace;
	c->trace_limit = trace_limit;
	c->list_limit = list_limit;
	if (w->nhosts > SIM_SES_MAX_HOSTS) {
		snprintf(errbuf, errsize, "the world has more than %d hosts", SIM_SES_MAX_HOSTS);
		return -1;
	}
	for (unsigned h = 0; h < w->nhosts; h++) {
		c->hosts[c->nhosts++] = w->hosts[h];
		for (struct sim_tap *tap = w->hosts[h]->taps; tap; tap = tap->next_host) {
			struct sim_ses_tap *t;
			const struct sim_scn_tap *st = scn_tap(sc, w->hosts[h]->name, tap->name);

			if (c->ntaps == SIM_SES_MAX_TAPS) {
				snprintf(errbuf, errsize, "capsim sim follows at most %d taps",
					 SIM_SES_MAX_TAPS);
				return -1;
			}
			t = &c->taps[c->ntaps++];
			t->tap = tap;
			t->host = h;
			t->tcpdump = tap->pcap != NULL;
			t->snaplen = st && st->snaplen ? st->snaplen : MAXIMUM_SNAPLEN;
			/* libpcap opens "any" cooked (DLT_LINUX_SLL2) and a
			 * device by its ARPHRD type: Ethernet and lo both
			 * give DLT_EN10MB. */
			if (t->tcpdump)
				t->linktype = tap->bound ? DLT_EN10MB : DLT_LINUX_SLL2;
			else
				t->linktype = tap->sock_type == SOCK_DGRAM ? DLT_LINUX_SLL2 : DLT_EN10MB;
			if (pcap_dir && open_writer(t, pcap_dir, w->hosts[h]->name, errbuf, errsize) != 0)
				return -1;
		}
	}
	for (uint32_t i = 0; i < sc->nexpects; i++)
		if (sc->expects[i].kind == SIM_SCN_EXPECT_TAP_SAW &&
		    add_saw(c, sc, &sc->expects[i], errbuf, errsize) != 0)
			return -1;
	c->obs.event = on_event;
	c->obs.ctx = c;
	sim_world_add_observer(w, &c->obs);
	return 0;
}

void sim_collect_finish(struct sim_collect *c)
{
	for (unsigned i = 0; i < c->ntaps; i++) {
		struct sim_ses_tap *t = &c->taps[i];
		struct sim_pcap_stats ps;

		sim_tap_stats(t->tap, &t->k);
		if (t->tcpdump && sim_tap_pcap_stats(t->tap, &ps) == 0) {
			t->captured = ps.captured;
			t->received = ps.ps_recv;
			t->dropped = ps.ps_drop;
			t->ifdrop = ps.ps_ifdrop;
		} else {
			/* A plain socket: what it was handed, and its own
			 * PACKET_STATISTICS. */
			t->captured = t->copied;
			t->received = t->k.tp_packets;
			t->dropped = t->k.tp_drops;
		}
	}
}

int sim_collect_commit(struct sim_collect *c, char *errbuf, size_t errsize)
{
	char err[TRACE_ERRBUF_SIZE];
	unsigned done = 0;
	int rc = 0;

	for (unsigned i = 0; i < c->ntaps; i++) {
		struct sim_ses_tap *t = &c->taps[i];

		if (!t->wr)
			continue;
		if (rc == 0 && trace_writer_commit(t->wr, err) != 0) {
			snprintf(errbuf, errsize, "-w: %s", err);
			rc = -1;
		} else if (rc != 0) {
			trace_writer_abort(t->wr);
		} else {
			done = i + 1;
		}
		t->wr = NULL;
	}
	/* All or nothing: take back the files already in place. */
	if (rc != 0)
		for (unsigned i = 0; i < done; i++)
			if (c->taps[i].path)
				unlink(c->taps[i].path);
	return rc;
}

void sim_collect_free(struct sim_collect *c)
{
	for (unsigned i = 0; i < c->ntaps; i++) {
		trace_writer_abort(c->taps[i].wr);
		free(c->taps[i].path);
		free(c->taps[i].lines);
	}
	for (unsigned i = 0; i < c->nsaws; i++)
		bpfvm_destroy(c->saws[i].vm);
	free(c->saws);
	free(c->drops);
	free(c->edges);
	free(c->skbs);
	memset(c, 0, sizeof(*c));
}
