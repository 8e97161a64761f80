/* `boxvm pull`: an image from a registry into the local store.
 *
 * Blobs are downloaded into DATA/blobs/incoming/ (HEX.partial while in
 * flight, resumed with a Range request after an interruption; HEX once its
 * digest and size are verified), one process per blob at a time
 * (flock on incoming/HEX.lock), so concurrent pulls of the same image share
 * the work instead of corrupting it. Only when every blob of the image is
 * verified are they renamed into blobs/sha256/ and the name recorded, under
 * the image index lock: a failed or interrupted pull leaves the store (blobs
 * and names) exactly as it was. */
#ifndef BOXVM_PULL_H
#define BOXVM_PULL_H

#include <stdbool.h>

#include "../../common/err.h"
#include "../../common/paths.h"
#include "registry.h"

enum bx_pull_event_kind {
	BX_PULL_RESOLVED,      /* name/tag resolved; digest = what the reference points at */
	BX_PULL_LAYER_EXISTS,  /* layer already in the store */
	BX_PULL_LAYER_QUEUED,  /* layer to fetch (each one told before any is fetched) */
	BX_PULL_LAYER_WAITING, /* another process is fetching it */
	BX_PULL_LAYER_PROGRESS,
	BX_PULL_LAYER_DONE,    /* downloaded and verified */
};

struct bx_pull_event {
	enum bx_pull_event_kind kind;
	const char *digest;
	long long done, total; /* bytes; total -1 if unknown */
	size_t index, count;   /* layer position (0-based) and number of layers */
};

struct bx_pull_opts {
	struct bx_platform platform;
	void (*progress)(void *ctx, const struct bx_pull_event *ev);
	void *progress_ctx;
	/* polled while blobs stream in: true ends the pull (ECANCELED), the
	 * store left as it was (the API's client hung up); NULL: never */
	bool (*cancelled)(void *ctx);
	/* credentials for this pull instead of those `login` stored (the API's
	 * X-Registry-Auth); NULL: the stored ones */
	const struct bx_credentials *creds;
};

struct bx_pull_result {
	char name[600];         /* familiar "NAME:TAG" recorded, or "NAME@DIGEST" for a digest pull */
	char repo_digest[72];   /* digest the reference resolved to (index or manifest) */
	char manifest[72];      /* the platform's image manifest */
	char id[72];            /* image ID (config digest) */
	bool updated;           /* something new was stored or a name moved */
};

int bx_image_pull(const struct bx_paths *p, const char *ref, const struct bx_pull_opts *o, struct bx_pull_result *res,
		  struct bx_err *err);

/* ---- internal (registry_stage.c) ---- */

/* Ensure blob digest of size bytes (every descriptor carries one, and it
 * bounds the download) is either in the store or verified in
 * DATA/blobs/incoming; downloads (resuming) when needed. *fetched: it was
 * downloaded now. */
int bx_stage_blob(const struct bx_paths *p, struct bx_registry *r, const char *digest, long long size,
		  const struct bx_pull_opts *o, size_t index, size_t count, bool *fetched, struct bx_err *err);
/* Stage bytes already in memory (a manifest) under their digest. */
int bx_stage_buf(const struct bx_paths *p, const char *buf, size_t len, const char *digest, struct bx_err *err);
/* Move staged blobs into the store; the caller holds the index lock. created[i]
 * records which ones are new (for a rollback). */
int bx_stage_commit(const struct bx_paths *p, char *const *digests, size_t n, bool *created, struct bx_err *err);

#endif
