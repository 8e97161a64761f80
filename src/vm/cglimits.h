/* Docker's resource values as the host cgroup of a box's VM takes them, pure
 * (no I/O, unit tested): --cpus as a CFS quota over a 100 ms period,
 * --cpu-shares as cgroup v2's cpu.weight (runc's conversion), --cpuset-cpus
 * lists checked against the host's CPUs with Docker's messages. */
#ifndef BOXVM_CGLIMITS_H
#define BOXVM_CGLIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define BX_CFS_PERIOD_US 100000
#define BX_CPU_SHARES_MIN 2      /* the kernel's bounds for cpu.shares */
#define BX_CPU_SHARES_MAX 262144
#define BX_CPUSET_MAX 1024       /* CPUs a cpuset list may name */
#define BX_CPUSET_TEXT 128       /* room for a list as given (vm.json, HostConfig.CpusetCpus) */

/* What the host cgroup of one box holds it to. */
struct bx_cg_limits {
	uint64_t memory_max;   /* bytes: the guest's RAM plus QEMU's overhead; 0: none */
	long long nano_cpus;   /* --cpus * 1e9; 0: no quota */
	long long cpu_shares;  /* --cpu-shares; 0: the default (1024, weight 100) */
	char cpuset[BX_CPUSET_TEXT]; /* --cpuset-cpus; "": every CPU the parent has */
};

/* The CFS quota in microseconds per BX_CFS_PERIOD_US of a --cpus value (-1:
 * none), never below the kernel's 1 ms minimum. */
long long bx_cg_cfs_quota(long long nano_cpus);
/* cgroup v2's cpu.max: "QUOTA 100000" or "max 100000". */
void bx_cg_cpu_max(long long nano_cpus, char *out, size_t size);
/* cpu.shares as given, clamped to the kernel's bounds (0: 1024). */
long long bx_cg_shares(long long shares);
/* runc's cpu.shares -> cpu.weight: 1 + ((shares - 2) * 9999) / 262142
 * (0: the default weight, 100). */
uint64_t bx_cg_shares_to_weight(long long shares);

/* "0-3,5" into a mask of CPUs (BX_CPUSET_MAX bits); a bad list fails with
 * Docker's "Invalid value LIST for cpuset cpus: invalid format: LIST". */
int bx_cpuset_parse(const char *list, uint64_t mask[BX_CPUSET_MAX / 64], struct bx_err *err);
/* The list checked against the CPUs the host offers (a list as the kernel
 * writes it, e.g. "0-1"): Docker's "Requested CPUs are not available -
 * requested LIST, available: AVAIL". */
int bx_cpuset_check(const char *list, const char *available, struct bx_err *err);
/* --cpus of `update` ("0.5", "1.5"): Docker's range message when the value
 * is under 0.01 or over the host's CPUs; "0" is no quota. */
int bx_cpus_parse(const char *s, int host_cpus, long long *nano, struct bx_err *err);

#endif
