/*
 * test_format.c - program formats against the installed libpcap.
 *
 * Writing: -d, -dd and -ddd must be the bytes libpcap's bpf_dump() prints
 * (options 1, 2, 3), and bpfvm_disasm_insn() the text of bpf_image(), for
 * every program libpcap compiles from a list of filter expressions
 * (optimizer on and off) and for random instructions over every 8-bit code
 * and many 16-bit ones.  Reading: every format reads back what it wrote
 * (AUTO too); -d only where the listing carries everything (format.c says
 * which programs cannot, and the parser must refuse "unimp" lines).  Then
 * the bpf_asm language by example, and error messages by exact text.
 */
#include "bpfvm.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	return (uint32_t)bpfvm_rand64(&rng_state);
}

/* ------------------------------------------------------------------ */
/* Helpers. */

/* What libpcap's bpf_dump(prog, option) prints on stdout. */
static char *libpcap_dump(const struct bpfvm_prog *p, int option)
{
	struct bpf_program bp = { .bf_len = p->len, .bf_insns = (struct bpf_insn *)p->insns };
	FILE *tmp = tmpfile();
	int saved;
	long n;
	char *buf;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 1) >= 0);
	bpf_dump(&bp, option);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	n = ftell(tmp);
	assert_true(n >= 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	rewind(tmp);
	assert_int_equal(fread(buf, 1, (size_t)n, tmp), (size_t)n);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static char *our_dump(const struct bpfvm_prog *p, enum bpfvm_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bpfvm_write(f, p, fmt), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void assert_same_prog(const struct bpfvm_prog *a, const struct bpfvm_prog *b,
			     const char *what)
{
	if (a->len != b->len) {
		print_error("%s: length %u != %u\n", what, a->len, b->len);
		fail();
	}
	for (uint32_t i = 0; i < a->len; i++)
		if (memcmp(&a->insns[i], &b->insns[i], sizeof(a->insns[i])) != 0) {
			print_error("%s: insn %u differs: {0x%x,%u,%u,0x%x} vs {0x%x,%u,%u,0x%x}\n",
				    what, i, a->insns[i].code, a->insns[i].jt, a->insns[i].jf,
				    a->insns[i].k, b->insns[i].code, b->insns[i].jt,
				    b->insns[i].jf, b->insns[i].k);
			fail();
		}
}

/* Does bpf_image() name this code?  Asked of libpcap itself. */
static int libpcap_names(uint16_t code)
{
	struct bpf_insn in = { .code = code };

	return strstr(bpf_image(&in, 0), "unimp") == NULL;
}

/* The program as the -d listing carries it: fields an instruction does
 * not print read back as 0.  Returns the index of the first instruction
 * libpcap cannot name, or -1. */
static long d_normalize(const struct bpfvm_prog *p, struct bpfvm_prog *out)
{
	long unimp = -1;

	out->len = p->len;
	out->insns = calloc(p->len ? p->len : 1, sizeof(*out->insns));
	assert_non_null(out->insns);
	for (uint32_t i = 0; i < p->len; i++) {
		struct bpfvm_insn in = p->insns[i];
		const struct bpfvm_opinfo *oi = bpfvm_opinfo(in.code);
		int cond = BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_JA;

		if (!libpcap_names(in.code) && unimp < 0)
			unimp = (long)i;
		if (!cond)
			in.jt = in.jf = 0;
		if (oi->operand == BPFVM_OPND_NONE || oi->operand == BPFVM_OPND_A ||
		    oi->operand == BPFVM_OPND_X || oi->operand == BPFVM_OPND_LEN)
			in.k = 0;
		out->insns[i] = in;
	}
	return unimp;
}

static unsigned n_roundtrips, n_dumps, n_images;

/* Write @p in every format and read it back, with that format and AUTO. */
static void check_roundtrip(const struct bpfvm_prog *p)
{
	static const enum bpfvm_format fmts[] = { BPFVM_FMT_DDD, BPFVM_FMT_DD, BPFVM_FMT_D,
						  BPFVM_FMT_ASM };

	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		char *text = our_dump(p, fmts[f]);
		struct bpfvm_prog want, got, got_auto;
		char err[BPFVM_ERRBUF_SIZE] = "", err2[BPFVM_ERRBUF_SIZE] = "";
		long unimp = -1;
		int rc, rc2;

		want = *p;
		if (fmts[f] == BPFVM_FMT_D)
			unimp = d_normalize(p, &want);
		rc = bpfvm_parse(text, "rt", fmts[f], &got, err);
		rc2 = bpfvm_parse(text, "rt", BPFVM_FMT_AUTO, &got_auto, err2);
		if (unimp >= 0) {
			char where[64];

			/* The listing cannot carry it: refused, at the unimp line. */
			snprintf(where, sizeof(where), "rt:%ld:7: 'unimp'", unimp + 1);
			if (rc == 0 || strncmp(err, where, strlen(where)) != 0) {
				print_error("-d with unimp not refused right: rc %d '%s'\n%s", rc, err,
					    text);
				fail();
			}
			assert_int_equal(rc2, -1);
			assert_string_equal(err, err2);
		} else {
			if (rc != 0 || rc2 != 0) {
				print_error("format %d: %s / %s\n%s", (int)fmts[f], err, err2, text);
				fail();
			}
			assert_same_prog(&want, &got, "round trip");
			assert_same_prog(&want, &got_auto, "round trip (auto)");
			bpfvm_prog_free(&got);
			bpfvm_prog_free(&got_auto);
		}
		if (fmts[f] == BPFVM_FMT_D)
			bpfvm_prog_free(&want);
		free(text);
		n_roundtrips++;
	}
}

/* Our three dumps against bpf_dump(), and each line against bpf_image(). */
static void check_dumps(const struct bpfvm_prog *p)
{
	static const struct {
		enum bpfvm_format fmt;
		int option;
	} pairs[] = { { BPFVM_FMT_D, 1 }, { BPFVM_FMT_DD, 2 }, { BPFVM_FMT_DDD, 3 } };

	for (size_t i = 0; i < 3; i++) {
		char *ours = our_dump(p, pairs[i].fmt);
		char *theirs = libpcap_dump(p, pairs[i].option);

		if (strcmp(ours, theirs) != 0) {
			print_error("bpf_dump option %d differs:\nours:\n%s\nlibpcap:\n%s",
				    pairs[i].option, ours, theirs);
			fail();
		}
		free(ours);
		free(theirs);
		n_dumps++;
	}
}

static void check_image(const struct bpfvm_insn *in, uint32_t pc)
{
	char ours[128];
	const char *theirs = bpf_image((const struct bpf_insn *)in, (int)pc);
	const char *body = strstr(theirs, ") ");

	assert_non_null(body);
	bpfvm_disasm_insn(in, pc, ours, sizeof(ours));
	if (strcmp(ours, body + 2) != 0) {
		print_error("code 0x%x jt %u jf %u k 0x%x pc %u:\nours    |%s|\nlibpcap |%s|\n",
			    in->code, in->jt, in->jf, in->k, pc, ours, body + 2);
		fail();
	}
	n_images++;
}

/* ------------------------------------------------------------------ */
/* Names. */

static void test_format_names(void **state)
{
	enum bpfvm_format f;

	(void)state;
	assert_int_equal(bpfvm_format_from_name("auto", &f), 0);
	assert_int_equal(f, BPFVM_FMT_AUTO);
	assert_int_equal(bpfvm_format_from_name("ddd", &f), 0);
	assert_int_equal(f, BPFVM_FMT_DDD);
	assert_int_equal(bpfvm_format_from_name("dd", &f), 0);
	assert_int_equal(f, BPFVM_FMT_DD);
	assert_int_equal(bpfvm_format_from_name("d", &f), 0);
	assert_int_equal(f, BPFVM_FMT_D);
	assert_int_equal(bpfvm_format_from_name("asm", &f), 0);
	assert_int_equal(f, BPFVM_FMT_ASM);
	assert_int_equal(bpfvm_format_from_name("dddd", &f), -1);
	assert_int_equal(bpfvm_format_from_name("", &f), -1);
}

/* ------------------------------------------------------------------ */
/* Programs libpcap compiles. */

static const char *const exprs[] = {
	"",
	"ip",
	"ip6",
	"arp",
	"rarp",
	"tcp",
	"udp",
	"icmp",
	"icmp6",
	"sctp",
	"igmp",
	"pim",
	"vrrp",
	"ah",
	"esp",
	"tcp port 80",
	"udp port 53",
	"port 22",
	"not port 22",
	"portrange 1000-2000",
	"tcp portrange 1-1023",
	"src port 1024 and dst port 80",
	"tcp and not (port 80 or port 443)",
	"ip and (tcp or udp)",
	"ip6 and tcp port 443",
	"host 10.0.0.1",
	"src host 192.168.1.1",
	"dst net 10.0.0.0/8",
	"net 172.16.0.0 mask 255.240.0.0",
	"ip host 1.2.3.4 and not ip host 5.6.7.8",
	"ip6 host ::1",
	"ip6 net fe80::/10",
	"ip6 multicast",
	"ip multicast",
	"ether host 00:11:22:33:44:55",
	"ether src 00:00:00:00:00:01",
	"ether broadcast",
	"ether multicast",
	"ether proto 0x88cc",
	"ether[0] & 1 = 1",
	"vlan",
	"vlan 100",
	"vlan and tcp",
	"vlan 10 and vlan 20",
	"mpls",
	"mpls 100 and ip",
	"pppoes",
	"pppoes 0x27 and ip",
	"stp",
	"llc",
	"iso",
	"ipx",
	"atalk",
	"aarp",
	"decnet",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"tcp[13] & 2 = 2",
	"ip[2:2] > 576",
	"ip[6:2] & 0x1fff = 0",
	"ip[0] & 0xf > 5",
	"len > 100",
	"len <= 64",
	"greater 1000",
	"less 60",
	"ip proto 47",
	"icmp[icmptype] = icmp-echo",
	"icmp[0] == 8",
	"udp[8:4] = 0x12345678",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
	"ip[0] * 3 + 1 - 2 / 1 = 5",
	"ip[0] << 1 >> 1 = 69",
	"ip[0] & 1 | 2 = 3",
	"udp[0:2] % 7 = 1",
	"udp[0:2] ^ 3 = 1",
	"ether[len - 4:4] = 0",
	"ip[ip[0] & 0xf:1] = 0",
	"- ip[0] = 0",
	"ip[0] != ip[1]",
	"ip[0] > ip[1] and ip[2] < 5",
	"udp port 67 or udp port 68 or arp or icmp",
	"(tcp port 80 and host 10.1.1.1) or (udp and not host 10.2.2.2)",
};

static void test_libpcap_programs(void **state)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 262144);
	unsigned progs = 0, d_lossy = 0;

	(void)state;
	assert_non_null(pd);
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++)
		for (int opt = 0; opt <= 1; opt++) {
			struct bpf_program bp;
			struct bpfvm_prog p;

			if (pcap_compile(pd, &bp, exprs[e], opt, PCAP_NETMASK_UNKNOWN) != 0) {
				print_error("'%s': %s\n", exprs[e], pcap_geterr(pd));
				fail();
			}
			p.insns = (struct bpfvm_insn *)bp.bf_insns;
			p.len = bp.bf_len;
			check_dumps(&p);
			for (uint32_t i = 0; i < p.len; i++)
				check_image(&p.insns[i], i);
			/* libpcap never emits a code bpf_image cannot name; but
			 * its code generator does leave k set on some tax
			 * instructions, which the -d listing drops. */
			{
				struct bpfvm_prog norm;

				assert_int_equal(d_normalize(&p, &norm), -1);
				for (uint32_t i = 0; i < p.len; i++)
					if (memcmp(&p.insns[i], &norm.insns[i], sizeof(norm.insns[i]))) {
						print_message("'%s' (optimize %d): insn %u {0x%x,%u,%u,0x%x} "
							      "loses fields in -d\n", exprs[e], opt, i,
							      p.insns[i].code, p.insns[i].jt,
							      p.insns[i].jf, p.insns[i].k);
						d_lossy++;
						break;
					}
				bpfvm_prog_free(&norm);
			}
			check_roundtrip(&p);
			pcap_freecode(&bp);
			progs++;
		}
	pcap_close(pd);
	print_message("%u expressions, %u programs (%u lose a field in -d), %u dumps compared\n",
		      (unsigned)(sizeof(exprs) / sizeof(exprs[0])), progs, d_lossy, n_dumps);
	assert_true(sizeof(exprs) / sizeof(exprs[0]) >= 60);
}

/* ------------------------------------------------------------------ */
/* Random instructions. */

/* A k that hits the printers' corners now and then. */
static uint32_t random_k(void)
{
	static const uint32_t corners[] = {
		0, 1, 12, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe,
		(uint32_t)SKF_NET_OFF, (uint32_t)SKF_LL_OFF, (uint32_t)SKF_NET_OFF + 9,
		(uint32_t)SKF_AD_OFF - 1,
	};
	uint32_t r = rnd() % 8;

	if (r == 0)
		return corners[rnd() % (sizeof(corners) / sizeof(corners[0]))];
	if (r == 1)
		return (uint32_t)SKF_AD_OFF + rnd() % 72;	/* ancillary names and gaps */
	if (r == 2)
		return rnd() % 300;
	return rnd();
}

static struct bpfvm_insn random_insn(uint16_t code)
{
	struct bpfvm_insn in = { .code = code, .k = random_k() };
	uint32_t r = rnd() % 4;

	/* Canonical forms (unused fields 0) half of the time, so bpf_asm can
	 * print them without .insn. */
	if (r < 2) {
		in.jt = (uint8_t)rnd();
		in.jf = (uint8_t)rnd();
	} else if (r == 2) {
		in.k = 0;
	}
	return in;
}

static void test_random_insns(void **state)
{
	unsigned singles = 0, progs = 0;

	(void)state;
	rng_state = 0x5eed0001;
	n_images = 0;
	/* Every low-byte code, then codes >= 256. */
	for (unsigned code = 0; code < 256 + 4096; code++) {
		uint16_t c = code < 256 ? (uint16_t)code : (uint16_t)(256 + rnd() % 65280);

		for (int rep = 0; rep < (code < 256 ? 48 : 2); rep++) {
			struct bpfvm_insn in = random_insn(c);
			struct bpfvm_prog p = { &in, 1 };
			uint32_t pc = rep == 0 ? 0 : rnd() % (rep & 1 ? 4096 : 100000);

			check_image(&in, pc);
			check_roundtrip(&p);
			if (rep < 3)
				check_dumps(&p);
			singles++;
		}
	}
	/* Longer programs: mixed codes, jumps mostly inside the program. */
	for (int n = 0; n < 300; n++) {
		uint32_t len = 1 + rnd() % (n < 290 ? 300 : BPFVM_MAXINSNS);
		struct bpfvm_prog p = { calloc(len, sizeof(struct bpfvm_insn)), len };
		const uint16_t *codes;
		size_t ncodes = bpfvm_linux_codes(&codes);

		assert_non_null(p.insns);
		for (uint32_t i = 0; i < len; i++) {
			uint32_t r = rnd() % 10;
			uint16_t c = r < 7 ? codes[rnd() % ncodes]
					   : (uint16_t)(r < 9 ? rnd() % 256 : rnd() % 65536);
			struct bpfvm_insn in = random_insn(c);

			if (rnd() % 4 != 0) {	/* keep jumps inside */
				uint32_t room = len - i - 1;

				in.jt = (uint8_t)(room ? rnd() % (room < 256 ? room : 256) : 0);
				in.jf = (uint8_t)(room ? rnd() % (room < 256 ? room : 256) : 0);
				if (BPF_CLASS(c) == BPF_JMP && BPF_OP(c) == BPF_JA)
					in.k = room ? rnd() % room : 0;
				else if (BPF_CLASS(c) == BPF_JMP)
					;
				else
					in.jt = in.jf = 0;
			}
			p.insns[i] = in;
		}
		check_dumps(&p);
		check_roundtrip(&p);
		free(p.insns);
		progs++;
	}
	print_message("%u single instructions, %u programs; %u bpf_image and %u bpf_dump "
		      "comparisons, %u round trips\n",
		      singles, progs, n_images, n_dumps, n_roundtrips);
}

/* The set of codes bpf_image() names is the table's, less 0x81. */
static void test_listing_knows_table(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 65536; c++) {
		int ours = c < 256 && bpfvm_opinfo((uint16_t)c)->mnemonic && c != 0x81;

		if (ours != libpcap_names((uint16_t)c)) {
			print_error("code 0x%x: table says %d, bpf_image %d\n", c, ours,
				    libpcap_names((uint16_t)c));
			fail();
		}
	}
}

/* (mnemonic, operand kind) picks exactly one code: the assembler's reverse
 * lookup relies on it. */
static void test_table_unique(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = a + 1; b < 256; b++) {
			const struct bpfvm_opinfo *x = bpfvm_opinfo((uint16_t)a);
			const struct bpfvm_opinfo *y = bpfvm_opinfo((uint16_t)b);

			if (x->mnemonic && y->mnemonic && x->operand == y->operand &&
			    strcmp(x->mnemonic, y->mnemonic) == 0) {
				print_error("codes 0x%x and 0x%x share '%s' %u\n", a, b,
					    x->mnemonic, x->operand);
				fail();
			}
		}
}

/* ------------------------------------------------------------------ */
/* bpf_asm by example: each text against the instructions it must give. */

struct asm_case {
	const char *src;
	const char *ddd;	/* expected, as -ddd text; NULL: the error below */
	const char *err;
};

static const struct asm_case asm_cases[] = {
	/* The kernel documentation's ARP example (filter.rst). */
	{ "  ldh [12]\n  jne #0x806, drop\n  ret #-1\n  drop: ret #0\n",
	  "4\n40 0 0 12\n21 0 1 2054\n6 0 0 4294967295\n6 0 0 0\n", NULL },
	/* Loads into A. */
	{ "ld #5\nld #0x10\nld #010\nld #0b101\nld #-1\nldi #7\nldi 8\n",
	  "7\n0 0 0 5\n0 0 0 16\n0 0 0 8\n0 0 0 5\n0 0 0 4294967295\n0 0 0 7\n0 0 0 8\n", NULL },
	{ "ld [12]\nldh [12]\nldb [23]\nld [x + 4]\nldh [x+2]\nldb [%x + 1]\nld [-1048576]\n",
	  "7\n32 0 0 12\n40 0 0 12\n48 0 0 23\n64 0 0 4\n72 0 0 2\n80 0 0 1\n32 0 0 4293918720\n",
	  NULL },
	{ "ld #len\nld len\nld #pktlen\nld M[3]\nldx M[15]\nldx #len\n",
	  "6\n128 0 0 0\n128 0 0 0\n128 0 0 0\n96 0 0 3\n97 0 0 15\n129 0 0 0\n", NULL },
	/* Ancillary loads: "ld #proto" is a load at SKF_AD_OFF, not a constant. */
	{ "ld #proto\nld #type\nld #ifidx\nld #nla\nld #nlan\nld #mark\nld #queue\nld #hatype\n"
	  "ld #rxhash\nld #cpu\nld #vlan_tci\nld #vlan_avail\nld #vlan_tpid\nld #poff\nld #rand\n"
	  "ldh #proto\nldb #type\nld vlan_pr\nLD #PROTO\n",
	  "19\n32 0 0 4294963200\n32 0 0 4294963204\n32 0 0 4294963208\n32 0 0 4294963212\n"
	  "32 0 0 4294963216\n32 0 0 4294963220\n32 0 0 4294963224\n32 0 0 4294963228\n"
	  "32 0 0 4294963232\n32 0 0 4294963236\n32 0 0 4294963244\n32 0 0 4294963248\n"
	  "32 0 0 4294963260\n32 0 0 4294963252\n32 0 0 4294963256\n40 0 0 4294963200\n"
	  "48 0 0 4294963204\n32 0 0 4294963248\n32 0 0 4294963200\n",
	  NULL },
	/* Loads into X, stores. */
	{ "ldx #3\nldxi #4\nldxi 5\nldxb 4*([14]&0xf)\nldx 4*([14]&0xf)\nst M[0]\nstx M[1]\n",
	  "7\n1 0 0 3\n1 0 0 4\n1 0 0 5\n177 0 0 14\n177 0 0 14\n2 0 0 0\n3 0 0 1\n", NULL },
	/* ALU. */
	{ "add #1\nsub #2\nmul #3\ndiv #4\nmod #5\nand #0xff\nor #0x100\nxor #7\nlsh #8\n"
	  "rsh #9\nneg\nadd x\nsub %x\nmul x\ndiv x\nmod x\nand x\nor x\nxor x\nlsh x\nrsh x\n"
	  "tax\ntxa\n",
	  "23\n4 0 0 1\n20 0 0 2\n36 0 0 3\n52 0 0 4\n148 0 0 5\n84 0 0 255\n68 0 0 256\n"
	  "164 0 0 7\n100 0 0 8\n116 0 0 9\n132 0 0 0\n12 0 0 0\n28 0 0 0\n44 0 0 0\n60 0 0 0\n"
	  "156 0 0 0\n92 0 0 0\n76 0 0 0\n172 0 0 0\n108 0 0 0\n124 0 0 0\n7 0 0 0\n135 0 0 0\n",
	  NULL },
	/* Returns. */
	{ "ret #0\nret #262144\nret a\nret %a\n", "4\n6 0 0 0\n6 0 0 262144\n22 0 0 0\n22 0 0 0\n",
	  NULL },
	/* Jumps: one and two targets, negated forms, ja/jmp, labels alone. */
	{ "jeq #1, l1, l2\njeq x, l1\njgt #2, l1\njge x, l1, l2\njset #4, l2, l1\n"
	  "jneq #5, l2\njne x, l2\njlt #6, l2\njle %x, l2\nl1: ja l2\nl2:\n  ret #1\n",
	  "11\n21 8 9 1\n29 7 0 0\n37 6 0 2\n61 5 6 0\n69 5 4 4\n21 0 4 5\n29 0 3 0\n53 0 2 6\n"
	  "45 0 1 0\n5 0 0 0\n6 0 0 1\n",
	  NULL },
	/* jmp to a label behind: k wraps, as bpf_asm's does. */
	{ "top: ret #0\njmp top\n", "2\n6 0 0 0\n5 0 0 4294967294\n", NULL },
	/* Comments, case, blank lines, cpp lines. */
	{ "# 1 \"filter.bpf\"\n; a comment\n/* block\n comment */ LDH [12] ; trailing\n\n"
	  "JEQ #0x800, Yes /* x */, No\nYes: RET #1\nNo: ret #0\n",
	  "4\n40 0 0 12\n21 0 1 2048\n6 0 0 1\n6 0 0 0\n", NULL },
	/* .insn: any 8 bytes. */
	{ ".insn 0x0e, 1, 2, 0xffffffff\n.insn 65535, 255, 0, -1\n",
	  "2\n14 1 2 4294967295\n65535 255 0 4294967295\n", NULL },
	/* Errors. */
	{ "ld #1\nfoo #2\n", NULL, "p.asm:2:1: unknown mnemonic 'foo'" },
	{ "ldh [12]\njeq #1 l1\nl1: ret #0\n", NULL,
	  "p.asm:2:8: expected ',' after the jump condition, found 'l'" },
	{ "jeq #1, l1 l2\nl1: ret #0\n", NULL, "p.asm:1:12: expected ',' or end of line after the jump target, found 'l'" },
	{ "jneq #1, a1, a2\na1: ret #0\na2: ret #1\n", NULL,
	  "p.asm:1:12: 'jneq' takes one target (it becomes jf); expected end of line" },
	{ "ja nowhere\nret #0\n", NULL, "p.asm:1:4: no such label 'nowhere'" },
	{ "l1: ret #0\nl1: ret #1\n", NULL, "p.asm:2:1: label 'l1' is already defined (instruction 0)" },
	{ "ret #0\nend:\n", NULL, "p.asm:2:1: label 'end' is not followed by an instruction" },
	{ "l1: ret #0\njeq #1, l1\nret #0\n", NULL,
	  "p.asm:2:9: jump from instruction 1 to 'l1' (instruction 0) goes backward; jt/jf only go "
	  "forward" },
	{ "ld #4294967296\n", NULL, "p.asm:1:5: a constant after '#' 4294967296 is out of range "
				    "[-2147483648, 4294967295]" },
	{ "ld #08\n", NULL, "p.asm:1:5: malformed number for a constant after '#'" },
	{ "ld 5\n", NULL, "p.asm:1:4: a constant needs '#' here: 'ld #5'" },
	{ "ldb #5\n", NULL, "p.asm:1:5: 'ldb' does not take the operand '#5'" },
	{ "ret x\n", NULL,
	  "p.asm:1:5: 'ret' does not take the operand 'x' (BPF_RET|BPF_X is not in the opcode "
	  "table; write .insn 0x0e, 0, 0, 0)" },
	{ "ret\n", NULL, "p.asm:1:4: 'ret' needs an operand" },
	{ "ldxb 4*([14]&0xe)\n", NULL, "p.asm:1:14: only 4*([k]&0xf) exists: the mask must be 0xf" },
	{ "ld #nope\n", NULL, "p.asm:1:5: unknown extension '#nope'" },
	{ "len: ret #0\n", NULL, "p.asm:1:1: 'len' is a bpf_asm keyword and cannot be a label" },
	{ "ret #0 /* open\n", NULL, "p.asm:1:8: unterminated comment" },
	{ "; nothing\n", NULL, "p.asm:2:1: expected an instruction, found end of input" },
	{ "ret #0 ret #1\n", NULL, "p.asm:1:8: expected end of line after the instruction, found 'r'" },
	{ "jeq #1, l1, l2, l3\nl1: l2: l3: ret #0\n", NULL,
	  "p.asm:1:15: expected end of line after the instruction, found ','" },
	{ "ld [x + 1\n", NULL, "p.asm:1:10: expected ']' after the offset, found end of line" },
};

static void test_asm_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(asm_cases) / sizeof(asm_cases[0]); i++) {
		const struct asm_case *c = &asm_cases[i];
		struct bpfvm_prog got, want;
		char err[BPFVM_ERRBUF_SIZE] = "";
		int rc = bpfvm_parse(c->src, "p.asm", BPFVM_FMT_ASM, &got, err);

		if (!c->ddd) {
			if (rc == 0 || strcmp(err, c->err) != 0) {
				print_error("case %zu: want error\n  %s\ngot rc %d\n  %s\n", i, c->err,
					    rc, err);
				fail();
			}
			continue;
		}
		if (rc != 0) {
			print_error("case %zu: %s\n", i, err);
			fail();
		}
		assert_int_equal(bpfvm_parse(c->ddd, "want", BPFVM_FMT_DDD, &want, err), 0);
		assert_same_prog(&want, &got, c->src);
		/* AUTO takes bpf_asm for all of these. */
		bpfvm_prog_free(&got);
		assert_int_equal(bpfvm_parse(c->src, "p.asm", BPFVM_FMT_AUTO, &got, err), 0);
		assert_same_prog(&want, &got, c->src);
		check_roundtrip(&want);
		bpfvm_prog_free(&got);
		bpfvm_prog_free(&want);
	}
}

/* A jump that cannot reach names its line. */
static void test_asm_far_jump(void **state)
{
	size_t cap = 300 * 16;
	char *src = malloc(cap), *p = src, err[BPFVM_ERRBUF_SIZE];
	struct bpfvm_prog prog;

	(void)state;
	assert_non_null(src);
	p += sprintf(p, "ldb [0]\njeq #1, far\n");
	for (int i = 0; i < 256; i++)
		p += sprintf(p, "ret #%d\n", i);
	sprintf(p, "far: ret #0\n");
	assert_int_equal(bpfvm_parse(src, "far.asm", BPFVM_FMT_ASM, &prog, err), -1);
	assert_string_equal(err, "far.asm:2:9: jump from instruction 1 to 'far' (instruction "
				 "258) is 256 ahead; jt/jf reach at most 255");
	/* One fewer filler and it fits. */
	p = strstr(src, "ret #255\n");
	memmove(p, p + 9, strlen(p + 9) + 1);
	assert_int_equal(bpfvm_parse(src, "far.asm", BPFVM_FMT_ASM, &prog, err), 0);
	assert_int_equal(prog.insns[1].jt, 255);
	bpfvm_prog_free(&prog);
	free(src);
}

/* ------------------------------------------------------------------ */
/* The three dumps: reading and errors. */

struct parse_case {
	enum bpfvm_format fmt;
	const char *src;
	const char *err;	/* NULL: must parse, to @ddd */
	const char *ddd;
};

static const struct parse_case parse_cases[] = {
	/* -ddd: lines, commas (bpf_asm/xt_bpf), blank lines. */
	{ BPFVM_FMT_DDD, "2\n6 0 0 1\n6 0 0 0\n", NULL, "2\n6 0 0 1\n6 0 0 0\n" },
	{ BPFVM_FMT_DDD, "2,6 0 0 1,6 0 0 0,\n", NULL, "2\n6 0 0 1\n6 0 0 0\n" },
	{ BPFVM_FMT_DDD, "\n 1\n\n6 0 0 65535\n\n", NULL, "1\n6 0 0 65535\n" },
	{ BPFVM_FMT_DDD, "0\n", NULL, "0\n" },
	{ BPFVM_FMT_DDD, "2\n6 0 0 1\n", "p:3:1: expected instruction 1 of 2, found end of input",
	  NULL },
	{ BPFVM_FMT_DDD, "1\n6 0 0 1\n6 0 0 0\n",
	  "p:3:1: expected end of input after 1 instructions (the count), found '6'", NULL },
	{ BPFVM_FMT_DDD, "1\n6 0 256 1\n", "p:2:5: jf 256 is out of range [0, 255]", NULL },
	{ BPFVM_FMT_DDD, "1\n6 0 0 0x10\n", "p:2:8: malformed number for k: unexpected 'x'", NULL },
	{ BPFVM_FMT_DDD, "1\n65536 0 0 0\n", "p:2:1: a code 65536 is out of range [0, 65535]", NULL },
	{ BPFVM_FMT_DDD, "4097\n", "p:1:1: count 4097 is more than 4096 instructions (BPF_MAXINSNS)",
	  NULL },
	{ BPFVM_FMT_DDD, "1 6 0 0 0\n",
	  "p:1:3: expected end of line or ',' after the instruction count, found '6'", NULL },
	{ BPFVM_FMT_DDD, "", "p:1:1: expected the instruction count, found end of input", NULL },
	/* -dd: tcpdump's and bpf_asm -c's spellings. */
	{ BPFVM_FMT_DD, "{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00040000 },\n", NULL,
	  "2\n40 0 0 12\n6 0 0 262144\n" },
	{ BPFVM_FMT_DD, "{ 0000,  0,  0, 0x00000001 },\n{ 0x16,  0,  0, 0000000000 }\n", NULL,
	  "2\n0 0 0 1\n22 0 0 0\n" },
	{ BPFVM_FMT_DD, "{ 0x28, 0, 0 0x0000000c },\n",
	  "p:1:14: expected ',' after jf, found '0'", NULL },
	{ BPFVM_FMT_DD, "{ 0x28, 0, 0, 0xc } x\n",
	  "p:1:21: expected ',' or end of line after '}', found 'x'", NULL },
	{ BPFVM_FMT_DD, "{ 0x28, 0, 0, 0xc },\n0x6\n",
	  "p:2:1: expected '{' starting instruction 1, found '0'", NULL },
	{ BPFVM_FMT_DD, "\n", "p:2:1: expected '{ code, jt, jf, k },', found end of input", NULL },
	/* -d: libpcap's listing. */
	{ BPFVM_FMT_D,
	  "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 5\n"
	  "(002) ldb      [vlanp]\n(003) ja       5\n(004) ret      \n(005) ret      #-1\n",
	  NULL,
	  "6\n40 0 0 12\n21 0 3 2048\n48 0 0 4294963248\n5 0 0 1\n22 0 0 0\n6 0 0 4294967295\n" },
	{ BPFVM_FMT_D, "(000) ld       [xor_x]\n(001) ldxb     4*([14]&0xf)\n(002) ret      #0\n",
	  NULL, "3\n32 0 0 4294963240\n177 0 0 14\n6 0 0 0\n" },
	{ BPFVM_FMT_D, "(000) ldh      [12]\n(001) jeq      #0x800           jt 0\tjf 5\n",
	  "p:2:36: jt target 0 is not after instruction 1", NULL },
	{ BPFVM_FMT_D, "(000) jeq      #0x800           jt 300\tjf 5\n",
	  "p:1:36: jt target 300 is 299 instructions after 0; jt/jf reach at most 255", NULL },
	{ BPFVM_FMT_D, "(000) jeq      #0x800           jt 1\n",
	  "p:1:37: expected 'jf' and a target, found end of line", NULL },
	{ BPFVM_FMT_D, "(000) unimp    0x81\n",
	  "p:1:7: 'unimp' cannot be read back: the listing drops k (and jt/jf) of codes bpf_image "
	  "cannot name; use -dd or -ddd",
	  NULL },
	{ BPFVM_FMT_D, "(000) ret #0\n(002) ret #1\n",
	  "p:2:2: instruction index 2 out of sequence, expected 1", NULL },
	{ BPFVM_FMT_D, "(000) ldb      [bogus]\n", "p:1:17: unknown ancillary load 'bogus'", NULL },
	{ BPFVM_FMT_D, "(000) ldb      #5\n", "p:1:16: 'ldb' does not take the operand '#5'", NULL },
	{ BPFVM_FMT_D, "(000) frob     #5\n", "p:1:7: unknown mnemonic 'frob'", NULL },
	{ BPFVM_FMT_D, "(000) ret      #5 jt 1\tjf 2\n",
	  "p:1:19: expected end of line after the operand, found 'j'", NULL },
	{ BPFVM_FMT_D, "ldh [12]\n", "p:1:1: expected '(000)' starting a listing line, found 'l'",
	  NULL },
	/* bpf_asm's empty program. */
	{ BPFVM_FMT_ASM, "", "p:1:1: expected an instruction, found end of input", NULL },
};

static void test_parse_cases(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct bpfvm_prog got, want;
		char err[BPFVM_ERRBUF_SIZE] = "";
		int rc = bpfvm_parse(c->src, "p", c->fmt, &got, err);

		if (c->err) {
			if (rc == 0 || strcmp(err, c->err) != 0) {
				print_error("case %zu: want\n  %s\ngot rc %d\n  %s\n", i, c->err, rc,
					    err);
				bad++;
			}
			assert_null(got.insns);
			continue;
		}
		if (rc != 0) {
			print_error("case %zu: %s\n", i, err);
			fail();
		}
		assert_int_equal(bpfvm_parse(c->ddd, "want", BPFVM_FMT_DDD, &want, err), 0);
		assert_same_prog(&want, &got, c->src);
		bpfvm_prog_free(&got);
		/* AUTO agrees (the -ddd and -dd inputs all start as their format). */
		assert_int_equal(bpfvm_parse(c->src, "p", BPFVM_FMT_AUTO, &got, err), 0);
		assert_same_prog(&want, &got, c->src);
		bpfvm_prog_free(&got);
		bpfvm_prog_free(&want);
	}
	assert_int_equal(bad, 0);
}

/* 4096 instructions parse in every format; 4097 are refused with a
 * message; an empty program only through -ddd's explicit "0". */
static void test_limits(void **state)
{
	static const enum bpfvm_format fmts[] = { BPFVM_FMT_DDD, BPFVM_FMT_DD, BPFVM_FMT_D,
						  BPFVM_FMT_ASM };
	struct bpfvm_prog p = { calloc(BPFVM_MAXINSNS + 1, sizeof(struct bpfvm_insn)), 0 };
	struct bpfvm_prog empty = { NULL, 0 };

	(void)state;
	assert_non_null(p.insns);
	for (uint32_t i = 0; i <= BPFVM_MAXINSNS; i++)
		p.insns[i] = (struct bpfvm_insn){ .code = BPF_RET | BPF_K, .k = i };
	for (size_t f = 0; f < 4; f++) {
		struct bpfvm_prog got;
		char err[BPFVM_ERRBUF_SIZE] = "";
		char *text;

		p.len = BPFVM_MAXINSNS;
		text = our_dump(&p, fmts[f]);
		assert_int_equal(bpfvm_parse(text, "big", fmts[f], &got, err), 0);
		assert_same_prog(&p, &got, "4096 insns");
		bpfvm_prog_free(&got);
		free(text);

		p.len = BPFVM_MAXINSNS + 1;
		text = our_dump(&p, fmts[f]);
		assert_int_equal(bpfvm_parse(text, "big", fmts[f], &got, err), -1);
		assert_non_null(strstr(err, "more than 4096 instructions"));
		if (fmts[f] == BPFVM_FMT_DDD)
			assert_string_equal(err, "big:1:1: count 4097 is more than 4096 "
						 "instructions (BPF_MAXINSNS)");
		else	/* the place of the 4097th instruction */
			assert_string_equal(err + strcspn(err, ":"),
					    fmts[f] == BPFVM_FMT_ASM
						    ? ":4097:2: more than 4096 instructions (BPF_MAXINSNS)"
						    : ":4097:1: more than 4096 instructions (BPF_MAXINSNS)");
		free(text);

		text = our_dump(&empty, fmts[f]);
		assert_int_equal(bpfvm_parse(text, "e", fmts[f], &got, err),
				 fmts[f] == BPFVM_FMT_DDD ? 0 : -1);
		if (fmts[f] == BPFVM_FMT_DDD) {
			assert_int_equal(got.len, 0);
			bpfvm_prog_free(&got);
		}
		free(text);
	}
	free(p.insns);
}

/* What bpfvm_write prints in bpf_asm for a small program (so readers of
 * this suite see the form), and that it reads back. */
static void test_asm_output_form(void **state)
{
	struct bpfvm_insn insns[] = {
		{ BPF_LD | BPF_H | BPF_ABS, 0, 0, 12 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0x800 },
		{ BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE },
		{ BPF_JMP | BPF_JSET | BPF_K, 0, 1, 4 },
		{ BPF_RET | BPF_K, 0, 0, 262144 },
		{ BPF_RET | BPF_X, 0, 0, 0 },
	};
	struct bpfvm_prog p = { insns, 6 };
	char *text = our_dump(&p, BPFVM_FMT_ASM);

	(void)state;
	assert_string_equal(text, "\tldh [12]\n"
				  "\tjneq #0x800, L5\n"
				  "\tldb #type\n"
				  "\tjset #0x4, L4, L5\n"
				  "L4:\tret #262144\n"
				  "L5:\t.insn 0xe, 0, 0, 0x0\t; unimp    0xe\n");
	free(text);
	check_roundtrip(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_table_unique),
		cmocka_unit_test(test_listing_knows_table),
		cmocka_unit_test(test_libpcap_programs),
		cmocka_unit_test(test_random_insns),
		cmocka_unit_test(test_asm_cases),
		cmocka_unit_test(test_asm_far_jump),
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_asm_output_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
