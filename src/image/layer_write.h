/* Making a tar of a tree a guest wrote (commit's layer, export's flat tar):
 * an OCI image-spec layer in PAX format with uid/gid/mode/mtime, symlinks,
 * hardlinks within the tar, devices, fifos (sockets are skipped, as Docker
 * does) and the allow-listed xattrs (bx_layer_xattr_allowed); in upper mode
 * overlayfs whiteouts become OCI ".wh.NAME" entries and opaque directories
 * get ".wh..wh..opq". The tree is read through tree_walk.h: nothing is
 * followed, only regular files are opened (O_NOFOLLOW, checked to be the
 * file walked), and at most their walked size is read. */
#ifndef BOXVM_IMAGE_LAYER_WRITE_H
#define BOXVM_IMAGE_LAYER_WRITE_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"

/* Where the tar's bytes go. */
typedef int (*bx_tar_sink)(void *ctx, const void *buf, size_t len, struct bx_err *err);

/* Write the tar of root_fd's children to sink; diff_id gets the sha256 of
 * the tar, *tar_size its length. upper: an overlayfs upper dir (whiteouts
 * translated, the agent's per-start /etc files left out); with copy_of >= 0
 * the root is instead a whole copy of that tree, and the tar holds what
 * changed (entries the same as there left out, missing names as whiteouts). */
int bx_tree_tar(int root_fd, bool upper, int copy_of, bx_tar_sink sink, void *ctx, char diff_id[BX_DIGEST_SIZE],
		long long *tar_size, struct bx_err *err);

/* A layer written into DATA/blobs/tmp, gzip-compressed, not yet committed
 * (bx_blob_commit it, or bx_blob_writer_abort on failure). */
struct bx_new_layer {
	struct bx_blob_writer blob;
	char digest[BX_DIGEST_SIZE];  /* of the gzip blob */
	char diff_id[BX_DIGEST_SIZE]; /* of the tar */
	long long tar_size;
};
/* The layer of an overlayfs upper dir (upper) or of a whole tree (flat);
 * copy_of as bx_tree_tar's. */
int bx_layer_from_tree(const struct bx_paths *p, int root_fd, bool upper, int copy_of, struct bx_new_layer *out,
		       struct bx_err *err);
/* A build VM's step (upper_snap.h): the layer of what upper_fd's entries
 * changed since the snapshot since (an empty one: everything, as
 * bx_layer_from_tree's upper mode), with whiteouts for what it removed of
 * the earlier steps' paths; after (empty on entry) gets the upper dir as
 * it now is. */
struct bx_upper_snap;
int bx_layer_from_upper_since(const struct bx_paths *p, int upper_fd, const struct bx_upper_snap *since,
			      struct bx_upper_snap *after, struct bx_new_layer *out, struct bx_err *err);
/* The layer of a flat tar read from fd (import): gzip-compressed as read,
 * its entries checked to be a tar by libarchive. */
int bx_layer_from_tar_fd(const struct bx_paths *p, int fd, struct bx_new_layer *out, struct bx_err *err);

#endif
