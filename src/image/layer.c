/* Apply one OCI layer tar onto a directory tree.
 *
 * Every path is resolved from root_dirfd one component at a time with
 * O_NOFOLLOW, so nothing in the archive (or in lower layers) can make a write
 * land outside the root: an entry with a ".." component, or one whose parent
 * path runs through a symlink, is refused with an error naming it. The walk is
 * also what creates missing parents, which openat2(RESOLVE_BENEATH) alone would
 * not do, so it is the one code path (and it works on any kernel).
 *
 * Whiteouts follow the OCI image spec: they hide lower-layer content only, so
 * the paths this layer has written are remembered (a jansson object used as a
 * hash set: already linked, and no second container to maintain).
 *
 * The tree is the shared rootfs cache, which becomes an overlayfs lower layer:
 * nothing in an image may speak overlayfs's own language there. Whiteouts are
 * translated here (the path is removed), a 0:0 character device (overlayfs's
 * whiteout on disk) is read as the OCI whiteout it would act as, and only
 * allow-listed xattrs are applied, so no trusted.overlay.* (opaque, redirect,
 * metacopy) or other trusted./security. attribute from an image lands. */
#include "../common/cleanup.h"
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct apply {
	int root;
	const char *layer;   /* for messages */
	json_t *seen;        /* paths created by this layer */
	struct dirtime *dirs;  /* directory times, set last: adding children changes them */
	size_t ndirs;
	bool privileged;     /* may chown and mknod */
	long long written, max; /* regular-file bytes so far, and the ceiling (BOXVM_MAX_LAYER_SIZE) */
};

/* "./a//b/" -> "a/b"; "" for the root; NULL (EINVAL) if any component is "..". */
static char *clean_entry(const char *raw)
{
	_cleanup_free_ char *out = malloc(strlen(raw) + 1), *tmp = strdup(raw);
	char *save = NULL;
	size_t n = 0;
	if (!out || !tmp)
		return errno = ENOMEM, NULL;
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, ".."))
			return errno = EINVAL, NULL;
		if (n)
			out[n++] = '/';
		memcpy(out + n, c, strlen(c));
		n += strlen(c);
	}
	out[n] = '\0';
	return BX_TAKE_PTR(out);
}

static void mark(struct apply *ap, const char *path)
{
	json_object_set_new_nocheck(ap->seen, path, json_true());
}

static bool seen(struct apply *ap, const char *path)
{
	return json_object_get(ap->seen, path) != NULL;
}

/* Open directory `dir` (a cleaned path, "" = root) beneath the root without
 * following any symlink; with create, missing directories are made (0755, as
 * Docker does for parents a layer omits). Returns an O_PATH fd, or -1 with
 * errno ENOENT when !create and something is missing. */
static int walk(struct apply *ap, const char *dir, const char *entry, bool create, struct bx_err *err)
{
	_cleanup_close_ int fd = fcntl(ap->root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return bx_fail(err, errno, "layer %s: cannot dup the root fd", ap->layer);
	size_t len = strlen(dir);
	_cleanup_free_ char *sub = strdup(dir);
	if (!sub)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && dir[j] != '/')
			j++;
		sub[j] = '\0';
		const char *comp = sub + i;
		int nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				bx_fail(err, errno, "layer %s: entry '%s': cannot create directory '%s'", ap->layer, entry,
					sub);
				return errno = 0, -1; /* a failure, not "missing" */
			}
			mark(ap, sub);
			nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0 && errno == ENOENT && !create)
			return -1; /* errno ENOENT: missing */
		if (nfd < 0) {
			int e = errno;
			struct stat st;
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				bx_fail(err, 0, "layer %s: entry '%s' goes through the symlink '%s'; refusing to follow it",
					ap->layer, entry, sub);
			else
				bx_fail(err, e, "layer %s: entry '%s': '%s' is not a usable directory", ap->layer, entry,
					sub);
			return errno = 0, -1; /* a failure, not "missing" */
		}
		close(fd);
		fd = nfd;
		sub[j] = j < len ? '/' : '\0';
		i = j + 1;
	}
	return BX_TAKE_FD(fd);
}

/* Split a cleaned, non-empty path into its parent dir and last component. */
static char *split(char *path, const char **base)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*base = path;
		return "";
	}
	*slash = '\0';
	*base = slash + 1;
	return path;
}

/* Empty the lower content of dir (fd/path), keeping what this layer wrote,
 * recursing into kept directories since their lower content is hidden too. */
static int opaque(struct apply *ap, int dfd, const char *path)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_dir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child;
		if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0)
			return errno = ENOMEM, -1;
		if (!seen(ap, child)) {
			if (bx_rm_at(dirfd(d), de->d_name) < 0)
				rc = -1;
		} else {
			_cleanup_close_ int cfd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0 && opaque(ap, cfd, child) < 0)
				rc = -1;
		}
		free(child);
	}
	return rc;
}

/* Hide lower-layer dir/name (an OCI whiteout): what this layer wrote stays. */
static int hide(struct apply *ap, int pfd, const char *entry, const char *dir, const char *name, struct bx_err *err)
{
	char *path = NULL;
	int rc = 0;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
	    asprintf(&path, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		rc = bx_fail(err, 0, "layer %s: invalid whiteout entry '%s'", ap->layer, entry);
	else if (!seen(ap, path) && bx_rm_at(pfd, name) < 0)
		rc = bx_fail(err, errno, "layer %s: cannot apply whiteout '%s'", ap->layer, entry);
	free(path);
	return rc;
}

/* base is ".wh.NAME" or the opaque marker; name: what it hides (NULL: base's NAME) */
static int whiteout(struct apply *ap, const char *entry, const char *dir, const char *base, const char *name,
		    struct bx_err *err)
{
	_cleanup_close_ int pfd = walk(ap, dir, entry, false, err);
	if (pfd < 0)
		return errno == ENOENT ? 0 : -1; /* nothing below to hide */
	if (!name && !strcmp(base, WH_OPAQUE))
		return opaque(ap, pfd, dir) < 0
			       ? bx_fail(err, errno, "layer %s: cannot apply opaque whiteout '%s'", ap->layer, entry)
			       : 0;
	return hide(ap, pfd, entry, dir, name ? name : base + strlen(WH_PREFIX), err);
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

/* The xattrs an image may set: user data, file capabilities and POSIX ACLs.
 * Everything else (trusted.overlay.*, other trusted.*, security.selinux...)
 * would be host metadata, not image content. */
bool bx_layer_xattr_allowed(const char *name)
{
	return !strncmp(name, "user.", 5) || !strcmp(name, "security.capability") ||
	       !strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default");
}

/* Ownership, mode, xattrs on an open file or directory. chown first: it clears
 * setuid bits and file capabilities, which mode and xattrs then restore. */
static int set_meta(struct apply *ap, int fd, struct archive_entry *e, const char *entry, struct bx_err *err)
{
	if (ap->privileged && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return bx_fail(err, errno, "layer %s: cannot chown '%s'", ap->layer, entry);
	if (fchmod(fd, archive_entry_mode(e) & 07777) < 0)
		return bx_fail(err, errno, "layer %s: cannot chmod '%s'", ap->layer, entry);
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK)
		if (bx_layer_xattr_allowed(name))
			(void)fsetxattr(fd, name, val, size, 0); /* best effort: the fs may not support it */
	return 0;
}

static int write_file(struct apply *ap, struct archive *a, int fd, const char *entry, struct bx_err *err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *c = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, c, len, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return bx_fail(err, errno, "layer %s: cannot write '%s'", ap->layer, entry);
			c += n;
			off += n;
			len -= (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return bx_fail(err, 0, "layer %s: cannot read '%s': %s", ap->layer, entry, archive_error_string(a));
	return 0;
}

static int hardlink(struct apply *ap, int pfd, const char *base, const char *entry, const char *target,
		    struct bx_err *err)
{
	_cleanup_free_ char *t = clean_entry(target);
	if (!t || !*t)
		return bx_fail(err, 0, "layer %s: hardlink '%s' -> '%s' points outside the root; refusing", ap->layer,
			       entry, target);
	const char *tbase;
	char *tdir = split(t, &tbase);
	_cleanup_close_ int tfd = walk(ap, tdir, entry, false, err);
	if (tfd < 0)
		return errno == ENOENT ? bx_fail(err, 0, "layer %s: hardlink '%s' -> '%s': target does not exist",
						 ap->layer, entry, target)
				       : -1;
	struct stat ts, ds;
	if (fstatat(tfd, tbase, &ts, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(ts.st_mode))
		return bx_fail(err, 0, "layer %s: hardlink '%s' -> '%s': target is missing or a directory", ap->layer,
			       entry, target);
	if (fstatat(pfd, base, &ds, AT_SYMLINK_NOFOLLOW) == 0 && ds.st_ino == ts.st_ino && ds.st_dev == ts.st_dev)
		return 0; /* already that file */
	if (bx_rm_at(pfd, base) < 0 || linkat(tfd, tbase, pfd, base, 0) < 0)
		return bx_fail(err, errno, "layer %s: cannot hardlink '%s' -> '%s'", ap->layer, entry, target);
	return 0;
}

static int node(struct apply *ap, int pfd, const char *base, struct archive_entry *e, const char *entry,
		struct bx_err *err)
{
	mode_t type = archive_entry_filetype(e), mode = archive_entry_mode(e) & 07777;
	if (type != AE_IFIFO && !ap->privileged)
		return 0; /* device nodes need CAP_MKNOD; an unprivileged unpack goes without */
	if (mknodat(pfd, base, type | mode, archive_entry_rdev(e)) < 0)
		return bx_fail(err, errno, "layer %s: cannot create node '%s'", ap->layer, entry);
	struct timespec ts[2];
	entry_times(e, ts);
	if ((ap->privileged && fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
					AT_SYMLINK_NOFOLLOW) < 0) ||
	    fchmodat(pfd, base, mode, 0) < 0 || utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return bx_fail(err, errno, "layer %s: cannot set attributes of '%s'", ap->layer, entry);
	return 0;
}

static int remember_dir(struct apply *ap, const char *path, struct archive_entry *e, struct bx_err *err)
{
	struct dirtime *nd = realloc(ap->dirs, (ap->ndirs + 1) * sizeof(*nd));
	if (!nd)
		return bx_fail(err, ENOMEM, "out of memory");
	ap->dirs = nd;
	if (!(nd[ap->ndirs].path = strdup(path)))
		return bx_fail(err, ENOMEM, "out of memory");
	entry_times(e, nd[ap->ndirs].ts);
	ap->ndirs++;
	return 0;
}

static int place(struct apply *ap, struct archive *a, struct archive_entry *e, const char *path, int pfd,
		 const char *base, struct bx_err *err)
{
	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (hl)
		return hardlink(ap, pfd, base, path, hl, err);
	/* an existing directory stays (merging); anything else in the way goes */
	if (exists && !(type == AE_IFDIR && S_ISDIR(st.st_mode))) {
		if (bx_rm_at(pfd, base) < 0)
			return bx_fail(err, errno, "layer %s: cannot replace '%s'", ap->layer, path);
		exists = false;
	}
	struct timespec ts[2];
	entry_times(e, ts);
	switch (type) {
	case AE_IFDIR: {
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return bx_fail(err, errno, "layer %s: cannot create directory '%s'", ap->layer, path);
		_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return bx_fail(err, errno, "layer %s: cannot open directory '%s'", ap->layer, path);
		return set_meta(ap, fd, e, path, err) < 0 ? -1 : remember_dir(ap, path, e, err);
	}
	case AE_IFREG: {
		/* the declared size counts (holes too: a sparse file is still that big to every reader) */
		ap->written += archive_entry_size(e) > 0 ? archive_entry_size(e) : 0;
		if (ap->written > ap->max)
			return bx_fail(err, 0, "layer %s unpacks to more than %lld bytes (at '%s'); if the image is genuine, raise BOXVM_MAX_LAYER_SIZE",
				       ap->layer, ap->max, path);
		_cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return bx_fail(err, errno, "layer %s: cannot create '%s'", ap->layer, path);
		if (write_file(ap, a, fd, path, err) < 0 || set_meta(ap, fd, e, path, err) < 0)
			return -1;
		if (ftruncate(fd, archive_entry_size(e)) < 0 || futimens(fd, ts) < 0)
			return bx_fail(err, errno, "layer %s: cannot finish '%s'", ap->layer, path);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		/* stored as-is: it is only ever followed inside the guest, whose root this is */
		if (!target || symlinkat(target, pfd, base) < 0)
			return bx_fail(err, target ? errno : 0, "layer %s: cannot create symlink '%s'", ap->layer, path);
		if ((ap->privileged && fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
						AT_SYMLINK_NOFOLLOW) < 0) ||
		    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return bx_fail(err, errno, "layer %s: cannot set attributes of symlink '%s'", ap->layer, path);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		return node(ap, pfd, base, e, path, err);
	case AE_IFSOCK:
		return 0; /* sockets are not content; Docker skips them too */
	default:
		return bx_fail(err, 0, "layer %s: entry '%s' has an unsupported type (0%o)", ap->layer, path,
			       (unsigned)type);
	}
}

static int apply_entry(struct apply *ap, struct archive *a, struct archive_entry *e, struct bx_err *err)
{
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return bx_fail(err, 0, "layer %s: an entry has no readable name", ap->layer);
	_cleanup_free_ char *path = clean_entry(raw);
	if (!path)
		return errno == ENOMEM ? bx_fail(err, ENOMEM, "out of memory")
				       : bx_fail(err, 0, "layer %s: entry '%s' has a '..' component; refusing",
						 ap->layer, raw);
	if (!*path) { /* "./": the root itself; only its attributes can change */
		if (archive_entry_filetype(e) != AE_IFDIR)
			return bx_fail(err, 0, "layer %s: entry '%s' would replace the root", ap->layer, raw);
		return set_meta(ap, ap->root, e, raw, err) < 0 ? -1 : remember_dir(ap, "", e, err);
	}
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return bx_fail(err, ENOMEM, "out of memory");
	const char *base;
	const char *dir = split(copy, &base);
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		return whiteout(ap, path, dir, base, NULL, err);
	/* overlayfs's on-disk whiteout: never created in the cache, applied as the OCI whiteout it means */
	if (archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == makedev(0, 0) &&
	    !archive_entry_hardlink(e))
		return whiteout(ap, path, dir, base, base, err);
	_cleanup_close_ int pfd = walk(ap, dir, path, true, err);
	if (pfd < 0 || place(ap, a, e, path, pfd, base, err) < 0)
		return -1;
	mark(ap, path);
	return 0;
}

static void set_dir_times(struct apply *ap)
{
	struct bx_err ignored;
	for (size_t i = 0; i < ap->ndirs; i++) {
		char *p = ap->dirs[i].path;
		if (!*p) {
			futimens(ap->root, ap->dirs[i].ts);
			continue;
		}
		const char *base;
		char *dir = split(p, &base);
		_cleanup_close_ int pfd = walk(ap, dir, p, false, &ignored);
		if (pfd >= 0) /* gone (whited out later) is fine */
			utimensat(pfd, base, ap->dirs[i].ts, AT_SYMLINK_NOFOLLOW);
	}
}

int bx_layer_apply(int root_dirfd, const char *layer_path, struct bx_err *err)
{
	struct apply ap = {.root = root_dirfd, .layer = layer_path, .seen = json_object(),
			   .privileged = geteuid() == 0};
	struct archive *a = archive_read_new();
	int rc = -1;
	if (!a || !ap.seen) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (bx_layer_max_size(&ap.max, err) < 0)
		goto out;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, layer_path, 1 << 16) != ARCHIVE_OK) {
		bx_fail(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "cannot open layer %s: %s", layer_path,
			archive_error_string(a));
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
		if (apply_entry(&ap, a, e, err) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		bx_fail(err, 0, "layer %s is not a valid tar: %s", layer_path, archive_error_string(a));
		goto out;
	}
	set_dir_times(&ap);
	rc = 0;
out:
	for (size_t i = 0; i < ap.ndirs; i++)
		free(ap.dirs[i].path);
	free(ap.dirs);
	json_decref(ap.seen);
	archive_read_free(a);
	return rc;
}
