/* `docker save` archives: manifest.json lists Config, RepoTags and Layers by
 * archive path. Layers are checked against the config's rootfs.diff_ids (the
 * digests of the uncompressed tars) and an OCI manifest is synthesized so the
 * store holds one kind of image. */
#include "../common/cleanup.h"
#include "image.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The archive path names a digest ("blobs/sha256/<hex>", "<hex>.json", "<hex>/layer.tar"
 * in old saves is a layer ID, not content): check the ones that claim content. */
static int check_named_digest(struct bx_load *l, const char *path, struct bx_load_file *f, struct bx_err *err)
{
	char claimed[BX_DIGEST_SIZE];
	const char *hex = NULL;
	if (!strncmp(path, "blobs/sha256/", 13))
		hex = path + 13;
	else if (strlen(path) == 69 && !strcmp(path + 64, ".json"))
		hex = path;
	if (!hex)
		return 0;
	snprintf(claimed, sizeof(claimed), "sha256:%.64s", hex);
	if (bx_digest_valid(claimed) && strcmp(claimed, f->digest) != 0)
		return bx_fail(err, 0, "blob %s in %s does not match its digest (content is %s); the archive is corrupt",
			       claimed, l->archive, f->digest);
	return 0;
}

static struct bx_load_file *need_file(struct bx_load *l, const char *path, struct bx_err *err)
{
	struct bx_load_file *f = path ? bx_load_find(l, path) : NULL;
	if (!f)
		bx_fail(err, 0, "%s is incomplete: %s (listed in manifest.json) is missing; save the image again",
			l->archive, path ? path : "(null)");
	else if (check_named_digest(l, path, f, err) < 0)
		return NULL;
	return f;
}

/* One manifest.json entry -> queued blobs + synthesized manifest digest. */
static int import_one(struct bx_load *l, json_t *item, char manifest[BX_DIGEST_SIZE], struct bx_err *err)
{
	const char *cpath = json_string_value(json_object_get(item, "Config"));
	json_t *layers = json_object_get(item, "Layers");
	struct bx_load_file *cf = need_file(l, cpath, err);
	if (!cf)
		return -1;
	if (!json_is_array(layers))
		return bx_fail(err, 0, "%s: manifest.json entry for %s has no Layers array", l->archive, cpath);
	_cleanup_free_ char *cbuf = NULL;
	size_t clen;
	if (bx_load_read(l, cf, BX_CONFIG_MAX, &cbuf, &clen, err) < 0)
		return -1;
	_cleanup_json_ json_t *cfg = json_loadb(cbuf, clen, 0, NULL);
	json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	_cleanup_json_ json_t *m = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:[]}", "schemaVersion", 2, "mediaType",
					     "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
					     "application/vnd.oci.image.config.v1+json", "digest", cf->digest, "size",
					     (json_int_t)cf->size, "layers");
	if (!cfg || !m)
		return bx_fail(err, 0, "%s: config %s is not valid JSON", l->archive, cpath);
	if (json_array_size(diff_ids) != json_array_size(layers))
		return bx_fail(err, 0, "%s: config %s lists %zu diff_ids for %zu layers; the archive is inconsistent",
			       l->archive, cpath, json_array_size(diff_ids), json_array_size(layers));
	if (bx_load_queue(l, cf, err) < 0)
		return -1;
	size_t i;
	json_t *lp;
	json_array_foreach(layers, i, lp) {
		const char *path = json_string_value(lp);
		const char *want = json_string_value(json_array_get(diff_ids, i));
		struct bx_load_file *lf = need_file(l, path, err);
		if (!lf)
			return -1;
		enum bx_comp c = bx_blob_compression(lf->tmp);
		char diff[BX_DIGEST_SIZE];
		if (c == BX_COMP_NONE)
			strcpy(diff, lf->digest);
		else if (bx_blob_inflate(lf->tmp, NULL, NULL, diff, NULL, err) < 0)
			return -1;
		if (!want || strcmp(diff, want) != 0)
			return bx_fail(err, 0, "layer %s in %s does not match its diff_id %s in the config; the archive is corrupt",
				       path, l->archive, want ? want : "(none)");
		static const char *const mt[] = {"application/vnd.oci.image.layer.v1.tar",
						  "application/vnd.oci.image.layer.v1.tar+gzip",
						  "application/vnd.oci.image.layer.v1.tar+zstd"};
		if (json_array_append_new(json_object_get(m, "layers"),
					  json_pack("{s:s,s:s,s:I}", "mediaType", mt[c], "digest", lf->digest, "size",
						    (json_int_t)lf->size)) < 0 ||
		    bx_load_queue(l, lf, err) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
	}
	_cleanup_free_ char *s = json_dumps(m, JSON_COMPACT);
	if (!s)
		return bx_fail(err, ENOMEM, "out of memory");
	return bx_load_add_buf(l, s, strlen(s), manifest, err);
}

/* Everything the tagged entries list is copied in one pass (a missing file is
 * reported by import_one); nothing else in the archive is. */
static int want_listed(struct bx_load *l, json_t *root, struct bx_err *err)
{
	long long layer_max;
	if (bx_layer_max_size(&layer_max, err) < 0)
		return -1;
	size_t i, k;
	json_t *item, *lp;
	json_array_foreach(root, i, item) {
		if (!json_array_size(json_object_get(item, "RepoTags")))
			continue;
		const char *cpath = json_string_value(json_object_get(item, "Config"));
		struct bx_load_file *f = cpath ? bx_load_find(l, cpath) : NULL;
		if (f && bx_load_want(l, f, BX_CONFIG_MAX, "an image config", err) < 0)
			return -1;
		json_array_foreach(json_object_get(item, "Layers"), k, lp) {
			f = json_is_string(lp) ? bx_load_find(l, json_string_value(lp)) : NULL;
			if (f && bx_load_want(l, f, layer_max, "a layer; raise BOXVM_MAX_LAYER_SIZE if it is genuine", err) < 0)
				return -1;
		}
	}
	return bx_load_materialize(l, err);
}

int bx_load_docker(struct bx_load *l, const char *manifest_json, size_t len, struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(manifest_json, len, 0, &je);
	json_t *item;
	if (!json_is_array(root))
		return bx_fail(err, 0, "%s: manifest.json is not a docker save manifest (%s)", l->archive,
			       root ? "not an array" : je.text);
	if (want_listed(l, root, err) < 0)
		return -1;
	size_t i;
	json_array_foreach(root, i, item) {
		json_t *tags = json_object_get(item, "RepoTags"), *t;
		if (!json_array_size(tags))
			continue; /* untagged: nothing could refer to it */
		char manifest[BX_DIGEST_SIZE];
		if (import_one(l, item, manifest, err) < 0)
			return -1;
		size_t k;
		json_array_foreach(tags, k, t)
			if (json_is_string(t) && bx_load_add_name(l, json_string_value(t), manifest, err) < 0)
				return -1;
	}
	if (l->nnames == 0)
		/* Docker loads these as untagged images ("Loaded image ID: ..."); boxvm's
		 * store keeps an image only under a name, and an unnamed one would be
		 * unreachable */
		return bx_fail(err, 0, "%s holds only untagged images (saved by image ID; manifest.json has no RepoTags) and "
			       "boxvm keeps images by name: save it as NAME:TAG", l->archive);
	return 0;
}
