/* `boxvm image inspect`: an image as Docker shows it (Id, RepoTags,
 * RepoDigests, Created, Architecture, Os, Size, Config, RootFS). */
#include "image_inspect.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"


static json_t *str_or_empty(json_t *cfg, const char *key)
{
	const char *s = json_string_value(json_object_get(cfg, key));
	return json_string(s ? s : "");
}

int bx_image_inspect_json(const struct bx_paths *p, const struct bx_image *img, void **out, struct bx_err *err)
{
	_cleanup_free_ char *cbuf = NULL;
	size_t clen;
	*out = NULL;
	if (bx_blob_read(p, img->id, BX_CONFIG_MAX, &cbuf, &clen, err) < 0)
		return -1;
	json_error_t je;
	_cleanup_json_ json_t *cfg = json_loadb(cbuf, clen, 0, &je);
	if (!json_is_object(cfg))
		return bx_fail(err, 0, "image %.19s: its config is not valid JSON (%s)", img->id, je.text);
	json_t *tags = json_array(), *digests = json_array(), *layers = json_array();
	for (char **n = img->names; n && *n; n++)
		if (strncmp(*n, "<none>@", 7)) /* an untagged image's index entry (image_create.h) names nothing */
			json_array_append_new(strchr(*n, '@') ? digests : tags, json_string(*n));
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	size_t i;
	json_t *d;
	json_array_foreach(ids, i, d)
		json_array_append(layers, d);
	json_t *config = json_object_get(cfg, "config");
	config = json_is_object(config) ? json_incref(config) : json_object();
	json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:{s:s,s:o},s:{s:s}}",
			      "Id", img->id, "RepoTags", tags, "RepoDigests", digests,
			      "Created", str_or_empty(cfg, "created"), "Author", str_or_empty(cfg, "author"),
			      "Architecture", str_or_empty(cfg, "architecture"), "Os", str_or_empty(cfg, "os"),
			      "Variant", str_or_empty(cfg, "variant"), "Size", (json_int_t)img->size,
			      "Config", config,
			      "RootFS", "Type", "layers", "Layers", layers, "Metadata", "ManifestDigest",
			      img->manifest_digest);
	if (!o)
		return bx_fail(err, ENOMEM, "out of memory");
	/* what a commit records (Docker's image Parent and Comment) */
	json_object_set_new(o, "Parent", str_or_empty(cfg, "parent"));
	json_object_set_new(o, "Comment", str_or_empty(cfg, "comment"));
	if (!json_string_length(json_object_get(o, "Variant")))
		json_object_del(o, "Variant");
	*out = o;
	return 0;
}
