/*
 * test_sim_session.c - `capsim sim` below the command: a scenario loaded,
 * built, run and read out.  The drop points and their visibility to the
 * taps, every expectation kind passing and failing, the counters read
 * back against the model's own fields, the collector's drop counts
 * against the hosts' kfree_skb_reason() counters, the JSON against the
 * text, the -w files against the listing, and the memory bound: two
 * million packets through a filtered tcpdump tap in bounded memory.
 */
#include "testutil.h"

#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "session_int.h"

static char session_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(session_dir, sizeof(session_dir), "/tmp/capsim-test-sim-XXXXXX");
	return mkdtemp(session_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", session_dir);
	return system(cmd);
}

/* Load and run @path; fails the test on an error. */
static struct sim_session *run_opts(const char *path, const struct sim_session_opts *o)
{
	char err[SIM_SESSION_ERRBUF_SIZE];
	struct sim_session *s;

	if (sim_session_load(&s, path, err) != 0)
		fail_msg("load %s: %s", path, err);
	if (sim_session_run(s, o, err) != 0)
		fail_msg("run %s: %s", path, err);
	return s;
}

static struct sim_session *session_run(const char *path)
{
	return run_opts(path, NULL);
}

/* A scenario file in the temporary directory. */
static const char *write_scn(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", session_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const struct sim_ses_drop *find_drop(const struct sim_session *s, const char *host,
					    enum sim_stage st, enum sim_drop_reason r)
{
	int h = sim_collect_host(&s->col, host);

	for (unsigned i = 0; i < s->col.ndrops; i++)
		if ((int)s->col.drops[i].host == h && s->col.drops[i].stage == st &&
		    s->col.drops[i].reason == r)
			return &s->col.drops[i];
	return NULL;
}

static void all_pass(const struct sim_session *s)
{
	for (unsigned i = 0; i < s->nres; i++)
		if (!s->res[i].pass)
			fail_msg("%s:%u %s: %s", s->sc->name, s->res[i].e->pos.line, s->res[i].what,
				 s->res[i].text);
	assert_int_equal(sim_session_failed(s), 0);
}

/* The collector's drops per reason equal the hosts' kfree_skb_reason()
 * counts (RX_MISSED, never an skb, is in rx_missed_errors instead). */
static void drops_agree(const struct sim_session *s)
{
	for (unsigned h = 0; h < s->col.nhosts; h++) {
		uint64_t missed = 0;

		for (int r = 1; r < SIM_DROP_REASON_COUNT; r++) {
			uint64_t sum = 0;

			for (unsigned i = 0; i < s->col.ndrops; i++)
				if (s->col.drops[i].host == h && s->col.drops[i].reason == (enum sim_drop_reason)r)
					sum += s->col.drops[i].count;
			if (r == SIM_DROP_RX_MISSED)
				missed = sum;
			else
				assert_int_equal(sum, s->col.hosts[h]->drops[r]);
		}
		uint64_t dev_missed = 0;

		for (unsigned d = 0; d < s->col.hosts[h]->ndevs; d++)
			dev_missed += s->col.hosts[h]->devs[d]->stats.rx_missed_errors;
		assert_int_equal(missed, dev_missed);
	}
}

/* An egress drop (LOCAL_OUT) is before dev_queue_xmit_nit: no tap saw it. */
static void test_egress_drop_invisible(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/egress-drop-session.scn");
	const struct sim_ses_drop *d;

	(void)state;
	all_pass(s);
	d = find_drop(s, "a", SIM_ST_NF_LOCAL_OUT, SIM_DROP_NETFILTER_DROP);
	assert_non_null(d);
	assert_int_equal(d->count, 5);
	assert_int_equal(d->seen_any, 0);
	assert_int_equal(sim_stages[d->stage].visible, 0);
	for (unsigned t = 0; t < s->col.ntaps; t++)
		assert_int_equal(d->copied[t], 0);
	drops_agree(s);
	sim_session_free(s);
}

/* An INPUT drop is after __netif_receive_skb_core's taps: tcpdump saw it. */
static void test_ingress_drop_visible(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/ingress-drop-visible.scn");
	const struct sim_ses_drop *d;
	int t = sim_collect_tap(&s->col, "b", "cap");

	(void)state;
	all_pass(s);
	d = find_drop(s, "b", SIM_ST_NF_LOCAL_IN, SIM_DROP_NETFILTER_DROP);
	assert_non_null(d);
	assert_true(t >= 0);
	assert_int_equal(d->count, 10);
	assert_int_equal(d->seen_any, 10);
	assert_int_equal(d->copied[t], 10);
	assert_int_equal(sim_stages[d->stage].visible, 1);
	drops_agree(s);
	sim_session_free(s);
}

/* A slow tcpdump: the tap's lost copies are FULL_RING at tpacket_rcv,
 * as many as tp_drops and tcpdump's "dropped by kernel". */
static void test_slow_reader(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/ring-overflow-slow-reader.scn");
	const struct sim_ses_drop *d = find_drop(s, "cap", SIM_ST_TPACKET_RCV, SIM_DROP_FULL_RING);
	int t = sim_collect_tap(&s->col, "cap", "dump");

	(void)state;
	all_pass(s);
	assert_non_null(d);
	assert_true(t >= 0);
	assert_true(d->count > 0);
	assert_int_equal(d->count, s->col.taps[t].k.tp_drops);
	assert_int_equal(d->count, s->col.taps[t].dropped);
	assert_int_equal(d->ringfull[t], d->count);
	assert_int_equal(s->col.taps[t].ringfull, d->count);
	/* What tcpdump read is what it counted as captured. */
	assert_int_equal(s->col.taps[t].read, s->col.taps[t].captured);
	drops_agree(s);
	sim_session_free(s);
}

static const char kinds_scn[] =
	"scenario \"every expectation kind\"\n"
	"seed 5\n"
	"duration 1100ms\n"
	"host a\n"
	"  iface eth0 mac 02:00:00:00:0a:01 addr 198.18.0.1/24\n"
	"  neigh 198.18.0.2 lladdr 02:00:00:00:0b:01 dev eth0\n"
	"  rule block-dns output proto udp dport 53 drop\n"
	"  tap cap dev eth0 tcpdump\n"
	"host b\n"
	"  iface eth0 mac 02:00:00:00:0b:01 addr 198.18.0.2/24\n"
	"  neigh 198.18.0.1 lladdr 02:00:00:00:0a:01 dev eth0\n"
	"  socket sink udp bind 198.18.0.2:9\n"
	"wire a.eth0 b.eth0\n"
	"at 1ms a send udp to 198.18.0.2:53 count 4 rate 1000/s\n"
	"at 1ms a send udp to 198.18.0.2:9 count 3 rate 1000/s\n"
	/* line 16 onwards: pass, fail, pass, fail, ... */
	"expect tap a.cap captured 3\n"
	"expect tap a.cap captured 4\n"
	"expect tap a.cap received >=3\n"
	"expect tap a.cap received <3\n"
	"expect tap a.cap dropped 0\n"
	"expect tap a.cap dropped !=0\n"
	"expect tap a.cap saw 3 \"udp port 9\"\n"
	"expect tap a.cap saw >0 \"udp port 53\"\n"
	"expect drop a NETFILTER_DROP 4\n"
	"expect drop a NETFILTER_DROP 4 at ip_rcv\n"
	"expect counter a rule.block-dns 4\n"
	"expect counter b sink.received 4\n"
	"expect counter a eth0.tx_packets 3\n"
	"expect counter a softnet.processed >0\n";

static void test_expect_kinds(void **state)
{
	struct sim_session *s = session_run(write_scn("kinds.scn", kinds_scn));

	(void)state;
	assert_int_equal(s->nres, 14);
	for (unsigned i = 0; i < s->nres; i++) {
		const struct sim_ses_result *r = &s->res[i];

		assert_int_equal(r->e->pos.line, 16 + i);
		assert_true(r->known);
		if (r->pass != !(i & 1))
			fail_msg("line %u %s: %s, was %llu", r->e->pos.line, r->what,
				 r->pass ? "passed" : "failed", (unsigned long long)r->have);
	}
	assert_int_equal(sim_session_failed(s), 7);
	/* What the failures say they saw. */
	assert_int_equal(s->res[1].have, 3);
	assert_string_equal(s->res[1].text, "was 3");
	assert_int_equal(s->res[9].have, 0);
	assert_int_equal(s->res[11].have, 3);
	sim_session_free(s);
}

/* A counter the parser accepts but this host does not have is an error
 * before the run that names the line and lists the host's counters. */
static void test_unknown_counter(void **state)
{
	char err[SIM_SESSION_ERRBUF_SIZE];
	struct sim_session *s;

	(void)state;
	assert_int_equal(sim_session_load(&s, write_scn("kinds2.scn", kinds_scn), err), 0);
	assert_int_equal(s->sc->expects[10].kind, SIM_SCN_EXPECT_COUNTER);
	strcpy(s->sc->expects[10].counter, "eth7.rx_packets");
	assert_int_equal(sim_session_run(s, NULL, err), SIM_SESSION_EINPUT);
	assert_non_null(strstr(err, "kinds2.scn:26:"));
	assert_non_null(strstr(err, "eth7.rx_packets"));
	assert_non_null(strstr(err, "DEV.X for DEV in lo, eth0"));
	assert_non_null(strstr(err, "rx_missed_errors"));
	assert_non_null(strstr(err, "softnet.X, cpu0.X for X in processed, dropped, time_squeeze"));
	assert_non_null(strstr(err, "TAP.X for TAP in cap"));
	sim_session_free(s);
}

/* Every counter read back equals the model's own field. */
static void test_counters_read_back(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/ring-overflow-slow-reader.scn");

	(void)state;
	for (unsigned h = 0; h < s->col.nhosts; h++) {
		const struct sim_host *host = s->col.hosts[h];
		const struct sim_ctr_list *l = &s->ctrs[h];
		unsigned found = 0;

		for (unsigned i = 0; i < l->n; i++) {
			const struct sim_ctr *c = &l->v[i];
			uint64_t want = UINT64_MAX, sum = 0;
			char name[SIM_SES_CTR_NAME];

			for (unsigned d = 0; d < host->ndevs; d++) {
				const struct sim_dev *dev = host->devs[d];

#define DEVCTR(f, v)                                                           \
	snprintf(name, sizeof(name), "%s." #f, dev->name);                     \
	if (strcmp(name, c->name) == 0)                                        \
		want = (v);
				DEVCTR(rx_packets, dev->stats.rx_packets)
				DEVCTR(rx_bytes, dev->stats.rx_bytes)
				DEVCTR(rx_dropped, dev->stats.rx_dropped)
				DEVCTR(rx_missed_errors, dev->stats.rx_missed_errors)
				DEVCTR(tx_packets, dev->stats.tx_packets)
				DEVCTR(tx_bytes, dev->stats.tx_bytes)
				DEVCTR(tx_dropped, dev->stats.tx_dropped)
				DEVCTR(qdisc_drops, dev->qdisc_drops)
#undef DEVCTR
			}
			for (unsigned k = 0; k < host->ncpus; k++)
				sum += host->cpu[k].processed;
			if (strcmp(c->name, "softnet.processed") == 0)
				want = sum;
			if (strcmp(c->name, "cpu0.processed") == 0)
				want = host->cpu[0].processed;
			for (const struct sim_sock *sk = host->socks; sk; sk = sk->next) {
				snprintf(name, sizeof(name), "%s.received", sk->name);
				if (strcmp(name, c->name) == 0)
					want = sk->received;
				snprintf(name, sizeof(name), "%s.drops", sk->name);
				if (strcmp(name, c->name) == 0)
					want = sk->drops;
			}
			for (const struct sim_tap *t = host->taps; t; t = t->next_host) {
				struct sim_tap_stats k;

				sim_tap_stats(t, &k);
				snprintf(name, sizeof(name), "%s.tp_packets", t->name);
				if (strcmp(name, c->name) == 0)
					want = k.tp_packets;
				snprintf(name, sizeof(name), "%s.tp_drops", t->name);
				if (strcmp(name, c->name) == 0)
					want = k.tp_drops;
			}
			if (want != UINT64_MAX) {
				found++;
				if (c->value != want)
					fail_msg("host %s %s: %llu, the model has %llu", host->name, c->name,
						 (unsigned long long)c->value, (unsigned long long)want);
			}
		}
		assert_true(found >= 8 * host->ndevs + 2);
	}
	/* Non-zero ones, so the comparison means something. */
	assert_true(s->ctrs[1].n > 0);
	sim_session_free(s);
}

/* The JSON parses; its per-host drops sum to the kfree_skb_reason counts
 * and its taps' numbers are the text's. */
static void test_json(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/egress-drop-session.scn");
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	json_error_t jerr;
	json_t *root, *hosts, *taps, *h, *t;
	size_t i, j;

	(void)state;
	assert_non_null(mem);
	assert_int_equal(sim_report_json(mem, s), 0);
	assert_int_equal(fclose(mem), 0);
	root = json_loadb(text, len, 0, &jerr);
	if (!root)
		fail_msg("JSON does not parse: %s at line %d", jerr.text, jerr.line);
	hosts = json_object_get(root, "hosts");
	taps = json_object_get(root, "taps");
	assert_true(json_is_array(hosts) && json_array_size(hosts) == 2);
	assert_true(json_is_array(taps) && json_array_size(taps) == 2);
	json_array_foreach(hosts, i, h)
	{
		json_t *drops = json_object_get(h, "drops"), *d, *reasons = json_object_get(h, "kfree_skb_reason");
		const char *k;
		json_t *v;
		json_int_t sum = 0, want = 0;

		json_array_foreach(drops, j, d)
		{
			sum += json_integer_value(json_object_get(d, "count"));
			assert_non_null(json_string_value(json_object_get(d, "explanation")));
		}
		json_object_foreach(reasons, k, v)
			want += json_integer_value(v);
		assert_int_equal(sum, want);
	}
	h = json_array_get(hosts, 0);
	assert_string_equal(json_string_value(json_object_get(h, "name")), "a");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "counters"),
							    "rule.block-dns")), 5);
	t = json_array_get(json_object_get(h, "drops"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "func")), "nf_hook_slow");
	assert_string_equal(json_string_value(json_object_get(t, "hook")), "OUTPUT");
	assert_int_equal(json_integer_value(json_object_get(t, "visible")), 0);
	json_array_foreach(taps, i, t)
		assert_int_equal(json_integer_value(json_object_get(t, "captured")),
				 s->col.taps[i].captured);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "summary"), "failed")),
			 0);
	assert_int_equal(json_array_size(json_object_get(root, "expectations")), s->nres);
	json_decref(root);
	free(text);
	sim_session_free(s);
}

/* -w: one file per tap, holding exactly the packets the listing shows. */
static void test_pcap_files(void **state)
{
	struct sim_session_opts o = { .pcap_dir = session_dir, .list_limit = 1000 };
	struct sim_session *s = run_opts("tests/scenarios/loopback-twice.scn", &o);
	char err[PCAP_ERRBUF_SIZE], desc[200], path[256];

	(void)state;
	all_pass(s);
	for (unsigned t = 0; t < s->col.ntaps; t++) {
		const struct sim_ses_tap *tp = &s->col.taps[t];
		struct pcap_pkthdr *ph;
		const u_char *bytes;
		uint64_t n = 0;
		pcap_t *p;

		snprintf(path, sizeof(path), "%s/a.%s.pcap", session_dir, tp->tap->name);
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		if (!p)
			fail_msg("%s: %s", path, err);
		assert_int_equal(pcap_datalink(p), tp->linktype);
		while (pcap_next_ex(p, &ph, &bytes) == 1) {
			assert_true(n < tp->nlines);
			trace_describe(bytes, ph->caplen, pcap_datalink(p), desc, sizeof(desc));
			if (!strstr(tp->lines[n], desc))
				fail_msg("record %llu of %s: '%s' is not in '%s'", (unsigned long long)n,
					 path, desc, tp->lines[n]);
			n++;
		}
		pcap_close(p);
		assert_int_equal(n, tp->listed);
		assert_int_equal(n, tp->captured);
	}
	/* tcpdump's file holds the 6 it printed, the plain socket's the 12 copies. */
	assert_int_equal(s->col.taps[sim_collect_tap(&s->col, "a", "dump")].listed, 6);
	assert_int_equal(s->col.taps[sim_collect_tap(&s->col, "a", "raw")].listed, 12);
	sim_session_free(s);
	/* No temporary file left behind. */
	snprintf(path, sizeof(path), "ls %s | grep -q tmp-", session_dir);
	assert_int_not_equal(system(path), 0);
}

/* --trace stops at its limit and says so; the run goes on. */
static void test_trace_limit(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct sim_session_opts o = { .trace = mem, .trace_limit = 5 };
	struct sim_session *s;
	unsigned lines = 0;

	(void)state;
	s = run_opts("tests/scenarios/egress-drop-session.scn", &o);
	assert_int_equal(fclose(mem), 0);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 6);
	assert_non_null(strstr(text, "sendmsg"));
	assert_non_null(strstr(text, "--trace-limit"));
	all_pass(s);
	free(text);
	sim_session_free(s);
}

/* The text names the drop and says why tcpdump did not see it; DOT draws
 * the drop node and the tap. */
static void test_text_and_dot(void **state)
{
	struct sim_session *s = session_run("tests/scenarios/egress-drop-session.scn");
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(sim_report_text(mem, s, 50), 0);
	assert_int_equal(fclose(mem), 0);
	assert_non_null(strstr(text, "5 packets dropped by NETFILTER_DROP"));
	assert_non_null(strstr(text, "nf_hook_slow (OUTPUT)"));
	assert_non_null(strstr(text, "Before dev_queue_xmit_nit hands packets to the taps"));
	assert_non_null(strstr(text, "tcpdump cannot show a packet the kernel dropped"));
	assert_non_null(strstr(text, "1 packet captured\n1 packet received by filter\n0 packets dropped by kernel"));
	assert_non_null(strstr(text, "PASS "));
	free(text);
	text = NULL;
	mem = open_memstream(&text, &len);
	assert_int_equal(sim_report_dot(mem, s), 0);
	assert_int_equal(fclose(mem), 0);
	assert_non_null(strstr(text, "digraph capsim"));
	assert_non_null(strstr(text, "NETFILTER_DROP\\n5 dropped"));
	assert_non_null(strstr(text, "dev_queue_xmit_nit"));
	assert_non_null(strstr(text, "tcpdump tap cap on eth0"));
	free(text);
	sim_session_free(s);
}

static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Item 10: memory bounded by the model's queues.  Two million packets
 * through a tcpdump tap with a filter (compiled as tcpdump does, on a
 * live handle: root), run in a child so its peak RSS (VmHWM) is its own.
 */
static void test_memory_bound(void **state)
{
	char scn[1024];
	int fds[2];
	pid_t pid;
	long res[3] = { 0 };

	(void)state;
	SKIP_UNLESS_ROOT();
	snprintf(scn, sizeof(scn),
		 "scenario \"two million packets\"\n"
		 "host gen\n"
		 "  iface eth0 addr 198.18.0.1/24\n"
		 "  neigh 198.18.0.2 lladdr 02:00:00:00:02:02 dev eth0\n"
		 "host cap\n"
		 "  iface eth0 addr 198.18.0.2/24 rx-ring 4096\n"
		 "  socket sink udp bind 0.0.0.0:9\n"
		 "  tap dump dev eth0 filter \"udp and dst port 9\" tcpdump\n"
		 "wire gen.eth0 cap.eth0 rate 10G\n"
		 "at 0s gen send udp to 198.18.0.2:9 size 86 count 1000000 rate 500k/s\n"
		 "at 2s gen send udp to 198.18.0.2:9 size 86 count 1000000 rate 500k/s\n"
		 "expect tap cap.dump received 2000000\n");
	const char *path = write_scn("big.scn", scn);

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec a, b;
		struct sim_session *s;
		char err[SIM_SESSION_ERRBUF_SIZE];
		long out[3] = { -1, -1, -1 };

		close(fds[0]);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (sim_session_load(&s, path, err) == 0 && sim_session_run(s, NULL, err) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &b);
			out[0] = vm_hwm_kb();
			out[1] = (long)sim_session_failed(s);
			out[2] = (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
		} else {
			fprintf(stderr, "%s\n", err);
		}
		if (write(fds[1], out, sizeof(out)) != sizeof(out))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], res, sizeof(res)), sizeof(res));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	assert_true(res[0] > 0);
	print_message("2000000 packets: peak RSS %ld kB, %ld ms, %.0f packets/s\n", res[0], res[2],
		      res[2] ? 2000000.0 * 1000.0 / (double)res[2] : 0.0);
	assert_int_equal(res[1], 0);
	assert_true(res[0] < 100 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egress_drop_invisible),
		cmocka_unit_test(test_ingress_drop_visible),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_expect_kinds),
		cmocka_unit_test(test_unknown_counter),
		cmocka_unit_test(test_counters_read_back),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_pcap_files),
		cmocka_unit_test(test_trace_limit),
		cmocka_unit_test(test_text_and_dot),
		cmocka_unit_test(test_memory_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
