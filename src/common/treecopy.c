/* Copying trees that come from a box or an image by fd, following nothing (treecopy.h). */
#include "treecopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

int bx_open_in_root(int rootfd, const char *path, int flags)
{
	while (*path == '/')
		path++;
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
}

/* owner first: chown drops setuid bits, so the mode comes after it */
static int set_meta(int fd, const struct stat *st, const struct bx_treecopy_opts *o)
{
	mode_t mode = st->st_mode & 07777;
	if (S_ISREG(st->st_mode) && !o->keep_setid)
		mode &= (mode_t)~(S_ISUID | S_ISGID);
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchown(fd, o->keep_owner ? st->st_uid : o->owner_uid, o->keep_owner ? st->st_gid : o->owner_gid) < 0 ||
	    fchmod(fd, mode) < 0 || futimens(fd, times) < 0)
		return -1;
	return 0;
}

static int copy_data(int in, int out)
{
	bool plain = false;
	for (;;) {
		ssize_t n;
		if (!plain) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			char buf[65536];
			n = read(in, buf, sizeof(buf));
			for (ssize_t done = 0; n > 0 && done < n;) {
				ssize_t w = write(out, buf + done, (size_t)(n - done));
				if (w < 0 && errno != EINTR)
					return -1;
				done += w > 0 ? w : 0;
			}
		}
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

DIR *bx_dir_stream(int fd)
{
	int d = dup(fd);
	DIR *dir = d < 0 ? NULL : fdopendir(d);
	if (!dir && d >= 0) {
		int e = errno;
		close(d);
		errno = e;
	}
	return dir;
}

static int copy_entry(int srcdir, const char *name, int dstdir, const char *dname, const struct bx_treecopy_opts *o,
		      int depth, struct bx_err *err);

static int copy_children(int src, int dst, const struct bx_treecopy_opts *o, int depth, struct bx_err *err)
{
	_cleanup_dir_ DIR *d = bx_dir_stream(src);
	if (!d)
		return bx_fail(err, errno, "cannot read a directory");
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = copy_entry(src, e->d_name, dst, e->d_name, o, depth, err);
	}
	if (rc == 0 && errno)
		rc = bx_fail(err, errno, "cannot read a directory");
	return rc;
}

static int copy_entry(int srcdir, const char *name, int dstdir, const char *dname, const struct bx_treecopy_opts *o,
		      int depth, struct bx_err *err)
{
	struct stat st;
	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bx_fail(err, errno, "cannot read %s", name);
	_cleanup_close_ int in = -1, out = -1;
	int rc = -1;
	if (S_ISDIR(st.st_mode)) {
		if (depth >= BX_TREECOPY_MAX_DEPTH)
			return bx_fail(err, ELOOP, "directories nested deeper than %d levels at %s", BX_TREECOPY_MAX_DEPTH, name);
		if (mkdirat(dstdir, dname, 0700) < 0)
			return bx_fail(err, errno, "cannot create directory %s", dname);
		in = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		out = openat(dstdir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0 || out < 0)
			bx_fail(err, errno, "cannot open directory %s", name);
		else if (copy_children(in, out, o, depth + 1, err) == 0)
			rc = set_meta(out, &st, o) < 0 ? bx_fail(err, errno, "cannot set the owner and mode of %s", dname) : 0;
	} else if (S_ISREG(st.st_mode)) {
		struct stat now;
		/* O_NONBLOCK: a FIFO swapped in since the stat must not block the open */
		in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (in < 0 || fstat(in, &now) < 0 || !S_ISREG(now.st_mode))
			bx_fail(err, in < 0 ? errno : 0, "cannot read %s", name);
		else if ((out = openat(dstdir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
			bx_fail(err, errno, "cannot create %s", dname);
		else if (copy_data(in, out) < 0)
			bx_fail(err, errno, "cannot copy %s", name);
		else
			rc = set_meta(out, &now, o) < 0 ? bx_fail(err, errno, "cannot set the owner and mode of %s", dname) : 0;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(srcdir, name, target, sizeof(target));
		if (n < 0 || n >= (ssize_t)sizeof(target))
			return bx_fail(err, n < 0 ? errno : ENAMETOOLONG, "cannot read the link %s", name);
		target[n] = '\0';
		struct timespec times[2] = {st.st_atim, st.st_mtim};
		if (symlinkat(target, dstdir, dname) < 0)
			return bx_fail(err, errno, "cannot create the link %s", dname);
		if (fchownat(dstdir, dname, o->keep_owner ? st.st_uid : o->owner_uid, o->keep_owner ? st.st_gid : o->owner_gid,
			     AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(dstdir, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
			return bx_fail(err, errno, "cannot set the owner of the link %s", dname);
		return 0;
	} else if (S_ISFIFO(st.st_mode)) {
		/* the FIFO we just made in a directory only we write to: no link can be there */
		if (mkfifoat(dstdir, dname, 0600) < 0)
			return bx_fail(err, errno, "cannot create %s", dname);
		if (fchownat(dstdir, dname, o->keep_owner ? st.st_uid : o->owner_uid, o->keep_owner ? st.st_gid : o->owner_gid,
			     AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dstdir, dname, st.st_mode & 07777, 0) < 0)
			return bx_fail(err, errno, "cannot set the owner and mode of %s", dname);
		return 0;
	} else {
		return 0; /* devices and sockets: not copied (see treecopy.h) */
	}
	return rc;
}

int bx_tree_copy(int srcdir, const char *name, int dstdir, const char *dname, const struct bx_treecopy_opts *o,
		 struct bx_err *err)
{
	if (copy_entry(srcdir, name, dstdir, dname, o, 0, err) == 0)
		return 0;
	int e = errno;
	bx_rm_at(dstdir, dname);
	errno = e;
	return -1;
}

static void empty_dir(int dir)
{
	_cleanup_dir_ DIR *d = bx_dir_stream(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			bx_rm_at(dir, e->d_name);
}

int bx_tree_copy_contents(int src, int dst, const struct bx_treecopy_opts *o, struct bx_err *err)
{
	struct stat st;
	if (fstat(src, &st) < 0)
		return bx_fail(err, errno, "cannot read a directory");
	if (copy_children(src, dst, o, 1, err) == 0) {
		if (set_meta(dst, &st, o) == 0)
			return 0;
		bx_fail(err, errno, "cannot set the owner and mode of a directory");
	}
	empty_dir(dst);
	return -1;
}

static int merge(int srcdir, const char *name, int dstdir, const char *dname, int depth, struct bx_err *err);

static int merge_children(int src, int dst, int depth, struct bx_err *err)
{
	_cleanup_dir_ DIR *d = bx_dir_stream(src);
	if (!d)
		return bx_fail(err, errno, "cannot read a directory");
	int rc = 0;
	struct dirent *e;
	/* entries move out while we read: rewind until none is left */
	for (bool moved = true; rc == 0 && moved;) {
		moved = false;
		rewinddir(d);
		while (rc == 0 && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			rc = merge(src, e->d_name, dst, e->d_name, depth, err);
			moved = true;
		}
	}
	return rc;
}

static int merge(int srcdir, const char *name, int dstdir, const char *dname, int depth, struct bx_err *err)
{
	struct stat s, d;
	if (fstatat(srcdir, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return bx_fail(err, errno, "cannot read %s", name);
	if (fstatat(dstdir, dname, &d, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return bx_fail(err, errno, "cannot read %s", dname);
	} else if (S_ISDIR(s.st_mode) != S_ISDIR(d.st_mode)) {
		return bx_fail(err, 0, S_ISDIR(d.st_mode) ? "cannot overwrite directory %s with non-directory %s"
							  : "cannot overwrite non-directory %s with directory %s",
			       dname, name);
	} else if (S_ISDIR(s.st_mode)) {
		if (depth >= BX_TREECOPY_MAX_DEPTH)
			return bx_fail(err, ELOOP, "directories nested deeper than %d levels at %s", BX_TREECOPY_MAX_DEPTH, name);
		_cleanup_close_ int in = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int out = openat(dstdir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int rc = in < 0 || out < 0 ? bx_fail(err, errno, "cannot open directory %s", dname)
					   : merge_children(in, out, depth + 1, err);
		if (rc == 0 && unlinkat(srcdir, name, AT_REMOVEDIR) < 0)
			rc = bx_fail(err, errno, "cannot remove %s", name);
		return rc;
	}
	if (renameat(srcdir, name, dstdir, dname) < 0)
		return bx_fail(err, errno, "cannot put %s in place", dname);
	return 0;
}

int bx_tree_merge(int srcdir, const char *name, int dstdir, const char *dname, struct bx_err *err)
{
	return merge(srcdir, name, dstdir, dname, 0, err);
}

int bx_tree_merge_children(int src, int dst, struct bx_err *err)
{
	return merge_children(src, dst, 0, err);
}
