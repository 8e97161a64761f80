/* Building and finding entries of the rootfs cache (see layercache.h). */
#include "layercache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

int bx_layercache_lock(const struct bx_paths *p, const char *hex, bool nonblock, struct bx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/rootfs-cache", p->data) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    bx_path_join(path, sizeof(path), err, "%s/%s.lock", dir, hex) < 0)
		return -1;
	for (;;) {
		_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return bx_fail(err, errno, "cannot open %s", path);
		int r;
		while ((r = flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0))) < 0 && errno == EINTR)
			;
		if (r < 0 && nonblock && errno == EWOULDBLOCK)
			return -2;
		if (r < 0)
			return bx_fail(err, errno, "cannot lock %s", path);
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return BX_TAKE_FD(fd);
		/* a remover unlinked it while we waited: fd closes here, and the current one is locked */
	}
}

static int build(const struct bx_paths *p, const struct bx_image *img, char *const *diff_ids, const char *tmp,
		 const char *dir, struct bx_err *err)
{
	if (bx_rm_rf(tmp, err) < 0 || bx_mkdir_p(tmp, 0755, err) < 0) /* a crashed build's leftovers go first */
		return -1;
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", tmp);
	for (size_t i = 0; i < img->nlayers; i++) {
		char path[PATH_MAX], got[BX_DIGEST_SIZE];
		if (bx_blob_path(p, img->layers[i], path, sizeof(path), err) < 0)
			return -1;
		if (access(path, R_OK) < 0)
			return bx_fail(err, errno, "layer %s of image %.19s is missing from the store; pull or load the image again",
				       img->layers[i], img->id);
		if (bx_layer_diff_id(path, got, err) < 0)
			return -1;
		if (strcmp(got, diff_ids[i]) != 0)
			return bx_fail(err, 0, "layer %s of image %.19s does not match its diff id in the image config "
				       "(%s, its content is %s); the image is corrupt", img->layers[i], img->id, diff_ids[i], got);
		if (bx_layer_apply(fd, path, err) < 0)
			return bx_wrap(err, "cannot unpack image %.19s", img->id);
	}
	/* the entry is shared by every later box: make it durable before it is visible */
	if (syncfs(fd) < 0)
		return bx_fail(err, errno, "cannot sync %s", tmp);
	if (rename(tmp, dir) < 0)
		return bx_fail(err, errno, "cannot move %s to %s", tmp, dir);
	return 0;
}

int bx_layercache_get(const struct bx_paths *p, const struct bx_image *img, char *dir, size_t size,
		      char chain[BX_DIGEST_SIZE], int *lock_fd, bool *built, struct bx_err *err)
{
	char **diff_ids = NULL, tmp[PATH_MAX];
	_cleanup_close_ int fd = -1;
	*lock_fd = -1;
	*built = false;
	if (img->nlayers == 0)
		return bx_fail(err, 0, "image %.19s has no layers; there is no root filesystem to run", img->id);
	if (bx_image_diff_ids(p, img, &diff_ids, err) < 0 || bx_chain_id(diff_ids, img->nlayers, chain, err) < 0 ||
	    bx_path_join(dir, size, err, "%s/rootfs-cache/%s", p->data, chain + 7) < 0 ||
	    bx_path_join(tmp, sizeof(tmp), err, "%s/rootfs-cache/.tmp-%s", p->data, chain + 7) < 0)
		goto fail;
	fd = bx_layercache_lock(p, chain + 7, false, err);
	if (fd < 0)
		goto fail;
	struct stat st;
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			bx_fail(err, errno, "cannot stat %s", dir);
			goto fail;
		}
		if (build(p, img, diff_ids, tmp, dir, err) < 0) {
			bx_rm_rf(tmp, NULL); /* nothing half-built stays */
			goto fail;
		}
		*built = true;
	}
	bx_strv_free(diff_ids);
	*lock_fd = BX_TAKE_FD(fd);
	return 0;
fail:
	bx_strv_free(diff_ids);
	return -1;
}
