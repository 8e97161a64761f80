/* QEMU's own memory cgroup: one per box, with a ceiling of the guest's RAM
 * plus a fixed overhead, so one box cannot starve the host. Docker's layout
 * (cgroupfs driver): cgroup v1 MEMORY_MOUNT/boxvm/<box id>, cgroup v2
 * /sys/fs/cgroup/boxvm/<box id> (the memory controller enabled on the way).
 * The shim creates it before QEMU's exec (the child joins it while still
 * root) and removes it once the VM's processes are gone; a box whose shim
 * was killed leaves an empty one, which its next boot reuses and its
 * removal deletes. */
#ifndef BOXVM_CGROUP_H
#define BOXVM_CGROUP_H

#include <limits.h>
#include <stdint.h>

#include "../common/err.h"

#define BX_QEMU_OVERHEAD_MB 256 /* QEMU's own heap, device state, page tables, I/O buffers */
#define BX_TCG_TB_MB 256        /* TCG's translation cache (-accel tcg,tb-size=) */

struct bx_cgroup {
	char path[PATH_MAX]; /* "" when none */
	int version;         /* 1 or 2; 0 when none */
};

/* Pure: the memory ceiling of a box's QEMU in bytes: guest RAM, TCG's
 * translation cache when tcg, and the fixed overhead. */
uint64_t bx_qemu_memory_ceiling(int mem_mb, int tcg);

/* Create (or reuse) the box's cgroup with that memory limit. -1 when cgroups
 * cannot be used here (not root, no memory controller, read-only cgroupfs). */
int bx_cgroup_create(struct bx_cgroup *cg, const char *box_id, uint64_t limit_bytes, struct bx_err *err);
/* cgroup.procs of it, opened for writing (O_CLOEXEC): a child writes "0" to
 * join it before exec. */
int bx_cgroup_procs_open(const struct bx_cgroup *cg, struct bx_err *err);
/* How many times the kernel's OOM killer struck in it (0 when unknown). */
long bx_cgroup_oom_kills(const struct bx_cgroup *cg);
/* Remove it once no process is left in it (retries while the kernel
 * finishes tearing an exited process down). */
int bx_cgroup_remove(struct bx_cgroup *cg, struct bx_err *err);
/* Remove the cgroup of a box by its id, if any is left (rm of a box whose
 * shim was killed). */
void bx_cgroup_remove_box(const char *box_id);

#endif
