/* An OCI bundle's config.json (runtime-spec 1.x) mapped onto a box, for
 * boxvm-runtime (src/runtime). Pure: parses text, touches no file.
 *
 * What maps where (docs/oci-runtime.md has the full table):
 *   root.path (relative to the bundle) -> the directory virtiofsd serves;
 *   process args/env/cwd/user/terminal/rlimits, user.additionalGids
 *                                       -> the main process spec;
 *   hostname                            -> the guest's host name;
 *   mounts: bind -> a virtiofs share, tmpfs -> a guest tmpfs, and the
 *     kernel filesystems (proc, sysfs, devpts, mqueue, cgroup, tmpfs on /dev
 *     and /dev/shm) are made by the guest agent itself;
 *   linux.resources: memory limit -> the box's memory.max and a VM around
 *     it (resources.h), CPU quota -> vCPUs (annotations io.boxvm.memory /
 *     io.boxvm.cpus size the VM instead); memory reservation, pids limit,
 *     cpu shares and cpus -> the box's memory.low, pids.max, cpu.weight and
 *     cpuset.cpus in the guest's cgroup; memory swap is moot (no swap);
 *   a network namespace with a path -> the VM's network lives in it
 *     and every port of its addresses reaches the box (annotation
 *     io.boxvm.ports names the only ones instead; "" none);
 *     one without a path (a new, empty namespace) -> the box has no NIC.
 *   linux.seccomp -> the filter of the process and its execs (compiled on
 *     the host: src/box/seccomp.h);
 *   linux.maskedPaths, linux.readonlyPaths, process.oomScoreAdj -> made and
 *     set by the agent before the process, as runc does;
 * Fields the VM boundary makes moot (AppArmor, SELinux, cgroup paths) are
 * accepted;
 * hooks (but startContainer) are checked and kept, to run on the host;
 * fields that would change what the workload gets and cannot be honoured
 * (devices, user namespaces, ...) are rejected with a clear error. */
#ifndef BOXVM_OCI_CONFIG_H
#define BOXVM_OCI_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "../box/resources.h"
#include "../common/err.h"
#include "../proto/spec.h"
#include "../vm/mounts.h"
#include "../vm/netspec.h"

#define BX_OCI_MAX_MOUNTS (BX_MAX_SHARES + 16)

struct bx_oci_config {
	char root_path[PATH_MAX];    /* absolute */
	struct bx_spec spec;         /* main process, hostname, read-only root */
	struct bx_mount_req mounts[BX_OCI_MAX_MOUNTS]; /* binds and extra tmpfs, in config order */
	size_t nmounts;
	int mem_mb, cpus;            /* 0: boxvm's default */
	struct bx_resources res;     /* linux.resources: the limits of the guest's cgroup /box */
	bool netns_join;             /* the VM's network lives in netns_path */
	char netns_path[PATH_MAX];
	/* linux.namespaces uts: a path (a pod's container joins its sandbox's,
	 * whose name it takes when it has none of its own), or a new one (the
	 * monitor makes it and holds the host name there, for such joiners) */
	char uts_path[PATH_MAX];
	bool uts_new;
	bool network;                /* the box gets a NIC (only when joining a namespace) */
	struct bx_port ports[BX_MAX_PORTS];
	int nports;
	bool all_ports;              /* joined namespace, no io.boxvm.ports: forward every port to the box */
	char *hooks_json;            /* config.json's "hooks", checked (compact JSON); NULL: none */
};

/* Parse config.json text. bundle: the bundle directory (absolute), for a
 * relative root.path. need_process: false for configs that only need a root
 * (none today; kept for `exec`-less tools). On failure *c is freed. */
int bx_oci_config_parse(const char *json_text, const char *bundle, struct bx_oci_config *c, struct bx_err *err);
void bx_oci_config_free(struct bx_oci_config *c);

/* An OCI process object (config.json's "process", or `exec --process FILE`)
 * into a spec (args, env, cwd, user, terminal). Pure; spec freshly initialised. */
int bx_oci_process_parse(const char *json_text, struct bx_spec *spec, struct bx_err *err);

/* "512m", "1g", "1073741824" (bytes when no unit) -> MiB; -1 if malformed. Pure. */
long long bx_oci_size_mb(const char *text);

/* "RLIMIT_NOFILE" etc. -> the Linux resource number; -1 if not one. Pure. */
int bx_oci_rlimit_parse(const char *name);

/* Signal by name ("KILL", "SIGKILL", "kill") or number; -1 if not one. Pure. */
int bx_oci_signal_parse(const char *text);

#endif
