/* `boxvm push`: an image of the local store to a registry, as Docker pushes.
 *
 * Every layer and the config go up as blobs: a HEAD first (already there:
 * nothing is sent), else a cross-repository mount when the store names the
 * image (or another holding the blob) in another repository of the same
 * registry, else an upload (POST, then one PUT of the whole blob to the
 * Location, which must stay on the registry), checked by its status and
 * Docker-Content-Digest. Then the manifest goes up byte for byte as stored,
 * so its digest is the one the store has, and NAME@DIGEST is recorded as the
 * image's repo digest (what a later push mounts from). */
#ifndef BOXVM_PUSH_H
#define BOXVM_PUSH_H

#include <stdbool.h>

#include "../../common/err.h"
#include "../../common/paths.h"
#include "registry.h"

enum bx_push_event_kind {
	BX_PUSH_PREPARING, /* each layer, before any is sent */
	BX_PUSH_EXISTS,    /* the registry has it */
	BX_PUSH_MOUNTED,   /* mounted from another repository (from) */
	BX_PUSH_PROGRESS,  /* bytes sent */
	BX_PUSH_PUSHED,    /* uploaded and verified */
};

struct bx_push_event {
	enum bx_push_event_kind kind;
	const char *id;    /* the layer as Docker shows it: its diff ID (else its blob digest) */
	const char *from;  /* BX_PUSH_MOUNTED: the repository path it came from */
	long long done, total;
};

struct bx_push_opts {
	void (*progress)(void *ctx, const struct bx_push_event *ev);
	void *progress_ctx;
	/* polled while blobs go up: true ends the push (ECANCELED); NULL: never */
	bool (*cancelled)(void *ctx);
	/* credentials instead of those `login` stored (the API's X-Registry-Auth); NULL: stored */
	const struct bx_credentials *creds;
};

struct bx_push_result {
	char tag[129];
	char digest[72];   /* the manifest's */
	long long size;    /* its bytes */
};

/* ref: NAME[:TAG] of a local image (tag defaults to latest). A name with no
 * local image fails with Docker's "An image does not exist locally with the
 * tag: NAME" (errnum ENOENT), a repository with other tags but not this one
 * with "tag does not exist: NAME:TAG". */
int bx_image_push(const struct bx_paths *p, const char *ref, const struct bx_push_opts *o, struct bx_push_result *res,
		  struct bx_err *err);

/* --all-tags: every local "NAME:TAG" of ref's repository (ref without tag),
 * sorted; none is Docker's "An image does not exist locally with the tag". */
int bx_push_local_tags(const struct bx_paths *p, const char *repo, char ***tags, size_t *n, struct bx_err *err);

#endif
