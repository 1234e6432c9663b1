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
	uint32_t frame_size; /* tp_frame_size; 0 (default): one "frame" per block, as libpcap */
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

/*
 * The same on a packet socket @fd the caller created (in whichever
 * namespace, with protocol 0 and type @o->sock_type), finally bound to
 * @protocol (host order: ETH_P_ALL, ETH_P_IP, ...) on @ifindex (0: every
 * device).  @fd is the capture's from then on, also on failure.
 */
int live_capture_open_fd(struct live_capture **c, int fd, int ifindex, uint16_t protocol,
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

/* ------------------------------------------------------------------ */
/* fuzzprog.c: `capsim fuzz programs` - random classic programs, valid
 * and deliberately broken, through our verifier and VM and through the
 * kernel.  Phase A: bpfvm_verify(BPFVM_LINUX) against SO_ATTACH_FILTER on
 * a plain socket.  Phase B: programs both accept run on frames through the
 * model and through live_filter_run().  Every disagreement is minimised
 * with bpfvm_minimize().  Deterministic for a seed. */

struct sim_rx_dev;

/* Where a program came from: bpfvm_progen() classes (enum bpfvm_defect,
 * 0 = valid), then these. */
enum live_fuzz_source {
	LIVE_FUZZ_SRC_RAW = BPFVM_DEFECT_COUNT,	/* random bytes */
	LIVE_FUZZ_SRC_SOUP,	/* whitelisted codes, random operands and jumps */
	LIVE_FUZZ_SRC_MUTANT,	/* a valid program with a few fields changed */
	LIVE_FUZZ_SRC_BULK,	/* 1000 to 4096 instructions near the kernel's size limits */
	LIVE_FUZZ_NSOURCES
};
const char *live_fuzz_source_name(unsigned src);

/* What one side did with one frame. */
struct live_fuzz_outcome {
	uint8_t reached;	/* it reached the ptype_all taps */
	uint8_t delivered;	/* the program returned non-zero */
	uint32_t len;		/* skb->len the filter ran on (tp_len) */
	uint32_t snaplen;	/* bytes captured (tp_snaplen) */
	const uint8_t *bytes;	/* those bytes */
};

/*
 * The engines checked against the kernel, replaceable so a test can plant
 * a bug and see the campaign catch it.
 *  verify: 0 if the program would attach, else -1 and a sentence in
 *          @errbuf (BPFVM_ERRBUF_SIZE).
 *  model:  fill @out[i] for each frame as a tap of @sock_type (SOCK_RAW or
 *          SOCK_DGRAM) on @dev would see it; @buf holds at least the sum
 *          of @lens bytes and out[i].bytes may point into it or into
 *          @frames.  0, or -1 and a sentence in @errbuf.
 */
struct live_fuzz_engines {
	int (*verify)(void *ctx, const struct bpfvm_prog *prog, char *errbuf);
	int (*model)(void *ctx, const struct bpfvm_prog *prog, const struct sim_rx_dev *dev,
		     int sock_type, const uint8_t *const *frames, const uint32_t *lens, size_t n,
		     uint8_t *buf, struct live_fuzz_outcome *out, char *errbuf);
	void *ctx;
};

/* The project's own engines: bpfvm_verify(BPFVM_LINUX); sim_rx_view() ->
 * bpfvm_run() -> bpfvm_snaplen().  @ctx is unused. */
int live_fuzz_verify_default(void *ctx, const struct bpfvm_prog *prog, char *errbuf);
int live_fuzz_model_default(void *ctx, const struct bpfvm_prog *prog,
			    const struct sim_rx_dev *dev, int sock_type,
			    const uint8_t *const *frames, const uint32_t *lens, size_t n,
			    uint8_t *buf, struct live_fuzz_outcome *out, char *errbuf);
void live_fuzz_engines_default(struct live_fuzz_engines *e);

/* Running totals; also handed to the progress callback. */
struct live_fuzz_stats {
	uint64_t programs;		/* generated and compared in phase A */
	uint64_t by_source[LIVE_FUZZ_NSOURCES];
	uint64_t kernel_accepted;	/* SO_ATTACH_FILTER took them */
	uint64_t kernel_enomem;		/* refused for the option-memory charge */
	uint64_t verify_disagreements;	/* programs */
	uint64_t exec_programs;		/* accepted programs run on frames */
	uint64_t excluded;		/* accepted programs kept out of phase B ... */
	uint64_t excluded_by[SKF_AD_MAX / 4]; /* ... by the ancillary load (SKF_AD_x / 4) */
	uint64_t packet_socket_refused;	/* the packet socket refused a program the plain one took */
	uint64_t frames_modelled;
	uint64_t frames_compared;	/* frame verdicts compared with the kernel */
	uint64_t frames_unsent;		/* the kernel would not send them: not compared */
	uint64_t exec_disagreements;	/* programs with a frame that differs */
	uint64_t frame_disagreements;	/* frames that differ */
	uint64_t unminimised;		/* disagreements past max_findings */
	uint64_t minimize_tests;	/* predicate calls */
	double seconds_verify, seconds_exec, seconds_minimize, seconds_total;
	int stopped_early;		/* the time limit ended the campaign */
	int ifindex;			/* SKF_AD_IFINDEX pinned to this (0: not pinned) */
	uint32_t pool_frames;		/* generated frames */
	uint32_t extra_frames;		/* the caller's frames (a trace's records) */
};

struct live_fuzz_opts {
	uint64_t seed;			/* default 1 */
	uint64_t programs;		/* default 10000 */
	double seconds;			/* stop after this long (0: no limit); checked
					 * between programs, so what ran is what
					 * -n <stats.programs> runs */
	int live;			/* phase B through the kernel (default 1); 0: the
					 * model alone runs the frames */
	int sock_type;			/* the filtered tap: SOCK_RAW (default) or SOCK_DGRAM */
	int pin_ifindex;		/* default 1; 0: programs reading ifidx are excluded */
	uint32_t exclude;		/* bit SKF_AD_x / 4 set: programs loading it stay out
					 * of phase B (default rxhash, cpu, rand); only
					 * with @live: the model alone runs them all */
	uint32_t frames_per_prog;	/* generated frames per program (default 64) */
	uint32_t pool;			/* generated frames to draw from (default 512) */
	const uint8_t *const *extra;	/* more frames (a trace's records), each run... */
	const uint32_t *extra_lens;
	size_t n_extra;
	uint32_t extra_per_prog;	/* ... up to this many per program (default 64) */
	uint32_t workers;		/* live harnesses (namespaces) running programs side
					 * by side (default 8, at most 64); which programs
					 * and frames run does not depend on it, the order
					 * in which disagreements are met does */
	uint32_t max_findings;		/* disagreements minimised and kept, per phase
					 * (default 20) */
	uint32_t minimize_tests;	/* predicate calls per minimisation (default 2000) */
	const struct live_fuzz_engines *engines; /* NULL: live_fuzz_engines_default() */
	void (*progress)(void *ctx, const struct live_fuzz_stats *st); /* after each program */
	void *progress_ctx;
};
void live_fuzz_opts_init(struct live_fuzz_opts *o);

enum live_fuzz_phase { LIVE_FUZZ_PHASE_VERIFY, LIVE_FUZZ_PHASE_EXEC };

/* One disagreement, minimised.  Everything it points to is owned by the
 * report. */
struct live_fuzz_finding {
	enum live_fuzz_phase phase;
	const char *what;		/* one line: "the verifier accepts, the kernel refuses" */
	uint64_t program;		/* index in the campaign (same seed: same program) */
	unsigned source;		/* enum bpfvm_defect or enum live_fuzz_source */
	struct bpfvm_prog original;
	struct bpfvm_prog minimized;	/* = original when not reproduced */
	struct bpfvm_minimize_result min;
	int reproduced;			/* it showed again alone (phase B: on that frame alone) */
	uint64_t repeats;		/* later programs that minimised to the same */
	/* Verdicts on the minimised program. */
	int verify_rc;			/* the engine's verify: 0 accepts */
	char verify_msg[BPFVM_ERRBUF_SIZE];
	int kernel_errno;		/* SO_ATTACH_FILTER: 0 accepts */
	/* Phase B: the frame and both outcomes on it. */
	uint8_t *frame;
	uint32_t frame_len;
	long extra_index;		/* index in opts.extra, or -1 for a generated frame */
	struct live_fuzz_outcome model, kernel;
};

struct live_fuzz_report {
	struct live_fuzz_stats st;
	struct live_fuzz_finding *findings;
	size_t n_findings;
	struct live_filter_counters harness; /* the live harness's counters */
};

/*
 * Run a campaign.  Returns 0 when it ran to its end (whatever it found:
 * see rep->n_findings and the disagreement counters), or a negative enum
 * live_error (LIVE_ERR_PERM without root while @o->live) with a sentence
 * in @errbuf; @rep then holds what was done.  Free @rep with
 * live_fuzz_report_free() in both cases.
 */
int live_fuzz_programs(const struct live_fuzz_opts *o, struct live_fuzz_report *rep,
		       char *errbuf);
void live_fuzz_report_free(struct live_fuzz_report *rep);

/* ---- end of fuzzprog.c ---- */

#endif

/* ================================================================== */
/* BEGIN fuzz compiler block (live/exprgen.c, live/fuzzcomp.c):
 * random pcap-filter expressions, and libpcap's optimizer checked against
 * its own unoptimized output. */

#ifndef CAPSIM_LIVE_FUZZCOMP_H
#define CAPSIM_LIVE_FUZZCOMP_H

/* ---- exprgen.c: expressions as trees ------------------------------ */

enum live_expr_kind {
	LIVE_EX_AND, LIVE_EX_OR, LIVE_EX_NOT,	/* boolean: kid[0] (and kid[1]) */
	LIVE_EX_PRIM,				/* a primitive: op is enum live_prim */
	LIVE_EX_REL,				/* kid[0] relop kid[1]; op indexes = != < <= > >= */
	LIVE_EX_BIN,				/* kid[0] op kid[1]; op indexes + - * / % & | ^ << >> */
	LIVE_EX_NEG,				/* - kid[0] */
	LIVE_EX_NUM,				/* num[0]; op != 0 names it (tcpflags, tcp-syn, ...) */
	LIVE_EX_LEN,				/* len */
	LIVE_EX_LOAD,				/* proto[kid[0] : size]; op indexes the protocol */
};

enum live_prim {
	LIVE_PRIM_PROTO,	/* ip, tcp, llc, ... (qual[0]) */
	LIVE_PRIM_HOST,		/* [proto] [dir] host ADDR (qual[2] & 1: IPv6) */
	LIVE_PRIM_NET,		/* [proto] [dir] net ADDR/size or ADDR mask M (qual[2] & 2) */
	LIVE_PRIM_ETHER_HOST,	/* ether [dir] host MAC */
	LIVE_PRIM_BCAST,	/* ether broadcast, ip multicast, ... */
	LIVE_PRIM_PORT,		/* [tcp|udp|sctp] [dir] port N */
	LIVE_PRIM_PORTRANGE,	/* [tcp|udp|sctp] [dir] portrange A-B */
	LIVE_PRIM_VLAN,		/* vlan [N] (qual[0]: N given) */
	LIVE_PRIM_MPLS,		/* mpls [N] */
	LIVE_PRIM_PPPOES,	/* pppoes [N] */
	LIVE_PRIM_LEN,		/* greater N, less N */
	LIVE_PRIM_IPPROTO,	/* ip proto N, ip6 protochain \tcp, ... */
	LIVE_PRIM_ETHERPROTO,	/* ether proto N */
	LIVE_PRIM_INOUT,	/* inbound, outbound */
	LIVE_PRIM_IFINDEX,	/* ifindex N */
};

/* One node; every node prints itself (live_expr_print), so the reducer
 * can rewrite the tree and print it again. */
struct live_expr {
	uint8_t kind;		/* enum live_expr_kind */
	uint8_t op;		/* see enum live_expr_kind */
	uint8_t size;		/* LOAD: 1, 2, 4 or 0 (unwritten); NET: prefix length */
	uint8_t qual[3];	/* PRIM: protocol, direction, variant */
	uint32_t num[4];	/* PRIM: numbers, addresses; NUM: the value */
	struct live_expr *kid[2];
};

struct live_exprgen_opts {
	unsigned max_depth;		/* and/or/not nesting (default 4) */
	unsigned max_arith_depth;	/* arithmetic nesting (default 3) */
	int linux_ext;			/* also inbound/outbound/ifindex */
};
void live_exprgen_opts_init(struct live_exprgen_opts *o);

/* A random expression from @rng (advanced); deterministic for a state.
 * @o may be NULL.  NULL only when out of memory; free with live_expr_free(). */
struct live_expr *live_expr_gen(uint64_t *rng, const struct live_exprgen_opts *o);
void live_expr_free(struct live_expr *e);
struct live_expr *live_expr_copy(const struct live_expr *e);
size_t live_expr_nodes(const struct live_expr *e);

/* Print as libpcap reads it into @buf (always NUL-terminated when @size >
 * 0); returns the length the whole text needs, as snprintf does. */
size_t live_expr_print(const struct live_expr *e, char *buf, size_t size);
/* The same into a new string (the caller frees); NULL when out of memory. */
char *live_expr_string(const struct live_expr *e);

/* Every one-step simplification of @e (a subtree replaced by a child,
 * a qualifier dropped, a constant moved toward 0, 1 or a power of two),
 * each strictly smaller; an array of *@count new trees (the caller frees
 * each and the array), NULL when out of memory. */
struct live_expr **live_expr_variants(const struct live_expr *e, size_t *count);

/* Does the property still hold?  Given candidates in order, return the
 * index of the first that keeps it, or -1. */
typedef long (*live_expr_pred)(const struct live_expr *const *cands, size_t n, void *ctx);

/* Greedy reduction: replace @e by the first simplification @pred keeps,
 * until none does or @max_rounds.  Returns a new tree (NULL when out of
 * memory) and the rounds taken in *@rounds (may be NULL). */
struct live_expr *live_expr_reduce(const struct live_expr *e, live_expr_pred pred, void *ctx,
				   unsigned max_rounds, unsigned *rounds);

/* ---- fuzzcomp.c: the campaign ------------------------------------- */

/* The four ways an expression is compiled. */
enum live_fc_cfg {
	LIVE_FC_OFF_O1,		/* pcap_open_dead, optimizer on: libpcap semantics */
	LIVE_FC_OFF_O0,		/* ... optimizer off */
	LIVE_FC_LIN_O1,		/* a live Linux handle (Linux extensions): linux semantics */
	LIVE_FC_LIN_O0,
	LIVE_FC_CFG_COUNT
};

enum live_fc_kind {
	LIVE_FC_VERDICT,	/* -O1 and -O0 return different values for a packet,
				 * both runs ending at a return */
	LIVE_FC_VERDICT_OOB,	/* ... where one run ended abnormally (a load past the
				 * captured bytes, DIV/MOD by X == 0: both return 0)
				 * and the other never did that operation */
	LIVE_FC_COMPILE_ERROR,	/* one compiles and the other does not, or their messages differ */
	LIVE_FC_REJECTED,	/* a compiled program the validator/verifier refuses */
	LIVE_FC_CRASH,		/* pcap_compile died on a signal */
	LIVE_FC_HANG,		/* pcap_compile did not return in time */
	LIVE_FC_KERNEL,		/* the kernel's verdict differs from the VM's (linux) */
	LIVE_FC_KIND_COUNT
};
const char *live_fc_kind_name(enum live_fc_kind k);

/* What happened to one pair (-O1, -O0) of one expression. */
enum live_fc_outcome {
	LIVE_FC_OUT_IDENTICAL,	/* both compiled to the same instructions */
	LIVE_FC_OUT_COMPARED,	/* different programs, run over every packet */
	LIVE_FC_OUT_BOTH_ERR,	/* neither compiled */
	LIVE_FC_OUT_ONE_ERR,	/* only one compiled (a finding) */
	LIVE_FC_OUT_REJECTED,	/* the VM refused one (a finding) */
	LIVE_FC_OUT_TOO_LONG,	/* longer than the kernel allows (linux pair) */
	LIVE_FC_OUT_DIED,	/* the compiler crashed or hung (a finding) */
	LIVE_FC_OUT_COUNT
};

struct live_fc_stats {
	uint64_t exprs;				/* expressions generated and handled */
	uint64_t compiles[LIVE_FC_CFG_COUNT];	/* pcap_compile calls */
	uint64_t compiled[LIVE_FC_CFG_COUNT];	/* ... that produced a program */
	uint64_t rejects_all[LIVE_FC_CFG_COUNT]; /* ... that failed with "expression rejects
						 * all packets" (compared as ret #0) */
	uint64_t outcome[2][LIVE_FC_OUT_COUNT]; /* [0] offline pair, [1] linux-ext pair */
	uint64_t pairs_differing[2];		/* compared pairs that disagreed somewhere */
	uint64_t runs;				/* program runs in the VM */
	uint64_t kernel_programs, kernel_frames;
	uint64_t findings[LIVE_FC_KIND_COUNT];	/* distinct (after reduction) */
	uint64_t occurrences[LIVE_FC_KIND_COUNT]; /* expressions that showed one */
	uint64_t children;			/* compiling processes forked */
	uint64_t reduce_compiles;		/* pcap_compile calls made by reductions */
	uint32_t packets, kernel_packets;	/* in the packet set */
	uint64_t trace_records;			/* the trace held (packets keeps at
						 * most TRACE_SAMPLE_RECORDS of them) */
	double seconds;
};

struct live_fc_finding {
	enum live_fc_kind kind;
	int pair;			/* 0: offline (libpcap), 1: Linux extensions (linux) */
	uint64_t expr_index;		/* which expression of the campaign */
	char *expr;			/* as generated */
	char *reduced;			/* after reduction (== expr when not reduced) */
	unsigned reduce_rounds;
	uint64_t dups;			/* later expressions that reduced to the same */
	/* The reduced expression compiled, [0] -O1 and [1] -O0: */
	int ok[2];
	char *err[2];			/* libpcap's message when !ok[i] */
	int rejects_all[2];		/* "expression rejects all packets": prog is ret #0 */
	struct bpfvm_prog prog[2];
	char note[BPFVM_ERRBUF_SIZE];	/* verifier message, crash details */
	int sig;			/* CRASH: the signal */
	int reproduced_alone;		/* CRASH/HANG: again when compiled alone */
	/* VERDICT and KERNEL: the packet. */
	int has_packet;
	uint32_t pkt_index;		/* in the packet set */
	int pkt_generated;		/* 0: trace record pkt_origin, 1: generated frame */
	uint64_t pkt_origin;
	uint8_t *pkt;
	uint32_t pkt_caplen, pkt_wirelen;
	uint32_t pkts_differing;	/* packets the original expression split on */
	uint32_t ret[2];		/* what each program returned */
	int oob[2];			/* that run ended abnormally (load past the captured
					 * bytes, division by zero) */
	int pcap_checked;		/* offline pair: bpf_filter() ran them too */
	uint32_t pcap_ret[2];		/* ... and returned these */
	/* Where the two runs part: the first read (counted from 0) that
	 * differs - a packet load in position or size, an ancillary load in
	 * field - or where one run ends instead (bpfvm_rec_part()). */
	uint32_t part_load;
	uint32_t part_pc[2];
	int part_end[2];		/* that run returned instead of reading */
	int8_t part_anc[2];		/* an ancillary load: its SKF_AD_*, else -1 */
	int32_t part_off[2];		/* a packet load: its offset and size */
	uint8_t part_size[2];
	/* KERNEL: which program, the kernel's snaplen and the VM's. */
	int kernel_prog;
	uint32_t kernel_snap, vm_snap;
	int kernel_delivered;
};

struct live_fc_opts {
	uint64_t seed;
	uint64_t max_exprs;		/* -n; 0: until @seconds */
	double seconds;			/* 0: no limit (then max_exprs must be set) */
	const char *trace;		/* the packets (NULL: generated frames only) */
	uint32_t gen_frames;		/* generated frames added */
	int linux_ext;			/* compile with Linux extensions too (root) */
	int kernel;			/* run the linux-ext programs on the kernel too */
	uint32_t kernel_frames;		/* at most this many packets to the kernel (256) */
	int isolate;			/* compile in forked children (default 1) */
	uint32_t batch;			/* expressions per child (128) */
	uint32_t timeout_ms;		/* per pcap_compile call (5000) */
	uint32_t max_findings;		/* findings kept (and reduced) per kind (20) */
	unsigned reduce_rounds;		/* per finding (300) */
	struct live_exprgen_opts gen;
	const char *crash_on;		/* tests only: the compiling process dies with
					 * SIGSEGV on an expression containing this */
	/* Called after every batch (may be NULL). */
	void (*progress)(const struct live_fc_stats *st, void *ctx);
	void *progress_ctx;
};
void live_fc_opts_init(struct live_fc_opts *o);

struct live_fc_result {
	struct live_fc_stats stats;
	struct live_fc_finding *findings;
	size_t n_findings;
};

/*
 * Run a campaign.  Returns 0 with @res filled (findings are results, not
 * failures; release with live_fc_result_free()), or a negative enum
 * live_error with a sentence in @errbuf (LIVE_ERR_ARG for a bad option or
 * trace, LIVE_ERR_PERM when Linux extensions or the kernel need root).
 */
int live_fc_run(const struct live_fc_opts *o, struct live_fc_result *res, char *errbuf);
void live_fc_result_free(struct live_fc_result *res);

/* Compile @expr once as @cfg, in this process; for tests and tools.
 * 0 and @prog, or -1 with libpcap's message in @errbuf. */
int live_fc_compile(const char *expr, enum live_fc_cfg cfg, struct bpfvm_prog *prog, char *errbuf);

#endif /* CAPSIM_LIVE_FUZZCOMP_H */
/* END fuzz compiler block */

/* ================================================================== */
/* BEGIN live compare block (live/compare.c): the model's linux semantics
 * against a struct live_verdict, frame by frame and aspect by aspect, for
 * `capsim live filter`.  Nothing here prints. */

#ifndef CAPSIM_LIVE_COMPARE_H
#define CAPSIM_LIVE_COMPARE_H

#include "sim.h"

/* What one frame can disagree on; each is counted on its own. */
enum live_aspect {
	LIVE_ASPECT_REACHED,	/* reached the ptype_all taps, or dropped before them */
	LIVE_ASPECT_DELIVERED,	/* the program returned non-zero (both reached) */
	LIVE_ASPECT_CAPLEN,	/* tp_len and tp_snaplen (both delivered) */
	LIVE_ASPECT_BYTES,	/* the captured bytes (both delivered) */
	LIVE_ASPECT_PKTTYPE,	/* sll_pkttype (both reached) */
	LIVE_ASPECT_VLAN,	/* TP_STATUS_VLAN_VALID, _TPID_VALID, tp_vlan_tci, tp_vlan_tpid */
	LIVE_ASPECT_PROTOCOL,	/* sll_protocol: skb->protocol */
	LIVE_ASPECT_COUNT
};
/* "reached taps", "delivered", "caplen", "bytes", "pkt_type", "vlan", "protocol". */
const char *live_aspect_name(enum live_aspect a);

/* What the model says the kernel does with one frame: the same fields as
 * struct live_verdict, from sim_rx_view() -> bpfvm_run() -> bpfvm_snaplen(). */
struct live_model_verdict {
	enum sim_drop_reason drop; /* SIM_DROP_NONE when it reaches the taps */
	const char *drop_func;	   /* the kernel function that drops it */
	uint8_t reached, delivered;
	uint8_t pkttype, vlan_valid;
	uint16_t vlan_tci, vlan_tpid, protocol;
	uint32_t ret;		/* the program's return value */
	uint32_t len;		/* skb->len from the tap's start: what tp_len would be */
	uint32_t snaplen;	/* min(ret, len) when delivered, else 0 */
	const uint8_t *bytes;	/* @snaplen bytes, NULL if not delivered; valid until
				 * the next live_model_frame() on the handle */
};

/* One frame compared.  Bits are 1u << enum live_aspect. */
struct live_frame_result {
	uint64_t index;			  /* the caller's frame number */
	int not_sendable;		  /* packet_snd() refused it: kernel->send_errno */
	uint32_t compared;		  /* aspects compared */
	uint32_t mismatched;		  /* ... and found to differ */
	const struct live_verdict *kernel; /* as passed in */
	struct live_model_verdict model;
};

#define LIVE_SEND_ERRORS_MAX 8

/* Running totals over a handle's life. */
struct live_compare_totals {
	uint64_t frames;		/* compared or counted as not sendable */
	uint64_t sent;			/* packet_snd() took them */
	uint64_t not_sendable;		/* it refused them: never mismatches */
	uint64_t not_sendable_model_drops; /* ... of which the model drops before the taps */
	struct {
		int err;
		uint64_t count;
	} send_errors[LIVE_SEND_ERRORS_MAX]; /* not sendable, by errno, first seen first */
	size_t n_send_errors;
	uint64_t other_send_errors;	/* errnos past LIVE_SEND_ERRORS_MAX */
	uint64_t kernel_reached, kernel_delivered;
	uint64_t compared[LIVE_ASPECT_COUNT];
	uint64_t agreed[LIVE_ASPECT_COUNT];
	uint64_t mismatched_frames;	/* frames with at least one aspect differing */
};

/* Does @prog read a value the kernel does not make reproducible
 * (SKF_AD_RXHASH, SKF_AD_CPU, SKF_AD_RANDOM)?  Returns the first such
 * SKF_AD_* offset, or -1. */
int live_prog_unreproducible(const struct bpfvm_prog *prog);

struct live_compare;

/*
 * A comparer for @prog on the model's device @dev (pin dev->ifindex, mac
 * and mtu to the live harness's: live_filter_ifindex() ...) with a tap of
 * type @sock.  When the program reads an unreproducible value the
 * delivered, caplen and bytes aspects are never compared (see
 * live_compare_skipped()); reached, pkt_type, vlan and protocol still are,
 * as they come before the filter.  Returns 0 and *@c (release with
 * live_compare_destroy()), LIVE_ERR_PROG with the model verifier's message
 * when it rejects @prog, or LIVE_ERR_SYS when out of memory.
 */
int live_compare_create(struct live_compare **c, const struct bpfvm_prog *prog,
			const struct sim_rx_dev *dev, enum sim_sock_type sock, char *errbuf);
void live_compare_destroy(struct live_compare *c);
/* The SKF_AD_* offset that made aspects skipped, or -1. */
int live_compare_unreproducible(const struct live_compare *c);
/* Aspects never compared (bit per enum live_aspect). */
uint32_t live_compare_skipped(const struct live_compare *c);

/* The model's verdict on @frame (@len bytes from the destination MAC).
 * 0, or LIVE_ERR_SYS when out of memory. */
int live_model_frame(struct live_compare *c, const uint8_t *frame, uint32_t len,
		     struct live_model_verdict *m, char *errbuf);

/* Compare the kernel's verdict @k with the model's @m for frame @index,
 * fill @r (it keeps @k and a copy of @m, with the same lifetimes) and add
 * to the handle's totals.  Returns the mismatched aspects (0: agrees). */
uint32_t live_compare_verdicts(struct live_compare *c, uint64_t index, const struct live_verdict *k,
			       const struct live_model_verdict *m, struct live_frame_result *r);

/* live_model_frame() then live_compare_verdicts(). */
int live_compare_frame(struct live_compare *c, uint64_t index, const uint8_t *frame, uint32_t len,
		       const struct live_verdict *k, struct live_frame_result *r, char *errbuf);

void live_compare_totals(const struct live_compare *c, struct live_compare_totals *t);

#endif /* CAPSIM_LIVE_COMPARE_H */
/* END live compare block */

/* ================================================================== */
/* BEGIN live scenario block (live/scenario.c, topo.c, rules.c,
 * traffic.c): `capsim live SCENARIO` - the scenario built for real (hosts
 * as network namespaces, wires as veth pairs, rules in nft and tc, taps
 * as packet sockets and libpcap handles, traffic from real sockets), run,
 * and put beside the model's run of the same file.  Nothing here prints. */

#ifndef CAPSIM_LIVE_SCENARIO_H
#define CAPSIM_LIVE_SCENARIO_H

#include <signal.h>
#include "scenario.h"

/* How one aspect came out. */
enum live_scn_status {
	LIVE_SCN_AGREE,		/* the kernel did what the model says */
	LIVE_SCN_DIFFER,	/* it did not: a model bug or a kernel behaviour to explain */
	LIVE_SCN_MODEL_ONLY,	/* not reproducible on this kernel; the note says why */
	LIVE_SCN_NO_EVIDENCE,	/* the kernel keeps no counter for it here; the note says */
};
/* "agree", "DIFFER", "model-only", "no evidence". */
const char *live_scn_status_name(enum live_scn_status s);

/* One record a tap captured, on either side. */
struct live_scn_pkt {
	uint64_t ts;		/* ns from the scenario's start */
	int pkt_type;		/* PACKET_HOST ...; -1 when the record does not say */
	uint32_t caplen, wirelen;
	uint8_t *bytes;		/* caplen bytes */
	int differs;		/* differs from the other side's record at its index */
};

/* One tap, both sides. */
struct live_scn_tap {
	char host[SIM_SCN_NAME_MAX], name[SIM_SCN_NAME_MAX];
	char what[96];			/* "tcpdump on eth0", "SOCK_DGRAM on any, ETH_P_IP" */
	int tcpdump;
	int linktype;			/* of both sides' records */
	struct live_scn_pkt *model, *kernel;
	size_t nmodel, nkernel;
	enum live_scn_status list_status;
	size_t first_diff;		/* DIFFER: the first record that differs */
	char list_note[256];
	/* Closing lines (a plain tap: copies, tp_packets, tp_drops). */
	uint64_t m_captured, m_received, m_dropped;
	uint64_t k_captured, k_received, k_dropped;
	enum live_scn_status lines_status;
	char lines_note[256];
};

/* One number, both sides: a counter, a rule's count, a drop's evidence,
 * or an aspect only the model has. */
struct live_scn_check {
	char host[SIM_SCN_NAME_MAX];
	char what[128];			/* "rule.block-dns", "drop NETFILTER_DROP at nf_hook_slow" */
	int has_model, has_kernel;
	uint64_t model, kernel;
	enum live_scn_status status;
	char note[320];			/* the evidence read, or why it is model-only */
};

struct live_scn_result {
	char *path, *title;
	long pid;			/* namespaces were capsim-<pid>-<host> */
	struct live_scn_tap *taps;
	size_t ntaps;
	struct live_scn_check *checks;
	size_t nchecks, checks_cap;
	unsigned differ, model_only;	/* aspects, over taps and checks */
	uint64_t sent, send_errors;	/* packets the traffic lines sent / the kernel refused */
	int first_errno;
	double seconds;			/* the live run's wall time */
	int kept;			/* --keep: the namespaces are still there */
};

struct live_scn_opts {
	int keep;			/* name the namespaces under /run/netns and leave them */
	/* Set (by a signal handler) to stop early; everything is still
	 * released.  May be NULL. */
	volatile sig_atomic_t *interrupted;
};

/*
 * Run the scenario at @path in the model, then for real, and compare.
 * Needs root.  0 and *@out (free with live_scn_result_free()) whatever
 * the comparison found (res->differ says), or a negative enum
 * live_error with a sentence in @errbuf: LIVE_ERR_ARG for a scenario the
 * model refuses (errbuf: "file:line:col: ..."), LIVE_ERR_PERM without
 * root, LIVE_ERR_NOSUPPORT without namespaces, veth, nft or tc, or for a
 * scenario with no live form (the reason names the line).  Everything the
 * run made is gone when this returns (unless @o->keep), also on failure
 * or interruption; a SIGKILLed run leaves nothing either, since the
 * namespaces have no name in the file system.
 */
int live_scn_run(const char *path, const struct live_scn_opts *o, struct live_scn_result **out,
		 char *errbuf);
void live_scn_result_free(struct live_scn_result *r);

/*
 * `capsim live --cleanup`: remove what runs that are gone left behind:
 * /run/netns/capsim-<pid>-* names (made by --keep) whose pid is no longer
 * alive.  Nothing else is ever left (see live_scn_run).  0 and the number
 * removed in *@removed, or a negative enum live_error.
 */
int live_scn_cleanup(unsigned *removed, char *errbuf);

#endif /* CAPSIM_LIVE_SCENARIO_H */
/* END live scenario block */
