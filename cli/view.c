/*
 * view.c - how a trace record becomes the packet a filter sees, for every
 * command that runs filters over traces (filter run, step, diff, dot): the
 * semantics and receiving-device options, and the view itself.
 */
#include "cli.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

const char cli_view_help[] =
	"  --semantics S       linux (default): the record is a frame arriving on an\n"
	"                      Ethernet device; the filter sees what a packet socket sees\n"
	"                      (VLAN tag moved to metadata, pkt_type from the destination\n"
	"                      MAC).  libpcap: bpf_filter() on the record's bytes.\n"
	"  --mac MAC           the receiving device's MAC (02:00:00:00:00:01)\n"
	"  --ifindex N         its interface index (2)\n"
	"  --sock raw|dgram    the tap's socket type (raw)\n"
	"  --seed N            seed for SKF_AD_RANDOM (1; record i uses N + i)\n";

void cli_view_init(struct cli_view *v)
{
	memset(v, 0, sizeof(*v));
	v->sem = BPFVM_LINUX;
	v->sock = SIM_SOCK_RAW;
	v->seed = 1;
	sim_rx_dev_init(&v->dev);
}

void cli_view_free(struct cli_view *v)
{
	free(v->buf);
	v->buf = NULL;
	v->bufsize = 0;
}

int cli_view_option(struct cli_view *v, int c, const char *arg)
{
	uint32_t n;

	switch (c) {
	case OPT_SEMANTICS:
		return cli_parse_semantics(arg, &v->sem) == 0 ? 1 : -1;
	case OPT_MAC:
		if (sim_parse_mac(arg, v->dev.mac) != 0) {
			cli_error("--mac: '%s' is not a MAC address like 02:00:00:00:00:01", arg);
			return -1;
		}
		return 1;
	case OPT_IFINDEX:
		if (cli_parse_u32(arg, INT32_MAX, &v->dev.ifindex) != 0) {
			cli_error("--ifindex: '%s' is not an interface index", arg);
			return -1;
		}
		return 1;
	case OPT_SOCK:
		if (strcmp(arg, "raw") == 0) {
			v->sock = SIM_SOCK_RAW;
		} else if (strcmp(arg, "dgram") == 0) {
			v->sock = SIM_SOCK_DGRAM;
		} else {
			cli_error("--sock: '%s' is neither raw nor dgram", arg);
			return -1;
		}
		return 1;
	case OPT_SEED:
		if (cli_parse_u32(arg, UINT32_MAX, &n) != 0) {
			cli_error("--seed: '%s' is not a number", arg);
			return -1;
		}
		v->seed = n;
		return 1;
	}
	return 0;
}

int cli_view_check_trace(enum bpfvm_semantics sem, const char *path, int linktype)
{
	if (sem == BPFVM_LINUX && linktype != DLT_EN10MB) {
		cli_error("%s: link type %s: linux semantics models a receiving Ethernet device; "
			  "use --semantics libpcap for other link types",
			  path, pcap_datalink_val_to_name(linktype));
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

int cli_record_view(struct cli_view *v, enum bpfvm_semantics sem, const struct trace_record *rec,
		    struct sim_rx_view *out)
{
	if (sem == BPFVM_LIBPCAP) {
		memset(out, 0, sizeof(*out));
		out->pkt.bytes = rec->bytes;
		out->pkt.caplen = rec->caplen;
		out->pkt.wirelen = rec->wirelen;
		return 1;
	}
	/* The receive view may rewrite the frame (VLAN untag) into @v->buf;
	 * libpcap's delivery may put 4 tag bytes back: room for both. */
	if (rec->caplen + 4 > v->bufsize) {
		uint8_t *nb = realloc(v->buf, rec->caplen + 4);

		if (!nb) {
			cli_error("out of memory at record %llu", (unsigned long long)rec->index);
			return -1;
		}
		v->buf = nb;
		v->bufsize = rec->caplen + 4;
	}
	/* linux: the record's captured bytes are the frame on the wire. */
	sim_rx_view(&v->dev, rec->bytes, rec->caplen, v->sock, v->buf, out);
	if (out->drop != SIM_DROP_NONE)
		return 0;
	out->meta.random_seed = v->seed + rec->index;
	return 1;
}
