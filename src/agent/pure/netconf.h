/* /boxvm/net, the box's named networks for this boot (written by the shim,
 * src/vm/vmspec_box.c bx_vm_netconf), parsed (pure), and the resolv.conf
 * text with the network's responder in place of the default nameserver. */
#ifndef BOXVM_AGENT_NETCONF_H
#define BOXVM_AGENT_NETCONF_H

#include <stddef.h>

#include "../../common/err.h"

#define BX_NETCONF_MAX_NICS 8

struct bx_netconf {
	struct {
		char mac[18];    /* lower case "02:42:ac:12:00:02" */
		char addr[16];
		int prefix;
	} nics[BX_NETCONF_MAX_NICS];
	int nnics;
	char spares[BX_NETCONF_MAX_NICS][18]; /* NICs kept down for a later `network connect` (agent_net_spares) */
	int nspares;
	char dns[16];        /* "" = none */
};

/* Lines "nic MAC ADDR/PREFIX" and "dns ADDR"; anything else is an error. */
int bx_netconf_parse(const char *text, struct bx_netconf *out, struct bx_err *err);

/* One line of a BX_M_NETCFG request (a running box joins or leaves a named
 * network, src/box/netlive.c):
 *   up MAC NEWMAC ADDR/PREFIX   the NIC with MAC takes NEWMAC and the address, and comes up
 *   down MAC NEWMAC             the NIC with MAC loses its address, goes down and takes NEWMAC
 *   dns OLD NEW                 resolv.conf's "nameserver OLD" becomes "nameserver NEW" */
struct bx_netcmd {
	enum { BX_NETCMD_UP, BX_NETCMD_DOWN, BX_NETCMD_DNS } op;
	char mac[18], newmac[18];
	char addr[16], old[16];   /* up: addr; dns: old -> addr */
	int prefix;
};
/* Parse one line (no newline); -1 with err naming the line. */
int bx_netcmd_parse(const char *line, struct bx_netcmd *out, struct bx_err *err);
/* resolv with every "nameserver DEFAULT_NS" line replaced by "nameserver
 * DNS" (malloc'd; NULL when out of memory). Other servers (--dns) stay. */
char *bx_netconf_resolv(const char *resolv, const char *default_ns, const char *dns);

#endif
