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
	char dns[16];        /* "" = none */
};

/* Lines "nic MAC ADDR/PREFIX" and "dns ADDR"; anything else is an error. */
int bx_netconf_parse(const char *text, struct bx_netconf *out, struct bx_err *err);
/* resolv with every "nameserver DEFAULT_NS" line replaced by "nameserver
 * DNS" (malloc'd; NULL when out of memory). Other servers (--dns) stay. */
char *bx_netconf_resolv(const char *resolv, const char *default_ns, const char *dns);

#endif
