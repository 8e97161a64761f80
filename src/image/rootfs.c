/* A box's writable root over the shared rootfs cache (see rootfs.h). */
#include "rootfs.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/treesize.h"
#include "layercache.h"

static int box_paths(const char *box_dir, char *rootfs, char *upper, char *work, char *json, struct bx_err *err)
{
	return bx_path_join(rootfs, PATH_MAX, err, "%s/rootfs", box_dir) < 0 ||
			       bx_path_join(upper, PATH_MAX, err, "%s/overlay/upper", box_dir) < 0 ||
			       bx_path_join(work, PATH_MAX, err, "%s/overlay/work", box_dir) < 0 ||
			       bx_path_join(json, PATH_MAX, err, "%s/rootfs.json", box_dir) < 0
		       ? -1
		       : 0;
}

static int mount_overlay(const char *lower, const char *upper, const char *work, const char *rootfs,
			 struct bx_err *err)
{
	char opts[3 * PATH_MAX + 64];
	if (bx_mkdir_p(upper, 0755, err) < 0 || bx_mkdir_p(work, 0700, err) < 0 || bx_mkdir_p(rootfs, 0755, err) < 0)
		return -1;
	if (bx_path_join(opts, sizeof(opts), err, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
		return -1;
	/* nosuid,nodev: setuid files and device nodes of the image or made by the
	 * guest are the guest's (its virtiofsd serves them); on the host they are
	 * plain files */
	if (mount("overlay", rootfs, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
		return bx_fail(err, errno, "cannot mount the overlay root filesystem on %s", rootfs);
	return 0;
}

static int write_info(const char *json_path, const struct bx_rootfs_info *info, struct bx_err *err)
{
	_cleanup_json_ json_t *o = json_pack("{s:s,s:s,s:s}", "image", info->image_id, "chain", info->chain, "mode",
					     info->overlay ? "overlay" : "copy");
	_cleanup_free_ char *s = o ? json_dumps(o, JSON_SORT_KEYS) : NULL;
	if (!s)
		return bx_fail(err, ENOMEM, "out of memory");
	return bx_write_file_atomic(json_path, s, strlen(s), 0600, err);
}

int bx_rootfs_info_read(const char *box_dir, struct bx_rootfs_info *info, struct bx_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;
	memset(info, 0, sizeof(*info));
	if (bx_path_join(path, sizeof(path), err, "%s/rootfs.json", box_dir) < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 1;
	if (bx_read_file(path, &text, &len, err) < 0)
		return -1;
	_cleanup_json_ json_t *o = json_loadb(text, len, 0, NULL);
	const char *img = json_string_value(json_object_get(o, "image"));
	const char *chain = json_string_value(json_object_get(o, "chain"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	if (!img || !chain || !mode || !bx_digest_valid(img) || !bx_digest_valid(chain))
		return bx_fail(err, 0, "%s is corrupt", path);
	snprintf(info->image_id, sizeof(info->image_id), "%s", img);
	snprintf(info->chain, sizeof(info->chain), "%s", chain);
	info->overlay = !strcmp(mode, "overlay");
	return 0;
}

int bx_rootfs_prepare(const struct bx_paths *p, const struct bx_image *img, const char *box_dir,
		      struct bx_rootfs_info *info, struct bx_err *err)
{
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], json[PATH_MAX], lower[PATH_MAX], ovl[PATH_MAX];
	memset(info, 0, sizeof(*info));
	if (box_paths(box_dir, rootfs, upper, work, json, err) < 0 ||
	    bx_path_join(ovl, sizeof(ovl), err, "%s/overlay", box_dir) < 0)
		return -1;
	_cleanup_close_ int lock = -1;
	bool built;
	if (bx_layercache_get(p, img, lower, sizeof(lower), info->chain, &lock, &built, err) < 0)
		return -1;
	snprintf(info->image_id, sizeof(info->image_id), "%s", img->id);
	struct bx_err mount_err;
	info->overlay = !getenv("BOXVM_NO_OVERLAY") && mount_overlay(lower, upper, work, rootfs, &mount_err) == 0;
	if (!info->overlay) {
		/* no overlayfs here: the box gets its own unpacked tree */
		bx_rm_rf(ovl, NULL);
		if (bx_rm_rf(rootfs, err) < 0 || bx_rootfs_unpack(p, img, rootfs, err) < 0)
			goto fail;
	}
	/* recorded before the lock goes, so garbage collection sees the entry in use */
	if (write_info(json, info, err) < 0)
		goto fail;
	return 0;
fail:
	bx_rootfs_release(box_dir, NULL);
	bx_rm_rf(rootfs, NULL);
	bx_rm_rf(ovl, NULL);
	return -1;
}

int bx_rootfs_ensure(const char *box_dir, struct bx_err *err)
{
	struct bx_rootfs_info info;
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], json[PATH_MAX], lower[PATH_MAX];
	int r = bx_rootfs_info_read(box_dir, &info, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!info.overlay || box_paths(box_dir, rootfs, upper, work, json, err) < 0)
		return info.overlay ? -1 : 0;
	if (bx_rootfs_mounted(box_dir, rootfs))
		return 0;
	/* DATA is two levels above BOXDIR (DATA/boxes/<id>) */
	if (bx_path_join(lower, sizeof(lower), err, "%s/../../rootfs-cache/%s", box_dir, info.chain + 7) < 0)
		return -1;
	if (access(lower, F_OK) < 0)
		return bx_fail(err, errno, "the rootfs cache entry of this box (%s) is gone; remove the box and run it again",
			       info.chain);
	return mount_overlay(lower, upper, work, rootfs, err);
}

long long bx_rootfs_rw_bytes(const char *box_dir)
{
	struct bx_rootfs_info info;
	char path[PATH_MAX];
	if (bx_rootfs_info_read(box_dir, &info, NULL) != 0 ||
	    bx_path_join(path, sizeof(path), NULL, "%s/%s", box_dir, info.overlay ? "overlay/upper" : "rootfs") < 0)
		return 0;
	return bx_tree_bytes(path);
}
