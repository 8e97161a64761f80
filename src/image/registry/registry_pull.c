/* `boxvm pull` orchestration: resolve the reference to an image manifest
 * (through an index when there is one), stage every blob, then commit blobs
 * and names atomically under the image index lock. */
#include "pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/cleanup.h"
#include "../image.h"

static void emit(const struct bx_pull_opts *o, enum bx_pull_event_kind k, const char *digest, long long done,
		 long long total, size_t index, size_t count)
{
	if (o && o->progress) {
		struct bx_pull_event ev = {k, digest, done, total, index, count};
		o->progress(o->progress_ctx, &ev);
	}
}

/* Fetch a manifest and check it against the digest it was asked by (if any);
 * what may be digest itself (a manifest an index chose), so the content's
 * digest is compared before it is stored there. */
static int get_manifest(struct bx_registry *r, const char *what, char **body, size_t *len, char digest[BX_DIGEST_SIZE],
			struct bx_err *err)
{
	char mt[128], got[BX_DIGEST_SIZE];
	_cleanup_free_ char *b = NULL;
	if (bx_registry_manifest(r, what, BX_MANIFEST_MAX, &b, len, mt, err) < 0 ||
	    bx_sha256_buf(b, *len, got, err) < 0)
		return -1;
	if (bx_digest_valid(what) && strcmp(what, got) != 0)
		return bx_fail(err, 0, "manifest %s from %s/%s failed verification: its content has digest %s", what,
			       r->ref.domain, r->ref.path, got);
	if (!strncmp(mt, "application/vnd.docker.distribution.manifest.v1+", 47))
		return bx_fail(err, 0, "%s/%s is a Docker schema 1 image (%s), which boxvm does not support; push it again with a current client",
			       r->ref.domain, r->ref.path, mt);
	memcpy(digest, got, BX_DIGEST_SIZE);
	*body = BX_TAKE_PTR(b);
	return 0;
}

static int commit(const struct bx_paths *p, char **blobs, size_t nb, char *const *names, size_t nn,
		  const char *manifest, bool *updated, struct bx_err *err)
{
	_cleanup_close_ int lock = bx_image_index_lock(p, err);
	if (lock < 0)
		return -1;
	_cleanup_free_ bool *created = calloc(nb + 1, sizeof(*created));
	if (!created)
		return bx_fail(err, ENOMEM, "out of memory");
	bool moved = false;
	if (bx_stage_commit(p, blobs, nb, created, err) < 0 || bx_image_index_set_names(p, names, nn, manifest, &moved, err) < 0) {
		/* put new blobs back into the staging area: the store is as it was, and a retry reuses them */
		for (size_t i = 0; i < nb; i++) {
			char store[PATH_MAX], done[PATH_MAX];
			if (created[i] && bx_blob_path(p, blobs[i], store, sizeof(store), NULL) == 0 &&
			    bx_path_join(done, sizeof(done), NULL, "%s/blobs/incoming/%s", p->data, blobs[i] + 7) == 0)
				rename(store, done);
		}
		return -1;
	}
	for (size_t i = 0; i < nb; i++)
		moved |= created[i];
	*updated = moved;
	return 0;
}

int bx_image_pull(const struct bx_paths *p, const char *refstr, const struct bx_pull_opts *o, struct bx_pull_result *res,
		  struct bx_err *err)
{
	memset(res, 0, sizeof(*res));
	struct bx_ref ref;
	if (bx_ref_parse(refstr, &ref, err) < 0)
		return -1;
	struct bx_registry r;
	char *top = NULL, *body = NULL, *cfg = NULL;
	size_t top_len = 0, len = 0;
	char **blobs = NULL, **names = NULL;
	size_t nb = 0, nn = 0;
	struct bx_manifest m = {0};
	bool *had = NULL; /* which layers the store had when the pull began */
	int rc = -1;
	if (bx_registry_open(&r, p, &ref, err) < 0)
		goto out;
	if (o && o->creds) {
		r.creds = *o->creds;
		r.have_creds = true;
	}
	char top_digest[BX_DIGEST_SIZE], digest[BX_DIGEST_SIZE];
	if (get_manifest(&r, ref.digest[0] ? ref.digest : ref.tag, &top, &top_len, top_digest, err) < 0)
		goto out;
	snprintf(res->repo_digest, sizeof(res->repo_digest), "%s", top_digest);
	emit(o, BX_PULL_RESOLVED, top_digest, 0, 0, 0, 0);
	if (bx_manifest_is_index(top, top_len)) {
		long long msize;
		if (bx_index_select(top, top_len, &o->platform, digest, &msize, err) < 0) {
			bx_wrap(err, "%s", refstr);
			goto out;
		}
		if (get_manifest(&r, digest, &body, &len, digest, err) < 0)
			goto out;
		if ((long long)len != msize) {
			bx_fail(err, 0, "manifest %s from %s is %zu bytes but the index says %lld", digest, ref.domain, len, msize);
			goto out;
		}
	} else {
		body = top;
		len = top_len;
		top = NULL;
		strcpy(digest, top_digest);
	}
	if (bx_manifest_parse(body, len, &m, err) < 0) {
		bx_wrap(err, "%s", refstr);
		goto out;
	}
	strcpy(res->manifest, digest);
	strcpy(res->id, m.config);
	/* nothing is fetched that its descriptor does not bound within the limits */
	long long layer_max;
	if (bx_layer_max_size(&layer_max, err) < 0)
		goto out;
	if (m.config_size > BX_CONFIG_MAX) {
		bx_fail(err, 0, "%s: the image config is %lld bytes, more than the %u accepted; the image is invalid", refstr,
			m.config_size, BX_CONFIG_MAX);
		goto out;
	}
	for (size_t i = 0; i < m.nlayers; i++)
		if (m.layer_sizes[i] > layer_max) {
			bx_fail(err, 0, "%s: layer %s is %lld bytes, more than %lld; if the image is genuine, raise BOXVM_MAX_LAYER_SIZE",
				refstr, m.layers[i], m.layer_sizes[i], layer_max);
			goto out;
		}

	/* the config first (small), then the layers, base first */
	bool fetched;
	if (bx_stage_blob(p, &r, m.config, m.config_size, NULL, 0, 0, &fetched, err) < 0 ||
	    bx_strv_push(&blobs, &nb, m.config, err) < 0)
		goto out;
	/* every layer's fate first, as Docker tells it: there already, or to fetch */
	had = calloc(m.nlayers + 1, sizeof(*had));
	if (!had) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m.nlayers; i++) {
		char store[PATH_MAX];
		if (bx_blob_path(p, m.layers[i], store, sizeof(store), err) < 0)
			goto out;
		had[i] = access(store, F_OK) == 0;
		emit(o, had[i] ? BX_PULL_LAYER_EXISTS : BX_PULL_LAYER_QUEUED, m.layers[i], had[i] ? m.layer_sizes[i] : 0,
		     m.layer_sizes[i], i, m.nlayers);
	}
	for (size_t i = 0; i < m.nlayers; i++) {
		if (!had[i]) {
			if (bx_stage_blob(p, &r, m.layers[i], m.layer_sizes[i], o, i, m.nlayers, &fetched, err) < 0)
				goto out;
			emit(o, BX_PULL_LAYER_DONE, m.layers[i], m.layer_sizes[i], m.layer_sizes[i], i, m.nlayers);
		}
		if (bx_strv_push(&blobs, &nb, m.layers[i], err) < 0)
			goto out;
	}
	/* the config must parse before anything is recorded: a box could not run otherwise */
	size_t cfg_len;
	char cpath[PATH_MAX], spath[PATH_MAX];
	if (bx_path_join(cpath, sizeof(cpath), err, "%s/blobs/incoming/%s", p->data, m.config + 7) < 0 ||
	    bx_blob_path(p, m.config, spath, sizeof(spath), err) < 0)
		goto out;
	struct bx_image_config ic;
	if (bx_read_file(access(spath, F_OK) == 0 ? spath : cpath, &cfg, &cfg_len, err) < 0 ||
	    bx_image_config_parse(cfg, cfg_len, &ic, err) < 0) {
		bx_wrap(err, "image config %s", m.config);
		goto out;
	}
	bx_image_config_free(&ic);

	if (bx_stage_buf(p, body, len, digest, err) < 0 || bx_strv_push(&blobs, &nb, digest, err) < 0)
		goto out;
	/* names: NAME:TAG, and NAME@DIGEST (Docker's RepoDigest) for the digest it resolved to */
	char nm[600];
	if (ref.tag[0]) {
		struct bx_ref t = ref;
		t.digest[0] = '\0';
		if (bx_ref_familiar(&t, true, nm, sizeof(nm), err) < 0 || bx_strv_push(&names, &nn, nm, err) < 0)
			goto out;
		snprintf(res->name, sizeof(res->name), "%s", nm);
	}
	struct bx_ref d = ref;
	d.tag[0] = '\0';
	snprintf(d.digest, sizeof(d.digest), "%s", top_digest);
	if (bx_ref_familiar(&d, true, nm, sizeof(nm), err) < 0 || bx_strv_push(&names, &nn, nm, err) < 0)
		goto out;
	if (!res->name[0])
		snprintf(res->name, sizeof(res->name), "%s", nm);
	if (commit(p, blobs, nb, names, nn, digest, &res->updated, err) < 0)
		goto out;
	rc = 0;
out:
	if (r.curl)
		bx_registry_close(&r);
	bx_manifest_free(&m);
	bx_strv_free(blobs);
	bx_strv_free(names);
	free(top);
	free(body);
	free(cfg);
	free(had);
	return rc;
}
