/* `run`/`create` flags for the box's network and mounts: -p, --network,
 * --hostname, --dns, --dns-search, --dns-option, --add-host, -v, --tmpfs,
 * --read-only. Collected while
 * parsing, then checked and applied in one step before anything is created. */
#ifndef BOXVM_BOX_NETMOUNT_H
#define BOXVM_BOX_NETMOUNT_H

#include <stdbool.h>

#include "create.h"
#include "mounts_resolve.h"
#include "mounts_view.h"
#include "../proto/spec.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"
#include "../vm/netspec.h"

struct bx_netmount {
	/* NULL-terminated, may be NULL */
	char **publish, **dns, **dns_search, **dns_options, **add_hosts, **volumes, **tmpfs;
	char **image_volumes; /* the image's Volumes: an anonymous volume each, unless -v/--tmpfs mount there (not owned) */
	const char *network;  /* NULL: default */
	char **aliases;       /* --network-alias (named networks only) */
	const char *ip;       /* --ip (named networks only) */
	const char *hostname; /* NULL: the short box ID */
	bool read_only;
	/* filled by bx_netmount_check (network_on, ports) and _apply; bo points into these */
	bool network_on;      /* passt: the way out and -p (not on an internal network alone) */
	bool named;           /* network names a network of the store (bx_netmount_check) */
	struct bx_vm_net nets[1]; /* its address, once bx_netmount_join gave it */
	int nnets;
	struct bx_port ports[BX_MAX_PORTS];
	int nports;
	struct bx_share shares[BX_MAX_SHARES];
	struct bx_mount_req *reqs; /* -v and --tmpfs in mount order (nreqs), resolved into shares */
	size_t nreqs;
	json_t *mounts_view;       /* inspect's Mounts, Binds, Volumes, Tmpfs (mounts_view.h) */
};

/* After bx_netmount_check: reserve host ports (one in use: an error,
 * nothing created), create missing volumes and bind
 * directories, and fill the spec (network, /etc files, mounts, read-only)
 * and the box options (ports, shares). spec->hostname must be set. */
int bx_netmount_apply(const struct bx_paths *p, struct bx_netmount *nm, struct bx_spec *spec,
		       struct bx_box_opts *bo, struct bx_err *err);
void bx_netmount_free(struct bx_netmount *nm);
/* HostConfig's NetworkMode, Dns, DnsSearch, DnsOptions, ExtraHosts and
 * ReadonlyRootfs as Docker records these flags. */
json_t *bx_netmount_host_config(const struct bx_netmount *nm);
/* Once the box is reserved (its ID and name exist): its address on the
 * named network (IPAM), recorded in the network and the box options.
 * Undone by bx_box_unreserve (bx_networks_release_box). */
int bx_netmount_join(const struct bx_paths *p, struct bx_netmount *nm, const char *box_id, const char *box_name,
		      struct bx_box_opts *bo, struct bx_err *err);
/* The pure part alone: every flag well-formed (what Docker's client checks). */
int bx_netmount_check(struct bx_netmount *nm, struct bx_err *err);
/* Once the box's root exists: each volume that is still empty starts with
 * a copy of what the image has at its target (bx_volume_populate). */
int bx_netmount_populate(const struct bx_netmount *nm, const char *rootfs, struct bx_err *err);

#endif
