/* Prepare a box's root filesystem: the image's layers, base first, applied
 * into an empty directory. */
#include "../common/cleanup.h"
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int check_empty(int fd, const char *dest, struct bx_err *err)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	_cleanup_dir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return bx_fail(err, errno, "cannot read %s", dest);
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return bx_fail(err, 0, "rootfs directory %s is not empty", dest);
	return 0;
}

int bx_rootfs_unpack(const struct bx_paths *p, const struct bx_image *img, const char *dest, struct bx_err *err)
{
	if (bx_mkdir_p(dest, 0755, err) < 0)
		return -1;
	_cleanup_close_ int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", dest);
	if (check_empty(fd, dest, err) < 0)
		return -1;
	for (size_t i = 0; i < img->nlayers; i++) {
		char path[PATH_MAX];
		if (bx_blob_path(p, img->layers[i], path, sizeof(path), err) < 0)
			return -1;
		if (access(path, R_OK) < 0)
			return bx_fail(err, errno, "layer %s of image %.19s is missing from the store; load the image again",
				       img->layers[i], img->id);
		if (bx_layer_apply(fd, path, err) < 0)
			return bx_wrap(err, "cannot unpack image %.19s", img->id);
	}
	return 0;
}
