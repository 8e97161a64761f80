/* New images made here (commit, import; later build): one new layer on top
 * of a parent image (or of nothing), a config derived from the parent's
 * (architecture, os, history, rootfs.diff_ids) with the given "config"
 * object, an OCI manifest, all stored as blobs and named in the image index
 * under the same lock as load and pull. */
#ifndef BOXVM_IMAGE_CREATE_H
#define BOXVM_IMAGE_CREATE_H

#include <jansson.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"
#include "layer_write.h"

struct bx_image_new {
	const struct bx_image *parent; /* NULL: a base image (import) */
	json_t *config;                /* the image config's "config" object (borrowed) */
	const char *created_by;        /* history entry */
	const char *comment;           /* NULL: none */
	const char *author;            /* NULL: none */
	struct bx_new_layer *layer;    /* committed into the store here (aborted on failure); NULL: a
	                                * config-only image (history's empty_layer), as a build's ENV */
	const char *name;              /* "REPO:TAG" (normalised here), NULL: untagged */
};

/* Returns 0 and the new image's ID ("sha256:<config digest>"). */
int bx_image_create(const struct bx_paths *p, const struct bx_image_new *n, char id[BX_DIGEST_SIZE], struct bx_err *err);

/* import: the flat tar read from fd (any compression libarchive reads) as a
 * one-layer image with the -c changes applied to an empty config; comment
 * NULL: Docker's "Imported from -". */
int bx_image_import(const struct bx_paths *p, int fd, const char *repo_tag, char *const *changes, const char *comment,
		    char id[BX_DIGEST_SIZE], struct bx_err *err);

/* The name an untagged image is kept under in the index ("<none>@<manifest digest>"). */
#define BX_UNTAGGED_REPO "<none>"

#endif
