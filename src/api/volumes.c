/* /volumes of the Engine API: list (filters dangling, name, label, driver),
 * create, inspect, remove and prune, over the store's named volumes
 * (store/volumes.h), the same ones `boxvm volume` shows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "filtermap.h"
#include "../common/boxid.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"

/* a name from a path or a body: Docker's rule, and short enough to be listed */
static bool name_ok(const char *name)
{
	return bx_volume_name_valid(name) && strlen(name) < BX_VOLUME_LIST_NAME;
}

static enum MHD_Result list(struct api_req *r)
{
	static const char *const keys[] = {"dangling", "name", "label", "driver", NULL};
	struct bx_err err = {0};
	json_t *f;
	if (api_filtermap_parse(api_arg(r, "filters"), keys, &f, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	int dangling = -1;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(f, "dangling"), i, v) {
		dangling = api_filtermap_bool(json_string_value(v));
		if (dangling < 0) {
			json_decref(f);
			return api_error(r, 400, "Invalid filter 'dangling=%.100s'", json_string_value(v));
		}
	}
	enum { MAX = 1024 };
	char(*names)[BX_VOLUME_LIST_NAME] = malloc(MAX * sizeof(*names));
	int n = names ? bx_volume_list(&r->p, names, MAX, &err) : bx_fail(&err, ENOMEM, "out of memory");
	if (n < 0) {
		free(names);
		json_decref(f);
		return api_fail(r, &err);
	}
	json_t *vols = json_array();
	for (int k = 0; k < n; k++) {
		bool keep = api_filtermap_any(f, "driver", "local", false);
		/* name=: a part of the name, as Docker's */
		json_array_foreach(json_object_get(f, "name"), i, v) keep = keep && strstr(names[k], json_string_value(v));
		char users[512];
		if (keep && dangling >= 0)
			keep = bx_volume_users(&r->p, names[k], users, sizeof(users), NULL) == 0 && (users[0] == 0) == (dangling == 1);
		json_t *o = keep ? bx_volume_inspect_json(&r->p, names[k], NULL) : NULL;
		if (o && !api_filtermap_labels(f, json_object_get(o, "Labels"))) {
			json_decref(o);
			o = NULL;
		}
		if (o) /* (a volume removed meanwhile is no error) */
			json_array_append_new(vols, o);
	}
	free(names);
	json_decref(f);
	return api_json(r, 200, json_pack("{s:o,s:n}", "Volumes", vols, "Warnings"));
}

static enum MHD_Result create(struct api_req *r)
{
	static const char *const keys[] = {"Name", "Driver", "DriverOpts", "Labels", NULL};
	struct bx_err err = {0};
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return api_error(r, 400, "invalid JSON in the request body: %s", body ? "not an object" : jerr.text);
	}
	enum MHD_Result ret;
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v) {
		bool known = false;
		for (const char *const *key = keys; *key; key++)
			known = known || !strcmp(*key, k);
		if (!known && !json_is_null(v)) {
			ret = api_error(r, 400, "%.100s is not supported by boxvm's volumes; leave it unset", k);
			goto out;
		}
	}
	json_t *jname = json_object_get(body, "Name"), *driver = json_object_get(body, "Driver");
	json_t *opts = json_object_get(body, "DriverOpts"), *labels = json_object_get(body, "Labels");
	if ((jname && !json_is_null(jname) && !json_is_string(jname)) || (driver && !json_is_null(driver) && !json_is_string(driver))) {
		ret = api_error(r, 400, "Name and Driver must be strings");
		goto out;
	}
	char name[BX_VOLUME_LIST_NAME];
	const char *given = json_string_value(jname);
	if (given && *given) {
		if (!name_ok(given)) {
			ret = api_error(r, 400, "create %.200s: invalid volume name: use [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most %d "
						"characters", given, BX_VOLUME_LIST_NAME - 1);
			goto out;
		}
		snprintf(name, sizeof(name), "%s", given);
	} else if (bx_boxid_new(name, &err) < 0) { /* Docker names an unnamed volume with 64 hex digits */
		ret = api_fail(r, &err);
		goto out;
	}
	const char *drv = json_string_value(driver);
	if (drv && *drv && strcmp(drv, "local")) {
		ret = api_error(r, 404, "create %s: error looking up volume plugin %.100s: plugin \"%.100s\" not found "
					"(boxvm has the local driver only)", name, drv, drv);
		goto out;
	}
	if (json_object_size(opts)) {
		ret = api_error(r, 400, "create %s: DriverOpts are not supported: boxvm's local volumes are directories "
					"(no type, device or o options)", name);
		goto out;
	}
	if (labels && !json_is_null(labels)) {
		bool ok = json_is_object(labels);
		json_object_foreach(labels, k, v) ok = ok && json_is_string(v) && *k;
		if (!ok) {
			ret = api_error(r, 400, "Labels must be an object of strings");
			goto out;
		}
	}
	json_t *o = NULL;
	if (bx_volume_create_labeled(&r->p, name, json_is_object(labels) ? labels : NULL, NULL, &err) < 0 ||
	    !(o = bx_volume_inspect_json(&r->p, name, &err)))
		ret = api_fail(r, &err);
	else
		ret = api_json(r, 201, o);
out:
	json_decref(body);
	return ret;
}

static enum MHD_Result remove_volume(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	bool force = api_arg_bool(r, "force");
	if (bx_volume_remove(&r->p, name, force, &err) == 0)
		return api_empty(r, 204);
	if (err.errnum == ENOENT)
		return api_error(r, 404, "get %s: no such volume", name);
	if (err.errnum == EBUSY)
		return api_error(r, 409, "%s", err.msg); /* Docker's "remove NAME: volume is in use - [IDs]" */
	return api_fail(r, &err);
}

struct pruned {
	struct bx_prune_filter filter;
	json_t *deleted;
	long long bytes;
	struct bx_err err;
	bool failed;
};

static bool prune_pick(void *ctx, const char *name, json_t *labels)
{
	struct pruned *pr = ctx;
	return bx_prune_labels_match(&pr->filter, labels);
}

static void prune_removed(void *ctx, const char *name, long long bytes)
{
	struct pruned *pr = ctx;
	json_array_append_new(pr->deleted, json_string(name));
	pr->bytes += bytes;
}

static void prune_failed(void *ctx, struct bx_err *err)
{
	struct pruned *pr = ctx;
	if (!pr->failed)
		pr->err = *err;
	pr->failed = true;
}

static enum MHD_Result prune(struct api_req *r)
{
	static const char *const keys[] = {"label", "label!", NULL};
	struct pruned pr = {0};
	if (api_prune_filter(api_arg(r, "filters"), keys, BX_PRUNE_LABEL, &pr.filter, &pr.err) < 0)
		return api_error(r, 400, "%s", pr.err.msg);
	pr.deleted = json_array();
	const struct bx_volume_prune_cb cb = {prune_pick, prune_removed, prune_failed, &pr};
	bx_volume_prune(&r->p, &cb);
	bx_prune_filter_free(&pr.filter);
	if (pr.failed) {
		json_decref(pr.deleted);
		return api_fail(r, &pr.err);
	}
	return api_json(r, 200, json_pack("{s:o,s:I}", "VolumesDeleted", pr.deleted, "SpaceReclaimed", (json_int_t)pr.bytes));
}

enum MHD_Result api_volumes(struct api_req *r, const char *name)
{
	const char *m = r->method;
	bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
	if (!name)
		return get ? list(r) : api_error(r, 404, "page not found");
	if (!strcmp(name, "create") && post)
		return create(r);
	if (!strcmp(name, "prune") && post)
		return prune(r);
	if (!name_ok(name))
		return api_error(r, 404, "get %.200s: no such volume", name);
	if (get) {
		struct bx_err err = {0};
		json_t *o = bx_volume_inspect_json(&r->p, name, &err);
		if (!o)
			return err.errnum == ENOENT ? api_error(r, 404, "get %s: no such volume", name) : api_fail(r, &err);
		return api_json(r, 200, o);
	}
	if (!strcmp(m, "DELETE"))
		return remove_volume(r, name);
	return api_error(r, 404, "page not found");
}
