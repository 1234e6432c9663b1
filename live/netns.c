/*
 * netns.c - a private network namespace with one veth pair, cs0 <-> cs1.
 *
 * Design: the calling thread unshare()s into a fresh namespace, builds the
 * devices over rtnetlink and ioctl, keeps a descriptor of the namespace
 * (/proc/thread-self/ns/net) and setns()es straight back.  Network
 * namespaces are per thread, so only the calling thread moves, and only for
 * the length of these calls; the caller's namespace never changes.
 * Sockets are tied to the namespace they were created in, so
 * live_netns_socket() enters it just long enough to call socket().  The
 * namespace is kept alive by that descriptor and by every socket created in
 * it; when the process dies (SIGKILL included) the kernel frees it and the
 * veth pair with it.  Nothing outside the namespace is created or touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live.h"
#include "sysio_int.h"

struct live_netns {
	int nsfd;	/* the private namespace */
	int tx_ifindex; /* cs0 */
	int rx_ifindex; /* cs1 */
};

const char *live_error_name(int err)
{
	switch (err) {
	case LIVE_OK:
		return "ok";
	case LIVE_ERR_SYS:
		return "sys";
	case LIVE_ERR_PERM:
		return "perm";
	case LIVE_ERR_NOSUPPORT:
		return "nosupport";
	case LIVE_ERR_PROG:
		return "prog";
	case LIVE_ERR_ARG:
		return "arg";
	case LIVE_ERR_LOST:
		return "lost";
	default:
		return "unknown";
	}
}

/* errno of a failed namespace or socket call -> enum live_error.  EINVAL
 * too means no support here: unshare() gives it for a namespace type the
 * kernel was built without. */
static int errno_class(int e)
{
	return e == EINVAL ? LIVE_ERR_NOSUPPORT : live_errno_class(e);
}

static int fail(char *errbuf, int code, const char *what, int e)
{
	if (code == LIVE_ERR_PERM)
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live: %s: %s (the live harness needs root: CAP_SYS_ADMIN for a "
			 "network namespace, CAP_NET_RAW for packet sockets)",
			 what, strerror(e));
	else
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: %s: %s", what, strerror(e));
	return code;
}

/* Write "1" to a sysctl of the namespace the calling thread is in (files
 * under /proc/sys/net belong to the opener's namespace).  A missing file
 * (no IPv6 in this kernel) is fine: then there is nothing to silence. */
static int write_sysctl(const char *path, const char *val, char *errbuf)
{
	int e = live_write_sysctl(path, val);

	return e ? fail(errbuf, errno_class(e), path, e) : 0;
}

/* ---- rtnetlink: one RTM_NEWLINK request building the veth pair ---- */

static int nl_talk(int fd, struct live_nlreq *b, const char *what, char *errbuf)
{
	int e = live_nl_talk(fd, b);

	/* No veth driver: EOPNOTSUPP from rtnl_newlink. */
	return e ? fail(errbuf, e == EOPNOTSUPP ? LIVE_ERR_NOSUPPORT : errno_class(e), what, e) : 0;
}

static int make_veth(const uint8_t rx_mac[6], uint32_t mtu, char *errbuf)
{
	struct live_nlreq b;
	struct ifinfomsg peer_ifi;
	struct rtattr *linkinfo, *data, *peer;
	const char kind[] = "veth";
	int fd, ret;

	live_nl_init(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));

	/* The buffer is far larger than this request, so live_nl_attr() cannot
	 * fail here; the checks stay for the day someone adds attributes. */
	if (!live_nl_attr(&b, IFLA_IFNAME, LIVE_TX_IFNAME, sizeof(LIVE_TX_IFNAME)) ||
	    !live_nl_attr(&b, IFLA_MTU, &mtu, sizeof(mtu)))
		goto overflow;
	linkinfo = live_nl_attr(&b, IFLA_LINKINFO, NULL, 0);
	if (!linkinfo || !live_nl_attr(&b, IFLA_INFO_KIND, kind, sizeof(kind) - 1))
		goto overflow;
	data = live_nl_attr(&b, IFLA_INFO_DATA, NULL, 0);
	if (!data)
		goto overflow;
	/* VETH_INFO_PEER carries a struct ifinfomsg, then the peer's attributes. */
	memset(&peer_ifi, 0, sizeof(peer_ifi));
	peer_ifi.ifi_family = AF_UNSPEC;
	peer = live_nl_attr(&b, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	if (!peer || !live_nl_attr(&b, IFLA_IFNAME, LIVE_RX_IFNAME, sizeof(LIVE_RX_IFNAME)) ||
	    !live_nl_attr(&b, IFLA_ADDRESS, rx_mac, 6) || !live_nl_attr(&b, IFLA_MTU, &mtu, sizeof(mtu)))
		goto overflow;
	live_nl_nest_end(&b, peer);
	live_nl_nest_end(&b, data);
	live_nl_nest_end(&b, linkinfo);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail(errbuf, errno_class(errno), "socket(AF_NETLINK)", errno);
	ret = nl_talk(fd, &b, "RTM_NEWLINK veth " LIVE_TX_IFNAME "/" LIVE_RX_IFNAME, errbuf);
	close(fd);
	return ret;
overflow:
	return fail(errbuf, LIVE_ERR_SYS, "building RTM_NEWLINK", ENOBUFS);
}

/* Bring @name up and return its ifindex (0 on failure, errbuf set). */
static int link_up(int fd, const char *name, char *errbuf)
{
	struct ifreq ifr;
	char what[64];

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	snprintf(what, sizeof(what), "SIOCGIFFLAGS %s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return fail(errbuf, errno_class(errno), what, errno);
	ifr.ifr_flags |= IFF_UP;
	snprintf(what, sizeof(what), "SIOCSIFFLAGS %s up", name);
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return fail(errbuf, errno_class(errno), what, errno);
	snprintf(what, sizeof(what), "SIOCGIFINDEX %s", name);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return fail(errbuf, errno_class(errno), what, errno);
	return ifr.ifr_ifindex;
}

/* Everything done inside the new namespace, before returning to the old. */
static int build(struct live_netns *ns, const uint8_t rx_mac[6], uint32_t mtu, char *errbuf)
{
	int fd, ret;

	ns->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns->nsfd < 0)
		return fail(errbuf, LIVE_ERR_SYS, "open /proc/thread-self/ns/net (new)", errno);

	/*
	 * Silence IPv6 before any device exists: with "default" set, cs0 and
	 * cs1 are born with IPv6 off, so addrconf never sends router
	 * solicitations, DAD neighbour solicitations or MLD reports on them.
	 * With no IPv4 address either, nothing but our frames crosses the pair.
	 */
	ret = write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", errbuf);
	if (!ret)
		ret = write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1", errbuf);
	if (ret)
		return ret;

	ret = make_veth(rx_mac, mtu, errbuf);
	if (ret)
		return ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(errbuf, errno_class(errno), "socket(AF_INET) for ioctls", errno);
	ret = link_up(fd, "lo", errbuf);
	if (ret > 0)
		ret = ns->tx_ifindex = link_up(fd, LIVE_TX_IFNAME, errbuf);
	if (ret > 0)
		ret = ns->rx_ifindex = link_up(fd, LIVE_RX_IFNAME, errbuf);
	close(fd);
	return ret > 0 ? 0 : ret;
}

int live_netns_create(struct live_netns **out, const uint8_t rx_mac[6], uint32_t mtu, char *errbuf)
{
	struct live_netns *ns;
	int home, ret;

	*out = NULL;
	if (mtu < 68 || mtu > 65535) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: MTU %u is outside 68..65535", mtu);
		return LIVE_ERR_ARG;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return fail(errbuf, LIVE_ERR_SYS, "calloc", ENOMEM);
	ns->nsfd = -1;

	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		ret = fail(errbuf, errno_class(errno), "open /proc/thread-self/ns/net", errno);
		goto out_free;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		ret = fail(errbuf, errno_class(errno), "unshare(CLONE_NEWNET)", errno);
		goto out_home;
	}
	ret = build(ns, rx_mac, mtu, errbuf);
	/* Go home whatever happened; if that fails, this thread would stay in
	 * a namespace the caller never asked for, so it is an error too. */
	if (setns(home, CLONE_NEWNET) < 0) {
		ret = fail(errbuf, LIVE_ERR_SYS, "setns back to the caller's namespace", errno);
		goto out_home;
	}
	if (ret)
		goto out_home;
	close(home);
	*out = ns;
	return 0;

out_home:
	close(home);
out_free:
	if (ns->nsfd >= 0)
		close(ns->nsfd);
	free(ns);
	return ret;
}

void live_netns_destroy(struct live_netns *ns)
{
	if (!ns)
		return;
	if (ns->nsfd >= 0)
		close(ns->nsfd);
	free(ns);
}

int live_netns_tx_ifindex(const struct live_netns *ns)
{
	return ns->tx_ifindex;
}

int live_netns_rx_ifindex(const struct live_netns *ns)
{
	return ns->rx_ifindex;
}

int live_netns_socket(struct live_netns *ns, int domain, int type, int protocol, char *errbuf)
{
	int home, fd, e;

	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return fail(errbuf, errno_class(errno), "open /proc/thread-self/ns/net", errno);
	if (setns(ns->nsfd, CLONE_NEWNET) < 0) {
		e = errno;
		close(home);
		return fail(errbuf, errno_class(e), "setns into the live namespace", e);
	}
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	e = errno;
	if (setns(home, CLONE_NEWNET) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		close(home);
		return fail(errbuf, LIVE_ERR_SYS, "setns back to the caller's namespace", e);
	}
	close(home);
	if (fd < 0)
		return fail(errbuf, errno_class(e), "socket in the live namespace", e);
	return fd;
}
