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
static bool picked(void *ctx, const struct bx_image *img)
{
	return bx_prune_pick_image(ctx, img);
}

static enum MHD_Result prune(struct api_req *r)
{
	static const char *const keys[] = {"dangling", "label", "label!", "until", NULL};
	struct bx_err err = {0};
	struct bx_prune_filter f;
	if (api_prune_filter(api_arg(r, "filters"), keys, BX_PRUNE_UNTIL | BX_PRUNE_LABEL | BX_PRUNE_DANGLING, &f, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	json_t *deleted = json_array();
	enum MHD_Result ret;
	long long bytes = 0;
	if (!deleted)
		ret = api_error(r, 500, "out of memory");
	else if (bx_image_prune(&r->p, f.dangling == 0, picked, &f, report, deleted, &bytes, &err) < 0)
		ret = api_fail(r, &err);
	else {
		json_t *o = json_pack("{s:o,s:I}", "ImagesDeleted", json_array_size(deleted) ? json_incref(deleted) : json_null(),
				      "SpaceReclaimed", (json_int_t)bytes);
		ret = api_json(r, 200, o);
	}
	json_decref(deleted);
	bx_prune_filter_free(&f);
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
	else if (post && name_before(path, "/push", name, sizeof(name)))
		*ret = api_images_push(r, name);
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
