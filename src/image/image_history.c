/* An image's history rows (image_history.h). */
#include "image_history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 3339 seconds of the config's history entries -> unix seconds (0: unknown) */
static long long created_of(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	return end ? (long long)timegm(&tm) : 0;
}

static json_t *config_of(const struct bx_paths *p, const char *id)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *cfg = bx_blob_read(p, id, BX_CONFIG_MAX, &buf, &len, NULL) == 0 ? json_loadb(buf, len, 0, NULL) : NULL;
	free(buf);
	return cfg;
}

static json_t *tags_of(const struct bx_image *img)
{
	json_t *tags = json_array();
	for (char **n = img->names; n && *n; n++)
		if (!strchr(*n, '@'))
			json_array_append_new(tags, json_string(*n));
	if (!json_array_size(tags)) {
		json_decref(tags);
		return json_null();
	}
	return tags;
}

json_t *bx_image_history(const struct bx_paths *p, const struct bx_image *img, struct bx_err *err)
{
	json_t *cfg = config_of(p, img->id), *out = json_array();
	if (!out) {
		json_decref(cfg);
		bx_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	json_t *hist = json_object_get(cfg, "history");
	size_t nh = json_array_size(hist), layer = 0, i;
	json_t *h;
	json_array_foreach(hist, i, h) {
		bool empty = json_is_true(json_object_get(h, "empty_layer"));
		long long size = !empty && layer < img->nlayers ? img->layer_sizes[layer++] : 0;
		json_t *e = json_pack("{s:s,s:I,s:s,s:o,s:I,s:s}", "Id", "<missing>", "Created",
				      (json_int_t)created_of(json_string_value(json_object_get(h, "created"))), "CreatedBy",
				      json_string_value(json_object_get(h, "created_by")) ?: "", "Tags", json_null(), "Size",
				      (json_int_t)size, "Comment", json_string_value(json_object_get(h, "comment")) ?: "");
		json_array_insert_new(out, 0, e); /* newest first */
	}
	if (nh == 0)
		json_array_append_new(out, json_pack("{s:s,s:I,s:s,s:o,s:I,s:s}", "Id", "", "Created", (json_int_t)img->created,
						     "CreatedBy", "", "Tags", json_null(), "Size", (json_int_t)img->size,
						     "Comment", ""));
	/* the newest row is the image, the next its parent (while known here) */
	json_t *top = json_array_get(out, 0);
	json_object_set_new(top, "Id", json_string(img->id));
	json_object_set_new(top, "Tags", tags_of(img));
	json_t *c = json_incref(cfg);
	for (size_t k = 1; k < json_array_size(out); k++) {
		const char *parent = json_string_value(json_object_get(c, "parent"));
		struct bx_image pimg;
		if (!parent || bx_image_lookup(p, parent, &pimg, NULL) < 0)
			break;
		json_t *row = json_array_get(out, k);
		json_object_set_new(row, "Id", json_string(pimg.id));
		json_object_set_new(row, "Tags", tags_of(&pimg));
		json_decref(c);
		c = config_of(p, pimg.id);
		bx_image_free(&pimg);
	}
	json_decref(c);
	json_decref(cfg);
	return out;
}
