/* A running box joins or leaves a named network at once (docs/ARCHITECTURE.md,
 * "Named networks", connect/disconnect): the host side moves a spare NIC's
 * tap between the box's QEMU's network namespace and the network's bridge
 * (src/store/netd.c), the guest side brings the NIC up or down with its
 * address (BX_M_NETCFG, src/agent/net.c). The caller has already updated
 * the records (vm.json, the network's members) under the box's start lock. */
#ifndef BOXVM_BOX_NETLIVE_H
#define BOXVM_BOX_NETLIVE_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"
#include "../vm/vmspec.h"

/* net: the box's new entry; first_net: it had no named network before. 1 when the
 * box is on the network now; 0 when it is not running or has no spare NIC
 * left (err says which: it joins at its next start); -1 (err) when the change
 * failed and was undone on both sides. */
int bx_box_net_join_live(const struct bx_paths *p, const struct bx_box_record *rec, const struct bx_vm_net *net,
			 bool first_net, struct bx_err *err);
/* net: the entry removed; vm: vm.json after the change. 1 when the box has
 * left (its tap off the bridge, a spare again); 0 when it had no NIC on it
 * (not running, or it joined while running without a spare); -1 (err) when
 * the guest could not be told (the host side is done: the box is cut off). */
int bx_box_net_leave_live(const struct bx_paths *p, const struct bx_box_record *rec, const struct bx_vmspec *vm,
			  const struct bx_vm_net *net, struct bx_err *err);

#endif
