/* Host-side check of published ports before the box boots. passt binds the
 * ports itself when it starts; this check turns the common failure (the port
 * is taken) into a clear error before anything is created, and resolves
 * "pick a free port" (host port 0) to a concrete number that is stored. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "netspec.h"

/* 0: the port is free (a port 0 resolved to a free one); 1: in use and busy_ok; -1: an error */
static int probe(struct bx_port *p, bool busy_ok, struct bx_err *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sl;
	const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p->host_port);
		inet_pton(AF_INET, ip, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p->host_port);
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	bool tcp = !strcmp(p->proto, "tcp");
	_cleanup_close_ int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bx_fail(err, errno, "cannot check host port %d", p->host_port);
	/* passt binds with SO_REUSEADDR too: a TIME_WAIT leftover is no conflict, a listener is */
	int one = 1;
	if (tcp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		if (e == EADDRINUSE && busy_ok)
			return 1;
		if (e == EADDRINUSE)
			return bx_fail(err, 0, "Bind for %s%s%s:%d/%s failed: port is already allocated (choose another "
				       "host port, or 0 for a free one)", family == AF_INET6 ? "[" : "", ip,
				       family == AF_INET6 ? "]" : "", p->host_port, p->proto);
		if (e == EADDRNOTAVAIL)
			return bx_fail(err, 0, "cannot publish on %s: the address is not on this host", ip);
		return bx_fail(err, e, "cannot bind host port %s:%d/%s", ip, p->host_port, p->proto);
	}
	if (p->host_port == 0) {
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			p->host_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return 0;
}

/* ports[i]'s host port is another mapping's (same protocol, overlapping
 * address): one of ports[0..i-1], all resolved already, or a later one that
 * names its host port explicitly (so a range or a free pick never takes the
 * port a later -p asks for by number). */
static bool host_port_taken(const struct bx_port *ports, int n, int i)
{
	for (int j = 0; j < n; j++) {
		bool fixed = j < i || (ports[j].host_port && ports[j].host_port_last <= ports[j].host_port);
		if (j != i && fixed && ports[j].host_port == ports[i].host_port && !strcmp(ports[j].proto, ports[i].proto) &&
		    (!ports[i].host_ip[0] || !ports[j].host_ip[0] || !strcmp(ports[i].host_ip, ports[j].host_ip)))
			return true;
	}
	return false;
}

/* Docker's "-p START-END:PORT": the first port of the range that is free and not published already */
static int reserve_from_range(struct bx_port *ports, int n, int i, struct bx_err *err)
{
	struct bx_port *p = &ports[i];
	int first = p->host_port, last = p->host_port_last;
	p->host_port_last = 0;
	for (int port = first; port <= last; port++) {
		p->host_port = port;
		if (host_port_taken(ports, n, i))
			continue;
		int r = probe(p, true, err);
		if (r <= 0)
			return r;
	}
	const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
	bool v6 = strchr(ip, ':') != NULL;
	return bx_fail(err, 0, "Bind for %s%s%s:%d-%d/%s failed: every port of the range is already allocated (choose "
		       "another range, or 0 for a free port)", v6 ? "[" : "", ip, v6 ? "]" : "", first, last, p->proto);
}

int bx_ports_reserve(struct bx_port *ports, int n, struct bx_err *err)
{
	/* a host port given twice is the user's mistake, whatever the host's
	 * sockets: say so before probing any (a probe would fail on the port
	 * another process holds first, with a misleading message) */
	for (int i = 0; i < n; i++)
		if (ports[i].host_port && !(ports[i].host_port_last > ports[i].host_port) &&
		    host_port_taken(ports, i, i))
			return bx_fail(err, 0, "host port %d/%s is published twice", ports[i].host_port, ports[i].proto);
	for (int i = 0; i < n; i++) {
		struct bx_port *p = &ports[i];
		if (p->host_port_last > p->host_port && p->host_port > 0) {
			if (reserve_from_range(ports, n, i, err) < 0)
				return -1;
			continue;
		}
		p->host_port_last = 0;
		if (p->host_port) {
			if (probe(p, false, err) < 0)
				return -1;
			continue;
		}
		/* a free port: the kernel's pick is free on the host, but may be one this box took already
		 * (-p 80-90 asks for many at once); ask again then */
		for (int tries = 0;; tries++) {
			p->host_port = 0;
			if (probe(p, false, err) < 0)
				return -1;
			if (!host_port_taken(ports, n, i))
				break;
			if (tries == 16)
				return bx_fail(err, 0, "cannot find a free host port for %d/%s; give host ports explicitly",
					       p->guest_port, p->proto);
		}
	}
	return 0;
}
