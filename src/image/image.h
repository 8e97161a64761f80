/* Local image store and rootfs preparation.
 *
 * Layout under DATA: blobs/sha256/<hex> (content-addressed, verified, written
 * temp+rename), images.json (name -> manifest digest index, updated atomically
 * under flock(DATA/images.lock)). An image's ID is its config digest. */
#ifndef BOXVM_IMAGE_H
#define BOXVM_IMAGE_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>

#include "../common/err.h"
#include "../common/paths.h"

struct bx_image_config {
	char **entrypoint;  /* NULL-terminated, NULL if absent */
	char **cmd;         /* NULL-terminated, NULL if absent */
	char **env;         /* NULL-terminated "K=V", NULL if absent */
	char *workdir;      /* NULL if absent/empty */
	char *user;         /* NULL if absent/empty */
	char *stop_signal;  /* NULL if absent */
	char *healthcheck;  /* Healthcheck as compact JSON (an object), NULL if absent */
	char **volumes;     /* the keys of Volumes ({"/data": {}}): targets of anonymous volumes; NULL if none */
	char **labels;      /* Labels as "KEY=VALUE" (string values only); NULL if none */
};

struct bx_image {
	char id[72];               /* "sha256:<hex>" of the config blob */
	char manifest_digest[72];
	char **names;              /* NULL-terminated "name:tag" references */
	char **layers;             /* NULL-terminated blob digests, base first */
	size_t nlayers;
	long long *layer_sizes;    /* each layer blob's size (the manifest's), as layers */
	long long size;            /* sum of layer blob sizes */
	long long created;         /* unix seconds, 0 if unknown */
	struct bx_image_config config;
};

/* Pure: parse an OCI/Docker image config JSON ("config" object inside). */
int bx_image_config_parse(const char *json, size_t len, struct bx_image_config *out, struct bx_err *err);
void bx_image_config_free(struct bx_image_config *c);

/* Import an OCI image layout tar or a `docker save` tar. Every blob's digest is
 * verified; nothing is stored on failure. *names gets the refs loaded.
 * label names the input in messages ("stdin" for a spooled pipe); NULL: tar_path. */
int bx_image_load_tar(const struct bx_paths *p, const char *tar_path, const char *label, char ***names,
		      struct bx_err *err);
/* Find by "name[:tag]" (tag defaults to latest), full/short ID or ID prefix. Not found: errnum
 * ENOENT, message "no such image: REF". */
int bx_image_lookup(const struct bx_paths *p, const char *ref, struct bx_image *out, struct bx_err *err);
int bx_image_list(const struct bx_paths *p, struct bx_image **out, size_t *n, struct bx_err *err);
void bx_image_free(struct bx_image *img);

/* Unpack the image's layers, in order, into an empty directory dest. */
int bx_rootfs_unpack(const struct bx_paths *p, const struct bx_image *img, const char *dest, struct bx_err *err);
/* Apply one layer tar (gzip/zstd/plain, auto-detected) onto the tree at dirfd:
 * OCI whiteouts (.wh.NAME deletes, .wh..wh..opq empties the dir; a 0:0
 * character device deletes too, as overlayfs would read it), hardlinks,
 * symlinks, modes, ownership, allow-listed xattrs (bx_layer_xattr_allowed).
 * Refuses any entry that would escape the root (".." components, paths
 * through symlinks). */
int bx_layer_apply(int root_dirfd, const char *layer_path, struct bx_err *err);
/* Pure: whether a layer may set this xattr (user.*, security.capability, POSIX ACLs). */
bool bx_layer_xattr_allowed(const char *name);

/* Normalise a user reference: "busybox" -> "busybox:latest". */
int bx_image_ref_normalize(const char *ref, char *out, size_t size, struct bx_err *err);

/* ---- Internal to the image store (image_*.c, layer*.c, their unit tests) ---- */

#define BX_DIGEST_SIZE 72 /* "sha256:" + 64 hex + NUL */

/* Limits on what an image may make us read (image_limits.c). */
#define BX_MANIFEST_MAX (4u << 20)           /* an image manifest or index (containerd: 4 MiB) */
#define BX_CONFIG_MAX (8u << 20)             /* an image config */
#define BX_LAYER_MAX_DEFAULT (16LL << 30)    /* a layer's blob and its unpacked bytes */
/* Pure: "N", "Nk", "Nm", "Ng", "Nt" (binary units, optional "b"), N > 0. */
int bx_size_limit_parse(const char *v, long long *out);
/* BOXVM_MAX_LAYER_SIZE, or the default. */
int bx_layer_max_size(long long *out, struct bx_err *err);

/* true for "sha256:" followed by exactly 64 lowercase hex digits */
bool bx_digest_valid(const char *digest);
/* sha256 of a buffer as "sha256:<hex>" */
int bx_sha256_buf(const void *buf, size_t len, char out[BX_DIGEST_SIZE], struct bx_err *err);
/* DATA/blobs/sha256/<hex> for a valid digest */
int bx_blob_path(const struct bx_paths *p, const char *digest, char *out, size_t size, struct bx_err *err);
/* Read a stored blob (at most max bytes, else error), re-verifying its digest. */
int bx_blob_read(const struct bx_paths *p, const char *digest, size_t max, char **out, size_t *len,
		 struct bx_err *err);

/* A layer blob's compression, by its magic bytes (a missing file reads as none). */
enum bx_comp { BX_COMP_NONE, BX_COMP_GZIP, BX_COMP_ZSTD };
enum bx_comp bx_blob_compression(const char *path);
/* Decompress a layer blob (gzip/zstd/plain) in one pass: the sha256 of the
 * decompressed stream (its diff_id) and its size; each chunk also goes to sink
 * when one is given. More than BOXVM_MAX_LAYER_SIZE decompressed is an error,
 * so a small compressed bomb is not read for hours. */
typedef int (*bx_inflate_sink)(void *ctx, const void *buf, size_t len, struct bx_err *err);
int bx_blob_inflate(const char *path, bx_inflate_sink sink, void *ctx, char digest[BX_DIGEST_SIZE],
		    long long *size, struct bx_err *err);

/* Streams bytes into a temp file under DATA/blobs/tmp while hashing them. */
struct bx_blob_writer {
	int fd;
	char tmp[PATH_MAX];
	void *md;           /* EVP_MD_CTX */
	long long size;
};
int bx_blob_writer_open(const struct bx_paths *p, struct bx_blob_writer *w, struct bx_err *err);
int bx_blob_writer_write(struct bx_blob_writer *w, const void *buf, size_t len, struct bx_err *err);
/* fsync + close; the temp file stays until committed or unlinked. */
int bx_blob_writer_finish(struct bx_blob_writer *w, char digest[BX_DIGEST_SIZE], struct bx_err *err);
/* Close (if open) and remove the temp file. Safe to call twice. */
void bx_blob_writer_abort(struct bx_blob_writer *w);
/* Move a verified temp file to DATA/blobs/sha256/<hex>. *created: the blob was new
 * (so a rollback may remove it). An existing blob is kept and the temp removed. */
int bx_blob_commit(const struct bx_paths *p, const char *tmp, const char *digest, bool *created,
		   struct bx_err *err);

/* An image manifest (OCI or Docker v2s2), reduced to what the store needs. */
struct bx_manifest {
	char config[BX_DIGEST_SIZE];
	long long config_size;
	char **layers;        /* NULL-terminated digests, base first */
	long long *layer_sizes; /* every descriptor has one (required), config_size too */
	size_t nlayers;
};
int bx_manifest_parse(const char *json, size_t len, struct bx_manifest *m, struct bx_err *err);
void bx_manifest_free(struct bx_manifest *m);

/* DATA/images.json: normalised name -> manifest digest. */
struct bx_image_index_entry {
	char *name;
	char manifest[BX_DIGEST_SIZE];
};
/* flock(DATA/images.lock, LOCK_EX); returns the fd to close to unlock. */
int bx_image_index_lock(const struct bx_paths *p, struct bx_err *err);
/* A missing file is an empty index. */
int bx_image_index_read(const struct bx_paths *p, struct bx_image_index_entry **out, size_t *n,
			struct bx_err *err);
/* Atomic replace; the caller holds the lock. */
int bx_image_index_write(const struct bx_paths *p, const struct bx_image_index_entry *e, size_t n,
			 struct bx_err *err);
void bx_image_index_free(struct bx_image_index_entry *e, size_t n);
/* Point each of names at manifest (adding names not there), under the lock
 * the caller holds; written only when something changed (*moved set). */
int bx_image_index_set_names(const struct bx_paths *p, char *const *names, size_t nn, const char *manifest,
			     bool *moved, struct bx_err *err);

/* Build a bx_image from a stored manifest (names left NULL). */
int bx_image_from_manifest(const struct bx_paths *p, const char *manifest_digest, struct bx_image *out,
			   struct bx_err *err);
/* NULL-terminated string vector helpers */
void bx_strv_free(char **v);
int bx_strv_push(char ***v, size_t *n, const char *s, struct bx_err *err);
/* bx_strv_push counting *v first (*v may be NULL) */
int bx_strv_append(char ***v, const char *s, struct bx_err *err);

/* One import in progress (image_load*.c). A first pass lists the archive's
 * members (no data copied); the format readers then say what they need
 * (bx_load_want, bx_load_need_blob, bx_load_read), and only those members are
 * copied to temp files (one pass for all that are wanted), hashed and
 * verified, so an unreferenced member costs nothing and a referenced one only
 * what its descriptor or a cap allows. */
struct bx_load_file {
	char *name;          /* path inside the archive, cleaned ("" for synthesized blobs) */
	char *link;          /* symlink/hardlink target as an archive path; NULL for files */
	long long index;     /* position in the archive; -1 for synthesized blobs */
	long long hdr_size;  /* the size its tar header declares */
	bool want;           /* to be copied by the next bx_load_materialize */
	char expect[BX_DIGEST_SIZE]; /* the digest a referrer says it has ("" if none) */
	char tmp[PATH_MAX];  /* temp copy of its bytes once copied; "" before and once committed */
	char digest[BX_DIGEST_SIZE]; /* of the copy */
	long long size;      /* of the copy */
};
struct bx_load {
	const struct bx_paths *p;
	const char *path;             /* the tar file read */
	const char *archive;          /* the tar as messages name it */
	struct bx_load_file *files;
	size_t nfiles;
	size_t *commit;               /* indexes into files, deduplicated by digest */
	size_t ncommit;
	char **names, **targets;      /* normalised name -> manifest digest */
	size_t nnames;
};
/* Find an archive file by path, following links inside the archive. NULL if absent. */
struct bx_load_file *bx_load_find(struct bx_load *l, const char *name);
/* Read a (small) archive file into memory: at most max bytes, else an error
 * before anything is copied. Copies it now if it was not yet. */
int bx_load_read(struct bx_load *l, struct bx_load_file *f, size_t max, char **out, size_t *len,
		 struct bx_err *err);
/* Mark f to be copied by the next bx_load_materialize; refused (what names it)
 * if its header declares more than max bytes. */
int bx_load_want(struct bx_load *l, struct bx_load_file *f, long long max, const char *what, struct bx_err *err);
/* Copy every wanted member not copied yet, in one pass over the archive. */
int bx_load_materialize(struct bx_load *l, struct bx_err *err);
/* Require blobs/sha256/<hex> of exactly size bytes (at most max), want it and
 * queue it; its content is verified against digest once copied (at the latest
 * before anything is committed). */
int bx_load_need_blob(struct bx_load *l, const char *digest, long long size, long long max, const char *referrer,
		      struct bx_err *err);
/* Queue a file under its computed digest. */
int bx_load_queue(struct bx_load *l, struct bx_load_file *f, struct bx_err *err);
/* Store a synthesized blob (e.g. a manifest) in a temp file and queue it. */
int bx_load_add_buf(struct bx_load *l, const char *buf, size_t len, char digest[BX_DIGEST_SIZE],
		    struct bx_err *err);
/* Record name -> manifest (name normalised). */
int bx_load_add_name(struct bx_load *l, const char *ref, const char *manifest, struct bx_err *err);
/* Format readers. bx_load_oci returns 1 (err filled) when the layout names no image. */
int bx_load_oci(struct bx_load *l, const char *index_json, size_t len, struct bx_err *err);
int bx_load_docker(struct bx_load *l, const char *manifest_json, size_t len, struct bx_err *err);

#endif
