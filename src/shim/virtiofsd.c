/* virtiofsd for the box's rootfs and for each bind mount / volume share,
 * confined so that a hostile guest (root in the VM) gets no more than it was
 * given.
 *
 * Each virtiofsd runs in a private mount namespace of its own, set up
 * between fork and exec, where RUN/vfs.d (the same path in every namespace)
 * holds exactly what it serves: a bind of the source directory, or for a
 * file a small read-only tmpfs holding only a bind of that file (never its
 * directory, never a link to its inode). The bind is nosuid,nodev, and
 * read-only when the guest was given the share read-only: a guest that
 * remounts its side read-write still cannot write, since virtiofsd itself
 * cannot (its own sandbox binds and pivots into this tree, and a bind keeps
 * the read-only flag).
 *
 * Shares also lose what could plant privilege on the host: the mknod,
 * setfcap and fsetid capabilities (no device nodes, no file capabilities,
 * setgid bits cleared on writes) and, by a seccomp filter, any chmod,
 * create, mkdir or mknod whose mode has a setuid or setgid bit. The rootfs
 * keeps both (images and package managers make setuid files and device
 * nodes): its host side lives under the 0700 data dir and its overlay is
 * mounted nosuid,nodev (rootfs.c).
 *
 * virtiofsd's option strings carry no path a user chose: the served path is
 * fixed, and RUN, which is in it, is escaped (helperopt.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/helperopt.h"
#include "../common/paths.h"
#include "shim.h"

/* What one virtiofsd serves. */
struct vfs_job {
	const char *source;    /* host directory, or file when file_name is set */
	const char *file_name; /* a file share: the name the guest finds it under */
	bool ro;
	bool share;            /* a bind mount or volume (not the rootfs): no mknod, no setuid/setgid bits */
	const char *cache;     /* "cache=auto" | "cache=always" */
	const char *sock;      /* the vhost-user socket it creates */
};

static int child_fail(char *msg, size_t size, const char *what, const char *path)
{
	snprintf(msg, size, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

/* Bind src onto dst with attrs (MOUNT_ATTR_*): recursive binds change every
 * submount too, so none stays writable or suid under a read-only share. */
static int bind_confined(const char *src, const char *dst, unsigned long long attrs, bool recursive)
{
	if (mount(src, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return -1;
	if (recursive) {
		struct mount_attr a = {.attr_set = attrs};
		if (mount_setattr(AT_FDCWD, dst, AT_RECURSIVE, &a, sizeof(a)) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
		/* before Linux 5.12 one mount changes at a time: serve no submount rather than a writable one */
		if (umount2(dst, MNT_DETACH) < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return -1;
	}
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (attrs & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0);
	return mount(NULL, dst, NULL, flags, NULL);
}

/* In a share's child: the source as the box was given it. Its path was
 * resolved when the box was made (bx_mounts_resolve): a symlink in it now,
 * or another kind of file, means it was changed since (a guest with a
 * writable share of a parent directory can do that between two starts), and
 * following it could hand the guest any host path. The bind is made from
 * the fd checked here (/proc/self/fd/N), so nothing can change in between. */
static int open_share_source(const struct vfs_job *j, char *fd_path, size_t fd_path_size, char *msg, size_t size)
{
	int fd = open(j->source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return child_fail(msg, size, "cannot open", j->source);
	char link[32], now[PATH_MAX];
	struct stat st;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, now, sizeof(now) - 1);
	if (n < 0 || fstat(fd, &st) < 0)
		return child_fail(msg, size, "cannot check", j->source);
	now[n] = '\0';
	if (strcmp(now, j->source) || (j->file_name ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode))) {
		snprintf(msg, size, "cannot share %s: it has been replaced by a symlink or another kind of file since the "
				    "box was created; remove the box and create it again", j->source);
		return -1;
	}
	snprintf(fd_path, fd_path_size, "%s", link); /* the fd stays open until exec (close-on-exec) */
	return 0;
}

/* In the child: a private mount namespace where stage holds what j serves. */
static int stage_mounts(const struct vfs_job *j, const char *stage, char *msg, size_t size)
{
	if (unshare(CLONE_NEWNS) < 0)
		return child_fail(msg, size, "cannot make a mount namespace for virtiofsd of", j->source);
	/* nothing propagates either way: the host never sees these mounts, and they go with the namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return child_fail(msg, size, "cannot make the mounts private for virtiofsd of", j->source);
	char src[PATH_MAX];
	snprintf(src, sizeof(src), "%s", j->source);
	if (j->share && open_share_source(j, src, sizeof(src), msg, size) < 0)
		return -1;
	unsigned long long attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (j->ro ? MOUNT_ATTR_RDONLY : 0);
	if (!j->file_name)
		return bind_confined(src, stage, attrs, true) < 0 ? child_fail(msg, size, "cannot bind-mount", j->source)
								   : 0;
	char target[PATH_MAX];
	if (mount("boxvm-file", stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k,nr_inodes=4") < 0)
		return child_fail(msg, size, "cannot mount a tmpfs on", stage);
	if (snprintf(target, sizeof(target), "%s/%s", stage, j->file_name) >= (int)sizeof(target)) {
		errno = ENAMETOOLONG;
		return child_fail(msg, size, "cannot stage", j->source);
	}
	int fd = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return child_fail(msg, size, "cannot create", target);
	close(fd);
	if (bind_confined(src, target, attrs, false) < 0)
		return child_fail(msg, size, "cannot bind-mount", j->source);
	/* the guest may write the file (unless :ro) but add nothing beside it */
	if (mount(NULL, stage, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return child_fail(msg, size, "cannot make read-only", stage);
	return 0;
}

/* In a share's child: EPERM for any mode with a setuid or setgid bit, on
 * every call by which virtiofsd sets a mode (the filter stacks under
 * virtiofsd's own). openat2 hides its mode in a struct the filter cannot
 * read: ENOSYS sends callers to openat. */
static int forbid_set_id_modes(char *msg, size_t size)
{
	static const struct {
		const char *name;
		unsigned mode_arg;
	} calls[] = {{"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2}, {"open", 2}, {"openat", 3},
		     {"creat", 1}, {"mkdir", 1}, {"mkdirat", 2}, {"mknod", 1}, {"mknodat", 2}};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < sizeof(calls) / sizeof(calls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(calls[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* fchmodat2 is newer than some libseccomp */
		for (unsigned bit = S_ISGID; rc == 0 && bit <= S_ISUID; bit <<= 1)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
					      (struct scmp_arg_cmp){calls[i].mode_arg, SCMP_CMP_MASKED_EQ, bit, bit});
	}
	int openat2 = seccomp_syscall_resolve_name("openat2");
	if (rc == 0 && openat2 != __NR_SCMP_ERROR)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), openat2, 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(msg, size, "cannot install the seccomp filter of virtiofsd: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static pid_t spawn(struct shim *s, const struct vfs_job *j, struct bx_err *err)
{
	char bin[PATH_MAX] = "/usr/lib/qemu/virtiofsd", stage[PATH_MAX], sockopt[PATH_MAX + 16], srcopt[2 * PATH_MAX + 16];
	const char *alt = getenv("BOXVM_VIRTIOFSD"); /* another virtiofsd binary (tests, custom builds) */
	if (alt && *alt && bx_path_join(bin, sizeof(bin), err, "%s", alt) < 0)
		return -1;
	if (bx_path_join(stage, sizeof(stage), err, "%s/vfs.d", s->spec.run_dir) < 0 ||
	    bx_mkdir_p(stage, 0700, err) < 0 ||
	    bx_path_join(sockopt, sizeof(sockopt), err, "--socket-path=%s", j->sock) < 0 ||
	    bx_fuse_opt(srcopt, sizeof(srcopt), "source", stage, err) < 0)
		return -1;
	/* xattr: images carry file capabilities and security.* attributes (shares
	 * cannot set security.capability: no setfcap). The log level keeps the
	 * per-box log quiet unless debugging. */
	char *argv[] = {bin, sockopt, "-o", srcopt, "-o", (char *)j->cache, "-o", "xattr", "-o",
			s->debug ? "log_level=info" : "log_level=err", j->share ? "-o" : NULL,
			"modcaps=-mknod:-setfcap:-fsetid", NULL};
	int report[2]; /* the child's one-line reason when it cannot exec; EOF once it did */
	if (pipe2(report, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		shim_child_init(parent, s->log_fd);
		shim_child_join_cgroup(s);
		char msg[PATH_MAX + 128];
		if (stage_mounts(j, stage, msg, sizeof(msg)) == 0 && (!j->share || forbid_set_id_modes(msg, sizeof(msg)) == 0)) {
			execvp(bin, argv);
			snprintf(msg, sizeof(msg), "cannot execute %s: %s", bin, strerror(errno));
		}
		if (write(report[1], msg, strlen(msg)) < 0)
			_exit(126);
		_exit(126);
	}
	int fork_errno = errno;
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		return bx_fail(err, fork_errno, "fork");
	}
	setpgid(pid, pid); /* also in the child: whichever runs first */
	char msg[PATH_MAX + 128];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(report[0], msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(msg) - 1)
			break;
	}
	close(report[0]);
	if (len == 0)
		return pid;
	msg[len] = '\0';
	waitpid(pid, NULL, 0); /* it exits right after its report */
	return bx_fail(err, 0, "%s", msg);
}

pid_t shim_spawn_rootfs_virtiofsd(struct shim *s, const char *sock, struct bx_err *err)
{
	/* cache=always: a box's rootfs (its own overlay upper over read-only
	 * layers) changes only through the guest, so the guest may keep what it
	 * read (pages across opens, entries and attributes without revalidation).
	 * Under TCG that makes an exec of /bin/true ~10x cheaper in the guest
	 * (bench/exec). A rootfs the host may change meanwhile (boxvm-runtime's
	 * bundle) gets cache=auto: a 1 s revalidation. */
	struct vfs_job j = {.source = s->spec.rootfs, .ro = s->spec.rootfs_ro, .cache = bx_vmspec_rootfs_cache(&s->spec),
			    .sock = sock};
	return spawn(s, &j, err);
}

pid_t shim_spawn_share_virtiofsd(struct shim *s, const struct bx_share *sh, const char *sock, struct bx_err *err)
{
	/* cache=auto: changes made on the host show up in the box within a second */
	struct vfs_job j = {.source = sh->source,
			    .file_name = sh->file ? strrchr(sh->source, '/') + 1 : NULL,
			    .ro = sh->ro,
			    .share = true,
			    .cache = "cache=auto",
			    .sock = sock};
	return spawn(s, &j, err);
}
