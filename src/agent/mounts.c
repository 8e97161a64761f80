/* Filesystems: the initramfs basics, the virtiofs root, and the box's own
 * /proc, /sys (read-only; its /sys/fs/cgroup is cgroup.c's), /dev (Docker's: a
 * tmpfs with the standard nodes), /dev/pts, /dev/shm, /dev/mqueue after
 * switching root. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NEWROOT "/newroot"

int agent_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct mnt {
	const char *src, *target, *type;
	unsigned long flags;
	const char *data;
	bool optional; /* failure is logged, not fatal */
};

static int do_mounts(const struct mnt *m, size_t n, struct bx_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (agent_mkdir_p(m[i].target, 0755) < 0 && !m[i].optional)
			return bx_fail(err, errno, "mkdir %s", m[i].target);
		if (mount(m[i].src, m[i].target, m[i].type, m[i].flags, m[i].data) < 0) {
			if (errno == EBUSY) /* already mounted (e.g. devtmpfs automount) */
				continue;
			if (m[i].optional) {
				agent_err("mount %s on %s: %s", m[i].type, m[i].target, strerror(errno));
				continue;
			}
			return bx_fail(err, errno, "mount %s on %s", m[i].type, m[i].target);
		}
		agent_info("mounted %s on %s", m[i].type, m[i].target);
	}
	return 0;
}

int agent_mount_early(struct bx_err *err)
{
	static const struct mnt m[] = {
		{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false},
		{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false},
		{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", false},
	};
	return do_mounts(m, sizeof(m) / sizeof(m[0]), err);
}

bool agent_cmdline_has(const char *word)
{
	char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (strcmp(t, word) == 0)
			return true;
	return false;
}

/* A read-only root (--read-only, OCI root.readonly) is served read-only by
 * the host's virtiofsd, so nothing the guest does can write it. The box
 * still needs its mount points and /etc/hosts & co. made before the root
 * turns read-only (agent_root_readonly): they go to a tmpfs overlay upper
 * in guest memory, never to the host. */
/* The box's tree at `at`: the virtiofs tag "rootfs" itself, or in a pool VM
 * its "root" subdirectory, where the host mounted the box's tree when it
 * claimed the VM (the share's top is an empty directory until then, so the
 * guest never looked it up before: nothing stale is cached). */
static int mount_rootfs_share(const char *at, bool pool, unsigned long flags, struct bx_err *err)
{
	static const char share[] = "/boxvm/poolfs";
	if (!pool)
		return mount("rootfs", at, "virtiofs", flags, NULL) < 0
			       ? bx_fail(err, errno, "mount virtiofs tag rootfs on %s", at)
			       : 0;
	if (agent_mkdir_p(share, 0700) < 0)
		return bx_fail(err, errno, "mkdir %s", share);
	if (mount("rootfs", share, "virtiofs", flags, NULL) < 0)
		return bx_fail(err, errno, "mount virtiofs tag rootfs on %s", share);
	if (mount("/boxvm/poolfs/root", at, NULL, MS_BIND, NULL) < 0)
		return bx_fail(err, errno, "bind the claimed box's root onto %s", at);
	if (flags & MS_RDONLY && mount(NULL, at, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return bx_fail(err, errno, "make %s read-only", at);
	return 0;
}

static int mount_root_readonly(bool pool, struct bx_err *err)
{
	static const char lower[] = "/boxvm/lower", rw[] = "/boxvm/rw";
	if (agent_mkdir_p(lower, 0755) < 0)
		return bx_fail(err, errno, "mkdir %s", lower);
	if (agent_mkdir_p(rw, 0755) < 0)
		return bx_fail(err, errno, "mkdir %s", rw);
	if (mount_rootfs_share(lower, pool, MS_RDONLY, err) < 0)
		return -1;
	if (mount("rootfs-rw", rw, "tmpfs", 0, "mode=0755,size=16m") < 0 || mkdir("/boxvm/rw/upper", 0755) < 0 ||
	    mkdir("/boxvm/rw/work", 0755) < 0)
		return bx_fail(err, errno, "prepare the tmpfs over the read-only root");
	if (mount("overlay", NEWROOT, "overlay", 0,
		  "lowerdir=/boxvm/lower,upperdir=/boxvm/rw/upper,workdir=/boxvm/rw/work") < 0)
		return bx_fail(err, errno, "mount an overlay over the read-only root");
	return 0;
}

int agent_switch_root(bool read_only, bool pool, struct bx_err *err)
{
	if (agent_mkdir_p(NEWROOT, 0755) < 0)
		return bx_fail(err, errno, "mkdir %s", NEWROOT);
	if (read_only ? mount_root_readonly(pool, err) < 0 : mount_rootfs_share(NEWROOT, pool, 0, err) < 0)
		return -1;
	/* The early mounts belong to the initramfs; the box gets fresh ones. */
	umount2("/proc", MNT_DETACH);
	umount2("/sys", MNT_DETACH);
	umount2("/dev", MNT_DETACH);
	/* pivot_root does not work from an initramfs (rootfs can't be unmounted):
	 * move the new root over / and chroot into it, as switch_root does. */
	if (chdir(NEWROOT) < 0)
		return bx_fail(err, errno, "chdir %s", NEWROOT);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return bx_fail(err, errno, "move %s to /", NEWROOT);
	if (chroot(".") < 0)
		return bx_fail(err, errno, "chroot");
	if (chdir("/") < 0)
		return bx_fail(err, errno, "chdir /");
	agent_info("switched root to virtiofs");
	return 0;
}

/* The box's /dev is Docker's and runc's: a small tmpfs with the standard
 * nodes and links, devpts, shm and mqueue; not the guest's devtmpfs (the
 * VM's consoles, /dev/mem, the agent's own virtio port...). The agent opened
 * what it needs of the devtmpfs (its port, /dev/kmsg) before the switch. */
static int make_dev(struct bx_err *err)
{
	static const struct {
		const char *path;
		unsigned major, minor;
	} nodes[] = {
		{"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
		{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
	};
	mode_t old = umask(0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (mknod(nodes[i].path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 && errno != EEXIST) {
			umask(old);
			return bx_fail(err, errno, "mknod %s", nodes[i].path);
		}
	umask(old);
	static const char *const links[][2] = {
		{"/proc/self/fd", "/dev/fd"},         {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"},   {"/proc/self/fd/2", "/dev/stderr"},
		{"pts/ptmx", "/dev/ptmx"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			return bx_fail(err, errno, "symlink %s", links[i][1]);
	return 0;
}

int agent_mount_box(uint64_t shm_size, struct bx_err *err)
{
	/* /dev/shm: Docker's (nosuid,nodev,noexec, --shm-size, 64m by default) */
	char shm_opts[64];
	snprintf(shm_opts, sizeof(shm_opts), "mode=1777,size=%llu",
		 (unsigned long long)(shm_size ? shm_size : 64ULL << 20));
	static const struct mnt first[] = {
		{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false},
		/* read-only, as Docker's and runc's default: the box reads its
		 * devices and cgroups there but changes nothing of the VM's */
		{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, false},
		/* runc's (so Docker's) /dev: strictatime */
		{"tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=65536k", false},
	};
	const struct mnt rest[] = {
		{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5",
		 false},
		{"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_opts, true},
		{"mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true},
		/* /sys/fs/cgroup: the box's own cgroup, read-only (cgroup.c) */
	};
	if (do_mounts(first, sizeof(first) / sizeof(first[0]), err) < 0 || make_dev(err) < 0 ||
	    do_mounts(rest, sizeof(rest) / sizeof(rest[0]), err) < 0)
		return -1;
	return 0;
}
