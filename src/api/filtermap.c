/* ?filters= as an object of string arrays (filtermap.h). */
#include "filtermap.h"
#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/goduration.h"

static bool allowed_key(const char *const *allowed, const char *k)
{
	for (; *allowed; allowed++)
		if (!strcmp(*allowed, k))
			return true;
	return false;
}

int api_filtermap_parse(const char *text, const char *const *allowed, json_t **out, struct bx_err *err)
{
	*out = NULL;
	json_t *map = json_object();
	if (!map)
		return api_bad(err, "out of memory");
	if (!text || !*text) {
		*out = map;
		return 0;
	}
	json_t *o = json_loads(text, 0, NULL);
	int rc = 0;
	if (!json_is_object(o))
		rc = api_bad(err, "invalid filters: not a JSON object of lists");
	const char *key, *k2;
	json_t *vals, *v;
	size_t i;
	if (rc == 0) {
		json_object_foreach(o, key, vals) {
			if (!allowed_key(allowed, key)) {
				rc = api_bad(err, "Invalid filter '%.100s'", key);
				break;
			}
			json_t *arr = json_array();
			json_object_set_new(map, key, arr);
			if (json_is_array(vals)) {
				json_array_foreach(vals, i, v) {
					if (!json_is_string(v)) {
						rc = api_bad(err, "invalid filters: the values of '%.100s' must be strings", key);
						break;
					}
					json_array_append(arr, v);
				}
			} else if (json_is_object(vals)) {
				json_object_foreach(vals, k2, v) if (json_is_true(v)) json_array_append_new(arr, json_string(k2));
			} else {
				rc = api_bad(err, "invalid filters: '%.100s' must be a list", key);
			}
			if (rc < 0)
				break;
		}
	}
	json_decref(o);
	if (rc < 0) {
		json_decref(map);
		return -1;
	}
	*out = map;
	return 0;
}

json_t *api_filtermap_get(const json_t *map, const char *key)
{
	json_t *a = json_object_get(map, key);
	return json_array_size(a) ? a : NULL;
}

/* every value of key (label or label!), KEY or KEY=VALUE, is in labels */
static bool all_labels(const json_t *map, const char *key, const json_t *labels)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(map, key), i, v) {
		const char *want = json_string_value(v), *eq = strchr(want, '=');
		size_t kl = eq ? (size_t)(eq - want) : strlen(want);
		const char *k;
		json_t *lv;
		bool found = false;
		json_object_foreach((json_t *)labels, k, lv) {
			if (strlen(k) == kl && !strncmp(k, want, kl) && (!eq || !strcmp(json_string_value(lv) ? json_string_value(lv) : "", eq + 1))) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

bool api_filtermap_labels(const json_t *map, const json_t *labels)
{
	return all_labels(map, "label", labels);
}

bool api_filtermap_any(const json_t *map, const char *key, const char *s, bool prefix)
{
	json_t *a = api_filtermap_get(map, key);
	if (!a)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *w = json_string_value(v);
		if (prefix ? !strncmp(s, w, strlen(w)) : !strcmp(s, w))
			return true;
	}
	return false;
}

int api_filtermap_bool(const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

int api_prune_filter(const char *text, const char *const *keys, unsigned allowed, struct bx_prune_filter *f,
		     struct bx_err *err)
{
	json_t *map;
	bx_prune_filter_init(f);
	if (api_filtermap_parse(text, keys, &map, err) < 0)
		return -1;
	const char *key;
	json_t *vals, *v;
	size_t i;
	int rc = 0;
	json_object_foreach(map, key, vals) {
		json_array_foreach(vals, i, v) if (rc == 0) rc = bx_prune_filter_add_kv(f, key, json_string_value(v), err);
	}
	json_decref(map);
	if (rc == 0 && bx_prune_filter_check(f, allowed, bx_real_ns(), err) < 0)
		rc = -1;
	if (rc < 0) {
		err->errnum = EINVAL; /* a 400 */
		bx_prune_filter_free(f);
	}
	return rc;
}
