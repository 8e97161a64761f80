/* Local image store and rootfs preparation.
 *
 * Layout under DATA: blobs/sha256/<hex> (content-addressed, verified, written
 * temp+rename), images.json (name -> manifest digest index, updated atomically
 * under flock(DATA/images.lock)). An image's ID is its config digest. */
#ifndef BOXVM_IMAGE_H
#define BOXVM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "paths.h"

struct bx_image_config {
	char **entrypoint;  /* NULL-terminated, NULL if absent */
	char **cmd;         /* NULL-terminated, NULL if absent */
	char **env;         /* NULL-terminated "K=V", NULL if absent */
	char *workdir;      /* NULL if absent/empty */
	char *user;         /* NULL if absent/empty */
	char *stop_signal;  /* NULL if absent */
};

struct bx_image {
	char id[72];               /* "sha256:<hex>" of the config blob */
	char manifest_digest[72];
	char **names;              /* NULL-terminated "name:tag" references */
	char **layers;             /* NULL-terminated blob digests, base first */
	size_t nlayers;
	long long size;            /* sum of layer blob sizes */
	long long created;         /* unix seconds, 0 if unknown */
	struct bx_image_config config;
};

/* Pure: parse an OCI/Docker image config JSON ("config" object inside). */
int bx_image_config_parse(const char *json, size_t len, struct bx_image_config *out, struct bx_err *err);
void bx_image_config_free(struct bx_image_config *c);

/* Import an OCI image layout tar or a `docker save` tar. Every blob's digest is
 * verified; nothing is stored on failure. *names gets the refs loaded. */
int bx_image_load_tar(const struct bx_paths *p, const char *tar_path, char ***names, struct bx_err *err);
/* Find by "name[:tag]" (tag defaults to latest), full/short ID or ID prefix. Not found: exit_code 125,
 * message "no such image: REF". */
int bx_image_lookup(const struct bx_paths *p, const char *ref, struct bx_image *out, struct bx_err *err);
int bx_image_list(const struct bx_paths *p, struct bx_image **out, size_t *n, struct bx_err *err);
void bx_image_free(struct bx_image *img);

/* Unpack the image's layers, in order, into an empty directory dest. */
int bx_rootfs_unpack(const struct bx_paths *p, const struct bx_image *img, const char *dest, struct bx_err *err);
/* Apply one layer tar (gzip/zstd/plain, auto-detected) onto the tree at dirfd:
 * OCI whiteouts (.wh.NAME deletes, .wh..wh..opq empties the dir), hardlinks,
 * symlinks, modes, ownership, xattrs. Refuses any entry that would escape
 * the root (".." components, paths through symlinks). */
int bx_layer_apply(int root_dirfd, const char *layer_path, struct bx_err *err);

/* Normalise a user reference: "busybox" -> "busybox:latest". */
int bx_image_ref_normalize(const char *ref, char *out, size_t size, struct bx_err *err);

#endif
