/* Named volumes in the store: DATA/volumes/<name>/_data, who uses them,
 * Docker's copy-up, removal (volumes.c). */
#ifndef BOXVM_STORE_VOLUMES_H
#define BOXVM_STORE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"
#include "../common/paths.h"

int bx_volume_dir(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err);
/* The names of existing volumes, in directory order; returns the count (at most cap). */
#define BX_VOLUME_LIST_NAME 128
int bx_volume_list(const struct bx_paths *p, char (*names)[BX_VOLUME_LIST_NAME], int cap, struct bx_err *err);
/* Create if missing; *created tells whether it was new. Data dir into data (may be NULL). */
int bx_volume_create(const struct bx_paths *p, const char *name, bool *created, char *data, size_t size,
		     struct bx_err *err);
/* IDs (12 chars) of boxes whose vm.json uses the volume, comma separated into out ("" = unused). */
int bx_volume_users(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err);
/* Docker's copy-up: a volume mounted at target that is still empty starts
 * with a copy of what the image has there (a directory; resolved inside
 * rootfs, the box's root as the image made it), owners and modes kept
 * (setuid/setgid bits of files dropped: see src/shim/virtiofsd.c), device
 * nodes skipped. Nothing to do when the image has no directory there. */
int bx_volume_populate(const char *rootfs, const char *target, const char *data, struct bx_err *err);
/* Remove a volume no box uses, whole or not at all. Takes the whole store
 * (bx_store_lock_all): the caller must hold no store operation. A missing
 * volume is an error (errnum ENOENT) unless missing_ok; one in use fails
 * with errnum EBUSY. */
int bx_volume_remove(const struct bx_paths *p, const char *name, bool missing_ok, struct bx_err *err);
/* bx_volume_create with Docker's labels (an object of strings; NULL: none),
 * kept in DATA/volumes/<name>/labels.json by the create that made the
 * volume (a create of an existing name keeps its labels, as Docker's). */
int bx_volume_create_labeled(const struct bx_paths *p, const char *name, json_t *labels, bool *created,
			     struct bx_err *err);
/* A volume's labels: a new object ({} when it has none); NULL when missing. */
json_t *bx_volume_labels(const struct bx_paths *p, const char *name);
/* Docker's inspect object of a volume ({CreatedAt, Driver, Labels,
 * Mountpoint, Name, Options, Scope}); NULL (err, errnum ENOENT "no such
 * volume: NAME") when there is none. */
json_t *bx_volume_inspect_json(const struct bx_paths *p, const char *name, struct bx_err *err);
/* Docker 20.10's volume prune: every volume no box uses that pick (may be
 * NULL: all) takes, by name; removed gets each one gone and its size, failed
 * each error (a volume a box took meanwhile, or one another client removed,
 * is neither). */
struct bx_volume_prune_cb {
	bool (*pick)(void *ctx, const char *name, json_t *labels);
	void (*removed)(void *ctx, const char *name, long long bytes);
	void (*failed)(void *ctx, struct bx_err *err);
	void *ctx;
};
void bx_volume_prune(const struct bx_paths *p, const struct bx_volume_prune_cb *cb);

#endif
