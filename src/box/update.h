/* Docker's update: a box's resource limits and restart policy changed, in
 * its records (vm.json for the next boot, config.json's HostConfig for
 * inspect) and, on a running box, live: memory through the virtio balloon
 * (QMP "balloon": down from the boot size, never up), --cpus,
 * --cpu-shares and --cpuset-cpus in the VM's host cgroup (src/vm/cgroup.h).
 * The work of `boxvm update`, the Engine API's POST /containers/ID/update
 * and boxvm-runtime's update. */
#ifndef BOXVM_BOX_UPDATE_H
#define BOXVM_BOX_UPDATE_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/boxconfig.h"
#include "../vm/cglimits.h"

/* The floor of a box's memory, at boot and through the balloon: below it
 * the guest's kernel, agent and page cache no longer fit. */
#define BX_BOX_MEMORY_MIN_MB 64

/* What to change (each *_set: given). */
struct bx_update {
	bool memory_set, reservation_set, cpus_set, shares_set, cpuset_set, pids_set, restart_set;
	long long memory;      /* bytes */
	long long reservation; /* bytes; 0: none */
	long long nano_cpus;   /* 0: no quota */
	long long cpu_shares;  /* 0: the default */
	char cpuset[BX_CPUSET_TEXT];
	long long pids_limit;  /* <= 0: unlimited */
	struct bx_restart_policy restart;
};

/* Pure: "512m", "1g", "268435456" (b, k, m, g; Docker's RAMInBytes) into
 * bytes: -1 with err naming flag (e.g. "--memory") when it is not a size. */
int bx_update_parse_bytes(const char *flag, const char *s, long long *out, struct bx_err *err);
/* Pure: the checks Docker makes before it changes anything, with Docker's
 * messages, given the box's memory and reservation in effect (bytes, 0:
 * none), the host's CPU count and its online CPUs ("0-1"). */
int bx_update_check(const struct bx_update *u, long long memory, long long reservation, int host_cpus,
		    const char *online, struct bx_err *err);

/* Update the box ref names: -1 with err (Docker's "No such container: REF",
 * the checks above, a running box's memory above its boot size) and
 * nothing changed; a live change that fails after the records were
 * written fails with the records as they were. */
int bx_box_update(const struct bx_paths *p, const char *ref, const struct bx_update *u, struct bx_err *err);
/* The same for a box its caller has found (boxvm-runtime's, without a
 * record: id, name, box_dir, run_dir and a status it has reconciled; a box
 * without config.json has no HostConfig or restart policy to change). */
struct bx_box_record;
int bx_box_update_record(const struct bx_box_record *rec, const struct bx_update *u, struct bx_err *err);

#endif
