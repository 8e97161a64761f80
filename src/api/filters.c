/* ?filters= into box filters (filters.h). */
#include "filters.h"
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(const char *key, const char *val, void *ctx, struct bx_err *err)
{
	char *kv;
	if (asprintf(&kv, "%s=%s", key, val) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_box_filter_add(ctx, kv, err);
	free(kv);
	return rc;
}

int api_filters_each(const char *text, int (*fn)(const char *key, const char *val, void *ctx, struct bx_err *err),
		     void *ctx, struct bx_err *err)
{
	if (!text || !*text)
		return 0;
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return api_bad(err, "invalid filters: not a JSON object of lists");
	}
	const char *key, *k2;
	json_t *vals, *v;
	size_t i;
	int rc = 0;
	json_object_foreach(o, key, vals) {
		if (json_is_array(vals)) {
			json_array_foreach(vals, i, v) {
				if (!json_is_string(v)) {
					rc = api_bad(err, "invalid filters: the values of '%s' must be strings", key);
					break;
				}
				if ((rc = fn(key, json_string_value(v), ctx, err)) < 0)
					break;
			}
		} else if (json_is_object(vals)) {
			json_object_foreach(vals, k2, v) if (json_is_true(v) && (rc = fn(key, k2, ctx, err)) < 0) break;
		} else {
			rc = api_bad(err, "invalid filters: '%s' must be a list", key);
		}
		if (rc < 0)
			break;
	}
	json_decref(o);
	return rc;
}

int api_filters_parse(const char *text, struct bx_box_filters *f, struct bx_err *err)
{
	return api_filters_each(text, add, f, err);
}
