/* Parse an image manifest (OCI image manifest or Docker v2s2): the config
 * descriptor and the layer descriptors, each validated as a sha256 digest. */
#include "image.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int descriptor(json_t *d, const char *what, char digest[BX_DIGEST_SIZE], long long *size,
		      struct bx_err *err)
{
	json_t *dg = json_object_get(d, "digest"), *sz = json_object_get(d, "size");
	if (!json_is_object(d) || !json_is_string(dg))
		return bx_fail(err, 0, "manifest: %s has no digest", what);
	if (!bx_digest_valid(json_string_value(dg)))
		return bx_fail(err, 0, "manifest: %s digest '%s' is not a sha256 digest", what, json_string_value(dg));
	/* required: the size is what bounds a download or an archive member before it is read */
	if (!sz)
		return bx_fail(err, 0, "manifest: %s %s has no size; the image is invalid (OCI requires descriptor sizes)",
			       what, json_string_value(dg));
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return bx_fail(err, 0, "manifest: %s size is not a non-negative integer", what);
	strcpy(digest, json_string_value(dg));
	*size = json_integer_value(sz);
	return 0;
}

int bx_manifest_parse(const char *json, size_t len, struct bx_manifest *m, struct bx_err *err)
{
	memset(m, 0, sizeof(*m));
	json_error_t je;
	json_t *root = json_loadb(json, len, 0, &je);
	if (!root)
		return bx_fail(err, 0, "manifest is not valid JSON: %s (line %d)", je.text, je.line);
	int rc = -1;
	json_t *ls = json_object_get(root, "layers");
	json_t *mt = json_object_get(root, "mediaType");
	if (json_is_string(mt) && (strstr(json_string_value(mt), "index") || strstr(json_string_value(mt), "list"))) {
		bx_fail(err, 0, "manifest is an image index (%s), not an image manifest", json_string_value(mt));
		goto out;
	}
	if (descriptor(json_object_get(root, "config"), "config", m->config, &m->config_size, err) < 0)
		goto out;
	if (!json_is_array(ls)) {
		bx_fail(err, 0, "manifest has no layers array");
		goto out;
	}
	size_t n = json_array_size(ls);
	m->layers = calloc(n + 1, sizeof(*m->layers));
	m->layer_sizes = calloc(n + 1, sizeof(*m->layer_sizes));
	if (!m->layers || !m->layer_sizes) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char dg[BX_DIGEST_SIZE];
		if (descriptor(json_array_get(ls, i), "layer", dg, &m->layer_sizes[i], err) < 0)
			goto out;
		if (!(m->layers[i] = strdup(dg))) {
			bx_fail(err, ENOMEM, "out of memory");
			goto out;
		}
		m->nlayers = i + 1;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		bx_manifest_free(m);
	return rc;
}

void bx_manifest_free(struct bx_manifest *m)
{
	if (!m)
		return;
	bx_strv_free(m->layers);
	free(m->layer_sizes);
	memset(m, 0, sizeof(*m));
}
