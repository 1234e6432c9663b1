/*
 * fuzz_trace.c - trace reading (traces/trace.c) on arbitrary bytes: a
 * pcap or pcapng file, whole, damaged or neither.
 *
 * The bytes become a file that exists only in memory (memfd_create),
 * opened through its /proc/self/fd path the way any trace is opened, so
 * the reader runs exactly as `capsim filter run -r` runs it.  Every record
 * is read with trace_next() and described with trace_describe() from a
 * copy of exactly its captured bytes, so a decoder reading one byte too
 * far is an ASan report.  Then trace_load() reads the same file again and
 * must give the same records in the same order, and fail exactly where
 * streaming failed; and trace_sample() keeps a few of them, in order, each
 * the record streaming saw at its index.  Anything else aborts:
 *  - an error message that does not name the file;
 *  - record indices that are not 0, 1, 2, ...;
 *  - a description that is empty or not NUL-terminated within the buffer;
 *  - progress beyond the file's size.
 */
#include "trace.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Stop after this many records: a few bytes can describe many empty
 * records, and one input must stay fast. */
#define MAX_RECORDS 4096

/* Link types every record is also described as, beside the file's own. */
static const int other_linktypes[] = { DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				       DLT_NULL };

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_trace: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static void describe(const uint8_t *bytes, uint32_t caplen, int linktype)
{
	char buf[256];
	uint8_t *copy = malloc(caplen ? caplen : 1);

	if (!copy)
		return;
	memcpy(copy, bytes, caplen);
	memset(buf, 0x55, sizeof(buf));
	if (trace_describe(copy, caplen, linktype, buf, sizeof(buf)) != buf)
		die("trace_describe did not return its buffer", NULL);
	if (!memchr(buf, '\0', sizeof(buf)))
		die("description not terminated", NULL);
	free(copy);
}

/* One record as trace_load() must see it again. */
struct seen {
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	uint32_t hash;		/* FNV-1a of the bytes */
};

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen seen[MAX_RECORDS];
	char path[64], err[TRACE_ERRBUF_SIZE], err2[TRACE_ERRBUF_SIZE];
	struct trace_reader *r;
	struct trace_record rec;
	struct trace_set set;
	uint64_t done, total;
	uint32_t n = 0;
	int fd, rc, rc2;

	fd = memfd_create("fuzz_trace", 0);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (trace_open(&r, path, err) != 0) {
		if (!strstr(err, path))
			die("trace_open: the message does not name the file", err);
		if (trace_load(path, &set, err2) == 0)
			die("trace_load opened what trace_open could not", err);
		close(fd);
		return 0;
	}
	while (n < MAX_RECORDS && (rc = trace_next(r, &rec, err)) == 1) {
		if (rec.index != n)
			die("record indices out of order", NULL);
		describe(rec.bytes, rec.caplen, trace_linktype(r));
		for (size_t i = 0; i < sizeof(other_linktypes) / sizeof(other_linktypes[0]); i++)
			describe(rec.bytes, rec.caplen, other_linktypes[i]);
		seen[n].ts_ns = rec.ts_ns;
		seen[n].caplen = rec.caplen;
		seen[n].wirelen = rec.wirelen;
		seen[n].hash = fnv(rec.bytes, rec.caplen);
		n++;
	}
	if (n == MAX_RECORDS)
		rc = 0;
	if (rc < 0 && !strstr(err, path))
		die("trace_next: the message does not name the file", err);
	trace_progress(r, &done, &total);
	if (done > total || total > size)
		die("progress beyond the file", NULL);
	(void)trace_snaplen(r);
	trace_close(r);

	/* The whole-trace loader must agree with streaming. */
	if (n < MAX_RECORDS) {
		rc2 = trace_load(path, &set, err2);
		if ((rc2 == 0) != (rc == 0))
			die("trace_load and trace_next disagree on whether the trace is damaged",
			    rc2 ? err2 : err);
		if (rc2 == 0) {
			if (set.count != n)
				die("trace_load: a different number of records", NULL);
			for (uint32_t i = 0; i < n; i++) {
				const struct trace_record *s = &set.recs[i];

				if (s->index != i || s->ts_ns != seen[i].ts_ns ||
				    s->caplen != seen[i].caplen || s->wirelen != seen[i].wirelen ||
				    fnv(s->bytes, s->caplen) != seen[i].hash)
					die("trace_load: a record differs from streaming", NULL);
			}
			trace_set_free(&set);
		} else if (!strstr(err2, path)) {
			die("trace_load: the message does not name the file", err2);
		}
		/* A sample of at most 3, drawn with a seed from the bytes. */
		uint64_t total = 0;

		rc2 = trace_sample(path, 3, size ? data[size - 1] : 1, &set, &total, err2);
		if ((rc2 == 0) != (rc == 0))
			die("trace_sample and trace_next disagree on whether the trace is damaged",
			    rc2 ? err2 : err);
		if (rc2 == 0) {
			if (total != n || set.count != (n < 3 ? n : 3))
				die("trace_sample: wrong counts", NULL);
			for (uint32_t i = 0; i < set.count; i++) {
				const struct trace_record *s = &set.recs[i];

				if (s->index >= n || (i && s->index <= set.recs[i - 1].index) ||
				    s->caplen != seen[s->index].caplen ||
				    fnv(s->bytes, s->caplen) != seen[s->index].hash)
					die("trace_sample: a record differs from streaming", NULL);
			}
			trace_set_free(&set);
		}
	}
	close(fd);
	return 0;
}
