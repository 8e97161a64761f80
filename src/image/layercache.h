/* The shared, read-only rootfs cache: one merged tree per layer chain at
 * DATA/rootfs-cache/<hex of the top chain id>, built once (in a temp dir,
 * renamed into place, under flock(DATA/rootfs-cache/<hex>.lock)) and used as
 * the single overlayfs lowerdir of every box of that image (rootfs.h).
 *
 * Chain ids follow the OCI image spec: chainid(L0) = diffid(L0),
 * chainid(Ln) = sha256(chainid(Ln-1) + " " + diffid(Ln)). The diff ids come
 * from the image config and are checked against the layers' uncompressed
 * bytes when the entry is built, so a config that lies cannot plant its
 * content under another image's chain. */
#ifndef BOXVM_LAYERCACHE_H
#define BOXVM_LAYERCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"

/* Pure: the chain id of diff_ids[0..n) (n >= 1). */
int bx_chain_id(char *const *diff_ids, size_t n, char out[BX_DIGEST_SIZE], struct bx_err *err);
/* Pure: the next link, chainid(parent) + diff_id (parent NULL for the base layer). */
int bx_chain_id_next(const char *parent, const char *diff_id, char out[BX_DIGEST_SIZE], struct bx_err *err);
/* rootfs.diff_ids of the image's config (NULL-terminated; bx_strv_free). When the
 * config has none (or not one per layer) they are computed from the layers. */
int bx_image_diff_ids(const struct bx_paths *p, const struct bx_image *img, char ***out, struct bx_err *err);
/* sha256 of a layer blob's uncompressed bytes (gzip/zstd/plain). */
int bx_layer_diff_id(const char *layer_path, char out[BX_DIGEST_SIZE], struct bx_err *err);

/* The image's cache entry, built if missing. dir gets its path, chain its
 * chain id; *lock_fd is the entry's lock, held exclusively: keep it until the
 * entry is recorded as used (BOXDIR/rootfs.json), so garbage collection cannot
 * take it in between, then close it. *built: this call unpacked it. */
int bx_layercache_get(const struct bx_paths *p, const struct bx_image *img, char *dir, size_t size,
		      char chain[BX_DIGEST_SIZE], int *lock_fd, bool *built, struct bx_err *err);
/* DATA/rootfs-cache/<hex>.lock, flocked (LOCK_NB with nonblock: returns -2 when
 * busy). The file is unlinked by a remover while it holds it, so the lock is
 * retried until it is on the file at the path. */
int bx_layercache_lock(const struct bx_paths *p, const char *hex, bool nonblock, struct bx_err *err);

#endif
