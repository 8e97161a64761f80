/* Moving a network interface between namespaces over rtnetlink (netlink.h).
 * Linked into the guest agent too (netpark.c): err.c is all else it needs. */
#include "netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int move(int sock, unsigned index, const char *ifname, int target_nsfd, const char *newname,
		struct bx_err *err)
{
	union {
		struct nlmsghdr h;
		char buf[256];
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.h.nlmsg_type = RTM_NEWLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = 1;
	struct ifinfomsg *ifi = NLMSG_DATA(&req.h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	uint32_t fd = (uint32_t)target_nsfd;
	put_attr(&req.h, IFLA_NET_NS_FD, &fd, sizeof(fd));
	put_attr(&req.h, IFLA_IFNAME, newname, strlen(newname) + 1);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(sock, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return bx_fail(err, errno, "netlink send");
	union {
		struct nlmsghdr h;
		char buf[1024];
	} ans;
	ssize_t n;
	while ((n = recv(sock, &ans, sizeof(ans), 0)) < 0 && errno == EINTR)
		;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ans.h.nlmsg_type != NLMSG_ERROR)
		return bx_fail(err, n < 0 ? errno : 0, "no answer from the kernel to moving %s", ifname);
	const struct nlmsgerr *e = NLMSG_DATA(&ans.h);
	if (e->error)
		return bx_fail(err, -e->error, "cannot move interface %s to another network namespace as %s", ifname,
			       newname);
	return 0;
}

int bx_link_move(const char *ifname, int target_nsfd, const char *newname, struct bx_err *err)
{
	unsigned index = if_nametoindex(ifname);
	if (!index)
		return bx_fail(err, errno, "no interface %s", ifname);
	if (strlen(newname) >= IFNAMSIZ)
		return bx_fail(err, 0, "interface name %s is too long", newname);
	/* no cleanup.h: the guest agent links this file too, without the rest of common */
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sock < 0)
		return bx_fail(err, errno, "netlink socket");
	int rc = move(sock, index, ifname, target_nsfd, newname, err);
	close(sock);
	return rc;
}
