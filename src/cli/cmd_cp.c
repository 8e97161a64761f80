/* boxvm cp [-a] [-L] SRC BOX:DEST | BOX:SRC DEST: files and directories
 * both ways. With the box running, as a tar stream through an exec of the
 * guest's tar (busybox has one; box/cp_guest.c, shared with the Engine
 * API): into the box the host's tar packs SRC; out of it the guest's
 * stream is untrusted and unpacked in-process by bx_tar_extract_fd (no
 * setuid bits, devices, ownership or paths leaving DEST; see
 * tar_extract.h). A box that is not running is copied to and from on the
 * host (box/cp_host.c, box/cp_root.c), its start held off meanwhile.
 *
 * Docker's rules: a DEST that is an existing directory receives SRC inside
 * it (a directory merged into one of the same name), otherwise DEST is
 * SRC's new name (its parent must exist); "SRC/." copies what the directory
 * SRC holds. Into a box owners and modes are kept, out of it files are the
 * caller's. Nothing is half-written at DEST: the copy is made in a
 * temporary directory beside it and then laid down. "-" as SRC reads a tar
 * from stdin; as DEST writes one to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../box/cp_guest.h"
#include "../box/cp_root.h"
#include "../client/exec_client.h"
#include "../common/cleanup.h"
#include "../common/forkpipe.h"
#include "../common/paths.h"
#include "../common/tar_extract.h"
#include "../image/rootfs.h"
#include "../store/state.h"
#include "../vm/vmspec.h"
#include "args.h"
#include "cli.h"
#include "../box/cp_host.h"

/* "BOX:PATH" -> box ref + path; a local path may contain ':' after a '/' (Docker's rule) */
static bool split_box(char *arg, char **box, char **path)
{
	char *colon = strchr(arg, ':');
	if (!colon || colon == arg)
		return false;
	char *slash = strchr(arg, '/');
	if (slash && slash < colon)
		return false;
	*colon = '\0';
	*box = arg;
	*path = colon + 1;
	return true;
}

/* host tar with its stdin or stdout on a pipe; returns the pid, our end in *fd */
static pid_t spawn_tar(char *const argv[], bool we_write, int *fd, struct bx_err *err)
{
	pid_t pid = bx_fork_pipe(fd, !we_write, err);
	if (pid == 0) {
		dup2(*fd, we_write ? 0 : 1);
		execvp("tar", argv);
		fprintf(stderr, "boxvm: cp: cannot run tar: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

static int wait_tar(pid_t pid, struct bx_err *err)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return bx_fail(err, 0, "cp: the host's tar failed (see its message above)");
	return 0;
}

/* The guest's tar stream is unpacked by a child of ours (libarchive resolves
 * against the working directory, which the child may change freely) reading
 * the other end of *fd; its verdict comes back through a shared page. */
struct extractor {
	pid_t pid;
	struct bx_err *verdict; /* MAP_SHARED */
};

static int spawn_extractor(const char *dir, struct extractor *x, int *fd, struct bx_err *err)
{
	x->verdict = mmap(NULL, sizeof(*x->verdict), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x->verdict == MAP_FAILED) {
		x->verdict = NULL;
		return bx_fail(err, errno, "mmap");
	}
	x->pid = bx_fork_pipe(fd, false, err);
	if (x->pid < 0)
		return -1;
	if (x->pid == 0)
		_exit(bx_tar_extract_fd(*fd, dir, "cp", x->verdict) < 0 ? 1 : 0);
	return 0;
}

/* 0 when the extractor unpacked everything; -1 with its reason otherwise */
static int wait_extractor(struct extractor *x, struct bx_err *err)
{
	int st;
	while (waitpid(x->pid, &st, 0) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (x->verdict->msg[0]) {
		*err = *x->verdict;
		return -1;
	}
	return bx_fail(err, 0, "cp: unpacking the box's archive failed (status %d)", st);
}

static int box_to_host(const struct bx_box_record *box, const char *src, const char *dst, bool follow,
		       struct bx_err *err)
{
	struct bx_cp_path sp;
	bx_cp_path_split(src, &sp);
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = 1, .err_fd = 2, .what = "box"};
	if (!strcmp(dst, "-")) {
		int code = bx_cp_guest_pack(box, sp.dir, sp.name, follow, sp.contents, &o, err);
		return code < 0 ? -1 : code ? bx_fail(err, 0, "cp: copying %s out of the box failed", src) : 0;
	}
	struct bx_cp_dest d;
	char tmpname[32];
	int rc = -1, tmp = -1, where = -1;
	struct extractor x = {.pid = -1};
	if (bx_cp_dest_open_host(dst, &d, err) < 0)
		goto out;
	where = d.dir >= 0 ? d.dir : d.parent;
	if ((tmp = bx_cp_tmpdir(where, tmpname, err)) < 0)
		goto out;
	char at[64];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", tmp);
	if (spawn_extractor(at, &x, &o.out_fd, err) < 0)
		goto out;
	int code = bx_cp_guest_pack(box, sp.dir, sp.name, follow, sp.contents, &o, err);
	close(o.out_fd);
	/* the extractor's verdict first: when it refused the archive, the exec only saw a broken pipe */
	struct bx_err xerr = {0};
	if (wait_extractor(&x, &xerr) < 0) {
		*err = xerr;
		goto out;
	}
	if (code < 0)
		goto out;
	if (code) {
		bx_fail(err, 0, "cp: copying %s out of box %.12s failed", src, box->id);
		goto out;
	}
	rc = bx_cp_place(tmp, &sp, &d, err);
out:
	if (tmp >= 0) {
		close(tmp);
		bx_rm_at(where, tmpname);
	}
	bx_cp_dest_close(&d);
	if (x.verdict)
		munmap(x.verdict, sizeof(*x.verdict));
	return rc;
}

static int host_to_box(const struct bx_box_record *box, const char *src, const char *dst, bool follow,
		       struct bx_err *err)
{
	struct bx_cp_path sp;
	bool from_stdin = !strcmp(src, "-");
	struct stat st;
	if (!from_stdin && (follow ? stat(src, &st) : lstat(src, &st)) < 0)
		return bx_fail(err, errno, "cp: %s", src);
	if (!from_stdin && (bx_cp_path_split(src, &sp), sp.contents) && !S_ISDIR(st.st_mode))
		return bx_fail(err, ENOTDIR, "cp: %s", src);
	int in_fd = 0;
	pid_t pid = -1;
	if (!from_stdin) {
		/* owners and modes kept (numeric: the box's names are not the host's), as docker cp does */
		char full[PATH_MAX * 2];
		snprintf(full, sizeof(full), "%s/%s", sp.dir, sp.name);
		char *targv[] = {"tar", follow ? "-chf" : "-cf", "-", "-C", sp.contents ? full : sp.dir, "--numeric-owner",
				 "--", sp.contents ? "." : sp.name, NULL};
		pid = spawn_tar(targv, false, &in_fd, err);
		if (pid < 0)
			return -1;
	}
	struct bx_relay_opts o = {.in_fd = in_fd, .out_fd = 1, .err_fd = 2, .what = "box"};
	int code = bx_cp_guest_unpack(box, dst, from_stdin ? "" : sp.contents ? "." : sp.name, &o, err);
	if (pid > 0) {
		close(in_fd);
		int trc = wait_tar(pid, code < 0 ? NULL : err);
		if (code == 0 && trc < 0)
			return -1;
	}
	if (code < 0)
		return -1;
	if (code)
		return bx_fail(err, 0, "cp: copying into box %.12s failed", box->id);
	return 0;
}

/* A box that is not running is copied to and from on the host, with its
 * start held off (bx_state_start_lock) so that no VM writes it meanwhile;
 * one that runs (or starts before we hold the lock) through its guest. */
static int copy(const char *ref, const char *src, const char *dst, bool into_box, bool follow, struct bx_err *err)
{
	struct bx_paths p;
	struct bx_box_record box;
	if (bx_paths_init(&p, err) < 0 || bx_state_lookup(&p, ref, &box, err) < 0)
		return -1;
	if (box.status == BX_BOX_REMOVING)
		return bx_fail(err, 0, "box %s is being removed", ref);
	_cleanup_close_ int lock = -1;
	if (!bx_box_is_running(&box)) {
		if ((lock = bx_state_start_lock(box.box_dir, err)) < 0 || bx_state_lookup(&p, box.id, &box, err) < 0)
			return -1;
	}
	if (bx_cp_check_box_path(&box, into_box ? dst : src, into_box, bx_box_is_running(&box), err) < 0)
		return -1;
	if (bx_box_is_running(&box)) {
		if (lock >= 0) /* it started before we held the lock: copied through its guest, the lock not needed */
			close(BX_TAKE_FD(lock));
		if (bx_cli_running_box(box.id, "cp", &box, err) < 0)
			return -1;
		return into_box ? host_to_box(&box, src, dst, follow, err) : box_to_host(&box, src, dst, follow, err);
	}
	char rootfs[PATH_MAX];
	if (bx_rootfs_ensure(box.box_dir, err) < 0 || bx_path_join(rootfs, sizeof(rootfs), err, "%s/rootfs", box.box_dir) < 0)
		return -1;
	return into_box ? bx_cp_into_root(rootfs, src, dst, follow, err) : bx_cp_out_of_root(rootfs, src, dst, follow, err);
}

int cmd_cp(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool follow = false;
	const struct bx_opt opts[] = {
		{'a', "archive", NULL, 0, "Archive mode (copy all uid/gid information; they are kept either way)"},
		{'L', "follow-link", NULL, 0, "Always follow a symbolic link in SRC_PATH", .on = &follow},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm cp [OPTIONS] BOX:SRC_PATH DEST_PATH|-\n        boxvm cp [OPTIONS] SRC_PATH|- BOX:DEST_PATH",
			   "Copy files or directories between a box (running or not) and the host. A DEST_PATH\n"
			   "that is an existing directory receives SRC inside it; otherwise it is SRC's new name.\n"
			   "SRC_PATH/. copies what the directory holds. Into a box owners and modes are kept;\n"
			   "out of it files belong to you. Use '-' as SRC_PATH to read a tar archive from\n"
			   "stdin, or as DEST_PATH to write one to stdout.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (argc - a.i != 2) {
		bx_fail(&err, 0, "\"cp\" requires exactly 2 arguments: boxvm cp SRC BOX:DEST or boxvm cp BOX:SRC DEST");
		return bx_cli_report(&err);
	}
	char *sbox, *spath, *dbox, *dpath;
	char *s = argv[a.i], *d = argv[a.i + 1];
	bool s_in_box = split_box(s, &sbox, &spath), d_in_box = split_box(d, &dbox, &dpath);
	if (s_in_box == d_in_box) {
		bx_fail(&err, 0, s_in_box ? "cp: copying between boxes is not supported"
					  : "cp: one of SRC and DEST must be BOX:PATH");
		return bx_cli_report(&err);
	}
	const char *bpath = s_in_box ? spath : dpath;
	/* never cut: a shorter path names another file */
	if (strlen(s_in_box ? spath : s) >= PATH_MAX || strlen(d_in_box ? dpath : d) >= PATH_MAX) {
		bx_fail(&err, ENAMETOOLONG, "cp: a path is too long");
		return bx_cli_report(&err);
	}
	if (!*bpath) {
		bx_fail(&err, 0, "cp: the path in the box is empty");
		return bx_cli_report(&err);
	}
	signal(SIGPIPE, SIG_IGN); /* a host tar that fails is reported by its status */
	int rc = s_in_box ? copy(sbox, spath, d, false, follow, &err) : copy(dbox, s, dpath, true, follow, &err);
	return rc < 0 ? bx_cli_report(&err) : 0;
}
