/* /images/... of the Engine API beyond list and inspect: the router
 * (api_images_more), tag, remove, prune and history. Each calls the store
 * as the CLI's command of the same name does (store/image_gc.h,
 * store/image_usage.h); pull is images_pull.c, get and load images_tar.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "filtermap.h"
#include "filters.h"
#include "route.h"
#include "../common/clock.h"
#include "../common/goduration.h"
#include "../image/image.h"
#include "../image/image_history.h"
#include "../store/image_gc.h"
#include "../store/image_usage.h"

enum MHD_Result api_images_get(struct api_req *r, const char *name); /* images_tar.c */
enum MHD_Result api_images_load(struct api_req *r);

/* the image's name between /images/ and /SUFFIX (a name has slashes) */
static bool name_before(const char *path, const char *suffix, char *name, size_t size)
{
	size_t pl = strlen(path), sl = strlen(suffix);
	if (strncmp(path, "/images/", 8) || pl <= 8 + sl || strcmp(path + pl - sl, suffix))
		return false;
	size_t n = pl - sl - 8;
	if (n >= size)
		return false;
	memcpy(name, path + 8, n);
	name[n] = 0;
	return true;
}

/* Docker's 404 names the reference with its default tag: "No such image: nope:latest" */
static enum MHD_Result no_such(struct api_req *r, const char *name)
{
	char norm[512];
	if (strchr(name, '@') || bx_image_ref_normalize(name, norm, sizeof(norm), NULL) < 0)
		snprintf(norm, sizeof(norm), "%s", name);
	return api_error(r, 404, "No such image: %s", norm);
}

/* the store's words say "box"; the API's clients know Docker's "container" */
static enum MHD_Result conflict(struct api_req *r, const char *msg)
{
	char out[sizeof(((struct bx_err *)0)->msg) + 64];
	size_t o = 0;
	for (const char *s = msg; *s && o + 16 < sizeof(out);) {
		if (!strncmp(s, "box ", 4)) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "container ");
			s += 4;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = 0;
	return api_error(r, 409, "%s", out);
}

static enum MHD_Result tag(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	const char *repo = api_arg(r, "repo"), *t = api_arg(r, "tag");
	if (!repo || !*repo)
		return api_error(r, 400, "repository name must have at least one component");
	char target[1024];
	if (snprintf(target, sizeof(target), "%s%s%s", repo, t && *t ? ":" : "", t && *t ? t : "") >= (int)sizeof(target))
		return api_error(r, 400, "invalid reference format: the name is too long");
	struct bx_image img;
	if (bx_image_lookup(&r->p, name, &img, &err) < 0)
		return err.errnum == ENOENT ? no_such(r, name) : api_fail(r, &err);
	bx_image_free(&img);
	if (bx_image_tag(&r->p, name, target, &err) < 0)
		return api_error(r, 400, "%s", err.msg); /* the image is there: what is left is a bad target */
	return api_empty(r, 201);
}

static void report(void *ctx, const char *verb, const char *what)
{
	json_array_append_new(ctx, json_pack("{s:s}", verb, what));
}

static enum MHD_Result remove_image(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	/* noprune: boxvm images have no parent images to keep; accepted, nothing to do */
	json_t *out = json_array();
	if (!out)
		return api_error(r, 500, "out of memory");
	if (bx_image_remove(&r->p, name, api_arg_bool(r, "force"), report, out, &err) < 0) {
		bool done = json_array_size(out) > 0; /* deleted, then the collection failed */
		if (!done) {
			json_decref(out);
			if (err.errnum == ENOENT)
				return no_such(r, name);
			if (!strncmp(err.msg, "conflict:", 9))
				return conflict(r, err.msg);
			return api_fail(r, &err);
		}
		fprintf(stderr, "boxvm: image rm %s: %s\n", name, err.msg);
	}
	return api_json(r, 200, out);
}

/* POST /images/prune: filters dangling, label, label!, until */
struct prune_filter {
	int dangling; /* -1 not given: Docker prunes dangling images only */
	json_t *labels, *not_labels;
	long long until_ns; /* 0: none */
};

static int prune_key(const char *key, const char *val, void *ctx, struct bx_err *err)
{
	struct prune_filter *f = ctx;
	if (!strcmp(key, "dangling")) {
		int b = !strcmp(val, "true") || !strcmp(val, "1") ? 1 : !strcmp(val, "false") || !strcmp(val, "0") ? 0 : -1;
		if (b < 0)
			return api_bad(err, "Invalid filter 'dangling=%s'", val);
		f->dangling = f->dangling == 0 ? 0 : b; /* Docker: a false among them wins */
		return 0;
	}
	if (!strcmp(key, "label") || !strcmp(key, "label!"))
		return json_array_append_new(key[5] ? f->not_labels : f->labels, json_string(val)) < 0
			       ? bx_fail(err, ENOMEM, "out of memory") : 0;
	if (!strcmp(key, "until"))
		return api_filter_until_ns(val, &f->until_ns, err);
	return api_bad(err, "Invalid filter '%s'", key);
}

/* Docker's label match: "K" is there, or "K=V" is */
static bool has_label(const struct bx_image *img, const char *want)
{
	bool kv = strchr(want, '=') != NULL;
	size_t wl = strlen(want);
	for (char **l = img->config.labels; l && *l; l++)
		if (kv ? !strcmp(*l, want) : !strncmp(*l, want, wl) && (*l)[wl] == '=')
			return true;
	return false;
}

static bool picked(void *ctx, const struct bx_image *img)
{
	const struct prune_filter *f = ctx;
	if (f->until_ns && img->created && img->created * 1000000000LL > f->until_ns)
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(f->labels, i, v) if (!has_label(img, json_string_value(v))) return false;
	bool all_not = json_array_size(f->not_labels) > 0;
	json_array_foreach(f->not_labels, i, v) if (!has_label(img, json_string_value(v))) all_not = false;
	return !all_not;
}

static enum MHD_Result prune(struct api_req *r)
{
	struct bx_err err = {0};
	struct prune_filter f = {.dangling = -1, .labels = json_array(), .not_labels = json_array()};
	json_t *deleted = json_array();
	enum MHD_Result ret;
	long long bytes = 0;
	if (!f.labels || !f.not_labels || !deleted)
		ret = api_error(r, 500, "out of memory");
	else if (api_filters_each(api_arg(r, "filters"), prune_key, &f, &err) < 0)
		ret = api_error(r, 400, "%s", err.msg);
	else if (bx_image_prune(&r->p, f.dangling == 0, picked, &f, report, deleted, &bytes, &err) < 0)
		ret = api_fail(r, &err);
	else {
		json_t *o = json_pack("{s:o,s:I}", "ImagesDeleted", json_array_size(deleted) ? json_incref(deleted) : json_null(),
				      "SpaceReclaimed", (json_int_t)bytes);
		ret = api_json(r, 200, o);
	}
	json_decref(deleted);
	json_decref(f.labels);
	json_decref(f.not_labels);
	return ret;
}

/* GET /images/NAME/history: the store's rows (image_history.h). */
static enum MHD_Result history(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	struct bx_image img;
	if (bx_image_lookup(&r->p, name, &img, &err) < 0)
		return err.errnum == ENOENT ? no_such(r, name) : api_fail(r, &err);
	json_t *out = bx_image_history(&r->p, &img, &err);
	bx_image_free(&img);
	return out ? api_json(r, 200, out) : api_fail(r, &err);
}

bool api_images_more(struct api_req *r, const char *path, enum MHD_Result *ret)
{
	const char *m = r->method;
	bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
	char name[512];
	if (!strcmp(path, "/auth") && post)
		*ret = api_auth(r);
	else if (!strcmp(path, "/images/create") && post && api_arg(r, "fromSrc"))
		*ret = api_images_import(r);
	else if (!strcmp(path, "/images/create") && post)
		*ret = api_images_pull(r);
	else if (!strcmp(path, "/images/prune") && post)
		*ret = prune(r);
	else if (!strcmp(path, "/images/load") && post)
		*ret = api_images_load(r);
	else if (!strcmp(path, "/images/get") && get)
		*ret = api_images_get(r, NULL);
	else if (post && name_before(path, "/tag", name, sizeof(name)))
		*ret = tag(r, name);
	else if (get && name_before(path, "/history", name, sizeof(name)))
		*ret = history(r, name);
	else if (get && name_before(path, "/get", name, sizeof(name)))
		*ret = api_images_get(r, name);
	else if (!strcmp(m, "DELETE") && name_before(path, "", name, sizeof(name)))
		*ret = remove_image(r, name);
	else
		return false;
	return true;
}
