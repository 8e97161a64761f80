/* Spare NICs out of sight. A running box cannot be given a new device, so a
 * box on a network has spare NICs for `network connect` (src/vm/vmspec.h);
 * left in the box's network namespace they would show in `ip link` as
 * interfaces nobody asked for. The agent keeps them in a namespace of its
 * own (the parking) instead, created at the box's set-up, and moves one
 * back when it is connected, out again when it is disconnected: the box
 * sees lo and its networks' NICs only, as a container does.
 *
 * The move is src/common/netlink.c's, as the host's taps' (the agent's build
 * gives that one file the kernel's uapi headers, which musl does not ship).
 * PID 1 enters the parking only for the length of a lookup and a move,
 * single-threaded, and always comes back. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/netlink.h"

static int park_ns = -1, box_ns = -1;

static int enter(int ns_fd, struct bx_err *err)
{
	if (setns(ns_fd, CLONE_NEWNET) < 0)
		return bx_fail(err, errno, "enter a network namespace");
	return 0;
}

static int parking_open(struct bx_err *err)
{
	if (park_ns >= 0)
		return 0;
	box_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (box_ns < 0)
		return bx_fail(err, errno, "open the box's network namespace");
	if (unshare(CLONE_NEWNET) < 0) {
		bx_fail(err, errno, "create a network namespace for the spare interfaces");
		close(box_ns);
		box_ns = -1;
		return -1;
	}
	park_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int saved = errno;
	if (setns(box_ns, CLONE_NEWNET) < 0)
		agent_fatal("cannot go back to the box's network namespace: %s", strerror(errno));
	if (park_ns < 0)
		return bx_fail(err, saved, "open the spare interfaces' network namespace");
	return 0;
}

int agent_net_park(const char *nic, struct bx_err *err)
{
	if (parking_open(err) < 0 || bx_link_move(nic, park_ns, nic, err) < 0)
		return bx_wrap(err, "park the spare interface %s", nic);
	agent_info("%s: parked", nic);
	return 0;
}

/* the name of the parked interface whose MAC is mac, false: none (in the parking) */
static bool parked_name(const char *mac, char *name, size_t size)
{
	bool found = false;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct if_nameindex *all = sock < 0 ? NULL : if_nameindex();
	for (struct if_nameindex *i = all; i && i->if_index && !found; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
			continue;
		const unsigned char *b = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
		char have[24];
		snprintf(have, sizeof(have), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
		if (!strcasecmp(have, mac) && strlen(i->if_name) < size) {
			memcpy(name, i->if_name, strlen(i->if_name) + 1);
			found = true;
		}
	}
	if (all)
		if_freenameindex(all);
	if (sock >= 0)
		close(sock);
	return found;
}

int agent_net_unpark(const char *mac, struct bx_err *err)
{
	if (park_ns < 0)
		return 0; /* nothing parked */
	if (enter(park_ns, err) < 0)
		return -1;
	char name[IFNAMSIZ];
	bool parked = parked_name(mac, name, sizeof(name));
	int rc = parked ? bx_link_move(name, box_ns, name, err) : 0;
	if (setns(box_ns, CLONE_NEWNET) < 0)
		agent_fatal("cannot go back to the box's network namespace: %s", strerror(errno));
	if (rc < 0)
		return bx_wrap(err, "bring back the spare interface %s", mac);
	if (parked)
		agent_info("%s: back from the parking", name);
	return 0;
}
