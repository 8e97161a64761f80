/* The guest's cgroup v2 hierarchy: the agent in a leaf /agent of its own,
 * the box's processes (main and every exec) in /box, whose limits are the
 * box's --pids-limit, --memory, --cpu-shares... (BX_T_CGROUP). The agent's
 * own cgroup2 mount lives in the initramfs and is reached after the root
 * switch only through ag->cgroup_box_fd: nothing of it is in the box's sight.
 * The box gets /box's directory read-only at /sys/fs/cgroup and a cgroup
 * namespace rooted at /box (/proc/self/cgroup reads "0::/"), as Docker's
 * cgroupns=private on a cgroup v2 host. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CGROUP_MNT "/boxvm/cgroup"

/* Only these files of /box are ever written (the spec's limits, and live
 * updates later): a name from outside can't reach another file or cgroup. */
static const char *const box_files[] = {"pids.max", "memory.max", "memory.low", "memory.high",
					 "cpu.weight", "cpu.max", "cpuset.cpus", NULL};

static int write_at(int dirfd, const char *file, const char *value)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int saved = errno;
	close(fd);
	if (n != (ssize_t)len)
		return errno = n < 0 ? saved : EIO, -1;
	return 0;
}

int agent_cgroup_set(const struct agent *ag, const char *file, const char *value, struct bx_err *err)
{
	bool known = false;
	for (size_t i = 0; box_files[i] && !known; i++)
		known = !strcmp(file, box_files[i]);
	if (!known)
		return bx_fail(err, EINVAL, "cgroup file %.64s is not one the box's limits may set", file);
	if (ag->cgroup_box_fd < 0)
		return bx_fail(err, ENOTSUP, "cannot set %s: the guest has no cgroup for the box", file);
	if (write_at(ag->cgroup_box_fd, file, value) < 0)
		return bx_fail(err, errno, "cannot set the box's %s to %.64s", file, value);
	agent_info("cgroup /box: %s = %s", file, value);
	return 0;
}

/* The controllers the kernel has among those the box's limits use, enabled
 * for the root's children (/agent and /box). */
static int enable_controllers(int root_fd, struct bx_err *err)
{
	char have[512] = "";
	int fd = openat(root_fd, "cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "open cgroup.controllers");
	ssize_t n = read(fd, have, sizeof(have) - 1);
	close(fd);
	if (n < 0)
		return bx_fail(err, errno, "read cgroup.controllers");
	have[n] = '\0';
	static const char *const want[] = {"cpu", "cpuset", "memory", "pids"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool present = false;
		char copy[512], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", have);
		for (char *t = strtok_r(copy, " \n", &save); t && !present; t = strtok_r(NULL, " \n", &save))
			present = !strcmp(t, want[i]);
		if (!present) {
			agent_err("the guest kernel has no %s cgroup controller: the box's %s limits are not enforced",
				  want[i], want[i]);
			continue;
		}
		char op[16];
		snprintf(op, sizeof(op), "+%s", want[i]);
		if (write_at(root_fd, "cgroup.subtree_control", op) < 0)
			return bx_fail(err, errno, "enable the %s cgroup controller", want[i]);
	}
	return 0;
}

/* In the initramfs, before anything of the box runs. */
int agent_cgroup_init(struct agent *ag, const struct bx_spec *spec, struct bx_err *err)
{
	ag->cgroup_box_fd = -1;
	if (agent_mkdir_p(CGROUP_MNT, 0700) < 0)
		return bx_fail(err, errno, "mkdir %s", CGROUP_MNT);
	if (mount("cgroup2", CGROUP_MNT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return bx_fail(err, errno, "mount cgroup2 on %s", CGROUP_MNT);
	int root_fd = open(CGROUP_MNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return bx_fail(err, errno, "open %s", CGROUP_MNT);
	int rc = -1;
	/* the root holds no process but the kernel's threads (exempt from
	 * cgroup v2's no-internal-process rule); the agent gets a leaf of its own */
	if (enable_controllers(root_fd, err) < 0)
		goto out;
	if ((mkdirat(root_fd, "agent", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(root_fd, "box", 0755) < 0 && errno != EEXIST)) {
		bx_fail(err, errno, "create the guest's cgroups");
		goto out;
	}
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	int agent_fd = openat(root_fd, "agent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (agent_fd < 0 || write_at(agent_fd, "cgroup.procs", pid) < 0) {
		bx_fail(err, errno, "move the agent into its cgroup");
		if (agent_fd >= 0)
			close(agent_fd);
		goto out;
	}
	close(agent_fd);
	/* above the fds 0-2 the box's processes get, never reused by them (CLOEXEC) */
	ag->cgroup_box_fd = openat(root_fd, "box", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ag->cgroup_box_fd < 0) {
		bx_fail(err, errno, "open the box's cgroup");
		goto out;
	}
	for (size_t i = 0; i < spec->ncgroup; i++) {
		char kv[256];
		if (snprintf(kv, sizeof(kv), "%s", spec->cgroup[i]) >= (int)sizeof(kv) || !strchr(kv, '=')) {
			bx_fail(err, EINVAL, "bad cgroup limit %.64s", spec->cgroup[i]);
			goto out;
		}
		char *eq = strchr(kv, '=');
		*eq = '\0';
		if (agent_cgroup_set(ag, kv, eq + 1, err) < 0)
			goto out;
	}
	rc = 0;
out:
	close(root_fd);
	if (rc < 0 && ag->cgroup_box_fd >= 0) {
		close(ag->cgroup_box_fd);
		ag->cgroup_box_fd = -1;
	}
	return rc;
}

/* After the root switch, with the box's /proc and read-only /sys mounted:
 * /box's directory on /sys/fs/cgroup, read-only. */
int agent_cgroup_mount_box(const struct agent *ag, struct bx_err *err)
{
	static const char target[] = "/sys/fs/cgroup";
	char src[64];
	if (ag->cgroup_box_fd < 0)
		return 0;
	snprintf(src, sizeof(src), "/proc/self/fd/%d", ag->cgroup_box_fd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		return bx_fail(err, errno, "bind the box's cgroup on %s", target);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return bx_fail(err, errno, "make %s read-only", target);
	return 0;
}

/* the kernel's clone3 ABI (linux/sched.h, which musl does not ship) */
#define CLONE_INTO_CGROUP 0x200000000ULL
struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

/* fork(), with the child born in /box where the kernel can (clone3's
 * CLONE_INTO_CGROUP): moving a process there afterwards (cgroup.procs)
 * waits for an RCU grace period, which cost 12-25 ms of every exec under
 * TCG. A birth is refused where a move is not (/box at its pids.max or
 * memory.max; or an older kernel): then this is a plain fork and the child
 * moves itself (*in_box false), so an exec still starts in a box at its
 * limits. The child is single-threaded and only sets itself up and execs,
 * so libc's own fork bookkeeping is not needed. */
pid_t agent_cgroup_fork(const struct agent *ag, bool *in_box)
{
	*in_box = false;
	if (ag->cgroup_box_fd >= 0) {
		struct clone_args a = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				       .cgroup = (uint64_t)ag->cgroup_box_fd};
		long pid = syscall(SYS_clone3, &a, sizeof(a));
		if (pid >= 0) {
			*in_box = true;
			return (pid_t)pid;
		}
	}
	return fork();
}

/* In the spawn child, before anything else: into /box unless born there
 * (moving is never refused by pids.max or memory.max), then a cgroup
 * namespace rooted there. */
int agent_cgroup_enter_box(const struct agent *ag, bool in_box, struct bx_err *err)
{
	if (ag->cgroup_box_fd < 0)
		return 0;
	if (!in_box && write_at(ag->cgroup_box_fd, "cgroup.procs", "0") < 0)
		return bx_fail(err, errno, "join the box's cgroup");
	if (unshare(CLONE_NEWCGROUP) < 0)
		return bx_fail(err, errno, "unshare the cgroup namespace");
	return 0;
}

/* A number from one of /box's files ("max" and errors: false). */
bool agent_cgroup_read_u64(const struct agent *ag, const char *file, uint64_t *out)
{
	char buf[64];
	if (ag->cgroup_box_fd < 0)
		return false;
	int fd = openat(ag->cgroup_box_fd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return false;
	buf[n] = '\0';
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || (*end && *end != '\n'))
		return false;
	*out = v;
	return true;
}
