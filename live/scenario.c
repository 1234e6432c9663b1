/*
 * scenario.c - `capsim live SCENARIO`: the model's run of a scenario and
 * the kernel's, side by side.
 *
 * Order of a run:
 *  1. The model runs the file (sim_session_*), and every record each of
 *     its taps captured is kept.
 *  2. Where the scenario leaves a choice to the kernel (an ephemeral
 *     source port, an echo identifier) the live run takes the model's
 *     choice, read from those records, so both sides carry the same bytes.
 *  3. topo.c builds the hosts, wires and addresses; rules.c loads the
 *     rules into nft and tc; the scenario's sockets and taps are opened in
 *     their hosts (tcpdump taps through libpcap itself, as tcpdump opens
 *     them; plain taps as packet sockets with the scenario's type,
 *     protocol, device, filter, ring and options).
 *  4. A reader thread drains every tap and socket while traffic.c sends
 *     on the scenario's clock; after the last packet the run waits for
 *     libpcap's block timeout (tcpdump sees a TPACKET_V3 block only once
 *     the kernel retires it), then drains once more.
 *  5. Counters are read (PACKET_STATISTICS and pcap_stats, IFLA_STATS64,
 *     nft and tc counters, /proc/net/snmp and softnet_stat), everything
 *     is closed - the namespaces go with their last descriptor - and the
 *     two sides are compared aspect by aspect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scn_int.h"
#include "sim.h"
#include "trace.h"

#define SLL2_HDR_LEN 20
#define MAXIMUM_SNAPLEN 262144
#define READ_BUF 65600

const char *live_scn_status_name(enum live_scn_status s)
{
	switch (s) {
	case LIVE_SCN_AGREE: return "agree";
	case LIVE_SCN_DIFFER: return "DIFFER";
	case LIVE_SCN_MODEL_ONLY: return "model-only";
	case LIVE_SCN_NO_EVIDENCE: return "no evidence";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Record lists. */

struct pktlist {
	struct live_scn_pkt *v;
	size_t n, cap;
	int oom;
};

static void pkt_add(struct pktlist *l, uint64_t ts, int pkt_type, const uint8_t *hdr,
		    uint32_t hdrlen, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen)
{
	struct live_scn_pkt *p;

	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct live_scn_pkt *nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv) {
			l->oom = 1;
			return;
		}
		l->v = nv;
		l->cap = nc;
	}
	p = &l->v[l->n];
	p->bytes = malloc((size_t)hdrlen + caplen + 1);
	if (!p->bytes) {
		l->oom = 1;
		return;
	}
	if (hdrlen)
		memcpy(p->bytes, hdr, hdrlen);
	memcpy(p->bytes + hdrlen, bytes, caplen);
	p->ts = ts;
	p->pkt_type = pkt_type;
	p->caplen = hdrlen + caplen;
	p->wirelen = hdrlen + wirelen;
	l->n++;
}

static void pkts_free(struct live_scn_pkt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	free(v);
}

/* ------------------------------------------------------------------ */
/* The model's side. */

struct model_side {
	const struct sim_scenario *sc;
	struct pktlist *lists;		/* one per tap, in result order */
	size_t ntaps;
	const char (*names)[2][SIM_SCN_NAME_MAX];
};

static void on_model_capture(void *ctx, const struct sim_session_capture *rec)
{
	struct model_side *m = ctx;

	for (size_t i = 0; i < m->ntaps; i++)
		if (strcmp(m->names[i][0], rec->host) == 0 && strcmp(m->names[i][1], rec->tap) == 0) {
			int pt = rec->tcpdump && rec->linktype == DLT_EN10MB ? -1 : rec->pkt_type;

			pkt_add(&m->lists[i], rec->ts, pt, NULL, 0, rec->bytes, rec->caplen,
				rec->wirelen);
			return;
		}
}

/* ------------------------------------------------------------------ */
/* Reading packet headers out of a record (for pins and masks). */

struct ipview {
	uint32_t off;		/* of the IP header in the record */
	int family;		/* 4, 6 or 0 */
	uint8_t proto;
	uint32_t l4;		/* offset of the transport header, 0 if none */
};

static void ip_of(const uint8_t *b, uint32_t caplen, int linktype, struct ipview *v)
{
	uint32_t off;
	uint16_t et;

	memset(v, 0, sizeof(*v));
	if (linktype == DLT_LINUX_SLL2) {
		if (caplen < SLL2_HDR_LEN)
			return;
		et = (uint16_t)(b[0] << 8 | b[1]);
		off = SLL2_HDR_LEN;
	} else {
		if (caplen < 14)
			return;
		et = (uint16_t)(b[12] << 8 | b[13]);
		off = 14;
		while ((et == ETH_P_8021Q || et == ETH_P_8021AD) && caplen >= off + 4) {
			et = (uint16_t)(b[off + 2] << 8 | b[off + 3]);
			off += 4;
		}
	}
	if (et == ETH_P_IP && caplen >= off + 20 && (b[off] >> 4) == 4) {
		uint32_t ihl = (uint32_t)(b[off] & 15) * 4;

		v->off = off;
		v->family = 4;
		v->proto = b[off + 9];
		if (ihl >= 20 && caplen >= off + ihl + 8 && !((b[off + 6] & 0x1f) | b[off + 7]))
			v->l4 = off + ihl;
	} else if (et == ETH_P_IPV6 && caplen >= off + 40 && (b[off] >> 4) == 6) {
		v->off = off;
		v->family = 6;
		v->proto = b[off + 6];
		if (caplen >= off + 48)
			v->l4 = off + 40;
	}
}

/*
 * The field no run can reproduce: the IPv4 identification, which
 * ip_select_ident_segs() takes from a generator with a random start (the
 * socket's inet_id, or __ip_select_ident()'s hash keyed with a random
 * secret), and so the header checksum.  Zeroed in a copy on both sides
 * before comparing; in an ICMP error also in the quoted header, and so
 * the ICMP checksum.  Whether DF packets carry 0 there is compared on its
 * own (id_zero_check).
 */
static const uint8_t *masked(const struct live_scn_pkt *p, int linktype, uint8_t *buf,
			     size_t size)
{
	struct ipview v;

	ip_of(p->bytes, p->caplen, linktype, &v);
	if (v.family != 4 || p->caplen > size)
		return p->bytes;
	memcpy(buf, p->bytes, p->caplen);
	buf[v.off + 4] = buf[v.off + 5] = 0;
	buf[v.off + 10] = buf[v.off + 11] = 0;
	if (v.proto == IPPROTO_ICMP && v.l4 && p->caplen >= v.l4 + 8 + 12) {
		uint8_t type = buf[v.l4];
		uint32_t q = v.l4 + 8;	/* the quoted IPv4 header */

		/* the error types, which quote the packet (RFC 792) */
		if ((type == 3 || type == 4 || type == 5 || type == 11 || type == 12) &&
		    buf[q] >> 4 == 4) {
			buf[v.l4 + 2] = buf[v.l4 + 3] = 0;
			buf[q + 4] = buf[q + 5] = 0;
			buf[q + 10] = buf[q + 11] = 0;
		}
	}
	return buf;
}

/*
 * The source port or echo identifier the model used for traffic line
 * @tl: from the earliest record it captured of that flow at or after the
 * line's start.  0 when none of its packets was captured (then it does
 * not matter: nothing of them will be compared).
 */
static void pin_of(const struct sim_scn_traffic *tl, struct pktlist *lists, size_t ntaps,
		   const int *linktypes, struct live_pin *pin)
{
	uint64_t best = UINT64_MAX;
	size_t alen = tl->to.family == 4 ? 4 : 16;

	memset(pin, 0, sizeof(*pin));
	for (size_t t = 0; t < ntaps; t++)
		for (size_t i = 0; i < lists[t].n; i++) {
			const struct live_scn_pkt *p = &lists[t].v[i];
			struct ipview v;
			uint32_t so, dst;

			if (p->ts < tl->at || p->ts >= best)
				continue;
			ip_of(p->bytes, p->caplen, linktypes[t], &v);
			if (!v.l4 || v.family != tl->to.family)
				continue;
			so = v.off + (v.family == 4 ? 12 : 8);
			dst = so + (uint32_t)alen;
			if (memcmp(p->bytes + dst, tl->to.bytes, alen) != 0)
				continue;
			if (tl->has_from && memcmp(p->bytes + so, tl->from.bytes, alen) != 0)
				continue;
			const uint8_t *l4 = p->bytes + v.l4;

			if (tl->proto == SIM_SCN_L4_UDP && v.proto == IPPROTO_UDP &&
			    (uint16_t)(l4[2] << 8 | l4[3]) == tl->dport) {
				pin->sport = (uint16_t)(l4[0] << 8 | l4[1]);
			} else if (tl->proto == SIM_SCN_L4_ICMP &&
				   ((v.proto == IPPROTO_ICMP && l4[0] == 8) ||
				    (v.proto == IPPROTO_ICMPV6 && l4[0] == 128))) {
				pin->icmp_id = (uint16_t)(l4[4] << 8 | l4[5]);
			} else {
				continue;
			}
			pin->have = 1;
			best = p->ts;
		}
}

/* ------------------------------------------------------------------ */
/* The live side: taps and sockets. */

enum ltap_kind { LTAP_PCAP, LTAP_RING, LTAP_SOCK };

struct ltap {
	enum ltap_kind kind;
	const struct sim_scn_tap *st;
	int nsfd;
	pcap_t *p;
	struct live_capture *c;
	int fd;
	int dgram;
	uint64_t rate;		/* read-rate, packets a second; 0: unlimited */
	double tokens;
	uint64_t last_ns;
	uint64_t t0;
	uint64_t captured;
	uint64_t tp_packets, tp_drops;	/* PACKET_STATISTICS, summed over reads */
	struct pktlist recs;
	uint8_t *buf;		/* LTAP_SOCK reads */
};

struct lsock {
	const struct sim_scn_socket *ss;
	int fd;
	uint64_t rate;
	double tokens;
	uint64_t last_ns;
	uint64_t received;
	uint32_t drops;		/* SO_RXQ_OVFL: sk_drops */
};

struct reader {
	struct ltap *taps;
	size_t ntaps;
	struct lsock *socks;
	size_t nsocks;
	volatile int stop;
	uint8_t buf[READ_BUF];
};

/* How many a rate-limited reader may take now (unlimited: many). */
static uint64_t allowance(uint64_t rate, double *tokens, uint64_t *last, uint64_t now)
{
	if (!rate)
		return UINT64_MAX;
	if (*last)
		*tokens += (double)(now - *last) * (double)rate / 1e9;
	*last = now;
	if (*tokens > (double)rate)
		*tokens = (double)rate;	/* at most a second's worth saved up */
	return *tokens >= 1 ? (uint64_t)*tokens : 0;
}

static void on_pcap(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct ltap *t = (struct ltap *)user;
	int linktype = pcap_datalink(t->p);
	int pt = -1;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	struct timespec mono, real;

	if (linktype == DLT_LINUX_SLL2 && h->caplen >= SLL2_HDR_LEN)
		pt = bytes[10];
	/* Timestamps are CLOCK_REALTIME; shown relative to the start. */
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	{
		uint64_t rnow = (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec;
		uint64_t mnow = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
		uint64_t mts = ts + mnow > rnow ? ts + mnow - rnow : 0;

		ts = mts > t->t0 ? mts - t->t0 : 0;
	}
	t->captured++;
	pkt_add(&t->recs, ts, pt, NULL, 0, bytes, h->caplen, h->len);
}

/* A plain tap's copy as its pcap record: SOCK_DGRAM copies get the
 * DLT_LINUX_SLL2 header the model writes (address left out). */
static void plain_record(struct ltap *t, uint64_t ts, const uint8_t *bytes, uint32_t snaplen,
			 uint32_t len, uint16_t protocol, int ifindex, uint16_t hatype,
			 uint8_t pkttype)
{
	uint8_t h[SLL2_HDR_LEN];

	t->captured++;
	if (!t->dgram) {
		pkt_add(&t->recs, ts, pkttype, NULL, 0, bytes, snaplen, len);
		return;
	}
	memset(h, 0, sizeof(h));
	h[0] = (uint8_t)(protocol >> 8);
	h[1] = (uint8_t)protocol;
	h[4] = (uint8_t)((uint32_t)ifindex >> 24);
	h[5] = (uint8_t)((uint32_t)ifindex >> 16);
	h[6] = (uint8_t)((uint32_t)ifindex >> 8);
	h[7] = (uint8_t)ifindex;
	h[8] = (uint8_t)(hatype >> 8);
	h[9] = (uint8_t)hatype;
	h[10] = pkttype;
	pkt_add(&t->recs, ts, pkttype, h, sizeof(h), bytes, snaplen, len);
}

static void read_tap(struct reader *r, struct ltap *t, uint64_t now)
{
	uint64_t n = allowance(t->rate, &t->tokens, &t->last_ns, now), got = 0;
	char ebuf[LIVE_ERRBUF_SIZE];
	uint64_t ts = now > t->t0 ? now - t->t0 : 0;

	if (!n)
		return;
	switch (t->kind) {
	case LTAP_PCAP: {
		int k = pcap_dispatch(t->p, n == UINT64_MAX ? -1 : (int)(n > 100000 ? 100000 : n),
				      on_pcap, (u_char *)t);

		got = k > 0 ? (uint64_t)k : 0;
		break;
	}
	case LTAP_RING: {
		struct live_frame f;

		while (got < n && live_capture_next(t->c, &f, 0, ebuf) == 1) {
			plain_record(t, ts, f.bytes, f.snaplen, f.len, f.protocol, f.ifindex,
				     f.hatype, f.pkttype);
			got++;
		}
		break;
	}
	case LTAP_SOCK:
		while (got < n) {
			struct sockaddr_ll sll;
			union {
				struct cmsghdr h;
				uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
			} cb;
			struct iovec iov = { r->buf, sizeof(r->buf) };
			struct msghdr m = { .msg_name = &sll, .msg_namelen = sizeof(sll),
					    .msg_iov = &iov, .msg_iovlen = 1,
					    .msg_control = &cb, .msg_controllen = sizeof(cb) };
			ssize_t k = recvmsg(t->fd, &m, MSG_DONTWAIT);
			uint32_t len;

			if (k < 0)
				break;
			len = (uint32_t)k;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
				if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
					struct tpacket_auxdata aux;

					memcpy(&aux, CMSG_DATA(c), sizeof(aux));
					len = aux.tp_len;
				}
			plain_record(t, ts, r->buf, (uint32_t)k, len, ntohs(sll.sll_protocol),
				     sll.sll_ifindex, sll.sll_hatype, sll.sll_pkttype);
			got++;
		}
		break;
	}
	if (t->rate && got)
		t->tokens -= (double)got;
}

static void read_sock(struct reader *r, struct lsock *s, uint64_t now)
{
	uint64_t n = allowance(s->rate, &s->tokens, &s->last_ns, now), got = 0;

	if (s->fd < 0 || s->ss->proto == SIM_SCN_L4_TCP)
		return;
	while (got < n) {
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(uint32_t)) + 64];
		} cb;
		struct iovec iov = { r->buf, sizeof(r->buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cb,
				    .msg_controllen = sizeof(cb) };
		ssize_t k = recvmsg(s->fd, &m, MSG_DONTWAIT);

		if (k < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
				memcpy(&s->drops, CMSG_DATA(c), sizeof(s->drops));
		s->received++;
		got++;
	}
	if (s->rate && got)
		s->tokens -= (double)got;
}

/* One sweep over every tap and socket; how many records and datagrams
 * it took. */
static uint64_t read_all(struct reader *r)
{
	uint64_t now = live_now_ns(), before = 0, after = 0;

	for (size_t i = 0; i < r->ntaps; i++)
		before += r->taps[i].captured;
	for (size_t i = 0; i < r->nsocks; i++)
		before += r->socks[i].received;
	for (size_t i = 0; i < r->ntaps; i++)
		read_tap(r, &r->taps[i], now);
	for (size_t i = 0; i < r->nsocks; i++)
		read_sock(r, &r->socks[i], now);
	for (size_t i = 0; i < r->ntaps; i++)
		after += r->taps[i].captured;
	for (size_t i = 0; i < r->nsocks; i++)
		after += r->socks[i].received;
	return after - before;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* Off the sender's CPU when there is another, so reading does not
	 * steal the time the sender and its softirqs run in. */
	if (ncpu > 1) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* An application that keeps up: sweep again at once while there is
	 * something to read, rest 50 us when there was nothing. */
	while (!r->stop) {
		struct timespec ts = { 0, 50000 };

		if (!read_all(r))
			nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Opening taps and sockets. */

/* The tap's program, the one the model runs (sim_scn_tap_program()). */
static int tap_filter_prog(const struct live_topo *topo, const struct sim_scn_tap *st,
			   struct bpfvm_prog *prog, char *errbuf)
{
	char err[SIM_SCN_ERRBUF_SIZE];
	int has = sim_scn_tap_program(topo->sc, st, prog, err);

	if (has < 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "%.250s", err);
		return LIVE_ERR_ARG;
	}
	return has;
}

static int open_pcap_tap(const struct live_topo *topo, const struct sim_scn_host *sh,
			 struct ltap *t, char *errbuf)
{
	const struct sim_scn_tap *st = t->st;
	const char *dev = st->any_dev ? "any" : sh->ifaces[st->dev.idx].name;
	char ebuf[PCAP_ERRBUF_SIZE];
	int rc, prc = 0;
	struct bpf_program fp;
	const char *fail = NULL;

	if ((rc = live_topo_enter(topo, t->nsfd, errbuf)) != 0)
		return rc;
	t->p = pcap_create(dev, ebuf);
	if (!t->p) {
		fail = ebuf;
		goto back;
	}
	pcap_set_snaplen(t->p, (int)st->snaplen);
	/* tcpdump asks for promiscuous mode (no -p); libpcap does not on
	 * "any".  On Linux it is a PACKET_MR_PROMISC membership of the
	 * socket, gone when the socket closes. */
	pcap_set_promisc(t->p, !st->any_dev);
	pcap_set_timeout(t->p, (int)(st->timeout / 1000000));
	pcap_set_buffer_size(t->p, (int)st->buffer);
	pcap_set_immediate_mode(t->p, st->immediate);
	pcap_set_tstamp_precision(t->p, PCAP_TSTAMP_PRECISION_NANO);
	prc = pcap_activate(t->p);
	if (prc < 0) {
		fail = pcap_statustostr(prc);
		if (prc == PCAP_ERROR)
			fail = pcap_geterr(t->p);
		goto back;
	}
	/* tcpdump 4.99 asks for DLT_LINUX_SLL2 on "any" (libpcap's default
	 * there is DLT_LINUX_SLL); the model writes SLL2 as tcpdump does. */
	if (st->any_dev && pcap_set_datalink(t->p, DLT_LINUX_SLL2) != 0) {
		fail = pcap_geterr(t->p);
		goto back;
	}
	if (st->filter) {
		if (pcap_compile(t->p, &fp, st->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			fail = pcap_geterr(t->p);
			goto back;
		}
		prc = pcap_setfilter(t->p, &fp);
		pcap_freecode(&fp);
		if (prc != 0) {
			fail = pcap_geterr(t->p);
			goto back;
		}
	}
	if (st->direction != SIM_SCN_DIR_INOUT &&
	    pcap_setdirection(t->p, st->direction == SIM_SCN_DIR_IN ? PCAP_D_IN : PCAP_D_OUT) != 0) {
		fail = pcap_geterr(t->p);
		goto back;
	}
	if (pcap_setnonblock(t->p, 1, ebuf) != 0)
		fail = ebuf;
back:
	if (fail)
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: tap %s.%s: libpcap on %s: %.150s",
			 sh->name, st->name, dev, fail);
	rc = live_topo_leave(topo, fail ? ebuf : errbuf);
	if (fail)
		return prc == PCAP_ERROR_PERM_DENIED ? LIVE_ERR_PERM : LIVE_ERR_SYS;
	return rc;
}

static int open_plain_tap(const struct live_topo *topo, const struct sim_scn_host *sh,
			  struct ltap *t, char *errbuf)
{
	const struct sim_scn_tap *st = t->st;
	int ifindex = st->any_dev ? 0 : (int)sh->ifaces[st->dev.idx].ifindex;
	struct bpfvm_prog prog;
	int has, rc = 0, one = 1;

	if ((has = tap_filter_prog(topo, st, &prog, errbuf)) < 0)
		return has;
	t->dgram = st->dgram;
	t->fd = live_topo_socket(topo, t->nsfd, AF_PACKET, st->dgram ? SOCK_DGRAM : SOCK_RAW, 0,
				 errbuf);
	if (t->fd < 0) {
		rc = t->fd;
		goto out;
	}
	if (st->ignore_outgoing &&
	    setsockopt(t->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: tap %s: PACKET_IGNORE_OUTGOING: %s",
			 st->name, strerror(errno));
		rc = LIVE_ERR_SYS;
		goto out;
	}
	if (st->ring.version) {
		struct live_ring_opts ro;

		live_ring_opts_init(&ro);
		ro.sock_type = st->dgram ? SOCK_DGRAM : SOCK_RAW;
		ro.block_size = st->ring.block_size;
		ro.block_nr = st->ring.block_nr;
		ro.frame_size = st->ring.frame_size;
		ro.retire_ms = st->ring.retire_ms;
		t->kind = LTAP_RING;
		rc = live_capture_open_fd(&t->c, t->fd, ifindex, st->proto, &ro,
					  has ? &prog : NULL, errbuf);
		t->fd = -1;	/* the capture's now */
		goto out;
	}
	t->kind = LTAP_SOCK;
	if (setsockopt(t->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    (st->rcvbuf && setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &st->rcvbuf,
				      sizeof(st->rcvbuf)) < 0)) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: tap %s: setsockopt: %s", st->name,
			 strerror(errno));
		rc = LIVE_ERR_SYS;
		goto out;
	}
	if (has) {
		struct sock_fprog fp = { (unsigned short)prog.len, (struct sock_filter *)prog.insns };

		if (setsockopt(t->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "live: tap %s: the kernel refused the filter: %s", st->name,
				 strerror(errno));
			rc = LIVE_ERR_PROG;
			goto out;
		}
	}
	{
		struct sockaddr_ll sll;

		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(st->proto);
		sll.sll_ifindex = ifindex;
		if (bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: tap %s: bind: %s", st->name,
				 strerror(errno));
			rc = LIVE_ERR_SYS;
		}
	}
out:
	if (has)
		bpfvm_prog_free(&prog);
	return rc;
}

static void tap_what(const struct sim_scn_host *sh, const struct sim_scn_tap *st, char *buf,
		     size_t size)
{
	const char *dev = st->any_dev ? "any" : sh->ifaces[st->dev.idx].name;

	if (st->tcpdump) {
		snprintf(buf, size, "tcpdump on %s%s%s%s", dev, st->filter ? " \"" : "",
			 st->filter ? st->filter : "", st->filter ? "\"" : "");
		return;
	}
	char proto[16];

	if (st->proto == ETH_P_ALL)
		snprintf(proto, sizeof(proto), "ETH_P_ALL");
	else if (st->proto == ETH_P_IP)
		snprintf(proto, sizeof(proto), "ETH_P_IP");
	else
		snprintf(proto, sizeof(proto), "0x%04x", st->proto);
	snprintf(buf, size, "%s on %s, %s%s%s%s%s", st->dgram ? "SOCK_DGRAM" : "SOCK_RAW", dev,
		 proto, st->ring.version ? ", ring" : "", st->filter ? ", filter \"" : "",
		 st->filter ? st->filter : "", st->filter ? "\"" : "");
}

static int open_socket(const struct live_topo *topo, const struct sim_scn_host *sh, uint32_t h,
		       struct lsock *s, uint16_t icmp_id, char *errbuf)
{
	const struct sim_scn_socket *ss = s->ss;
	int fam = ss->bind.family == 4 ? AF_INET : AF_INET6;
	int type = ss->proto == SIM_SCN_L4_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int proto = ss->proto == SIM_SCN_L4_TCP ? IPPROTO_TCP
		    : ss->proto == SIM_SCN_L4_UDP ? IPPROTO_UDP
		    : fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct sockaddr_storage sa;
	socklen_t len;
	int one = 1;

	(void)h;
	s->rate = ss->read_rate;
	s->fd = live_topo_socket(topo, topo->hosts[h].nsfd, fam, type, proto, errbuf);
	if (s->fd < 0)
		return s->fd;
	memset(&sa, 0, sizeof(sa));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&sa;

		a->sin_family = AF_INET;
		a->sin_port = htons(ss->proto == SIM_SCN_L4_ICMP ? icmp_id : ss->port);
		memcpy(&a->sin_addr, ss->bind.bytes, 4);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(ss->proto == SIM_SCN_L4_ICMP ? icmp_id : ss->port);
		memcpy(&a->sin6_addr, ss->bind.bytes, 16);
		len = sizeof(*a);
	}
	if (ss->rcvbuf)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &ss->rcvbuf, sizeof(ss->rcvbuf));
	setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, len) < 0 ||
	    (type == SOCK_STREAM && listen(s->fd, 16) < 0)) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: host %s: socket %s: bind: %s", sh->name,
			 ss->name, strerror(errno));
		return LIVE_ERR_SYS;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Machine- and namespace-wide counters. */

/* Sum of one column of /proc/net/softnet_stat (0 processed, 1 dropped,
 * 2 time_squeeze) over every CPU. */
static uint64_t softnet_sum(int col)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	char line[512];
	uint64_t sum = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long v[3];

		if (sscanf(line, "%lx %lx %lx", &v[0], &v[1], &v[2]) == 3)
			sum += v[col];
	}
	fclose(f);
	return sum;
}

/* A field of /proc/net/snmp in @h ("Udp", "NoPorts"); -1 if absent. */
static int64_t snmp_field(const struct live_topo *topo, int nsfd, const char *group,
			  const char *field)
{
	char buf[8192], err[LIVE_ERRBUF_SIZE];
	char *save = NULL, *line, *names = NULL;
	size_t gl = strlen(group);

	if (live_ns_read_file(topo, nsfd, "/proc/thread-self/net/snmp", buf, sizeof(buf), err) != 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, group, gl) != 0 || line[gl] != ':')
			continue;
		if (!names) {
			names = line;
			continue;
		}
		/* The second line of the group: values in the names' order. */
		char *ns = NULL, *vs = NULL, *n, *v;

		n = strtok_r(names + gl + 1, " ", &ns);
		v = strtok_r(line + gl + 1, " ", &vs);
		while (n && v) {
			if (strcmp(n, field) == 0)
				return strtoll(v, NULL, 10);
			n = strtok_r(NULL, " ", &ns);
			v = strtok_r(NULL, " ", &vs);
		}
		return -1;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Results. */

static struct live_scn_check *check_add(struct live_scn_result *r, const char *host,
					enum live_scn_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct live_scn_check *check_add(struct live_scn_result *r, const char *host,
					enum live_scn_status st, const char *fmt, ...)
{
	static struct live_scn_check sink;
	struct live_scn_check *c;
	va_list ap;

	if (r->nchecks == r->checks_cap) {
		size_t nc = r->checks_cap ? r->checks_cap * 2 : 32;
		struct live_scn_check *nv = realloc(r->checks, nc * sizeof(*nv));

		if (!nv) {
			memset(&sink, 0, sizeof(sink));
			return &sink;
		}
		r->checks = nv;
		r->checks_cap = nc;
	}
	c = &r->checks[r->nchecks++];
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", host ? host : "");
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
	c->status = st;
	return c;
}

static void note(struct live_scn_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct live_scn_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->note, sizeof(c->note), fmt, ap);
	va_end(ap);
}

static void vals(struct live_scn_check *c, int hm, uint64_t m, int hk, uint64_t k)
{
	c->has_model = hm;
	c->model = m;
	c->has_kernel = hk;
	c->kernel = k;
}

/* Exact comparison of two counts. */
static struct live_scn_check *cmp_exact(struct live_scn_result *r, const char *host, uint64_t m,
					uint64_t k, const char *what)
{
	struct live_scn_check *c = check_add(r, host, m == k ? LIVE_SCN_AGREE : LIVE_SCN_DIFFER,
					     "%s", what);

	vals(c, 1, m, 1, k);
	return c;
}

/* "Happened / did not" comparison of a rate-driven count. */
static struct live_scn_check *cmp_happened(struct live_scn_result *r, const char *host, uint64_t m,
					   uint64_t k, const char *what, const char *why)
{
	struct live_scn_check *c =
	    check_add(r, host, (m > 0) == (k > 0) ? LIVE_SCN_AGREE : LIVE_SCN_DIFFER, "%s", what);

	vals(c, 1, m, 1, k);
	note(c, "compared as happened / did not: %s", why);
	return c;
}

/* Compare two records; 0 when equal, else a sentence in @why. */
static int pkt_differs(const struct live_scn_pkt *m, const struct live_scn_pkt *k, int linktype,
		       char *why, size_t size)
{
	static uint8_t bm[MAXIMUM_SNAPLEN + SLL2_HDR_LEN], bk[MAXIMUM_SNAPLEN + SLL2_HDR_LEN];
	const uint8_t *a, *b;

	if (m->pkt_type >= 0 && k->pkt_type >= 0 && m->pkt_type != k->pkt_type) {
		snprintf(why, size, "pkt_type %d vs %d", m->pkt_type, k->pkt_type);
		return 1;
	}
	if (m->wirelen != k->wirelen || m->caplen != k->caplen) {
		snprintf(why, size, "length %u (%u captured) vs %u (%u captured)", m->wirelen,
			 m->caplen, k->wirelen, k->caplen);
		return 1;
	}
	a = masked(m, linktype, bm, sizeof(bm));
	b = masked(k, linktype, bk, sizeof(bk));
	for (uint32_t i = 0; i < m->caplen; i++)
		if (a[i] != b[i]) {
			snprintf(why, size, "byte %u: 0x%02x vs 0x%02x", i, a[i], b[i]);
			return 1;
		}
	return 0;
}

static int is_tc_hook(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_TC_INGRESS || h == SIM_SCN_HOOK_TC_EGRESS;
}

/* Host-level losses that make a host's exact lists irreproducible. */
struct host_rate {
	int rate_driven;
	char why[160];
};

static void compare_tap(struct live_scn_result *r, struct live_scn_tap *tp,
			const struct host_rate *hr, int tap_rate)
{
	int rate = tap_rate || tp->m_dropped || tp->k_dropped || hr->rate_driven;
	char why[160], d1[120], d2[120];

	/* The closing lines. */
	if (rate) {
		int ok = (tp->m_dropped > 0) == (tp->k_dropped > 0);

		tp->lines_status = ok ? LIVE_SCN_AGREE : LIVE_SCN_DIFFER;
		snprintf(tp->lines_note, sizeof(tp->lines_note),
			 "rate-driven (%.80s): \"dropped by kernel\" compared as happened / did not; "
			 "captured and received depend on real timing",
			 tap_rate ? "the reader's read-rate" : hr->rate_driven ? hr->why
										 : "ring overflow");
	} else if (tp->m_captured == tp->k_captured && tp->m_received == tp->k_received &&
		   tp->m_dropped == tp->k_dropped) {
		tp->lines_status = LIVE_SCN_AGREE;
	} else {
		tp->lines_status = LIVE_SCN_DIFFER;
	}
	/* The records. */
	if (rate) {
		tp->list_status = LIVE_SCN_MODEL_ONLY;
		snprintf(tp->list_note, sizeof(tp->list_note),
			 "rate-driven: which packets the capture kept depends on real timing "
			 "(model %zu records, kernel %zu)",
			 tp->nmodel, tp->nkernel);
	} else {
		size_t n = tp->nmodel < tp->nkernel ? tp->nmodel : tp->nkernel;

		tp->list_status = LIVE_SCN_AGREE;
		for (size_t i = 0; i < n; i++) {
			if (!pkt_differs(&tp->model[i], &tp->kernel[i], tp->linktype, why,
					 sizeof(why)))
				continue;
			tp->model[i].differs = tp->kernel[i].differs = 1;
			if (tp->list_status == LIVE_SCN_DIFFER)
				continue;
			tp->list_status = LIVE_SCN_DIFFER;
			tp->first_diff = i;
			snprintf(tp->list_note, sizeof(tp->list_note),
				 "record %zu differs (%s): model \"%s\", kernel \"%s\"", i + 1, why,
				 trace_describe(tp->model[i].bytes, tp->model[i].caplen, tp->linktype,
						d1, sizeof(d1)),
				 trace_describe(tp->kernel[i].bytes, tp->kernel[i].caplen,
						tp->linktype, d2, sizeof(d2)));
		}
		for (size_t i = n; i < tp->nmodel; i++)
			tp->model[i].differs = 1;
		for (size_t i = n; i < tp->nkernel; i++)
			tp->kernel[i].differs = 1;
		if (tp->list_status == LIVE_SCN_AGREE && tp->nmodel != tp->nkernel) {
			const struct live_scn_pkt *x =
			    tp->nmodel > n ? &tp->model[n] : &tp->kernel[n];

			tp->list_status = LIVE_SCN_DIFFER;
			tp->first_diff = n;
			snprintf(tp->list_note, sizeof(tp->list_note),
				 "model has %zu records, kernel %zu; the first extra (%s): \"%s\"",
				 tp->nmodel, tp->nkernel, tp->nmodel > n ? "model" : "kernel",
				 trace_describe(x->bytes, x->caplen, tp->linktype, d1, sizeof(d1)));
		}
	}
	r->differ += (tp->lines_status == LIVE_SCN_DIFFER) + (tp->list_status == LIVE_SCN_DIFFER);
	r->model_only += tp->list_status == LIVE_SCN_MODEL_ONLY;
}

/* ------------------------------------------------------------------ */
/* --keep and --cleanup: names under /run/netns, as `ip netns` makes them. */

#define NETNS_DIR "/run/netns"

static int keep_namespaces(const struct live_topo *t, char *errbuf)
{
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: --keep: mkdir %s: %s", NETNS_DIR,
				strerror(errno)),
		       LIVE_ERR_SYS;
	for (uint32_t h = 0; h < t->nhosts; h++) {
		char path[128], src[64];
		int fd;

		snprintf(path, sizeof(path), NETNS_DIR "/%s", t->hosts[h].name);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", t->hosts[h].nsfd);
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0 || (close(fd), mount(src, path, "none", MS_BIND, NULL) < 0)) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: --keep: bind-mounting %s: %s", path,
				 strerror(errno));
			if (fd >= 0)
				unlink(path);
			return LIVE_ERR_SYS;
		}
	}
	return 0;
}

int live_scn_cleanup(unsigned *removed, char *errbuf)
{
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;

	*removed = 0;
	if (geteuid() != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live --cleanup: removing namespaces under %s needs root", NETNS_DIR);
		return LIVE_ERR_PERM;
	}
	if (!d)
		return 0;	/* nothing was ever kept */
	while ((e = readdir(d))) {
		char path[512];
		long pid;
		char rest[64];

		if (sscanf(e->d_name, "capsim-%ld-%63s", &pid, rest) != 2 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* its run is still alive */
		snprintf(path, sizeof(path), NETNS_DIR "/%s", e->d_name);
		umount2(path, MNT_DETACH);
		if (unlink(path) == 0)
			(*removed)++;
	}
	closedir(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The run. */

struct live_run {
	const struct sim_scenario *sc;
	struct live_topo topo;
	int built;
	struct ltap *taps;		/* result order */
	size_t ntaps;
	struct lsock *socks;
	size_t nsocks;
	int **sockfds;			/* [host][socket] */
	struct live_traffic *tr;
	uint64_t **rule_counts;
	struct live_link_stats **links;	/* [host][iface] */
	int64_t *noports, *rcvbuferrs;
	uint64_t softnet0[3], softnet1[3];
};

static void run_close(struct live_run *lr)
{
	for (size_t i = 0; i < lr->ntaps; i++) {
		struct ltap *t = &lr->taps[i];
		char e[LIVE_ERRBUF_SIZE];

		if (t->p) {
			/* Closed inside its namespace, so nothing libpcap does on
			 * close can reach a device of the caller's. */
			int in = lr->built && live_topo_enter(&lr->topo, t->nsfd, e) == 0;

			pcap_close(t->p);
			if (in)
				live_topo_leave(&lr->topo, e);
		}
		live_capture_close(t->c);
		if (t->fd >= 0)
			close(t->fd);
		t->p = NULL;
		t->c = NULL;
		t->fd = -1;
	}
	for (size_t i = 0; i < lr->nsocks; i++)
		if (lr->socks[i].fd >= 0) {
			close(lr->socks[i].fd);
			lr->socks[i].fd = -1;
		}
	live_traffic_close(lr->tr);
	lr->tr = NULL;
	if (lr->built)
		live_topo_free(&lr->topo);
	lr->built = 0;
}

static void run_free(struct live_run *lr)
{
	run_close(lr);
	for (size_t i = 0; i < lr->ntaps; i++)
		pkts_free(lr->taps[i].recs.v, lr->taps[i].recs.n);
	free(lr->taps);
	free(lr->socks);
	if (lr->sc)
		for (uint32_t h = 0; h < lr->sc->nhosts; h++) {
			if (lr->sockfds)
				free(lr->sockfds[h]);
			if (lr->rule_counts)
				free(lr->rule_counts[h]);
			if (lr->links)
				free(lr->links[h]);
		}
	free(lr->sockfds);
	free(lr->rule_counts);
	free(lr->links);
	free(lr->noports);
	free(lr->rcvbuferrs);
}

/* Whether the scenario can be built at all; 0, or the reason as
 * "FILE:LINE:COL: sentence", pointing at the line that has no live form. */
static int live_form(const struct sim_scenario *sc, char *errbuf)
{
	const char *file = sc->name ? sc->name : "scenario";
	char why[200];

	for (uint32_t i = 0; i < sc->ntraffic; i++)
		if (live_traffic_supported(&sc->traffic[i], why, sizeof(why)) != 0) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "%.60s:%u:%u: no live form: %.150s", file,
				 sc->traffic[i].pos.line, sc->traffic[i].pos.col, why);
			return LIVE_ERR_NOSUPPORT;
		}
	for (uint32_t h = 0; h < sc->nhosts; h++)
		for (uint32_t i = 0; i < sc->hosts[h].nrules; i++) {
			const struct sim_scn_rule *r = &sc->hosts[h].rules[i];

			if (live_rule_supported(r, why, sizeof(why)) != 0) {
				snprintf(errbuf, LIVE_ERRBUF_SIZE, "%.60s:%u:%u: no live form: %.150s",
					 file, r->pos.line, r->pos.col, why);
				return LIVE_ERR_NOSUPPORT;
			}
		}
	return 0;
}

/* The first echo identifier the model used for host @h's echo requests
 * of address family @fam (its icmp socket is bound to it). */
static uint16_t host_icmp_id(const struct sim_scenario *sc, const struct live_pin *pins, uint32_t h,
			     uint8_t fam)
{
	for (uint32_t i = 0; i < sc->ntraffic; i++)
		if (sc->traffic[i].kind == SIM_SCN_TRAFFIC_SEND && sc->traffic[i].host == h &&
		    sc->traffic[i].proto == SIM_SCN_L4_ICMP && sc->traffic[i].to.family == fam)
			return pins[i].icmp_id;
	return 0;
}

/* How long to go on reading after the last packet: libpcap's block
 * timeout (a TPACKET_V3 block reaches tcpdump when the kernel retires
 * it), a plain ring's retire timer, and a margin. */
static uint64_t settle_ns(const struct sim_scenario *sc)
{
	uint64_t s = 100000000ull;

	for (uint32_t h = 0; h < sc->nhosts; h++)
		for (uint32_t i = 0; i < sc->hosts[h].ntaps; i++) {
			const struct sim_scn_tap *t = &sc->hosts[h].taps[i];
			uint64_t w = 0;

			if (t->tcpdump && !t->immediate)
				w = t->timeout;
			else if (t->ring.version == 3)
				w = (uint64_t)t->ring.retire_ms * 1000000ull;
			if (w + 200000000ull > s)
				s = w + 200000000ull;
		}
	return s;
}

static int stopped(const struct live_scn_opts *o)
{
	return o && o->interrupted && *o->interrupted;
}

static int live_side(struct live_run *lr, const struct live_scn_opts *o, const struct live_pin *pins,
		     struct live_scn_result *res, char *errbuf)
{
	const struct sim_scenario *sc = lr->sc;
	struct reader *rd = NULL;
	pthread_t th;
	int th_started = 0, rc, first_errno = 0;
	cpu_set_t old, one;
	int pinned = 0;
	uint64_t t0, end = 0, sent = 0, serr = 0, deadline;
	size_t ti = 0, si = 0;

	if ((rc = live_topo_build(&lr->topo, sc, errbuf)) != 0)
		return rc;
	lr->built = 1;
	if (o && o->keep && (rc = keep_namespaces(&lr->topo, errbuf)) != 0)
		return rc;
	if ((rc = live_rules_install(&lr->topo, errbuf)) != 0)
		return rc;
	/* Sockets. */
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		for (uint32_t i = 0; i < sh->nsockets; i++, si++) {
			struct lsock *s = &lr->socks[si];

			s->ss = &sh->sockets[i];
			rc = open_socket(&lr->topo, sh, h, s,
					 host_icmp_id(sc, pins, h, sh->sockets[i].bind.family), errbuf);
			if (rc)
				return rc;
			lr->sockfds[h][i] = s->fd;
		}
	}
	/* Taps. */
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		for (uint32_t i = 0; i < sh->ntaps; i++, ti++) {
			struct ltap *t = &lr->taps[ti];

			t->st = &sh->taps[i];
			t->nsfd = lr->topo.hosts[h].nsfd;
			t->rate = t->st->read_rate;
			t->kind = LTAP_PCAP;
			rc = t->st->tcpdump ? open_pcap_tap(&lr->topo, sh, t, errbuf)
					    : open_plain_tap(&lr->topo, sh, t, errbuf);
			if (rc)
				return rc;
		}
	}
	if ((rc = live_traffic_open(&lr->tr, &lr->topo, pins, (int *const *)lr->sockfds, errbuf)) != 0)
		return rc;
	for (int c = 0; c < 3; c++)
		lr->softnet0[c] = softnet_sum(c);
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		lr->noports[h] = snmp_field(&lr->topo, lr->topo.hosts[h].nsfd, "Udp", "NoPorts");
		lr->rcvbuferrs[h] =
		    snmp_field(&lr->topo, lr->topo.hosts[h].nsfd, "Udp", "RcvbufErrors");
	}

	/* Run: the reader drains, this thread sends on one CPU, so every
	 * packet crosses one backlog queue in order. */
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: out of memory");
		return LIVE_ERR_SYS;
	}
	rd->taps = lr->taps;
	rd->ntaps = lr->ntaps;
	rd->socks = lr->socks;
	rd->nsocks = lr->nsocks;
	t0 = live_now_ns() + 20000000ull;
	for (size_t i = 0; i < lr->ntaps; i++)
		lr->taps[i].t0 = t0;
	if (sched_getaffinity(0, sizeof(old), &old) == 0) {
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
	}
	if (pthread_create(&th, NULL, reader_main, rd) == 0)
		th_started = 1;
	else
		rc = LIVE_ERR_SYS, snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: pthread_create failed");
	if (!rc)
		rc = live_traffic_run(lr->tr, t0, o ? o->interrupted : NULL, &end, &sent, &serr,
				      &first_errno, errbuf);
	deadline = end + settle_ns(sc);
	if (sc->has_duration && t0 + sc->duration > deadline)
		deadline = t0 + sc->duration;
	while (!rc && !stopped(o) && live_now_ns() < deadline) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
	}
	if (th_started) {
		rd->stop = 1;
		pthread_join(th, NULL);
	}
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	/* The last drain: everything still queued.  A slow reader would
	 * take it at its rate after the traffic ended, as the model's does
	 * (it runs until nothing is left); nothing new arrives by then, so
	 * taking it at once gives the same records. */
	{
		uint64_t now = live_now_ns();

		for (size_t i = 0; i < lr->ntaps; i++) {
			lr->taps[i].rate = 0;
			read_tap(rd, &lr->taps[i], now);
		}
		for (size_t i = 0; i < lr->nsocks; i++) {
			lr->socks[i].rate = 0;
			read_sock(rd, &lr->socks[i], now);
		}
	}
	free(rd);
	res->sent = sent;
	res->send_errors = serr;
	res->first_errno = first_errno;
	if (rc)
		return rc;
	if (stopped(o)) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: interrupted; %s",
			 o->keep ? "the namespaces stay, named (--keep)" : "everything was removed");
		return LIVE_ERR_SYS;
	}

	/* Read-outs. */
	for (int c = 0; c < 3; c++)
		lr->softnet1[c] = softnet_sum(c);
	for (size_t i = 0; i < lr->ntaps; i++) {
		struct ltap *t = &lr->taps[i];
		struct live_capture_stats cs;
		char e[LIVE_ERRBUF_SIZE];

		if (t->kind == LTAP_PCAP) {
			struct pcap_stat ps;

			if (pcap_stats(t->p, &ps) == 0) {
				t->tp_packets = ps.ps_recv;
				t->tp_drops = ps.ps_drop;
			}
		} else if (t->kind == LTAP_RING) {
			if (live_capture_stats(t->c, &cs, e) == 0) {
				t->tp_packets = cs.packets;
				t->tp_drops = cs.drops;
			}
		} else {
			struct tpacket_stats ks;
			socklen_t len = sizeof(ks);

			if (getsockopt(t->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) {
				t->tp_packets = ks.tp_packets;
				t->tp_drops = ks.tp_drops;
			}
		}
	}
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];
		int64_t v;

		for (uint32_t i = 0; i < sh->nifaces; i++)
			if ((rc = live_link_stats(&lr->topo.hosts[h], (int)sh->ifaces[i].ifindex,
						  &lr->links[h][i], errbuf)) != 0)
				return rc;
		v = snmp_field(&lr->topo, lr->topo.hosts[h].nsfd, "Udp", "NoPorts");
		lr->noports[h] = v >= 0 && lr->noports[h] >= 0 ? v - lr->noports[h] : -1;
		v = snmp_field(&lr->topo, lr->topo.hosts[h].nsfd, "Udp", "RcvbufErrors");
		lr->rcvbuferrs[h] = v >= 0 && lr->rcvbuferrs[h] >= 0 ? v - lr->rcvbuferrs[h] : -1;
	}
	return live_rules_counters(&lr->topo, lr->rule_counts, errbuf);
}

/* ------------------------------------------------------------------ */
/* Comparison of the counters. */

static enum sim_scn_hook hook_of_stage(const char *hook)
{
	static const struct {
		const char *name;
		enum sim_scn_hook h;
	} map[] = {
		{ "PREROUTING", SIM_SCN_HOOK_PREROUTING },   { "INPUT", SIM_SCN_HOOK_INPUT },
		{ "FORWARD", SIM_SCN_HOOK_FORWARD },	     { "OUTPUT", SIM_SCN_HOOK_OUTPUT },
		{ "POSTROUTING", SIM_SCN_HOOK_POSTROUTING }, { "netdev ingress", SIM_SCN_HOOK_NETDEV_INGRESS },
		{ "netdev egress", SIM_SCN_HOOK_NETDEV_EGRESS }, { "tc ingress", SIM_SCN_HOOK_TC_INGRESS },
		{ "tc egress", SIM_SCN_HOOK_TC_EGRESS },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, hook) == 0)
			return map[i].h;
	return SIM_SCN_HOOK_COUNT;
}

static void compare_drops(struct live_scn_result *r, const struct sim_session *s,
			  const struct live_run *lr, const struct host_rate *hr)
{
	const struct sim_scenario *sc = lr->sc;
	struct sim_session_drop d;

	for (unsigned i = 0; sim_session_drop(s, i, &d) == 0; i++) {
		uint32_t h = 0;
		struct live_scn_check *c;
		char what[128];

		while (h < sc->nhosts && strcmp(sc->hosts[h].name, d.host) != 0)
			h++;
		if (h == sc->nhosts)
			continue;
		snprintf(what, sizeof(what), "drop %s at %s%s%s%s", d.reason, d.func,
			 *d.hook ? " (" : "", d.hook, *d.hook ? ")" : "");
		if (!strcmp(d.reason, "NETFILTER_DROP") || !strcmp(d.reason, "TC_INGRESS") ||
		    !strcmp(d.reason, "TC_EGRESS")) {
			enum sim_scn_hook hk = hook_of_stage(d.hook);
			uint64_t k = 0;
			int found = 0;

			for (uint32_t ri = 0; ri < sc->hosts[h].nrules; ri++) {
				const struct sim_scn_rule *rl = &sc->hosts[h].rules[ri];

				if (rl->hook != hk || rl->verdict != SIM_SCN_VERDICT_DROP ||
				    lr->rule_counts[h][ri] == UINT64_MAX)
					continue;
				k += lr->rule_counts[h][ri];
				found = 1;
			}
			if (!found) {
				c = check_add(r, d.host, LIVE_SCN_NO_EVIDENCE, "%s", what);
				vals(c, 1, d.count, 0, 0);
				note(c, "no drop rule at that hook to count it");
				continue;
			}
			c = cmp_exact(r, d.host, d.count, k, what);
			if (hk == SIM_SCN_HOOK_OUTPUT && r->send_errors)
				note(c, "the drop rules' counters at that hook; and sendto() failed %llu "
					"times (%s: the OUTPUT hook's NF_DROP becomes -EPERM in "
					"ip_local_out)",
				     (unsigned long long)r->send_errors, strerror(r->first_errno));
			else
				note(c, "the drop rules' counters at that hook (nft / tc)");
		} else if (!strcmp(d.reason, "OTHERHOST")) {
			uint64_t k = 0;

			for (uint32_t f = 0; f < sc->hosts[h].nifaces; f++)
				k += lr->links[h][f].rx_otherhost_dropped;
			c = cmp_exact(r, d.host, d.count, k, what);
			note(c, "rx_otherhost_dropped (IFLA_STATS64), counted by ip_rcv_core");
		} else if (!strcmp(d.reason, "NO_SOCKET") && strstr(d.func, "udp") &&
			   lr->noports[h] >= 0) {
			c = cmp_exact(r, d.host, d.count, (uint64_t)lr->noports[h], what);
			note(c, "Udp NoPorts in the host's /proc/net/snmp (UDP only)");
		} else if (!strcmp(d.reason, "SOCKET_RCVBUFF") && lr->rcvbuferrs[h] >= 0) {
			cmp_happened(r, d.host, d.count, (uint64_t)lr->rcvbuferrs[h], what,
				     "Udp RcvbufErrors; a reader's speed is real timing");
		} else if (!strcmp(d.reason, "FULL_RING")) {
			uint64_t k = 0;

			for (size_t t = 0; t < lr->ntaps; t++)
				if (lr->taps[t].st >= sc->hosts[h].taps &&
				    lr->taps[t].st < sc->hosts[h].taps + sc->hosts[h].ntaps)
					k += lr->taps[t].tp_drops;
			cmp_happened(r, d.host, d.count, k, what,
				     "tp_drops of the host's taps; ring overflow depends on the reader's "
				     "real speed");
		} else if (!strcmp(d.reason, "CPU_BACKLOG")) {
			uint64_t k = lr->softnet1[1] - lr->softnet0[1];

			c = check_add(r, d.host, k ? LIVE_SCN_AGREE : LIVE_SCN_MODEL_ONLY, "%s", what);
			vals(c, 1, d.count, 1, k);
			note(c, "softnet_stat dropped (machine-wide) moved by %llu.  %s",
			     (unsigned long long)k,
			     k ? "Drops happened on both sides."
			       : "The model hands the whole burst to the backlog before NET_RX runs; "
				 "on this kernel __dev_queue_xmit()'s rcu_read_unlock_bh() -> "
				 "local_bh_enable() runs the softirq after every packet, so one "
				 "sender never fills netdev_max_backlog");
		} else if (!strcmp(d.reason, "RX_MISSED")) {
			c = check_add(r, d.host, LIVE_SCN_MODEL_ONLY, "%s", what);
			vals(c, 1, d.count, 0, 0);
			note(c, "a veth has no RX descriptor ring, IRQ or NAPI context (veth_xmit -> "
				"__netif_rx puts the packet on the CPU backlog): rx_missed_errors "
				"cannot happen");
		} else {
			c = check_add(r, d.host, LIVE_SCN_NO_EVIDENCE, "%s", what);
			vals(c, 1, d.count, 0, 0);
			note(c, "the kernel keeps no per-namespace counter of this reason that the live "
				"run reads (dropwatch / perf trace -e skb:kfree_skb would show it)");
		}
		(void)hr;
	}
}

/* The fastest send rate of the scenario when it is one a real reader may
 * not keep up with (over 10000 packets a second, or a burst), else 0. */
static uint64_t fast_rate(const struct sim_scenario *sc)
{
	uint64_t fast = 0;

	for (uint32_t i = 0; i < sc->ntraffic; i++) {
		const struct sim_scn_traffic *tl = &sc->traffic[i];
		uint64_t r = tl->pace == SIM_SCN_PACE_RATE ? tl->rate
			     : tl->pace == SIM_SCN_PACE_BURST && tl->burst > 1 ? UINT64_MAX
			     : tl->count > 1 && tl->pace == SIM_SCN_PACE_BACK_TO_BACK ? UINT64_MAX
										      : 0;

		if (r > 10000 && r > fast)
			fast = r;
	}
	return fast;
}

static void compare_counters(struct live_scn_result *r, const struct sim_session *s,
			     const struct live_run *lr, const struct host_rate *hr)
{
	const struct sim_scenario *sc = lr->sc;
	uint64_t fast = fast_rate(sc);
	char name[96];
	uint64_t m;

	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];
		const char *hn = sh->name;

		/* Rules. */
		for (uint32_t i = 0; i < sh->nrules; i++) {
			snprintf(name, sizeof(name), "rule.%s", sh->rules[i].name);
			if (sim_session_counter(s, hn, name, &m) != 1)
				continue;
			if (lr->rule_counts[h][i] == UINT64_MAX) {
				int tc = is_tc_hook(sh->rules[i].hook);
				struct live_scn_check *c = check_add(
				    r, hn, tc ? LIVE_SCN_NO_EVIDENCE : LIVE_SCN_DIFFER, "%s", name);

				vals(c, 1, m, 0, 0);
				note(c, "%s", tc ? "a direct-action tc filter keeps no count; the clsact "
						   "qdisc's drops are one rule's only when it is its "
						   "device's only tc drop rule"
						 : "the rule's counter was not found in nft's listing");
				continue;
			}
			struct live_scn_check *c = hr[h].rate_driven && m != lr->rule_counts[h][i]
				? cmp_happened(r, hn, m, lr->rule_counts[h][i], name, hr[h].why)
				: cmp_exact(r, hn, m, lr->rule_counts[h][i], name);

			note(c, "%s", is_tc_hook(sh->rules[i].hook)
					  ? "tc -s qdisc show: the clsact qdisc's drops (its only drop rule)"
					  : "nft list ruleset: the rule's counter");
		}
		/* Interfaces. */
		for (uint32_t i = 0; i < sh->nifaces; i++) {
			const struct live_link_stats *k = &lr->links[h][i];
			const struct {
				const char *ctr;
				uint64_t v;
			} ctrs[] = {
				{ "rx_packets", k->rx_packets }, { "tx_packets", k->tx_packets },
				{ "rx_dropped", k->rx_dropped }, { "tx_dropped", k->tx_dropped },
			};

			for (size_t c = 0; c < sizeof(ctrs) / sizeof(ctrs[0]); c++) {
				snprintf(name, sizeof(name), "%s.%s", sh->ifaces[i].name, ctrs[c].ctr);
				if (sim_session_counter(s, hn, name, &m) != 1)
					continue;
				if (m == 0 && ctrs[c].v == 0 && sh->ifaces[i].kind == SIM_SCN_IFACE_LOOPBACK)
					continue;	/* an idle lo says nothing */
				if (hr[h].rate_driven && m != ctrs[c].v) {
					struct live_scn_check *x = check_add(r, hn, LIVE_SCN_MODEL_ONLY,
									     "%s", name);

					vals(x, 1, m, 1, ctrs[c].v);
					note(x, "rate-driven: %s", hr[h].why);
					continue;
				}
				cmp_exact(r, hn, m, ctrs[c].v, name);
			}
			snprintf(name, sizeof(name), "%s.rx_missed_errors", sh->ifaces[i].name);
			if (sim_session_counter(s, hn, name, &m) == 1 && m > 0) {
				struct live_scn_check *x =
				    check_add(r, hn, k->rx_missed_errors ? LIVE_SCN_AGREE
									 : LIVE_SCN_MODEL_ONLY,
					      "%s", name);

				vals(x, 1, m, 1, k->rx_missed_errors);
				note(x, "the NIC's RX ring: a veth has none, it hands packets to the CPU "
					"backlog (veth_xmit -> __netif_rx)");
			}
		}
		/* softnet_stat: per CPU for the whole machine. */
		{
			static const char *const col[3] = { "processed", "dropped", "time_squeeze" };

			for (int c = 0; c < 3; c++) {
				uint64_t k = lr->softnet1[c] - lr->softnet0[c];

				snprintf(name, sizeof(name), "softnet.%s", col[c]);
				if (sim_session_counter(s, hn, name, &m) != 1 || (c && !m && !k))
					continue;
				if (c == 0)
					continue;	/* other hosts' and the machine's packets mix in */
				struct live_scn_check *x =
				    check_add(r, hn, (m > 0) == (k > 0) ? LIVE_SCN_AGREE
									: LIVE_SCN_MODEL_ONLY,
					      "%s", name);

				vals(x, 1, m, 1, k);
				note(x, "/proc/net/softnet_stat is per CPU for the whole machine, not "
					"per namespace: compared as happened / did not");
			}
		}
		/* Sockets: a real application's reads are real timing; at the
		 * rates of a fast scenario its receive buffer may overflow
		 * where the model's reader (which takes each datagram as it
		 * comes) never falls behind. */
		for (uint32_t i = 0; i < sh->nsockets; i++) {
			const struct lsock *ls = NULL;

			for (size_t k = 0; k < lr->nsocks; k++)
				if (lr->socks[k].ss == &sh->sockets[i])
					ls = &lr->socks[k];
			if (!ls || sh->sockets[i].proto == SIM_SCN_L4_TCP)
				continue;
			snprintf(name, sizeof(name), "%s.received", sh->sockets[i].name);
			if (sim_session_counter(s, hn, name, &m) == 1) {
				if (fast && m != ls->received) {
					struct live_scn_check *x =
					    check_add(r, hn, LIVE_SCN_MODEL_ONLY, "%s", name);

					vals(x, 1, m, 1, ls->received);
					char rate[40];

					if (fast == UINT64_MAX)
						snprintf(rate, sizeof(rate), "back-to-back sends");
					else
						snprintf(rate, sizeof(rate), "%llu packets/s",
							 (unsigned long long)fast);
					vals(x, 1, m, 1, ls->received);
					note(x, "rate-driven: at %s this machine's reader "
						"fell behind and the socket dropped %u (SO_RXQ_OVFL); the "
						"model's reader never falls behind",
					     rate, ls->drops);
				} else if (sh->sockets[i].read_rate || hr[h].rate_driven)
					cmp_happened(r, hn, m, ls->received, name,
						     sh->sockets[i].read_rate ? "the reader's read-rate"
									      : hr[h].why);
				else
					cmp_exact(r, hn, m, ls->received, name);
			}
			snprintf(name, sizeof(name), "%s.drops", sh->sockets[i].name);
			if (sim_session_counter(s, hn, name, &m) == 1 && (m || ls->drops)) {
				if (fast && !m) {
					struct live_scn_check *x =
					    check_add(r, hn, LIVE_SCN_MODEL_ONLY, "%s", name);

					vals(x, 1, m, 1, ls->drops);
					note(x, "rate-driven (see %s.received)", sh->sockets[i].name);
				} else {
					cmp_happened(r, hn, m, ls->drops, name,
						     "SO_RXQ_OVFL (sk_drops); a full receive buffer "
						     "is real timing");
				}
			}
		}
		/* Plain taps' PACKET_STATISTICS. */
		for (size_t t = 0; t < lr->ntaps; t++) {
			const struct ltap *lt = &lr->taps[t];
			struct sim_session_tap mt;

			if (lt->st < sh->taps || lt->st >= sh->taps + sh->ntaps || lt->st->tcpdump ||
			    sim_session_tap(s, hn, lt->st->name, &mt) != 0)
				continue;
			snprintf(name, sizeof(name), "%s.tp_packets", lt->st->name);
			if (lt->st->read_rate || mt.tp_drops || lt->tp_drops || hr[h].rate_driven)
				cmp_happened(r, hn, mt.tp_packets, lt->tp_packets, name,
					     "rate-driven capture");
			else
				cmp_exact(r, hn, mt.tp_packets, lt->tp_packets, name);
			snprintf(name, sizeof(name), "%s.tp_drops", lt->st->name);
			if (mt.tp_drops || lt->tp_drops)
				cmp_happened(r, hn, mt.tp_drops, lt->tp_drops, name,
					     "ring or buffer overflow depends on the reader's speed");
		}
	}
}

/*
 * The IPv4 identification is masked in the records (its start is random),
 * but whether DF packets carry 0 there - what older kernels'
 * ip_select_ident_segs() did - or a counter's values is a property the
 * model states, so it is compared on its own over every IPv4 DF record: do
 * any carry a nonzero identification?  A counter passes 0 now and then
 * when it wraps, so single zeros are no difference.
 */
static void id_zero_check(struct live_scn_result *r)
{
	uint64_t z[2] = { 0 }, nz[2] = { 0 };

	for (size_t t = 0; t < r->ntaps; t++)
		for (int side = 0; side < 2; side++) {
			const struct live_scn_tap *tp = &r->taps[t];
			const struct live_scn_pkt *v = side ? tp->kernel : tp->model;
			size_t n = side ? tp->nkernel : tp->nmodel;

			for (size_t i = 0; i < n; i++) {
				struct ipview iv;

				ip_of(v[i].bytes, v[i].caplen, tp->linktype, &iv);
				if (iv.family != 4 || !(v[i].bytes[iv.off + 6] & 0x40))
					continue;
				if (v[i].bytes[iv.off + 4] | v[i].bytes[iv.off + 5])
					nz[side]++;
				else
					z[side]++;
			}
		}
	if (!z[0] && !nz[0] && !z[1] && !nz[1])
		return;
	struct live_scn_check *c = check_add(
	    r, "", (nz[0] > 0) == (nz[1] > 0) ? LIVE_SCN_AGREE : LIVE_SCN_DIFFER,
	    "IPv4 DF records with a nonzero identification");
	vals(c, 1, nz[0], 1, nz[1]);
	note(c, "of %llu (model) and %llu (kernel) DF records; the values have a random start "
		"and are not compared",
	     (unsigned long long)(z[0] + nz[0]), (unsigned long long)(z[1] + nz[1]));
}

/* What the scenario says that no veth pair can do. */
static void model_only_aspects(struct live_scn_result *r, const struct sim_scenario *sc)
{
	const sim_ns costs[SIM_SCN_COST_COUNT] = { 0, 1000, 300, 200, 500, 800 };
	char machine[64];

	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];
		struct live_scn_check *c;

		for (int k = 0; k < SIM_SCN_COST_COUNT; k++)
			if (sh->cost[k] != costs[k]) {
				c = check_add(r, sh->name, LIVE_SCN_MODEL_ONLY, "cost %s",
					      sim_scn_cost_name((enum sim_scn_cost)k));
				note(c, "CPU costs are the model's clock; the kernel spends what this "
					"CPU spends");
			}
		for (uint32_t i = 1; i < sh->nifaces; i++) {
			const struct sim_scn_iface *f = &sh->ifaces[i];

			if (f->kind != SIM_SCN_IFACE_ETHER)
				continue;
			if (f->rx_ring != 256 || f->tx_ring != 256 || f->coalesce ||
			    f->coalesce_frames != 1) {
				c = check_add(r, sh->name, LIVE_SCN_MODEL_ONLY,
					      "%s rx-ring/tx-ring/coalesce", f->name);
				note(c, "NIC descriptor rings, interrupt coalescing and NAPI polling: "
					"a veth has none of them (ethtool -G/-C are refused)");
			}
		}
		/* The net.core sysctls are one set for the whole machine
		 * (not per namespace): the live run leaves them alone. */
		struct {
			const char *name, *path;
			uint32_t v;
		} g[] = {
			{ "netdev_budget", "/proc/sys/net/core/netdev_budget", sh->sysctl.netdev_budget },
			{ "netdev_budget_usecs", "/proc/sys/net/core/netdev_budget_usecs",
			  sh->sysctl.netdev_budget_usecs },
			{ "netdev_max_backlog", "/proc/sys/net/core/netdev_max_backlog",
			  sh->sysctl.netdev_max_backlog },
			{ "dev_weight", "/proc/sys/net/core/dev_weight", sh->sysctl.dev_weight },
			{ "rmem_default", "/proc/sys/net/core/rmem_default", sh->sysctl.rmem_default },
			{ "rmem_max", "/proc/sys/net/core/rmem_max", sh->sysctl.rmem_max },
		};
		for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
			FILE *f = fopen(g[i].path, "r");
			unsigned long v = 0;

			if (!f)
				continue;
			if (fgets(machine, sizeof(machine), f))
				v = strtoul(machine, NULL, 10);
			fclose(f);
			if (v == g[i].v)
				continue;
			c = check_add(r, sh->name, LIVE_SCN_MODEL_ONLY, "sysctl %s", g[i].name);
			vals(c, 1, g[i].v, 1, v);
			note(c, "net.core.%s is one value for the whole machine, not per namespace; "
				"the live run does not change it",
			     g[i].name);
		}
		if (sh->cpus > 1) {
			c = check_add(r, sh->name, LIVE_SCN_MODEL_ONLY, "cpus %u", sh->cpus);
			note(c, "namespaces share the machine's CPUs; the live run sends from one");
		}
	}
	for (uint32_t w = 0; w < sc->nwires; w++)
		if (sc->wires[w].delay != 1000 || sc->wires[w].rate_bps != 10000000000ull) {
			struct live_scn_check *c = check_add(r, "", LIVE_SCN_MODEL_ONLY,
							     "wire %s.%s - %s.%s delay/rate",
							     sc->wires[w].a.host_name, sc->wires[w].a.name,
							     sc->wires[w].b.host_name, sc->wires[w].b.name);

			note(c, "a veth pair hands a packet over at once, at no rate");
		}
	{
		struct live_scn_check *c = check_add(r, "", LIVE_SCN_MODEL_ONLY, "timestamps");

		note(c, "record times are real time on the kernel, the model's clock in the model: "
			"listed, not compared");
	}
}

/* Which hosts have losses driven by rates in the model. */
static void host_rates(const struct sim_session *s, const struct sim_scenario *sc,
		       struct host_rate *hr)
{
	struct sim_session_drop d;

	for (unsigned i = 0; sim_session_drop(s, i, &d) == 0; i++) {
		uint32_t h = 0;

		while (h < sc->nhosts && strcmp(sc->hosts[h].name, d.host) != 0)
			h++;
		if (h == sc->nhosts || hr[h].rate_driven)
			continue;
		if (!strcmp(d.reason, "RX_MISSED"))
			snprintf(hr[h].why, sizeof(hr[h].why),
				 "the model's NIC ring overflowed (rx_missed_errors); a veth has no ring");
		else if (!strcmp(d.reason, "CPU_BACKLOG"))
			snprintf(hr[h].why, sizeof(hr[h].why), "the model's backlog overflowed");
		else if (!strcmp(d.reason, "SOCKET_RCVBUFF"))
			snprintf(hr[h].why, sizeof(hr[h].why), "a socket's buffer overflowed");
		else if (!strcmp(d.reason, "QDISC_DROP"))
			snprintf(hr[h].why, sizeof(hr[h].why), "a qdisc overflowed");
		else
			continue;
		hr[h].rate_driven = 1;
	}
}

int live_scn_run(const char *path, const struct live_scn_opts *o, struct live_scn_result **out,
		 char *errbuf)
{
	char serr[SIM_SESSION_ERRBUF_SIZE];
	struct sim_session *s = NULL;
	struct sim_session_opts so = { 0 };
	struct model_side ms = { 0 };
	struct live_scn_result *res = NULL;
	struct live_run lr;
	struct live_pin *pins = NULL;
	struct host_rate *hr = NULL;
	char (*names)[2][SIM_SCN_NAME_MAX] = NULL;
	int *linktypes = NULL;
	const struct sim_scenario *sc;
	size_t ntaps = 0, nsocks = 0;
	uint64_t wall0 = live_now_ns();
	int rc = 0;

	*out = NULL;
	memset(&lr, 0, sizeof(lr));
	if (geteuid() != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "capsim live builds the scenario in network namespaces and needs root "
			 "(CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW); run it with sudo");
		return LIVE_ERR_PERM;
	}
	/* 1. The model. */
	if ((rc = sim_session_load(&s, path, serr)) != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "%.250s", serr);
		return rc == SIM_SESSION_EINPUT ? LIVE_ERR_ARG : LIVE_ERR_SYS;
	}
	sc = sim_session_scenario(s);
	lr.sc = sc;
	if ((rc = live_form(sc, errbuf)) != 0)
		goto out;
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		ntaps += sc->hosts[h].ntaps;
		nsocks += sc->hosts[h].nsockets;
	}
	res = calloc(1, sizeof(*res));
	ms.lists = calloc(ntaps + 1, sizeof(*ms.lists));
	names = calloc(ntaps + 1, sizeof(*names));
	linktypes = calloc(ntaps + 1, sizeof(*linktypes));
	pins = calloc(sc->ntraffic + 1, sizeof(*pins));
	hr = calloc(sc->nhosts + 1, sizeof(*hr));
	lr.taps = calloc(ntaps + 1, sizeof(*lr.taps));
	lr.socks = calloc(nsocks + 1, sizeof(*lr.socks));
	lr.sockfds = calloc(sc->nhosts + 1, sizeof(*lr.sockfds));
	lr.rule_counts = calloc(sc->nhosts + 1, sizeof(*lr.rule_counts));
	lr.links = calloc(sc->nhosts + 1, sizeof(*lr.links));
	lr.noports = calloc(sc->nhosts + 1, sizeof(*lr.noports));
	lr.rcvbuferrs = calloc(sc->nhosts + 1, sizeof(*lr.rcvbuferrs));
	if (!res || !ms.lists || !names || !linktypes || !pins || !hr || !lr.taps || !lr.socks ||
	    !lr.sockfds || !lr.rule_counts || !lr.links || !lr.noports || !lr.rcvbuferrs)
		goto oom;
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		lr.sockfds[h] = calloc(sh->nsockets + 1, sizeof(int));
		lr.rule_counts[h] = calloc(sh->nrules + 1, sizeof(uint64_t));
		lr.links[h] = calloc(sh->nifaces + 1, sizeof(struct live_link_stats));
		if (!lr.sockfds[h] || !lr.rule_counts[h] || !lr.links[h])
			goto oom;
		for (uint32_t i = 0; i < sh->nsockets; i++)
			lr.sockfds[h][i] = -1;
	}
	for (size_t i = 0; i < ntaps; i++)
		lr.taps[i].fd = -1;
	for (size_t i = 0; i < nsocks; i++)
		lr.socks[i].fd = -1;
	lr.ntaps = ntaps;
	lr.nsocks = nsocks;
	{
		size_t k = 0;

		for (uint32_t h = 0; h < sc->nhosts; h++)
			for (uint32_t i = 0; i < sc->hosts[h].ntaps; i++, k++) {
				snprintf(names[k][0], SIM_SCN_NAME_MAX, "%s", sc->hosts[h].name);
				snprintf(names[k][1], SIM_SCN_NAME_MAX, "%s", sc->hosts[h].taps[i].name);
			}
	}
	ms.sc = sc;
	ms.ntaps = ntaps;
	ms.names = (const char (*)[2][SIM_SCN_NAME_MAX])names;
	so.capture = on_model_capture;
	so.capture_ctx = &ms;
	so.list_limit = 1;
	if ((rc = sim_session_run(s, &so, serr)) != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "the model: %.230s", serr);
		rc = rc == SIM_SESSION_EINPUT ? LIVE_ERR_ARG
		     : rc == SIM_SESSION_EENV ? LIVE_ERR_PERM
					      : LIVE_ERR_SYS;
		goto out;
	}
	for (size_t i = 0; i < ntaps; i++) {
		struct sim_session_tap mt;

		if (ms.lists[i].oom)
			goto oom;
		if (sim_session_tap(s, names[i][0], names[i][1], &mt) == 0)
			linktypes[i] = mt.linktype;
	}
	/* 2. The kernel's free choices, pinned to the model's. */
	for (uint32_t i = 0; i < sc->ntraffic; i++)
		if (sc->traffic[i].kind == SIM_SCN_TRAFFIC_SEND)
			pin_of(&sc->traffic[i], ms.lists, ntaps, linktypes, &pins[i]);

	/* 3-5. The kernel. */
	rc = live_side(&lr, o, pins, res, errbuf);
	if (o && o->keep && lr.built)
		res->kept = 1;
	run_close(&lr);
	if (rc)
		goto out;

	/* Comparison. */
	res->path = strdup(path);
	res->title = sc->title ? strdup(sc->title) : NULL;
	res->pid = (long)getpid();
	res->taps = calloc(ntaps + 1, sizeof(*res->taps));
	if (!res->path || !res->taps || (sc->title && !res->title))
		goto oom;
	host_rates(s, sc, hr);
	res->ntaps = ntaps;
	{
		size_t k = 0;

		for (uint32_t h = 0; h < sc->nhosts; h++)
			for (uint32_t i = 0; i < sc->hosts[h].ntaps; i++, k++) {
				struct live_scn_tap *tp = &res->taps[k];
				struct ltap *lt = &lr.taps[k];
				struct sim_session_tap mt;

				memset(&mt, 0, sizeof(mt));
				sim_session_tap(s, names[k][0], names[k][1], &mt);
				snprintf(tp->host, sizeof(tp->host), "%s", names[k][0]);
				snprintf(tp->name, sizeof(tp->name), "%s", names[k][1]);
				tap_what(&sc->hosts[h], lt->st, tp->what, sizeof(tp->what));
				tp->tcpdump = lt->st->tcpdump;
				tp->linktype = linktypes[k];
				tp->model = ms.lists[k].v;
				tp->nmodel = ms.lists[k].n;
				ms.lists[k].v = NULL;
				ms.lists[k].n = 0;
				if (lt->recs.oom)
					goto oom;
				tp->kernel = lt->recs.v;
				tp->nkernel = lt->recs.n;
				lt->recs.v = NULL;
				lt->recs.n = 0;
				tp->m_captured = mt.captured;
				tp->m_received = mt.received;
				tp->m_dropped = mt.dropped;
				tp->k_captured = lt->captured;
				tp->k_received = lt->tp_packets;
				tp->k_dropped = lt->tp_drops;
				compare_tap(res, tp, &hr[h], lt->st->read_rate != 0);
			}
	}
	compare_counters(res, s, &lr, hr);
	compare_drops(res, s, &lr, hr);
	id_zero_check(res);
	model_only_aspects(res, sc);
	for (size_t i = 0; i < res->nchecks; i++) {
		res->differ += res->checks[i].status == LIVE_SCN_DIFFER;
		res->model_only += res->checks[i].status == LIVE_SCN_MODEL_ONLY;
	}
	res->seconds = (double)(live_now_ns() - wall0) / 1e9;
	*out = res;
	res = NULL;
	rc = 0;
	goto out;
oom:
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: out of memory");
	rc = LIVE_ERR_SYS;
out:
	run_free(&lr);
	if (ms.lists)
		for (size_t i = 0; i < ntaps; i++)
			pkts_free(ms.lists[i].v, ms.lists[i].n);
	free(ms.lists);
	free(names);
	free(linktypes);
	free(pins);
	free(hr);
	live_scn_result_free(res);
	sim_session_free(s);
	return rc;
}

void live_scn_result_free(struct live_scn_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ntaps; i++) {
		pkts_free(r->taps[i].model, r->taps[i].nmodel);
		pkts_free(r->taps[i].kernel, r->taps[i].nkernel);
	}
	free(r->taps);
	free(r->checks);
	free(r->path);
	free(r->title);
	free(r);
}
