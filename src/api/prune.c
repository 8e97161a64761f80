/* POST /containers/prune: every created or exited box the filters pick
 * (until, label, label!), removed through the box library as `boxvm
 * container prune` removes them (bx_box_prune); Docker's answer
 * {"ContainersDeleted": [IDs] | null, "SpaceReclaimed": bytes}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "filtermap.h"
#include "route.h"
#include "../box/prune.h"

struct pruning {
	struct bx_prune_filter filter;
	json_t *deleted;
	long long bytes;
};

static bool picked(void *ctx, const struct bx_box_record *r, json_t *labels)
{
	const struct pruning *pr = ctx;
	return bx_prune_until_match(&pr->filter, r->created_ns) && bx_prune_labels_match(&pr->filter, labels);
}

static void removed(void *ctx, const char *id, long long bytes)
{
	struct pruning *pr = ctx;
	json_array_append_new(pr->deleted, json_string(id));
	pr->bytes += bytes;
}

static void failed(void *ctx, struct bx_err *err)
{
	/* one box that could not go does not stop the others (Docker's prune) */
	fprintf(stderr, "boxvm: container prune: %s\n", err->msg);
}

enum MHD_Result api_containers_prune(struct api_req *r)
{
	if (strcmp(r->method, "POST"))
		return api_error(r, 405, "method %s not allowed on /containers/prune", r->method);
	static const char *const keys[] = {"until", "label", "label!", NULL};
	struct bx_err err = {0};
	struct pruning pr = {0};
	if (api_prune_filter(api_arg(r, "filters"), keys, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, &pr.filter, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	enum MHD_Result ret;
	if (!(pr.deleted = json_array())) {
		ret = api_error(r, 500, "out of memory");
	} else {
		const struct bx_box_prune_cb cb = {picked, removed, failed, &pr};
		bx_box_prune(&r->p, &cb);
		ret = api_json(r, 200, json_pack("{s:O,s:I}", "ContainersDeleted",
						 json_array_size(pr.deleted) ? pr.deleted : json_null(), "SpaceReclaimed",
						 (json_int_t)pr.bytes));
	}
	json_decref(pr.deleted);
	bx_prune_filter_free(&pr.filter);
	return ret;
}
