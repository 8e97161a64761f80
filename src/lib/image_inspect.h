/* Docker-shaped JSON for `boxvm image inspect`. */
#ifndef BOXVM_IMAGE_INSPECT_H
#define BOXVM_IMAGE_INSPECT_H

#include "err.h"
#include "image.h"
#include "paths.h"

/* *out: a json_t * object (json_decref it). img->names gives RepoTags/RepoDigests. */
int bx_image_inspect_json(const struct bx_paths *p, const struct bx_image *img, void **out, struct bx_err *err);

/* Write an OCI image layout tar of the images (image_save.c); refs as the user
 * gave them. The tar is written to a temp file beside out and renamed. */
int bx_image_save(const struct bx_paths *p, char *const *refs, size_t n, const char *out, struct bx_err *err);

#endif
