/* The network's bridge in its namespace, made with plain ioctls (no
 * iproute2, no netlink): SIOCBRADDBR, then a fixed MAC, address, netmask and up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netd.h"

static int if_up(int sock, const char *name, struct bx_err *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot read the flags of %s", name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot bring %s up", name);
	return 0;
}

static void set_sin(struct sockaddr *sa, uint32_t host_order)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(host_order);
}

/* a sysctl of this namespace (/proc/sys/net is per namespace); best effort */
static void sysctl_set(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, value, strlen(value)) < 0) {
			/* nothing to do: the defaults of a new namespace are the same */
		}
		close(fd);
	}
}

int netd_bridge_up(uint32_t gw, int prefix, struct bx_err *err)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	int rc = -1;
	/* the namespace routes nothing: a box reaches its peers on the bridge
	 * and the responder on the gateway address, nothing beyond */
	sysctl_set("/proc/sys/net/ipv4/ip_forward", "0");
	sysctl_set("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (if_up(sock, "lo", err) < 0)
		goto out;
	if (ioctl(sock, SIOCBRADDBR, NETD_BRIDGE) < 0 && errno != EEXIST) {
		bx_fail(err, errno, "cannot create the bridge");
		goto out;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETD_BRIDGE);
	/* A MAC of its own, set once: a bridge left to itself takes the lowest
	 * MAC of its ports and changes it when a box's tap joins with a lower
	 * one, and then its peers' ARP entries for the gateway (the DNS
	 * responder) point at nothing until they expire: lookups time out.
	 * Docker's MAC for the gateway's address (02:42 and its four bytes). */
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	unsigned char mac[6] = {0x02, 0x42, (unsigned char)(gw >> 24), (unsigned char)(gw >> 16), (unsigned char)(gw >> 8),
				(unsigned char)gw};
	memcpy(ifr.ifr_hwaddr.sa_data, mac, sizeof(mac));
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0) {
		bx_fail(err, errno, "cannot set the bridge's MAC address");
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETD_BRIDGE);
	set_sin(&ifr.ifr_addr, gw);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
		bx_fail(err, errno, "cannot set the bridge's address");
		goto out;
	}
	set_sin(&ifr.ifr_netmask, prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) {
		bx_fail(err, errno, "cannot set the bridge's netmask");
		goto out;
	}
	rc = if_up(sock, NETD_BRIDGE, err);
out:
	close(sock);
	return rc;
}
