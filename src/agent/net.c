/* The box's network, configured statically with ioctls (no DHCP client in
 * PID 1: the host chose the address and gave passt the same values, so no
 * round trip is needed at boot). */
#include "agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int if_up(int sock, const char *name, struct bx_err *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "get flags of %s", name);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "bring %s up", name);
	return 0;
}

/* The NIC is the one interface besides lo; it appears when virtio_net binds
 * the device, which module loading already did, but allow a moment. */
static int find_nic(char *name, size_t size, struct bx_err *err)
{
	for (int tries = 0; tries < 200; tries++) {
		DIR *d = opendir("/sys/class/net");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo") || strlen(e->d_name) >= size)
				continue;
			memcpy(name, e->d_name, strlen(e->d_name) + 1);
			closedir(d);
			return 0;
		}
		if (d)
			closedir(d);
		usleep(10 * 1000);
	}
	return bx_fail(err, 0, "no network interface appeared (is virtio_net in the initramfs?)");
}

static void set_sin(struct sockaddr *sa, in_addr_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
}

static int configure(int sock, const char *nic, const struct bx_spec *spec, struct bx_err *err)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "%s", spec->ipv4);
	char *slash = strchr(addr, '/');
	int prefix = slash ? atoi(slash + 1) : 24;
	if (slash)
		*slash = '\0';
	struct in_addr a, gw = {0};
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 1 || prefix > 32 ||
	    (spec->gateway && inet_pton(AF_INET, spec->gateway, &gw) != 1))
		return bx_fail(err, 0, "bad network spec %s via %s", spec->ipv4, spec->gateway ? spec->gateway : "-");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic);
	set_sin(&ifr.ifr_addr, a.s_addr);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return bx_fail(err, errno, "set the address of %s", nic);
	set_sin(&ifr.ifr_netmask, htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		return bx_fail(err, errno, "set the netmask of %s", nic);
	if (spec->mtu) {
		ifr.ifr_mtu = (int)spec->mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			agent_err("set MTU %u on %s: %s", spec->mtu, nic, strerror(errno));
	}
	if (if_up(sock, nic, err) < 0)
		return -1;
	if (!spec->gateway)
		return 0;
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, INADDR_ANY);
	set_sin(&rt.rt_genmask, INADDR_ANY);
	set_sin(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)nic;
	if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return bx_fail(err, errno, "add the default route via %s", spec->gateway);
	agent_info("%s: %s/%d via %s, mtu %u", nic, addr, prefix, spec->gateway, spec->mtu);
	return 0;
}

int agent_net_up(const struct bx_spec *spec, struct bx_err *err)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	/* the kernel gives lo 127.0.0.1/8 when it comes up */
	int rc = if_up(sock, "lo", err);
	char nic[IFNAMSIZ];
	if (rc == 0 && spec->ipv4)
		rc = find_nic(nic, sizeof(nic), err) < 0 ? -1 : configure(sock, nic, spec, err);
	close(sock);
	return rc;
}
