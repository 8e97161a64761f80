/* The bounded, symlink-proof tree walk (tree_walk.h). */
#include "tree_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/cleanup.h"

struct walk {
	const struct bx_walk_opts *o;
	bx_walk_fn fn;
	void *ctx;
	dev_t root_dev;
	char path[BX_WALK_MAX_PATH + 1];
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in the directory at fd, sorted bytewise (Go's filepath.Walk order). */
static int list_names(int fd, const char *path, char ***out, size_t *n, struct bx_err *err)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return bx_fail(err, errno, "cannot read directory /%s", path);
	}
	rewinddir(d); /* a dup shares its offset: another walk may have read this fd before */
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[k] = strdup(de->d_name)))
			goto oom;
		k++;
	}
	if (errno) {
		int e = errno;
		closedir(d);
		names_free(v, k);
		return bx_fail(err, e, "cannot read directory /%s", path);
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), by_name);
	*out = v;
	*n = k;
	return 0;
oom:
	closedir(d);
	names_free(v, k);
	return bx_fail(err, ENOMEM, "out of memory");
}

static bool xattr_is(int fd, const char *name, const char *want)
{
	char v[8];
	ssize_t n = fgetxattr(fd, name, v, sizeof(v));
	return n == (ssize_t)strlen(want) && !memcmp(v, want, (size_t)n);
}

static bool xattr_present(int fd, const char *name)
{
	return fgetxattr(fd, name, NULL, 0) >= 0 || errno == ERANGE;
}

static int walk_dir(struct walk *w, int fd, int lower_fd, size_t plen, int depth, struct bx_err *err);

/* Go's sameFsTime: equal, or equal seconds where one side has no nanoseconds */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && (a->tv_nsec == b->tv_nsec || !a->tv_nsec || !b->tv_nsec);
}

/* compare mode: what Docker's ChangesDirs compares, and a symlink's target */
static bool same_as_lower(int fd, int lower_fd, const char *name, const struct stat *st)
{
	struct stat l;
	if (fstatat(lower_fd, name, &l, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (l.st_mode != st->st_mode || l.st_uid != st->st_uid || l.st_gid != st->st_gid || l.st_rdev != st->st_rdev ||
	    (S_ISREG(st->st_mode) && l.st_size != st->st_size) || !same_time(&l.st_mtim, &st->st_mtim))
		return false;
	if (S_ISLNK(st->st_mode)) {
		char a[BX_WALK_MAX_PATH + 1], b[BX_WALK_MAX_PATH + 1];
		ssize_t na = readlinkat(fd, name, a, sizeof(a)), nb = readlinkat(lower_fd, name, b, sizeof(b));
		return na >= 0 && na == nb && !memcmp(a, b, (size_t)na);
	}
	return true;
}

/* name appended to w->path (which holds plen bytes): the new length, or -1
 * when the path would be longer than a layer's entries may be */
static ssize_t path_push(struct walk *w, const char *name, size_t plen, struct bx_err *err)
{
	size_t nlen = strlen(name);
	if (plen + (plen ? 1 : 0) + nlen > BX_WALK_MAX_PATH)
		return bx_fail(err, ENAMETOOLONG, "path /%s/%s... is longer than %d bytes: too long for an image layer",
			       w->path, name, BX_WALK_MAX_PATH);
	size_t len = plen;
	if (plen)
		w->path[len++] = '/';
	memcpy(w->path + len, name, nlen + 1);
	return (ssize_t)(len + nlen);
}

static int visit(struct walk *w, int fd, int lower_fd, const char *name, size_t plen, int depth, struct bx_err *err)
{
	_cleanup_close_ int child = -1;
	ssize_t pushed = path_push(w, name, plen, err);
	if (pushed < 0)
		return -1;
	size_t len = (size_t)pushed;
	struct bx_walk_entry e = {.path = w->path, .name = name, .dirfd = fd, .lower_dirfd = lower_fd, .kind = BX_WALK_ENTRY};
	if (fstatat(fd, name, &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			goto out; /* removed since the listing (only with a box running unpaused) */
		return bx_fail(err, errno, "cannot stat /%s", w->path);
	}
	if (w->o->upper && S_ISCHR(e.st.st_mode) && major(e.st.st_rdev) == 0 && minor(e.st.st_rdev) == 0)
		e.kind = BX_WALK_WHITEOUT;
	if (S_ISDIR(e.st.st_mode) && !(w->o->one_fs && e.st.st_dev != w->root_dev)) {
		if (depth + 1 > BX_WALK_MAX_DEPTH)
			return bx_fail(err, ELOOP, "/%s is nested more than %d directories deep: too deep for an image layer",
				       w->path, BX_WALK_MAX_DEPTH);
		child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat cst;
		if (child < 0 || fstat(child, &cst) < 0 || cst.st_ino != e.st.st_ino || cst.st_dev != e.st.st_dev) {
			if (child < 0 && errno == ENOENT)
				goto out;
			return bx_fail(err, child < 0 ? errno : EAGAIN, "cannot open directory /%s (changed while read?)",
				       w->path);
		}
		if (w->o->upper) {
			if (xattr_present(child, "trusted.overlay.redirect") || xattr_present(child, "user.overlay.redirect"))
				return bx_fail(err, EXDEV,
					       "/%s was renamed by overlayfs redirect_dir, which an image layer cannot express; "
					       "mount overlayfs without redirect_dir",
					       w->path);
			e.opaque = xattr_is(child, "trusted.overlay.opaque", "y") ||
				   xattr_is(child, "user.overlay.opaque", "y");
		}
	}
	if (w->o->compare && lower_fd >= 0)
		e.same = same_as_lower(fd, lower_fd, name, &e.st);
	int r = w->fn(w->ctx, &e, err);
	if (r < 0)
		return -1;
	if (r == 0 && child >= 0) {
		_cleanup_close_ int lower_child = -1;
		if (lower_fd >= 0 && !e.opaque)
			lower_child = openat(lower_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (walk_dir(w, child, lower_child, len, depth + 1, err) < 0)
			return -1;
	}
out:
	w->path[plen] = '\0';
	return 0;
}

/* compare mode: a name the lower has and the copy does not, as a whiteout */
static int visit_deleted(struct walk *w, int fd, int lower_fd, const char *name, size_t plen, struct bx_err *err)
{
	if (path_push(w, name, plen, err) < 0)
		return -1;
	struct bx_walk_entry e = {.path = w->path, .name = name, .dirfd = fd, .lower_dirfd = lower_fd,
				  .kind = BX_WALK_WHITEOUT};
	int rc = 0;
	if (fstatat(lower_fd, name, &e.st, AT_SYMLINK_NOFOLLOW) == 0)
		rc = w->fn(w->ctx, &e, err) < 0 ? -1 : 0;
	w->path[plen] = '\0';
	return rc;
}

static int walk_dir(struct walk *w, int fd, int lower_fd, size_t plen, int depth, struct bx_err *err)
{
	char **names = NULL, **lnames = NULL;
	size_t n = 0, ln = 0;
	if (list_names(fd, w->path, &names, &n, err) < 0)
		return -1;
	if (w->o->compare && lower_fd >= 0 && list_names(lower_fd, w->path, &lnames, &ln, err) < 0) {
		names_free(names, n);
		return -1;
	}
	int rc = 0;
	size_t i = 0, j = 0;
	while ((i < n || j < ln) && rc == 0) {
		int c = i == n ? 1 : j == ln ? -1 : strcmp(names[i], lnames[j]);
		if (c > 0)
			rc = visit_deleted(w, fd, lower_fd, lnames[j++], plen, err);
		else {
			rc = visit(w, fd, lower_fd, names[i++], plen, depth, err);
			j += c == 0;
		}
	}
	names_free(names, n);
	names_free(lnames, ln);
	return rc;
}

int bx_tree_walk(int root_fd, const struct bx_walk_opts *o, bx_walk_fn fn, void *ctx, struct bx_err *err)
{
	struct walk w = {.o = o, .fn = fn, .ctx = ctx};
	struct stat st;
	if (fstat(root_fd, &st) < 0)
		return bx_fail(err, errno, "cannot stat the tree to walk");
	w.root_dev = st.st_dev;
	return walk_dir(&w, root_fd, o->lower_fd, 0, 0, err);
}
