/* The network's DNS responder: a child of boxvm-netd with no privilege
 * (user nobody, no capabilities, no new privileges), forked again with a
 * fresh table whenever the network's boxes change. Every packet is a
 * guest's: parsed by bx_dns_parse_query (bounded), answered from the table
 * or relayed to the host's resolver through a bounded table of pending
 * queries (the oldest slot is reused: a flood costs only other floods). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "netd.h"

#define PENDING 256
#define PENDING_TTL_MS 5000

struct pending {
	uint16_t our_id, their_id;
	struct sockaddr_in client;
	long long at_ms; /* 0: free */
};

int netd_upstream_open(void)
{
	const char *path = getenv("BOXVM_RESOLV_CONF");
	FILE *f = fopen(path && *path ? path : "/etc/resolv.conf", "re");
	if (!f)
		return -1;
	char line[256], addr[64];
	struct in_addr a;
	int fd = -1;
	while (fd < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1) {
			struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53), .sin_addr = a};
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				close(fd);
				fd = -1;
			}
		}
	fclose(f);
	return fd;
}

static void drop_privileges(void)
{
	/* nobody: the responder needs no file, no capability, no other user's anything */
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(126);
}

static void reply(int sock, const uint8_t *out, size_t n, const struct sockaddr_in *to)
{
	if (n)
		sendto(sock, out, n, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

static void forward(int upstream, struct pending *pend, const uint8_t *buf, size_t len, const struct bx_dns_query *q,
		    const struct sockaddr_in *from)
{
	long long now = bx_mono_ms();
	struct pending *slot = &pend[0];
	for (int i = 0; i < PENDING; i++) { /* a free or expired slot, else the oldest */
		if (!pend[i].at_ms || now - pend[i].at_ms > PENDING_TTL_MS) {
			slot = &pend[i];
			break;
		}
		if (pend[i].at_ms < slot->at_ms)
			slot = &pend[i];
	}
	uint16_t id;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)now;
	slot->our_id = id;
	slot->their_id = q->id;
	slot->client = *from;
	slot->at_ms = now;
	uint8_t copy[BX_DNS_MAX_PACKET];
	memcpy(copy, buf, len);
	copy[0] = (uint8_t)(id >> 8);
	copy[1] = (uint8_t)id;
	send(upstream, copy, len, MSG_DONTWAIT);
}

static void upstream_readable(int sock, int upstream, struct pending *pend)
{
	uint8_t buf[4096];
	ssize_t n = recv(upstream, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 12)
		return;
	uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
	for (int i = 0; i < PENDING; i++)
		if (pend[i].at_ms && pend[i].our_id == id) {
			buf[0] = (uint8_t)(pend[i].their_id >> 8);
			buf[1] = (uint8_t)pend[i].their_id;
			reply(sock, buf, (size_t)n, &pend[i].client);
			pend[i].at_ms = 0;
			return;
		}
}

static void query_readable(int sock, int upstream, const struct bx_dns_table *t, const struct bx_cidr *subnet,
			   struct pending *pend)
{
	uint8_t buf[BX_DNS_MAX_PACKET + 1], out[BX_DNS_MAX_PACKET];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n <= 0 || (size_t)n > BX_DNS_MAX_PACKET || fl != sizeof(from) || from.sin_family != AF_INET)
		return; /* over 512 bytes: not a query we answer (no EDNS) */
	uint32_t src = ntohl(from.sin_addr.s_addr);
	if (!bx_cidr_contains(subnet, src))
		return;
	struct bx_dns_query q;
	int kind = bx_dns_parse_query(buf, (size_t)n, &q);
	if (kind < 0)
		return;
	if (kind == 1) {
		reply(sock, out, bx_dns_answer(buf, &q, BX_DNS_NOTIMP, NULL, 0, out, sizeof(out)), &from);
		return;
	}
	uint32_t ips[BX_DNS_MAX_ANSWERS];
	int found = q.qclass == BX_DNS_CLASS_IN ? bx_dns_lookup(t, src, q.name, ips, BX_DNS_MAX_ANSWERS) : 0;
	if (found) /* a box's name: its A records; any other type has no record (NOERROR, no answer) */
		reply(sock, out, bx_dns_answer(buf, &q, BX_DNS_NOERROR, ips, q.qtype == BX_DNS_TYPE_A ? found : 0, out,
					       sizeof(out)), &from);
	else if (upstream >= 0)
		forward(upstream, pend, buf, (size_t)n, &q, &from);
	else /* an internal network: no way out, not even for names */
		reply(sock, out, bx_dns_answer(buf, &q, BX_DNS_SERVFAIL, NULL, 0, out, sizeof(out)), &from);
}

void netd_dns_serve(int sock, int upstream, int stop, const struct bx_dns_table *t, const struct bx_cidr *subnet)
{
	drop_privileges();
	static struct pending pend[PENDING];
	struct pollfd pfd[3] = {{.fd = stop, .events = POLLIN}, {.fd = sock, .events = POLLIN},
				{.fd = upstream, .events = POLLIN}};
	for (;;) {
		if (poll(pfd, upstream >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		/* asked to go (a new table): before reading another query, which
		 * then waits in the socket for the next responder */
		if (pfd[0].revents)
			_exit(0);
		if (pfd[1].revents & POLLIN)
			query_readable(sock, upstream, t, subnet, pend);
		if (upstream >= 0 && pfd[2].revents & POLLIN)
			upstream_readable(sock, upstream, pend);
	}
}
