/*
 * test_l3.c - IPv4/IPv6/ARP in the model (sim/ip.c, sim/sock.c): routing,
 * ip_rcv's checks and OTHERHOST, forwarding (off: IP_INADDRERRORS; on:
 * TTL, a FORWARD drop), local delivery and NO_SOCKET with the ICMP and RST
 * the kernel answers, receive-buffer drops under UDP's and the generic
 * rule, ICMP echo, ARP resolution, its failure, and answering ARP.
 *
 * Packets are built by hand and handed to the stage functions; what they
 * do is read from an observer that logs each event with a copy of the
 * packet's first bytes.
 */
#include "testutil.h"

#include "model.h"

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOGN 512

struct rec {
	enum sim_stage stage;
	enum sim_drop_reason drop;
	const struct sim_dev *dev;
	sim_ns t;
	uint16_t protocol;
	uint32_t len;
	uint8_t bytes[96];	/* from skb->data */
};

struct obs {
	struct rec log[LOGN];
	unsigned n;
	unsigned stages[SIM_STAGE_COUNT];
};

static void on_event(void *ctx, const struct sim_event_rec *ev)
{
	struct obs *o = ctx;
	struct rec *r;

	o->stages[ev->stage]++;
	if (o->n == LOGN)
		return;
	r = &o->log[o->n++];
	r->stage = ev->stage;
	r->drop = ev->drop;
	r->dev = ev->dev;
	r->t = ev->t;
	if (ev->skb) {
		r->protocol = ev->skb->protocol;
		r->len = ev->skb->len;
		memcpy(r->bytes, sim_skb_data(ev->skb), ev->skb->len < 96 ? ev->skb->len : 96);
	}
}

/* The @k-th (from 0) record at @st, or NULL. */
static const struct rec *find(const struct obs *o, enum sim_stage st, unsigned k)
{
	for (unsigned i = 0; i < o->n; i++)
		if (o->log[i].stage == st && k-- == 0)
			return &o->log[i];
	return NULL;
}

struct fx {
	struct sim_world *w;
	struct sim_host *h;
	struct sim_dev *eth0, *eth1;
	struct obs *obs;
	struct sim_observer ob;
	struct sim_ctx c;
};

static void v4(uint8_t *a, unsigned x, unsigned y, unsigned z, unsigned k)
{
	a[0] = (uint8_t)x, a[1] = (uint8_t)y, a[2] = (uint8_t)z, a[3] = (uint8_t)k;
}

static void addr4(struct sim_dev *d, unsigned z, unsigned k, unsigned prefix)
{
	struct sim_addr *a = &d->addrs[d->naddrs++];

	a->family = AF_INET;
	v4(a->addr, 198, 18, z, k);
	a->prefix = (uint8_t)prefix;
}

/* Host "r": eth0 198.18.0.1/24 (MAC 02::0a:01), eth1 198.18.1.1/24. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const uint8_t m0[6] = { 2, 0, 0, 0, 0x0a, 1 }, m1[6] = { 2, 0, 0, 0, 0x0a, 2 };

	f->obs = calloc(1, sizeof(*f->obs));
	f->w = sim_world_new(7);
	f->h = sim_host_new(f->w, "r", 1);
	f->eth0 = sim_dev_new(f->h, "eth0", SIM_DEV_ETHER);
	f->eth1 = sim_dev_new(f->h, "eth1", SIM_DEV_ETHER);
	memcpy(f->eth0->mac, m0, 6);
	memcpy(f->eth1->mac, m1, 6);
	addr4(f->eth0, 0, 1, 24);
	addr4(f->eth1, 1, 1, 24);
	f->ob = (struct sim_observer){ .event = on_event, .ctx = f->obs };
	sim_world_add_observer(f->w, &f->ob);
	/* No CPU costs: times in the tests are the model's timers alone. */
	f->h->costs = (struct sim_costs){ 0 };
	f->c = (struct sim_ctx){ .w = f->w, .host = f->h, .cpu = &f->h->cpu[0] };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sim_world_free(f->w);
	free(f->obs);
	free(f);
	return 0;
}

/*
 * A received IPv4 packet as ip_rcv gets it: skb->data at the IP header,
 * the Ethernet header pulled.  @proto with ports (UDP/TCP) or an ICMP
 * type in the first byte, @pay bytes of payload.
 */
static struct sim_skb *rx_pkt(struct fx *f, struct sim_dev *dev, const uint8_t *src,
			      const uint8_t *dst, uint8_t proto, uint16_t sport, uint16_t dport,
			      uint32_t pay, uint8_t ttl)
{
	uint32_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	struct sim_skb *skb = sim_skb_alloc(f->w, l4 + pay);
	uint8_t *p = sim_skb_data(skb);

	memset(p, 0, l4 + pay);
	if (proto == IPPROTO_ICMP) {
		p[0] = (uint8_t)sport;	/* the type */
	} else {
		sim_put16(p, sport);
		sim_put16(p + 2, dport);
		if (proto == IPPROTO_UDP)
			sim_put16(p + 4, (uint16_t)(8 + pay));
		else
			p[12] = 5 << 4, p[13] = 0x02, sim_put32(p + 4, 1000);	/* SYN, seq 1000 */
	}
	sim_ip_push_header(f->h, skb, AF_INET, proto, src, dst, ttl, 0);
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb->mac = (int32_t)skb->data - ETH_HLEN;
	return skb;
}

static void neigh(struct fx *f, struct sim_dev *dev, unsigned z, unsigned k, uint8_t last)
{
	uint8_t a[4], mac[6] = { 2, 0, 0, 0, 0x0b, last };
	char err[SIM_ERRBUF_SIZE];

	v4(a, 198, 18, z, k);
	assert_int_equal(sim_neigh_add(f->h, AF_INET, a, mac, dev, err), 0);
}

static void test_routing(void **state)
{
	struct fx *f = *state;
	struct sim_route r = { .family = AF_INET, .prefix = 16, .has_via = 1 };
	struct sim_route r2 = { .family = AF_INET, .prefix = 0, .has_via = 1 };
	char err[SIM_ERRBUF_SIZE];
	struct sim_rtable rt;
	uint8_t d[4];

	v4(r.dst, 10, 1, 0, 0);
	v4(r.via, 198, 18, 1, 254);	/* no device: the gateway's connected route gives eth1 */
	assert_int_equal(sim_route_add(f->h, &r, err), 0);
	v4(r2.via, 198, 18, 0, 254);
	r2.dev = f->eth0;
	assert_int_equal(sim_route_add(f->h, &r2, err), 0);

	v4(d, 198, 18, 1, 7);	/* connected */
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_ptr_equal(rt.dev, f->eth1);
	assert_memory_equal(rt.nexthop, d, 4);
	assert_int_equal(rt.type, SIM_RTN_UNICAST);
	assert_int_equal(rt.prefsrc[3], 1);
	assert_int_equal(rt.prefsrc[2], 1);
	v4(d, 10, 1, 2, 3);	/* the /16 via 198.18.1.254 */
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_ptr_equal(rt.dev, f->eth1);
	assert_int_equal(rt.nexthop[3], 254);
	v4(d, 10, 2, 0, 1);	/* default via eth0 */
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_ptr_equal(rt.dev, f->eth0);
	assert_int_equal(rt.nexthop[2], 0);
	assert_int_equal(rt.nexthop[3], 254);
	v4(d, 198, 18, 1, 1);	/* ours: local, over lo */
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_int_equal(rt.type, SIM_RTN_LOCAL);
	assert_ptr_equal(rt.dev, f->h->devs[0]);
	v4(d, 198, 18, 0, 255);	/* the subnet broadcast */
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_int_equal(rt.type, SIM_RTN_BROADCAST);
	/* A more specific route beats the connected /24. */
	r.prefix = 28;
	v4(r.dst, 198, 18, 0, 16);
	r.dev = f->eth1;
	assert_int_equal(sim_route_add(f->h, &r, err), 0);
	v4(d, 198, 18, 0, 20);
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), 0);
	assert_ptr_equal(rt.dev, f->eth1);
	/* Refusals. */
	r.prefix = 33;
	assert_int_equal(sim_route_add(f->h, &r, err), -1);
	assert_non_null(strstr(err, "/33"));
	/* With no default route an outside address has no route. */
	f->h->nroutes = 0;
	v4(d, 203, 0, 113, 1);
	assert_int_equal(sim_route_output(f->h, AF_INET, d, &rt), -1);
}

/* ip_rcv: OTHERHOST first, then the header checks with their reasons. */
static void test_ip_rcv_checks(void **state)
{
	struct fx *f = *state;
	uint8_t s[4], d[4];
	struct sim_skb *skb;

	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 0, 1);
	skb = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64);
	skb->pkt_type = PACKET_OTHERHOST;
	sim_ip_rcv(&f->c, skb);
	assert_int_equal(f->h->drops[SIM_DROP_OTHERHOST], 1);
	assert_int_equal(find(f->obs, SIM_ST_IP_RCV, 1)->drop, SIM_DROP_OTHERHOST);
	assert_null(find(f->obs, SIM_ST_NF_PREROUTING, 0));

	skb = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64);
	sim_skb_data(skb)[0] = 0x44;	/* ihl 4 */
	sim_ip_rcv(&f->c, skb);
	assert_int_equal(f->h->drops[SIM_DROP_IP_INHDR], 1);

	skb = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64);
	sim_skb_data(skb)[10] ^= 1;	/* checksum: IP_CSUM */
	sim_ip_rcv(&f->c, skb);
	assert_int_equal(f->h->drops[SIM_DROP_IP_CSUM], 1);

	skb = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 10, 64);
	skb->len -= 5;	/* truncated: tot_len is longer than the data */
	sim_ip_rcv(&f->c, skb);
	assert_int_equal(f->h->drops[SIM_DROP_PKT_TOO_SMALL], 1);

	/* Ethernet padding is trimmed to tot_len before the transport. */
	{
		struct sim_sock_cfg sc = { .name = "u", .proto = IPPROTO_UDP, .port = 2 };
		char err[SIM_ERRBUF_SIZE];
		struct sim_sock *sk;

		sc.addr.family = AF_INET;
		sk = sim_sock_new(f->h, &sc, err);
		assert_non_null(sk);
		skb = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64);
		memset(sim_skb_data(skb) + skb->len, 0, 18);
		skb->len += 18;
		sim_ip_rcv(&f->c, skb);
		assert_int_equal(sk->received, 1);
		assert_int_equal(sk->rcvq.head->len, 28);
	}
}

/* Forwarding off: a packet for another host is IP_INADDRERRORS at the
 * route lookup (ip_error), with no ICMP. */
static void test_forwarding_off(void **state)
{
	struct fx *f = *state;
	uint8_t s[4], d[4];

	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 1, 2);
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64));
	assert_int_equal(f->h->drops[SIM_DROP_IP_INADDRERRORS], 1);
	assert_int_equal(find(f->obs, SIM_ST_IP_ROUTE_INPUT, 0)->drop, SIM_DROP_IP_INADDRERRORS);
	assert_null(find(f->obs, SIM_ST_IP_LOCAL_OUT, 0));
	assert_null(find(f->obs, SIM_ST_IP_FORWARD, 0));
}

/* Forwarding on: TTL decremented and the checksum still right, out of
 * eth1 to the neighbour's MAC; a FORWARD drop rule; TTL 1 -> time
 * exceeded back out of eth0 and IP_INHDR. */
static void test_forwarding_on(void **state)
{
	struct fx *f = *state;
	struct sim_rule_cfg rc;
	char err[SIM_ERRBUF_SIZE];
	const struct rec *r;
	uint8_t s[4], d[4];

	f->h->forwarding = 1;
	neigh(f, f->eth1, 1, 2, 0x12);
	neigh(f, f->eth0, 0, 2, 0x02);
	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 1, 2);
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64));
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_ptr_equal(r->dev, f->eth1);
	assert_int_equal(r->bytes[5], 0x12);		/* destination MAC */
	assert_memory_equal(r->bytes + 6, f->eth1->mac, 6);
	assert_int_equal(r->bytes[ETH_HLEN + 8], 63);	/* TTL */
	assert_int_equal(sim_csum_fold(sim_csum_add(0, r->bytes + ETH_HLEN, 20)), 0);
	assert_null(find(f->obs, SIM_ST_NF_FORWARD, 0));	/* no rules: not registered */
	assert_int_equal(f->eth1->qdisc.len + f->eth1->stats.tx_packets, 1);

	sim_rule_init(&rc);
	rc.hook = SIM_RULE_FORWARD;
	snprintf(rc.rule.name, sizeof(rc.rule.name), "nofwd");
	rc.rule.proto = IPPROTO_UDP;
	rc.rule.oif = f->eth1;
	rc.rule.drop = 1;
	assert_non_null(sim_rule_add(f->h, &rc, err));
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64));
	assert_int_equal(f->h->drops[SIM_DROP_NETFILTER_DROP], 1);
	r = find(f->obs, SIM_ST_NF_FORWARD, 0);
	assert_non_null(r);
	assert_int_equal(r->drop, SIM_DROP_NETFILTER_DROP);
	assert_int_equal(sim_rule_find(f->h, "nofwd")->packets, 1);

	/* TTL 1: ICMP time exceeded (type 11) to the source, IP_INHDR. */
	f->obs->n = 0;
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_TCP, 1, 2, 0, 1));
	assert_int_equal(f->h->drops[SIM_DROP_IP_INHDR], 1);
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_ptr_equal(r->dev, f->eth0);
	assert_int_equal(r->bytes[ETH_HLEN + 9], IPPROTO_ICMP);
	assert_int_equal(r->bytes[ETH_HLEN + 20], 11);
	assert_memory_equal(r->bytes + ETH_HLEN + 16, s, 4);
	/* No route with forwarding on: ICMP net unreachable. */
	f->obs->n = 0;
	v4(d, 203, 0, 113, 9);
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 2, 0, 64));
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_int_equal(r->bytes[ETH_HLEN + 20], 3);
	assert_int_equal(r->bytes[ETH_HLEN + 21], 0);
}

/* UDP to a bound socket is queued; to a closed port NO_SOCKET after an
 * ICMP port unreachable quoting the packet; TCP with no listener
 * NO_SOCKET after a RST|ACK acking the SYN. */
static void test_local_delivery(void **state)
{
	struct fx *f = *state;
	struct sim_sock_cfg sc = { .name = "dns", .proto = IPPROTO_UDP, .port = 53 };
	char err[SIM_ERRBUF_SIZE];
	const struct rec *r;
	struct sim_sock *sk;
	uint8_t s[4], d[4];

	neigh(f, f->eth0, 0, 2, 0x02);
	sc.addr.family = AF_INET;
	v4(sc.addr.addr, 198, 18, 0, 1);
	sk = sim_sock_new(f->h, &sc, err);
	assert_non_null(sk);
	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 0, 1);
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 999, 53, 20, 64));
	assert_int_equal(sk->received, 1);
	assert_int_equal(sk->rcvq.len, 1);
	assert_non_null(find(f->obs, SIM_ST_SOCK_QUEUE, 0));
	/* The weak host model: eth1's address arriving on eth0 is local too,
	 * but a socket bound to 198.18.0.1 does not take it. */
	v4(d, 198, 18, 1, 1);
	f->obs->n = 0;
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 999, 53, 20, 64));
	assert_int_equal(sk->received, 1);
	assert_int_equal(f->h->drops[SIM_DROP_NO_SOCKET], 1);
	r = find(f->obs, SIM_ST_UDP_RCV, 1);
	assert_int_equal(r->drop, SIM_DROP_NO_SOCKET);
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_int_equal(r->bytes[ETH_HLEN + 9], IPPROTO_ICMP);
	assert_int_equal(r->bytes[ETH_HLEN + 20], 3);	/* dest unreachable */
	assert_int_equal(r->bytes[ETH_HLEN + 21], 3);	/* port unreachable */
	assert_memory_equal(r->bytes + ETH_HLEN + 12, d, 4);	/* from the address it was sent to */
	assert_int_equal(r->bytes[ETH_HLEN + 28], 0x45);	/* the quote */
	assert_int_equal(sim_get16(r->bytes + ETH_HLEN + 2), 20 + 8 + 20 + 8 + 20);
	{
		uint32_t l = r->len - ETH_HLEN - 20;

		assert_true(l <= 96 - ETH_HLEN - 20);
		assert_int_equal(sim_csum_fold(sim_csum_add(0, r->bytes + ETH_HLEN + 20, l)), 0);
	}

	f->obs->n = 0;
	v4(d, 198, 18, 0, 1);
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_TCP, 40000, 80, 0, 64));
	assert_int_equal(f->h->drops[SIM_DROP_NO_SOCKET], 2);
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_int_equal(r->bytes[ETH_HLEN + 9], IPPROTO_TCP);
	assert_int_equal(sim_get16(r->bytes + ETH_HLEN + 20), 80);
	assert_int_equal(sim_get16(r->bytes + ETH_HLEN + 22), 40000);
	assert_int_equal(r->bytes[ETH_HLEN + 33], 0x14);	/* RST|ACK */
	assert_int_equal(sim_get32(r->bytes + ETH_HLEN + 28), 1001);	/* acks the SYN */
}

/*
 * The per-peer ICMP limit: six port-unreachables at once, then one per
 * second (inet_peer_xrlim_allow); every packet is still NO_SOCKET.
 */
static void test_icmp_ratelimit(void **state)
{
	struct fx *f = *state;
	uint8_t s[4], d[4];

	neigh(f, f->eth0, 0, 2, 0x02);
	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 0, 1);
	for (int i = 0; i < 10; i++)
		sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 9, 7, 0, 64));
	assert_int_equal(f->obs->stages[SIM_ST_IP_LOCAL_OUT], 6);
	f->c.t += 1000000000ull;
	for (int i = 0; i < 10; i++)
		sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 9, 7, 0, 64));
	assert_int_equal(f->obs->stages[SIM_ST_IP_LOCAL_OUT], 7);
	assert_int_equal(f->h->drops[SIM_DROP_NO_SOCKET], 20);
}

/*
 * Receive buffers.  With truesize T and sk_rcvbuf = 2T, UDP
 * (__udp_enqueue_schedule_skb) takes 3 packets: it lets one more in while
 * sk_rmem_alloc has not passed sk_rcvbuf; TCP and ICMP sockets
 * (sock_queue_rcv_skb) take 2: they refuse at sk_rmem_alloc >= sk_rcvbuf.
 * A reader then empties the buffer on its interval.
 */
static void test_rcvbuf(void **state)
{
	struct fx *f = *state;
	struct sim_sock_cfg uc = { .name = "u", .proto = IPPROTO_UDP, .port = 9 };
	struct sim_sock_cfg tc = { .name = "t", .proto = IPPROTO_TCP, .port = 80 };
	char err[SIM_ERRBUF_SIZE];
	struct sim_sock *u, *t;
	struct sim_skb *probe;
	uint8_t s[4], d[4];
	uint32_t T;

	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 0, 1);
	probe = rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 9, 100, 64);
	T = probe->truesize;
	sim_skb_free(f->w, probe);
	uc.addr.family = tc.addr.family = AF_INET;
	uc.rcvbuf = tc.rcvbuf = 2 * T;
	uc.read_interval = tc.read_interval = 1000000;	/* 1 ms */
	assert_non_null(u = sim_sock_new(f->h, &uc, err));
	assert_non_null(t = sim_sock_new(f->h, &tc, err));
	for (int i = 0; i < 5; i++) {
		sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_UDP, 1, 9, 100, 64));
		sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_TCP, 1, 80, 88, 64));
	}
	assert_int_equal(u->received, 3);
	assert_int_equal(u->drops, 2);
	assert_int_equal(t->received, 2);
	assert_int_equal(t->drops, 3);
	assert_int_equal(f->h->drops[SIM_DROP_SOCKET_RCVBUFF], 5);
	assert_int_equal(u->rmem, 3 * T);
	/* The readers: one packet per millisecond each. */
	sim_world_run(f->w, 0);
	assert_int_equal(u->read, 3);
	assert_int_equal(t->read, 2);
	assert_int_equal(u->rmem, 0);
	assert_int_equal(f->w->clock.now, 2000000);
	assert_int_equal(f->obs->stages[SIM_ST_SOCK_READ], 5);
	assert_int_equal(f->w->skbs_live, 0);
}

/* An echo request is answered with the same id, sequence and payload; the
 * reply earns NO_SOCKET here without a ping socket and is queued with one. */
static void test_icmp_echo(void **state)
{
	struct fx *f = *state;
	struct sim_sock_cfg pc = { .name = "ping", .proto = IPPROTO_ICMP };
	char err[SIM_ERRBUF_SIZE];
	const struct rec *r;
	struct sim_sock *sk;
	struct sim_skb *skb;
	uint8_t s[4], d[4];

	neigh(f, f->eth0, 0, 2, 0x02);
	v4(s, 198, 18, 0, 2);
	v4(d, 198, 18, 0, 1);
	skb = rx_pkt(f, f->eth0, s, d, IPPROTO_ICMP, 8, 0, 16, 64);
	sim_skb_data(skb)[20 + 4] = 0x12;	/* id */
	sim_skb_data(skb)[20 + 7] = 5;		/* seq */
	sim_skb_data(skb)[20 + 2] = sim_skb_data(skb)[20 + 3] = 0;
	sim_put16(sim_skb_data(skb) + 22, sim_csum_fold(sim_csum_add(0, sim_skb_data(skb) + 20, 24)));
	sim_ip_rcv(&f->c, skb);
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_int_equal(r->bytes[ETH_HLEN + 20], 0);
	assert_int_equal(r->bytes[ETH_HLEN + 24], 0x12);
	assert_int_equal(r->bytes[ETH_HLEN + 27], 5);
	assert_int_equal(r->len, ETH_HLEN + 20 + 8 + 16);
	assert_int_equal(sim_csum_fold(sim_csum_add(0, r->bytes + ETH_HLEN + 20, 24)), 0);

	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_ICMP, 0, 0, 0, 64));
	assert_int_equal(f->h->drops[SIM_DROP_NO_SOCKET], 1);
	pc.addr.family = AF_INET;
	assert_non_null(sk = sim_sock_new(f->h, &pc, err));
	sim_ip_rcv(&f->c, rx_pkt(f, f->eth0, s, d, IPPROTO_ICMP, 0, 0, 0, 64));
	assert_int_equal(sk->received, 1);
}

/* An ARP reply of @sha for @sip (198.18.0.x) to us, as arp_rcv gets it. */
static struct sim_skb *arp_pkt(struct fx *f, uint16_t op, const uint8_t *sha, const uint8_t *sip,
			       const uint8_t *tip)
{
	struct sim_skb *skb = sim_skb_alloc(f->w, 28);
	uint8_t *a = sim_skb_data(skb);

	sim_put16(a, ARPHRD_ETHER);
	sim_put16(a + 2, ETH_P_IP);
	a[4] = 6, a[5] = 4;
	sim_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, sip, 4);
	memcpy(a + 18, op == ARPOP_REPLY ? f->eth0->mac : (const uint8_t[6]){ 0 }, 6);
	memcpy(a + 24, tip, 4);
	skb->dev = f->eth0;
	skb->protocol = ETH_P_ARP;
	skb->pkt_type = op == ARPOP_REPLY ? PACKET_HOST : PACKET_BROADCAST;
	return skb;
}

/* A UDP packet from us to @d through sim_ip_local_out. */
static void send_udp(struct fx *f, const uint8_t *d)
{
	struct sim_skb *skb = sim_skb_alloc(f->w, 8);
	uint8_t s[4];

	v4(s, 198, 18, 0, 1);
	memset(sim_skb_data(skb), 0, 8);
	sim_put16(sim_skb_data(skb) + 4, 8);
	sim_ip_push_header(f->h, skb, AF_INET, IPPROTO_UDP, s, d, 64, 1);
	sim_ip_local_out(&f->c, skb);
}

/*
 * ARP: the first packet to an unknown neighbour sends a broadcast request
 * and waits; the second waits too; the reply sends both to the learned
 * MAC.  Without a reply: requests at 0, 1 and 2 s, NEIGH_FAILED at 3 s
 * for what waited.
 */
static void test_arp_resolution(void **state)
{
	struct fx *f = *state;
	static const uint8_t peer[6] = { 2, 0, 0, 0, 0x0b, 0x77 };
	const struct rec *r;
	uint8_t d[4], me[4];

	v4(d, 198, 18, 0, 2);
	v4(me, 198, 18, 0, 1);
	send_udp(f, d);
	send_udp(f, d);
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_int_equal(r->protocol, ETH_P_ARP);
	assert_memory_equal(r->bytes, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(sim_get16(r->bytes + ETH_HLEN + 6), ARPOP_REQUEST);
	assert_memory_equal(r->bytes + ETH_HLEN + 14, me, 4);	/* sender IP */
	assert_memory_equal(r->bytes + ETH_HLEN + 24, d, 4);	/* target IP */
	assert_null(find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 1));	/* one request for both */
	sim_arp_rcv(&f->c, arp_pkt(f, ARPOP_REPLY, peer, d, me));
	for (int k = 1; k <= 2; k++) {
		r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, (unsigned)k);
		assert_non_null(r);
		assert_int_equal(r->protocol, ETH_P_IP);
		assert_memory_equal(r->bytes, peer, 6);
	}
	sim_world_run(f->w, 0);	/* the timer finds the entry resolved */
	assert_int_equal(f->h->drops[SIM_DROP_NEIGH_FAILED], 0);
	assert_int_equal(f->obs->stages[SIM_ST_DEV_QUEUE_XMIT], 3);

	/* No answer. */
	f->obs->n = 0;
	memset(f->obs->stages, 0, sizeof(f->obs->stages));
	v4(d, 198, 18, 0, 99);
	send_udp(f, d);
	sim_world_run(f->w, 0);
	assert_int_equal(f->h->drops[SIM_DROP_NEIGH_FAILED], 1);
	assert_int_equal(f->obs->stages[SIM_ST_DEV_QUEUE_XMIT], 3);
	for (unsigned k = 0; k < 3; k++)
		assert_int_equal(find(f->obs, SIM_ST_DEV_QUEUE_XMIT, k)->t, k * 1000000000ull);
	r = find(f->obs, SIM_ST_NEIGH_OUTPUT, 1);
	assert_non_null(r);
	assert_int_equal(r->drop, SIM_DROP_NEIGH_FAILED);
	assert_int_equal(r->t, 3000000000ull);
}

/* A request for our address is answered (and teaches us the sender); one
 * for another address is not; frames for another host are not looked at. */
static void test_arp_reply(void **state)
{
	struct fx *f = *state;
	static const uint8_t asker[6] = { 2, 0, 0, 0, 0x0c, 1 };
	const struct rec *r;
	struct sim_skb *skb;
	uint8_t sip[4], tip[4];

	v4(sip, 198, 18, 0, 3);
	v4(tip, 198, 18, 1, 1);	/* eth1's address, asked on eth0: arp_ignore 0 answers */
	sim_arp_rcv(&f->c, arp_pkt(f, ARPOP_REQUEST, asker, sip, tip));
	r = find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 0);
	assert_non_null(r);
	assert_memory_equal(r->bytes, asker, 6);
	assert_int_equal(sim_get16(r->bytes + ETH_HLEN + 6), ARPOP_REPLY);
	assert_memory_equal(r->bytes + ETH_HLEN + 8, f->eth0->mac, 6);
	assert_memory_equal(r->bytes + ETH_HLEN + 14, tip, 4);
	assert_memory_equal(r->bytes + ETH_HLEN + 18, asker, 6);
	assert_int_equal(f->h->nneigh, 1);
	assert_true(f->h->neigh[0].resolved);

	v4(tip, 198, 18, 0, 200);
	sim_arp_rcv(&f->c, arp_pkt(f, ARPOP_REQUEST, asker, sip, tip));
	assert_null(find(f->obs, SIM_ST_DEV_QUEUE_XMIT, 1));
	skb = arp_pkt(f, ARPOP_REQUEST, asker, sip, tip);
	skb->pkt_type = PACKET_OTHERHOST;
	sim_arp_rcv(&f->c, skb);
	skb = arp_pkt(f, ARPOP_REQUEST, asker, sip, tip);
	skb->len = 20;
	sim_arp_rcv(&f->c, skb);
	assert_int_equal(f->h->drops[SIM_DROP_PKT_TOO_SMALL], 1);
	assert_int_equal(f->w->skbs_live, 0);	/* eth0 has no wire: the reply is gone */
}

/* IPv6: local UDP delivery, NO_SOCKET, OTHERHOST, forwarding off. */
static void test_ipv6(void **state)
{
	struct fx *f = *state;
	struct sim_sock_cfg sc = { .name = "u6", .proto = IPPROTO_UDP, .port = 5000 };
	uint8_t me[16] = { 0xfe, 0x80, [15] = 1 }, peer[16] = { 0xfe, 0x80, [15] = 2 };
	uint8_t other[16] = { 0xfe, 0x80, [15] = 9 };
	char err[SIM_ERRBUF_SIZE];
	struct sim_sock *sk;
	struct sim_skb *skb;

	f->eth0->addrs[f->eth0->naddrs++] = (struct sim_addr){ .family = AF_INET6, .prefix = 64 };
	memcpy(f->eth0->addrs[f->eth0->naddrs - 1].addr, me, 16);
	sc.addr.family = AF_INET6;
	assert_non_null(sk = sim_sock_new(f->h, &sc, err));
	for (int i = 0; i < 4; i++) {
		const uint8_t *dst = i == 3 ? other : me;

		skb = sim_skb_alloc(f->w, 8);
		memset(sim_skb_data(skb), 0, 8);
		sim_put16(sim_skb_data(skb) + 2, i == 1 ? 5001 : 5000);
		sim_put16(sim_skb_data(skb) + 4, 8);
		sim_ip_push_header(f->h, skb, AF_INET6, IPPROTO_UDP, peer, dst, 64, 0);
		skb->dev = f->eth0;
		skb->pkt_type = i == 2 ? PACKET_OTHERHOST : PACKET_HOST;
		sim_ipv6_rcv(&f->c, skb);
	}
	assert_int_equal(sk->received, 1);
	assert_int_equal(f->h->drops[SIM_DROP_NO_SOCKET], 1);
	assert_int_equal(f->h->drops[SIM_DROP_OTHERHOST], 1);
	assert_int_equal(f->h->drops[SIM_DROP_IP_INADDRERRORS], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_rcv_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwarding_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwarding_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_ratelimit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcvbuf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
