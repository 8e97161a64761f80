/* The host's half of cp (cp_host.h). */
#include "cp_host.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cp_root.h"
#include "../common/cleanup.h"
#include "../common/paths.h"
#include "../common/tar_extract.h"
#include "../common/treecopy.h"

void bx_cp_path_split(const char *path, struct bx_cp_path *out)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t n = strlen(path);
	memset(out, 0, sizeof(*out));
	snprintf(a, sizeof(a), "%s", path);
	/* "DIR/." (or "."): DIR's contents */
	if ((n >= 2 && !strcmp(a + n - 2, "/.")) || !strcmp(a, ".")) {
		out->contents = true;
		a[--n] = '\0';
		if (!n)
			snprintf(a, sizeof(a), ".");
	}
	n = strlen(a);
	out->trailing_slash = n > 1 && a[n - 1] == '/';
	for (; n > 1 && a[n - 1] == '/'; n--)
		a[n - 1] = '\0';
	snprintf(b, sizeof(b), "%s", a);
	snprintf(out->dir, sizeof(out->dir), "%s", dirname(a));
	snprintf(out->name, sizeof(out->name), "%s", !strcmp(b, "/") ? "." : basename(b));
}

void bx_cp_dest_close(struct bx_cp_dest *d)
{
	if (d->parent >= 0)
		close(d->parent);
	if (d->dir >= 0)
		close(d->dir);
	d->parent = d->dir = -1;
}

/* open_dir(ctx, path): a directory fd or -1 with errno; host paths or paths in a box's root */
typedef int (*open_dir_fn)(int root, const char *path);

static int open_host_dir(int root, const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int open_root_dir(int root, const char *path)
{
	return bx_open_in_root(root, path, O_RDONLY | O_DIRECTORY);
}

static int dest_open(open_dir_fn open_dir, int root, const char *dst, const char *where, struct bx_cp_dest *d,
		     struct bx_err *err)
{
	struct bx_cp_path p;
	bx_cp_path_split(dst, &p);
	memset(d, 0, sizeof(*d));
	d->parent = -1;
	if ((d->dir = open_dir(root, dst)) >= 0) {
		d->exists = true;
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR)
		return bx_fail(err, errno, "cp: %s%s", dst, where);
	if (p.trailing_slash)
		return bx_fail(err, ENOENT, "cp: no such directory%s: %s", where, dst);
	if ((d->parent = open_dir(root, p.dir)) < 0)
		return bx_fail(err, errno, "cp: no such directory%s: %s", where, p.dir);
	snprintf(d->name, sizeof(d->name), "%s", p.name);
	struct stat st;
	d->exists = fstatat(d->parent, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	return 0;
}

int bx_cp_dest_open_host(const char *dst, struct bx_cp_dest *d, struct bx_err *err)
{
	return dest_open(open_host_dir, -1, dst, "", d, err);
}

int bx_cp_place(int tmp, const struct bx_cp_path *src, const struct bx_cp_dest *d, struct bx_err *err)
{
	if (d->dir >= 0)
		return src->contents ? bx_tree_merge_children(tmp, d->dir, err)
				     : bx_tree_merge(tmp, src->name, d->dir, src->name, err);
	if (!src->contents)
		return bx_tree_merge(tmp, src->name, d->parent, d->name, err);
	if (d->exists)
		return bx_fail(err, ENOTDIR, "cp: cannot copy a directory's contents to %s", d->name);
	/* a new directory DEST with what the source directory held, and its mode and owner */
	struct stat st;
	if (fstat(tmp, &st) < 0 || mkdirat(d->parent, d->name, 0700) < 0)
		return bx_fail(err, errno, "cp: cannot create %s", d->name);
	_cleanup_close_ int nd = openat(d->parent, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nd < 0)
		return bx_fail(err, errno, "cp: cannot open %s", d->name);
	if (bx_tree_merge_children(tmp, nd, err) < 0)
		return -1;
	if (fchown(nd, st.st_uid, st.st_gid) < 0 || fchmod(nd, st.st_mode & 07777) < 0)
		return bx_fail(err, errno, "cp: cannot set the mode of %s", d->name);
	return 0;
}

int bx_cp_tmpdir(int parent, char name[32], struct bx_err *err)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			return bx_fail(err, errno, "getrandom");
		int n = snprintf(name, 32, ".boxvm-cp.");
		for (size_t i = 0; i < sizeof(r); i++)
			name[n++] = chars[r[i] % (sizeof(chars) - 1)];
		name[n] = '\0';
		if (mkdirat(parent, name, 0700) == 0) {
			int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				bx_fail(err, errno, "cp: cannot open a temporary directory");
				unlinkat(parent, name, AT_REMOVEDIR);
			}
			return fd;
		}
		if (errno != EEXIST)
			return bx_fail(err, errno, "cp: cannot create a temporary directory");
	}
	return bx_fail(err, EEXIST, "cp: cannot create a temporary directory");
}

/* Copy with copy() into a temporary directory beside DEST, then lay it down:
 * a failure half-way leaves DEST as it was. */
static int copy_and_place(int (*copy)(int tmp, void *ctx, struct bx_err *err), void *ctx, const struct bx_cp_path *src,
			  const struct bx_cp_dest *d, struct bx_err *err)
{
	char name[32];
	int where = d->dir >= 0 ? d->dir : d->parent;
	int tmp = bx_cp_tmpdir(where, name, err);
	if (tmp < 0)
		return -1;
	int rc = copy(tmp, ctx, err) < 0 ? -1 : bx_cp_place(tmp, src, d, err);
	close(tmp);
	if (bx_rm_at(where, name) < 0 && rc == 0)
		rc = bx_fail(err, errno, "cp: cannot remove the temporary directory %s", name);
	return rc;
}

struct tree_src {
	int dir;          /* the source's parent, or for contents the source directory itself */
	const char *name; /* in dir */
	const char *as;   /* its name in the copy */
	bool contents;
	struct bx_treecopy_opts opts;
};

static int copy_tree(int tmp, void *ctx, struct bx_err *err)
{
	struct tree_src *s = ctx;
	if (s->contents)
		return bx_tree_copy_contents(s->dir, tmp, &s->opts, err);
	return bx_tree_copy(s->dir, s->name, tmp, s->as, &s->opts, err);
}

int bx_cp_out_of_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err)
{
	struct bx_cp_path sp;
	bx_cp_path_split(src, &sp);
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bx_fail(err, errno, "cp: cannot open the box's root %s", rootfs);
	_cleanup_close_ int sdir = bx_cp_root_open_src(root, sp.dir, sp.name, sp.contents, src, err);
	if (sdir < 0)
		return -1;
	struct stat st;
	if (follow && !sp.contents && fstatat(sdir, sp.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return bx_fail(err, 0, "cp: -L of a link in a box that is not running is not supported: start the box, "
				       "or name the link's target");
	if (!strcmp(dst, "-"))
		return bx_cp_root_tar(sdir, sp.contents ? "." : sp.name, STDOUT_FILENO, err);
	/* as `docker cp` out of a box: the caller's files, modes kept, no setuid/setgid bit on the host */
	struct tree_src ts = {.dir = sdir, .name = sp.name, .as = sp.name, .contents = sp.contents,
			      .opts = {.owner_uid = getuid(), .owner_gid = getgid()}};
	struct bx_cp_dest d;
	int rc = bx_cp_dest_open_host(dst, &d, err);
	if (rc == 0)
		rc = copy_and_place(copy_tree, &ts, &sp, &d, err);
	bx_cp_dest_close(&d);
	return rc;
}

static int copy_tar(int tmp, void *ctx, struct bx_err *err)
{
	char at[64];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", tmp);
	return bx_tar_extract_fd(*(int *)ctx, at, "cp", err);
}

/* d: the destination in the box's root, opened */
static int tar_into(int in_fd, const char *dst, struct bx_cp_dest *d, struct bx_err *err)
{
	/* a tar stream is unpacked into DEST as it is (Docker: DEST must be a directory) */
	struct bx_cp_path as_is = {.contents = true};
	if (!d->exists)
		return bx_fail(err, ENOENT, "cp: no such directory in the box: %s", dst);
	return d->dir < 0 ? bx_fail(err, ENOTDIR, "cp: the destination in the box must be a directory: %s", dst)
			  : copy_and_place(copy_tar, &in_fd, &as_is, d, err);
}

int bx_cp_tar_into_root(const char *rootfs, int in_fd, const char *dst, struct bx_err *err)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bx_fail(err, errno, "cp: cannot open the box's root %s", rootfs);
	struct bx_cp_dest d;
	if (dest_open(open_root_dir, root, dst, " in the box", &d, err) < 0)
		return -1;
	int rc = tar_into(in_fd, dst, &d, err);
	bx_cp_dest_close(&d);
	return rc;
}

int bx_cp_into_root(const char *rootfs, const char *src, const char *dst, bool follow, struct bx_err *err)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bx_fail(err, errno, "cp: cannot open the box's root %s", rootfs);
	struct bx_cp_dest d;
	int rc = dest_open(open_root_dir, root, dst, " in the box", &d, err);
	if (rc < 0)
		return -1;
	if (!strcmp(src, "-")) {
		rc = tar_into(0, dst, &d, err);
		bx_cp_dest_close(&d);
		return rc;
	}
	/* -L: the link's target is copied, under the link's name */
	struct bx_cp_path sp, rp;
	char real[PATH_MAX];
	bx_cp_path_split(src, &sp);
	rp = sp;
	if (follow) {
		if (!realpath(src, real)) {
			bx_cp_dest_close(&d);
			return bx_fail(err, errno, "cp: %s", src);
		}
		bx_cp_path_split(real, &rp);
		rp.contents = sp.contents;
	}
	char full[PATH_MAX * 2];
	snprintf(full, sizeof(full), "%s/%s", rp.dir, rp.name);
	struct stat st;
	_cleanup_close_ int sdir = open(rp.contents ? full : rp.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdir < 0 || (!rp.contents && fstatat(sdir, rp.name, &st, AT_SYMLINK_NOFOLLOW) < 0)) {
		rc = bx_fail(err, errno, "cp: %s", src);
	} else {
		/* as `docker cp` into a box: owners, modes and times kept */
		struct tree_src ts = {.dir = sdir, .name = rp.name, .as = sp.name, .contents = sp.contents,
				      .opts = {.keep_owner = true, .keep_setid = true}};
		rc = copy_and_place(copy_tree, &ts, &sp, &d, err);
	}
	bx_cp_dest_close(&d);
	return rc;
}
