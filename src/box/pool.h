/* The warm pool (docs/ARCHITECTURE.md, "Warm pool"): pre-booted VMs that
 * no box has used, kept per profile (memory, vCPUs, network mode), which
 * `run`, `start` and boxvm-runtime's `start` claim for a box that fits
 * instead of booting one.
 *
 * DATA/pool/config.json   the profiles and how many VMs each keeps
 * DATA/pool/refill        a symlink to the boxvm that set them (a pool VM
 *                         that is claimed, or dies unclaimed, runs
 *                         `boxvm pool fill`)
 * DATA/pool/.lock         held while VMs are added or removed
 * DATA/pool/ID/           one VM: vm.json, share/root (its rootfs share),
 *                         shares/N/s (its spare shares m0, m1, ...),
 *                         ready (written by its shim once the guest
 *                         answers; renamed by the one claim that wins)
 * RUN/pool/ID12/          its runtime dir (claim.sock) until claimed */
#ifndef BOXVM_POOL_H
#define BOXVM_POOL_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../vm/vmspec.h"

#define BX_POOL_MAX_PROFILES 8
#define BX_POOL_MAX_SIZE 64
/* spare shares a pool VM boots with by default (each an idle virtiofsd
 * until a box's bind mount or volume goes onto it): boxes with more boot
 * cold. boxvm-runtime's containers have more: containerd's CRI and Podman
 * bind /etc/hosts, /etc/hostname, /etc/resolv.conf and one or two more. */
#define BX_POOL_SPARE_SHARES 2
#define BX_POOL_RUNTIME_SPARE_SHARES 6
#define BX_POOL_MAX_SPARE_SHARES 8

struct bx_pool_profile {
	int mem_mb;
	int cpus;
	bool network;
	bool runtime; /* for boxvm-runtime's containers: a root the host edits (virtiofsd cache=auto) */
	int shares;   /* spare shares */
	int size;     /* VMs to keep ready */
};

struct bx_pool_config {
	struct bx_pool_profile p[BX_POOL_MAX_PROFILES];
	int n;
};

/* One VM of the pool as `pool ls` shows it. */
struct bx_pool_vm {
	char id[65];
	struct bx_pool_profile profile; /* size unused */
	bool ready;                     /* booted and waiting (else booting) */
	bool orphaned;                  /* claimed, but its claimer died before the shim took the claim */
	int shim_pid;
};

/* Whether two profiles describe the same VMs (their sizes aside). */
bool bx_pool_profile_same(const struct bx_pool_profile *a, const struct bx_pool_profile *b);
int bx_pool_config_read(const struct bx_paths *p, struct bx_pool_config *c, struct bx_err *err);
/* Set a profile's size (0 removes it), written atomically. */
int bx_pool_config_set(const struct bx_paths *p, const struct bx_pool_profile *prof, struct bx_err *err);
/* Remove VMs whose shim is gone, stop those beyond their profile's size
 * (or of no profile), and boot what is missing (at low priority, in the
 * background of running boxes). *booted: how many were started. */
int bx_pool_fill(const struct bx_paths *p, int *booted, struct bx_err *err);
/* Stop every pool VM and remove its directories (the profiles stay: a
 * later fill boots them again unless their sizes were set to 0). */
int bx_pool_drain(const struct bx_paths *p, int *stopped, struct bx_err *err);
/* The pool's VMs (malloc'd array, *n of them). */
int bx_pool_list(const struct bx_paths *p, struct bx_pool_vm **vms, int *n, struct bx_err *err);
/* Start the box whose vm.json is vm on a ready pool VM that fits: 1 when one
 * took it (its answer read as bx_shim_start's: -1 with err when the box
 * failed), 0 when none could (boot it cold). The claimed VM's shim joins
 * the caller's network namespace (passt, a pod's ports: as the shim of a
 * cold boot, which inherits it) and refills the pool in the background
 * from its own (the pool's) namespaces. */
int bx_pool_claim(const struct bx_paths *p, const struct bx_vmspec *vm, struct bx_err *err);
/* A box's start: a pool VM when one fits, else a cold boot (bx_shim_start). */
int bx_box_boot(const struct bx_paths *p, const struct bx_vmspec *vm, struct bx_err *err);

#endif
