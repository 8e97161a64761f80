/* Changing names and removing images (tag, rmi) and garbage collection of
 * what no image and no box needs any more. */
#ifndef BOXVM_IMAGE_GC_H
#define BOXVM_IMAGE_GC_H

#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"

/* Point TARGET ("name[:tag]") at the image SRC names. */
int bx_image_tag(const struct bx_paths *p, const char *src, const char *target, struct bx_err *err);

/* Boxes whose rootfs comes from image_id: count, how many are running, the first one's ID. */
struct bx_image_users {
	int boxes, running;
	char first[65];
};
int bx_image_users(const struct bx_paths *p, const char *image_id, struct bx_image_users *u, struct bx_err *err);

/* Docker's rmi for one reference: a name of an image that has other names is
 * only untagged; the last name (or an image ID) deletes the image, refused
 * while a box uses it unless force (never while one runs), and an ID naming
 * several repositories needs force. report(ctx, "Untagged"|"Deleted", what). */
int bx_image_remove(const struct bx_paths *p, const char *ref, bool force,
		    void (*report)(void *ctx, const char *verb, const char *what), void *ctx, struct bx_err *err);

/* Remove blobs no named image references, DATA/blobs/incoming leftovers of
 * pulls that are not running, and rootfs cache entries no image and no box
 * uses. Runs under the image index lock; entries in use are skipped. */
struct bx_gc_stats {
	int blobs, incoming, cache_entries;
	long long bytes;
};
int bx_image_gc(const struct bx_paths *p, struct bx_gc_stats *st, struct bx_err *err);

/* ---- shared by the store's image files (image_gc.c, image_usage.c) ---- */

/* A box's image and rootfs cache entry: its rootfs.json, else its state record (chain ""). */
bool bx_box_image(const char *box_dir, char image[BX_DIGEST_SIZE], char chain[BX_DIGEST_SIZE]);
/* Calls fn for every box directory (DATA/boxes/<id>). */
int bx_each_box_dir(const struct bx_paths *p, void (*fn)(const char *id, const char *dir, void *ctx), void *ctx,
		    struct bx_err *err);

#endif
