/* Parse the runtime part ("config") of an OCI / Docker image config JSON. */
#include "image.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Array of strings -> NULL-terminated vector; null/absent -> NULL. */
static int strv_from_json(json_t *cfg, const char *key, char ***out, struct bx_err *err)
{
	*out = NULL;
	json_t *a = json_object_get(cfg, key);
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return bx_fail(err, 0, "image config: %s must be an array of strings", key);
	char **v = calloc(json_array_size(a) + 1, sizeof(*v));
	if (!v)
		return bx_fail(err, ENOMEM, "out of memory");
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s) {
		if (!json_is_string(s)) {
			bx_strv_free(v);
			return bx_fail(err, 0, "image config: %s must be an array of strings", key);
		}
		if (!(v[i] = strdup(json_string_value(s)))) {
			bx_strv_free(v);
			return bx_fail(err, ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

/* String; null/absent/"" -> NULL (an empty WorkingDir or User means "default"). */
static int str_from_json(json_t *cfg, const char *key, char **out, struct bx_err *err)
{
	*out = NULL;
	json_t *s = json_object_get(cfg, key);
	if (!s || json_is_null(s))
		return 0;
	if (!json_is_string(s))
		return bx_fail(err, 0, "image config: %s must be a string", key);
	if (!*json_string_value(s))
		return 0;
	if (!(*out = strdup(json_string_value(s))))
		return bx_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* {"PATH": {}, ...} -> the keys; null/absent -> NULL. At most
 * BX_IMAGE_VOLUMES_MAX: each is a volume (and a virtiofsd) per box. */
#define BX_IMAGE_VOLUMES_MAX 16
static int keys_from_json(json_t *cfg, const char *key, char ***out, struct bx_err *err)
{
	*out = NULL;
	json_t *o = json_object_get(cfg, key);
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return bx_fail(err, 0, "image config: %s must be an object", key);
	if (json_object_size(o) > BX_IMAGE_VOLUMES_MAX)
		return bx_fail(err, 0, "image config: more than %d %s", BX_IMAGE_VOLUMES_MAX, key);
	char **v = calloc(json_object_size(o) + 1, sizeof(*v));
	if (!v)
		return bx_fail(err, ENOMEM, "out of memory");
	size_t i = 0;
	const char *k;
	json_t *val;
	json_object_foreach(o, k, val) {
		if (!(v[i++] = strdup(k))) {
			bx_strv_free(v);
			return bx_fail(err, ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

/* {"K": "V", ...} -> "K=V" strings; null/absent -> NULL. A value that is
 * not a string is skipped: labels only describe an image, so a malformed
 * one must not make it unusable. */
static int labels_from_json(json_t *cfg, char ***out, struct bx_err *err)
{
	*out = NULL;
	json_t *o = json_object_get(cfg, "Labels");
	if (!json_is_object(o))
		return 0;
	char **v = calloc(json_object_size(o) + 1, sizeof(*v));
	if (!v)
		return bx_fail(err, ENOMEM, "out of memory");
	size_t i = 0;
	const char *k;
	json_t *val;
	json_object_foreach(o, k, val) {
		if (!json_is_string(val))
			continue;
		if (asprintf(&v[i++], "%s=%s", k, json_string_value(val)) < 0) {
			v[i - 1] = NULL;
			bx_strv_free(v);
			return bx_fail(err, ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

int bx_image_config_parse(const char *json, size_t len, struct bx_image_config *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *root = json_loadb(json, len, 0, &je);
	if (!root)
		return bx_fail(err, 0, "image config is not valid JSON: %s (line %d)", je.text, je.line);
	int rc = 0;
	json_t *cfg = json_object_get(root, "config");
	if (!json_is_object(root)) {
		rc = bx_fail(err, 0, "image config is not a JSON object");
	} else if (cfg && !json_is_null(cfg)) {
		if (!json_is_object(cfg))
			rc = bx_fail(err, 0, "image config: \"config\" must be an object");
		else if (strv_from_json(cfg, "Entrypoint", &out->entrypoint, err) < 0 ||
			 strv_from_json(cfg, "Cmd", &out->cmd, err) < 0 ||
			 strv_from_json(cfg, "Env", &out->env, err) < 0 ||
			 str_from_json(cfg, "WorkingDir", &out->workdir, err) < 0 ||
			 str_from_json(cfg, "User", &out->user, err) < 0 ||
			 str_from_json(cfg, "StopSignal", &out->stop_signal, err) < 0 ||
			 keys_from_json(cfg, "Volumes", &out->volumes, err) < 0 ||
			 labels_from_json(cfg, &out->labels, err) < 0)
			rc = -1;
		/* kept as its JSON text: the store parses and merges it (health.h) */
		json_t *hc = json_object_get(cfg, "Healthcheck");
		if (rc == 0 && json_is_object(hc) && !(out->healthcheck = json_dumps(hc, JSON_COMPACT)))
			rc = bx_fail(err, ENOMEM, "out of memory");
	}
	json_decref(root);
	if (rc < 0)
		bx_image_config_free(out);
	return rc;
}

void bx_image_config_free(struct bx_image_config *c)
{
	if (!c)
		return;
	bx_strv_free(c->entrypoint);
	bx_strv_free(c->cmd);
	bx_strv_free(c->env);
	free(c->workdir);
	free(c->user);
	free(c->stop_signal);
	free(c->healthcheck);
	bx_strv_free(c->volumes);
	bx_strv_free(c->labels);
	memset(c, 0, sizeof(*c));
}
