/*
 * topo.c - a scenario's hosts as network namespaces and its wires as veth
 * pairs, configured over rtnetlink and ioctl from this process (no `ip`).
 *
 * Design.  A namespace is made by the calling thread with
 * unshare(CLONE_NEWNET); a descriptor of it is kept, an rtnetlink socket
 * is opened inside it (a netlink socket talks to the namespace it was
 * created in, whichever thread uses it later), and the thread setns()es
 * straight back.  Nothing is bind-mounted under /run/netns: the namespace
 * has no name in the file system, and it goes away with the last
 * descriptor or socket that holds it - also when the process is killed
 * with SIGKILL, taking its veth ends (and so their peers) with it.  So no
 * run, however it ends, leaves anything behind, and no two runs can
 * collide.  (`capsim live --keep` names them for inspection: see
 * scenario.c.)  Nothing in the caller's namespace is created or changed.
 *
 * Programs that must run inside a host (nft, tc) are started by a forked
 * child that setns()es into the host's descriptor before exec, with
 * PR_SET_PDEATHSIG so it cannot outlive us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scn_int.h"
#include "sysio_int.h"

static int fail(char *errbuf, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *errbuf, int e, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	int code = live_errno_class(e);

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (code == LIVE_ERR_PERM)
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live: %.80s: %.40s (capsim live needs root: CAP_SYS_ADMIN for network "
			 "namespaces, CAP_NET_ADMIN and CAP_NET_RAW inside them)",
			 what, strerror(e));
	else
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: %.160s: %.80s", what, strerror(e));
	return code;
}

uint64_t live_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Entering and leaving. */

int live_topo_enter(const struct live_topo *t, int nsfd, char *errbuf)
{
	(void)t;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return fail(errbuf, errno, "setns into a host's namespace");
	return 0;
}

int live_topo_leave(const struct live_topo *t, char *errbuf)
{
	if (setns(t->home, CLONE_NEWNET) < 0)
		return fail(errbuf, errno, "setns back to the caller's namespace");
	return 0;
}

int live_topo_socket(const struct live_topo *t, int nsfd, int domain, int type, int proto,
		     char *errbuf)
{
	int fd, e, rc;

	if ((rc = live_topo_enter(t, nsfd, errbuf)) != 0)
		return rc;
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	e = errno;
	if ((rc = live_topo_leave(t, errbuf)) != 0) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (fd < 0)
		return fail(errbuf, e, "socket(%d, %d, %d) in a host's namespace", domain, type,
			    proto);
	return fd;
}

int live_ns_read_file(const struct live_topo *t, int nsfd, const char *path, char *buf,
		      size_t size, char *errbuf)
{
	int rc, fd, e;
	ssize_t n = -1;

	if ((rc = live_topo_enter(t, nsfd, errbuf)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	e = errno;
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		e = errno;
		close(fd);
	}
	if ((rc = live_topo_leave(t, errbuf)) != 0)
		return rc;
	if (n < 0)
		return fail(errbuf, e, "reading %s in a host's namespace", path);
	buf[n] = '\0';
	return 0;
}

/* Write a sysctl of the namespace the calling thread is in. */
static int write_sysctl(const char *path, const char *val, char *errbuf)
{
	int e = live_write_sysctl(path, val);

	return e ? fail(errbuf, e, "write %s", path) : 0;
}

/* ------------------------------------------------------------------ */
/* rtnetlink requests. */

static int nl_talk(int fd, struct live_nlreq *b, const char *what, char *errbuf)
{
	int e;

	if (!b->hdr)
		return fail(errbuf, ENOBUFS, "building the request for %s", what);
	e = live_nl_talk(fd, b);
	return e ? fail(errbuf, e, "%s", what) : 0;
}

static void ifinfo(struct live_nlreq *b, int ifindex)
{
	struct ifinfomsg *ifi = NLMSG_DATA(b->hdr);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
}

/* ------------------------------------------------------------------ */
/* Namespaces. */

static void host_close(struct live_host *h)
{
	if (h->rtnl >= 0)
		close(h->rtnl);
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->rtnl = h->nsfd = -1;
}

/*
 * Inside the new namespace: the sysctls that belong to it.  IPv6 goes off
 * before any device exists (no router solicitations, DAD or MLD frames);
 * rp_filter off, since the model has no reverse-path check and a new
 * namespace inherits the host's IPv4 settings (devconf_inherit_init_net);
 * ping sockets allowed for root (ping_group_range is "1 0" in a new
 * namespace); forwarding as the host says.
 */
static int ns_sysctls(const struct sim_scn_host *sh, char *errbuf)
{
	static const char *const off[] = {
		"/proc/sys/net/ipv6/conf/default/disable_ipv6=1",
		"/proc/sys/net/ipv6/conf/all/disable_ipv6=1",
		"/proc/sys/net/ipv4/conf/all/rp_filter=0",
		"/proc/sys/net/ipv4/conf/default/rp_filter=0",
		"/proc/sys/net/ipv4/ping_group_range=0 2147483647",
	};
	char path[128];
	int rc;

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		const char *eq = strchr(off[i], '=');

		snprintf(path, sizeof(path), "%.*s", (int)(eq - off[i]), off[i]);
		if ((rc = write_sysctl(path, eq + 1, errbuf)) != 0)
			return rc;
	}
	if (sh && (rc = write_sysctl("/proc/sys/net/ipv4/ip_forward", sh->sysctl.ip_forward ? "1" : "0",
				     errbuf)) != 0)
		return rc;
	return 0;
}

static int ns_new(struct live_topo *t, struct live_host *h, const struct sim_scn_host *sh,
		  const char *name, char *errbuf)
{
	int rc;

	h->nsfd = h->rtnl = -1;
	snprintf(h->name, sizeof(h->name), "capsim-%ld-%s", (long)getpid(), name);
	if (unshare(CLONE_NEWNET) < 0)
		return fail(errbuf, errno, "unshare(CLONE_NEWNET) for host %s", name);
	rc = ns_sysctls(sh, errbuf);
	if (!rc) {
		h->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (h->nsfd < 0)
			rc = fail(errbuf, errno, "open the namespace of host %s", name);
	}
	if (!rc) {
		h->rtnl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (h->rtnl < 0)
			rc = fail(errbuf, errno, "rtnetlink socket in host %s", name);
	}
	/* Home whatever happened: this thread must not stay elsewhere. */
	if (setns(t->home, CLONE_NEWNET) < 0)
		rc = fail(errbuf, errno, "setns back to the caller's namespace");
	if (rc)
		host_close(h);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Devices. */

struct veth_end {
	const char *name;
	const uint8_t *mac;
	uint32_t mtu, txqlen;
	int ifindex;
	int nsfd;		/* the peer's namespace (the first end is created in @h) */
};

static int make_veth(struct live_host *h, const struct veth_end *a, const struct veth_end *b,
		     char *errbuf)
{
	struct live_nlreq r;
	struct ifinfomsg peer_ifi;
	struct rtattr *li, *data, *peer;
	char what[96];

	live_nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	/* Asking for the scenario's ifindex (lo 1, then declaration order)
	 * makes sll_ifindex and SKF_AD_IFINDEX the model's. */
	ifinfo(&r, a->ifindex);
	live_nl_attr(&r, IFLA_IFNAME, a->name, strlen(a->name) + 1);
	live_nl_attr(&r, IFLA_ADDRESS, a->mac, 6);
	live_nl_attr(&r, IFLA_MTU, &a->mtu, 4);
	live_nl_attr(&r, IFLA_TXQLEN, &a->txqlen, 4);
	li = live_nl_attr(&r, IFLA_LINKINFO, NULL, 0);
	live_nl_attr(&r, IFLA_INFO_KIND, "veth", 4);
	data = live_nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
	memset(&peer_ifi, 0, sizeof(peer_ifi));
	peer_ifi.ifi_family = AF_UNSPEC;
	peer_ifi.ifi_index = b->ifindex;
	peer = live_nl_attr(&r, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	live_nl_attr(&r, IFLA_IFNAME, b->name, strlen(b->name) + 1);
	if (b->mac)
		live_nl_attr(&r, IFLA_ADDRESS, b->mac, 6);
	live_nl_attr(&r, IFLA_MTU, &b->mtu, 4);
	live_nl_attr(&r, IFLA_TXQLEN, &b->txqlen, 4);
	live_nl_attr(&r, IFLA_NET_NS_FD, &b->nsfd, 4);
	live_nl_nest_end(&r, peer);
	live_nl_nest_end(&r, data);
	live_nl_nest_end(&r, li);
	snprintf(what, sizeof(what), "RTM_NEWLINK veth %s <-> %s", a->name, b->name);
	return nl_talk(h->rtnl, &r, what, errbuf);
}

static int make_vlan(struct live_host *h, const struct sim_scn_iface *vi, int parent_ifindex,
		     char *errbuf)
{
	struct live_nlreq r;
	struct rtattr *li, *data;
	uint16_t vid = vi->vlan_id;
	uint32_t link = (uint32_t)parent_ifindex;
	char what[96];
	int rc;

	live_nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	ifinfo(&r, (int)vi->ifindex);
	live_nl_attr(&r, IFLA_IFNAME, vi->name, strlen(vi->name) + 1);
	live_nl_attr(&r, IFLA_LINK, &link, 4);
	live_nl_attr(&r, IFLA_MTU, &vi->mtu, 4);
	if (vi->mac_given)
		live_nl_attr(&r, IFLA_ADDRESS, vi->mac, 6);
	li = live_nl_attr(&r, IFLA_LINKINFO, NULL, 0);
	live_nl_attr(&r, IFLA_INFO_KIND, "vlan", 4);
	data = live_nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
	live_nl_attr(&r, IFLA_VLAN_ID, &vid, 2);
	live_nl_nest_end(&r, data);
	live_nl_nest_end(&r, li);
	snprintf(what, sizeof(what), "RTM_NEWLINK vlan %s", vi->name);
	rc = nl_talk(h->rtnl, &r, what, errbuf);
	if (rc == LIVE_ERR_NOSUPPORT)
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live: this kernel cannot make the VLAN device %s (no 802.1Q support: "
			 "CONFIG_VLAN_8021Q), so the scenario has no live form here",
			 vi->name);
	return rc;
}

static int link_flags(struct live_host *h, int ifindex, unsigned flags, unsigned change,
		      const char *name, char *errbuf)
{
	struct live_nlreq r;
	struct ifinfomsg *ifi;
	char what[64];

	live_nl_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	ifinfo(&r, ifindex);
	ifi = NLMSG_DATA(r.hdr);
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	snprintf(what, sizeof(what), "setting the flags of %s", name);
	return nl_talk(h->rtnl, &r, what, errbuf);
}

static int addr_add(struct live_host *h, int ifindex, const struct sim_scn_prefix *p,
		    const char *name, char *errbuf)
{
	struct live_nlreq r;
	struct ifaddrmsg *ifa;
	size_t alen = p->addr.family == 4 ? 4 : 16;
	char what[64];

	live_nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
	ifa = NLMSG_DATA(r.hdr);
	ifa->ifa_family = p->addr.family == 4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_flags = IFA_F_NODAD;
	live_nl_attr(&r, IFA_LOCAL, p->addr.bytes, alen);
	live_nl_attr(&r, IFA_ADDRESS, p->addr.bytes, alen);
	snprintf(what, sizeof(what), "RTM_NEWADDR on %s", name);
	return nl_talk(h->rtnl, &r, what, errbuf);
}

static int route_add(struct live_host *h, const struct sim_scn_host *sh,
		     const struct sim_scn_route *rt, char *errbuf)
{
	struct live_nlreq r;
	struct rtmsg *rtm;
	int fam = rt->dst.addr.family == 4 ? AF_INET : AF_INET6;
	size_t alen = fam == AF_INET ? 4 : 16;
	char what[96];

	live_nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
	rtm = NLMSG_DATA(r.hdr);
	rtm->rtm_family = (uint8_t)fam;
	rtm->rtm_dst_len = rt->dst.len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = rt->has_via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (rt->dst.len)
		live_nl_attr(&r, RTA_DST, rt->dst.addr.bytes, alen);
	if (rt->has_via)
		live_nl_attr(&r, RTA_GATEWAY, rt->via.bytes, alen);
	if (rt->has_dev) {
		uint32_t oif = sh->ifaces[rt->dev.idx].ifindex;

		live_nl_attr(&r, RTA_OIF, &oif, 4);
	}
	if (rt->metric)
		live_nl_attr(&r, RTA_PRIORITY, &rt->metric, 4);
	snprintf(what, sizeof(what), "RTM_NEWROUTE (line %u)", rt->pos.line);
	return nl_talk(h->rtnl, &r, what, errbuf);
}

static int neigh_add(struct live_host *h, const struct sim_scn_host *sh,
		     const struct sim_scn_neigh *n, char *errbuf)
{
	struct live_nlreq r;
	struct ndmsg *nd;
	char what[96];

	live_nl_init(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg));
	nd = NLMSG_DATA(r.hdr);
	nd->ndm_family = n->addr.family == 4 ? AF_INET : AF_INET6;
	nd->ndm_ifindex = (int)sh->ifaces[n->dev.idx].ifindex;
	nd->ndm_state = NUD_PERMANENT;
	live_nl_attr(&r, NDA_DST, n->addr.bytes, n->addr.family == 4 ? 4 : 16);
	live_nl_attr(&r, NDA_LLADDR, n->lladdr, 6);
	snprintf(what, sizeof(what), "RTM_NEWNEIGH (line %u)", n->pos.line);
	return nl_talk(h->rtnl, &r, what, errbuf);
}

/* ------------------------------------------------------------------ */
/* Offload features (SIOCETHTOOL, ETHTOOL_SFEATURES by name). */

/* The index of feature @name ("tx-checksum-ip-generic") in the device's
 * feature strings, or -1. */
static int feature_index(int fd, const char *ifname, const char *name, uint32_t *count)
{
	/* The header and room for its one data[] word (a union: a
	 * flexible array must end its struct). */
	union {
		struct ethtool_sset_info hdr;
		uint8_t room[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
	} ssi;
	struct ethtool_gstrings *gs;
	struct ifreq ifr;
	uint32_t n;
	int found = -1;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	memset(&ssi, 0, sizeof(ssi));
	ssi.hdr.cmd = ETHTOOL_GSSET_INFO;
	ssi.hdr.sset_mask = 1ull << ETH_SS_FEATURES;
	ifr.ifr_data = (void *)&ssi;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || !ssi.hdr.sset_mask)
		return -1;
	n = ssi.hdr.data[0];
	if (n == 0 || n > 1024)
		return -1;
	*count = n;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	if (!gs)
		return -1;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	ifr.ifr_data = (void *)gs;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		for (uint32_t i = 0; i < n; i++)
			if (strncmp((const char *)gs->data + (size_t)i * ETH_GSTRING_LEN, name,
				    ETH_GSTRING_LEN) == 0) {
				found = (int)i;
				break;
			}
	free(gs);
	return found;
}

/* Turn feature @name of @ifname on or off (fd: a socket in its namespace). */
static int set_feature(int fd, const char *ifname, const char *name, int on, char *errbuf)
{
	union {
		struct ethtool_sfeatures hdr;
		uint8_t room[sizeof(struct ethtool_sfeatures) +
			     8 * sizeof(struct ethtool_set_features_block)];
	} sf;
	struct ifreq ifr;
	uint32_t count = 0;
	int i = feature_index(fd, ifname, name, &count);

	if (i < 0 || i >= 8 * 32 || count > 8 * 32)
		return fail(errbuf, EOPNOTSUPP, "%s has no feature %s", ifname, name);
	memset(&sf, 0, sizeof(sf));
	sf.hdr.cmd = ETHTOOL_SFEATURES;
	/* ethtool_set_features() wants exactly its number of words. */
	sf.hdr.size = (count + 31) / 32;
	sf.hdr.features[i / 32].valid = 1u << (i % 32);
	sf.hdr.features[i / 32].requested = on ? 1u << (i % 32) : 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&sf;
	/* A positive return only says some other feature changed with it. */
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return fail(errbuf, errno, "ETHTOOL_SFEATURES %s %s on %s", name, on ? "on" : "off",
			    ifname);
	return 0;
}

/*
 * The offloads of one end of a wire.
 *
 * Transmit checksums: a veth advertises NETIF_F_HW_CSUM, so the stack
 * leaves UDP and TCP checksums CHECKSUM_PARTIAL (only the pseudo-header
 * sum written) and the taps copy those bytes (tcpdump says "bad udp
 * cksum"); nothing ever completes them on a veth.  The model writes the
 * full checksum as a NIC without offload would, so the live run turns
 * tx checksumming off to compare the same bytes.
 *
 * VLAN: skb_vlan_untag() in __netif_receive_skb_core() moves a tag out of
 * the data whatever the receiving device's features, so what the receiver
 * does not control is whether the tag comes as metadata or in the bytes.
 * On a veth that is the sender's tx VLAN offload (NETIF_F_HW_VLAN_CTAG_TX:
 * vlan_dev_hard_start_xmit leaves the tag in skb->vlan_tci, veth_xmit
 * hands the skb over as it is).  So "vlan-offload off" on a device turns
 * rx-vlan-hw-parse off on it and tx-vlan-hw-insert off on its peer, which
 * makes the tag travel in the frame.
 */
static int end_features(const struct live_topo *t, int nsfd, const char *ifname, int vlan_rx,
			int vlan_tx, char *errbuf)
{
	int fd = live_topo_socket(t, nsfd, AF_INET, SOCK_DGRAM, 0, errbuf);
	int rc;

	if (fd < 0)
		return fd;
	rc = set_feature(fd, ifname, "tx-checksum-ip-generic", 0, errbuf);
	if (!rc && !vlan_rx)
		rc = set_feature(fd, ifname, "rx-vlan-hw-parse", 0, errbuf);
	if (!rc && !vlan_tx)
		rc = set_feature(fd, ifname, "tx-vlan-hw-insert", 0, errbuf);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */

static int uses_ipv6(const struct sim_scn_host *sh)
{
	for (uint32_t i = 1; i < sh->nifaces; i++)
		for (uint32_t a = 0; a < sh->ifaces[i].naddrs; a++)
			if (sh->ifaces[i].addrs[a].addr.family == 6)
				return 1;
	return 0;
}

static int build_devices(struct live_topo *t, char *errbuf)
{
	const struct sim_scenario *sc = t->sc;
	int rc;

	/* Wires: one veth pair each, the peer created straight into the
	 * other host's namespace. */
	for (uint32_t w = 0; w < sc->nwires; w++) {
		const struct sim_scn_wire *wi = &sc->wires[w];
		const struct sim_scn_iface *ia = &sc->hosts[wi->a.host].ifaces[wi->a.idx];
		const struct sim_scn_iface *ib = &sc->hosts[wi->b.host].ifaces[wi->b.idx];
		struct veth_end a = { ia->name, ia->mac, ia->mtu, ia->txqueuelen, (int)ia->ifindex,
				      t->hosts[wi->a.host].nsfd };
		struct veth_end b = { ib->name, ib->mac, ib->mtu, ib->txqueuelen, (int)ib->ifindex,
				      t->hosts[wi->b.host].nsfd };

		if ((rc = make_veth(&t->hosts[wi->a.host], &a, &b, errbuf)) != 0)
			return rc;
	}
	/* An Ethernet device on no wire still needs a far end to have a
	 * carrier: a veth whose peer waits in the run's void namespace. */
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		for (uint32_t i = 1; i < sh->nifaces; i++) {
			const struct sim_scn_iface *ifc = &sh->ifaces[i];
			char peer[IFNAMSIZ];

			if (ifc->kind != SIM_SCN_IFACE_ETHER || ifc->wire >= 0)
				continue;
			snprintf(peer, sizeof(peer), "v%u.%u", h % 1000, i % 100);
			struct veth_end a = { ifc->name, ifc->mac, ifc->mtu, ifc->txqueuelen,
					      (int)ifc->ifindex, -1 };
			struct veth_end b = { peer, NULL, ifc->mtu, 1000, 0, t->voidns.nsfd };

			if ((rc = make_veth(&t->hosts[h], &a, &b, errbuf)) != 0)
				return rc;
		}
	}
	/* VLAN devices, on their parents. */
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		for (uint32_t i = 1; i < sh->nifaces; i++) {
			const struct sim_scn_iface *ifc = &sh->ifaces[i];

			if (ifc->kind != SIM_SCN_IFACE_VLAN)
				continue;
			rc = make_vlan(&t->hosts[h], ifc, (int)sh->ifaces[ifc->parent.idx].ifindex,
				       errbuf);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The far ends in the void namespace: up, so the near ends have a
 * carrier.  Their ifindexes are not known by name here: walk them. */
static int void_up(struct live_topo *t, char *errbuf)
{
	int fd = live_topo_socket(t, t->voidns.nsfd, AF_INET, SOCK_DGRAM, 0, errbuf);
	struct if_nameindex *ni, *p;
	int rc = 0;

	if (fd < 0)
		return fd;
	if ((rc = live_topo_enter(t, t->voidns.nsfd, errbuf)) != 0) {
		close(fd);
		return rc;
	}
	ni = if_nameindex();
	if ((rc = live_topo_leave(t, errbuf)) != 0) {
		if (ni)
			if_freenameindex(ni);
		close(fd);
		return rc;
	}
	if (!ni) {
		close(fd);
		return fail(errbuf, errno, "listing the void namespace's devices");
	}
	for (p = ni; p->if_index && !rc; p++) {
		if (strcmp(p->if_name, "lo") == 0)
			continue;
		rc = link_flags(&t->voidns, (int)p->if_index, IFF_UP, IFF_UP, p->if_name, errbuf);
	}
	if_freenameindex(ni);
	close(fd);
	return rc;
}

static int configure_host(struct live_topo *t, uint32_t h, char *errbuf)
{
	const struct sim_scn_host *sh = &t->sc->hosts[h];
	struct live_host *lh = &t->hosts[h];
	int rc;

	if (uses_ipv6(sh)) {
		/* An IPv6 address needs IPv6 on: DAD is skipped per address
		 * (IFA_F_NODAD); router solicitations and MLD may still
		 * appear on the wire (they are reported as extra packets). */
		if ((rc = live_topo_enter(t, lh->nsfd, errbuf)) != 0)
			return rc;
		rc = write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "0", errbuf);
		if (!rc)
			rc = write_sysctl("/proc/sys/net/ipv6/conf/default/router_solicitations",
					  "0", errbuf);
		for (uint32_t i = 0; !rc && i < sh->nifaces; i++) {
			char path[128];

			snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
				 sh->ifaces[i].name);
			rc = write_sysctl(path, "0", errbuf);
		}
		int rc2 = live_topo_leave(t, errbuf);

		if (rc || rc2)
			return rc ? rc : rc2;
	}
	for (uint32_t i = 0; i < sh->nifaces; i++) {
		const struct sim_scn_iface *ifc = &sh->ifaces[i];
		unsigned flags = IFF_UP | (ifc->promisc ? IFF_PROMISC : 0);

		if ((rc = link_flags(lh, (int)ifc->ifindex, flags, IFF_UP | IFF_PROMISC, ifc->name,
				     errbuf)) != 0)
			return rc;
		for (uint32_t a = 0; a < ifc->naddrs; a++) {
			/* lo has 127.0.0.1/8 and ::1 once it is up. */
			if (ifc->kind == SIM_SCN_IFACE_LOOPBACK)
				continue;
			if ((rc = addr_add(lh, (int)ifc->ifindex, &ifc->addrs[a], ifc->name,
					   errbuf)) != 0)
				return rc;
		}
	}
	for (uint32_t i = 0; i < sh->nroutes; i++)
		if ((rc = route_add(lh, sh, &sh->routes[i], errbuf)) != 0)
			return rc;
	for (uint32_t i = 0; i < sh->nneighs; i++)
		if ((rc = neigh_add(lh, sh, &sh->neighs[i], errbuf)) != 0)
			return rc;
	return 0;
}

static int configure_features(struct live_topo *t, char *errbuf)
{
	const struct sim_scenario *sc = t->sc;
	int rc;

	for (uint32_t w = 0; w < sc->nwires; w++) {
		const struct sim_scn_wire *wi = &sc->wires[w];
		const struct sim_scn_iface *ia = &sc->hosts[wi->a.host].ifaces[wi->a.idx];
		const struct sim_scn_iface *ib = &sc->hosts[wi->b.host].ifaces[wi->b.idx];

		rc = end_features(t, t->hosts[wi->a.host].nsfd, ia->name, ia->vlan_offload,
				  ib->vlan_offload, errbuf);
		if (!rc)
			rc = end_features(t, t->hosts[wi->b.host].nsfd, ib->name, ib->vlan_offload,
					  ia->vlan_offload, errbuf);
		if (rc)
			return rc;
	}
	for (uint32_t h = 0; h < sc->nhosts; h++) {
		const struct sim_scn_host *sh = &sc->hosts[h];

		for (uint32_t i = 1; i < sh->nifaces; i++) {
			const struct sim_scn_iface *ifc = &sh->ifaces[i];

			if (ifc->kind == SIM_SCN_IFACE_ETHER && ifc->wire < 0 &&
			    (rc = end_features(t, t->hosts[h].nsfd, ifc->name, ifc->vlan_offload, 1,
					       errbuf)) != 0)
				return rc;
		}
	}
	return 0;
}

int live_topo_build(struct live_topo *t, const struct sim_scenario *sc, char *errbuf)
{
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->sc = sc;
	t->voidns.nsfd = t->voidns.rtnl = -1;
	t->home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home < 0)
		return fail(errbuf, errno, "open /proc/thread-self/ns/net");
	t->hosts = calloc(sc->nhosts ? sc->nhosts : 1, sizeof(*t->hosts));
	if (!t->hosts) {
		close(t->home);
		return fail(errbuf, ENOMEM, "live topology");
	}
	for (uint32_t h = 0; h < sc->nhosts; h++)
		t->hosts[h].nsfd = t->hosts[h].rtnl = -1;
	t->nhosts = sc->nhosts;
	for (uint32_t h = 0; h < sc->nhosts && !rc; h++)
		rc = ns_new(t, &t->hosts[h], &sc->hosts[h], sc->hosts[h].name, errbuf);
	if (!rc)
		rc = ns_new(t, &t->voidns, NULL, "void", errbuf);
	if (!rc)
		rc = build_devices(t, errbuf);
	if (!rc)
		rc = configure_features(t, errbuf);
	for (uint32_t h = 0; h < sc->nhosts && !rc; h++)
		rc = configure_host(t, h, errbuf);
	if (!rc)
		rc = void_up(t, errbuf);
	if (rc)
		live_topo_free(t);
	return rc;
}

void live_topo_free(struct live_topo *t)
{
	if (!t->hosts && t->home <= 0)
		return;
	for (uint32_t h = 0; h < t->nhosts; h++)
		host_close(&t->hosts[h]);
	host_close(&t->voidns);
	free(t->hosts);
	t->hosts = NULL;
	t->nhosts = 0;
	if (t->home >= 0)
		close(t->home);
	t->home = -1;
}

/* ------------------------------------------------------------------ */
/* Interface statistics. */

int live_link_stats(const struct live_host *h, int ifindex, struct live_link_stats *st,
		    char *errbuf)
{
	struct live_nlreq r;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t reply[16384];
	ssize_t n;
	const struct nlmsghdr *m;

	memset(st, 0, sizeof(*st));
	live_nl_init(&r, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
	r.hdr->nlmsg_flags = NLM_F_REQUEST;
	ifinfo(&r, ifindex);
	if (sendto(h->rtnl, r.data, r.hdr->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return fail(errbuf, errno, "RTM_GETLINK %d", ifindex);
	n = recv(h->rtnl, reply, sizeof(reply), 0);
	if (n < 0)
		return fail(errbuf, errno, "RTM_GETLINK %d", ifindex);
	m = (const struct nlmsghdr *)reply;
	if (!NLMSG_OK(m, (size_t)n) || m->nlmsg_type != RTM_NEWLINK)
		return fail(errbuf, EPROTO, "RTM_GETLINK %d: no link in the answer", ifindex);
	{
		const struct ifinfomsg *ifi = NLMSG_DATA(m);
		const struct rtattr *a = IFLA_RTA(ifi);
		int left = (int)IFLA_PAYLOAD(m);

		for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
			struct rtnl_link_stats64 s;

			if (a->rta_type != IFLA_STATS64)
				continue;
			memset(&s, 0, sizeof(s));
			memcpy(&s, RTA_DATA(a),
			       RTA_PAYLOAD(a) < sizeof(s) ? RTA_PAYLOAD(a) : sizeof(s));
			st->rx_packets = s.rx_packets;
			st->tx_packets = s.tx_packets;
			st->rx_bytes = s.rx_bytes;
			st->tx_bytes = s.tx_bytes;
			st->rx_errors = s.rx_errors;
			st->tx_errors = s.tx_errors;
			st->rx_dropped = s.rx_dropped;
			st->tx_dropped = s.tx_dropped;
			st->rx_missed_errors = s.rx_missed_errors;
			st->rx_length_errors = s.rx_length_errors;
			st->rx_otherhost_dropped = s.rx_otherhost_dropped;
			return 0;
		}
	}
	return fail(errbuf, EPROTO, "RTM_GETLINK %d: no IFLA_STATS64", ifindex);
}

/* ------------------------------------------------------------------ */
/* Programs inside a namespace. */

/* Read everything from @fd into a growing buffer. */
static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return NULL;
	for (;;) {
		if (cap - len < 2048) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int live_ns_run(int nsfd, char *const argv[], const char *input, char **out, char *errbuf)
{
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errfd = -1, status = 0, rc = 0;
	pid_t pid;
	char *text = NULL;

	if (out)
		*out = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
	    (errfd = memfd_create("capsim-stderr", MFD_CLOEXEC)) < 0) {
		rc = fail(errbuf, errno, "pipes for %s", argv[0]);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = fail(errbuf, errno, "fork for %s", argv[0]);
		goto out;
	}
	if (pid == 0) {
		/* The child: only async-signal-safe calls until exec. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(errfd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (input) {
		size_t len = strlen(input), off = 0;

		while (off < len) {
			ssize_t w = write(in[1], input + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(in[1]);
	in[1] = -1;
	text = slurp(outp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char emsg[160] = "";
		ssize_t n = pread(errfd, emsg, sizeof(emsg) - 1, 0);
		char *nl;

		emsg[n > 0 ? n : 0] = '\0';
		if ((nl = strchr(emsg, '\n')))
			*nl = '\0';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "live: %s is not installed (apt-get install %s)", argv[0],
				 strcmp(argv[0], "tc") == 0 ? "iproute2" : "nftables");
			rc = LIVE_ERR_NOSUPPORT;
		} else {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: %s %s failed (%s %d): %s", argv[0],
				 argv[1] ? argv[1] : "",
				 WIFEXITED(status) ? "exit" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), emsg);
			rc = LIVE_ERR_SYS;
		}
		goto out;
	}
	if (out) {
		*out = text;
		text = NULL;
	}
out:
	free(text);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (errfd >= 0)
		close(errfd);
	return rc;
}
