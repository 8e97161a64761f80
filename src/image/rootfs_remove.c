/* Unmounting and removing a box's root (see rootfs.h). Apart from
 * rootfs.c, whose creation side needs the layer cache and libarchive: what
 * removes a box (also a dead --rm box found by any command, `boxvm exec`
 * included) links without them (src/cli/front.c). */
#include "rootfs.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

/* A mount point has another device than its parent (overlayfs has its own). */
bool bx_rootfs_mounted(const char *box_dir, const char *rootfs)
{
	struct stat a, b;
	return stat(box_dir, &a) == 0 && stat(rootfs, &b) == 0 && a.st_dev != b.st_dev;
}

int bx_rootfs_release(const char *box_dir, struct bx_err *err)
{
	char rootfs[PATH_MAX];
	if (bx_path_join(rootfs, sizeof(rootfs), err, "%s/rootfs", box_dir) < 0)
		return -1;
	/* virtiofsd may still be on its way out for a moment after it was killed */
	for (int tries = 0; bx_rootfs_mounted(box_dir, rootfs); tries++) {
		if (umount2(rootfs, UMOUNT_NOFOLLOW) == 0)
			return 0;
		if (errno != EBUSY || tries >= 50)
			return bx_fail(err, errno, "cannot unmount the root filesystem %s", rootfs);
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	}
	return 0;
}

int bx_box_remove_dir(const char *box_dir, struct bx_err *err)
{
	if (bx_rootfs_release(box_dir, err) < 0)
		return -1;
	return bx_rm_rf(box_dir, err);
}
