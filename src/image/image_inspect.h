/* Docker-shaped JSON for `boxvm image inspect`. */
#ifndef BOXVM_IMAGE_INSPECT_H
#define BOXVM_IMAGE_INSPECT_H

#include "../common/err.h"
#include "../common/paths.h"
#include "image.h"

/* *out: a json_t * object (json_decref it). img->names gives RepoTags/RepoDigests. */
int bx_image_inspect_json(const struct bx_paths *p, const struct bx_image *img, void **out, struct bx_err *err);

/* Write the images, refs as the user gave them, as an archive `docker load`
 * and OCI tools read (an OCI image layout with Docker's manifest.json;
 * image_save.c) to out, through a temp file beside it and a rename, or to
 * stdout when out is NULL. Nothing is written when a ref names no image. */
int bx_image_save(const struct bx_paths *p, char *const *refs, size_t n, const char *out, struct bx_err *err);
/* The same archive written to fd (a pipe: the Engine API's GET /images/get). */
int bx_image_save_fd(const struct bx_paths *p, char *const *refs, size_t n, int fd, struct bx_err *err);
/* Whether every ref names an image, as bx_image_save checks first (its error when not). */
int bx_image_save_check(const struct bx_paths *p, char *const *refs, size_t n, struct bx_err *err);

#endif
