/*
 * sysio_int.h - the small pieces of kernel I/O that live/ shares:
 * rtnetlink requests, sysctl writes, and what a failed call's errno means.
 * Private to live/.  They return 0 or an errno; the callers turn that into
 * their own messages.
 */
#ifndef CAPSIM_LIVE_SYSIO_INT_H
#define CAPSIM_LIVE_SYSIO_INT_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

/* One rtnetlink request under construction. */
struct live_nlreq {
	uint8_t data[2048];
	struct nlmsghdr *hdr;	/* NULL once an attribute did not fit */
};

/* Start a request of @type (NLM_F_REQUEST | NLM_F_ACK | @flags) whose
 * fixed part (ifinfomsg, ifaddrmsg, ...) is @fixed bytes of zeros. */
void live_nl_init(struct live_nlreq *b, uint16_t type, uint16_t flags, size_t fixed);
/* Append an attribute (@len 0 opens a nest); NULL when the request is full,
 * which also marks it so that live_nl_talk() refuses it. */
struct rtattr *live_nl_attr(struct live_nlreq *b, uint16_t type, const void *val, size_t len);
/* Close a nest opened with live_nl_attr(b, type, NULL, 0). */
void live_nl_nest_end(struct live_nlreq *b, struct rtattr *nest);
/* Send the request on @fd (a NETLINK_ROUTE socket) and read the ack: 0, the
 * kernel's errno, ENOBUFS if the request overflowed, EPROTO if the answer
 * is not an ack. */
int live_nl_talk(int fd, struct live_nlreq *b);

/* Write @val to the sysctl file @path in the calling thread's namespace:
 * 0, also when the file does not exist (no IPv6 in this kernel: nothing to
 * set), or the errno of open or write. */
int live_write_sysctl(const char *path, const char *val);

/* The enum live_error a failed system call's errno stands for: no
 * permission (EPERM, EACCES), not in this kernel (ENOSYS, EOPNOTSUPP,
 * EAFNOSUPPORT), or anything else. */
int live_errno_class(int e);

#endif
