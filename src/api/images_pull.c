/* POST /images/create?fromImage=&tag=: a pull (image/registry/pull.h) with
 * Docker's JSON progress stream, which the docker CLI renders as it renders
 * dockerd's ("Pulling fs layer", "Downloading" with progressDetail,
 * "Download complete", "Pull complete", "Digest: ...", "Status: ...").
 * Streamed by jobstream.c: a pull that fails before anything happened (an
 * unknown image, refused credentials) is an error reply with its status, as
 * Docker's is; a client that hangs up cancels the pull (its staged blobs are
 * kept for the next one). Credentials come from X-Registry-Auth, held only
 * for this pull and never logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jobstream.h"
#include "route.h"
#include "../common/clock.h"
#include "../image/registry/pull.h"
#include "../store/events.h"

struct pull {
	struct api_job job; /* first: the job's callbacks get it */
	struct bx_paths p;
	char ref[1024];
	struct bx_ref parsed;
	struct bx_pull_opts o;
	struct bx_credentials creds;
	long long last_ms;
	struct bx_pull_result res;
};

static void on_event(void *ctx, const struct bx_pull_event *ev)
{
	struct pull *pl = ctx;
	struct api_job *j = &pl->job;
	if (ev->kind == BX_PULL_RESOLVED) {
		/* Docker's first line: the repository's path and the tag (or digest) */
		api_job_put(j, json_pack("{s:s+,s:s}", "status", "Pulling from ", pl->parsed.path, "id",
					 pl->parsed.tag[0] ? pl->parsed.tag : pl->parsed.digest));
		return;
	}
	char id[16];
	snprintf(id, sizeof(id), "%.12s", ev->digest + 7);
	switch (ev->kind) {
	case BX_PULL_LAYER_EXISTS:
		api_job_layer_status(j, ev->digest, "Already exists");
		break;
	case BX_PULL_LAYER_QUEUED:
		api_job_layer_status(j, ev->digest, "Pulling fs layer");
		break;
	case BX_PULL_LAYER_WAITING:
		api_job_layer_status(j, ev->digest, "Waiting");
		break;
	case BX_PULL_LAYER_PROGRESS:
		/* a few a second, and the last one */
		if (ev->done != ev->total && bx_mono_ms() - pl->last_ms < 100)
			break;
		pl->last_ms = bx_mono_ms();
		api_job_put(j, json_pack("{s:s,s:{s:I,s:I},s:s}", "status", "Downloading", "progressDetail", "current",
					 (json_int_t)ev->done, "total", (json_int_t)ev->total, "id", id));
		break;
	case BX_PULL_LAYER_DONE:
		/* verified as it streamed in (registry_stage.c); unpacked when a box is made from it */
		api_job_layer_status(j, ev->digest, "Verifying Checksum");
		api_job_layer_status(j, ev->digest, "Download complete");
		api_job_layer_status(j, ev->digest, "Pull complete");
		break;
	default:
		break;
	}
}

static void run_pull(struct api_job *j)
{
	struct pull *pl = (struct pull *)j;
	j->rc = bx_image_pull(&pl->p, pl->ref, &pl->o, &pl->res, &j->err);
	explicit_bzero(&pl->creds, sizeof(pl->creds));
	if (j->rc == 0) {
		bx_event_emit(pl->p.data, "image", "pull", pl->res.name, (const char *const[]){"name", pl->res.name, NULL},
			      NULL);
		api_job_put(j, json_pack("{s:s+}", "status", "Digest: ", pl->res.repo_digest));
		api_job_put(j, json_pack("{s:s+++}", "status", "Status: ",
					 pl->res.updated ? "Downloaded newer image" : "Image is up to date", " for ", pl->res.name));
	}
}

static void pull_destroy(struct api_job *j)
{
	struct pull *pl = (struct pull *)j;
	explicit_bzero(&pl->creds, sizeof(pl->creds));
	free(pl);
}

/* a pull that failed before any line: Docker answers an unknown image or
 * repository, or one refused to us, with a 404 */
static enum MHD_Result pull_failed(struct api_req *r, const struct bx_err *e)
{
	bool missing = strstr(e->msg, " not found") || !strncmp(e->msg, "unauthorized", 12);
	return missing ? api_error(r, 404, "%s", e->msg) : api_fail(r, e);
}

/* fromImage (+ tag: a tag, or a digest) -> the reference pulled */
static int build_ref(struct api_req *r, struct pull *pl, struct bx_err *err)
{
	const char *from = api_arg(r, "fromImage"), *tag = api_arg(r, "tag");
	if (api_arg(r, "fromSrc"))
		return api_bad(err, "importing an image (fromSrc) is not served by boxvm's API");
	if (!from || !*from)
		return api_bad(err, "fromImage is required: the image to pull");
	int n;
	if (tag && *tag)
		n = snprintf(pl->ref, sizeof(pl->ref), "%s%s%s", from, strchr(tag, ':') ? "@" : ":", tag);
	else
		n = snprintf(pl->ref, sizeof(pl->ref), "%s", from); /* Docker pulls every tag; boxvm the default one */
	if (n < 0 || (size_t)n >= sizeof(pl->ref))
		return api_bad(err, "invalid reference format: the image reference is too long");
	struct bx_err e = {0};
	if (bx_ref_parse(pl->ref, &pl->parsed, &e) < 0)
		return api_bad(err, "%s", e.msg);
	const char *plat = api_arg(r, "platform");
	if (plat && *plat) {
		if (bx_platform_parse(plat, &pl->o.platform, &e) < 0)
			return api_bad(err, "%s", e.msg);
	} else {
		bx_platform_default(&pl->o.platform);
	}
	return 0;
}

enum MHD_Result api_images_pull(struct api_req *r)
{
	struct bx_err err = {0};
	struct pull *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return api_error(r, 500, "out of memory");
	pl->job.run = run_pull;
	pl->job.destroy = pull_destroy;
	pl->p = r->p;
	pl->o.progress = on_event;
	pl->o.progress_ctx = pl;
	pl->o.cancelled = api_job_cancelled; /* its ctx, pl, starts with the job */
	bool have = false;
	if (build_ref(r, pl, &err) < 0 || api_registry_auth(r, &pl->creds, &have, &err) < 0) {
		pull_destroy(&pl->job);
		return api_fail(r, &err);
	}
	if (have)
		pl->o.creds = &pl->creds;
	return api_job_stream(r, &pl->job, pull_failed);
}

/* POST /auth (docker login): the credentials checked against the registry,
 * nothing stored (the docker CLI keeps them, and sends them with each pull
 * in X-Registry-Auth). */
enum MHD_Result api_auth(struct api_req *r)
{
	struct bx_err err = {0};
	json_t *o = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
	const char *user = json_string_value(json_object_get(o, "username"));
	const char *pass = json_string_value(json_object_get(o, "password"));
	const char *server = json_string_value(json_object_get(o, "serveraddress"));
	struct bx_credentials c = {0};
	char host[256];
	enum MHD_Result ret;
	if (!json_is_object(o))
		ret = api_error(r, 400, "invalid JSON in the request body: {username, password, serveraddress}");
	else if (!user || !*user || !pass || !*pass)
		ret = api_error(r, 400, "username and password must not be empty (identity tokens are not supported)");
	else if (strlen(user) >= sizeof(c.user) || strlen(pass) >= sizeof(c.secret))
		ret = api_error(r, 400, "the username or password is too long");
	else if (bx_registry_server_name(server, host, sizeof(host), &err) < 0)
		ret = api_error(r, 400, "%s", err.msg);
	else {
		snprintf(c.user, sizeof(c.user), "%s", user);
		snprintf(c.secret, sizeof(c.secret), "%s", pass);
		if (bx_registry_login_check(&r->p, host, &c, &err) < 0)
			ret = api_error(r, strstr(err.msg, "unauthorized") ? 401 : 500, "%s", err.msg);
		else
			ret = api_json(r, 200, json_pack("{s:s,s:s}", "Status", "Login Succeeded", "IdentityToken", ""));
	}
	explicit_bzero(&c, sizeof(c));
	json_t *pv = json_object_get(o, "password");
	if (json_is_string(pv) && json_string_length(pv))
		explicit_bzero((char *)json_string_value(pv), json_string_length(pv));
	json_decref(o);
	/* the request body held the password too */
	if (r->body)
		explicit_bzero(r->body, r->body_len);
	return ret;
}
