/* POST /build/prune: the build cache's dangling entries (all=1: every
 * entry no box's image is) that filters' until= picks, and the images only
 * they kept, as `boxvm builder prune` (bx_buildcache_prune); Docker's
 * answer {"CachesDeleted": [IDs] | null, "SpaceReclaimed": bytes}. */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "filtermap.h"
#include "route.h"
#include "../store/buildcache.h"

static void removed(void *ctx, const char *key)
{
	json_array_append_new(ctx, json_string(key));
}

enum MHD_Result api_build_prune(struct api_req *r)
{
	if (strcmp(r->method, "POST"))
		return api_error(r, 405, "method %s not allowed on /build/prune", r->method);
	static const char *const keys[] = {"until", NULL};
	struct bx_err err = {0};
	struct bx_prune_filter f;
	if (api_prune_filter(api_arg(r, "filters"), keys, BX_PRUNE_UNTIL, &f, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	json_t *deleted = json_array();
	long long bytes = 0;
	enum MHD_Result ret;
	if (!deleted)
		ret = api_error(r, 500, "out of memory");
	else if (bx_buildcache_prune(&r->p, api_arg_bool(r, "all"), &f, removed, deleted, &bytes, &err) < 0)
		ret = err.errnum == EBUSY ? api_error(r, 409, "%s", err.msg) : api_fail(r, &err);
	else
		ret = api_json(r, 200, json_pack("{s:O,s:I}", "CachesDeleted", json_array_size(deleted) ? deleted : json_null(),
						 "SpaceReclaimed", (json_int_t)bytes));
	json_decref(deleted);
	bx_prune_filter_free(&f);
	return ret;
}
