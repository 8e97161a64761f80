/* What images take on disk and which boxes use them (system df's figures),
 * and Docker's image prune over rmi's rules (image_usage.c). */
#ifndef BOXVM_IMAGE_USAGE_H
#define BOXVM_IMAGE_USAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"

struct bx_image_use {
	struct bx_image img; /* as bx_image_list gives it */
	int boxes;           /* boxes made from it, in any state */
	long long shared;    /* bytes of its layers that another listed image has too */
	long parent;         /* the listed image its config's "parent" names (a build step's, a
			      * commit's base: Docker's local parent link); -1 none */
};

/* Sizes are those of the blobs, as `images` shows them; a layer two images
 * share counts once in layers. */
struct bx_image_usage {
	struct bx_image_use *v; /* in bx_image_list's order */
	size_t n;
	long long layers;   /* the listed images' layer blobs, each once */
	long long unlisted; /* blobs no listed image references: what images whose last
			     * name went to another image left (image prune collects them) */
};
int bx_image_usage(const struct bx_paths *p, struct bx_image_usage *u, struct bx_err *err);
void bx_image_usage_free(struct bx_image_usage *u);

/* Docker's image prune: every image no box uses (all), or only the
 * dangling ones: no tag (NAME@DIGEST names only), and no image that stays
 * standing on them (Docker prunes an untagged leaf and the untagged parents
 * only it needed; a tagged build's intermediate images stay, as the build
 * cache's: store/buildcache.h). Of those, the ones pick(ctx, img) lets go
 * (NULL: all of them; one it keeps keeps its parents), each removed name by name with rmi's
 * rules (bx_image_remove without force: an image a box started using
 * meanwhile stays); then what nothing references any more is collected
 * (bx_image_gc). report(rctx, "Untagged"|"Deleted", what) as rmi's.
 * *reclaimed: the bytes bx_image_usage counted that are gone now. */
int bx_image_prune(const struct bx_paths *p, bool all, bool (*pick)(void *ctx, const struct bx_image *img),
		   void *ctx, void (*report)(void *rctx, const char *verb, const char *what), void *rctx,
		   long long *reclaimed, struct bx_err *err);

#endif
