/* The host cgroup of one box's VM: QEMU, its virtiofsd(s) and passt (the
 * shim itself stays out, so it can always act on them), with a memory
 * ceiling of the guest's RAM plus a fixed overhead, --cpus as a CFS quota,
 * --cpu-shares as a weight and --cpuset-cpus as the CPUs they may run on
 * (cglimits.h). Docker's cgroupfs layout: cgroup v2 /sys/fs/cgroup/boxvm/<id>
 * (memory, cpu and cpuset enabled on the way), cgroup v1 one directory per
 * controller: /sys/fs/cgroup/{memory,cpu,cpuset}/boxvm/<id>. A controller
 * the host lacks is left out (the box runs without that limit; `info` says
 * so). The shim creates it at each boot before the first helper starts
 * (each child joins it while still root, before exec) and removes it once
 * the VM's processes are gone; `update` changes its limits live. A box
 * whose shim was killed leaves empty ones, which its next boot reuses and
 * its removal deletes. */
#ifndef BOXVM_CGROUP_H
#define BOXVM_CGROUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"
#include "cglimits.h"

/* The ceiling is guest RAM + these. Measured on an idle 512 MiB box under
 * TCG (PSS from /proc/PID/smaps_rollup of the cgroup's processes, as
 * bench/lifecycle does): QEMU 188 MiB, of which 97 MiB is guest RAM the
 * guest touched (the memfd) and 85 MiB its own heap with the translation
 * cache; passt 29 MiB; the virtiofsd pair 2 MiB: about 116 MiB beyond guest
 * RAM, under half of the 512 MiB allowed, which leaves room for I/O
 * buffers, a full translation cache and the page cache virtiofsd's reads
 * charge here (reclaimable). */
#define BX_QEMU_OVERHEAD_MB 256 /* QEMU's heap, device state, page tables, I/O buffers; virtiofsd; passt */
/* TCG's translation cache (-accel tcg,tb-size=). What is resident is what
 * the guest's code made QEMU translate, up to this size: ~50 MiB after an
 * idle box's boot and 52 MiB after a CPU-bound busybox workload, whatever
 * the size above that (bench/density BOXVM_DENSITY_TB=24,32,48,256: a cache
 * smaller than that working set slows the workload 1.21x at 48 MiB, 1.78x at
 * 32, boot and exec within noise). 128 leaves room for guests with more code
 * (Debian userlands, compilers) while bounding the cache, and the ceiling,
 * at half of the former 256. Under KVM there is no such cache. */
#define BX_TCG_TB_MB 128

enum { BX_CG_MEMORY = 1, BX_CG_CPU = 2, BX_CG_CPUSET = 4, BX_CG_ALL = 7 };
#define BX_CG_DIRS 3

struct bx_cgroup {
	int version; /* 1 or 2; 0 when none */
	int ndirs;   /* v2: one directory holding every controller; v1: one per controller */
	struct {
		char path[PATH_MAX];
		unsigned ctl; /* BX_CG_* it holds */
		int procs;    /* its cgroup.procs while the boot's processes start (O_CLOEXEC), else -1 */
	} dir[BX_CG_DIRS];
};

/* Pure: the memory ceiling of a box's VM processes in bytes: guest RAM,
 * TCG's translation cache when tcg, and the fixed overhead. */
uint64_t bx_qemu_memory_ceiling(int mem_mb, int tcg);

/* Which controllers boxes get on this host (BX_CG_* mask; 0: none) and the
 * cgroup version; why names what is missing and why ("" when all are
 * there), for `info`. */
unsigned bx_cgroup_support(int *version, char *why, size_t why_size);

/* Create (or reuse) the box's cgroup with those limits, on the controllers
 * the host has. -1 when none can be used (not root, no controller, a
 * read-only cgroupfs) or a limit cannot be written (nothing is left). */
int bx_cgroup_create(struct bx_cgroup *cg, const char *box_id, const struct bx_cg_limits *l, struct bx_err *err);
/* Open every directory's cgroup.procs; a child then joins with
 * bx_cgroup_join before exec (async-signal-safe: writes only). */
int bx_cgroup_procs_open(struct bx_cgroup *cg, struct bx_err *err);
int bx_cgroup_join(const struct bx_cgroup *cg);
/* Move every process of from (every thread of each) into to, through to's
 * open cgroup.procs files (a warm-pool VM's processes going to their box's
 * cgroup: virtiofsd's own children too); -1 with errno if one failed. */
int bx_cgroup_move_all(const struct bx_cgroup *from, const struct bx_cgroup *to);
void bx_cgroup_procs_close(struct bx_cgroup *cg);
/* The existing cgroup of a running box (`update`): -1 with err when it has none. */
int bx_cgroup_find(struct bx_cgroup *cg, const char *box_id, struct bx_err *err);
/* Write the limits named by which (BX_CG_MEMORY: memory_max, BX_CG_CPU:
 * nano_cpus and cpu_shares, BX_CG_CPUSET: cpuset) into its files. */
int bx_cgroup_set(const struct bx_cgroup *cg, const struct bx_cg_limits *l, unsigned which, struct bx_err *err);
/* How many times the kernel's OOM killer struck in it (0 when unknown). */
long bx_cgroup_oom_kills(const struct bx_cgroup *cg);
/* Remove it once no process is left in it (retries while the kernel
 * finishes tearing an exited process down). */
int bx_cgroup_remove(struct bx_cgroup *cg, struct bx_err *err);
/* The host's online CPUs as the kernel lists them ("0-1") into online, and
 * how many there are (for --cpus and --cpuset-cpus checks, cglimits.h). */
int bx_host_cpus(char *online, size_t size);
/* Remove the cgroup of a box by its id, if any is left (rm of a box whose
 * shim was killed). */
void bx_cgroup_remove_box(const char *box_id);

#endif
