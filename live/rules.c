/*
 * rules.c - a scenario's `rule` lines as real netfilter and tc rules.
 *
 * Netfilter: one ruleset per host, loaded with `nft -f -` inside the
 * host's namespace.  The IP hooks (prerouting ... postrouting) are base
 * chains of an inet table, the device hooks (netdev-ingress, -egress)
 * base chains of a netdev table bound to the device; every rule carries a
 * counter and its name as a comment, so `nft -j list ruleset` gives its
 * count back.  A hook's rules keep the scenario's order, and a matching
 * rule's accept or drop ends the chain (nft_do_chain), which is what the
 * model does; the policy is accept.
 *
 * tc: a clsact qdisc on each device with tc rules and one cls_bpf filter
 * per rule in the order written, in direct-action mode (see the tc block
 * below for why and how).
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "scn_int.h"

/* A growing text buffer. */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *ns = realloc(b->s, ncap);

		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

static int is_tc(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_TC_INGRESS || h == SIM_SCN_HOOK_TC_EGRESS;
}

static int is_netdev(enum sim_scn_hook h)
{
	return h == SIM_SCN_HOOK_NETDEV_INGRESS || h == SIM_SCN_HOOK_NETDEV_EGRESS;
}

static const char *addr_text(const struct sim_scn_addr *a, char *buf, size_t size)
{
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, buf, (socklen_t)size);
	return buf;
}

/* ---- nft ---------------------------------------------------------- */

static void range_text(struct sbuf *b, const char *what, const struct sim_scn_range *r)
{
	if (!r->set)
		return;
	if (r->lo == r->hi)
		sb_add(b, " %s %u", what, r->lo);
	else
		sb_add(b, " %s %u-%u", what, r->lo, r->hi);
}

static void nft_rule(struct sbuf *b, const struct sim_scn_host *sh, const struct sim_scn_rule *r)
{
	char a[INET6_ADDRSTRLEN];
	const char *l4 = NULL;

	sb_add(b, "\t\t");
	switch (r->proto) {
	case SIM_SCN_PROTO_TCP: l4 = "tcp"; break;
	case SIM_SCN_PROTO_UDP: l4 = "udp"; break;
	case SIM_SCN_PROTO_ICMP: sb_add(b, " meta l4proto icmp"); break;
	case SIM_SCN_PROTO_ICMPV6: sb_add(b, " meta l4proto ipv6-icmp"); break;
	case SIM_SCN_PROTO_ARP: sb_add(b, " meta protocol arp"); break;
	case SIM_SCN_PROTO_IP: sb_add(b, " meta protocol ip"); break;
	case SIM_SCN_PROTO_IP6: sb_add(b, " meta protocol ip6"); break;
	default: break;
	}
	if (l4)
		sb_add(b, " meta l4proto %s", l4);
	if (r->has_saddr)
		sb_add(b, " %s saddr %s/%u", r->saddr.addr.family == 4 ? "ip" : "ip6",
		       addr_text(&r->saddr.addr, a, sizeof(a)), r->saddr.len);
	if (r->has_daddr)
		sb_add(b, " %s daddr %s/%u", r->daddr.addr.family == 4 ? "ip" : "ip6",
		       addr_text(&r->daddr.addr, a, sizeof(a)), r->daddr.len);
	if (l4) {
		char w[16];

		snprintf(w, sizeof(w), "%s sport", l4);
		range_text(b, w, &r->sport);
		snprintf(w, sizeof(w), "%s dport", l4);
		range_text(b, w, &r->dport);
	}
	if (r->has_iif)
		sb_add(b, " iifname \"%s\"", sh->ifaces[r->iif.idx].name);
	if (r->has_oif)
		sb_add(b, " oifname \"%s\"", sh->ifaces[r->oif.idx].name);
	if (r->has_vlan)
		sb_add(b, " vlan id %u", r->vlan);
	range_text(b, "meta length", &r->len);
	sb_add(b, " counter %s comment \"%s\"\n",
	       r->verdict == SIM_SCN_VERDICT_DROP ? "drop" : "accept", r->name);
}

static const char *inet_hook(enum sim_scn_hook h)
{
	switch (h) {
	case SIM_SCN_HOOK_PREROUTING: return "prerouting";
	case SIM_SCN_HOOK_INPUT: return "input";
	case SIM_SCN_HOOK_FORWARD: return "forward";
	case SIM_SCN_HOOK_OUTPUT: return "output";
	case SIM_SCN_HOOK_POSTROUTING: return "postrouting";
	default: return NULL;
	}
}

/* The whole nft script of one host; NULL when it has no nft rules. */
static char *nft_script(const struct sim_scn_host *sh, int *oom)
{
	struct sbuf b = { 0 };
	int any_inet = 0, any_netdev = 0;

	for (uint32_t i = 0; i < sh->nrules; i++) {
		any_inet |= inet_hook(sh->rules[i].hook) != NULL;
		any_netdev |= is_netdev(sh->rules[i].hook);
	}
	*oom = 0;
	if (!any_inet && !any_netdev)
		return NULL;
	if (any_inet) {
		sb_add(&b, "table inet capsim {\n");
		for (int h = SIM_SCN_HOOK_PREROUTING; h <= SIM_SCN_HOOK_POSTROUTING; h++) {
			const char *name = inet_hook((enum sim_scn_hook)h);
			int has = 0;

			for (uint32_t i = 0; i < sh->nrules; i++)
				has |= sh->rules[i].hook == (enum sim_scn_hook)h;
			if (!name || !has)
				continue;
			sb_add(&b, "\tchain %s {\n\t\ttype filter hook %s priority 0; policy accept;\n",
			       name, name);
			for (uint32_t i = 0; i < sh->nrules; i++)
				if (sh->rules[i].hook == (enum sim_scn_hook)h)
					nft_rule(&b, sh, &sh->rules[i]);
			sb_add(&b, "\t}\n");
		}
		sb_add(&b, "}\n");
	}
	if (any_netdev) {
		sb_add(&b, "table netdev capsim {\n");
		for (uint32_t d = 0; d < sh->nifaces; d++)
			for (int dir = 0; dir < 2; dir++) {
				enum sim_scn_hook h = dir ? SIM_SCN_HOOK_NETDEV_EGRESS
							  : SIM_SCN_HOOK_NETDEV_INGRESS;
				int has = 0;

				for (uint32_t i = 0; i < sh->nrules; i++)
					has |= sh->rules[i].hook == h && sh->rules[i].dev.idx == d;
				if (!has)
					continue;
				sb_add(&b,
				       "\tchain %s_%u {\n\t\ttype filter hook %s device \"%s\" "
				       "priority 0; policy accept;\n",
				       dir ? "egress" : "ingress", sh->ifaces[d].ifindex,
				       dir ? "egress" : "ingress", sh->ifaces[d].name);
				for (uint32_t i = 0; i < sh->nrules; i++)
					if (sh->rules[i].hook == h && sh->rules[i].dev.idx == d)
						nft_rule(&b, sh, &sh->rules[i]);
				sb_add(&b, "\t}\n");
			}
		sb_add(&b, "}\n");
	}
	if (b.oom) {
		free(b.s);
		*oom = 1;
		return NULL;
	}
	return b.s;
}

/* ---- tc ----------------------------------------------------------- */

/*
 * The tc classifiers this kernel has decide how tc rules are written: the
 * running kernel has neither flower nor matchall nor the gact action
 * (CONFIG_NET_CLS_FLOWER, _MATCHALL, CONFIG_NET_ACT_GACT unset), but it
 * has cls_bpf, which takes a classic BPF program in direct-action mode:
 * cls_bpf_classify() pushes the MAC header back at ingress, runs the
 * program and treats its return value as the action (cls_bpf_exec_opcode:
 * TC_ACT_SHOT drops, TC_ACT_OK accepts, TC_ACT_UNSPEC goes on to the next
 * filter).  So each rule becomes the pcap-filter expression of its
 * matches, compiled by libpcap with Linux extensions (as a tap's filter),
 * whose "match" returns are rewritten to the verdict and "no match"
 * returns to TC_ACT_UNSPEC.  Direct-action filters keep no per-filter
 * count; the clsact qdisc counts what its filters dropped
 * (mini_qdisc_qstats_cpu_drop in sch_handle_ingress / sch_handle_egress),
 * which is a rule's count when it is its device's only tc drop rule.
 */
#define TC_ACT_OK_ 0
#define TC_ACT_SHOT_ 2
#define TC_ACT_UNSPEC_ 0xffffffffu

/* The pcap-filter expression of a tc rule's matches (@at_ingress: the
 * program sees the MAC header that cls_bpf pushed back, so `len` is the
 * rule's length plus 14). */
static void tc_expr(struct sbuf *b, const struct sim_scn_host *sh, const struct sim_scn_rule *r)
{
	char a[INET6_ADDRSTRLEN];
	const char *l4 = NULL, *sep = "";
	int ingress = r->hook == SIM_SCN_HOOK_TC_INGRESS;

	if (r->has_vlan) {
		sb_add(b, "vlan %u", r->vlan);
		sep = " and ";
	}
	switch (r->proto) {
	case SIM_SCN_PROTO_TCP: l4 = "tcp"; break;
	case SIM_SCN_PROTO_UDP: l4 = "udp"; break;
	case SIM_SCN_PROTO_ICMP: sb_add(b, "%sicmp", sep); sep = " and "; break;
	case SIM_SCN_PROTO_ICMPV6: sb_add(b, "%sicmp6", sep); sep = " and "; break;
	case SIM_SCN_PROTO_ARP: sb_add(b, "%sarp", sep); sep = " and "; break;
	case SIM_SCN_PROTO_IP: sb_add(b, "%sip", sep); sep = " and "; break;
	case SIM_SCN_PROTO_IP6: sb_add(b, "%sip6", sep); sep = " and "; break;
	default: break;
	}
	if (l4) {
		sb_add(b, "%s%s", sep, l4);
		sep = " and ";
	}
	if (r->has_saddr) {
		sb_add(b, "%ssrc net %s/%u", sep, addr_text(&r->saddr.addr, a, sizeof(a)), r->saddr.len);
		sep = " and ";
	}
	if (r->has_daddr) {
		sb_add(b, "%sdst net %s/%u", sep, addr_text(&r->daddr.addr, a, sizeof(a)), r->daddr.len);
		sep = " and ";
	}
	for (int d = 0; d < 2; d++) {
		const struct sim_scn_range *pr = d ? &r->dport : &r->sport;

		if (!pr->set)
			continue;
		if (pr->lo == pr->hi)
			sb_add(b, "%s%s %s port %u", sep, l4, d ? "dst" : "src", pr->lo);
		else
			sb_add(b, "%s%s %s portrange %u-%u", sep, l4, d ? "dst" : "src", pr->lo, pr->hi);
		sep = " and ";
	}
	if (r->has_iif && r->iif.idx != r->dev.idx) {
		sb_add(b, "%sifindex %u", sep, sh->ifaces[r->iif.idx].ifindex);
		sep = " and ";
	}
	if (r->len.set) {
		uint32_t add = ingress ? 14 : 0;

		sb_add(b, "%slen >= %u and len <= %u", sep, r->len.lo + add, r->len.hi + add);
	}
}

int live_rule_supported(const struct sim_scn_rule *r, char *why, size_t size)
{
	if (!is_tc(r->hook))
		return 0;
	if (r->has_oif && r->oif.idx != r->dev.idx) {
		snprintf(why, size, "rule %s: at tc egress of one device, oif another never matches",
			 r->name);
		return -1;
	}
	return 0;
}

/* One tc rule as a `tc -batch` line, or -1 with a sentence. */
static int tc_rule(struct sbuf *b, const struct sim_scn_host *sh, uint32_t ri, char *errbuf)
{
	const struct sim_scn_rule *r = &sh->rules[ri];
	struct sbuf e = { 0 };
	struct bpfvm_compile_opts co;
	struct bpfvm_prog prog = { 0 };
	char err[BPFVM_ERRBUF_SIZE];
	uint32_t verdict = r->verdict == SIM_SCN_VERDICT_DROP ? TC_ACT_SHOT_ : TC_ACT_OK_;

	tc_expr(&e, sh, r);
	bpfvm_compile_opts_init(&co);
	co.linux_ext = 1;
	if (e.oom || bpfvm_compile(e.s ? e.s : "", &co, &prog, err) != 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: rule %s (line %u): \"%.80s\": %.100s",
			 r->name, r->pos.line, e.s ? e.s : "", e.oom ? "out of memory" : err);
		free(e.s);
		return LIVE_ERR_ARG;
	}
	free(e.s);
	sb_add(b, "filter add dev %s %s pref %u protocol all bpf da bytecode \"%u",
	       sh->ifaces[r->dev.idx].name, r->hook == SIM_SCN_HOOK_TC_INGRESS ? "ingress" : "egress",
	       ri + 1, prog.len);
	for (uint32_t i = 0; i < prog.len; i++) {
		struct bpfvm_insn in = prog.insns[i];

		if (BPF_CLASS(in.code) == BPF_RET) {
			if (BPF_RVAL(in.code) != BPF_K) {
				snprintf(errbuf, LIVE_ERRBUF_SIZE,
					 "live: rule %s: its program returns a register", r->name);
				bpfvm_prog_free(&prog);
				return LIVE_ERR_ARG;
			}
			in.k = in.k ? verdict : TC_ACT_UNSPEC_;
		}
		sb_add(b, ",%u %u %u %u", in.code, in.jt, in.jf, in.k);
	}
	sb_add(b, "\"\n");
	bpfvm_prog_free(&prog);
	return 0;
}

/* The `tc -batch -` script of one host; NULL when it has no tc rules
 * (or on failure: *@rc says). */
static char *tc_script(const struct sim_scn_host *sh, int *rc, char *errbuf)
{
	struct sbuf b = { 0 };
	int any = 0;

	*rc = 0;
	for (uint32_t d = 0; d < sh->nifaces; d++) {
		int has = 0;

		for (uint32_t i = 0; i < sh->nrules; i++)
			has |= is_tc(sh->rules[i].hook) && sh->rules[i].dev.idx == d;
		if (has)
			sb_add(&b, "qdisc add dev %s clsact\n", sh->ifaces[d].name);
	}
	for (uint32_t i = 0; i < sh->nrules && !*rc; i++)
		if (is_tc(sh->rules[i].hook)) {
			any = 1;
			*rc = tc_rule(&b, sh, i, errbuf);
		}
	if (!*rc && b.oom) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: out of memory writing tc rules");
		*rc = LIVE_ERR_SYS;
	}
	if (*rc || !any) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

int live_rules_install(const struct live_topo *t, char *errbuf)
{
	for (uint32_t h = 0; h < t->nhosts; h++) {
		const struct sim_scn_host *sh = &t->sc->hosts[h];
		int oom, rc;
		char *s;

		if ((s = nft_script(sh, &oom))) {
			char *argv[] = { "nft", "-f", "-", NULL };

			rc = live_ns_run(t->hosts[h].nsfd, argv, s, NULL, errbuf);
			free(s);
			if (rc)
				return rc;
		}
		if ((s = tc_script(sh, &rc, errbuf))) {
			char *argv[] = { "tc", "-batch", "-", NULL };

			rc = live_ns_run(t->hosts[h].nsfd, argv, s, NULL, errbuf);
			free(s);
		}
		if (rc)
			return rc;
		if (oom) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: out of memory writing rules");
			return LIVE_ERR_SYS;
		}
	}
	return 0;
}

/* ---- counters back ------------------------------------------------ */

static int nft_counters(const struct live_topo *t, uint32_t h, uint64_t *counts, char *errbuf)
{
	const struct sim_scn_host *sh = &t->sc->hosts[h];
	char *argv[] = { "nft", "-j", "list", "ruleset", NULL };
	char *out = NULL;
	json_error_t je;
	json_t *root, *arr, *item;
	size_t i;
	int rc = live_ns_run(t->hosts[h].nsfd, argv, NULL, &out, errbuf);

	if (rc)
		return rc;
	root = json_loads(out, 0, &je);
	free(out);
	if (!root) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: nft -j list ruleset: %s", je.text);
		return LIVE_ERR_SYS;
	}
	arr = json_object_get(root, "nftables");
	json_array_foreach(arr, i, item) {
		json_t *rule = json_object_get(item, "rule"), *ex, *e;
		const char *comment;
		size_t k;

		if (!rule || !(comment = json_string_value(json_object_get(rule, "comment"))))
			continue;
		ex = json_object_get(rule, "expr");
		json_array_foreach(ex, k, e) {
			json_t *c = json_object_get(e, "counter");

			if (!c)
				continue;
			for (uint32_t r = 0; r < sh->nrules; r++)
				if (!is_tc(sh->rules[r].hook) && strcmp(sh->rules[r].name, comment) == 0)
					counts[r] = (uint64_t)json_integer_value(
					    json_object_get(c, "packets"));
		}
	}
	json_decref(root);
	return 0;
}

/* The clsact qdisc's drop count on device @d: the count of its only tc
 * drop rule, if it has exactly one (see the tc block above). */
static int tc_counters(const struct live_topo *t, uint32_t h, uint32_t d, uint64_t *counts,
		       char *errbuf)
{
	const struct sim_scn_host *sh = &t->sc->hosts[h];
	char *argv[] = { "tc", "-s", "-j", "qdisc", "show", "dev", (char *)sh->ifaces[d].name, NULL };
	char *out = NULL;
	json_error_t je;
	json_t *root, *item;
	size_t i;
	int rc, ndrop = 0;
	uint32_t only = 0;

	for (uint32_t r = 0; r < sh->nrules; r++)
		if (is_tc(sh->rules[r].hook) && sh->rules[r].dev.idx == d &&
		    sh->rules[r].verdict == SIM_SCN_VERDICT_DROP) {
			ndrop++;
			only = r;
		}
	if (ndrop != 1)
		return 0;
	if ((rc = live_ns_run(t->hosts[h].nsfd, argv, NULL, &out, errbuf)) != 0)
		return rc;
	root = json_loads(out, 0, &je);
	free(out);
	if (!root) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "live: tc -s -j qdisc show dev %s: %.100s",
			 sh->ifaces[d].name, je.text);
		return LIVE_ERR_SYS;
	}
	json_array_foreach(root, i, item) {
		const char *kind = json_string_value(json_object_get(item, "kind"));

		if (kind && strcmp(kind, "clsact") == 0)
			counts[only] = (uint64_t)json_integer_value(json_object_get(item, "drops"));
	}
	json_decref(root);
	return 0;
}

int live_rules_counters(const struct live_topo *t, uint64_t **counts, char *errbuf)
{
	for (uint32_t h = 0; h < t->nhosts; h++) {
		const struct sim_scn_host *sh = &t->sc->hosts[h];
		int nft = 0, rc;

		for (uint32_t r = 0; r < sh->nrules; r++) {
			counts[h][r] = UINT64_MAX;
			nft |= !is_tc(sh->rules[r].hook);
		}
		if (nft && (rc = nft_counters(t, h, counts[h], errbuf)) != 0)
			return rc;
		for (uint32_t d = 0; d < sh->nifaces; d++)
			if ((rc = tc_counters(t, h, d, counts[h], errbuf)) != 0)
				return rc;
	}
	return 0;
}
