/* boxvm-netd: one per named network (docs/ARCHITECTURE.md, "Named
 * networks"). It makes and holds the network's own network namespace with a
 * bridge whose address is the network's gateway, and answers DNS there for
 * the boxes of the network. Nothing is added to the host's namespace. */
#ifndef BOXVM_NETD_H
#define BOXVM_NETD_H

#include <stdint.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../vm/dnsmsg.h"
#include "../vm/netcidr.h"

#define NETD_BRIDGE "br0"

/* bridge.c: in the calling process's (new) namespace: lo up, the bridge
 * with gw/prefix up, no forwarding, no IPv6. */
int netd_bridge_up(uint32_t gw, int prefix, struct bx_err *err);

/* table.c: the DNS table of network net_id from every record in the store
 * (names: box name, aliases and short ID; queriers: this network's boxes).
 * Also the network's subnet and whether it is internal. */
int netd_table_load(const struct bx_paths *p, const char *net_id, struct bx_dns_table *t, struct bx_cidr *subnet,
		    uint32_t *gateway, int *internal, struct bx_err *err);
void netd_table_free(struct bx_dns_table *t);

/* dns.c: the unprivileged responder (a child process, never returns):
 * answers on sock from t, forwards other names through upstream (-1: none,
 * answered SERVFAIL); exits between two packets once stop is readable or
 * hung up (its parent closed the other end: a new table). */
void netd_dns_serve(int sock, int upstream, int stop, const struct bx_dns_table *t, const struct bx_cidr *subnet)
	__attribute__((noreturn));
/* The host's resolver for names the network does not know: a UDP socket in
 * the host's namespace connected to /etc/resolv.conf's first IPv4
 * nameserver (BOXVM_RESOLV_CONF overrides the file); -1 if there is none. */
int netd_upstream_open(void);

#endif
