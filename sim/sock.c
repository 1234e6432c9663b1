/*
 * sock.c - ordinary sockets and the traffic a scenario makes.
 *
 * Sockets: UDP, TCP and ICMP (ping) sockets bound to an address and port,
 * with a receive buffer (sk_rcvbuf against sk_rmem_alloc) and an
 * application that reads one packet every read_interval.
 *
 * Traffic: a host sending UDP, TCP or ICMP packets (built with correct
 * headers and checksums, handed to ip_local_out), frames injected as if
 * they arrived from the wire at a device, and a pcap file replayed on its
 * timestamps, read one record ahead so memory stays bounded.  The sender
 * does not block on its send buffer (SO_SNDBUF): a source sends at its
 * configured pace, so a slow line shows as qdisc drops where a real UDP
 * sender would sleep in sock_alloc_send_skb.
 */
#include "model.h"
#include "kdefaults.h"

#include <limits.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NSEC_PER_SEC 1000000000ull

/* ------------------------------------------------------------------ */
/* Sockets. */

struct sim_sock *sim_sock_new(struct sim_host *h, const struct sim_sock_cfg *cfg, char *errbuf)
{
	struct sim_sock *sk, **p;

	if (cfg->proto != IPPROTO_UDP && cfg->proto != IPPROTO_TCP && cfg->proto != IPPROTO_ICMP) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "socket %s on %s: protocol %u is not udp, tcp or icmp",
			 cfg->name, h->name, cfg->proto);
		return NULL;
	}
	if (cfg->addr.family != AF_INET && cfg->addr.family != AF_INET6) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "socket %s on %s: the address needs a family",
			 cfg->name, h->name);
		return NULL;
	}
	if (!(sk = calloc(1, sizeof(*sk)))) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "socket %s on %s: out of memory", cfg->name, h->name);
		return NULL;
	}
	sk->host = h;
	snprintf(sk->name, sizeof(sk->name), "%s", cfg->name);
	sk->proto = cfg->proto;
	sk->addr = cfg->addr;
	sk->port = cfg->port;
	sk->rcvbuf = cfg->rcvbuf ? cfg->rcvbuf : SIM_DEF_RMEM_DEFAULT;
	sk->read_interval = cfg->read_interval;
	for (p = &h->socks; *p; p = &(*p)->next)
		;
	*p = sk;
	return sk;
}

int sim_sock_match(const struct sim_sock *sk, uint8_t proto, int family, const uint8_t *daddr,
		   uint16_t dport)
{
	unsigned n = family == AF_INET6 ? 16 : 4;
	int wildcard = 1;

	if (sk->proto != proto || sk->addr.family != family)
		return 0;
	if (proto != IPPROTO_ICMP && sk->port != dport)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (sk->addr.addr[i])
			wildcard = 0;
	if (wildcard)
		return 1;
	return memcmp(sk->addr.addr, daddr, n) == 0 ? 2 : 0;
}

/* __udp4_lib_lookup's scoring, reduced: a socket bound to the address
 * beats one bound to the wildcard; among equals the first bound wins. */
struct sim_sock *sim_sock_lookup(struct sim_host *h, uint8_t proto, int family,
				 const uint8_t *daddr, uint16_t dport)
{
	struct sim_sock *best = NULL;
	int best_score = 0;

	for (struct sim_sock *sk = h->socks; sk; sk = sk->next) {
		int s = sim_sock_match(sk, proto, family, daddr, dport);

		if (s > best_score) {
			best = sk;
			best_score = s;
		}
	}
	return best;
}

static void schedule_read(struct sim_world *w, struct sim_sock *sk, sim_ns now)
{
	sim_ns t = now;

	if (sk->read_pending)
		return;
	if (sk->read && sk->last_read + sk->read_interval > t)
		t = sk->last_read + sk->read_interval;
	if (sim_schedule(w, t, SIM_EV_SOCK_READ, sk, NULL) == 0)
		sk->read_pending = 1;
}

/*
 * The receive buffer.  UDP (__udp_enqueue_schedule_skb): a packet is
 * refused when sk_rmem_alloc + truesize would pass sk_rcvbuf, except that
 * while sk_rmem_alloc itself is still within sk_rcvbuf one more packet is
 * always let in ("always allow at least one packet for small buffer"), so
 * the buffer can overshoot by one packet.  The others (sock_queue_rcv_skb
 * -> __sock_queue_rcv_skb): refused once sk_rmem_alloc >= sk_rcvbuf.
 * A refused packet is SOCKET_RCVBUFF.
 */
void sim_sock_queue_rcv(struct sim_ctx *c, struct sim_sock *sk, struct sim_skb *skb, int udp)
{
	uint64_t rmem = sk->rmem, size = skb->truesize, rcvbuf = sk->rcvbuf;
	int full;

	if (udp)
		full = rmem + size > rcvbuf && (rcvbuf > (INT_MAX >> 1) || rmem > rcvbuf);
	else
		full = rmem >= rcvbuf;
	if (full) {
		sk->drops++;
		sim_kfree_skb_reason(c, SIM_ST_SOCK_QUEUE, skb, SIM_DROP_SOCKET_RCVBUFF);
		return;
	}
	sk->rmem += skb->truesize;
	sk->received++;
	sim_queue_push(&sk->rcvq, skb);
	sim_trace(c, SIM_ST_SOCK_QUEUE, skb, skb->dev, SIM_DROP_NONE);
	schedule_read(c->w, sk, c->t);
}

/* The application's recvmsg: one packet, then the next after read_interval. */
void sim_ev_sock_read(struct sim_world *w, struct sim_sock *sk)
{
	struct sim_ctx c = { .w = w, .host = sk->host, .cpu = NULL, .t = w->clock.now };
	struct sim_skb *skb = sim_queue_pop(&sk->rcvq);

	sk->read_pending = 0;
	if (!skb)
		return;
	sk->rmem -= skb->truesize;
	sk->read++;
	sk->last_read = c.t;
	sim_trace(&c, SIM_ST_SOCK_READ, skb, skb->dev, SIM_DROP_NONE);
	sim_consume_skb(&c, skb);
	if (sk->rcvq.head)
		schedule_read(w, sk, c.t);
}

/* ------------------------------------------------------------------ */
/* Traffic. */

enum traffic_kind { TRAFFIC_SEND, TRAFFIC_INJECT, TRAFFIC_REPLAY, TRAFFIC_NEIGH_TIMER };

struct sim_traffic {
	struct sim_traffic *next;	/* on w->traffic */
	enum traffic_kind kind;
	struct sim_host *host;
	struct sim_dev *dev;		/* inject, replay */
	sim_ns start;
	uint64_t count, rate, burst;	/* count 0: until the file ends (replay) */
	sim_ns every;
	uint64_t done;			/* packets emitted so far */
	/* send */
	struct sim_send_cfg send;
	uint16_t sport, icmp_id;
	uint32_t tcp_seq;
	/* inject */
	uint8_t *frame;
	uint32_t frame_len;
	/* replay: the next record, read ahead */
	pcap_t *pcap;
	struct pcap_pkthdr *rec_hdr;
	const u_char *rec_data;
	sim_ns ts0;
	uint32_t speed_milli;
};

static struct sim_traffic *traffic_new(struct sim_world *w, enum traffic_kind kind, char *errbuf)
{
	struct sim_traffic *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "traffic: out of memory");
		return NULL;
	}
	t->kind = kind;
	t->next = w->traffic;
	w->traffic = t;
	return t;
}

/* When packet number @i (from 0) of a paced source is due. */
static sim_ns paced_at(const struct sim_traffic *t, uint64_t i)
{
	if (t->rate)
		return t->start + (i / t->rate) * NSEC_PER_SEC + (i % t->rate) * NSEC_PER_SEC / t->rate;
	if (t->burst)
		return t->start + (i / t->burst) * t->every;
	return t->start;
}

static int check_pace(uint64_t count, uint64_t rate, uint64_t burst, sim_ns every,
		      const char *what, char *errbuf)
{
	if (count == 0) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: count must be at least 1", what);
		return -1;
	}
	if (rate && burst) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: a rate and a burst exclude each other", what);
		return -1;
	}
	if (burst && every == 0) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: a burst needs an interval", what);
		return -1;
	}
	return 0;
}

int sim_traffic_add_send(struct sim_world *w, const struct sim_send_cfg *cfg, char *errbuf)
{
	struct sim_traffic *t;
	char what[64];

	snprintf(what, sizeof(what), "send from %s", cfg->host ? cfg->host->name : "?");
	if (!cfg->host) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "send: no host");
		return -1;
	}
	if (cfg->family != AF_INET && cfg->family != AF_INET6) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: the destination needs a family", what);
		return -1;
	}
	if (cfg->proto != IPPROTO_UDP && cfg->proto != IPPROTO_TCP && cfg->proto != IPPROTO_ICMP) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: protocol %u is not udp, tcp or icmp", what,
			 cfg->proto);
		return -1;
	}
	if (cfg->size > 65000) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "%s: size %u is larger than 65000", what, cfg->size);
		return -1;
	}
	if (check_pace(cfg->count, cfg->rate, cfg->burst, cfg->every, what, errbuf) < 0)
		return -1;
	if (!(t = traffic_new(w, TRAFFIC_SEND, errbuf)))
		return -1;
	t->host = cfg->host;
	t->send = *cfg;
	t->start = cfg->at;
	t->count = cfg->count;
	t->rate = cfg->rate;
	t->burst = cfg->burst;
	t->every = cfg->every;
	/* An ephemeral port from ip_local_port_range (32768-60999). */
	t->sport = cfg->sport ? cfg->sport : (uint16_t)(32768 + bpfvm_rand64(&w->rng) % (60999 - 32768 + 1));
	t->icmp_id = (uint16_t)bpfvm_rand64(&w->rng);
	t->tcp_seq = (uint32_t)bpfvm_rand64(&w->rng);
	return sim_schedule(w, cfg->at, SIM_EV_TRAFFIC, t, NULL);
}

int sim_traffic_add_inject(struct sim_world *w, const struct sim_inject_cfg *cfg, char *errbuf)
{
	struct sim_traffic *t;

	if (!cfg->dev) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "inject: no device");
		return -1;
	}
	if (cfg->len < ETH_HLEN || cfg->len > 65535) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "inject %s.%s: a frame of %u bytes (14..65535)",
			 cfg->dev->host->name, cfg->dev->name, cfg->len);
		return -1;
	}
	if (check_pace(cfg->count, cfg->rate, 0, 0, "inject", errbuf) < 0)
		return -1;
	if (!(t = traffic_new(w, TRAFFIC_INJECT, errbuf)))
		return -1;
	if (!(t->frame = malloc(cfg->len))) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "inject: out of memory");
		return -1;
	}
	memcpy(t->frame, cfg->frame, cfg->len);
	t->frame_len = cfg->len;
	t->host = cfg->dev->host;
	t->dev = cfg->dev;
	t->start = cfg->at;
	t->count = cfg->count;
	t->rate = cfg->rate;
	return sim_schedule(w, cfg->at, SIM_EV_TRAFFIC, t, NULL);
}

static sim_ns rec_ns(const struct pcap_pkthdr *h)
{
	/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
	return (sim_ns)h->ts.tv_sec * NSEC_PER_SEC + (sim_ns)h->ts.tv_usec;
}

/* Read the next record; 0 when the file has ended (the file is closed). */
static int replay_advance(struct sim_traffic *t)
{
	if (t->pcap && pcap_next_ex(t->pcap, &t->rec_hdr, &t->rec_data) == 1)
		return 1;
	if (t->pcap)
		pcap_close(t->pcap);
	t->pcap = NULL;
	return 0;
}

static sim_ns replay_at(const struct sim_traffic *t)
{
	sim_ns ts = rec_ns(t->rec_hdr), d = ts > t->ts0 ? ts - t->ts0 : 0;

	return t->start + (d / t->speed_milli) * 1000 + (d % t->speed_milli) * 1000 / t->speed_milli;
}

int sim_traffic_add_replay(struct sim_world *w, const struct sim_replay_cfg *cfg, char *errbuf)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct sim_traffic *t;
	pcap_t *p;

	if (!cfg->dev) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "replay: no device");
		return -1;
	}
	p = pcap_open_offline_with_tstamp_precision(cfg->path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "replay: %.200s", ebuf);
		return -1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "replay %s: link type %d, not Ethernet (1)",
			 cfg->path, pcap_datalink(p));
		pcap_close(p);
		return -1;
	}
	if (!(t = traffic_new(w, TRAFFIC_REPLAY, errbuf))) {
		pcap_close(p);
		return -1;
	}
	t->pcap = p;
	t->host = cfg->dev->host;
	t->dev = cfg->dev;
	t->start = cfg->at;
	t->speed_milli = cfg->speed_milli ? cfg->speed_milli : 1000;
	if (!replay_advance(t))
		return 0;	/* an empty file sends nothing */
	t->ts0 = rec_ns(t->rec_hdr);
	return sim_schedule(w, cfg->at, SIM_EV_TRAFFIC, t, NULL);
}

void sim_neigh_timer_arm(struct sim_world *w, struct sim_host *h, sim_ns t)
{
	char ebuf[SIM_ERRBUF_SIZE];

	if (!h->neigh_timer) {
		if (!(h->neigh_timer = traffic_new(w, TRAFFIC_NEIGH_TIMER, ebuf)))
			return;
		h->neigh_timer->host = h;
	}
	sim_schedule(w, t, SIM_EV_TRAFFIC, h->neigh_timer, NULL);
}

/* The transport header and payload of one packet of a send source. */
static struct sim_skb *build_send(struct sim_world *w, struct sim_traffic *t)
{
	const struct sim_send_cfg *cfg = &t->send;
	uint32_t hl = cfg->proto == IPPROTO_TCP ? 20 : 8;
	struct sim_skb *skb = sim_skb_alloc(w, hl + cfg->size);
	uint8_t *p;

	if (!skb)
		return NULL;
	p = sim_skb_data(skb);
	memset(p, 0, hl);
	for (uint32_t i = 0; i < cfg->size; i++)
		p[hl + i] = (uint8_t)i;
	switch (cfg->proto) {
	case IPPROTO_UDP:
		sim_put16(p, t->sport);
		sim_put16(p + 2, cfg->dport);
		sim_put16(p + 4, (uint16_t)(8 + cfg->size));
		break;
	case IPPROTO_TCP:
		sim_put16(p, t->sport);
		sim_put16(p + 2, cfg->dport);
		sim_put32(p + 4, t->tcp_seq);
		sim_put32(p + 8, 1);
		p[12] = 5 << 4;
		p[13] = 0x18;	/* PSH|ACK: a data segment of an established flow */
		sim_put16(p + 14, 65535);
		t->tcp_seq += cfg->size;
		break;
	case IPPROTO_ICMP:
		p[0] = cfg->family == AF_INET6 ? 128 : 8;	/* echo request */
		sim_put16(p + 4, t->icmp_id);
		sim_put16(p + 6, (uint16_t)(t->done + 1));
		break;
	}
	return skb;
}

static void send_one(struct sim_ctx *c, struct sim_traffic *t)
{
	const struct sim_send_cfg *cfg = &t->send;
	uint8_t proto = cfg->proto;
	uint8_t src[16] = { 0 };
	struct sim_rtable rt;
	struct sim_skb *skb = build_send(c->w, t);

	if (!skb)
		return;
	if (cfg->has_from)
		memcpy(src, cfg->from, 16);
	else if (sim_route_output(c->host, cfg->family, cfg->to, &rt) == 0)
		memcpy(src, rt.prefsrc, 16);
	if (proto == IPPROTO_ICMP && cfg->family == AF_INET6)
		proto = IPPROTO_ICMPV6;
	skb->tstamp = c->t;
	/* DF: ip_dont_fragment() with the default pmtudisc IP_PMTUDISC_WANT
	 * sets it on datagrams that fit the path - UDP, TCP and ping/raw
	 * ICMP alike (measured by `capsim live`: echo requests carry DF). */
	sim_ip_push_header(c->host, skb, cfg->family, proto, src, cfg->to, cfg->ttl ? cfg->ttl : 64,
			   1);
	if (cfg->vlan >= 0) {
		skb->vlan_present = 1;
		skb->vlan_tpid = ETH_P_8021Q;
		skb->vlan_tci = (uint16_t)cfg->vlan;
	}
	sim_trace(c, SIM_ST_SOCK_SEND, skb, NULL, SIM_DROP_NONE);
	sim_ip_local_out(c, skb);
}

static void inject_one(struct sim_world *w, struct sim_traffic *t, const uint8_t *frame,
		       uint32_t len)
{
	struct sim_ctx c = { .w = w, .host = t->host, .cpu = NULL, .t = w->clock.now };
	struct sim_skb *skb = sim_skb_alloc(w, len);

	if (!skb)
		return;
	memcpy(sim_skb_data(skb), frame, len);
	skb->dev = t->dev;
	skb->tstamp = c.t;
	sim_nic_rx(&c, t->dev, skb);
}

void sim_ev_traffic(struct sim_world *w, struct sim_traffic *t)
{
	sim_ns now = w->clock.now, next;

	switch (t->kind) {
	case TRAFFIC_NEIGH_TIMER:
		sim_neigh_timer(w, t->host);
		return;
	case TRAFFIC_REPLAY:
		if (!t->pcap)
			return;
		inject_one(w, t, t->rec_data, t->rec_hdr->caplen);
		t->done++;
		if (replay_advance(t))
			sim_schedule(w, replay_at(t), SIM_EV_TRAFFIC, t, NULL);
		return;
	case TRAFFIC_INJECT:
		inject_one(w, t, t->frame, t->frame_len);
		t->done++;
		next = now;
		/* Back to back on a wire: one frame per line time. */
		if (t->dev->wire)
			next += sim_wire_line_time(t->dev->wire, t->frame_len);
		break;
	case TRAFFIC_SEND: {
		struct sim_cpu *cpu = &t->host->cpu[0];
		struct sim_ctx c = { .w = w, .host = t->host, .cpu = cpu, .t = now };
		uint64_t n = t->burst ? t->burst : 1;

		/* sendmsg runs on the CPU, after whatever keeps it busy. */
		if (cpu->busy_until > c.t)
			c.t = cpu->busy_until;
		for (uint64_t i = 0; i < n && t->done < t->count; i++) {
			send_one(&c, t);
			t->done++;
		}
		cpu->busy_until = c.t;
		next = c.t;	/* back to back: when the CPU is done */
		break;
	}
	default:
		return;
	}
	if (t->done >= t->count)
		return;
	if (t->rate || t->burst)
		next = paced_at(t, t->done);
	sim_schedule(w, next, SIM_EV_TRAFFIC, t, NULL);
}

void sim_traffic_free(struct sim_world *w)
{
	while (w->traffic) {
		struct sim_traffic *t = w->traffic;

		w->traffic = t->next;
		if (t->pcap)
			pcap_close(t->pcap);
		free(t->frame);
		free(t);
	}
}
