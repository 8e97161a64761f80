/* POST /images/NAME/push?tag=: a push (image/registry/push.h) with Docker's
 * JSON progress stream ("The push refers to repository [...]", per layer
 * "Preparing", "Pushing" with progressDetail, "Pushed", "Layer already
 * exists", "Mounted from R", then "TAG: digest: D size: N" and the aux
 * {Tag, Digest, Size}), streamed by jobstream.c. No tag pushes every local
 * tag of the repository, as Docker does. Credentials come from
 * X-Registry-Auth (else those `boxvm login` stored), held only for this push. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jobstream.h"
#include "route.h"
#include "../common/clock.h"
#include "../image/image.h"
#include "../image/registry/push.h"
#include "../store/events.h"

struct push {
	struct api_job job; /* first: the job's callbacks get it */
	struct bx_paths p;
	char ref[1024];      /* NAME:TAG, or NAME for every tag */
	bool all;
	struct bx_push_opts o;
	struct bx_credentials creds;
	long long last_ms;
};

static void on_event(void *ctx, const struct bx_push_event *ev)
{
	struct push *ps = ctx;
	struct api_job *j = &ps->job;
	char id[16];
	const char *hex = strchr(ev->id, ':') ? strchr(ev->id, ':') + 1 : ev->id;
	snprintf(id, sizeof(id), "%.12s", hex);
	switch (ev->kind) {
	case BX_PUSH_PREPARING:
		api_job_layer_status(j, ev->id, "Preparing");
		break;
	case BX_PUSH_PROGRESS:
		if (ev->done != ev->total && bx_mono_ms() - ps->last_ms < 100)
			break;
		ps->last_ms = bx_mono_ms();
		api_job_put(j, json_pack("{s:s,s:{s:I,s:I},s:s}", "status", "Pushing", "progressDetail", "current",
					 (json_int_t)ev->done, "total", (json_int_t)ev->total, "id", id));
		break;
	case BX_PUSH_EXISTS:
		api_job_layer_status(j, ev->id, "Layer already exists");
		break;
	case BX_PUSH_MOUNTED:
		api_job_put(j, json_pack("{s:s+,s:{},s:s}", "status", "Mounted from ", ev->from, "progressDetail", "id", id));
		break;
	case BX_PUSH_PUSHED:
		api_job_layer_status(j, ev->id, "Pushed");
		break;
	}
}

static int push_one(struct push *ps, const char *name)
{
	struct api_job *j = &ps->job;
	struct bx_push_result res;
	if (bx_image_push(&ps->p, name, &ps->o, &res, &j->err) < 0)
		return -1;
	bx_event_emit(ps->p.data, "image", "push", name, (const char *const[]){"name", name, NULL}, NULL);
	char line[300];
	snprintf(line, sizeof(line), "%s: digest: %s size: %lld", res.tag, res.digest, res.size);
	api_job_put(j, json_pack("{s:s}", "status", line));
	api_job_put(j, json_pack("{s:{},s:{s:s,s:s,s:I}}", "progressDetail", "aux", "Tag", res.tag, "Digest", res.digest,
				 "Size", (json_int_t)res.size));
	return 0;
}

static void run_push(struct api_job *j)
{
	struct push *ps = (struct push *)j;
	struct bx_ref ref;
	j->rc = bx_ref_parse(ps->ref, &ref, &j->err);
	if (j->rc == 0) {
		char line[700];
		snprintf(line, sizeof(line), "The push refers to repository [%s/%s]", ref.domain, ref.path);
		api_job_put(j, json_pack("{s:s}", "status", line));
		if (!ps->all) {
			j->rc = push_one(ps, ps->ref);
		} else {
			char **tags = NULL;
			size_t n = 0;
			j->rc = bx_push_local_tags(&ps->p, ps->ref, &tags, &n, &j->err);
			for (size_t i = 0; j->rc == 0 && i < n; i++)
				j->rc = push_one(ps, tags[i]);
			bx_strv_free(tags);
		}
	}
	explicit_bzero(&ps->creds, sizeof(ps->creds));
}

static void push_destroy(struct api_job *j)
{
	struct push *ps = (struct push *)j;
	explicit_bzero(&ps->creds, sizeof(ps->creds));
	free(ps);
}

static enum MHD_Result push_failed(struct api_req *r, const struct bx_err *e)
{
	return api_fail(r, e);
}

enum MHD_Result api_images_push(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	struct push *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return api_error(r, 500, "out of memory");
	ps->job.run = run_push;
	ps->job.destroy = push_destroy;
	ps->p = r->p;
	ps->o.progress = on_event;
	ps->o.progress_ctx = ps;
	ps->o.cancelled = api_job_cancelled; /* its ctx, ps, starts with the job */
	const char *tag = api_arg(r, "tag");
	ps->all = !tag || !*tag;
	int n = ps->all ? snprintf(ps->ref, sizeof(ps->ref), "%s", name)
			: snprintf(ps->ref, sizeof(ps->ref), "%s:%s", name, tag);
	struct bx_ref parsed;
	struct bx_err e = {0};
	bool have = false;
	if (n < 0 || (size_t)n >= sizeof(ps->ref))
		api_bad(&err, "invalid reference format: the image reference is too long");
	else if (bx_ref_parse(ps->ref, &parsed, &e) < 0)
		api_bad(&err, "%s", e.msg);
	else if (api_registry_auth(r, &ps->creds, &have, &err) == 0)
		goto ok;
	push_destroy(&ps->job);
	return api_fail(r, &err);
ok:
	if (have)
		ps->o.creds = &ps->creds;
	return api_job_stream(r, &ps->job, push_failed);
}
