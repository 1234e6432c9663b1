/*
 * scenario.h - a scenario file (*.scn, docs/scenario-language.md) as plain
 * data: hosts with their interfaces, routes, neighbours, sysctls, costs,
 * rules, sockets and taps; the wires between hosts; the traffic; the
 * expectations.
 *
 * sim_scenario_parse() checks everything a later stage would otherwise have
 * to check (names, references, ranges, address families) and fills in every
 * default explicitly, so the model (`capsim sim`) and the namespace builder
 * (`capsim live`) read values, never guess them.  Nothing here builds a
 * model object or prints; sim_scenario_write() is the canonical printer.
 *
 * Every reference (HOST.NAME, a device named in a route or a rule) is kept
 * both as text (for printing) and as indices into the arrays below (for the
 * model).  Every statement remembers its source line, so a failed
 * expectation can name it.
 */
#ifndef CAPSIM_SCENARIO_H
#define CAPSIM_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

/* Room for "file:line:column: " and one sentence. */
#define SIM_SCN_ERRBUF_SIZE 512

/* Limits, so a hostile file cannot exhaust memory (all documented). */
#define SIM_SCN_MAX_INPUT	(1u << 20)	/* bytes of scenario text */
#define SIM_SCN_MAX_LINES	20000		/* physical lines */
#define SIM_SCN_MAX_LINE	4096		/* bytes in one physical line */
#define SIM_SCN_MAX_STMT	65536		/* bytes in one statement (continued lines) */
#define SIM_SCN_MAX_TOKENS	512		/* tokens in one statement */
#define SIM_SCN_MAX_HOSTS	64
#define SIM_SCN_MAX_IFACES	16		/* per host, lo included */
#define SIM_SCN_MAX_ADDRS	8		/* per interface */
#define SIM_SCN_MAX_ROUTES	64		/* per host */
#define SIM_SCN_MAX_NEIGHS	64		/* per host */
#define SIM_SCN_MAX_RULES	128		/* per host */
#define SIM_SCN_MAX_SOCKETS	32		/* per host */
#define SIM_SCN_MAX_TAPS	32		/* per host */
#define SIM_SCN_MAX_WIRES	256
#define SIM_SCN_MAX_TRAFFIC	1024
#define SIM_SCN_MAX_EXPECTS	1024
#define SIM_SCN_MAX_STRING	4096		/* bytes in a quoted string or path */
#define SIM_SCN_MAX_FRAME	65535		/* bytes of an injected frame */
#define SIM_SCN_NAME_MAX	32		/* host, tap, socket, rule names, NUL included */
#define SIM_SCN_IFNAME_MAX	16		/* IFNAMSIZ: 15 characters and the NUL */

/* A duration or a point in time, in nanoseconds since the start. */
typedef uint64_t sim_ns;

/* Where a statement or a token was in the file (1-based). */
struct sim_scn_srcpos {
	uint32_t line;
	uint32_t col;
};

struct sim_scn_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t bytes[16];	/* network order; IPv4 in the first 4 */
};

struct sim_scn_prefix {
	struct sim_scn_addr addr;
	uint8_t len;		/* 0..32 or 0..128 */
};

/* HOST.NAME, or a bare NAME inside a host; indices valid after parsing. */
struct sim_scn_ref {
	char host_name[SIM_SCN_NAME_MAX];
	char name[SIM_SCN_NAME_MAX];
	uint32_t host;		/* index into sim_scenario.hosts */
	uint32_t idx;		/* index into that host's ifaces/taps/sockets */
	struct sim_scn_srcpos pos;
};

/* ------------------------------------------------------------------ */
/* Hosts */

enum sim_scn_iface_kind {
	SIM_SCN_IFACE_LOOPBACK,	/* lo, on every host */
	SIM_SCN_IFACE_ETHER,	/* an Ethernet device (a veth in live mode) */
	SIM_SCN_IFACE_VLAN,		/* an 802.1Q sub-device of an Ethernet device */
};

struct sim_scn_iface {
	char name[SIM_SCN_IFNAME_MAX];
	enum sim_scn_iface_kind kind;
	uint32_t ifindex;	/* lo 1, then the order of declaration from 2 */
	uint8_t mac[6];		/* default 02:00:00:00:HH:II (host, iface number) */
	int mac_given;
	struct sim_scn_prefix addrs[SIM_SCN_MAX_ADDRS];
	uint32_t naddrs;
	uint32_t mtu;		/* 1500 (lo 65536); 68..65535 */
	int promisc;
	int vlan_offload;	/* rx VLAN offload (NETIF_F_HW_VLAN_CTAG_RX): 1 */
	uint32_t rx_ring;	/* descriptors, 256: power of two 64..4096 */
	uint32_t tx_ring;	/* 256: power of two 64..4096 */
	uint32_t txqueuelen;	/* 1000 (lo 1000 too); 0..100000 */
	sim_ns coalesce;	/* rx-usecs as a duration: 0 (an IRQ per frame) */
	uint32_t coalesce_frames; /* rx-frames: 1; 1..rx_ring */
	/* SIM_SCN_IFACE_VLAN only */
	uint16_t vlan_id;	/* 0..4095 */
	struct sim_scn_ref parent;	/* the Ethernet device under it, same host */
	/* filled by resolution: the wire on this device, or -1 */
	int32_t wire;
	struct sim_scn_srcpos pos;
};

struct sim_scn_route {
	struct sim_scn_prefix dst;	/* default = 0.0.0.0/0 or ::/0 */
	int is_default;
	int has_via;
	struct sim_scn_addr via;
	int has_dev;
	struct sim_scn_ref dev;
	uint32_t metric;	/* 0 */
	struct sim_scn_srcpos pos;
};

struct sim_scn_neigh {
	struct sim_scn_addr addr;
	uint8_t lladdr[6];
	struct sim_scn_ref dev;
	struct sim_scn_srcpos pos;
};

/* The sysctls a host's capture path depends on (net.core unless noted). */
struct sim_scn_sysctls {
	uint32_t netdev_budget;		/* 300 */
	uint32_t netdev_budget_usecs;	/* 2000 (2 jiffies at HZ=1000 in older kernels) */
	uint32_t netdev_max_backlog;	/* 1000 */
	uint32_t dev_weight;		/* 64 */
	uint32_t rmem_default;		/* 212992 */
	uint32_t rmem_max;		/* 212992 */
	int ip_forward;			/* net.ipv4.ip_forward and net.ipv6...forwarding: 0 */
};

/* CPU time of the model's stages; see docs/scenario-language.md. */
enum sim_scn_cost {
	SIM_SCN_COST_DMA, SIM_SCN_COST_IRQ, SIM_SCN_COST_RX, SIM_SCN_COST_TAP, SIM_SCN_COST_IP, SIM_SCN_COST_TX,
	SIM_SCN_COST_COUNT
};
const char *sim_scn_cost_name(enum sim_scn_cost s);

/* Netfilter and tc hooks, in the order a forwarded packet meets them. */
enum sim_scn_hook {
	SIM_SCN_HOOK_NETDEV_INGRESS, SIM_SCN_HOOK_TC_INGRESS, SIM_SCN_HOOK_PREROUTING, SIM_SCN_HOOK_INPUT,
	SIM_SCN_HOOK_FORWARD, SIM_SCN_HOOK_OUTPUT, SIM_SCN_HOOK_POSTROUTING, SIM_SCN_HOOK_TC_EGRESS,
	SIM_SCN_HOOK_NETDEV_EGRESS, SIM_SCN_HOOK_COUNT
};
const char *sim_scn_hook_name(enum sim_scn_hook h);
/* 1 if the hook is attached to one device (rule NAME HOOK DEV ...). */
int sim_scn_hook_has_dev(enum sim_scn_hook h);

enum sim_scn_proto {
	SIM_SCN_PROTO_ANY = 0, SIM_SCN_PROTO_TCP, SIM_SCN_PROTO_UDP, SIM_SCN_PROTO_ICMP, SIM_SCN_PROTO_ICMPV6,
	SIM_SCN_PROTO_ARP, SIM_SCN_PROTO_IP, SIM_SCN_PROTO_IP6, SIM_SCN_PROTO_COUNT
};
const char *sim_scn_proto_name(enum sim_scn_proto p);

/* An inclusive range lo..hi; a single value has lo == hi. */
struct sim_scn_range {
	int set;
	uint32_t lo, hi;
};

enum sim_scn_verdict { SIM_SCN_VERDICT_ACCEPT, SIM_SCN_VERDICT_DROP };

struct sim_scn_rule {
	char name[SIM_SCN_NAME_MAX];
	enum sim_scn_hook hook;
	struct sim_scn_ref dev;		/* when sim_scn_hook_has_dev(hook) */
	enum sim_scn_proto proto;		/* SIM_SCN_PROTO_ANY: no proto match */
	int has_saddr, has_daddr;
	struct sim_scn_prefix saddr, daddr;
	struct sim_scn_range sport, dport, len;
	int has_vlan;
	uint16_t vlan;
	int has_iif, has_oif;
	struct sim_scn_ref iif, oif;
	enum sim_scn_verdict verdict;
	struct sim_scn_srcpos pos;
};

enum sim_scn_l4 { SIM_SCN_L4_UDP, SIM_SCN_L4_TCP, SIM_SCN_L4_ICMP };

#define SIM_SCN_RATE_UNLIMITED 0	/* a reader or sender that never waits */

struct sim_scn_socket {
	char name[SIM_SCN_NAME_MAX];
	enum sim_scn_l4 proto;
	struct sim_scn_addr bind;		/* 0.0.0.0 / :: = any */
	uint16_t port;			/* 0: none asked (the kernel picks one) */
	uint32_t rcvbuf;		/* the SO_RCVBUF asked, 0 = not set */
	uint32_t sk_rcvbuf;		/* what the kernel uses: see scenario.c */
	uint64_t read_rate;		/* packets a second, SIM_SCN_RATE_UNLIMITED */
	struct sim_scn_srcpos pos, bind_pos;
};

/* A packet socket's receive ring (PACKET_RX_RING), as the kernel gets it. */
struct sim_scn_ring {
	uint32_t version;		/* 0 = no ring (packet_rcv); 2 or 3 = TPACKET_V2/V3 */
	uint32_t block_size, block_nr;
	uint32_t frame_size, frame_nr;
	uint32_t retire_ms;		/* tp_retire_blk_tov as the kernel uses it (V3) */
	uint32_t reserve;		/* PACKET_RESERVE: libpcap's handles only */
	uint32_t snaplen;		/* libpcap's handles: the snapshot it settles on */
};

enum sim_scn_dir { SIM_SCN_DIR_INOUT, SIM_SCN_DIR_IN, SIM_SCN_DIR_OUT };

struct sim_scn_tap {
	char name[SIM_SCN_NAME_MAX];
	int any_dev;			/* bound to no device ("any") */
	struct sim_scn_ref dev;		/* when !any_dev */
	uint16_t proto;			/* ETH_P_ALL (0x0003), 0x0800, ...: host order */
	int dgram;			/* SOCK_DGRAM (cooked) rather than SOCK_RAW */
	char *filter;			/* pcap-filter expression, or NULL: owned */
	char *filter_file;		/* a file holding one, or NULL: owned */
	uint32_t snaplen;		/* 262144 (MAXIMUM_SNAPLEN) */
	int ring_given;			/* "ring" written (not for tcpdump) */
	struct sim_scn_ring ring;		/* the ring the kernel gets, version 0 if none */
	uint32_t rcvbuf;		/* SO_RCVBUF asked, 0 = not set */
	uint32_t sk_rcvbuf;		/* what the kernel uses (no ring only) */
	int ignore_outgoing;		/* PACKET_IGNORE_OUTGOING */
	uint64_t read_rate;		/* packets a second the reader takes */
	/* libpcap and tcpdump on top of the socket */
	int tcpdump;
	int immediate;			/* --immediate-mode: TPACKET_V2, no block timer */
	sim_ns timeout;			/* pcap_set_timeout: 1000 ms (tcpdump -w) */
	uint32_t buffer;		/* pcap_set_buffer_size (-B): 2 MiB */
	enum sim_scn_dir direction;	/* -Q: inout */
	struct sim_scn_srcpos pos;
};

struct sim_scn_host {
	char name[SIM_SCN_NAME_MAX];
	uint32_t cpus;			/* 1 or 2; default 1 */
	struct sim_scn_iface *ifaces;	/* ifaces[0] is lo */
	uint32_t nifaces;
	struct sim_scn_route *routes;
	uint32_t nroutes;
	struct sim_scn_neigh *neighs;
	uint32_t nneighs;
	struct sim_scn_sysctls sysctl;
	sim_ns cost[SIM_SCN_COST_COUNT];
	struct sim_scn_rule *rules;
	uint32_t nrules;
	struct sim_scn_socket *sockets;
	uint32_t nsockets;
	struct sim_scn_tap *taps;
	uint32_t ntaps;
	struct sim_scn_srcpos pos;
};

struct sim_scn_wire {
	struct sim_scn_ref a, b;		/* two Ethernet interfaces of two hosts */
	sim_ns delay;			/* 1us */
	uint64_t rate_bps;		/* bits a second, 10G */
	struct sim_scn_srcpos pos;
};

/* ------------------------------------------------------------------ */
/* Traffic */

enum sim_scn_traffic_kind { SIM_SCN_TRAFFIC_SEND, SIM_SCN_TRAFFIC_INJECT, SIM_SCN_TRAFFIC_REPLAY };
enum sim_scn_pace { SIM_SCN_PACE_BACK_TO_BACK, SIM_SCN_PACE_RATE, SIM_SCN_PACE_BURST };

struct sim_scn_traffic {
	enum sim_scn_traffic_kind kind;
	sim_ns at;
	/* send */
	uint32_t host;			/* the sending host */
	char host_name[SIM_SCN_NAME_MAX];
	enum sim_scn_l4 proto;
	int has_from;
	struct sim_scn_addr from;
	struct sim_scn_addr to;
	uint16_t dport;			/* udp/tcp: required; icmp: 0 */
	uint16_t sport;			/* 0: the kernel picks an ephemeral port */
	uint32_t size;			/* payload bytes: 64 */
	uint32_t ttl;			/* 64 (net.ipv4.ip_default_ttl) */
	int has_vlan;
	uint16_t vlan;
	/* send and inject */
	uint64_t count;			/* 1 */
	enum sim_scn_pace pace;		/* back to back unless rate or burst */
	uint64_t rate;			/* packets a second, with SIM_SCN_PACE_RATE */
	uint64_t burst;			/* with SIM_SCN_PACE_BURST: burst packets ... */
	sim_ns every;			/* ... every this long */
	/* inject and replay */
	struct sim_scn_ref dev;
	uint8_t *frame;			/* inject: owned */
	uint32_t frame_len;		/* 14..65535 */
	char *pcap;			/* replay: owned */
	uint32_t speed_milli;		/* replay speed x 1000: 1000 */
	struct sim_scn_srcpos pos, host_pos, from_pos;
};

/* ------------------------------------------------------------------ */
/* Expectations */

enum sim_scn_cmp { SIM_SCN_CMP_EQ, SIM_SCN_CMP_NE, SIM_SCN_CMP_LT, SIM_SCN_CMP_LE, SIM_SCN_CMP_GT, SIM_SCN_CMP_GE };
const char *sim_scn_cmp_name(enum sim_scn_cmp c);	/* "=", "!=", "<", ... */
/* 1 if @have @cmp @want holds. */
int sim_scn_cmp_holds(enum sim_scn_cmp c, uint64_t have, uint64_t want);

enum sim_scn_expect_kind {
	SIM_SCN_EXPECT_TAP_CAPTURED, SIM_SCN_EXPECT_TAP_RECEIVED, SIM_SCN_EXPECT_TAP_DROPPED,
	SIM_SCN_EXPECT_TAP_SAW, SIM_SCN_EXPECT_DROP, SIM_SCN_EXPECT_COUNTER
};

struct sim_scn_expect {
	enum sim_scn_expect_kind kind;
	enum sim_scn_cmp cmp;
	uint64_t value;
	struct sim_scn_ref tap;		/* the TAP_* kinds */
	char *filter;			/* SAW: owned */
	uint32_t host;			/* DROP and COUNTER */
	char host_name[SIM_SCN_NAME_MAX];
	char reason[SIM_SCN_NAME_MAX];	/* DROP: a kernel drop reason name */
	char func[64];			/* DROP: "at FUNCTION", or "" */
	char counter[2 * SIM_SCN_NAME_MAX]; /* COUNTER: "eth0.rx_missed_errors" */
	struct sim_scn_srcpos pos, host_pos, counter_pos;
};

/* ------------------------------------------------------------------ */

struct sim_scenario {
	char *name;			/* the file name given to the parser: owned */
	char *title;			/* scenario "..." or NULL: owned */
	uint64_t seed;			/* 1 */
	int has_duration;
	sim_ns duration;		/* with has_duration */
	struct sim_scn_host *hosts;
	uint32_t nhosts;
	struct sim_scn_wire *wires;
	uint32_t nwires;
	struct sim_scn_traffic *traffic;	/* in file order; the engine sorts by time */
	uint32_t ntraffic;
	struct sim_scn_expect *expects;
	uint32_t nexpects;
};

/*
 * Parse the NUL-terminated @text; @name (may be NULL) is the file name
 * used in messages.  On success returns 0 and a scenario in *@out that the
 * caller releases with sim_scenario_free().  On failure returns -1, sets
 * *@out to NULL and writes "name:line:column: sentence" into @errbuf
 * (SIM_SCN_ERRBUF_SIZE bytes).
 */
int sim_scenario_parse(const char *text, const char *name, struct sim_scenario **out,
		       char *errbuf);

/* Read @path (at most SIM_SCN_MAX_INPUT bytes) and parse it as above. */
int sim_scenario_load(const char *path, struct sim_scenario **out, char *errbuf);

/* Release a scenario; NULL is fine. */
void sim_scenario_free(struct sim_scenario *s);

/*
 * Write @s in canonical form: one statement a line, every default spelled
 * out, names instead of indices.  Parsing the output gives the same
 * scenario (and writing that gives the same text).  Returns 0, or -1 if
 * the stream failed.
 */
int sim_scenario_write(FILE *f, const struct sim_scenario *s);

/*
 * The ring libpcap's create_ring() asks for (pcap-linux.c) on a handle with
 * buffer size @buffer, snapshot @snaplen and timeout @timeout_ms, in
 * immediate mode or not, on an Ethernet device of MTU @mtu (@cooked for the
 * "any" device, which libpcap opens as SOCK_DGRAM).  @offload is what
 * iface_get_offload() finds (TSO/GSO/GRO on: veth and lo have them).
 * Checked against the running kernel with `ss -0 -e` (tests/test_scenario.c);
 * the model's tcpdump taps get their rings from here too.
 */
void sim_libpcap_ring(uint32_t buffer, uint32_t snaplen, uint32_t timeout_ms, int immediate,
		      int cooked, uint32_t mtu, int offload, struct sim_scn_ring *out);

struct bpfvm_prog;

/*
 * The program a tap's `filter` or `filter-file` stands for: the expression
 * compiled as tcpdump does for a live capture (Linux extensions, the tap's
 * snaplen as the accept value), or the file's program.  1 and @prog (free
 * it with bpfvm_prog_free()), 0 when the tap has no filter, or -1 with
 * "file:line:col: sentence" in @errbuf (SIM_SCN_ERRBUF_SIZE).  The model
 * (sim/build.c) and the live mode both take it from here, so the kernel
 * and the model always run the same program.
 */
int sim_scn_tap_program(const struct sim_scenario *sc, const struct sim_scn_tap *t,
			struct bpfvm_prog *prog, char *errbuf);

/*
 * The block timeout the kernel picks when tp_retire_blk_tov is 0
 * (prb_calc_retire_blk_tmo in af_packet.c) for a block of @block_size on a
 * link of @speed_mbps (0: no device or speed unknown).
 */
uint32_t sim_kernel_retire_ms(uint32_t block_size, uint32_t speed_mbps);

#endif
