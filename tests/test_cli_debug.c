/*
 * test_cli_debug.c - `capsim filter step` and `filter diff` end to end:
 * the exact listing of small programs, the receive-view header, --json
 * against `filter run`'s verdicts, diff's record list against two `filter
 * run --verdicts` runs, and the optimizer against itself on the shipped
 * traces.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *const traces[] = {
	"traces/samples/mixed.pcap",
	"traces/samples/vlan.pcap",
	"traces/samples/mixed.pcapng",
};

/* The output must hold each of @lines as a whole line, in this order. */
static void expect_lines(const char *args, const char *const *lines, size_t n)
{
	char *out, *err, *text, *at;
	int rc = run(args, &out, &err);

	if (rc != 0)
		fail_msg("capsim %s: exit %d\n%s", args, rc, err);
	/* A newline in front, so the first line is found like the others. */
	text = malloc(strlen(out) + 2);
	assert_non_null(text);
	text[0] = '\n';
	strcpy(text + 1, out);
	at = text;
	for (size_t i = 0; i < n; i++) {
		char want[512];
		char *hit;

		snprintf(want, sizeof(want), "\n%s\n", lines[i]);
		hit = strstr(at, want);
		if (!hit)
			fail_msg("capsim %s\nline %zu not found (in order):\n'%s'\nin:\n%s", args, i,
				 lines[i], out);
		at = hit + strlen(want) - 1;
	}
	free(text);
	free(out);
	free(err);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_help_and_usage(void **state)
{
	(void)state;
	expect("filter step --help", 0, "usage: capsim filter step", NULL);
	expect("filter diff --help", 0, "usage: capsim filter diff", NULL);
	expect("filter --help", 0, "step", NULL);
	expect("filter step -r traces/samples/mixed.pcap ip", 2, NULL, "-p INDEX");
	expect("filter step -p 1 ip", 2, NULL, "-r TRACE");
	expect("filter step -r traces/samples/mixed.pcap -p 100000 --no-linux-ext ip", 3, NULL,
	       "has 400 records: there is no record 100000");
	expect("filter diff -r traces/samples/mixed.pcap ip", 2, NULL, "two programs");
	expect("filter diff -F x -r traces/samples/mixed.pcap ip tcp", 2, NULL, "not -F");
	expect("filter diff ip tcp", 2, NULL, "-r TRACE");
	expect("filter diff --opt-vs-noopt -r traces/samples/mixed.pcap", 2, NULL, "EXPRESSION");
	expect("filter diff --opt-vs-noopt -O0 -r traces/samples/mixed.pcap ip", 2, NULL, "itself");
	expect("filter diff --semantics libpcap -r traces/samples/mixed.pcap 'tcp port' ip", 3, NULL,
	       "program A");
}

/* Exact lines for small programs (libpcap semantics: no root needed). */
static void test_step_exact(void **state)
{
	static const char *const small[] = {
		"record 3 of traces/samples/mixed.pcap: 96 bytes captured of 96 on the wire",
		"semantics: libpcap, bpf_filter() on the record as read from the file: loads count "
		"from its first byte and fail past its 96 captured bytes; len is 96",
		"  pc  instruction           A            X            effect",
		"   0  ldh [12]              A=0x800      X=0x0        read [12..13] = 08 00",
		"   1  jeq #0x800 jt 2 jf 3  A=0x800      X=0x0        0x800 == 0x800 -> true, to 2",
		"   2  ret #96               A=0x800      X=0x0        returns 96",
		"accepted, 96 bytes captured",
	};
	static const char *const oob[] = {
		"   0  ld [94]      A=0x0        X=0x0        load [94] at 94..97 is past the end "
		"(96 bytes): the program ends, returning 0",
		"rejected",
	};
	static const char *const div0[] = {
		"   0  ldx #0x0     A=0x0        X=0x0",
		"   1  ld #0x1      A=0x1        X=0x0",
		"   2  div x        A=0x1        X=0x0        division by X = 0: returns 0 (kernel)",
		"rejected",
	};
	static const char *const msh[] = {
		"   0  ldxb 4*([14]&0xf)  A=0x0        X=0x14       read [14] = 45: X = 4*(0x45 & 0xf) = 20",
		"   1  ldh [x + 16]       A=0x400      X=0x14       read [36..37] = 04 00",
		"   2  st M[3]            A=0x400      X=0x14       M[3] = 0x400",
		"   3  ret                A=0x400      X=0x14       returns 1024",
		"accepted, 96 bytes captured",
	};
	char args[512];

	(void)state;
	write_file("small.ddd", "4\n40 0 0 12\n21 0 1 2048\n6 0 0 96\n6 0 0 0\n");
	write_file("oob.ddd", "3\n32 0 0 94\n6 0 0 1\n6 0 0 2\n");
	write_file("div0.ddd", "4\n1 0 0 0\n0 0 0 1\n60 0 0 0\n22 0 0 0\n");
	write_file("msh.ddd", "4\n177 0 0 14\n72 0 0 16\n2 0 0 3\n22 0 0 0\n");
	snprintf(args, sizeof(args), "filter step --semantics libpcap -F %s/small.ddd "
		 "-r traces/samples/mixed.pcap -p 3", tmpdir);
	expect_lines(args, small, sizeof(small) / sizeof(small[0]));
	snprintf(args, sizeof(args), "filter step --semantics libpcap -F %s/oob.ddd "
		 "-r traces/samples/mixed.pcap -p 3", tmpdir);
	expect_lines(args, oob, sizeof(oob) / sizeof(oob[0]));
	snprintf(args, sizeof(args), "filter step -F %s/div0.ddd -r traces/samples/mixed.pcap -p 3",
		 tmpdir);
	expect_lines(args, div0, sizeof(div0) / sizeof(div0[0]));
	snprintf(args, sizeof(args), "filter step --semantics libpcap -F %s/msh.ddd "
		 "-r traces/samples/mixed.pcap -p 3", tmpdir);
	expect_lines(args, msh, sizeof(msh) / sizeof(msh[0]));
}

/* The receive view: the tag moved, the frame dropped, SOCK_DGRAM. */
static void test_step_view(void **state)
{
	(void)state;
	expect("filter step --no-linux-ext -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "skb_vlan_untag() moved the VLAN tag into metadata (TCI 0xf86c: VID 2156, PCP 7; "
	       "TPID 0x8100)", NULL);
	expect("filter step --no-linux-ext -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "0x800 == 0x8100 -> false", NULL);
	expect("filter step --no-linux-ext -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "\nrejected\n", NULL);
	expect("filter step --semantics libpcap -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "\naccepted, 64 bytes captured\n", NULL);
	expect("filter step -r traces/samples/mixed.pcap -p 4 ip", 0,
	       "dropped before the taps: PKT_TOO_SMALL in dev_validate_header()", NULL);
	expect("filter step --sock dgram --no-linux-ext -r traces/samples/mixed.pcap -p 3 ip", 0,
	       "read [26..27] = 7f 39", NULL);
	expect("filter step --sock dgram --no-linux-ext -r traces/samples/mixed.pcap -p 3 ip", 0,
	       "skb->data is at byte 14", NULL);
}

static void test_step_linux_ext(void **state)
{
	(void)state;
	SKIP_UNLESS_ROOT();
	expect("filter step -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "skb_vlan_tag_present(skb) = 1", NULL);
	expect("filter step -r traces/samples/vlan.pcap -p 0 'vlan and ip'", 0,
	       "\naccepted, 60 bytes captured\n", NULL);
}

/* --json parses, and its verdict is `filter run`'s for every record of a
 * stretch of each trace, in both semantics. */
static void test_step_json(void **state)
{
	static const char expr[] = "'tcp port 80 or udp or (ip and len > 100)'";
	static const char *const sems[] = { "libpcap", "linux" };

	(void)state;
	for (size_t t = 0; t < sizeof(traces) / sizeof(traces[0]); t++) {
		for (int s = 0; s < 2; s++) {
			char args[512], *verdicts, *err, *line;
			unsigned checked = 0;

			snprintf(args, sizeof(args), "filter run --no-linux-ext --semantics %s --verdicts "
				 "-r %s %s", sems[s], traces[t], expr);
			assert_int_equal(run(args, &verdicts, &err), 0);
			free(err);
			for (line = verdicts; *line && checked < 24; line = strchr(line, '\n') + 1) {
				unsigned long long index;
				char v[32], *out;
				json_t *root;
				json_error_t jerr;

				assert_int_equal(sscanf(line, "%llu %31s", &index, v), 2);
				if (index % 7 != 3)	/* a spread of records */
					continue;
				snprintf(args, sizeof(args), "filter step --json --no-linux-ext "
					 "--semantics %s -r %s -p %llu %s", sems[s], traces[t], index, expr);
				assert_int_equal(run(args, &out, &err), 0);
				root = json_loads(out, 0, &jerr);
				if (!root)
					fail_msg("%s: not JSON: %s\n%s", args, jerr.text, out);
				if (strcmp(v, "dropped") == 0) {
					assert_string_equal(json_string_value(json_object_get(root, "verdict")),
							    "dropped");
				} else {
					json_t *steps = json_object_get(root, "steps");
					size_t n = json_array_size(steps);

					assert_true(n > 0);
					assert_int_equal(json_integer_value(json_object_get(root, "captured")),
							 strtoul(v, NULL, 10));
					assert_true(json_is_true(json_object_get(json_array_get(steps, n - 1),
										 "done")));
					assert_int_equal(json_integer_value(json_object_get(
								 json_array_get(steps, 0), "pc")), 0);
				}
				json_decref(root);
				free(out);
				free(err);
				checked++;
			}
			assert_true(checked >= 20);
			free(verdicts);
		}
	}
}

/* The set of records on which two `filter run --verdicts` outputs differ,
 * as "17 57 104 " . */
static void differing_records(const char *a, const char *b, char *set, size_t size)
{
	size_t n = 0;

	set[0] = '\0';
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');

		assert_non_null(ea);
		assert_non_null(eb);
		if (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0)
			n += (size_t)snprintf(set + n, size - n, "%llu ", strtoull(a, NULL, 10));
		a = ea + 1;
		b = eb + 1;
	}
	assert_true(!*a && !*b);
}

static void test_diff_records(void **state)
{
	static const char *const pairs[][2] = {
		{ "tcp port 80", "tcp dst port 80" },
		{ "ip", "ip or arp" },
		{ "udp", "udp and greater 90" },
	};
	static const char *const sems[] = { "libpcap", "linux" };
	char args[512], want[8192], got[8192];

	(void)state;
	for (size_t t = 0; t < sizeof(traces) / sizeof(traces[0]); t++)
		for (int s = 0; s < 2; s++)
			for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
				char *va, *vb, *out, *err;
				size_t n = 0;
				int rc;

				for (int k = 0; k < 2; k++) {
					snprintf(args, sizeof(args), "filter run --no-linux-ext --semantics %s "
						 "--verdicts -r %s '%s'", sems[s], traces[t], pairs[p][k]);
					assert_int_equal(run(args, k ? &vb : &va, &err), 0);
					free(err);
				}
				differing_records(va, vb, want, sizeof(want));
				snprintf(args, sizeof(args), "filter diff --no-linux-ext --semantics %s "
					 "-r %s '%s' '%s'", sems[s], traces[t], pairs[p][0], pairs[p][1]);
				rc = run(args, &out, &err);
				got[0] = '\0';
				for (char *l = strstr(out, "\nrecord "); l; l = strstr(l + 1, "\nrecord "))
					n += (size_t)snprintf(got + n, sizeof(got) - n, "%llu ",
							      strtoull(l + 8, NULL, 10));
				if (strcmp(got, want) != 0 || rc != (want[0] ? 1 : 0))
					fail_msg("%s: exit %d, records '%s'; filter run says '%s'\n%.2000s",
						 args, rc, got, want, out);
				free(va);
				free(vb);
				free(out);
				free(err);
			}
	/* The known first divergence of the first pair on record 57. */
	expect("filter diff --semantics libpcap -r traces/samples/mixed.pcap 'tcp port 80' "
	       "'tcp dst port 80'", 1,
	       "after 4 reads alike, A read [34:2] = 00 50 at pc 14 (ldh [x + 14]) where B read "
	       "[36:2] = 00 19 at pc 12 (ldh [x + 16])", NULL);
	expect("filter diff --semantics libpcap -r traces/samples/mixed.pcap 'tcp port 80' "
	       "'tcp dst port 80'", 1, "400 records: ", NULL);
}

static void test_diff_same_and_files(void **state)
{
	char args[512];

	(void)state;
	expect("filter diff --semantics libpcap -r traces/samples/mixed.pcap 'tcp port 80' "
	       "'tcp port 80'", 0, "400 records: 0 differ, 400 agree", NULL);
	write_file("small.ddd", "4\n40 0 0 12\n21 0 1 2048\n6 0 0 96\n6 0 0 0\n");
	write_file("ip.ddd", "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n");
	/* The same program as a file and as an expression: agree. */
	snprintf(args, sizeof(args), "filter diff --semantics libpcap -r traces/samples/mixed.pcap "
		 "%s/ip.ddd ip", tmpdir);
	expect(args, 0, " 0 differ", NULL);
	/* ret #96 against ret #262144: same reads, different bytes captured. */
	snprintf(args, sizeof(args), "filter diff --semantics libpcap -r traces/samples/mixed.pcap "
		 "@%s/small.ddd @%s/ip.ddd", tmpdir, tmpdir);
	expect(args, 1, "both made the same 1 read, then A returned 96 at pc 2 (ret #96) and B "
	       "returned 262144 at pc 2 (ret #262144)", NULL);
}

static const char *const exprs[] = {
	"vlan", "vlan and ip", "vlan 100 and tcp", "portrange 1000-2000",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ether[len - 4:4] != 0",
	"ip6 protochain 6", "ip and udp port 53", "icmp or icmp6", "ip[6:2] & 0x1fff != 0",
	"not (tcp port 80 or tcp port 443)", "greater 100 and less 500",
};

/* libpcap's optimizer against itself: no difference on any shipped trace. */
static void opt_vs_noopt(const char *how)
{
	char args[512];

	for (size_t t = 0; t < sizeof(traces) / sizeof(traces[0]); t++)
		for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
			/* The kernel takes no backward jumps: protochain is for libpcap. */
			if (strstr(how, "linux") && strstr(exprs[e], "protochain"))
				continue;
			snprintf(args, sizeof(args), "filter diff -q %s -r %s --opt-vs-noopt '%s'", how,
				 traces[t], exprs[e]);
			expect(args, 0, " 0 differ", NULL);
		}
}

static void test_opt_vs_noopt(void **state)
{
	(void)state;
	opt_vs_noopt("--semantics libpcap");
	opt_vs_noopt("--semantics linux --no-linux-ext");
}

static void test_opt_vs_noopt_linux_ext(void **state)
{
	(void)state;
	SKIP_UNLESS_ROOT();
	opt_vs_noopt("--semantics linux");
	opt_vs_noopt("--semantics linux --sock dgram");
}

/* A live capture against the saved file: 'vlan and ip' keeps the same
 * frames (libpcap's Linux extensions at work); a plain 'ip' does not. */
static void test_linux_ext_vs_offline(void **state)
{
	(void)state;
	SKIP_UNLESS_ROOT();
	expect("filter diff -q -r traces/samples/vlan.pcap --linux-ext-vs-offline 'vlan and ip'", 0,
	       "200 records: 0 differ, 200 agree", NULL);
	expect("filter diff -r traces/samples/vlan.pcap --linux-ext-vs-offline ip", 1,
	       "both made the same 1 read (at [12:2] A saw 08 00 where B saw 81 00)", NULL);
	expect("filter diff -r traces/samples/vlan.pcap --semantics linux --linux-ext-vs-offline "
	       "'vlan and ip'", 1,
	       "A read skb_vlan_tag_present(skb) = 0x1 at pc 2 (ldb [vlanp]) where B read [12:2] = "
	       "08 00 at pc 0 (ldh [12])", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_usage),
		cmocka_unit_test(test_step_exact),
		cmocka_unit_test(test_step_view),
		cmocka_unit_test(test_step_linux_ext),
		cmocka_unit_test(test_step_json),
		cmocka_unit_test(test_diff_records),
		cmocka_unit_test(test_diff_same_and_files),
		cmocka_unit_test(test_opt_vs_noopt),
		cmocka_unit_test(test_opt_vs_noopt_linux_ext),
		cmocka_unit_test(test_linux_ext_vs_offline),
	};

	return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
