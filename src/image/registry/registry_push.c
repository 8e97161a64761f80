/* `boxvm push` orchestration (push.h): the local image's blobs, each checked,
 * mounted or uploaded, then its manifest exactly as stored. */
#include "push.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../image.h"

/* images of other repositories on the registry looked at for mounts */
#define MOUNT_SOURCES_MAX 16

/* An image the store names in another repository of the target registry. */
struct mount_source {
	char path[256];
	char **blobs; /* its layers and config */
};

struct pushing {
	const struct bx_paths *p;
	struct bx_registry *r;
	const struct bx_push_opts *o;
	struct mount_source src[MOUNT_SOURCES_MAX];
	size_t nsrc;
	const char *id; /* the blob being sent, as shown */
};

static void emit(struct pushing *ps, enum bx_push_event_kind k, const char *id, const char *from, long long done,
		 long long total)
{
	if (id && ps->o && ps->o->progress) {
		struct bx_push_event ev = {k, id, from, done, total};
		ps->o->progress(ps->o->progress_ctx, &ev);
	}
}

static void on_sent(void *ctx, long long sent, long long total)
{
	struct pushing *ps = ctx;
	emit(ps, BX_PUSH_PROGRESS, ps->id, NULL, sent, total);
}

static bool cancelled(void *ctx)
{
	struct pushing *ps = ctx;
	return ps->o && ps->o->cancelled && ps->o->cancelled(ps->o->progress_ctx);
}

/* An answer other than the one expected, in Docker's words where it has some. */
static int unexpected(struct pushing *ps, const struct bx_registry_reply *rp, const char *what, const char *digest,
		      struct bx_err *err)
{
	if (rp->code == 403)
		return bx_fail(err, 0, "denied: requested access to the resource is denied (%s/%s%s%s)", ps->r->ref.domain,
			       ps->r->ref.path, rp->error[0] ? ": " : "", rp->error);
	return bx_fail(err, 0, "registry %s answered HTTP %ld to %s %s%s%s", ps->r->ref.domain, rp->code, what, digest,
		       rp->error[0] ? ": " : "", rp->error);
}

/* Other repositories of the same registry the store names, with the blobs
 * of their images: repo digests (proof the registry had them) first. */
static int load_sources(struct pushing *ps, const struct bx_ref *target, struct bx_err *err)
{
	struct bx_image_index_entry *e;
	size_t ne;
	if (bx_image_index_read(ps->p, &e, &ne, err) < 0)
		return -1;
	for (int proven = 1; proven >= 0; proven--)
		for (size_t i = 0; i < ne && ps->nsrc < MOUNT_SOURCES_MAX; i++) {
			struct bx_ref ref;
			struct bx_err scratch = {0};
			if (bx_ref_parse(e[i].name, &ref, &scratch) < 0 || strcmp(ref.domain, target->domain) != 0 ||
			    !strcmp(ref.path, target->path) || (ref.digest[0] != 0) != proven)
				continue;
			bool seen = false;
			for (size_t k = 0; k < ps->nsrc && !seen; k++)
				seen = !strcmp(ps->src[k].path, ref.path);
			struct bx_image img;
			if (seen || bx_image_from_manifest(ps->p, e[i].manifest, &img, &scratch) < 0)
				continue; /* an image the store cannot read is no source */
			struct mount_source *s = &ps->src[ps->nsrc];
			snprintf(s->path, sizeof(s->path), "%s", ref.path);
			size_t nb = 0;
			int rc = bx_strv_push(&s->blobs, &nb, img.id, err);
			for (size_t l = 0; rc == 0 && l < img.nlayers; l++)
				rc = bx_strv_push(&s->blobs, &nb, img.layers[l], err);
			bx_image_free(&img);
			ps->nsrc++;
			if (rc < 0) {
				bx_image_index_free(e, ne);
				return -1;
			}
		}
	bx_image_index_free(e, ne);
	return 0;
}

static const char *source_of(const struct pushing *ps, const char *digest)
{
	for (size_t k = 0; k < ps->nsrc; k++)
		for (char **b = ps->src[k].blobs; b && *b; b++)
			if (!strcmp(*b, digest))
				return ps->src[k].path;
	return NULL;
}

static int upload(struct pushing *ps, const char *post_url, const struct bx_registry_reply *started,
		  const char *digest, long long size, struct bx_err *err)
{
	struct bx_registry *r = ps->r;
	if (started->location_too_long || !started->location[0])
		return bx_fail(err, 0, "registry %s started an upload without a usable Location (%s); refusing it", r->ref.domain,
			       started->location_too_long ? "too long" : "none");
	char loc[2400], url[2600], path[PATH_MAX];
	if (bx_registry_location(post_url, started->location, loc, sizeof(loc), err) < 0)
		return -1;
	if (bx_path_join(url, sizeof(url), err, "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest) < 0 ||
	    bx_blob_path(ps->p, digest, path, sizeof(path), err) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot read blob %s from the store", digest);
	if (st.st_size != size)
		return bx_fail(err, 0, "blob %s in the store is %lld bytes but its image says %lld; the store is damaged",
			       digest, (long long)st.st_size, size);
	struct bx_registry_body body = {.fd = fd, .size = size, .progress = on_sent, .cancelled = cancelled, .ctx = ps};
	struct bx_registry_reply rp;
	if (bx_registry_send(r, "PUT", url, &body, &rp, err) < 0)
		return -1;
	if (rp.code != 201)
		return unexpected(ps, &rp, "the upload of blob", digest, err);
	if (rp.digest[0] && strcmp(rp.digest, digest) != 0)
		return bx_fail(err, 0, "registry %s stored blob %s as %.80s: the upload was damaged", r->ref.domain, digest,
			       rp.digest);
	return 0;
}

/* One blob: there already, mounted, or uploaded. id: how it is shown (NULL: not shown). */
static int push_blob(struct pushing *ps, const char *digest, long long size, const char *id, struct bx_err *err)
{
	struct bx_registry *r = ps->r;
	struct bx_registry_reply rp;
	char url[1400];
	ps->id = id;
	if (bx_path_join(url, sizeof(url), err, "%s/blobs/%s", r->base, digest) < 0 ||
	    bx_registry_send(r, "HEAD", url, NULL, &rp, err) < 0)
		return -1;
	if (rp.code == 200) {
		emit(ps, BX_PUSH_EXISTS, id, NULL, size, size);
		return 0;
	}
	if (rp.code != 404)
		return unexpected(ps, &rp, "the check for blob", digest, err);
	/* a mount the registry declines starts an ordinary upload (202): nothing lost */
	const char *from = source_of(ps, digest);
	int n = from ? snprintf(url, sizeof(url), "%s/blobs/uploads/?mount=%s&from=%s", r->base, digest, from)
		     : snprintf(url, sizeof(url), "%s/blobs/uploads/", r->base);
	if (n < 0 || (size_t)n >= sizeof(url))
		return bx_fail(err, 0, "the upload URL for %s is too long", digest);
	snprintf(r->mount_from, sizeof(r->mount_from), "%s", from ? from : "");
	int rc = bx_registry_send(r, "POST", url, NULL, &rp, err);
	r->mount_from[0] = '\0';
	if (rc < 0)
		return -1;
	if (from && rp.code == 201) {
		emit(ps, BX_PUSH_MOUNTED, id, from, size, size);
		return 0;
	}
	if (rp.code != 202)
		return unexpected(ps, &rp, "the start of an upload of", digest, err);
	if (upload(ps, url, &rp, digest, size, err) < 0)
		return -1;
	emit(ps, BX_PUSH_PUSHED, id, NULL, size, size);
	return 0;
}

/* The manifest's media type as stored (OCI's may leave it out); an index is not pushed. */
static int media_type(const char *body, size_t len, char *out, size_t size, struct bx_err *err)
{
	_cleanup_json_ json_t *root = json_loadb(body, len, 0, NULL);
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	if (bx_manifest_is_index(body, len))
		return bx_fail(err, 0, "the stored manifest is an image index, which boxvm does not push");
	if (mt && strcmp(mt, BX_MT_OCI_MANIFEST) != 0 && strcmp(mt, BX_MT_DOCKER_MANIFEST) != 0)
		return bx_fail(err, 0, "the stored manifest has media type '%.100s', which boxvm does not push", mt);
	snprintf(out, size, "%s", mt ? mt : BX_MT_OCI_MANIFEST);
	return 0;
}

/* The layers' diff IDs (as Docker shows a push), when the config lists one per layer. */
static char **diff_ids(const struct bx_paths *p, const struct bx_image *img)
{
	_cleanup_free_ char *cfg = NULL;
	size_t len;
	struct bx_err scratch = {0};
	if (bx_blob_read(p, img->id, BX_CONFIG_MAX, &cfg, &len, &scratch) < 0)
		return NULL;
	_cleanup_json_ json_t *root = json_loadb(cfg, len, 0, NULL);
	json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	if (json_array_size(ids) != img->nlayers)
		return NULL;
	char **v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < img->nlayers; i++) {
		const char *d = json_string_value(json_array_get(ids, i));
		if (!d || !bx_digest_valid(d) || bx_strv_push(&v, &n, d, &scratch) < 0) {
			bx_strv_free(v);
			return NULL;
		}
	}
	return v;
}

static int record_repo_digest(const struct bx_paths *p, const struct bx_ref *ref, const char *manifest,
			      struct bx_err *err)
{
	struct bx_ref d = *ref;
	d.tag[0] = '\0';
	snprintf(d.digest, sizeof(d.digest), "%s", manifest);
	char name[600];
	char *names[] = {name};
	bool moved = false;
	if (bx_ref_familiar(&d, true, name, sizeof(name), err) < 0)
		return -1;
	_cleanup_close_ int lock = bx_image_index_lock(p, err);
	if (lock < 0)
		return -1;
	return bx_image_index_set_names(p, names, 1, manifest, &moved, err);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bx_push_local_tags(const struct bx_paths *p, const char *repo, char ***tags, size_t *n, struct bx_err *err)
{
	*tags = NULL;
	*n = 0;
	struct bx_ref want;
	char name[600];
	if (bx_ref_parse(repo, &want, err) < 0 || bx_ref_familiar(&want, false, name, sizeof(name), err) < 0)
		return -1;
	struct bx_image_index_entry *e;
	size_t ne;
	if (bx_image_index_read(p, &e, &ne, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < ne && rc == 0; i++) {
		struct bx_ref ref;
		struct bx_err scratch = {0};
		if (bx_ref_parse(e[i].name, &ref, &scratch) == 0 && !ref.digest[0] && ref.tag[0] &&
		    !strcmp(ref.domain, want.domain) && !strcmp(ref.path, want.path))
			rc = bx_strv_push(tags, n, e[i].name, err);
	}
	bx_image_index_free(e, ne);
	if (rc == 0 && *n == 0)
		rc = bx_fail(err, ENOENT, "An image does not exist locally with the tag: %s", name);
	if (rc < 0) {
		bx_strv_free(*tags);
		*tags = NULL;
		*n = 0;
		return -1;
	}
	qsort(*tags, *n, sizeof(**tags), by_name);
	return 0;
}

static int find_local(const struct bx_paths *p, const struct bx_ref *ref, struct bx_image *img, struct bx_err *err)
{
	char name[600], repo[600];
	if (bx_ref_familiar(ref, true, name, sizeof(name), err) < 0 || bx_ref_familiar(ref, false, repo, sizeof(repo), err) < 0)
		return -1;
	if (bx_image_lookup(p, name, img, err) == 0)
		return 0;
	if (err->errnum != ENOENT)
		return -1;
	char **tags;
	size_t n;
	struct bx_err scratch = {0};
	if (bx_push_local_tags(p, repo, &tags, &n, &scratch) == 0) {
		bx_strv_free(tags);
		bx_fail(err, 0, "tag does not exist: %s", name);
	} else {
		bx_fail(err, 0, "An image does not exist locally with the tag: %s", repo);
	}
	err->errnum = ENOENT;
	return -1;
}

int bx_image_push(const struct bx_paths *p, const char *refstr, const struct bx_push_opts *o, struct bx_push_result *res,
		  struct bx_err *err)
{
	memset(res, 0, sizeof(*res));
	struct bx_ref ref;
	if (bx_ref_parse(refstr, &ref, err) < 0)
		return -1;
	if (ref.digest[0])
		return bx_fail(err, 0, "cannot push '%s': a push names a tag (NAME[:TAG]), not a digest", refstr);
	struct bx_image img;
	if (find_local(p, &ref, &img, err) < 0)
		return -1;
	struct pushing ps = {.p = p, .o = o};
	struct bx_registry r = {0};
	char **ids = NULL;
	_cleanup_free_ char *manifest = NULL;
	size_t mlen;
	char mt[128];
	int rc = -1;
	if (bx_blob_read(p, img.manifest_digest, BX_MANIFEST_MAX, &manifest, &mlen, err) < 0 ||
	    media_type(manifest, mlen, mt, sizeof(mt), err) < 0 || load_sources(&ps, &ref, err) < 0)
		goto out;
	ids = diff_ids(p, &img);
	if (bx_registry_open(&r, p, &ref, err) < 0)
		goto out;
	r.push = true;
	if (o && o->creds) {
		r.creds = *o->creds;
		r.have_creds = true;
	}
	ps.r = &r;
	for (size_t i = 0; i < img.nlayers; i++)
		emit(&ps, BX_PUSH_PREPARING, ids ? ids[i] : img.layers[i], NULL, 0, img.layer_sizes[i]);
	for (size_t i = 0; i < img.nlayers; i++)
		if (push_blob(&ps, img.layers[i], img.layer_sizes[i], ids ? ids[i] : img.layers[i], err) < 0)
			goto out;
	struct stat st;
	char cpath[PATH_MAX];
	if (bx_blob_path(p, img.id, cpath, sizeof(cpath), err) < 0)
		goto out;
	if (stat(cpath, &st) < 0) {
		bx_fail(err, errno, "cannot read the config %s of %s", img.id, refstr);
		goto out;
	}
	if (push_blob(&ps, img.id, st.st_size, NULL, err) < 0)
		goto out;

	char url[1400];
	struct bx_registry_body body = {.content_type = mt, .buf = manifest, .len = mlen, .fd = -1};
	struct bx_registry_reply rp;
	if (bx_path_join(url, sizeof(url), err, "%s/manifests/%s", r.base, ref.tag) < 0 ||
	    bx_registry_send(&r, "PUT", url, &body, &rp, err) < 0)
		goto out;
	if (rp.code != 201) {
		unexpected(&ps, &rp, "the manifest", img.manifest_digest, err);
		goto out;
	}
	if (rp.digest[0] && strcmp(rp.digest, img.manifest_digest) != 0) {
		bx_fail(err, 0, "registry %s stored the manifest as %.80s, not %s as sent", ref.domain, rp.digest,
			img.manifest_digest);
		goto out;
	}
	snprintf(res->tag, sizeof(res->tag), "%s", ref.tag);
	snprintf(res->digest, sizeof(res->digest), "%s", img.manifest_digest);
	res->size = (long long)mlen;
	/* Docker records the pushed digest as a RepoDigest: inspect shows it, a later push mounts from it */
	if (record_repo_digest(p, &ref, img.manifest_digest, err) < 0)
		goto out;
	rc = 0;
out:
	if (r.curl)
		bx_registry_close(&r);
	for (size_t k = 0; k < ps.nsrc; k++)
		bx_strv_free(ps.src[k].blobs);
	bx_strv_free(ids);
	bx_image_free(&img);
	return rc;
}
