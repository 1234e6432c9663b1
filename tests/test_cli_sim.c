/*
 * test_cli_sim.c - `capsim sim` end to end, as a user types it: the
 * report explains the drops, the exit codes (0 all expectations hold,
 * 1 one fails, 2 bad command line, 3 bad scenario), --json that parses,
 * -w files libpcap opens, --dot, --trace, --print.
 */
#include "testutil.h"

#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *scn_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_usage(void **state)
{
	(void)state;
	expect("sim --help", 0, "usage: capsim sim", NULL);
	expect("sim", 2, NULL, "no scenario");
	expect("sim a.scn b.scn", 2, NULL, "one scenario at a time");
	expect("sim -c x tests/scenarios/egress-drop-session.scn", 2, NULL, "not a whole number");
	expect("sim -w /nonexistent/dir tests/scenarios/egress-drop-session.scn", 2, NULL,
	       "not a directory");
	expect("sim /nonexistent.scn", 3, NULL, "nonexistent.scn");
}

/* The flagship question: why did tcpdump not see the dropped packets? */
static void test_explains(void **state)
{
	(void)state;
	expect("sim tests/scenarios/egress-drop-session.scn", 0,
	       "5 packets dropped by NETFILTER_DROP (a netfilter rule dropped it) in nf_hook_slow "
	       "(OUTPUT).\n      Before dev_queue_xmit_nit hands packets to the taps, so no tap on a "
	       "saw them here - tcpdump cannot show a packet the kernel dropped before handing it "
	       "to the taps.",
	       NULL);
	expect("sim tests/scenarios/ingress-drop-visible.scn", 0,
	       "tcpdump on eth0 (tap b.cap) saw 10 of them although they were dropped.", NULL);
	expect("sim tests/scenarios/egress-drop-session.scn", 0,
	       "1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n", NULL);
	expect("sim tests/scenarios/egress-drop-session.scn", 0,
	       "PASS tests/scenarios/egress-drop-session.scn:32 expect drop a NETFILTER_DROP = 5 at "
	       "nf_hook_slow\n",
	       NULL);
	expect("sim -c 1 tests/scenarios/ingress-drop-visible.scn", 0, "... 9 more\n", NULL);
}

static void test_fail_and_errors(void **state)
{
	const char *p;
	char args[512];

	(void)state;
	p = scn_file("fail.scn", "host a\n"
				 "  iface eth0 addr 198.18.0.1/24\n"
				 "  tap t1 dev eth0 tcpdump\n"
				 "expect tap a.t1 captured 0\n"
				 "expect drop a NETFILTER_DROP 10\n");
	snprintf(args, sizeof(args), "sim %s", p);
	expect(args, 1, "FAIL", NULL);
	expect(args, 1, "fail.scn:4 expect tap a.t1 captured = 0\n", NULL);
	expect(args, 1, "fail.scn:5 expect drop a NETFILTER_DROP = 10: was 0\n", NULL);
	expect(args, 1, "2 expectations: 1 passed, 1 failed.", NULL);
	p = scn_file("bad.scn", "host a\n  iface eth0 coalesce 50\n");
	snprintf(args, sizeof(args), "sim %s", p);
	expect(args, 3, NULL, "bad.scn:2:");
}

static void test_json(void **state)
{
	char *out, *err, args[512], path[256];
	json_error_t jerr;
	json_t *root;

	(void)state;
	assert_int_equal(run("sim --json tests/scenarios/ring-overflow-slow-reader.scn", &out, &err), 0);
	root = json_loads(out, 0, &jerr);
	if (!root)
		fail_msg("not JSON: %s (line %d)\n%.300s", jerr.text, jerr.line, out);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(root, "taps"), 0),
							    "received")),
			 20000);
	json_decref(root);
	free(out);
	free(err);
	/* To a file, with the text on standard output; --json FILE as well. */
	snprintf(path, sizeof(path), "%s/r.json", tmpdir);
	snprintf(args, sizeof(args), "sim --json %s tests/scenarios/egress-drop-session.scn", path);
	expect(args, 0, "Where packets went", NULL);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "summary"), "passed")), 8);
	json_decref(root);
}

static void test_pcap_and_dot(void **state)
{
	char args[512], path[256], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *bytes;
	pcap_t *p;
	int n = 0;

	(void)state;
	snprintf(args, sizeof(args), "sim -w %s --dot %s/g.dot tests/scenarios/ingress-drop-visible.scn",
		 tmpdir, tmpdir);
	expect(args, 0, "10 packets captured", NULL);
	snprintf(path, sizeof(path), "%s/b.cap.pcap", tmpdir);
	p = pcap_open_offline(path, errbuf);
	if (!p)
		fail_msg("%s", errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	/* libpcap itself, as tcpdump -r would, agrees with the scenario's
	 * "saw 10" expectation. */
	struct bpf_program fp;

	assert_int_equal(pcap_compile(p, &fp, "udp dst port 161", 1, PCAP_NETMASK_UNKNOWN), 0);
	while (pcap_next_ex(p, &ph, &bytes) == 1)
		n += pcap_offline_filter(&fp, ph, bytes) != 0;
	pcap_freecode(&fp);
	pcap_close(p);
	assert_int_equal(n, 10);
	snprintf(path, sizeof(path), "%s/g.dot", tmpdir);
	FILE *f = fopen(path, "r");
	char buf[8192];
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	assert_non_null(strstr(buf, "digraph capsim"));
	assert_non_null(strstr(buf, "NETFILTER_DROP"));
	if (system("command -v dot >/dev/null 2>&1") == 0) {
		snprintf(args, sizeof(args), "sim --dot %s/g.svg tests/scenarios/ingress-drop-visible.scn",
			 tmpdir);
		expect(args, 0, NULL, NULL);
		snprintf(path, sizeof(path), "test -s %s/g.svg", tmpdir);
		assert_int_equal(system(path), 0);
	}
}

static void test_trace_and_print(void **state)
{
	char *out, *err;
	int lines = 0;

	(void)state;
	assert_int_equal(run("sim --trace --trace-limit 3 tests/scenarios/egress-drop-session.scn", &out,
			     &err),
			 0);
	for (char *p = out; p && (p = strstr(p, "  skb ")); p++)
		lines++;
	assert_int_equal(lines, 3);
	assert_non_null(strstr(out, "--trace-limit"));
	assert_non_null(strstr(out, "sendmsg"));
	free(out);
	free(err);
	expect("sim --trace tests/scenarios/egress-drop-session.scn", 0,
	       "nf_hook_slow (OUTPUT)  kfree_skb_reason(NETFILTER_DROP)", NULL);
	expect("sim --print tests/scenarios/egress-drop-session.scn", 0,
	       "rule block-dns output proto udp dport 53 drop", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_explains),
		cmocka_unit_test(test_fail_and_errors),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_pcap_and_dot),
		cmocka_unit_test(test_trace_and_print),
	};

	return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
