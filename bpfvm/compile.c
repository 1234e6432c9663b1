/*
 * compile.c - pcap-filter expressions through libpcap's pcap_compile().
 *
 * tcpdump compiles an expression differently when it captures live and
 * when it reads a file: on a live Linux handle libpcap sets
 * BPF_SPECIAL_VLAN_HANDLING (pcap-linux.c, after asking the socket for
 * SO_BPF_EXTENSIONS), and gencode.c then tests VLAN tags through the
 * SKF_AD_VLAN_TAG_PRESENT/SKF_AD_VLAN_TAG ancillary loads instead of the
 * packet bytes, because the kernel has already moved the tag out of the
 * data.  That flag lives inside pcap_t and only a live handle sets it, so
 * compiling "as for a live capture" opens a real handle - in a child
 * process inside a private network namespace, on its own loopback device,
 * so no capture ever touches the host's interfaces.
 */
#include "bpfvm.h"

#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void bpfvm_compile_opts_init(struct bpfvm_compile_opts *o)
{
	o->linktype = DLT_EN10MB;
	o->snaplen = 262144;
	o->optimize = 1;
	o->linux_ext = 0;
	o->always_live = 0;
}

static int copy_program(const struct bpf_program *fp, struct bpfvm_prog *prog, char *errbuf)
{
	prog->len = fp->bf_len;
	prog->insns = malloc((fp->bf_len ? fp->bf_len : 1) * sizeof(*prog->insns));
	if (!prog->insns) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory");
		return -1;
	}
	memcpy(prog->insns, fp->bf_insns, fp->bf_len * sizeof(*prog->insns));
	return 0;
}

static int compile_on(pcap_t *p, const char *expr, const struct bpfvm_compile_opts *o,
		      struct bpfvm_prog *prog, char *errbuf)
{
	struct bpf_program fp;
	int rc;

	if (pcap_compile(p, &fp, expr, o->optimize, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "libpcap cannot compile the expression: %.200s", pcap_geterr(p));
		return -1;
	}
	rc = copy_program(&fp, prog, errbuf);
	pcap_freecode(&fp);
	return rc;
}

static int compile_offline(const char *expr, const struct bpfvm_compile_opts *o,
			   struct bpfvm_prog *prog, char *errbuf)
{
	pcap_t *p = pcap_open_dead(o->linktype, o->snaplen);
	int rc;

	if (!p) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "libpcap cannot open a handle for link type %d",
			 o->linktype);
		return -1;
	}
	rc = compile_on(p, expr, o, prog, errbuf);
	pcap_close(p);
	return rc;
}

/* Bring the namespace's own loopback up: a handle on a down interface
 * cannot be activated. */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

struct pcap *bpfvm_live_compile_handle(int linktype, int snaplen, char *errbuf)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "compiling as for a live capture needs a live libpcap handle, made in a "
			 "private network namespace: %s (run as root, or compile as for a file "
			 "with --no-linux-ext)",
			 strerror(errno));
		return NULL;
	}
	if (loopback_up() != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "cannot bring up the namespace's loopback: %s",
			 strerror(errno));
		return NULL;
	}
	if (!(p = pcap_create(linktype == DLT_EN10MB ? "lo" : "any", perr))) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "libpcap: %.200s", perr);
		return NULL;
	}
	pcap_set_snaplen(p, snaplen);
	pcap_set_buffer_size(p, 1 << 16);	/* nothing is captured */
	if (pcap_activate(p) < 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "libpcap cannot open a live handle: %.200s",
			 pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (pcap_datalink(p) != linktype && pcap_set_datalink(p, linktype) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE,
			 "libpcap uses Linux extensions only on live handles, and no live handle "
			 "here has link type %s (Ethernet and the 'any' device's LINUX_SLL/"
			 "LINUX_SLL2 do); use --no-linux-ext",
			 pcap_datalink_val_to_name(linktype) ? pcap_datalink_val_to_name(linktype) : "?");
		pcap_close(p);
		return NULL;
	}
	return p;
}

/* The child: compile on a live handle and send back either
 * (int32 len >= 0, insns) or (int32 -1, errbuf). */
static void live_child(int fd, const char *expr, const struct bpfvm_compile_opts *o)
{
	char err[BPFVM_ERRBUF_SIZE] = "";
	struct bpfvm_prog prog = { 0 };
	pcap_t *p = bpfvm_live_compile_handle(o->linktype, o->snaplen, err);
	int32_t n = -1;

	if (!p)
		goto out;
	if (compile_on(p, expr, o, &prog, err) == 0)
		n = (int32_t)prog.len;
out:
	if (bpfvm_write_full(fd, &n, sizeof(n)) == 0) {
		if (n >= 0)
			bpfvm_write_full(fd, prog.insns, prog.len * sizeof(*prog.insns));
		else
			bpfvm_write_full(fd, err, sizeof(err));
	}
	if (p)
		pcap_close(p);
	_exit(0);
}

/*
 * The child's answer arrives before it exits: closing the live handle costs
 * the kernel ~35 ms (packet_release waits for an RCU grace period), time in
 * which the caller can already run the program.  Children that have
 * answered are reaped without waiting where they are done, and the rest at
 * the latest when the process exits - it is closing a socket in a namespace
 * only it holds, so nothing outlives capsim.
 */
static pid_t unreaped[8];

static void reap(int block)
{
	for (size_t i = 0; i < sizeof(unreaped) / sizeof(unreaped[0]); i++) {
		pid_t r;

		if (!unreaped[i])
			continue;
		while ((r = waitpid(unreaped[i], NULL, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
			;
		if (r != 0)	/* reaped, or not ours any more (ECHILD) */
			unreaped[i] = 0;
	}
}

static void reap_at_exit(void)
{
	reap(1);
}

static void reap_later(pid_t pid)
{
	static int registered;

	reap(0);
	for (size_t i = 0; i < sizeof(unreaped) / sizeof(unreaped[0]); i++) {
		if (!unreaped[i]) {
			if (!registered)
				registered = atexit(reap_at_exit) == 0;
			if (registered) {
				unreaped[i] = pid;
				return;
			}
			break;
		}
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)	/* table full */
		;
}

static int compile_live(const char *expr, const struct bpfvm_compile_opts *o,
			struct bpfvm_prog *prog, char *errbuf)
{
	int fds[2], rc = -1;
	int32_t n;
	pid_t pid;

	if (pipe(fds) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		live_child(fds[1], expr, o);
	}
	close(fds[1]);
	if (bpfvm_read_full(fds[0], &n, sizeof(n)) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "the compiling process ended without an answer");
	} else if (n < 0) {
		char err[BPFVM_ERRBUF_SIZE];

		if (bpfvm_read_full(fds[0], err, sizeof(err)) == 0) {
			err[sizeof(err) - 1] = '\0';
			snprintf(errbuf, BPFVM_ERRBUF_SIZE, "%s", err);
		} else {
			snprintf(errbuf, BPFVM_ERRBUF_SIZE, "the compiling process failed");
		}
	} else if (n > BPFVM_MAXINSNS * 16 ||
		   !(prog->insns = malloc(((size_t)n ? (size_t)n : 1) * sizeof(*prog->insns)))) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "out of memory");
	} else if (bpfvm_read_full(fds[0], prog->insns, (size_t)n * sizeof(*prog->insns)) != 0) {
		snprintf(errbuf, BPFVM_ERRBUF_SIZE, "the compiling process ended early");
		bpfvm_prog_free(prog);
	} else {
		prog->len = (uint32_t)n;
		rc = 0;
	}
	close(fds[0]);
	reap_later(pid);
	return rc;
}

/*
 * Does compiling @expr for a live Ethernet handle differ from compiling it
 * on a dead one?  libpcap 1.10 has one code-generation flag,
 * BPF_SPECIAL_VLAN_HANDLING, and reads it in gen_vlan() alone, which only
 * the `vlan` keyword reaches: without that word in the text the programs
 * are the same, and the live handle - about 50 ms of packet-ring set-up and
 * tear-down in the kernel - is not needed.  Newer libpcaps read more flags
 * (BPF_SPECIAL_BASIC_HANDLING: inbound, outbound, ifindex), so for them,
 * and for other link types, the handle is always opened.
 * tests/test_compile.c compiles expressions both ways and compares.
 */
static int live_handle_needed(const char *expr, const struct bpfvm_compile_opts *o)
{
	static const char v110[] = "libpcap version 1.10.";

	if (o->always_live || o->linktype != DLT_EN10MB)
		return 1;
	if (strncmp(pcap_lib_version(), v110, sizeof(v110) - 1) != 0)
		return 1;
	return strstr(expr, "vlan") != NULL;
}

int bpfvm_compile(const char *expr, const struct bpfvm_compile_opts *o, struct bpfvm_prog *prog,
		  char *errbuf)
{
	struct bpfvm_compile_opts def;

	if (!o) {
		bpfvm_compile_opts_init(&def);
		o = &def;
	}
	prog->insns = NULL;
	prog->len = 0;
	return o->linux_ext && live_handle_needed(expr, o) ? compile_live(expr, o, prog, errbuf)
							   : compile_offline(expr, o, prog, errbuf);
}
