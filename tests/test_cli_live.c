/*
 * test_cli_live.c - `capsim live filter` end to end against the running
 * kernel, and the comparison it is built on (live/compare.c).
 *
 * The command must agree with the kernel on every shipped trace for a set
 * of expressions and programs, with SOCK_RAW and SOCK_DGRAM taps, also
 * when two run at once; its JSON must hold the same counts as the trace
 * holds records.  That it can say "no" is checked on the library function
 * it prints from: a model verdict corrupted one aspect at a time must be
 * reported as exactly that aspect.  A run killed with SIGKILL mid-trace
 * must leave nothing behind: no cs0/cs1 in our namespace, /run/netns as it
 * was, and no process or descriptor holding its namespace.
 *
 * Everything that opens a namespace needs root (SKIP_UNLESS_ROOT).  The
 * binary comes from $CAPSIM (tests/run.sh sets it), else ./capsim.
 */
#include "live.h"
#include "sim.h"
#include "testutil.h"
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static const char *const traces[] = {
	"traces/samples/mixed.pcap",
	"traces/samples/mixed.pcapng",
	"traces/samples/vlan.pcap",
};
#define NTRACES (sizeof(traces) / sizeof(traces[0]))

static void write_file(const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static uint64_t count_records(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, err);
	uint64_t n = 0;

	assert_non_null(p);
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	return n;
}

/* ------------------------------------------------------------------ */
/* No root needed. */

static void test_help_and_usage(void **state)
{
	(void)state;
	expect("live --help", 0, "usage: capsim live", NULL);
	expect("live filter --help", 0, "usage: capsim live filter", NULL);
	expect("live filter --help", 0, "rxhash", NULL);
	expect("live", 2, NULL, "usage: capsim live");
	expect("live frobnicate", 2, NULL, "no subcommand 'frobnicate'");
	expect("live filter tcp", 2, NULL, "-r TRACE");
	expect("live filter --sock seqpacket -r x tcp", 2, NULL, "--sock");
	expect("live filter --mac 02:00 -r x tcp", 2, NULL, "--mac");
	expect("live filter --mac 01:00:5e:00:00:01 -r x tcp", 2, NULL, "group address");
	expect("live filter -c 0 -r x tcp", 2, NULL, "-c");
	expect("live filter --max-mismatches lots -r x tcp", 2, NULL, "--max-mismatches");
	expect("live filter -r traces/samples/mixed.pcap", 2, NULL, "no filter");
}

static void test_unreproducible_detection(void **state)
{
	struct bpfvm_insn rx[] = { { BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_RXHASH },
				   { BPF_RET | BPF_A, 0, 0, 0 } };
	struct bpfvm_insn cpu[] = { { BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_CPU },
				    { BPF_RET | BPF_A, 0, 0, 0 } };
	struct bpfvm_insn rnd[] = { { BPF_LDX | BPF_IMM, 0, 0, 1 },
				    { BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_RANDOM },
				    { BPF_RET | BPF_A, 0, 0, 0 } };
	struct bpfvm_insn ok[] = { { BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE },
				   { BPF_LD | BPF_W | BPF_IND, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_RXHASH },
				   { BPF_RET | BPF_A, 0, 0, 0 } };
	struct bpfvm_prog p;

	(void)state;
	p = (struct bpfvm_prog){ rx, 2 };
	assert_int_equal(live_prog_unreproducible(&p), SKF_AD_RXHASH);
	p = (struct bpfvm_prog){ cpu, 2 };
	assert_int_equal(live_prog_unreproducible(&p), SKF_AD_CPU);
	p = (struct bpfvm_prog){ rnd, 3 };
	assert_int_equal(live_prog_unreproducible(&p), SKF_AD_RANDOM);
	/* pkttype is reproducible; an indirect load is never ancillary. */
	p = (struct bpfvm_prog){ ok, 3 };
	assert_int_equal(live_prog_unreproducible(&p), -1);
}

/* ------------------------------------------------------------------ */
/* The command against the kernel. */

static const char pkttype_prog[] = /* broadcast and multicast frames, cut to 64 bytes */
	"ld #type\n"
	"jeq #1, keep\n"
	"jeq #2, keep\n"
	"ret #0\n"
	"keep: ret #64\n";
static const char proto_prog[] = /* skb->protocol, VLAN metadata and the length */
	"ld #proto\n"
	"jeq #0x800, ip\n"
	"ld #vlan_avail\n"
	"jeq #1, tagged\n"
	"ret #0\n"
	"ip: ld #len\n"
	"rsh #1\n"
	"ret a\n"
	"tagged: ld #vlan_tci\n"
	"and #0xfff\n"
	"add #14\n"
	"ret a\n";

static void agree(const char *args)
{
	expect(args, 0, "the kernel and the model agree on every frame", NULL);
}

static void test_every_trace_raw(void **state)
{
	static const char *const exprs[] = {
		"''", "vlan", "'vlan and ip'", "udp", "'ether broadcast'", "'tcp port 80'",
		"'vlan 100 or ip6'", "'ip[6:2] & 0x1fff != 0'", "'greater 200'",
	};
	char args[512], pt[128], pr[128];

	(void)state;
	SKIP_UNLESS_ROOT();
	write_file("pkttype.asm", pkttype_prog, pt, sizeof(pt));
	write_file("proto.asm", proto_prog, pr, sizeof(pr));
	for (size_t t = 0; t < NTRACES; t++) {
		for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
			snprintf(args, sizeof(args), "live filter -r %s %s", traces[t], exprs[e]);
			agree(args);
		}
		snprintf(args, sizeof(args), "live filter -F %s -r %s", pt, traces[t]);
		agree(args);
		snprintf(args, sizeof(args), "live filter -F %s -r %s", pr, traces[t]);
		agree(args);
		/* Another receiving address: pkt_type changes on both sides. */
		snprintf(args, sizeof(args), "live filter --mac 02:00:00:00:00:07 -F %s -r %s", pt,
			 traces[t]);
		agree(args);
	}
}

static void test_every_trace_dgram(void **state)
{
	char args[512], pt[128], pr[128];

	(void)state;
	SKIP_UNLESS_ROOT();
	write_file("pkttype.asm", pkttype_prog, pt, sizeof(pt));
	write_file("proto.asm", proto_prog, pr, sizeof(pr));
	for (size_t t = 0; t < NTRACES; t++) {
		snprintf(args, sizeof(args), "live filter --sock dgram -r %s ''", traces[t]);
		agree(args);
		snprintf(args, sizeof(args), "live filter --sock dgram -r %s 'vlan and ip'", traces[t]);
		agree(args);
		snprintf(args, sizeof(args), "live filter --sock dgram -F %s -r %s", pt, traces[t]);
		agree(args);
		snprintf(args, sizeof(args), "live filter --sock dgram -F %s -r %s", pr, traces[t]);
		agree(args);
	}
}

/* The JSON report: one object whose counts add up to the trace. */
static void test_json(void **state)
{
	char args[256], *out, *err;
	json_error_t jerr;

	(void)state;
	SKIP_UNLESS_ROOT();
	for (size_t t = 0; t < NTRACES; t++) {
		json_t *root, *asp, *v;
		const char *key;
		uint64_t n = count_records(traces[t]);

		snprintf(args, sizeof(args), "live filter --json -r %s 'vlan or udp'", traces[t]);
		assert_int_equal(run(args, &out, &err), 0);
		root = json_loads(out, 0, &jerr);
		if (!root)
			fail_msg("not JSON (%s): %.400s", jerr.text, out);
		assert_int_equal(json_integer_value(json_object_get(root, "frames")), n);
		assert_int_equal(json_integer_value(json_object_get(root, "sent")) +
				     json_integer_value(json_object_get(
					 json_object_get(root, "not_sendable"), "total")),
				 n);
		assert_int_equal(json_integer_value(json_object_get(root, "mismatched_frames")), 0);
		assert_int_equal(json_array_size(json_object_get(root, "mismatches")), 0);
		assert_true(json_is_null(json_object_get(root, "unreproducible")));
		asp = json_object_get(root, "aspects");
		assert_int_equal(json_object_size(asp), LIVE_ASPECT_COUNT);
		json_object_foreach(asp, key, v)
		{
			assert_true(json_integer_value(json_object_get(v, "compared")) > 0);
			assert_int_equal(json_integer_value(json_object_get(v, "agree")),
					 json_integer_value(json_object_get(v, "compared")));
		}
		json_decref(root);
		free(out);
		free(err);
	}
}

/* -c, and the text totals against the trace. */
static void test_counts(void **state)
{
	char args[256], *out, *err;
	unsigned long frames, sent, unsent;

	(void)state;
	SKIP_UNLESS_ROOT();
	assert_int_equal(run("live filter -c 50 -r traces/samples/mixed.pcap tcp", &out, &err), 0);
	assert_int_equal(sscanf(out, "%lu frames: %lu sent, %lu not sendable", &frames, &sent,
				&unsent),
			 3);
	assert_int_equal(frames, 50);
	assert_int_equal(sent + unsent, 50);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "live filter -r %s ''", traces[0]);
	assert_int_equal(run(args, &out, &err), 0);
	assert_int_equal(sscanf(out, "%lu frames: %lu sent, %lu not sendable", &frames, &sent,
				&unsent),
			 3);
	assert_int_equal(frames, count_records(traces[0]));
	/* The runts shorter than an Ethernet header: packet_snd() says EINVAL. */
	assert_true(unsent > 0);
	assert_non_null(strstr(out, "EINVAL"));
	assert_non_null(strstr(out, "0 ring drops"));
	free(out);
	free(err);
}

static void test_unreproducible_warns(void **state)
{
	char path[128], args[256];

	(void)state;
	SKIP_UNLESS_ROOT();
	write_file("rxhash.asm", "ld #rxhash\nand #1\nret a\n", path, sizeof(path));
	snprintf(args, sizeof(args), "live filter -F %s -r traces/samples/vlan.pcap", path);
	expect(args, 0, "delivered: not compared (the program reads rxhash)", "WARNING");
	expect(args, 0, "pkt_type: ", "not make reproducible");
}

static void test_bad_inputs(void **state)
{
	char path[128], args[256];
	pcap_t *p;
	pcap_dumper_t *d;
	struct pcap_pkthdr h = { .caplen = 20, .len = 20 };
	uint8_t pkt[20] = { 0x45 };

	(void)state;
	SKIP_UNLESS_ROOT();
	expect("live filter -r /nonexistent.pcap tcp", 3, NULL, "/nonexistent.pcap");
	expect("live filter -r README.md tcp", 3, NULL, "README.md");
	/* Not Ethernet: nothing the veth pair could carry. */
	snprintf(path, sizeof(path), "%s/raw.pcap", tmpdir);
	p = pcap_open_dead(DLT_RAW, 65535);
	d = pcap_dump_open(p, path);
	assert_non_null(d);
	pcap_dump((u_char *)d, &h, pkt);
	pcap_dump_close(d);
	pcap_close(p);
	snprintf(args, sizeof(args), "live filter -r %s ''", path);
	expect(args, 3, NULL, "link type");
	/* Both verifiers refuse a division by constant zero: they agree, and
	 * the input is bad. */
	write_file("div0.ddd", "3\n0 0 0 7\n52 0 0 0\n6 0 0 65535\n", path, sizeof(path));
	snprintf(args, sizeof(args), "live filter -F %s -r traces/samples/mixed.pcap", path);
	expect(args, 3, NULL, "both refuse");
}

/* Records packet_snd() refuses are counted by errno, never mismatches:
 * shorter than an Ethernet header (EINVAL), longer than MTU + header,
 * + 4 only for 802.1Q (EMSGSIZE). */
static void test_not_sendable(void **state)
{
	static const uint32_t lens[] = { 0, 5, 13, 14, 60, 1514, 1515, 1518, 1519, 2000, 9000 };
	char path[128], args[256], *out, *err;
	static uint8_t frame[9000];
	pcap_dumper_t *d;
	pcap_t *p;

	(void)state;
	SKIP_UNLESS_ROOT();
	snprintf(path, sizeof(path), "%s/sizes.pcap", tmpdir);
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = pcap_dump_open(p, path);
	assert_non_null(d);
	memcpy(frame, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	for (int tagged = 0; tagged < 2; tagged++)
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			struct pcap_pkthdr h = { .caplen = lens[i], .len = lens[i] };

			frame[12] = tagged ? 0x81 : 0x08;
			frame[13] = 0x00;
			frame[16] = 0x08;
			pcap_dump((u_char *)d, &h, frame);
		}
	pcap_dump_close(d);
	pcap_close(p);
	snprintf(args, sizeof(args), "live filter -r %s ''", path);
	assert_int_equal(run(args, &out, &err), 0);
	/* 0, 5, 13 twice: EINVAL; 1515 and up untagged (5), 1519 and up
	 * tagged (3): EMSGSIZE (packet_extra_vlan_len_allowed()). */
	if (!strstr(out, "22 frames: 8 sent, 14 not sendable (EINVAL 6, EMSGSIZE 8;"))
		fail_msg("unexpected totals:\n%s%s", out, err);
	free(out);
	free(err);
}

/* Without privileges: exit 4, for a program file and for an expression
 * (compiling with Linux extensions needs a namespace too). */
static void test_unprivileged(void **state)
{
	char prog[128], trace[128], cmd[1024];
	const char *what[2];

	(void)state;
	SKIP_UNLESS_ROOT();
	if (access("/usr/bin/setpriv", X_OK) != 0) {
		print_message("no /usr/bin/setpriv (util-linux) to drop root with: skipped\n");
		skip();
	}
	/* Everything the unprivileged run reads must be readable to it. */
	assert_int_equal(chmod(tmpdir, 0755), 0);
	write_file("pkttype.asm", pkttype_prog, prog, sizeof(prog));
	snprintf(trace, sizeof(trace), "%s/copy.pcap", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp traces/samples/mixed.pcap %s && chmod 0644 %s %s", trace,
		 trace, prog);
	assert_int_equal(system(cmd), 0);
	what[0] = "-F";
	what[1] = "";
	for (int i = 0; i < 2; i++) {
		int st;

		snprintf(cmd, sizeof(cmd),
			 "setpriv --reuid=65534 --regid=65534 --clear-groups %s live filter -r %s "
			 "%s %s >/dev/null 2>%s/unpriv.err",
			 capsim, trace, what[i], i == 0 ? prog : "'vlan and ip'", tmpdir);
		st = system(cmd);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) == 126 || WEXITSTATUS(st) == 127) {
			print_message("capsim is not executable for uid 65534 here: skipped\n");
			skip();
		}
		if (WEXITSTATUS(st) != 4) {
			snprintf(cmd, sizeof(cmd), "cat %s/unpriv.err", tmpdir);
			assert_int_equal(system(cmd), 0);
			fail_msg("unprivileged run %d: exit %d, expected 4", i, WEXITSTATUS(st));
		}
	}
}

/* ------------------------------------------------------------------ */
/* Two at once, and a killed run. */

static pid_t spawn(const char *const *argv, const char *out)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDWR);

		if (fd < 0 || nul < 0)
			_exit(127);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void gen_trace(const char *name, unsigned n, char *path, size_t size)
{
	char cmd[512];

	snprintf(path, size, "%s/%s", tmpdir, name);
	if (access(path, R_OK) == 0)
		return;
	snprintf(cmd, sizeof(cmd), "%s trace gen -n %u --seed 7 --vlan 30 -w %s", capsim, n, path);
	assert_int_equal(system(cmd), 0);
}

static void test_two_at_once(void **state)
{
	char big[128], o1[128], o2[128];
	pid_t a, b;
	int ra, rb;

	(void)state;
	SKIP_UNLESS_ROOT();
	gen_trace("mid.pcap", 200000, big, sizeof(big));
	snprintf(o1, sizeof(o1), "%s/two1.out", tmpdir);
	snprintf(o2, sizeof(o2), "%s/two2.out", tmpdir);
	{
		const char *const av1[] = { capsim, "live", "filter", "-r", big, "vlan and ip", NULL };
		const char *const av2[] = { capsim, "live", "filter", "--sock", "dgram", "-r", big,
					    "", NULL };

		a = spawn(av1, o1);
		b = spawn(av2, o2);
	}
	ra = wait_exit(a);
	rb = wait_exit(b);
	if (ra != 0 || rb != 0) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "head -c 2000 %s %s", o1, o2);
		assert_int_equal(system(cmd), 0);
		fail_msg("two runs at once: exit %d and %d", ra, rb);
	}
}

/* The inode of the network namespace @pid holds a descriptor to (the
 * harness keeps one), and how many sockets it has open; 0 if none yet. */
static unsigned long harness_state(pid_t pid, int *sockets)
{
	char dir[64], path[600], link[128];
	unsigned long ino = 0;
	struct dirent *e;
	DIR *d;

	*sockets = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "socket:", 7) == 0)
			(*sockets)++;
		else if (sscanf(link, "net:[%lu]", &ino) == 1)
			continue;
	}
	closedir(d);
	return ino;
}

/* Does any process still hold network namespace @ino (as its own, a
 * thread's, or through a descriptor)? */
static int netns_held(unsigned long ino)
{
	char want[64], path[600], link[128];
	struct dirent *p;
	DIR *proc = opendir("/proc");
	int held = 0;

	assert_non_null(proc);
	snprintf(want, sizeof(want), "net:[%lu]", ino);
	while (!held && (p = readdir(proc))) {
		char dir[300];
		struct dirent *e;
		DIR *d;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", p->d_name);
		{
			ssize_t n = readlink(path, link, sizeof(link) - 1);

			if (n > 0 && (link[n] = '\0', strcmp(link, want) == 0))
				held = 1;
		}
		snprintf(dir, sizeof(dir), "/proc/%s/fd", p->d_name);
		d = opendir(dir);
		while (d && !held && (e = readdir(d))) {
			ssize_t n;

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = '\0', strcmp(link, want) == 0))
				held = 1;
		}
		if (d)
			closedir(d);
	}
	closedir(proc);
	return held;
}

/* What /run/netns holds (names, sorted by the shell), or "absent". */
static void run_netns(char *buf, size_t size)
{
	FILE *f = popen("ls -1 /run/netns 2>/dev/null || echo absent", "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	pclose(f);
}

static int links_mention_ours(void)
{
	char line[512];
	FILE *f = popen("ip -o link", "r");
	int found = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, ": " LIVE_TX_IFNAME) || strstr(line, ": " LIVE_RX_IFNAME))
			found = 1;
	pclose(f);
	return found;
}

static void test_killed_run_leaves_nothing(void **state)
{
	char big[128], out[128], before[4096], after[4096];
	unsigned long ino = 0;
	int sockets = 0, st;
	pid_t pid;

	(void)state;
	SKIP_UNLESS_ROOT();
	gen_trace("big.pcap", 600000, big, sizeof(big));
	snprintf(out, sizeof(out), "%s/killed.out", tmpdir);
	run_netns(before, sizeof(before));
	assert_false(links_mention_ours());
	{
		const char *const av[] = { capsim, "live", "filter", "-r", big, "", NULL };

		pid = spawn(av, out);
	}
	/* Wait until the harness is up: its namespace descriptor and its three
	 * packet sockets (sender, witness, filtered tap). */
	for (int i = 0; i < 20000 && (ino == 0 || sockets < 3); i++) {
		struct timespec ts = { 0, 1000000 };

		ino = harness_state(pid, &sockets);
		nanosleep(&ts, NULL);
	}
	assert_true(ino != 0);
	assert_true(sockets >= 3);
	assert_true(netns_held(ino));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* Killed mid-run, not finished before the signal came. */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	/* Nothing holds the namespace any more: the kernel tears it down with
	 * both veth ends; nothing ever appeared in ours or in /run/netns. */
	assert_false(netns_held(ino));
	assert_false(links_mention_ours());
	assert_int_equal(if_nametoindex(LIVE_TX_IFNAME), 0);
	assert_int_equal(if_nametoindex(LIVE_RX_IFNAME), 0);
	run_netns(after, sizeof(after));
	assert_string_equal(before, after);
	/* And the next run works. */
	agree("live filter -r traces/samples/vlan.pcap vlan");
}

/* ------------------------------------------------------------------ */
/* The comparison: a wrong model must be caught, aspect by aspect. */

struct live_set {
	struct trace_set ts;
	const uint8_t **frames;
	uint32_t *lens;
	struct live_verdict *v;
};

static void live_run_trace(struct live_filter *lf, const struct bpfvm_prog *p, const char *path,
			   struct live_set *s)
{
	char err[TRACE_ERRBUF_SIZE];
	int r;

	assert_int_equal(trace_load(path, &s->ts, err), 0);
	s->frames = calloc(s->ts.count, sizeof(*s->frames));
	s->lens = calloc(s->ts.count, sizeof(*s->lens));
	s->v = calloc(s->ts.count, sizeof(*s->v));
	assert_true(s->frames && s->lens && s->v);
	for (uint32_t i = 0; i < s->ts.count; i++) {
		s->frames[i] = s->ts.recs[i].bytes;
		s->lens[i] = s->ts.recs[i].caplen;
	}
	r = live_filter_run(lf, p, s->frames, s->lens, s->ts.count, s->v, err);
	if (r)
		fail_msg("live_filter_run: %s", err);
}

static void live_set_free(struct live_set *s)
{
	trace_set_free(&s->ts);
	free(s->frames);
	free(s->lens);
	free(s->v);
}

static struct live_compare *comparer(struct live_filter *lf, const struct bpfvm_prog *p,
				     enum sim_sock_type type)
{
	struct live_compare *c = NULL;
	struct sim_rx_dev dev;
	char err[LIVE_ERRBUF_SIZE];

	sim_rx_dev_init(&dev);
	memcpy(dev.mac, live_filter_mac(lf), 6);
	dev.mtu = live_filter_mtu(lf);
	dev.ifindex = (uint32_t)live_filter_ifindex(lf);
	if (live_compare_create(&c, p, &dev, type, err))
		fail_msg("live_compare_create: %s", err);
	return c;
}

enum corruption {
	C_REACHED, C_DELIVERED, C_SNAPLEN, C_BYTE, C_PKTTYPE, C_VLAN_TCI, C_VLAN_VALID,
	C_PROTOCOL, C_COUNT
};

static const enum live_aspect corrupts[C_COUNT] = {
	[C_REACHED] = LIVE_ASPECT_REACHED,   [C_DELIVERED] = LIVE_ASPECT_DELIVERED,
	[C_SNAPLEN] = LIVE_ASPECT_CAPLEN,    [C_BYTE] = LIVE_ASPECT_BYTES,
	[C_PKTTYPE] = LIVE_ASPECT_PKTTYPE,   [C_VLAN_TCI] = LIVE_ASPECT_VLAN,
	[C_VLAN_VALID] = LIVE_ASPECT_VLAN,   [C_PROTOCOL] = LIVE_ASPECT_PROTOCOL,
};

/* Corrupt @m in one way if it applies to this frame; 1 if it did.
 * @copy holds a changed copy of the captured bytes. */
static int corrupt(struct live_model_verdict *m, enum corruption c, uint8_t *copy)
{
	switch (c) {
	case C_REACHED:
		m->reached = 0;
		m->delivered = 0;
		return 1;
	case C_DELIVERED:
		m->delivered = !m->delivered;
		return 1;
	case C_SNAPLEN:
		if (!m->delivered || m->snaplen == 0)
			return 0;
		m->snaplen--;
		return 1;
	case C_BYTE:
		if (!m->delivered || m->snaplen == 0)
			return 0;
		memcpy(copy, m->bytes, m->snaplen);
		copy[m->snaplen / 2] ^= 0x20;
		m->bytes = copy;
		return 1;
	case C_PKTTYPE:
		m->pkttype = (uint8_t)((m->pkttype + 1) % 4);
		return 1;
	case C_VLAN_TCI:
		if (!m->vlan_valid)
			return 0;
		m->vlan_tci ^= 0x0001;
		return 1;
	case C_VLAN_VALID:
		m->vlan_valid = !m->vlan_valid;
		return 1;
	case C_PROTOCOL:
		m->protocol ^= 0x0100;
		return 1;
	default:
		return 0;
	}
}

static void check_corruptions(const char *path, const struct bpfvm_prog *p, int sock_type)
{
	enum sim_sock_type type = sock_type == SOCK_DGRAM ? SIM_SOCK_DGRAM : SIM_SOCK_RAW;
	struct live_filter_opts o;
	struct live_filter *lf = NULL;
	struct live_compare *c;
	struct live_compare_totals t;
	struct live_set s;
	char err[LIVE_ERRBUF_SIZE];
	static uint8_t copy[1 << 18];
	uint64_t applied[C_COUNT] = { 0 };

	live_filter_opts_init(&o);
	o.sock_type = sock_type;
	if (live_filter_open(&lf, &o, err))
		fail_msg("live_filter_open: %s", err);
	live_run_trace(lf, p, path, &s);
	c = comparer(lf, p, type);
	for (uint32_t i = 0; i < s.ts.count; i++) {
		struct live_model_verdict m, bad;
		struct live_frame_result r;

		assert_int_equal(live_model_frame(c, s.frames[i], s.lens[i], &m, err), 0);
		/* The honest model agrees... */
		assert_int_equal(live_compare_verdicts(c, i, &s.v[i], &m, &r), 0);
		if (s.v[i].send_errno) {
			assert_true(r.not_sendable);
			assert_int_equal(r.compared, 0);
			continue;
		}
		assert_true(r.compared & 1u << LIVE_ASPECT_REACHED);
		if (!s.v[i].reached)
			continue;
		/* ... and every lie it can tell about this frame is caught as
		 * exactly the aspect lied about. */
		for (int k = 0; k < C_COUNT; k++) {
			uint32_t got;

			bad = m;
			if (!corrupt(&bad, (enum corruption)k, copy))
				continue;
			got = live_compare_verdicts(c, i, &s.v[i], &bad, &r);
			if (got != 1u << corrupts[k])
				fail_msg("%s frame %u: corruption %d gave mismatch mask %#x, "
					 "expected %#x",
					 path, i, k, got, 1u << corrupts[k]);
			assert_int_equal(r.index, i);
			assert_ptr_equal(r.kernel, &s.v[i]);
			applied[k]++;
		}
	}
	live_compare_totals(c, &t);
	/* Every kind of lie was told at least once (the traces hold tagged
	 * and untagged, delivered frames). */
	for (int k = 0; k < C_COUNT; k++)
		if (!applied[k])
			fail_msg("%s: corruption %d never applied", path, k);
	{
		uint64_t lies = 0;

		for (int k = 0; k < C_COUNT; k++)
			lies += applied[k];
		assert_int_equal(t.mismatched_frames, lies);
		assert_int_equal(t.frames, (uint64_t)s.ts.count + lies);
	}
	for (int a = 0; a < LIVE_ASPECT_COUNT; a++)
		assert_true(t.agreed[a] < t.compared[a]);
	live_compare_destroy(c);
	live_set_free(&s);
	live_filter_close(lf);
}

static void test_compare_catches_wrong_model(void **state)
{
	/* Half the frames' worth: delivered ones, cut ones, rejected ones. */
	static struct bpfvm_insn half[] = {
		{ BPF_LD | BPF_W | BPF_LEN, 0, 0, 0 },
		{ BPF_JMP | BPF_JGT | BPF_K, 0, 1, 100 },
		{ BPF_RET | BPF_K, 0, 0, 80 },
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 3 },
		{ BPF_RET | BPF_K, 0, 0, 0 },
		{ BPF_RET | BPF_K, 0, 0, 0xffffffff },
	};
	struct bpfvm_prog p = { half, 7 };

	(void)state;
	SKIP_UNLESS_ROOT();
	for (size_t t = 0; t < NTRACES; t++)
		check_corruptions(traces[t], &p, SOCK_RAW);
	check_corruptions(traces[2], &p, SOCK_DGRAM);
}

/* With an unreproducible load, the filter's aspects are never compared:
 * a "wrong" delivered verdict passes, a wrong pkt_type does not. */
static void test_compare_unreproducible_skips(void **state)
{
	static struct bpfvm_insn rx[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_RXHASH },
		{ BPF_ALU | BPF_AND | BPF_K, 0, 0, 1 },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct bpfvm_prog p = { rx, 3 };
	struct live_filter *lf = NULL;
	struct live_compare *c;
	struct live_set s;
	char err[LIVE_ERRBUF_SIZE];
	uint32_t skipped;

	(void)state;
	SKIP_UNLESS_ROOT();
	if (live_filter_open(&lf, NULL, err))
		fail_msg("live_filter_open: %s", err);
	live_run_trace(lf, &p, traces[2], &s);
	c = comparer(lf, &p, SIM_SOCK_RAW);
	assert_int_equal(live_compare_unreproducible(c), SKF_AD_RXHASH);
	skipped = live_compare_skipped(c);
	assert_int_equal(skipped, 1u << LIVE_ASPECT_DELIVERED | 1u << LIVE_ASPECT_CAPLEN |
					  1u << LIVE_ASPECT_BYTES);
	for (uint32_t i = 0; i < s.ts.count; i++) {
		struct live_model_verdict m;
		struct live_frame_result r;

		assert_int_equal(live_model_frame(c, s.frames[i], s.lens[i], &m, err), 0);
		if (s.v[i].send_errno || !s.v[i].reached)
			continue;
		m.delivered = !s.v[i].delivered;
		assert_int_equal(live_compare_verdicts(c, i, &s.v[i], &m, &r), 0);
		assert_int_equal(r.compared & skipped, 0);
		m.pkttype ^= 1;
		assert_int_equal(live_compare_verdicts(c, i, &s.v[i], &m, &r),
				 1u << LIVE_ASPECT_PKTTYPE);
	}
	live_compare_destroy(c);
	live_set_free(&s);
	live_filter_close(lf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_usage),
		cmocka_unit_test(test_unreproducible_detection),
		cmocka_unit_test(test_every_trace_raw),
		cmocka_unit_test(test_every_trace_dgram),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_unreproducible_warns),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_not_sendable),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_two_at_once),
		cmocka_unit_test(test_killed_run_leaves_nothing),
		cmocka_unit_test(test_compare_catches_wrong_model),
		cmocka_unit_test(test_compare_unreproducible_skips),
	};

	return cmocka_run_group_tests_name("cli_live", tests, cli_setup, cli_teardown);
}
