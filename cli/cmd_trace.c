/*
 * cmd_trace.c - `capsim trace gen`: write a generated sample trace.
 */
#include "cli.h"
#include "sim.h"
#include "trace.h"

#include <getopt.h>
#include <pcap/pcap.h>
#include <string.h>

static int trace_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 'S' },
		{ "truncate", required_argument, NULL, 'T' },
		{ "vlan", required_argument, NULL, 'V' },
		{ "runt", required_argument, NULL, 'R' },
		{ "mac", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct trace_gen_opts g;
	struct trace_writer *w;
	const char *out = NULL;
	char err[TRACE_ERRBUF_SIZE];
	uint8_t frame[TRACE_GEN_MAXFRAME];
	uint32_t n = 1000, v;
	uint64_t rng;
	int c;

	trace_gen_opts_init(&g);
	while ((c = getopt_long(argc, argv, "n:w:", opts, NULL)) != -1) {
		unsigned *pct = c == 'T' ? &g.truncate_pct : c == 'V' ? &g.vlan_pct : &g.runt_pct;

		switch (c) {
		case 'n':
			if (cli_parse_u32(optarg, UINT32_MAX, &n) != 0) {
				cli_error("-n: '%s' is not a count", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			out = optarg;
			break;
		case 'S':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0) {
				cli_error("--seed: '%s' is not a number", optarg);
				return EXIT_USAGE;
			}
			g.seed = v;
			break;
		case 'T':
		case 'V':
		case 'R':
			if (cli_parse_u32(optarg, 100, &v) != 0) {
				cli_error("--%s: '%s' is not a percentage (0-100)", opts[c == 'T' ? 1 : c == 'V' ? 2 : 3].name, optarg);
				return EXIT_USAGE;
			}
			*pct = v;
			break;
		case 'M':
			if (sim_parse_mac(optarg, g.host_mac) != 0) {
				cli_error("--mac: '%s' is not a MAC address", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: capsim trace gen [-n COUNT] [--seed N] [--truncate PCT] [--vlan PCT]\n"
			       "                        [--runt PCT] [--mac MAC] -w FILE\n\n"
			       "Write COUNT (1000) generated Ethernet frames to a pcap file: IPv4 (options,\n"
			       "fragments), IPv6 (extension headers), TCP, UDP, ICMP, ARP, 802.3/LLC, 802.1Q\n"
			       "and QinQ tags (--vlan, 15%%), runts (--runt, 3%%), records cut short\n"
			       "(--truncate, 5%%).  Most unicast frames go to --mac (02:00:00:00:00:01).\n"
			       "Addresses are 127.0.0.0/8, ::1 and fe80::/10 only.  Same seed, same file.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!out || optind != argc) {
		cli_error("trace gen: %s", out ? "unexpected arguments" : "no output file (-w FILE)");
		return EXIT_USAGE;
	}
	if (trace_writer_open(&w, out, DLT_EN10MB, 262144, err) != 0) {
		cli_error("%s", err);
		return EXIT_INPUT;
	}
	rng = g.seed;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t caplen, len = trace_gen_frame(&rng, &g, frame, &caplen);

		/* One frame a millisecond from 2026-01-01, so traces diff cleanly. */
		trace_write(w, 1767225600ull * 1000000000ull + i * 1000000ull, frame, caplen, len);
	}
	if (trace_writer_commit(w, err) != 0) {
		cli_error("%s", err);
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "gen") == 0)
		return trace_gen(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: capsim trace gen [OPTIONS] -w FILE   (see 'capsim trace gen --help')\n");
		return EXIT_OK;
	}
	cli_error("trace: expected 'gen' (see 'capsim trace --help')");
	return EXIT_USAGE;
}
