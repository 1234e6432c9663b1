/*
 * sysio.c - rtnetlink requests and sysctl writes for the live harness
 * (sysio_int.h).
 */
#include "sysio_int.h"
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void live_nl_init(struct live_nlreq *b, uint16_t type, uint16_t flags, size_t fixed)
{
	memset(b, 0, sizeof(*b));
	b->hdr = (struct nlmsghdr *)b->data;
	b->hdr->nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
	b->hdr->nlmsg_type = type;
	b->hdr->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	b->hdr->nlmsg_seq = 1;
}

struct rtattr *live_nl_attr(struct live_nlreq *b, uint16_t type, const void *val, size_t len)
{
	struct rtattr *rta;
	size_t off;

	if (!b->hdr)
		return NULL;
	off = NLMSG_ALIGN(b->hdr->nlmsg_len);
	if (off > sizeof(b->data) || RTA_SPACE(len) > sizeof(b->data) - off) {
		b->hdr = NULL;
		return NULL;
	}
	rta = (struct rtattr *)(b->data + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), val, len);
	b->hdr->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return rta;
}

void live_nl_nest_end(struct live_nlreq *b, struct rtattr *nest)
{
	if (b->hdr && nest)
		nest->rta_len =
		    (unsigned short)((uint8_t *)b->data + b->hdr->nlmsg_len - (uint8_t *)nest);
}

int live_nl_talk(int fd, struct live_nlreq *b)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t reply[8192];
	const struct nlmsghdr *h;
	ssize_t r;

	if (!b->hdr)
		return ENOBUFS;
	if (sendto(fd, b->data, b->hdr->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return errno;
	r = recv(fd, reply, sizeof(reply), 0);
	if (r < 0)
		return errno;
	h = (const struct nlmsghdr *)reply;
	if (!NLMSG_OK(h, (size_t)r) || h->nlmsg_type != NLMSG_ERROR)
		return EPROTO;
	return -((const struct nlmsgerr *)NLMSG_DATA(h))->error;
}

int live_write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;
	int e;

	if (fd < 0)
		return errno == ENOENT ? 0 : errno;
	w = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	return w < 0 ? e : 0;
}

int live_errno_class(int e)
{
	if (e == EPERM || e == EACCES)
		return LIVE_ERR_PERM;
	if (e == ENOSYS || e == EOPNOTSUPP || e == EAFNOSUPPORT)
		return LIVE_ERR_NOSUPPORT;
	return LIVE_ERR_SYS;
}
