/*
 * pcap_reader.c - libpcap 1.10 and tcpdump 4.99 on top of a tap: the
 * ring libpcap asks for, the user-space steps between the ring and
 * tcpdump (pcap_read_linux_mmap_v3/_v2, pcap_handle_packet_mmap,
 * linux_check_direction), and tcpdump's closing lines (pcap_stats_linux,
 * tcpdump's info()).
 *
 * The reader is a user-space thread, not a softirq step: it runs as
 * SIM_EV_TAP_READ events on its own clock (its own CPU; the host's CPUs
 * are not charged), spends @read_ns on every packet it hands tcpdump, and
 * sleeps in poll() until sk_data_ready() (sim_pcap_wakeup()) says a block
 * (V3) or a frame (V2) is ready.  A block goes back to the kernel only
 * once tcpdump has processed its last packet, as in
 * pcap_read_linux_mmap_v3(); a slow reader therefore holds blocks, and
 * the kernel freezes the queue and drops (tp_drops) until one comes back.
 */
#include "model.h"
#include "scenario.h"
#include "sim.h"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAXIMUM_SNAPLEN 262144	/* pcap-int.h */
#define VLAN_TAG_LEN 4
#define SLL2_HDR_LEN 20		/* pcap/sll.h */

struct sim_pcap {
	sim_ns read_ns;
	enum sim_pcap_dir direction;	/* handle->direction */
	uint32_t snapshot;		/* handle->snapshot */
	uint8_t cooked;			/* handlep->cooked: DLT_LINUX_SLL2 */
	uint8_t promisc;		/* handle->opt.promisc (off on "any") */
	int lo_ifindex;			/* handlep->lo_ifindex */
	/* Where it reads. */
	uint32_t offset;		/* handle->offset: the block (V3) or frame (V2) */
	uint32_t pkt_off;		/* V3: handlep->current_packet in the block, 0: none */
	uint32_t packets_left;		/* V3: handlep->packets_left */
	uint8_t v2_held;		/* V2: the frame at @offset is being processed */
	uint8_t scheduled;		/* a SIM_EV_TAP_READ is pending */
	/* pcap_stats() running totals and tcpdump's packets_captured. */
	struct sim_pcap_stats st;
	uint64_t ifdrop_base;		/* handlep->sysfs_dropped at open */
	uint8_t *buf;			/* the record handed to tcpdump */
};

/* ------------------------------------------------------------------ */
/* What libpcap asks the kernel for. */

void sim_tap_cfg_libpcap_ring(struct sim_tap_cfg *cfg)
{
	struct sim_scn_ring r;

	/* Ethernet devices here have segmentation offloads (veth, lo). */
	sim_libpcap_ring(cfg->buffer_size, cfg->snapshot, cfg->timeout_ms, cfg->immediate,
			 cfg->sock_type == SOCK_DGRAM, cfg->dev ? cfg->dev->mtu : 1500, 1, &r);
	cfg->snapshot = r.snaplen;
	cfg->reserve = r.reserve;
	cfg->ring_version = r.version == 3 ? TPACKET_V3 : TPACKET_V2;
	cfg->block_size = r.block_size;
	cfg->block_nr = r.block_nr;
	cfg->frame_size = r.frame_size;
	cfg->frame_nr = r.frame_nr;
	cfg->retire_tov_ms = r.retire_ms;
}

void sim_tap_cfg_tcpdump_defaults(struct sim_tap_cfg *cfg, struct sim_dev *dev)
{
	memset(cfg, 0, sizeof(*cfg));
	/* pcap_activate_linux(): the "any" device is a SOCK_DGRAM socket
	 * bound to no device; tcpdump then picks DLT_LINUX_SLL2. */
	cfg->sock_type = dev ? SOCK_RAW : SOCK_DGRAM;
	cfg->proto = ETH_P_ALL;
	cfg->dev = dev;
	cfg->reader = SIM_READER_TCPDUMP;
	cfg->snapshot = MAXIMUM_SNAPLEN;
	cfg->buffer_size = 2 * 1024 * 1024;
	/* tcpdump's default timeout; 100 ms when it prints to a terminal
	 * or with -l. */
	cfg->timeout_ms = 1000;
	cfg->direction = SIM_PCAP_D_INOUT;
	sim_tap_cfg_libpcap_ring(cfg);
}

/* ------------------------------------------------------------------ */
/* Opening and closing. */

int sim_pcap_open(struct sim_tap *tap, const struct sim_tap_cfg *cfg, char *errbuf)
{
	const struct sim_tap_ring *r = sim_tap_ring(tap);
	const struct sim_dev *lo = sim_host_dev(tap->host, "lo");
	struct sim_pcap *p = calloc(1, sizeof(*p));

	if (!p || !r || !(p->buf = malloc((size_t)r->block_size + SLL2_HDR_LEN + VLAN_TAG_LEN))) {
		free(p);
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "tap %s: out of memory for libpcap", tap->name);
		return -1;
	}
	p->read_ns = cfg->read_ns;
	p->direction = cfg->direction;
	p->snapshot = cfg->snapshot && cfg->snapshot <= MAXIMUM_SNAPLEN ? cfg->snapshot
									: MAXIMUM_SNAPLEN;
	p->cooked = tap->sock_type == SOCK_DGRAM;
	/* tcpdump asks for promiscuous mode (no -p); libpcap drops it on
	 * "any" with a warning. */
	p->promisc = tap->bound != NULL;
	p->lo_ifindex = lo ? (int)lo->ifindex : -1;
	if (p->promisc)
		p->ifdrop_base = tap->bound->stats.rx_missed_errors;
	tap->pcap = p;
	return 0;
}

void sim_pcap_close(struct sim_tap *tap)
{
	if (!tap->pcap)
		return;
	free(tap->pcap->buf);
	free(tap->pcap);
	tap->pcap = NULL;
}

/* ------------------------------------------------------------------ */
/* Reading. */

void sim_pcap_wakeup(struct sim_ctx *c, struct sim_tap *tap)
{
	struct sim_pcap *p = tap->pcap;

	if (!p || p->scheduled)
		return;
	p->scheduled = 1;
	sim_schedule(c->w, c->t, SIM_EV_TAP_READ, tap, NULL);
}

/*
 * linux_check_direction(): an outgoing packet on lo is thrown away,
 * because the same packet comes back in as incoming and would otherwise
 * be seen twice; then pcap_setdirection()'s choice.  The kernel copied
 * both: they are in tp_packets.
 */
static int linux_check_direction(const struct sim_pcap *p, const struct sockaddr_ll *sll)
{
	if (sll->sll_pkttype == PACKET_OUTGOING) {
		if (sll->sll_ifindex == p->lo_ifindex)
			return 0;
		if (sll->sll_hatype == ARPHRD_CAN && p->direction != SIM_PCAP_D_OUT)
			return 0;
		if (p->direction == SIM_PCAP_D_IN)
			return 0;
	} else if (p->direction == SIM_PCAP_D_OUT) {
		return 0;
	}
	return 1;
}

/* tcpdump read (or its direction check skipped) a frame: an event for the
 * observers, on the device the frame's sockaddr_ll names. */
static void trace_read(struct sim_ctx *c, const struct sim_tap *tap, const struct sockaddr_ll *sll,
		       const struct sim_tap_trace *tt)
{
	const struct sim_dev *dev = NULL;

	if (!c->w->obs)
		return;
	for (unsigned i = 0; i < tap->host->ndevs && !dev; i++)
		if ((int)tap->host->devs[i]->ifindex == sll->sll_ifindex)
			dev = tap->host->devs[i];
	sim_trace_tap(c, SIM_ST_PCAP_READ, NULL, dev, SIM_DROP_NONE, tt);
}

/*
 * pcap_handle_packet_mmap(): one frame of the ring to tcpdump.  @frame
 * holds the tpacket header at 0, the sockaddr_ll after it, the packet at
 * @mac; @room is how many bytes of the ring follow @frame.  1 if tcpdump
 * got the packet, 0 if libpcap kept it from tcpdump.
 */
static int handle_frame(struct sim_ctx *c, struct sim_tap *tap, const uint8_t *frame, uint32_t room,
			uint32_t hdr_size, uint32_t tp_len, uint32_t mac, uint32_t snaplen,
			uint32_t sec, uint32_t nsec, int vlan_valid, uint16_t tci, uint16_t tpid)
{
	struct sim_pcap *p = tap->pcap;
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)(frame + TPACKET_ALIGN(hdr_size));
	struct sim_tap_trace tt = { .tap = tap, .pkt_type = sll->sll_pkttype,
				    .ts = (sim_ns)sec * 1000000000ull + nsec };
	uint32_t caplen, len;

	sim_tap_ring_shadow_pop(tap, &tt.skb_id, &tt.clone);
	/* "corrupted frame on kernel ring": cannot happen with our kernel. */
	if (mac > room || snaplen > room - mac)
		return 0;
	/* The kernel ran the filter; libpcap filters in user space only
	 * when it could not attach it, which never happens here. */
	if (!linux_check_direction(p, sll)) {
		p->st.dir_rejected++;
		tt.result = SIM_TAP_FILTERED;
		trace_read(c, tap, sll, &tt);
		return 0;
	}
	if (p->cooked) {
		/* The DLT_LINUX_SLL2 header built from the sockaddr_ll, in
		 * network byte order.  set_vlan_offset() knows no VLAN
		 * offset for SLL2, so no tag is put back. */
		uint8_t *h = p->buf;
		uint32_t ifindex = (uint32_t)sll->sll_ifindex;

		memcpy(h, &sll->sll_protocol, 2);	/* already network order */
		h[2] = h[3] = 0;
		h[4] = (uint8_t)(ifindex >> 24);
		h[5] = (uint8_t)(ifindex >> 16);
		h[6] = (uint8_t)(ifindex >> 8);
		h[7] = (uint8_t)ifindex;
		h[8] = (uint8_t)(sll->sll_hatype >> 8);
		h[9] = (uint8_t)sll->sll_hatype;
		h[10] = sll->sll_pkttype;
		h[11] = sll->sll_halen;
		memcpy(h + 12, sll->sll_addr, 8);
		memcpy(h + SLL2_HDR_LEN, frame + mac, snaplen);
		caplen = snaplen + SLL2_HDR_LEN;
		len = tp_len + SLL2_HDR_LEN;
		if (caplen > p->snapshot)
			caplen = p->snapshot;
		tt.linktype = DLT_LINUX_SLL2;
	} else {
		struct sim_rx_view v = { .pkt = { .bytes = frame + mac, .caplen = snaplen,
						  .wirelen = tp_len } };
		uint32_t skb_len;

		v.meta.vlan_present = (uint8_t)(vlan_valid != 0);
		v.meta.vlan_tci = tci;
		v.meta.vlan_tpid = tpid;
		sim_libpcap_deliver(&v, snaplen, p->snapshot, p->buf, &caplen, &skb_len);
		len = tp_len + (skb_len - snaplen);	/* + VLAN_TAG_LEN if a tag went back */
		tt.linktype = DLT_EN10MB;
	}
	p->st.captured++;	/* tcpdump's packets_captured, in its callback */
	tt.result = SIM_TAP_READ;
	tt.bytes = p->buf;
	tt.caplen = caplen;
	tt.wirelen = len;
	trace_read(c, tap, sll, &tt);
	return 1;
}

/* libpcap's VLAN_VALID() and VLAN_TPID(). */
#define VLAN_VALID(st, tci) ((tci) != 0 || ((st) & TP_STATUS_VLAN_VALID))
#define VLAN_TPID(st, tpid) (((tpid) || ((st) & TP_STATUS_VLAN_TPID_VALID)) ? (tpid) : ETH_P_8021Q)

/* pcap_read_linux_mmap_v3(), one packet at a time: 1 handed to tcpdump,
 * 0 kept from it, -1 nothing to read (poll() would sleep). */
static int read_v3(struct sim_ctx *c, struct sim_tap *tap, const struct sim_tap_ring *r)
{
	struct sim_pcap *p = tap->pcap;

	for (;;) {
		uint8_t *b = r->mem + (size_t)p->offset * r->block_size;
		struct tpacket_block_desc *d = (struct tpacket_block_desc *)b;

		if (!p->pkt_off) {
			if (d->hdr.bh1.block_status == TP_STATUS_KERNEL)	/* packet_mmap_v3_acquire() */
				return -1;
			p->pkt_off = d->hdr.bh1.offset_to_first_pkt;
			p->packets_left = d->hdr.bh1.num_pkts;
		}
		if (!p->packets_left || p->pkt_off >= r->block_size) {
			/* The last packet is done: hand the block back
			 * (packet_mmap_v3_release()) and go on. */
			d->hdr.bh1.block_status = TP_STATUS_KERNEL;
			p->pkt_off = 0;
			p->offset = p->offset + 1 < r->block_nr ? p->offset + 1 : 0;
			sim_tap_ring_released(c, tap);
			continue;
		}
		const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)(b + p->pkt_off);
		int ret = handle_frame(c, tap, (const uint8_t *)h, r->block_size - p->pkt_off,
				       sizeof(*h), h->tp_len, h->tp_mac, h->tp_snaplen, h->tp_sec,
				       h->tp_nsec, VLAN_VALID(h->tp_status, h->hv1.tp_vlan_tci),
				       (uint16_t)h->hv1.tp_vlan_tci,
				       VLAN_TPID(h->tp_status, h->hv1.tp_vlan_tpid));

		p->pkt_off = h->tp_next_offset ? p->pkt_off + h->tp_next_offset : r->block_size;
		p->packets_left--;
		return ret;
	}
}

/* pcap_read_linux_mmap_v2(), one frame at a time. */
static int read_v2(struct sim_ctx *c, struct sim_tap *tap, const struct sim_tap_ring *r)
{
	struct sim_pcap *p = tap->pcap;
	uint8_t *f = sim_tap_ring_v2_frame(r, p->offset);
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)f;

	if (p->v2_held) {
		h->tp_status = TP_STATUS_KERNEL;	/* packet_mmap_release() */
		p->v2_held = 0;
		p->offset = p->offset + 1 < r->frame_nr ? p->offset + 1 : 0;
		sim_tap_ring_released(c, tap);
		f = sim_tap_ring_v2_frame(r, p->offset);
		h = (struct tpacket2_hdr *)f;
	}
	if (h->tp_status == TP_STATUS_KERNEL)
		return -1;
	p->v2_held = 1;
	return handle_frame(c, tap, f, r->frame_size, sizeof(*h), h->tp_len, h->tp_mac,
			    h->tp_snaplen, h->tp_sec, h->tp_nsec,
			    VLAN_VALID(h->tp_status, h->tp_vlan_tci), h->tp_vlan_tci,
			    VLAN_TPID(h->tp_status, h->tp_vlan_tpid));
}

void sim_ev_tap_read(struct sim_world *w, struct sim_tap *tap)
{
	struct sim_pcap *p = tap->pcap;
	const struct sim_tap_ring *r = sim_tap_ring(tap);
	struct sim_ctx c = { .w = w, .host = tap->host, .t = w->clock.now };

	if (!p || !r)
		return;
	p->scheduled = 0;
	for (;;) {
		int ret = r->version == TPACKET_V3 ? read_v3(&c, tap, r) : read_v2(&c, tap, r);

		if (ret < 0)
			return;		/* asleep in poll() until sk_data_ready() */
		if (ret > 0 && p->read_ns) {
			/* tcpdump is busy with it; what follows (handing the
			 * block back, the next packet) comes after. */
			p->scheduled = 1;
			sim_schedule(w, c.t + p->read_ns, SIM_EV_TAP_READ, tap, NULL);
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The closing lines. */

/*
 * pcap_stats_linux(): one PACKET_STATISTICS read, which the kernel clears,
 * added to the running totals: "received by filter" is every packet the
 * filter accepted (copied or dropped), "dropped by kernel" those the
 * ring had no room for; in promiscuous mode, "dropped by interface" is
 * the growth of rx_missed_errors (and rx_fifo_errors) since open.
 * tcpdump's "captured" is its own count of callbacks; packets still in
 * the ring when it stops are in none of the three.
 */
int sim_tap_pcap_stats(struct sim_tap *tap, struct sim_pcap_stats *ps)
{
	struct sim_pcap *p = tap->pcap;
	struct sim_tap_stats k;

	if (!p)
		return -1;
	sim_tap_getsockopt_stats(tap, &k);
	p->st.ps_recv += k.tp_packets;
	p->st.ps_drop += k.tp_drops;
	if (p->promisc)
		p->st.ps_ifdrop = tap->bound->stats.rx_missed_errors - p->ifdrop_base;
	*ps = p->st;
	return 0;
}
