/* The QEMU process of a running box, for host-side accounting (boxvm stats).
 *
 * The shim writes RUN/qemu.pid ("PID STARTTIME\n", atomically) each time it
 * boots the VM, so a restart by the restart policy replaces it. Why a file
 * and not the shim's /proc/SHIM/task/N/children: that list needs
 * CONFIG_PROC_CHILDREN and holds virtiofsd and passt too, and telling QEMU
 * apart by its name breaks with BOXVM_QEMU. A file left from an earlier boot
 * (during the restart backoff, or while the box stops) names a dead process
 * or, after pid reuse, another one: the start time (field 22 of
 * /proc/PID/stat) rules both out. */
#ifndef BOXVM_VMPROC_H
#define BOXVM_VMPROC_H

#include <stdint.h>

#include "../common/err.h"

int bx_qemu_pid_write(const char *run_dir, int pid, struct bx_err *err);
/* The CPU time (user + system, all threads) the box's QEMU has used, in ns;
 * -1 when no live QEMU is recorded (the box is between boots or gone). */
int bx_qemu_cpu_ns(const char *run_dir, uint64_t *ns);

/* An fd of the network namespace of the box's QEMU (where its spare NICs'
 * taps are parked, vmspec.h), checked to be the recorded process's and not
 * the host's own; -1 (err) if there is none. */
int bx_qemu_netns_open(const char *run_dir, struct bx_err *err);

/* Pure: utime (field 14), stime (15) and starttime (22) of a /proc/PID/stat
 * line; comm may hold spaces and parentheses. -1 if malformed. */
int bx_proc_stat_times(const char *text, unsigned long long *utime, unsigned long long *stime,
		       unsigned long long *start);

#endif
