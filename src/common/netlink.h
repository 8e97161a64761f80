/* The one rtnetlink request boxvm needs: moving a network interface into
 * another network namespace (a spare NIC's tap joining a network's bridge
 * and coming back, src/store/netd.c; a guest's spare NIC parked and back,
 * src/agent/netpark.c). No ioctl does that. */
#ifndef BOXVM_COMMON_NETLINK_H
#define BOXVM_COMMON_NETLINK_H

#include "err.h"

/* Move the interface ifname of the caller's network namespace into the
 * namespace target_nsfd refers to, named newname there. */
int bx_link_move(const char *ifname, int target_nsfd, const char *newname, struct bx_err *err);

#endif
