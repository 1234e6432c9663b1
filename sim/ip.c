/*
 * ip.c - IPv4, IPv6 and ARP: the protocol handlers that
 * __netif_receive_skb_core() hands packets to (ip_rcv, ipv6_rcv, arp_rcv),
 * routing, local delivery to the transport demux, forwarding, and the send
 * side from ip_local_out() through the neighbour (ARP resolution) to
 * dev_queue_xmit().
 *
 * On entry to the receive handlers skb->data is at the network header
 * (eth_type_trans pulled the Ethernet header) and skb->dev is the device
 * the packet arrived on.  On entry to sim_ip_local_out() skb->data is at a
 * complete IPv4 or IPv6 header (sim_ip_push_header() writes one).
 *
 * Simplifications, each a place where the model is smaller than the kernel:
 * no fragment reassembly (a fragment is demultiplexed as it is), no IP
 * options processing, no rp_filter or martian checks, no ICMP redirects,
 * no PMTU (a forwarded packet larger than the MTU is dropped PKT_TOO_BIG
 * without the "fragmentation needed" ICMP), no IPv6 neighbour discovery
 * (IPv6 neighbours must be configured; an unknown one fails at once) and no
 * ICMPv6 errors or echo replies; UDP and TCP checksums of received packets
 * are not verified (veth marks locally built packets CHECKSUM_PARTIAL and
 * the kernel does not check them either).
 */
#include "model.h"

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3

#define NSEC_PER_SEC 1000000000ull

/* ------------------------------------------------------------------ */
/* Addresses. */

static unsigned alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int sim_addr_in_prefix(int family, const uint8_t *a, const uint8_t *pfx, unsigned bits)
{
	unsigned n = alen(family) * 8;

	if (bits > n)
		bits = n;
	for (unsigned i = 0; i < bits / 8; i++)
		if (a[i] != pfx[i])
			return 0;
	if (bits % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((a[bits / 8] & m) != (pfx[bits / 8] & m))
			return 0;
	}
	return 1;
}

static int is_zero(int family, const uint8_t *a)
{
	for (unsigned i = 0; i < alen(family); i++)
		if (a[i])
			return 0;
	return 1;
}

static int v4_is_multicast(const uint8_t *a)
{
	return (a[0] & 0xf0) == 0xe0;
}

static int v4_is_lbcast(const uint8_t *a)
{
	return a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
}

/* The subnet broadcast address of one of @dev's IPv4 prefixes. */
static int v4_is_dev_bcast(const struct sim_dev *dev, const uint8_t *a)
{
	for (unsigned i = 0; i < dev->naddrs; i++) {
		const struct sim_addr *x = &dev->addrs[i];
		uint8_t b[4];

		if (x->family != AF_INET || x->prefix >= 31)
			continue;
		for (unsigned k = 0; k < 4; k++) {
			unsigned bits = x->prefix > k * 8 ? x->prefix - k * 8 : 0;
			uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

			b[k] = (uint8_t)((x->addr[k] & m) | (uint8_t)~m);
		}
		if (memcmp(a, b, 4) == 0)
			return 1;
	}
	return 0;
}

static int dev_has_addr(const struct sim_dev *dev, int family, const uint8_t *a)
{
	for (unsigned i = 0; i < dev->naddrs; i++)
		if (dev->addrs[i].family == family && memcmp(dev->addrs[i].addr, a, alen(family)) == 0)
			return 1;
	return 0;
}

/*
 * The local table: an address on any of the host's devices is local to
 * every device (Linux's weak host model), and 127.0.0.0/8 is local as lo's
 * prefix route says.
 */
int sim_addr_is_local(const struct sim_host *h, int family, const uint8_t *a)
{
	if (family == AF_INET && a[0] == 127)
		return 1;
	for (unsigned d = 0; d < h->ndevs; d++)
		if (dev_has_addr(h->devs[d], family, a))
			return 1;
	return 0;
}

static const uint8_t *dev_first_addr(const struct sim_dev *dev, int family)
{
	for (unsigned i = 0; i < dev->naddrs; i++)
		if (dev->addrs[i].family == family)
			return dev->addrs[i].addr;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Routing. */

int sim_route_add(struct sim_host *h, const struct sim_route *r, char *errbuf)
{
	if (h->nroutes == sizeof(h->routes) / sizeof(h->routes[0])) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: too many routes (%u)", h->name, h->nroutes);
		return -1;
	}
	if (r->family != AF_INET && r->family != AF_INET6) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: a route needs family AF_INET or AF_INET6",
			 h->name);
		return -1;
	}
	if (r->prefix > alen(r->family) * 8) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: route prefix /%u is too long", h->name,
			 r->prefix);
		return -1;
	}
	if (!r->dev && !r->has_via) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: a route needs a gateway or a device",
			 h->name);
		return -1;
	}
	if (r->dev && r->dev->host != h) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: route device %s is on another host",
			 h->name, r->dev->name);
		return -1;
	}
	h->routes[h->nroutes++] = *r;
	return 0;
}

/* The connected route covering @a, as the kernel adds one per address. */
static struct sim_dev *connected(const struct sim_host *h, int family, const uint8_t *a,
				 int *plen)
{
	struct sim_dev *best = NULL;

	for (unsigned d = 0; d < h->ndevs; d++) {
		struct sim_dev *dev = h->devs[d];

		if (dev->kind == SIM_DEV_LOOPBACK)
			continue;
		for (unsigned i = 0; i < dev->naddrs; i++) {
			const struct sim_addr *x = &dev->addrs[i];

			if (x->family == family && (int)x->prefix > *plen &&
			    sim_addr_in_prefix(family, a, x->addr, x->prefix)) {
				best = dev;
				*plen = x->prefix;
			}
		}
	}
	return best;
}

/*
 * fib_lookup() in the main table: the longest prefix among the connected
 * routes and the configured ones (a connected route wins a tie).  A gateway
 * without a device takes the device of the connected route that reaches
 * the gateway.
 */
static int fib_lookup(const struct sim_host *h, int family, const uint8_t *dst,
		      struct sim_rtable *rt)
{
	int plen = -1;
	struct sim_dev *dev = connected(h, family, dst, &plen);
	const struct sim_route *best = NULL;

	for (unsigned i = 0; i < h->nroutes; i++) {
		const struct sim_route *r = &h->routes[i];

		if (r->family == family && (int)r->prefix > plen &&
		    sim_addr_in_prefix(family, dst, r->dst, r->prefix)) {
			best = r;
			plen = r->prefix;
		}
	}
	memset(rt, 0, sizeof(*rt));
	rt->family = family;
	if (best) {
		dev = best->dev;
		if (best->has_via) {
			memcpy(rt->nexthop, best->via, alen(family));
			if (!dev) {
				int p2 = -1;

				dev = connected(h, family, best->via, &p2);
			}
		} else {
			memcpy(rt->nexthop, dst, alen(family));
		}
	} else if (dev) {
		memcpy(rt->nexthop, dst, alen(family));
	}
	if (!dev)
		return -1;
	rt->dev = dev;
	rt->type = SIM_RTN_UNICAST;
	return 0;
}

int sim_route_output(const struct sim_host *h, int family, const uint8_t *dst,
		     struct sim_rtable *rt)
{
	const uint8_t *src;

	if (sim_addr_is_local(h, family, dst)) {
		memset(rt, 0, sizeof(*rt));
		rt->family = family;
		rt->type = SIM_RTN_LOCAL;
		rt->dev = h->devs[0];
		memcpy(rt->nexthop, dst, alen(family));
		memcpy(rt->prefsrc, dst, alen(family));
		return 0;
	}
	if (family == AF_INET && v4_is_lbcast(dst)) {
		/* 255.255.255.255 leaves by the default route's device. */
		static const uint8_t any[4];

		if (fib_lookup(h, family, any, rt) < 0)
			return -1;
		rt->type = SIM_RTN_BROADCAST;
		memcpy(rt->nexthop, dst, 4);
	} else if (fib_lookup(h, family, dst, rt) < 0) {
		return -1;
	}
	if (family == AF_INET && rt->type == SIM_RTN_UNICAST) {
		if (v4_is_multicast(dst))
			rt->type = SIM_RTN_MULTICAST;
		else if (v4_is_dev_bcast(rt->dev, dst))
			rt->type = SIM_RTN_BROADCAST;
	} else if (family == AF_INET6 && dst[0] == 0xff) {
		rt->type = SIM_RTN_MULTICAST;
	}
	/* inet_select_addr(): the first address of the family on the device. */
	src = dev_first_addr(rt->dev, family);
	if (src)
		memcpy(rt->prefsrc, src, alen(family));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checksums and headers. */

uint32_t sim_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t sim_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of TCP, UDP and ICMPv6. */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			   uint32_t len)
{
	uint32_t s = sim_csum_add(0, src, alen(family));

	s = sim_csum_add(s, dst, alen(family));
	return s + proto + (len >> 16) + (len & 0xffff);
}

void sim_ip_push_header(struct sim_host *h, struct sim_skb *skb, int family, uint8_t proto,
			const uint8_t *src, const uint8_t *dst, uint8_t ttl, int df)
{
	uint8_t *l4 = sim_skb_data(skb);
	uint32_t l4len = skb->len;
	uint32_t csum_off = 0;

	switch (proto) {
	case IPPROTO_UDP:
		csum_off = 6;
		break;
	case IPPROTO_TCP:
		csum_off = 16;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		csum_off = 2;
		break;
	}
	if (csum_off && l4len >= csum_off + 2) {
		uint32_t s = proto == IPPROTO_ICMP ? 0 : pseudo_sum(family, src, dst, proto, l4len);
		uint16_t c;

		l4[csum_off] = l4[csum_off + 1] = 0;
		c = sim_csum_fold(sim_csum_add(s, l4, l4len));
		if (c == 0 && proto == IPPROTO_UDP)
			c = 0xffff;	/* udp4_hwcsum / udp_v6: 0 means "none" */
		sim_put16(l4 + csum_off, c);
	}
	skb->transport = (int32_t)skb->data;
	if (family == AF_INET) {
		uint8_t *ip;

		sim_skb_push(skb, 20);
		ip = sim_skb_data(skb);
		ip[0] = 0x45;
		ip[1] = 0;
		sim_put16(ip + 2, (uint16_t)skb->len);
		/*
		 * The identification: __ip_select_ident() gives every packet
		 * from an unconnected socket the next value of a counter with
		 * a random start - DF or not.  (Older sources give a DF
		 * packet 0 in ip_select_ident_segs(); Linux 6.18 was measured
		 * by `capsim live` sending 0x0a17, 0x0a18, ... with DF.)  The
		 * start is random on the kernel, so live runs do not compare
		 * the value; the model's is seeded and never 0.
		 */
		if (h->ip_id == 0)
			h->ip_id = 1 + bpfvm_rand64(&h->w->rng) % 0xfffe;
		sim_put16(ip + 4, (uint16_t)h->ip_id++);
		sim_put16(ip + 6, df ? 0x4000 : 0);
		ip[8] = ttl;
		ip[9] = proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		sim_put16(ip + 10, sim_csum_fold(sim_csum_add(0, ip, 20)));
		skb->protocol = ETH_P_IP;
	} else {
		uint8_t *ip;

		sim_skb_push(skb, 40);
		ip = sim_skb_data(skb);
		memset(ip, 0, 4);
		ip[0] = 0x60;
		sim_put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = ttl;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		skb->protocol = ETH_P_IPV6;
	}
	skb->net = (int32_t)skb->data;
}

/* A fresh skb for a packet the host itself answers with: @l4len bytes of
 * transport header and payload at skb->data, headroom for the rest. */
static struct sim_skb *reply_skb(struct sim_ctx *c, uint32_t l4len)
{
	struct sim_skb *skb = sim_skb_alloc(c->w, l4len + 60);

	if (!skb)
		return NULL;
	skb->data += 60;
	skb->len = l4len;
	skb->tstamp = c->t;
	return skb;
}

/* ------------------------------------------------------------------ */
/* ICMP errors: icmp_send(). */

/*
 * icmpv4_xrlim_allow() -> inet_peer_xrlim_allow(): per destination, a
 * token bucket of icmp_ratelimit (1000 ms) per message and a burst of six
 * (XRLIM_BURST_FACTOR); a new peer starts full (inet_getpeer sets
 * rate_last 60 s back).  Only the types in icmp_ratemask (default 6168:
 * destination unreachable, source quench, time exceeded, parameter
 * problem) are limited, and never towards a loopback route.  The global
 * icmp_msgs_per_sec limit (1000/s, burst 50) is not modelled: towards one
 * peer the per-peer limit always binds first.
 */
static int icmp_xrlim_allow(struct sim_ctx *c, const uint8_t *dst)
{
	const sim_ns timeout = NSEC_PER_SEC, burst = 6 * NSEC_PER_SEC;
	struct sim_host *h = c->host;
	struct sim_icmp_peer *p = NULL;

	for (unsigned i = 0; i < h->nicmp_peers; i++)
		if (memcmp(h->icmp_peers[i].addr, dst, 4) == 0)
			p = &h->icmp_peers[i];
	if (!p) {
		unsigned n = sizeof(h->icmp_peers) / sizeof(h->icmp_peers[0]);

		/* A full table recycles the oldest slot (inet_peer GC). */
		p = &h->icmp_peers[h->nicmp_peers < n ? h->nicmp_peers++ : h->icmp_peer_next++ % n];
		memcpy(p->addr, dst, 4);
		p->tokens = burst;
		p->last = c->t;
	}
	p->tokens += c->t - p->last;
	p->last = c->t;
	if (p->tokens > burst)
		p->tokens = burst;
	if (p->tokens >= timeout) {
		p->tokens -= timeout;
		return 1;
	}
	return 0;
}

static void ip_output_rt(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt,
			 int local);
static void ip_local_out_rt(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt);

/*
 * __icmp_send(): an ICMP error about @orig (skb->data at its IPv4 header)
 * back to its source.  Never about an ICMP error, a non-first fragment, or
 * a packet sent to or from a broadcast or multicast address.
 */
static void icmp_send(struct sim_ctx *c, const struct sim_skb *orig, uint8_t type, uint8_t code,
		      int to_broadcast)
{
	const uint8_t *ip = sim_skb_data(orig);
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4, quote;
	struct sim_rtable rt;
	struct sim_skb *skb;
	uint8_t *p;

	if (to_broadcast || (sim_get16(ip + 6) & 0x1fff))
		return;
	if (v4_is_multicast(ip + 12) || v4_is_lbcast(ip + 12) || is_zero(AF_INET, ip + 12))
		return;
	if (ip[9] == IPPROTO_ICMP && orig->len > ihl) {
		uint8_t t = ip[ihl];

		/* Only informational types (echo, timestamp ...) get errors. */
		if (t == ICMP_DEST_UNREACH || t == 4 || t == 5 || t == ICMP_TIME_EXCEEDED || t == 12)
			return;
	}
	if (sim_route_output(c->host, AF_INET, ip + 12, &rt) < 0)
		return;
	if (rt.type != SIM_RTN_LOCAL && !icmp_xrlim_allow(c, ip + 12))
		return;
	/* The quote: as much of the packet as fits in 576 bytes. */
	quote = orig->len;
	if (quote > 576 - 20 - 8)
		quote = 576 - 20 - 8;
	if (!(skb = reply_skb(c, 8 + quote)))
		return;
	p = sim_skb_data(skb);
	memset(p, 0, 8);
	p[0] = type;
	p[1] = code;
	memcpy(p + 8, ip, quote);
	/* The source is the address the packet was sent to when it is ours. */
	sim_ip_push_header(c->host, skb, AF_INET, IPPROTO_ICMP,
			   sim_addr_is_local(c->host, AF_INET, ip + 16) ? ip + 16 : rt.prefsrc,
			   ip + 12, 64, 0);
	/*
	 * The error goes out with precedence "internetwork control": for an
	 * error type __icmp_send() sets the ICMP socket's TOS to the
	 * original's TOS bits | IPTOS_PREC_INTERNETCONTROL (0xc0).  The
	 * model's packets all carry TOS 0, so the error carries 0xc0, as
	 * `capsim live` measured on 6.18.
	 */
	p = sim_skb_data(skb);
	p[1] = (uint8_t)((ip[1] & 0x1e) | 0xc0);
	p[10] = p[11] = 0;
	sim_put16(p + 10, sim_csum_fold(sim_csum_add(0, p, 20)));
	ip_local_out_rt(c, skb, &rt);
}

/* ------------------------------------------------------------------ */
/* The neighbour layer and ARP. */

static struct sim_neigh *neigh_lookup(struct sim_host *h, int family, const uint8_t *a,
				      const struct sim_dev *dev)
{
	for (unsigned i = 0; i < h->nneigh; i++) {
		struct sim_neigh *n = &h->neigh[i];

		if (n->family == family && n->dev == dev && memcmp(n->addr, a, alen(family)) == 0)
			return n;
	}
	return NULL;
}

static struct sim_neigh *neigh_create(struct sim_host *h, int family, const uint8_t *a,
				      struct sim_dev *dev)
{
	struct sim_neigh *n;

	if (h->nneigh == sizeof(h->neigh) / sizeof(h->neigh[0]))
		return NULL;
	n = &h->neigh[h->nneigh++];
	memset(n, 0, sizeof(*n));
	n->family = family;
	memcpy(n->addr, a, alen(family));
	n->dev = dev;
	return n;
}

int sim_neigh_add(struct sim_host *h, int family, const uint8_t *addr, const uint8_t mac[6],
		  struct sim_dev *dev, char *errbuf)
{
	struct sim_neigh *n;

	if (!dev || dev->host != h) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: a neighbour needs a device of the host",
			 h->name);
		return -1;
	}
	if (family != AF_INET && family != AF_INET6) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: a neighbour needs AF_INET or AF_INET6",
			 h->name);
		return -1;
	}
	n = neigh_lookup(h, family, addr, dev);
	if (!n && !(n = neigh_create(h, family, addr, dev))) {
		snprintf(errbuf, SIM_ERRBUF_SIZE, "host %s: too many neighbours", h->name);
		return -1;
	}
	memcpy(n->mac, mac, 6);
	n->resolved = 1;
	n->permanent = 1;
	return 0;
}

/* The device a packet really leaves by and the MAC a VLAN device has. */
static void eth_push(struct sim_skb *skb, const uint8_t *dst, const struct sim_dev *dev,
		     uint16_t type)
{
	uint8_t *e;

	sim_skb_push(skb, ETH_HLEN);
	e = sim_skb_data(skb);
	memcpy(e, dst, 6);
	memcpy(e + 6, dev->mac, 6);
	sim_put16(e + 12, type);
	skb->mac = (int32_t)skb->data;
}

/*
 * arp_send_dst(): an ARP packet of @op from @dev, built as arp_create()
 * does, straight to dev_queue_xmit (arp_xmit; no IP hooks).
 */
static void arp_send(struct sim_ctx *c, uint16_t op, struct sim_dev *dev, const uint8_t *eth_dst,
		     const uint8_t *sip, const uint8_t *tip, const uint8_t *tha)
{
	static const uint8_t zero[6];
	struct sim_skb *skb = reply_skb(c, 28);
	uint8_t *a;

	if (!skb)
		return;
	a = sim_skb_data(skb);
	sim_put16(a, ARPHRD_ETHER);
	sim_put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	sim_put16(a + 6, op);
	memcpy(a + 8, dev->mac, 6);
	memcpy(a + 14, sip, 4);
	memcpy(a + 18, tha ? tha : zero, 6);
	memcpy(a + 24, tip, 4);
	skb->net = (int32_t)skb->data;
	skb->protocol = ETH_P_ARP;
	skb->dev = dev;
	eth_push(skb, eth_dst, dev, ETH_P_ARP);
	sim_dev_queue_xmit(c, skb);
}

/* neigh_probe() -> arp_solicit(): a broadcast request for @n's address. */
static void arp_solicit(struct sim_ctx *c, struct sim_neigh *n, const uint8_t *saddr)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t *src = saddr;

	/* arp_announce 0: the packet's own source when it is local. */
	if (!src || !sim_addr_is_local(c->host, AF_INET, src))
		src = dev_first_addr(n->dev, AF_INET);
	if (!src) {
		static const uint8_t any[4];

		src = any;
	}
	memcpy(n->probe_src, src, 4);
	n->probes++;
	arp_send(c, ARPOP_REQUEST, n->dev, bcast, src, n->addr, NULL);
}

static void neigh_xmit_queue(struct sim_ctx *c, struct sim_neigh *n)
{
	struct sim_skb *skb;

	while ((skb = sim_queue_pop(&n->pending))) {
		n->pending_truesize -= skb->truesize;
		eth_push(skb, n->mac, skb->dev, skb->protocol);
		sim_dev_queue_xmit(c, skb);
	}
}

/* neigh_update(): the neighbour's address is known; send what waited. */
static void neigh_update(struct sim_ctx *c, struct sim_neigh *n, const uint8_t *mac)
{
	if (n->permanent)
		return;
	memcpy(n->mac, mac, 6);
	n->resolved = 1;
	n->probes = 0;
	n->next_probe = 0;
	neigh_xmit_queue(c, n);
}

/*
 * __neigh_event_send(): queue @skb on an unresolved neighbour and start
 * resolving.  The queue holds unres_qlen_bytes (212992) of truesize; when
 * it overflows the oldest packet is dropped (NEIGH_QUEUEFULL).
 */
static void neigh_resolve_output(struct sim_ctx *c, struct sim_neigh *n, struct sim_skb *skb,
				 const uint8_t *saddr)
{
	const uint32_t unres_qlen_bytes = 212992;

	while (n->pending.len && n->pending_truesize + skb->truesize > unres_qlen_bytes) {
		struct sim_skb *old = sim_queue_pop(&n->pending);

		n->pending_truesize -= old->truesize;
		sim_kfree_skb_reason(c, SIM_ST_NEIGH_OUTPUT, old, SIM_DROP_NEIGH_QUEUEFULL);
	}
	sim_queue_push(&n->pending, skb);
	n->pending_truesize += skb->truesize;
	if (n->next_probe)
		return;		/* NUD_INCOMPLETE already: the timer runs */
	/*
	 * NUD_NONE or NUD_FAILED -> NUD_INCOMPLETE: probes starts at
	 * ucast_probes (3) and one probe goes out at once; neigh_timer_handler
	 * sends one more per retrans_time (1 s) and gives up when probes
	 * reaches neigh_max_probes() = ucast 3 + app 0 + mcast 3: three
	 * requests, failure 3 s after the first.
	 */
	n->probes = 3;
	arp_solicit(c, n, saddr);
	n->next_probe = c->t + NSEC_PER_SEC;
	sim_neigh_timer_arm(c->w, c->host, n->next_probe);
}

void sim_neigh_timer(struct sim_world *w, struct sim_host *h)
{
	struct sim_ctx c = { .w = w, .host = h, .cpu = &h->cpu[0], .t = w->clock.now };
	sim_ns next = 0;

	for (unsigned i = 0; i < h->nneigh; i++) {
		struct sim_neigh *n = &h->neigh[i];
		struct sim_skb *skb;

		if (!n->next_probe || n->resolved)
			continue;
		if (n->next_probe > c.t) {
			if (!next || n->next_probe < next)
				next = n->next_probe;
			continue;
		}
		if (n->probes >= 6) {
			/* NUD_FAILED: neigh_invalidate() drops what waited. */
			n->next_probe = 0;
			while ((skb = sim_queue_pop(&n->pending))) {
				n->pending_truesize -= skb->truesize;
				sim_kfree_skb_reason(&c, SIM_ST_NEIGH_OUTPUT, skb, SIM_DROP_NEIGH_FAILED);
			}
			continue;
		}
		arp_solicit(&c, n, n->probe_src);
		n->next_probe = c.t + NSEC_PER_SEC;
		if (!next || n->next_probe < next)
			next = n->next_probe;
	}
	if (next)
		sim_neigh_timer_arm(w, h, next);
}

static void mcast_mac(int family, const uint8_t *a, uint8_t *mac)
{
	if (family == AF_INET) {
		mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
		mac[3] = a[1] & 0x7f, mac[4] = a[2], mac[5] = a[3];
	} else {
		mac[0] = mac[1] = 0x33;
		memcpy(mac + 2, a + 12, 4);
	}
}

/*
 * ip_finish_output2() -> neigh_output(): the Ethernet header from the
 * neighbour entry, or the packet waits for ARP.
 */
static void neigh_output(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];
	struct sim_dev *dev = rt->dev;
	uint8_t mac[6];
	struct sim_neigh *n;

	skb->dev = dev;
	sim_trace(c, SIM_ST_NEIGH_OUTPUT, skb, dev, SIM_DROP_NONE);
	if (dev->kind == SIM_DEV_LOOPBACK) {
		/* lo is IFF_NOARP: its header carries zero addresses. */
		eth_push(skb, zero, dev, skb->protocol);
		sim_dev_queue_xmit(c, skb);
		return;
	}
	if (rt->type == SIM_RTN_BROADCAST || rt->type == SIM_RTN_MULTICAST) {
		if (rt->type == SIM_RTN_BROADCAST)
			memcpy(mac, bcast, 6);
		else
			mcast_mac(rt->family, rt->nexthop, mac);
		eth_push(skb, mac, dev, skb->protocol);
		sim_dev_queue_xmit(c, skb);
		return;
	}
	n = neigh_lookup(c->host, rt->family, rt->nexthop, dev);
	if (n && n->resolved) {
		eth_push(skb, n->mac, dev, skb->protocol);
		sim_dev_queue_xmit(c, skb);
		return;
	}
	if (rt->family == AF_INET6) {
		/* No neighbour discovery in the model (see the top of the file). */
		sim_kfree_skb_reason(c, SIM_ST_NEIGH_OUTPUT, skb, SIM_DROP_NEIGH_FAILED);
		return;
	}
	if (!n && !(n = neigh_create(c->host, rt->family, rt->nexthop, dev))) {
		sim_kfree_skb_reason(c, SIM_ST_NEIGH_OUTPUT, skb, SIM_DROP_NEIGH_FAILED);
		return;
	}
	neigh_resolve_output(c, n, skb, sim_skb_data(skb) + 12);
}

/* ------------------------------------------------------------------ */
/* Output: ip_output, ip_finish_output (and their IPv6 twins). */

/*
 * ip_output(): POST_ROUTING, then the neighbour.  @local is 1 for packets
 * the host sends (ip_local_out ran the OUTPUT hook), 0 for forwarded ones.
 */
static void ip_output_rt(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt,
			 int local)
{
	struct sim_host *h = c->host;

	if (local) {
		if (!sim_nf_hook(c, h->hook[SIM_NF_INET_LOCAL_OUT], SIM_ST_NF_LOCAL_OUT, skb, NULL, rt->dev))
			return;
	}
	skb->dev = rt->dev;
	if (!sim_nf_hook(c, h->hook[SIM_NF_INET_POST_ROUTING], SIM_ST_NF_POST_ROUTING, skb, NULL,
			 rt->dev))
		return;
	neigh_output(c, skb, rt);
}

/*
 * __ip_local_out() for a packet whose route is known: the kernel routes
 * in sendmsg (ip_route_output_flow), or in icmp_reply/icmp_send and
 * ip_send_unicast_reply for what the stack answers itself, before the
 * OUTPUT hook runs, so the hook knows the output device.  The model
 * reports the stages as IP_LOCAL_OUT, IP_ROUTE_OUTPUT, NF_LOCAL_OUT ...
 */
static void ip_local_out_rt(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt)
{
	skb->net = (int32_t)skb->data;
	sim_trace(c, SIM_ST_IP_LOCAL_OUT, skb, NULL, SIM_DROP_NONE);
	sim_trace(c, SIM_ST_IP_ROUTE_OUTPUT, skb, rt->dev, SIM_DROP_NONE);
	ip_output_rt(c, skb, rt, 1);
}

void sim_ip_local_out(struct sim_ctx *c, struct sim_skb *skb)
{
	const uint8_t *ip = sim_skb_data(skb);
	int family = skb->protocol == ETH_P_IPV6 ? AF_INET6 : AF_INET;
	struct sim_rtable rt;

	if (sim_route_output(c->host, family, family == AF_INET ? ip + 16 : ip + 24, &rt) < 0) {
		sim_trace(c, SIM_ST_IP_LOCAL_OUT, skb, NULL, SIM_DROP_NONE);
		sim_kfree_skb_reason(c, SIM_ST_IP_ROUTE_OUTPUT, skb, SIM_DROP_IP_OUTNOROUTES);
		return;
	}
	ip_local_out_rt(c, skb, &rt);
}

/* ------------------------------------------------------------------ */
/* Forwarding. */

/*
 * ip_forward(): only PACKET_HOST frames, TTL > 1 (else ICMP time exceeded
 * and IP_INHDR), the MTU, the FORWARD hook, TTL decremented, then
 * ip_output() without the OUTPUT hook.
 */
static void ip_forward(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt)
{
	uint8_t *ip = sim_skb_data(skb);

	sim_trace(c, SIM_ST_IP_FORWARD, skb, skb->dev, SIM_DROP_NONE);
	if (skb->pkt_type != PACKET_HOST) {
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	if (ip[8] <= 1) {
		icmp_send(c, skb, ICMP_TIME_EXCEEDED, 0, 0);
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_IP_INHDR);
		return;
	}
	if (skb->len > rt->dev->mtu && (sim_get16(ip + 6) & 0x4000)) {
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_PKT_TOO_BIG);
		return;
	}
	if (!sim_nf_hook(c, c->host->hook[SIM_NF_INET_FORWARD], SIM_ST_NF_FORWARD, skb, skb->dev,
			 rt->dev))
		return;
	/* ip_decrease_ttl(): the checksum updated incrementally. */
	{
		uint32_t sum = (uint32_t)sim_get16(ip + 10) + 0x0100;

		ip[8]--;
		sim_put16(ip + 10, (uint16_t)(sum + (sum >> 16)));
	}
	/* A received skb leaves with none of its receive state. */
	skb->pkt_type = PACKET_HOST;
	skb->vlan_present = 0;
	ip_output_rt(c, skb, rt, 0);
}

/* ip6_forward(): hop limit, the FORWARD hook, output. */
static void ip6_forward(struct sim_ctx *c, struct sim_skb *skb, const struct sim_rtable *rt)
{
	uint8_t *ip = sim_skb_data(skb);

	sim_trace(c, SIM_ST_IP_FORWARD, skb, skb->dev, SIM_DROP_NONE);
	if (skb->pkt_type != PACKET_HOST) {
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	if (ip[7] <= 1) {
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_IP_INHDR);
		return;
	}
	if (skb->len > rt->dev->mtu) {
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_PKT_TOO_BIG);
		return;
	}
	if (!sim_nf_hook(c, c->host->hook[SIM_NF_INET_FORWARD], SIM_ST_NF_FORWARD, skb, skb->dev,
			 rt->dev))
		return;
	ip[7]--;
	skb->pkt_type = PACKET_HOST;
	skb->vlan_present = 0;
	ip_output_rt(c, skb, rt, 0);
}

/* ------------------------------------------------------------------ */
/* Local delivery: the transport handlers. */

/* tcp_v4_send_reset(): the RST a segment for no socket earns. */
static void tcp_send_reset(struct sim_ctx *c, const struct sim_skb *orig, uint32_t thoff)
{
	const uint8_t *ip = sim_skb_data(orig), *th = ip + thoff;
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;
	uint8_t flags = th[13];
	struct sim_rtable rt;
	struct sim_skb *skb;
	uint8_t *t;

	if (flags & 0x04)	/* never a RST for a RST */
		return;
	if (sim_route_output(c->host, AF_INET, ip + 12, &rt) < 0 || !(skb = reply_skb(c, 20)))
		return;
	t = sim_skb_data(skb);
	memset(t, 0, 20);
	memcpy(t, th + 2, 2);
	memcpy(t + 2, th, 2);
	t[12] = 5 << 4;
	if (flags & 0x10) {
		memcpy(t + 4, th + 8, 4);	/* seq = the segment's ack_seq */
		t[13] = 0x04;
	} else {
		uint32_t seglen = sim_get16(ip + 2) - thoff - doff;
		uint32_t ack = sim_get32(th + 4) + seglen + !!(flags & 0x02) + !!(flags & 0x01);

		sim_put32(t + 8, ack);
		t[13] = 0x14;	/* RST|ACK */
	}
	sim_ip_push_header(c->host, skb, AF_INET, IPPROTO_TCP, ip + 16, ip + 12, 64, 1);
	ip_local_out_rt(c, skb, &rt);
}

/* icmp_echo() -> icmp_reply(): the request's bytes back, type 0. */
static void icmp_echo_reply(struct sim_ctx *c, const struct sim_skb *orig, uint32_t ihl)
{
	const uint8_t *ip = sim_skb_data(orig);
	uint32_t l4len = sim_get16(ip + 2) - ihl;
	struct sim_rtable rt;
	struct sim_skb *skb;

	if (sim_route_output(c->host, AF_INET, ip + 12, &rt) < 0 || !(skb = reply_skb(c, l4len)))
		return;
	memcpy(sim_skb_data(skb), ip + ihl, l4len);
	sim_skb_data(skb)[0] = ICMP_ECHOREPLY;
	sim_ip_push_header(c->host, skb, AF_INET, IPPROTO_ICMP, ip + 16, ip + 12, 64, 0);
	ip_local_out_rt(c, skb, &rt);
}

/*
 * __udp4_lib_rcv() / __udp6_lib_rcv(): the socket demux.  Broadcast and
 * multicast go to every matching socket (__udp4_lib_mcast_deliver) and are
 * consumed when none matches; unicast to none is NO_SOCKET, after an ICMP
 * port unreachable (IPv4 only in the model).
 */
static void udp_rcv(struct sim_ctx *c, struct sim_skb *skb, int family, uint32_t thoff,
		    int bcast)
{
	const uint8_t *ip = sim_skb_data(skb);
	const uint8_t *daddr = family == AF_INET ? ip + 16 : ip + 24;
	struct sim_sock *sk;
	uint16_t ulen, dport;

	sim_trace(c, SIM_ST_UDP_RCV, skb, skb->dev, SIM_DROP_NONE);
	if (thoff > skb->len || 8 > skb->len - thoff) {
		sim_kfree_skb_reason(c, SIM_ST_UDP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	ulen = sim_get16(ip + thoff + 4);
	if (ulen > skb->len - thoff || ulen < 8) {
		sim_kfree_skb_reason(c, SIM_ST_UDP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	dport = sim_get16(ip + thoff + 2);
	skb->transport = (int32_t)(skb->data + thoff);
	if (bcast) {
		struct sim_sock *first = NULL;

		for (sk = c->host->socks; sk; sk = sk->next) {
			if (!sim_sock_match(sk, IPPROTO_UDP, family, daddr, dport))
				continue;
			if (first) {
				struct sim_skb *n = sim_skb_clone(c->w, skb);

				if (n)
					sim_sock_queue_rcv(c, first, n, 1);
			}
			first = sk;
		}
		if (first)
			sim_sock_queue_rcv(c, first, skb, 1);
		else
			sim_consume_skb(c, skb);
		return;
	}
	sk = sim_sock_lookup(c->host, IPPROTO_UDP, family, daddr, dport);
	if (!sk) {
		if (family == AF_INET)
			icmp_send(c, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
		sim_kfree_skb_reason(c, SIM_ST_UDP_RCV, skb, SIM_DROP_NO_SOCKET);
		return;
	}
	sim_sock_queue_rcv(c, sk, skb, 1);
}

/*
 * tcp_v4_rcv(): a segment for a bound socket is queued on it (the model
 * has no connections: no handshake, no ACKs); for none, NO_SOCKET after a
 * RST (tcp_v4_send_reset).
 */
static void tcp_rcv(struct sim_ctx *c, struct sim_skb *skb, int family, uint32_t thoff)
{
	const uint8_t *ip = sim_skb_data(skb);
	const uint8_t *daddr = family == AF_INET ? ip + 16 : ip + 24;
	struct sim_sock *sk;

	sim_trace(c, SIM_ST_TCP_RCV, skb, skb->dev, SIM_DROP_NONE);
	if (skb->pkt_type != PACKET_HOST) {
		sim_kfree_skb_reason(c, SIM_ST_TCP_RCV, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	if (thoff > skb->len || 20 > skb->len - thoff ||
	    (uint32_t)(ip[thoff + 12] >> 4) * 4 < 20 ||
	    (uint32_t)(ip[thoff + 12] >> 4) * 4 > skb->len - thoff) {
		sim_kfree_skb_reason(c, SIM_ST_TCP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	skb->transport = (int32_t)(skb->data + thoff);
	sk = sim_sock_lookup(c->host, IPPROTO_TCP, family, daddr, sim_get16(ip + thoff + 2));
	if (!sk) {
		if (family == AF_INET)
			tcp_send_reset(c, skb, thoff);
		sim_kfree_skb_reason(c, SIM_ST_TCP_RCV, skb, SIM_DROP_NO_SOCKET);
		return;
	}
	sim_sock_queue_rcv(c, sk, skb, 0);
}

/*
 * icmp_rcv(): an echo request is answered (icmp_echo; not when sent to a
 * broadcast address, icmp_echo_ignore_broadcasts 1) and consumed; an echo
 * reply goes to a ping socket bound to the address (ping_rcv), NO_SOCKET
 * when there is none; errors and the rest are consumed.
 */
static void icmp_rcv(struct sim_ctx *c, struct sim_skb *skb, uint32_t ihl, int bcast)
{
	const uint8_t *ip = sim_skb_data(skb);
	struct sim_sock *sk;

	sim_trace(c, SIM_ST_ICMP_RCV, skb, skb->dev, SIM_DROP_NONE);
	if (ihl > skb->len || 8 > skb->len - ihl) {
		sim_kfree_skb_reason(c, SIM_ST_ICMP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	skb->transport = (int32_t)(skb->data + ihl);
	switch (ip[ihl]) {
	case ICMP_ECHO:
		if (!bcast)
			icmp_echo_reply(c, skb, ihl);
		sim_consume_skb(c, skb);
		return;
	case ICMP_ECHOREPLY:
		sk = sim_sock_lookup(c->host, IPPROTO_ICMP, AF_INET, ip + 16, 0);
		if (!sk) {
			sim_kfree_skb_reason(c, SIM_ST_ICMP_RCV, skb, SIM_DROP_NO_SOCKET);
			return;
		}
		sim_sock_queue_rcv(c, sk, skb, 0);
		return;
	default:
		sim_consume_skb(c, skb);
		return;
	}
}

/*
 * ip_local_deliver() after the INPUT hook: ip_protocol_deliver_rcu() by
 * protocol; an unknown protocol is IP_NOPROTO after an ICMP protocol
 * unreachable.
 */
static void ip_local_deliver(struct sim_ctx *c, struct sim_skb *skb, int bcast)
{
	const uint8_t *ip = sim_skb_data(skb);
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;

	if (!sim_nf_hook(c, c->host->hook[SIM_NF_INET_LOCAL_IN], SIM_ST_NF_LOCAL_IN, skb, skb->dev, NULL))
		return;
	switch (ip[9]) {
	case IPPROTO_UDP:
		udp_rcv(c, skb, AF_INET, ihl, bcast);
		return;
	case IPPROTO_TCP:
		if (bcast) {
			sim_kfree_skb_reason(c, SIM_ST_TCP_RCV, skb, SIM_DROP_NOT_SPECIFIED);
			return;
		}
		tcp_rcv(c, skb, AF_INET, ihl);
		return;
	case IPPROTO_ICMP:
		icmp_rcv(c, skb, ihl, bcast);
		return;
	default:
		icmp_send(c, skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, bcast);
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_NOPROTO);
		return;
	}
}

/* ------------------------------------------------------------------ */
/* ip_rcv. */

/*
 * ip_route_input_noref() for a received packet and what dst_input() then
 * calls: local delivery (our address, a broadcast, the all-hosts group),
 * forwarding, or ip_error().  With forwarding off, ip_route_input_slow()
 * makes every non-local destination -EHOSTUNREACH and ip_error() drops it
 * as IP_INADDRERRORS without an ICMP; with forwarding on and no route it is
 * -ENETUNREACH: ICMP net unreachable, IP_INNOROUTES.
 */
static void ip_rcv_finish(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_host *h = c->host;
	const uint8_t *ip = sim_skb_data(skb);
	const uint8_t *daddr = ip + 16;
	struct sim_rtable rt;

	if (sim_addr_is_local(h, AF_INET, daddr)) {
		sim_trace(c, SIM_ST_IP_ROUTE_INPUT, skb, skb->dev, SIM_DROP_NONE);
		ip_local_deliver(c, skb, 0);
		return;
	}
	if (v4_is_lbcast(daddr) || v4_is_dev_bcast(skb->dev, daddr) ||
	    (daddr[0] == 224 && daddr[1] == 0 && daddr[2] == 0 && daddr[3] == 1)) {
		sim_trace(c, SIM_ST_IP_ROUTE_INPUT, skb, skb->dev, SIM_DROP_NONE);
		ip_local_deliver(c, skb, 1);
		return;
	}
	if (v4_is_multicast(daddr)) {
		/* No group joined: ip_route_input_mc is never reached. */
		sim_kfree_skb_reason(c, SIM_ST_IP_ROUTE_INPUT, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	if (!h->forwarding) {
		sim_kfree_skb_reason(c, SIM_ST_IP_ROUTE_INPUT, skb, SIM_DROP_IP_INADDRERRORS);
		return;
	}
	if (sim_route_output(h, AF_INET, daddr, &rt) < 0) {
		icmp_send(c, skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
		sim_kfree_skb_reason(c, SIM_ST_IP_ROUTE_INPUT, skb, SIM_DROP_IP_INNOROUTES);
		return;
	}
	sim_trace(c, SIM_ST_IP_ROUTE_INPUT, skb, rt.dev, SIM_DROP_NONE);
	if (rt.type == SIM_RTN_BROADCAST) {
		/* A directed broadcast of another subnet is not forwarded
		 * (bc_forwarding 0). */
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	ip_forward(c, skb, &rt);
}

/*
 * ip_rcv() -> ip_rcv_core(): frames for another host's MAC (seen because
 * of promiscuous mode) are dropped first, then the header checks in the
 * kernel's order: room for a header, version 4 and ihl >= 5, room for the
 * options, the header checksum, a total length that fits (shorter data is
 * PKT_TOO_SMALL, a total length below the header is IP_INHDR); then the
 * data is trimmed to the total length (Ethernet padding) and PRE_ROUTING
 * runs.
 */
void sim_ip_rcv(struct sim_ctx *c, struct sim_skb *skb)
{
	const uint8_t *ip = sim_skb_data(skb);
	uint32_t ihl, tot;

	c->t += c->host->costs.ip;
	skb->net = (int32_t)skb->data;
	sim_trace(c, SIM_ST_IP_RCV, skb, skb->dev, SIM_DROP_NONE);
	if (skb->pkt_type == PACKET_OTHERHOST) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_OTHERHOST);
		return;
	}
	if (skb->len < 20 || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_INHDR);
		return;
	}
	ihl = (uint32_t)(ip[0] & 15) * 4;
	if (ihl > skb->len) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_INHDR);
		return;
	}
	if (sim_csum_fold(sim_csum_add(0, ip, ihl)) != 0) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_CSUM);
		return;
	}
	tot = sim_get16(ip + 2);
	if (skb->len < tot) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	if (tot < ihl) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_INHDR);
		return;
	}
	skb->len = tot;		/* pskb_trim_rcsum */
	if (!sim_nf_hook(c, c->host->hook[SIM_NF_INET_PRE_ROUTING], SIM_ST_NF_PREROUTING, skb, skb->dev,
			 NULL))
		return;
	ip_rcv_finish(c, skb);
}

/*
 * ipv6_rcv() -> ip6_rcv_core(): OTHERHOST, version and length checks
 * (IP_INHDR; a payload longer than the data is PKT_TOO_SMALL), trimming,
 * PRE_ROUTING; then local delivery for our addresses and multicast, or
 * ip6_forward(), which with forwarding off drops IP_INADDRERRORS.
 */
void sim_ipv6_rcv(struct sim_ctx *c, struct sim_skb *skb)
{
	struct sim_host *h = c->host;
	const uint8_t *ip = sim_skb_data(skb);
	struct sim_rtable rt;
	uint32_t plen;

	c->t += h->costs.ip;
	skb->net = (int32_t)skb->data;
	sim_trace(c, SIM_ST_IP_RCV, skb, skb->dev, SIM_DROP_NONE);
	if (skb->pkt_type == PACKET_OTHERHOST) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_OTHERHOST);
		return;
	}
	if (skb->len < 40 || (ip[0] >> 4) != 6) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_IP_INHDR);
		return;
	}
	plen = sim_get16(ip + 4);
	if (plen > skb->len - 40) {
		sim_kfree_skb_reason(c, SIM_ST_IP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	skb->len = 40 + plen;
	if (!sim_nf_hook(c, h->hook[SIM_NF_INET_PRE_ROUTING], SIM_ST_NF_PREROUTING, skb, skb->dev, NULL))
		return;
	if (sim_addr_is_local(h, AF_INET6, ip + 24) || ip[24] == 0xff) {
		sim_trace(c, SIM_ST_IP_ROUTE_INPUT, skb, skb->dev, SIM_DROP_NONE);
		if (!sim_nf_hook(c, h->hook[SIM_NF_INET_LOCAL_IN], SIM_ST_NF_LOCAL_IN, skb, skb->dev, NULL))
			return;
		if (ip[6] == IPPROTO_UDP) {
			udp_rcv(c, skb, AF_INET6, 40, ip[24] == 0xff);
			return;
		}
		if (ip[6] == IPPROTO_TCP && ip[24] != 0xff) {
			tcp_rcv(c, skb, AF_INET6, 40);
			return;
		}
		/* ICMPv6 (neighbour discovery, echo) is consumed unanswered. */
		sim_consume_skb(c, skb);
		return;
	}
	if (sim_route_output(h, AF_INET6, ip + 24, &rt) < 0) {
		sim_kfree_skb_reason(c, SIM_ST_IP_ROUTE_INPUT, skb, SIM_DROP_IP_INADDRERRORS);
		return;
	}
	sim_trace(c, SIM_ST_IP_ROUTE_INPUT, skb, rt.dev, SIM_DROP_NONE);
	if (!h->forwarding) {
		/* ip6_forward(): devconf forwarding 0 -> IP_INADDRERRORS. */
		sim_trace(c, SIM_ST_IP_FORWARD, skb, skb->dev, SIM_DROP_NONE);
		sim_kfree_skb_reason(c, SIM_ST_IP_FORWARD, skb, SIM_DROP_IP_INADDRERRORS);
		return;
	}
	ip6_forward(c, skb, &rt);
}

/*
 * arp_rcv() -> arp_process(): frames for another host or looped back are
 * consumed unlooked-at; a short or foreign (not Ethernet/IPv4) header is
 * dropped.  A request for one of our addresses (arp_ignore 0: any local
 * address) creates or refreshes the sender's entry and is answered; any
 * ARP from a sender we already have an entry for updates it and sends
 * what waited (arp_accept 0: no entry is created from a reply).
 */
void sim_arp_rcv(struct sim_ctx *c, struct sim_skb *skb)
{
	const uint8_t *a = sim_skb_data(skb);
	struct sim_dev *dev = skb->dev;
	struct sim_neigh *n;
	uint16_t op;
	const uint8_t *sha, *sip, *tip;

	c->t += c->host->costs.ip;
	sim_trace(c, SIM_ST_ARP_RCV, skb, dev, SIM_DROP_NONE);
	if (skb->pkt_type == PACKET_OTHERHOST || skb->pkt_type == PACKET_LOOPBACK ||
	    dev->kind == SIM_DEV_LOOPBACK) {
		sim_consume_skb(c, skb);
		return;
	}
	if (skb->len < 28) {
		sim_kfree_skb_reason(c, SIM_ST_ARP_RCV, skb, SIM_DROP_PKT_TOO_SMALL);
		return;
	}
	if (a[4] != 6 || a[5] != 4) {
		sim_kfree_skb_reason(c, SIM_ST_ARP_RCV, skb, SIM_DROP_NOT_SPECIFIED);
		return;
	}
	op = sim_get16(a + 6);
	sha = a + 8;
	sip = a + 14;
	tip = a + 24;
	if (sim_get16(a) != ARPHRD_ETHER || sim_get16(a + 2) != ETH_P_IP ||
	    (op != ARPOP_REQUEST && op != ARPOP_REPLY) || v4_is_multicast(tip) || tip[0] == 127) {
		sim_consume_skb(c, skb);
		return;
	}
	n = neigh_lookup(c->host, AF_INET, sip, dev);
	if (op == ARPOP_REQUEST && sim_addr_is_local(c->host, AF_INET, tip)) {
		/* neigh_event_ns(): the sender is learned (NUD_STALE). */
		if (!n && !is_zero(AF_INET, sip))
			n = neigh_create(c->host, AF_INET, sip, dev);
		if (n)
			neigh_update(c, n, sha);
		arp_send(c, ARPOP_REPLY, dev, sha, tip, sip, sha);
	} else if (n) {
		neigh_update(c, n, sha);
	}
	sim_consume_skb(c, skb);
}
