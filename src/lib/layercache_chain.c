/* Layer chain ids (pure) and the diff ids they are made of. */
#include "layercache.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
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
	struct archive *a = archive_read_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;
	if (!a || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	/* "raw": the decompressed stream as one entry, exactly the bytes diff ids hash */
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	if (archive_read_open_filename(a, layer_path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		bx_fail(err, 0, "cannot read layer %s: %s", layer_path, archive_error_string(a));
		goto out;
	}
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	long long max, total = 0;
	if (bx_layer_max_size(&max, err) < 0)
		goto out;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		/* the same ceiling as unpacking: a small compressed bomb is not hashed for hours */
		if ((total += (long long)len) > max) {
			bx_fail(err, 0, "layer %s decompresses to more than %lld bytes; if the image is genuine, raise BOXVM_MAX_LAYER_SIZE",
				layer_path, max);
			goto out;
		}
		EVP_DigestUpdate(md, buf, len);
	}
	if (r != ARCHIVE_EOF) {
		bx_fail(err, 0, "cannot decompress layer %s: %s", layer_path, archive_error_string(a));
		goto out;
	}
	unsigned char h[32];
	unsigned int hl = 0;
	if (!EVP_DigestFinal_ex(md, h, &hl) || hl != 32) {
		bx_fail(err, 0, "sha256 failed");
		goto out;
	}
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", h[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	archive_read_free(a);
	return rc;
}

int bx_image_diff_ids(const struct bx_paths *p, const struct bx_image *img, char ***out, struct bx_err *err)
{
	_cleanup_free_ char *cbuf = NULL;
	size_t clen, n = 0;
	*out = NULL;
	if (bx_blob_read(p, img->id, BX_CONFIG_MAX, &cbuf, &clen, err) < 0)
		return -1;
	json_t *root = json_loadb(cbuf, clen, 0, NULL);
	json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	bool usable = json_is_array(ids) && json_array_size(ids) == img->nlayers;
	for (size_t i = 0; usable && i < img->nlayers; i++)
		usable = bx_digest_valid(json_string_value(json_array_get(ids, i)) ?: "");
	char **v = NULL;
	for (size_t i = 0; i < img->nlayers; i++) {
		char d[BX_DIGEST_SIZE], path[PATH_MAX];
		if (usable) {
			snprintf(d, sizeof(d), "%s", json_string_value(json_array_get(ids, i)));
		} else if (bx_blob_path(p, img->layers[i], path, sizeof(path), err) < 0 ||
			   bx_layer_diff_id(path, d, err) < 0) {
			goto fail;
		}
		if (bx_strv_push(&v, &n, d, err) < 0)
			goto fail;
	}
	json_decref(root);
	*out = v;
	return 0;
fail:
	json_decref(root);
	bx_strv_free(v);
	return -1;
}
