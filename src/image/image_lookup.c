/* Find images in the local store: by name (normalised), by ID (config digest),
 * or by a unique ID prefix; and list them all. */
#include "../common/cleanup.h"
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* RFC 3339 "2024-01-02T03:04:05.999Z" / "+hh:mm" -> unix seconds, 0 if unparsable. */
static long long parse_created(const char *s)
{
	struct tm tm = {0};
	const char *r = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!r)
		return 0;
	long long t = (long long)timegm(&tm);
	if (*r == '.')
		while (isdigit((unsigned char)*++r))
			;
	int hh, mm;
	if ((*r == '+' || *r == '-') && sscanf(r + 1, "%2d:%2d", &hh, &mm) == 2)
		t -= (*r == '+' ? 1 : -1) * (hh * 3600LL + mm * 60LL);
	return t;
}

int bx_image_from_manifest(const struct bx_paths *p, const char *manifest_digest, struct bx_image *out,
			   struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
	size_t mlen, clen;
	struct bx_manifest m;
	if (bx_blob_read(p, manifest_digest, BX_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
		return -1;
	if (bx_manifest_parse(mbuf, mlen, &m, err) < 0)
		return bx_wrap(err, "manifest %s", manifest_digest);
	if (bx_blob_read(p, m.config, BX_CONFIG_MAX, &cbuf, &clen, err) < 0 ||
	    bx_image_config_parse(cbuf, clen, &out->config, err) < 0) {
		bx_manifest_free(&m);
		return bx_wrap(err, "image %s", manifest_digest);
	}
	json_t *root = json_loadb(cbuf, clen, 0, NULL);
	out->created = parse_created(json_string_value(json_object_get(root, "created")));
	json_decref(root);
	strcpy(out->id, m.config);
	strcpy(out->manifest_digest, manifest_digest);
	for (size_t i = 0; i < m.nlayers; i++)
		out->size += m.layer_sizes[i] > 0 ? m.layer_sizes[i] : 0;
	out->layers = m.layers; /* ownership moves to the image */
	out->layer_sizes = m.layer_sizes;
	out->nlayers = m.nlayers;
	m.layers = NULL;
	m.layer_sizes = NULL;
	bx_manifest_free(&m);
	return 0;
}

void bx_image_free(struct bx_image *img)
{
	if (!img)
		return;
	bx_strv_free(img->names);
	bx_strv_free(img->layers);
	free(img->layer_sizes);
	bx_image_config_free(&img->config);
	memset(img, 0, sizeof(*img));
}

static void image_array_free(struct bx_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		bx_image_free(&v[i]);
	free(v);
}

/* One bx_image per distinct manifest in the index, names gathered, sorted by name. */
int bx_image_list(const struct bx_paths *p, struct bx_image **out, size_t *n, struct bx_err *err)
{
	struct bx_image_index_entry *e;
	size_t ne, k = 0;
	*out = NULL;
	*n = 0;
	if (bx_image_index_read(p, &e, &ne, err) < 0)
		return -1;
	struct bx_image *v = calloc(ne + 1, sizeof(*v));
	if (!v) {
		bx_image_index_free(e, ne);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ne; i++) {
		size_t j = 0;
		while (j < k && strcmp(v[j].manifest_digest, e[i].manifest) != 0)
			j++;
		if (j == k) {
			if (bx_image_from_manifest(p, e[i].manifest, &v[k], err) < 0)
				goto fail;
			k++;
		}
		size_t nn = 0;
		while (v[j].names && v[j].names[nn])
			nn++;
		if (bx_strv_push(&v[j].names, &nn, e[i].name, err) < 0)
			goto fail;
	}
	bx_image_index_free(e, ne);
	*out = v;
	*n = k;
	return 0;
fail:
	bx_image_index_free(e, ne);
	image_array_free(v, k + 1);
	return -1;
}

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return false;
	return true;
}

/* errnum ENOENT tells "no such image" from other failures (rmi -f ignores it) */
static int not_found(struct bx_err *err, const char *ref)
{
	bx_fail(err, 0, "no such image: %s (pull it with 'boxvm pull %s' or load it with 'boxvm load -i FILE')", ref, ref);
	if (err)
		err->errnum = ENOENT;
	return -1;
}

int bx_image_lookup(const struct bx_paths *p, const char *ref, struct bx_image *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	struct bx_image *v;
	size_t n;
	if (bx_image_list(p, &v, &n, err) < 0)
		return -1;
	int rc = -1;
	ssize_t hit = -1;

	/* names first, as Docker does: an image may well be called "cafe" */
	char norm[512];
	struct bx_err nerr;
	if (bx_image_ref_normalize(ref, norm, sizeof(norm), &nerr) == 0) {
		const char *at = strchr(norm, '@');
		for (size_t i = 0; i < n && hit < 0; i++)
			for (char **s = v[i].names; s && *s && hit < 0; s++) {
				if (!strcmp(*s, norm))
					hit = (ssize_t)i;
				/* name@digest: the name (any tag) pinned to that manifest */
				else if (at && !strcmp(at + 1, v[i].manifest_digest) &&
					 !strncmp(*s, norm, (size_t)(at - norm)) && (*s)[at - norm] == ':')
					hit = (ssize_t)i;
			}
	}

	/* then an image ID: "sha256:<hex>", full hex, or a unique prefix of at least 4 */
	const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	size_t hl = strlen(hex);
	if (hit < 0 && hl >= 4 && hl <= 64 && is_hex(hex)) {
		for (size_t i = 0; i < n; i++) {
			if (strncmp(v[i].id + 7, hex, hl) != 0)
				continue;
			if (hit >= 0 && strcmp(v[hit].id, v[i].id) != 0) {
				bx_fail(err, 0, "image ID prefix '%s' is ambiguous: it matches %.19s and %.19s; give more digits",
					ref, v[hit].id, v[i].id);
				goto out;
			}
			if (hit < 0)
				hit = (ssize_t)i;
		}
	}
	if (hit < 0) {
		not_found(err, ref);
		goto out;
	}
	*out = v[hit];
	memset(&v[hit], 0, sizeof(v[hit]));
	rc = 0;
out:
	image_array_free(v, n);
	return rc;
}
