/*
 * traffic.c - a scenario's `at` lines on the real kernel: datagrams from
 * real sockets inside the sending host's namespace, echo requests from
 * ping sockets, and frames injected onto a wire, each on the scenario's
 * clock.
 *
 * Pacing follows the model exactly (packet i of a line with `rate R` is
 * due at start + i/R, a `burst N every D` sends N at each interval); a
 * packet whose time has passed goes at once, so a fast rate becomes "as
 * fast as this CPU sends", which is why rate-driven results are compared
 * only as "drops happened / did not".
 *
 * Injected frames arrive on HOST.DEV from its wire: they are sent from
 * the wire's far end (or from the far end waiting in the void namespace)
 * with PACKET_QDISC_BYPASS, whose packet_direct_xmit() -> dev_direct_xmit()
 * never calls dev_queue_xmit_nit(): the sending side's taps do not see
 * them, as in the model, where they come from nowhere.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "scn_int.h"
#include "sysio_int.h"

#define REPLAY_MAX 1000000	/* records read from one replay file */

struct replay_rec {
	uint64_t at;		/* ns from the line's start, scaled */
	uint32_t off, len;	/* in the line's byte arena */
};

struct line {
	const struct sim_scn_traffic *tl;
	int fd;			/* the sending socket */
	int own_fd;		/* we opened it (close at the end) */
	struct sockaddr_storage to;
	socklen_t tolen;
	struct sockaddr_ll ll;	/* inject and replay */
	uint8_t *payload;	/* send: transport header (icmp) + payload */
	uint32_t plen;
	int raw_icmp;		/* echo requests from a raw socket: we write id and checksum */
	uint16_t icmp_id;
	uint64_t next;		/* the next packet's number */
	uint64_t count;
	/* replay */
	struct replay_rec *recs;
	uint8_t *arena;
};

struct live_traffic {
	struct line *lines;
	uint32_t n;
};

int live_traffic_supported(const struct sim_scn_traffic *tl, char *why, size_t size)
{
	if (tl->kind != SIM_SCN_TRAFFIC_SEND)
		return 0;
	if (tl->proto == SIM_SCN_L4_TCP) {
		snprintf(why, size,
			 "a tcp send is a data segment of an established flow in the model; the "
			 "live mode has no connection to carry it");
		return -1;
	}
	if (tl->has_vlan) {
		snprintf(why, size,
			 "`send ... vlan` tags a socket's packets, which no socket option does "
			 "(send through a VLAN device instead)");
		return -1;
	}
	return 0;
}

static int sys_fail(char *errbuf, int e, const char *what, unsigned line)
{
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: traffic line %u: %s: %s", line, what,
		 strerror(e));
	return live_errno_class(e);
}

static void sockaddr_of(const struct sim_scn_addr *a, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, a->bytes, 4);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, a->bytes, 16);
		*len = sizeof(*s);
	}
}

/* The far end of HOST.DEV's wire: its namespace and ifindex. */
static int far_end(const struct live_topo *t, const struct sim_scn_ref *dev, int *nsfd,
		   int *ifindex, char *errbuf)
{
	const struct sim_scenario *sc = t->sc;
	const struct sim_scn_iface *ifc = &sc->hosts[dev->host].ifaces[dev->idx];

	if (ifc->wire >= 0) {
		const struct sim_scn_wire *w = &sc->wires[ifc->wire];
		const struct sim_scn_ref *o = (w->a.host == dev->host && w->a.idx == dev->idx) ? &w->b
											: &w->a;

		*nsfd = t->hosts[o->host].nsfd;
		*ifindex = (int)sc->hosts[o->host].ifaces[o->idx].ifindex;
		return 0;
	}
	if (ifc->kind != SIM_SCN_IFACE_ETHER) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live: frames can arrive only on an Ethernet device, not %s.%s",
			 dev->host_name, dev->name);
		return LIVE_ERR_ARG;
	}
	{
		char peer[IFNAMSIZ];
		int rc;

		snprintf(peer, sizeof(peer), "v%u.%u", dev->host % 1000, dev->idx % 100);
		if ((rc = live_topo_enter(t, t->voidns.nsfd, errbuf)) != 0)
			return rc;
		*ifindex = (int)if_nametoindex(peer);
		if ((rc = live_topo_leave(t, errbuf)) != 0)
			return rc;
		*nsfd = t->voidns.nsfd;
		if (!*ifindex) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: the far end of %s.%s is missing",
				 dev->host_name, dev->name);
			return LIVE_ERR_SYS;
		}
	}
	return 0;
}

static int open_inject(struct line *l, const struct live_topo *t, char *errbuf)
{
	int nsfd, ifindex, rc, one = 1;

	if ((rc = far_end(t, &l->tl->dev, &nsfd, &ifindex, errbuf)) != 0)
		return rc;
	l->fd = live_topo_socket(t, nsfd, AF_PACKET, SOCK_RAW, 0, errbuf);
	if (l->fd < 0)
		return l->fd;
	l->own_fd = 1;
	if (setsockopt(l->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		return sys_fail(errbuf, errno, "PACKET_QDISC_BYPASS", l->tl->pos.line);
	memset(&l->ll, 0, sizeof(l->ll));
	l->ll.sll_family = AF_PACKET;
	l->ll.sll_ifindex = ifindex;
	l->ll.sll_halen = 6;
	return 0;
}

static int load_replay(struct line *l, char *errbuf)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(l->tl->pcap, PCAP_TSTAMP_PRECISION_NANO,
							    ebuf);
	uint64_t ts0 = 0;
	size_t cap = 0, acap = 0, alen = 0;
	uint32_t speed = l->tl->speed_milli ? l->tl->speed_milli : 1000;

	if (!p) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: replay: %.200s", ebuf);
		return LIVE_ERR_ARG;
	}
	while (l->count < REPLAY_MAX && pcap_next_ex(p, &h, &d) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;

		if (l->count == 0)
			ts0 = ts;
		if (l->count == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct replay_rec *nr = realloc(l->recs, nc * sizeof(*nr));

			if (!nr)
				goto oom;
			l->recs = nr;
			cap = nc;
		}
		if (acap - alen < h->caplen) {
			size_t nc = (acap ? acap * 2 : 65536) + h->caplen;
			uint8_t *na = realloc(l->arena, nc);

			if (!na)
				goto oom;
			l->arena = na;
			acap = nc;
		}
		memcpy(l->arena + alen, d, h->caplen);
		uint64_t dt = ts > ts0 ? ts - ts0 : 0;

		l->recs[l->count].at = (dt / speed) * 1000 + (dt % speed) * 1000 / speed;
		l->recs[l->count].off = (uint32_t)alen;
		l->recs[l->count].len = h->caplen;
		alen += h->caplen;
		l->count++;
	}
	pcap_close(p);
	return 0;
oom:
	pcap_close(p);
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: replay %s: out of memory", l->tl->pcap);
	return LIVE_ERR_SYS;
}

static int open_send(struct line *l, const struct live_topo *t, const struct live_pin *pin,
		     int *const *socks, char *errbuf)
{
	const struct sim_scn_traffic *tl = l->tl;
	const struct sim_scn_host *sh = &t->sc->hosts[tl->host];
	int fam = tl->to.family == 4 ? AF_INET : AF_INET6;
	int nsfd = t->hosts[tl->host].nsfd;
	int ttl = (int)tl->ttl;

	l->count = tl->count;
	if (tl->proto == SIM_SCN_L4_ICMP) {
		/* The host's own icmp socket sends, so the replies come back
		 * to it (a ping socket gets the replies to its identifier). */
		l->fd = -1;
		for (uint32_t i = 0; i < sh->nsockets; i++)
			if (sh->sockets[i].proto == SIM_SCN_L4_ICMP && socks[tl->host][i] >= 0 &&
			    sh->sockets[i].bind.family == tl->to.family) {
				l->fd = socks[tl->host][i];
				break;
			}
		if (l->fd < 0) {
			/*
			 * No icmp socket on the host: the model's echo requests
			 * come from no socket, so their replies find none
			 * (ping_rcv: NO_SOCKET).  A raw socket sends them with
			 * the model's identifier; it takes a copy of every ICMP
			 * packet (raw_local_deliver) but is no ping socket, so
			 * the replies still end in ping_rcv as in the model.
			 */
			struct sockaddr_storage ss;
			socklen_t len;

			l->fd = live_topo_socket(t, nsfd, fam, SOCK_RAW,
						 fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6, errbuf);
			if (l->fd < 0)
				return l->fd;
			l->own_fd = 1;
			l->raw_icmp = 1;
			if (tl->has_from) {
				sockaddr_of(&tl->from, 0, &ss, &len);
				if (bind(l->fd, (struct sockaddr *)&ss, len) < 0)
					return sys_fail(errbuf, errno, "binding the raw icmp socket",
							tl->pos.line);
			}
		}
		l->icmp_id = pin->icmp_id;
		l->plen = 8 + tl->size;
	} else {
		struct sockaddr_storage ss;
		socklen_t len;

		l->fd = live_topo_socket(t, nsfd, fam, SOCK_DGRAM, IPPROTO_UDP, errbuf);
		if (l->fd < 0)
			return l->fd;
		l->own_fd = 1;
		if (tl->has_from)
			sockaddr_of(&tl->from, tl->sport ? tl->sport : pin->sport, &ss, &len);
		else {
			struct sim_scn_addr any = { .family = tl->to.family };

			sockaddr_of(&any, tl->sport ? tl->sport : pin->sport, &ss, &len);
		}
		if (bind(l->fd, (struct sockaddr *)&ss, len) < 0)
			return sys_fail(errbuf, errno, "binding the sending socket", tl->pos.line);
		l->plen = tl->size;
	}
	if (fam == AF_INET)
		setsockopt(l->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	else
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	sockaddr_of(&tl->to, tl->proto == SIM_SCN_L4_ICMP ? 0 : tl->dport, &l->to, &l->tolen);
	l->payload = calloc(1, l->plen ? l->plen : 1);
	if (!l->payload)
		return sys_fail(errbuf, ENOMEM, "payload", tl->pos.line);
	/* The model's payload: bytes counting up from 0 (sock.c build_send). */
	{
		uint32_t hl = tl->proto == SIM_SCN_L4_ICMP ? 8 : 0;

		for (uint32_t i = 0; i < tl->size; i++)
			l->payload[hl + i] = (uint8_t)i;
		if (hl)
			l->payload[0] = fam == AF_INET ? 8 : 128;	/* echo request */
	}
	return 0;
}

int live_traffic_open(struct live_traffic **out, const struct live_topo *t,
		      const struct live_pin *pins, int *const *socks, char *errbuf)
{
	const struct sim_scenario *sc = t->sc;
	struct live_traffic *tr = calloc(1, sizeof(*tr));
	int rc = 0;

	*out = NULL;
	if (!tr || !(tr->lines = calloc(sc->ntraffic ? sc->ntraffic : 1, sizeof(*tr->lines)))) {
		free(tr);
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: out of memory");
		return LIVE_ERR_SYS;
	}
	for (uint32_t i = 0; i < sc->ntraffic; i++)
		tr->lines[i].fd = -1;
	tr->n = sc->ntraffic;
	for (uint32_t i = 0; i < sc->ntraffic && !rc; i++) {
		struct line *l = &tr->lines[i];

		l->tl = &sc->traffic[i];
		switch (l->tl->kind) {
		case SIM_SCN_TRAFFIC_SEND:
			rc = open_send(l, t, &pins[i], socks, errbuf);
			break;
		case SIM_SCN_TRAFFIC_INJECT:
			l->count = l->tl->count;
			rc = open_inject(l, t, errbuf);
			break;
		case SIM_SCN_TRAFFIC_REPLAY:
			rc = open_inject(l, t, errbuf);
			if (!rc)
				rc = load_replay(l, errbuf);
			break;
		}
	}
	if (rc) {
		live_traffic_close(tr);
		return rc;
	}
	*out = tr;
	return 0;
}

/* When packet @i of line @l is due, in ns from the scenario's start. */
static uint64_t due(const struct line *l, uint64_t i)
{
	const struct sim_scn_traffic *tl = l->tl;

	if (tl->kind == SIM_SCN_TRAFFIC_REPLAY)
		return tl->at + l->recs[i].at;
	if (tl->pace == SIM_SCN_PACE_RATE && tl->rate)
		return tl->at + (i / tl->rate) * 1000000000ull +
		       (i % tl->rate) * 1000000000ull / tl->rate;
	if (tl->pace == SIM_SCN_PACE_BURST && tl->burst)
		return tl->at + (i / tl->burst) * tl->every;
	return tl->at;
}

/* The Internet checksum of an ICMP message, written at bytes 2-3. */
static void icmp_checksum(uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	p[2] = p[3] = 0;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	p[2] = (uint8_t)(sum >> 8);
	p[3] = (uint8_t)sum;
}

static int send_one(struct line *l, uint64_t i)
{
	const struct sim_scn_traffic *tl = l->tl;
	ssize_t n;

	switch (tl->kind) {
	case SIM_SCN_TRAFFIC_SEND:
		if (tl->proto == SIM_SCN_L4_ICMP) {
			/* ping_v4_sendmsg takes the header from us and puts the
			 * socket's identifier in; the sequence is ours. */
			uint16_t seq = (uint16_t)(i + 1);

			l->payload[6] = (uint8_t)(seq >> 8);
			l->payload[7] = (uint8_t)seq;
			if (l->raw_icmp) {
				l->payload[4] = (uint8_t)(l->icmp_id >> 8);
				l->payload[5] = (uint8_t)l->icmp_id;
				/* IPv4 raw sockets send the ICMP header as given;
				 * ICMPv6 ones get their checksum from the kernel. */
				if (tl->to.family == 4)
					icmp_checksum(l->payload, l->plen);
			}
		}
		n = sendto(l->fd, l->payload, l->plen, 0, (struct sockaddr *)&l->to, l->tolen);
		break;
	case SIM_SCN_TRAFFIC_INJECT:
		memcpy(l->ll.sll_addr, tl->frame, 6);
		n = sendto(l->fd, tl->frame, tl->frame_len, 0, (struct sockaddr *)&l->ll,
			   sizeof(l->ll));
		break;
	default: {
		const struct replay_rec *r = &l->recs[i];

		memcpy(l->ll.sll_addr, l->arena + r->off, r->len >= 6 ? 6 : 0);
		n = sendto(l->fd, l->arena + r->off, r->len, 0, (struct sockaddr *)&l->ll,
			   sizeof(l->ll));
		break;
	}
	}
	return n < 0 ? errno : 0;
}

int live_traffic_run(struct live_traffic *tr, uint64_t t0, volatile sig_atomic_t *stop,
		     uint64_t *end, uint64_t *sent, uint64_t *send_errors, int *first_errno,
		     char *errbuf)
{
	(void)errbuf;
	*sent = *send_errors = 0;
	*first_errno = 0;
	for (;;) {
		if (stop && *stop)
			break;
		struct line *best = NULL;
		uint64_t when = UINT64_MAX;

		for (uint32_t i = 0; i < tr->n; i++) {
			struct line *l = &tr->lines[i];

			if (l->next < l->count) {
				uint64_t d = due(l, l->next);

				if (d < when) {
					when = d;
					best = l;
				}
			}
		}
		if (!best)
			break;
		uint64_t at = t0 + when;

		if (live_now_ns() < at) {
			struct timespec ts = { (time_t)(at / 1000000000ull),
					       (long)(at % 1000000000ull) };

			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				if (stop && *stop)
					break;
			if (stop && *stop)
				break;
		}
		int e = send_one(best, best->next);

		best->next++;
		if (e) {
			if (!*first_errno)
				*first_errno = e;
			(*send_errors)++;
		} else {
			(*sent)++;
		}
	}
	*end = live_now_ns();
	return 0;
}

void live_traffic_close(struct live_traffic *tr)
{
	if (!tr)
		return;
	for (uint32_t i = 0; i < tr->n; i++) {
		struct line *l = &tr->lines[i];

		if (l->own_fd && l->fd >= 0)
			close(l->fd);
		free(l->payload);
		free(l->recs);
		free(l->arena);
	}
	free(tr->lines);
	free(tr);
}
