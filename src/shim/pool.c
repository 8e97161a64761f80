/* The warm pool's side of the shim (docs/ARCHITECTURE.md, "Warm pool").
 *
 * `boxvm-shim --pool POOLDIR/vm.json` boots a VM for no box yet: its
 * rootfs share is an empty directory holding only "root", its kernel
 * command line says "boxvm.pool=1", its initramfs is the base alone, and
 * its processes run at a low priority. Once the guest answers, the shim
 * writes POOLDIR/ready; a CLI starting a box that fits renames that file
 * (one winner) and connects to RUN/pool/ID12/claim.sock with the box's
 * vm.json path and its sync pipe. The shim then becomes that box's shim
 * for good: the box's tree is mounted on "root" inside the rootfs
 * virtiofsd's own mount namespace, the runtime dir and the logs move to the
 * box's paths, the pool's refill starts (from here: the pool's own
 * namespaces), the shim joins the claimer's network namespace (a pod's for
 * boxvm-runtime, as a cold boot's shim inherits it), the VM's processes
 * move to the box's cgroup at normal priority, passt starts, and the box's
 * spec goes to the guest as a CLAIM; main then starts as after a cold
 * boot. A VM serves one box, ever: its restarts are
 * cold boots of the box's own. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/forkpipe.h"
#include "../common/paths.h"
#include "../common/safetext.h"
#include "../common/unixsock.h"
#include "../image/rootfs.h"
#include "../vm/kernel.h"
#include "../vm/pool_fit.h"
#include "shim.h"

/* what a pool VM's processes run at until claimed: the pool fills in the
 * background without starving running boxes */
#define POOL_NICE 10
/* a CLI that connected sends its request at once; this only guards a hang */
#define CLAIM_RECV_TIMEOUT_S 5

/* The boxvm that keeps the pool (DATA/pool/refill, a symlink next to the
 * VM's POOLDIR): false when there is none. */
static bool refill_binary(const char *pool_dir, char *boxvm, size_t size)
{
	char link[PATH_MAX];
	if (bx_path_join(link, sizeof(link), NULL, "%s/../refill", pool_dir) < 0)
		return false;
	ssize_t n = readlink(link, boxvm, size - 1);
	if (n <= 0)
		return false;
	boxvm[n] = '\0';
	return true;
}

/* `boxvm pool fill` in a detached process: none of the shim's sockets,
 * pipes or locks go with it, and it runs in the pool's own namespaces (the
 * shim's until a claim moves it into its claimer's network namespace). */
static void spawn_refill(const char *boxvm)
{
	if (bx_fork_detached()) {
		execl(boxvm, boxvm, "pool", "fill", (char *)NULL);
		_exit(127);
	}
}

/* The claimer's network namespace, as a cold boot's shim inherits its
 * starter's (boxvm-runtime's monitor runs in a pod's): passt and a pod's
 * listeners start in it. No descriptor: a claimer of an earlier boxvm. */
static int join_netns(struct shim *s, int fd, struct bx_err *err)
{
	struct stat want, have;
	if (fd < 0)
		return 0;
	if (fstat(fd, &want) < 0 || stat("/proc/self/ns/net", &have) < 0)
		return bx_fail(err, errno, "cannot read the box's network namespace");
	if (want.st_dev == have.st_dev && want.st_ino == have.st_ino)
		return 0;
	if (setns(fd, CLONE_NEWNET) < 0)
		return bx_fail(err, errno, "cannot join the box's network namespace");
	shim_log(s, false, "in the claimer's network namespace");
	return 0;
}

int shim_pool_listen(struct shim *s, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/claim.sock", s->spec.run_dir) < 0 ||
	    (s->pool_fd = bx_unix_listen(path, 4, SOCK_NONBLOCK, err)) < 0)
		return -1;
	return 0;
}

/* the VM's processes, each a process group of its own (every thread): at
 * POOL_NICE until claimed, then back at 0; the shim itself never waits
 * behind them, so a claim is answered at once whatever the load */
static void set_vm_priority(struct shim *s, int nice)
{
	if (s->qemu_pid > 0 && setpriority(PRIO_PGRP, s->qemu_pid, nice) < 0)
		shim_log(s, true, "cannot set QEMU's priority: %s", strerror(errno));
	for (int i = 0; i < s->naux; i++)
		if (!s->aux[i].exited && setpriority(PRIO_PGRP, s->aux[i].pid, nice) < 0)
			shim_log(s, true, "cannot set %s's priority: %s", s->aux[i].what, strerror(errno));
}

void shim_pool_booted(struct shim *s)
{
	set_vm_priority(s, POOL_NICE);
}

void shim_pool_guest_up(struct shim *s)
{
	if (!s->pooled || s->pool_ready)
		return;
	s->pool_ready = true;
	char path[PATH_MAX], pid[24];
	struct bx_err err;
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (bx_path_join(path, sizeof(path), &err, "%s/ready", s->spec.box_dir) < 0 ||
	    bx_write_file_atomic(path, pid, (size_t)n, 0600, &err) < 0)
		shim_log(s, true, "pool VM: %s", err.msg);
	shim_log(s, true, "pool VM ready after %lld ms", bx_mono_ms() - s->t0_ms);
}

/* In the mount helper, inside the virtiofsd's namespace: a file share as a
 * cold boot's virtiofsd stages it (virtiofsd.c): a small tmpfs on dir
 * holding only the file, the clone (fd) bound onto it, the tmpfs made
 * read-only (the guest may write the file, unless :ro, but add nothing
 * beside it). "" or the step that failed. */
static const char *stage_file(int fd, const char *dir, const char *name)
{
	char target[PATH_MAX];
	if (mount("boxvm-file", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k,nr_inodes=4") < 0)
		return "mount a tmpfs";
	if (snprintf(target, sizeof(target), "%s/%s", dir, name) >= (int)sizeof(target)) {
		errno = ENAMETOOLONG;
		return "stage the file";
	}
	int f = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (f < 0)
		return "create the file's mount point";
	close(f);
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return "move_mount";
	if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return "make the file's tmpfs read-only";
	return "";
}

/* In a child: a clone of the host tree at source (its mount, submounts
 * too; nosuid, nodev, read-only when ro) onto target in a virtiofsd's own
 * mount namespace, where its served directory is "/" (its sandbox pivoted
 * there). The clone is made before entering, since host paths are not
 * visible in there; mounts in that namespace go with it. A share's source
 * is checked as a cold boot's virtiofsd checks it (virtiofsd.c): no
 * symlink put in its place since the box was made, a directory -- or, for a
 * file share (file), a regular file, staged in target as the cold boot
 * stages it. */
static int mount_into_virtiofsd(pid_t vfs_pid, const char *source, const char *target, bool ro, bool share,
				bool file, struct bx_err *err)
{
	char ns[64];
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)vfs_pid);
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return bx_fail(err, errno, "fork");
	}
	if (pid == 0) {
		close(rep[0]);
		char msg[PATH_MAX + 256], link[32], now[PATH_MAX];
		const char *what = "open";
		struct stat st;
		int src = open(source, O_PATH | O_NOFOLLOW | O_CLOEXEC), fd = -1;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", src);
		ssize_t n = src >= 0 ? readlink(link, now, sizeof(now) - 1) : -1;
		if (n >= 0)
			now[n] = '\0';
		if (src >= 0 && share &&
		    (n < 0 || strcmp(now, source) || fstat(src, &st) < 0 || !(file ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode)))) {
			snprintf(msg, sizeof(msg), "cannot share %s: it has been replaced by a symlink or another kind of "
						   "file since the box was created; remove the box and create it again", source);
			if (write(rep[1], msg, strlen(msg)) < 0)
				_exit(1);
			_exit(1);
		}
		int nsfd = src < 0 ? -1 : open(ns, O_RDONLY | O_CLOEXEC);
		if (src >= 0 && nsfd < 0)
			what = "open the virtiofsd's mount namespace";
		if (nsfd >= 0 && (fd = (int)syscall(SYS_open_tree, src, "",
						    AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)) < 0)
			what = "open_tree";
		struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0)};
		if (fd >= 0 && syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			what = "mount_setattr", fd = -1;
		if (fd >= 0 && setns(nsfd, CLONE_NEWNS) < 0)
			what = "setns", fd = -1;
		if (fd >= 0 && file && *(what = stage_file(fd, target, strrchr(source, '/') + 1)))
			fd = -1;
		else if (fd >= 0 && !file && syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			what = "move_mount", fd = -1;
		if (fd >= 0)
			_exit(0);
		snprintf(msg, sizeof(msg), "cannot mount %s for the pool VM (%s): %s", source, what, strerror(errno));
		if (write(rep[1], msg, strlen(msg)) < 0)
			_exit(1);
		_exit(1);
	}
	close(rep[1]);
	char msg[sizeof(err->msg)];
	ssize_t n;
	while ((n = read(rep[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	close(rep[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n > 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		msg[n > 0 ? n : 0] = '\0';
		return bx_fail(err, 0, "%s", n > 0 ? msg : "the mount helper died");
	}
	return 0;
}

/* The pool VM's virtiofsd serving share tag (a spare of the pool's), -1: none */
static pid_t share_virtiofsd(const struct shim *s, const char *tag)
{
	char what[32];
	snprintf(what, sizeof(what), "virtiofsd %s", tag);
	for (int i = 0; i < s->naux; i++)
		if (!s->aux[i].exited && !strcmp(s->aux[i].what, what))
			return s->aux[i].pid;
	return -1;
}

/* Each of the box's shares onto "s" in the spare share of its tag (the
 * agent of a pool VM finds it there, volumes.c). */
static int mount_shares(const struct shim *s, const struct bx_vmspec *box, struct bx_err *err)
{
	for (int i = 0; i < box->nshares; i++) {
		const struct bx_share *sh = &box->shares[i];
		pid_t vfs = share_virtiofsd(s, sh->tag);
		if (vfs < 0)
			return bx_fail(err, 0, "the pool VM has no share %s", sh->tag);
		if (mount_into_virtiofsd(vfs, sh->source, "/s", sh->ro, true, sh->file, err) < 0)
			return -1;
	}
	return 0;
}

static pid_t rootfs_virtiofsd(const struct shim *s)
{
	for (int i = 0; i < s->naux; i++)
		if (s->aux[i].rootfs && !s->aux[i].exited)
			return s->aux[i].pid;
	return -1;
}

/* RUN/pool once its last VM is gone (a later one makes it again) */
static void rmdir_parent(const char *path)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		rmdir(parent); /* ENOTEMPTY: other pool VMs */
	}
}

/* The files of the VM's boot (written by QEMU, passt and us) move from the
 * pool's directory to the box's: the processes keep their open files. */
static void move_logs(struct shim *s, const char *to_dir)
{
	static const char *const names[] = {"console.log", "qemu.log", "shim.log", "passt.log"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char from[PATH_MAX], to[PATH_MAX];
		if (bx_path_join(from, sizeof(from), NULL, "%s/%s", s->spec.box_dir, names[i]) == 0 &&
		    bx_path_join(to, sizeof(to), NULL, "%s/%s", to_dir, names[i]) == 0 && rename(from, to) < 0 &&
		    errno != ENOENT)
			shim_log(s, true, "cannot move %s to the box: %s", names[i], strerror(errno));
	}
}

/* The VM's processes into the box's cgroup (made with the box's limits),
 * at normal priority; the pool VM's cgroup goes. */
static int move_processes(struct shim *s, struct bx_err *err)
{
	struct bx_cgroup old = s->qemu_cg;
	memset(&s->qemu_cg, 0, sizeof(s->qemu_cg));
	shim_vm_cgroup(s); /* the box's, its procs files open */
	if (old.ndirs && s->qemu_cg.ndirs && bx_cgroup_move_all(&old, &s->qemu_cg) < 0)
		shim_log(s, true, "cannot move every process of the VM to the box's cgroup: %s", strerror(errno));
	/* passt now, with the box's ports, into that cgroup like the rest */
	int rc = 0;
	if (s->pool_passt_fd >= 0) {
		rc = shim_spawn_passt(s, s->pool_passt_fd, err);
		s->pool_passt_fd = -1;
	}
	bx_cgroup_procs_close(&s->qemu_cg);
	if (old.ndirs && s->qemu_cg.ndirs)
		bx_cgroup_remove(&old, NULL);
	set_vm_priority(s, 0);
	return rc;
}

/* The box's spec and network for the guest's CLAIM, on an exec channel
 * (the answer comes to link.c, shim_pool_claim_answer). */
static int send_claim(struct shim *s, struct bx_err *err)
{
	uint8_t *payload = NULL;
	size_t len = 0;
	char net[4096];
	int nl = bx_vm_netconf(&s->spec, net, sizeof(net));
	if (nl < 0)
		return bx_fail(err, 0, "the box's network configuration is too long");
	int rc = bx_claim_encode(net, (size_t)nl, s->claim_spec, s->claim_spec_len, &payload, &len, err);
	free(s->claim_spec);
	s->claim_spec = NULL;
	if (rc < 0)
		return -1;
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, BX_M_CLAIM, (uint32_t)len);
	struct bx_chan *c = NULL;
	/* sent once the guest accepts the channel, as its credit allows (shim_pool_claim_flush) */
	rc = bx_bytes_push(&s->claim_out, hdr, sizeof(hdr), err) < 0 || bx_bytes_push(&s->claim_out, payload, len, err) < 0 ||
		     !(c = bx_mux_open(&s->mux, BX_PORT_EXEC, err))
	     ? -1
	     : 0;
	free(payload);
	if (c)
		s->claim_id = c->id;
	return rc;
}

void shim_pool_claim_flush(struct shim *s)
{
	struct bx_chan *c = s->claim_id ? bx_mux_chan(&s->mux, s->claim_id) : NULL;
	size_t left = bx_bytes_size(&s->claim_out);
	if (!c || c->state != BX_CH_OPEN || !left)
		return;
	size_t room = bx_mux_send_room(&s->mux, c);
	size_t n = bx_mux_send(&s->mux, c, bx_bytes_data(&s->claim_out), left < room ? left : room);
	bx_bytes_pop(&s->claim_out, n);
}

/* Everything that makes this shim the box's; on failure before the first
 * irreversible step the VM is simply ended (the CLI boots the box cold). */
static int adopt(struct shim *s, const char *vmjson, int sync_fd, int netns_fd, struct bx_err *err)
{
	struct bx_vmspec *box = calloc(1, sizeof(*box));
	if (!box)
		return bx_fail(err, ENOMEM, "out of memory");
	char why[128];
	int rc = bx_vmspec_read(vmjson, box, err);
	if (rc == 0 && !bx_pool_fits(&s->spec, box, why, sizeof(why)))
		rc = bx_fail(err, 0, "the box does not fit this pool VM: %s", why);
	/* the spec read now: a box made by another agent than this VM's is refused before anything moves */
	if (rc == 0)
		rc = bx_initramfs_box_spec(s->spec.initrd, box->initrd, &s->claim_spec, &s->claim_spec_len, err);
	pid_t vfs = rootfs_virtiofsd(s);
	if (rc == 0 && vfs < 0)
		rc = bx_fail(err, 0, "the pool VM's virtiofsd is gone");
	/* bx_rootfs_ensure: the overlay root is gone after a host reboot; mount it again */
	if (rc == 0)
		rc = bx_rootfs_ensure(box->box_dir, err);
	if (rc == 0)
		rc = mount_into_virtiofsd(vfs, box->rootfs, "/root", box->rootfs_ro, false, false, err);
	if (rc == 0)
		rc = mount_shares(s, box, err);
	/* the runtime dir with its sockets (QMP's, virtiofsd's) becomes the box's */
	if (rc == 0 && access(box->run_dir, F_OK) == 0)
		rc = bx_rm_rf(box->run_dir, err);
	if (rc == 0 && rename(s->spec.run_dir, box->run_dir) < 0)
		rc = bx_fail(err, errno, "cannot move %s to %s", s->spec.run_dir, box->run_dir);
	if (rc == 0)
		rmdir_parent(s->spec.run_dir);
	if (rc < 0) {
		free(box);
		free(s->claim_spec);
		s->claim_spec = NULL;
		return -1;
	}
	char pool_dir[PATH_MAX], claim_sock[PATH_MAX], boxvm[PATH_MAX];
	snprintf(pool_dir, sizeof(pool_dir), "%s", s->spec.box_dir);
	bool refill = refill_binary(pool_dir, boxvm, sizeof(boxvm));
	move_logs(s, box->box_dir);
	/* the shares' directories stay while the VM lives: removing "root" or
	 * "s" on the host would lazily unmount the box's trees in virtiofsd's
	 * namespaces too */
	static const char *const keep[][2] = {{"share", "pool-share"}, {"shares", "pool-shares"}};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		char from[PATH_MAX], to[PATH_MAX];
		if (bx_path_join(from, sizeof(from), NULL, "%s/%s", pool_dir, keep[i][0]) == 0 &&
		    bx_path_join(to, sizeof(to), NULL, "%s/%s", box->box_dir, keep[i][1]) == 0 &&
		    bx_rm_rf(to, NULL) == 0 /* an earlier pool VM's, gone with it */ && rename(from, to) < 0 &&
		    errno != ENOENT)
			shim_log(s, true, "cannot move the pool VM's %s to the box: %s", keep[i][0], strerror(errno));
	}
	/* this boot's own descriptors stay; the rest is the box's from now on */
	memcpy(box->net_taps, s->spec.net_taps, sizeof(box->net_taps));
	box->net_fd = s->spec.net_fd;
	box->nspares = s->spec.nspares;
	for (int i = 0; i < s->naux; i++)
		s->aux[i].sock[0] = '\0'; /* paths under the old runtime dir */
	s->spec = *box;
	free(box);
	s->pooled = false;
	close(s->pool_fd);
	s->pool_fd = -1;
	if (bx_path_join(claim_sock, sizeof(claim_sock), NULL, "%s/claim.sock", s->spec.run_dir) == 0)
		unlink(claim_sock);
	bx_rm_rf(pool_dir, NULL);
	s->sync_fd = sync_fd;
	s->t0_ms = bx_mono_ms();
	shim_log(s, true, "claimed by box %s", s->spec.id);
	/* one VM fewer: its replacement boots meanwhile, from here (not from
	 * the claimer, whose namespaces may be a pod's) */
	if (refill)
		spawn_refill(boxvm);
	shim_lc_init(s);
	shim_health_init(s);
	if (join_netns(s, netns_fd, err) < 0 || move_processes(s, err) < 0 || shim_lc_booting(s, err) < 0 || shim_listen(s, err) < 0 ||
	    shim_exec_listen(s, err) < 0 || send_claim(s, err) < 0)
		return -2; /* the box's now: it fails as a boot would */
	return 0;
}

void shim_pool_accept(struct shim *s)
{
	int conn = accept4(s->pool_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	struct timeval tv = {.tv_sec = CLAIM_RECV_TIMEOUT_S};
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[PATH_MAX + 8];
	int fds[2]; /* the claimer's sync pipe, its network namespace */
	struct bx_err err = {0};
	ssize_t n = bx_unix_recv_fds(conn, req, sizeof(req) - 1, fds, 2, &err);
	int sync_fd = fds[0];
	_cleanup_close_ int netns_fd = fds[1];
	if (n <= 6 || sync_fd < 0 || memcmp(req, "claim ", 6)) {
		if (sync_fd >= 0)
			close(sync_fd);
		close(conn);
		shim_log(s, true, "pool VM: a bad claim request");
		return;
	}
	req[n] = '\0';
	/* The claimer share-locks POOLDIR/claimed until its claim is over; so
	 * does this shim from now on, for good: `pool fill` stops a claimed VM
	 * whose lock nobody holds (its claimer died before it got here). */
	char claimed[PATH_MAX];
	if (s->pool_claimed_fd < 0 && bx_path_join(claimed, sizeof(claimed), NULL, "%s/claimed", s->spec.box_dir) == 0 &&
	    (s->pool_claimed_fd = open(claimed, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0)
		flock(s->pool_claimed_fd, LOCK_SH);
	int rc = adopt(s, req + 6, sync_fd, netns_fd, &err);
	char reply[sizeof(err.msg) + 8];
	int len = snprintf(reply, sizeof(reply), rc == -1 ? "no: %s\n" : "ok\n", err.msg);
	if (send(conn, reply, (size_t)len, MSG_NOSIGNAL) < 0)
		shim_log(s, true, "pool VM: the claiming CLI left: %s", strerror(errno));
	close(conn);
	if (rc == -1) {
		close(sync_fd);
		shim_log(s, true, "pool VM: claim refused: %s", err.msg);
		shim_event(s, SHIM_EV_FATAL, &(struct shim_ev_arg){.code = BX_EXIT_ERROR, .msg = "claim refused"});
		return;
	}
	if (rc == -2) {
		shim_log(s, true, "claimed box: %s", err.msg);
		shim_event(s, SHIM_EV_FATAL, &(struct shim_ev_arg){.code = BX_EXIT_ERROR, .msg = err.msg});
		return;
	}
	/* as main() after a cold boot's set-up: an attaching client is told now */
	if (!s->lc.have_state || !s->ever_attached)
		shim_sync_report(&s->sync_fd, 0, NULL);
}

void shim_pool_claim_answer(struct shim *s, const uint8_t *payload, size_t len)
{
	s->claim_id = 0;
	bx_bytes_free(&s->claim_out);
	if (len == 0) {
		struct bx_err err;
		if (shim_link_open_main(s, &err) < 0)
			shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = err.msg});
		return;
	}
	char msg[BX_MSG_ERROR_TEXT_MAX + 64], text[BX_MSG_ERROR_TEXT_MAX];
	bx_safe_text(text, sizeof(text), (const char *)payload, len < sizeof(text) ? len : sizeof(text) - 1);
	snprintf(msg, sizeof(msg), "the pool VM could not set up the box: %s", text);
	shim_event(s, SHIM_EV_LINK_ERROR, &(struct shim_ev_arg){.msg = msg});
}

void shim_pool_gone(struct shim *s)
{
	char boxvm[PATH_MAX];
	struct bx_err err;
	/* refilled when it died by itself, not when told to stop (drain, a
	 * smaller size), nor when it never came up (a replacement would likely
	 * fail alike) */
	bool refill = s->pool_ready && s->end_reason != END_KILLED && refill_binary(s->spec.box_dir, boxvm, sizeof(boxvm));
	if (bx_rm_rf(s->spec.box_dir, &err) < 0)
		shim_log(s, true, "pool VM: %s", err.msg);
	rmdir_parent(s->spec.run_dir);
	if (refill)
		spawn_refill(boxvm);
}
