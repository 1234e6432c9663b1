/*
 * scn_int.h - what the files of `capsim live SCENARIO` share: topo.c (the
 * namespaces, veth wires and their configuration), rules.c (nft and tc),
 * traffic.c (real sockets and injected frames) and scenario.c (taps, the
 * run, the comparison with the model).  Private to live/.
 */
#ifndef CAPSIM_LIVE_SCN_INT_H
#define CAPSIM_LIVE_SCN_INT_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include "live.h"
#include "scenario.h"

/* ---- topo.c ------------------------------------------------------- */

/* One host of the scenario as a network namespace. */
struct live_host {
	int nsfd;		/* the namespace; it lives while this is open */
	int rtnl;		/* an rtnetlink socket created inside it */
	char name[64];		/* capsim-<pid>-<host>, for messages and --keep */
};

struct live_topo {
	struct live_host *hosts;	/* one per sim_scenario.hosts */
	uint32_t nhosts;
	struct live_host voidns;	/* the far ends of interfaces on no wire */
	int home;			/* the caller's namespace */
	const struct sim_scenario *sc;
};

/*
 * Build every host as a namespace (no name in the file system: it goes
 * away with the last descriptor, even when the process is killed), every
 * wire as a veth pair, then devices, addresses, routes, neighbours and
 * the per-namespace sysctls as @sc declares.  0, or a negative enum
 * live_error with a sentence in @errbuf; on failure everything made so
 * far is released.
 */
int live_topo_build(struct live_topo *t, const struct sim_scenario *sc, char *errbuf);
void live_topo_free(struct live_topo *t);

/* Enter host @nsfd's namespace with the calling thread / go back home. */
int live_topo_enter(const struct live_topo *t, int nsfd, char *errbuf);
int live_topo_leave(const struct live_topo *t, char *errbuf);
/* socket(2) inside @nsfd. */
int live_topo_socket(const struct live_topo *t, int nsfd, int domain, int type, int proto,
		     char *errbuf);

/* Run @argv inside @nsfd (a forked child setns()es, then execs), with
 * @input on its standard input (may be NULL).  Its standard output is
 * returned in *@out (NUL-terminated, the caller frees; may be NULL to
 * discard).  0 when it exited 0; otherwise LIVE_ERR_SYS with its status
 * and the start of its standard error in @errbuf (LIVE_ERR_NOSUPPORT when
 * the program is not installed). */
int live_ns_run(int nsfd, char *const argv[], const char *input, char **out, char *errbuf);

/* Interface statistics of device @ifindex in @h (RTM_GETLINK,
 * IFLA_STATS64). */
struct live_link_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors;
	uint64_t rx_dropped, tx_dropped, rx_missed_errors, rx_length_errors;
	uint64_t rx_otherhost_dropped;
};
int live_link_stats(const struct live_host *h, int ifindex, struct live_link_stats *st,
		    char *errbuf);

/* Read a whole (small) file as the thread in @nsfd sees it. */
int live_ns_read_file(const struct live_topo *t, int nsfd, const char *path, char *buf,
		      size_t size, char *errbuf);

/* ---- rules.c ------------------------------------------------------ */

/* Hand every host's rules to nft (one ruleset per host, `nft -f -`) and
 * tc (clsact, one flower or matchall filter per rule). */
int live_rules_install(const struct live_topo *t, char *errbuf);
/* Read each rule's packet counter back (nft -j list ruleset; tc -s -j
 * filter show).  @counts[h][r] for rule r of host h; UINT64_MAX when a
 * rule's counter was not found. */
int live_rules_counters(const struct live_topo *t, uint64_t **counts, char *errbuf);
/* Whether the rule can be given to the kernel; 0, or -1 with the reason. */
int live_rule_supported(const struct sim_scn_rule *r, char *why, size_t size);

/* ---- traffic.c ---------------------------------------------------- */

/* The ports and ICMP identifiers the model chose where the scenario left
 * them to the kernel, so the live packets carry the same bytes. */
struct live_pin {
	uint16_t sport;		/* udp/tcp; 0: let the kernel choose */
	uint16_t icmp_id;	/* icmp; 0: let the kernel choose */
	int have;
};

struct live_traffic;

/* Open the sending sockets of every `at` line in its host (udp: bound to
 * `from` and the pinned port; icmp: a ping socket bound to the pinned
 * identifier, or the host's own icmp socket when it has one) and the
 * injection sockets.  @socks[h][i] are the scenario's sockets already open
 * (the host's icmp socket sends its echo requests, so the replies come
 * back to it), or -1.  0, or a negative enum live_error. */
int live_traffic_open(struct live_traffic **tr, const struct live_topo *t,
		      const struct live_pin *pins, int *const *socks, char *errbuf);
/* Send everything on the scenario's clock from @t0 (CLOCK_MONOTONIC ns).
 * Stops early when *@stop is set.  Returns 0 and the clock when the last
 * packet left in *@end; sends the
 * kernel refused are counted in *@send_errors (the first errno in
 * *@first_errno). */
int live_traffic_run(struct live_traffic *tr, uint64_t t0, volatile sig_atomic_t *stop,
		     uint64_t *end, uint64_t *sent, uint64_t *send_errors, int *first_errno,
		     char *errbuf);
void live_traffic_close(struct live_traffic *tr);
/* Whether the line can be sent for real; 0, or -1 with the reason. */
int live_traffic_supported(const struct sim_scn_traffic *tl, char *why, size_t size);

/* CLOCK_MONOTONIC in ns. */
uint64_t live_now_ns(void);

#endif
