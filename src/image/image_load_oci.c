/* OCI image layout (index.json + blobs/sha256/...): resolve each named entry of
 * the index to an image manifest, verifying every blob on the way. */
#include "../common/cleanup.h"
#include "image.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static bool is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

/* A usable image name from a descriptor's annotations, or NULL; *tag gets a bare
 * ref.name ("latest") which alone does not say which image it is. */
static const char *descriptor_name(json_t *d, const char **tag)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *cn = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	const char *rn = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	if (cn && *cn)
		return cn;
	if (rn && (strchr(rn, ':') || strchr(rn, '/')))
		return rn;
	if (rn && *rn)
		*tag = rn;
	return NULL;
}

static int read_blob_json(struct bx_load *l, const char *digest, json_t **out, struct bx_err *err)
{
	char path[128];
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (bx_load_read(l, bx_load_find(l, path), BX_MANIFEST_MAX, &buf, &len, err) < 0)
		return -1;
	json_error_t je;
	if (!(*out = json_loadb(buf, len, 0, &je)))
		return bx_fail(err, 0, "%s: blob %s is not valid JSON: %s", l->archive, digest, je.text);
	return 0;
}

/* Pick linux/amd64 from an image index (or its only entry when unlabelled). */
static int pick_platform(struct bx_load *l, const char *index_digest, json_t *idx, char out[BX_DIGEST_SIZE],
			 long long *size, struct bx_err *err)
{
	json_t *ms = json_object_get(idx, "manifests"), *d, *only = NULL;
	size_t i;
	json_array_foreach(ms, i, d) {
		json_t *pl = json_object_get(d, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		if (!pl && json_array_size(ms) == 1)
			only = d;
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64")) {
			only = d;
			break;
		}
	}
	const char *dg = json_string_value(json_object_get(only, "digest"));
	if (!dg)
		return bx_fail(err, 0, "%s: image index %s has no linux/amd64 image", l->archive, index_digest);
	snprintf(out, BX_DIGEST_SIZE, "%s", dg);
	json_t *sz = json_object_get(only, "size");
	*size = json_is_integer(sz) ? json_integer_value(sz) : -1;
	return 0;
}

/* descriptor -> verified image manifest (through nested indexes), its blobs queued */
static int resolve(struct bx_load *l, json_t *desc, char manifest[BX_DIGEST_SIZE], struct bx_err *err)
{
	const char *dg = json_string_value(json_object_get(desc, "digest"));
	json_t *sz = json_object_get(desc, "size");
	long long size = json_is_integer(sz) ? json_integer_value(sz) : -1;
	if (!dg)
		return bx_fail(err, 0, "%s: index.json has a manifest entry without a digest", l->archive);
	snprintf(manifest, BX_DIGEST_SIZE, "%s", dg);
	for (int depth = 0;; depth++) {
		_cleanup_json_ json_t *doc = NULL;
		size_t queued = l->ncommit;
		if (depth > 4)
			return bx_fail(err, 0, "%s: image indexes nest too deeply", l->archive);
		if (bx_load_need_blob(l, manifest, size, BX_MANIFEST_MAX, "index.json", err) < 0 ||
		    read_blob_json(l, manifest, &doc, err) < 0)
			return -1;
		const char *mt = json_string_value(json_object_get(doc, "mediaType"));
		if (!is_index_type(mt) && !(json_is_array(json_object_get(doc, "manifests")) &&
					    !json_object_get(doc, "layers")))
			break;
		char inner[BX_DIGEST_SIZE];
		if (pick_platform(l, manifest, doc, inner, &size, err) < 0)
			return -1;
		/* the index blob itself is not stored: names point at the chosen manifest */
		l->ncommit = queued;
		snprintf(manifest, BX_DIGEST_SIZE, "%s", inner);
	}
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char path[128], who[128];
	snprintf(path, sizeof(path), "blobs/sha256/%s", manifest + 7);
	snprintf(who, sizeof(who), "manifest %.19s", manifest);
	struct bx_manifest m;
	long long layer_max;
	if (bx_layer_max_size(&layer_max, err) < 0 ||
	    bx_load_read(l, bx_load_find(l, path), BX_MANIFEST_MAX, &buf, &len, err) < 0)
		return -1;
	if (bx_manifest_parse(buf, len, &m, err) < 0)
		return bx_wrap(err, "%s: blob %s", l->archive, manifest);
	/* wanted now, copied later in one pass for all images of the archive */
	int rc = bx_load_need_blob(l, m.config, m.config_size, BX_CONFIG_MAX, who, err);
	for (size_t i = 0; rc == 0 && i < m.nlayers; i++)
		rc = bx_load_need_blob(l, m.layers[i], m.layer_sizes[i], layer_max, who, err);
	bx_manifest_free(&m);
	return rc;
}

int bx_load_oci(struct bx_load *l, const char *index_json, size_t len, struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *idx = json_loadb(index_json, len, 0, &je);
	json_t *ms = json_object_get(idx, "manifests"), *d;
	if (!json_is_array(ms))
		return bx_fail(err, 0, "%s: index.json is not an OCI image index (%s)", l->archive,
			       idx ? "no manifests array" : je.text);
	const char *tag = NULL;
	size_t i;
	json_array_foreach(ms, i, d) {
		const char *name = descriptor_name(d, &tag);
		char manifest[BX_DIGEST_SIZE];
		if (!name)
			continue; /* unnamed entries are not loaded: nothing could refer to them */
		if (resolve(l, d, manifest, err) < 0 || bx_load_add_name(l, name, manifest, err) < 0)
			return -1;
	}
	if (l->nnames > 0)
		return 0;
	if (tag)
		bx_fail(err, 0, "%s names no image: index.json has only the tag '%s' (no io.containerd.image.name "
			"annotation); save it with a full name such as NAME:%s", l->archive, tag, tag);
	else
		bx_fail(err, 0, "%s names no image: index.json has no io.containerd.image.name or "
			"org.opencontainers.image.ref.name annotation; save it with a name", l->archive);
	return 1;
}
