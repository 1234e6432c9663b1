/*
 * fuzzcomp.c - `capsim fuzz compiler`: libpcap's optimizer against its own
 * unoptimized output.
 *
 * Each random expression (exprgen.c) is compiled four ways - on a dead
 * handle (as tcpdump does reading a file) and on a live Linux handle (Linux
 * extensions: VLAN tests through SKF_AD_VLAN_TAG*), each with the optimizer
 * on and off.  Both programs of a pair must then give every packet the same
 * return value: the offline pair in libpcap semantics (bpf_filter()), the
 * linux-ext pair in linux semantics on the frame as the taps of a receiving
 * device see it (sim_rx_view).  Any packet they split on is an optimizer
 * defect - or a fault of ours, so offline findings are run through
 * libpcap's own bpf_filter() as well.
 *
 * pcap_compile runs in forked children, a batch of expressions per child,
 * results streamed back over a pipe; a child that dies on a signal or stops
 * answering names the expression it was compiling.  The Linux-extension
 * compiles need a live handle: the child enters a private network namespace
 * and activates a handle on that namespace's loopback once, for the batch.
 */
#include "live.h"
#include "sim.h"
#include "trace.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SNAPLEN 262144

const char *live_fc_kind_name(enum live_fc_kind k)
{
	static const char *const names[] = {
		[LIVE_FC_VERDICT] = "verdict",	 [LIVE_FC_VERDICT_OOB] = "verdict-oob",
		[LIVE_FC_COMPILE_ERROR] = "compile-error",
		[LIVE_FC_REJECTED] = "rejected", [LIVE_FC_CRASH] = "crash",
		[LIVE_FC_HANG] = "hang",	 [LIVE_FC_KERNEL] = "kernel",
	};

	return (unsigned)k < LIVE_FC_KIND_COUNT ? names[k] : "?";
}

void live_fc_opts_init(struct live_fc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->seconds = 60;
	o->linux_ext = 1;
	o->kernel_frames = 256;
	o->isolate = 1;
	o->batch = 128;
	o->timeout_ms = 5000;
	o->max_findings = 20;
	o->reduce_rounds = 300;
	live_exprgen_opts_init(&o->gen);
}

/* ---- compiling -------------------------------------------------------- */

/* One pcap_compile result. */
struct comp {
	int ok;
	int rejects_all;	/* -O1's "rejects all packets", taken as ret #0 */
	struct bpfvm_prog prog;
	char *err;
};

/* All compiles of one expression. */
struct cres {
	struct comp c[LIVE_FC_CFG_COUNT];
	int died;		/* 1 crash, 2 hang */
	int died_cfg;		/* the compile that died */
	int sig;
	int alone;		/* it died again when compiled alone */
};

static void cres_clear(struct cres *r)
{
	for (int i = 0; i < LIVE_FC_CFG_COUNT; i++) {
		bpfvm_prog_free(&r->c[i].prog);
		free(r->c[i].err);
	}
	memset(r, 0, sizeof(*r));
}

static int copy_prog(const struct bpf_program *fp, struct bpfvm_prog *prog)
{
	prog->len = fp->bf_len;
	if (!(prog->insns = malloc((fp->bf_len ? fp->bf_len : 1) * sizeof(*prog->insns))))
		return -1;
	memcpy(prog->insns, fp->bf_insns, fp->bf_len * sizeof(*prog->insns));
	return 0;
}

/* Compile on @p into @out (ok, program or message). */
static int compile_on(pcap_t *p, const char *expr, int optimize, struct comp *out)
{
	struct bpf_program fp;

	memset(out, 0, sizeof(*out));
	if (pcap_compile(p, &fp, expr, optimize, PCAP_NETMASK_UNKNOWN) != 0) {
		out->err = strdup(pcap_geterr(p));
		return out->err ? 0 : -1;
	}
	out->ok = 1;
	if (copy_prog(&fp, &out->prog) != 0) {
		pcap_freecode(&fp);
		return -1;
	}
	pcap_freecode(&fp);
	return 0;
}

/* One record on the socket: (int32 status, uint32 n, n bytes).  Status 0:
 * a program of n/8 instructions; 1: libpcap's message; -1: the server
 * could not start (message). */
static int send_rec(int fd, int32_t status, const void *data, uint32_t n)
{
	if (bpfvm_write_full(fd, &status, sizeof(status)) || bpfvm_write_full(fd, &n, sizeof(n)))
		return -1;
	return n ? bpfvm_write_full(fd, data, n) : 0;
}

/*
 * The compile server, in a child: a dead handle and (with @with_live) a
 * live handle in its own namespace, made once.  Each request is (uint32
 * count, uint32 config mask, count x (uint32 length, text)); it is read
 * whole, then every expression is compiled for every config in the mask
 * and each result streamed back.  Ends at end of file.  Never returns.
 */
static void server_main(int fd, int linktype, int with_live, const char *crash_on)
{
	char err[512];
	pcap_t *dead = pcap_open_dead(linktype, SNAPLEN), *live = NULL;

	/* Die of a crash, whatever handlers the parent installed (test
	 * frameworks catch SIGSEGV), so the parent sees the signal. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	if (!dead) {
		send_rec(fd, -1, "pcap_open_dead failed", 21);
		_exit(1);
	}
	if (with_live && !(live = bpfvm_live_compile_handle(DLT_EN10MB, SNAPLEN, err))) {
		send_rec(fd, -1, err, (uint32_t)strlen(err));
		_exit(1);
	}
	if (send_rec(fd, 0, NULL, 0) != 0)
		_exit(1);
	for (;;) {
		uint32_t hdr[2], len;
		char **exprs;

		if (bpfvm_read_full(fd, hdr, sizeof(hdr)) != 0)
			_exit(0);
		if (!(exprs = calloc(hdr[0] ? hdr[0] : 1, sizeof(*exprs))))
			_exit(3);
		for (uint32_t i = 0; i < hdr[0]; i++) {
			if (bpfvm_read_full(fd, &len, 4) != 0 || len > (1u << 20) || !(exprs[i] = malloc(len + 1)) ||
			    bpfvm_read_full(fd, exprs[i], len) != 0)
				_exit(3);
			exprs[i][len] = '\0';
		}
		for (uint32_t i = 0; i < hdr[0]; i++) {
			for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
				struct comp r;

				if (!(hdr[1] & 1u << c))
					continue;
				if (c >= LIVE_FC_LIN_O1 && !live)
					_exit(3);
				if (crash_on && strstr(exprs[i], crash_on))
					raise(SIGSEGV);
				if (compile_on(c < LIVE_FC_LIN_O1 ? dead : live, exprs[i],
					       c == LIVE_FC_OFF_O1 || c == LIVE_FC_LIN_O1, &r) != 0)
					_exit(3);
				if ((r.ok ? send_rec(fd, 0, r.prog.insns, r.prog.len * 8)
					  : send_rec(fd, 1, r.err, (uint32_t)strlen(r.err))) != 0)
					_exit(1);
				free(r.err);
				bpfvm_prog_free(&r.prog);
			}
			free(exprs[i]);
		}
		free(exprs);
	}
}

/* Read exactly @n bytes, waiting at most @timeout_ms for each piece.
 * 0, -1 at end of file or error, -2 on timeout. */
static int read_timed(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;

	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout_ms);
		ssize_t got;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		if (r < 0)
			return -1;
		got = read(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

struct fc;
static unsigned pair_mask(int pair);

/* The campaign's state. */
struct fc {
	const struct live_fc_opts *o;
	struct live_fc_stats *st;
	unsigned mask;			/* configs compiled */
	int linktype;
	pcap_t *dead;			/* in-process compiles (no isolation) */
	pid_t srv_pid;			/* the compile server, 0 when none */
	int srv_fd;
	uint64_t srv_served;
	/* packets */
	struct trace_set set;
	uint32_t npk;
	struct bpfvm_packet *pk;	/* libpcap view: the record as it is */
	struct sim_rx_view *view;	/* linux view of the same frame */
	uint8_t **viewbuf;
	uint8_t *genbuf;
	uint32_t *gen_origin;		/* for generated frames: their number; else UINT32_MAX */
	/* kernel */
	struct live_filter *lf;
	uint32_t nkpk;
	uint32_t *kidx;			/* packet index of each kernel frame */
	const uint8_t **kframes;
	uint32_t *klens;
	struct live_verdict *kout;
	/* results */
	struct live_fc_result *res;
	struct timespec t0;
	char errbuf[LIVE_ERRBUF_SIZE];
};

static double elapsed(const struct fc *fc)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - fc->t0.tv_sec) + (double)(t.tv_nsec - fc->t0.tv_nsec) / 1e9;
}

/* Stop the server; its exit status, or -1. */
static int server_kill(struct fc *fc)
{
	int status = -1;

	if (fc->srv_pid <= 0)
		return -1;
	kill(fc->srv_pid, SIGKILL);
	close(fc->srv_fd);
	while (waitpid(fc->srv_pid, &status, 0) < 0 && errno == EINTR)
		;
	fc->srv_pid = 0;
	fc->srv_fd = -1;
	return status;
}

/* A server that stopped answering by itself: reap it, return its status. */
static int server_reap(struct fc *fc)
{
	int status = -1;

	close(fc->srv_fd);
	for (int i = 0; i < 100; i++) {
		if (waitpid(fc->srv_pid, &status, WNOHANG) == fc->srv_pid)
			goto done;
		usleep(10000);
	}
	kill(fc->srv_pid, SIGKILL);
	while (waitpid(fc->srv_pid, &status, 0) < 0 && errno == EINTR)
		;
done:
	fc->srv_pid = 0;
	fc->srv_fd = -1;
	return status;
}

/* Start the compile server if none runs.  0 or a negative enum live_error. */
static int server_start(struct fc *fc)
{
	int sv[2], r;
	int32_t st = 0;
	uint32_t len = 0;
	pid_t pid;

	if (fc->srv_pid > 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(fc->errbuf, sizeof(fc->errbuf), "socketpair: %s", strerror(errno));
		return LIVE_ERR_SYS;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(fc->errbuf, sizeof(fc->errbuf), "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return LIVE_ERR_SYS;
	}
	if (pid == 0) {
		close(sv[0]);
		server_main(sv[1], fc->linktype, (fc->mask & pair_mask(1)) != 0, fc->o->crash_on);
	}
	close(sv[1]);
	fc->srv_pid = pid;
	fc->srv_fd = sv[0];
	fc->srv_served = 0;
	fc->st->children++;
	/* The hello: the server's set-up (namespace, live handle) worked. */
	if ((r = read_timed(sv[0], &st, 4, 30000)) != 0 || read_timed(sv[0], &len, 4, 1000) != 0 ||
	    st != 0) {
		char msg[400] = "the compiling process did not start";

		if (r == 0 && st < 0 && len < sizeof(msg) && read_timed(sv[0], msg, len, 1000) == 0)
			msg[len] = '\0';
		snprintf(fc->errbuf, sizeof(fc->errbuf), "%.250s", msg);
		server_kill(fc);
		return LIVE_ERR_PERM;
	}
	return 0;
}

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_request(struct fc *fc, char *const *exprs, size_t from, size_t n, unsigned mask)
{
	uint32_t hdr[2] = { (uint32_t)(n - from), mask }, len;

	if (send_all(fc->srv_fd, hdr, sizeof(hdr)) != 0)
		return -1;
	for (size_t i = from; i < n; i++) {
		len = (uint32_t)strlen(exprs[i]);
		if (send_all(fc->srv_fd, &len, 4) != 0 || send_all(fc->srv_fd, exprs[i], len) != 0)
			return -1;
	}
	return 0;
}

/*
 * Compile exprs[from..n) on the server.  Fills out[] as results arrive.
 * Returns n when all arrived; otherwise the index of the expression whose
 * compile died or hung (out[k].died set) - the server is gone then.  A
 * negative enum live_error when no server could start.
 */
static long run_child(struct fc *fc, char *const *exprs, size_t from, size_t n, struct cres *out,
		      unsigned mask)
{
	uint32_t len;
	int32_t st;
	int rc, r, status;

	/* Bound what libpcap may leak in one process. */
	if (fc->srv_pid > 0 && fc->srv_served > 20000)
		server_kill(fc);
	if ((rc = server_start(fc)) != 0)
		return rc;
	if (send_request(fc, exprs, from, n, mask) != 0) {
		/* It died before reading the request: start again once. */
		server_reap(fc);
		if ((rc = server_start(fc)) != 0)
			return rc;
		if (send_request(fc, exprs, from, n, mask) != 0) {
			snprintf(fc->errbuf, sizeof(fc->errbuf), "the compiling process keeps dying");
			server_kill(fc);
			return LIVE_ERR_SYS;
		}
	}
	fc->srv_served += n - from;
	for (size_t i = from; i < n; i++) {
		for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
			struct comp *cp = &out[i].c[c];

			if (!(mask & 1u << c))
				continue;
			r = read_timed(fc->srv_fd, &st, 4, (int)fc->o->timeout_ms);
			if (r == 0)
				r = read_timed(fc->srv_fd, &len, 4, 1000);
			if (r == 0 && (len > 8u * 65536 || (st == 0 && len % 8)))
				r = -1;
			if (r == 0 && st == 0) {
				cp->prog.len = len / 8;
				if (!(cp->prog.insns = malloc(len ? len : 1)))
					r = -1;
				else if ((r = read_timed(fc->srv_fd, cp->prog.insns, len, 1000)) == 0)
					cp->ok = 1;
			} else if (r == 0) {
				if (!(cp->err = malloc(len + 1)))
					r = -1;
				else if ((r = read_timed(fc->srv_fd, cp->err, len, 1000)) == 0)
					cp->err[len] = '\0';
			}
			if (r != 0) {
				out[i].died = r == -2 ? 2 : 1;
				out[i].died_cfg = c;
				status = r == -2 ? server_kill(fc) : server_reap(fc);
				if (out[i].died == 1 && status != -1) {
					if (WIFSIGNALED(status))
						out[i].sig = WTERMSIG(status);
					else if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
						out[i].died = 0; /* out of memory: not libpcap's fault */
				}
				return (long)i;
			}
			fc->st->compiles[c]++;
			fc->st->compiled[c] += (uint64_t)cp->ok;
		}
	}
	return (long)n;
}

/*
 * libpcap 1.10's optimizer refuses a filter it proves can never match
 * ("expression rejects all packets", from bpf_optimize() when the root
 * block is a constant reject) - an error only -O1 gives.  Such a pair is
 * compared as if -O1 had compiled to "ret #0": if the unoptimized program
 * accepts any packet, the optimizer's proof was wrong.
 */
static const char rejects_all[] = "expression rejects all packets";

static void effective(struct fc *fc, struct cres *r, unsigned mask)
{
	for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
		struct comp *cp = &r->c[c];

		if (!(mask & 1u << c) || cp->ok || !cp->err || strcmp(cp->err, rejects_all) != 0)
			continue;
		if (!(cp->prog.insns = calloc(1, sizeof(*cp->prog.insns))))
			continue;
		cp->prog.insns[0].code = BPF_RET | BPF_K;
		cp->prog.len = 1;
		cp->ok = 1;
		cp->rejects_all = 1;
		fc->st->rejects_all[c]++;
	}
}

/* Compile every expression of a batch for every config in @mask.  A
 * compile that dies is confirmed alone when @confirm (and the batch is
 * longer than one).  0 or a negative enum live_error. */
static int compile_batch(struct fc *fc, char *const *exprs, size_t n, struct cres *out,
			 unsigned mask, int confirm)
{
	size_t from = 0;

	memset(out, 0, n * sizeof(*out));
	if (!fc->o->isolate) {
		for (size_t i = 0; i < n; i++) {
			for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
				struct comp *cp = &out[i].c[c];
				char err[BPFVM_ERRBUF_SIZE];

				if (!(mask & 1u << c))
					continue;
				if (c < LIVE_FC_LIN_O1) {
					if (compile_on(fc->dead, exprs[i], c == LIVE_FC_OFF_O1, cp) != 0)
						return LIVE_ERR_SYS;
				} else {
					struct bpfvm_compile_opts co;

					bpfvm_compile_opts_init(&co);
					co.linux_ext = 1;
					co.optimize = c == LIVE_FC_LIN_O1;
					co.linktype = fc->linktype;
					if (bpfvm_compile(exprs[i], &co, &cp->prog, err) == 0)
						cp->ok = 1;
					else if (!(cp->err = strdup(err)))
						return LIVE_ERR_SYS;
				}
				fc->st->compiles[c]++;
				fc->st->compiled[c] += (uint64_t)cp->ok;
			}
			effective(fc, &out[i], mask);
		}
		return 0;
	}
	while (from < n) {
		long at = run_child(fc, exprs, from, n, out, mask);

		if (at < 0)
			return (int)at;
		if ((size_t)at >= n)
			break;
		if (out[at].died && confirm && n > 1) {
			struct cres again[1];

			memset(again, 0, sizeof(again));
			if (run_child(fc, exprs + at, 0, 1, again, mask) >= 0)
				out[at].alone = again[0].died != 0;
			cres_clear(&again[0]);
		} else {
			out[at].alone = out[at].died != 0 && n == 1;
		}
		from = (size_t)at + 1;
	}
	for (size_t i = 0; i < n; i++)
		effective(fc, &out[i], mask);
	return 0;
}

int live_fc_compile(const char *expr, enum live_fc_cfg cfg, struct bpfvm_prog *prog, char *errbuf)
{
	struct bpfvm_compile_opts co;

	bpfvm_compile_opts_init(&co);
	co.optimize = cfg == LIVE_FC_OFF_O1 || cfg == LIVE_FC_LIN_O1;
	co.linux_ext = cfg >= LIVE_FC_LIN_O1;
	return bpfvm_compile(expr, &co, prog, errbuf);
}

/* ---- running ---------------------------------------------------------- */

static const struct bpfvm_packet *pkt_of(const struct fc *fc, int pair, uint32_t i,
					 const struct bpfvm_meta **meta)
{
	if (pair == 0) {
		*meta = NULL;
		return &fc->pk[i];
	}
	*meta = &fc->view[i].meta;
	return &fc->view[i].pkt;
}

/* Packets the linux view drops before the taps are skipped in that pair. */
static int pkt_usable(const struct fc *fc, int pair, uint32_t i)
{
	return pair == 0 || fc->view[i].drop == SIM_DROP_NONE;
}

struct abn {
	const struct bpfvm_prog *prog;
	int abnormal;
};

/* A run ends abnormally at a load past the captured bytes or at an
 * instruction that is not a return (DIV/MOD by X == 0): both give 0. */
static void oob_step(const struct bpfvm_step *s, void *ctx)
{
	struct abn *a = ctx;

	if (s->load_failed ||
	    (s->done && s->pc < a->prog->len && BPF_CLASS(a->prog->insns[s->pc].code) != BPF_RET))
		a->abnormal = 1;
}

/* Run and say whether the run ended abnormally. */
static uint32_t run_oob(const struct bpfvm *vm, const struct bpfvm_prog *prog,
			const struct bpfvm_packet *p, const struct bpfvm_meta *meta, int *oob)
{
	struct abn a = { prog, 0 };
	uint32_t r = bpfvm_run_traced(vm, p, meta, oob_step, &a);

	*oob = a.abnormal;
	return r;
}

/* Do the two programs split on packet @i, and how?  0: no; else the kind. */
static int split_kind(const struct fc *fc, struct bpfvm *const vm[2], const struct comp *c, int pair,
		      uint32_t i)
{
	const struct bpfvm_meta *meta;
	const struct bpfvm_packet *p = pkt_of(fc, pair, i, &meta);
	int oob[2];

	if (run_oob(vm[0], &c[0].prog, p, meta, &oob[0]) == run_oob(vm[1], &c[1].prog, p, meta, &oob[1]))
		return 0;
	return oob[0] || oob[1] ? LIVE_FC_VERDICT_OOB + 1 : LIVE_FC_VERDICT + 1;
}

/* Fill the finding's "where the runs part" from the two runs' step
 * recordings (bpfvm_rec_part(): packet loads by position and size,
 * ancillary loads by field).  Left at zero if a run cannot be recorded. */
static void find_parting(const struct bpfvm *vm[2], const struct bpfvm_prog prog[2],
			 const struct bpfvm_packet *pkt, const struct bpfvm_meta *meta,
			 struct live_fc_finding *f)
{
	struct bpfvm_rec rec[2];
	struct bpfvm_rec_parting p;
	char err[BPFVM_ERRBUF_SIZE];

	memset(rec, 0, sizeof(rec));
	f->part_anc[0] = f->part_anc[1] = -1;
	for (int i = 0; i < 2; i++)
		if (bpfvm_record(vm[i], &prog[i], pkt, meta, 1u << 16, &rec[i], err) != 0 ||
		    rec[i].n == 0)
			goto out;
	bpfvm_rec_part(&rec[0], &rec[1], &p);
	f->part_load = p.reads;
	for (int i = 0; i < 2; i++) {
		const struct bpfvm_rec_step *st = &rec[i].steps[p.step[i]];

		f->part_end[i] = !p.read[i];
		f->part_pc[i] = st->pc;
		f->part_anc[i] = p.read[i] ? st->anc : -1;
		f->part_off[i] = p.read[i] ? (int32_t)st->load_off : 0;
		f->part_size[i] = p.read[i] ? st->load_size : 0;
	}
out:
	bpfvm_rec_free(&rec[0]);
	bpfvm_rec_free(&rec[1]);
}

/* ---- findings --------------------------------------------------------- */

static struct live_fc_finding *new_finding(struct fc *fc)
{
	struct live_fc_result *res = fc->res;
	struct live_fc_finding *nf = realloc(res->findings, (res->n_findings + 1) * sizeof(*nf));

	if (!nf)
		return NULL;
	res->findings = nf;
	nf = &res->findings[res->n_findings++];
	memset(nf, 0, sizeof(*nf));
	return nf;
}

static struct live_fc_finding *same_finding(struct fc *fc, enum live_fc_kind kind, int pair,
					    const char *reduced)
{
	for (size_t i = 0; i < fc->res->n_findings; i++) {
		struct live_fc_finding *f = &fc->res->findings[i];

		if (f->kind == kind && f->pair == pair && strcmp(f->reduced, reduced) == 0)
			return f;
	}
	return NULL;
}

static size_t kind_kept(const struct fc *fc, enum live_fc_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < fc->res->n_findings; i++)
		n += fc->res->findings[i].kind == kind;
	return n;
}

/* What a reduction must keep. */
struct keep {
	struct fc *fc;
	enum live_fc_kind kind;
	int pair;
	uint32_t pkt;		/* VERDICT: the packet */
	int side_bad;		/* COMPILE_ERROR: which side fails (0: -O1, 1: -O0);
				 * REJECTED: the mask make_vms() gave */
	const char *err;	/* COMPILE_ERROR: the failing side's message */
	int sig;		/* CRASH */
	int failed;		/* out of memory or the like: stop */
};

static unsigned pair_mask(int pair)
{
	return pair ? 1u << LIVE_FC_LIN_O1 | 1u << LIVE_FC_LIN_O0
		    : 1u << LIVE_FC_OFF_O1 | 1u << LIVE_FC_OFF_O0;
}

/* Create both VMs of a pair; 0, or a mask of the sides the VM refused
 * (1: -O1, 2: -O0), with the first refusal's message in @err. */
static int make_vms(const struct comp *c, int pair, struct bpfvm *vm[2], char *err)
{
	char e2[BPFVM_ERRBUF_SIZE];
	int bad = 0;

	vm[0] = vm[1] = NULL;
	for (int i = 0; i < 2; i++)
		if (bpfvm_create(&vm[i], &c[i].prog, pair ? BPFVM_LINUX : BPFVM_LIBPCAP,
				 bad ? e2 : err) != 0)
			bad |= 1 << i;
	if (bad) {
		bpfvm_destroy(vm[0]);
		bpfvm_destroy(vm[1]);
		vm[0] = vm[1] = NULL;
	}
	return bad;
}

/* Does the pair (c[0] -O1, c[1] -O0) still show the property? */
static int keeps(struct keep *k, const struct comp *c, const struct cres *r)
{
	struct bpfvm *vm[2];
	char err[BPFVM_ERRBUF_SIZE];
	int bad;

	switch (k->kind) {
	case LIVE_FC_CRASH:
		return r->died == 1 && r->sig == k->sig;
	case LIVE_FC_HANG:
		return r->died == 2;
	case LIVE_FC_COMPILE_ERROR:
		if (r->died)
			return 0;
		if (c[0].ok != c[1].ok)
			return !c[k->side_bad].ok && strcmp(c[k->side_bad].err, k->err) == 0;
		return !c[0].ok && !c[1].ok && strcmp(c[0].err, c[1].err) != 0;
	case LIVE_FC_REJECTED:
		if (r->died || !c[0].ok || !c[1].ok)
			return 0;
		bad = make_vms(c, k->pair, vm, err);
		if (!bad) {
			bpfvm_destroy(vm[0]);
			bpfvm_destroy(vm[1]);
		}
		return bad == k->side_bad;
	case LIVE_FC_VERDICT:
	case LIVE_FC_VERDICT_OOB: {
		int split;

		if (r->died || !c[0].ok || !c[1].ok)
			return 0;
		if (make_vms(c, k->pair, vm, err) != 0)
			return 0;
		split = split_kind(k->fc, vm, c, k->pair, k->pkt);
		bpfvm_destroy(vm[0]);
		bpfvm_destroy(vm[1]);
		return split == (int)k->kind + 1;
	}
	default:
		return 0;
	}
}

static long reduce_pred(const struct live_expr *const *cands, size_t n, void *ctx)
{
	struct keep *k = ctx;
	char **exprs = calloc(n, sizeof(*exprs));
	struct cres *out = calloc(n, sizeof(*out));
	unsigned mask = pair_mask(k->pair);
	long pick = -1;

	if (!exprs || !out)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (!(exprs[i] = live_expr_string(cands[i])))
			goto done;
	if (k->kind == LIVE_FC_CRASH || k->kind == LIVE_FC_HANG) {
		/* Each death costs a new compiling process (and a hang a
		 * timeout): stop at the first candidate that dies alike. */
		size_t i = 0;

		while (i < n && pick < 0) {
			long at = run_child(k->fc, exprs, i, n, out, mask);

			if (at < 0) {
				k->failed = 1;
				goto done;
			}
			for (size_t j = i; j < n && j <= (size_t)at && pick < 0; j++)
				if (keeps(k, &out[j].c[k->pair * 2], &out[j]))
					pick = (long)j;
			i = (size_t)at + 1;
		}
		goto done;
	}
	if (compile_batch(k->fc, exprs, n, out, mask, 0) != 0) {
		k->failed = 1;
		goto done;
	}
	for (size_t j = 0; j < n && pick < 0; j++)
		if (keeps(k, &out[j].c[k->pair * 2], &out[j]))
			pick = (long)j;
done:
	for (size_t i = 0; exprs && i < n; i++)
		free(exprs[i]);
	for (size_t i = 0; out && i < n; i++)
		cres_clear(&out[i]);
	free(exprs);
	free(out);
	return pick;
}

/* Compile a finding's reduced expression again and keep both programs. */
static void fill_programs(struct fc *fc, struct live_fc_finding *f)
{
	struct cres r;
	char *e[1] = { f->reduced };

	if (f->kind == LIVE_FC_HANG || f->kind == LIVE_FC_CRASH)
		return;
	if (compile_batch(fc, e, 1, &r, pair_mask(f->pair), 0) != 0)
		return;
	for (int i = 0; i < 2; i++) {
		struct comp *c = &r.c[f->pair * 2 + i];

		f->ok[i] = c->ok;
		f->rejects_all[i] = c->rejects_all;
		f->prog[i] = c->prog;
		f->err[i] = c->err;
		c->prog.insns = NULL;
		c->err = NULL;
	}
	cres_clear(&r);
}

static void set_packet(struct fc *fc, struct live_fc_finding *f, uint32_t i)
{
	f->has_packet = 1;
	f->pkt_index = i;
	f->pkt_generated = fc->gen_origin[i] != UINT32_MAX;
	f->pkt_origin = f->pkt_generated ? fc->gen_origin[i] : fc->set.recs[i].index;
	f->pkt_caplen = fc->pk[i].caplen;
	f->pkt_wirelen = fc->pk[i].wirelen;
	if ((f->pkt = malloc(f->pkt_caplen ? f->pkt_caplen : 1)))
		memcpy(f->pkt, fc->pk[i].bytes, f->pkt_caplen);
}

/* Put back the campaign's compile counts after a reduction's, keeping
 * how many compiles and processes the reduction took. */
static void restore_stats(struct fc *fc, const struct live_fc_stats *saved)
{
	struct live_fc_stats *st = fc->st;

	for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
		st->reduce_compiles += st->compiles[c] - saved->compiles[c];
		st->compiles[c] = saved->compiles[c];
		st->compiled[c] = saved->compiled[c];
		st->rejects_all[c] = saved->rejects_all[c];
	}
}

/* Record a finding (reducing it) unless the same is known or enough of
 * its kind are kept.  @expr_tree may be NULL (no reduction). */
static int add_finding(struct fc *fc, struct keep *k, const struct live_expr *tree,
		       const char *expr, uint64_t idx, const struct cres *r, uint32_t differing)
{
	struct live_fc_finding *f, *same;
	struct live_expr *red = NULL;
	struct live_fc_stats saved;
	unsigned rounds = 0;
	char *rs;

	fc->st->occurrences[k->kind]++;
	if ((same = same_finding(fc, k->kind, k->pair, expr))) {
		same->dups++;
		return 0;
	}
	if (kind_kept(fc, k->kind) >= fc->o->max_findings)
		return 0;
	/* The reducer's compiles are not the campaign's. */
	saved = *fc->st;
	if (tree && k->kind != LIVE_FC_KERNEL)
		red = live_expr_reduce(tree, reduce_pred, k, fc->o->reduce_rounds, &rounds);
	rs = red ? live_expr_string(red) : strdup(expr);
	live_expr_free(red);
	if (!rs || (!(same = same_finding(fc, k->kind, k->pair, rs)) && !(f = new_finding(fc)))) {
		restore_stats(fc, &saved);
		free(rs);
		return LIVE_ERR_SYS;
	}
	if (same) {
		restore_stats(fc, &saved);
		same->dups++;
		free(rs);
		return 0;
	}
	fc->st->findings[k->kind]++;
	f->kind = k->kind;
	f->pair = k->pair;
	f->expr_index = idx;
	f->expr = strdup(expr);
	f->reduced = rs;
	f->reduce_rounds = rounds;
	f->pkts_differing = differing;
	if (r) {
		f->sig = r->sig;
		f->reproduced_alone = r->alone;
		if (r->died)
			snprintf(f->note, sizeof(f->note), "%s while compiling %s with the optimizer %s%s",
				 r->died == 1 ? "died" : "hung", r->died_cfg >= LIVE_FC_LIN_O1 ? "with Linux extensions" : "offline",
				 r->died_cfg % 2 ? "off" : "on",
				 r->alone ? "; again when compiled alone" : "; not again when compiled alone");
	}
	fill_programs(fc, f);
	restore_stats(fc, &saved);
	if (k->kind == LIVE_FC_REJECTED && f->ok[0] && f->ok[1]) {
		struct bpfvm *vm;
		char e[2][BPFVM_ERRBUF_SIZE] = { "accepted", "accepted" };

		for (int i = 0; i < 2; i++)
			if (bpfvm_create(&vm, &f->prog[i], f->pair ? BPFVM_LINUX : BPFVM_LIBPCAP, e[i]) == 0)
				bpfvm_destroy(vm);
		snprintf(f->note, sizeof(f->note), "%s: -O1 %.100s; -O0 %.100s",
			 f->pair ? "the kernel's verifier" : "bpf_validate()", e[0], e[1]);
	}
	if (k->kind == LIVE_FC_VERDICT || k->kind == LIVE_FC_VERDICT_OOB) {
		const struct bpfvm_meta *meta;
		const struct bpfvm_packet *p = pkt_of(fc, k->pair, k->pkt, &meta);
		struct comp c[2] = { { .ok = f->ok[0], .prog = f->prog[0] },
				     { .ok = f->ok[1], .prog = f->prog[1] } };
		struct bpfvm *vm[2];
		char err[BPFVM_ERRBUF_SIZE];

		set_packet(fc, f, k->pkt);
		if (f->ok[0] && f->ok[1] && make_vms(c, k->pair, vm, err) == 0) {
			f->ret[0] = run_oob(vm[0], &f->prog[0], p, meta, &f->oob[0]);
			f->ret[1] = run_oob(vm[1], &f->prog[1], p, meta, &f->oob[1]);
			find_parting((const struct bpfvm **)vm, f->prog, p, meta, f);
			bpfvm_destroy(vm[0]);
			bpfvm_destroy(vm[1]);
		}
		/* The offline pair again, through libpcap's own interpreter. */
		if (k->pair == 0 && f->ok[0] && f->ok[1]) {
			f->pcap_checked = 1;
			for (int i = 0; i < 2; i++)
				f->pcap_ret[i] = bpf_filter((const struct bpf_insn *)f->prog[i].insns,
							    f->pkt, f->pkt_wirelen, f->pkt_caplen);
		}
	}
	return 0;
}

/* ---- the kernel ------------------------------------------------------- */

static int kernel_check(struct fc *fc, const struct live_expr *tree, const char *expr,
			uint64_t idx, const struct comp *c, struct bpfvm *const vm[2])
{
	(void)tree;
	for (int i = 0; i < 2; i++) {
		char err[LIVE_ERRBUF_SIZE];
		int rc = live_filter_run(fc->lf, &c[i].prog, fc->kframes, fc->klens, fc->nkpk, fc->kout,
					 err);

		if (rc == LIVE_ERR_PROG)
			continue;	/* the VM verified it, so REJECTED says the rest */
		if (rc != 0) {
			snprintf(fc->errbuf, sizeof(fc->errbuf), "%s", err);
			return rc;
		}
		fc->st->kernel_programs++;
		fc->st->kernel_frames += fc->nkpk;
		for (uint32_t j = 0; j < fc->nkpk; j++) {
			const struct live_verdict *v = &fc->kout[j];
			uint32_t pi = fc->kidx[j], ret, snap;
			const struct sim_rx_view *w = &fc->view[pi];

			if (v->send_errno || !v->reached || w->drop != SIM_DROP_NONE)
				continue;
			ret = bpfvm_run(vm[i], &w->pkt, &w->meta);
			snap = bpfvm_snaplen(vm[i], &w->pkt, ret);
			if ((snap != 0) == (v->delivered != 0) && (!v->delivered || snap == v->tp_snaplen))
				continue;
			struct keep k = { .fc = fc, .kind = LIVE_FC_KERNEL, .pair = 1 };
			size_t before = fc->res->n_findings;
			int rc2 = add_finding(fc, &k, NULL, expr, idx, NULL, 0);

			if (rc2)
				return rc2;
			if (fc->res->n_findings > before) {
				struct live_fc_finding *f = &fc->res->findings[fc->res->n_findings - 1];

				set_packet(fc, f, pi);
				f->kernel_prog = i;
				f->kernel_snap = v->delivered ? v->tp_snaplen : 0;
				f->kernel_delivered = v->delivered;
				f->vm_snap = snap;
			}
			break;	/* one per program is enough */
		}
	}
	return 0;
}

/* ---- one expression --------------------------------------------------- */

static int same_prog(const struct bpfvm_prog *a, const struct bpfvm_prog *b)
{
	return a->len == b->len && memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0;
}

static int handle_pair(struct fc *fc, const struct live_expr *tree, const char *expr, uint64_t idx,
		       const struct cres *r, int pair)
{
	const struct comp *c = &r->c[pair * 2];
	uint64_t *out = fc->st->outcome[pair];
	struct keep k = { .fc = fc, .pair = pair };
	struct bpfvm *vm[2];
	char err[BPFVM_ERRBUF_SIZE];
	uint32_t first = UINT32_MAX, differing = 0;
	int first_kind = 0;
	int bad, rc = 0;

	if (r->died) {
		out[LIVE_FC_OUT_DIED]++;
		if (r->died_cfg / 2 != pair)
			return 0;
		k.kind = r->died == 1 ? LIVE_FC_CRASH : LIVE_FC_HANG;
		k.sig = r->sig;
		return add_finding(fc, &k, tree, expr, idx, r, 0);
	}
	if (!c[0].ok && !c[1].ok) {
		out[LIVE_FC_OUT_BOTH_ERR]++;
		if (strcmp(c[0].err, c[1].err) == 0)
			return 0;
		k.kind = LIVE_FC_COMPILE_ERROR;
		return add_finding(fc, &k, tree, expr, idx, r, 0);
	}
	if (!c[0].ok || !c[1].ok) {
		out[LIVE_FC_OUT_ONE_ERR]++;
		k.kind = LIVE_FC_COMPILE_ERROR;
		k.side_bad = c[0].ok;
		k.err = c[k.side_bad].err;
		return add_finding(fc, &k, tree, expr, idx, r, 0);
	}
	if (same_prog(&c[0].prog, &c[1].prog) && !(pair == 1 && fc->lf)) {
		out[LIVE_FC_OUT_IDENTICAL]++;
		return 0;
	}
	if (pair == 1 && (c[0].prog.len > BPFVM_MAXINSNS || c[1].prog.len > BPFVM_MAXINSNS)) {
		out[LIVE_FC_OUT_TOO_LONG]++;
		return 0;
	}
	if ((bad = make_vms(c, pair, vm, err)) != 0) {
		out[LIVE_FC_OUT_REJECTED]++;
		k.kind = LIVE_FC_REJECTED;
		k.side_bad = bad;
		return add_finding(fc, &k, tree, expr, idx, r, 0);
	}
	if (same_prog(&c[0].prog, &c[1].prog)) {
		out[LIVE_FC_OUT_IDENTICAL]++;
	} else {
		out[LIVE_FC_OUT_COMPARED]++;
		for (uint32_t i = 0; i < fc->npk; i++) {
			const struct bpfvm_meta *meta;
			const struct bpfvm_packet *p;

			if (!pkt_usable(fc, pair, i))
				continue;
			p = pkt_of(fc, pair, i, &meta);
			fc->st->runs += 2;
			if (bpfvm_run(vm[0], p, meta) != bpfvm_run(vm[1], p, meta)) {
				/* Report a split where both runs ended normally
				 * before one caused by a short packet. */
				int sk = split_kind(fc, vm, c, pair, i);

				if (first == UINT32_MAX ||
				    (sk == LIVE_FC_VERDICT + 1 && first_kind != sk)) {
					first = i;
					first_kind = sk;
				}
				differing++;
			}
		}
	}
	if (first != UINT32_MAX) {
		fc->st->pairs_differing[pair]++;
		k.kind = (enum live_fc_kind)(first_kind - 1);
		k.pkt = first;
		rc = add_finding(fc, &k, tree, expr, idx, r, differing);
	}
	if (!rc && pair == 1 && fc->lf)
		rc = kernel_check(fc, tree, expr, idx, c, vm);
	bpfvm_destroy(vm[0]);
	bpfvm_destroy(vm[1]);
	return rc;
}

/* ---- set-up ----------------------------------------------------------- */

static int load_packets(struct fc *fc, char *errbuf)
{
	const struct live_fc_opts *o = fc->o;
	char terr[TRACE_ERRBUF_SIZE];
	struct trace_gen_opts go;
	struct sim_rx_dev dev;
	uint32_t ntr = 0, n;
	uint64_t rng;

	fc->linktype = DLT_EN10MB;
	if (o->trace) {
		if (trace_sample(o->trace, TRACE_SAMPLE_RECORDS, o->seed, &fc->set,
				 &fc->st->trace_records, terr) != 0) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "%.250s", terr);
			return LIVE_ERR_ARG;
		}
		fc->linktype = fc->set.linktype;
		ntr = fc->set.count;
	}
	if (fc->linktype != DLT_EN10MB && (o->linux_ext || o->gen_frames)) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "%s: link type %d: Linux extensions and generated frames need Ethernet "
			 "(use --no-linux-ext)", o->trace, fc->linktype);
		return LIVE_ERR_ARG;
	}
	n = ntr + o->gen_frames;
	fc->npk = n;
	fc->pk = calloc(n ? n : 1, sizeof(*fc->pk));
	fc->view = calloc(n ? n : 1, sizeof(*fc->view));
	fc->viewbuf = calloc(n ? n : 1, sizeof(*fc->viewbuf));
	fc->gen_origin = calloc(n ? n : 1, sizeof(*fc->gen_origin));
	fc->genbuf = malloc((size_t)o->gen_frames * TRACE_GEN_MAXFRAME + 1);
	if (!fc->pk || !fc->view || !fc->viewbuf || !fc->gen_origin || !fc->genbuf) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "out of memory for %u packets", n);
		return LIVE_ERR_SYS;
	}
	for (uint32_t i = 0; i < ntr; i++) {
		fc->pk[i].bytes = fc->set.recs[i].bytes;
		fc->pk[i].caplen = fc->set.recs[i].caplen;
		fc->pk[i].wirelen = fc->set.recs[i].wirelen;
		fc->gen_origin[i] = UINT32_MAX;
	}
	trace_gen_opts_init(&go);
	go.seed = o->seed;
	rng = go.seed;
	for (uint32_t i = 0; i < o->gen_frames; i++) {
		uint8_t *b = fc->genbuf + (size_t)i * TRACE_GEN_MAXFRAME;
		uint32_t cap, wire = trace_gen_frame(&rng, &go, b, &cap);

		fc->pk[ntr + i].bytes = b;
		fc->pk[ntr + i].caplen = cap;
		fc->pk[ntr + i].wirelen = wire;
		fc->gen_origin[ntr + i] = i;
	}
	/* The linux view: each record's captured bytes are the frame. */
	sim_rx_dev_init(&dev);
	if (fc->lf) {
		memcpy(dev.mac, live_filter_mac(fc->lf), 6);
		dev.ifindex = (uint32_t)live_filter_ifindex(fc->lf);
		dev.mtu = live_filter_mtu(fc->lf);
	}
	for (uint32_t i = 0; i < n && fc->linktype == DLT_EN10MB; i++) {
		if (!(fc->viewbuf[i] = malloc(fc->pk[i].caplen + 1))) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "out of memory");
			return LIVE_ERR_SYS;
		}
		sim_rx_view(&dev, fc->pk[i].bytes, fc->pk[i].caplen, SIM_SOCK_RAW, fc->viewbuf[i],
			    &fc->view[i]);
		fc->view[i].meta.random_seed = 1 + i;
	}
	fc->st->packets = n;
	return 0;
}

/* The frames the kernel gets: the first kernel_frames the model lets
 * reach the taps. */
static int kernel_frames(struct fc *fc, char *errbuf)
{
	uint32_t n = 0;

	fc->kidx = calloc(fc->npk ? fc->npk : 1, sizeof(*fc->kidx));
	fc->kframes = calloc(fc->npk ? fc->npk : 1, sizeof(*fc->kframes));
	fc->klens = calloc(fc->npk ? fc->npk : 1, sizeof(*fc->klens));
	fc->kout = calloc(fc->npk ? fc->npk : 1, sizeof(*fc->kout));
	if (!fc->kidx || !fc->kframes || !fc->klens || !fc->kout) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "out of memory");
		return LIVE_ERR_SYS;
	}
	for (uint32_t i = 0; i < fc->npk && n < fc->o->kernel_frames; i++) {
		if (fc->pk[i].caplen < 14 || fc->view[i].drop != SIM_DROP_NONE)
			continue;
		fc->kidx[n] = i;
		fc->kframes[n] = fc->pk[i].bytes;
		fc->klens[n] = fc->pk[i].caplen;
		n++;
	}
	fc->nkpk = n;
	fc->st->kernel_packets = n;
	return 0;
}

static void fc_cleanup(struct fc *fc)
{
	for (uint32_t i = 0; fc->viewbuf && i < fc->npk; i++)
		free(fc->viewbuf[i]);
	free(fc->viewbuf);
	free(fc->view);
	free(fc->pk);
	free(fc->gen_origin);
	free(fc->genbuf);
	free(fc->kidx);
	free(fc->kframes);
	free(fc->klens);
	free(fc->kout);
	if (fc->srv_pid > 0) {
		int status;

		close(fc->srv_fd);	/* end of file: it exits */
		while (waitpid(fc->srv_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (fc->lf)
		live_filter_close(fc->lf);
	if (fc->dead)
		pcap_close(fc->dead);
	if (fc->set.recs || fc->set.data)
		trace_set_free(&fc->set);
}

/* The generator state of expression @i: independent of batching, so a
 * seed and a count name the same expressions whatever the time limit. */
static uint64_t expr_state(uint64_t seed, uint64_t i)
{
	uint64_t s = seed ^ (i * 0x9e3779b97f4a7c15ull);

	bpfvm_rand64(&s);
	return s;
}

int live_fc_run(const struct live_fc_opts *o, struct live_fc_result *res, char *errbuf)
{
	struct fc fc;
	struct live_expr **trees = NULL;
	char **exprs = NULL;
	struct cres *cr = NULL;
	uint32_t batch = o->batch ? o->batch : 128;
	uint64_t done = 0;
	int rc = 0, stop = 0;

	memset(res, 0, sizeof(*res));
	memset(&fc, 0, sizeof(fc));
	fc.o = o;
	fc.st = &res->stats;
	fc.res = res;
	clock_gettime(CLOCK_MONOTONIC, &fc.t0);
	if (!o->max_exprs && o->seconds <= 0) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "a campaign needs a count or a time limit");
		return LIVE_ERR_ARG;
	}
	if (!o->trace && !o->gen_frames) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "no packets: give a trace or generated frames");
		return LIVE_ERR_ARG;
	}
	if (o->kernel && !o->linux_ext) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "the kernel runs the Linux-extension programs: "
			 "--kernel needs Linux extensions");
		return LIVE_ERR_ARG;
	}
	fc.mask = 1u << LIVE_FC_OFF_O1 | 1u << LIVE_FC_OFF_O0;
	if (o->linux_ext)
		fc.mask |= 1u << LIVE_FC_LIN_O1 | 1u << LIVE_FC_LIN_O0;
	/* The kernel harness first: the linux view uses its device. */
	if (o->kernel && (rc = live_filter_open(&fc.lf, NULL, errbuf)) != 0)
		goto out;
	if ((rc = load_packets(&fc, errbuf)) != 0)
		goto out;
	if (o->kernel && (rc = kernel_frames(&fc, errbuf)) != 0)
		goto out;
	if (!o->isolate && !(fc.dead = pcap_open_dead(fc.linktype, SNAPLEN))) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "pcap_open_dead failed");
		rc = LIVE_ERR_SYS;
		goto out;
	}
	trees = calloc(batch, sizeof(*trees));
	exprs = calloc(batch, sizeof(*exprs));
	cr = calloc(batch, sizeof(*cr));
	if (!trees || !exprs || !cr) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE, "out of memory");
		rc = LIVE_ERR_SYS;
		goto out;
	}
	while (!stop) {
		struct live_exprgen_opts go = o->gen;
		uint32_t n = batch;

		go.linux_ext = o->linux_ext;
		if (o->max_exprs && o->max_exprs - done < n)
			n = (uint32_t)(o->max_exprs - done);
		if (n == 0)
			break;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t s = expr_state(o->seed, done + i);

			trees[i] = live_expr_gen(&s, &go);
			exprs[i] = trees[i] ? live_expr_string(trees[i]) : NULL;
			if (!exprs[i]) {
				snprintf(errbuf, LIVE_ERRBUF_SIZE, "out of memory");
				rc = LIVE_ERR_SYS;
				n = i + 1;
				stop = 1;
				break;
			}
		}
		if (!rc && (rc = compile_batch(&fc, exprs, n, cr, fc.mask, 1)) != 0)
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "%s", fc.errbuf);
		for (uint32_t i = 0; i < n; i++) {
			if (!rc && !stop) {
				res->stats.exprs++;
				for (int pair = 0; pair < (o->linux_ext ? 2 : 1) && !rc; pair++)
					rc = handle_pair(&fc, trees[i], exprs[i], done + i, &cr[i], pair);
				if (rc && !errbuf[0])
					snprintf(errbuf, LIVE_ERRBUF_SIZE, "%s", fc.errbuf);
				if (o->seconds > 0 && elapsed(&fc) >= o->seconds)
					stop = 1;
			}
			cres_clear(&cr[i]);
			live_expr_free(trees[i]);
			free(exprs[i]);
			trees[i] = NULL;
			exprs[i] = NULL;
		}
		done += n;
		if (rc)
			break;
		res->stats.seconds = elapsed(&fc);
		if (o->progress)
			o->progress(&res->stats, o->progress_ctx);
	}
out:
	res->stats.seconds = elapsed(&fc);
	free(trees);
	free(exprs);
	free(cr);
	fc_cleanup(&fc);
	return rc;
}

void live_fc_result_free(struct live_fc_result *res)
{
	for (size_t i = 0; i < res->n_findings; i++) {
		struct live_fc_finding *f = &res->findings[i];

		free(f->expr);
		free(f->reduced);
		free(f->pkt);
		for (int j = 0; j < 2; j++) {
			free(f->err[j]);
			bpfvm_prog_free(&f->prog[j]);
		}
	}
	free(res->findings);
	memset(res, 0, sizeof(*res));
}
