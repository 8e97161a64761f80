/* Docker's resource limits of a box (--memory, --memory-reservation,
 * --memory-swap, --pids-limit, --cpu-shares, --cpuset-cpus; the Engine
 * API's and config.json's equivalents): checked with Docker's words,
 * enforced by the guest's cgroup /box that holds main and every exec (the
 * agent writes spec->cgroup there before main), recorded as Docker's
 * HostConfig fields (pure; unit-tested).
 *
 * The VM itself is sized around the limit: a box with --memory M gets
 * M + BX_RES_VM_OVERHEAD_MB of RAM, so the box's memory.max is what binds
 * and the guest kernel and the agent keep room of their own when the box
 * is at its limit. Without --memory the VM has boxvm's default size and the
 * box no limit below it. */
#ifndef BOXVM_BOX_RESOURCES_H
#define BOXVM_BOX_RESOURCES_H

#include <jansson.h>
#include <stdint.h>

#include "../common/err.h"
#include "../proto/spec.h"

#define BX_RES_VM_OVERHEAD_MB 128
#define BX_RES_MEMORY_MIN (6LL << 20) /* Docker's minimum limit and reservation */
#define BX_RES_MEMORY_MAX (1LL << 40)
#define BX_RES_MAX_CPUS 64

struct bx_resources {
	int64_t memory;             /* bytes; 0: no limit */
	int64_t memory_reservation; /* bytes; 0: none */
	int64_t memory_swap;        /* bytes as given; 0: not given; -1: unlimited */
	int64_t pids_limit;         /* > 0: the limit; <= 0: unlimited (Docker's -1 and 0) */
	int64_t cpu_shares;         /* as given; 0: not given */
	char cpuset_cpus[128];      /* as given ("0-1,3"); "": every vCPU */
};

/* One flag by its long name: "memory", "memory-reservation", "memory-swap",
 * "pids-limit", "cpu-shares", "cpuset-cpus" (each value's format checked). */
int bx_resources_flag(struct bx_resources *r, const char *flag, const char *value, struct bx_err *err);
/* Docker's sizes: "64m", "1g", "512MiB", "100000" (bytes); units b k m g t, binary. */
int bx_resources_bytes(const char *s, int64_t *out);
/* The flags together, as Docker's daemon checks them; the cpuset against
 * the VM's vcpus. */
int bx_resources_check(const struct bx_resources *r, int vcpus, struct bx_err *err);
/* The VM's RAM for the limit in MiB (0: no limit, boxvm's default size). */
int bx_resources_vm_mb(const struct bx_resources *r);
/* The limits as /box's files (spec->cgroup "pids.max=64", ...). */
int bx_resources_apply(const struct bx_resources *r, struct bx_spec *spec, struct bx_err *err);
/* runc's cgroup v2 conversion of --cpu-shares (clamped to 2..262144) to
 * cpu.weight (1..10000); 0 shares: 0 (the default weight stays). */
uint64_t bx_cpu_shares_weight(int64_t shares);
/* HostConfig's Memory, MemoryReservation, MemorySwap, PidsLimit, CpuShares
 * and CpusetCpus as Docker records them (MemorySwap twice Memory when not
 * given, PidsLimit null when unlimited). */
json_t *bx_resources_host_config(const struct bx_resources *r);

#endif
