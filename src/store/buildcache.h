/* The build cache: DATA/buildcache/<key>, one file per step a build made,
 * key = sha256(parent image ID "\n" the step's history line), holding the
 * image the step made and how it was used ("IMAGE\nUSES CREATED_NS
 * LASTUSED_NS\n"). The intermediate images are ordinary untagged images
 * (image_create.h); "the cache" is the entries plus the images only they
 * keep: an image the cache keeps alive is one an entry names that has no
 * name of its own, no box made from it, and no image standing on it (its
 * "parent" link) that stays. Everything else is shared with images
 * (Docker's SHARED): pruning its entry frees no byte of it. */
#ifndef BOXVM_STORE_BUILDCACHE_H
#define BOXVM_STORE_BUILDCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "prune_filter.h"

/* ---- pure (unit-tested) ---- */

/* An entry file's text: its first line the image (what older entries hold
 * alone: uses 1, times 0 = the file's mtime), then "USES CREATED LAST". */
struct bx_buildcache_rec {
	char image[BX_DIGEST_SIZE];
	unsigned long uses;          /* Docker's USAGE: the build that made it counts one */
	long long created_ns, last_used_ns;
};
int bx_buildcache_parse(const char *text, size_t len, struct bx_buildcache_rec *out, struct bx_err *err);
/* NUL-terminated text; -1 when size is too small */
int bx_buildcache_format(const struct bx_buildcache_rec *r, char *out, size_t size);

/* The images an entry may name, with what keeps an image: named (a tag or a
 * NAME@DIGEST other than an untagged image's own entry), boxes made from it,
 * and whether an entry names it. parent: index into the same array, -1 none. */
struct bx_bc_image {
	bool named, cached;
	int boxes;
	long parent;
};
/* kept[i]: image i stays whatever the cache does (named, used by a box,
 * made by no build step, or an ancestor of one of those). */
void bx_buildcache_kept(const struct bx_bc_image *v, size_t n, bool *kept);

/* ---- the store ---- */

/* hex of the key of a step made from parent (an image ID) by created_by */
int bx_buildcache_key(const char *parent, const char *created_by, char hex[65], struct bx_err *err);
/* 1 and the image when an entry names an image that still exists (its use
 * is recorded: USAGE + 1, LAST USED now); 0 when there is none. */
int bx_buildcache_get(const struct bx_paths *p, const char *hex, char id[BX_DIGEST_SIZE], struct bx_err *err);
/* Writes the entry; a cache that cannot be written is only slower (no error). */
void bx_buildcache_put(const struct bx_paths *p, const char *hex, const char *id);
/* A running build holds DATA/buildcache.lock shared for its whole run: a
 * prune takes it exclusively (without waiting: EBUSY), so it never removes the
 * image a build is standing on between two steps. Returns the fd (close
 * releases) or -1 with err. */
int bx_buildcache_hold(const struct bx_paths *p, struct bx_err *err);

struct bx_buildcache_entry {
	char key[65];
	struct bx_buildcache_rec rec;
	bool image_gone;  /* the image it names is no more (an unusable entry) */
	bool in_use;      /* a box is made from its image (Docker's ACTIVE: a build's RUN, or a user's box) */
	bool shared;      /* its image is kept by something else than the cache */
	long long size;   /* bytes of the layers its image adds to its parent's (a config step: 0);
			   * for an unshared entry only those no kept image holds, each once */
};
struct bx_buildcache {
	struct bx_buildcache_entry *v; /* newest first */
	size_t n;
};
int bx_buildcache_list(const struct bx_paths *p, struct bx_buildcache *c, struct bx_err *err);
void bx_buildcache_free(struct bx_buildcache *c);

/* Docker's builder prune: the entries that are dangling (their image gone,
 * or kept by nothing but the cache and no box using it), with all every
 * entry, that f's until= picks (by LAST USED, as BuildKit's keep-duration);
 * then the images only the removed entries kept go through image prune's
 * path (bx_image_prune: rmi's rules, then the store's GC). removed(ctx,
 * key) per entry; *reclaimed: the blobs' bytes freed. */
int bx_buildcache_prune(const struct bx_paths *p, bool all, const struct bx_prune_filter *f,
			void (*removed)(void *ctx, const char *key), void *ctx, long long *reclaimed, struct bx_err *err);

#endif
