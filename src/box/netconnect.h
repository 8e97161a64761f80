/* Connecting a box to a named network and disconnecting it (`boxvm network
 * connect|disconnect` and the Engine API's /networks/ID/connect|disconnect):
 * the records (the network's members, the box's vm.json) under the box's
 * start lock, then the running box at once (netlive.h). */
#ifndef BOXVM_BOX_NETCONNECT_H
#define BOXVM_BOX_NETCONNECT_H

#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"

/* aliases (NULL-terminated, may be NULL) and ip (may be NULL) as --alias and
 * --ip. 0 when done; 1 when recorded but the running box joins at its next
 * start (warn says why, for the user); -1 (err: Docker's "No such
 * container", "No such network", "endpoint ... already exists") with
 * nothing changed. */
int bx_box_net_connect(const struct bx_paths *p, const char *net_ref, const char *box_ref, char *const *aliases,
		       const char *ip, char *warn, size_t warn_size, struct bx_err *err);
/* 0 when done; 1 when done but the running box's guest could not be told
 * (warn); -1 (err) with nothing changed. */
int bx_box_net_disconnect(const struct bx_paths *p, const char *net_ref, const char *box_ref, char *warn,
			  size_t warn_size, struct bx_err *err);

#endif
