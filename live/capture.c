/*
 * capture.c - one AF_PACKET socket with a TPACKET_V3 receive ring, opened
 * and read the way libpcap 1.10 does on Linux (pcap-linux.c), with one
 * deliberate difference in the order of the filter (see live_capture_open).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live.h"
#include "sysio_int.h"

#define LIVE_VLAN_TAG_LEN 4 /* libpcap's PACKET_RESERVE: room to put a tag back */

_Static_assert(sizeof(struct tpacket3_hdr) == 48, "tpacket3_hdr layout");
_Static_assert(sizeof(struct sockaddr_ll) == 20, "sockaddr_ll layout");

struct live_capture {
	int fd;
	int sock_type;
	int ifindex;
	uint8_t *ring; /* mmap of block_nr * block_size bytes */
	uint32_t block_size;
	uint32_t block_nr;
	uint32_t hdrlen; /* PACKET_HDRLEN for TPACKET_V3 */
	/* Reading state, as pcap_read_linux_mmap_v3 keeps it. */
	uint32_t block; /* the block being read or waited for */
	uint32_t left;	/* frames of that block not yet handed out */
	uint8_t *next;	/* the next tpacket3_hdr in it */
	int holding;	/* the block is ours until every frame was handed out */
};

void live_ring_opts_init(struct live_ring_opts *o)
{
	o->sock_type = SOCK_RAW;
	o->block_size = 256 * 1024;
	o->block_nr = 32;
	o->retire_ms = 1;
	o->frame_size = 0;
}

static int sys_fail(char *errbuf, const char *what, int e)
{
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live capture: %s: %s", what, strerror(e));
	return live_errno_class(e);
}

static int attach(int fd, const struct bpfvm_prog *prog, char *errbuf)
{
	struct sock_fprog fp;

	if (prog->len == 0 || prog->len > BPFVM_MAXINSNS) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live capture: a filter needs 1..%d instructions, not %u", BPFVM_MAXINSNS,
			 prog->len);
		return LIVE_ERR_PROG;
	}
	fp.len = (unsigned short)prog->len;
	fp.filter = (struct sock_filter *)prog->insns;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0) {
		int e = errno;

		/* EINVAL: bpf_check_classic() or bpf_prepare_filter() said no. */
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live capture: the kernel refused the filter (SO_ATTACH_FILTER: %s)",
			 strerror(e));
		return e == EINVAL || e == ENOMEM || e == ERANGE ? LIVE_ERR_PROG : LIVE_ERR_SYS;
	}
	return 0;
}

static int bind_to(int fd, int ifindex, uint16_t protocol, char *errbuf)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(protocol);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return sys_fail(errbuf, protocol ? "bind(protocol)" : "bind(protocol 0)", errno);
	return 0;
}

int live_capture_open(struct live_capture **out, struct live_netns *ns, int ifindex,
		      const struct live_ring_opts *o, const struct bpfvm_prog *filter, char *errbuf)
{
	int fd, type = o ? o->sock_type : SOCK_RAW;

	*out = NULL;
	if (type != SOCK_RAW && type != SOCK_DGRAM) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live capture: socket type must be SOCK_RAW or SOCK_DGRAM");
		return LIVE_ERR_ARG;
	}
	/* Protocol 0: the socket is on no receive list, so nothing is queued
	 * while the ring is set up (pcap-linux.c: setup_socket). */
	fd = live_netns_socket(ns, AF_PACKET, type, 0, errbuf);
	if (fd < 0)
		return fd;
	return live_capture_open_fd(out, fd, ifindex, ETH_P_ALL, o, filter, errbuf);
}

int live_capture_open_fd(struct live_capture **out, int fd, int ifindex, uint16_t protocol,
			 const struct live_ring_opts *o, const struct bpfvm_prog *filter,
			 char *errbuf)
{
	struct live_ring_opts def;
	struct live_capture *c;
	struct tpacket_req3 req;
	socklen_t len;
	int val, ret;
	long page = sysconf(_SC_PAGESIZE);

	*out = NULL;
	if (!o) {
		live_ring_opts_init(&def);
		o = &def;
	}
	if (o->sock_type != SOCK_RAW && o->sock_type != SOCK_DGRAM) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live capture: socket type must be SOCK_RAW or SOCK_DGRAM");
		close(fd);
		return LIVE_ERR_ARG;
	}
	if (o->frame_size > o->block_size) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live capture: frames of %u bytes do not fit blocks of %u", o->frame_size,
			 o->block_size);
		close(fd);
		return LIVE_ERR_ARG;
	}
	if (page <= 0 || o->block_size == 0 || o->block_size % (uint32_t)page != 0 ||
	    o->block_nr == 0 || o->block_nr > UINT32_MAX / o->block_size) {
		snprintf(
		    errbuf, LIVE_ERRBUF_SIZE,
		    "live capture: ring of %u blocks of %u bytes is not a whole number of pages",
		    o->block_nr, o->block_size);
		close(fd);
		return LIVE_ERR_ARG;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return sys_fail(errbuf, "calloc", ENOMEM);
	}
	c->ring = MAP_FAILED;
	c->sock_type = o->sock_type;
	c->ifindex = ifindex;
	c->block_size = o->block_size;
	c->block_nr = o->block_nr;

	c->fd = fd;
	ret = bind_to(c->fd, ifindex, 0, errbuf);
	if (ret)
		goto fail;
	val = 1;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &val, sizeof(val)) < 0) {
		ret = sys_fail(errbuf, "PACKET_AUXDATA", errno);
		goto fail;
	}
	val = TPACKET_V3;
	len = sizeof(val);
	if (getsockopt(c->fd, SOL_PACKET, PACKET_HDRLEN, &val, &len) < 0) {
		int e = errno;

		ret = sys_fail(errbuf, "PACKET_HDRLEN for TPACKET_V3", e);
		if (e == EINVAL)
			ret = LIVE_ERR_NOSUPPORT;
		goto fail;
	}
	c->hdrlen = (uint32_t)val;
	val = TPACKET_V3;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_VERSION, &val, sizeof(val)) < 0) {
		ret = sys_fail(errbuf, "PACKET_VERSION TPACKET_V3", errno);
		goto fail;
	}
	val = LIVE_VLAN_TAG_LEN;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_RESERVE, &val, sizeof(val)) < 0) {
		ret = sys_fail(errbuf, "PACKET_RESERVE", errno);
		goto fail;
	}
	/* One "frame" per block, as libpcap does for V3 (its frame size is its
	 * 256 KiB maximum snaplen); frames are really variable-length. */
	memset(&req, 0, sizeof(req));
	req.tp_block_size = c->block_size;
	req.tp_block_nr = c->block_nr;
	req.tp_frame_size = o->frame_size ? o->frame_size : c->block_size;
	req.tp_frame_nr = c->block_nr * (c->block_size / req.tp_frame_size);
	req.tp_retire_blk_tov = o->retire_ms;
	if (setsockopt(c->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		ret = sys_fail(errbuf, "PACKET_RX_RING", errno);
		goto fail;
	}
	c->ring = mmap(NULL, (size_t)c->block_size * c->block_nr, PROT_READ | PROT_WRITE,
		       MAP_SHARED, c->fd, 0);
	if (c->ring == MAP_FAILED) {
		ret = sys_fail(errbuf, "mmap of the rx ring", errno);
		goto fail;
	}
	/*
	 * libpcap binds with the real protocol at the end of activation and
	 * only then sets the filter (pcap_setfilter_linux -> set_kernel_filter),
	 * first putting a reject-all "total filter" on the socket, draining what
	 * was queued, and filtering the blocks already in the ring in user space.
	 * Attaching the filter before the ETH_P_ALL bind makes all that
	 * unnecessary: the first frame this socket can see already meets it.
	 */
	if (filter) {
		ret = attach(c->fd, filter, errbuf);
		if (ret)
			goto fail;
	}
	ret = bind_to(c->fd, ifindex, protocol, errbuf);
	if (ret)
		goto fail;
	*out = c;
	return 0;
fail:
	live_capture_close(c);
	return ret;
}

int live_capture_set_filter(struct live_capture *c, const struct bpfvm_prog *prog, char *errbuf)
{
	return attach(c->fd, prog, errbuf);
}

static struct tpacket_block_desc *block_at(const struct live_capture *c, uint32_t i)
{
	return (struct tpacket_block_desc *)(c->ring + (size_t)i * c->block_size);
}

/* Give the block we hold back to the kernel and move to the next one. */
static void release_block(struct live_capture *c)
{
	__atomic_store_n(&block_at(c, c->block)->hdr.bh1.block_status, TP_STATUS_KERNEL,
			 __ATOMIC_RELEASE);
	c->holding = 0;
	c->block = (c->block + 1) % c->block_nr;
}

static int bad_ring(char *errbuf, const char *what, uint32_t block)
{
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live capture: block %u of the ring: %s", block, what);
	return LIVE_ERR_SYS;
}

int live_capture_next(struct live_capture *c, struct live_frame *f, int timeout_ms, char *errbuf)
{
	int polled = 0;

	for (;;) {
		if (c->holding && c->left == 0)
			release_block(c);
		if (!c->holding) {
			struct tpacket_block_desc *d = block_at(c, c->block);
			uint32_t st = __atomic_load_n(&d->hdr.bh1.block_status, __ATOMIC_ACQUIRE);

			if (st & TP_STATUS_USER) {
				uint32_t first = d->hdr.bh1.offset_to_first_pkt;

				if (first > c->block_size)
					return bad_ring(errbuf, "first frame outside the block",
							c->block);
				c->holding = 1;
				c->left = d->hdr.bh1.num_pkts;
				c->next = (uint8_t *)d + first;
				continue;
			}
		}
		if (c->holding) {
			const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)c->next;
			const struct sockaddr_ll *sll;
			size_t at = (size_t)(c->next - (uint8_t *)block_at(c, c->block));

			if (at > c->block_size || sizeof(*h) > c->block_size - at ||
			    h->tp_mac > c->block_size - at ||
			    h->tp_snaplen > c->block_size - at - h->tp_mac)
				return bad_ring(errbuf, "frame outside the block", c->block);
			sll = (const struct sockaddr_ll *)(c->next + TPACKET_ALIGN(sizeof(*h)));
			f->bytes = c->next + h->tp_mac;
			f->snaplen = h->tp_snaplen;
			f->len = h->tp_len;
			f->status = h->tp_status;
			f->mac = h->tp_mac;
			f->net = h->tp_net;
			f->vlan_tci = (uint16_t)h->hv1.tp_vlan_tci;
			f->vlan_tpid = (uint16_t)h->hv1.tp_vlan_tpid;
			f->sec = h->tp_sec;
			f->nsec = h->tp_nsec;
			f->pkttype = sll->sll_pkttype;
			f->protocol = ntohs(sll->sll_protocol);
			f->ifindex = sll->sll_ifindex;
			f->hatype = sll->sll_hatype;
			c->left--;
			c->next += h->tp_next_offset;
			return 1;
		}
		if (timeout_ms == 0 || polled)
			return 0;
		{
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			int r = poll(&p, 1, timeout_ms);

			if (r < 0 && errno != EINTR)
				return sys_fail(errbuf, "poll", errno);
			if (r > 0 && (p.revents & POLLERR)) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err)
					return sys_fail(errbuf, "the capture socket reported", err);
			}
			polled = 1;
		}
	}
}

int live_capture_stats(struct live_capture *c, struct live_capture_stats *st, char *errbuf)
{
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	memset(&ks, 0, sizeof(ks));
	if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) < 0)
		return sys_fail(errbuf, "PACKET_STATISTICS", errno);
	st->packets = ks.tp_packets;
	st->drops = ks.tp_drops;
	return 0;
}

uint32_t live_capture_max_frame(const struct live_capture *c)
{
	uint32_t head = (uint32_t)sizeof(struct tpacket_block_desc) + live_capture_frame_cost(c, 0);

	return c->block_size > head ? c->block_size - head : 0;
}

/*
 * tpacket_rcv() puts the data at netoff = TPACKET_ALIGN(hdrlen + max(maclen,
 * 16)) + reserve and the next frame at an 8-byte boundary after it; 16 more
 * bytes cover maclen and the rounding.
 */
uint32_t live_capture_frame_cost(const struct live_capture *c, uint32_t len)
{
	return TPACKET_ALIGN(c->hdrlen + 16) + LIVE_VLAN_TAG_LEN + 16 + len + 8;
}

uint64_t live_capture_ring_bytes(const struct live_capture *c)
{
	return (uint64_t)c->block_size * c->block_nr;
}

void live_capture_close(struct live_capture *c)
{
	if (!c)
		return;
	if (c->ring != MAP_FAILED)
		munmap(c->ring, (size_t)c->block_size * c->block_nr);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
