/* boxvm cp SRC BOX:DEST | BOX:SRC DEST: files and directories both ways, as
 * a tar stream through an exec of the guest's tar (busybox has one). Into the
 * box, the host's tar packs SRC; out of it, the guest's tar stream is
 * untrusted and is unpacked in-process by bx_tar_extract_fd (no setuid bits,
 * devices, ownership or paths leaving DEST; see tar_extract.h). Docker's rules: a DEST that is an existing directory receives
 * SRC inside it, otherwise DEST is SRC's new name (its parent must exist).
 * Nothing is half-written at DEST: both sides unpack into a temporary
 * directory beside it and rename the result into place. "-" as SRC reads a
 * tar from stdin; as DEST writes one to stdout. */
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

#include "../lib/paths.h"
#include "../lib/tar_extract.h"
#include "cli.h"
#include "exec_client.h"

/* guest side, box -> host: $1 dir, $2 name */
static const char *const guest_pack =
	"[ -e \"$1/$2\" ] || [ -L \"$1/$2\" ] || { echo \"boxvm: cp: no such file or directory in the box: $1/$2\" >&2; exit 2; }\n"
	"exec tar -cf - -C \"$1\" -- \"$2\"\n";

/* guest side, host -> box: $1 dest, $2 the name inside the tar ("" = unpack as is into $1) */
static const char *const guest_unpack =
	"set -e\n"
	"if [ -z \"$2\" ] || [ -d \"$1\" ]; then exec tar -xf - -C \"$1\"; fi\n"
	"case \"$1\" in */) echo \"boxvm: cp: no such directory in the box: $1\" >&2; exit 2;; esac\n"
	"p=$(dirname \"$1\")\n"
	"[ -d \"$p\" ] || { echo \"boxvm: cp: no such directory in the box: $p\" >&2; exit 2; }\n"
	"t=$(mktemp -d \"$p/.boxvm-cp.XXXXXX\")\n"
	"trap 'rm -rf \"$t\"' EXIT\n"
	"tar -xf - -C \"$t\"\n"
	"mv -f \"$t/$2\" \"$1\"\n";

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

static void split_path(const char *path, char *dir, char *name)
{
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof(a), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	/* strip trailing slashes (but keep "/") */
	for (size_t n = strlen(a); n > 1 && a[n - 1] == '/'; n--)
		a[n - 1] = b[n - 1] = '\0';
	snprintf(dir, PATH_MAX, "%s", dirname(a));
	snprintf(name, NAME_MAX + 1, "%s", basename(b));
}

/* host tar with its stdin or stdout on a pipe; returns the pid, our end in *fd */
static pid_t spawn_tar(char *const argv[], bool we_write, int *fd, struct bx_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return bx_fail(err, errno, "fork");
	}
	if (pid == 0) {
		dup2(we_write ? p[0] : p[1], we_write ? 0 : 1);
		execvp("tar", argv);
		fprintf(stderr, "boxvm: cp: cannot run tar: %s\n", strerror(errno));
		_exit(127);
	}
	close(we_write ? p[0] : p[1]);
	*fd = we_write ? p[1] : p[0];
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
	int p[2];
	x->verdict = mmap(NULL, sizeof(*x->verdict), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x->verdict == MAP_FAILED) {
		x->verdict = NULL;
		return bx_fail(err, errno, "mmap");
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	x->pid = fork();
	if (x->pid < 0) {
		close(p[0]);
		close(p[1]);
		return bx_fail(err, errno, "fork");
	}
	if (x->pid == 0) {
		close(p[1]);
		_exit(bx_tar_extract_fd(p[0], dir, "cp", x->verdict) < 0 ? 1 : 0);
	}
	close(p[0]);
	*fd = p[1];
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

static int guest_sh(struct bx_spec *spec, const char *script, const char *a1, const char *a2, struct bx_err *err)
{
	const char *args[] = {"sh", "-c", script, "sh", a1, a2};
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		if (bx_spec_add_arg(spec, args[i], err) < 0)
			return -1;
	/* root in /: cp reaches every path, as docker cp does */
	return bx_spec_set_user(spec, "0", err) < 0 || bx_spec_set_cwd(spec, "/", err) < 0 ? -1 : 0;
}

static int box_to_host(const struct bx_box_record *box, const char *src, const char *dst, struct bx_err *err)
{
	char sdir[PATH_MAX], sname[NAME_MAX + 1];
	split_path(src, sdir, sname);
	struct bx_spec spec;
	bx_spec_init(&spec);
	if (guest_sh(&spec, guest_pack, sdir, sname, err) < 0) {
		bx_spec_free(&spec);
		return -1;
	}
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = 1, .err_fd = 2, .what = "box"};
	if (!strcmp(dst, "-")) {
		int code = bx_exec_run(box, &spec, &o, err);
		bx_spec_free(&spec);
		return code < 0 ? -1 : code ? bx_fail(err, 0, "cp: copying %s out of the box failed", src) : 0;
	}
	/* DEST: an existing directory receives NAME, otherwise DEST is the new name */
	char final[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX + 32], unpacked[PATH_MAX * 2];
	struct stat st;
	int rc = -1;
	struct extractor x = {.pid = -1};
	tmp[0] = '\0';
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (bx_path_join(final, sizeof(final), err, "%s/%s", dst, sname) < 0)
			goto out;
	} else {
		if (dst[strlen(dst) - 1] == '/') {
			bx_fail(err, ENOENT, "cp: destination directory %s", dst);
			goto out;
		}
		snprintf(final, sizeof(final), "%s", dst);
	}
	char fname[NAME_MAX + 1];
	split_path(final, parent, fname);
	snprintf(tmp, sizeof(tmp), "%s/.boxvm-cp.XXXXXX", parent);
	if (!mkdtemp(tmp)) {
		bx_fail(err, errno, "cp: cannot create a directory in %s", parent);
		tmp[0] = '\0';
		goto out;
	}
	if (spawn_extractor(tmp, &x, &o.out_fd, err) < 0)
		goto out;
	int code = bx_exec_run(box, &spec, &o, err);
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
	snprintf(unpacked, sizeof(unpacked), "%s/%s", tmp, sname);
	if (rename(unpacked, final) < 0) {
		bx_fail(err, errno, "cp: cannot put %s in place", final);
		goto out;
	}
	rc = 0;
out:
	if (tmp[0])
		bx_rm_rf(tmp, NULL);
	if (x.verdict)
		munmap(x.verdict, sizeof(*x.verdict));
	bx_spec_free(&spec);
	return rc;
}

static int host_to_box(const struct bx_box_record *box, const char *src, const char *dst, struct bx_err *err)
{
	char sdir[PATH_MAX], sname[NAME_MAX + 1];
	bool from_stdin = !strcmp(src, "-");
	struct stat st;
	if (!from_stdin && lstat(src, &st) < 0)
		return bx_fail(err, errno, "cp: %s", src);
	split_path(src, sdir, sname);
	struct bx_spec spec;
	bx_spec_init(&spec);
	spec.stdin_open = true;
	int rc = -1, in_fd = 0;
	pid_t pid = -1;
	if (guest_sh(&spec, guest_unpack, dst, from_stdin ? "" : sname, err) < 0)
		goto out;
	if (!from_stdin) {
		/* owned by root in the box, as docker cp does */
		char *targv[] = {"tar", "-cf", "-", "-C", sdir, "--owner=0", "--group=0", "--numeric-owner", "--", sname, NULL};
		pid = spawn_tar(targv, false, &in_fd, err);
		if (pid < 0)
			goto out;
	}
	struct bx_relay_opts o = {.in_fd = in_fd, .out_fd = 1, .err_fd = 2, .what = "box"};
	int code = bx_exec_run(box, &spec, &o, err);
	if (pid > 0) {
		close(in_fd);
		int trc = wait_tar(pid, code < 0 ? NULL : err);
		if (code == 0 && trc < 0)
			goto out;
	}
	if (code < 0)
		goto out;
	if (code) {
		bx_fail(err, 0, "cp: copying into box %.12s failed", box->id);
		goto out;
	}
	rc = 0;
out:
	bx_spec_free(&spec);
	return rc;
}

int cmd_cp(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage:  boxvm cp SRC_PATH BOX:DEST_PATH\n"
		       "        boxvm cp BOX:SRC_PATH DEST_PATH\n\n"
		       "Copy files or directories between a running box and the host. A DEST_PATH that is an\n"
		       "existing directory receives SRC inside it; otherwise it is SRC's new name. Use '-' as\n"
		       "SRC_PATH to read a tar archive from stdin, or as DEST_PATH to write one to stdout.\n");
		return 0;
	}
	if (argc != 3) {
		bx_fail(&err, 0, "\"cp\" requires exactly 2 arguments: boxvm cp SRC BOX:DEST or boxvm cp BOX:SRC DEST");
		return bx_cli_report(&err);
	}
	char *sbox, *spath, *dbox, *dpath;
	bool s_in_box = split_box(argv[1], &sbox, &spath), d_in_box = split_box(argv[2], &dbox, &dpath);
	if (s_in_box == d_in_box) {
		bx_fail(&err, 0, s_in_box ? "cp: copying between boxes is not supported"
					  : "cp: one of SRC and DEST must be BOX:PATH");
		return bx_cli_report(&err);
	}
	signal(SIGPIPE, SIG_IGN); /* a host tar that fails is reported by its status */
	struct bx_box_record box;
	if (bx_cli_running_box(s_in_box ? sbox : dbox, "cp", &box, &err) < 0)
		return bx_cli_report(&err);
	const char *bpath = s_in_box ? spath : dpath;
	if (!*bpath) {
		bx_fail(&err, 0, "cp: the path in the box is empty");
		return bx_cli_report(&err);
	}
	int rc = s_in_box ? box_to_host(&box, spath, argv[2], &err) : host_to_box(&box, argv[1], dpath, &err);
	return rc < 0 ? bx_cli_report(&err) : 0;
}
