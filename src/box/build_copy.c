/* COPY and ADD layers of a build, made on the host (build_copy.h). */
#include "build_copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/tar_extract.h"
#include "../common/treecopy.h"
#include "../image/image.h"
#include "../image/registry/fetch.h"

#define COPY_MAX_DEPTH 256
#define COPY_MAX_MATCHES 100000

/* the destination's parents made in the staging tree, dated once the copy is done */
struct made {
	char path[64][PATH_MAX / 16];
	struct timespec t[64];
	size_t n;
};

struct copy {
	struct made made;
	const struct bx_build_context *c;
	uid_t uid;
	gid_t gid;
	char rel[PATH_MAX]; /* the context-relative path being copied */
};

static int copy_file_data(int in, int out, const char *rel, struct bx_err *err)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot read %s in the build context", rel);
		if (!n)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return bx_fail(err, errno, "cannot write the copy of %s", rel);
			off += w;
		}
	}
}

/* srcdir/name (c->rel) to dstdir/dname, recursively; nothing followed; an
 * entry .dockerignore excludes is left out */
static int copy_entry(struct copy *c, int srcdir, const char *name, int dstdir, const char *dname, int depth,
		      struct bx_err *err)
{
	if (depth > COPY_MAX_DEPTH)
		return bx_fail(err, ELOOP, "%s: deeper than %d directories", c->rel, COPY_MAX_DEPTH);
	if (depth > 0 && bx_ignore_match(&c->c->ignore, c->rel))
		return 0;
	struct stat st;
	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bx_fail(err, errno, "cannot stat %s in the build context", c->rel);
	/* atime := mtime: reading the context must not change the layer (its digest keys the cache) */
	struct timespec times[2] = {st.st_mtim, st.st_mtim};
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		struct stat ist;
		if (in < 0 || fstat(in, &ist) < 0)
			return bx_fail(err, errno, "cannot open %s in the build context", c->rel);
		if (ist.st_ino != st.st_ino || ist.st_dev != st.st_dev || !S_ISREG(ist.st_mode))
			return bx_fail(err, 0, "%s changed while it was copied", c->rel);
		unlinkat(dstdir, dname, 0); /* a later source replaces an earlier one, as Docker */
		_cleanup_close_ int out = openat(dstdir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return bx_fail(err, errno, "cannot create the copy of %s", c->rel);
		if (copy_file_data(in, out, c->rel, err) < 0)
			return -1;
		if (fchown(out, c->uid, c->gid) < 0 || fchmod(out, st.st_mode & 07777) < 0 || futimens(out, times) < 0)
			return bx_fail(err, errno, "cannot set the owner, mode or times of the copy of %s", c->rel);
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(srcdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return bx_fail(err, errno, "cannot read the link %s", c->rel);
		target[n] = '\0';
		unlinkat(dstdir, dname, 0);
		if (symlinkat(target, dstdir, dname) < 0 || fchownat(dstdir, dname, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(dstdir, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
			return bx_fail(err, errno, "cannot copy the link %s", c->rel);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0; /* devices, fifos, sockets: not copied */
	if (mkdirat(dstdir, dname, 0700) < 0 && errno != EEXIST)
		return bx_fail(err, errno, "cannot create the copy of %s", c->rel);
	_cleanup_close_ int in = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = openat(dstdir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || out < 0)
		return bx_fail(err, errno, "cannot open the directory %s", c->rel);
	DIR *d = bx_dir_stream(in);
	if (!d)
		return bx_fail(err, errno, "cannot list %s", c->rel);
	size_t rl = strlen(c->rel);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rl + 1 + strlen(de->d_name) >= sizeof(c->rel)) {
			rc = bx_fail(err, ENAMETOOLONG, "a path under %s is too long", c->rel);
			break;
		}
		snprintf(c->rel + rl, sizeof(c->rel) - rl, "%s%s", rl ? "/" : "", de->d_name);
		rc = copy_entry(c, in, de->d_name, out, de->d_name, depth + 1, err);
		c->rel[rl] = '\0';
	}
	closedir(d);
	if (rc < 0)
		return -1;
	/* the directory itself: only a source's subdirectory keeps its mode (the
	 * destination's own is set by the caller) */
	if (depth > 0 && (fchown(out, c->uid, c->gid) < 0 || fchmod(out, st.st_mode & 07777) < 0 || futimens(out, times) < 0))
		return bx_fail(err, errno, "cannot set the owner, mode or times of the copy of %s", c->rel);
	return 0;
}

/* filepath.Clean of a source relative to the context; -1 when it leaves it */
static int clean_rel(const char *src, char *out, size_t size, struct bx_err *err)
{
	char buf[PATH_MAX];
	if (strlen(src) >= sizeof(buf))
		return bx_fail(err, ENAMETOOLONG, "source path too long: %.64s...", src);
	snprintf(buf, sizeof(buf), "%s", src);
	size_t o = 0;
	out[0] = '\0';
	for (char *save, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (!o)
				return bx_fail(err, 0, "Forbidden path outside the build context: %s ()", src);
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			out[o] = '\0';
			continue;
		}
		int n = snprintf(out + o, size - o, "%s%s", o ? "/" : "", t);
		if (n < 0 || (size_t)n >= size - o)
			return bx_fail(err, ENAMETOOLONG, "source path too long: %.64s...", src);
		o += (size_t)n;
	}
	return 0;
}

/* the directory holding rel in the context, opened without following any link */
static int open_parent(int root, const char *rel, const char **base, struct bx_err *err)
{
	const char *slash = strrchr(rel, '/');
	*base = slash ? slash + 1 : rel;
	int fd = dup(root);
	if (fd < 0)
		return bx_fail(err, errno, "dup");
	for (const char *s = rel; slash && s < slash;) {
		size_t l = strcspn(s, "/");
		char comp[NAME_MAX + 1];
		snprintf(comp, sizeof(comp), "%.*s", (int)(l > NAME_MAX ? NAME_MAX : l), s);
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (nfd < 0)
			return bx_fail(err, e == ELOOP || e == ENOTDIR ? 0 : e,
				       e == ELOOP || e == ENOTDIR
					       ? "COPY failed: %s: a path through a symlink or a file in the build context (not followed)"
					       : "COPY failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist",
				       rel);
		fd = nfd;
		s += l + 1;
	}
	return fd;
}

/* every context path the glob matches, in walk order */
static int glob_walk(int dirfd, char *rel, size_t rl, const char *pattern, const struct bx_ignore *ig, char ***out,
		     size_t *n, int depth, struct bx_err *err)
{
	if (depth > COPY_MAX_DEPTH)
		return 0;
	DIR *d = bx_dir_stream(dirfd);
	if (!d)
		return bx_fail(err, errno, "cannot list the build context");
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rl + 1 + strlen(de->d_name) >= PATH_MAX)
			continue;
		snprintf(rel + rl, PATH_MAX - rl, "%s%s", rl ? "/" : "", de->d_name);
		if (bx_ignore_match(ig, rel)) {
			rel[rl] = '\0';
			continue;
		}
		if (bx_glob_match(pattern, rel)) {
			if (*n >= COPY_MAX_MATCHES)
				rc = bx_fail(err, E2BIG, "COPY: more than %d sources match %s", COPY_MAX_MATCHES, pattern);
			else
				rc = bx_strv_push(out, n, rel, err);
		} else if (de->d_type == DT_DIR) {
			_cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = glob_walk(sub, rel, strlen(rel), pattern, ig, out, n, depth + 1, err);
		}
		rel[rl] = '\0';
	}
	closedir(d);
	return rc;
}

/* mkdir -p of dest's components in the staging tree, each with the owner
 * and mode the stage's tree has for it (a new one: root 0755) */
static int make_dirs(struct made *md, int stage, int base, const char *dest, size_t upto, struct bx_err *err)
{
	int fd = dup(stage), bfd = base >= 0 ? dup(base) : -1;
	if (fd < 0)
		return bx_fail(err, errno, "dup");
	for (const char *s = dest; *s && (size_t)(s - dest) < upto;) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (!l || (size_t)(s - dest) >= upto)
			break;
		char comp[NAME_MAX + 1];
		if (l > NAME_MAX) {
			close(fd);
			if (bfd >= 0)
				close(bfd);
			return bx_fail(err, ENAMETOOLONG, "destination component too long in %s", dest);
		}
		snprintf(comp, sizeof(comp), "%.*s", (int)l, s);
		struct stat bst = {.st_mode = S_IFDIR | 0755};
		int nb = bfd >= 0 ? openat(bfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (nb >= 0 && fstat(nb, &bst) < 0)
			bst.st_mode = S_IFDIR | 0755, bst.st_uid = 0, bst.st_gid = 0;
		if (bfd >= 0)
			close(bfd);
		bfd = nb;
		bool made = mkdirat(fd, comp, 0700) == 0;
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0) {
			if (bfd >= 0)
				close(bfd);
			return bx_fail(err, errno, "cannot make the destination directory %s", dest);
		}
		fd = nfd;
		/* a directory the stage lacks is dated the epoch, one it has keeps its
		 * date: the same sources make the same layer, whose digest keys the cache */
		if (made && md->n < 64 && (size_t)(s + l - dest) < sizeof(md->path[0])) {
			snprintf(md->path[md->n], sizeof(md->path[0]), "%.*s", (int)(s + l - dest), dest);
			md->t[md->n++] = nb >= 0 ? bst.st_mtim : (struct timespec){0};
		}
		if (made && (fchown(fd, bst.st_uid, bst.st_gid) < 0 || fchmod(fd, bst.st_mode & 07777) < 0)) {
			close(fd);
			if (bfd >= 0)
				close(bfd);
			return bx_fail(err, errno, "cannot set up the destination directory %s", dest);
		}
		s += l;
	}
	if (bfd >= 0)
		close(bfd);
	return fd;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* ADD's auto-extraction: a file whose first bytes say tar, gzip, bzip2 or xz */
static bool looks_like_archive(int fd)
{
	unsigned char h[512];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return true;
	if (n >= 3 && !memcmp(h, "BZh", 3))
		return true;
	if (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6))
		return true;
	return n >= 262 && !memcmp(h + 257, "ustar", 5);
}

/* The directories an archive holds without listing them are made by its
 * extraction, dated then: they are dated the epoch instead (after what is
 * under them), so the same archive makes the same layer, whose digest keys
 * the cache. A listed directory keeps the date the archive gives it. */
static int date_unlisted_dirs(int fd, const struct timespec *since, int depth, struct bx_err *err)
{
	if (depth > BX_TREECOPY_MAX_DEPTH)
		return bx_fail(err, ELOOP, "the archive's tree is deeper than %d directories", BX_TREECOPY_MAX_DEPTH);
	DIR *ds = bx_dir_stream(fd);
	if (!ds)
		return bx_fail(err, errno, "cannot read an unpacked directory");
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(ds))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_close_ int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			rc = date_unlisted_dirs(sub, since, depth + 1, err);
	}
	closedir(ds);
	struct stat st;
	if (rc == 0 && fstat(fd, &st) == 0 &&
	    (st.st_mtim.tv_sec > since->tv_sec || (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec >= since->tv_nsec)) &&
	    futimens(fd, (const struct timespec[]){{0, 0}, {0, 0}}) < 0)
		rc = bx_fail(err, errno, "cannot date an unpacked directory");
	return rc;
}

/* one resolved source into the staging tree */
static int copy_source(struct copy *cp, const char *rel, const struct bx_copy_req *r,
		       int stage, const char *stage_path, bool dest_is_dir, struct bx_err *err)
{
	const char *base = NULL; /* set by open_parent when rel is not empty (-O2 cannot tell) */
	_cleanup_close_ int dir = rel[0] ? open_parent(cp->c->root_fd, rel, &base, err) : dup(cp->c->root_fd);
	if (dir < 0)
		return -1;
	if (!rel[0])
		base = ".";
	struct stat st;
	if ((rel[0] && bx_ignore_match(&cp->c->ignore, rel)) || fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bx_fail(err, 0, "COPY failed: file not found in build context or excluded by .dockerignore: stat %s: "
				       "file does not exist", rel);
	snprintf(cp->rel, sizeof(cp->rel), "%s", rel);
	size_t dl = strlen(r->dest);
	if (S_ISDIR(st.st_mode)) { /* its contents into dest */
		_cleanup_close_ int d = make_dirs(&cp->made, stage, r->base_fd, r->dest, dl, err);
		if (d < 0)
			return -1;
		/* the destination directory itself: copied onto it as the source's dir has it */
		_cleanup_close_ int sd = openat(dir, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sd < 0)
			return bx_fail(err, errno, "cannot open %s in the build context", rel);
		DIR *ds = bx_dir_stream(sd);
		if (!ds)
			return bx_fail(err, errno, "cannot list %s", rel);
		struct dirent *de;
		int rc = 0;
		size_t rl = strlen(cp->rel);
		while (rc == 0 && (de = readdir(ds))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(cp->rel + rl, sizeof(cp->rel) - rl, "%s%s", rl ? "/" : "", de->d_name);
			rc = copy_entry(cp, sd, de->d_name, d, de->d_name, 1, err);
			cp->rel[rl] = '\0';
		}
		closedir(ds);
		return rc;
	}
	/* a file (or a link): dest/base when dest is a directory, else dest itself */
	const char *slash = strrchr(r->dest, '/');
	bool into = dest_is_dir;
	size_t parent_len = into ? dl : (size_t)(slash - r->dest);
	_cleanup_close_ int d = make_dirs(&cp->made, stage, r->base_fd, r->dest, parent_len, err);
	if (d < 0)
		return -1;
	const char *name = into ? base : slash + 1;
	if (r->add && S_ISREG(st.st_mode)) {
		_cleanup_close_ int f = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f >= 0 && looks_like_archive(f)) {
			char path[PATH_MAX];
			if (!into) { /* ADD x.tar /dir: the archive is unpacked into /dir */
				if (mkdirat(d, name, 0755) < 0 && errno != EEXIST)
					return bx_fail(err, errno, "cannot make %s", r->dest);
			}
			if (bx_path_join(path, sizeof(path), err, "%s%s", stage_path, r->dest) < 0)
				return -1;
			struct timespec since; /* the file system dates with the coarse clock */
			clock_gettime(CLOCK_REALTIME_COARSE, &since);
			if (bx_archive_extract_fd(f, path, rel, err) < 0)
				return -1;
			_cleanup_close_ int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (top < 0)
				return bx_fail(err, errno, "cannot open %s", path);
			return date_unlisted_dirs(top, &since, 0, err);
		}
	}
	return copy_entry(cp, dir, base, d, name, 0, err);
}

/* ADD URL: fetched by the host (fetch.h) into the staging tree, as Docker
 * names and keeps it: the URL's last path component (or dest itself when
 * dest names no directory), mode 0600, dated by Last-Modified (else the
 * epoch), never unpacked */
static int fetch_source(struct copy *cp, const char *url, const struct bx_copy_req *r, int stage, bool dest_is_dir,
			struct bx_err *err)
{
	char file[NAME_MAX + 1];
	if (bx_url_file_name(url, file, sizeof(file), err) < 0)
		return bx_wrap(err, "ADD failed");
	if (dest_is_dir && !file[0])
		return bx_fail(err, 0, "ADD failed: cannot determine filename for source %s", url);
	size_t dl = strlen(r->dest);
	const char *slash = strrchr(r->dest, '/');
	_cleanup_close_ int d = make_dirs(&cp->made, stage, r->base_fd, r->dest, dest_is_dir ? dl : (size_t)(slash - r->dest),
					  err);
	if (d < 0)
		return -1;
	const char *name = dest_is_dir ? file : slash + 1;
	unlinkat(d, name, 0); /* a later source replaces an earlier one, as Docker */
	_cleanup_close_ int out = openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return bx_fail(err, errno, "ADD failed: cannot create %s for %s", r->dest, url);
	struct bx_fetch_info info;
	if (bx_http_fetch(url, out, BX_FETCH_MAX_BYTES, &info, err) < 0)
		return bx_wrap(err, "ADD failed");
	struct timespec t[2] = {{.tv_sec = info.mtime}, {.tv_sec = info.mtime}};
	if (fchown(out, cp->uid, cp->gid) < 0 || fchmod(out, 0600) < 0 || futimens(out, t) < 0)
		return bx_fail(err, errno, "cannot set the owner, mode or times of the download of %s", url);
	return 0;
}

int bx_build_copy_layer(const struct bx_paths *p, const struct bx_build_context *c, const struct bx_copy_req *r,
			struct bx_new_layer *out, const char **kind, struct bx_err *err)
{
	/* large, and an API service runs builds side by side: on the heap */
	_cleanup_free_ struct copy *cp = calloc(1, sizeof(*cp));
	if (!cp)
		return bx_fail(err, ENOMEM, "out of memory");
	char stage_path[PATH_MAX], dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/buildtmp", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    bx_path_join(stage_path, sizeof(stage_path), err, "%s/copy-XXXXXX", dir) < 0)
		return -1;
	if (!mkdtemp(stage_path))
		return bx_fail(err, errno, "cannot make a staging directory in %s", dir);
	int rc = -1;
	char **srcs = NULL;
	size_t n = 0;
	_cleanup_close_ int stage = open(stage_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (stage < 0) {
		bx_fail(err, errno, "cannot open %s", stage_path);
		goto out;
	}
	for (size_t i = 0; i < r->nsrcs; i++) {
		char rel[PATH_MAX];
		if (bx_url_is_remote(r->srcs[i])) { /* ADD's download: no context path */
			if (!r->add) {
				bx_fail(err, 0, "COPY failed: source can't be a URL for COPY");
				goto out;
			}
			if (bx_strv_push(&srcs, &n, r->srcs[i], err) < 0)
				goto out;
			continue;
		}
		if (clean_rel(r->srcs[i], rel, sizeof(rel), err) < 0)
			goto out;
		if (has_glob(rel)) {
			char walk[PATH_MAX] = "";
			size_t before = n;
			if (glob_walk(c->root_fd, walk, 0, rel, &c->ignore, &srcs, &n, 0, err) < 0)
				goto out;
			if (n == before) {
				bx_fail(err, 0, "COPY failed: no source files were specified");
				goto out;
			}
		} else if (bx_strv_push(&srcs, &n, rel, err) < 0) {
			goto out;
		}
	}
	size_t dl = strlen(r->dest);
	bool dest_is_dir = n > 1 || (dl && r->dest[dl - 1] == '/');
	if (n > 1 && !(dl && r->dest[dl - 1] == '/')) {
		bx_fail(err, 0, "When using COPY with more than one source file, the destination must be a directory and end with a /");
		goto out;
	}
	*kind = "file";
	cp->c = c;
	cp->uid = r->uid;
	cp->gid = r->gid;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (r->add && bx_url_is_remote(srcs[i])) {
			if (fetch_source(cp, srcs[i], r, stage, dest_is_dir, err) < 0)
				goto out;
			continue;
		}
		if (srcs[i][0] && fstatat(c->root_fd, srcs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			*kind = "dir";
		if (copy_source(cp, srcs[i], r, stage, stage_path, dest_is_dir, err) < 0)
			goto out;
	}
	if (n > 1)
		*kind = "multi";
	for (size_t i = 0; i < cp->made.n; i++) { /* (nothing in the staging tree is a link: make_dirs refused them) */
		struct timespec t[2] = {cp->made.t[i], cp->made.t[i]};
		if (utimensat(stage, cp->made.path[i][0] == '/' ? cp->made.path[i] + 1 : cp->made.path[i], t,
			      AT_SYMLINK_NOFOLLOW) < 0) {
			bx_fail(err, errno, "cannot date %s in the staging tree", cp->made.path[i]);
			goto out;
		}
	}
	rc = bx_layer_from_tree(p, stage, false, -1, out, err);
out:
	bx_strv_free(srcs);
	struct bx_err e2;
	bx_rm_rf(stage_path, &e2);
	return rc;
}

/* "name" -> its number in an /etc/passwd or /etc/group of the stage */
static int lookup_id(int base_fd, const char *file, const char *name, unsigned long *id, unsigned long *gid,
		     struct bx_err *err)
{
	_cleanup_close_ int fd = base_fd >= 0 ? bx_open_in_root(base_fd, file, O_RDONLY | O_NOFOLLOW) : -1;
	if (fd < 0)
		return bx_fail(err, 0, "unable to convert uid/gid chown string to host mapping: no %s in the image to look up %s",
			       file, name);
	char buf[1 << 16];
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	if (len < 0)
		return bx_fail(err, errno, "cannot read %s", file);
	buf[len] = '\0';
	size_t nl = strlen(name);
	for (char *save, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, nl) || line[nl] != ':')
			continue;
		char *f = strchr(line + nl + 1, ':'); /* past the password field */
		if (!f)
			continue;
		*id = strtoul(f + 1, &f, 10);
		if (gid && *f == ':')
			*gid = strtoul(f + 1, NULL, 10);
		return 0;
	}
	return bx_fail(err, 0, "unable to convert uid/gid chown string to host mapping: can't find %s %s in %s",
		       strstr(file, "group") ? "gid for group" : "uid for user", name, file);
}

static int id_of(int base_fd, const char *file, const char *s, unsigned long *id, unsigned long *gid, struct bx_err *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && v <= 0xFFFFFFFEul) {
		*id = v;
		return 0;
	}
	return lookup_id(base_fd, file, s, id, gid, err);
}

int bx_build_chown(int base_fd, const char *spec, uid_t *uid, gid_t *gid, struct bx_err *err)
{
	char user[256], group[256] = "";
	const char *colon = strchr(spec, ':');
	snprintf(user, sizeof(user), "%.*s", (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
	if (colon)
		snprintf(group, sizeof(group), "%s", colon + 1);
	if (!*user)
		return bx_fail(err, 0, "invalid --chown '%s': give USER[:GROUP]", spec);
	unsigned long u, g, pg = 0;
	if (id_of(base_fd, "/etc/passwd", user, &u, &pg, err) < 0)
		return -1;
	if (*group) {
		if (id_of(base_fd, "/etc/group", group, &g, NULL, err) < 0)
			return -1;
	} else {
		g = u; /* Docker: a user alone gives the same number as the group */
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}
