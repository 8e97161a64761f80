/* cp with the root of a box that is not running (cp_root.h). */
#include "cp_root.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "../vm/vmspec.h"
#include "../common/treecopy.h"

int bx_cp_root_open_src(int root, const char *dir, const char *name, bool contents, const char *src,
			struct bx_err *err)
{
	char full[PATH_MAX * 2];
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	_cleanup_close_ int fd = bx_open_in_root(root, contents ? full : dir, O_RDONLY | O_DIRECTORY);
	struct stat st;
	if (fd < 0 || (!contents && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)) {
		if (errno == ENOTDIR && contents)
			return bx_fail(err, errno, "cp: not a directory in the box: %s", src);
		return bx_fail(err, errno, "cp: no such file or directory in the box: %s", src);
	}
	return BX_TAKE_FD(fd);
}

int bx_cp_root_tar(int dirfd, const char *name, int out_fd, struct bx_err *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return bx_fail(err, errno, "fork");
	if (pid == 0) {
		char at[64];
		int keep = dup(dirfd); /* without O_CLOEXEC: tar opens it by its /proc name */
		snprintf(at, sizeof(at), "/proc/self/fd/%d", keep);
		if (out_fd != STDOUT_FILENO && dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(127);
		execlp("tar", "tar", "-cf", "-", "-C", at, "--numeric-owner", "--", name, (char *)NULL);
		fprintf(stderr, "boxvm: cp: cannot run tar: %s\n", strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : bx_fail(err, 0, "cp: the host's tar failed (see its message above)");
}

/* The box's mount (config.json Mounts, HostConfig.Tmpfs) that holds path,
 * matched by its text: the longest destination that is path or a parent of
 * it. Returns its JSON (borrowed from *cfg, which the caller decrefs) or
 * NULL for the box's root; *tmpfs tells a tmpfs. */
static json_t *mount_of(const char *box_dir, const char *path, json_t **cfg, bool *tmpfs)
{
	char file[PATH_MAX];
	*tmpfs = false;
	*cfg = bx_path_join(file, sizeof(file), NULL, "%s/config.json", box_dir) == 0 ? json_load_file(file, 0, NULL) : NULL;
	json_t *best = NULL, *m;
	size_t best_len = 0, i;
	const char *dest;
#define UNDER(d) (strlen(d) > best_len && !strncmp(path, (d), strlen(d)) && \
		  (path[strlen(d)] == '\0' || path[strlen(d)] == '/' || !strcmp((d), "/")))
	json_array_foreach(json_object_get(*cfg, "Mounts"), i, m) {
		dest = json_string_value(json_object_get(m, "Destination"));
		if (dest && UNDER(dest)) {
			best = m;
			best_len = strlen(dest);
		}
	}
	json_t *t;
	json_object_foreach(json_object_get(json_object_get(*cfg, "HostConfig"), "Tmpfs"), dest, t) {
		if (UNDER(dest)) {
			best = t;
			best_len = strlen(dest);
			*tmpfs = true;
		}
	}
#undef UNDER
	return best;
}

/* Docker refuses to write into a read-only root or mount; and a box that is
 * not running has its mounts' contents elsewhere on the host (its root
 * holds only the empty mount points): say where, rather than copy beside
 * them. */
int bx_cp_check_box_path(const struct bx_box_record *box, const char *path, bool into_box, bool running,
			  struct bx_err *err)
{
	_cleanup_json_ json_t *cfg = NULL;
	bool tmpfs;
	json_t *m = mount_of(box->box_dir, path, &cfg, &tmpfs);
	if (m && !running) {
		const char *src = json_string_value(json_object_get(m, "Source"));
		return tmpfs ? bx_fail(err, 0, "cp: %s is on a tmpfs of box %s, which exists only while it runs", path, box->name)
			     : bx_fail(err, 0, "cp: %s is on a mount of box %s, which is not running: start it, or use %s on the host",
				       path, box->name, src ? src : "the mount's source");
	}
	if (into_box && m && !tmpfs && json_is_false(json_object_get(m, "RW")))
		return bx_fail(err, 0, "cp: %s is on a read-only mount of box %s", path, box->name);
	if (into_box && !m) {
		/* large, and the API's threads each check: on the heap */
		_cleanup_free_ struct bx_vmspec *vm = calloc(1, sizeof(*vm));
		char file[PATH_MAX];
		if (!vm)
			return bx_fail(err, ENOMEM, "out of memory");
		if (bx_path_join(file, sizeof(file), NULL, "%s/vm.json", box->box_dir) == 0 &&
		    bx_vmspec_read(file, vm, NULL) == 0 && vm->rootfs_ro)
			return bx_fail(err, 0, "cp: box %s's root filesystem is read-only (--read-only)", box->name);
	}
	return 0;
}
