/* Layer chain ids (pure) and the diff ids they are made of. */
#include "../common/cleanup.h"
#include "layercache.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int bx_chain_id_next(const char *parent, const char *diff_id, char out[BX_DIGEST_SIZE], struct bx_err *err)
{
	if (!bx_digest_valid(diff_id))
		return bx_fail(err, 0, "invalid layer diff id '%s'", diff_id);
	if (!parent) {
		memcpy(out, diff_id, BX_DIGEST_SIZE - 1);
		out[BX_DIGEST_SIZE - 1] = '\0';
		return 0;
	}
	if (!bx_digest_valid(parent))
		return bx_fail(err, 0, "invalid layer chain id '%s'", parent);
	char buf[2 * BX_DIGEST_SIZE];
	int n = snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
	return bx_sha256_buf(buf, (size_t)n, out, err);
}

int bx_chain_id(char *const *diff_ids, size_t n, char out[BX_DIGEST_SIZE], struct bx_err *err)
{
	if (n == 0)
		return bx_fail(err, 0, "an image with no layers has no layer chain");
	if (bx_chain_id_next(NULL, diff_ids[0], out, err) < 0)
		return -1;
	for (size_t i = 1; i < n; i++) {
		char prev[BX_DIGEST_SIZE];
		memcpy(prev, out, BX_DIGEST_SIZE);
		if (bx_chain_id_next(prev, diff_ids[i], out, err) < 0)
			return -1;
	}
	return 0;
}

int bx_layer_diff_id(const char *layer_path, char out[BX_DIGEST_SIZE], struct bx_err *err)
{
	return bx_blob_inflate(layer_path, NULL, NULL, out, NULL, err);
}

int bx_image_diff_ids(const struct bx_paths *p, const struct bx_image *img, char ***out, struct bx_err *err)
{
	_cleanup_free_ char *cbuf = NULL;
	size_t clen, n = 0;
	*out = NULL;
	if (bx_blob_read(p, img->id, BX_CONFIG_MAX, &cbuf, &clen, err) < 0)
		return -1;
	_cleanup_json_ json_t *root = json_loadb(cbuf, clen, 0, NULL);
	json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	bool usable = json_is_array(ids) && json_array_size(ids) == img->nlayers;
	for (size_t i = 0; usable && i < img->nlayers; i++)
		usable = bx_digest_valid(json_string_value(json_array_get(ids, i)) ?: "");
	char **v = NULL;
	for (size_t i = 0; i < img->nlayers; i++) {
		char d[BX_DIGEST_SIZE], path[PATH_MAX];
		if (usable)
			snprintf(d, sizeof(d), "%s", json_string_value(json_array_get(ids, i)));
		if ((!usable && (bx_blob_path(p, img->layers[i], path, sizeof(path), err) < 0 ||
				 bx_layer_diff_id(path, d, err) < 0)) ||
		    bx_strv_push(&v, &n, d, err) < 0) {
			bx_strv_free(v);
			return -1;
		}
	}
	*out = v;
	return 0;
}
