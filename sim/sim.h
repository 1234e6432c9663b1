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
	uint8_t want_poff;	/* compute SKF_AD_PAY_OFFSET (a flow dissection per
				 * frame); default 1: callers whose program never
				 * loads it may switch it off */
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

/* ------------------------------------------------------------------ */
/* `capsim sim SCENARIO`: one run of a scenario and its results
 * (sim/session.c, collect.c, expect.c, report.c).  Added by the author of
 * those files; the command layer needs nothing else of sim/. */
#ifndef CAPSIM_SIM_SESSION_H
#define CAPSIM_SIM_SESSION_H

#include <stdio.h>

struct sim_session;

/* One record a tap captured, in the form its pcap file holds it: a plain
 * SOCK_RAW tap's copy from the link-layer header, a SOCK_DGRAM tap's with
 * the DLT_LINUX_SLL2 header libpcap would build, tcpdump's as libpcap
 * handed it over. */
struct sim_session_capture {
	const char *host, *tap;		/* names */
	const char *dev;		/* the device the packet was on */
	uint64_t ts;			/* simulated time, ns */
	uint8_t pkt_type;		/* PACKET_HOST ... PACKET_OUTGOING */
	int tcpdump;			/* read by libpcap and tcpdump */
	int linktype;			/* DLT_EN10MB or DLT_LINUX_SLL2 */
	const uint8_t *bytes;
	uint32_t caplen, wirelen;
};

#define SIM_SESSION_ERRBUF_SIZE 1024

/* What a failing sim_session_* call means (for the caller's exit code). */
enum sim_session_err {
	SIM_SESSION_EINPUT = -1,	/* the scenario is wrong: "file:line:col: ..." */
	SIM_SESSION_EENV = -2,		/* this machine cannot do it (root, namespaces) */
	SIM_SESSION_EINTERNAL = -3,	/* out of memory, a write failed */
};

struct sim_session_opts {
	FILE *trace;		/* --trace: one line per event as it happens; NULL: none */
	uint64_t trace_limit;	/* lines of it; 0: 10000 */
	uint32_t list_limit;	/* one-liners kept per tap; 0: 50 */
	const char *pcap_dir;	/* -w DIR: HOST.TAP.pcap per tap; NULL: none */
	/* Every record a tap captured, as it is captured (`capsim live`
	 * compares them with the kernel's); NULL: none.  The record and its
	 * bytes are valid only during the call. */
	void (*capture)(void *ctx, const struct sim_session_capture *rec);
	void *capture_ctx;
};

/*
 * Read and parse the scenario at @path.  0 and a session in *@out (free
 * it with sim_session_free()), or SIM_SESSION_EINPUT with
 * "file:line:col: sentence" in @errbuf (SIM_SESSION_ERRBUF_SIZE).
 */
int sim_session_load(struct sim_session **out, const char *path, char *errbuf);
/* The parsed scenario in canonical form (--print).  0, or -1 on a write error. */
int sim_session_write_scenario(const struct sim_session *s, FILE *f);
/*
 * Build the world, attach the collectors, run it for the scenario's
 * duration (or until nothing is left to do), read the counters out and
 * check the expectations.  --trace lines go to @o->trace as the events
 * happen; -w files appear only once all of them are complete.  0, or a
 * sim_session_err with a sentence in @errbuf.  Once only.
 */
int sim_session_run(struct sim_session *s, const struct sim_session_opts *o, char *errbuf);
/* Expectations in the scenario, and how many of them failed (after the run). */
unsigned sim_session_expects(const struct sim_session *s);
unsigned sim_session_failed(const struct sim_session *s);
/* Events the run reported, and the simulated time it ended at (ns). */
uint64_t sim_session_events(const struct sim_session *s);
void sim_session_free(struct sim_session *s);

struct sim_scenario;

/* Read-outs after the run, for `capsim live`. */
struct sim_session_tap {
	int tcpdump;
	int linktype;			/* of its records */
	uint64_t captured, received, dropped;	/* closing lines (plain tap: copies,
						 * tp_packets, tp_drops) */
	uint64_t tp_packets, tp_drops, tp_freeze_q_cnt;
};
/* 0 and @out for tap @tap of host @host, or -1 if there is no such tap. */
int sim_session_tap(const struct sim_session *s, const char *host, const char *tap,
		    struct sim_session_tap *out);
/* Counter @name of host @host ("eth0.rx_packets", "rule.block-dns",
 * "softnet.dropped", ...): 1 and *@v when the model keeps it, 0 when it is
 * a kernel counter the model never moves, -1 when there is none. */
int sim_session_counter(const struct sim_session *s, const char *host, const char *name,
			uint64_t *v);
/* The drops of the run, by (host, stage, reason): @i from 0 while it
 * returns 0 (-1 past the end). */
struct sim_session_drop {
	const char *host;
	const char *reason;		/* "NETFILTER_DROP" */
	const char *func;		/* the kernel function ("nf_hook_slow") */
	const char *hook;		/* "OUTPUT", "tc ingress", or "" */
	uint64_t count;
	int tap_copy;			/* a tap's copy lost, not the packet */
};
int sim_session_drop(const struct sim_session *s, unsigned i, struct sim_session_drop *out);
/* The parsed scenario (owned by the session). */
const struct sim_scenario *sim_session_scenario(const struct sim_session *s);

/*
 * Printers (report.c): what the run found, for people (text: each tap's
 * tcpdump listing and closing lines, where packets went and why tcpdump
 * did or did not see them, the counters, the expectations), for scripts
 * (JSON, one object) and as a Graphviz graph of the stages the packets
 * passed, drops marked.  @max_lines: one-liners printed per tap (at most
 * the list_limit kept; the rest are counted, "... N more").
 * Each returns 0, or -1 on a write error.
 */
int sim_report_text(FILE *f, const struct sim_session *s, uint32_t max_lines);
int sim_report_json(FILE *f, const struct sim_session *s);
int sim_report_dot(FILE *f, const struct sim_session *s);

#endif
