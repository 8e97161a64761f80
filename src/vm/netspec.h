/* A box's network: Docker's -p/--network/--dns/--add-host flags, parsed
 * (pure, unit-tested) and the host-side port reservation.
 *
 * Model (docs/ARCHITECTURE.md, "Network"): one passt process per box, the
 * guest gets a fixed address BX_NET_GUEST_ADDR/BX_NET_PREFIX configured
 * statically by the agent (no DHCP client in PID 1); the gateway address is
 * the host's loopback as seen from the box, and DNS queries to BX_NET_DNS are
 * forwarded by passt to the host's resolver. Every box has its own passt, so
 * the same addresses serve every box. */
#ifndef BOXVM_NETSPEC_H
#define BOXVM_NETSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define BX_NET_GUEST_ADDR "10.0.2.15"
#define BX_NET_PREFIX 24
#define BX_NET_GATEWAY "10.0.2.2" /* the host's loopback, seen from the box */
#define BX_NET_DNS "10.0.2.3"     /* passt forwards DNS sent here to the host's resolver */
#define BX_NET_MTU 65520          /* passt's default: big frames, fewer round trips through passt */
#define BX_MAX_PORTS 32

struct bx_port {
	char host_ip[46];  /* "" = every address (Docker's 0.0.0.0) */
	int host_port;     /* 0 = pick a free one (resolved by bx_ports_reserve) */
	int guest_port;
	char proto[4];     /* "tcp" | "udp" */
	int host_port_last; /* > host_port: Docker's "HOSTSTART-HOSTEND:PORT", the first free port of
			     * host_port..host_port_last is taken (resolved by bx_ports_reserve); else 0 */
};

/* "[ip:][hostport:]guestport[/tcp|udp]" (ip may be "[v6]"), no ranges. Pure. */
int bx_port_parse(const char *text, struct bx_port *out, struct bx_err *err);
/* One -p value with Docker's ranges: "[ip:][HOST[-END]:]PORT[-END][/tcp|udp]".
 * A container range expands into one mapping per port (host ports paired in
 * order, or all 0 = free ones when no host port is given); a host range with
 * one container port is one mapping with host_port_last set. Fills at most
 * max entries of out; returns how many, or -1. Pure. */
int bx_publish_parse(const char *text, struct bx_port *out, int max, struct bx_err *err);
/* "80/tcp -> 0.0.0.0:8080" as `docker port` prints it. */
void bx_port_format(const struct bx_port *p, char *buf, size_t size);
/* --network NAME: "default" or "bridge" -> true, "none" -> false; else an error. Pure. */
int bx_network_parse(const char *name, bool *enabled, struct bx_err *err);
/* --add-host NAME:IP (IP may be "host-gateway" = BX_NET_GATEWAY) -> "IP\tNAME". Pure. */
int bx_add_host_parse(const char *text, char *line, size_t size, struct bx_err *err);
/* --dns IP: must be an IPv4 or IPv6 address. Pure. */
int bx_dns_parse(const char *text, struct bx_err *err);
/* --dns-search DOMAIN: a domain name (Docker's rule), or "." = no search domains. Pure. */
int bx_dns_search_parse(const char *text, struct bx_err *err);
/* --dns-option OPT: one resolv.conf option word (no spaces), e.g. "ndots:2". Pure. */
int bx_dns_option_parse(const char *text, struct bx_err *err);
/* The box's /etc/hosts and /etc/resolv.conf text (malloc'd). Pure.
 * hosts: extra "IP\tNAME" lines; dns: --dns servers (none: BX_NET_DNS);
 * search: --dns-search domains ("." entries dropped; none left: no search
 * line); options: --dns-option words (an "options" line). Lists may be NULL. */
int bx_etc_hosts(const char *hostname, bool network, char *const *hosts, char **out, struct bx_err *err);
int bx_etc_resolv(char *const *dns, char *const *search, char *const *options, char **out, struct bx_err *err);

/* Check that every host port is free and pick free ones for port 0, before
 * anything boots ("port is already allocated" otherwise). Also rejects the
 * same host address/port/protocol twice. */
int bx_ports_reserve(struct bx_port *ports, int n, struct bx_err *err);

#endif
