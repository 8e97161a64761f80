/* QEMU with the least privilege that works (docs/security.md, "Privileges"):
 *  - a user and group of its own per box (src/vm/uidpool.h), no
 *    supplementary group but /dev/kvm's under KVM, no capabilities, no new
 *    privileges;
 *  - QEMU's seccomp sandbox (BX_QEMU_SANDBOX);
 *  - network and IPC namespaces of its own (empty: passt is its network);
 *  - every resource handed over as a file descriptor (the console, the
 *    control port, the QMP listener, the vhost-user sockets, passt's
 *    socketpair, the boot files), laid out as 3, 4, ... and nothing else
 *    inherited, so it needs no access to boxvm's data or runtime directories;
 *  - an environment of PATH alone;
 *  - its own memory cgroup with a ceiling of guest RAM plus a fixed overhead
 *    (src/vm/cgroup.h), joined before exec.
 * Without root (a test or development set-up) QEMU simply keeps the shim's
 * unprivileged user and no cgroup; the sandbox and the fds stay. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../common/unixsock.h"
#include "shim.h"

/* The user QEMU runs as: leased once per box and kept across restarts. */
static int qemu_identity(struct shim *s, struct bx_err *err)
{
	if (geteuid() != 0 || s->qemu_uid.lock_fd >= 0)
		return 0;
	if (bx_uid_lease_take(BX_UID_LOCK_DIR, BX_QEMU_UID_BASE, BX_QEMU_UID_COUNT, &s->qemu_uid, err) < 0)
		return bx_wrap(err, "cannot pick a user for QEMU");
	shim_log(s, false, "qemu runs as uid/gid %u", (unsigned)s->qemu_uid.uid);
	return 0;
}

/* The supplementary groups QEMU keeps: /dev/kvm's group under KVM, else none. */
static int qemu_groups(struct shim *s, gid_t *groups, struct bx_err *err)
{
	if (strcmp(s->spec.accel, "kvm"))
		return 0;
	struct stat st;
	if (stat("/dev/kvm", &st) < 0)
		return bx_fail(err, errno, "cannot use /dev/kvm");
	int n = bx_kvm_group(st.st_mode, st.st_gid, groups);
	if (n < 0)
		return bx_fail(err, 0,
			       "/dev/kvm is usable by root alone (mode %03o, group %u): QEMU runs unprivileged and "
			       "needs it group read-write, e.g. chgrp kvm /dev/kvm && chmod 660 /dev/kvm",
			       (unsigned)(st.st_mode & 0777), (unsigned)st.st_gid);
	return n;
}

/* A copy in memory of a boot file QEMU could not open by itself. */
static int memfd_copy(int fd, const char *path, struct bx_err *err)
{
	struct stat st;
	int m = memfd_create("boxvm-boot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot copy %s for QEMU", path);
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(m, fd, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(m);
			return bx_fail(err, e, "cannot copy %s for QEMU", path);
		}
	}
	fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	close(fd);
	return m;
}

/* A boot file, opened for QEMU to read through /proc/self/fd/N. Opening
 * that link checks the file's mode against QEMU's user: the box's own
 * initrd is given QEMU's group (it may hold the box's environment: never
 * world-readable); a shared kernel that others may not read is copied. */
static int open_boot_file(struct shim *s, const char *path, bool own, struct bx_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bx_fail(err, e, "cannot open %s", path);
	}
	if (s->qemu_uid.lock_fd < 0 || st.st_mode & S_IROTH)
		return fd;
	if (own && fchown(fd, (uid_t)-1, (gid_t)s->qemu_uid.uid) == 0 && fchmod(fd, 0640) == 0)
		return fd;
	return memfd_copy(fd, path, err);
}

/* RUN/qmp.sock, bound by the shim; QEMU gets the listening socket. */
static int qmp_listener(struct shim *s, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s/qmp.sock", s->spec.run_dir) < 0)
		return -1;
	unlink(sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bx_fail(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return bx_fail(err, e, "cannot listen on %s", sa.sun_path);
	}
	return fd;
}

/* A connection to a virtiofsd's vhost-user socket (it exists: the start
 * functions waited for it), made by the shim and handed to QEMU as is:
 * vhost-user's first message is QEMU's. */
static int vfs_connect(struct shim *s, const char *name, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s", s->spec.run_dir, name) < 0)
		return -1;
	long long end = bx_mono_ms() + 10000;
	for (;;) {
		struct bx_err e;
		int fd = bx_unix_connect(path, &e);
		if (fd >= 0)
			return fd;
		/* ECONNREFUSED: bound but not listening yet, a moment */
		if (e.errnum != ECONNREFUSED || bx_mono_ms() > end) {
			if (err)
				*err = e;
			return -1;
		}
		usleep(5 * 1000);
	}
}

void shim_qemu_fds_close(struct shim_qemu_fds *q)
{
	for (int i = 0; i < q->n; i++)
		if (q->fd[i] >= 0)
			close(q->fd[i]);
	q->n = 0;
	for (int i = 0; i < 2; i++) {
		if (q->console[i] >= 0)
			close(q->console[i]);
		if (q->ctl[i] >= 0)
			close(q->ctl[i]);
		if (q->err[i] >= 0)
			close(q->err[i]);
		q->console[i] = q->ctl[i] = q->err[i] = -1;
	}
}

/* Add a child-side fd; its number in QEMU is 3 + its index. */
static int give(struct shim_qemu_fds *q, int fd)
{
	q->fd[q->n] = fd;
	return 3 + q->n++;
}

int shim_qemu_fds_open(struct shim *s, struct shim_qemu_fds *q, struct bx_qemu_fds *map, struct bx_err *err)
{
	memset(q, 0, sizeof(*q));
	memset(map, 0, sizeof(*map));
	for (int i = 0; i < 2; i++)
		q->console[i] = q->ctl[i] = q->err[i] = -1;
	if (qemu_identity(s, err) < 0)
		return -1;
	s->spec.nspares = s->qemu_uid.lock_fd >= 0 ? bx_vm_spares(&s->spec) : 0;
	if (s->qemu_uid.lock_fd >= 0) {
		int n = qemu_groups(s, q->groups, err);
		if (n < 0)
			return -1;
		q->ngroups = n;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, q->console) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, q->ctl) < 0 || pipe2(q->err, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "cannot create QEMU's sockets");
	map->console = give(q, q->console[1]);
	q->console[1] = -1;
	map->ctl = give(q, q->ctl[1]);
	q->ctl[1] = -1;
	int fd = qmp_listener(s, err);
	if (fd < 0)
		return -1;
	map->qmp = give(q, fd);
	if ((fd = vfs_connect(s, "vfs.sock", err)) < 0)
		return -1;
	map->vfs = give(q, fd);
	for (int i = 0; i < s->spec.nshares; i++) {
		char name[64];
		snprintf(name, sizeof(name), "vfs-%s.sock", s->spec.shares[i].tag);
		if ((fd = vfs_connect(s, name, err)) < 0)
			return -1;
		map->shares[i] = give(q, fd);
	}
	if (s->spec.net_fd > 0) { /* passt's socketpair (aux.c): QEMU's end is now ours to pass */
		map->net = give(q, s->spec.net_fd);
		s->spec.net_fd = 0;
	}
	for (int i = 0; i < s->spec.nnets; i++) { /* the taps on named networks (netns.c) */
		map->taps[i] = give(q, s->spec.net_taps[i]);
		s->spec.net_taps[i] = 0;
	}
	for (int i = 0; i < s->spec.nspares; i++) {
		/* a placeholder: the child puts the tap it makes in QEMU's namespace here */
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			return bx_fail(err, errno, "cannot open /dev/null");
		q->spare_at[i] = q->n;
		map->spares[i] = give(q, fd);
	}
	if ((fd = open_boot_file(s, s->spec.kernel, false, err)) < 0)
		return -1;
	map->kernel = give(q, fd);
	if ((fd = open_boot_file(s, s->spec.initrd, true, err)) < 0 || (fd = shim_netns_initrd(s, fd, err)) < 0)
		return -1;
	map->initrd = give(q, fd);
	return 0;
}

static void child_fail(const char *what)
{
	dprintf(2, "boxvm-shim: cannot confine qemu: %s: %s\n", what, strerror(errno));
	_exit(127);
}

pid_t shim_qemu_spawn(struct shim *s, char *const argv[], struct shim_qemu_fds *q, struct bx_err *err)
{
	bool drop = s->qemu_uid.lock_fd >= 0;
	uid_t uid = s->qemu_uid.uid;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return bx_fail(err, errno, "fork");
	if (pid > 0) {
		setpgid(pid, pid); /* also in the child: whichever runs first */
		return pid;
	}
	shim_child_init(parent, q->err[1]);
	shim_child_join_cgroup(s);
	/* lay the fds out as 3, 4, ...: first above the target range, so no
	 * dup2 overwrites a source still to be moved */
	int high[sizeof(q->fd) / sizeof(q->fd[0])];
	for (int i = 0; i < q->n; i++)
		if ((high[i] = fcntl(q->fd[i], F_DUPFD_CLOEXEC, 3 + q->n)) < 0)
			child_fail("fcntl");
	for (int i = 0; i < q->n; i++)
		if (dup2(high[i], 3 + i) < 0) /* dup2 clears CLOEXEC */
			child_fail("dup2");
	if (close_range((unsigned)(3 + q->n), ~0U, 0) < 0)
		child_fail("close_range");
	if (drop) {
		/* a network namespace of its own, empty: QEMU's network is passt's
		 * socketpair, so it reaches neither the host's network nor its
		 * abstract Unix sockets; and no SysV IPC of the host */
		if (unshare(CLONE_NEWNET | CLONE_NEWIPC) < 0)
			child_fail("unshare");
		/* the spare NICs' taps, parked down in this namespace: they live as long as QEMU */
		for (int i = 0; i < s->spec.nspares; i++) {
			char name[IFNAMSIZ];
			snprintf(name, sizeof(name), BX_SPARE_NAME_FMT, i);
			int tap = shim_tap_create(name);
			if (tap < 0 || dup2(tap, 3 + q->spare_at[i]) < 0)
				child_fail("a spare NIC's tap");
			close(tap);
		}
		if (setgroups((size_t)q->ngroups, q->groups) < 0)
			child_fail("setgroups");
		if (setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0)
			child_fail("setresgid");
		if (setresuid(uid, uid, uid) < 0) /* clears every capability */
			child_fail("setresuid");
		shim_child_die_with(parent); /* the uid change cleared the parent-death signal */
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("no_new_privs");
	/* none of the shim's environment (the user's: it may hold tokens) */
	char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	execvpe(argv[0], argv, env); /* found on the shim's PATH */
	dprintf(2, "boxvm-shim: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The VM's cgroup (created at each boot, before passt; one failure is
 * logged and the box goes on without it). The limits come from vm.json
 * again, which `update` may have changed since the last boot. */
void shim_vm_cgroup(struct shim *s)
{
	struct bx_err e;
	char path[PATH_MAX];
	struct bx_vmspec *now = calloc(1, sizeof(*now));
	if (now && bx_path_join(path, sizeof(path), NULL, "%s/vm.json", s->spec.box_dir) == 0 &&
	    bx_vmspec_read(path, now, NULL) == 0) {
		s->spec.mem_mb = now->mem_mb;
		s->spec.nano_cpus = now->nano_cpus;
		s->spec.cpu_shares = now->cpu_shares;
		snprintf(s->spec.cpuset_cpus, sizeof(s->spec.cpuset_cpus), "%s", now->cpuset_cpus);
	}
	free(now);
	struct bx_cg_limits l = {
		.memory_max = bx_qemu_memory_ceiling(s->spec.mem_mb, !strcmp(s->spec.accel, "tcg")),
		.nano_cpus = s->spec.nano_cpus,
		.cpu_shares = s->spec.cpu_shares,
	};
	snprintf(l.cpuset, sizeof(l.cpuset), "%s", s->spec.cpuset_cpus);
	if (bx_cgroup_create(&s->qemu_cg, s->spec.id, &l, &e) < 0 || bx_cgroup_procs_open(&s->qemu_cg, &e) < 0) {
		bx_cgroup_remove(&s->qemu_cg, NULL);
		if (!s->cg_warned)
			shim_log(s, true, "the VM runs without a host cgroup: %s", e.msg);
		s->cg_warned = true;
		return;
	}
	shim_log(s, false, "the VM's cgroup %s (v%d), memory ceiling %llu MiB", s->qemu_cg.dir[0].path,
		 s->qemu_cg.version, (unsigned long long)(l.memory_max >> 20));
}

void shim_child_join_cgroup(const struct shim *s)
{
	if (bx_cgroup_join(&s->qemu_cg) < 0)
		child_fail("joining the VM's cgroup");
}

/* The VM's processes are gone: so is its cgroup. */
void shim_qemu_cgroup_remove(struct shim *s)
{
	struct bx_err e;
	if (s->qemu_cg.ndirs && bx_cgroup_remove(&s->qemu_cg, &e) < 0)
		shim_log(s, true, "%s", e.msg);
}
