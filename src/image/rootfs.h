/* A box's writable root: host overlayfs at BOXDIR/rootfs with the image's
 * rootfs-cache entry (layercache.h) as its only lowerdir and
 * BOXDIR/overlay/{upper,work} for the box's changes; a private unpacked copy
 * when overlayfs cannot be mounted (not root, no overlay support).
 * BOXDIR/rootfs.json records which, the image and the cache entry used (the
 * entry is kept by garbage collection while that file exists).
 *
 * Every path that removes a box directory must go through
 * bx_box_remove_dir() (or bx_rootfs_release() first): bx_rm_rf refuses to
 * cross the mount point, so a forgotten unmount is an error, not data loss. */
#ifndef BOXVM_ROOTFS_H
#define BOXVM_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"

struct bx_rootfs_info {
	char image_id[BX_DIGEST_SIZE];
	char chain[BX_DIGEST_SIZE];     /* cache entry: DATA/rootfs-cache/<hex> */
	bool overlay;                   /* false: a private copy */
};

/* Prepare box_dir/rootfs for img; nothing is left behind on failure. */
int bx_rootfs_prepare(const struct bx_paths *p, const struct bx_image *img, const char *box_dir,
		      struct bx_rootfs_info *info, struct bx_err *err);
/* Mount the overlay again if box_dir/rootfs.json says overlay and it is not
 * mounted (after a host reboot). No-op otherwise. */
int bx_rootfs_ensure(const char *box_dir, struct bx_err *err);
/* box_dir/rootfs is mounted (overlay): its device is not box_dir's */
bool bx_rootfs_mounted(const char *box_dir, const char *rootfs);
/* Unmount box_dir/rootfs if it is mounted. */
int bx_rootfs_release(const char *box_dir, struct bx_err *err);
/* bx_rootfs_release + bx_rm_rf(box_dir). */
int bx_box_remove_dir(const char *box_dir, struct bx_err *err);
/* The bytes of the box's writable layer (Docker's SizeRw): its overlay's
 * upper dir, or the whole private copy when it has no overlay; 0 for a box
 * without a rootfs. */
long long bx_rootfs_rw_bytes(const char *box_dir);
/* box_dir/rootfs.json; returns 1 when the box has none (not a boxvm rootfs). */
int bx_rootfs_info_read(const char *box_dir, struct bx_rootfs_info *info, struct bx_err *err);

#endif
