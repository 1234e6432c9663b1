/*
 * cmd_bench.c - `capsim bench`: ns/packet of capsim's VM against the
 * installed libpcap's bpf_filter(), same programs, same packets, same
 * process and run, and the ratio.  Timings are printed, never asserted.
 *
 * How it is fair: both engines get the same compiled program and the same
 * packet array, one call per packet, the results summed so no call can be
 * skipped; the three timings of a filter are taken in turn inside each
 * round (rotating which goes first), so a neighbour's burst of load hits
 * all three alike, and the best round of each counts.  Before timing,
 * every packet's verdict in libpcap semantics is checked against
 * bpf_filter()'s.
 */
#include "cli.h"
#include "sim.h"
#include "trace.h"

#include <getopt.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Typical tcpdump filters, from the trivial to the long. */
static const char *const suite[] = {
	"",
	"tcp",
	"udp port 53",
	"host 127.0.0.1",
	"tcp port 80",
	"net 127.0.0.0/8 and not port 22",
	"ip6 and tcp port 443",
	"arp or icmp or icmp6",
	"vlan and ip",
	"tcp[tcpflags] & tcp-syn != 0",
	"portrange 1000-2000",
	"ether broadcast or ether multicast",
	"greater 100 and ip",
	"ip and (tcp port 80 or tcp port 443 or udp port 53) and not host 127.0.0.2",
};
#define NSUITE (sizeof(suite) / sizeof(suite[0]))

enum engine { ENG_BPF_FILTER, ENG_VM_LIBPCAP, ENG_VM_LINUX, ENG_COUNT };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, NSUITE, sizeof(*v), cmp_double);
	return NSUITE % 2 ? v[NSUITE / 2] : (v[NSUITE / 2 - 1] + v[NSUITE / 2]) / 2;
}

/* The packets each engine is handed, prepared once outside the timing. */
struct bench_set {
	uint32_t n;
	size_t frame_bytes;		/* the frames, packed */
	size_t view_bytes;		/* receive-side copies (none for SOCK_RAW) */
	struct bpfvm_packet *pcap;	/* the records, for libpcap semantics and bpf_filter() */
	struct bpfvm_packet *lin;	/* the receive-side views, for linux semantics */
	struct bpfvm_meta *meta;
	uint8_t *frames, *viewbuf;
};

static int bench_set_build(struct bench_set *b, uint32_t n, uint64_t seed)
{
	struct trace_gen_opts g;
	struct sim_rx_dev dev;
	uint64_t rng;
	uint8_t *frames;

	trace_gen_opts_init(&g);
	g.seed = seed;
	g.runt_pct = 0;	/* every frame reaches the taps: the bench times filters */
	sim_rx_dev_init(&dev);
	b->n = n;
	b->pcap = calloc(n, sizeof(*b->pcap));
	b->lin = calloc(n, sizeof(*b->lin));
	b->meta = calloc(n, sizeof(*b->meta));
	/* Packed back to back, so the set stays in cache and the bench times
	 * the interpreters rather than memory. */
	frames = b->frames = malloc((size_t)n * TRACE_GEN_MAXFRAME);
	b->viewbuf = malloc((size_t)n * TRACE_GEN_MAXFRAME);
	size_t used = 0, vused = 0;
	if (!b->pcap || !b->lin || !b->meta || !frames || !b->viewbuf)
		return -1;
	rng = seed;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = frames + used;
		uint32_t caplen, len = trace_gen_frame(&rng, &g, f, &caplen);
		struct sim_rx_view v;

		used += caplen;
		b->pcap[i] = (struct bpfvm_packet){ .bytes = f, .caplen = caplen, .wirelen = len };
		sim_rx_view(&dev, f, caplen, SIM_SOCK_RAW, b->viewbuf + vused, &v);
		if (v.pkt.bytes != f)
			vused += v.pkt.caplen;
		b->lin[i] = v.pkt;
		b->meta[i] = v.meta;
	}
	b->frame_bytes = used;
	b->view_bytes = vused;
	return 0;
}

/* One timed block: @passes passes of the set through one engine, in
 * ns/packet; the sum of the results goes to @sum. */
static double time_block(enum engine e, const struct bench_set *b, const struct bpf_insn *insns,
			 const struct bpfvm *vm, unsigned passes, uint64_t *sum)
{
	uint64_t s = 0;
	double t0 = now_ns();

	for (unsigned p = 0; p < passes; p++) {
		if (e == ENG_BPF_FILTER)
			for (uint32_t i = 0; i < b->n; i++)
				s += bpf_filter(insns, b->pcap[i].bytes, b->pcap[i].wirelen,
						b->pcap[i].caplen);
		else if (e == ENG_VM_LIBPCAP)
			for (uint32_t i = 0; i < b->n; i++)
				s += bpfvm_run(vm, &b->pcap[i], NULL);
		else
			for (uint32_t i = 0; i < b->n; i++)
				s += bpfvm_run(vm, &b->lin[i], &b->meta[i]);
	}
	*sum = s;
	return (now_ns() - t0) / ((double)b->n * passes);
}

/* The first packet whose verdict in libpcap semantics differs from
 * bpf_filter()'s, or -1. */
static long first_difference(const struct bench_set *b, const struct bpf_insn *insns,
			     const struct bpfvm *vm)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (bpf_filter(insns, b->pcap[i].bytes, b->pcap[i].wirelen, b->pcap[i].caplen) !=
		    bpfvm_run(vm, &b->pcap[i], NULL))
			return (long)i;
	return -1;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "packets", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "passes", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t npkts = 2048, rounds = 21, passes = 50;
	double ratio_pcap[NSUITE], ratio_lin[NSUITE];
	struct bench_set b = { 0 };
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_u32(optarg, 10000000, &npkts) != 0 || npkts == 0) {
				cli_error("--packets: '%s' is not a count from 1 to 10000000", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'R':
			if (cli_parse_u32(optarg, 1000, &rounds) != 0 || rounds == 0) {
				cli_error("--rounds: '%s' is not a count from 1 to 1000", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (cli_parse_u32(optarg, 100000, &passes) != 0 || passes == 0) {
				cli_error("--passes: '%s' is not a count from 1 to 100000", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: capsim bench [--packets N] [--rounds R] [--passes P]\n\n"
			       "Runs %zu typical tcpdump filters over N (2048) generated frames packed\n"
			       "in memory, small enough to stay in cache so the interpreters are timed,\n"
			       "not memory, through libpcap's bpf_filter() and capsim's VM in both\n"
			       "semantics, in this one process, one call per packet.  A round times P\n"
			       "(50) passes over the frames with each engine in turn; the best of R (21)\n"
			       "rounds counts.  Prints ns/packet, the ratio bpf_filter/capsim per filter\n"
			       "(above 1: capsim is faster) and the median ratio over the suite.\n"
			       "`make bench` also times whole processes against tcpdump.\n",
			       NSUITE);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (bench_set_build(&b, npkts, 42) != 0) {
		cli_error("out of memory building %u packets", npkts);
		return EXIT_INTERNAL;
	}
	printf("capsim bench: %zu filters; working set %u generated frames (seed 42), %zu bytes\n"
	       "packed in memory plus %zu bytes of packet descriptors, in cache after the\n"
	       "first pass.  Each engine is called once per frame; a round is %u passes\n"
	       "(%u calls) per engine, the engines taking turns; best of %u rounds, in\n"
	       "ns/packet.  ratio = bpf_filter time / capsim time (above 1: capsim faster).\n"
	       "vm:pcap = libpcap semantics on the records, checked frame by frame against\n"
	       "bpf_filter(); vm:linux = kernel semantics on the SOCK_RAW receive views.\n\n",
	       NSUITE, npkts, b.frame_bytes + b.view_bytes,
	       (size_t)npkts * (2 * sizeof(struct bpfvm_packet) + sizeof(struct bpfvm_meta)),
	       passes, passes * npkts, rounds);
	printf("%-44s %10s %8s %6s %8s %6s\n", "filter", "bpf_filter", "vm:pcap", "ratio",
	       "vm:linux", "ratio");
	for (size_t f = 0; f < NSUITE; f++) {
		struct bpfvm_compile_opts co;
		struct bpfvm_prog prog;
		struct bpfvm *vp = NULL, *vl = NULL;
		char err[BPFVM_ERRBUF_SIZE];
		double best[ENG_COUNT];
		uint64_t sum[ENG_COUNT];
		long diff;

		bpfvm_compile_opts_init(&co);
		if (bpfvm_compile(suite[f], &co, &prog, err) != 0 ||
		    bpfvm_create(&vp, &prog, BPFVM_LIBPCAP, err) != 0 ||
		    bpfvm_create(&vl, &prog, BPFVM_LINUX, err) != 0) {
			cli_error("bench filter '%s': %s", suite[f], err);
			rc = EXIT_INTERNAL;
			bpfvm_destroy(vp);
			bpfvm_prog_free(&prog);
			break;
		}
		const struct bpf_insn *insns = (const struct bpf_insn *)prog.insns;
		const struct bpfvm *vms[ENG_COUNT] = { NULL, vp, vl };

		diff = first_difference(&b, insns, vp);
		for (int e = 0; e < ENG_COUNT; e++)
			best[e] = 1e30;
		for (unsigned r = 0; r < rounds; r++) {
			for (int i = 0; i < ENG_COUNT; i++) {
				int e = (int)((r + (unsigned)i) % ENG_COUNT);
				double t = time_block((enum engine)e, &b, insns, vms[e], passes, &sum[e]);

				if (t < best[e])
					best[e] = t;
			}
		}
		ratio_pcap[f] = best[ENG_BPF_FILTER] / best[ENG_VM_LIBPCAP];
		ratio_lin[f] = best[ENG_BPF_FILTER] / best[ENG_VM_LINUX];
		printf("%-44.44s %10.2f %8.2f %6.2f %8.2f %6.2f\n",
		       *suite[f] ? suite[f] : "(empty: accept all)", best[ENG_BPF_FILTER],
		       best[ENG_VM_LIBPCAP], ratio_pcap[f], best[ENG_VM_LINUX], ratio_lin[f]);
		if (diff >= 0 || sum[ENG_BPF_FILTER] != sum[ENG_VM_LIBPCAP]) {
			printf("  RESULTS DIFFER from bpf_filter() (first at frame %ld)\n", diff);
			rc = EXIT_NEGATIVE;
		}
		bpfvm_destroy(vp);
		bpfvm_destroy(vl);
		bpfvm_prog_free(&prog);
	}
	if (rc == EXIT_OK) {
		printf("\nmedian ratio over the %zu filters: libpcap semantics %.2fx, linux semantics "
		       "%.2fx (target: at least 2x)\n",
		       NSUITE, median(ratio_pcap), median(ratio_lin));
	}
	free(b.pcap);
	free(b.lin);
	free(b.meta);
	free(b.frames);
	free(b.viewbuf);
	return rc;
}
