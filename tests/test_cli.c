/*
 * test_cli.c - the capsim program end to end, as a user types it: help on
 * every command, exit codes, messages that name the place, and verdicts
 * checked against libpcap's own bpf_filter() on the shipped traces.
 */
#include "testutil.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void test_help(void **state)
{
	(void)state;
	expect("--help", 0, "usage: capsim", NULL);
	expect("filter --help", 0, "usage: capsim filter", NULL);
	expect("filter check --help", 0, "usage: capsim filter check", NULL);
	expect("filter compile --help", 0, "usage: capsim filter compile", NULL);
	expect("filter run --help", 0, "usage: capsim filter run", NULL);
	expect("trace gen --help", 0, "usage: capsim trace gen", NULL);
	expect("bench --help", 0, "usage: capsim bench", NULL);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect("", 2, NULL, "usage");
	expect("frobnicate", 2, NULL, "no command 'frobnicate'");
	expect("filter run tcp", 2, NULL, "-r TRACE");
	expect("filter run --semantics bsd -r x tcp", 2, NULL, "'bsd'");
	expect("filter run --mac 02:00 -r x tcp", 2, NULL, "--mac");
	expect("filter compile -s 0 tcp", 2, NULL, "-s");
	expect("filter compile -y NOSUCH tcp", 2, NULL, "NOSUCH");
}

static void test_input_errors(void **state)
{
	(void)state;
	expect("filter run -r /nonexistent.pcap tcp", 3, NULL, "/nonexistent.pcap");
	expect("filter compile 'tcp port'", 3, NULL, "syntax error");
	expect("filter check -F /nonexistent.bpf", 3, NULL, "/nonexistent.bpf");
	expect("filter run --semantics libpcap -r README.md tcp", 3, NULL, "README.md");
}

static void test_check(void **state)
{
	char path[128], args[256];
	FILE *f;

	(void)state;
	expect("filter check --no-linux-ext 'tcp port 80'", 0, "ok", NULL);
	/* A division by constant zero: rejected, the instruction named. */
	snprintf(path, sizeof(path), "%s/div0.ddd", tmpdir);
	f = fopen(path, "w");
	fputs("3\n0 0 0 7\n52 0 0 0\n6 0 0 65535\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "filter check -F %s", path);
	expect(args, 1, "instruction 1", NULL);
	snprintf(args, sizeof(args), "filter check --semantics libpcap -F %s", path);
	expect(args, 1, "rejected", NULL);
}

/* libpcap semantics: every verdict equals bpf_filter() on the record,
 * computed here with libpcap's own compiler and interpreter. */
/* @via_stdin: the trace comes as "-r - < TRACE", so capsim learns its
 * link type only from the stream it reads. */
static void check_libpcap_verdicts(const char *trace, const char *expr, int via_stdin)
{
	char args[512], perr[PCAP_ERRBUF_SIZE], *out, *err, *line, *save = NULL;
	struct bpf_program fp;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	unsigned long n = 0;

	if (via_stdin)
		snprintf(args, sizeof(args),
			 "filter run --semantics libpcap --verdicts -r - '%s' < %s", expr, trace);
	else
		snprintf(args, sizeof(args), "filter run --semantics libpcap --verdicts -r %s '%s'",
			 trace, expr);
	assert_int_equal(run(args, &out, &err), 0);
	p = pcap_open_offline(trace, perr);
	assert_non_null(p);
	assert_int_equal(pcap_compile(p, &fp, expr, 1, PCAP_NETMASK_UNKNOWN), 0);
	line = strtok_r(out, "\n", &save);
	while (pcap_next_ex(p, &h, &data) == 1) {
		unsigned long idx, got;
		u_int ret = bpf_filter(fp.bf_insns, data, h->len, h->caplen);

		assert_non_null(line);
		assert_int_equal(sscanf(line, "%lu %lu", &idx, &got), 2);
		assert_int_equal(idx, n);
		assert_int_equal(got, ret < h->caplen ? ret : h->caplen);
		line = strtok_r(NULL, "\n", &save);
		n++;
	}
	assert_null(line);	/* exactly one line per record */
	assert_true(n > 100);
	pcap_freecode(&fp);
	pcap_close(p);
	free(out);
	free(err);
}

static void test_run_libpcap(void **state)
{
	static const char *const exprs[] = {
		"udp or (vlan and tcp port 80)", "ip6 and not tcp", "vlan 5 or arp",
		"tcp[13] & 2 != 0", "len > 100", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		check_libpcap_verdicts("traces/samples/mixed.pcap", exprs[i], 0);
		check_libpcap_verdicts("traces/samples/vlan.pcap", exprs[i], 0);
		check_libpcap_verdicts("traces/samples/mixed.pcapng", exprs[i], 0);
	}
}

/* A trace of another link type: the expression compiles for it, as
 * tcpdump -r compiles it (here: raw IP, made from mixed.pcap's IPv4
 * frames without their Ethernet headers). */
static void test_run_other_linktype(void **state)
{
	char perr[PCAP_ERRBUF_SIZE], path[160];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *in = pcap_open_offline("traces/samples/mixed.pcap", perr), *dead;
	pcap_dumper_t *d;
	int n = 0;

	(void)state;
	assert_non_null(in);
	snprintf(path, sizeof(path), "%s/raw.pcap", tmpdir);
	dead = pcap_open_dead(DLT_RAW, 262144);
	d = pcap_dump_open(dead, path);
	assert_non_null(d);
	while (pcap_next_ex(in, &h, &data) == 1) {
		struct pcap_pkthdr rh = *h;

		if (h->caplen < 34 || data[12] != 0x08 || data[13] != 0x00)
			continue;
		rh.caplen -= 14;
		rh.len -= 14;
		pcap_dump((u_char *)d, &rh, data + 14);
		n++;
	}
	pcap_dump_close(d);
	pcap_close(dead);
	pcap_close(in);
	assert_true(n > 50);
	check_libpcap_verdicts(path, "ip and udp", 0);
	check_libpcap_verdicts(path, "ip[9] = 6", 0);
	check_libpcap_verdicts(path, "ip and udp", 1);
}

/* linux semantics: one line per record; exactly the frames shorter than an
 * Ethernet header are dropped before the taps. */
static void test_run_linux_dropped(void **state)
{
	char perr[PCAP_ERRBUF_SIZE], *out, *err, *line, *save = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;

	(void)state;
	assert_int_equal(run("filter run --no-linux-ext --verdicts -r traces/samples/mixed.pcap ''",
			     &out, &err), 0);
	p = pcap_open_offline("traces/samples/mixed.pcap", perr);
	line = strtok_r(out, "\n", &save);
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_non_null(line);
		if (h->caplen < 14)
			assert_non_null(strstr(line, "dropped"));
		else
			assert_null(strstr(line, "dropped"));
		line = strtok_r(NULL, "\n", &save);
	}
	assert_null(line);
	pcap_close(p);
	free(out);
	free(err);
}

/* Read every record of a pcap file into parallel arrays (caller frees). */
struct recs {
	int n;
	struct pcap_pkthdr h[1024];
	u_char *d[1024];
};

static void read_recs(const char *path, struct recs *r)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, perr);

	if (!p)
		fail_msg("%s", perr);
	r->n = 0;
	while (r->n < 1024 && pcap_next_ex(p, &h, &data) == 1) {
		r->h[r->n] = *h;
		r->d[r->n] = malloc(h->caplen ? h->caplen : 1);
		memcpy(r->d[r->n], data, h->caplen);
		r->n++;
	}
	pcap_close(p);
}

static void free_recs(struct recs *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->d[i]);
}

/* -w in libpcap semantics saves exactly what `tcpdump -r -w` saves. */
static void test_write_libpcap(void **state)
{
	static struct recs ours, theirs;
	char args[512], cmd[512];

	(void)state;
	snprintf(args, sizeof(args),
		 "filter run --semantics libpcap --count -w %s/ours.pcap -r traces/samples/vlan.pcap "
		 "'udp or vlan 100 or (ip6 and tcp)'", tmpdir);
	expect(args, 0, "records", NULL);
	snprintf(cmd, sizeof(cmd),
		 "tcpdump -q -r traces/samples/vlan.pcap -w %s/theirs.pcap "
		 "'udp or vlan 100 or (ip6 and tcp)' 2>/dev/null", tmpdir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/ours.pcap", tmpdir);
	read_recs(cmd, &ours);
	snprintf(cmd, sizeof(cmd), "%s/theirs.pcap", tmpdir);
	read_recs(cmd, &theirs);
	assert_true(theirs.n > 10);
	assert_int_equal(ours.n, theirs.n);
	/* Wireshark's reader opens it and counts the same records. */
	snprintf(cmd, sizeof(cmd), "tshark -r %s/ours.pcap 2>/dev/null | wc -l | grep -qx %d", tmpdir,
		 ours.n);
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < ours.n; i++) {
		assert_int_equal(ours.h[i].caplen, theirs.h[i].caplen);
		assert_int_equal(ours.h[i].len, theirs.h[i].len);
		assert_int_equal(ours.h[i].ts.tv_sec, theirs.h[i].ts.tv_sec);
		assert_int_equal(ours.h[i].ts.tv_usec, theirs.h[i].ts.tv_usec);
		assert_memory_equal(ours.d[i], theirs.d[i], ours.h[i].caplen);
	}
	free_recs(&ours);
	free_recs(&theirs);
}

/* -w in linux semantics: each saved record is the verdict's bytes with the
 * VLAN tag put back, so it is a prefix of the frame on the wire, with the
 * frame's length; tagged frames grow by the 4 tag bytes. */
static void test_write_linux(void **state)
{
	static struct recs in, out;
	char args[512], path[160], *vout, *verr, *line, *save = NULL;
	int j = 0;

	(void)state;
	snprintf(args, sizeof(args),
		 "filter run --no-linux-ext -F tests/cli/snap40.ddd --verdicts -w %s/lin.pcap "
		 "-r traces/samples/vlan.pcap", tmpdir);
	assert_int_equal(run(args, &vout, &verr), 0);
	read_recs("traces/samples/vlan.pcap", &in);
	snprintf(path, sizeof(path), "%s/lin.pcap", tmpdir);
	read_recs(path, &out);
	for (line = strtok_r(vout, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long idx, snap;

		if (sscanf(line, "%lu %lu", &idx, &snap) != 2 || snap == 0)
			continue;
		const struct pcap_pkthdr *ih = &in.h[idx], *oh = &out.h[j];
		int tagged = ih->caplen >= 14 && in.d[idx][12] == 0x81 && in.d[idx][13] == 0x00;
		int qinq = ih->caplen >= 14 && in.d[idx][12] == 0x88 && in.d[idx][13] == 0xa8;

		assert_true(j < out.n);
		assert_int_equal(oh->len, ih->caplen);
		assert_int_equal(oh->caplen, snap + ((tagged || qinq) && snap >= 12 ? 4 : 0));
		assert_memory_equal(out.d[j], in.d[idx], oh->caplen);
		j++;
	}
	assert_int_equal(j, out.n);
	assert_true(j > 50);
	free_recs(&in);
	free_recs(&out);
	free(vout);
	free(verr);
}

static void test_trace_gen(void **state)
{
	char args[256], cmd[1024];

	(void)state;
	snprintf(args, sizeof(args), "trace gen -n 300 --seed 4 -w %s/a.pcap", tmpdir);
	expect(args, 0, NULL, NULL);
	snprintf(args, sizeof(args), "trace gen -n 300 --seed 4 -w %s/b.pcap", tmpdir);
	expect(args, 0, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "cmp -s %s/a.pcap %s/b.pcap", tmpdir, tmpdir);
	assert_int_equal(system(cmd), 0);
	expect("trace gen -n 3 -w /nonexistent/x.pcap", 3, NULL, "/nonexistent/x.pcap");
	/* "-w -" is standard output, never a file named "-". */
	snprintf(cmd, sizeof(cmd),
		 "%s trace gen -n 300 --seed 4 -w - > %s/c.pcap && cmp -s %s/a.pcap %s/c.pcap && "
		 "test ! -e ./-", capsim, tmpdir, tmpdir, tmpdir);
	assert_int_equal(system(cmd), 0);
	/* filter run: the pcap on stdout, the summary on stderr */
	snprintf(args, sizeof(args), "filter run --count -r %s/a.pcap -w %s/e.pcap udp", tmpdir,
		 tmpdir);
	expect(args, 0, " accepted", NULL);
	snprintf(cmd, sizeof(cmd),
		 "%s filter run --count -r %s/a.pcap -w - udp 2>%s/d.err > %s/d.pcap && "
		 "cmp -s %s/d.pcap %s/e.pcap && grep -q ' accepted' %s/d.err",
		 capsim, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
	assert_int_equal(system(cmd), 0);
	expect("filter run -r traces/samples/mixed.pcap -w - udp", 2, NULL, "add --count");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),        cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_input_errors), cmocka_unit_test(test_check),
		cmocka_unit_test(test_run_libpcap), cmocka_unit_test(test_run_linux_dropped),
		cmocka_unit_test(test_run_other_linktype),
		cmocka_unit_test(test_trace_gen), cmocka_unit_test(test_write_libpcap),
		cmocka_unit_test(test_write_linux),
	};

	return cmocka_run_group_tests_name("cli", tests, cli_setup, cli_teardown);
}
