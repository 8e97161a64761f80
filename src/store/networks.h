/* Named networks in the store (docs/ARCHITECTURE.md, "Named networks"):
 * one record per network, DATA/networks/<id>.json, in Docker's inspect
 * shape minus what is computed when shown:
 *   {"Name", "Id", "Created", "Subnet", "Gateway", "Internal", "Labels": {},
 *    "Containers": {BOXID: {"Name", "IPv4Address": "IP/PREFIX", "MacAddress", "Aliases": []}}}
 * Every change (create, remove, an address given or taken back) happens
 * under an flock of DATA/networks/.lock and is written atomically, so two
 * boxes never get one address and a removal never races a join. */
#ifndef BOXVM_STORE_NETWORKS_H
#define BOXVM_STORE_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../vm/vmspec.h"

#define BX_NETWORKS_MAX 64   /* networks in the store */
#define BX_NET_MEMBERS_MAX 1024 /* boxes on one network */
#define BX_NET_ALIASES_MAX 8 /* --network-alias / connect --alias per box and network */

/* Docker's name rule for networks: [a-zA-Z0-9][a-zA-Z0-9_.-]*, and not one
 * of the predefined modes (default, bridge, none, host). */
int bx_network_name_check(const char *name, struct bx_err *err);
/* A new network; subnet/gateway NULL: the first free default pool and its
 * first host. Docker's messages: a taken name, a malformed or overlapping
 * subnet, a gateway outside it. labels (may be NULL) is copied. */
int bx_network_create(const struct bx_paths *p, const char *name, const char *subnet, const char *gateway,
		      bool internal, json_t *labels, char id[65], struct bx_err *err);
/* The record of a network by name, full ID or unique ID prefix (Docker's
 * "No such network: REF", errnum ENOENT). */
int bx_network_get(const struct bx_paths *p, const char *ref, json_t **out, struct bx_err *err);
/* Every record, by name. */
int bx_network_list(const struct bx_paths *p, json_t **out, struct bx_err *err);
/* Remove a network no box is attached to, and its namespace, bridge and
 * daemon (bx_netd_stop). Docker's "has active endpoints" otherwise. */
int bx_network_remove(const struct bx_paths *p, const char *ref, struct bx_err *err);
/* Give box_id an address on the network (IPAM; want_ip: that one, --ip,
 * with Docker's checks) and record it with its name and aliases; *out is
 * what the box's vm.json keeps. Docker's "endpoint with name NAME already
 * exists in network NET" when it is there already. */
int bx_network_attach(const struct bx_paths *p, const char *ref, const char *box_id, const char *box_name,
		      char *const *aliases, const char *want_ip, struct bx_vm_net *out, struct bx_err *err);
/* Take the address back; Docker's "container ID is not connected to network NET". */
int bx_network_detach(const struct bx_paths *p, const char *ref, const char *box_id, struct bx_err *err);
/* A box is gone: its addresses on every network go back (best effort). */
void bx_networks_release_box(const struct bx_paths *p, const char *box_id);
/* A box was renamed: the name its peers resolve follows (best effort). */
void bx_networks_rename_box(const struct bx_paths *p, const char *box_id, const char *name);
/* Docker's inspect object of a record (Containers with their addresses). */
json_t *bx_network_inspect_json(json_t *rec);
/* Docker's network prune: every network no box uses that pick (may be
 * NULL: all) takes; removed gets each one's name, failed each error (one a
 * box joined meanwhile, or another client removed, is neither). */
struct bx_network_prune_cb {
	bool (*pick)(void *ctx, json_t *rec);
	void (*removed)(void *ctx, const char *name);
	void (*failed)(void *ctx, struct bx_err *err);
	void *ctx;
};
void bx_network_prune(const struct bx_paths *p, const struct bx_network_prune_cb *cb);
/* DATA/networks */
int bx_networks_dir(const struct bx_paths *p, char *out, size_t size, struct bx_err *err);
/* Records changed (a box joined, left, was renamed, started or stopped):
 * every running network daemon re-reads them and serves the new names
 * before this returns, so DNS follows the command that made the change
 * (Docker's DNS answers for running boxes only). Best effort, bounded. */
void bx_networks_changed(const struct bx_paths *p);

/* netd.c: the network's namespace, bridge and DNS responder, held by one
 * boxvm-netd process per network (src/netd). RUN/net-<id12>.pid names it
 * (pid and start time). ensure starts it unless it runs (under
 * RUN/net-<id12>.lock) and returns once its bridge is up; netns_open gives
 * an fd of its network namespace (checked to be that process's); stop ends
 * it (the namespace, bridge and taps go with it) and removes its files. */
int bx_netd_ensure(const struct bx_paths *p, const char *net_id, struct bx_err *err);
int bx_netd_netns_open(const struct bx_paths *p, const char *net_id, struct bx_err *err);
/* Ask the network's daemon, if it runs, to re-read the records; returns once it has (RUN/net-<id12>.sock) */
void bx_netd_sync(const struct bx_paths *p, const char *net_id);
void bx_netd_stop(const struct bx_paths *p, const char *net_id);
/* A running box leaves the network at once: its tap (bx<id12>) leaves the
 * bridge and goes down, and with park_nsfd >= 0 (its QEMU's network
 * namespace) goes back there as the lowest free spareN, a spare NIC again.
 * Returns N (0 without park_nsfd); -1 (err) if the box has no tap there. */
int bx_netd_tap_detach(const struct bx_paths *p, const char *net_id, const char *box_id, int park_nsfd,
		       struct bx_err *err);
/* A running box joins the network at once: the lowest spareN parked in its
 * QEMU's network namespace (park_nsfd) moves into the network's, as
 * bx<id12>, onto the bridge and up (the network's daemon started as
 * needed). Returns N: the guest knows that NIC by BX_SPARE_MAC_FMT of N. */
int bx_netd_tap_join(const struct bx_paths *p, const char *net_id, const char *box_id, int park_nsfd,
		     struct bx_err *err);

#endif
