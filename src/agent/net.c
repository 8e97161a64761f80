/* The box's network, configured statically with ioctls (no DHCP client in
 * PID 1: the host chose the address and gave passt the same values, so no
 * round trip is needed at boot). */
#include "agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/msg.h"
#include "pure/netconf.h"

static int if_flag(int sock, const char *name, short flag, bool on, struct bx_err *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "get flags of %s", name);
	ifr.ifr_flags = (short)(on ? ifr.ifr_flags | flag : ifr.ifr_flags & ~flag);
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "bring %s %s", name, on ? "up" : "down");
	return 0;
}

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

/* an interface's MAC address, lower case ("" if unknown) */
static void nic_mac(const char *name, char *mac, size_t size)
{
	char path[300];
	mac[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(mac, (int)size, f))
			mac[strcspn(mac, "\n")] = '\0';
		fclose(f);
	}
}

/* The interface with MAC `want`, or (want NULL) the first one besides lo
 * whose MAC is none of the named networks' (passt's NIC). It appears when
 * virtio_net binds the device, which module loading already did, but allow
 * a moment. */
static int find_nic(const char *want, const struct bx_netconf *nc, char *name, size_t size, struct bx_err *err)
{
	for (int tries = 0; tries < 200; tries++) {
		DIR *d = opendir("/sys/class/net");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo") || strlen(e->d_name) >= size)
				continue;
			char mac[32];
			nic_mac(e->d_name, mac, sizeof(mac));
			bool named = false; /* a named network's NIC, or a spare kept for one */
			for (int i = 0; i < nc->nnics && !named; i++)
				named = !strcmp(mac, nc->nics[i].mac);
			for (int i = 0; i < nc->nspares && !named; i++)
				named = !strcmp(mac, nc->spares[i]);
			if (want ? strcmp(mac, want) != 0 : named)
				continue;
			memcpy(name, e->d_name, strlen(e->d_name) + 1);
			closedir(d);
			return 0;
		}
		if (d)
			closedir(d);
		usleep(10 * 1000);
	}
	if (want)
		return bx_fail(err, 0, "no network interface with MAC %s appeared", want);
	return bx_fail(err, 0, "no network interface appeared (is virtio_net in the initramfs?)");
}

static void set_sin(struct sockaddr *sa, in_addr_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
}

static int configure(int sock, const char *nic, const char *ipv4, const char *gateway, unsigned mtu,
		     struct bx_err *err)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "%s", ipv4);
	char *slash = strchr(addr, '/');
	int prefix = slash ? atoi(slash + 1) : 24;
	if (slash)
		*slash = '\0';
	struct in_addr a, gw = {0};
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 1 || prefix > 32 ||
	    (gateway && inet_pton(AF_INET, gateway, &gw) != 1))
		return bx_fail(err, 0, "bad network spec %s via %s", ipv4, gateway ? gateway : "-");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic);
	set_sin(&ifr.ifr_addr, a.s_addr);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return bx_fail(err, errno, "set the address of %s", nic);
	set_sin(&ifr.ifr_netmask, htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		return bx_fail(err, errno, "set the netmask of %s", nic);
	if (mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			agent_err("set MTU %u on %s: %s", mtu, nic, strerror(errno));
	}
	if (if_up(sock, nic, err) < 0)
		return -1;
	if (!gateway) {
		agent_info("%s: %s/%d", nic, addr, prefix);
		return 0;
	}
	struct rtentry rt;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, INADDR_ANY);
	set_sin(&rt.rt_genmask, INADDR_ANY);
	set_sin(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)nic;
	if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return bx_fail(err, errno, "add the default route via %s", gateway);
	agent_info("%s: %s/%d via %s, mtu %u", nic, addr, prefix, gateway, mtu);
	return 0;
}

int agent_net_up(const struct bx_spec *spec, const struct bx_netconf *nc, struct bx_err *err)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	/* the kernel gives lo 127.0.0.1/8 when it comes up */
	int rc = if_up(sock, "lo", err);
	char nic[IFNAMSIZ];
	if (rc == 0 && spec->ipv4)
		rc = find_nic(NULL, nc, nic, sizeof(nic), err) < 0 ? -1
			: configure(sock, nic, spec->ipv4, spec->gateway, spec->mtu, err);
	/* named networks: their subnets on their NICs, no route beyond (the
	 * default route, if any, is passt's: the way out) */
	for (int i = 0; rc == 0 && i < nc->nnics; i++) {
		char cidr[32];
		snprintf(cidr, sizeof(cidr), "%s/%d", nc->nics[i].addr, nc->nics[i].prefix);
		rc = find_nic(nc->nics[i].mac, nc, nic, sizeof(nic), err) < 0 ? -1 : configure(sock, nic, cidr, NULL, 0, err);
	}
	close(sock);
	for (int i = 0; rc == 0 && i < nc->nspares; i++)
		rc = find_nic(nc->spares[i], nc, nic, sizeof(nic), err) < 0 ? -1 : agent_net_park(nic, err);
	return rc;
}

/* the NIC with MAC `mac` (there now: no waiting, unlike at boot) */
static int nic_by_mac(const char *mac, char *name, size_t size, struct bx_err *err)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char have[32];
		if (e->d_name[0] == '.' || strlen(e->d_name) >= size)
			continue;
		nic_mac(e->d_name, have, sizeof(have));
		if (!strcmp(have, mac)) {
			memcpy(name, e->d_name, strlen(e->d_name) + 1);
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	return bx_fail(err, 0, "no network interface with MAC %s", mac);
}

static int set_mac(int sock, const char *nic, const char *mac, struct bx_err *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic);
	unsigned b[6];
	if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return bx_fail(err, 0, "bad MAC %s", mac);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	for (int i = 0; i < 6; i++)
		ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
		return bx_fail(err, errno, "set the MAC of %s", nic);
	return 0;
}

static int apply(int sock, const struct bx_netcmd *c, struct bx_err *err)
{
	char nic[IFNAMSIZ];
	if (c->op == BX_NETCMD_DNS) {
		/* the box's resolver follows its networks; a --dns of the user stays */
		static char text[16384];
		int fd = open("/etc/resolv.conf", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		if (n < 0 || n == (ssize_t)sizeof(text) - 1) {
			agent_info("resolv.conf left as it is (%s)", n < 0 ? strerror(errno) : "too long");
			return 0;
		}
		text[n] = '\0';
		char *next = bx_netconf_resolv(text, c->old, c->addr);
		if (!next)
			return bx_fail(err, ENOMEM, "resolv.conf");
		if (strcmp(next, text))
			agent_etc_write("/etc/resolv.conf", next);
		free(next);
		return 0;
	}
	if ((c->op == BX_NETCMD_UP && agent_net_unpark(c->mac, err) < 0) || nic_by_mac(c->mac, nic, sizeof(nic), err) < 0)
		return -1;
	if (c->op == BX_NETCMD_UP) {
		char cidr[32];
		snprintf(cidr, sizeof(cidr), "%s/%d", c->addr, c->prefix);
		return if_flag(sock, nic, IFF_UP, false, err) < 0 || set_mac(sock, nic, c->newmac, err) < 0 ? -1
			: configure(sock, nic, cidr, NULL, 0, err);
	}
	/* down: 0.0.0.0 takes the address (and its subnet route) away */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic);
	set_sin(&ifr.ifr_addr, INADDR_ANY);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0 && errno != EADDRNOTAVAIL)
		return bx_fail(err, errno, "remove the address of %s", nic);
	if (if_flag(sock, nic, IFF_UP, false, err) < 0 || set_mac(sock, nic, c->newmac, err) < 0)
		return -1;
	agent_info("%s: down, now %s", nic, c->newmac);
	return agent_net_park(nic, err); /* a spare again */
}

int agent_net_change(const char *text, size_t len, struct bx_err *err)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	int rc = 0;
	for (size_t off = 0; rc == 0 && off < len;) {
		const char *p = text + off;
		const char *eol = memchr(p, '\n', len - off);
		size_t n = eol ? (size_t)(eol - p) : len - off;
		off += n + (eol ? 1 : 0);
		char line[128];
		struct bx_netcmd c;
		if (!n)
			continue;
		if (n >= sizeof(line)) {
			rc = bx_fail(err, 0, "bad network change (a line of %zu bytes)", n);
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		rc = bx_netcmd_parse(line, &c, err) < 0 ? -1 : apply(sock, &c, err);
	}
	close(sock);
	return rc;
}

void agent_net_spares(struct bx_netconf *nc)
{
	for (int n = BX_NETCONF_MAX_NICS; n > 0; n--) {
		char word[32];
		snprintf(word, sizeof(word), "boxvm.spares=%d", n);
		if (!agent_cmdline_has(word))
			continue;
		for (int i = 0; i < n; i++)
			snprintf(nc->spares[i], sizeof(nc->spares[i]), BX_SPARE_MAC_FMT, i);
		nc->nspares = n;
		return;
	}
}
