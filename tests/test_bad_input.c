/*
 * test_bad_input.c - bad input, answered: one table of malformed inputs
 * run through the capsim program as a user would type it.
 *
 * Every row is a command line, the exit code it must give, and what its
 * one-line message must say: the file (or what stands for it) and the
 * place (record, line:column, instruction).  For every row:
 *  - the exit code is the documented one (cli/cli.h);
 *  - the message is one line on its stream, and names file and place on
 *    that line;
 *  - no crash or sanitizer report (stderr never mentions "Sanitizer",
 *    "runtime error"), no hang (each run is cut at 120 s by timeout(1));
 *  - when the command was asked to write a file (into @O, a folder emptied
 *    before each row), nothing is left behind there: neither the output
 *    nor a temporary name.  Rows marked KEEP first put "OLD" at the output
 *    path: it must come out unchanged.
 *
 * The inputs are made by setup() in a temporary folder (@D), mostly cut
 * and patched from the shipped traces/samples, so nothing binary is
 * committed for them.
 *
 * Scenario rows: a row's line numbers count from the SCN_* texts in
 * make_inputs().
 *
 * A row with a TODO note describes a way capsim does not yet answer as
 * the issue asks.  It is still run: if it passes, the test fails and
 * asks for the note to be removed; if it fails the way noted, the
 * failure is printed and not counted.  Crashes, sanitizer reports, hangs,
 * wrong exit codes and files left behind are counted even then.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

enum { OUT = 1, ERR = 2 };
enum { KEEP = 1, ROOT = 2 };

struct row {
	const char *args;	/* after "capsim"; @D inputs, @O outputs, @S the samples */
	int code;		/* expected exit code */
	int stream;		/* where the message goes: ERR (errors) or OUT (verdicts) */
	const char *file;	/* on the message line: the file (or what stands for it) */
	const char *place;	/* on the same line: the place */
	const char *output;	/* the file the command was asked to write (@O/...), or NULL */
	int flags;		/* KEEP, ROOT */
	const char *not_out;	/* stdout must not contain this (a misleading report) */
	const char *todo;	/* a known shortcoming: see the header */
};

/* The exit codes, as cli/cli.h documents them. */
#define NO 1
#define USAGE 2
#define INPUT 3
#define ENV 4

static const struct row rows[] = {
	/* ---- traces: truncated, corrupt, empty, wrong link type ---- */
	{ .args = "filter run --count -r @D/empty.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "empty.pcap", .place = "file header" },
	{ .args = "filter run --count -r @D/short.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "short.pcap", .place = "file header" },
	{ .args = "filter run --count -r @D/corrupt.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "corrupt.pcap", .place = "unknown file format" },
	{ .args = "filter run --count -r @D/cutrec.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "cutrec.pcap", .place = "record 0" },
	{ .args = "filter run --verdicts -r @D/half.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217" },
	{ .args = "filter run --count -r @D/cut.pcapng tcp", .code = INPUT, .stream = ERR,
	  .file = "cut.pcapng", .place = "record 0" },
	{ .args = "filter run --count -r @D/badlen.pcapng tcp", .code = INPUT, .stream = ERR,
	  .file = "badlen.pcapng", .place = "block size" },
	{ .args = "filter run --count -r @D/odd.pcapng tcp", .code = INPUT, .stream = ERR,
	  .file = "odd.pcapng", .place = "record 0" },
	{ .args = "filter run --count -r @D/ifid.pcapng tcp", .code = INPUT, .stream = ERR,
	  .file = "ifid.pcapng", .place = "interface 5" },
	{ .args = "filter run --count -r @D/nosuch.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "nosuch.pcap", .place = "No such file" },
	{ .args = "filter run --count -r @D tcp", .code = INPUT, .stream = ERR,
	  .file = "capsim-test-", .place = "Is a directory" },
	/* A record longer than any snaplen libpcap allows (262144). */
	{ .args = "filter run --count -r @D/hugecap.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "hugecap.pcap", .place = "record 0" },
	{ .args = "filter run --count -r @D/raw.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "raw.pcap", .place = "link type RAW" },
	{ .args = "filter run --semantics libpcap --count -r @D/half.pcap tcp", .code = INPUT,
	  .stream = ERR, .file = "half.pcap", .place = "record 217" },
	/* Outputs: a damaged trace leaves no output and no temporary file,
	 * and leaves an existing output alone. */
	{ .args = "filter run -w @O/x.pcap --count -r @D/half.pcap tcp", .code = INPUT,
	  .stream = ERR, .file = "half.pcap", .place = "record 217", .output = "@O/x.pcap" },
	{ .args = "filter run -w @O/x.pcap --count -r @D/half.pcap tcp", .code = INPUT,
	  .stream = ERR, .file = "half.pcap", .place = "record 217", .output = "@O/x.pcap",
	  .flags = KEEP },
	{ .args = "filter run --semantics libpcap -w @O/x.pcap --count -r @D/cutrec.pcap tcp",
	  .code = INPUT, .stream = ERR, .file = "cutrec.pcap", .place = "record 0",
	  .output = "@O/x.pcap" },
	{ .args = "filter run -w @O/nodir/x.pcap --count -r @S/mixed.pcap tcp", .code = INPUT,
	  .stream = ERR, .file = "nodir/x.pcap", .place = "cannot create",
	  .output = "@O/nodir/x.pcap" },
	{ .args = "trace gen -n 10 -w @O/nodir/x.pcap", .code = INPUT, .stream = ERR,
	  .file = "nodir/x.pcap", .place = "cannot create", .output = "@O/nodir/x.pcap" },
	{ .args = "filter dot -r @D/half.pcap -o @O/g.dot tcp", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217", .output = "@O/g.dot" },
	{ .args = "filter dot -r @D/half.pcap -o @O/g.dot tcp", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217", .output = "@O/g.dot", .flags = KEEP },
	{ .args = "filter dot -F @D/jump.ddd -o @O/g.dot", .code = INPUT, .stream = ERR,
	  .file = "jump.ddd", .place = "instruction 0", .output = "@O/g.dot" },
	{ .args = "filter dot -r @S/mixed.pcap -p 99999 -o @O/g.dot tcp", .code = INPUT,
	  .stream = ERR, .file = "mixed.pcap", .place = "99999", .output = "@O/g.dot" },
	{ .args = "filter step -r @D/half.pcap -p 300 tcp", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217" },
	{ .args = "filter step -r @S/mixed.pcap -p 99999 tcp", .code = INPUT, .stream = ERR,
	  .file = "mixed.pcap", .place = "99999" },
	{ .args = "filter step -r @D/raw.pcap -p 0 tcp", .code = INPUT, .stream = ERR,
	  .file = "raw.pcap", .place = "link type" },
	{ .args = "filter diff -q tcp udp -r @D/half.pcap", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217" },
	{ .args = "filter diff -q tcp udp -r @D/empty.pcap", .code = INPUT, .stream = ERR,
	  .file = "empty.pcap", .place = "file header" },

	/* ---- programs: 4097 instructions, unknown opcodes, jumps out of
	 * range, malformed text in every format ---- */
	{ .args = "filter check -F @D/big.ddd", .code = INPUT, .stream = ERR, .file = "big.ddd:1:1",
	  .place = "4096" },
	{ .args = "filter check -F @D/big.asm", .code = INPUT, .stream = ERR,
	  .file = "big.asm:4097:1", .place = "4096" },
	{ .args = "filter check -F @D/big.d", .code = INPUT, .stream = ERR, .file = "big.d:4097:1",
	  .place = "4096" },
	{ .args = "filter disasm -F @D/big.ddd", .code = INPUT, .stream = ERR,
	  .file = "big.ddd:1:1", .place = "4096" },
	{ .args = "filter asm @D/big.asm", .code = INPUT, .stream = ERR, .file = "big.asm:4097:1",
	  .place = "4096" },
	{ .args = "filter check -F @D/unknown.ddd", .code = NO, .stream = OUT, .file = "rejected",
	  .place = "instruction 0" },
	/* libpcap's bpf_validate() looks at class, mode and operation only:
	 * it takes 0xffff, so the libpcap row uses the jump instead. */
	{ .args = "filter check --semantics libpcap -F @D/jump.ddd", .code = NO, .stream = OUT,
	  .file = "rejected", .place = "instruction 0" },
	{ .args = "filter check -F @D/jump.ddd", .code = NO, .stream = OUT, .file = "rejected",
	  .place = "instruction 0" },
	{ .args = "filter check -F @D/noret.ddd", .code = NO, .stream = OUT, .file = "rejected",
	  .place = "instruction 0" },
	{ .args = "filter check -F @D/div0.ddd", .code = NO, .stream = OUT, .file = "rejected",
	  .place = "instruction 1" },
	{ .args = "filter run --count -F @D/unknown.ddd -r @S/mixed.pcap", .code = INPUT,
	  .stream = ERR, .file = "unknown.ddd", .place = "instruction 0" },
	{ .args = "filter step -F @D/unknown.ddd -r @S/mixed.pcap -p 0", .code = INPUT,
	  .stream = ERR, .file = "unknown.ddd", .place = "instruction 0" },
	{ .args = "filter asm @D/label.asm", .code = INPUT, .stream = ERR, .file = "label.asm:2:",
	  .place = "no such label" },
	{ .args = "filter asm @D/syntax.asm", .code = INPUT, .stream = ERR,
	  .file = "syntax.asm:1:8", .place = "expected ']'" },
	{ .args = "filter asm @D/mnem.asm", .code = INPUT, .stream = ERR, .file = "mnem.asm:2:1",
	  .place = "frob" },
	{ .args = "filter asm @D/anc.asm", .code = INPUT, .stream = ERR, .file = "anc.asm:1:",
	  .place = "#foo" },
	{ .args = "filter asm @D/num.asm", .code = INPUT, .stream = ERR, .file = "num.asm:1:",
	  .place = "out of range" },
	{ .args = "filter check -F @D/count.ddd", .code = INPUT, .stream = ERR,
	  .file = "count.ddd:", .place = "instruction 2 of 3" },
	{ .args = "filter check -F @D/nonnum.ddd", .code = INPUT, .stream = ERR,
	  .file = "nonnum.ddd:2:", .place = "jf" },
	{ .args = "filter check -F @D/brace.dd", .code = INPUT, .stream = ERR,
	  .file = "brace.dd:1:", .place = "'}'" },
	{ .args = "filter check -F @D/empty.txt", .code = INPUT, .stream = ERR,
	  .file = "empty.txt:1:1", .place = "end of input" },
	{ .args = "filter check -F @D/nosuch.bpf", .code = INPUT, .stream = ERR,
	  .file = "nosuch.bpf", .place = "No such file" },
	{ .args = "filter check --format dd -F @D/big.ddd", .code = INPUT, .stream = ERR,
	  .file = "big.ddd:1:", .place = "" },
	{ .args = "filter diff -q @@D/syntax.asm udp -r @S/mixed.pcap", .code = INPUT,
	  .stream = ERR, .file = "syntax.asm:1:8", .place = "expected ']'" },
	{ .args = "filter diff -q @@D/unknown.ddd udp -r @S/mixed.pcap", .code = INPUT,
	  .stream = ERR, .file = "unknown.ddd", .place = "instruction 0" },

	/* ---- expressions (the place is libpcap's: it gives no column) ---- */
	{ .args = "filter compile 'tcp port'", .code = INPUT, .stream = ERR, .file = "expression",
	  .place = "syntax error" },
	{ .args = "filter compile 'wlan host 1.2.3.4'", .code = INPUT, .stream = ERR,
	  .file = "expression", .place = "link layer" },
	{ .args = "filter compile -y NOSUCH tcp", .code = USAGE, .stream = ERR, .file = "-y",
	  .place = "NOSUCH" },

	/* ---- live (root): wrong link type, damaged traces, refused programs ---- */
	{ .args = "live filter -r @D/raw.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "raw.pcap", .place = "link type RAW", .flags = ROOT },
	{ .args = "live filter -r @D/empty.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "empty.pcap", .place = "file header", .flags = ROOT },
	{ .args = "live filter -r @D/half.pcap tcp", .code = INPUT, .stream = ERR,
	  .file = "half.pcap", .place = "record 217", .flags = ROOT,
	  .not_out = "agree on every frame" },
	{ .args = "live filter -F @D/big.ddd -r @S/mixed.pcap", .code = INPUT, .stream = ERR,
	  .file = "big.ddd:1:1", .place = "4096", .flags = ROOT },
	{ .args = "live filter -F @D/unknown.ddd -r @S/mixed.pcap", .code = INPUT, .stream = ERR,
	  .file = "unknown.ddd", .place = "instruction 0", .flags = ROOT },

	/* ---- fuzz commands given bad traces ---- */
	{ .args = "fuzz programs --no-live -n 10 --trace @D/cutrec.pcap", .code = INPUT,
	  .stream = ERR, .file = "cutrec.pcap", .place = "record 0" },
	{ .args = "fuzz programs --no-live -n 10 --trace @D/raw.pcap", .code = INPUT, .stream = ERR,
	  .file = "raw.pcap", .place = "link type RAW" },
	{ .args = "fuzz programs -n x", .code = USAGE, .stream = ERR, .file = "-n",
	  .place = "'x'" },
	{ .args = "fuzz compiler -n 5 -r @D/empty.pcap", .code = INPUT, .stream = ERR,
	  .file = "empty.pcap", .place = "file header" },
	{ .args = "fuzz compiler -n 5 -r @D/cutrec.pcap", .code = INPUT, .stream = ERR,
	  .file = "cutrec.pcap", .place = "record 0" },

	/* ---- scenarios (`capsim sim`): syntax errors, undefined hosts,
	 * impossible topologies, limits; -w leaves nothing on failure ---- */
	{ .args = "sim @D/syntax.scn", .code = INPUT, .stream = ERR, .file = "syntax.scn:4:1",
	  .place = "unknown statement" },
	{ .args = "sim @D/undef.scn", .code = INPUT, .stream = ERR, .file = "undef.scn:6:13",
	  .place = "undefined host 'c'" },
	{ .args = "sim @D/loop.scn", .code = INPUT, .stream = ERR, .file = "loop.scn:6:",
	  .place = "already on the wire" },
	{ .args = "sim @D/twice.scn", .code = INPUT, .stream = ERR, .file = "twice.scn:7:",
	  .place = "already on the wire" },
	{ .args = "sim @D/many.scn", .code = INPUT, .stream = ERR, .file = "many.scn:65:",
	  .place = "64 hosts" },
	{ .args = "sim -w @O @D/syntax.scn", .code = INPUT, .stream = ERR, .file = "syntax.scn:4:1",
	  .place = "unknown statement", .output = "@O/" },
	{ .args = "sim @D/nosuch.scn", .code = INPUT, .stream = ERR, .file = "nosuch.scn",
	  .place = "No such file" },
	{ .args = "sim @D/empty.scn", .code = INPUT, .stream = ERR, .file = "empty.scn:1:1",
	  .place = "no host" },

	/* ---- live scenarios (root): the same malformed scenarios, and
	 * what the live mode cannot express (no live form: exit 4) ---- */
	{ .args = "live @D/syntax.scn", .code = INPUT, .stream = ERR, .file = "syntax.scn:4:1",
	  .place = "unknown statement", .flags = ROOT },
	{ .args = "live @D/undef.scn", .code = INPUT, .stream = ERR, .file = "undef.scn:6:13",
	  .place = "undefined host 'c'", .flags = ROOT },
	{ .args = "live @D/empty.scn", .code = INPUT, .stream = ERR, .file = "empty.scn:1:1",
	  .place = "no host", .flags = ROOT },
	{ .args = "live @D/tcpsend.scn", .code = ENV, .stream = ERR, .file = "tcpsend.scn:7:1",
	  .place = "no live form", .flags = ROOT },
	{ .args = "live @D/vlansend.scn", .code = ENV, .stream = ERR, .file = "vlansend.scn:7:1",
	  .place = "no live form", .flags = ROOT },
	{ .args = "live @D/tcoif.scn", .code = ENV, .stream = ERR, .file = "tcoif.scn:5:3",
	  .place = "no live form", .flags = ROOT },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* ------------------------------------------------------------------ */
/* Making the inputs. */

static char *path_in(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void put(const char *name, const void *bytes, size_t n)
{
	FILE *f = fopen(path_in(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void put_text(const char *name, const char *text)
{
	put(name, text, strlen(text));
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* @count copies of @line. */
static void put_repeated(const char *name, const char *head, const char *line, int count)
{
	size_t n = strlen(line), h = strlen(head);
	char *buf = malloc(h + n * (size_t)count + 1);

	assert_non_null(buf);
	memcpy(buf, head, h);
	for (int i = 0; i < count; i++)
		memcpy(buf + h + n * (size_t)i, line, n);
	put(name, buf, h + n * (size_t)count);
	free(buf);
}

#define SCN_A                                                        \
	"host a\n"                                                   \
	"  iface eth0 mac 02:00:00:00:0a:01 addr 198.18.0.1/24\n"    \
	"  tap cap dev eth0 tcpdump\n"
#define SCN_B_IFACE "  iface eth0 mac 02:00:00:00:0b:01 addr 198.18.0.2/24\n"
#define SCN_B "host b\n" SCN_B_IFACE
#define SCN_WIRE "wire a.eth0 b.eth0\n"

static void make_inputs(void)
{
	size_t n, ng;
	uint8_t *pcap = slurp("traces/samples/mixed.pcap", &n);
	uint8_t *png = slurp("traces/samples/mixed.pcapng", &ng);
	uint8_t *copy = malloc(n > ng ? n : ng);
	size_t blk[3], off = 0;
	char *big_d;

	assert_non_null(copy);
	put("empty.pcap", "", 0);
	put("short.pcap", pcap, 10);
	put("corrupt.pcap", "garbage, not a trace\n", 21);
	put("cutrec.pcap", pcap, 100);
	put("half.pcap", pcap, 30000);
	put("cut.pcapng", png, 200);
	/* The raw link type on Ethernet bytes: the link type alone is wrong. */
	memcpy(copy, pcap, n);
	le32(copy + 20, 101);
	put("raw.pcap", copy, n);
	/* The first record claims 2^31 - 1 captured bytes. */
	memcpy(copy, pcap, n);
	le32(copy + 24 + 8, 0x7fffffff);
	put("hugecap.pcap", copy, 200);
	/* A snaplen of 40 and a first record longer than that: libpcap cuts it. */
	memcpy(copy, pcap, n);
	le32(copy + 16, 40);
	put("oversnap.pcap", copy, 24 + 16 + get_le32(pcap + 24 + 8));

	/* pcapng: the first three blocks (SHB, IDB, EPB). */
	for (int i = 0; i < 3; i++) {
		blk[i] = off;
		off += get_le32(png + off + 4);
		assert_true(off < ng);
	}
	memcpy(copy, png, ng);
	le32(copy + blk[1] + 4, 0xfffffff0);
	put("badlen.pcapng", copy, ng);
	memcpy(copy, png, ng);
	le32(copy + blk[2] + 4, 13);
	put("odd.pcapng", copy, ng);
	memcpy(copy, png, ng);
	le32(copy + blk[2] + 8, 5);
	put("ifid.pcapng", copy, ng);

	/* Programs. */
	put_repeated("big.ddd", "4097\n", "6 0 0 1\n", 4097);
	put_repeated("big.asm", "", "ret #1\n", 4097);
	big_d = malloc(4097 * 32);
	assert_non_null(big_d);
	big_d[0] = '\0';
	for (int i = 0, used = 0; i < 4097; i++)
		used += snprintf(big_d + used, 32, "(%03d) ret      #1\n", i);
	put_text("big.d", big_d);
	free(big_d);
	put_text("unknown.ddd", "2\n65535 0 0 0\n6 0 0 1\n");
	put_text("jump.ddd", "2\n21 5 0 1\n6 0 0 1\n");
	put_text("noret.ddd", "1\n0 0 0 1\n");
	put_text("div0.ddd", "3\n0 0 0 7\n52 0 0 0\n6 0 0 65535\n");
	put_text("label.asm", "ldh [12]\njeq #0x800, lbl, drop\nret #1\n");
	put_text("syntax.asm", "ldh [12\nret #1\n");
	put_text("mnem.asm", "ldh [12]\nfrob #1\nret #1\n");
	put_text("anc.asm", "ld #foo\nret a\n");
	put_text("num.asm", "ld #0x1ffffffff\nret a\n");
	put_text("count.ddd", "3\n6 0 0 1\n6 0 0 1\n");
	put_text("nonnum.ddd", "2\n6 0 zz 1\n6 0 0 1\n");
	put_text("brace.dd", "{ 0x6, 0, 0, 0x1 ,\n");
	put_text("empty.txt", "");

	/* Scenarios: one small valid one, broken a line at a time. */
	put_text("syntax.scn", SCN_A "hots b\n" SCN_B_IFACE SCN_WIRE);
	put_text("undef.scn", SCN_A SCN_B "wire a.eth0 c.eth0\n");
	put_text("loop.scn", SCN_A SCN_B "wire a.eth0 a.eth0\n");
	put_text("twice.scn", SCN_A SCN_B SCN_WIRE SCN_WIRE);
	put_text("empty.scn", "# a scenario with nothing in it\n");
	put_text("tcpsend.scn", SCN_A SCN_B SCN_WIRE "at 1ms a send tcp to 198.18.0.2:80\n");
	put_text("vlansend.scn",
		 SCN_A SCN_B SCN_WIRE "at 1ms a send udp to 198.18.0.2:9 vlan 5\n");
	put_text("tcoif.scn", "host a\n"
			      "  iface eth0 mac 02:00:00:00:0a:01 addr 198.18.0.1/24\n"
			      "  iface eth1 mac 02:00:00:00:0a:02 addr 198.18.1.1/24\n"
			      "  tap cap dev eth0 tcpdump\n"
			      "  rule r1 tc-egress eth0 oif eth1 drop\n" SCN_B SCN_WIRE);
	{
		char many[65 * 16] = "";

		for (int i = 1; i <= 65; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many), "host h%d\n", i);
		put_text("many.scn", many);
	}
	free(copy);
	free(pcap);
	free(png);
}

/* The shared cli_setup() finds capsim and makes @tmpdir; the inputs go
 * there too. */
static int setup(void **state)
{
	if (cli_setup(state) != 0)
		return -1;
	make_inputs();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running a row. */

/* @s with @D, @O and @S replaced. */
static void expand(const char *s, char *out, size_t size)
{
	size_t used = 0;

	while (*s && used + 1 < size) {
		const char *rep = NULL;
		char buf[128];

		if (s[0] == '@' && (s[1] == 'D' || s[1] == 'O' || s[1] == 'S')) {
			if (s[1] == 'S')
				rep = "traces/samples";
			else
				snprintf(buf, sizeof(buf), "%s%s", tmpdir, s[1] == 'O' ? "/out" : "");
			rep = rep ? rep : buf;
			used += (size_t)snprintf(out + used, size - used, "%s", rep);
			s += 2;
		} else {
			out[used++] = *s++;
		}
	}
	out[used < size ? used : size - 1] = '\0';
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(buf);
	n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int same_text(const char *path, const char *text)
{
	char *got = read_all(path);
	int same = strcmp(got, text) == 0;

	free(got);
	return same;
}

/* Files left in @dir (recursively), other than @keep; a name into @name. */
static int leftovers(const char *dir, const char *keep, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		char p[512];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (keep && strcmp(p, keep) == 0)
			continue;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			n += leftovers(p, keep, name, size);
			continue;
		}
		snprintf(name, size, "%s", p);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* The line of @text holding @a, if it also holds @b; NULL if none. */
static const char *line_with(const char *text, const char *a, const char *b)
{
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char *line = strndup(l, len);
		int hit = line && strstr(line, a) && strstr(line, b);

		free(line);
		if (hit)
			return l;
		if (!end)
			break;
		l = end + 1;
	}
	return NULL;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Run row @r; 0 if it answered as asked, else a description in @why.
 * @hard is set for failures a TODO note does not cover. */
static int run_row(const struct row *r, char *why, size_t size, int *hard)
{
	char args[1024], cmd[2048], outdir[128], target[512] = "", left[512], path[160];
	char *out, *err, *msg;
	int status, code, bad = 0;

	*hard = 0;
	expand(r->args, args, sizeof(args));
	snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", outdir, outdir);
	assert_int_equal(system(cmd), 0);
	if (r->output)
		expand(r->output, target, sizeof(target));
	if (r->flags & KEEP) {
		FILE *f = fopen(target, "w");

		assert_non_null(f);
		fputs("OLD", f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "timeout 120 %s %s >%s/stdout 2>%s/stderr </dev/null", capsim,
		 args, tmpdir, tmpdir);
	status = system(cmd);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	snprintf(path, sizeof(path), "%s/stdout", tmpdir);
	out = read_all(path);
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	err = read_all(path);
	msg = r->stream == OUT ? out : err;

	if (code != r->code) {
		snprintf(why, size, "exit %d, expected %d%s", code, r->code,
			 code == 124 ? " (timed out: a hang)" : "");
		*hard = bad = 1;
	} else if (strstr(err, "Sanitizer") || strstr(err, "runtime error")) {
		snprintf(why, size, "a sanitizer report");
		*hard = bad = 1;
	} else if (r->output && (r->flags & KEEP) && !same_text(target, "OLD")) {
		snprintf(why, size, "the existing output %s was changed", target);
		*hard = bad = 1;
	} else if (leftovers(outdir, (r->flags & KEEP) ? target : NULL, left, sizeof(left))) {
		snprintf(why, size, "left behind: %s", left);
		*hard = bad = 1;
	} else if (!line_with(msg, r->file, r->place)) {
		snprintf(why, size, "no line on %s names both '%s' and '%s'",
			 r->stream == OUT ? "stdout" : "stderr", r->file, r->place);
		bad = 1;
	} else if (r->stream == ERR && count_lines(err) != 1) {
		snprintf(why, size, "the message is %d lines, not one", count_lines(err));
		bad = 1;
	} else if (r->not_out && strstr(out, r->not_out)) {
		snprintf(why, size, "stdout says '%s'", r->not_out);
		bad = 1;
	}
	if (bad)
		snprintf(why + strlen(why), size - strlen(why),
			 "\n    stdout: %.300s\n    stderr: %.300s", out, err);
	free(out);
	free(err);
	return bad;
}

static void test_table(void **state)
{
	int failed = 0, known = 0, skipped = 0;

	(void)state;
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		char why[2048] = "";
		int hard, bad;

		if ((r->flags & ROOT) && geteuid() != 0) {
			skipped++;
			continue;
		}
		bad = run_row(r, why, sizeof(why), &hard);
		if (bad && r->todo && !hard) {
			print_message("KNOWN  capsim %s\n    (%s)\n", r->args, r->todo);
			known++;
		} else if (bad) {
			print_message("FAILED capsim %s\n    %s\n", r->args, why);
			failed++;
		} else if (r->todo) {
			print_message("FIXED  capsim %s\n    now answers as asked: remove its TODO note (%s)\n",
				      r->args, r->todo);
			failed++;
		}
	}
	print_message("%zu rows: %d failed, %d known shortcomings, %d skipped (need root)\n", NROWS,
		      failed, known, skipped);
	assert_int_equal(failed, 0);
}

/* A record longer than the file's snaplen (but within libpcap's 262144)
 * is not an error: libpcap's pcap reader keeps snaplen bytes and skips the
 * rest, as tcpdump shows it - and capsim, which reads through libpcap, does
 * the same.  Records over 262144 bytes are errors (the table above). */
static void test_record_over_snaplen(void **state)
{
	char cmd[512], path[160], *out;
	int status;

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "%s filter run --semantics libpcap --verdicts -r %s/oversnap.pcap 'len > 0' >%s/stdout",
		 capsim, tmpdir, tmpdir);
	status = system(cmd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s/stdout", tmpdir);
	out = read_all(path);
	assert_string_equal(out, "0 40\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_record_over_snaplen),
	};

	return cmocka_run_group_tests(tests, setup, cli_teardown);
}
