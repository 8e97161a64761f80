/* Where boxvm keeps things (paths.h). */
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

static int set_from_env(char *dst, size_t size, const char *env, const char *fallback, struct bx_err *err)
{
	const char *v = getenv(env);
	if (!v || !*v)
		v = fallback;
	if (snprintf(dst, size, "%s", v) >= (int)size)
		return bx_fail(err, 0, "%s is too long", env);
	return 0;
}

static int find_libexec(char *out, size_t size, struct bx_err *err)
{
	const char *env = getenv("BOXVM_LIBEXEC");
	if (env && *env)
		return bx_path_join(out, size, err, "%s", env);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return bx_fail(err, errno, "cannot resolve /proc/self/exe");
	exe[n] = '\0';
	char *dir = dirname(exe);
	char probe[PATH_MAX];
	if (bx_path_join(probe, sizeof(probe), err, "%s/boxvm-shim", dir) < 0)
		return -1;
	if (access(probe, X_OK) == 0)
		return bx_path_join(out, size, err, "%s", dir);
	return bx_path_join(out, size, err, "%s/../libexec/boxvm", dir);
}

int bx_paths_init(struct bx_paths *p, struct bx_err *err)
{
	if (set_from_env(p->data, sizeof(p->data), "BOXVM_ROOT", "/var/lib/boxvm", err) < 0 ||
	    set_from_env(p->run, sizeof(p->run), "BOXVM_RUNTIME_DIR", "/run/boxvm", err) < 0)
		return -1;
	const char *kind = getenv("BOXVM_KERNEL");
	if (!kind || !*kind)
		kind = BX_KERNEL_CLOUD;
	if (bx_kernel_kind_check(kind, err) < 0)
		return -1;
	snprintf(p->kernel_kind, sizeof(p->kernel_kind), "%s", kind);
	if (bx_kernel_dir_of(p, p->kernel_kind, p->kernel, sizeof(p->kernel), err) < 0)
		return -1;
	return find_libexec(p->libexec, sizeof(p->libexec), err);
}

int bx_kernel_kind_check(const char *kind, struct bx_err *err)
{
	if (kind && (!strcmp(kind, BX_KERNEL_CLOUD) || !strcmp(kind, BX_KERNEL_TAILORED)))
		return 0;
	return bx_fail(err, 0, "unknown guest kernel '%.64s' (BOXVM_KERNEL, --kernel): use 'cloud' or 'tailored'",
		       kind ? kind : "");
}

int bx_kernel_dir_of(const struct bx_paths *p, const char *kind, char *out, size_t size, struct bx_err *err)
{
	bool tailored = !strcmp(kind, BX_KERNEL_TAILORED);
	char def[PATH_MAX];
	if (bx_path_join(def, sizeof(def), err, "%s/%s", p->data, tailored ? "kernel-tailored" : "kernel") < 0)
		return -1;
	return set_from_env(out, size, tailored ? "BOXVM_TAILORED_KERNEL_DIR" : "BOXVM_KERNEL_DIR", def, err);
}

int bx_path_join(char *out, size_t size, struct bx_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, ENAMETOOLONG, "path too long");
	return 0;
}

int bx_mkdir_p_parents(const char *path, unsigned mode, unsigned parent_mode, struct bx_err *err)
{
	char buf[PATH_MAX];
	if (bx_path_join(buf, sizeof(buf), err, "%s", path) < 0)
		return -1;
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, parent_mode) < 0 && errno != EEXIST)
			return bx_fail(err, errno, "cannot create directory %s", buf);
		*s = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return bx_fail(err, errno, "cannot create directory %s", buf);
	return 0;
}

int bx_mkdir_p(const char *path, unsigned mode, struct bx_err *err)
{
	/* a missing DATA (or any other parent) must not take a leaf's wider mode:
	 * DATA/initramfs made first would otherwise have made DATA 0755 */
	return bx_mkdir_p_parents(path, mode, 0700, err);
}

static int rm_at(int dirfd, const char *name, dev_t dev)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev)
			return errno = EBUSY, -1; /* a mount point: never cross */
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -1;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -1;
		}
		int rc = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (rm_at(fd, e->d_name, dev) < 0)
				rc = -1;
		}
		closedir(d);
		if (rc < 0)
			return -1;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return -1;
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int bx_rm_at(int dirfd, const char *name)
{
	struct stat parent;
	if (fstat(dirfd, &parent) < 0)
		return -1;
	return rm_at(dirfd, name, parent.st_dev);
}

int bx_rm_rf(const char *path, struct bx_err *err)
{
	if (!path || !*path || !strcmp(path, "/"))
		return bx_fail(err, EINVAL, "refusing to remove '%s'", path ? path : "");
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot remove %s", path);
	if (rm_at(AT_FDCWD, path, st.st_dev) < 0)
		return bx_fail(err, errno, "cannot remove %s", path);
	return 0;
}

int bx_lock_file(const char *path, int how, struct bx_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "cannot lock %s", path);
	return BX_TAKE_FD(fd);
}

int bx_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, struct bx_err *err)
{
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), err, "%s.tmp.XXXXXX", path) < 0)
		return -1;
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot create %s", tmp);
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			unlink(tmp);
			return bx_fail(err, e, "cannot write %s", tmp);
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return bx_fail(err, e, "cannot sync %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return bx_fail(err, e, "cannot rename %s to %s", tmp, path);
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int bx_read_file(const char *path, char **out, size_t *len, struct bx_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return bx_fail(err, ENOMEM, "out of memory");
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				return bx_fail(err, ENOMEM, "out of memory");
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bx_fail(err, errno, "cannot read %s", path);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = BX_TAKE_PTR(buf);
	if (len)
		*len = n;
	return 0;
}
