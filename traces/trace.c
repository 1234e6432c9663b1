/*
 * trace.c - pcap and pcapng through libpcap.
 *
 * Reading: pcap_open_offline() reads both formats and "-" (stdin).
 * Writing: pcap_dump_open() on a temporary name in the target's folder,
 * renamed over the target only when every record is written and flushed,
 * so a failed run never leaves a half-written trace behind.
 */
#include "trace.h"
#include "bpfvm.h"	/* bpfvm_rand64: the project's one seeded random source */

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The stdio buffer of a trace read from a file. */
#define TRACE_READ_BUFFER (64u << 10)

struct trace_reader {
	pcap_t *p;
	uint64_t next_index;
	uint64_t size;		/* of a regular file, else 0 */
	char *iobuf;		/* the FILE's buffer, freed after pcap_close() */
	char name[256];
};

int trace_open(struct trace_reader **out, const char *path, char *errbuf)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct trace_reader *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory", path);
		return -1;
	}
	if (strcmp(path, "-") == 0) {
		r->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
							       perr);
	} else {
		/*
		 * What pcap_open_offline() does (fopen "rb", then
		 * pcap_fopen_offline()), with a bigger stdio buffer set while
		 * that is still allowed, before the first read: libpcap
		 * freads each record in two pieces, and with the default
		 * st_blksize buffer (4 KiB) a large trace costs a read()
		 * system call every 30 records or so.
		 */
		FILE *f = fopen(path, "rb");

		if (!f) {
			snprintf(perr, sizeof(perr), "%s: %s", path, strerror(errno));
		} else {
			/* glibc ignores the size unless given the buffer;
			 * without memory, the default buffer still works. */
			r->iobuf = malloc(TRACE_READ_BUFFER);
			if (r->iobuf)
				setvbuf(f, r->iobuf, _IOFBF, TRACE_READ_BUFFER);
			r->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
									perr);
			if (!r->p)
				fclose(f);	/* pcap_open_offline() does the same */
		}
	}
	if (!r->p) {
		/* libpcap's messages already name the file for most errors. */
		if (strstr(perr, path))
			snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s", perr);
		else
			snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: %s", path, perr);
		free(r->iobuf);
		free(r);
		return -1;
	}
	snprintf(r->name, sizeof(r->name), "%s", strcmp(path, "-") == 0 ? "<stdin>" : path);
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		r->size = (uint64_t)st.st_size;
	*out = r;
	return 0;
}

int trace_linktype(const struct trace_reader *r)
{
	return pcap_datalink(r->p);
}

uint32_t trace_snaplen(const struct trace_reader *r)
{
	return (uint32_t)pcap_snapshot(r->p);
}

void trace_progress(const struct trace_reader *r, uint64_t *done, uint64_t *total)
{
	long pos = r->size ? ftell(pcap_file(r->p)) : -1;

	*done = pos > 0 ? (uint64_t)pos : 0;
	*total = pos > 0 ? r->size : 0;
}

int trace_next(struct trace_reader *r, struct trace_record *rec, char *errbuf)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->p, &h, &data);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: record %llu: %s", r->name,
			 (unsigned long long)r->next_index, pcap_geterr(r->p));
		return -1;
	}
	rec->index = r->next_index++;
	rec->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	rec->caplen = h->caplen;
	rec->wirelen = h->len;
	rec->bytes = data;
	return 1;
}

void trace_close(struct trace_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p);	/* closes the FILE: only then may its buffer go */
	free(r->iobuf);
	free(r);
}

int trace_load(const char *path, struct trace_set *set, char *errbuf)
{
	struct trace_reader *r;
	struct trace_record rec;
	size_t cap_recs = 1024, cap_data = 1 << 20, used = 0;
	int rc;

	memset(set, 0, sizeof(*set));
	if (trace_open(&r, path, errbuf) != 0)
		return -1;
	set->linktype = trace_linktype(r);
	set->recs = malloc(cap_recs * sizeof(*set->recs));
	set->data = malloc(cap_data);
	if (!set->recs || !set->data)
		goto nomem;
	while ((rc = trace_next(r, &rec, errbuf)) == 1) {
		if (set->count == cap_recs) {
			void *n = realloc(set->recs, (cap_recs *= 2) * sizeof(*set->recs));

			if (!n)
				goto nomem;
			set->recs = n;
		}
		if (cap_data - used < rec.caplen) {
			void *n;

			while (cap_data - used < rec.caplen)
				cap_data *= 2;
			if (!(n = realloc(set->data, cap_data)))
				goto nomem;
			set->data = n;
		}
		memcpy(set->data + used, rec.bytes, rec.caplen);
		rec.bytes = NULL;	/* fixed up below: data may still move */
		set->recs[set->count++] = rec;
		used += rec.caplen;
	}
	trace_close(r);
	if (rc < 0) {
		trace_set_free(set);
		return -1;
	}
	used = 0;
	for (uint32_t i = 0; i < set->count; i++) {
		set->recs[i].bytes = set->data + used;
		used += set->recs[i].caplen;
	}
	return 0;
nomem:
	snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory after %u records", path,
		 set->count);
	trace_close(r);
	trace_set_free(set);
	return -1;
}

/* One kept record while sampling: it owns its bytes. */
struct sample_slot {
	struct trace_record rec;
	uint8_t *bytes;
};

static int by_index(const void *a, const void *b)
{
	uint64_t x = ((const struct sample_slot *)a)->rec.index;
	uint64_t y = ((const struct sample_slot *)b)->rec.index;

	return (x > y) - (x < y);
}

/* Reservoir sampling (Vitter's algorithm R): record i (0-based) is kept
 * outright while the reservoir has room, and otherwise replaces slot j
 * when a draw j from 0..i lands inside it, so every record ends up kept
 * with the same probability max/n.  The kept records are then put back
 * in trace order and packed into one block, as trace_load() leaves them. */
int trace_sample(const char *path, uint32_t max, uint64_t seed, struct trace_set *set,
		 uint64_t *total, char *errbuf)
{
	struct trace_reader *r = NULL;
	struct trace_record rec;
	struct sample_slot *slots = NULL;
	uint64_t seen = 0, rng = seed;
	uint32_t n = 0;
	size_t used = 0;
	int rc;

	memset(set, 0, sizeof(*set));
	*total = 0;
	if (max == 0) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: a sample of 0 records", path);
		return -1;
	}
	if (trace_open(&r, path, errbuf) != 0)
		return -1;
	set->linktype = trace_linktype(r);
	if (!(slots = calloc(max, sizeof(*slots))))
		goto nomem;
	while ((rc = trace_next(r, &rec, errbuf)) == 1) {
		uint64_t j = seen < max ? seen : bpfvm_rand64(&rng) % (seen + 1);

		seen++;
		if (j >= max)
			continue;
		struct sample_slot *sl = &slots[j];
		uint8_t *b = realloc(sl->bytes, rec.caplen ? rec.caplen : 1);

		if (!b)
			goto nomem;
		memcpy(b, rec.bytes, rec.caplen);
		if (j < n)
			used -= sl->rec.caplen;
		else
			n++;
		sl->bytes = b;
		sl->rec = rec;
		used += rec.caplen;
	}
	trace_close(r);
	r = NULL;
	if (rc < 0)
		goto fail;
	qsort(slots, n, sizeof(*slots), by_index);
	set->recs = malloc((n ? n : 1) * sizeof(*set->recs));
	set->data = malloc(used ? used : 1);
	if (!set->recs || !set->data)
		goto nomem;
	used = 0;
	for (uint32_t i = 0; i < n; i++) {
		set->recs[i] = slots[i].rec;
		set->recs[i].bytes = set->data + used;
		memcpy(set->data + used, slots[i].bytes, slots[i].rec.caplen);
		used += slots[i].rec.caplen;
	}
	set->count = n;
	for (uint32_t i = 0; i < n; i++)
		free(slots[i].bytes);
	free(slots);
	*total = seen;
	return 0;
nomem:
	snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory after %llu records", path,
		 (unsigned long long)seen);
fail:
	trace_close(r);
	for (uint32_t i = 0; slots && i < n; i++)
		free(slots[i].bytes);
	free(slots);
	trace_set_free(set);
	return -1;
}

void trace_set_free(struct trace_set *set)
{
	free(set->recs);
	free(set->data);
	memset(set, 0, sizeof(*set));
}

struct trace_writer {
	pcap_t *dead;
	pcap_dumper_t *d;
	char *path, *tmp;
};

/* "-": a stream on a copy of standard output, so that closing the dump
 * leaves stdout itself open. */
static pcap_dumper_t *dump_stdout(pcap_t *dead)
{
	int fd;
	FILE *f;
	pcap_dumper_t *d;

	fflush(stdout);
	if ((fd = dup(STDOUT_FILENO)) < 0)
		return NULL;
	if (!(f = fdopen(fd, "wb"))) {
		close(fd);
		return NULL;
	}
	if (!(d = pcap_dump_fopen(dead, f)))
		fclose(f);
	return d;
}

int trace_writer_open(struct trace_writer **out, const char *path, int linktype,
		      uint32_t snaplen, char *errbuf)
{
	struct trace_writer *w = calloc(1, sizeof(*w));
	int to_stdout = strcmp(path, "-") == 0;

	if (!w || !(w->path = strdup(path)) ||
	    (!to_stdout && asprintf(&w->tmp, "%s.tmp-%ld", path, (long)getpid()) < 0)) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory", path);
		if (w)
			free(w->path);
		free(w);
		return -1;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (w->dead)
		w->d = to_stdout ? dump_stdout(w->dead) : pcap_dump_open(w->dead, w->tmp);
	if (!w->d) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: cannot create: %s",
			 to_stdout ? "standard output" : path,
			 !w->dead ? "out of memory" : to_stdout ? strerror(errno) : pcap_geterr(w->dead));
		if (w->dead)
			pcap_close(w->dead);
		free(w->tmp);
		free(w->path);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int trace_write(struct trace_writer *w, uint64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
		uint32_t wirelen)
{
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)(ts_ns / 1000000000ull),
			.tv_usec = (suseconds_t)(ts_ns % 1000000000ull) },
		.caplen = caplen,
		.len = wirelen,
	};

	pcap_dump((u_char *)w->d, &h, bytes);
	return ferror(pcap_dump_file(w->d)) ? -1 : 0;
}

static void writer_free(struct trace_writer *w)
{
	pcap_close(w->dead);
	free(w->tmp);
	free(w->path);
	free(w);
}

int trace_writer_commit(struct trace_writer *w, char *errbuf)
{
	FILE *f = pcap_dump_file(w->d);
	/* A file is synced and renamed into place; standard output only
	 * flushed (a pipe has nothing to sync). */
	int bad = fflush(f) != 0 || ferror(f) || (w->tmp && fsync(fileno(f)) != 0);
	int saved = errno;

	pcap_dump_close(w->d);
	if (bad || (w->tmp && rename(w->tmp, w->path) != 0)) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: cannot write: %s",
			 w->tmp ? w->path : "standard output", strerror(bad ? saved : errno));
		if (w->tmp)
			unlink(w->tmp);
		writer_free(w);
		return -1;
	}
	writer_free(w);
	return 0;
}

void trace_writer_abort(struct trace_writer *w)
{
	if (!w)
		return;
	pcap_dump_close(w->d);
	if (w->tmp)
		unlink(w->tmp);
	writer_free(w);
}
