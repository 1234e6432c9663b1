/*
 * session_int.h - what one `capsim sim` run shares between its files:
 * session.c (load, build, run), collect.c (the observers that aggregate
 * while the world runs), expect.c (counters by name and the expectations)
 * and report.c (the printers).  Private to sim/.
 *
 * Nothing here keeps per-packet history: counts are per (host, stage,
 * drop reason), per tap and per stage-to-stage edge; the only per-packet
 * state is one entry per live sk_buff (the pool's size, bounded by the
 * model's queues), and the one-liners each tap lists, at most
 * list_limit of them.
 */
#ifndef CAPSIM_SIM_SESSION_INT_H
#define CAPSIM_SIM_SESSION_INT_H

#include <stdio.h>
#include "model.h"
#include "scenario.h"
#include "trace.h"
#include "sim.h"

#define SIM_SES_MAX_TAPS 64	/* taps tracked per world (a bit each per skb) */
#define SIM_SES_MAX_HOSTS 16	/* sizeof(sim_world.hosts) */
#define SIM_SES_LINE 200	/* one listing line */
#define SIM_SES_CTR_NAME 80

/* A counter under the kernel's name ("eth0.rx_missed_errors"). */
struct sim_ctr {
	char name[SIM_SES_CTR_NAME];
	uint64_t value;
	uint8_t modelled;	/* 0: a kernel counter the model never moves */
};

/* Every counter of one host, in report order. */
struct sim_ctr_list {
	struct sim_ctr *v;
	unsigned n, cap;
};

/* One packet socket: what the events said and, at the end, its read-outs. */
struct sim_ses_tap {
	struct sim_tap *tap;
	unsigned host;			/* index in sim_world.hosts */
	int tcpdump;			/* libpcap and tcpdump read it */
	int linktype;			/* of its records (tcpdump's, or the copies) */
	uint32_t snaplen;
	/* Per packet-socket result (SIM_ST_PACKET_RCV / TPACKET_RCV). */
	uint64_t copied, filtered, ringfull, ignored;
	/* SIM_ST_PCAP_READ: handed to tcpdump, kept from it by libpcap. */
	uint64_t read, dir_rejected;
	/* Read out at the end: tcpdump's closing lines (a plain tap: its
	 * deliveries, tp_packets, tp_drops) and PACKET_STATISTICS totals. */
	uint64_t captured, received, dropped, ifdrop;
	struct sim_tap_stats k;
	/* The one-liners, the first list_limit of them. */
	char (*lines)[SIM_SES_LINE];
	uint32_t nlines;
	uint64_t listed;		/* every packet it captured */
	/* -w DIR */
	struct trace_writer *wr;
	char *path;
};

/* A "saw N EXPR" matcher on one tap. */
struct sim_ses_saw {
	const struct sim_scn_expect *e;
	unsigned tap;			/* index in sim_collect.taps */
	struct bpfvm *vm;		/* libpcap semantics, the tap's link type */
	uint64_t matched;
};

/* Packets freed at one (host, stage) for one reason, and which taps had
 * copied them (or rejected them, or lost their copy) before the drop. */
struct sim_ses_drop {
	unsigned host;
	enum sim_stage stage;
	enum sim_drop_reason reason;
	uint64_t count;
	uint64_t seen_any;		/* copied by at least one tap first */
	uint64_t copied[SIM_SES_MAX_TAPS], filtered[SIM_SES_MAX_TAPS], ringfull[SIM_SES_MAX_TAPS];
};

/* Where edges of the path graph go (sim_ses_edge.to's top byte). */
enum sim_ses_node_kind { SIM_NODE_STAGE = 0, SIM_NODE_TAP = 1, SIM_NODE_DROP = 2 };
#define SIM_NODE(kind, v) ((uint32_t)(kind) << 24 | (uint32_t)(v))
#define SIM_NODE_KIND(n) ((n) >> 24)
#define SIM_NODE_VAL(n) ((n) & 0xffffffu)
#define SIM_NODE_NONE UINT32_MAX
/* A stage node: host index and stage. */
#define SIM_STAGE_NODE(h, st) SIM_NODE(SIM_NODE_STAGE, (h) * SIM_STAGE_COUNT + (st))

struct sim_ses_edge {
	uint32_t from, to;		/* from: a stage node */
	uint64_t count;
};

/* The one live sk_buff at a pool address: which packet and where it was. */
struct sim_ses_skb {
	const void *p;
	uint64_t id;
	uint32_t clone;
	uint32_t last;			/* its last stage node, SIM_NODE_NONE */
	uint64_t copied, filtered, ringfull;	/* tap bits */
};

struct sim_collect {
	struct sim_world *w;
	struct sim_observer obs;
	const struct sim_host *hosts[SIM_SES_MAX_HOSTS];
	unsigned nhosts;
	struct sim_ses_tap taps[SIM_SES_MAX_TAPS];
	unsigned ntaps;
	struct sim_ses_saw *saws;
	unsigned nsaws;
	/* Drops, indexed by (host, stage, reason) through drop_idx (0: none). */
	struct sim_ses_drop *drops;
	unsigned ndrops, drops_cap;
	uint16_t drop_idx[SIM_SES_MAX_HOSTS][SIM_STAGE_COUNT][SIM_DROP_REASON_COUNT];
	/* Packets that passed each (host, stage). */
	uint64_t passed[SIM_SES_MAX_HOSTS][SIM_STAGE_COUNT];
	/* Edges: open addressing, a power of two. */
	struct sim_ses_edge *edges;
	size_t nedges, edges_cap;
	/* Live skbs by pool address: open addressing, a power of two. */
	struct sim_ses_skb *skbs;
	size_t nskbs, skbs_cap;
	struct sim_ses_skb *last_skb;	/* consecutive events are mostly one skb's */
	uint64_t events;
	/* Options. */
	void (*capture)(void *ctx, const struct sim_session_capture *rec);
	void *capture_ctx;
	uint32_t list_limit;
	FILE *trace;
	uint64_t trace_lines, trace_limit;
	/* The first failure while running (out of memory, a pcap write). */
	int failed;
	char err[512];
};

struct sim_ses_result {
	const struct sim_scn_expect *e;
	int pass;
	int known;			/* 0: the quantity could not be read (see text) */
	uint64_t have;
	char what[256];			/* "expect tap a.t1 captured = 0" */
	char text[256];			/* what happened, for a failure */
};

struct sim_session {
	struct sim_scenario *sc;
	char *path;
	struct sim_world *w;
	struct sim_collect col;
	int ran;
	sim_ns end;			/* the run's end time */
	struct sim_ctr_list ctrs[SIM_SES_MAX_HOSTS];
	struct sim_ses_result *res;
	unsigned nres, nfailed;
};

/* collect.c */
/* Set up @c for @w: its hosts and taps, the "saw" matchers of @sc's
 * expectations (compiled offline, libpcap semantics), the pcap writers
 * under @pcap_dir (NULL: none).  0, or -1 with a sentence in @errbuf
 * (a "saw" expression libpcap refuses names the expectation's line). */
int sim_collect_init(struct sim_collect *c, struct sim_world *w, const struct sim_scenario *sc,
		     const char *pcap_dir, FILE *trace, uint64_t trace_limit, uint32_t list_limit,
		     char *errbuf, size_t errsize);
/* Read the taps' counters and closing lines after the run (once). */
void sim_collect_finish(struct sim_collect *c);
/* Commit the pcap files (all, or on failure none of them).  0 or -1. */
int sim_collect_commit(struct sim_collect *c, char *errbuf, size_t errsize);
void sim_collect_free(struct sim_collect *c);
/* The tap called @name on host @h, or -1. */
int sim_collect_tap(const struct sim_collect *c, const char *host, const char *name);
/* The index of @h, or -1. */
int sim_collect_host(const struct sim_collect *c, const char *name);
/* "OUTPUT" for a netfilter stage, "" for the others. */
const char *sim_stage_hook_name(enum sim_stage st);
/* Append printf output at *@off in @buf (@size bytes), moving *@off on;
 * what does not fit is cut, and later calls add nothing. */
void sim_bufput(char *buf, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* expect.c */
/* Every counter of host @h of @w, with the collector's tap read-outs. */
int sim_counters(const struct sim_collect *c, unsigned host, struct sim_ctr_list *out);
void sim_ctr_list_free(struct sim_ctr_list *l);
/* Check that every expectation names things that exist in the built
 * world (counters above all).  0, or -1 with "file:line:col: ..." */
int sim_expect_check(const struct sim_session *s, char *errbuf, size_t errsize);
/* Evaluate every expectation into s->res.  0, or -1 out of memory. */
int sim_expect_eval(struct sim_session *s);

#endif
