/*
 * trace.h - packet traces through libpcap: pcap and pcapng of any link type
 * libpcap reads, from a file or "-" (standard input); pcap written with
 * pcap_dump to a temporary name and renamed only when complete.
 */
#ifndef CAPSIM_TRACE_H
#define CAPSIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_ERRBUF_SIZE 512

struct trace_record {
	uint64_t index;		/* 0-based position in the trace */
	uint64_t ts_ns;		/* timestamp, ns since the epoch */
	uint32_t caplen;	/* bytes present in @bytes */
	uint32_t wirelen;	/* length on the wire */
	const uint8_t *bytes;	/* valid until the next trace_next() */
};

struct trace_reader;

/* Open @path ("-" for standard input).  0 or -1 with the reason in @errbuf. */
int trace_open(struct trace_reader **r, const char *path, char *errbuf);
/* The trace's link type (DLT_*), its snaplen and the name shown in messages. */
int trace_linktype(const struct trace_reader *r);
uint32_t trace_snaplen(const struct trace_reader *r);
/* How far reading has got: bytes consumed and the file's size; both 0
 * when unknown (standard input, a pipe). */
void trace_progress(const struct trace_reader *r, uint64_t *done, uint64_t *total);
/* 1 and @rec filled, 0 at the end, -1 on a damaged trace (record named). */
int trace_next(struct trace_reader *r, struct trace_record *rec, char *errbuf);
void trace_close(struct trace_reader *r);

/* Load a whole trace into memory (for benchmarks and live cross-checks of
 * modest traces).  Records are contiguous; trace_set_free() releases. */
struct trace_set {
	int linktype;
	uint32_t count;
	struct trace_record *recs;
	uint8_t *data;
};
int trace_load(const char *path, struct trace_set *set, char *errbuf);
/* Read the whole trace, streaming, and keep at most @max of its records:
 * all of them when it holds no more, otherwise a uniform random sample
 * drawn with @seed (the same seed keeps the same records).  Memory grows
 * with @max, not with the trace.  The kept records are in trace order
 * (their index fields say where each came from); *@total is how many the
 * trace held. */
int trace_sample(const char *path, uint32_t max, uint64_t seed, struct trace_set *set,
		 uint64_t *total, char *errbuf);
/* What the fuzz commands keep of a trace they run every program on (the
 * _TEXT form is for --help strings). */
#define TRACE_SAMPLE_RECORDS 16384u
#define TRACE_SAMPLE_RECORDS_TEXT "16384"
void trace_set_free(struct trace_set *set);

struct trace_writer;

/* Create @path for writing (written as "@path.tmp-PID", renamed by
 * trace_writer_commit()), or "-" for standard output.  0 or -1 with the
 * reason in @errbuf. */
int trace_writer_open(struct trace_writer **w, const char *path, int linktype,
		      uint32_t snaplen, char *errbuf);
/* Append one record: @caplen bytes kept of a @wirelen-byte packet.  0, or
 * -1 once the stream has failed (the commit then reports why). */
int trace_write(struct trace_writer *w, uint64_t ts_ns, const uint8_t *bytes,
		uint32_t caplen, uint32_t wirelen);
/* Finish: flush, close, rename into place.  0 or -1 (temp file removed). */
int trace_writer_commit(struct trace_writer *w, char *errbuf);
/* Abandon: close and remove the temporary file. */
void trace_writer_abort(struct trace_writer *w);


/* ------------------------------------------------------------------ */
/* Generated traffic (traces/gen.c): a deterministic mix of Ethernet
 * frames for tests, samples and benchmarks.  IPv4 addresses come from
 * 127.0.0.0/8 and IPv6 ones are ::1 or fe80::/10 only, so nothing a test
 * replays can ever address a real network. */

#define TRACE_GEN_MAXFRAME 1522	/* 1500 + Ethernet header + two VLAN tags */

struct trace_gen_opts {
	uint64_t seed;
	uint8_t host_mac[6];	/* the receiving host; most unicast frames go here */
	unsigned truncate_pct;	/* records cut short (caplen < wirelen), percent */
	unsigned vlan_pct;	/* frames carrying one or two VLAN tags, percent */
	unsigned runt_pct;	/* frames shorter than 60 bytes (even than 14), percent */
};

void trace_gen_opts_init(struct trace_gen_opts *o);

/* The next frame from the generator state @rng (seed it with o->seed):
 * writes the frame into @buf (TRACE_GEN_MAXFRAME bytes), returns its wire
 * length and sets *@caplen to the bytes a capture kept. */
uint32_t trace_gen_frame(uint64_t *rng, const struct trace_gen_opts *o, uint8_t *buf,
			 uint32_t *caplen);

/* ------------------------------------------------------------------ */
/* A short, tcpdump-like description of a frame (traces/decode.c), for
 * one-line listings: "IP 127.0.0.1.80 > 127.0.0.2.443: TCP [S]".  Reads
 * at most @caplen bytes; says "[|ip]" where the bytes run out. */
char *trace_describe(const uint8_t *bytes, uint32_t caplen, int linktype, char *buf,
		     size_t size);

#endif
