/*
 * sim.h - the model of the Linux capture path.
 *
 * This first stage is the receive-side view: what a packet socket on a
 * receiving Ethernet device is handed at the ptype_all taps of
 * __netif_receive_skb_core() - the frame after eth_type_trans() and
 * skb_vlan_untag(), and the sk_buff fields its filter can read.  The
 * simulator's receive path and `capsim filter run --semantics linux` both
 * use it, so they cannot disagree.
 */
#ifndef CAPSIM_SIM_H
#define CAPSIM_SIM_H

#include <stdint.h>
#include "bpfvm.h"

/* Drop reasons under the kernel's names (sim/dropreasons.h). */
enum sim_drop_reason {
	SIM_DROP_NONE = 0,
#define SIM_DROP(name, what) SIM_DROP_##name,
#include "dropreasons.h"
#undef SIM_DROP
	SIM_DROP_REASON_COUNT
};
/* "NETFILTER_DROP"; "NOT_DROPPED_YET" for SIM_DROP_NONE. */
const char *sim_drop_reason_name(enum sim_drop_reason r);
/* A short sentence saying what the reason means. */
const char *sim_drop_reason_text(enum sim_drop_reason r);

/* The receiving Ethernet device, as far as the receive path looks at it. */
struct sim_rx_dev {
	uint8_t mac[6];		/* dev->dev_addr; default 02:00:00:00:00:01 */
	uint32_t ifindex;	/* default 2 */
	uint16_t type;		/* dev->type; ARPHRD_ETHER */
	uint32_t mtu;		/* default 1500 */
};
void sim_rx_dev_init(struct sim_rx_dev *dev);
/* Parse "aa:bb:cc:dd:ee:ff" into @mac; 0 on success, -1 if malformed. */
int sim_parse_mac(const char *s, uint8_t mac[6]);

/* How the tap's socket was opened (socket(AF_PACKET, type, ...)). */
enum sim_sock_type { SIM_SOCK_RAW, SIM_SOCK_DGRAM };

/*
 * One frame as the taps see it.  @pkt.bytes points at the caller's frame,
 * or into the caller's buffer when the frame had to be rewritten (a VLAN
 * tag moved out of it).
 * When @drop is not SIM_DROP_NONE the frame never reached the taps:
 * @drop_func names the kernel function that discarded it.
 */
struct sim_rx_view {
	struct bpfvm_packet pkt;
	struct bpfvm_meta meta;
	enum sim_drop_reason drop;
	const char *drop_func;
};

/*
 * Build the view of @frame (@len bytes, starting at the Ethernet header) on
 * @dev for a socket of @type.  @buf must hold @len bytes; it receives the
 * frame when the kernel rewrites it (untagging), so @frame is never
 * changed.  Returns 0 (also for a dropped frame: see @out->drop).
 */
int sim_rx_view(const struct sim_rx_dev *dev, const uint8_t *frame, uint32_t len,
		enum sim_sock_type type, uint8_t *buf, struct sim_rx_view *out);

#endif

/*
 * What libpcap hands tcpdump for a frame the kernel captured on a live
 * Ethernet handle (pcap-linux.c, pcap_handle_packet_mmap): the first
 * @snap bytes of the view, with the VLAN tag the kernel moved into
 * metadata put back after the MAC addresses (when at least those were
 * captured), then cut to the handle's @snapshot.  Writes the bytes into
 * @out (@snap + 4 bytes) and the pcap lengths into *@caplen and *@len.
 */
void sim_libpcap_deliver(const struct sim_rx_view *v, uint32_t snap, uint32_t snapshot,
			 uint8_t *out, uint32_t *caplen, uint32_t *len);
