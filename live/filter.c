/*
 * filter.c - the live cross-check driver: frames out of cs0, a program on a
 * packet socket on cs1, and per frame what the kernel did with it.
 *
 * Telling frames apart.  The frames are the caller's bytes (any length,
 * duplicates allowed), so nothing can be written into them.  Instead each
 * one is sent with an SCM_TXTIME control message carrying a sequence
 * number: packet_snd() stores it in skb->tstamp, veth keeps it (the pair
 * lives in one namespace, so skb_scrub_packet() leaves the stamp alone),
 * and tpacket_rcv() reports a set skb->tstamp as the frame's tp_sec/tp_nsec.
 * Both taps therefore name the frame they got exactly, whatever it looks
 * like and whatever the filter cut off.  Frames from anyone else carry the
 * wall clock (about 1.7e18 ns), far above any sequence number, and are
 * ignored.
 *
 * Knowing a batch is complete.  Every batch ends with a marker frame.  The
 * witness (no filter) sees every frame that reaches the taps, so when it
 * shows the marker, the kernel has run both taps for everything before it
 * (the thread is pinned to one CPU while it sends, so all frames pass the
 * same backlog queue in order).  PACKET_STATISTICS then says how many
 * frames the filtered socket accepted, and the driver reads exactly that
 * many from its ring.
 *
 * Losing nothing.  A batch holds at most half a ring of frames and goes
 * out in slices of a quarter of that, both rings being emptied after each
 * slice (a V3 ring also hands over part-filled blocks on its retire timer,
 * so an unread ring runs out of blocks however few bytes it holds).  If a
 * ring still reports tp_drops, the whole batch is sent again under new
 * sequence numbers.  Frames the witness never saw are sent once more in a
 * batch of their own: frames the kernel drops before the taps by their
 * content (a VLAN header too short to untag, a frame too big to forward)
 * miss again, anything transient does not.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "sysio_int.h"

#define SENDMMSG_MAX 1024  /* UIO_MAXIOV: the kernel's cap on one sendmmsg */
#define BATCH_MAX    32768 /* frames per batch, whatever the ring says */
#define ATTEMPTS     8	   /* sends of one batch before giving up */
#define WAIT_MS	     3000  /* longest wait for a batch's frames to show */
#define NS_PER_S     1000000000ULL
#define FOREIGN_ID   (1ULL << 50) /* stamps above this are wall-clock time: not ours */

struct live_filter {
	struct live_netns *ns;
	struct live_capture *witness; /* SOCK_RAW, no filter */
	struct live_capture *tap;     /* the caller's program */
	int tx;			      /* SOCK_RAW on cs0, protocol 0: sends only */
	int rx_ifindex;
	uint8_t mac[6];
	uint32_t mtu;
	uint64_t next_id;		 /* sequence numbers, from 1 (0 means "no stamp") */
	uint64_t tap_accepted, tap_read; /* running totals for the filtered ring */
	uint64_t budget;		 /* ring bytes one batch may fill */
	struct live_filter_counters cnt;
	/* Scratch for one batch. */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t *cmsg;
	size_t *idx;
	uint8_t *got;	    /* per batch slot: 1 witness saw it, 2 tap got it */
	struct tapmeta *tm; /* per batch slot: what the filtered socket said */
	/* Bytes handed out through the verdicts. */
	uint8_t *arena;
	size_t arena_size;
	uint8_t marker[60];
};

/* The filtered socket's view of a frame, checked against the witness's. */
struct tapmeta {
	uint8_t pkttype;
	uint8_t vlan_valid;
	uint16_t vlan_tci;
	int ifindex;
};

/* The batch under way: which frames, where their bytes go. */
struct batch {
	const uint8_t *const *frames;
	const uint32_t *lens;
	struct live_verdict *out;
	const size_t *off; /* per frame: offset of its slot in each half of the arena */
	size_t half;	   /* size of each half */
	size_t count;
	uint64_t base; /* sequence number of idx[0] */
};

void live_filter_opts_init(struct live_filter_opts *o)
{
	static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

	memcpy(o->rx_mac, mac, 6);
	o->mtu = 1500;
	o->sock_type = SOCK_RAW;
	live_ring_opts_init(&o->ring);
}

static int sys_fail(char *errbuf, const char *what, int e)
{
	snprintf(errbuf, LIVE_ERRBUF_SIZE, "live filter: %s: %s", what, strerror(e));
	return live_errno_class(e);
}

static int open_sender(struct live_filter *lf, char *errbuf)
{
	struct sockaddr_ll sll;
	struct sock_txtime tt;
	int fd;

	fd = live_netns_socket(lf->ns, AF_PACKET, SOCK_RAW, 0, errbuf);
	if (fd < 0)
		return fd;
	lf->tx = fd;
	/* Protocol 0: bound to cs0 for sending, but on no receive list. */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = live_netns_tx_ifindex(lf->ns);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return sys_fail(errbuf, "bind the sender to " LIVE_TX_IFNAME, errno);
	/* CLOCK_REALTIME needs CAP_NET_ADMIN (sk_setsockopt SO_TXTIME); a
	 * realtime stamp is one af_packet reports as it is. */
	memset(&tt, 0, sizeof(tt));
	tt.clockid = CLOCK_REALTIME;
	if (setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tt, sizeof(tt)) < 0) {
		int e = errno;

		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live filter: SO_TXTIME on the sender: %s (the harness names frames by "
			 "their transmit time; this kernel has no SO_TXTIME)",
			 strerror(e));
		return e == EPERM ? LIVE_ERR_PERM : LIVE_ERR_NOSUPPORT;
	}
	return 0;
}

int live_filter_open(struct live_filter **out, const struct live_filter_opts *o, char *errbuf)
{
	static const struct bpfvm_insn reject = {BPF_RET | BPF_K, 0, 0, 0};
	const struct bpfvm_prog reject_all = {(struct bpfvm_insn *)&reject, 1};
	struct live_filter_opts def;
	struct live_ring_opts ro;
	struct live_filter *lf;
	uint64_t ring;
	int ret;

	*out = NULL;
	if (!o) {
		live_filter_opts_init(&def);
		o = &def;
	}
	lf = calloc(1, sizeof(*lf));
	if (!lf)
		return sys_fail(errbuf, "calloc", ENOMEM);
	lf->tx = -1;
	lf->next_id = 1;
	memcpy(lf->mac, o->rx_mac, 6);
	lf->mtu = o->mtu;

	ret = live_netns_create(&lf->ns, o->rx_mac, o->mtu, errbuf);
	if (ret)
		goto fail;
	lf->rx_ifindex = live_netns_rx_ifindex(lf->ns);
	ro = o->ring;
	ro.sock_type = SOCK_RAW;
	ret = live_capture_open(&lf->witness, lf->ns, lf->rx_ifindex, &ro, NULL, errbuf);
	if (ret)
		goto fail;
	/* The filtered tap starts rejecting everything; each run swaps its
	 * program in while no frame is in flight. */
	ro.sock_type = o->sock_type;
	ret = live_capture_open(&lf->tap, lf->ns, lf->rx_ifindex, &ro, &reject_all, errbuf);
	if (ret)
		goto fail;
	ret = open_sender(lf, errbuf);
	if (ret)
		goto fail;
	if (live_capture_max_frame(lf->witness) < o->mtu + 64u) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live filter: ring blocks of %u bytes cannot hold a frame of MTU %u",
			 o->ring.block_size, o->mtu);
		ret = LIVE_ERR_ARG;
		goto fail;
	}
	ring = live_capture_ring_bytes(lf->witness);
	/* Half the ring, less what a block can waste at its end. */
	lf->budget = ring / 2 -
		     (uint64_t)o->ring.block_nr * live_capture_frame_cost(lf->witness, o->mtu + 18);
	if (lf->budget > ring) /* wrapped: the ring is too small to batch */
		lf->budget = live_capture_frame_cost(lf->witness, o->mtu + 18);

	lf->msgs = calloc(BATCH_MAX, sizeof(*lf->msgs));
	lf->iov = calloc(BATCH_MAX, sizeof(*lf->iov));
	lf->cmsg = calloc(BATCH_MAX, CMSG_SPACE(sizeof(uint64_t)));
	lf->idx = calloc(BATCH_MAX, sizeof(*lf->idx));
	lf->got = calloc(BATCH_MAX, 1);
	lf->tm = calloc(BATCH_MAX, sizeof(*lf->tm));
	if (!lf->msgs || !lf->iov || !lf->cmsg || !lf->idx || !lf->got || !lf->tm) {
		ret = sys_fail(errbuf, "calloc", ENOMEM);
		goto fail;
	}
	/* The marker: to cs1, from a locally administered address, with the
	 * IEEE "local experimental" EtherType 0x88b5. */
	memcpy(lf->marker, o->rx_mac, 6);
	memcpy(lf->marker + 6, "\x02\x00\x00\x00\x00\xfe", 6);
	lf->marker[12] = 0x88;
	lf->marker[13] = 0xb5;
	memcpy(lf->marker + 14, "capsim live batch marker", 24);
	*out = lf;
	return 0;
fail:
	live_filter_close(lf);
	return ret;
}

int live_filter_ifindex(const struct live_filter *lf)
{
	return lf->rx_ifindex;
}

const uint8_t *live_filter_mac(const struct live_filter *lf)
{
	return lf->mac;
}

uint32_t live_filter_mtu(const struct live_filter *lf)
{
	return lf->mtu;
}

void live_filter_counters(const struct live_filter *lf, struct live_filter_counters *c)
{
	*c = lf->cnt;
}

void live_filter_close(struct live_filter *lf)
{
	if (!lf)
		return;
	if (lf->tx >= 0)
		close(lf->tx);
	live_capture_close(lf->tap);
	live_capture_close(lf->witness);
	live_netns_destroy(lf->ns);
	free(lf->msgs);
	free(lf->iov);
	free(lf->cmsg);
	free(lf->idx);
	free(lf->got);
	free(lf->tm);
	free(lf->arena);
	free(lf);
}

/* ---- receiving ---- */

static uint64_t frame_id(const struct live_frame *f)
{
	if (!(f->status & TP_STATUS_TS_SOFTWARE))
		return 0;
	return (uint64_t)f->sec * NS_PER_S + f->nsec;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A frame whose stamp is ours but outside the batch: the ordering the
 * driver relies on broke, and some earlier verdict may be wrong. */
static int late_frame(char *errbuf, const char *who, uint64_t id, const struct batch *b)
{
	snprintf(errbuf, LIVE_ERRBUF_SIZE,
		 "live filter: the %s got frame #%llu while batch #%llu..#%llu was under way "
		 "(frames arrived out of order)",
		 who, (unsigned long long)id, (unsigned long long)b->base,
		 (unsigned long long)(b->base + b->count));
	return LIVE_ERR_LOST;
}

/* Where batch position @k's bytes go: the witness's copy in the first
 * half of the arena, the filtered socket's in the second. */
static uint8_t *wit_slot(struct live_filter *lf, const struct batch *b, size_t k)
{
	return lf->arena + b->off[lf->idx[k]];
}

static uint8_t *tap_slot(struct live_filter *lf, const struct batch *b, size_t k)
{
	return lf->arena + b->half + b->off[lf->idx[k]];
}

static int witness_frame(struct live_filter *lf, struct batch *b, const struct live_frame *f,
			 size_t k, char *errbuf)
{
	size_t i = lf->idx[k];
	struct live_verdict *v = &b->out[i];

	if (f->snaplen != f->len || f->len > b->lens[i]) {
		snprintf(
		    errbuf, LIVE_ERRBUF_SIZE,
		    "live filter: frame %zu: the witness got %u of %u bytes from a %u-byte frame",
		    i, f->snaplen, f->len, b->lens[i]);
		return LIVE_ERR_SYS;
	}
	lf->got[k] |= 1;
	v->reached = 1;
	v->pkttype = f->pkttype;
	v->vlan_valid = (f->status & TP_STATUS_VLAN_VALID) != 0;
	v->vlan_tpid_valid = (f->status & TP_STATUS_VLAN_TPID_VALID) != 0;
	v->vlan_tci = f->vlan_tci;
	v->vlan_tpid = f->vlan_tpid;
	v->protocol = f->protocol;
	v->ifindex = f->ifindex;
	v->tap_len = f->len;
	memcpy(wit_slot(lf, b, k), f->bytes, f->snaplen);
	v->tap_bytes = wit_slot(lf, b, k);
	return 0;
}

static int tap_frame(struct live_filter *lf, struct batch *b, const struct live_frame *f, size_t k,
		     char *errbuf)
{
	size_t i = lf->idx[k];
	struct live_verdict *v = &b->out[i];
	struct tapmeta *m = &lf->tm[k];

	if (f->snaplen > f->len || f->snaplen > b->lens[i]) {
		snprintf(errbuf, LIVE_ERRBUF_SIZE,
			 "live filter: frame %zu: the filtered socket got %u of %u bytes from a "
			 "%u-byte frame",
			 i, f->snaplen, f->len, b->lens[i]);
		return LIVE_ERR_SYS;
	}
	lf->got[k] |= 2;
	v->delivered = 1;
	v->tp_len = f->len;
	v->tp_snaplen = f->snaplen;
	v->tp_mac = f->mac;
	v->tp_net = f->net;
	memcpy(tap_slot(lf, b, k), f->bytes, f->snaplen);
	v->bytes = tap_slot(lf, b, k);
	m->pkttype = f->pkttype;
	m->vlan_valid = (f->status & TP_STATUS_VLAN_VALID) != 0;
	m->vlan_tci = f->vlan_tci;
	m->ifindex = f->ifindex;
	return 0;
}

/* Take what the witness's ring holds, waiting up to @wait_ms for the first
 * frame.  Sets *@marker when the batch's marker shows. */
static int drain_witness(struct live_filter *lf, struct batch *b, int wait_ms, int *marker,
			 char *errbuf)
{
	uint64_t end = b->base + b->count;
	struct live_frame f;
	int r;

	while ((r = live_capture_next(lf->witness, &f, wait_ms, errbuf)) > 0) {
		uint64_t id = frame_id(&f);

		wait_ms = 0;
		if (id == 0 || id >= FOREIGN_ID)
			continue; /* not sent by the harness */
		if (id < b->base || id > end)
			return late_frame(errbuf, "witness", id, b);
		if (id == end) {
			*marker = 1;
			continue;
		}
		r = witness_frame(lf, b, &f, (size_t)(id - b->base), errbuf);
		if (r)
			return r;
	}
	return r;
}

static int drain_tap(struct live_filter *lf, struct batch *b, int wait_ms, char *errbuf)
{
	uint64_t end = b->base + b->count;
	struct live_frame f;
	int r;

	while ((r = live_capture_next(lf->tap, &f, wait_ms, errbuf)) > 0) {
		uint64_t id = frame_id(&f);

		wait_ms = 0;
		lf->tap_read++;
		if (id == 0 || id >= FOREIGN_ID || id == end)
			continue; /* someone else's, or our marker */
		if (id < b->base || id > end)
			return late_frame(errbuf, "filtered socket", id, b);
		r = tap_frame(lf, b, &f, (size_t)(id - b->base), errbuf);
		if (r)
			return r;
	}
	return r;
}

/* ---- sending ---- */

static void set_txtime(struct msghdr *m, uint8_t *buf, uint64_t id)
{
	struct cmsghdr *c;

	m->msg_control = buf;
	m->msg_controllen = CMSG_SPACE(sizeof(id));
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_TXTIME;
	c->cmsg_len = CMSG_LEN(sizeof(id));
	memcpy(CMSG_DATA(c), &id, sizeof(id));
}

static int transient_errno(int e)
{
	return e == EINTR || e == EAGAIN || e == ENOBUFS;
}

/*
 * Send the batch in slices of at most SENDMMSG_MAX frames and a quarter of
 * the ring budget, emptying both rings after each slice: a TPACKET_V3 ring
 * hands over a block when it is full *or* when its retire timer fires, so
 * an unread ring runs out of blocks after a few timer ticks however few
 * bytes it holds.  Per-frame send errors go to the verdicts: sendmmsg()
 * stops at the first message the kernel refuses, so each refusal is one
 * call that returns -1 with that message's errno.
 */
static int send_batch(struct live_filter *lf, struct batch *b, int *marker, char *errbuf)
{
	size_t k;
	int transient = 0, r;

	for (k = 0; k < b->count; k++) {
		size_t i = lf->idx[k];
		struct msghdr *m = &lf->msgs[k].msg_hdr;

		memset(&lf->msgs[k], 0, sizeof(lf->msgs[k]));
		lf->iov[k].iov_base = (void *)b->frames[i];
		lf->iov[k].iov_len = b->lens[i];
		m->msg_iov = &lf->iov[k];
		m->msg_iovlen = 1;
		set_txtime(m, lf->cmsg + k * CMSG_SPACE(sizeof(uint64_t)), b->base + k);
	}
	k = 0;
	while (k < b->count) {
		size_t vlen = 0;
		uint64_t cost = 0;

		while (k + vlen < b->count && vlen < SENDMMSG_MAX) {
			cost += live_capture_frame_cost(lf->witness, b->lens[lf->idx[k + vlen]]);
			if (vlen > 0 && cost > lf->budget / 4)
				break;
			vlen++;
		}
		r = sendmmsg(lf->tx, &lf->msgs[k], (unsigned int)vlen, 0);
		if (r > 0) {
			for (int j = 0; j < r; j++)
				b->out[lf->idx[k + (size_t)j]].send_errno = 0;
			k += (size_t)r;
			transient = 0;
		} else if (transient_errno(errno) && transient++ < 1000) {
			if (errno != EINTR)
				usleep(100);
		} else {
			transient = 0;
			b->out[lf->idx[k]].send_errno = errno;
			k++;
		}
		r = drain_witness(lf, b, 0, marker, errbuf);
		if (!r)
			r = drain_tap(lf, b, 0, errbuf);
		if (r)
			return r;
	}
	/* The marker closes the batch. */
	{
		struct msghdr m;
		struct iovec iov = {lf->marker, sizeof(lf->marker)};
		uint8_t buf[CMSG_SPACE(sizeof(uint64_t))];
		int tries = 0;

		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		set_txtime(&m, buf, b->base + b->count);
		while (sendmsg(lf->tx, &m, 0) < 0) {
			if (!transient_errno(errno) || tries++ > 1000)
				return sys_fail(errbuf, "sending the batch marker", errno);
			usleep(100);
		}
	}
	lf->cnt.batches++;
	return 0;
}

/*
 * Send and collect one batch.  Returns 0 when complete, 1 when it must be
 * sent again (a ring dropped frames, or the marker never came), or a
 * negative error.
 */
static int do_batch(struct live_filter *lf, struct batch *b, char *errbuf)
{
	struct live_capture_stats ws, ts;
	uint64_t deadline;
	int marker = 0, r;

	r = send_batch(lf, b, &marker, errbuf);
	if (r)
		return r;
	/* The witness, up to the marker. */
	deadline = now_ms() + WAIT_MS;
	while (!marker && now_ms() < deadline) {
		r = drain_witness(lf, b, 10, &marker, errbuf);
		if (r)
			return r;
	}
	if (live_capture_stats(lf->witness, &ws, errbuf) ||
	    live_capture_stats(lf->tap, &ts, errbuf))
		return LIVE_ERR_SYS;
	lf->tap_accepted += ts.packets - ts.drops;
	/* The filtered socket: exactly as many frames as it accepted. */
	deadline = now_ms() + WAIT_MS;
	while (lf->tap_read < lf->tap_accepted) {
		if (now_ms() > deadline) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "live filter: the filtered socket accepted %llu frames but only "
				 "%llu came out of its ring",
				 (unsigned long long)lf->tap_accepted,
				 (unsigned long long)lf->tap_read);
			return LIVE_ERR_LOST;
		}
		r = drain_tap(lf, b, 10, errbuf);
		if (r)
			return r;
	}
	if (ws.drops || ts.drops) {
		lf->cnt.ring_drops += (uint64_t)ws.drops + ts.drops;
		return 1;
	}
	if (!marker)
		return 1;
	/* Both sockets saw the same sk_buff; their metadata must agree. */
	for (size_t k = 0; k < b->count; k++) {
		const struct live_verdict *v = &b->out[lf->idx[k]];
		const struct tapmeta *m = &lf->tm[k];

		if (!(lf->got[k] & 2))
			continue;
		if (!(lf->got[k] & 1) || m->pkttype != v->pkttype || m->vlan_tci != v->vlan_tci ||
		    m->vlan_valid != v->vlan_valid || m->ifindex != v->ifindex) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE,
				 "live filter: frame %zu: the filtered socket and the witness "
				 "disagree (witness saw it: %d, pkttype %u/%u, vlan tci %#x/%#x)",
				 lf->idx[k], lf->got[k] & 1, m->pkttype, v->pkttype, m->vlan_tci,
				 v->vlan_tci);
			return LIVE_ERR_SYS;
		}
	}
	return 0;
}

/* Forget what one attempt at the batch recorded. */
static void reset_batch(struct live_filter *lf, struct batch *b)
{
	for (size_t k = 0; k < b->count; k++) {
		struct live_verdict *v = &b->out[lf->idx[k]];

		memset(v, 0, sizeof(*v));
		lf->got[k] = 0;
	}
}

/* Send and collect the frames in lf->idx[0..count), again if needed. */
static int run_batch(struct live_filter *lf, struct batch *b, char *errbuf)
{
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		int r;

		reset_batch(lf, b);
		b->base = lf->next_id;
		lf->next_id += b->count + 1;
		r = do_batch(lf, b, errbuf);
		if (r <= 0)
			return r;
		lf->cnt.resent_batches++;
	}
	snprintf(errbuf, LIVE_ERRBUF_SIZE,
		 "live filter: a batch of %zu frames lost frames in %d attempts in a row", b->count,
		 ATTEMPTS);
	return LIVE_ERR_LOST;
}

/* Pin the calling thread to the CPU it is on; @old receives the mask to
 * restore.  Returns 1 if pinned. */
static int pin(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*old), old) < 0)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) == 0;
}

static int run_all(struct live_filter *lf, struct batch *b, size_t n, char *errbuf)
{
	size_t i = 0;

	while (i < n) {
		uint64_t cost = 0;
		size_t missing = 0;
		int r;

		b->count = 0;
		while (i < n && b->count < BATCH_MAX) {
			uint64_t c = live_capture_frame_cost(lf->witness, b->lens[i]);

			if (b->count > 0 && cost + c > lf->budget)
				break;
			cost += c;
			lf->idx[b->count++] = i++;
		}
		r = run_batch(lf, b, errbuf);
		if (r)
			return r;
		/* Frames sent but never seen: once more, on their own. */
		for (size_t k = 0; k < b->count; k++)
			if (b->out[lf->idx[k]].send_errno == 0 && !b->out[lf->idx[k]].reached)
				lf->idx[missing++] = lf->idx[k];
		if (missing) {
			lf->cnt.confirm_resends += missing;
			b->count = missing;
			r = run_batch(lf, b, errbuf);
			if (r)
				return r;
		}
	}
	return 0;
}

int live_filter_run(struct live_filter *lf, const struct bpfvm_prog *prog,
		    const uint8_t *const *frames, const uint32_t *lens, size_t n,
		    struct live_verdict *out, char *errbuf)
{
	struct batch b;
	size_t *off = NULL, total = 0;
	cpu_set_t old;
	int pinned, ret;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] > 0 && !frames[i]) {
			snprintf(errbuf, LIVE_ERRBUF_SIZE, "live filter: frame %zu has no bytes",
				 i);
			return LIVE_ERR_ARG;
		}
		if (lens[i] > 1u << 20) {
			snprintf(
			    errbuf, LIVE_ERRBUF_SIZE,
			    "live filter: frame %zu is %u bytes; the harness takes up to 1 MiB", i,
			    lens[i]);
			return LIVE_ERR_ARG;
		}
	}
	ret = live_capture_set_filter(lf->tap, prog, errbuf);
	if (ret)
		return ret;
	off = malloc((n ? n : 1) * sizeof(*off));
	if (!off)
		return sys_fail(errbuf, "malloc", ENOMEM);
	for (size_t i = 0; i < n; i++) {
		off[i] = total;
		total += lens[i];
	}
	if (2 * total + 1 > lf->arena_size) {
		uint8_t *a = realloc(lf->arena, 2 * total + 1);

		if (!a) {
			free(off);
			return sys_fail(errbuf, "growing the verdict arena", ENOMEM);
		}
		lf->arena = a;
		lf->arena_size = 2 * total + 1;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].send_errno = -1; /* not attempted yet */
	}
	b.frames = frames;
	b.lens = lens;
	b.out = out;
	b.off = off;
	b.half = total;
	pinned = pin(&old);
	ret = run_all(lf, &b, n, errbuf);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	free(off);
	lf->cnt.frames += n;
	return ret;
}
