/*
 * cmd_live.c - `capsim live ...`: the running kernel as the reference.
 *
 * `capsim live filter` sends every record of a trace through a veth pair in
 * a private network namespace, captures it the way libpcap does, and holds
 * the kernel's verdicts against the model's linux semantics (live/compare.c
 * computes, this file only reads options, streams the trace and prints).
 * `capsim live SCENARIO` runs a scenario for real beside the model
 * (live/scenario.c computes; this file prints the side-by-side table or
 * JSON), and `capsim live --cleanup` removes what --keep left.
 */
#include "cli.h"
#include "live.h"
#include "sim.h"
#include "trace.h"

#include <errno.h>
#include <pcap/dlt.h>
#include <signal.h>
#include <getopt.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- live filter ----------------------------------------------------- */

/* Records per batch handed to live_filter_run(), and the bytes they may
 * hold: the trace is streamed, so memory is bounded by these (the harness
 * keeps two copies of a batch's bytes: the witness's and the tap's). */
#define BATCH_FRAMES 65536
#define BATCH_BYTES  (32u << 20)

struct lf_opts {
	const char *trace;
	uint64_t count;	  /* -c: stop after this many records (0: all) */
	uint32_t max_print; /* mismatches shown in full */
	int json, verbose;
	struct live_filter_opts live;
};

/* One batch of records, copied out of the reader. */
struct lf_batch {
	uint8_t *data;
	size_t used;
	size_t n;
	const uint8_t **frames;
	uint32_t *lens;
	size_t *off;
	uint64_t *index;
	struct live_verdict *v;
};

/* Where the output goes while the trace is read: mismatch blocks wait in a
 * temporary file (text) or a JSON array until the summary is printed. */
struct lf_out {
	const struct lf_opts *o;
	FILE *blocks;
	json_t *jmis;
	uint64_t printed;
};

static const char *pkttype_name(uint8_t t)
{
	static const char *const names[] = { "host", "broadcast", "multicast", "otherhost",
					     "outgoing", "loopback", "user", "kernel" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static int batch_alloc(struct lf_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->data = malloc(BATCH_BYTES);
	b->frames = calloc(BATCH_FRAMES, sizeof(*b->frames));
	b->lens = calloc(BATCH_FRAMES, sizeof(*b->lens));
	b->off = calloc(BATCH_FRAMES, sizeof(*b->off));
	b->index = calloc(BATCH_FRAMES, sizeof(*b->index));
	b->v = calloc(BATCH_FRAMES, sizeof(*b->v));
	return b->data && b->frames && b->lens && b->off && b->index && b->v ? 0 : -1;
}

static void batch_free(struct lf_batch *b)
{
	free(b->data);
	free(b->frames);
	free(b->lens);
	free(b->off);
	free(b->index);
	free(b->v);
}

/* Copy a record in; 0 when the batch has no room for it. */
static int batch_add(struct lf_batch *b, const struct trace_record *rec)
{
	if (b->n == BATCH_FRAMES || (b->n > 0 && rec->caplen > BATCH_BYTES - b->used))
		return 0;
	if (rec->caplen > BATCH_BYTES - b->used) {
		/* A single record bigger than a batch: give it its own buffer. */
		uint8_t *nb = realloc(b->data, rec->caplen);

		if (!nb)
			return -1;
		b->data = nb;
	}
	memcpy(b->data + b->used, rec->bytes, rec->caplen);
	b->off[b->n] = b->used;
	b->lens[b->n] = rec->caplen;
	b->index[b->n] = rec->index;
	b->used += rec->caplen;
	b->n++;
	return 1;
}

static void hexdump(FILE *f, const char *label, const uint8_t *p, uint32_t n)
{
	fprintf(f, "  %s (%u bytes):\n", label, n);
	for (uint32_t i = 0; i < n; i += 16) {
		fprintf(f, "    %04x ", i);
		for (uint32_t j = i; j < i + 16 && j < n; j++)
			fprintf(f, " %02x", p[j]);
		fputc('\n', f);
	}
}

static char *hexstr(const uint8_t *p, uint32_t n)
{
	char *s = malloc((size_t)n * 2 + 1);

	if (!s)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * (size_t)n] = '\0';
	return s;
}

/* One aspect's line in a mismatch block: "* " when it differs. */
static void aspect_line(FILE *f, const struct live_frame_result *r, enum live_aspect a,
			const char *kernel, const char *model)
{
	const char *mark = r->mismatched & 1u << a ? "* " : "  ";

	if (!(r->compared & 1u << a))
		fprintf(f, "  %-13s kernel %-26s model %s  (not compared)\n", live_aspect_name(a),
			kernel, model);
	else
		fprintf(f, "%s%-13s kernel %-26s model %s\n", mark, live_aspect_name(a), kernel,
			model);
}

static void vlan_text(char *buf, size_t size, int valid, int tpid_valid, uint16_t tci,
		      uint16_t tpid)
{
	if (!valid && !tpid_valid && !tci && !tpid)
		snprintf(buf, size, "none");
	else
		snprintf(buf, size, "%s tci %#06x tpid %#06x", valid ? "valid" : "not valid", tci,
			 tpid);
}

static void print_block(FILE *f, const struct live_frame_result *r, const uint8_t *frame,
			uint32_t len)
{
	const struct live_verdict *k = r->kernel;
	const struct live_model_verdict *m = &r->model;
	char kb[96], mb[96];
	int first = 1, dump;

	fprintf(f, "\nmismatch at frame %llu (%u bytes):", (unsigned long long)r->index, len);
	for (int a = 0; a < LIVE_ASPECT_COUNT; a++)
		if (r->mismatched & 1u << a) {
			fprintf(f, "%s %s", first ? "" : ",", live_aspect_name(a));
			first = 0;
		}
	fputc('\n', f);
	if (m->reached)
		snprintf(mb, sizeof(mb), "yes");
	else
		snprintf(mb, sizeof(mb), "no (%s in %s)", sim_drop_reason_name(m->drop),
			 m->drop_func ? m->drop_func : "?");
	aspect_line(f, r, LIVE_ASPECT_REACHED, k->reached ? "yes" : "no", mb);
	snprintf(kb, sizeof(kb), "%s", k->delivered ? "yes" : "no");
	snprintf(mb, sizeof(mb), "%s (returned %u)", m->delivered ? "yes" : "no", m->ret);
	aspect_line(f, r, LIVE_ASPECT_DELIVERED, kb, m->reached ? mb : "-");
	snprintf(kb, sizeof(kb), "%u of %u", k->tp_snaplen, k->tp_len);
	snprintf(mb, sizeof(mb), "%u of %u", m->snaplen, m->len);
	aspect_line(f, r, LIVE_ASPECT_CAPLEN, k->delivered ? kb : "-", m->delivered ? mb : "-");
	dump = r->mismatched & (1u << LIVE_ASPECT_CAPLEN | 1u << LIVE_ASPECT_BYTES);
	aspect_line(f, r, LIVE_ASPECT_BYTES, !k->delivered ? "-" : dump ? "(below)" : "(same)",
		    !m->delivered ? "-" : dump ? "(below)" : "(same)");
	snprintf(kb, sizeof(kb), "%s (%u)", pkttype_name(k->pkttype), k->pkttype);
	snprintf(mb, sizeof(mb), "%s (%u)", pkttype_name(m->pkttype), m->pkttype);
	aspect_line(f, r, LIVE_ASPECT_PKTTYPE, k->reached ? kb : "-", m->reached ? mb : "-");
	vlan_text(kb, sizeof(kb), k->vlan_valid, k->vlan_tpid_valid, k->vlan_tci, k->vlan_tpid);
	vlan_text(mb, sizeof(mb), m->vlan_valid, m->vlan_valid, m->vlan_tci, m->vlan_tpid);
	aspect_line(f, r, LIVE_ASPECT_VLAN, k->reached ? kb : "-", m->reached ? mb : "-");
	snprintf(kb, sizeof(kb), "%#06x", k->protocol);
	snprintf(mb, sizeof(mb), "%#06x", m->protocol);
	aspect_line(f, r, LIVE_ASPECT_PROTOCOL, k->reached ? kb : "-", m->reached ? mb : "-");
	hexdump(f, "frame sent", frame, len);
	if (dump) {
		hexdump(f, "kernel captured", k->bytes, k->tp_snaplen);
		hexdump(f, "model captured", m->bytes, m->snaplen);
	}
}

/* The aspects' names as JSON keys. */
static const char *const json_key[LIVE_ASPECT_COUNT] = {
	[LIVE_ASPECT_REACHED] = "reached",   [LIVE_ASPECT_DELIVERED] = "delivered",
	[LIVE_ASPECT_CAPLEN] = "caplen",     [LIVE_ASPECT_BYTES] = "bytes",
	[LIVE_ASPECT_PKTTYPE] = "pkt_type",  [LIVE_ASPECT_VLAN] = "vlan",
	[LIVE_ASPECT_PROTOCOL] = "protocol",
};

static json_t *json_side(int reached, int delivered, uint32_t len, uint32_t snaplen,
			 const uint8_t *bytes, uint8_t pkttype, int vlan_valid, uint16_t tci,
			 uint16_t tpid, uint16_t protocol)
{
	json_t *o = json_pack("{s:b, s:b, s:I, s:I, s:I, s:b, s:I, s:I, s:I}", "reached", reached,
			      "delivered", delivered, "len", (json_int_t)len, "caplen",
			      (json_int_t)snaplen, "pkt_type", (json_int_t)pkttype, "vlan_valid",
			      vlan_valid, "vlan_tci", (json_int_t)tci, "vlan_tpid", (json_int_t)tpid,
			      "protocol", (json_int_t)protocol);
	char *h = delivered && bytes ? hexstr(bytes, snaplen) : NULL;

	if (o && h)
		json_object_set_new(o, "bytes", json_string(h));
	free(h);
	return o;
}

static json_t *json_block(const struct live_frame_result *r, const uint8_t *frame, uint32_t len)
{
	const struct live_verdict *k = r->kernel;
	const struct live_model_verdict *m = &r->model;
	json_t *o = json_object(), *aspects = json_array();
	char *h = hexstr(frame, len);

	for (int a = 0; a < LIVE_ASPECT_COUNT; a++)
		if (r->mismatched & 1u << a)
			json_array_append_new(aspects, json_string(json_key[a]));
	json_object_set_new(o, "index", json_integer((json_int_t)r->index));
	json_object_set_new(o, "len", json_integer(len));
	json_object_set_new(o, "aspects", aspects);
	json_object_set_new(o, "kernel",
			    json_side(k->reached, k->delivered, k->tp_len, k->tp_snaplen, k->bytes,
				      k->pkttype, k->vlan_valid, k->vlan_tci, k->vlan_tpid,
				      k->protocol));
	json_object_set_new(o, "model",
			    json_side(m->reached, m->delivered, m->len, m->snaplen, m->bytes,
				      m->pkttype, m->vlan_valid, m->vlan_tci, m->vlan_tpid,
				      m->protocol));
	if (!m->reached)
		json_object_set_new(json_object_get(o, "model"), "dropped_by",
				    json_string(m->drop_func ? m->drop_func : "?"));
	json_object_set_new(o, "frame", h ? json_string(h) : json_null());
	free(h);
	return o;
}

/* Compare a batch the kernel has run; mismatches go to @out. */
static int compare_batch(struct live_compare *cmp, struct lf_batch *b, struct lf_out *out)
{
	char err[LIVE_ERRBUF_SIZE];

	for (size_t i = 0; i < b->n; i++) {
		struct live_frame_result r;

		if (live_compare_frame(cmp, b->index[i], b->frames[i], b->lens[i], &b->v[i], &r,
				       err) != 0) {
			cli_error("%s", err);
			return EXIT_INTERNAL;
		}
		if (!r.mismatched || out->printed >= out->o->max_print)
			continue;
		out->printed++;
		if (out->jmis)
			json_array_append_new(out->jmis, json_block(&r, b->frames[i], b->lens[i]));
		else
			print_block(out->blocks, &r, b->frames[i], b->lens[i]);
	}
	return EXIT_OK;
}

static int live_exit(int r)
{
	switch (r) {
	case LIVE_ERR_PERM:
	case LIVE_ERR_NOSUPPORT:
	case LIVE_ERR_SYS:
		return EXIT_ENV;
	case LIVE_ERR_ARG:
		return EXIT_INPUT;
	default:
		return EXIT_INTERNAL;
	}
}

/* Stream the trace through the kernel and the model, batch by batch. */
static int stream(struct live_filter *lf, struct live_compare *cmp, const struct bpfvm_prog *prog,
		  struct trace_reader *tr, struct lf_out *out, uint64_t *records)
{
	const struct lf_opts *o = out->o;
	char err[TRACE_ERRBUF_SIZE > LIVE_ERRBUF_SIZE ? TRACE_ERRBUF_SIZE : LIVE_ERRBUF_SIZE];
	struct trace_record rec;
	struct lf_batch b;
	double last = 0;
	int progress = isatty(STDERR_FILENO), rc = EXIT_OK, pending = 0, end = 0, damaged = 0, r;

	if (batch_alloc(&b) != 0) {
		batch_free(&b);
		cli_error("out of memory for a batch of %d frames", BATCH_FRAMES);
		return EXIT_INTERNAL;
	}
	while (rc == EXIT_OK) {
		b.n = 0;
		b.used = 0;
		/* A record that did not fit the last batch starts this one. */
		if (pending) {
			if (batch_add(&b, &rec) != 1) {
				cli_error("out of memory at record %llu", (unsigned long long)rec.index);
				rc = EXIT_INTERNAL;
				break;
			}
			pending = 0;
			(*records)++;
		}
		while (!end && (!o->count || *records < o->count)) {
			r = trace_next(tr, &rec, err);
			if (r < 0) {
				/* The records before the damage are still checked;
				 * the message comes after them. */
				cli_error("%s", err);
				damaged = 1;
				end = 1;
				break;
			}
			if (r == 0) {
				end = 1;
				break;
			}
			r = batch_add(&b, &rec);
			if (r < 0) {
				cli_error("out of memory at record %llu", (unsigned long long)rec.index);
				rc = EXIT_INTERNAL;
				break;
			}
			if (r == 0) {
				pending = 1;
				break;
			}
			(*records)++;
		}
		if (rc != EXIT_OK || b.n == 0)
			break;
		for (size_t i = 0; i < b.n; i++)
			b.frames[i] = b.data + b.off[i];
		r = live_filter_run(lf, prog, b.frames, b.lens, b.n, b.v, err);
		if (r == LIVE_ERR_PROG) {
			cli_error("disagreement: the model accepts the program, the kernel refuses "
				  "it: %s", err);
			rc = EXIT_NEGATIVE;
			break;
		}
		if (r != 0) {
			cli_error("%s", err);
			rc = r == LIVE_ERR_ARG ? EXIT_INPUT : EXIT_INTERNAL;
			break;
		}
		rc = compare_batch(cmp, &b, out);
		if (progress)
			cli_trace_progress(tr, *records, "frames cross-checked", &last, 0);
		if (!pending && (end || (o->count && *records >= o->count)))
			break;
	}
	if (progress)
		cli_trace_progress(tr, *records, "frames cross-checked", &last, 1);
	batch_free(&b);
	return rc == EXIT_OK && damaged ? EXIT_INPUT : rc;
}

/* ---- printing the totals ---- */

static void print_summary(FILE *f, const struct live_compare_totals *t,
			  const struct live_filter_counters *hc, uint32_t skipped, int unrepro)
{
	fprintf(f, "%llu frames: %llu sent, %llu not sendable", (unsigned long long)t->frames,
		(unsigned long long)t->sent, (unsigned long long)t->not_sendable);
	if (t->not_sendable) {
		fprintf(f, " (");
		for (size_t i = 0; i < t->n_send_errors; i++)
			fprintf(f, "%s%s %llu", i ? ", " : "", cli_errno_name(t->send_errors[i].err),
				(unsigned long long)t->send_errors[i].count);
		if (t->other_send_errors)
			fprintf(f, ", other %llu", (unsigned long long)t->other_send_errors);
		fprintf(f, "; the model drops %llu of them before the taps)",
			(unsigned long long)t->not_sendable_model_drops);
	}
	fprintf(f, "\n");
	for (int a = 0; a < LIVE_ASPECT_COUNT; a++) {
		fprintf(f, "%s%s: ", a ? "; " : "", live_aspect_name(a));
		if (skipped & 1u << a)
			fprintf(f, "not compared (the program reads %s)",
				bpfvm_ancillary_name((uint32_t)unrepro));
		else
			fprintf(f, "%llu/%llu agree", (unsigned long long)t->agreed[a],
				(unsigned long long)t->compared[a]);
	}
	fprintf(f, "\nkernel: %llu reached the taps, %llu delivered to the filtered socket\n",
		(unsigned long long)t->kernel_reached, (unsigned long long)t->kernel_delivered);
	fprintf(f,
		"harness: %llu batches, %llu ring drops (%llu batches sent again), %llu frames "
		"sent again alone to confirm they never reach the taps\n",
		(unsigned long long)hc->batches, (unsigned long long)hc->ring_drops,
		(unsigned long long)hc->resent_batches, (unsigned long long)hc->confirm_resends);
}

static json_t *json_summary(const struct live_compare_totals *t,
			    const struct live_filter_counters *hc, uint32_t skipped, int unrepro,
			    double secs)
{
	json_t *root = json_object(), *errs = json_object(), *asp = json_object();

	for (size_t i = 0; i < t->n_send_errors; i++)
		json_object_set_new(errs, cli_errno_name(t->send_errors[i].err),
				    json_integer((json_int_t)t->send_errors[i].count));
	if (t->other_send_errors)
		json_object_set_new(errs, "other", json_integer((json_int_t)t->other_send_errors));
	for (int a = 0; a < LIVE_ASPECT_COUNT; a++)
		json_object_set_new(asp, json_key[a],
				    skipped & 1u << a
					? json_pack("{s:b}", "compared", 0)
					: json_pack("{s:I, s:I}", "compared",
						    (json_int_t)t->compared[a], "agree",
						    (json_int_t)t->agreed[a]));
	json_object_set_new(root, "frames", json_integer((json_int_t)t->frames));
	json_object_set_new(root, "sent", json_integer((json_int_t)t->sent));
	json_object_set_new(root, "not_sendable",
			    json_pack("{s:I, s:o, s:I}", "total", (json_int_t)t->not_sendable,
				      "by_errno", errs, "model_drops",
				      (json_int_t)t->not_sendable_model_drops));
	json_object_set_new(root, "aspects", asp);
	json_object_set_new(root, "unreproducible",
			    unrepro >= 0 ? json_string(bpfvm_ancillary_name((uint32_t)unrepro))
					 : json_null());
	json_object_set_new(root, "kernel",
			    json_pack("{s:I, s:I}", "reached", (json_int_t)t->kernel_reached,
				      "delivered", (json_int_t)t->kernel_delivered));
	json_object_set_new(root, "harness",
			    json_pack("{s:I, s:I, s:I, s:I}", "batches", (json_int_t)hc->batches,
				      "ring_drops", (json_int_t)hc->ring_drops, "resent_batches",
				      (json_int_t)hc->resent_batches, "confirm_resends",
				      (json_int_t)hc->confirm_resends));
	json_object_set_new(root, "seconds", json_real(secs));
	json_object_set_new(root, "frames_per_second",
			    json_real(secs > 0 ? (double)t->frames / secs : 0));
	json_object_set_new(root, "mismatched_frames", json_integer((json_int_t)t->mismatched_frames));
	return root;
}

/* Copy the waiting mismatch blocks to standard output. */
static int flush_blocks(FILE *blocks)
{
	char buf[8192];
	size_t n;

	rewind(blocks);
	while ((n = fread(buf, 1, sizeof(buf), blocks)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			return -1;
	return ferror(blocks) ? -1 : 0;
}

/* The model rejects the program: does the kernel? */
static int model_refuses(struct live_filter *lf, const struct cli_prog_src *src,
			 const struct bpfvm_prog *prog, const char *merr)
{
	char err[LIVE_ERRBUF_SIZE];
	int r = live_filter_run(lf, prog, NULL, NULL, 0, NULL, err);

	if (r == LIVE_ERR_PROG) {
		cli_error("%s: the kernel and the model both refuse the program (they agree): %s",
			  cli_prog_src_name(src), merr);
		return EXIT_INPUT;
	}
	if (r != 0) {
		cli_error("%s", err);
		return live_exit(r);
	}
	cli_error("%s: disagreement: the kernel accepts the program, but %s",
		  cli_prog_src_name(src), merr);
	return EXIT_NEGATIVE;
}

static int parse_sock(const char *arg, int *type)
{
	if (strcmp(arg, "raw") == 0)
		*type = SOCK_RAW;
	else if (strcmp(arg, "dgram") == 0)
		*type = SOCK_DGRAM;
	else
		return -1;
	return 0;
}

static void filter_help(void)
{
	printf("usage: capsim live filter [OPTIONS] (-F FILE | EXPRESSION) -r TRACE\n\n"
	       "Cross-check the model's linux semantics against the running kernel.  In a\n"
	       "private network namespace (gone with the process, even on SIGKILL; nothing\n"
	       "outside it is touched) every record of TRACE is sent out of one end of a veth\n"
	       "pair (cs0) and captured on the other (cs1) the way libpcap captures: AF_PACKET,\n"
	       "TPACKET_V3 ring, the program attached with SO_ATTACH_FILTER before the socket\n"
	       "is bound, beside an unfiltered socket that shows which frames the kernel\n"
	       "dropped before its taps.  The model (sim_rx_view, then the program in linux\n"
	       "semantics) is held against it on: reached the taps, delivered, caplen (tp_len,\n"
	       "tp_snaplen), captured bytes, pkt_type, VLAN metadata (TP_STATUS_VLAN_VALID,\n"
	       "tp_vlan_tci, tp_vlan_tpid) and protocol.  Prints the agreement counts, then\n"
	       "each mismatch with both sides and the frame in hex.\n\n"
	       "Records are sent as captured (caplen bytes).  Those packet_snd() refuses\n"
	       "(shorter than an Ethernet header: EINVAL; longer than MTU + header: EMSGSIZE)\n"
	       "are counted as not sendable, by errno, and are never mismatches.  Frames a\n"
	       "ring had to drop (tp_drops) are sent again: none is lost silently.  The\n"
	       "model's ifindex is pinned to cs1's real one.\n\n"
	       "Programs reading SKF_AD_RXHASH, SKF_AD_CPU or SKF_AD_RANDOM (rxhash, cpu,\n"
	       "rand) get values no two runs share: for them only what comes before the\n"
	       "filter (reached taps, pkt_type, vlan, protocol) is compared, and a warning\n"
	       "says so.\n\n"
	       "  -r TRACE            pcap or pcapng, Ethernet link type, '-' for stdin;\n"
	       "                      streamed in batches of up to %d frames\n"
	       "  -c COUNT            stop after COUNT records\n"
	       "  --sock raw|dgram    the filtered socket's type (raw)\n"
	       "  --mac MAC           cs1's address, and the model's (02:00:00:00:00:01)\n"
	       "  --max-mismatches N  show at most N mismatches in full (20); all are counted\n"
	       "  --json              the counts and the mismatches as one JSON object\n"
	       "  -v                  say how the program was obtained, the device, timing\n\n"
	       "Expressions compile with Linux extensions by default, as for a live capture.\n"
	       "Exit: 0 everything agrees; 1 a mismatch (or one side refuses the program);\n"
	       "2 bad command line; 3 bad trace or program; 4 not root, or no namespaces.\n"
	       "A progress line goes to standard error when it is a terminal.\n\n%s",
	       BATCH_FRAMES, cli_prog_help);
}

enum { OPT_JSON = OPT_HELP + 100, OPT_MAX_MISMATCHES };

static int live_filter_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sock", required_argument, NULL, OPT_SOCK },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "max-mismatches", required_argument, NULL, OPT_MAX_MISMATCHES },
		{ "verbose", no_argument, NULL, 'v' },
		PROG_OPTIONS,
		{ 0 }
	};
	struct lf_opts o = { .max_print = 20 };
	struct cli_prog_src src;
	struct bpfvm_prog prog = { 0 };
	struct live_filter *lf = NULL;
	struct live_compare *cmp = NULL;
	struct trace_reader *tr = NULL;
	struct lf_out out = { .o = &o };
	struct live_compare_totals t;
	struct live_filter_counters hc;
	struct sim_rx_dev dev;
	char err[TRACE_ERRBUF_SIZE > LIVE_ERRBUF_SIZE ? TRACE_ERRBUF_SIZE : LIVE_ERRBUF_SIZE];
	uint64_t records = 0;
	uint32_t v;
	double t0;
	int complete = 0;	/* the whole trace was cross-checked */
	int c, r, rc;

	live_filter_opts_init(&o.live);
	cli_prog_src_init(&src);
	while ((c = getopt_long(argc, argv, "F:O:s:y:r:c:v", opts, NULL)) != -1) {
		r = cli_prog_option(&src, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'r':
			o.trace = optarg;
			break;
		case 'c':
			if (cli_parse_u32(optarg, UINT32_MAX, &v) != 0 || v == 0) {
				cli_error("-c: '%s' is not a positive count", optarg);
				return EXIT_USAGE;
			}
			o.count = v;
			break;
		case OPT_SOCK:
			if (parse_sock(optarg, &o.live.sock_type) != 0) {
				cli_error("--sock: '%s' is neither raw nor dgram", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAC:
			if (sim_parse_mac(optarg, o.live.rx_mac) != 0) {
				cli_error("--mac: '%s' is not a MAC address like 02:00:00:00:00:01",
					  optarg);
				return EXIT_USAGE;
			}
			if (o.live.rx_mac[0] & 1) {
				cli_error("--mac: %s is a group address; a device needs a unicast one",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_MAX_MISMATCHES:
			if (cli_parse_u32(optarg, UINT32_MAX, &o.max_print) != 0) {
				cli_error("--max-mismatches: '%s' is not a number", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			o.verbose = 1;
			break;
		case OPT_HELP:
			filter_help();
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!o.trace) {
		cli_error("live filter: no trace given (-r TRACE)");
		return EXIT_USAGE;
	}
	if (cli_take_expr(&src, argc, argv, optind) != 0)
		return EXIT_INTERNAL;
	rc = cli_load_prog(&src, BPFVM_LINUX, o.verbose, &prog);
	if (rc != EXIT_OK)
		goto out;
	if (trace_open(&tr, o.trace, err) != 0) {
		cli_error("%s", err);
		rc = EXIT_INPUT;
		goto out;
	}
	if (trace_linktype(tr) != DLT_EN10MB) {
		cli_error("%s: link type %s: the live cross-check sends Ethernet frames; this trace "
			  "holds something else",
			  o.trace, pcap_datalink_val_to_name(trace_linktype(tr)));
		rc = EXIT_INPUT;
		goto out;
	}
	r = live_filter_open(&lf, &o.live, err);
	if (r != 0) {
		cli_error("%s", err);
		rc = live_exit(r);
		goto out;
	}
	/* The model's device is the real one: its address, MTU and ifindex. */
	sim_rx_dev_init(&dev);
	memcpy(dev.mac, live_filter_mac(lf), 6);
	dev.mtu = live_filter_mtu(lf);
	dev.ifindex = (uint32_t)live_filter_ifindex(lf);
	r = live_compare_create(&cmp, &prog,  &dev,
				o.live.sock_type == SOCK_DGRAM ? SIM_SOCK_DGRAM : SIM_SOCK_RAW, err);
	if (r == LIVE_ERR_PROG) {
		rc = model_refuses(lf, &src, &prog, err);
		goto out;
	}
	if (r != 0) {
		cli_error("%s", err);
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (live_compare_unreproducible(cmp) >= 0)
		cli_error("WARNING: the program reads SKF_AD_%s ('%s'), a value the kernel does "
			  "not make reproducible: delivered, caplen and bytes are NOT compared, only "
			  "what comes before the filter (reached taps, pkt_type, vlan, protocol)",
			  live_compare_unreproducible(cmp) == SKF_AD_RXHASH ? "RXHASH"
			  : live_compare_unreproducible(cmp) == SKF_AD_CPU  ? "CPU"
									    : "RANDOM",
			  bpfvm_ancillary_name((uint32_t)live_compare_unreproducible(cmp)));
	if (o.verbose)
		fprintf(stderr,
			"capsim: %s ifindex %d, MTU %u, %02x:%02x:%02x:%02x:%02x:%02x; filtered "
			"socket %s; the model's device pinned to the same\n",
			LIVE_RX_IFNAME, live_filter_ifindex(lf), live_filter_mtu(lf), dev.mac[0],
			dev.mac[1], dev.mac[2], dev.mac[3], dev.mac[4], dev.mac[5],
			o.live.sock_type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_RAW");
	if (o.json)
		out.jmis = json_array();
	else
		out.blocks = tmpfile();
	if (o.json ? !out.jmis : !out.blocks) {
		cli_error("cannot make room for the mismatch report: %s", strerror(errno));
		rc = EXIT_INTERNAL;
		goto out;
	}
	t0 = cli_now_s();
	rc = stream(lf, cmp, &prog, tr, &out, &records);
	complete = rc == EXIT_OK;
	t0 = cli_now_s() - t0;
	live_compare_totals(cmp, &t);
	live_filter_counters(lf, &hc);
	if (rc == EXIT_OK && t.mismatched_frames)
		rc = EXIT_NEGATIVE;
	if (o.json) {
		json_t *root = json_summary(&t, &hc, live_compare_skipped(cmp),
					    live_compare_unreproducible(cmp), t0);

		json_object_set_new(root, "complete", json_boolean(complete));
		json_object_set_new(root, "mismatches", out.jmis);
		out.jmis = NULL;
		if (!root || json_dumpf(root, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF) {
			cli_error("cannot write the JSON report");
			rc = EXIT_INTERNAL;
		}
		json_decref(root);
	} else {
		print_summary(stdout, &t, &hc, live_compare_skipped(cmp),
			      live_compare_unreproducible(cmp));
		if (complete && t.mismatched_frames == 0)
			printf("the kernel and the model agree on every frame\n");
		else if (t.mismatched_frames == 0)
			printf("stopped early (see the error): the kernel and the model agree on "
			       "the %llu frames checked\n", (unsigned long long)t.frames);
		else
			printf("%llu frames disagree (%llu shown)\n",
			       (unsigned long long)t.mismatched_frames,
			       (unsigned long long)out.printed);
		if (flush_blocks(out.blocks) != 0) {
			cli_error("cannot write the mismatch report");
			rc = EXIT_INTERNAL;
		}
	}
	if (fflush(stdout) != 0) {
		cli_error("cannot write to standard output");
		rc = EXIT_INTERNAL;
	}
	if (o.verbose)
		fprintf(stderr, "capsim: %llu frames cross-checked in %.2f s: %.0f frames/s\n",
			(unsigned long long)t.frames, t0, t0 > 0 ? (double)t.frames / t0 : 0.0);
out:
	if (out.blocks)
		fclose(out.blocks);
	json_decref(out.jmis);
	live_compare_destroy(cmp);
	live_filter_close(lf);
	trace_close(tr);
	bpfvm_prog_free(&prog);
	cli_prog_src_free(&src);
	return rc;
}

/* ---- live SCENARIO ---------------------------------------------------- */

static volatile sig_atomic_t scn_interrupted;	/* the signal that stopped the run */

static void on_stop_signal(int sig)
{
	scn_interrupted = sig;
}

static const char *pkttype_short(int t)
{
	static const char *const names[] = { "In", "B", "M", "Oth", "Out" };

	if (t < 0)
		return "";
	return t < 5 ? names[t] : "?";
}

static void rec_text(const struct live_scn_pkt *p, int linktype, char *buf, size_t size)
{
	char desc[160];

	trace_describe(p->bytes, p->caplen, linktype, desc, sizeof(desc));
	snprintf(buf, size, "%-3s %s", pkttype_short(p->pkt_type), desc);
}

static const char *st_mark(enum live_scn_status s)
{
	return live_scn_status_name(s);
}

static void print_tap(FILE *f, const struct live_scn_tap *t, uint32_t max_lines)
{
	size_t n = t->nmodel > t->nkernel ? t->nmodel : t->nkernel;
	char a[200], b[200];

	fprintf(f, "\ntap %s.%s  (%s)\n", t->host, t->name, t->what);
	fprintf(f, "  %-34s %10s %10s\n", "", "model", "kernel");
	fprintf(f, "  %-34s %10llu %10llu  %s\n", t->tcpdump ? "packets captured" : "copies captured",
		(unsigned long long)t->m_captured, (unsigned long long)t->k_captured,
		st_mark(t->lines_status));
	fprintf(f, "  %-34s %10llu %10llu\n",
		t->tcpdump ? "packets received by filter" : "tp_packets",
		(unsigned long long)t->m_received, (unsigned long long)t->k_received);
	fprintf(f, "  %-34s %10llu %10llu\n", t->tcpdump ? "packets dropped by kernel" : "tp_drops",
		(unsigned long long)t->m_dropped, (unsigned long long)t->k_dropped);
	if (t->lines_note[0])
		fprintf(f, "    %s\n", t->lines_note);
	fprintf(f, "  records: %zu in the model, %zu on the kernel: %s\n", t->nmodel, t->nkernel,
		st_mark(t->list_status));
	if (t->list_note[0])
		fprintf(f, "    %s\n", t->list_note);
	for (size_t i = 0; i < n && i < max_lines; i++) {
		const struct live_scn_pkt *m = i < t->nmodel ? &t->model[i] : NULL;
		const struct live_scn_pkt *k = i < t->nkernel ? &t->kernel[i] : NULL;
		int same;

		if (m)
			rec_text(m, t->linktype, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "-");
		if (k)
			rec_text(k, t->linktype, b, sizeof(b));
		else
			snprintf(b, sizeof(b), "-");
		same = m && k && !m->differs;
		fprintf(f, "  %c%3zu  %-60.60s | %s\n", m && k && !same ? '!' : ' ', i + 1, a,
			same ? "same" : b);
	}
	if (n > max_lines)
		fprintf(f, "  ... %zu more (--lines N shows more)\n", n - max_lines);
}

static void print_checks(FILE *f, const struct live_scn_result *r, enum live_scn_status want,
			 const char *title)
{
	int any = 0;

	for (size_t i = 0; i < r->nchecks; i++) {
		const struct live_scn_check *c = &r->checks[i];
		char mv[24], kv[24];

		if ((want == LIVE_SCN_MODEL_ONLY) != (c->status == LIVE_SCN_MODEL_ONLY))
			continue;
		if (!any++)
			fprintf(f, "\n%s\n  %-6s %-56s %10s %10s\n", title, "host", "", "model",
				"kernel");
		snprintf(mv, sizeof(mv), c->has_model ? "%llu" : "-", (unsigned long long)c->model);
		snprintf(kv, sizeof(kv), c->has_kernel ? "%llu" : "-", (unsigned long long)c->kernel);
		fprintf(f, "  %-6s %-56s %10s %10s  %s\n", c->host, c->what, mv, kv,
			live_scn_status_name(c->status));
		if (c->note[0])
			fprintf(f, "         %s\n", c->note);
	}
}

static void print_scn(FILE *f, const struct live_scn_result *r, uint32_t max_lines)
{
	fprintf(f, "capsim live %s%s%s%s\n", r->path, r->title ? "  \"" : "", r->title ? r->title : "",
		r->title ? "\"" : "");
	fprintf(f, "model: the simulator; kernel: namespaces capsim-%ld-HOST on this machine (%s), "
		   "%llu packets sent",
		r->pid, r->kept ? "kept: capsim live --cleanup removes them" : "all removed",
		(unsigned long long)r->sent);
	if (r->send_errors)
		fprintf(f, ", %llu refused by the kernel (%s)", (unsigned long long)r->send_errors,
			strerror(r->first_errno));
	fprintf(f, ", %.1f s\n", r->seconds);
	for (size_t i = 0; i < r->ntaps; i++)
		print_tap(f, &r->taps[i], max_lines);
	print_checks(f, r, LIVE_SCN_AGREE, "counters, rules and drops");
	print_checks(f, r, LIVE_SCN_MODEL_ONLY, "model-only (not reproducible on veth pairs, and why)");
	fprintf(f, "\n%s: %u aspect%s differ, %u model-only\n",
		r->differ ? "DISAGREE" : "AGREE", r->differ, r->differ == 1 ? "" : "s",
		r->model_only);
}

static json_t *json_recs(const struct live_scn_pkt *v, size_t n, int linktype, size_t limit)
{
	json_t *a = json_array();
	char buf[200];

	for (size_t i = 0; i < n && i < limit; i++) {
		json_t *o = json_object();
		char *hex = hexstr(v[i].bytes, v[i].caplen > 256 ? 256 : v[i].caplen);

		rec_text(&v[i], linktype, buf, sizeof(buf));
		json_object_set_new(o, "ts_ns", json_integer((json_int_t)v[i].ts));
		json_object_set_new(o, "pkt_type",
				    v[i].pkt_type < 0 ? json_null() : json_integer(v[i].pkt_type));
		json_object_set_new(o, "caplen", json_integer(v[i].caplen));
		json_object_set_new(o, "len", json_integer(v[i].wirelen));
		json_object_set_new(o, "desc", json_string(buf));
		json_object_set_new(o, "hex", hex ? json_string(hex) : json_null());
		free(hex);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_scn(const struct live_scn_result *r, uint32_t max_lines)
{
	json_t *o = json_object(), *taps = json_array(), *checks = json_array();

	json_object_set_new(o, "scenario", json_string(r->path));
	json_object_set_new(o, "title", r->title ? json_string(r->title) : json_null());
	json_object_set_new(o, "agree", json_boolean(r->differ == 0));
	json_object_set_new(o, "differ", json_integer(r->differ));
	json_object_set_new(o, "model_only", json_integer(r->model_only));
	json_object_set_new(o, "sent", json_integer((json_int_t)r->sent));
	json_object_set_new(o, "send_errors", json_integer((json_int_t)r->send_errors));
	json_object_set_new(o, "seconds", json_real(r->seconds));
	for (size_t i = 0; i < r->ntaps; i++) {
		const struct live_scn_tap *t = &r->taps[i];
		json_t *j = json_object(), *m = json_object(), *k = json_object();

		json_object_set_new(j, "host", json_string(t->host));
		json_object_set_new(j, "tap", json_string(t->name));
		json_object_set_new(j, "what", json_string(t->what));
		json_object_set_new(m, "captured", json_integer((json_int_t)t->m_captured));
		json_object_set_new(m, "received", json_integer((json_int_t)t->m_received));
		json_object_set_new(m, "dropped", json_integer((json_int_t)t->m_dropped));
		json_object_set_new(m, "nrecords", json_integer((json_int_t)t->nmodel));
		json_object_set_new(m, "records", json_recs(t->model, t->nmodel, t->linktype, max_lines));
		json_object_set_new(k, "captured", json_integer((json_int_t)t->k_captured));
		json_object_set_new(k, "received", json_integer((json_int_t)t->k_received));
		json_object_set_new(k, "dropped", json_integer((json_int_t)t->k_dropped));
		json_object_set_new(k, "nrecords", json_integer((json_int_t)t->nkernel));
		json_object_set_new(k, "records",
				    json_recs(t->kernel, t->nkernel, t->linktype, max_lines));
		json_object_set_new(j, "model", m);
		json_object_set_new(j, "kernel", k);
		json_object_set_new(j, "closing_lines", json_string(live_scn_status_name(t->lines_status)));
		json_object_set_new(j, "closing_lines_note", json_string(t->lines_note));
		json_object_set_new(j, "records_status", json_string(live_scn_status_name(t->list_status)));
		json_object_set_new(j, "records_note", json_string(t->list_note));
		if (t->list_status == LIVE_SCN_DIFFER)
			json_object_set_new(j, "first_difference", json_integer((json_int_t)t->first_diff));
		json_array_append_new(taps, j);
	}
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct live_scn_check *c = &r->checks[i];
		json_t *j = json_object();

		json_object_set_new(j, "host", json_string(c->host));
		json_object_set_new(j, "what", json_string(c->what));
		json_object_set_new(j, "model", c->has_model ? json_integer((json_int_t)c->model)
							       : json_null());
		json_object_set_new(j, "kernel", c->has_kernel ? json_integer((json_int_t)c->kernel)
								 : json_null());
		json_object_set_new(j, "status", json_string(live_scn_status_name(c->status)));
		json_object_set_new(j, "note", json_string(c->note));
		json_array_append_new(checks, j);
	}
	json_object_set_new(o, "taps", taps);
	json_object_set_new(o, "checks", checks);
	return o;
}

static void scn_help(FILE *f)
{
	fprintf(f,
		"usage: capsim live SCENARIO [--json] [--keep] [--lines N]\n"
		"       capsim live --cleanup\n\n"
		"Run SCENARIO (a .scn file, docs/scenario-language.md) in the model, then for\n"
		"real: every host a network namespace, every wire a veth pair, rules in nft\n"
		"and tc, taps as packet sockets and libpcap handles, traffic from real\n"
		"sockets.  Then each tap's records, its closing lines, the rule counters,\n"
		"the interface and socket counters and the evidence for each of the model's\n"
		"drops are put side by side.  Aspects a veth pair cannot reproduce (NIC\n"
		"rings, NAPI, CPU costs, machine-wide sysctls) and those that depend on real\n"
		"timing are listed as model-only or compared as \"happened / did not\".\n\n"
		"  --json      one JSON object on standard output\n"
		"  --keep      leave the namespaces, named capsim-PID-HOST under /run/netns\n"
		"              (ip netns exec ...), for inspection; --cleanup removes them\n"
		"  --lines N   records listed per tap (default 10)\n"
		"  --cleanup   remove what runs that are gone left (only --keep leaves\n"
		"              anything: the namespaces are otherwise unnamed and vanish with\n"
		"              the process, even when it is killed)\n\n"
		"Needs root.  Exit: 0 the kernel agrees, 1 it disagrees somewhere, 2 usage,\n"
		"3 bad scenario, 4 no root / namespaces / nft / tc, or no live form; 130 or\n"
		"143 stopped by SIGINT or SIGTERM (nothing left behind).\n");
}

static int live_cleanup_cmd(void)
{
	char err[LIVE_ERRBUF_SIZE];
	unsigned n = 0;
	int rc = live_scn_cleanup(&n, err);

	if (rc) {
		cli_error("%s", err);
		return live_exit(rc);
	}
	printf("capsim live --cleanup: removed %u namespace name%s left by runs that are gone\n", n,
	       n == 1 ? "" : "s");
	return EXIT_OK;
}

static int live_scenario_cmd(int argc, char **argv)
{
	enum { OPT_KEEP = 400, OPT_LINES, OPT_CLEANUP };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "lines", required_argument, NULL, OPT_LINES },
		{ "cleanup", no_argument, NULL, OPT_CLEANUP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct live_scn_opts o = { 0 };
	struct live_scn_result *r = NULL;
	struct sigaction sa, old_int, old_term;
	char err[LIVE_ERRBUF_SIZE];
	uint32_t lines = 10;
	int json = 0, c, rc, cleanup = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case OPT_KEEP:
			o.keep = 1;
			break;
		case OPT_LINES:
			if (cli_parse_u32(optarg, 1000000, &lines) != 0)
				return EXIT_USAGE;
			break;
		case OPT_CLEANUP:
			cleanup = 1;
			break;
		case 'h':
			scn_help(stdout);
			return EXIT_OK;
		default:
			scn_help(stderr);
			return EXIT_USAGE;
		}
	}
	if (cleanup) {
		if (optind != argc) {
			cli_error("live --cleanup takes no scenario");
			return EXIT_USAGE;
		}
		return live_cleanup_cmd();
	}
	if (optind != argc - 1) {
		scn_help(stderr);
		return EXIT_USAGE;
	}
	/* SIGINT and SIGTERM stop the run; live_scn_run() still releases
	 * everything (and a SIGKILL leaves nothing either). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	o.interrupted = &scn_interrupted;
	rc = live_scn_run(argv[optind], &o, &r, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (scn_interrupted) {
		live_scn_result_free(r);
		if (o.keep)
			cli_error("live: interrupted; the namespaces stay, named (--keep): "
				  "'capsim live --cleanup' removes them");
		else
			cli_error("live: interrupted; the namespaces and everything in them are gone");
		return 128 + scn_interrupted;	/* as a shell reports the signal */
	}
	if (rc) {
		cli_error("%s", err);
		return live_exit(rc);
	}
	if (json) {
		json_t *j = json_scn(r, lines);
		int w = json_dumpf(j, stdout, JSON_INDENT(2)) == 0 && fputc('\n', stdout) != EOF;

		json_decref(j);
		if (!w) {
			live_scn_result_free(r);
			return EXIT_INTERNAL;
		}
	} else {
		print_scn(stdout, r, lines);
	}
	rc = r->differ ? EXIT_NEGATIVE : EXIT_OK;
	live_scn_result_free(r);
	if (fflush(stdout) != 0)
		return EXIT_INTERNAL;
	return rc;
}

/* ---- the live subcommands -------------------------------------------- */

/* Scenarios (`capsim live SCENARIO`) and `capsim live --cleanup` belong
 * here beside filter. */
static const struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} live_subs[] = {
	{ "filter", live_filter_cmd, "a filter over a trace: the kernel against the model" },
	{ "SCENARIO", live_scenario_cmd,
	  "a scenario (.scn) built in namespaces and run for real, beside the model" },
	{ "--cleanup", live_scenario_cmd, "remove what runs that are gone left behind (--keep)" },
};

int cmd_live(int argc, char **argv)
{
	const size_t n = sizeof(live_subs) / sizeof(live_subs[0]);
	int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	FILE *f = help ? stdout : stderr;

	for (size_t i = 0; argc >= 2 && i < n; i++)
		if (strcmp(argv[1], live_subs[i].name) == 0 && live_subs[i].fn != live_scenario_cmd)
			return live_subs[i].fn(argc - 1, argv + 1);
	/* The scenario form: a file (an existing one, or a name with a '.'
	 * or a '/', so a missing file is said to be missing), or options
	 * before one.  Any other word is a mistyped subcommand. */
	if (argc >= 2 && !help) {
		if (argv[1][0] == '-' || strchr(argv[1], '.') || strchr(argv[1], '/') ||
		    access(argv[1], F_OK) == 0)
			return live_scenario_cmd(argc, argv);
		cli_error("live: no subcommand '%s'", argv[1]);
	}
	fprintf(f, "usage: capsim live SUBCOMMAND [OPTIONS]...\n"
		   "       capsim live SCENARIO [--json] [--keep] [--lines N]\n\n"
		   "The running kernel as the reference, in a private network namespace that\n"
		   "disappears with the process (needs root).\n\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-10s %s\n", live_subs[i].name, live_subs[i].summary);
	fprintf(f, "\n'capsim live SUBCOMMAND --help' explains each.\n");
	return help ? EXIT_OK : EXIT_USAGE;
}
