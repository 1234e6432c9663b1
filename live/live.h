/*
 * live.h - the running kernel as the reference: classic BPF filters and
 * frames on real AF_PACKET sockets, inside a private network namespace.
 *
 * Three layers, each usable alone:
 *  - live_netns (netns.c): a private network namespace holding a veth pair
 *    cs0 <-> cs1, created by the calling thread and left again at once, so
 *    the caller's own namespace is never changed.  The namespace lives as
 *    long as the handle's descriptors do: when the process dies, even by
 *    SIGKILL, the kernel tears it down with both veth ends.
 *  - live_capture (capture.c): a packet socket opened the way libpcap opens
 *    one on Linux (TPACKET_V3 ring read block by block), with an optional
 *    classic BPF filter attached before any frame can be queued.
 *  - live_filter (filter.c): send frames out of cs0, watch cs1 with an
 *    unfiltered witness socket and a filtered one, and report per frame
 *    what the kernel did.  This is the ground truth the model's "linux"
 *    semantics is checked against.
 *
 * Nothing here prints or exits.  Failures return one of enum live_error and
 * write one sentence into a caller's char errbuf[LIVE_ERRBUF_SIZE].
 * Everything needs root (CAP_SYS_ADMIN for the namespace, CAP_NET_RAW for
 * packet sockets); without it the calls fail with LIVE_ERR_PERM.
 */
#ifndef CAPSIM_LIVE_H
#define CAPSIM_LIVE_H

#include "bpfvm.h"
#include <stddef.h>
#include <stdint.h>

#define LIVE_ERRBUF_SIZE 256

/* Return codes; the command layer maps them to exit codes. */
enum live_error {
	LIVE_OK = 0,
	LIVE_ERR_SYS = -1,	 /* a system call failed; errbuf names it */
	LIVE_ERR_PERM = -2,	 /* not allowed: needs root (namespaces, packet sockets) */
	LIVE_ERR_NOSUPPORT = -3, /* the kernel lacks network namespaces, veth or TPACKET_V3 */
	LIVE_ERR_PROG = -4,	 /* the kernel refused the filter program (SO_ATTACH_FILTER) */
	LIVE_ERR_ARG = -5,	 /* a bad argument (length, option) */
	LIVE_ERR_LOST = -6,	 /* frames kept going missing after every retry */
};

/* A short name for an enum live_error value ("perm", "prog", ...). */
const char *live_error_name(int err);

/* ------------------------------------------------------------------ */
/* netns.c: the private namespace and its veth pair. */

#define LIVE_TX_IFNAME "cs0" /* the end frames are sent from */
#define LIVE_RX_IFNAME "cs1" /* the end the taps listen on */

struct live_netns;

/*
 * Create a network namespace holding the veth pair cs0 <-> cs1, with cs1's
 * address set to @rx_mac and both MTUs to @mtu, lo, cs0 and cs1 up, IPv6
 * disabled (no router solicitations, DAD or MLD frames), nothing else.  The
 * calling thread returns to its own namespace before this returns.
 * Returns 0 and *@ns (release with live_netns_destroy()), or a negative
 * enum live_error with the reason in @errbuf.
 */
int live_netns_create(struct live_netns **ns, const uint8_t rx_mac[6], uint32_t mtu, char *errbuf);

/* Tear the namespace down (its devices go with it once no socket made by
 * live_netns_socket() is open any more).  NULL is allowed. */
void live_netns_destroy(struct live_netns *ns);

/* Interface indexes inside the namespace (equal in every namespace this
 * module creates, but ask rather than assume). */
int live_netns_tx_ifindex(const struct live_netns *ns);
int live_netns_rx_ifindex(const struct live_netns *ns);
uint32_t live_netns_mtu(const struct live_netns *ns);

/* socket(2) inside the namespace: the calling thread enters it, creates
 * the socket and leaves.  Returns the descriptor (the caller closes it) or
 * a negative enum live_error with the reason in @errbuf. */
int live_netns_socket(struct live_netns *ns, int domain, int type, int protocol, char *errbuf);

/* ------------------------------------------------------------------ */
/* capture.c: one packet socket with a TPACKET_V3 receive ring. */

struct live_ring_opts {
	int sock_type;	     /* SOCK_RAW (default) or SOCK_DGRAM */
	uint32_t block_size; /* bytes per block, a multiple of the page size (default 256 KiB) */
	uint32_t block_nr;   /* blocks in the ring (default 32: 8 MiB) */
	uint32_t retire_ms;  /* tp_retire_blk_tov: hand a partly filled block over after this
				(default 1) */
};
void live_ring_opts_init(struct live_ring_opts *o);

/* One frame as the ring holds it; pointers valid until the next
 * live_capture_next() on the same capture. */
struct live_frame {
	const uint8_t *bytes; /* tp_snaplen bytes from tp_mac (SOCK_RAW: the MAC header) */
	uint32_t snaplen;     /* tp_snaplen */
	uint32_t len;	      /* tp_len: skb->len when the tap ran */
	uint32_t status;      /* tp_status (TP_STATUS_VLAN_VALID, ...) */
	uint16_t mac, net;    /* tp_mac, tp_net */
	uint16_t vlan_tci;    /* hv1.tp_vlan_tci */
	uint16_t vlan_tpid;   /* hv1.tp_vlan_tpid */
	uint32_t sec, nsec;   /* tp_sec, tp_nsec */
	uint8_t pkttype;      /* sll_pkttype */
	uint16_t protocol;    /* ntohs(sll_protocol): skb->protocol */
	int ifindex;	      /* sll_ifindex */
	uint16_t hatype;      /* sll_hatype */
};

/* PACKET_STATISTICS, which the kernel clears on every read. */
struct live_capture_stats {
	uint32_t packets; /* tp_packets: frames the filter accepted (drops included) */
	uint32_t drops;	  /* tp_drops: accepted but no room in the ring */
};

struct live_capture;

/*
 * Open a packet socket inside @ns on interface @ifindex the way libpcap
 * does (pcap-linux.c: setup_socket, create_ring, pcap_activate_linux):
 * socket(AF_PACKET, type, 0) so nothing is queued, bound to the interface
 * with protocol 0, PACKET_AUXDATA, PACKET_VERSION = TPACKET_V3,
 * PACKET_RESERVE = 4, PACKET_RX_RING, mmap.  Then, unlike libpcap, @filter
 * (if not NULL) is attached with SO_ATTACH_FILTER *before* the socket is
 * bound with ETH_P_ALL, so not one unfiltered frame enters the ring.
 * Returns 0 and *@c (close with live_capture_close()), LIVE_ERR_PROG if
 * the kernel refused the filter, or another negative enum live_error.
 */
int live_capture_open(struct live_capture **c, struct live_netns *ns, int ifindex,
		      const struct live_ring_opts *o, const struct bpfvm_prog *filter,
		      char *errbuf);

/* Replace the socket's filter (SO_ATTACH_FILTER swaps it atomically).
 * LIVE_ERR_PROG with the kernel's errno if it refuses the program. */
int live_capture_set_filter(struct live_capture *c, const struct bpfvm_prog *prog, char *errbuf);

/*
 * The next frame from the ring, walking blocks and tpacket3_hdr frames as
 * pcap_read_linux_mmap_v3() does; a block goes back to the kernel once all
 * its frames have been handed out.  Waits up to @timeout_ms (-1: forever,
 * 0: not at all) in poll().  Returns 1 and *@f, 0 if nothing came in time,
 * or a negative enum live_error.
 */
int live_capture_next(struct live_capture *c, struct live_frame *f, int timeout_ms, char *errbuf);

/* Read (and so clear) PACKET_STATISTICS. */
int live_capture_stats(struct live_capture *c, struct live_capture_stats *st, char *errbuf);

/* The largest frame the ring can hold whole (bytes from tp_mac). */
uint32_t live_capture_max_frame(const struct live_capture *c);
/* Bytes of ring a frame of @len bytes takes (header, alignment). */
uint32_t live_capture_frame_cost(const struct live_capture *c, uint32_t len);
/* Total bytes of ring. */
uint64_t live_capture_ring_bytes(const struct live_capture *c);

void live_capture_close(struct live_capture *c);

/* ------------------------------------------------------------------ */
/* filter.c: the cross-check driver. */

struct live_filter_opts {
	uint8_t rx_mac[6];	    /* cs1's address; default 02:00:00:00:00:01 */
	uint32_t mtu;		    /* both veth ends; default 1500 */
	int sock_type;		    /* the filtered tap: SOCK_RAW (default) or SOCK_DGRAM */
	struct live_ring_opts ring; /* both taps' rings (sock_type is ignored here) */
};
void live_filter_opts_init(struct live_filter_opts *o);

/*
 * What the kernel did with one frame.  Metadata comes from the unfiltered
 * witness socket, which sees every frame that reaches the ptype_all taps of
 * cs1; the filtered fields from the socket running the program.  Byte
 * pointers point into the handle's arena and stay valid until the next
 * live_filter_run() or live_filter_close().
 */
struct live_verdict {
	int send_errno;		  /* 0: sendmsg took the frame; else its errno (EINVAL:
				   * shorter than the link header, EMSGSIZE: longer
				   * than MTU + header) */
	uint8_t reached;	  /* the witness saw it: it reached the taps */
	uint8_t delivered;	  /* the filtered socket got it: the program returned non-zero */
	uint8_t pkttype;	  /* sll_pkttype (PACKET_HOST, PACKET_BROADCAST, ...) */
	uint8_t vlan_valid;	  /* TP_STATUS_VLAN_VALID: a tag was moved out of the data */
	uint8_t vlan_tpid_valid;  /* TP_STATUS_VLAN_TPID_VALID */
	uint16_t vlan_tci;	  /* hv1.tp_vlan_tci */
	uint16_t vlan_tpid;	  /* hv1.tp_vlan_tpid */
	uint16_t protocol;	  /* ntohs(sll_protocol): skb->protocol at the taps */
	int ifindex;		  /* sll_ifindex: the receiving device */
	uint32_t tap_len;	  /* the witness's tp_len: skb->len from the MAC header */
	const uint8_t *tap_bytes; /* the frame as the taps saw it (tap_len bytes) */
	uint32_t tp_len;     /* filtered socket's tp_len (SOCK_DGRAM: from the network header) */
	uint32_t tp_snaplen; /* filtered socket's tp_snaplen: min(tp_len, program's return) */
	uint16_t tp_mac, tp_net; /* filtered socket's offsets in its ring frame */
	const uint8_t *bytes;	 /* tp_snaplen captured bytes (NULL if not delivered) */
};

/* Counters over the handle's life, for reports and the throughput check. */
struct live_filter_counters {
	uint64_t frames;	  /* frames handed to live_filter_run() */
	uint64_t batches;	  /* batches sent (each closed by a marker frame) */
	uint64_t ring_drops;	  /* tp_drops seen (each batch with drops was sent again) */
	uint64_t resent_batches;  /* batches sent again after drops */
	uint64_t confirm_resends; /* frames missing from the witness, sent again alone */
};

struct live_filter;

/*
 * Build the namespace and both taps on cs1 (the witness: SOCK_RAW, no
 * filter; the filtered socket: @o->sock_type, starting with a reject-all
 * filter) and a sender bound to cs0.  @o may be NULL for the defaults.
 * Returns 0 and *@lf (close with live_filter_close()) or a negative enum
 * live_error: LIVE_ERR_PERM when not root, with a sentence in @errbuf.
 */
int live_filter_open(struct live_filter **lf, const struct live_filter_opts *o, char *errbuf);

/* The receiving device's ifindex (pin SKF_AD_IFINDEX in the model to it). */
int live_filter_ifindex(const struct live_filter *lf);
/* The receiving device's address and MTU, as configured. */
const uint8_t *live_filter_mac(const struct live_filter *lf);
uint32_t live_filter_mtu(const struct live_filter *lf);

/*
 * Attach @prog to the filtered socket, send @frames[i] (@lens[i] bytes from
 * the destination MAC) out of cs0 in order, and fill @out[i] for each.
 * Frames the kernel refuses to send are reported in out[i].send_errno, not
 * as a failure.  Frames are sent in batches sized to the rings; a batch
 * whose frames a ring had to drop is sent again, and a frame the witness
 * did not see is sent again alone to confirm it never reaches the taps, so
 * no frame is lost silently.  Any number of frames; memory for the bytes
 * grows with @n.  The calling thread is pinned to its current CPU for the
 * length of the call (and restored), so all frames cross one backlog queue
 * in order.  Returns 0, LIVE_ERR_PROG if the kernel refused @prog (nothing
 * was sent), LIVE_ERR_ARG, or another negative enum live_error, after which
 * frames may still be in flight: close the handle rather than run again.
 */
int live_filter_run(struct live_filter *lf, const struct bpfvm_prog *prog,
		    const uint8_t *const *frames, const uint32_t *lens, size_t n,
		    struct live_verdict *out, char *errbuf);

void live_filter_counters(const struct live_filter *lf, struct live_filter_counters *c);

void live_filter_close(struct live_filter *lf);

#endif
